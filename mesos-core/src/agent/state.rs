//! The agent's state machine: its frameworks, executors and tasks, owned by one task (see
//! [`runtime`](super::runtime)). Events from the master, calls from executors and the
//! results of container operations are applied here; what must happen outside (calls to
//! the master, events to executors, launching and destroying containers) goes out through
//! channels and spawned work that reports back through the [`AgentHandle`].

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
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
        discovery: info.discovery.clone().map(Box::new),
        container: info.container.clone().map(Box::new),
        health_check: info.health_check.clone().map(Box::new),
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
            gc: GarbageCollector::new(options.gc_delay, gc::DEFAULT_DISK_HEADROOM),
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
            call.status_update = Some(agent_call::StatusUpdate {
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

    // ----- launching -----

    fn remember_framework(&mut self, info: FrameworkInfo) -> String {
        let id = info.id.clone().unwrap_or_default().value;
        self.frameworks
            .entry(id.clone())
            .and_modify(|f| f.info = info.clone())
            .or_insert_with(|| Framework {
                info,
                executors: BTreeMap::new(),
                completed_executors: VecDeque::new(),
            });
        id
    }

    /// RUN_TASK: queue the task on its executor, launching the executor if needed.
    fn run_task(&mut self, framework_info: FrameworkInfo, task: TaskInfo) {
        let framework_id = self.remember_framework(framework_info);
        let framework = &self.frameworks[&framework_id];
        let (executor_info, command) = match (&task.executor, &task.command) {
            (Some(executor), _) => (executor.clone(), false),
            (None, Some(_)) => (
                launch::command_executor_info(
                    &task,
                    &framework.info,
                    &self.options.command_executor,
                ),
                true,
            ),
            (None, None) => {
                self.agent_update(
                    &framework_id,
                    &task.task_id,
                    None,
                    TaskState::TaskError,
                    task_status::Reason::TaskInvalid,
                    "Task has neither an executor nor a command".into(),
                );
                return;
            }
        };
        let executor_id = executor_info.executor_id.value.clone();
        if !paths::is_safe_component(&executor_id) || !paths::is_safe_component(&task.task_id.value)
        {
            self.agent_update(
                &framework_id,
                &task.task_id,
                None,
                TaskState::TaskError,
                task_status::Reason::TaskInvalid,
                format!("Task or executor id cannot name a sandbox directory: '{executor_id}'"),
            );
            return;
        }
        let record_executor = (!command).then(|| executor_info.executor_id.clone());
        let record = task_record(
            &task,
            &framework_id,
            &self.agent_id(),
            record_executor.as_ref(),
        );
        let task_id = task.task_id.value.clone();
        let checkpointed = task_id.clone();
        let exists = self.frameworks[&framework_id]
            .executors
            .get(&executor_id)
            .map(|e| e.phase);
        match exists {
            Some(ExecutorPhase::Terminating) => {
                self.agent_update(
                    &framework_id,
                    &task.task_id,
                    Some(&executor_info.executor_id),
                    TaskState::TaskLost,
                    task_status::Reason::ExecutorTerminated,
                    "Executor is terminating".into(),
                );
            }
            Some(ExecutorPhase::Running) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(task.resources.iter().cloned());
                executor.tasks.insert(task_id, record);
                send_event(executor, launch_event(task));
            }
            Some(_) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(task.resources.iter().cloned());
                executor.tasks.insert(task_id, record);
                executor.queued.push(Pending::Task(Box::new(task)));
            }
            None => {
                let mut resources = executor_info.resources.clone();
                if command {
                    resources.extend(launch::command_executor_overhead());
                }
                resources.extend(task.resources.iter().cloned());
                let mut tasks = BTreeMap::new();
                tasks.insert(task_id, record);
                self.launch_executor(
                    &framework_id,
                    executor_info,
                    command,
                    resources,
                    tasks,
                    vec![Pending::Task(Box::new(task))],
                );
            }
        }
        self.checkpoint_tasks(&framework_id, &executor_id, &[checkpointed]);
    }

    /// RUN_TASK_GROUP: like RUN_TASK for a group given to one executor.
    fn run_task_group(
        &mut self,
        framework_info: FrameworkInfo,
        executor_info: ExecutorInfo,
        group: TaskGroupInfo,
    ) {
        let framework_id = self.remember_framework(framework_info);
        let executor_id = executor_info.executor_id.value.clone();
        let agent_id = self.agent_id();
        let records: BTreeMap<String, Task> = group
            .tasks
            .iter()
            .map(|t| {
                (
                    t.task_id.value.clone(),
                    task_record(
                        t,
                        &framework_id,
                        &agent_id,
                        Some(&executor_info.executor_id),
                    ),
                )
            })
            .collect();
        let unsafe_id = !paths::is_safe_component(&executor_id)
            || group
                .tasks
                .iter()
                .any(|t| !paths::is_safe_component(&t.task_id.value));
        let phase = self.frameworks[&framework_id]
            .executors
            .get(&executor_id)
            .map(|e| e.phase);
        if unsafe_id || phase == Some(ExecutorPhase::Terminating) {
            let (state, reason, message) = if unsafe_id {
                (
                    TaskState::TaskError,
                    task_status::Reason::TaskGroupInvalid,
                    "Task or executor id cannot name a sandbox directory",
                )
            } else {
                (
                    TaskState::TaskLost,
                    task_status::Reason::ExecutorTerminated,
                    "Executor is terminating",
                )
            };
            for task in &group.tasks {
                self.agent_update(
                    &framework_id,
                    &task.task_id,
                    Some(&executor_info.executor_id),
                    state,
                    reason,
                    message.into(),
                );
            }
            return;
        }
        let task_ids: Vec<String> = records.keys().cloned().collect();
        let resources: Vec<Resource> = group
            .tasks
            .iter()
            .flat_map(|t| t.resources.iter().cloned())
            .collect();
        match phase {
            Some(ExecutorPhase::Running) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(resources);
                executor.tasks.extend(records);
                send_event(executor, launch_group_event(group));
            }
            Some(_) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(resources);
                executor.tasks.extend(records);
                executor.queued.push(Pending::Group(group));
            }
            None => {
                let mut all = executor_info.resources.clone();
                all.extend(resources);
                self.launch_executor(
                    &framework_id,
                    executor_info,
                    false,
                    all,
                    records,
                    vec![Pending::Group(group)],
                );
            }
        }
        self.checkpoint_tasks(&framework_id, &executor_id, &task_ids);
    }

    fn executor_mut(&mut self, framework_id: &str, executor_id: &str) -> Option<&mut Executor> {
        self.frameworks
            .get_mut(framework_id)?
            .executors
            .get_mut(executor_id)
    }

    /// Creates the executor record and starts launching its container in the background;
    /// [`AgentState::executor_launched`] hears how it went.
    fn launch_executor(
        &mut self,
        framework_id: &str,
        info: ExecutorInfo,
        command_executor: bool,
        resources: Vec<Resource>,
        tasks: BTreeMap<String, Task>,
        queued: Vec<Pending>,
    ) {
        let container_id = uuid::Uuid::new_v4().to_string();
        let agent_id = self.agent_id().value;
        let executor_id = info.executor_id.value.clone();
        let directory = paths::sandbox_dir(
            &self.options.work_dir,
            &agent_id,
            framework_id,
            &executor_id,
            &container_id,
        );
        let framework_info = self.frameworks[framework_id].info.clone();
        let context = launch::ExecutorContext {
            agent_endpoint: self.endpoint,
            agent_id: &agent_id,
            sandbox: &directory,
            sandbox_mount: self.containerizer.sandbox_mount_point(),
            recovery_timeout: self.options.recovery_timeout,
            shutdown_grace_period: self.options.executor_shutdown_grace_period,
        };
        let env = launch::executor_environment(&info, &framework_info, &context);
        let user = launch::executor_user(&info, &framework_info).map(str::to_string);
        let uris = launch::executor_uris(&info);
        let limits = launch::container_limits(&resources);
        let mount = self
            .containerizer
            .sandbox_mount_point()
            .map(std::path::Path::to_path_buf);
        let spec = match &info.command {
            Some(_) => launch::launch_spec(&info, env, directory.clone(), mount),
            // An executor without a command (a task group's DEFAULT executor) is ours.
            None => launch::launch_spec(
                &ExecutorInfo {
                    command: Some(crate::proto::mesos::v1::CommandInfo {
                        value: Some(self.options.default_executor.display().to_string()),
                        shell: Some(false),
                        arguments: vec!["mesos-default-executor".into()],
                        ..Default::default()
                    }),
                    ..info.clone()
                },
                env,
                directory.clone(),
                mount,
            ),
        };
        tracing::info!(
            "launching executor {executor_id} of framework {framework_id} in container {container_id}"
        );
        let executor = Executor {
            info,
            container_id: container_id.clone(),
            directory: directory.clone(),
            phase: ExecutorPhase::Launching,
            pid: None,
            command_executor,
            resources,
            connection: None,
            queued,
            tasks,
            completed_tasks: Vec::new(),
            registration_deadline: None,
            shutdown_deadline: None,
            termination_cause: None,
            recovered: false,
            destroying: false,
        };
        self.frameworks
            .get_mut(framework_id)
            .expect("remembered")
            .executors
            .insert(executor_id.clone(), executor);

        let containerizer = self.containerizer.clone();
        let handle = self.handle.clone();
        let framework_id = framework_id.to_string();
        tokio::spawn(async move {
            let result =
                prepare_and_launch(containerizer, &container_id, spec, user, uris, limits).await;
            handle.send(move |s| {
                s.executor_launched(&framework_id, &executor_id, &container_id, result)
            });
        });
    }

    /// The container of an executor was launched (or failed to be).
    fn executor_launched(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        result: Result<i32, String>,
    ) {
        let timeout = self.options.executor_registration_timeout;
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if executor.container_id != container_id {
            return;
        }
        match result {
            Ok(pid) => {
                executor.pid = Some(pid);
                let _ = paths::link_latest_run(&executor.directory);
                let directory = executor.directory.clone();
                self.attach_sandbox(framework_id, executor_id, &directory);
                let Some(executor) = self.executor_mut(framework_id, executor_id) else {
                    return;
                };
                if executor.phase == ExecutorPhase::Terminating {
                    // Killed while launching: end it now.
                    self.destroy_container(framework_id, executor_id);
                    return;
                }
                executor.phase = ExecutorPhase::Registering;
                executor.registration_deadline = Some(Instant::now() + timeout);
                let limits = launch::container_limits(&executor.resources);
                let command_executor = executor.command_executor;
                let run = RunRecord {
                    pid,
                    command_executor,
                    checkpoint: self.checkpointing(framework_id),
                    cpus: limits.cpus,
                    mem_bytes: limits.mem_bytes,
                };
                if let Err(e) =
                    self.checkpoints()
                        .write_run(framework_id, executor_id, container_id, &run)
                {
                    tracing::error!("cannot checkpoint container {container_id}: {e}");
                }
                self.watch_exit(framework_id, executor_id, container_id, pid);
            }
            Err(message) => {
                tracing::warn!("executor {executor_id} failed to launch: {message}");
                executor.termination_cause.get_or_insert((
                    TaskState::TaskFailed,
                    task_status::Reason::ContainerLaunchFailed,
                    format!("Failed to launch container: {message}"),
                ));
                self.counters.container_launch_errors += 1;
                self.executor_terminated(framework_id, executor_id, None);
            }
        }
    }

    /// Makes a sandbox browsable at its real path, at its executor's `runs/latest` and at
    /// Mesos' virtual `/frameworks/<fw>/executors/<ex>/runs/latest`.
    fn attach_sandbox(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        directory: &std::path::Path,
    ) {
        let latest = directory.with_file_name("latest");
        let virtual_latest =
            format!("/frameworks/{framework_id}/executors/{executor_id}/runs/latest");
        for path in [
            directory.display().to_string(),
            latest.display().to_string(),
            virtual_latest,
        ] {
            if let Err(e) = self.files.attach(&path, directory) {
                tracing::warn!("cannot attach sandbox {}: {e}", directory.display());
            }
        }
    }

    /// Removes the sandboxes and checkpoints whose time has come (checking the disk usage
    /// every `DISK_WATCH_INTERVAL`).
    fn collect_garbage(&mut self, now: Instant) {
        let check = self
            .last_disk_check
            .is_none_or(|at| now.saturating_duration_since(at) >= DISK_WATCH_INTERVAL);
        if check {
            self.last_disk_check = Some(now);
            if let Some(usage) = gc::disk_usage(&self.options.work_dir) {
                self.gc.disk_usage(usage);
            }
        }
        for path in self.gc.due(now) {
            self.files.detach(&path.display().to_string());
            let handle = self.handle.clone();
            tokio::task::spawn_blocking(move || {
                let removed = match std::fs::remove_dir_all(&path) {
                    Ok(()) => true,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                    Err(e) => {
                        tracing::warn!("cannot remove {}: {e}", path.display());
                        false
                    }
                };
                handle.send(move |s| {
                    if removed {
                        s.counters.gc_removals_succeeded += 1;
                    } else {
                        s.counters.gc_removals_failed += 1;
                    }
                });
            });
        }
    }

    /// Tells the state when the container's first process exits.
    fn watch_exit(&self, framework_id: &str, executor_id: &str, container_id: &str, pid: i32) {
        let handle = self.handle.clone();
        let (framework_id, executor_id, container_id) = (
            framework_id.to_string(),
            executor_id.to_string(),
            container_id.to_string(),
        );
        tokio::spawn(async move {
            super::exit_watch::exited(pid).await;
            handle.send(move |s| s.container_exited(&framework_id, &executor_id, &container_id));
        });
    }

    /// Takes back the containers an earlier run of the agent left: those of checkpointing
    /// frameworks are reconnected (their executors must subscribe again within
    /// `--executor_reregistration_timeout`) with their tasks and unacknowledged updates;
    /// the others, and all of them with `--recover=cleanup`, are destroyed.
    pub(super) fn recover(&mut self, runs: Vec<RecoveredRun>) {
        let now = Instant::now();
        let known: std::collections::HashSet<String> =
            runs.iter().map(|r| r.container_id.clone()).collect();
        for orphan in self.containerizer.orphans(&known) {
            tracing::info!("destroying orphan container {orphan}");
            let containerizer = self.containerizer.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = containerizer.destroy_orphan(&orphan) {
                    tracing::error!("cannot destroy orphan container {orphan}: {e}");
                }
            });
        }
        for run in runs {
            let limits = super::containerizer::isolator::ResourceLimits {
                cpus: run.run.cpus,
                mem_bytes: run.run.mem_bytes,
                pids: None,
            };
            if let Err(e) = self
                .containerizer
                .recover(&run.container_id, run.run.pid, &limits)
            {
                tracing::error!("cannot recover container {}: {e}", run.container_id);
                continue;
            }
            let keep = self.options.recover == super::RecoverMode::Reconnect && run.run.checkpoint;
            let (Some(framework), Some(info), true) =
                (run.framework.clone(), run.executor.clone(), keep)
            else {
                tracing::info!(
                    "destroying container {} left by the previous agent",
                    run.container_id
                );
                let containerizer = self.containerizer.clone();
                let checkpoints = self.checkpoints();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = containerizer.destroy(&run.container_id) {
                        tracing::error!("cannot destroy container {}: {e}", run.container_id);
                    }
                    let _ =
                        checkpoints.end_run(&run.framework_id, &run.executor_id, &run.container_id);
                });
                continue;
            };
            let framework_id = self.remember_framework(framework);
            let framework_key = FrameworkId {
                value: framework_id.clone(),
            };
            let mut tasks = BTreeMap::new();
            let mut resources = info.resources.clone();
            if run.run.command_executor {
                resources.extend(launch::command_executor_overhead());
            }
            for (mut task, updates) in run.tasks {
                resources.extend(task.resources.iter().cloned());
                if let Some(path) = updates {
                    if let Err(e) = self
                        .updates
                        .recover(&framework_key, &task.task_id, &path, now)
                    {
                        tracing::error!(
                            "cannot recover the updates of task {}: {e}",
                            task.task_id.value
                        );
                    }
                    if let Some(state) = self
                        .updates
                        .stream(&framework_key, &task.task_id)
                        .and_then(|s| s.latest_state())
                    {
                        task.state = state as i32;
                    }
                }
                tasks.insert(task.task_id.value.clone(), task);
            }
            let directory = paths::sandbox_dir(
                &self.options.work_dir,
                &self.agent_id().value,
                &framework_id,
                &run.executor_id,
                &run.container_id,
            );
            let executor = Executor {
                info,
                container_id: run.container_id.clone(),
                directory: directory.clone(),
                phase: ExecutorPhase::Registering,
                pid: Some(run.run.pid),
                command_executor: run.run.command_executor,
                resources,
                connection: None,
                queued: Vec::new(),
                tasks,
                completed_tasks: Vec::new(),
                registration_deadline: Some(now + self.options.executor_reregistration_timeout),
                shutdown_deadline: None,
                termination_cause: None,
                recovered: true,
                destroying: false,
            };
            tracing::info!(
                "recovered executor {} of framework {framework_id} in container {}",
                run.executor_id,
                run.container_id
            );
            self.frameworks
                .get_mut(&framework_id)
                .expect("remembered")
                .executors
                .insert(run.executor_id.clone(), executor);
            self.attach_sandbox(&framework_id, &run.executor_id, &directory);
            self.watch_exit(
                &framework_id,
                &run.executor_id,
                &run.container_id,
                run.run.pid,
            );
        }
    }

    // ----- executors' calls -----

    /// An executor's SUBSCRIBE: returns its events (SUBSCRIBED first, then its queued
    /// tasks) and the id of this connection.
    pub(super) fn subscribe_executor(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        subscribe: crate::proto::mesos::v1::executor::call::Subscribe,
    ) -> Result<(u64, mpsc::UnboundedReceiver<Event>), ExecutorCallError> {
        let connection_id = self.next_connection;
        self.next_connection += 1;
        let agent_info = self.info.clone();
        let framework_info = self
            .frameworks
            .get(framework_id)
            .map(|f| f.info.clone())
            .ok_or_else(|| {
                ExecutorCallError::BadRequest(format!("Framework {framework_id} is not known"))
            })?;
        let executor = self
            .executor_mut(framework_id, executor_id)
            .ok_or_else(|| {
                ExecutorCallError::BadRequest(format!(
                    "Executor {executor_id} of framework {framework_id} is not known"
                ))
            })?;
        if executor.phase == ExecutorPhase::Terminating {
            return Err(ExecutorCallError::Forbidden(format!(
                "Executor {executor_id} is terminating"
            )));
        }
        let (events, receiver) = mpsc::unbounded_channel();
        let _ = events.send(Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                executor_info: executor.info.clone(),
                framework_info,
                agent_info,
                container_id: Some(ContainerId {
                    value: executor.container_id.clone(),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        });
        executor.connection = Some(Connection {
            id: connection_id,
            events,
        });
        executor.phase = ExecutorPhase::Running;
        executor.registration_deadline = None;
        for pending in std::mem::take(&mut executor.queued) {
            let event = match pending {
                Pending::Task(task) => launch_event(*task),
                Pending::Group(group) => launch_group_event(group),
            };
            send_event(executor, event);
        }
        tracing::info!("executor {executor_id} of framework {framework_id} subscribed");
        // Updates the executor sent that the agent may have missed (it restarted).
        for update in subscribe.unacknowledged_updates {
            let _ = self.executor_update(framework_id, executor_id, update.status);
        }
        Ok((connection_id, receiver))
    }

    /// An executor's subscription stream closed.
    pub(super) fn executor_disconnected(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        connection_id: u64,
    ) {
        if let Some(executor) = self.executor_mut(framework_id, executor_id) {
            if executor.connection.as_ref().map(|c| c.id) == Some(connection_id) {
                executor.connection = None;
            }
        }
    }

    /// An executor's UPDATE: checkpointed (for checkpointing frameworks) and forwarded.
    pub(super) fn executor_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        status: TaskStatus,
    ) -> Result<(), ExecutorCallError> {
        let result = self.accept_executor_update(framework_id, executor_id, status);
        match result {
            Ok(()) => self.counters.valid_status_updates += 1,
            Err(_) => self.counters.invalid_status_updates += 1,
        }
        result
    }

    fn accept_executor_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        mut status: TaskStatus,
    ) -> Result<(), ExecutorCallError> {
        if status.uuid.as_deref().map(<[u8]>::len) != Some(16) {
            return Err(ExecutorCallError::BadRequest(
                "Expecting 'status.uuid' to be 16 bytes".into(),
            ));
        }
        if task_state(status.state) == TaskState::TaskStaging {
            return Err(ExecutorCallError::BadRequest(
                "Received TASK_STAGING from executor".into(),
            ));
        }
        let containerizer = self.containerizer.clone();
        let executor = self
            .executor_mut(framework_id, executor_id)
            .ok_or_else(|| {
                ExecutorCallError::BadRequest(format!(
                    "Executor {executor_id} of framework {framework_id} is not known"
                ))
            })?;
        status.executor_id = Some(executor.info.executor_id.clone());
        status.container_status = Some(ContainerStatus {
            container_id: Some(ContainerId {
                value: executor.container_id.clone(),
                ..Default::default()
            }),
            executor_pid: executor.pid.map(|p| p as u32),
            ..Default::default()
        });
        // A task the kernel killed for its memory limit is reported as Mesos does.
        if task_state(status.state) == TaskState::TaskFailed {
            if let Ok(limitations) = containerizer.limitations(&executor.container_id) {
                if let Some(limit) = limitations.first() {
                    status.reason =
                        task_status::Reason::from_str_name(limit.reason).map(|r| r as i32);
                    status.message = Some(limit.message.clone());
                    status.source = Some(task_status::Source::Agent as i32);
                }
            }
        }
        self.accept_update(framework_id, status)
            .map_err(|e| ExecutorCallError::Unavailable(e.to_string()))
    }

    /// An executor's MESSAGE, for its scheduler.
    pub(super) fn executor_message(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        data: Vec<u8>,
    ) {
        self.send_master(agent_call::Type::ExecutorMessage, |c| {
            c.executor_message = Some(agent_call::ExecutorMessage {
                framework_id: FrameworkId {
                    value: framework_id.to_string(),
                },
                executor_id: ExecutorId {
                    value: executor_id.to_string(),
                },
                data,
            })
        });
    }

    // ----- status updates -----

    /// Records a task's new state and hands the update to the status update manager.
    fn accept_update(
        &mut self,
        framework_id: &str,
        mut status: TaskStatus,
    ) -> Result<(), StatusUpdateError> {
        status.agent_id = self.info.id.clone();
        if status.timestamp.is_none() {
            status.timestamp = Some(wall_clock());
        }
        let task_id = status.task_id.value.clone();
        let agent_id = self.agent_id().value;
        let work_dir = self.options.work_dir.clone();
        let mut checkpoint = None;
        let mut became_terminal = None;
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            let checkpointing = framework.info.checkpoint.unwrap_or(false);
            if let Some(executor) = framework
                .executors
                .values_mut()
                .find(|e| e.tasks.contains_key(&task_id))
            {
                if checkpointing {
                    checkpoint = Some(Checkpoints::new(&work_dir, &agent_id).task_updates(
                        framework_id,
                        &executor.info.executor_id.value,
                        &executor.container_id,
                        &task_id,
                    ));
                }
                if let Some(task) = executor.tasks.get_mut(&task_id) {
                    if !is_terminal(task.state) {
                        if is_terminal(status.state) {
                            became_terminal = Some(status.state);
                        }
                        task.state = status.state;
                        task.status_update_state = Some(status.state);
                        task.status_update_uuid = status.uuid.clone();
                        task.statuses.push(status.clone());
                    }
                }
            }
        }
        if let Some(state) = became_terminal {
            self.count_terminal(state);
        }
        let framework = FrameworkId {
            value: framework_id.to_string(),
        };
        if let Some(dir) = checkpoint.as_ref().and_then(|c| c.parent()) {
            std::fs::create_dir_all(dir).map_err(|source| StatusUpdateError::Io {
                action: "create",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        match self
            .updates
            .update(&framework, status, checkpoint.as_deref(), Instant::now())?
        {
            UpdateOutcome::Forward(update) => self.forward(update),
            UpdateOutcome::Queued | UpdateOutcome::Duplicate => {}
        }
        Ok(())
    }

    /// An update the agent itself generates for a task (source AGENT).
    fn agent_update(
        &mut self,
        framework_id: &str,
        task_id: &TaskId,
        executor_id: Option<&ExecutorId>,
        state: TaskState,
        reason: task_status::Reason,
        message: String,
    ) {
        let status = TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            message: Some(message),
            source: Some(task_status::Source::Agent as i32),
            reason: Some(reason as i32),
            executor_id: executor_id.cloned(),
            uuid: Some(uuid::Uuid::new_v4().as_bytes().to_vec()),
            ..Default::default()
        };
        if let Err(e) = self.accept_update(framework_id, status) {
            tracing::error!("cannot record an update of task {}: {e}", task_id.value);
        }
    }

    /// The framework acknowledged an update: tell the executor that sent it, forward the
    /// next one, and forget the task once its terminal update is acknowledged.
    fn acknowledge(&mut self, framework_id: &FrameworkId, task_id: &TaskId, uuid: &[u8]) {
        let from_executor = self
            .updates
            .stream(framework_id, task_id)
            .and_then(|s| s.head())
            .filter(|(head, _)| head.as_bytes().as_slice() == uuid)
            .map(|(_, status)| status.source == Some(task_status::Source::Executor as i32))
            .unwrap_or(false);
        let outcome = match self
            .updates
            .acknowledge(framework_id, task_id, uuid, Instant::now())
        {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!("ignoring acknowledgement of task {}: {e}", task_id.value);
                return;
            }
        };
        if let Some(next) = outcome.next {
            self.forward(next);
        }
        let Some(framework) = self.frameworks.get_mut(&framework_id.value) else {
            return;
        };
        if let Some((executor_id, executor)) = framework
            .executors
            .iter_mut()
            .find(|(_, e)| e.tasks.contains_key(&task_id.value))
        {
            let executor_id = executor_id.clone();
            if from_executor {
                send_event(
                    executor,
                    Event {
                        r#type: Some(event::Type::Acknowledged as i32),
                        acknowledged: Some(event::Acknowledged {
                            task_id: task_id.clone(),
                            uuid: uuid.to_vec(),
                        }),
                        ..Default::default()
                    },
                );
            }
            if !outcome.terminated {
                return;
            }
            let _ = self.updates.remove(framework_id, task_id);
            if let Some(task) = executor.tasks.remove(&task_id.value) {
                executor.completed_tasks.push(task);
            }
            let idle = executor.tasks.is_empty()
                && executor.phase != ExecutorPhase::Terminating
                && executor.command_executor;
            if idle {
                // The command executor exits by itself; make sure it does.
                let framework_id = framework_id.value.clone();
                self.shutdown_executor(
                    &framework_id,
                    &executor_id,
                    TaskState::TaskKilled,
                    task_status::Reason::ExecutorTerminated,
                    "Executor has no more tasks",
                );
            }
        } else if outcome.terminated {
            // A task of an executor that already ended.
            let _ = self.updates.remove(framework_id, task_id);
            if let Some(executor) = framework
                .completed_executors
                .iter_mut()
                .find(|e| e.tasks.contains_key(&task_id.value))
            {
                if let Some(task) = executor.tasks.remove(&task_id.value) {
                    executor.completed_tasks.push(task);
                }
            }
            self.retire_framework_if_idle(&framework_id.value);
        }
    }

    // ----- kills and shutdowns -----

    fn kill_task(
        &mut self,
        framework_id: &str,
        task_id: TaskId,
        kill_policy: Option<crate::proto::mesos::v1::KillPolicy>,
    ) {
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            tracing::warn!(
                "ignoring kill of task {} of unknown framework {framework_id}",
                task_id.value
            );
            return;
        };
        let Some((executor_id, executor)) = framework
            .executors
            .iter_mut()
            .find(|(_, e)| e.tasks.contains_key(&task_id.value))
        else {
            tracing::warn!("ignoring kill of unknown task {}", task_id.value);
            return;
        };
        let executor_id = executor_id.clone();
        let queued = executor.queued.iter().position(|p| match p {
            Pending::Task(t) => t.task_id == task_id,
            Pending::Group(g) => g.tasks.iter().any(|t| t.task_id == task_id),
        });
        if let Some(index) = queued {
            // Not handed to the executor yet: killed here (a whole group with it).
            let ids: Vec<TaskId> = match executor.queued.remove(index) {
                Pending::Task(t) => vec![t.task_id.clone()],
                Pending::Group(g) => g.tasks.into_iter().map(|t| t.task_id).collect(),
            };
            let owned_executor = executor.info.executor_id.clone();
            let no_work = executor.queued.is_empty();
            for id in ids {
                self.agent_update(
                    framework_id,
                    &id,
                    Some(&owned_executor),
                    TaskState::TaskKilled,
                    task_status::Reason::TaskKilledDuringLaunch,
                    "Killed before delivery to the executor".into(),
                );
            }
            if no_work {
                self.shutdown_executor(
                    framework_id,
                    &executor_id,
                    TaskState::TaskKilled,
                    task_status::Reason::TaskKilledDuringLaunch,
                    "Killed before delivery to the executor",
                );
            }
            return;
        }
        if executor.connection.is_some() {
            send_event(
                executor,
                Event {
                    r#type: Some(event::Type::Kill as i32),
                    kill: Some(event::Kill {
                        task_id,
                        kill_policy,
                    }),
                    ..Default::default()
                },
            );
        } else {
            // Its executor is gone or not reachable: end the executor, which ends the task.
            self.shutdown_executor(
                framework_id,
                &executor_id,
                TaskState::TaskKilled,
                task_status::Reason::ExecutorTerminated,
                "Task killed while its executor was disconnected",
            );
        }
    }

    fn framework_message(&mut self, message: agent_event::FrameworkMessage) {
        let Some(executor) =
            self.executor_mut(&message.framework_id.value, &message.executor_id.value)
        else {
            tracing::warn!(
                "dropping a message for unknown executor {}",
                message.executor_id.value
            );
            self.counters.invalid_framework_messages += 1;
            return;
        };
        send_event(
            executor,
            Event {
                r#type: Some(event::Type::Message as i32),
                message: Some(event::Message { data: message.data }),
                ..Default::default()
            },
        );
        self.counters.valid_framework_messages += 1;
    }

    /// Ends an executor: SHUTDOWN to a subscribed one, then its container is destroyed
    /// after `--executor_shutdown_grace_period`; at once otherwise. Its unfinished tasks
    /// get `state` with `reason`.
    pub(super) fn shutdown_executor(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        state: TaskState,
        reason: task_status::Reason,
        message: &str,
    ) {
        let grace = self.options.executor_shutdown_grace_period;
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        executor
            .termination_cause
            .get_or_insert((state, reason, message.to_string()));
        let phase = executor.phase;
        executor.phase = ExecutorPhase::Terminating;
        match phase {
            ExecutorPhase::Terminating | ExecutorPhase::Launching => {}
            ExecutorPhase::Running if executor.connection.is_some() => {
                send_event(
                    executor,
                    Event {
                        r#type: Some(event::Type::Shutdown as i32),
                        ..Default::default()
                    },
                );
                executor.shutdown_deadline = Some(Instant::now() + grace);
            }
            ExecutorPhase::Running | ExecutorPhase::Registering => {
                self.destroy_container(framework_id, executor_id);
            }
        }
    }

    fn shutdown_framework(&mut self, framework_id: &str) {
        let ids: Vec<String> = match self.frameworks.get(framework_id) {
            Some(f) => f.executors.keys().cloned().collect(),
            None => return,
        };
        for id in ids {
            self.shutdown_executor(
                framework_id,
                &id,
                TaskState::TaskKilled,
                task_status::Reason::ExecutorTerminated,
                "Framework shut down",
            );
        }
        self.retire_framework_if_idle(framework_id);
    }

    /// KILL_CONTAINER: destroys the container; its executor's unfinished tasks fail.
    pub(super) fn kill_container(&mut self, container_id: &str) -> Result<(), String> {
        let found = self.frameworks.iter().find_map(|(f, framework)| {
            framework
                .executors
                .iter()
                .find(|(_, e)| e.container_id == container_id)
                .map(|(e, _)| (f.clone(), e.clone()))
        });
        let (framework_id, executor_id) =
            found.ok_or_else(|| format!("Container {container_id} not found"))?;
        if let Some(executor) = self.executor_mut(&framework_id, &executor_id) {
            executor.termination_cause.get_or_insert((
                TaskState::TaskFailed,
                task_status::Reason::ExecutorTerminated,
                "Container killed by the operator".to_string(),
            ));
        }
        self.destroy_container(&framework_id, &executor_id);
        Ok(())
    }

    /// Shuts down every executor (the agent is stopping or was told to).
    pub(super) fn shutdown_all(&mut self) {
        let ids: Vec<String> = self.frameworks.keys().cloned().collect();
        for id in ids {
            self.shutdown_framework(&id);
        }
    }

    /// Kills the executor's container in the background.
    fn destroy_container(&mut self, framework_id: &str, executor_id: &str) {
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        executor.phase = ExecutorPhase::Terminating;
        executor.shutdown_deadline = None;
        if executor.pid.is_none() || executor.destroying {
            // Still launching (executor_launched destroys it), or already being destroyed.
            return;
        }
        executor.destroying = true;
        let container_id = executor.container_id.clone();
        let containerizer = self.containerizer.clone();
        let handle = self.handle.clone();
        let (framework_id, executor_id) = (framework_id.to_string(), executor_id.to_string());
        tokio::task::spawn_blocking(move || {
            let termination = containerizer.destroy(&container_id);
            handle.send(move |s| {
                s.container_destroyed(&framework_id, &executor_id, &container_id, termination)
            });
        });
    }

    /// The executor's first process exited: destroy the rest of its container.
    fn container_exited(&mut self, framework_id: &str, executor_id: &str, container_id: &str) {
        let same = self
            .executor_mut(framework_id, executor_id)
            .map(|e| e.container_id == container_id)
            .unwrap_or(false);
        if same {
            self.destroy_container(framework_id, executor_id);
        }
    }

    fn container_destroyed(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        termination: Result<Termination, super::containerizer::ContainerizerError>,
    ) {
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if executor.container_id != container_id {
            return;
        }
        let termination = match termination {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!("destroying container {container_id}: {e}");
                None
            }
        };
        if let Some(limit) = termination.as_ref().and_then(|t| t.limitations.first()) {
            let reason = task_status::Reason::from_str_name(limit.reason)
                .unwrap_or(task_status::Reason::ExecutorTerminated);
            executor.termination_cause =
                Some((TaskState::TaskFailed, reason, limit.message.clone()));
        }
        let status = termination.and_then(|t| t.status);
        self.executor_terminated(framework_id, executor_id, status);
    }

    /// The executor is gone: its unfinished tasks get a terminal update, the master
    /// hears of it, and it moves to the completed executors.
    fn executor_terminated(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        status: Option<super::containerizer::launcher::ExitStatus>,
    ) {
        let checkpoints = self.checkpoints();
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return;
        };
        let Some(mut executor) = framework.executors.remove(executor_id) else {
            return;
        };
        self.counters.executors_terminated += 1;
        let (state, reason, message) = executor.termination_cause.take().unwrap_or_else(|| {
            (
                TaskState::TaskFailed,
                task_status::Reason::ExecutorTerminated,
                match status {
                    Some(super::containerizer::launcher::ExitStatus::Exited(code)) => {
                        format!("Executor exited with status {code}")
                    }
                    Some(super::containerizer::launcher::ExitStatus::Signaled(signal)) => {
                        format!("Executor terminated by signal {signal}")
                    }
                    Some(super::containerizer::launcher::ExitStatus::Unknown) | None => {
                        "Executor terminated".to_string()
                    }
                },
            )
        });
        let ended = Instant::now();
        self.gc.schedule(executor.directory.clone(), ended);
        self.gc.schedule(
            checkpoints.run_dir(framework_id, executor_id, &executor.container_id),
            ended,
        );
        if let Err(e) = checkpoints.end_run(framework_id, executor_id, &executor.container_id) {
            tracing::error!("cannot checkpoint the end of executor {executor_id}: {e}");
        }
        let unfinished: Vec<TaskId> = executor
            .tasks
            .values()
            .filter(|t| !is_terminal(t.state))
            .map(|t| t.task_id.clone())
            .collect();
        let info_id = executor.info.executor_id.clone();
        executor.phase = ExecutorPhase::Terminating;
        executor.connection = None;
        // Keep the record reachable for the updates below, then retire it.
        let retired_tasks: Vec<Task> = std::mem::take(&mut executor.tasks).into_values().collect();
        let container_id = executor.container_id.clone();
        framework.completed_executors.push_back(executor);
        if framework.completed_executors.len() > MAX_COMPLETED {
            if let Some(old) = framework.completed_executors.pop_front() {
                self.files.detach(&old.directory.display().to_string());
            }
        }
        // Tasks whose streams are still open go to a holding executor entry so their
        // acknowledgements still find them.
        let holder = framework
            .completed_executors
            .back_mut()
            .expect("just pushed");
        for task in retired_tasks {
            if is_terminal(task.state)
                && self
                    .updates
                    .stream(&task.framework_id, &task.task_id)
                    .is_none()
            {
                holder.completed_tasks.push(task);
            } else {
                holder.tasks.insert(task.task_id.value.clone(), task);
            }
        }
        tracing::info!("executor {executor_id} of framework {framework_id} (container {container_id}) terminated");
        for task_id in unfinished {
            self.terminal_update_for_retired(
                framework_id,
                &task_id,
                &info_id,
                state,
                reason,
                &message,
            );
        }
        self.send_master(agent_call::Type::ExecutorExited, |c| {
            c.executor_exited = Some(agent_call::ExecutorExited {
                framework_id: FrameworkId {
                    value: framework_id.to_string(),
                },
                executor_id: info_id.clone(),
                status: status.and_then(|s| match s {
                    super::containerizer::launcher::ExitStatus::Exited(code) => {
                        Some((code & 0xff) << 8)
                    }
                    super::containerizer::launcher::ExitStatus::Signaled(signal) => {
                        Some(signal & 0x7f)
                    }
                    super::containerizer::launcher::ExitStatus::Unknown => None,
                }),
            })
        });
        self.retire_framework_if_idle(framework_id);
    }

    /// A terminal update for a task of an executor that already ended.
    fn terminal_update_for_retired(
        &mut self,
        framework_id: &str,
        task_id: &TaskId,
        executor_id: &ExecutorId,
        state: TaskState,
        reason: task_status::Reason,
        message: &str,
    ) {
        let status = TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            message: Some(message.to_string()),
            source: Some(task_status::Source::Agent as i32),
            reason: Some(reason as i32),
            executor_id: Some(executor_id.clone()),
            agent_id: self.info.id.clone(),
            timestamp: Some(wall_clock()),
            uuid: Some(uuid::Uuid::new_v4().as_bytes().to_vec()),
            ..Default::default()
        };
        if let Some(task) = self.frameworks.get_mut(framework_id).and_then(|f| {
            f.completed_executors
                .iter_mut()
                .rev()
                .find_map(|e| e.tasks.get_mut(&task_id.value))
        }) {
            task.state = status.state;
            task.statuses.push(status.clone());
        }
        self.count_terminal(status.state);
        let framework = FrameworkId {
            value: framework_id.to_string(),
        };
        match self
            .updates
            .update(&framework, status, None, Instant::now())
        {
            Ok(UpdateOutcome::Forward(update)) => self.forward(update),
            Ok(_) => {}
            Err(e) => tracing::error!("cannot record an update of task {}: {e}", task_id.value),
        }
    }

    /// Moves a framework without executors and open update streams to the completed ones.
    fn retire_framework_if_idle(&mut self, framework_id: &str) {
        let idle = self
            .frameworks
            .get(framework_id)
            .map(|f| {
                f.executors.is_empty()
                    && !self
                        .updates
                        .streams()
                        .any(|k| k.framework_id.value == framework_id)
            })
            .unwrap_or(false);
        if idle {
            if let Some(framework) = self.frameworks.remove(framework_id) {
                self.updates.remove_framework(&FrameworkId {
                    value: framework_id.to_string(),
                });
                self.completed_frameworks.push_back(framework);
                if self.completed_frameworks.len() > MAX_COMPLETED {
                    self.completed_frameworks.pop_front();
                }
            }
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

/// Makes the sandbox (owned by `user`), fetches the URIs into it and launches the
/// container; the pid or why it failed.
async fn prepare_and_launch(
    containerizer: Arc<Containerizer>,
    container_id: &str,
    mut spec: super::containerizer::launcher::LaunchSpec,
    user: Option<String>,
    uris: Vec<crate::proto::mesos::v1::command_info::Uri>,
    limits: super::containerizer::isolator::ResourceLimits,
) -> Result<i32, String> {
    let sandbox = spec.sandbox.clone();
    tokio::fs::create_dir_all(&sandbox)
        .await
        .map_err(|e| format!("cannot create sandbox {}: {e}", sandbox.display()))?;
    if let Some(user) = &user {
        let ids = launch::resolve_user(user)?;
        std::os::unix::fs::chown(&sandbox, Some(ids.0), Some(ids.1))
            .map_err(|e| format!("cannot give sandbox {} to {user}: {e}", sandbox.display()))?;
        spec.user = Some(ids);
    }
    if !uris.is_empty() {
        super::fetcher::fetch(&uris, &sandbox, Default::default())
            .await
            .map_err(|e| format!("Failed to fetch URIs: {e}"))?;
    }
    let id = container_id.to_string();
    tokio::task::spawn_blocking(move || containerizer.launch(&id, &spec, &limits))
        .await
        .map_err(|e| format!("launch task failed: {e}"))?
        .map_err(|e| e.to_string())
}
