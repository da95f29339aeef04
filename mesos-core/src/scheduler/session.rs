//! The async v1 scheduler client: a framework's subscription kept alive.
//!
//! [`Session::start`] subscribes at the master its [`MasterDetector`] finds and yields
//! [`SessionEvent`]s: every event of the master's stream, and when the stream is lost
//! (broken, ended, or silent for longer than `max_missed_heartbeats` heartbeats) a
//! `Disconnected`, after which it detects the master again and re-subscribes with backoff,
//! with the framework id it was given, so the master sees a failover and the framework keeps
//! its tasks. A refusal the master means (a 4xx to SUBSCRIBE) or an ERROR event ends the
//! session with an `Error`.
//!
//! Calls go out in order through one sender, to the master holding the subscription, with
//! its stream id and the framework id filled in.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, watch};

use super::client::{ClientError, EventStream, SchedulerClient};
use super::detector::MasterDetector;
use crate::http::negotiate::Format;
use crate::proto::mesos::v1::scheduler::{call, event, Call, Event};
use crate::proto::mesos::v1::{FrameworkId, FrameworkInfo};

/// How a session subscribes and when it gives up on a master.
#[derive(Debug, Clone)]
pub struct SessionConfig {
    /// The framework to subscribe; its `id`, when set, makes the subscription a failover.
    pub framework: FrameworkInfo,
    /// Roles whose offers are suppressed from the start.
    pub suppressed_roles: Vec<String>,
    /// The encoding of calls and events.
    pub format: Format,
    /// The first pause after a failed subscription; it doubles up to `backoff_max`.
    pub backoff_min: Duration,
    /// The longest pause between two subscription attempts.
    pub backoff_max: Duration,
    /// How many heartbeat intervals may pass without any event before the master is taken
    /// to be gone.
    pub max_missed_heartbeats: u32,
}

impl SessionConfig {
    /// A configuration for `framework` with the defaults: protobuf, backoff from 100 ms to
    /// 10 s, five missed heartbeats.
    pub fn new(framework: FrameworkInfo) -> SessionConfig {
        SessionConfig {
            framework,
            suppressed_roles: Vec::new(),
            format: Format::Protobuf,
            backoff_min: Duration::from_millis(100),
            backoff_max: Duration::from_secs(10),
            max_missed_heartbeats: 5,
        }
    }
}

/// What a session tells its owner.
#[derive(Debug, Clone, PartialEq)]
pub enum SessionEvent {
    /// Subscribed at the master at `leader` (`host:port`); its SUBSCRIBED event follows.
    Connected {
        /// The master holding the subscription.
        leader: String,
    },
    /// An event of the master's stream.
    Event(Box<Event>),
    /// The subscription was lost; the session is subscribing again.
    Disconnected {
        /// Why it was lost.
        reason: String,
    },
    /// The session is over for good: the master refused the subscription or sent ERROR
    /// (which is also delivered as an `Event` before this).
    Error {
        /// The master's reason.
        message: String,
    },
}

/// Why a call could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The session has no subscription right now (it is reconnecting, or over).
    #[error("not subscribed to a master")]
    NotSubscribed,
    /// The session has ended.
    #[error("the scheduler session has ended")]
    Closed,
    /// The master refused the call or could not be reached.
    #[error(transparent)]
    Client(#[from] ClientError),
}

/// Where calls go: the subscription in force, if any.
#[derive(Debug, Clone, Default)]
struct Subscribed {
    leader: String,
    stream_id: String,
    framework_id: Option<FrameworkId>,
}

type Reply = Option<oneshot::Sender<Result<(), CallError>>>;

/// A running session; cheap to clone. Dropping every clone does not end it: [`close`]
/// does.
///
/// [`close`]: Session::close
#[derive(Debug, Clone)]
pub struct Session {
    calls: mpsc::UnboundedSender<(Call, Reply)>,
    subscribed: watch::Receiver<Option<Subscribed>>,
    closed: Arc<watch::Sender<bool>>,
    framework: Arc<Mutex<FrameworkInfo>>,
}

impl Session {
    /// Starts subscribing on the current tokio runtime; the events arrive on the returned
    /// receiver, which ends when the session does.
    pub fn start(
        detector: Arc<dyn MasterDetector>,
        config: SessionConfig,
    ) -> (Session, mpsc::UnboundedReceiver<SessionEvent>) {
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (calls_tx, calls_rx) = mpsc::unbounded_channel();
        let (subscribed_tx, subscribed_rx) = watch::channel(None);
        let (closed_tx, closed_rx) = watch::channel(false);
        let framework = Arc::new(Mutex::new(config.framework.clone()));
        let client = SchedulerClient::new(config.format);
        let closed_tx = Arc::new(closed_tx);
        let session = Session {
            calls: calls_tx,
            subscribed: subscribed_rx.clone(),
            closed: closed_tx.clone(),
            framework: framework.clone(),
        };
        let subscriber = Subscriber {
            detector,
            client: client.clone(),
            config,
            framework: framework.clone(),
            subscribed: subscribed_tx,
            events: events_tx,
            closed: closed_rx.clone(),
            close: closed_tx,
        };
        tokio::spawn(subscriber.run());
        tokio::spawn(send_calls(
            client,
            calls_rx,
            subscribed_rx,
            closed_rx,
            framework,
        ));
        (session, events_rx)
    }

