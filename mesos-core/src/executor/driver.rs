//! The classic Mesos executor API: an [`Executor`] of callbacks driven by an
//! [`ExecutorDriver`], over the v1 executor HTTP API.
//!
//! The driver is built on [`ExecutorConnection`] (subscription, re-subscription to a
//! restarted agent, unacknowledged updates). It owns two threads: one runs a
//! single-threaded tokio runtime that talks to the agent, the other invokes the executor's
//! callbacks, one at a time and in the order the agent's events arrived. The driver's
//! methods only queue work for the runtime's thread, so they can be called from any thread,
//! callbacks included, without blocking on the agent.
//!
//! As in Mesos:
//! - a SHUTDOWN event calls [`Executor::shutdown`], then the driver stops; a driver made
//!   by [`ExecutorDriver::new`] (this process is the executor an agent started) then ends
//!   the process, and the process group it leads (its tasks), if it has not exited within
//!   `MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD`;
//! - an ERROR event calls [`Executor::error`], then the driver aborts;
//! - when the stream breaks and the framework checkpoints, [`Executor::disconnected`] is
//!   called while the driver re-subscribes, and [`Executor::reregistered`] when the
//!   restarted agent answers;
//! - when the agent is gone for good (it broke the connection and the framework does not
//!   checkpoint, or a restarted agent did not come back within the recovery timeout), the
//!   executor hears [`Executor::disconnected`] then [`Executor::shutdown`], and the driver
//!   stops: the executor is expected to exit;
//! - when the first subscription fails, [`Executor::error`] is called and the driver aborts.
//!
//! A panic inside a callback aborts the driver; its message is passed to
//! [`Executor::error`] (a panic there too is ignored). [`ExecutorDriver::join`] then returns
//! `DRIVER_ABORTED`, and [`ExecutorDriver::abort_reason`] says why.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc as sync_mpsc, Arc, Condvar, Mutex, MutexGuard};

use tokio::sync::mpsc;

use super::client::event_type;
use super::connection::ExecutorConnection;
use super::env::{EnvironmentError, ExecutorEnvironment};
use crate::proto::mesos::v1::executor::{event, Event};
use crate::proto::mesos::v1::{
    task_status, AgentId, AgentInfo, ExecutorInfo, FrameworkInfo, Status, TaskId, TaskInfo,
    TaskState, TaskStatus,
};

/// An executor's callbacks. They run on the driver's callback thread, one at a time; they
/// may call any method of the driver they are given.
#[allow(unused_variables)]
pub trait Executor: Send + 'static {
    /// The executor subscribed to its agent for the first time.
    fn registered(
        &mut self,
        driver: &ExecutorDriver,
        executor: &ExecutorInfo,
        framework: &FrameworkInfo,
        agent: &AgentInfo,
    ) {
    }

    /// The executor subscribed again, to a restarted agent.
    fn reregistered(&mut self, driver: &ExecutorDriver, agent: &AgentInfo) {}

    /// The connection to the agent is lost.
    fn disconnected(&mut self, driver: &ExecutorDriver) {}

    /// A task to run (each task of a task group is launched this way too).
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo);

    /// The framework asks for a task to be killed; the executor reports TASK_KILLED.
    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskId);

    /// A message from the framework's scheduler.
    fn framework_message(&mut self, driver: &ExecutorDriver, data: &[u8]) {}

    /// The executor must end its tasks and exit; the driver stops once this returns.
    fn shutdown(&mut self, driver: &ExecutorDriver) {}

    /// Something went wrong that the driver cannot recover from; it aborts once this
    /// returns.
    fn error(&mut self, driver: &ExecutorDriver, message: &str) {}
}

/// Why a driver could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DriverError {
    /// The `MESOS_*` environment the agent starts executors with is missing or invalid.
    #[error("the executor's environment is unusable: {0}")]
    Environment(#[from] EnvironmentError),
}

/// Work for the runtime's thread, in the order it was asked for.
#[derive(Debug)]
enum Command {
    Update(Box<TaskStatus>),
    Message(Vec<u8>),
    /// Stop (after sending what was queued before) or abort: either way the loop ends.
    End,
}

/// A call of the executor, for the callback thread.
enum Callback {
    Registered(Box<(ExecutorInfo, FrameworkInfo, AgentInfo)>),
    Reregistered(AgentInfo),
    Disconnected,
    Launch(Box<TaskInfo>),
    Kill(TaskId),
    Message(Vec<u8>),
    /// `shutdown`, then the driver stops.
    Shutdown,
    /// `error`, then the driver aborts.
    Error(String),
}

