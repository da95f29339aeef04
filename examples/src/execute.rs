//! `mesos-execute`: runs one command (or one task group) on a cluster and reports how it
//! went, as Apache Mesos' tool of the same name does.
//!
//! It subscribes a framework through the [`SchedulerDriver`], launches the task on the
//! first offer that holds its resources (declining the others), prints every status
//! update as it arrives, kills the task after `--kill_after` when asked, and tears the
//! framework down when the task (every task of the group) is terminal. The outcome is
//! [`Outcome::Finished`] only when every task finished.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use clap::{ArgAction, ColorChoice, Parser};
use mesos_core::agent::status_update::is_terminal_state;
use mesos_core::flags::{cli, Duration, FlagsError};
use mesos_core::http::negotiate::Format;
use mesos_core::proto::mesos::v1::{
    container_info, environment, executor_info, framework_info, offer, AgentId, CommandInfo,
    ContainerInfo, Environment, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo,
    MasterInfo, NetworkInfo, Offer, Resource, TaskGroupInfo, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use mesos_core::resources::{parse_resources, Resources};
use mesos_core::scheduler::{detector_for, DriverOptions, Scheduler, SchedulerDriver};

/// What the default executor of a task group is given, as Mesos' tool gives it.
const EXECUTOR_RESOURCES: &str = "cpus:0.1;mem:32;disk:32";

/// How long declined offers stay away.
const DECLINE_SECONDS: f64 = 3600.0;

#[derive(Debug, Parser)]
#[command(
    name = "mesos-execute",
    about = "Runs a command or a task group on a Mesos cluster and reports its status updates.",
    rename_all = "snake_case",
    disable_help_flag = true,
    disable_version_flag = true,
    color = ColorChoice::Never,
    after_help = "Every flag can also be set through MESOS_<FLAG NAME IN UPPER CASE>. \
                  Boolean flags take --NAME, --NAME=true|false or --no-NAME."
)]
struct RawFlags {
    /// The master: host:port or a comma-separated list of them. Required.
    #[arg(long)]
    master: Option<String>,
    /// Name of the task (also its id). Required with --command.
    #[arg(long)]
    name: Option<String>,
    /// The command to run. Either this or --task_group is required.
    #[arg(long)]
    command: Option<String>,
    /// Run the command through /bin/sh -c (true) or as an argv (false).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = true, default_missing_value = "true")]
    shell: bool,
    /// Resources of the task, e.g. cpus:1;mem:128.
    #[arg(long, default_value = "cpus:1;mem:128")]
    resources: String,
    /// Environment of the command as a JSON object: {"NAME": "value", ...}.
    #[arg(long)]
    env: Option<String>,
    /// The role the framework subscribes with.
    #[arg(long, default_value = "*")]
    role: String,
    /// The principal the framework subscribes with.
    #[arg(long)]
    principal: Option<String>,
    /// Whether the framework checkpoints (its tasks survive agent restarts).
    #[arg(long, action = ArgAction::Set, num_args = 0..=1, require_equals = true,
          default_value_t = false, default_missing_value = "true")]
    checkpoint: bool,
    /// Extra framework capabilities, comma-separated (MULTI_ROLE, TASK_KILLING_STATE,
    /// RESERVATION_REFINEMENT and PARTITION_AWARE are always on).
    #[arg(long)]
    framework_capabilities: Option<String>,
    /// Kill the task this long after it starts running, e.g. 10secs.
    #[arg(long)]
    kill_after: Option<Duration>,
    /// A task group to launch with the default executor: JSON TaskGroupInfo, or a path
    /// (optionally file://) to a file holding it.
    #[arg(long)]
    task_group: Option<String>,
    /// Names of the networks the task joins, comma-separated.
    #[arg(long)]
    networks: Option<String>,
    /// The encoding of the scheduler API: protobuf or json.
    #[arg(long, default_value = "protobuf", value_parser = ["protobuf", "json"])]
    content_type: String,
    /// The framework's name.
    #[arg(long, default_value = "mesos-execute instance")]
    framework_name: String,
}

