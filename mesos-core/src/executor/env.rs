//! The environment an executor is started with: the `MESOS_*` variables through which the
//! agent tells it where the agent is, who it is and how to behave when the agent goes away.
//!
//! The agent builds it with [`ExecutorEnvironment::to_vars`]; the executor reads it back
//! with [`ExecutorEnvironment::from_vars`] (or [`ExecutorEnvironment::from_process`]).

use std::path::PathBuf;

use crate::flags::Duration;
use crate::proto::mesos::v1::{ExecutorId, FrameworkId};

/// `host:port` of the agent's HTTP endpoint.
pub const AGENT_ENDPOINT: &str = "MESOS_AGENT_ENDPOINT";
/// The framework the executor belongs to.
pub const FRAMEWORK_ID: &str = "MESOS_FRAMEWORK_ID";
/// The executor's id.
pub const EXECUTOR_ID: &str = "MESOS_EXECUTOR_ID";
/// The sandbox path on the agent's file system.
pub const DIRECTORY: &str = "MESOS_DIRECTORY";
/// The sandbox path as the executor sees it (differs from `MESOS_DIRECTORY` in a container
/// with its own root file system).
pub const SANDBOX: &str = "MESOS_SANDBOX";
/// `1` when the framework checkpoints, so the executor survives an agent restart.
pub const CHECKPOINT: &str = "MESOS_CHECKPOINT";
/// How long a checkpointing executor waits for a restarted agent.
pub const RECOVERY_TIMEOUT: &str = "MESOS_RECOVERY_TIMEOUT";
/// The longest pause between two subscription attempts.
pub const SUBSCRIPTION_BACKOFF_MAX: &str = "MESOS_SUBSCRIPTION_BACKOFF_MAX";
/// How long the agent gives the executor to shut down before killing it.
pub const EXECUTOR_SHUTDOWN_GRACE_PERIOD: &str = "MESOS_EXECUTOR_SHUTDOWN_GRACE_PERIOD";
/// The Unix domain socket of the agent's executor API, set when the agent runs with
/// `--http_executor_domain_sockets`; the executor then calls the agent through it rather
/// than through `MESOS_AGENT_ENDPOINT`.
pub const DOMAIN_SOCKET: &str = "MESOS_DOMAIN_SOCKET";

/// Mesos' default recovery timeout (the agent's `--recovery_timeout`).
pub const DEFAULT_RECOVERY_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Mesos' default cap of the pause between subscription attempts.
pub const DEFAULT_SUBSCRIPTION_BACKOFF_MAX: Duration = Duration::from_secs(2);
/// Mesos' default executor shutdown grace period.
pub const DEFAULT_SHUTDOWN_GRACE_PERIOD: Duration = Duration::from_secs(5);

/// Why the executor's environment cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvironmentError {
    /// A variable the executor needs is not set.
    #[error("expecting '{name}' to be set in the environment")]
    Missing {
        /// The variable's name.
        name: &'static str,
    },
    /// A variable is set to something the executor cannot use.
    #[error("'{name}' has an invalid value '{value}': {reason}")]
    Invalid {
        /// The variable's name.
        name: &'static str,
        /// The value found.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What the agent tells an executor through its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorEnvironment {
    /// `host:port` of the agent; the executor API is `http://<endpoint>/api/v1/executor`.
    pub agent_endpoint: String,
    /// The framework the executor runs for.
    pub framework_id: FrameworkId,
    /// The executor's id.
    pub executor_id: ExecutorId,
    /// The sandbox on the agent's file system.
    pub directory: PathBuf,
    /// The sandbox as the executor sees it; the task's working directory.
    pub sandbox: PathBuf,
    /// Whether the framework checkpoints: the executor then waits for a restarted agent
    /// instead of shutting down when the connection breaks.
    pub checkpoint: bool,
    /// How long to keep trying to re-subscribe to a restarted agent (checkpointing only).
    pub recovery_timeout: Duration,
    /// The cap of the pause between subscription attempts.
    pub subscription_backoff_max: Duration,
    /// How long the agent waits for the executor to end after a SHUTDOWN.
    pub shutdown_grace_period: Duration,
    /// The agent's executor API socket (`MESOS_DOMAIN_SOCKET`); calls go through it, not
    /// over TCP to `agent_endpoint`, when it is set.
    pub domain_socket: Option<PathBuf>,
}

