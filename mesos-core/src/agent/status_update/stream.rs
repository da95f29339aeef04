//! The pure state machine of one task's status update stream (no IO, no clock).

use std::collections::VecDeque;
use std::fmt;

use crate::proto::mesos::v1::{TaskId, TaskState, TaskStatus};

/// The unique id of a status update (`TaskStatus.uuid`, 16 bytes).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UpdateUuid(pub [u8; 16]);

impl UpdateUuid {
    /// The uuid as raw bytes, as carried in `TaskStatus.uuid` and acknowledgements.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Parses the 16 raw bytes of a uuid; `None` if `bytes` is not 16 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<UpdateUuid> {
        <[u8; 16]>::try_from(bytes).ok().map(UpdateUuid)
    }
}

impl fmt::Display for UpdateUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if matches!(i, 4 | 6 | 8 | 10) {
                f.write_str("-")?;
            }
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for UpdateUuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UpdateUuid({self})")
    }
}

/// Whether `state` is terminal in Mesos' sense (`protobuf::isTerminalState`): the task
/// will not change state again. `TASK_UNREACHABLE` and `TASK_UNKNOWN` are not terminal.
pub fn is_terminal_state(state: TaskState) -> bool {
    matches!(
        state,
        TaskState::TaskFinished
            | TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskLost
            | TaskState::TaskError
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator
    )
}

/// Why an update or acknowledgement was refused by a stream. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The update has no `uuid`, or one that is not 16 bytes.
    #[error("status update for task {task_id} has no valid 16-byte uuid ({len} bytes)")]
    BadUuid {
        /// The task.
        task_id: String,
        /// The length of the uuid given (0 if absent).
        len: usize,
    },
    /// The update's `state` is not a known `TaskState`.
    #[error("status update {uuid} for task {task_id} has unknown state {state}")]
    BadState {
        /// The task.
        task_id: String,
        /// The update.
        uuid: UpdateUuid,
        /// The raw state value.
        state: i32,
    },
    /// The update belongs to another task than the stream's.
    #[error("status update {uuid} is for task {got}, not for this stream's task {task_id}")]
    WrongTask {
        /// The stream's task.
        task_id: String,
        /// The task named by the update.
        got: String,
        /// The update.
        uuid: UpdateUuid,
    },
    /// A new update arrived after a terminal one.
    #[error("status update {uuid} for task {task_id} follows a terminal update")]
    AfterTerminal {
        /// The task.
        task_id: String,
        /// The refused update.
        uuid: UpdateUuid,
    },
    /// The acknowledged uuid was never received by this stream.
    #[error("acknowledgement of unknown status update {uuid} for task {task_id}")]
    UnknownUuid {
        /// The task.
        task_id: String,
        /// The acknowledged uuid.
        uuid: UpdateUuid,
    },
    /// The acknowledged update was already acknowledged.
    #[error("status update {uuid} for task {task_id} was already acknowledged")]
    AlreadyAcknowledged {
        /// The task.
        task_id: String,
        /// The acknowledged uuid.
        uuid: UpdateUuid,
    },
    /// The acknowledged update is pending but is not the outstanding (head) one.
    #[error(
        "acknowledgement of status update {uuid} for task {task_id}, but {head} is outstanding"
    )]
    NotHead {
        /// The task.
        task_id: String,
        /// The acknowledged uuid.
        uuid: UpdateUuid,
        /// The outstanding update.
        head: UpdateUuid,
    },
}

/// What an accepted update does to a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    /// A new update, to be appended; `head` if it becomes the outstanding update.
    New {
        /// Whether the stream had nothing pending, so this update is to be sent now.
        head: bool,
    },
    /// An update already received (same uuid): ignored.
    Duplicate,
}

/// One task's status update stream: every update received, in order, and how far the
/// master has acknowledged them. Only the first pending update (the head) is outstanding.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamState {
    task_id: TaskId,
    pending: VecDeque<(UpdateUuid, TaskStatus)>,
    acknowledged: Vec<UpdateUuid>,
    received_terminal: bool,
    terminated: bool,
    latest_state: Option<TaskState>,
}

impl StreamState {
    /// An empty stream for `task_id`.
    pub fn new(task_id: TaskId) -> StreamState {
        StreamState {
            task_id,
            pending: VecDeque::new(),
            acknowledged: Vec::new(),
            received_terminal: false,
            terminated: false,
            latest_state: None,
        }
    }

    /// The stream's task.
    pub fn task_id(&self) -> &TaskId {
        &self.task_id
    }

    /// The outstanding update (sent to the master, awaiting acknowledgement), if any.
    pub fn head(&self) -> Option<(&UpdateUuid, &TaskStatus)> {
        self.pending.front().map(|(u, s)| (u, s))
    }

