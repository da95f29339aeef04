//! The agent's task status update manager (Apache Mesos' `TaskStatusUpdateManager`).
//!
//! Every task (framework id + task id) has a *stream* of status updates, each with a
//! unique 16-byte `TaskStatus.uuid`. Updates are forwarded to the master strictly in the
//! order received: only the head of a stream is outstanding, and the next update is
//! forwarded only once the master relays the scheduler's acknowledgement of the head.
//! The outstanding update is resent with exponential backoff until acknowledged
//! ([`RetryPolicy`]). Time is an input ([`Instant`]); the manager does no IO other than
//! its checkpoints, sends nothing itself, and sets no timers: the caller forwards the
//! [`ForwardedUpdate`]s it returns and calls [`TaskStatusUpdateManager::due_for_retry`]
//! at [`TaskStatusUpdateManager::next_retry`].
//!
//! Streams of frameworks with `checkpoint = true` are logged to a file the caller names
//! (`<meta_dir>/.../tasks/<task_id>/task.updates`), each record fsynced before
//! [`TaskStatusUpdateManager::update`] / [`TaskStatusUpdateManager::acknowledge`] return,
//! and rebuilt after an agent restart by [`TaskStatusUpdateManager::recover`]. The file
//! format is described in the private `log` module: a magic line, then CRC-framed
//! UPDATE (full `TaskStatus`) and ACK (uuid) records.

mod log;
mod stream;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

pub use log::MAGIC;
pub use stream::{is_terminal_state, Accepted, StreamError, StreamState, UpdateUuid};

use crate::proto::mesos::v1::{FrameworkId, TaskId, TaskState, TaskStatus};
use log::{Record, StreamLog};

/// Why the status update manager refused an update, acknowledgement or request.
#[derive(Debug, thiserror::Error)]
pub enum StatusUpdateError {
    /// The stream refused the update or acknowledgement; nothing was changed.
    #[error(transparent)]
    Stream(#[from] StreamError),
    /// No stream for this task.
    #[error("no status update stream for task {task_id} of framework {framework_id}")]
    UnknownStream {
        /// The framework.
        framework_id: String,
        /// The task.
        task_id: String,
    },
    /// `recover` was called for a stream the manager already has.
    #[error("status update stream for task {task_id} of framework {framework_id} already exists")]
    StreamExists {
        /// The framework.
        framework_id: String,
        /// The task.
        task_id: String,
    },
    /// Removal of a stream whose terminal update is not acknowledged yet.
    #[error("status update stream for task {task_id} is not terminated")]
    NotTerminated {
        /// The task.
        task_id: String,
    },
    /// A new checkpointed stream would overwrite a log holding records: the stream must be
    /// recovered first.
    #[error("status update log {} already holds updates; recover the stream first", .path.display())]
    AlreadyExists {
        /// The log file.
        path: PathBuf,
    },
    /// A record is too large to frame (over 4 GiB).
    #[error("status update record of {len} bytes for {} is too large", .path.display())]
    TooLarge {
        /// The log file.
        path: PathBuf,
        /// The payload length.
        len: usize,
    },
    /// A file operation failed.
    #[error("status update log IO error: {action} {}: {source}", .path.display())]
    Io {
        /// What was being done, e.g. "fsync".
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A log holds bytes no correct writer produces (other than a torn last record, which
    /// recovery cuts off).
    #[error("corrupt status update log {} at offset {offset}: {reason}", .path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The byte offset of the bad record.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
    /// An earlier append to this stream's log failed, so what is on disk is unknown; the
    /// stream must be recovered from its log.
    #[error("an earlier write to status update log {} failed; recover the stream", .path.display())]
    Failed {
        /// The log file.
        path: PathBuf,
    },
}

/// How the outstanding update of a stream is resent until acknowledged: first after
/// `initial`, then after twice the previous interval, never more than `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first interval (Mesos: 10 seconds).
    pub initial: Duration,
    /// The longest interval (Mesos: 10 minutes).
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            initial: Duration::from_secs(10),
            max: Duration::from_secs(600),
        }
    }
}

