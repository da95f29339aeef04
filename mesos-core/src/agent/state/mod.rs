//! The agent's state machine: its frameworks, executors and tasks, owned by one task (see
//! [`runtime`](super::runtime)). Events from the master, calls from executors and the
//! results of container operations are applied here; what must happen outside (calls to
//! the master, events to executors, launching and destroying containers) goes out through
//! channels and spawned work that reports back through the [`AgentHandle`].
//!
//! This module holds the records, the master's events and the timers; the rest of the
//! state machine is split by concern: `launching` (tasks onto executors, executors into
//! containers), `executors` (their subscriptions and calls), `updates` (status updates and
//! acknowledgements), `lifecycle` (kills, shutdowns, container ends, garbage collection)
//! and `recovery` (what a restarted agent takes back).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::checkpoint::{Checkpoints, RecoveredRun, RunRecord};
use super::containerizer::{Containerizer, Termination};
use super::executor_launch as launch;
use super::files::Files;
use super::gc::{self, GarbageCollector};
use super::paths;
use super::runtime::AgentHandle;
use super::state_views::AgentCounters;
use super::status_update::{
    ForwardedUpdate, RetryPolicy, StatusUpdateError, TaskStatusUpdateManager, UpdateOutcome,
};
use super::AgentOptions;
use crate::master::{is_terminal, wall_clock};
use crate::proto::mesos::internal::{agent_call, agent_event, AgentCall, AgentEvent};
use crate::proto::mesos::v1::executor::{event, Event};
use crate::proto::mesos::v1::{
    task_status, AgentId, AgentInfo, ContainerId, ContainerStatus, ExecutorId, ExecutorInfo,
    FrameworkId, FrameworkInfo, Resource, Task, TaskGroupInfo, TaskId, TaskInfo, TaskState,
    TaskStatus,
};

mod executors;
mod launching;
mod lifecycle;
mod recovery;
mod updates;

/// How often the disk usage is checked for garbage collection (Mesos'
/// `--disk_watch_interval` default).
const DISK_WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(60);

/// How many completed executors (and frameworks) the agent remembers for its endpoints.
const MAX_COMPLETED: usize = 100;

/// Why the agent refused an executor's call; becomes a 4xx at the HTTP edge.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorCallError {
    /// The call is malformed or names something the agent does not run.
    #[error("{0}")]
    BadRequest(String),
    /// The executor is not subscribed.
    #[error("{0}")]
    Forbidden(String),
    /// Checkpointing the update failed.
    #[error("{0}")]
    Unavailable(String),
}

/// Where an executor is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorPhase {
    /// Its container is being launched (sandbox, URIs, fork).
    Launching,
    /// Launched; waiting for it to subscribe.
    Registering,
    /// Subscribed.
    Running,
    /// Being shut down or destroyed.
    Terminating,
}

/// Work queued for an executor that has not subscribed yet.
#[derive(Debug, Clone)]
enum Pending {
    Task(Box<TaskInfo>),
    Group(TaskGroupInfo),
}

/// An open executor subscription.
#[derive(Debug)]
struct Connection {
    id: u64,
    events: mpsc::UnboundedSender<Event>,
}

/// One executor run and its tasks.
#[derive(Debug)]
pub struct Executor {
    /// What it runs as.
    pub info: ExecutorInfo,
    /// The container it runs in.
    pub container_id: String,
    /// Its sandbox.
    pub directory: PathBuf,
    /// Where it is in its life.
    pub phase: ExecutorPhase,
    /// Its container's first process, once launched.
    pub pid: Option<i32>,
    /// Whether it is the built-in command executor of one task.
    pub command_executor: bool,
    /// Resources of the container: the executor's own and its tasks'.
    pub resources: Vec<Resource>,
    connection: Option<Connection>,
    queued: Vec<Pending>,
    /// Tasks handed to it (or queued), by id; kept until their terminal update is acknowledged.
    pub tasks: BTreeMap<String, Task>,
    /// Tasks whose terminal update was acknowledged.
    pub completed_tasks: Vec<Task>,
    registration_deadline: Option<Instant>,
    shutdown_deadline: Option<Instant>,
    /// The state and reason its unfinished tasks get when the agent ends it.
    termination_cause: Option<(TaskState, task_status::Reason, String)>,
    /// Recovered after an agent restart: it must subscribe again in time.
    recovered: bool,
    /// Its container is being destroyed.
    destroying: bool,
}

