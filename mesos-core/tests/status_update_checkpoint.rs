//! The status update manager's checkpoints: recovery rebuilds the same streams, a torn
//! tail at any byte recovers the state before the torn record, and damage elsewhere is a
//! typed error naming the file and offset.

use std::path::Path;
use std::time::Instant;

use mesos_core::agent::status_update::{
    StatusUpdateError, StreamState, TaskStatusUpdateManager, UpdateOutcome, MAGIC,
};
use mesos_core::proto::mesos::v1::{FrameworkId, TaskId, TaskState, TaskStatus};

fn fw() -> FrameworkId {
    FrameworkId {
        value: "fw-1".into(),
    }
}

fn task() -> TaskId {
    TaskId {
        value: "task-1".into(),
    }
}

fn status(state: TaskState, n: u8) -> TaskStatus {
    TaskStatus {
        task_id: task(),
        state: state as i32,
        uuid: Some(vec![n; 16]),
        message: Some(format!("update {n}")),
        data: Some(vec![n; n as usize]),
        ..Default::default()
    }
}

enum Step {
    Update(TaskState, u8),
    Ack(u8),
}

fn steps() -> Vec<Step> {
    use Step::*;
    vec![
        Update(TaskState::TaskStarting, 1),
        Update(TaskState::TaskRunning, 2),
        Ack(1),
        Update(TaskState::TaskRunning, 3),
        Ack(2),
        Update(TaskState::TaskKilling, 4),
        Update(TaskState::TaskKilled, 5),
        Ack(3),
    ]
}

/// Runs `steps` against a checkpointed stream at `path`, returning after each step the
/// log's length and the stream's state.
fn run(path: &Path) -> Vec<(u64, StreamState)> {
    let mut m = TaskStatusUpdateManager::default();
    let now = Instant::now();
    let mut after = Vec::new();
    for step in steps() {
        match step {
            Step::Update(state, n) => {
                m.update(&fw(), status(state, n), Some(path), now).unwrap();
            }
            Step::Ack(n) => {
                m.acknowledge(&fw(), &task(), &[n; 16], now).unwrap();
            }
        }
        let len = std::fs::metadata(path).unwrap().len();
        after.push((len, m.stream(&fw(), &task()).unwrap().clone()));
    }
    after
}

fn recover(path: &Path) -> Result<Option<StreamState>, StatusUpdateError> {
    let mut m = TaskStatusUpdateManager::default();
    m.recover(&fw(), &task(), path, Instant::now())?;
    Ok(m.stream(&fw(), &task()).cloned())
}

#[test]
fn recovery_rebuilds_pending_and_acknowledged_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir
        .path()
        .join("meta/frameworks/fw-1/tasks/task-1/task.updates");
    let after = run(&path);
    let (_, last) = after.last().unwrap();
    let recovered = recover(&path).unwrap().unwrap();
    assert_eq!(&recovered, last);
    let pending: Vec<_> = recovered.pending().map(|(u, _)| u.0[0]).collect();
    assert_eq!(pending, vec![4, 5]);
    let acked: Vec<_> = recovered.acknowledged().iter().map(|u| u.0[0]).collect();
    assert_eq!(acked, vec![1, 2, 3]);
    assert!(recovered.received_terminal());
    assert!(!recovered.is_terminated());
    assert_eq!(recovered.latest_state(), Some(TaskState::TaskKilled));

    // The recovered stream carries on: its head is forwarded, acks go on the log.
    let mut m = TaskStatusUpdateManager::default();
    let head = m
        .recover(&fw(), &task(), &path, Instant::now())
        .unwrap()
        .unwrap();
    assert_eq!(head.status, status(TaskState::TaskKilling, 4));
    assert_eq!(head.latest_state, TaskState::TaskKilled);
    m.acknowledge(&fw(), &task(), &[4; 16], Instant::now())
        .unwrap();
    let ack = m
        .acknowledge(&fw(), &task(), &[5; 16], Instant::now())
        .unwrap();
    assert!(ack.terminated);
    let recovered = recover(&path).unwrap().unwrap();
    assert!(recovered.is_terminated());
    assert_eq!(recovered.pending().len(), 0);
    // A duplicate of an acknowledged update, after recovery, is still ignored.
    let mut m = TaskStatusUpdateManager::default();
    m.recover(&fw(), &task(), &path, Instant::now()).unwrap();
    assert_eq!(
        m.update(
            &fw(),
            status(TaskState::TaskRunning, 2),
            Some(&path),
            Instant::now()
        )
        .unwrap(),
        UpdateOutcome::Duplicate
    );
}