/// `mesos-execute`'s flags, checked.
#[derive(Debug, Clone)]
pub struct ExecuteFlags {
    /// `--master`.
    pub master: String,
    /// The framework to subscribe.
    pub framework: FrameworkInfo,
    /// What to launch.
    pub launch: Launch,
    /// `--kill_after`.
    pub kill_after: Option<std::time::Duration>,
    /// `--content_type`.
    pub format: Format,
}

/// What `mesos-execute` launches.
#[derive(Debug, Clone)]
pub enum Launch {
    /// One command task (its agent id is filled from the offer).
    Task(Box<TaskInfo>),
    /// A task group under the default executor.
    Group {
        /// The default executor (its resources included).
        executor: Box<ExecutorInfo>,
        /// The tasks.
        group: TaskGroupInfo,
    },
}

impl ExecuteFlags {
    /// Reads the flags from `args` (program name first) and the `MESOS_*` environment.
    pub fn parse_from<I, T>(args: I) -> Result<ExecuteFlags, FlagsError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString>,
    {
        let raw: RawFlags = cli::parse(args, |name| std::env::var(name).ok())?;
        raw.check().map_err(FlagsError::Invalid)
    }
}

impl RawFlags {
    fn check(self) -> Result<ExecuteFlags, String> {
        let master = self.master.clone().ok_or("--master is required")?;
        detector_for(&master).map_err(|e| format!("--master: {e}"))?;
        let launch = match (&self.command, &self.task_group) {
            (Some(_), Some(_)) => {
                return Err("--command and --task_group exclude each other".into())
            }
            (None, None) => return Err("either --command or --task_group is required".into()),
            (Some(command), None) => {
                let name = self
                    .name
                    .clone()
                    .ok_or("--name is required with --command")?;
                Launch::Task(Box::new(self.task(&name, command)?))
            }
            (None, Some(group)) => self.group(group)?,
        };
        Ok(ExecuteFlags {
            master,
            framework: self.framework()?,
            launch,
            kill_after: self.kill_after.map(|d| d.as_std()),
            format: if self.content_type == "json" {
                Format::Json
            } else {
                Format::Protobuf
            },
        })
    }

    fn resources(&self, text: &str, flag: &str) -> Result<Vec<Resource>, String> {
        parse_resources(text, "*")
            .map(|r| r.to_protos())
            .map_err(|e| format!("{flag}: {e}"))
    }