    /// Queues `call` for the master and returns at once; it is dropped (with a warning) if
    /// no subscription holds when its turn comes, as Mesos' driver drops calls while
    /// disconnected. Errors only when the session has ended.
    pub fn send(&self, call: Call) -> Result<(), CallError> {
        self.calls.send((call, None)).map_err(|_| CallError::Closed)
    }

    /// Sends `call` in its turn and waits for the master's answer.
    pub async fn call(&self, call: Call) -> Result<(), CallError> {
        let (tx, rx) = oneshot::channel();
        self.calls
            .send((call, Some(tx)))
            .map_err(|_| CallError::Closed)?;
        rx.await.map_err(|_| CallError::Closed)?
    }

    /// The framework's id, once a master has given or confirmed one.
    pub fn framework_id(&self) -> Option<FrameworkId> {
        self.framework.lock().expect("framework lock").id.clone()
    }

    /// Whether a subscription holds now.
    pub fn is_subscribed(&self) -> bool {
        self.subscribed.borrow().is_some()
    }

    /// Ends the session: the stream is dropped, queued calls fail, nothing is retried.
    /// The master keeps the framework for its failover timeout.
    pub fn close(&self) {
        self.closed.send_replace(true);
    }
}

/// The subscription loop's state.
struct Subscriber {
    detector: Arc<dyn MasterDetector>,
    client: SchedulerClient,
    config: SessionConfig,
    framework: Arc<Mutex<FrameworkInfo>>,
    subscribed: watch::Sender<Option<Subscribed>>,
    events: mpsc::UnboundedSender<SessionEvent>,
    closed: watch::Receiver<bool>,
    close: Arc<watch::Sender<bool>>,
}

/// How a pause between two subscriptions ended.
enum Pause {
    /// It lasted its time.
    Over,
    /// A new leader was detected.
    NewLeader,
    /// The session was closed.
    Closed,
}

/// How one subscription ended.
enum Ended {
    /// Lost; subscribe again.
    Lost(String),
    /// Over for good.
    Fatal(String),
    /// The session was closed or nobody listens any more.
    Closed,
}

impl Subscriber {
    async fn run(mut self) {
        let mut backoff = self.config.backoff_min;
        let mut failed: Option<String> = None;
        loop {
            let ended = match self.detector.detect(failed.as_deref()).await {
                Err(e) => Ended::Fatal(e.to_string()),
                Ok(endpoint) => {
                    let ended = self.subscribe_once(&endpoint, &mut backoff).await;
                    failed = Some(endpoint);
                    ended
                }
            };
            self.subscribed.send_replace(None);
            match ended {
                Ended::Closed => return,
                Ended::Fatal(message) => {
                    let _ = self.events.send(SessionEvent::Error { message });
                    self.close.send_replace(true);
                    return;
                }
                Ended::Lost(reason) => {
                    tracing::debug!("scheduler subscription lost: {reason}");
                    if self
                        .events
                        .send(SessionEvent::Disconnected { reason })
                        .is_err()
                    {
                        return;
                    }
                }
            }
            let pause = backoff;
            backoff = (backoff * 2).min(self.config.backoff_max);
            match self.pause(pause, failed.as_deref()).await {
                Pause::Closed => return,
                Pause::NewLeader => backoff = self.config.backoff_min,
                Pause::Over => {}
            }
        }
    }

    /// Waits `pause` before subscribing again, cut short when a leader other than
    /// `failed` is detected or the session is closed.
    async fn pause(&mut self, pause: Duration, failed: Option<&str>) -> Pause {
        if *self.closed.borrow() {
            return Pause::Closed;
        }
        let detector = Arc::clone(&self.detector);
        tokio::select! {
            _ = tokio::time::sleep(pause) => Pause::Over,
            _ = detector.leader_changed(failed) => Pause::NewLeader,
            _ = self.closed.wait_for(|closed| *closed) => Pause::Closed,
        }
    }