/// The driver's state, shared by its handles and threads.
struct Shared {
    status: Status,
    /// Until `start`.
    executor: Option<Box<dyn Executor>>,
    commands: Option<mpsc::UnboundedSender<Command>>,
    /// Whether the runtime's thread is done (or never ran).
    loop_done: bool,
    /// Why the driver aborted, when it did on its own.
    abort_reason: Option<String>,
}

struct Inner {
    env: ExecutorEnvironment,
    /// End the process when the executor outlives the shutdown grace period.
    ends_process: bool,
    shared: Mutex<Shared>,
    changed: Condvar,
}

/// Drives an [`Executor`]: a cheap handle (clones share one driver).
#[derive(Clone)]
pub struct ExecutorDriver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ExecutorDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutorDriver")
            .field("executor_id", &self.inner.env.executor_id.value)
            .field("status", &self.status())
            .finish()
    }
}

impl ExecutorDriver {
    /// A driver for `executor`, configured by the `MESOS_*` environment of this process
    /// (as the agent starts executors). Once told to shut down, it ends this process (and
    /// the process group it leads) if the executor has not exited within the environment's
    /// shutdown grace period, as Mesos' driver does.
    pub fn new(executor: impl Executor) -> Result<ExecutorDriver, DriverError> {
        let mut driver =
            ExecutorDriver::with_environment(executor, ExecutorEnvironment::from_process()?);
        if let Some(inner) = Arc::get_mut(&mut driver.inner) {
            inner.ends_process = true;
        }
        Ok(driver)
    }

    /// A driver for `executor` configured by `env`, for an executor embedded in a process
    /// that is not only the executor: it never ends the process.
    pub fn with_environment(executor: impl Executor, env: ExecutorEnvironment) -> ExecutorDriver {
        ExecutorDriver {
            inner: Arc::new(Inner {
                env,
                ends_process: false,
                shared: Mutex::new(Shared {
                    status: Status::DriverNotStarted,
                    executor: Some(Box::new(executor)),
                    commands: None,
                    loop_done: true,
                    abort_reason: None,
                }),
                changed: Condvar::new(),
            }),
        }
    }

    /// The environment the driver was configured with.
    pub fn environment(&self) -> &ExecutorEnvironment {
        &self.inner.env
    }

    /// The driver's status now.
    pub fn status(&self) -> Status {
        self.lock().status
    }

    /// Why the driver aborted on its own (a failed subscription, an ERROR event, a
    /// panicking callback), if it did.
    pub fn abort_reason(&self) -> Option<String> {
        self.lock().abort_reason.clone()
    }

    /// Starts the driver: subscribes to the agent and delivers its events to the executor.
    /// Returns `DRIVER_RUNNING`, or the status it is in when it was started before.
    pub fn start(&self) -> Status {
        let mut shared = self.lock();
        if shared.status != Status::DriverNotStarted {
            return shared.status;
        }
        let Some(executor) = shared.executor.take() else {
            return shared.status;
        };
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (callbacks, callback_rx) = sync_mpsc::channel();
        shared.commands = Some(commands);
        shared.status = Status::DriverRunning;
        shared.loop_done = false;

        let driver = self.clone();
        let spawned = std::thread::Builder::new()
            .name("executor-callbacks".into())
            .spawn(move || driver.callback_thread(executor, callback_rx));
        if let Err(error) = spawned {
            return abort_with(
                &mut shared,
                format!("could not start the callback thread: {error}"),
            );
        }
        let driver = self.clone();
        let spawned = std::thread::Builder::new()
            .name("executor-driver".into())
            .spawn(move || driver.runtime_thread(command_rx, callbacks));
        if let Err(error) = spawned {
            return abort_with(
                &mut shared,
                format!("could not start the driver's thread: {error}"),
            );
        }
        Status::DriverRunning
    }

    /// Stops the driver after sending what was queued before. Returns `DRIVER_STOPPED`
    /// (`DRIVER_ABORTED` when it had aborted), or the status when it was not running.
    pub fn stop(&self) -> Status {
        let mut shared = self.lock();
        let was = shared.status;
        if was != Status::DriverRunning && was != Status::DriverAborted {
            return was;
        }
        shared.status = Status::DriverStopped;
        end(&mut shared);
        self.inner.changed.notify_all();
        if was == Status::DriverAborted {
            Status::DriverAborted
        } else {
            Status::DriverStopped
        }
    }