/// Identifies a stream: the task's framework and id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StreamKey {
    /// The framework.
    pub framework_id: FrameworkId,
    /// The task.
    pub task_id: TaskId,
}

/// An update to send to the master (Mesos' `StatusUpdate` message): the outstanding
/// update of a stream, with the task's latest known state.
#[derive(Debug, Clone, PartialEq)]
pub struct ForwardedUpdate {
    /// The task's framework.
    pub framework_id: FrameworkId,
    /// The outstanding update, as received (its `state` is the update's own).
    pub status: TaskStatus,
    /// The state of the latest update received for the task (Mesos' `latest_state`),
    /// which the master records as the task's state; later than `status.state` when more
    /// updates are queued behind the outstanding one.
    pub latest_state: TaskState,
}

/// What [`TaskStatusUpdateManager::update`] did with an update.
// Returned once per update and matched at once: not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum UpdateOutcome {
    /// The update is new and outstanding: send it to the master now.
    Forward(ForwardedUpdate),
    /// The update is new and queued behind the outstanding one.
    Queued,
    /// An update with this uuid was already received: ignored.
    Duplicate,
}

/// What [`TaskStatusUpdateManager::acknowledge`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct AckOutcome {
    /// The next update of the stream, now outstanding: send it to the master now.
    pub next: Option<ForwardedUpdate>,
    /// Whether the acknowledged update was terminal: the stream is closed and may be
    /// removed with [`TaskStatusUpdateManager::remove`].
    pub terminated: bool,
}

#[derive(Debug, Clone, Copy)]
struct Retry {
    at: Instant,
    interval: Duration,
}

impl Retry {
    /// A retry `interval` after `now`; none if that is beyond what `Instant` can hold
    /// (an absurd policy means never).
    fn after(now: Instant, interval: Duration) -> Option<Retry> {
        now.checked_add(interval).map(|at| Retry { at, interval })
    }
}

#[derive(Debug)]
struct Stream {
    state: StreamState,
    checkpoint: Option<PathBuf>,
    log: Option<StreamLog>,
    retry: Option<Retry>,
}

impl Stream {
    /// The head as an update to send, if there is one.
    fn forward(&self, framework_id: &FrameworkId) -> Option<ForwardedUpdate> {
        let (_, status) = self.state.head()?;
        let own = TaskState::try_from(status.state).unwrap_or(TaskState::TaskUnknown);
        Some(ForwardedUpdate {
            framework_id: framework_id.clone(),
            status: status.clone(),
            latest_state: self.state.latest_state().unwrap_or(own),
        })
    }

    /// Forwards the head (if any) now, starting its retry schedule afresh.
    fn send_head(
        &mut self,
        framework_id: &FrameworkId,
        policy: &RetryPolicy,
        now: Instant,
    ) -> Option<ForwardedUpdate> {
        let forwarded = self.forward(framework_id);
        self.retry = forwarded
            .as_ref()
            .and_then(|_| Retry::after(now, policy.initial));
        forwarded
    }
}

/// The agent's status update manager: every task's stream, their retries and checkpoints.
#[derive(Debug, Default)]
pub struct TaskStatusUpdateManager {
    policy: RetryPolicy,
    streams: HashMap<StreamKey, Stream>,
}

fn key(framework_id: &FrameworkId, task_id: &TaskId) -> StreamKey {
    StreamKey {
        framework_id: framework_id.clone(),
        task_id: task_id.clone(),
    }
}

impl TaskStatusUpdateManager {
    /// A manager with no streams, resending with `policy`.
    pub fn new(policy: RetryPolicy) -> TaskStatusUpdateManager {
        TaskStatusUpdateManager {
            policy,
            streams: HashMap::new(),
        }
    }

    /// The retry policy.
    pub fn policy(&self) -> RetryPolicy {
        self.policy
    }

