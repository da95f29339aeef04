//! The v1 scheduler library, as Apache Mesos' `mesos::v1::scheduler::Mesos` (and the Java
//! `V1Mesos` / `V0Mesos` built on it): the scheduler is told when a master is `connected`
//! and subscribes itself by sending SUBSCRIBE; every event of its stream is `received`;
//! when the master is lost it is `disconnected`, and `connected` again once a master is
//! found.
//!
//! Two ways to reach the master:
//! - [`Mesos::connect`] speaks the v1 HTTP API directly: SUBSCRIBE opens the event stream,
//!   other calls are posted on it (`V1Mesos`);
//! - [`Mesos::over_session`] subscribes the framework given at construction at once and
//!   keeps it subscribed (a [`Session`], the driver's transport), delivering SUBSCRIBED and
//!   what follows only once the scheduler has sent its own SUBSCRIBE (`V0Mesos`).
//!
//! Threading: IO runs on the library's own runtime; callbacks are made one at a time, in
//! order, on one callback thread; `send` and `reconnect` may be called from any thread,
//! including from inside a callback, and return at once. Calls made while no subscription
//! holds are dropped with a warning, as Mesos does. [`Mesos::close`] ends it all.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::client::{EventStream, SchedulerClient};
use super::detector::MasterDetector;
use super::session::{call_type, Session, SessionConfig, SessionEvent};
use crate::http::negotiate::Format;
use crate::proto::mesos::v1::scheduler::{call, event, Call, Event};
use crate::proto::mesos::v1::FrameworkInfo;

/// The shortest and longest pause before a lost master is looked for again.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(10));

/// A scheduler of the v1 library: told about the connection and handed every event.
pub trait V1Scheduler: Send + 'static {
    /// A master was found; the scheduler should SUBSCRIBE now.
    fn connected(&mut self, mesos: &Mesos);
    /// The master was lost; `connected` follows once one is found again.
    fn disconnected(&mut self, mesos: &Mesos);
    /// An event of the master's stream.
    fn received(&mut self, mesos: &Mesos, event: Event);
}

/// Why the library could not be started.
#[derive(Debug, thiserror::Error)]
pub enum LibraryError {
    /// Its IO or callback threads could not be started.
    #[error("cannot start the scheduler library's threads: {0}")]
    Threads(#[from] std::io::Error),
}

/// What the callback thread hands the scheduler.
enum Notification {
    Connected,
    Disconnected,
    Event(Box<Event>),
}

/// What a caller asks of the connection.
enum Command {
    Send(Box<Call>),
    Reconnect,
}

/// Where calls go.
enum Backend {
    /// The v1 HTTP API, driven by [`connection`].
    Http(mpsc::UnboundedSender<Command>),
    /// A session subscribed at construction, gated by [`Gate`].
    Session(Session, Arc<Mutex<Gate>>),
}

struct Inner {
    backend: Backend,
    closed: watch::Sender<bool>,
    runtime: Mutex<Option<tokio::runtime::Runtime>>,
}

impl Inner {
    /// Ends the library (see [`Mesos::close`]).
    fn close(&self) {
        self.closed.send_replace(true);
        if let Backend::Session(session, _) = &self.backend {
            session.close();
        }
        let runtime = self
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(runtime) = runtime {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.close();
    }
}

/// A running scheduler library; cheap to clone. It ends on [`close`], or when its last
/// clone is dropped (as Mesos' library ends with its destructor); the clone a callback is
/// given lasts only as long as the callback.
///
/// [`close`]: Mesos::close
#[derive(Clone)]
pub struct Mesos {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Mesos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mesos")
            .field("closed", &*self.inner.closed.borrow())
            .finish()
    }
}

impl Mesos {
    /// Starts the library over the v1 HTTP API at the master `detector` finds.
    pub fn connect(
        detector: Arc<dyn MasterDetector>,
        scheduler: impl V1Scheduler,
    ) -> Result<Mesos, LibraryError> {
        let runtime = runtime()?;
        let (commands_tx, commands_rx) = mpsc::unbounded_channel();
        let (notify, notifications) = std::sync::mpsc::channel();
        let (closed, closed_rx) = watch::channel(false);
        let mesos = Mesos {
            inner: Arc::new(Inner {
                backend: Backend::Http(commands_tx),
                closed,
                runtime: Mutex::new(None),
            }),
        };
        runtime.spawn(connection(detector, commands_rx, notify, closed_rx));
        *mesos
            .inner
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(runtime);
        mesos.start_callbacks(scheduler, notifications)?;
        Ok(mesos)
    }

