//! Runs the command executor: subscribes to the agent, feeds [`CommandExecutor`] the agent's
//! events and what happens to the task's process, and carries out its [`Action`]s.

use std::collections::VecDeque;
use std::time::Duration;

use nix::sys::signal::Signal;
use tokio::time::Instant;

use super::command::{Action, CommandExecutor, CommandExecutorConfig};
use super::connection::{ConnectionError, ExecutorConnection};
use super::env::ExecutorEnvironment;
use super::process::{ProcessError, TaskProcess, Termination};

/// How long the executor waits, while subscribed, for the agent to acknowledge the task's
/// terminal update before it exits anyway. While re-subscribing to a restarted agent it
/// keeps waiting: the re-subscription carries the update.
pub const TERMINAL_ACK_TIMEOUT: Duration = Duration::from_secs(60);

/// Why the command executor ended abnormally.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The agent could not be subscribed to, refused us, or went away (the task, if any,
    /// was killed first).
    #[error(transparent)]
    Connection(#[from] ConnectionError),
}

/// Runs the command executor `env` describes until its task is done (or it is shut down);
/// the task's environment starts from `base_env` (the executor's own environment).
pub async fn run_command_executor(
    env: &ExecutorEnvironment,
    base_env: Vec<(String, String)>,
) -> Result<(), RunError> {
    let mut connection = ExecutorConnection::from_environment(env).await?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    let executor = CommandExecutor::new(CommandExecutorConfig::new(env, base_env, euid));
    Runner {
        executor,
        process: None,
        sigkill_at: None,
        ack_deadline: None,
        connected: true,
        lost: None,
    }
    .run(&mut connection)
    .await
}

/// The built-in executors, one per program.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BuiltinExecutor {
    /// `mesos-executor`: one command task.
    Command,
    /// `mesos-default-executor`: task groups.
    Default,
}

impl BuiltinExecutor {
    /// The program's name.
    pub fn program(self) -> &'static str {
        match self {
            BuiltinExecutor::Command => "mesos-executor",
            BuiltinExecutor::Default => "mesos-default-executor",
        }
    }
}

