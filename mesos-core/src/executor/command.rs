//! The built-in command executor's logic (Mesos' `mesos-executor`), as a state machine.
//!
//! It runs the one task it is given: TASK_STARTING, the command in its own process group,
//! TASK_RUNNING once forked, and a terminal update from how the command ended. KILL and
//! SHUTDOWN kill the process group with a grace period. The executor is done once its
//! terminal update is acknowledged.
//!
//! [`CommandExecutor`] does no IO: it takes events (from the agent, and about the process)
//! and returns [`Action`]s for its runner (see [`super::runner`]) to carry out, so every
//! decision is tested without an agent or a process.

use std::time::Duration;

use super::client::event_type;
use super::env::ExecutorEnvironment;
use super::process::{ProcessError, ProcessSpec, Termination, UserIds};
use crate::proto::mesos::v1::executor::{event, Event};
use crate::proto::mesos::v1::{
    environment, framework_info, task_status, ExecutorId, KillPolicy, TaskId, TaskInfo,
    TaskState, TaskStatus,
};

/// The kill grace period when neither the KILL nor the task gives one (Mesos' command
/// executor default).
pub const DEFAULT_KILL_GRACE_PERIOD: Duration = Duration::from_secs(3);

/// How much of the executor shutdown grace period is kept back, after killing the task, to
/// send TASK_KILLED before the agent kills the executor.
pub const SHUTDOWN_MARGIN: Duration = Duration::from_secs(1);

/// Something the runner must do for the command executor.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this status update (an UPDATE call) to the agent.
    Update(TaskStatus),
    /// Start the task's process, then report [`CommandExecutor::on_launched`] or
    /// [`CommandExecutor::on_process_error`].
    Launch(ProcessSpec),
    /// SIGTERM the task's process group now, SIGKILL it after `grace` if it is still there;
    /// then report [`CommandExecutor::on_exited`].
    Kill {
        /// How long the process may take to end after SIGTERM.
        grace: Duration,
    },
    /// The executor is done: exit.
    Exit,
}

/// What the command executor needs to know besides the agent's events.
#[derive(Debug, Clone)]
pub struct CommandExecutorConfig {
    /// This executor's id (set on every update).
    pub executor_id: ExecutorId,
    /// The task's working directory (`MESOS_SANDBOX`).
    pub sandbox: std::path::PathBuf,
    /// How long the agent waits after a SHUTDOWN before killing the executor.
    pub shutdown_grace_period: Duration,
    /// The environment the task starts from (the executor's own); the task's
    /// `CommandInfo.environment` is added to it.
    pub base_env: Vec<(String, String)>,
    /// The effective user id the executor runs as: only root switches the task's user.
    pub euid: u32,
}

impl CommandExecutorConfig {
    /// The configuration for an executor started with `env`, whose own process environment
    /// is `base_env`, running as effective user `euid`.
    pub fn new(env: &ExecutorEnvironment, base_env: Vec<(String, String)>, euid: u32) -> Self {
        CommandExecutorConfig {
            executor_id: env.executor_id.clone(),
            sandbox: env.sandbox.clone(),
            shutdown_grace_period: env.shutdown_grace_period.as_std(),
            base_env,
            euid,
        }
    }
}

/// The one task of the executor.
#[derive(Debug)]
struct Task {
    info: TaskInfo,
    /// The process id once forked.
    pid: Option<u32>,
    /// A kill (KILL or SHUTDOWN) was started.
    killing: bool,
    /// The uuid of the terminal update once sent.
    terminal_uuid: Option<Vec<u8>>,
}

/// The command executor's state: what the agent told it and where its task is.
#[derive(Debug)]
pub struct CommandExecutor {
    config: CommandExecutorConfig,
    subscribed: Option<event::Subscribed>,
    task: Option<Task>,
    /// A SHUTDOWN came, or the agent is gone: end as soon as the task has.
    shutting_down: bool,
}

impl CommandExecutor {
    /// A command executor that has not subscribed yet.
    pub fn new(config: CommandExecutorConfig) -> CommandExecutor {
        CommandExecutor {
            config,
            subscribed: None,
            task: None,
            shutting_down: false,
        }
    }

    /// Whether the terminal update was sent and the executor waits for its acknowledgement.
    pub fn awaiting_terminal_ack(&self) -> bool {
        self.task
            .as_ref()
            .is_some_and(|task| task.terminal_uuid.is_some())
    }

