//! The built-in default executor (Mesos' `mesos-default-executor`): runs task groups
//! (LAUNCH_GROUP), each task as a command in its own process group inside the executor's
//! container, and reports each task. A task group lives and dies together, as in Mesos:
//! when one of its tasks fails or is killed, the others are killed.
//!
//! Each task is driven by its own [`CommandExecutor`] (the command executor's logic, which
//! already knows STARTING, RUNNING, exit statuses, kill policies and acknowledgements);
//! [`DefaultExecutor`] routes events to them and applies the group policy. Like the
//! command executor it does no IO: [`run_default_executor`] carries out its actions.

use std::collections::{BTreeMap, HashMap};

use nix::sys::signal::Signal;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::client::event_type;
use super::command::{Action, CommandExecutor, CommandExecutorConfig};
use super::connection::{ConnectionError, ExecutorConnection};
use super::env::ExecutorEnvironment;
use super::process::{ProcessError, TaskProcess, Termination};
use super::runner::RunError;
use crate::proto::mesos::v1::executor::{event, Event};
use crate::proto::mesos::v1::{TaskInfo, TaskState};

/// What the runner must do for one task (see [`Action`]), or that the executor is done.
// Made and carried out at once, a few per event: not worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum GroupAction {
    /// An action of the task's command executor.
    Task(String, Action),
    /// Every task is done: exit.
    Exit,
}

/// One task and the group it came in.
#[derive(Debug)]
struct Member {
    executor: CommandExecutor,
    group: usize,
    done: bool,
}

/// The default executor's state: its tasks, by id.
#[derive(Debug)]
pub struct DefaultExecutor {
    config: CommandExecutorConfig,
    subscribed: Option<Event>,
    tasks: BTreeMap<String, Member>,
    groups: usize,
    shutting_down: bool,
}

impl DefaultExecutor {
    /// A default executor that has not subscribed yet.
    pub fn new(config: CommandExecutorConfig) -> DefaultExecutor {
        DefaultExecutor {
            config,
            subscribed: None,
            tasks: BTreeMap::new(),
            groups: 0,
            shutting_down: false,
        }
    }

    /// Handles an event from the agent.
    pub fn on_event(&mut self, event: Event) -> Vec<GroupAction> {
        match event_type(&event) {
            event::Type::Subscribed => {
                self.subscribed = Some(event.clone());
                self.tasks
                    .iter_mut()
                    .flat_map(|(id, m)| tag(id, m.executor.on_event(event.clone())))
                    .collect()
            }
            event::Type::LaunchGroup => {
                let tasks = event
                    .launch_group
                    .map(|l| l.task_group.tasks)
                    .unwrap_or_default();
                self.launch_group(tasks)
            }
            event::Type::Launch => match event.launch {
                Some(launch) => self.launch_group(vec![launch.task]),
                None => Vec::new(),
            },
            event::Type::Kill => {
                let Some(kill) = event.kill.as_ref() else {
                    return Vec::new();
                };
                match self.tasks.get(&kill.task_id.value).map(|m| m.group) {
                    Some(group) => self.kill_group(group, Some(&event)),
                    None => {
                        log_line!("Ignoring a kill of unknown task {}", kill.task_id.value);
                        Vec::new()
                    }
                }
            }
            event::Type::Acknowledged => {
                let Some(ack) = event.acknowledged.as_ref() else {
                    return Vec::new();
                };
                let id = ack.task_id.value.clone();
                let actions = match self.tasks.get_mut(&id) {
                    Some(member) => member.executor.on_event(event),
                    None => Vec::new(),
                };
                self.after(&id, actions)
            }
            event::Type::Shutdown => {
                self.shutting_down = true;
                let ids: Vec<String> = self.tasks.keys().cloned().collect();
                let mut out = Vec::new();
                for id in ids {
                    let actions = self
                        .tasks
                        .get_mut(&id)
                        .map(|m| m.executor.on_event(event.clone()));
                    out.extend(self.after(&id, actions.unwrap_or_default()));
                }
                out.extend(self.exit_if_done());
                out
            }
            _ => Vec::new(),
        }
    }