/// A framework with work on this agent.
#[derive(Debug)]
pub struct Framework {
    /// Its latest FrameworkInfo.
    pub info: FrameworkInfo,
    /// Its running executors, by id.
    pub executors: BTreeMap<String, Executor>,
    /// Its executors that ended.
    pub completed_executors: VecDeque<Executor>,
}

/// The executor among `executors` that holds task `task_id`, with its id. A command
/// executor is named after its task, so that one is looked up first; other executors are
/// searched.
fn executor_of_task<'a>(
    executors: &'a mut BTreeMap<String, Executor>,
    task_id: &str,
) -> Option<(&'a String, &'a mut Executor)> {
    let named_after_it = executors
        .get(task_id)
        .is_some_and(|e| e.tasks.contains_key(task_id));
    if named_after_it {
        let only = (Bound::Included(task_id), Bound::Included(task_id));
        return executors.range_mut::<str, _>(only).next();
    }
    executors
        .iter_mut()
        .find(|(_, e)| e.tasks.contains_key(task_id))
}

/// The agent's calls to the master, in order, each with the stream it belongs to.
pub(super) type MasterOutbox = mpsc::UnboundedSender<(String, AgentCall)>;

/// The agent's state.
pub struct AgentState {
    pub(super) options: Arc<AgentOptions>,
    /// The address executors reach the agent at.
    pub(super) endpoint: SocketAddr,
    /// The agent's info; its id is set once the master registered it.
    pub(super) info: AgentInfo,
    pub(super) containerizer: Arc<Containerizer>,
    pub(super) handle: AgentHandle,
    outbox: MasterOutbox,
    /// The master's stream id while registered.
    stream_id: Option<String>,
    /// The master the agent registered with last.
    pub master_info: Option<crate::proto::mesos::v1::MasterInfo>,
    updates: TaskStatusUpdateManager,
    /// Frameworks by id.
    pub frameworks: BTreeMap<String, Framework>,
    /// Frameworks that left the agent.
    pub completed_frameworks: VecDeque<Framework>,
    next_connection: u64,
    /// Seconds since the epoch when the agent started.
    pub start_time: f64,
    /// Set once the master told the agent to shut down.
    pub(super) shut_down: bool,
    /// What happened since the agent started, for its metrics.
    pub(super) counters: AgentCounters,
    /// The sandboxes `/files/*` serves.
    pub(super) files: Files,
    /// Sandboxes and checkpoints of ended executors, waiting to be removed.
    pub(super) gc: GarbageCollector,
    /// When the disk usage was last checked for the garbage collector.
    last_disk_check: Option<Instant>,
}

impl std::fmt::Debug for AgentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentState")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

fn task_state(state: i32) -> TaskState {
    TaskState::try_from(state).unwrap_or(TaskState::TaskUnknown)
}

/// A Task record for `info`, launched by `framework_id` on `agent_id`.
fn task_record(
    info: &TaskInfo,
    framework_id: &str,
    agent_id: &AgentId,
    executor: Option<&ExecutorId>,
) -> Task {
    Task {
        name: info.name.clone(),
        task_id: info.task_id.clone(),
        framework_id: FrameworkId {
            value: framework_id.to_string(),
        },
        executor_id: executor.cloned(),
        agent_id: agent_id.clone(),
        state: TaskState::TaskStaging as i32,
        resources: info.resources.clone(),
        labels: info.labels.clone(),
        discovery: info.discovery.clone(),
        container: info.container.clone(),
        health_check: info.health_check.clone(),
        kill_policy: info.kill_policy,
        ..Default::default()
    }
}