    /// Aborts the driver: no more callbacks, nothing more is sent. Returns
    /// `DRIVER_ABORTED`, or the status when it was not running.
    pub fn abort(&self) -> Status {
        let mut shared = self.lock();
        if shared.status != Status::DriverRunning {
            return shared.status;
        }
        shared.status = Status::DriverAborted;
        end(&mut shared);
        self.inner.changed.notify_all();
        Status::DriverAborted
    }

    /// Waits until the driver is stopped or aborted (and has sent what was queued before
    /// a stop); returns its status. Must not be called from a callback.
    pub fn join(&self) -> Status {
        let mut shared = self.lock();
        if shared.status == Status::DriverNotStarted {
            return shared.status;
        }
        while shared.status == Status::DriverRunning || !shared.loop_done {
            shared = self
                .inner
                .changed
                .wait(shared)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        shared.status
    }

    /// [`start`](Self::start), then [`join`](Self::join).
    pub fn run(&self) -> Status {
        let status = self.start();
        if status != Status::DriverRunning {
            return status;
        }
        self.join()
    }

    /// Sends a status update about a task, as Mesos' executor library does: with a fresh
    /// uuid, the current time, source SOURCE_EXECUTOR, and this executor's and its
    /// agent's ids when they are missing. TASK_STAGING is not allowed: it aborts the driver.
    pub fn send_status_update(&self, mut status: TaskStatus) -> Status {
        if status.state == TaskState::TaskStaging as i32 {
            let running = self.status();
            if running != Status::DriverRunning {
                return running;
            }
            let message = "executor is not allowed to send a TASK_STAGING status update";
            let mut shared = self.lock();
            let result = abort_with(&mut shared, message.to_string());
            self.inner.changed.notify_all();
            return result;
        }
        status.uuid = Some(uuid::Uuid::new_v4().as_bytes().to_vec());
        status.timestamp = Some(now());
        status.source = Some(task_status::Source::Executor as i32);
        if status.executor_id.is_none() {
            status.executor_id = Some(self.inner.env.executor_id.clone());
        }
        self.enqueue(Command::Update(Box::new(status)))
    }

    /// Sends a message to the framework's scheduler (delivery is not guaranteed).
    pub fn send_framework_message(&self, data: Vec<u8>) -> Status {
        self.enqueue(Command::Message(data))
    }

    fn enqueue(&self, command: Command) -> Status {
        let shared = self.lock();
        if shared.status != Status::DriverRunning {
            return shared.status;
        }
        if let Some(commands) = &shared.commands {
            // The loop only ends after the status left RUNNING, so this cannot fail.
            let _ = commands.send(command);
        }
        Status::DriverRunning
    }

    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.inner
            .shared
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Aborts with `reason` unless the driver already left RUNNING.
    fn abort_because(&self, reason: String) {
        let mut shared = self.lock();
        abort_with(&mut shared, reason);
        self.inner.changed.notify_all();
    }

    /// Runs the callbacks in order until the driver leaves RUNNING.
    fn callback_thread(
        self,
        mut executor: Box<dyn Executor>,
        calls: sync_mpsc::Receiver<Callback>,
    ) {
        while let Ok(call) = calls.recv() {
            if self.status() != Status::DriverRunning {
                return;
            }
            let name = call.name();
            let result = catch_unwind(AssertUnwindSafe(|| self.invoke(&mut *executor, call)));
            if let Err(panic) = result {
                let message = format!(
                    "{name} panicked: {}",
                    crate::scheduler::driver::panic_message(&*panic)
                );
                tracing::error!("Executor callback {message}; aborting the driver");
                let _ = catch_unwind(AssertUnwindSafe(|| executor.error(&self, &message)));
                self.abort_because(message);
                return;
            }
        }
    }

    fn invoke(&self, executor: &mut dyn Executor, call: Callback) {
        match call {
            Callback::Registered(info) => {
                let (executor_info, framework, agent) = *info;
                executor.registered(self, &executor_info, &framework, &agent);
            }
            Callback::Reregistered(agent) => executor.reregistered(self, &agent),
            Callback::Disconnected => executor.disconnected(self),
            Callback::Launch(task) => executor.launch_task(self, *task),
            Callback::Kill(task_id) => executor.kill_task(self, &task_id),
            Callback::Message(data) => executor.framework_message(self, &data),
            Callback::Shutdown => {
                if self.inner.ends_process {
                    end_process_after(self.inner.env.shutdown_grace_period.as_std());
                }
                executor.shutdown(self);
                self.stop();
            }
            Callback::Error(message) => {
                executor.error(self, &message);
                self.abort_because(message);
            }
        }
    }

    fn runtime_thread(
        self,
        commands: mpsc::UnboundedReceiver<Command>,
        callbacks: sync_mpsc::Sender<Callback>,
    ) {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime.block_on(
                EventLoop {
                    driver: self.clone(),
                    commands,
                    callbacks,
                    agent_id: None,
                    subscribed_before: false,
                    disconnected: false,
                }
                .run(),
            ),
            Err(error) => self.abort_because(format!("could not start a tokio runtime: {error}")),
        }
        let mut shared = self.lock();
        shared.loop_done = true;
        shared.commands = None;
        self.inner.changed.notify_all();
    }
}