impl ExecutorEnvironment {
    /// Reads the environment from `(name, value)` pairs; variables other than the `MESOS_*`
    /// ones above are ignored, and a later pair overrides an earlier one of the same name.
    ///
    /// `MESOS_AGENT_ENDPOINT`, `MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID` and
    /// `MESOS_DIRECTORY` are required. `MESOS_SANDBOX` defaults to `MESOS_DIRECTORY`.
    /// `MESOS_CHECKPOINT` is `1` or `0` (absent: `0`); when it is `1`,
    /// `MESOS_RECOVERY_TIMEOUT` and `MESOS_SUBSCRIPTION_BACKOFF_MAX` are required as Mesos
    /// requires them, otherwise they take Mesos' defaults when absent. `MESOS_DOMAIN_SOCKET`
    /// is optional and must be an absolute path when set.
    pub fn from_vars<I, K, V>(vars: I) -> Result<ExecutorEnvironment, EnvironmentError>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: Into<String>,
    {
        let mut found = Found::default();
        for (name, value) in vars {
            found.set(name.as_ref(), value.into());
        }
        found.parse()
    }

    /// Reads the environment of this process (variables that are not valid Unicode are
    /// skipped, as none of Mesos' can be).
    pub fn from_process() -> Result<ExecutorEnvironment, EnvironmentError> {
        ExecutorEnvironment::from_vars(std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        }))
    }

    /// The variables that describe this environment, for an agent to start an executor with.
    pub fn to_vars(&self) -> Vec<(&'static str, String)> {
        let flag = if self.checkpoint { "1" } else { "0" };
        let mut vars = vec![
            (AGENT_ENDPOINT, self.agent_endpoint.clone()),
            (FRAMEWORK_ID, self.framework_id.value.clone()),
            (EXECUTOR_ID, self.executor_id.value.clone()),
            (DIRECTORY, self.directory.display().to_string()),
            (SANDBOX, self.sandbox.display().to_string()),
            (CHECKPOINT, flag.to_string()),
            (RECOVERY_TIMEOUT, self.recovery_timeout.to_string()),
            (
                SUBSCRIPTION_BACKOFF_MAX,
                self.subscription_backoff_max.to_string(),
            ),
            (
                EXECUTOR_SHUTDOWN_GRACE_PERIOD,
                self.shutdown_grace_period.to_string(),
            ),
        ];
        if let Some(socket) = &self.domain_socket {
            vars.push((DOMAIN_SOCKET, socket.display().to_string()));
        }
        vars
    }

    /// The URL of the agent's executor API.
    pub fn executor_api_url(&self) -> String {
        format!("http://{}/api/v1/executor", self.agent_endpoint)
    }
}

/// The `MESOS_*` values seen so far.
#[derive(Debug, Default)]
struct Found {
    agent_endpoint: Option<String>,
    framework_id: Option<String>,
    executor_id: Option<String>,
    directory: Option<String>,
    sandbox: Option<String>,
    checkpoint: Option<String>,
    recovery_timeout: Option<String>,
    subscription_backoff_max: Option<String>,
    shutdown_grace_period: Option<String>,
    domain_socket: Option<String>,
}

impl Found {
    fn set(&mut self, name: &str, value: String) {
        let slot = match name {
            AGENT_ENDPOINT => &mut self.agent_endpoint,
            FRAMEWORK_ID => &mut self.framework_id,
            EXECUTOR_ID => &mut self.executor_id,
            DIRECTORY => &mut self.directory,
            SANDBOX => &mut self.sandbox,
            CHECKPOINT => &mut self.checkpoint,
            RECOVERY_TIMEOUT => &mut self.recovery_timeout,
            SUBSCRIPTION_BACKOFF_MAX => &mut self.subscription_backoff_max,
            EXECUTOR_SHUTDOWN_GRACE_PERIOD => &mut self.shutdown_grace_period,
            DOMAIN_SOCKET => &mut self.domain_socket,
            _ => return,
        };
        *slot = Some(value);
    }