impl AgentState {
    /// A new agent state with nothing running.
    pub(super) fn new(
        options: Arc<AgentOptions>,
        endpoint: SocketAddr,
        info: AgentInfo,
        containerizer: Arc<Containerizer>,
        handle: AgentHandle,
        outbox: MasterOutbox,
        files: Files,
    ) -> AgentState {
        AgentState {
            gc: GarbageCollector::new(options.gc_delay, options.gc_disk_headroom),
            last_disk_check: None,
            options,
            endpoint,
            info,
            containerizer,
            handle,
            outbox,
            stream_id: None,
            master_info: None,
            updates: TaskStatusUpdateManager::new(RetryPolicy::default()),
            frameworks: BTreeMap::new(),
            completed_frameworks: VecDeque::new(),
            next_connection: 1,
            start_time: wall_clock(),
            shut_down: false,
            counters: AgentCounters::default(),
            files,
        }
    }

    /// The agent's id (empty before the first registration).
    pub fn agent_id(&self) -> AgentId {
        self.info.id.clone().unwrap_or_default()
    }

    /// Whether the agent is registered with a master now.
    pub fn is_registered(&self) -> bool {
        self.stream_id.is_some()
    }

    /// The agent's checkpoints (under its current id).
    fn checkpoints(&self) -> Checkpoints {
        Checkpoints::new(&self.options.work_dir, &self.agent_id().value)
    }

    /// Whether `framework_id` checkpoints.
    fn checkpointing(&self, framework_id: &str) -> bool {
        self.frameworks
            .get(framework_id)
            .is_some_and(|f| f.info.checkpoint.unwrap_or(false))
    }

    /// Checkpoints the tasks `task_ids` of an executor (and the framework and executor
    /// infos) when the framework checkpoints.
    fn checkpoint_tasks(&self, framework_id: &str, executor_id: &str, task_ids: &[String]) {
        if !self.checkpointing(framework_id) {
            return;
        }
        let Some(executor) = self
            .frameworks
            .get(framework_id)
            .and_then(|f| f.executors.get(executor_id))
        else {
            return;
        };
        let checkpoints = self.checkpoints();
        let framework = &self.frameworks[framework_id].info;
        let mut result = checkpoints
            .write_framework(framework)
            .and_then(|()| checkpoints.write_executor(framework_id, &executor.info));
        for id in task_ids {
            if let Some(task) = executor.tasks.get(id) {
                result = result.and_then(|()| {
                    checkpoints.write_task(executor_id, &executor.container_id, task)
                });
            }
        }
        if let Err(e) = result {
            tracing::error!("cannot checkpoint tasks of executor {executor_id}: {e}");
        }
    }

    // ----- the master -----

    fn send_master(&self, kind: agent_call::Type, fill: impl FnOnce(&mut AgentCall)) {
        let Some(stream) = &self.stream_id else {
            return;
        };
        let mut call = AgentCall {
            r#type: Some(kind as i32),
            agent_id: self.info.id.clone(),
            ..Default::default()
        };
        fill(&mut call);
        let _ = self.outbox.send((stream.clone(), call));
    }

    fn forward(&self, update: ForwardedUpdate) {
        self.send_master(agent_call::Type::StatusUpdate, |call| {
            call.status_updates.push(agent_call::StatusUpdate {
                framework_id: update.framework_id,
                status: update.status,
            })
        });
    }

    /// The REGISTER call: the agent's info and, when re-registering, what it runs.
    pub(super) fn register_message(&self) -> agent_call::Register {
        let mut register = agent_call::Register {
            agent_info: self.info.clone(),
            version: Some(crate::MESOS_WIRE_VERSION.to_string()),
            ..Default::default()
        };
        for framework in self.frameworks.values() {
            register.frameworks.push(framework.info.clone());
            for executor in framework.executors.values() {
                if !executor.command_executor {
                    register.executors.push(executor.info.clone());
                }
                register.tasks.extend(executor.tasks.values().cloned());
            }
        }
        register
    }

    /// The master registered the agent: remember the id, then resend every unacknowledged
    /// update on the new stream.
    pub(super) fn registered(&mut self, registered: agent_event::Registered, stream_id: String) {
        let id = registered.agent_id.value.clone();
        if let Err(e) = paths::record_agent_id(&self.options.work_dir, &id) {
            tracing::warn!("cannot record the agent id {id}: {e}");
        }
        let described = AgentInfo {
            id: Some(registered.agent_id.clone()),
            resources: self.options.resources.clone(),
            ..self.info.clone()
        };
        if let Err(e) = Checkpoints::new(&self.options.work_dir, &id).write_agent_info(&described) {
            tracing::warn!("cannot checkpoint the agent's info: {e}");
        }
        tracing::info!("registered with the master as agent {id}");
        self.info.id = Some(registered.agent_id);
        self.master_info = Some(registered.master_info);
        self.stream_id = Some(stream_id);
        for update in self.updates.resend_all(Instant::now()) {
            self.forward(update);
        }
    }