/// Leaves RUNNING for ABORTED with `reason`; returns the resulting status.
fn abort_with(shared: &mut Shared, reason: String) -> Status {
    if shared.status == Status::DriverRunning {
        tracing::error!("Aborting the executor driver: {reason}");
        shared.status = Status::DriverAborted;
        shared.abort_reason = Some(reason);
        end(shared);
    }
    shared.status
}

/// Tells the runtime's thread to end once what is queued is sent.
fn end(shared: &mut Shared) {
    if let Some(commands) = &shared.commands {
        let _ = commands.send(Command::End);
    }
}

impl Callback {
    fn name(&self) -> &'static str {
        match self {
            Callback::Registered(_) => "registered",
            Callback::Reregistered(_) => "reregistered",
            Callback::Disconnected => "disconnected",
            Callback::Launch(_) => "launch_task",
            Callback::Kill(_) => "kill_task",
            Callback::Message(_) => "framework_message",
            Callback::Shutdown => "shutdown",
            Callback::Error(_) => "error",
        }
    }
}

/// Seconds since the epoch, as TaskStatus.timestamp holds them.
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// The runtime thread's work: the subscription, the agent's events, the queued commands.
struct EventLoop {
    driver: ExecutorDriver,
    commands: mpsc::UnboundedReceiver<Command>,
    callbacks: sync_mpsc::Sender<Callback>,
    /// The agent's id, from SUBSCRIBED, for updates that lack it.
    agent_id: Option<AgentId>,
    subscribed_before: bool,
    /// Whether `disconnected` was called since the last SUBSCRIBED.
    disconnected: bool,
}

impl EventLoop {
    async fn run(mut self) {
        let env = self.driver.inner.env.clone();
        // Commands queued while subscribing are sent once subscribed.
        let mut queued = Vec::new();
        let subscribing = ExecutorConnection::from_environment(&env);
        tokio::pin!(subscribing);
        let mut connection = loop {
            tokio::select! {
                result = &mut subscribing => match result {
                    Ok(connection) => break connection,
                    Err(error) => {
                        self.deliver(Callback::Error(error.to_string()));
                        return;
                    }
                },
                command = self.commands.recv() => match command {
                    None | Some(Command::End) => return,
                    Some(command) => queued.push(command),
                },
            }
        };
        for command in queued {
            self.carry_out(&mut connection, command).await;
        }
        let mut connected = true;
        let mut disconnects = connection.notify_disconnects();
        loop {
            tokio::select! {
                biased;
                command = self.commands.recv() => match command {
                    None | Some(Command::End) => return,
                    Some(command) => self.carry_out(&mut connection, command).await,
                },
                Some(reason) = disconnects.recv() => {
                    tracing::warn!("Disconnected from the agent ({reason}); waiting for it");
                    self.disconnected = true;
                    self.deliver(Callback::Disconnected);
                }
                event = connection.next_event(), if connected => match event {
                    Ok(event) => self.on_event(event),
                    Err(error) => {
                        tracing::warn!("The agent is gone: {error}; shutting the executor down");
                        connected = false;
                        if !self.disconnected {
                            self.deliver(Callback::Disconnected);
                        }
                        self.deliver(Callback::Shutdown);
                    }
                },
            }
        }
    }

    async fn carry_out(&mut self, connection: &mut ExecutorConnection, command: Command) {
        match command {
            Command::Update(mut status) => {
                if status.agent_id.is_none() {
                    status.agent_id = self.agent_id.clone();
                }
                if let Err(error) = connection.update(*status).await {
                    tracing::warn!("Failed to send a status update: {error}");
                }
            }
            Command::Message(data) => {
                if let Err(error) = connection.message(data).await {
                    tracing::warn!("Failed to send a framework message: {error}");
                }
            }
            Command::End => {}
        }
    }

