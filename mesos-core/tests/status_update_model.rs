//! Random sequences of updates, duplicates, acknowledgements, retries, removals and agent
//! restarts against the status update manager, checked against a model: no update is
//! lost, updates are forwarded in the order received with exactly one outstanding per
//! stream, and recovery from the checkpoints rebuilds exactly the streams in memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use mesos_core::agent::status_update::{
    ForwardedUpdate, StatusUpdateError, StreamError, StreamState, TaskStatusUpdateManager,
    UpdateOutcome,
};
use mesos_core::proto::mesos::v1::{FrameworkId, TaskId, TaskState, TaskStatus};
use proptest::prelude::*;

const TASKS: usize = 3;

#[derive(Debug, Clone)]
enum Step {
    /// A new update of a task (terminal or not).
    Update { task: usize, terminal: bool },
    /// A resend of an update already received (by index into what the task received).
    Duplicate { task: usize, index: usize },
    /// An acknowledgement of the outstanding update.
    AckHead { task: usize },
    /// An acknowledgement of some update received (head or not, acknowledged or not).
    Ack { task: usize, index: usize },
    /// An acknowledgement of a uuid never sent.
    AckUnknown { task: usize },
    /// Time passes; due retries are resent.
    Wait { secs: u64 },
    /// Removal of a task's stream.
    Remove { task: usize },
    /// The agent restarts: a new manager recovers every stream from its log.
    Restart,
    /// The agent re-registers: every outstanding update is resent.
    Reregister,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => (0..TASKS, prop::bool::weighted(0.15))
            .prop_map(|(task, terminal)| Step::Update { task, terminal }),
        2 => (0..TASKS, 0..8usize).prop_map(|(task, index)| Step::Duplicate { task, index }),
        5 => (0..TASKS).prop_map(|task| Step::AckHead { task }),
        2 => (0..TASKS, 0..8usize).prop_map(|(task, index)| Step::Ack { task, index }),
        1 => (0..TASKS).prop_map(|task| Step::AckUnknown { task }),
        2 => (0..700u64).prop_map(|secs| Step::Wait { secs }),
        1 => (0..TASKS).prop_map(|task| Step::Remove { task }),
        2 => Just(Step::Restart),
        1 => Just(Step::Reregister),
    ]
}

/// What one task's stream should hold.
#[derive(Debug, Clone, Default)]
struct Model {
    /// Every update received, in order: uuid and state.
    received: Vec<([u8; 16], TaskState)>,
    /// How many of them are acknowledged (always a prefix).
    acked: usize,
}

impl Model {
    fn head(&self) -> Option<[u8; 16]> {
        self.received.get(self.acked).map(|(u, _)| *u)
    }
    fn received_terminal(&self) -> bool {
        self.received
            .last()
            .is_some_and(|(_, s)| matches!(s, TaskState::TaskFinished))
    }
    fn terminated(&self) -> bool {
        self.received_terminal() && self.acked == self.received.len()
    }
}

fn fw() -> FrameworkId {
    FrameworkId { value: "fw".into() }
}

fn task_id(task: usize) -> TaskId {
    TaskId {
        value: format!("task-{task}"),
    }
}

fn path(dir: &Path, task: usize) -> PathBuf {
    dir.join(format!("tasks/task-{task}/task.updates"))
}

fn status(task: usize, uuid: [u8; 16], state: TaskState) -> TaskStatus {
    TaskStatus {
        task_id: task_id(task),
        state: state as i32,
        uuid: Some(uuid.to_vec()),
        message: Some(format!("{uuid:?}")),
        ..Default::default()
    }
}

fn task_of(f: &ForwardedUpdate) -> usize {
    f.status
        .task_id
        .value
        .strip_prefix("task-")
        .and_then(|n| n.parse().ok())
        .unwrap_or(usize::MAX)
}

/// A forwarded update must be the model's outstanding update of its task, carrying the
/// state of the latest update received.
fn check_forwarded(models: &[Model], f: &ForwardedUpdate) -> Result<(), TestCaseError> {
    let task = task_of(f);
    prop_assert!(task < TASKS);
    let model = &models[task];
    prop_assert_eq!(f.status.uuid.clone(), model.head().map(|u| u.to_vec()));
    prop_assert_eq!(Some(f.latest_state), model.received.last().map(|(_, s)| *s));
    Ok(())
}

/// The manager's stream of `task` must hold exactly what the model says.
fn check_stream(
    m: &TaskStatusUpdateManager,
    models: &[Model],
    task: usize,
) -> Result<(), TestCaseError> {
    let model = &models[task];
    let Some(stream) = m.stream(&fw(), &task_id(task)) else {
        prop_assert!(model.received.is_empty(), "task {} lost its stream", task);
        return Ok(());
    };
    let acked: Vec<[u8; 16]> = stream.acknowledged().iter().map(|u| u.0).collect();
    let want_acked: Vec<[u8; 16]> = model.received[..model.acked]
        .iter()
        .map(|(u, _)| *u)
        .collect();
    prop_assert_eq!(acked, want_acked);
    let pending: Vec<[u8; 16]> = stream.pending().map(|(u, _)| u.0).collect();
    let want_pending: Vec<[u8; 16]> = model.received[model.acked..]
        .iter()
        .map(|(u, _)| *u)
        .collect();
    prop_assert_eq!(pending, want_pending);
    prop_assert_eq!(stream.head().map(|(u, _)| u.0), model.head());
    prop_assert_eq!(stream.is_terminated(), model.terminated());
    prop_assert_eq!(stream.received_terminal(), model.received_terminal());
    Ok(())
}

