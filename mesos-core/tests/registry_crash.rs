//! kill -9 of a process in the middle of registry writes (appends and compactions): every
//! acknowledged batch is recovered, and the recovered state is a prefix of what was written.
//!
//! SIGKILL leaves the page cache intact, so this checks the process-level atomicity of
//! appends, renames and recovery's torn-tail repair, not the fsyncs (which need a power cut).

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use mesos_core::proto::mesos::v1::{AgentId, AgentInfo, TimeInfo};
use mesos_core::registry::{FileRegistry, FileRegistryOptions, Operation, Registry};

const CHILD_ENV: &str = "REGISTRY_CRASH_CHILD_DIR";

fn open(dir: &Path) -> FileRegistry {
    FileRegistry::open_with(
        dir,
        FileRegistryOptions {
            compact_after_bytes: 2000,
        },
    )
    .expect("open registry")
}

fn agent(n: usize) -> AgentInfo {
    AgentInfo {
        hostname: format!("host-{n}"),
        id: Some(AgentId {
            value: format!("agent-{n:06}"),
        }),
        ..Default::default()
    }
}

/// The child: admits agents one batch at a time (each with an unreachable mark of the
/// previous one), printing the number of each batch once `apply` returned.
fn child(dir: &Path) {
    let mut registry = open(dir);
    let state = registry.recover().expect("recover");
    let mut next = state.agents.len() + state.unreachable.len();
    let mut stdout = std::io::stdout();
    loop {
        let mut ops = vec![Operation::AdmitAgent(agent(next))];
        if next > 0 {
            ops.push(Operation::MarkUnreachable(
                agent(next - 1).id.unwrap(),
                TimeInfo {
                    nanoseconds: next as i64,
                },
            ));
        }
        registry.apply(ops).expect("apply");
        writeln!(stdout, "acked {next}").unwrap();
        stdout.flush().unwrap();
        next += 1;
    }
}

#[test]
fn acknowledged_batches_survive_kill_9() {
    if let Ok(dir) = std::env::var(CHILD_ENV) {
        child(Path::new(&dir));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Option<usize> = None;
    for round in 0..6 {
        let mut process = Command::new(std::env::current_exe().unwrap())
            .args([
                "acknowledged_batches_survive_kill_9",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(process.stdout.take().unwrap()).lines();
        // Let it write a varying number of batches, then kill it mid-stream.
        let wanted = 20 + round * 17;
        for _ in 0..wanted {
            let line = lines.next().expect("child exited early").unwrap();
            let Some(n) = line.strip_prefix("acked ") else {
                continue;
            };
            acked = Some(n.parse().unwrap());
        }
        process.kill().unwrap();
        process.wait().unwrap();
        // Acks written before the kill but not yet read.
        for line in lines.map_while(Result::ok) {
            if let Some(n) = line.strip_prefix("acked ") {
                acked = Some(n.parse().unwrap());
            }
        }

        let mut registry = open(dir.path());
        let state = registry
            .recover()
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let total = state.agents.len() + state.unreachable.len();
        let acked = acked.unwrap();
        assert!(
            total == acked + 1 || total == acked + 2,
            "round {round}: {total} agents recovered, {acked} acknowledged"
        );
        // A prefix: agents 0..total-1 unreachable, the last one admitted.
        assert_eq!(state.agents.len(), 1, "round {round}");
        assert!(state
            .agents
            .contains_key(&format!("agent-{:06}", total - 1)));
        for n in 0..total - 1 {
            assert!(state.unreachable.contains_key(&format!("agent-{n:06}")));
        }
    }
}
