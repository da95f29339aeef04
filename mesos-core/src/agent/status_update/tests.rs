//! Unit tests of the manager: forwarding order, acknowledgements, retries, removal.

use super::*;

fn fw() -> FrameworkId {
    FrameworkId { value: "fw".into() }
}

fn task(t: &str) -> TaskId {
    TaskId { value: t.into() }
}

fn status(t: &str, state: TaskState, n: u8) -> TaskStatus {
    TaskStatus {
        task_id: task(t),
        state: state as i32,
        uuid: Some(vec![n; 16]),
        ..Default::default()
    }
}

fn uuid_of(f: &ForwardedUpdate) -> Vec<u8> {
    f.status.uuid.clone().unwrap_or_default()
}

#[test]
fn forwards_one_at_a_time_with_latest_state() {
    let mut m = TaskStatusUpdateManager::default();
    let now = Instant::now();
    let UpdateOutcome::Forward(first) = m
        .update(&fw(), status("t", TaskState::TaskRunning, 1), None, now)
        .unwrap()
    else {
        panic!("first update not forwarded")
    };
    assert_eq!(first.latest_state, TaskState::TaskRunning);
    assert_eq!(
        m.update(&fw(), status("t", TaskState::TaskFinished, 2), None, now)
            .unwrap(),
        UpdateOutcome::Queued
    );
    assert_eq!(
        m.update(&fw(), status("t", TaskState::TaskFinished, 2), None, now)
            .unwrap(),
        UpdateOutcome::Duplicate
    );
    // A retry of the head carries the latest state received.
    let resent = m.due_for_retry(now + Duration::from_secs(10));
    assert_eq!(resent.len(), 1);
    assert_eq!(uuid_of(&resent[0]), vec![1; 16]);
    assert_eq!(resent[0].status.state, TaskState::TaskRunning as i32);
    assert_eq!(resent[0].latest_state, TaskState::TaskFinished);

    let ack = m.acknowledge(&fw(), &task("t"), &[1; 16], now).unwrap();
    let next = ack.next.unwrap();
    assert_eq!(uuid_of(&next), vec![2; 16]);
    assert!(!ack.terminated);
    assert!(matches!(
        m.remove(&fw(), &task("t")),
        Err(StatusUpdateError::NotTerminated { .. })
    ));
    let ack = m.acknowledge(&fw(), &task("t"), &[2; 16], now).unwrap();
    assert_eq!(ack.next, None);
    assert!(ack.terminated);
    assert_eq!(m.next_retry(), None);
    m.remove(&fw(), &task("t")).unwrap();
    assert!(m.stream(&fw(), &task("t")).is_none());
}

#[test]
fn bad_acks_are_errors() {
    let mut m = TaskStatusUpdateManager::default();
    let now = Instant::now();
    assert!(matches!(
        m.acknowledge(&fw(), &task("t"), &[1; 16], now),
        Err(StatusUpdateError::UnknownStream { .. })
    ));
    m.update(&fw(), status("t", TaskState::TaskRunning, 1), None, now)
        .unwrap();
    m.update(&fw(), status("t", TaskState::TaskRunning, 2), None, now)
        .unwrap();
    assert!(matches!(
        m.acknowledge(&fw(), &task("t"), &[2; 16], now),
        Err(StatusUpdateError::Stream(StreamError::NotHead { .. }))
    ));
    assert!(matches!(
        m.acknowledge(&fw(), &task("t"), &[7; 16], now),
        Err(StatusUpdateError::Stream(StreamError::UnknownUuid { .. }))
    ));
    assert!(matches!(
        m.acknowledge(&fw(), &task("t"), &[7; 3], now),
        Err(StatusUpdateError::Stream(StreamError::BadUuid {
            len: 3,
            ..
        }))
    ));
    m.acknowledge(&fw(), &task("t"), &[1; 16], now).unwrap();
    assert!(matches!(
        m.acknowledge(&fw(), &task("t"), &[1; 16], now),
        Err(StatusUpdateError::Stream(
            StreamError::AlreadyAcknowledged { .. }
        ))
    ));
    let s = m.stream(&fw(), &task("t")).unwrap();
    assert_eq!(s.pending().len(), 1);
}

#[test]
fn a_refused_first_update_creates_no_stream() {
    let mut m = TaskStatusUpdateManager::default();
    let mut bad = status("t", TaskState::TaskRunning, 1);
    bad.uuid = None;
    assert!(m.update(&fw(), bad, None, Instant::now()).is_err());
    assert_eq!(m.streams().count(), 0);
}