/// The whole of a built-in executor program: reads the `MESOS_*` environment the agent
/// set, runs the executor until it is done, and says how it ended (0; or 1 with the reason
/// on stderr when the environment is bad or the agent cannot be reached).
pub fn executor_main(which: BuiltinExecutor) -> std::process::ExitCode {
    use std::process::ExitCode;
    log_line!(
        "{} {} (Mesos wire {})",
        which.program(),
        env!("CARGO_PKG_VERSION"),
        crate::MESOS_WIRE_VERSION
    );
    let env = match ExecutorEnvironment::from_process() {
        Ok(env) => env,
        Err(error) => {
            log_line!("Failed to read the executor environment: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            log_line!("Failed to start the executor's runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let own_env: Vec<(String, String)> = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    let result = runtime.block_on(async {
        match which {
            BuiltinExecutor::Command => run_command_executor(&env, own_env).await,
            BuiltinExecutor::Default => super::default::run_default_executor(&env, own_env).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            log_line!("{error}");
            ExitCode::FAILURE
        }
    }
}

/// The runner's state besides the connection.
struct Runner {
    executor: CommandExecutor,
    process: Option<TaskProcess>,
    /// When to SIGKILL the process group of a task being killed.
    sigkill_at: Option<Instant>,
    /// When to stop waiting for the terminal update's acknowledgement.
    ack_deadline: Option<Instant>,
    /// Whether events can still come from the agent.
    connected: bool,
    /// The connection failure to report at the end, if the agent went away before the task
    /// was done.
    lost: Option<ConnectionError>,
}

impl Runner {
    async fn run(mut self, connection: &mut ExecutorConnection) -> Result<(), RunError> {
        loop {
            let actions = tokio::select! {
                event = connection.next_event(), if self.connected => match event {
                    Ok(event) => self.executor.on_event(event),
                    Err(error) => {
                        log_line!("{error}");
                        self.connected = false;
                        if !self.executor.is_shutting_down() && !self.executor.awaiting_terminal_ack() {
                            self.lost = Some(error);
                        }
                        self.executor.on_agent_gone()
                    }
                },
                ended = wait(&mut self.process) => {
                    self.process = None;
                    self.sigkill_at = None;
                    match ended {
                        Ok(ended) => self.executor.on_exited(ended),
                        Err(error) => self.executor.on_process_error(&error),
                    }
                },
                () = sleep_until(self.sigkill_at) => {
                    self.sigkill_at = None;
                    self.signal(Signal::SIGKILL);
                    Vec::new()
                },
                () = sleep_until(self.ack_deadline) => {
                    if connection.is_subscribed() {
                        log_line!("The terminal update was not acknowledged in time; exiting");
                        vec![Action::Exit]
                    } else {
                        self.ack_deadline = Some(Instant::now() + TERMINAL_ACK_TIMEOUT);
                        Vec::new()
                    }
                },
            };
            if self.carry_out(connection, actions).await {
                return match self.lost {
                    Some(error) => Err(error.into()),
                    None => Ok(()),
                };
            }
            if self.executor.awaiting_terminal_ack() && self.ack_deadline.is_none() {
                self.ack_deadline = Some(Instant::now() + TERMINAL_ACK_TIMEOUT);
            }
        }
    }

    /// Carries out `actions` (and those they lead to); returns whether to exit.
    async fn carry_out(
        &mut self,
        connection: &mut ExecutorConnection,
        actions: Vec<Action>,
    ) -> bool {
        let mut queue = VecDeque::from(actions);
        while let Some(action) = queue.pop_front() {
            match action {
                Action::Update(status) => {
                    if let Err(error) = connection.update(status).await {
                        log_line!("Failed to send a status update: {error}");
                    }
                }
                Action::Launch(spec) => match TaskProcess::spawn(&spec) {
                    Ok(process) => {
                        queue.extend(self.executor.on_launched(process.pid()));
                        self.process = Some(process);
                    }
                    Err(error) => queue.extend(self.executor.on_process_error(&error)),
                },
                Action::Kill { grace } => {
                    self.signal(Signal::SIGTERM);
                    self.sigkill_at = Some(Instant::now() + grace);
                }
                Action::Exit => return true,
            }
        }
        false
    }

    fn signal(&self, signal: Signal) {
        if let Some(process) = &self.process {
            if let Err(error) = process.signal_group(signal) {
                log_line!("{error}");
            }
        }
    }
}

/// How the process ends; never, if there is none.
async fn wait(process: &mut Option<TaskProcess>) -> Result<Termination, ProcessError> {
    match process {
        Some(process) => process.wait().await,
        None => std::future::pending().await,
    }
}

/// Sleeps until `deadline`; forever if there is none.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_unreachable_agent_ends_the_executor_with_an_error() {
        // A port nobody listens on: bind one, then close it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let endpoint = format!("127.0.0.1:{port}");
        let env = ExecutorEnvironment::from_vars([
            ("MESOS_AGENT_ENDPOINT", endpoint.as_str()),
            ("MESOS_FRAMEWORK_ID", "framework"),
            ("MESOS_EXECUTOR_ID", "executor"),
            ("MESOS_DIRECTORY", "/tmp"),
            ("MESOS_CHECKPOINT", "1"),
            ("MESOS_RECOVERY_TIMEOUT", "500ms"),
            ("MESOS_SUBSCRIPTION_BACKOFF_MAX", "100ms"),
        ])
        .unwrap();
        let started = std::time::Instant::now();
        let error = run_command_executor(&env, Vec::new()).await.unwrap_err();
        let RunError::Connection(ConnectionError::Unreachable { last, .. }) = &error else {
            panic!("{error:?}");
        };
        assert!(last.is_retryable());
        assert!(error.to_string().contains(&endpoint), "{error}");
        let waited = started.elapsed();
        assert!(waited >= Duration::from_millis(500), "{waited:?}");
        assert!(waited < Duration::from_secs(5), "{waited:?}");
    }
}