    fn parse(self) -> Result<ExecutorEnvironment, EnvironmentError> {
        let agent_endpoint = required(AGENT_ENDPOINT, self.agent_endpoint)?;
        check_endpoint(&agent_endpoint)?;
        let framework_id = required(FRAMEWORK_ID, self.framework_id)?;
        let executor_id = required(EXECUTOR_ID, self.executor_id)?;
        let directory = required(DIRECTORY, self.directory)?;
        let sandbox = match self.sandbox {
            Some(sandbox) => non_empty(SANDBOX, sandbox)?,
            None => directory.clone(),
        };
        let checkpoint = match self.checkpoint.as_deref() {
            None | Some("0") => false,
            Some("1") => true,
            Some(other) => {
                return Err(invalid(CHECKPOINT, other, "expected '1' or '0'"));
            }
        };
        let timing = |name, value: Option<String>, default| match value {
            Some(value) => duration(name, &value),
            None if checkpoint => Err(EnvironmentError::Missing { name }),
            None => Ok(default),
        };
        let recovery_timeout = timing(
            RECOVERY_TIMEOUT,
            self.recovery_timeout,
            DEFAULT_RECOVERY_TIMEOUT,
        )?;
        let subscription_backoff_max = timing(
            SUBSCRIPTION_BACKOFF_MAX,
            self.subscription_backoff_max,
            DEFAULT_SUBSCRIPTION_BACKOFF_MAX,
        )?;
        let shutdown_grace_period = match self.shutdown_grace_period {
            Some(value) => duration(EXECUTOR_SHUTDOWN_GRACE_PERIOD, &value)?,
            None => DEFAULT_SHUTDOWN_GRACE_PERIOD,
        };
        let domain_socket = match self.domain_socket {
            Some(path) if path.starts_with('/') => Some(PathBuf::from(path)),
            Some(path) => return Err(invalid(DOMAIN_SOCKET, &path, "expected an absolute path")),
            None => None,
        };
        Ok(ExecutorEnvironment {
            agent_endpoint,
            framework_id: FrameworkId {
                value: framework_id,
            },
            executor_id: ExecutorId { value: executor_id },
            directory: PathBuf::from(directory),
            sandbox: PathBuf::from(sandbox),
            checkpoint,
            recovery_timeout,
            subscription_backoff_max,
            shutdown_grace_period,
            domain_socket,
        })
    }
}

fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> EnvironmentError {
    EnvironmentError::Invalid {
        name,
        value: value.to_string(),
        reason: reason.into(),
    }
}

fn required(name: &'static str, value: Option<String>) -> Result<String, EnvironmentError> {
    non_empty(name, value.ok_or(EnvironmentError::Missing { name })?)
}

fn non_empty(name: &'static str, value: String) -> Result<String, EnvironmentError> {
    if value.is_empty() {
        return Err(invalid(name, &value, "it is empty"));
    }
    Ok(value)
}

fn duration(name: &'static str, value: &str) -> Result<Duration, EnvironmentError> {
    value
        .parse::<Duration>()
        .map_err(|e| invalid(name, value, e.to_string()))
}