    fn on_event(&mut self, event: Event) {
        match event_type(&event) {
            event::Type::Subscribed => {
                let Some(subscribed) = event.subscribed else {
                    return;
                };
                self.agent_id = subscribed.agent_info.id.clone();
                self.disconnected = false;
                if self.subscribed_before {
                    self.deliver(Callback::Reregistered(subscribed.agent_info));
                } else {
                    self.subscribed_before = true;
                    self.deliver(Callback::Registered(Box::new((
                        subscribed.executor_info,
                        subscribed.framework_info,
                        subscribed.agent_info,
                    ))));
                }
            }
            event::Type::Launch => {
                if let Some(launch) = event.launch {
                    self.deliver(Callback::Launch(Box::new(launch.task)));
                }
            }
            event::Type::LaunchGroup => {
                if let Some(group) = event.launch_group {
                    for task in group.task_group.tasks {
                        self.deliver(Callback::Launch(Box::new(task)));
                    }
                }
            }
            event::Type::Kill => {
                if let Some(kill) = event.kill {
                    self.deliver(Callback::Kill(kill.task_id));
                }
            }
            event::Type::Message => {
                if let Some(message) = event.message {
                    self.deliver(Callback::Message(message.data));
                }
            }
            event::Type::Error => {
                let message = event.error.map(|e| e.message).unwrap_or_default();
                self.deliver(Callback::Error(message));
            }
            event::Type::Shutdown => self.deliver(Callback::Shutdown),
            event::Type::Acknowledged | event::Type::Heartbeat | event::Type::Unknown => {}
        }
    }

    /// Hands `call` to the callback thread; if that thread is gone, the driver aborted.
    fn deliver(&self, call: Callback) {
        if let Err(sync_mpsc::SendError(Callback::Error(message))) = self.callbacks.send(call) {
            self.driver.abort_because(message);
        }
    }
}