    fn container(&self) -> Option<ContainerInfo> {
        let networks = self.networks.as_deref()?;
        Some(ContainerInfo {
            r#type: container_info::Type::Mesos as i32,
            network_infos: networks
                .split(',')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(|name| NetworkInfo {
                    name: Some(name.to_string()),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
    }

    fn task(&self, name: &str, command: &str) -> Result<TaskInfo, String> {
        let environment = match &self.env {
            None => None,
            Some(json) => {
                let vars: BTreeMap<String, String> = serde_json::from_str(json)
                    .map_err(|e| format!("--env must be a JSON object of strings: {e}"))?;
                Some(Environment {
                    variables: vars
                        .into_iter()
                        .map(|(name, value)| environment::Variable {
                            name,
                            value: Some(value),
                            ..Default::default()
                        })
                        .collect(),
                })
            }
        };
        let command = if self.shell {
            CommandInfo {
                shell: Some(true),
                value: Some(command.to_string()),
                environment,
                ..Default::default()
            }
        } else {
            let mut argv = command.split_whitespace().map(str::to_string);
            let program = argv.next().ok_or("--command is empty")?;
            CommandInfo {
                shell: Some(false),
                value: Some(program.clone()),
                arguments: std::iter::once(program).chain(argv).collect(),
                environment,
                ..Default::default()
            }
        };
        Ok(TaskInfo {
            name: name.to_string(),
            task_id: TaskId {
                value: name.to_string(),
            },
            resources: self.resources(&self.resources, "--resources")?,
            command: Some(command),
            container: self.container().map(Box::new),
            ..Default::default()
        })
    }

    fn group(&self, spec: &str) -> Result<Launch, String> {
        let text = if spec.trim_start().starts_with('{') {
            spec.to_string()
        } else {
            let path = PathBuf::from(spec.strip_prefix("file://").unwrap_or(spec));
            std::fs::read_to_string(&path)
                .map_err(|e| format!("--task_group: cannot read {}: {e}", path.display()))?
        };
        let group: TaskGroupInfo = mesos_core::json::from_slice(text.as_bytes())
            .map_err(|e| format!("--task_group is not a valid TaskGroupInfo: {e}"))?;
        if group.tasks.is_empty() {
            return Err("--task_group has no tasks".into());
        }
        let executor = ExecutorInfo {
            r#type: Some(executor_info::Type::Default as i32),
            executor_id: ExecutorId {
                value: format!("default-executor-{}", uuid::Uuid::new_v4()),
            },
            resources: self.resources(EXECUTOR_RESOURCES, "executor resources")?,
            container: self.container(),
            ..Default::default()
        };
        Ok(Launch::Group {
            executor: Box::new(executor),
            group,
        })
    }

    fn framework(&self) -> Result<FrameworkInfo, String> {
        use framework_info::capability::Type;
        let mut types = vec![
            Type::MultiRole,
            Type::TaskKillingState,
            Type::ReservationRefinement,
            Type::PartitionAware,
        ];
        for name in self
            .framework_capabilities
            .as_deref()
            .unwrap_or("")
            .split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            let kind = Type::from_str_name(name)
                .filter(|t| *t != Type::Unknown)
                .ok_or_else(|| format!("--framework_capabilities: unknown capability '{name}'"))?;
            if !types.contains(&kind) {
                types.push(kind);
            }
        }
        Ok(FrameworkInfo {
            name: self.framework_name.clone(),
            roles: vec![self.role.clone()],
            checkpoint: Some(self.checkpoint),
            principal: self.principal.clone(),
            capabilities: types
                .into_iter()
                .map(|t| framework_info::Capability {
                    r#type: Some(t as i32),
                })
                .collect(),
            ..Default::default()
        })
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every task finished.
    Finished,
    /// A task did not finish (failed, was killed, lost, ...), or the driver failed; the
    /// reason.
    Failed(String),
}

/// Runs `flags`' task to its end, printing its status updates; the outcome.
pub fn execute(flags: ExecuteFlags) -> Outcome {
    let outcome = Arc::new(Mutex::new(None));
    let role = flags.framework.roles[0].clone();
    let scheduler = Execute {
        launch: Some(flags.launch.clone()),
        role,
        pending: BTreeMap::new(),
        failure: None,
        kill_after: flags.kill_after,
        outcome: outcome.clone(),
    };
    let detector = match detector_for(&flags.master) {
        Ok(detector) => detector,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let options = DriverOptions {
        format: flags.format,
        ..Default::default()
    };
    let driver = match SchedulerDriver::with_options(scheduler, flags.framework, detector, options)
    {
        Ok(driver) => driver,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let status = driver.run();
    let recorded = outcome.lock().unwrap_or_else(|e| e.into_inner()).take();
    match recorded {
        Some(outcome) => outcome,
        None => Outcome::Failed(format!(
            "the driver ended ({}) before the task did{}",
            status.as_str_name(),
            driver
                .error_message()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        )),
    }
}

/// The scheduler of one `mesos-execute` run.
struct Execute {
    /// What is still to be launched (taken by the first fitting offer).
    launch: Option<Launch>,
    /// The role whose resources are used.
    role: String,
    /// Launched tasks not yet terminal.
    pending: BTreeMap<String, ()>,
    /// The first task that ended other than FINISHED.
    failure: Option<String>,
    kill_after: Option<std::time::Duration>,
    outcome: Arc<Mutex<Option<Outcome>>>,
}

impl Execute {
    fn record(&self, outcome: Outcome) {
        *self.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
    }

    /// The resources `launch` needs in all, unallocated.
    fn needed(launch: &Launch) -> Resources {
        let protos: Vec<&Resource> = match launch {
            Launch::Task(task) => task.resources.iter().collect(),
            Launch::Group { executor, group } => executor
                .resources
                .iter()
                .chain(group.tasks.iter().flat_map(|t| t.resources.iter()))
                .collect(),
        };
        Resources::from_protos_lossy(protos)
    }

    /// The operation launching `launch` on `offer`'s agent, when the offer holds enough.
    fn fit(&self, launch: &Launch, offer: &Offer) -> Option<offer::Operation> {
        if !Resources::offered(&offer.resources).contains(&Self::needed(launch)) {
            return None;
        }
        let allocate = |resources: &mut Vec<Resource>| {
            let mut r = Resources::from_protos_lossy(resources.iter());
            r.allocate(&self.role);
            *resources = r.to_protos();
        };
        Some(match launch.clone() {
            Launch::Task(task) => {
                let mut task = *task;
                task.agent_id = offer.agent_id.clone();
                allocate(&mut task.resources);
                offer::Operation {
                    r#type: Some(offer::operation::Type::Launch as i32),
                    launch: Some(offer::operation::Launch {
                        task_infos: vec![task],
                    }),
                    ..Default::default()
                }
            }
            Launch::Group {
                executor,
                mut group,
            } => {
                let mut executor = *executor;
                executor.framework_id = Some(offer.framework_id.clone());
                allocate(&mut executor.resources);
                for task in &mut group.tasks {
                    task.agent_id = offer.agent_id.clone();
                    allocate(&mut task.resources);
                }
                offer::Operation {
                    r#type: Some(offer::operation::Type::LaunchGroup as i32),
                    launch_group: Some(offer::operation::LaunchGroup {
                        executor,
                        task_group: group,
                    }),
                    ..Default::default()
                }
            }
        })
    }

    fn launched(&mut self, launch: &Launch, agent: &AgentId) {
        match launch {
            Launch::Task(task) => {
                println!("Submitted task '{}' to agent '{}'", task.name, agent.value);
                self.pending.insert(task.task_id.value.clone(), ());
            }
            Launch::Group { group, .. } => {
                let names: Vec<&str> = group
                    .tasks
                    .iter()
                    .map(|t| t.task_id.value.as_str())
                    .collect();
                println!(
                    "Submitted task group with tasks [ {} ] to agent '{}'",
                    names.join(", "),
                    agent.value
                );
                for task in &group.tasks {
                    self.pending.insert(task.task_id.value.clone(), ());
                }
            }
        }
    }
}

impl Scheduler for Execute {
    fn registered(&mut self, _: &SchedulerDriver, framework_id: &FrameworkId, _: &MasterInfo) {
        println!("Subscribed with ID {}", framework_id.value);
    }

    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        let decline = Some(Filters {
            refuse_seconds: Some(DECLINE_SECONDS),
        });
        for offer in offers {
            let operation = self
                .launch
                .as_ref()
                .and_then(|launch| self.fit(launch, &offer));
            match (operation, self.launch.take()) {
                (Some(operation), Some(launch)) => {
                    driver.accept_offers(std::slice::from_ref(&offer.id), vec![operation], decline);
                    self.launched(&launch, &offer.agent_id);
                }
                (_, launch) => {
                    self.launch = launch;
                    driver.decline_offer(&offer.id, decline);
                }
            }
        }
    }

    fn status_update(&mut self, driver: &SchedulerDriver, status: &TaskStatus) {
        let state = status.state();
        println!(
            "Received status update {} for task '{}'",
            state.as_str_name(),
            status.task_id.value
        );
        if let Some(message) = status.message.as_deref().filter(|m| !m.is_empty()) {
            println!("  message: '{message}'");
        }
        if let Some(source) = status.source {
            if let Ok(source) = mesos_core::proto::mesos::v1::task_status::Source::try_from(source)
            {
                println!("  source: {}", source.as_str_name());
            }
        }
        if let Some(reason) = status.reason {
            if let Ok(reason) = mesos_core::proto::mesos::v1::task_status::Reason::try_from(reason)
            {
                println!("  reason: {}", reason.as_str_name());
            }
        }
        if state == TaskState::TaskRunning {
            if let Some(after) = self.kill_after {
                let driver = driver.clone();
                let task_id = status.task_id.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(after);
                    println!("Killing task '{}' after {after:?}", task_id.value);
                    driver.kill_task(&task_id);
                });
            }
        }
        if !is_terminal_state(state) || self.pending.remove(&status.task_id.value).is_none() {
            return;
        }
        if state != TaskState::TaskFinished && self.failure.is_none() {
            let message = status.message.as_deref().unwrap_or("");
            self.failure = Some(format!(
                "task '{}' ended in {}{}",
                status.task_id.value,
                state.as_str_name(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                }
            ));
        }
        if self.pending.is_empty() {
            let outcome = match self.failure.take() {
                None => Outcome::Finished,
                Some(reason) => Outcome::Failed(reason),
            };
            self.record(outcome);
            driver.stop(false);
        }
    }

    fn error(&mut self, _: &SchedulerDriver, message: &str) {
        self.record(Outcome::Failed(format!("the framework failed: {message}")));
    }
}

/// The driver status `mesos-execute` ended with, for its exit code.
pub fn exit_code(outcome: &Outcome) -> std::process::ExitCode {
    match outcome {
        Outcome::Finished => std::process::ExitCode::SUCCESS,
        Outcome::Failed(_) => std::process::ExitCode::FAILURE,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ExecuteFlags, FlagsError> {
        ExecuteFlags::parse_from(std::iter::once("mesos-execute").chain(args.iter().copied()))
    }

    #[test]
    fn a_command_becomes_a_shell_task_with_its_environment() {
        let flags = parse(&[
            "--master=127.0.0.1:5050",
            "--name=t",
            "--command=echo $X",
            "--env={\"X\":\"1\"}",
            "--resources=cpus:0.5;mem:64",
            "--framework_capabilities=GPU_RESOURCES",
        ])
        .unwrap();
        let Launch::Task(task) = flags.launch else {
            panic!("a task")
        };
        assert_eq!(task.task_id.value, "t");
        let command = task.command.unwrap();
        assert_eq!(command.value.as_deref(), Some("echo $X"));
        assert_eq!(command.environment.unwrap().variables[0].name, "X");
        assert_eq!(flags.framework.capabilities.len(), 5);
        assert_eq!(flags.framework.roles, vec!["*".to_string()]);
    }

    #[test]
    fn bad_flags_are_refused_with_the_reason() {
        for (args, expected) in [
            (vec!["--name=t", "--command=true"], "--master is required"),
            (
                vec!["--master=a:1", "--name=t"],
                "either --command or --task_group",
            ),
            (vec!["--master=a:1", "--command=true"], "--name is required"),
            (
                vec!["--master=a:1", "--name=t", "--command=true", "--env=[1]"],
                "--env",
            ),
            (
                vec![
                    "--master=a:1",
                    "--name=t",
                    "--command=x",
                    "--framework_capabilities=NOPE",
                ],
                "unknown capability 'NOPE'",
            ),
            (
                vec!["--master=a:1", "--task_group=/nonexistent"],
                "cannot read",
            ),
            (
                vec!["--master=a:1", "--task_group={\"tasks\":[]}"],
                "no tasks",
            ),
        ] {
            let error = parse(&args).unwrap_err().to_string();
            assert!(error.contains(expected), "{args:?}: {error}");
        }
    }

    #[test]
    fn a_task_group_gets_the_default_executor() {
        let flags = parse(&[
            "--master=a:1",
            r#"--task_group={"tasks":[{"name":"a","task_id":{"value":"a"},"agent_id":{"value":""},"resources":[],"command":{"value":"true"}}]}"#,
        ])
        .unwrap();
        let Launch::Group { executor, group } = flags.launch else {
            panic!("a group")
        };
        assert_eq!(executor.r#type, Some(executor_info::Type::Default as i32));
        assert_eq!(group.tasks.len(), 1);
    }
}