/// `host:port` with a non-empty host and a port number (an IPv6 host in brackets).
fn check_endpoint(endpoint: &str) -> Result<(), EnvironmentError> {
    let (host, port) = endpoint
        .rsplit_once(':')
        .ok_or_else(|| invalid(AGENT_ENDPOINT, endpoint, "expected host:port"))?;
    if host.is_empty() || host.contains('/') {
        return Err(invalid(AGENT_ENDPOINT, endpoint, "expected host:port"));
    }
    port.parse::<u16>().map_err(|_| {
        invalid(
            AGENT_ENDPOINT,
            endpoint,
            format!("'{port}' is not a port number"),
        )
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variables Apache Mesos 1.11's agent gave its command executor (from a real run).
    fn mesos_vars() -> Vec<(&'static str, &'static str)> {
        vec![
            ("LIBPROCESS_IP", "127.0.0.1"),
            (AGENT_ENDPOINT, "127.0.0.1:5051"),
            (CHECKPOINT, "1"),
            (
                DIRECTORY,
                "/var/lib/mesos/agent/slaves/S0/frameworks/F/executors/e/runs/c",
            ),
            (EXECUTOR_ID, "env-dump"),
            (EXECUTOR_SHUTDOWN_GRACE_PERIOD, "5secs"),
            (FRAMEWORK_ID, "948967d5-03c8-49b4-8b43-07f6df9f54bc-0000"),
            (RECOVERY_TIMEOUT, "15mins"),
            (SANDBOX, "/mnt/mesos/sandbox"),
            (SUBSCRIPTION_BACKOFF_MAX, "2secs"),
        ]
    }

    fn without(name: &str) -> Vec<(&'static str, &'static str)> {
        mesos_vars()
            .into_iter()
            .filter(|(n, _)| *n != name)
            .collect()
    }

    fn with(name: &'static str, value: &'static str) -> Vec<(&'static str, &'static str)> {
        let mut vars = mesos_vars();
        vars.push((name, value));
        vars
    }

    #[test]
    fn reads_what_mesos_sets() {
        let env = ExecutorEnvironment::from_vars(mesos_vars()).unwrap();
        assert_eq!(env.agent_endpoint, "127.0.0.1:5051");
        assert_eq!(
            env.executor_api_url(),
            "http://127.0.0.1:5051/api/v1/executor"
        );
        assert_eq!(
            env.framework_id.value,
            "948967d5-03c8-49b4-8b43-07f6df9f54bc-0000"
        );
        assert_eq!(env.executor_id.value, "env-dump");
        assert_eq!(
            env.directory,
            PathBuf::from("/var/lib/mesos/agent/slaves/S0/frameworks/F/executors/e/runs/c")
        );
        assert_eq!(env.sandbox, PathBuf::from("/mnt/mesos/sandbox"));
        assert!(env.checkpoint);
        assert_eq!(env.recovery_timeout.as_std().as_secs(), 900);
        assert_eq!(env.subscription_backoff_max.as_std().as_secs(), 2);
        assert_eq!(env.shutdown_grace_period.as_std().as_secs(), 5);
    }

    #[test]
    fn round_trips_through_its_variables() {
        let env = ExecutorEnvironment::from_vars(mesos_vars()).unwrap();
        let again = ExecutorEnvironment::from_vars(env.to_vars()).unwrap();
        assert_eq!(again, env);
        let vars = env.to_vars();
        assert!(vars.contains(&(RECOVERY_TIMEOUT, "15mins".to_string())));
        assert!(vars.contains(&(CHECKPOINT, "1".to_string())));
    }

    #[test]
    fn a_domain_socket_is_optional_and_absolute() {
        assert_eq!(
            ExecutorEnvironment::from_vars(mesos_vars())
                .unwrap()
                .domain_socket,
            None
        );
        let env = ExecutorEnvironment::from_vars(with(DOMAIN_SOCKET, "/var/run/mesos/agent.sock"))
            .unwrap();
        assert_eq!(
            env.domain_socket,
            Some(PathBuf::from("/var/run/mesos/agent.sock"))
        );
        assert_eq!(ExecutorEnvironment::from_vars(env.to_vars()).unwrap(), env);
        let error = ExecutorEnvironment::from_vars(with(DOMAIN_SOCKET, "agent.sock")).unwrap_err();
        assert!(error.to_string().contains("MESOS_DOMAIN_SOCKET"), "{error}");
    }

    #[test]
    fn sandbox_defaults_to_the_directory() {
        let env = ExecutorEnvironment::from_vars(without(SANDBOX)).unwrap();
        assert_eq!(env.sandbox, env.directory);
    }

    #[test]
    fn timings_default_without_checkpointing() {
        let vars: Vec<_> = mesos_vars()
            .into_iter()
            .filter(|(n, _)| {
                ![
                    CHECKPOINT,
                    RECOVERY_TIMEOUT,
                    SUBSCRIPTION_BACKOFF_MAX,
                    EXECUTOR_SHUTDOWN_GRACE_PERIOD,
                ]
                .contains(n)
            })
            .collect();
        let env = ExecutorEnvironment::from_vars(vars).unwrap();
        assert!(!env.checkpoint);
        assert_eq!(env.recovery_timeout, DEFAULT_RECOVERY_TIMEOUT);
        assert_eq!(
            env.subscription_backoff_max,
            DEFAULT_SUBSCRIPTION_BACKOFF_MAX
        );
        assert_eq!(env.shutdown_grace_period, DEFAULT_SHUTDOWN_GRACE_PERIOD);
    }

    #[test]
    fn names_a_missing_variable() {
        for name in [AGENT_ENDPOINT, FRAMEWORK_ID, EXECUTOR_ID, DIRECTORY] {
            let error = ExecutorEnvironment::from_vars(without(name)).unwrap_err();
            assert_eq!(error, EnvironmentError::Missing { name });
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn checkpointing_requires_its_timings() {
        for name in [RECOVERY_TIMEOUT, SUBSCRIPTION_BACKOFF_MAX] {
            let error = ExecutorEnvironment::from_vars(without(name)).unwrap_err();
            assert_eq!(error, EnvironmentError::Missing { name });
        }
    }

    #[test]
    fn names_a_bad_value() {
        let cases = [
            (CHECKPOINT, "yes"),
            (RECOVERY_TIMEOUT, "15"),
            (SUBSCRIPTION_BACKOFF_MAX, "2 lightyears"),
            (EXECUTOR_SHUTDOWN_GRACE_PERIOD, "soon"),
            (AGENT_ENDPOINT, "localhost"),
            (AGENT_ENDPOINT, "localhost:http"),
            (AGENT_ENDPOINT, ":5051"),
            (EXECUTOR_ID, ""),
        ];
        for (name, value) in cases {
            let error = ExecutorEnvironment::from_vars(with(name, value)).unwrap_err();
            match &error {
                EnvironmentError::Invalid {
                    name: bad,
                    value: v,
                    ..
                } => {
                    assert_eq!((*bad, v.as_str()), (name, value));
                }
                other => panic!("{name}={value}: {other:?}"),
            }
            assert!(error.to_string().contains(name), "{error}");
        }
    }

    #[test]
    fn accepts_an_ipv6_endpoint() {
        let env = ExecutorEnvironment::from_vars(with(AGENT_ENDPOINT, "[::1]:5051")).unwrap();
        assert_eq!(env.executor_api_url(), "http://[::1]:5051/api/v1/executor");
    }
}