    /// The master's stream ended.
    pub(super) fn master_disconnected(&mut self) {
        self.stream_id = None;
    }

    /// Applies one event from the master.
    pub(super) fn master_event(&mut self, event: AgentEvent) {
        use agent_event::Type;
        let kind = Type::try_from(event.r#type.unwrap_or(0)).unwrap_or(Type::Unknown);
        match kind {
            Type::Ping => {
                if let Some(ping) = event.ping {
                    self.send_master(agent_call::Type::Pong, |c| {
                        c.pong = Some(agent_call::Pong {
                            sequence: ping.sequence,
                        })
                    });
                }
            }
            Type::RunTask => {
                if let Some(run) = event.run_task {
                    self.run_task(run.framework, run.task);
                }
            }
            Type::RunTaskGroup => {
                if let Some(run) = event.run_task_group {
                    self.run_task_group(run.framework, run.executor, run.task_group);
                }
            }
            Type::KillTask => {
                if let Some(kill) = event.kill_task {
                    self.kill_task(&kill.framework_id.value, kill.task_id, kill.kill_policy);
                }
            }
            Type::Acknowledge => {
                if let Some(ack) = event.acknowledge {
                    self.acknowledge(&ack.framework_id, &ack.task_id, &ack.uuid);
                }
            }
            Type::FrameworkMessage => {
                if let Some(message) = event.framework_message {
                    self.framework_message(message);
                }
            }
            Type::ShutdownFramework => {
                if let Some(shutdown) = event.shutdown_framework {
                    self.shutdown_framework(&shutdown.framework_id.value);
                }
            }
            Type::ShutdownExecutor => {
                if let Some(shutdown) = event.shutdown_executor {
                    self.shutdown_executor(
                        &shutdown.framework_id.value,
                        &shutdown.executor_id.value,
                        TaskState::TaskKilled,
                        task_status::Reason::ExecutorTerminated,
                        "Executor shut down by the master",
                    );
                }
            }
            Type::UpdateFramework => {
                if let Some(update) = event.update_framework {
                    let id = update.framework.id.clone().unwrap_or_default().value;
                    if let Some(framework) = self.frameworks.get_mut(&id) {
                        framework.info = update.framework;
                    }
                }
            }
            Type::CheckpointResources => {
                if let Some(checkpoint) = event.checkpoint_resources {
                    // Written here, in order: a later checkpoint must not be overtaken.
                    if let Err(e) = self.checkpoints().write_resources(&checkpoint.total) {
                        tracing::error!("cannot checkpoint the agent's resources: {e}");
                    }
                    self.info.resources = checkpoint.total;
                }
            }
            Type::Shutdown => {
                let message = event
                    .shutdown
                    .and_then(|s| s.message)
                    .unwrap_or_else(|| "the master asked the agent to shut down".into());
                tracing::warn!("shutting down: {message}");
                self.shutdown_all();
                self.shut_down = true;
            }
            Type::Registered | Type::Unknown => {}
        }
    }

    // ----- timers -----

    /// Resends due updates, ends executors that did not subscribe in time or did not
    /// exit after SHUTDOWN, and ends containers that hit a limit.
    pub(super) fn tick(&mut self, now: Instant, check_limits: bool) {
        for update in self.updates.due_for_retry(now) {
            self.forward(update);
        }
        self.collect_garbage(now);
        let mut expired = Vec::new();
        let mut overdue = Vec::new();
        let mut limited = Vec::new();
        for (framework_id, framework) in &self.frameworks {
            for (executor_id, executor) in &framework.executors {
                let key = (framework_id.clone(), executor_id.clone());
                if executor.registration_deadline.is_some_and(|d| d <= now) {
                    expired.push(key);
                } else if executor.shutdown_deadline.is_some_and(|d| d <= now) {
                    overdue.push(key);
                } else if check_limits
                    && executor.pid.is_some()
                    && executor.phase != ExecutorPhase::Terminating
                    && self
                        .containerizer
                        .limitations(&executor.container_id)
                        .map(|l| !l.is_empty())
                        .unwrap_or(false)
                {
                    limited.push(key);
                }
            }
        }
        for (framework_id, executor_id) in expired {
            tracing::warn!("executor {executor_id} did not subscribe in time");
            if let Some(executor) = self.executor_mut(&framework_id, &executor_id) {
                executor.registration_deadline = None;
                executor.termination_cause = Some(if executor.recovered {
                    (
                        TaskState::TaskFailed,
                        task_status::Reason::ExecutorReregistrationTimeout,
                        "Executor did not reregister after the agent restarted".into(),
                    )
                } else {
                    (
                        TaskState::TaskFailed,
                        task_status::Reason::ExecutorRegistrationTimeout,
                        "Executor did not register within the executor registration timeout".into(),
                    )
                });
            }
            self.destroy_container(&framework_id, &executor_id);
        }
        for (framework_id, executor_id) in overdue.into_iter().chain(limited) {
            self.destroy_container(&framework_id, &executor_id);
        }
    }
}

fn send_event(executor: &mut Executor, event: Event) {
    if let Some(connection) = &executor.connection {
        if connection.events.send(event).is_err() {
            executor.connection = None;
        }
    }
}

fn launch_event(task: TaskInfo) -> Event {
    Event {
        r#type: Some(event::Type::Launch as i32),
        launch: Some(event::Launch { task }),
        ..Default::default()
    }
}

fn launch_group_event(task_group: TaskGroupInfo) -> Event {
    Event {
        r#type: Some(event::Type::LaunchGroup as i32),
        launch_group: Some(event::LaunchGroup { task_group }),
        ..Default::default()
    }
}

/// The checkpoint of a container being launched, written by the launch itself (off the
/// state's task, which would otherwise wait on the file system for every launch) once the
/// executor's pid is known.
struct RunCheckpoint {
    checkpoints: Checkpoints,
    framework_id: String,
    executor_id: String,
    /// The record, with the pid and its start time still to be filled in.
    record: RunRecord,
}

impl RunCheckpoint {
    /// Records the container launched with `pid` in `sandbox`: its run record and its
    /// executor's `runs/latest` link.
    fn write(mut self, container_id: &str, pid: i32, sandbox: &std::path::Path) {
        self.record.pid = pid;
        self.record.start_time = super::containerizer::procfs::read_stat(pid)
            .ok()
            .flatten()
            .map(|stat| stat.start_time);
        if let Err(e) = self.checkpoints.write_run(
            &self.framework_id,
            &self.executor_id,
            container_id,
            &self.record,
        ) {
            tracing::error!("cannot checkpoint container {container_id}: {e}");
        }
        if let Err(e) = paths::link_latest_run(sandbox) {
            tracing::warn!("cannot link the latest run of {}: {e}", sandbox.display());
        }
    }
}

/// Creates `sandbox` and, when the container runs as `user`, gives it to that user; the
/// user's uid and gid. Blocking: the user is looked up through NSS, which may ask a
/// directory service.
///
/// A framework's `executors` directory, when this creates it, is marked as the top of
/// unrelated trees ([`top_directory`](super::top_directory)), so that ext4 spreads the
/// executors' sandboxes over its block groups.
fn make_sandbox(
    sandbox: &std::path::Path,
    user: Option<&str>,
) -> Result<Option<(u32, u32)>, String> {
    if let Some(executors) = paths::executors_dir_of(sandbox).filter(|dir| !dir.exists()) {
        std::fs::create_dir_all(executors)
            .map_err(|e| format!("cannot create sandbox {}: {e}", sandbox.display()))?;
        if let Err(e) = super::top_directory::mark(executors) {
            tracing::debug!(
                "{} is not marked as a top directory: {e}",
                executors.display()
            );
        }
    }
    std::fs::create_dir_all(sandbox)
        .map_err(|e| format!("cannot create sandbox {}: {e}", sandbox.display()))?;
    let Some(user) = user else {
        return Ok(None);
    };
    let ids = launch::resolve_user(user)?;
    std::os::unix::fs::chown(sandbox, Some(ids.0), Some(ids.1))
        .map_err(|e| format!("cannot give sandbox {} to {user}: {e}", sandbox.display()))?;
    Ok(Some(ids))
}

/// Makes the sandbox (owned by `user`), fetches the URIs into it, launches the container
/// and checkpoints it; the pid or why it failed.
async fn prepare_and_launch(
    containerizer: Arc<Containerizer>,
    container_id: &str,
    mut spec: super::containerizer::launcher::LaunchSpec,
    user: Option<String>,
    uris: Vec<crate::proto::mesos::v1::command_info::Uri>,
    limits: super::containerizer::isolator::ResourceLimits,
    run: RunCheckpoint,
) -> Result<i32, String> {
    let sandbox = spec.sandbox.clone();
    spec.user = {
        let sandbox = sandbox.clone();
        tokio::task::spawn_blocking(move || make_sandbox(&sandbox, user.as_deref()))
            .await
            .map_err(|e| format!("preparing the sandbox failed: {e}"))??
    };
    if !uris.is_empty() {
        super::fetcher::fetch(&uris, &sandbox, Default::default())
            .await
            .map_err(|e| format!("Failed to fetch URIs: {e}"))?;
    }
    let id = container_id.to_string();
    let slot = containerizer
        .start_slot()
        .await
        .map_err(|e| format!("cannot start the container: {e}"))?;
    tokio::task::spawn_blocking(move || {
        let pid = containerizer.launch(&id, &spec, &limits);
        drop(slot);
        let pid = pid?;
        run.write(&id, pid, &sandbox);
        Ok(pid)
    })
    .await
    .map_err(|e| format!("launch task failed: {e}"))?
    .map_err(|e: super::containerizer::ContainerizerError| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::MetadataExt;

    #[test]
    fn a_sandbox_is_made_and_given_to_the_tasks_user() {
        if !nix::unistd::Uid::effective().is_root() {
            println!("SKIPPED: giving a directory to another user needs root");
            return;
        }
        let work = tempfile::tempdir().unwrap();
        let sandbox = work.path().join("runs").join("c1");
        let ids = make_sandbox(&sandbox, Some("nobody")).unwrap();
        let expected = launch::resolve_user("nobody").unwrap();
        assert_eq!(ids, Some(expected));
        let meta = std::fs::metadata(&sandbox).unwrap();
        assert_eq!((meta.uid(), meta.gid()), expected);
    }

    #[test]
    fn a_sandbox_without_a_user_keeps_the_agents_owner() {
        let work = tempfile::tempdir().unwrap();
        let sandbox = work.path().join("c2");
        assert_eq!(make_sandbox(&sandbox, None).unwrap(), None);
        assert!(sandbox.is_dir());
    }

    #[test]
    fn a_frameworks_executors_directory_is_marked_as_a_top_directory() {
        use super::super::top_directory::{is_marked, mark};
        let work = tempfile::tempdir().unwrap();
        let sandbox = paths::sandbox_dir(work.path(), "a1", "f1", "e1", "c1");
        make_sandbox(&sandbox, None).unwrap();
        assert!(sandbox.is_dir());
        let probe = work.path().join("probe");
        std::fs::create_dir(&probe).unwrap();
        if let Err(e) = mark(&probe) {
            println!(
                "SKIPPED: {} takes no top-directory mark: {e}",
                work.path().display()
            );
            return;
        }
        let executors = paths::executors_dir(work.path(), "a1", "f1");
        assert_eq!(is_marked(&executors), Some(true), "{}", executors.display());
        assert_eq!(is_marked(work.path()), Some(false));
        let executor = paths::executor_dir(work.path(), "a1", "f1", "e1");
        assert_eq!(
            is_marked(&executor),
            Some(false),
            "the mark is not inherited"
        );
    }

    #[test]
    fn an_unknown_user_is_an_error_naming_it() {
        let work = tempfile::tempdir().unwrap();
        let error = make_sandbox(&work.path().join("c3"), Some("no-such-user-here")).unwrap_err();
        assert!(error.contains("no-such-user-here"), "{error}");
    }
}
