//! What an executor is launched as: the ExecutorInfo of a command task's built-in
//! executor, the `MESOS_*` environment every executor gets (as Apache Mesos sets it), its
//! command line and its container's resource limits. Pure functions.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::agent::containerizer::isolator::ResourceLimits;
use crate::agent::containerizer::launcher::LaunchSpec;
use crate::proto::mesos::v1::{
    command_info, executor_info, CommandInfo, ExecutorId, ExecutorInfo, FrameworkInfo, Resource,
    TaskInfo,
};

/// CPUs Mesos adds to a command executor's container on top of its task's.
pub const COMMAND_EXECUTOR_CPUS: f64 = 0.1;

/// The longest pause between an executor's subscription attempts (Mesos' default).
const SUBSCRIPTION_BACKOFF_MAX: Duration = Duration::from_secs(2);

/// Memory (MiB) Mesos adds to a command executor's container on top of its task's.
pub const COMMAND_EXECUTOR_MEM_MB: f64 = 32.0;

/// The agent-side facts an executor's environment names.
#[derive(Debug, Clone)]
pub struct ExecutorContext<'a> {
    /// Where executors reach the agent's HTTP API.
    pub agent_endpoint: SocketAddr,
    /// The Unix socket of the agent's executor API (`--http_executor_domain_sockets`).
    pub domain_socket: Option<&'a Path>,
    /// The agent's id.
    pub agent_id: &'a str,
    /// The run's sandbox.
    pub sandbox: &'a Path,
    /// Where the container sees its sandbox (`filesystem/linux`); its host path when `None`.
    pub sandbox_mount: Option<&'a Path>,
    /// `--recovery_timeout`.
    pub recovery_timeout: Duration,
    /// `--executor_shutdown_grace_period`.
    pub shutdown_grace_period: Duration,
}

