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
    environment, framework_info, task_status, ExecutorId, KillPolicy, TaskId, TaskInfo, TaskState,
    TaskStatus,
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
        log_line!("Received {} event", kind.as_str_name());
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
                    log_line!("Error from the agent: {}", error.message);
                }
                Vec::new()
            }
            event::Type::Message | event::Type::Heartbeat | event::Type::Unknown => Vec::new(),
        }
    }

    /// The task's process was forked as `pid`: it is running.
    pub fn on_launched(&mut self, pid: u32) -> Vec<Action> {
        log_line!("Forked command at {pid}");
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
        log_line!("{error}");
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
            Some(pid) => log_line!("{what} (pid: {pid})"),
            None => log_line!("{what}"),
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
        log_line!("The agent is gone: shutting down");
        self.on_shutdown()
    }

    fn on_subscribed(&mut self, subscribed: event::Subscribed) -> Vec<Action> {
        let agent = &subscribed.agent_info;
        log_line!("Subscribed executor on {}", agent.hostname);
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
        log_line!("Starting task {}", info.task_id.value);
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
                log_line!("{message}");
                self.terminate(TaskState::TaskFailed, message)
            }
        }
    }

    fn on_kill(&mut self, task_id: &TaskId, policy: Option<&KillPolicy>) -> Vec<Action> {
        let Some(task) = self.task.as_ref() else {
            log_line!("Ignoring a kill of unknown task {}", task_id.value);
            return Vec::new();
        };
        if task.info.task_id != *task_id {
            log_line!("Ignoring a kill of unknown task {}", task_id.value);
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
        log_line!(
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
            .or(self
                .subscribed
                .as_ref()
                .map(|s| s.framework_info.user.as_str()))
            .filter(|user| !user.is_empty());
        // Only root can switch users; anyone else runs the task as itself (the agent
        // started the executor as the task's user, or does not switch users).
        if let (Some(user), 0) = (user, self.config.euid) {
            spec.user = UserIds::lookup_unless(user, 0).map_err(|e| e.to_string())?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::executor::event::{Acknowledged, Kill, Launch, Subscribed};
    use crate::proto::mesos::v1::{
        AgentId, AgentInfo, CommandInfo, DurationInfo, Environment, ExecutorInfo, FrameworkInfo,
        Secret,
    };

    fn config(euid: u32) -> CommandExecutorConfig {
        CommandExecutorConfig {
            executor_id: ExecutorId {
                value: "exec-1".to_string(),
            },
            sandbox: "/sandbox".into(),
            shutdown_grace_period: Duration::from_secs(5),
            base_env: vec![
                ("PATH".to_string(), "/usr/bin:/bin".to_string()),
                ("MESOS_SANDBOX".to_string(), "/sandbox".to_string()),
            ],
            euid,
        }
    }

    fn subscribed(user: &str, capabilities: &[framework_info::capability::Type]) -> Event {
        Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(Subscribed {
                executor_info: ExecutorInfo::default(),
                framework_info: FrameworkInfo {
                    user: user.to_string(),
                    capabilities: capabilities
                        .iter()
                        .map(|c| framework_info::Capability {
                            r#type: Some(*c as i32),
                        })
                        .collect(),
                    ..Default::default()
                },
                agent_info: AgentInfo {
                    hostname: "localhost".to_string(),
                    id: Some(AgentId {
                        value: "agent-S0".to_string(),
                    }),
                    ..Default::default()
                },
                container_id: None,
            }),
            ..Default::default()
        }
    }

    fn task(id: &str, command: Option<CommandInfo>) -> TaskInfo {
        TaskInfo {
            name: id.to_string(),
            task_id: TaskId {
                value: id.to_string(),
            },
            command,
            ..Default::default()
        }
    }

    fn shell(value: &str) -> CommandInfo {
        CommandInfo {
            value: Some(value.to_string()),
            ..Default::default()
        }
    }

    fn launch(task: TaskInfo) -> Event {
        Event {
            r#type: Some(event::Type::Launch as i32),
            launch: Some(Launch { task }),
            ..Default::default()
        }
    }

    fn kill(id: &str, grace: Option<Duration>) -> Event {
        Event {
            r#type: Some(event::Type::Kill as i32),
            kill: Some(Kill {
                task_id: TaskId {
                    value: id.to_string(),
                },
                kill_policy: grace.map(policy),
            }),
            ..Default::default()
        }
    }

    fn policy(grace: Duration) -> KillPolicy {
        KillPolicy {
            grace_period: Some(DurationInfo {
                nanoseconds: grace.as_nanos() as i64,
            }),
        }
    }

    fn ack(status: &TaskStatus) -> Event {
        Event {
            r#type: Some(event::Type::Acknowledged as i32),
            acknowledged: Some(Acknowledged {
                task_id: status.task_id.clone(),
                uuid: status.uuid.clone().unwrap_or_default(),
            }),
            ..Default::default()
        }
    }

    fn shutdown() -> Event {
        Event {
            r#type: Some(event::Type::Shutdown as i32),
            ..Default::default()
        }
    }

    /// The single update among `actions`, or a panic naming what was there.
    fn update(actions: &[Action]) -> &TaskStatus {
        let updates: Vec<&TaskStatus> = actions
            .iter()
            .filter_map(|a| match a {
                Action::Update(status) => Some(status),
                _ => None,
            })
            .collect();
        assert_eq!(updates.len(), 1, "{actions:?}");
        updates[0]
    }

    fn state(status: &TaskStatus) -> TaskState {
        TaskState::try_from(status.state).unwrap()
    }

    /// An executor that subscribed and launched `sh -c 'sleep 100'` as pid 42.
    fn running(capabilities: &[framework_info::capability::Type]) -> CommandExecutor {
        let mut executor = CommandExecutor::new(config(1000));
        assert!(executor.on_event(subscribed("", capabilities)).is_empty());
        executor.on_event(launch(task("t1", Some(shell("sleep 100")))));
        executor.on_launched(42);
        executor
    }

    #[test]
    fn a_launch_starts_the_command_and_reports_starting_then_running() {
        let mut executor = CommandExecutor::new(config(1000));
        executor.on_event(subscribed("", &[]));
        let mut command = shell("echo $FOO");
        command.environment = Some(Environment {
            variables: vec![
                environment::Variable {
                    name: "FOO".to_string(),
                    value: Some("bar".to_string()),
                    ..Default::default()
                },
                environment::Variable {
                    name: "PATH".to_string(),
                    value: Some("/opt/bin".to_string()),
                    ..Default::default()
                },
            ],
        });
        let actions = executor.on_event(launch(task("t1", Some(command))));
        assert_eq!(actions.len(), 2, "{actions:?}");
        let starting = update(&actions[..1]);
        assert_eq!(state(starting), TaskState::TaskStarting);
        assert_eq!(starting.task_id.value, "t1");
        assert_eq!(starting.source, Some(task_status::Source::Executor as i32));
        assert_eq!(starting.agent_id.as_ref().unwrap().value, "agent-S0");
        assert_eq!(starting.executor_id.as_ref().unwrap().value, "exec-1");
        assert_eq!(starting.uuid.as_ref().unwrap().len(), 16);
        assert!(starting.timestamp.unwrap() > 1.7e9);
        assert_eq!(starting.message, None);
        let Action::Launch(spec) = &actions[1] else {
            panic!("{actions:?}");
        };
        assert_eq!(spec.program, "/bin/sh");
        assert_eq!(spec.argv, ["sh", "-c", "echo $FOO"]);
        assert_eq!(spec.cwd, std::path::PathBuf::from("/sandbox"));
        assert_eq!(spec.user, None);
        let env: std::collections::BTreeMap<_, _> = spec.env.iter().cloned().collect();
        assert_eq!(env["FOO"], "bar");
        assert_eq!(env["PATH"], "/opt/bin", "the task's variable wins");
        assert_eq!(env["MESOS_SANDBOX"], "/sandbox");
        assert_eq!(spec.env.len(), 3);

        let running = executor.on_launched(42);
        assert_eq!(state(update(&running)), TaskState::TaskRunning);
        assert_ne!(
            update(&running).uuid,
            starting.uuid,
            "a fresh uuid per update"
        );
    }

    #[test]
    fn a_command_without_shell_runs_its_arguments() {
        let mut executor = CommandExecutor::new(config(1000));
        executor.on_event(subscribed("", &[]));
        let command = CommandInfo {
            shell: Some(false),
            value: Some("/bin/echo".to_string()),
            arguments: vec!["echo".to_string(), "a b".to_string()],
            ..Default::default()
        };
        let actions = executor.on_event(launch(task("t1", Some(command))));
        let Action::Launch(spec) = &actions[1] else {
            panic!("{actions:?}");
        };
        assert_eq!(spec.program, "/bin/echo");
        assert_eq!(spec.argv, ["echo", "a b"]);
    }

    #[test]
    fn the_exit_decides_the_terminal_update() {
        let cases = [
            (
                Termination::Exited(0),
                TaskState::TaskFinished,
                "Command exited with status 0",
            ),
            (
                Termination::Exited(3),
                TaskState::TaskFailed,
                "Command exited with status 3",
            ),
            (
                Termination::Signaled(libc::SIGKILL),
                TaskState::TaskFailed,
                "Command terminated with signal Killed",
            ),
        ];
        for (ended, expected, message) in cases {
            let mut executor = running(&[]);
            let actions = executor.on_exited(ended);
            let terminal = update(&actions).clone();
            assert_eq!(state(&terminal), expected);
            assert_eq!(terminal.message.as_deref(), Some(message));
            assert_eq!(
                actions.len(),
                1,
                "waits for the acknowledgement: {actions:?}"
            );
            assert!(executor.awaiting_terminal_ack());

            let mut other = terminal.clone();
            other.uuid = Some(vec![0; 16]);
            assert!(executor.on_event(ack(&other)).is_empty(), "not this update");
            assert_eq!(executor.on_event(ack(&terminal)), [Action::Exit]);
        }
    }

    #[test]
    fn a_kill_without_task_killing_state_goes_straight_to_killed() {
        let mut executor = running(&[]);
        let actions = executor.on_event(kill("t1", None));
        assert_eq!(
            actions,
            [Action::Kill {
                grace: DEFAULT_KILL_GRACE_PERIOD
            }]
        );
        assert!(
            executor.on_event(kill("t1", None)).is_empty(),
            "already killing"
        );
        let actions = executor.on_exited(Termination::Signaled(libc::SIGTERM));
        let killed = update(&actions);
        assert_eq!(state(killed), TaskState::TaskKilled);
        assert_eq!(
            killed.message.as_deref(),
            Some("Command terminated with signal Terminated")
        );
        assert_eq!(executor.on_event(ack(killed)), [Action::Exit]);
    }

    #[test]
    fn a_kill_announces_killing_when_the_framework_understands_it() {
        let mut executor = running(&[framework_info::capability::Type::TaskKillingState]);
        let actions = executor.on_event(kill("t1", None));
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert_eq!(state(update(&actions)), TaskState::TaskKilling);
        assert_eq!(
            actions[1],
            Action::Kill {
                grace: DEFAULT_KILL_GRACE_PERIOD
            }
        );
        // A task that exits cleanly once asked to is still reported killed.
        let actions = executor.on_exited(Termination::Exited(0));
        assert_eq!(state(update(&actions)), TaskState::TaskKilled);
    }

    #[test]
    fn the_kill_grace_period_comes_from_the_kill_then_the_task() {
        let mut executor = CommandExecutor::new(config(1000));
        executor.on_event(subscribed("", &[]));
        let mut info = task("t1", Some(shell("sleep 100")));
        info.kill_policy = Some(policy(Duration::from_secs(10)));
        executor.on_event(launch(info));
        executor.on_launched(42);
        assert_eq!(
            executor.on_event(kill("t1", Some(Duration::from_millis(1500)))),
            [Action::Kill {
                grace: Duration::from_millis(1500)
            }]
        );

        let mut executor = CommandExecutor::new(config(1000));
        let mut info = task("t1", Some(shell("sleep 100")));
        info.kill_policy = Some(policy(Duration::from_secs(10)));
        executor.on_event(launch(info));
        executor.on_launched(42);
        assert_eq!(
            executor.on_event(kill("t1", None)),
            [Action::Kill {
                grace: Duration::from_secs(10)
            }]
        );
    }

    #[test]
    fn a_kill_of_another_task_is_ignored() {
        let mut executor = running(&[]);
        assert!(executor.on_event(kill("t2", None)).is_empty());
    }

    #[test]
    fn a_second_launch_fails_that_task_only() {
        let mut executor = running(&[]);
        let actions = executor.on_event(launch(task("t2", Some(shell("true")))));
        let failed = update(&actions);
        assert_eq!(actions.len(), 1);
        assert_eq!(failed.task_id.value, "t2");
        assert_eq!(state(failed), TaskState::TaskFailed);
        assert_eq!(
            failed.message.as_deref(),
            Some("Attempted to run multiple tasks using a \"command\" executor")
        );
        assert!(!executor.awaiting_terminal_ack(), "t1 still runs");
        assert_eq!(executor.on_event(ack(failed)), []);
        let actions = executor.on_exited(Termination::Exited(0));
        assert_eq!(update(&actions).task_id.value, "t1");
    }

    /// Launches `info` and expects TASK_FAILED with a message containing `why`, then an
    /// exit once it is acknowledged.
    fn expect_launch_failure(mut executor: CommandExecutor, info: TaskInfo, why: &str) {
        let actions = executor.on_event(launch(info));
        assert_eq!(actions.len(), 1, "{actions:?}");
        let failed = update(&actions);
        assert_eq!(state(failed), TaskState::TaskFailed);
        let message = failed.message.clone().unwrap_or_default();
        assert!(message.contains(why), "{message}");
        assert_eq!(executor.on_event(ack(failed)), [Action::Exit]);
    }

    #[test]
    fn a_task_without_command_fails() {
        let mut executor = CommandExecutor::new(config(1000));
        executor.on_event(subscribed("", &[]));
        expect_launch_failure(executor, task("t1", None), "needs a task with a command");
    }

    #[test]
    fn a_secret_variable_fails_the_task() {
        let mut executor = CommandExecutor::new(config(1000));
        executor.on_event(subscribed("", &[]));
        let mut command = shell("true");
        command.environment = Some(Environment {
            variables: vec![environment::Variable {
                name: "PASSWORD".to_string(),
                r#type: Some(environment::variable::Type::Secret as i32),
                secret: Some(Secret::default()),
                ..Default::default()
            }],
        });
        expect_launch_failure(executor, task("t1", Some(command)), "'PASSWORD'");
    }

    #[test]
    fn an_unknown_user_fails_the_task() {
        let mut executor = CommandExecutor::new(config(0));
        executor.on_event(subscribed("no-such-user-here", &[]));
        let info = task("t1", Some(shell("true")));
        expect_launch_failure(executor, info, "no-such-user-here");
    }

    #[test]
    fn root_switches_to_the_task_user() {
        let nobody = UserIds::lookup("nobody").unwrap();
        let spec_for = |euid: u32, framework_user: &str, command_user: Option<&str>| {
            let mut executor = CommandExecutor::new(config(euid));
            executor.on_event(subscribed(framework_user, &[]));
            let mut command = shell("id -u");
            command.user = command_user.map(str::to_string);
            match executor.on_event(launch(task("t1", Some(command)))).pop() {
                Some(Action::Launch(spec)) => spec,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(spec_for(0, "nobody", None).user, Some(nobody.clone()));
        assert_eq!(spec_for(0, "root", Some("nobody")).user, Some(nobody));
        assert_eq!(spec_for(0, "root", None).user, None, "root stays root");
        assert_eq!(
            spec_for(1000, "nobody", None).user,
            None,
            "only root switches"
        );
        assert_eq!(spec_for(0, "", None).user, None);
        assert_eq!(
            spec_for(1000, "no-such-user-here", None).user,
            None,
            "a user that cannot be switched to is not looked up"
        );
    }

    #[test]
    fn a_failed_spawn_fails_the_task() {
        let mut executor = CommandExecutor::new(config(1000));
        executor.on_event(launch(task("t1", Some(shell("true")))));
        let actions = executor.on_process_error(&ProcessError::NoProgram);
        assert_eq!(state(update(&actions)), TaskState::TaskFailed);
        assert!(executor.awaiting_terminal_ack());
    }

    #[test]
    fn shutdown_kills_the_task_within_the_grace_period_and_exits() {
        let mut executor = running(&[]);
        let actions = executor.on_event(shutdown());
        assert_eq!(
            actions,
            [Action::Kill {
                grace: Duration::from_secs(4)
            }]
        );
        assert!(executor.is_shutting_down());
        let actions = executor.on_exited(Termination::Signaled(libc::SIGTERM));
        assert_eq!(actions.len(), 2, "{actions:?}");
        assert_eq!(state(update(&actions)), TaskState::TaskKilled);
        assert_eq!(actions[1], Action::Exit);
    }

    #[test]
    fn shutdown_without_a_task_exits_at_once() {
        let mut executor = CommandExecutor::new(config(1000));
        executor.on_event(subscribed("", &[]));
        assert_eq!(executor.on_event(shutdown()), [Action::Exit]);
    }

    #[test]
    fn losing_the_agent_kills_the_task_and_exits() {
        let mut executor = running(&[framework_info::capability::Type::TaskKillingState]);
        let actions = executor.on_agent_gone();
        assert_eq!(state(update(&actions)), TaskState::TaskKilling);
        assert!(matches!(actions.last(), Some(Action::Kill { .. })));
        let actions = executor.on_exited(Termination::Signaled(libc::SIGTERM));
        assert_eq!(actions.last(), Some(&Action::Exit));

        let mut executor = running(&[]);
        let terminal = executor.on_exited(Termination::Exited(0));
        assert!(executor.awaiting_terminal_ack());
        assert_eq!(executor.on_agent_gone(), [Action::Exit]);
        assert_eq!(state(update(&terminal)), TaskState::TaskFinished);
    }
}