    /// Handles an update of task `status.task_id` of `framework_id` received at `now`.
    ///
    /// `checkpoint` is the stream's log file for a checkpointing framework (`None` keeps
    /// the stream in memory only); it is used when the update creates the stream and
    /// ignored afterwards. For a checkpointed stream a new update is durable (appended and
    /// fsynced) when this returns `Ok`, so the executor may then be acknowledged. On error
    /// nothing changed (but see [`StatusUpdateError::Failed`]).
    pub fn update(
        &mut self,
        framework_id: &FrameworkId,
        status: TaskStatus,
        checkpoint: Option<&Path>,
        now: Instant,
    ) -> Result<UpdateOutcome, StatusUpdateError> {
        let key = key(framework_id, &status.task_id);
        let policy = self.policy;
        let is_new = !self.streams.contains_key(&key);
        let stream = self.streams.entry(key.clone()).or_insert_with(|| Stream {
            state: StreamState::new(status.task_id.clone()),
            checkpoint: checkpoint.map(Path::to_path_buf),
            log: None,
            retry: None,
        });
        let result = Self::update_stream(stream, framework_id, status, &policy, now);
        if is_new && !matches!(result, Ok(UpdateOutcome::Forward(_))) {
            self.streams.remove(&key);
        }
        result
    }

    fn update_stream(
        stream: &mut Stream,
        framework_id: &FrameworkId,
        status: TaskStatus,
        policy: &RetryPolicy,
        now: Instant,
    ) -> Result<UpdateOutcome, StatusUpdateError> {
        let head = match stream.state.check_update(&status)? {
            (_, Accepted::Duplicate) => return Ok(UpdateOutcome::Duplicate),
            (_, Accepted::New { head }) => head,
        };
        match (&mut stream.log, &stream.checkpoint) {
            (Some(log), _) => log.append(Record::Update(&status))?,
            (None, Some(path)) => {
                stream.log = Some(StreamLog::create(path, Record::Update(&status))?);
            }
            (None, None) => {}
        }
        stream.state.update(status)?;
        if head {
            Ok(stream
                .send_head(framework_id, policy, now)
                .map_or(UpdateOutcome::Queued, UpdateOutcome::Forward))
        } else {
            Ok(UpdateOutcome::Queued)
        }
    }

    /// Handles the acknowledgement (relayed by the master) of update `uuid` of a task,
    /// received at `now`. Only the outstanding update can be acknowledged; any other uuid
    /// is an error and changes nothing. For a checkpointed stream the acknowledgement is
    /// durable when this returns `Ok`.
    pub fn acknowledge(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: &[u8],
        now: Instant,
    ) -> Result<AckOutcome, StatusUpdateError> {
        let uuid = UpdateUuid::from_slice(uuid).ok_or_else(|| StreamError::BadUuid {
            task_id: task_id.value.clone(),
            len: uuid.len(),
        })?;
        let policy = self.policy;
        let stream = self
            .streams
            .get_mut(&key(framework_id, task_id))
            .ok_or_else(|| StatusUpdateError::UnknownStream {
                framework_id: framework_id.value.clone(),
                task_id: task_id.value.clone(),
            })?;
        stream.state.check_acknowledgement(uuid)?;
        if let Some(log) = &mut stream.log {
            log.append(Record::Ack(uuid))?;
        }
        stream.state.acknowledge(uuid)?;
        Ok(AckOutcome {
            next: stream.send_head(framework_id, &policy, now),
            terminated: stream.state.is_terminated(),
        })
    }