fn snapshot(m: &TaskStatusUpdateManager) -> Vec<Option<StreamState>> {
    (0..TASKS)
        .map(|t| m.stream(&fw(), &task_id(t)).cloned())
        .collect()
}

fn run(steps: Vec<Step>) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let mut m = TaskStatusUpdateManager::default();
    let mut models = vec![Model::default(); TASKS];
    let mut now = Instant::now();
    let mut next_uuid: u64 = 1;
    for step in steps {
        match step {
            Step::Update { task, terminal } => {
                let mut uuid = [0u8; 16];
                uuid[..8].copy_from_slice(&next_uuid.to_le_bytes());
                next_uuid += 1;
                let state = if terminal {
                    TaskState::TaskFinished
                } else {
                    TaskState::TaskRunning
                };
                let result = m.update(
                    &fw(),
                    status(task, uuid, state),
                    Some(&path(dir.path(), task)),
                    now,
                );
                let model = &mut models[task];
                if model.received_terminal() {
                    let refused = matches!(
                        result,
                        Err(StatusUpdateError::Stream(StreamError::AfterTerminal { .. }))
                    );
                    prop_assert!(refused, "{:?}", result);
                } else {
                    let was_idle = model.head().is_none();
                    model.received.push((uuid, state));
                    match result {
                        Ok(UpdateOutcome::Forward(f)) => {
                            prop_assert!(was_idle);
                            check_forwarded(&models, &f)?;
                        }
                        Ok(UpdateOutcome::Queued) => prop_assert!(!was_idle),
                        other => prop_assert!(false, "update: {:?}", other),
                    }
                }
            }
            Step::Duplicate { task, index } => {
                let model = &models[task];
                if model.received.is_empty() {
                    continue;
                }
                let (uuid, state) = model.received[index % model.received.len()];
                let result = m.update(
                    &fw(),
                    status(task, uuid, state),
                    Some(&path(dir.path(), task)),
                    now,
                );
                prop_assert!(
                    matches!(result, Ok(UpdateOutcome::Duplicate)),
                    "{:?}",
                    result
                );
            }
            Step::AckHead { task } | Step::Ack { task, .. } | Step::AckUnknown { task } => {
                let model = &models[task];
                let uuid = match step {
                    Step::AckHead { .. } => match model.head() {
                        Some(head) => head,
                        None => continue,
                    },
                    Step::Ack { index, .. } if !model.received.is_empty() => {
                        model.received[index % model.received.len()].0
                    }
                    _ => [0xee; 16],
                };
                let result = m.acknowledge(&fw(), &task_id(task), &uuid, now);
                if model.head() == Some(uuid) {
                    let model = &mut models[task];
                    model.acked += 1;
                    let ack = result.map_err(|e| TestCaseError::fail(e.to_string()))?;
                    prop_assert_eq!(ack.terminated, models[task].terminated());
                    match ack.next {
                        Some(f) => check_forwarded(&models, &f)?,
                        None => prop_assert!(models[task].head().is_none()),
                    }
                } else if model.received.is_empty() {
                    let unknown = matches!(result, Err(StatusUpdateError::UnknownStream { .. }));
                    prop_assert!(unknown, "{:?}", result);
                } else {
                    let refused = matches!(result, Err(StatusUpdateError::Stream(_)));
                    prop_assert!(refused, "{:?}", result);
                }
            }
            Step::Wait { secs } => {
                now += Duration::from_secs(secs);
                let due = m.due_for_retry(now);
                let mut tasks: Vec<usize> = due.iter().map(task_of).collect();
                for f in &due {
                    check_forwarded(&models, f)?;
                }
                tasks.sort_unstable();
                tasks.dedup();
                prop_assert_eq!(tasks.len(), due.len(), "one outstanding update per stream");
                if let Some(next) = m.next_retry() {
                    prop_assert!(next > now);
                }
            }
            Step::Remove { task } => {
                let result = m.remove(&fw(), &task_id(task));
                if models[task].terminated() {
                    prop_assert!(result.is_ok(), "{:?}", result);
                    prop_assert!(!path(dir.path(), task).exists());
                    models[task] = Model::default();
                } else {
                    prop_assert!(result.is_err());
                }
            }
            Step::Reregister => {
                // Exactly one outstanding update per stream with pending updates.
                let with_head = (0..TASKS).filter(|t| models[*t].head().is_some()).count();
                let all = m.resend_all(now);
                prop_assert_eq!(all.len(), with_head);
                for f in &all {
                    check_forwarded(&models, f)?;
                }
            }
            Step::Restart => {
                let before = snapshot(&m);
                drop(m);
                m = TaskStatusUpdateManager::default();
                now += Duration::from_secs(1);
                for task in 0..TASKS {
                    let forwarded = m
                        .recover(&fw(), &task_id(task), &path(dir.path(), task), now)
                        .map_err(|e| TestCaseError::fail(e.to_string()))?;
                    match forwarded {
                        Some(f) => check_forwarded(&models, &f)?,
                        None => prop_assert!(models[task].head().is_none()),
                    }
                }
                prop_assert_eq!(snapshot(&m), before);
            }
        }
        for task in 0..TASKS {
            check_stream(&m, &models, task)?;
        }
        // A retry is scheduled exactly when some stream has an outstanding update.
        let with_head = (0..TASKS).filter(|t| models[*t].head().is_some()).count();
        prop_assert_eq!(m.next_retry().is_some(), with_head > 0);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn manager_matches_the_model(steps in prop::collection::vec(step(), 1..60)) {
        run(steps)?;
    }
}