    /// The updates not yet acknowledged, in the order received (the head first).
    pub fn pending(&self) -> impl ExactSizeIterator<Item = (&UpdateUuid, &TaskStatus)> {
        self.pending.iter().map(|(u, s)| (u, s))
    }

    /// The acknowledged updates' uuids, in the order acknowledged (= received).
    pub fn acknowledged(&self) -> &[UpdateUuid] {
        &self.acknowledged
    }

    /// Whether a terminal update was received (further new updates are refused).
    pub fn received_terminal(&self) -> bool {
        self.received_terminal
    }

    /// Whether the terminal update was acknowledged: the stream is closed for good.
    pub fn is_terminated(&self) -> bool {
        self.terminated
    }

    /// The state of the latest update received (Mesos' `latest_state`), if any.
    pub fn latest_state(&self) -> Option<TaskState> {
        self.latest_state
    }

    /// Checks `status` against the stream without changing it.
    pub fn check_update(&self, status: &TaskStatus) -> Result<(UpdateUuid, Accepted), StreamError> {
        let task_id = || self.task_id.value.clone();
        let raw = status.uuid.as_deref().unwrap_or_default();
        let uuid = UpdateUuid::from_slice(raw).ok_or_else(|| StreamError::BadUuid {
            task_id: task_id(),
            len: raw.len(),
        })?;
        if status.task_id != self.task_id {
            return Err(StreamError::WrongTask {
                task_id: task_id(),
                got: status.task_id.value.clone(),
                uuid,
            });
        }
        if TaskState::try_from(status.state).is_err() {
            return Err(StreamError::BadState {
                task_id: task_id(),
                uuid,
                state: status.state,
            });
        }
        if self.acknowledged.contains(&uuid) || self.pending.iter().any(|(u, _)| *u == uuid) {
            return Ok((uuid, Accepted::Duplicate));
        }
        if self.received_terminal {
            return Err(StreamError::AfterTerminal {
                task_id: task_id(),
                uuid,
            });
        }
        Ok((
            uuid,
            Accepted::New {
                head: self.pending.is_empty(),
            },
        ))
    }

    /// Applies `status`, returning what it did; on error nothing changed.
    pub fn update(&mut self, status: TaskStatus) -> Result<Accepted, StreamError> {
        let (uuid, accepted) = self.check_update(&status)?;
        if let Accepted::New { .. } = accepted {
            // check_update verified the state is known.
            let state = TaskState::try_from(status.state).unwrap_or(TaskState::TaskUnknown);
            self.received_terminal = is_terminal_state(state);
            self.latest_state = Some(state);
            self.pending.push_back((uuid, status));
        }
        Ok(accepted)
    }

    /// Checks an acknowledgement of `uuid` without changing the stream.
    pub fn check_acknowledgement(&self, uuid: UpdateUuid) -> Result<(), StreamError> {
        let task_id = || self.task_id.value.clone();
        match self.pending.front() {
            Some((head, _)) if *head == uuid => Ok(()),
            _ if self.acknowledged.contains(&uuid) => Err(StreamError::AlreadyAcknowledged {
                task_id: task_id(),
                uuid,
            }),
            Some((head, _)) if self.pending.iter().any(|(u, _)| *u == uuid) => {
                Err(StreamError::NotHead {
                    task_id: task_id(),
                    uuid,
                    head: *head,
                })
            }
            _ => Err(StreamError::UnknownUuid {
                task_id: task_id(),
                uuid,
            }),
        }
    }