    /// Rebuilds the stream of a task from its log at `path` (after an agent restart, or
    /// after [`StatusUpdateError::Failed`]: a stream whose log write failed is replaced),
    /// cutting off a torn last record. Returns the outstanding update to send now, if any;
    /// `Ok(None)` also when there is no log (or one without records), in which case no
    /// stream is created. Recovering a stream the manager has (and whose log did not fail)
    /// is [`StatusUpdateError::StreamExists`].
    pub fn recover(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        path: &Path,
        now: Instant,
    ) -> Result<Option<ForwardedUpdate>, StatusUpdateError> {
        let key = key(framework_id, task_id);
        // A stream whose log failed is replaced by what its log holds.
        let failed = |s: &Stream| s.log.as_ref().is_some_and(StreamLog::failed);
        if self.streams.get(&key).is_some_and(|s| !failed(s)) {
            return Err(StatusUpdateError::StreamExists {
                framework_id: framework_id.value.clone(),
                task_id: task_id.value.clone(),
            });
        }
        let Some((state, log)) = StreamLog::recover(path, task_id)? else {
            self.streams.remove(&key);
            return Ok(None);
        };
        let mut stream = Stream {
            state,
            checkpoint: Some(log.path().to_path_buf()),
            log: Some(log),
            retry: None,
        };
        let forwarded = stream.send_head(framework_id, &self.policy, now);
        self.streams.insert(key, stream);
        Ok(forwarded)
    }

    /// The outstanding updates whose retry time has come by `now`, to resend; each one's
    /// next retry is scheduled after twice its previous interval (at most the policy's
    /// `max`).
    pub fn due_for_retry(&mut self, now: Instant) -> Vec<ForwardedUpdate> {
        let policy = self.policy;
        let mut due = Vec::new();
        for (key, stream) in &mut self.streams {
            let Some(retry) = stream.retry else { continue };
            if retry.at > now {
                continue;
            }
            let Some(forwarded) = stream.forward(&key.framework_id) else {
                stream.retry = None;
                continue;
            };
            let interval = retry.interval.saturating_mul(2).min(policy.max);
            stream.retry = Retry::after(now, interval);
            due.push(forwarded);
        }
        due
    }

    /// When [`TaskStatusUpdateManager::due_for_retry`] next has something to resend.
    pub fn next_retry(&self) -> Option<Instant> {
        self.streams
            .values()
            .filter_map(|s| s.retry.map(|r| r.at))
            .min()
    }

    /// Every outstanding update, to resend now (e.g. after the agent re-registers with a
    /// new master); each one's retry schedule restarts from the initial interval.
    pub fn resend_all(&mut self, now: Instant) -> Vec<ForwardedUpdate> {
        let policy = self.policy;
        self.streams
            .iter_mut()
            .filter_map(|(key, stream)| stream.send_head(&key.framework_id, &policy, now))
            .collect()
    }

    /// The stream of a task, if the manager has one.
    pub fn stream(&self, framework_id: &FrameworkId, task_id: &TaskId) -> Option<&StreamState> {
        self.streams
            .get(&key(framework_id, task_id))
            .map(|s| &s.state)
    }

    /// Every stream's key.
    pub fn streams(&self) -> impl Iterator<Item = &StreamKey> {
        self.streams.keys()
    }

    /// Removes a terminated stream (its terminal update acknowledged), and its log file.
    pub fn remove(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
    ) -> Result<(), StatusUpdateError> {
        let key = key(framework_id, task_id);
        let stream = self
            .streams
            .get(&key)
            .ok_or_else(|| StatusUpdateError::UnknownStream {
                framework_id: framework_id.value.clone(),
                task_id: task_id.value.clone(),
            })?;
        if !stream.state.is_terminated() {
            return Err(StatusUpdateError::NotTerminated {
                task_id: task_id.value.clone(),
            });
        }
        if let Some(stream) = self.streams.remove(&key) {
            if let Some(log) = stream.log {
                log.remove()?;
            }
        }
        Ok(())
    }

    /// Forgets every stream of a framework (in memory only; the agent garbage-collects
    /// the framework's checkpoint directory), as Mesos does when a framework is removed.
    pub fn remove_framework(&mut self, framework_id: &FrameworkId) {
        self.streams.retain(|k, _| k.framework_id != *framework_id);
    }
}

#[cfg(test)]
mod tests;
