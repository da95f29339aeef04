//! An executor's subscription to its agent, kept alive as Mesos' executor library keeps it.
//!
//! [`ExecutorConnection`] subscribes, yields the agent's events and sends updates. It keeps
//! the updates the agent has not acknowledged (by uuid) and the tasks none of whose updates
//! were acknowledged, and when the stream breaks:
//! - if the framework checkpoints, it subscribes again with backoff (doubling, capped at
//!   `MESOS_SUBSCRIPTION_BACKOFF_MAX`) until `MESOS_RECOVERY_TIMEOUT` passes, sending the
//!   unacknowledged updates and tasks so a restarted agent learns what it missed;
//! - otherwise it reports [`ConnectionError::AgentGone`]: the executor must shut down.
//!
//! It knows nothing about what the executor runs, so any executor can be built on it.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::time::Instant;

use super::client::{event_type, ClientError, EventStream, ExecutorClient};
use super::env::ExecutorEnvironment;
use crate::proto::mesos::v1::executor::{call, event, Call, Event};
use crate::proto::mesos::v1::{TaskInfo, TaskStatus};

/// The first pause after a failed subscription attempt; it doubles up to the cap.
const INITIAL_BACKOFF: Duration = Duration::from_millis(100);

/// When to give up on an agent, and how fast to retry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReconnectPolicy {
    /// Whether to wait for a restarted agent at all (the framework checkpoints).
    pub checkpoint: bool,
    /// How long to keep trying after the connection broke (checkpointing only).
    pub recovery_timeout: Duration,
    /// The cap of the pause between two attempts (the pause starts at 100ms and doubles;
    /// it is never shorter than that first 100ms).
    pub backoff_max: Duration,
}

impl ReconnectPolicy {
    /// The policy Mesos' environment describes.
    pub fn from_environment(env: &ExecutorEnvironment) -> ReconnectPolicy {
        ReconnectPolicy {
            checkpoint: env.checkpoint,
            recovery_timeout: env.recovery_timeout.as_std(),
            backoff_max: env.subscription_backoff_max.as_std(),
        }
    }

    /// How long the first subscription may keep failing before the executor gives up:
    /// the recovery timeout when checkpointing (the agent may be restarting), otherwise one
    /// backoff cap (the agent that started us should be there).
    pub fn first_subscription_timeout(&self) -> Duration {
        if self.checkpoint {
            self.recovery_timeout
        } else {
            self.backoff_max
        }
    }
}

/// Why the connection to the agent is over for good.
#[derive(Debug, thiserror::Error)]
pub enum ConnectionError {
    /// The agent could not be subscribed to within the time allowed.
    #[error("could not subscribe to the agent within {waited:?}: {last}")]
    Unreachable {
        /// How long it was tried.
        waited: Duration,
        /// The last attempt's failure.
        last: ClientError,
    },
    /// The agent refused the subscription in a way retrying cannot fix.
    #[error("the agent refused the subscription: {0}")]
    Refused(ClientError),
    /// The connection broke and the framework does not checkpoint, so the executor must
    /// shut down (as Mesos' executors do).
    #[error("the connection to the agent broke and the framework does not checkpoint: {reason}")]
    AgentGone {
        /// What broke.
        reason: String,
    },
}

/// The updates and tasks the agent has not acknowledged yet, as a SUBSCRIBE repeats them.
#[derive(Debug, Default, Clone)]
pub struct Unacknowledged {
    /// Updates by uuid, in the order they were sent.
    updates: Vec<call::Update>,
    /// Launched tasks none of whose updates were acknowledged, by task id.
    tasks: BTreeMap<String, TaskInfo>,
}

impl Unacknowledged {
    /// Remembers a launched task until one of its updates is acknowledged.
    pub fn task_launched(&mut self, task: TaskInfo) {
        self.tasks.insert(task.task_id.value.clone(), task);
    }

    /// Remembers an update until it is acknowledged (an update without a uuid is never
    /// acknowledged, so it is not kept).
    pub fn update_sent(&mut self, status: &TaskStatus) {
        if status.uuid.is_some() {
            self.updates.push(call::Update {
                status: status.clone(),
            });
        }
    }

    /// Forgets the update with `uuid` of `task_id`, and the task, which the agent now
    /// knows. Returns whether such an update was waiting.
    pub fn acknowledged(&mut self, task_id: &str, uuid: &[u8]) -> bool {
        self.tasks.remove(task_id);
        let before = self.updates.len();
        self.updates.retain(|update| {
            update.status.task_id.value != task_id || update.status.uuid.as_deref() != Some(uuid)
        });
        self.updates.len() != before
    }

    /// The updates waiting for an acknowledgement, oldest first.
    pub fn updates(&self) -> &[call::Update] {
        &self.updates
    }

    /// The tasks none of whose updates were acknowledged.
    pub fn tasks(&self) -> impl Iterator<Item = &TaskInfo> {
        self.tasks.values()
    }