    /// Whether the executor is ending (SHUTDOWN, or the agent is gone).
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Handles an event from the agent.
    pub fn on_event(&mut self, event: Event) -> Vec<Action> {
        let kind = event_type(&event);
        eprintln!("Received {} event", kind.as_str_name());
        match kind {
            event::Type::Subscribed => match event.subscribed {
                Some(subscribed) => self.on_subscribed(subscribed),
                None => Vec::new(),
            },
            event::Type::Launch => match event.launch {
                Some(launch) => self.on_launch(launch.task),
                None => Vec::new(),
            },
            event::Type::LaunchGroup => event
                .launch_group
                .map(|launch| launch.task_group.tasks)
                .unwrap_or_default()
                .into_iter()
                .map(|task| {
                    Action::Update(self.status(
                        task.task_id,
                        TaskState::TaskFailed,
                        "The command executor cannot run task groups (LAUNCH_GROUP)",
                    ))
                })
                .collect(),
            event::Type::Kill => match event.kill {
                Some(kill) => self.on_kill(&kill.task_id, kill.kill_policy.as_ref()),
                None => Vec::new(),
            },
            event::Type::Acknowledged => match event.acknowledged {
                Some(ack) => self.on_acknowledged(&ack.task_id, &ack.uuid),
                None => Vec::new(),
            },
            event::Type::Shutdown => self.on_shutdown(),
            event::Type::Error => {
                if let Some(error) = event.error {
                    eprintln!("Error from the agent: {}", error.message);
                }
                Vec::new()
            }
            event::Type::Message | event::Type::Heartbeat | event::Type::Unknown => Vec::new(),
        }
    }

    /// The task's process was forked as `pid`: it is running.
    pub fn on_launched(&mut self, pid: u32) -> Vec<Action> {
        eprintln!("Forked command at {pid}");
        let Some(task) = self.task.as_mut() else {
            return Vec::new();
        };
        task.pid = Some(pid);
        let task_id = task.info.task_id.clone();
        vec![Action::Update(self.status(
            task_id,
            TaskState::TaskRunning,
            "",
        ))]
    }

    /// The task's process could not be started or waited for: the task failed.
    pub fn on_process_error(&mut self, error: &ProcessError) -> Vec<Action> {
        eprintln!("{error}");
        let message = format!("Failed to run the command: {error}");
        self.terminate(TaskState::TaskFailed, message)
    }

    /// The task's process ended.
    pub fn on_exited(&mut self, ended: Termination) -> Vec<Action> {
        let Some(task) = self.task.as_ref() else {
            return Vec::new();
        };
        let what = format!("Command {}", ended.describe());
        match task.pid {
            Some(pid) => eprintln!("{what} (pid: {pid})"),
            None => eprintln!("{what}"),
        }
        let state = if task.killing {
            TaskState::TaskKilled
        } else if ended.succeeded() {
            TaskState::TaskFinished
        } else {
            TaskState::TaskFailed
        };
        self.terminate(state, what)
    }

    /// The connection to the agent is over for good: kill the task and end.
    pub fn on_agent_gone(&mut self) -> Vec<Action> {
        eprintln!("The agent is gone: shutting down");
        self.on_shutdown()
    }

    fn on_subscribed(&mut self, subscribed: event::Subscribed) -> Vec<Action> {
        let agent = &subscribed.agent_info;
        eprintln!("Subscribed executor on {}", agent.hostname);
        self.subscribed = Some(subscribed);
        Vec::new()
    }

    fn on_launch(&mut self, info: TaskInfo) -> Vec<Action> {
        if self.task.is_some() {
            return vec![Action::Update(self.status(
                info.task_id,
                TaskState::TaskFailed,
                "Attempted to run multiple tasks using a \"command\" executor",
            ))];
        }
        eprintln!("Starting task {}", info.task_id.value);
        let spec = self.process_spec(&info);
        let task_id = info.task_id.clone();
        self.task = Some(Task {
            info,
            pid: None,
            killing: false,
            terminal_uuid: None,
        });
        match spec {
            Ok(spec) => vec![
                Action::Update(self.status(task_id, TaskState::TaskStarting, "")),
                Action::Launch(spec),
            ],
            Err(message) => {
                eprintln!("{message}");
                self.terminate(TaskState::TaskFailed, message)
            }
        }
    }

    fn on_kill(&mut self, task_id: &TaskId, policy: Option<&KillPolicy>) -> Vec<Action> {
        let Some(task) = self.task.as_ref() else {
            eprintln!("Ignoring a kill of unknown task {}", task_id.value);
            return Vec::new();
        };
        if task.info.task_id != *task_id {
            eprintln!("Ignoring a kill of unknown task {}", task_id.value);
            return Vec::new();
        }
        let grace = grace_period(policy)
            .or_else(|| grace_period(task.info.kill_policy.as_ref()))
            .unwrap_or(DEFAULT_KILL_GRACE_PERIOD);
        self.kill(grace)
    }

    fn on_shutdown(&mut self) -> Vec<Action> {
        self.shutting_down = true;
        let budget = self
            .config
            .shutdown_grace_period
            .saturating_sub(SHUTDOWN_MARGIN);
        let grace = self
            .task
            .as_ref()
            .and_then(|task| grace_period(task.info.kill_policy.as_ref()))
            .map_or(budget, |grace| grace.min(budget));
        let mut actions = self.kill(grace);
        let running = self
            .task
            .as_ref()
            .is_some_and(|task| task.pid.is_some() && task.terminal_uuid.is_none());
        if !running {
            actions.push(Action::Exit);
        }
        actions
    }