    /// The process of task `id` was forked as `pid`.
    pub fn on_launched(&mut self, id: &str, pid: u32) -> Vec<GroupAction> {
        let actions = match self.tasks.get_mut(id) {
            Some(m) => m.executor.on_launched(pid),
            None => Vec::new(),
        };
        self.after(id, actions)
    }

    /// The process of task `id` could not be started or waited for.
    pub fn on_process_error(&mut self, id: &str, error: &ProcessError) -> Vec<GroupAction> {
        let actions = match self.tasks.get_mut(id) {
            Some(m) => m.executor.on_process_error(error),
            None => Vec::new(),
        };
        self.after(id, actions)
    }

    /// The process of task `id` ended.
    pub fn on_exited(&mut self, id: &str, ended: Termination) -> Vec<GroupAction> {
        let actions = match self.tasks.get_mut(id) {
            Some(m) => m.executor.on_exited(ended),
            None => Vec::new(),
        };
        self.after(id, actions)
    }

    /// The agent is gone for good: kill every task and end.
    pub fn on_agent_gone(&mut self) -> Vec<GroupAction> {
        self.shutting_down = true;
        let ids: Vec<String> = self.tasks.keys().cloned().collect();
        let mut out = Vec::new();
        for id in ids {
            let actions = self.tasks.get_mut(&id).map(|m| m.executor.on_agent_gone());
            out.extend(self.after(&id, actions.unwrap_or_default()));
        }
        out.extend(self.exit_if_done());
        out
    }

    fn launch_group(&mut self, tasks: Vec<TaskInfo>) -> Vec<GroupAction> {
        let group = self.groups;
        self.groups += 1;
        let mut out = Vec::new();
        for task in tasks {
            let id = task.task_id.value.clone();
            let mut executor = CommandExecutor::new(self.config.clone());
            if let Some(subscribed) = &self.subscribed {
                executor.on_event(subscribed.clone());
            }
            let actions = executor.on_event(Event {
                r#type: Some(event::Type::Launch as i32),
                launch: Some(event::Launch { task }),
                ..Default::default()
            });
            self.tasks.insert(
                id.clone(),
                Member {
                    executor,
                    group,
                    done: false,
                },
            );
            out.extend(self.after(&id, actions));
        }
        out
    }

    /// Kills every unfinished task of `group` (with `kill`'s policy when given).
    fn kill_group(&mut self, group: usize, kill: Option<&Event>) -> Vec<GroupAction> {
        let ids: Vec<String> = self
            .tasks
            .iter()
            .filter(|(_, m)| m.group == group && !m.done)
            .map(|(id, _)| id.clone())
            .collect();
        let mut out = Vec::new();
        for id in ids {
            let event = match kill {
                Some(event) => {
                    let mut event = event.clone();
                    if let Some(k) = event.kill.as_mut() {
                        k.task_id.value = id.clone();
                    }
                    event
                }
                None => Event {
                    r#type: Some(event::Type::Kill as i32),
                    kill: Some(event::Kill {
                        task_id: crate::proto::mesos::v1::TaskId { value: id.clone() },
                        kill_policy: None,
                    }),
                    ..Default::default()
                },
            };
            let actions = self.tasks.get_mut(&id).map(|m| m.executor.on_event(event));
            out.extend(self.after(&id, actions.unwrap_or_default()));
        }
        out
    }

    /// Applies the group policy to what task `id`'s executor decided: a failed or killed
    /// task takes its group down; a task whose executor would exit is done.
    fn after(&mut self, id: &str, actions: Vec<Action>) -> Vec<GroupAction> {
        let mut out = Vec::new();
        let mut failed_group = None;
        for action in actions {
            match action {
                Action::Exit => {
                    if let Some(member) = self.tasks.get_mut(id) {
                        member.done = true;
                    }
                }
                Action::Update(status) => {
                    let state = TaskState::try_from(status.state).unwrap_or(TaskState::TaskUnknown);
                    if matches!(state, TaskState::TaskFailed | TaskState::TaskKilled) {
                        failed_group = self.tasks.get(id).map(|m| m.group);
                    }
                    out.push(GroupAction::Task(id.to_string(), Action::Update(status)));
                }
                other => out.push(GroupAction::Task(id.to_string(), other)),
            }
        }
        if let Some(group) = failed_group {
            log_line!("Task {id} ended badly: killing its task group");
            out.extend(self.kill_group(group, None));
        }
        out.extend(self.exit_if_done());
        out
    }