    /// Starts the library over a session that subscribes `framework` (a v1 FrameworkInfo;
    /// without a `user`, the one running this process) at once, at the master `detector`
    /// finds; the scheduler sees SUBSCRIBED and the events after it once it has sent
    /// SUBSCRIBE.
    pub fn over_session(
        detector: Arc<dyn MasterDetector>,
        framework: FrameworkInfo,
        scheduler: impl V1Scheduler,
    ) -> Result<Mesos, LibraryError> {
        let mut framework = framework;
        if framework.user.is_empty() {
            framework.user = super::driver::current_user();
        }
        let runtime = runtime()?;
        let (notify, notifications) = std::sync::mpsc::channel();
        let (closed, _) = watch::channel(false);
        let (session, mut events) = {
            let _entered = runtime.enter();
            Session::start(detector, SessionConfig::new(framework))
        };
        let gate = Arc::new(Mutex::new(Gate {
            notify,
            subscribed: false,
            held: Vec::new(),
        }));
        let mesos = Mesos {
            inner: Arc::new(Inner {
                backend: Backend::Session(session, gate.clone()),
                closed,
                runtime: Mutex::new(None),
            }),
        };
        runtime.spawn(async move {
            while let Some(event) = events.recv().await {
                let mut gate = gate.lock().unwrap_or_else(|e| e.into_inner());
                if !gate.session_event(event) {
                    return;
                }
            }
        });
        *mesos
            .inner
            .runtime
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(runtime);
        mesos.start_callbacks(scheduler, notifications)?;
        Ok(mesos)
    }

    fn start_callbacks(
        &self,
        scheduler: impl V1Scheduler,
        notifications: std::sync::mpsc::Receiver<Notification>,
    ) -> Result<(), LibraryError> {
        let library = Arc::downgrade(&self.inner);
        let mut scheduler = scheduler;
        let started = std::thread::Builder::new()
            .name("mesos-v1-callbacks".into())
            .spawn(move || {
                for notification in notifications {
                    let Some(inner) = library.upgrade() else {
                        break;
                    };
                    let mesos = Mesos { inner };
                    if mesos.is_closed() {
                        break;
                    }
                    match notification {
                        Notification::Connected => scheduler.connected(&mesos),
                        Notification::Disconnected => scheduler.disconnected(&mesos),
                        Notification::Event(event) => scheduler.received(&mesos, *event),
                    }
                }
            });
        if let Err(e) = started {
            self.close();
            return Err(e.into());
        }
        Ok(())
    }

    /// Queues `call` for the master (its framework id and stream id are the scheduler's to
    /// set, as in Mesos' library; the session backend fills them in).
    pub fn send(&self, call: Call) {
        if self.is_closed() {
            tracing::warn!(
                "{:?} dropped: the scheduler library is closed",
                call_type(&call)
            );
            return;
        }
        match &self.inner.backend {
            Backend::Http(commands) => {
                let _ = commands.send(Command::Send(Box::new(call)));
            }
            Backend::Session(session, gate) => {
                if call_type(&call) == call::Type::Subscribe {
                    gate.lock().unwrap_or_else(|e| e.into_inner()).subscribe();
                } else if session.send(call).is_err() {
                    tracing::warn!("the scheduler session has ended; call dropped");
                }
            }
        }
    }

    /// Drops the connection to the master and finds one again (`disconnected`, then
    /// `connected`). The session backend keeps its subscription and does nothing.
    pub fn reconnect(&self) {
        if let Backend::Http(commands) = &self.inner.backend {
            let _ = commands.send(Command::Reconnect);
        }
    }

    /// Ends the library: the connection is dropped and no callback is made after the one
    /// running now. The framework stays registered for its failover timeout.
    pub fn close(&self) {
        self.inner.close();
    }

    fn is_closed(&self) -> bool {
        *self.inner.closed.borrow()
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, LibraryError> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("mesos-v1-library")
        .enable_all()
        .build()?)
}

/// The session backend's hold on events: nothing after SUBSCRIBED reaches the scheduler
/// until it has sent SUBSCRIBE since the last `connected`.
struct Gate {
    notify: std::sync::mpsc::Sender<Notification>,
    subscribed: bool,
    held: Vec<Event>,
}

impl Gate {
    /// Takes one session event; false once nobody listens any more.
    fn session_event(&mut self, event: SessionEvent) -> bool {
        let notification = match event {
            SessionEvent::Connected { .. } => {
                self.subscribed = false;
                self.held.clear();
                Notification::Connected
            }
            SessionEvent::Disconnected { .. } | SessionEvent::Error { .. } => {
                self.subscribed = false;
                self.held.clear();
                Notification::Disconnected
            }
            SessionEvent::Event(event) if !self.subscribed => {
                self.held.push(*event);
                return true;
            }
            SessionEvent::Event(event) => Notification::Event(event),
        };
        self.notify.send(notification).is_ok()
    }

