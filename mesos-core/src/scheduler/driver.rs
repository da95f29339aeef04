//! The callback scheduler API Mesos framework authors know: a [`Scheduler`] whose methods
//! the [`SchedulerDriver`] calls as the master's events arrive, and the driver's methods to
//! answer them. It is built on the async [`Session`]: one path, whichever API a framework
//! uses (the C, Python and Java bindings sit on this driver).
//!
//! Threading, as in Mesos: the driver runs its own IO threads; callbacks are made one at a
//! time, in event order, on one callback thread; driver methods may be called from any
//! thread, including from inside a callback, and return at once (the call is queued for the
//! master). They return the driver's [`Status`]: `DriverRunning` while it runs, otherwise the
//! status that explains why nothing was done.
//!
//! A panic inside a callback aborts the driver: the panic's message goes to
//! [`Scheduler::error`], `join` returns `DriverAborted`, and no further callback is made.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::sync::mpsc;

use super::detector::{detector_for, DetectorError, MasterDetector};
use super::session::{Session, SessionConfig, SessionEvent};
use crate::http::negotiate::Format;
use crate::proto::mesos::v1::scheduler::{call, event, Call, Event, OfferConstraints};
use crate::proto::mesos::v1::{
    offer, AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId,
    Request, Status, TaskId, TaskInfo, TaskStatus,
};

/// How long `stop()` waits for the master to confirm a TEARDOWN.
const TEARDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A framework's scheduler: the driver calls these as the master's events arrive. Every
/// method has a do-nothing default except the ones no framework can do without.
#[allow(unused_variables)]
pub trait Scheduler: Send + 'static {
    /// The framework subscribed for the first time with this driver; `framework_id` is the
    /// id the master gave it (or confirmed, on failover).
    fn registered(
        &mut self,
        driver: &SchedulerDriver,
        framework_id: &FrameworkId,
        master: &MasterInfo,
    ) {
    }

    /// The framework subscribed again after the driver lost its master.
    fn reregistered(&mut self, driver: &SchedulerDriver, master: &MasterInfo) {}

    /// The driver lost its master; it is subscribing again.
    fn disconnected(&mut self, driver: &SchedulerDriver) {}

    /// Resources offered to the framework.
    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>);

    /// An offer is no longer valid (it timed out, its agent was lost, another framework
    /// got it).
    fn offer_rescinded(&mut self, driver: &SchedulerDriver, offer_id: &OfferId) {}

    /// A task's status changed. With implicit acknowledgements the driver acknowledges the
    /// update once this returns; otherwise call
    /// [`SchedulerDriver::acknowledge_status_update`].
    fn status_update(&mut self, driver: &SchedulerDriver, status: &TaskStatus);

    /// An executor sent the framework a message.
    fn framework_message(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        data: &[u8],
    ) {
    }

    /// An agent was lost (Mesos' classic name).
    fn slave_lost(&mut self, driver: &SchedulerDriver, agent_id: &AgentId) {}

    /// An executor ended or was lost; `status` is its exit status when known.
    fn executor_lost(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        status: i32,
    ) {
    }

    /// An unrecoverable error: the master's ERROR, a refused subscription, or a panic in
    /// a callback. The driver is aborted when this returns.
    fn error(&mut self, driver: &SchedulerDriver, message: &str) {}
}

/// How a driver talks to the master.
#[derive(Debug, Clone)]
pub struct DriverOptions {
    /// Acknowledge each status update when `status_update` returns (Mesos' default), or
    /// leave it to [`SchedulerDriver::acknowledge_status_update`].
    pub implicit_acknowledgements: bool,
    /// The encoding of calls and events.
    pub format: Format,
    /// Backoff and heartbeat settings of the underlying session; its `framework` is
    /// replaced by the driver's.
    pub session: SessionConfig,
}

impl Default for DriverOptions {
    fn default() -> DriverOptions {
        DriverOptions {
            implicit_acknowledgements: true,
            format: Format::Protobuf,
            session: SessionConfig::new(FrameworkInfo::default()),
        }
    }
}