/// Ends this process `grace` from now, unless it has exited by then: SIGKILL to the
/// process group it leads (the executor and its tasks), then exit, as Mesos' executor
/// driver does after the shutdown grace period.
fn end_process_after(grace: std::time::Duration) {
    let spawned = std::thread::Builder::new()
        .name("executor-shutdown-grace".into())
        .spawn(move || {
            std::thread::sleep(grace);
            tracing::warn!("the executor did not exit within {grace:?} of its shutdown; ending it");
            let group = nix::unistd::getpgrp();
            if group == nix::unistd::getpid() {
                let _ = nix::sys::signal::killpg(group, nix::sys::signal::Signal::SIGKILL);
            }
            std::process::exit(255);
        });
    if let Err(e) = spawned {
        tracing::error!("cannot watch the shutdown grace period: {e}");
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    use prost::Message;

    use super::*;
    use crate::proto::mesos::v1::executor::{call, event, Call};

    struct Panicking {
        errors: sync_mpsc::Sender<String>,
    }

    impl Executor for Panicking {
        fn launch_task(&mut self, _: &ExecutorDriver, _: TaskInfo) {
            panic!("boom in launch_task");
        }
        fn kill_task(&mut self, _: &ExecutorDriver, _: &TaskId) {}
        fn error(&mut self, _: &ExecutorDriver, message: &str) {
            let _ = self.errors.send(message.to_string());
        }
    }

    fn environment(endpoint: &str) -> ExecutorEnvironment {
        ExecutorEnvironment::from_vars([
            ("MESOS_AGENT_ENDPOINT", endpoint),
            ("MESOS_FRAMEWORK_ID", "framework"),
            ("MESOS_EXECUTOR_ID", "executor"),
            ("MESOS_DIRECTORY", "/tmp"),
            ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "100ms"),
        ])
        .unwrap()
    }

    /// An agent stand-in that answers SUBSCRIBE with SUBSCRIBED and a LAUNCH (then keeps
    /// the stream open) and any other call with 202; the calls it got are sent to `calls`.
    fn fake_agent(calls: sync_mpsc::Sender<Call>) -> String {
        fake_agent_closing_first(calls, false)
    }

    /// As [`fake_agent`]; with `close_first`, the first event stream is cut after its
    /// events (as when the agent restarts), and later ones carry only SUBSCRIBED.
    fn fake_agent_closing_first(calls: sync_mpsc::Sender<Call>, close_first: bool) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let mut open = Vec::new();
            let mut subscriptions = 0;
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let Some(call) = read_call(&mut stream) else {
                    continue;
                };
                let subscribe = call.r#type == Some(call::Type::Subscribe as i32);
                let _ = calls.send(call);
                if subscribe {
                    subscriptions += 1;
                    let events = if subscriptions == 1 {
                        vec![subscribed(), launch()]
                    } else {
                        vec![subscribed()]
                    };
                    let mut body = Vec::new();
                    for event in events {
                        crate::recordio::encode_into(&event.encode_to_vec(), &mut body);
                    }
                    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\n\
                                transfer-encoding: chunked\r\n\r\n";
                    let _ = stream.write_all(head.as_bytes());
                    let _ = write!(stream, "{:x}\r\n", body.len());
                    let _ = stream.write_all(&body);
                    let _ = stream.write_all(b"\r\n");
                    if !(close_first && subscriptions == 1) {
                        open.push(stream);
                    }
                } else {
                    let _ = stream.write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n");
                }
            }
        });
        endpoint
    }

    fn read_call(stream: &mut TcpStream) -> Option<Call> {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).ok()?;
            if n == 0 {
                return None;
            }
            data.extend_from_slice(&buf[..n]);
            let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if data.len() >= end + 4 + length {
                return Call::decode(&data[end + 4..end + 4 + length]).ok();
            }
        }
    }

    fn subscribed() -> Event {
        Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                agent_info: AgentInfo {
                    hostname: "localhost".into(),
                    id: Some(AgentId {
                        value: "agent".into(),
                    }),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn launch() -> Event {
        Event {
            r#type: Some(event::Type::Launch as i32),
            launch: Some(event::Launch {
                task: TaskInfo {
                    task_id: TaskId { value: "t1".into() },
                    ..Default::default()
                },
            }),
            ..Default::default()
        }
    }

    /// `driver.join()` on another thread, failing the test if it takes longer than 20s.
    fn join_within_timeout(driver: &ExecutorDriver) -> Status {
        let (done, joined) = sync_mpsc::channel();
        let driver = driver.clone();
        std::thread::spawn(move || {
            let _ = done.send(driver.join());
        });
        joined
            .recv_timeout(Duration::from_secs(20))
            .expect("join() returns instead of hanging")
    }

    #[test]
    fn a_driver_that_is_not_started_says_so() {
        let (errors, _) = sync_mpsc::channel();
        let driver =
            ExecutorDriver::with_environment(Panicking { errors }, environment("127.0.0.1:1"));
        let status = TaskStatus {
            task_id: TaskId { value: "t".into() },
            state: TaskState::TaskRunning as i32,
            ..Default::default()
        };
        assert_eq!(driver.send_status_update(status), Status::DriverNotStarted);
        assert_eq!(
            driver.send_framework_message(b"x".to_vec()),
            Status::DriverNotStarted
        );
        assert_eq!(driver.stop(), Status::DriverNotStarted);
        assert_eq!(driver.abort(), Status::DriverNotStarted);
        assert_eq!(driver.join(), Status::DriverNotStarted);
    }

    #[test]
    fn a_bad_environment_is_a_typed_error() {
        // The test process has no MESOS_AGENT_ENDPOINT.
        if std::env::var_os("MESOS_AGENT_ENDPOINT").is_some() {
            return;
        }
        let (errors, _) = sync_mpsc::channel();
        let error = ExecutorDriver::new(Panicking { errors }).unwrap_err();
        assert!(
            matches!(
                error,
                DriverError::Environment(EnvironmentError::Missing { .. })
            ),
            "{error}"
        );
    }

    #[test]
    fn a_panicking_callback_aborts_the_driver_and_join_returns() {
        let (calls, received) = sync_mpsc::channel();
        let endpoint = fake_agent(calls);
        let (errors, reported) = sync_mpsc::channel();
        let driver = ExecutorDriver::with_environment(Panicking { errors }, environment(&endpoint));
        assert_eq!(driver.start(), Status::DriverRunning);
        assert_eq!(driver.start(), Status::DriverRunning, "started once");
        assert_eq!(join_within_timeout(&driver), Status::DriverAborted);

        let subscribe = received.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(subscribe.r#type, Some(call::Type::Subscribe as i32));
        assert_eq!(subscribe.executor_id.value, "executor");
        let message = reported.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(message.contains("boom in launch_task"), "{message}");
        assert!(driver.abort_reason().unwrap().contains("boom"));
        let status = TaskStatus::default();
        assert_eq!(driver.send_status_update(status), Status::DriverAborted);
        assert_eq!(driver.stop(), Status::DriverAborted);
        assert_eq!(driver.join(), Status::DriverStopped);
    }

    /// Sends updates from inside its callbacks and stops the driver from one.
    struct Reporting;

    impl Executor for Reporting {
        fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
            let status = TaskStatus {
                task_id: task.task_id,
                state: TaskState::TaskFinished as i32,
                ..Default::default()
            };
            assert_eq!(driver.send_status_update(status), Status::DriverRunning);
            assert_eq!(driver.stop(), Status::DriverStopped);
        }
        fn kill_task(&mut self, _: &ExecutorDriver, _: &TaskId) {}
    }

    #[test]
    fn updates_sent_from_a_callback_are_filled_in_and_sent_before_a_stop() {
        let (calls, received) = sync_mpsc::channel();
        let endpoint = fake_agent(calls);
        let driver = ExecutorDriver::with_environment(Reporting, environment(&endpoint));
        assert_eq!(driver.run(), Status::DriverStopped);
        let subscribe = received.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(subscribe.r#type, Some(call::Type::Subscribe as i32));
        let update = received.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(update.r#type, Some(call::Type::Update as i32));
        let status = update.update.unwrap().status;
        assert_eq!(status.task_id.value, "t1");
        assert_eq!(status.uuid.as_ref().map(Vec::len), Some(16));
        assert!(status.timestamp.unwrap() > 1.7e9);
        assert_eq!(status.source, Some(task_status::Source::Executor as i32));
        assert_eq!(status.executor_id.unwrap().value, "executor");
        assert_eq!(status.agent_id.unwrap().value, "agent");
    }

    #[test]
    fn an_unreachable_agent_aborts_with_the_reason() {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let (errors, reported) = sync_mpsc::channel();
        let driver = ExecutorDriver::with_environment(
            Panicking { errors },
            environment(&format!("127.0.0.1:{port}")),
        );
        assert_eq!(driver.start(), Status::DriverRunning);
        assert_eq!(join_within_timeout(&driver), Status::DriverAborted);
        let message = reported.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(message.contains(&port.to_string()), "{message}");
        assert_eq!(driver.abort_reason(), Some(message));
    }

    /// Tells which callbacks ran, by name.
    struct Recording {
        calls: sync_mpsc::Sender<&'static str>,
    }

    impl Executor for Recording {
        fn registered(
            &mut self,
            _: &ExecutorDriver,
            _: &ExecutorInfo,
            _: &FrameworkInfo,
            _: &AgentInfo,
        ) {
            let _ = self.calls.send("registered");
        }
        fn reregistered(&mut self, _: &ExecutorDriver, _: &AgentInfo) {
            let _ = self.calls.send("reregistered");
        }
        fn disconnected(&mut self, _: &ExecutorDriver) {
            let _ = self.calls.send("disconnected");
        }
        fn launch_task(&mut self, _: &ExecutorDriver, _: TaskInfo) {
            let _ = self.calls.send("launch_task");
        }
        fn kill_task(&mut self, _: &ExecutorDriver, _: &TaskId) {}
        fn shutdown(&mut self, _: &ExecutorDriver) {
            let _ = self.calls.send("shutdown");
        }
    }

    #[test]
    fn a_checkpointing_executor_hears_of_the_disconnection_and_the_reregistration() {
        let (calls, _received) = sync_mpsc::channel();
        let endpoint = fake_agent_closing_first(calls, true);
        let env = ExecutorEnvironment::from_vars([
            ("MESOS_AGENT_ENDPOINT", endpoint.as_str()),
            ("MESOS_FRAMEWORK_ID", "framework"),
            ("MESOS_EXECUTOR_ID", "executor"),
            ("MESOS_DIRECTORY", "/tmp"),
            ("MESOS_CHECKPOINT", "1"),
            ("MESOS_RECOVERY_TIMEOUT", "10secs"),
            ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "100ms"),
        ])
        .unwrap();
        let (callbacks, heard) = sync_mpsc::channel();
        let driver = ExecutorDriver::with_environment(Recording { calls: callbacks }, env);
        assert_eq!(driver.start(), Status::DriverRunning);
        let mut names = Vec::new();
        while names.len() < 4 {
            names.push(
                heard
                    .recv_timeout(Duration::from_secs(10))
                    .expect("a callback"),
            );
        }
        assert_eq!(
            names,
            ["registered", "launch_task", "disconnected", "reregistered"]
        );
        assert_eq!(driver.stop(), Status::DriverStopped);
        assert_eq!(join_within_timeout(&driver), Status::DriverStopped);
    }

    #[test]
    fn the_agent_gone_without_checkpointing_disconnects_and_shuts_down() {
        let (calls, _received) = sync_mpsc::channel();
        let endpoint = fake_agent_closing_first(calls, true);
        let (callbacks, heard) = sync_mpsc::channel();
        let driver = ExecutorDriver::with_environment(
            Recording { calls: callbacks },
            environment(&endpoint),
        );
        assert_eq!(driver.run(), Status::DriverStopped);
        let names: Vec<&str> = heard.try_iter().collect();
        assert_eq!(
            names,
            ["registered", "launch_task", "disconnected", "shutdown"]
        );
    }

    /// An executor whose shutdown starts a "task" (`sleep`), prints its pid and never
    /// returns.
    struct Hanging;

    impl Executor for Hanging {
        fn launch_task(&mut self, _: &ExecutorDriver, _: TaskInfo) {}
        fn kill_task(&mut self, _: &ExecutorDriver, _: &TaskId) {}
        #[expect(
            clippy::zombie_processes,
            reason = "the task must outlive the executor: the test checks the grace period ends both"
        )]
        fn shutdown(&mut self, _: &ExecutorDriver) {
            let task = std::process::Command::new("sleep")
                .arg("600")
                .spawn()
                .expect("sleep starts");
            println!("task pid {}", task.id());
            loop {
                std::thread::sleep(Duration::from_secs(60));
            }
        }
    }

    /// Set in the child process the test below starts as the executor.
    const HANGING_CHILD: &str = "MESOS_TEST_HANGING_EXECUTOR";

    #[test]
    fn an_executor_outliving_its_shutdown_grace_period_is_ended_with_its_tasks() {
        if std::env::var_os(HANGING_CHILD).is_some() {
            let driver = ExecutorDriver::new(Hanging).expect("the executor environment");
            driver.run();
            return;
        }
        // This test binary, re-run as the executor in a process group of its own.
        use std::os::unix::process::{CommandExt, ExitStatusExt};
        let (calls, _received) = sync_mpsc::channel();
        let endpoint = fake_agent_closing_first(calls, true);
        let started = std::time::Instant::now();
        let child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "executor::driver::tests::an_executor_outliving_its_shutdown_grace_period_is_ended_with_its_tasks",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HANGING_CHILD, "1")
            .env("MESOS_AGENT_ENDPOINT", &endpoint)
            .env("MESOS_FRAMEWORK_ID", "framework")
            .env("MESOS_EXECUTOR_ID", "executor")
            .env("MESOS_DIRECTORY", "/tmp")
            .env("MESOS_SUBSCRIPTION_BACKOFF_MAX", "100ms")
            .env("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD", "1secs")
            .stdout(std::process::Stdio::piped())
            .process_group(0)
            .spawn()
            .expect("the executor process starts");
        let pid = child.id();
        let (done, exited) = sync_mpsc::channel();
        std::thread::spawn(move || {
            let _ = done.send(child.wait_with_output());
        });
        let Ok(output) = exited.recv_timeout(Duration::from_secs(30)) else {
            let _ = nix::sys::signal::killpg(
                nix::unistd::Pid::from_raw(pid as i32),
                nix::sys::signal::Signal::SIGKILL,
            );
            panic!("the executor outlived its shutdown grace period by 29 s");
        };
        let output = output.expect("the executor's output");
        assert!(
            started.elapsed() >= Duration::from_secs(1),
            "ended before the grace period"
        );
        assert!(
            output.status.signal() == Some(9) || output.status.code() == Some(255),
            "{:?}",
            output.status
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let task: i32 = stdout
            .split("task pid ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|pid| pid.parse().ok())
            .unwrap_or_else(|| panic!("no task pid in {stdout:?}"));
        let gone = (0..100).any(|_| {
            let alive = std::fs::read_to_string(format!("/proc/{task}/stat"))
                .map(|stat| !stat.contains(") Z "))
                .unwrap_or(false);
            if alive {
                std::thread::sleep(Duration::from_millis(50));
            }
            !alive
        });
        assert!(gone, "the executor's task {task} survived it");
    }
}