/// The ExecutorInfo of the built-in command executor that runs `task` (a task with a
/// `command` and no `executor`): its id is the task's id, as in Mesos.
pub fn command_executor_info(
    task: &TaskInfo,
    framework: &FrameworkInfo,
    program: &Path,
) -> ExecutorInfo {
    let command_text = task
        .command
        .as_ref()
        .and_then(|c| c.value.clone())
        .unwrap_or_default();
    ExecutorInfo {
        r#type: Some(executor_info::Type::Default as i32),
        executor_id: ExecutorId {
            value: task.task_id.value.clone(),
        },
        framework_id: framework.id.clone(),
        name: Some(format!(
            "Command Executor (Task: {}) (Command: sh -c '{}')",
            task.task_id.value,
            truncate(&command_text, 15)
        )),
        source: Some(task.task_id.value.clone()),
        command: Some(CommandInfo {
            value: Some(program.display().to_string()),
            shell: Some(false),
            arguments: vec!["mesos-executor".to_string()],
            uris: task
                .command
                .as_ref()
                .map(|c| c.uris.clone())
                .unwrap_or_default(),
            user: task.command.as_ref().and_then(|c| c.user.clone()),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// The environment of an executor: `PATH` and `HOME` of a sane default, the `MESOS_*`
/// variables Mesos sets, then the ExecutorInfo's own variables (which win).
pub fn executor_environment(
    executor: &ExecutorInfo,
    framework: &FrameworkInfo,
    context: &ExecutorContext<'_>,
) -> Vec<(String, String)> {
    let standard = crate::executor::ExecutorEnvironment {
        agent_endpoint: context.agent_endpoint.to_string(),
        framework_id: framework.id.clone().unwrap_or_default(),
        executor_id: executor.executor_id.clone(),
        directory: context.sandbox.to_path_buf(),
        sandbox: context
            .sandbox_mount
            .unwrap_or(context.sandbox)
            .to_path_buf(),
        checkpoint: framework.checkpoint.unwrap_or(false),
        recovery_timeout: context.recovery_timeout.into(),
        subscription_backoff_max: SUBSCRIPTION_BACKOFF_MAX.into(),
        shutdown_grace_period: context.shutdown_grace_period.into(),
        domain_socket: context.domain_socket.map(Path::to_path_buf),
    };
    let mut env: Vec<(String, String)> = vec![
        (
            "PATH".into(),
            "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        ),
        (
            "LIBPROCESS_IP".into(),
            context.agent_endpoint.ip().to_string(),
        ),
        ("LIBPROCESS_PORT".into(), "0".into()),
        (
            "MESOS_ALLOCATION_ROLE".into(),
            executor_role(executor, framework),
        ),
        ("MESOS_HTTP_COMMAND_EXECUTOR".into(), "1".into()),
        ("MESOS_SLAVE_ID".into(), context.agent_id.to_string()),
        ("MESOS_AGENT_ID".into(), context.agent_id.to_string()),
        (
            "MESOS_SLAVE_PID".into(),
            format!("slave(1)@{}", context.agent_endpoint),
        ),
    ];
    env.extend(
        standard
            .to_vars()
            .into_iter()
            .map(|(name, value)| (name.to_string(), value)),
    );
    let own = executor
        .command
        .as_ref()
        .and_then(|c| c.environment.as_ref())
        .map(|e| e.variables.as_slice())
        .unwrap_or_default();
    for variable in own {
        let Some(value) = variable.value.clone() else {
            continue;
        };
        env.retain(|(name, _)| *name != variable.name);
        env.push((variable.name.clone(), value));
    }
    env
}

/// The role the executor's resources are allocated to (its resources', else the
/// framework's first role).
fn executor_role(executor: &ExecutorInfo, framework: &FrameworkInfo) -> String {
    executor
        .resources
        .iter()
        .find_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone()))
        .or_else(|| framework.roles.first().cloned())
        .or_else(|| {
            #[allow(deprecated)]
            framework.role.clone()
        })
        .unwrap_or_else(|| "*".to_string())
}

/// The argv of an executor's command: `/bin/sh -c <value>` for a shell command, else the
/// value with its arguments (the first argument, if any, is argv\[0\] in Mesos; the
/// program is always `value`).
pub fn executor_argv(command: &CommandInfo) -> Vec<String> {
    let value = command.value.clone().unwrap_or_default();
    if command.shell.unwrap_or(true) {
        return vec!["/bin/sh".into(), "-c".into(), value];
    }
    let mut argv = vec![value];
    argv.extend(command.arguments.iter().skip(1).cloned());
    argv
}

/// The launch of an executor into `sandbox`, bind-mounted at `sandbox_mount` when given.
pub fn launch_spec(
    executor: &ExecutorInfo,
    env: Vec<(String, String)>,
    sandbox: PathBuf,
    sandbox_mount: Option<PathBuf>,
) -> LaunchSpec {
    let default = CommandInfo::default();
    let command = executor.command.as_ref().unwrap_or(&default);
    LaunchSpec {
        argv: executor_argv(command),
        env,
        sandbox,
        working_dir: None,
        user: None,
        sandbox_mount,
    }
}

/// The limits of a container running `resources` (its executor's and tasks' resources).
pub fn container_limits<'a>(resources: impl IntoIterator<Item = &'a Resource>) -> ResourceLimits {
    let mut cpus = 0.0;
    let mut mem_mb = 0.0;
    for resource in resources {
        let value = resource.scalar.as_ref().map(|s| s.value).unwrap_or(0.0);
        match resource.name.as_str() {
            "cpus" => cpus += value,
            "mem" => mem_mb += value,
            _ => {}
        }
    }
    ResourceLimits {
        cpus: (cpus > 0.0).then_some(cpus),
        mem_bytes: (mem_mb > 0.0).then_some((mem_mb * 1024.0 * 1024.0) as u64),
        pids: None,
    }
}

/// Scalar resources named `cpus` and `mem` of the command executor's own overhead.
pub fn command_executor_overhead() -> Vec<Resource> {
    ["cpus", "mem"]
        .into_iter()
        .zip([COMMAND_EXECUTOR_CPUS, COMMAND_EXECUTOR_MEM_MB])
        .map(|(name, value)| Resource {
            name: name.to_string(),
            r#type: crate::proto::mesos::v1::value::Type::Scalar as i32,
            scalar: Some(crate::proto::mesos::v1::value::Scalar { value }),
            ..Default::default()
        })
        .collect()
}

/// The user an executor runs as: its command's `user`, else the framework's; `None` when
/// that is empty or the agent is not root (it cannot switch users then).
pub fn executor_user<'a>(
    executor: &'a ExecutorInfo,
    framework: &'a FrameworkInfo,
) -> Option<&'a str> {
    if !nix::unistd::Uid::effective().is_root() {
        return None;
    }
    executor
        .command
        .as_ref()
        .and_then(|c| c.user.as_deref())
        .or(Some(framework.user.as_str()))
        .filter(|u| !u.is_empty())
}