    /// Acknowledges the head update `uuid`, returning it; on error nothing changed.
    pub fn acknowledge(&mut self, uuid: UpdateUuid) -> Result<TaskStatus, StreamError> {
        self.check_acknowledgement(uuid)?;
        let (uuid, status) = self
            .pending
            .pop_front()
            .ok_or_else(|| StreamError::UnknownUuid {
                task_id: self.task_id.value.clone(),
                uuid,
            })?;
        self.acknowledged.push(uuid);
        if TaskState::try_from(status.state).is_ok_and(is_terminal_state) {
            self.terminated = true;
        }
        Ok(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(task: &str, state: TaskState, n: u8) -> TaskStatus {
        TaskStatus {
            task_id: TaskId { value: task.into() },
            state: state as i32,
            uuid: Some(vec![n; 16]),
            ..Default::default()
        }
    }

    fn stream() -> StreamState {
        StreamState::new(TaskId { value: "t".into() })
    }

    #[test]
    fn only_head_is_outstanding_and_acks_advance_in_order() {
        let mut s = stream();
        assert_eq!(
            s.update(status("t", TaskState::TaskStarting, 1)),
            Ok(Accepted::New { head: true })
        );
        assert_eq!(
            s.update(status("t", TaskState::TaskRunning, 2)),
            Ok(Accepted::New { head: false })
        );
        assert_eq!(s.head().map(|(u, _)| *u), Some(UpdateUuid([1; 16])));
        assert_eq!(s.latest_state(), Some(TaskState::TaskRunning));
        assert!(matches!(
            s.acknowledge(UpdateUuid([2; 16])),
            Err(StreamError::NotHead { .. })
        ));
        assert_eq!(s.pending().len(), 2);
        s.acknowledge(UpdateUuid([1; 16])).unwrap();
        assert_eq!(s.head().map(|(u, _)| *u), Some(UpdateUuid([2; 16])));
        assert_eq!(s.acknowledged(), &[UpdateUuid([1; 16])]);
    }

    #[test]
    fn duplicates_are_ignored_pending_or_acknowledged() {
        let mut s = stream();
        s.update(status("t", TaskState::TaskRunning, 1)).unwrap();
        let before = s.clone();
        assert_eq!(
            s.update(status("t", TaskState::TaskFailed, 1)),
            Ok(Accepted::Duplicate)
        );
        assert_eq!(s, before);
        s.acknowledge(UpdateUuid([1; 16])).unwrap();
        assert_eq!(
            s.update(status("t", TaskState::TaskRunning, 1)),
            Ok(Accepted::Duplicate)
        );
        assert_eq!(s.pending().len(), 0);
    }

    #[test]
    fn bad_acks_are_typed_errors_and_change_nothing() {
        let mut s = stream();
        s.update(status("t", TaskState::TaskRunning, 1)).unwrap();
        s.acknowledge(UpdateUuid([1; 16])).unwrap();
        s.update(status("t", TaskState::TaskRunning, 2)).unwrap();
        let before = s.clone();
        assert!(matches!(
            s.acknowledge(UpdateUuid([9; 16])),
            Err(StreamError::UnknownUuid { .. })
        ));
        assert!(matches!(
            s.acknowledge(UpdateUuid([1; 16])),
            Err(StreamError::AlreadyAcknowledged { .. })
        ));
        assert_eq!(s, before);
    }

    #[test]
    fn invalid_updates_are_refused() {
        let mut s = stream();
        let mut no_uuid = status("t", TaskState::TaskRunning, 1);
        no_uuid.uuid = None;
        assert!(matches!(
            s.update(no_uuid),
            Err(StreamError::BadUuid { len: 0, .. })
        ));
        let mut short = status("t", TaskState::TaskRunning, 1);
        short.uuid = Some(vec![1; 5]);
        assert!(matches!(
            s.update(short),
            Err(StreamError::BadUuid { len: 5, .. })
        ));
        let mut bad_state = status("t", TaskState::TaskRunning, 1);
        bad_state.state = 999;
        assert!(matches!(
            s.update(bad_state),
            Err(StreamError::BadState { state: 999, .. })
        ));
        assert!(matches!(
            s.update(status("other", TaskState::TaskRunning, 1)),
            Err(StreamError::WrongTask { .. })
        ));
        assert_eq!(s, stream());
    }

    #[test]
    fn terminal_update_closes_the_stream_once_acknowledged() {
        let mut s = stream();
        s.update(status("t", TaskState::TaskRunning, 1)).unwrap();
        s.update(status("t", TaskState::TaskFinished, 2)).unwrap();
        assert!(s.received_terminal());
        assert!(matches!(
            s.update(status("t", TaskState::TaskRunning, 3)),
            Err(StreamError::AfterTerminal { .. })
        ));
        // A duplicate of the terminal update is still just ignored.
        assert_eq!(
            s.update(status("t", TaskState::TaskFinished, 2)),
            Ok(Accepted::Duplicate)
        );
        s.acknowledge(UpdateUuid([1; 16])).unwrap();
        assert!(!s.is_terminated());
        s.acknowledge(UpdateUuid([2; 16])).unwrap();
        assert!(s.is_terminated());
        assert!(s.head().is_none());
    }

    #[test]
    fn terminal_states_match_mesos() {
        for state in [
            TaskState::TaskFinished,
            TaskState::TaskFailed,
            TaskState::TaskKilled,
            TaskState::TaskLost,
            TaskState::TaskError,
            TaskState::TaskDropped,
            TaskState::TaskGone,
            TaskState::TaskGoneByOperator,
        ] {
            assert!(is_terminal_state(state), "{state:?}");
        }
        for state in [
            TaskState::TaskStaging,
            TaskState::TaskStarting,
            TaskState::TaskRunning,
            TaskState::TaskKilling,
            TaskState::TaskUnreachable,
            TaskState::TaskUnknown,
        ] {
            assert!(!is_terminal_state(state), "{state:?}");
        }
    }

    #[test]
    fn uuid_display() {
        let mut bytes = [0u8; 16];
        bytes[0] = 0xab;
        bytes[15] = 0x01;
        assert_eq!(
            UpdateUuid(bytes).to_string(),
            "ab000000-0000-0000-0000-000000000001"
        );
    }
}