/// Why a driver could not be made.
#[derive(Debug, thiserror::Error)]
pub enum DriverError {
    /// The master specification is invalid.
    #[error(transparent)]
    Detector(#[from] DetectorError),
    /// The driver's IO threads could not be started.
    #[error("cannot start the driver's runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// What the driver is doing now, with what it runs on.
struct DriverState {
    status: Status,
    session: Option<Session>,
    callbacks: Option<JoinHandle<()>>,
    /// The last message given to `error`, for callers that ask why the driver aborted.
    error: Option<String>,
}

struct Shared {
    framework: FrameworkInfo,
    detector: Arc<dyn MasterDetector>,
    options: DriverOptions,
    runtime: DriverRuntime,
    scheduler: Mutex<Option<Box<dyn Scheduler>>>,
    state: Mutex<DriverState>,
    changed: Condvar,
}

/// The driver's IO runtime, shut down without waiting when the last driver clone goes
/// (which may happen on any thread, even one of a runtime).
struct DriverRuntime(Option<tokio::runtime::Runtime>);

impl DriverRuntime {
    fn get(&self) -> &tokio::runtime::Runtime {
        self.0
            .as_ref()
            .expect("the runtime lives as long as the driver")
    }
}

impl Drop for DriverRuntime {
    fn drop(&mut self) {
        if let Some(runtime) = self.0.take() {
            runtime.shutdown_background();
        }
    }
}

/// A scheduler driver: connects a [`Scheduler`] to the master. Cheap to clone; every clone
/// drives the same framework.
#[derive(Clone)]
pub struct SchedulerDriver {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for SchedulerDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchedulerDriver")
            .field("framework", &self.shared.framework.name)
            .field("status", &self.status())
            .finish()
    }
}

impl SchedulerDriver {
    /// A driver for `framework` at `master` (`host:port` or a list of them) with Mesos'
    /// defaults (implicit acknowledgements, protobuf). Nothing happens until
    /// [`start`](Self::start).
    pub fn new(
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        master: &str,
    ) -> Result<SchedulerDriver, DriverError> {
        Self::with_options(
            scheduler,
            framework,
            detector_for(master)?,
            DriverOptions::default(),
        )
    }

    /// A driver finding its master through `detector`, with `options`. A framework without
    /// a `user` gets the user running this process.
    pub fn with_options(
        scheduler: impl Scheduler,
        framework: FrameworkInfo,
        detector: Arc<dyn MasterDetector>,
        options: DriverOptions,
    ) -> Result<SchedulerDriver, DriverError> {
        let mut framework = framework;
        if framework.user.is_empty() {
            framework.user = current_user();
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mesos-scheduler-driver")
            .enable_all()
            .build()?;
        Ok(SchedulerDriver {
            shared: Arc::new(Shared {
                framework,
                detector,
                options,
                runtime: DriverRuntime(Some(runtime)),
                scheduler: Mutex::new(Some(Box::new(scheduler))),
                state: Mutex::new(DriverState {
                    status: Status::DriverNotStarted,
                    session: None,
                    callbacks: None,
                    error: None,
                }),
                changed: Condvar::new(),
            }),
        })
    }

    fn state(&self) -> std::sync::MutexGuard<'_, DriverState> {
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The driver's status now.
    pub fn status(&self) -> Status {
        self.state().status
    }

    /// The message of the error that aborted the driver, if one did.
    pub fn error_message(&self) -> Option<String> {
        self.state().error.clone()
    }

    /// The framework's id, once the master has given or confirmed one.
    pub fn framework_id(&self) -> Option<FrameworkId> {
        let state = self.state();
        state
            .session
            .as_ref()
            .and_then(Session::framework_id)
            .or_else(|| self.shared.framework.id.clone())
    }

    /// Starts subscribing. Only a driver that was never started starts; any other returns
    /// its status unchanged.
    pub fn start(&self) -> Status {
        let mut state = self.state();
        if state.status != Status::DriverNotStarted {
            return state.status;
        }
        let Some(scheduler) = self
            .shared
            .scheduler
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        else {
            return state.status;
        };
        let mut config = self.shared.options.session.clone();
        config.framework = self.shared.framework.clone();
        config.format = self.shared.options.format;
        let (session, events) = {
            let _runtime = self.shared.runtime.get().enter();
            Session::start(self.shared.detector.clone(), config)
        };
        let driver = self.clone();
        let callbacks = std::thread::Builder::new()
            .name("mesos-scheduler-callbacks".into())
            .spawn(move || Callbacks::new(driver, scheduler).run(events));
        match callbacks {
            Ok(handle) => {
                state.callbacks = Some(handle);
                state.session = Some(session);
                state.status = Status::DriverRunning;
            }
            Err(e) => {
                session.close();
                state.error = Some(format!("cannot start the callback thread: {e}"));
                state.status = Status::DriverAborted;
            }
        }
        self.shared.changed.notify_all();
        state.status
    }

    /// Stops the driver. Without `failover` the framework is torn down (its tasks killed);
    /// with it the master keeps the framework for its failover timeout, for a new driver to
    /// take over with the same framework id. An aborted driver stays aborted.
    pub fn stop(&self, failover: bool) -> Status {
        let session = {
            let state = self.state();
            if !matches!(state.status, Status::DriverRunning | Status::DriverAborted) {
                return state.status;
            }
            state.session.clone()
        };
        if let Some(session) = &session {
            if !failover && session.is_subscribed() {
                self.teardown(session);
            }
            session.close();
        }
        let mut state = self.state();
        if state.status == Status::DriverRunning {
            state.status = Status::DriverStopped;
        }
        self.shared.changed.notify_all();
        state.status
    }

    /// Sends TEARDOWN and waits (a bounded time) for the master to take it.
    fn teardown(&self, session: &Session) {
        let (tx, rx) = std::sync::mpsc::channel();
        let session = session.clone();
        let teardown = Call {
            r#type: Some(call::Type::Teardown as i32),
            ..Default::default()
        };
        self.shared.runtime.get().spawn(async move {
            let _ = tx.send(session.call(teardown).await);
        });
        match rx.recv_timeout(TEARDOWN_TIMEOUT) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!("TEARDOWN failed: {e}"),
            Err(_) => tracing::warn!("the master did not answer TEARDOWN in time"),
        }
    }