    fn exit_if_done(&self) -> Option<GroupAction> {
        let all_done = self.tasks.values().all(|m| m.done);
        (all_done && (self.shutting_down || !self.tasks.is_empty())).then_some(GroupAction::Exit)
    }
}

fn tag(id: &str, actions: Vec<Action>) -> Vec<GroupAction> {
    actions
        .into_iter()
        .map(|a| GroupAction::Task(id.to_string(), a))
        .collect()
}

/// Runs the default executor `env` describes until its tasks are done (or it is shut down);
/// tasks' environments start from `base_env` (the executor's own environment).
pub async fn run_default_executor(
    env: &ExecutorEnvironment,
    base_env: Vec<(String, String)>,
) -> Result<(), RunError> {
    let mut connection = ExecutorConnection::from_environment(env).await?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let mut executor = DefaultExecutor::new(CommandExecutorConfig::new(env, base_env, euid));
    let (ended_tx, mut ended) =
        mpsc::unbounded_channel::<(String, Result<Termination, ProcessError>)>();
    let mut signals: HashMap<String, mpsc::UnboundedSender<Signal>> = HashMap::new();
    let mut sigkill_at: BTreeMap<String, Instant> = BTreeMap::new();
    let mut connected = true;
    let mut lost: Option<ConnectionError> = None;
    loop {
        let next_kill = sigkill_at.values().min().copied();
        let actions = tokio::select! {
            event = connection.next_event(), if connected => match event {
                Ok(event) => executor.on_event(event),
                Err(error) => {
                    log_line!("{error}");
                    connected = false;
                    if !executor.shutting_down {
                        lost = Some(error);
                    }
                    executor.on_agent_gone()
                }
            },
            Some((id, result)) = ended.recv() => {
                signals.remove(&id);
                sigkill_at.remove(&id);
                match result {
                    Ok(termination) => executor.on_exited(&id, termination),
                    Err(error) => executor.on_process_error(&id, &error),
                }
            },
            () = async {
                match next_kill {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            } => {
                let now = Instant::now();
                let due: Vec<String> = sigkill_at.iter().filter(|(_, at)| **at <= now).map(|(id, _)| id.clone()).collect();
                for id in due {
                    sigkill_at.remove(&id);
                    if let Some(tx) = signals.get(&id) {
                        let _ = tx.send(Signal::SIGKILL);
                    }
                }
                Vec::new()
            },
        };
        let mut queue = std::collections::VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            match action {
                GroupAction::Exit => {
                    return match lost {
                        Some(error) => Err(error.into()),
                        None => Ok(()),
                    }
                }
                GroupAction::Task(id, Action::Update(status)) => {
                    if let Err(error) = connection.update(status).await {
                        log_line!("Failed to send a status update of task {id}: {error}");
                    }
                }
                GroupAction::Task(id, Action::Launch(spec)) => match TaskProcess::spawn(&spec) {
                    Ok(mut process) => {
                        queue.extend(executor.on_launched(&id, process.pid()));
                        let (tx, mut rx) = mpsc::unbounded_channel::<Signal>();
                        signals.insert(id.clone(), tx);
                        let ended_tx = ended_tx.clone();
                        tokio::spawn(async move {
                            let result = loop {
                                tokio::select! {
                                    result = process.wait() => break result,
                                    Some(signal) = rx.recv() => {
                                        if let Err(error) = process.signal_group(signal) {
                                            log_line!("{error}");
                                        }
                                    }
                                }
                            };
                            let _ = ended_tx.send((id, result));
                        });
                    }
                    Err(error) => queue.extend(executor.on_process_error(&id, &error)),
                },
                GroupAction::Task(id, Action::Kill { grace }) => {
                    if let Some(tx) = signals.get(&id) {
                        let _ = tx.send(Signal::SIGTERM);
                        sigkill_at.insert(id, Instant::now() + grace);
                    }
                }
                GroupAction::Task(_, Action::Exit) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::{
        AgentInfo, CommandInfo, ExecutorId, ExecutorInfo, FrameworkInfo, TaskGroupInfo, TaskId,
    };

    fn config() -> CommandExecutorConfig {
        CommandExecutorConfig {
            executor_id: ExecutorId {
                value: "default".into(),
            },
            sandbox: std::env::temp_dir(),
            shutdown_grace_period: std::time::Duration::from_secs(5),
            base_env: vec![("PATH".into(), "/usr/bin:/bin".into())],
            euid: 1000,
        }
    }

    fn subscribed() -> Event {
        Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                executor_info: ExecutorInfo {
                    executor_id: ExecutorId {
                        value: "default".into(),
                    },
                    ..Default::default()
                },
                framework_info: FrameworkInfo::default(),
                agent_info: AgentInfo::default(),
                container_id: None,
            }),
            ..Default::default()
        }
    }

    fn group(ids: &[&str]) -> Event {
        Event {
            r#type: Some(event::Type::LaunchGroup as i32),
            launch_group: Some(event::LaunchGroup {
                task_group: TaskGroupInfo {
                    tasks: ids
                        .iter()
                        .map(|id| TaskInfo {
                            name: id.to_string(),
                            task_id: TaskId {
                                value: id.to_string(),
                            },
                            command: Some(CommandInfo {
                                value: Some("true".into()),
                                ..Default::default()
                            }),
                            ..Default::default()
                        })
                        .collect(),
                },
            }),
            ..Default::default()
        }
    }

    fn states(actions: &[GroupAction]) -> Vec<(String, TaskState)> {
        actions
            .iter()
            .filter_map(|a| match a {
                GroupAction::Task(id, Action::Update(s)) => {
                    Some((id.clone(), TaskState::try_from(s.state).unwrap()))
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn every_task_of_a_group_starts_and_runs() {
        let mut executor = DefaultExecutor::new(config());
        executor.on_event(subscribed());
        let actions = executor.on_event(group(&["a", "b"]));
        let launches = actions
            .iter()
            .filter(|a| matches!(a, GroupAction::Task(_, Action::Launch(_))))
            .count();
        assert_eq!(launches, 2);
        assert_eq!(
            states(&actions),
            vec![
                ("a".into(), TaskState::TaskStarting),
                ("b".into(), TaskState::TaskStarting)
            ]
        );
        let running = executor.on_launched("a", 10);
        assert_eq!(states(&running), vec![("a".into(), TaskState::TaskRunning)]);
    }

    #[test]
    fn a_failed_task_kills_its_group() {
        let mut executor = DefaultExecutor::new(config());
        executor.on_event(subscribed());
        executor.on_event(group(&["a", "b"]));
        executor.on_launched("a", 10);
        executor.on_launched("b", 11);
        let actions = executor.on_exited("a", Termination::Exited(3));
        assert_eq!(states(&actions)[0], ("a".into(), TaskState::TaskFailed));
        assert!(
            actions
                .iter()
                .any(|a| matches!(a, GroupAction::Task(id, Action::Kill { .. }) if id == "b")),
            "{actions:?}"
        );
        let killed = executor.on_exited("b", Termination::Signaled(15));
        assert_eq!(states(&killed), vec![("b".into(), TaskState::TaskKilled)]);
    }

    #[test]
    fn the_executor_exits_once_every_terminal_update_is_acknowledged() {
        let mut executor = DefaultExecutor::new(config());
        executor.on_event(subscribed());
        executor.on_event(group(&["a"]));
        executor.on_launched("a", 10);
        let finished = executor.on_exited("a", Termination::Exited(0));
        let uuid = finished
            .iter()
            .find_map(|a| match a {
                GroupAction::Task(_, Action::Update(s)) => s.uuid.clone(),
                _ => None,
            })
            .unwrap();
        let ack = executor.on_event(Event {
            r#type: Some(event::Type::Acknowledged as i32),
            acknowledged: Some(event::Acknowledged {
                task_id: TaskId { value: "a".into() },
                uuid,
            }),
            ..Default::default()
        });
        assert_eq!(ack, vec![GroupAction::Exit]);
    }
}