#[test]
fn backoff_doubles_up_to_max() {
    let policy = RetryPolicy::default();
    assert_eq!(policy.initial, Duration::from_secs(10));
    assert_eq!(policy.max, Duration::from_secs(600));
    let mut m = TaskStatusUpdateManager::new(policy);
    let t0 = Instant::now();
    m.update(&fw(), status("t", TaskState::TaskRunning, 1), None, t0)
        .unwrap();
    let mut at = t0;
    let mut retries = Vec::new();
    for _ in 0..9 {
        let next = m.next_retry().unwrap();
        // Nothing is due a moment before.
        assert!(m.due_for_retry(next - Duration::from_millis(1)).is_empty());
        retries.push(next.duration_since(at).as_secs());
        at = next;
        assert_eq!(m.due_for_retry(next).len(), 1);
    }
    assert_eq!(retries, vec![10, 20, 40, 80, 160, 320, 600, 600, 600]);
    // An ack and a new head start the schedule afresh.
    m.update(&fw(), status("t", TaskState::TaskRunning, 2), None, at)
        .unwrap();
    let ack = m.acknowledge(&fw(), &task("t"), &[1; 16], at).unwrap();
    assert!(ack.next.is_some());
    assert_eq!(m.next_retry(), Some(at + Duration::from_secs(10)));
}

#[test]
fn custom_policy_and_resend_all() {
    let policy = RetryPolicy {
        initial: Duration::from_secs(1),
        max: Duration::from_secs(3),
    };
    let mut m = TaskStatusUpdateManager::new(policy);
    let t0 = Instant::now();
    m.update(&fw(), status("a", TaskState::TaskRunning, 1), None, t0)
        .unwrap();
    m.update(&fw(), status("b", TaskState::TaskRunning, 2), None, t0)
        .unwrap();
    let t1 = t0 + Duration::from_secs(1);
    assert_eq!(m.due_for_retry(t1).len(), 2);
    assert_eq!(m.next_retry(), Some(t1 + Duration::from_secs(2)));
    let t2 = t1 + Duration::from_secs(2);
    assert_eq!(m.due_for_retry(t2).len(), 2);
    assert_eq!(m.next_retry(), Some(t2 + Duration::from_secs(3)));
    let t3 = t2 + Duration::from_millis(500);
    assert_eq!(m.resend_all(t3).len(), 2);
    assert_eq!(m.next_retry(), Some(t3 + Duration::from_secs(1)));
}

#[test]
fn streams_are_per_framework_and_task() {
    let mut m = TaskStatusUpdateManager::default();
    let now = Instant::now();
    let other = FrameworkId {
        value: "other".into(),
    };
    for f in [fw(), other.clone()] {
        assert!(matches!(
            m.update(&f, status("t", TaskState::TaskRunning, 1), None, now),
            Ok(UpdateOutcome::Forward(_))
        ));
    }
    assert_eq!(m.streams().count(), 2);
    m.remove_framework(&other);
    assert_eq!(m.streams().count(), 1);
    assert!(m.stream(&fw(), &task("t")).is_some());
}

#[test]
fn checkpointed_stream_survives_restart_and_removal_deletes_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/tasks/t/task.updates");
    let now = Instant::now();
    let mut m = TaskStatusUpdateManager::default();
    m.update(
        &fw(),
        status("t", TaskState::TaskRunning, 1),
        Some(&path),
        now,
    )
    .unwrap();
    m.update(
        &fw(),
        status("t", TaskState::TaskFailed, 2),
        Some(&path),
        now,
    )
    .unwrap();
    m.acknowledge(&fw(), &task("t"), &[1; 16], now).unwrap();
    let before = m.stream(&fw(), &task("t")).unwrap().clone();

    let mut again = TaskStatusUpdateManager::default();
    // A new stream must not overwrite an existing log.
    assert!(matches!(
        again.update(
            &fw(),
            status("t", TaskState::TaskRunning, 9),
            Some(&path),
            now
        ),
        Err(StatusUpdateError::AlreadyExists { .. })
    ));
    let head = again
        .recover(&fw(), &task("t"), &path, now)
        .unwrap()
        .unwrap();
    assert_eq!(uuid_of(&head), vec![2; 16]);
    assert_eq!(again.stream(&fw(), &task("t")).unwrap(), &before);
    assert!(matches!(
        again.recover(&fw(), &task("t"), &path, now),
        Err(StatusUpdateError::StreamExists { .. })
    ));
    let ack = again.acknowledge(&fw(), &task("t"), &[2; 16], now).unwrap();
    assert!(ack.terminated);
    again.remove(&fw(), &task("t")).unwrap();
    assert!(!path.exists());
    let mut third = TaskStatusUpdateManager::default();
    assert_eq!(third.recover(&fw(), &task("t"), &path, now).unwrap(), None);
}

#[test]
fn an_absurd_policy_never_retries_and_does_not_panic() {
    let mut m = TaskStatusUpdateManager::new(RetryPolicy {
        initial: Duration::MAX,
        max: Duration::MAX,
    });
    let now = Instant::now();
    m.update(&fw(), status("t", TaskState::TaskRunning, 1), None, now)
        .unwrap();
    assert_eq!(m.next_retry(), None);
    assert!(m.due_for_retry(now).is_empty());
    assert_eq!(m.resend_all(now).len(), 1);
}