    /// Aborts the driver: no more callbacks, the connection is dropped, the framework is
    /// not torn down (it may fail over).
    pub fn abort(&self) -> Status {
        self.abort_with(None)
    }

    fn abort_with(&self, error: Option<String>) -> Status {
        let mut state = self.state();
        if state.status != Status::DriverRunning {
            return state.status;
        }
        if let Some(session) = &state.session {
            session.close();
        }
        if error.is_some() {
            state.error = error;
        }
        state.status = Status::DriverAborted;
        self.shared.changed.notify_all();
        state.status
    }

    /// Waits until the driver is stopped or aborted and returns that status (at once for a
    /// driver never started).
    pub fn join(&self) -> Status {
        let mut state = self.state();
        while state.status == Status::DriverRunning {
            state = self
                .shared
                .changed
                .wait(state)
                .unwrap_or_else(|e| e.into_inner());
        }
        let status = state.status;
        let callbacks = state.callbacks.take();
        drop(state);
        if let Some(callbacks) = callbacks {
            if callbacks.thread().id() != std::thread::current().id() {
                let _ = callbacks.join();
            }
        }
        status
    }

    /// Starts the driver and waits for it to stop: `start` then `join`.
    pub fn run(&self) -> Status {
        let status = self.start();
        if status != Status::DriverRunning {
            return status;
        }
        self.join()
    }

    /// Queues `call` when the driver runs; the driver's status either way.
    fn send(&self, call: Call) -> Status {
        let state = self.state();
        if state.status != Status::DriverRunning {
            return state.status;
        }
        if let Some(session) = &state.session {
            if session.send(call).is_err() {
                tracing::warn!("the scheduler session has ended; call dropped");
            }
        }
        state.status
    }

    /// Launches `tasks` on the resources of `offer_ids` (an ACCEPT with one LAUNCH); no
    /// tasks declines the offers.
    pub fn launch_tasks(
        &self,
        offer_ids: &[OfferId],
        tasks: Vec<TaskInfo>,
        filters: Option<Filters>,
    ) -> Status {
        if tasks.is_empty() {
            return self.decline_offers(offer_ids, filters);
        }
        let launch = offer::Operation {
            r#type: Some(offer::operation::Type::Launch as i32),
            launch: Some(offer::operation::Launch { task_infos: tasks }),
            ..Default::default()
        };
        self.accept_offers(offer_ids, vec![launch], filters)
    }

    /// Accepts `offer_ids` with `operations` (LAUNCH, LAUNCH_GROUP, RESERVE, CREATE, ...).
    pub fn accept_offers(
        &self,
        offer_ids: &[OfferId],
        operations: Vec<offer::Operation>,
        filters: Option<Filters>,
    ) -> Status {
        self.send(Call {
            r#type: Some(call::Type::Accept as i32),
            accept: Some(call::Accept {
                offer_ids: offer_ids.to_vec(),
                operations,
                filters,
            }),
            ..Default::default()
        })
    }

    /// Declines `offer_id`; `filters.refuse_seconds` keeps its resources away that long.
    pub fn decline_offer(&self, offer_id: &OfferId, filters: Option<Filters>) -> Status {
        self.decline_offers(std::slice::from_ref(offer_id), filters)
    }

