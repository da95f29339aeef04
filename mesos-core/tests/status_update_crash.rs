//! kill -9 of a process in the middle of status updates and acknowledgements: every update
//! (and acknowledgement) whose call returned before the kill is recovered, in order.
//!
//! SIGKILL leaves the page cache intact, so this checks the process-level atomicity of
//! appends and recovery's torn-tail repair, not the fsyncs (which need a power cut).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use mesos_core::agent::status_update::TaskStatusUpdateManager;
use mesos_core::proto::mesos::v1::{FrameworkId, TaskId, TaskState, TaskStatus};

const CHILD_ENV: &str = "STATUS_UPDATE_CRASH_CHILD_DIR";
/// Updates per task; the last one is terminal.
const PER_TASK: u64 = 6;

fn fw() -> FrameworkId {
    FrameworkId {
        value: "fw-crash".into(),
    }
}

fn task_id(task: u64) -> TaskId {
    TaskId {
        value: format!("task-{task}"),
    }
}

fn path(dir: &Path, task: u64) -> PathBuf {
    dir.join(format!(
        "frameworks/fw-crash/tasks/task-{task}/task.updates"
    ))
}

fn uuid(n: u64) -> [u8; 16] {
    let mut uuid = [0u8; 16];
    uuid[..8].copy_from_slice(&n.to_le_bytes());
    uuid[8] = 0xaa;
    uuid
}

fn number(uuid: &[u8; 16]) -> u64 {
    let mut n = [0u8; 8];
    n.copy_from_slice(&uuid[..8]);
    u64::from_le_bytes(n)
}

/// The child: sends update after update (6 per task, the last terminal), acknowledging
/// the head after every other one, printing each update and ack once its call returned.
fn child(dir: &Path) {
    let mut m = TaskStatusUpdateManager::default();
    let mut stdout = std::io::stdout();
    let now = Instant::now();
    for n in 0.. {
        let task = n / PER_TASK;
        let k = n % PER_TASK;
        let state = if k == PER_TASK - 1 {
            TaskState::TaskFinished
        } else {
            TaskState::TaskRunning
        };
        let status = TaskStatus {
            task_id: task_id(task),
            state: state as i32,
            uuid: Some(uuid(n).to_vec()),
            message: Some(format!("update {n}")),
            ..Default::default()
        };
        m.update(&fw(), status, Some(&path(dir, task)), now)
            .expect("update");
        writeln!(stdout, "updated {n}").unwrap();
        if k % 2 == 1 {
            let head = m
                .stream(&fw(), &task_id(task))
                .and_then(|s| s.head().map(|(u, _)| *u))
                .expect("a head");
            m.acknowledge(&fw(), &task_id(task), head.as_bytes(), now)
                .expect("ack");
            writeln!(stdout, "acked {}", number(&head.0)).unwrap();
        }
        stdout.flush().unwrap();
    }
}

#[test]
fn returned_updates_survive_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let base = tempfile::tempdir().unwrap();
    for round in 0..8u64 {
        let dir = base.path().join(format!("round-{round}"));
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args([
                "returned_updates_survive_kill_9",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        let mut updated: Option<u64> = None;
        let mut acked: Vec<u64> = Vec::new();
        let mut record = |line: &str| {
            if let Some(n) = line.strip_prefix("updated ") {
                updated = Some(n.parse().unwrap());
            } else if let Some(n) = line.strip_prefix("acked ") {
                acked.push(n.parse().unwrap());
            }
        };
        // Let it write a varying number of updates, then kill it mid-stream.
        let wanted = 15 + round * 23;
        for _ in 0..wanted {
            let line = lines.next().expect("child exited early").unwrap();
            record(&line);
        }
        process.kill().unwrap();
        process.wait().unwrap();
        for line in lines.map_while(Result::ok) {
            record(&line);
        }
        let updated = updated.expect("no update returned");

        // Recover every stream the child may have started.
        let mut m = TaskStatusUpdateManager::default();
        let mut recovered: BTreeMap<u64, (Vec<u64>, Vec<u64>)> = BTreeMap::new();
        for task in 0..=updated / PER_TASK + 1 {
            m.recover(&fw(), &task_id(task), &path(&dir, task), Instant::now())
                .unwrap_or_else(|e| panic!("round {round}, task {task}: {e}"));
            if let Some(stream) = m.stream(&fw(), &task_id(task)) {
                let acks: Vec<u64> = stream.acknowledged().iter().map(|u| number(&u.0)).collect();
                let pending: Vec<u64> = stream.pending().map(|(u, _)| number(&u.0)).collect();
                recovered.insert(task, (acks, pending));
            }
        }
        // Each task's updates are recovered in order, none missing: acknowledged then
        // pending make up the task's first updates.
        let mut all = Vec::new();
        for (task, (acks, pending)) in &recovered {
            let received: Vec<u64> = acks.iter().chain(pending).copied().collect();
            let first = task * PER_TASK;
            let want: Vec<u64> = (first..first + received.len() as u64).collect();
            assert_eq!(received, want, "round {round}, task {task}");
            all.extend(received);
        }
        all.sort_unstable();
        // Every update that returned before the kill is there (at most one more).
        assert!(
            all.len() as u64 == updated + 1 || all.len() as u64 == updated + 2,
            "round {round}: {} updates recovered, {} returned",
            all.len(),
            updated + 1
        );
        assert_eq!(
            all,
            (0..all.len() as u64).collect::<Vec<_>>(),
            "round {round}"
        );
        // Every acknowledgement that returned is there.
        for n in &acked {
            let (acks, _) = &recovered[&(n / PER_TASK)];
            assert!(acks.contains(n), "round {round}: ack of {n} lost");
        }
    }
}