    fn on_acknowledged(&mut self, task_id: &TaskId, uuid: &[u8]) -> Vec<Action> {
        let terminal_acked = self.task.as_ref().is_some_and(|task| {
            task.info.task_id == *task_id && task.terminal_uuid.as_deref() == Some(uuid)
        });
        if terminal_acked {
            vec![Action::Exit]
        } else {
            Vec::new()
        }
    }

    /// Starts killing the running task with `grace`, announcing TASK_KILLING when the
    /// framework understands it; nothing if there is nothing (more) to kill.
    fn kill(&mut self, grace: Duration) -> Vec<Action> {
        let killing_state = self.framework_has(framework_info::capability::Type::TaskKillingState);
        let Some(task) = self.task.as_mut() else {
            return Vec::new();
        };
        if task.killing || task.pid.is_none() || task.terminal_uuid.is_some() {
            return Vec::new();
        }
        task.killing = true;
        eprintln!(
            "Sending SIGTERM to process tree at pid {} (grace period {grace:?})",
            task.pid.unwrap_or_default()
        );
        let task_id = task.info.task_id.clone();
        let mut actions = Vec::new();
        if killing_state {
            actions.push(Action::Update(self.status(
                task_id,
                TaskState::TaskKilling,
                "",
            )));
        }
        actions.push(Action::Kill { grace });
        actions
    }

    /// Sends the task's terminal update; when shutting down, ends right after it.
    fn terminate(&mut self, state: TaskState, message: String) -> Vec<Action> {
        let Some(task_id) = self.task.as_ref().map(|task| task.info.task_id.clone()) else {
            return Vec::new();
        };
        let status = self.status(task_id, state, &message);
        if let Some(task) = self.task.as_mut() {
            task.terminal_uuid = status.uuid.clone();
        }
        let mut actions = vec![Action::Update(status)];
        if self.shutting_down {
            actions.push(Action::Exit);
        }
        actions
    }

    /// The process to run for `task`, or why it cannot run (the TASK_FAILED message).
    fn process_spec(&self, task: &TaskInfo) -> Result<ProcessSpec, String> {
        let command = task
            .command
            .as_ref()
            .ok_or("The command executor needs a task with a command (TaskInfo.command)")?;
        let value = command
            .value
            .as_deref()
            .filter(|value| !value.is_empty())
            .ok_or("The task's command has no value to run")?;
        let mut env = self.config.base_env.clone();
        for variable in command.environment.iter().flat_map(|e| &e.variables) {
            let is_secret = variable.r#type() == environment::variable::Type::Secret
                || variable.secret.is_some();
            if is_secret {
                return Err(format!(
                    "Secret environment variable '{}' is not supported by the command executor",
                    variable.name
                ));
            }
            let value = variable.value.clone().unwrap_or_default();
            env.retain(|(name, _)| *name != variable.name);
            env.push((variable.name.clone(), value));
        }
        let cwd = self.config.sandbox.clone();
        let mut spec = if command.shell.unwrap_or(true) {
            ProcessSpec::shell(value, env, cwd)
        } else {
            ProcessSpec::exec(value, command.arguments.clone(), env, cwd)
        };
        let user = command
            .user
            .as_deref()
            .or(self.subscribed.as_ref().map(|s| s.framework_info.user.as_str()))
            .filter(|user| !user.is_empty());
        if let Some(user) = user {
            let ids = UserIds::lookup(user).map_err(|e| e.to_string())?;
            if self.config.euid == 0 && ids.uid != 0 {
                spec.user = Some(ids);
            }
        }
        Ok(spec)
    }

    fn framework_has(&self, capability: framework_info::capability::Type) -> bool {
        self.subscribed.as_ref().is_some_and(|s| {
            s.framework_info
                .capabilities
                .iter()
                .any(|c| c.r#type == Some(capability as i32))
        })
    }

    /// A fresh update from this executor about `task_id`.
    fn status(&self, task_id: TaskId, state: TaskState, message: &str) -> TaskStatus {
        TaskStatus {
            task_id,
            state: state as i32,
            message: (!message.is_empty()).then(|| message.to_string()),
            source: Some(task_status::Source::Executor as i32),
            agent_id: self
                .subscribed
                .as_ref()
                .and_then(|s| s.agent_info.id.clone()),
            executor_id: Some(self.config.executor_id.clone()),
            timestamp: Some(now()),
            uuid: Some(uuid::Uuid::new_v4().as_bytes().to_vec()),
            ..Default::default()
        }
    }
}

/// A kill policy's grace period, if it has one (negative counts as zero).
fn grace_period(policy: Option<&KillPolicy>) -> Option<Duration> {
    let nanos = policy?.grace_period.as_ref()?.nanoseconds;
    Some(Duration::from_nanos(nanos.max(0) as u64))
}

/// Seconds since the epoch, as TaskStatus.timestamp holds them.
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