#[test]
fn torn_tail_at_every_byte_recovers_the_previous_state() {
    let dir = tempfile::tempdir().unwrap();
    let full = dir.path().join("full.updates");
    let after = run(&full);
    let bytes = std::fs::read(&full).unwrap();
    let cut_path = dir.path().join("cut/task.updates");
    std::fs::create_dir_all(cut_path.parent().unwrap()).unwrap();
    for cut in 0..=bytes.len() {
        std::fs::write(&cut_path, &bytes[..cut]).unwrap();
        // The state after the last step whose record is wholly within the cut.
        let expected = after.iter().rev().find(|(len, _)| *len as usize <= cut);
        let recovered = recover(&cut_path).unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(recovered.as_ref(), expected.map(|(_, s)| s), "cut at {cut}");
        // The torn tail was cut off the file, so appends go after the last whole record.
        if let Some((len, _)) = expected {
            assert_eq!(
                std::fs::metadata(&cut_path).unwrap().len(),
                *len,
                "cut at {cut}"
            );
        }
    }
}

#[test]
fn a_recovered_torn_log_accepts_the_lost_update_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("task.updates");
    let after = run(&path);
    // Tear the last record (Ack(3)) in half.
    let (before_last, _) = after[after.len() - 2].clone();
    let len = std::fs::metadata(&path).unwrap().len();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.set_len((before_last + len) / 2).unwrap();
    drop(file);
    let mut m = TaskStatusUpdateManager::default();
    let head = m
        .recover(&fw(), &task(), &path, Instant::now())
        .unwrap()
        .unwrap();
    assert_eq!(head.status.uuid, Some(vec![3; 16]));
    m.acknowledge(&fw(), &task(), &[3; 16], Instant::now())
        .unwrap();
    assert_eq!(
        recover(&path).unwrap().as_ref(),
        Some(&after.last().unwrap().1)
    );
}

#[test]
fn damage_before_the_tail_is_a_typed_error_with_file_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("task.updates");
    let after = run(&path);
    let pristine = std::fs::read(&path).unwrap();
    // Every record but the last: flip a byte of its payload.
    let mut start = MAGIC.len() as u64;
    for (end, _) in &after[..after.len() - 1] {
        let mut bytes = pristine.clone();
        bytes[*end as usize - 1] ^= 0x55;
        std::fs::write(&path, &bytes).unwrap();
        match recover(&path) {
            Err(StatusUpdateError::Corrupt {
                path: p, offset, ..
            }) => {
                assert_eq!(p, path);
                assert_eq!(offset, start);
            }
            other => panic!("record at {start}: {other:?}"),
        }
        // The damaged file is left as it was.
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
        start = *end;
    }
    let mut bytes = pristine.clone();
    bytes[0] = b'X';
    std::fs::write(&path, &bytes).unwrap();
    assert!(matches!(
        recover(&path),
        Err(StatusUpdateError::Corrupt { offset: 0, .. })
    ));
}

#[test]
fn missing_or_empty_logs_recover_to_no_stream() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("task.updates");
    assert_eq!(recover(&path).unwrap(), None);
    std::fs::write(&path, &MAGIC[..5]).unwrap();
    assert_eq!(recover(&path).unwrap(), None);
    // A new stream may then be created over the remains of a torn creation.
    let mut m = TaskStatusUpdateManager::default();
    m.update(
        &fw(),
        status(TaskState::TaskRunning, 1),
        Some(&path),
        Instant::now(),
    )
    .unwrap();
    assert_eq!(recover(&path).unwrap().unwrap().pending().len(), 1);
}