    /// The SUBSCRIBE body that tells an agent about all of it.
    pub fn to_subscribe(&self) -> call::Subscribe {
        call::Subscribe {
            unacknowledged_tasks: self.tasks.values().cloned().collect(),
            unacknowledged_updates: self.updates.clone(),
        }
    }
}

/// A subscription to the agent that survives agent restarts when the framework checkpoints.
#[derive(Debug)]
pub struct ExecutorConnection {
    client: ExecutorClient,
    policy: ReconnectPolicy,
    stream: Option<EventStream>,
    unacknowledged: Unacknowledged,
    /// When the stream broke, while re-subscribing.
    broken_since: Option<Instant>,
    /// The pause before the next attempt while re-subscribing.
    backoff: Duration,
    /// Told why, each time the stream breaks and re-subscribing begins.
    disconnects: Option<tokio::sync::mpsc::UnboundedSender<String>>,
}

impl ExecutorConnection {
    /// Subscribes with `client`, retrying with backoff for
    /// [`ReconnectPolicy::first_subscription_timeout`]. The SUBSCRIBED event is the first
    /// [`next_event`](Self::next_event).
    pub async fn subscribe(
        client: ExecutorClient,
        policy: ReconnectPolicy,
    ) -> Result<ExecutorConnection, ConnectionError> {
        let mut connection = ExecutorConnection {
            client,
            policy,
            stream: None,
            unacknowledged: Unacknowledged::default(),
            broken_since: None,
            backoff: INITIAL_BACKOFF,
            disconnects: None,
        };
        let timeout = policy.first_subscription_timeout();
        connection.resubscribe(Instant::now(), timeout).await?;
        Ok(connection)
    }

    /// The connection the environment describes: agent, ids and reconnection policy.
    pub async fn from_environment(
        env: &ExecutorEnvironment,
    ) -> Result<ExecutorConnection, ConnectionError> {
        let client = ExecutorClient::new(
            &env.agent_endpoint,
            env.domain_socket.as_deref(),
            env.framework_id.clone(),
            env.executor_id.clone(),
        );
        ExecutorConnection::subscribe(client, ReconnectPolicy::from_environment(env)).await
    }

    /// The client calls go through.
    pub fn client(&self) -> &ExecutorClient {
        &self.client
    }

    /// A channel told why each time the stream breaks and a checkpointing executor starts
    /// re-subscribing (while [`next_event`](Self::next_event) is still busy with it), so a
    /// driver can report the disconnection before the agent is back. Replaces an earlier one.
    pub fn notify_disconnects(&mut self) -> tokio::sync::mpsc::UnboundedReceiver<String> {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        self.disconnects = Some(sender);
        receiver
    }

    /// Whether an event stream is open (false while re-subscribing).
    pub fn is_subscribed(&self) -> bool {
        self.stream.is_some()
    }

    /// What the agent has not acknowledged yet.
    pub fn unacknowledged(&self) -> &Unacknowledged {
        &self.unacknowledged
    }

    /// The next event from the agent. A LAUNCH is remembered as an unacknowledged task and
    /// an ACKNOWLEDGED forgets its update before the event is returned. When the stream
    /// breaks, a checkpointing executor re-subscribes here (the next event is then a new
    /// SUBSCRIBED); otherwise [`ConnectionError::AgentGone`] is returned, and again on
    /// every later call. Cancel safe: a re-subscription in progress resumes on the next call.
    pub async fn next_event(&mut self) -> Result<Event, ConnectionError> {
        loop {
            let broken = match self.stream.as_mut() {
                Some(stream) => match stream.next_event().await {
                    Ok(Some(event)) => return Ok(self.observe(event)),
                    Ok(None) => "the agent closed the event stream".to_string(),
                    Err(error) => error.to_string(),
                },
                None => "the event stream is closed".to_string(),
            };
            self.stream = None;
            if !self.policy.checkpoint {
                return Err(ConnectionError::AgentGone { reason: broken });
            }
            let since = *self.broken_since.get_or_insert_with(|| {
                log_line!("Disconnected from the agent ({broken}); re-subscribing");
                if let Some(disconnects) = &self.disconnects {
                    let _ = disconnects.send(broken.clone());
                }
                Instant::now()
            });
            self.resubscribe(since, self.policy.recovery_timeout)
                .await?;
        }
    }

    /// Sends `status` as an UPDATE, remembering it until the agent acknowledges it. While
    /// re-subscribing it is only remembered, and when the agent cannot be reached it stays
    /// remembered: either way the next SUBSCRIBE delivers it.
    pub async fn update(&mut self, status: TaskStatus) -> Result<(), ClientError> {
        self.unacknowledged.update_sent(&status);
        if !self.is_subscribed() {
            return Ok(());
        }
        let call = Call {
            update: Some(call::Update { status }),
            ..self.client.call(call::Type::Update)
        };
        self.client.send(&call).await
    }