    /// The scheduler sent SUBSCRIBE: what was held is delivered.
    fn subscribe(&mut self) {
        self.subscribed = true;
        for event in std::mem::take(&mut self.held) {
            let _ = self.notify.send(Notification::Event(Box::new(event)));
        }
    }
}

/// The HTTP backend: finds a master, tells the scheduler, and serves its calls and its
/// subscription's events until the master is lost, then starts over.
async fn connection(
    detector: Arc<dyn MasterDetector>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    notify: std::sync::mpsc::Sender<Notification>,
    mut closed: watch::Receiver<bool>,
) {
    let client = SchedulerClient::new(Format::Protobuf);
    let mut failed: Option<String> = None;
    let mut backoff = BACKOFF.0;
    loop {
        let detected = tokio::select! {
            detected = detector.detect(failed.as_deref()) => detected,
            _ = closed.wait_for(|closed| *closed) => return,
        };
        match detected {
            Err(e) => tracing::warn!("no master to connect to: {e}"),
            Ok(endpoint) => {
                if notify.send(Notification::Connected).is_err() {
                    return;
                }
                let mut connected = Connected {
                    endpoint,
                    client: &client,
                    stream: None,
                    notify: &notify,
                };
                match connected.serve(&mut commands, &mut closed).await {
                    Served::Closed => return,
                    Served::Reconnect => {
                        failed = None;
                        backoff = BACKOFF.0;
                    }
                    Served::Lost(reason) => {
                        tracing::info!("master {} lost: {reason}", connected.endpoint);
                        if connected.stream.is_some() {
                            backoff = BACKOFF.0;
                        }
                        failed = Some(connected.endpoint);
                    }
                }
                if notify.send(Notification::Disconnected).is_err() {
                    return;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = closed.wait_for(|closed| *closed) => return,
        }
        backoff = (backoff * 2).min(BACKOFF.1);
    }
}

/// How serving one master ended.
enum Served {
    Closed,
    Reconnect,
    Lost(String),
}

/// A subscription in force: where calls go and where events come from.
struct Stream {
    leader: String,
    stream_id: String,
    events: EventStream,
}

/// The connection to one master.
struct Connected<'a> {
    endpoint: String,
    client: &'a SchedulerClient,
    stream: Option<Stream>,
    notify: &'a std::sync::mpsc::Sender<Notification>,
}

/// What woke the connection up.
enum Step {
    Closed,
    Command(Option<Command>),
    Event(Result<Option<Box<Event>>, super::client::ClientError>),
}

impl Connected<'_> {
    async fn serve(
        &mut self,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        closed: &mut watch::Receiver<bool>,
    ) -> Served {
        loop {
            let step = {
                let next_event = async {
                    match self.stream.as_mut() {
                        Some(stream) => stream.events.next_event().await.map(|e| e.map(Box::new)),
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    _ = closed.wait_for(|closed| *closed) => Step::Closed,
                    command = commands.recv() => Step::Command(command),
                    event = next_event => Step::Event(event),
                }
            };
            match step {
                Step::Closed | Step::Command(None) => return Served::Closed,
                Step::Command(Some(Command::Reconnect)) => return Served::Reconnect,
                Step::Command(Some(Command::Send(call))) => {
                    if let Err(reason) = self.call(*call).await {
                        return Served::Lost(reason);
                    }
                }
                Step::Event(Ok(Some(event))) => {
                    if self.notify.send(Notification::Event(event)).is_err() {
                        return Served::Closed;
                    }
                }
                Step::Event(Ok(None)) => {
                    return Served::Lost("the master closed the event stream".into())
                }
                Step::Event(Err(e)) => return Served::Lost(e.to_string()),
            }
        }
    }

    /// Makes one call; an error is a master that cannot be reached (a refusal is logged).
    async fn call(&mut self, call: Call) -> Result<(), String> {
        let kind = call_type(&call);
        if kind == call::Type::Subscribe {
            return match self.client.subscribe(&self.endpoint, &call).await {
                Ok(subscription) => {
                    self.stream = Some(Stream {
                        leader: subscription.leader,
                        stream_id: subscription.stream_id,
                        events: subscription.events,
                    });
                    Ok(())
                }
                Err(e) if e.is_retryable() => Err(e.to_string()),
                Err(e) => {
                    tracing::error!("SUBSCRIBE refused: {e}");
                    let error = Event {
                        r#type: Some(event::Type::Error as i32),
                        error: Some(event::Error {
                            message: e.to_string(),
                        }),
                        ..Default::default()
                    };
                    let _ = self.notify.send(Notification::Event(Box::new(error)));
                    Ok(())
                }
            };
        }
        let Some(stream) = &self.stream else {
            tracing::warn!("{kind:?} dropped: not subscribed");
            return Ok(());
        };
        match self
            .client
            .send(&stream.leader, &stream.stream_id, &call)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) if e.is_retryable() => Err(e.to_string()),
            Err(e) => {
                tracing::warn!("{kind:?} refused by the master: {e}");
                Ok(())
            }
        }
    }
}