    fn decline_offers(&self, offer_ids: &[OfferId], filters: Option<Filters>) -> Status {
        self.send(Call {
            r#type: Some(call::Type::Decline as i32),
            decline: Some(call::Decline {
                offer_ids: offer_ids.to_vec(),
                filters,
            }),
            ..Default::default()
        })
    }

    /// Asks the master to kill a task.
    pub fn kill_task(&self, task_id: &TaskId) -> Status {
        self.send(Call {
            r#type: Some(call::Type::Kill as i32),
            kill: Some(call::Kill {
                task_id: task_id.clone(),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    /// Removes the offer filters of `roles` (all the framework's roles when empty) and
    /// resumes offers for them.
    pub fn revive_offers(&self, roles: &[String]) -> Status {
        self.send(Call {
            r#type: Some(call::Type::Revive as i32),
            revive: Some(call::Revive {
                roles: roles.to_vec(),
            }),
            ..Default::default()
        })
    }

    /// Stops offers for `roles` (all the framework's roles when empty) until revived.
    pub fn suppress_offers(&self, roles: &[String]) -> Status {
        self.send(Call {
            r#type: Some(call::Type::Suppress as i32),
            suppress: Some(call::Suppress {
                roles: roles.to_vec(),
            }),
            ..Default::default()
        })
    }

    /// Acknowledges a status update (explicit acknowledgements only; with implicit ones the
    /// driver has done it and this does nothing). Updates without a uuid need none.
    pub fn acknowledge_status_update(&self, status: &TaskStatus) -> Status {
        if self.shared.options.implicit_acknowledgements {
            tracing::warn!("acknowledge_status_update ignored: the driver acknowledges implicitly");
            return self.status();
        }
        match acknowledge_call(status) {
            Some(call) => self.send(call),
            None => self.status(),
        }
    }

    /// Sends `data` to an executor of the framework.
    pub fn send_framework_message(
        &self,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        data: Vec<u8>,
    ) -> Status {
        self.send(Call {
            r#type: Some(call::Type::Message as i32),
            message: Some(call::Message {
                agent_id: agent_id.clone(),
                executor_id: executor_id.clone(),
                data,
            }),
            ..Default::default()
        })
    }

    /// Asks the master for the latest status of `statuses`' tasks (an explicit
    /// reconciliation), or of every task the master knows when empty (implicit).
    pub fn reconcile_tasks(&self, statuses: &[TaskStatus]) -> Status {
        let tasks = statuses
            .iter()
            .map(|s| call::reconcile::Task {
                task_id: s.task_id.clone(),
                agent_id: s.agent_id.clone(),
            })
            .collect();
        self.send(Call {
            r#type: Some(call::Type::Reconcile as i32),
            reconcile: Some(call::Reconcile { tasks }),
            ..Default::default()
        })
    }

    /// Asks for resources (a hint to the allocator).
    pub fn request_resources(&self, requests: Vec<Request>) -> Status {
        self.send(Call {
            r#type: Some(call::Type::Request as i32),
            request: Some(call::Request { requests }),
            ..Default::default()
        })
    }

    /// Changes the framework's info (roles, capabilities, ...), suppressed roles and,
    /// when given, the constraints on its offers; later re-subscriptions use the new info.
    pub fn update_framework(
        &self,
        framework: FrameworkInfo,
        suppressed_roles: Vec<String>,
        offer_constraints: Option<OfferConstraints>,
    ) -> Status {
        let mut framework = framework;
        if framework.id.is_none() {
            framework.id = self.framework_id();
        }
        self.send(Call {
            r#type: Some(call::Type::UpdateFramework as i32),
            update_framework: Some(call::UpdateFramework {
                framework_info: framework,
                suppressed_roles,
                offer_constraints,
            }),
            ..Default::default()
        })
    }
}

/// The ACKNOWLEDGE for `status`, when it needs one (it carries a uuid and an agent).
fn acknowledge_call(status: &TaskStatus) -> Option<Call> {
    let uuid = status.uuid.clone().filter(|u| !u.is_empty())?;
    let agent_id = status.agent_id.clone()?;
    Some(Call {
        r#type: Some(call::Type::Acknowledge as i32),
        acknowledge: Some(call::Acknowledge {
            agent_id,
            task_id: status.task_id.clone(),
            uuid,
        }),
        ..Default::default()
    })
}

/// The callback thread: turns session events into scheduler calls.
struct Callbacks {
    driver: SchedulerDriver,
    scheduler: Box<dyn Scheduler>,
    registered: bool,
}

impl Callbacks {
    fn new(driver: SchedulerDriver, scheduler: Box<dyn Scheduler>) -> Callbacks {
        Callbacks {
            driver,
            scheduler,
            registered: false,
        }
    }

    fn run(mut self, mut events: mpsc::UnboundedReceiver<SessionEvent>) {
        while let Some(event) = events.blocking_recv() {
            if self.driver.status() != Status::DriverRunning {
                break;
            }
            self.dispatch(event);
        }
    }

    fn dispatch(&mut self, event: SessionEvent) {
        match event {
            SessionEvent::Connected { .. } => {}
            SessionEvent::Disconnected { .. } => {
                self.guarded(|s, d| s.disconnected(d));
            }
            SessionEvent::Error { message } => self.fail(message),
            SessionEvent::Event(event) => self.event(*event),
        }
    }

    fn event(&mut self, event: Event) {
        let kind = event
            .r#type
            .and_then(|t| event::Type::try_from(t).ok())
            .unwrap_or(event::Type::Unknown);
        match kind {
            event::Type::Subscribed => {
                let Some(subscribed) = event.subscribed else {
                    return;
                };
                let master = subscribed.master_info.unwrap_or_default();
                if self.registered {
                    self.guarded(|s, d| s.reregistered(d, &master));
                } else {
                    self.registered = true;
                    let id = subscribed.framework_id;
                    self.guarded(|s, d| s.registered(d, &id, &master));
                }
            }
            event::Type::Offers => {
                if let Some(offers) = event.offers {
                    if !offers.offers.is_empty() {
                        self.guarded(|s, d| s.resource_offers(d, offers.offers));
                    }
                }
            }
            event::Type::Rescind => {
                if let Some(rescind) = event.rescind {
                    self.guarded(|s, d| s.offer_rescinded(d, &rescind.offer_id));
                }
            }
            event::Type::Update => {
                let Some(update) = event.update else {
                    return;
                };
                let status = update.status;
                if self.guarded(|s, d| s.status_update(d, &status))
                    && self.driver.shared.options.implicit_acknowledgements
                {
                    if let Some(call) = acknowledge_call(&status) {
                        self.driver.send(call);
                    }
                }
            }
            event::Type::Message => {
                if let Some(message) = event.message {
                    self.guarded(|s, d| {
                        s.framework_message(
                            d,
                            &message.executor_id,
                            &message.agent_id,
                            &message.data,
                        )
                    });
                }
            }
            event::Type::Failure => {
                let Some(failure) = event.failure else {
                    return;
                };
                match (failure.executor_id, failure.agent_id) {
                    (Some(executor_id), agent_id) => {
                        let agent_id = agent_id.unwrap_or_default();
                        let status = failure.status.unwrap_or(-1);
                        self.guarded(|s, d| s.executor_lost(d, &executor_id, &agent_id, status));
                    }
                    (None, Some(agent_id)) => {
                        self.guarded(|s, d| s.slave_lost(d, &agent_id));
                    }
                    (None, None) => {}
                }
            }
            event::Type::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                self.fail(message);
            }
            event::Type::Heartbeat
            | event::Type::InverseOffers
            | event::Type::RescindInverseOffer
            | event::Type::UpdateOperationStatus
            | event::Type::Unknown => {}
        }
    }

    /// Calls the scheduler; a panic aborts the driver (through `error`). True when the
    /// callback returned normally.
    fn guarded(&mut self, callback: impl FnOnce(&mut dyn Scheduler, &SchedulerDriver)) -> bool {
        let driver = &self.driver;
        let scheduler = &mut *self.scheduler;
        match catch_unwind(AssertUnwindSafe(|| callback(scheduler, driver))) {
            Ok(()) => true,
            Err(panic) => {
                self.fail(format!(
                    "a scheduler callback panicked: {}",
                    panic_message(&*panic)
                ));
                false
            }
        }
    }

    /// Reports `message` through `error` (once; a panic there is swallowed) and aborts.
    fn fail(&mut self, message: String) {
        tracing::error!("scheduler driver aborting: {message}");
        let driver = &self.driver;
        let scheduler = &mut *self.scheduler;
        let _ = catch_unwind(AssertUnwindSafe(|| scheduler.error(driver, &message)));
        self.driver.abort_with(Some(message));
    }
}

/// The name of the user running this process, which a framework without a `user` runs
/// its tasks as (as Mesos' driver does); `root` when it cannot be found.
pub(crate) fn current_user() -> String {
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "root".to_string())
}

/// The text of a panic's payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        text.to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "(a panic without a message)".to_string()
    }
}