/// Resolves a user name into `(uid, gid)`.
pub fn resolve_user(name: &str) -> Result<(u32, u32), String> {
    match nix::unistd::User::from_name(name) {
        Ok(Some(user)) => Ok((user.uid.as_raw(), user.gid.as_raw())),
        Ok(None) => Err(format!("user '{name}' does not exist on this agent")),
        Err(e) => Err(format!("cannot look up user '{name}': {e}")),
    }
}

/// The URIs to fetch into the sandbox before the executor starts.
pub fn executor_uris(executor: &ExecutorInfo) -> Vec<command_info::Uri> {
    executor
        .command
        .as_ref()
        .map(|c| c.uris.clone())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::{environment, Environment, FrameworkId, TaskId};

    fn framework() -> FrameworkInfo {
        FrameworkInfo {
            user: "root".into(),
            name: "f".into(),
            id: Some(FrameworkId { value: "F1".into() }),
            checkpoint: Some(true),
            roles: vec!["web".into()],
            ..Default::default()
        }
    }

    #[test]
    fn command_executor_is_named_after_its_task() {
        let task = TaskInfo {
            name: "t".into(),
            task_id: TaskId { value: "T1".into() },
            command: Some(CommandInfo {
                value: Some("echo a very long command line".into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let info = command_executor_info(&task, &framework(), Path::new("/bin/mesos-executor"));
        assert_eq!(info.executor_id.value, "T1");
        assert_eq!(
            info.name.as_deref(),
            Some("Command Executor (Task: T1) (Command: sh -c 'echo a very lon...')")
        );
        assert_eq!(
            executor_argv(info.command.as_ref().unwrap()),
            vec!["/bin/mesos-executor".to_string()]
        );
    }

    #[test]
    fn environment_has_the_mesos_variables_and_own_ones_win() {
        let mut executor = ExecutorInfo {
            executor_id: ExecutorId { value: "E".into() },
            command: Some(CommandInfo {
                value: Some("run".into()),
                environment: Some(Environment {
                    variables: vec![environment::Variable {
                        name: "PATH".into(),
                        value: Some("/opt/bin".into()),
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let context = ExecutorContext {
            agent_endpoint: "127.0.0.1:5051".parse().unwrap(),
            domain_socket: None,
            agent_id: "S0",
            sandbox: Path::new("/w/s"),
            sandbox_mount: None,
            recovery_timeout: Duration::from_secs(900),
            shutdown_grace_period: Duration::from_secs(5),
        };
        let env = executor_environment(&executor, &framework(), &context);
        let get = |name: &str| env.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
        assert_eq!(get("MESOS_AGENT_ENDPOINT"), Some("127.0.0.1:5051"));
        assert_eq!(get("MESOS_FRAMEWORK_ID"), Some("F1"));
        assert_eq!(get("MESOS_EXECUTOR_ID"), Some("E"));
        assert_eq!(get("MESOS_CHECKPOINT"), Some("1"));
        assert_eq!(get("MESOS_RECOVERY_TIMEOUT"), Some("15mins"));
        assert_eq!(get("MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD"), Some("5secs"));
        assert_eq!(get("MESOS_SANDBOX"), Some("/w/s"));
        assert_eq!(get("MESOS_ALLOCATION_ROLE"), Some("web"));
        assert_eq!(get("PATH"), Some("/opt/bin"));
        assert_eq!(get("MESOS_DOMAIN_SOCKET"), None);
        let socket = ExecutorContext {
            domain_socket: Some(Path::new("/run/mesos/agent.sock")),
            ..context
        };
        let env = executor_environment(&executor, &framework(), &socket);
        assert_eq!(
            env.iter()
                .find(|(n, _)| n == "MESOS_DOMAIN_SOCKET")
                .map(|(_, v)| v.as_str()),
            Some("/run/mesos/agent.sock")
        );
        executor.command.as_mut().unwrap().shell = Some(true);
        assert_eq!(
            executor_argv(executor.command.as_ref().unwrap()),
            vec!["/bin/sh", "-c", "run"]
        );
    }

    #[test]
    fn limits_sum_cpus_and_mem() {
        let mut resources = command_executor_overhead();
        resources.extend(command_executor_overhead());
        let limits = container_limits(&resources);
        assert_eq!(limits.cpus, Some(0.2));
        assert_eq!(limits.mem_bytes, Some(64 * 1024 * 1024));
        assert_eq!(container_limits(&[]), ResourceLimits::default());
    }

    #[test]
    fn unknown_user_is_an_error() {
        assert!(resolve_user("no-such-user-here")
            .unwrap_err()
            .contains("does not exist"));
        assert_eq!(resolve_user("root").unwrap(), (0, 0));
    }
}