    fn subscribe_call(&self) -> Call {
        let framework = self.framework.lock().expect("framework lock").clone();
        Call {
            framework_id: framework.id.clone(),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: framework,
                suppressed_roles: self.config.suppressed_roles.clone(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    async fn subscribe_once(&mut self, endpoint: &str, backoff: &mut Duration) -> Ended {
        let call = self.subscribe_call();
        let subscription = tokio::select! {
            result = self.client.subscribe(endpoint, &call) => result,
            _ = self.closed.wait_for(|closed| *closed) => return Ended::Closed,
        };
        let subscription = match subscription {
            Ok(subscription) => subscription,
            Err(e) if e.is_retryable() => return Ended::Lost(e.to_string()),
            Err(e) => return Ended::Fatal(e.to_string()),
        };
        *backoff = self.config.backoff_min;
        let leader = subscription.leader.clone();
        let connected = SessionEvent::Connected {
            leader: leader.clone(),
        };
        if self.events.send(connected).is_err() {
            return Ended::Closed;
        }
        let mut current = Subscribed {
            leader,
            stream_id: subscription.stream_id,
            framework_id: None,
        };
        self.read_events(subscription.events, &mut current).await
    }

    async fn read_events(&mut self, mut events: EventStream, current: &mut Subscribed) -> Ended {
        let mut silence: Option<Duration> = None;
        loop {
            let next = async {
                match silence {
                    Some(limit) => tokio::time::timeout(limit, events.next_event()).await,
                    None => Ok(events.next_event().await),
                }
            };
            let event = tokio::select! {
                next = next => next,
                _ = self.closed.wait_for(|closed| *closed) => return Ended::Closed,
            };
            let event = match event {
                Err(_) => {
                    return Ended::Lost(format!(
                        "no event from the master for {:?} (missed heartbeats)",
                        silence.unwrap_or_default()
                    ))
                }
                Ok(Err(e)) => return Ended::Lost(e.to_string()),
                Ok(Ok(None)) => return Ended::Lost("the master closed the event stream".into()),
                Ok(Ok(Some(event))) => event,
            };
            let kind = event
                .r#type
                .and_then(|t| event::Type::try_from(t).ok())
                .unwrap_or(event::Type::Unknown);
            match kind {
                event::Type::Subscribed => {
                    if let Some(subscribed) = &event.subscribed {
                        self.framework.lock().expect("framework lock").id =
                            Some(subscribed.framework_id.clone());
                        current.framework_id = Some(subscribed.framework_id.clone());
                        silence = subscribed
                            .heartbeat_interval_seconds
                            .filter(|s| s.is_finite() && *s > 0.0)
                            .map(|s| {
                                Duration::from_secs_f64(s)
                                    * self.config.max_missed_heartbeats.max(1)
                            });
                        self.subscribed.send_replace(Some(current.clone()));
                    }
                }
                event::Type::Error => {
                    let message = event
                        .error
                        .as_ref()
                        .map(|e| e.message.clone())
                        .unwrap_or_default();
                    let _ = self.events.send(SessionEvent::Event(Box::new(event)));
                    return Ended::Fatal(message);
                }
                _ => {}
            }
            if self
                .events
                .send(SessionEvent::Event(Box::new(event)))
                .is_err()
            {
                return Ended::Closed;
            }
        }
    }
}

/// Sends the queued calls one at a time, in order, to the subscription in force.
async fn send_calls(
    client: SchedulerClient,
    mut calls: mpsc::UnboundedReceiver<(Call, Reply)>,
    subscribed: watch::Receiver<Option<Subscribed>>,
    mut closed: watch::Receiver<bool>,
    framework: Arc<Mutex<FrameworkInfo>>,
) {
    loop {
        let next = tokio::select! {
            next = calls.recv() => next,
            _ = closed.wait_for(|closed| *closed) => None,
        };
        let Some((mut call, reply)) = next else {
            break;
        };
        let current = subscribed.borrow().clone();
        let result = match current {
            None => Err(CallError::NotSubscribed),
            Some(current) => {
                if call.framework_id.is_none() {
                    call.framework_id = current.framework_id.clone();
                }
                if let Some(update) = &call.update_framework {
                    *framework.lock().expect("framework lock") = update.framework_info.clone();
                }
                client
                    .send(&current.leader, &current.stream_id, &call)
                    .await
                    .map_err(CallError::from)
            }
        };
        match reply {
            Some(reply) => {
                let _ = reply.send(result);
            }
            None => {
                if let Err(e) = result {
                    tracing::warn!("dropped a {:?} call: {e}", call_type(&call));
                }
            }
        }
    }
    calls.close();
    while let Some((_, reply)) = calls.recv().await {
        if let Some(reply) = reply {
            let _ = reply.send(Err(CallError::Closed));
        }
    }
}

/// The type of `call`, `UNKNOWN` when unset.
pub fn call_type(call: &Call) -> call::Type {
    call.r#type
        .and_then(|t| call::Type::try_from(t).ok())
        .unwrap_or(call::Type::Unknown)
}