    /// Sends a framework message (MESSAGE) to the scheduler; Mesos does not promise delivery.
    pub async fn message(&mut self, data: Vec<u8>) -> Result<(), ClientError> {
        let call = Call {
            message: Some(call::Message { data }),
            ..self.client.call(call::Type::Message)
        };
        self.client.send(&call).await
    }

    fn observe(&mut self, event: Event) -> Event {
        match event_type(&event) {
            event::Type::Subscribed => {
                self.broken_since = None;
                self.backoff = INITIAL_BACKOFF;
            }
            event::Type::Launch => {
                if let Some(launch) = &event.launch {
                    self.unacknowledged.task_launched(launch.task.clone());
                }
            }
            event::Type::Acknowledged => {
                if let Some(ack) = &event.acknowledged {
                    self.unacknowledged
                        .acknowledged(&ack.task_id.value, &ack.uuid);
                }
            }
            _ => {}
        }
        event
    }

    /// Tries to subscribe until it works or `timeout` has passed since `since`.
    async fn resubscribe(
        &mut self,
        since: Instant,
        timeout: Duration,
    ) -> Result<(), ConnectionError> {
        loop {
            match self
                .client
                .subscribe(self.unacknowledged.to_subscribe())
                .await
            {
                Ok(stream) => {
                    self.stream = Some(stream);
                    return Ok(());
                }
                Err(error) if !error.is_retryable() => {
                    return Err(ConnectionError::Refused(error));
                }
                Err(error) => {
                    let waited = since.elapsed();
                    if waited >= timeout {
                        return Err(ConnectionError::Unreachable {
                            waited,
                            last: error,
                        });
                    }
                    let pause = self.backoff.min(timeout - waited);
                    self.backoff =
                        (self.backoff * 2).min(self.policy.backoff_max.max(INITIAL_BACKOFF));
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::TaskId;

    fn status(task: &str, uuid: u8) -> TaskStatus {
        TaskStatus {
            task_id: TaskId {
                value: task.to_string(),
            },
            uuid: Some(vec![uuid; 16]),
            ..Default::default()
        }
    }

    fn task(id: &str) -> TaskInfo {
        TaskInfo {
            task_id: TaskId {
                value: id.to_string(),
            },
            ..Default::default()
        }
    }

    #[test]
    fn an_acknowledgement_forgets_its_update_and_task() {
        let mut pending = Unacknowledged::default();
        pending.task_launched(task("a"));
        pending.update_sent(&status("a", 1));
        pending.update_sent(&status("a", 2));
        let subscribe = pending.to_subscribe();
        assert_eq!(subscribe.unacknowledged_tasks.len(), 1);
        assert_eq!(subscribe.unacknowledged_updates.len(), 2);

        assert!(pending.acknowledged("a", &[1; 16]));
        assert_eq!(pending.tasks().count(), 0);
        assert_eq!(pending.updates().len(), 1);
        assert_eq!(pending.updates()[0].status.uuid, Some(vec![2; 16]));

        assert!(!pending.acknowledged("a", &[1; 16]), "already forgotten");
        assert!(!pending.acknowledged("b", &[2; 16]), "another task's uuid");
        assert!(pending.acknowledged("a", &[2; 16]));
        assert!(pending.updates().is_empty());
    }

    #[test]
    fn an_update_without_uuid_is_not_kept() {
        let mut pending = Unacknowledged::default();
        pending.update_sent(&TaskStatus::default());
        assert!(pending.updates().is_empty());
    }

    #[test]
    fn first_subscription_waits_longer_when_checkpointing() {
        let policy = ReconnectPolicy {
            checkpoint: true,
            recovery_timeout: Duration::from_secs(900),
            backoff_max: Duration::from_secs(2),
        };
        assert_eq!(
            policy.first_subscription_timeout(),
            Duration::from_secs(900)
        );
        let policy = ReconnectPolicy {
            checkpoint: false,
            ..policy
        };
        assert_eq!(policy.first_subscription_timeout(), Duration::from_secs(2));
    }

    #[tokio::test]
    async fn an_unreachable_agent_is_reported_after_the_timeout() {
        // A port nobody listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = ExecutorClient::new(
            &format!("127.0.0.1:{port}"),
            None,
            Default::default(),
            Default::default(),
        );
        let policy = ReconnectPolicy {
            checkpoint: false,
            recovery_timeout: Duration::from_secs(60),
            backoff_max: Duration::from_millis(300),
        };
        let started = std::time::Instant::now();
        let error = ExecutorConnection::subscribe(client, policy)
            .await
            .unwrap_err();
        assert!(
            matches!(error, ConnectionError::Unreachable { .. }),
            "{error}"
        );
        assert!(started.elapsed() >= Duration::from_millis(300));
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
