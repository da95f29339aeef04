//! The executor side of the v1 executor API, and the built-in command and default executors.
//!
//! - [`env`](mod@env): the `MESOS_*` environment an agent starts an executor with;
//! - [`client`]: single calls to the agent's `/api/v1/executor` and its event stream;
//! - [`connection`]: a subscription kept alive across agent restarts, with the updates and
//!   tasks the agent has not acknowledged;
//! - [`driver`]: the classic callback API, an [`Executor`] driven by an [`ExecutorDriver`];
//! - [`process`]: the task's process (process group, environment, user, kill with grace);
//! - [`command`]: the command executor's logic as a state machine;
//! - [`runner`]: runs the command executor against an agent (the `mesos-executor` binary);
//! - [`default`]: the default executor for task groups (`mesos-default-executor`).

pub mod client;
pub mod command;
pub mod connection;
pub mod default;
pub mod driver;
pub mod env;
pub mod process;
pub mod runner;

pub use client::{ClientError, EventStream, ExecutorClient};
pub use command::{Action, CommandExecutor, CommandExecutorConfig};
pub use connection::{ConnectionError, ExecutorConnection, ReconnectPolicy, Unacknowledged};
pub use default::{run_default_executor, DefaultExecutor, GroupAction};
pub use driver::{DriverError, Executor, ExecutorDriver};
pub use env::{EnvironmentError, ExecutorEnvironment};
pub use process::{ProcessError, ProcessSpec, TaskProcess, Termination, UserIds};
pub use runner::{executor_main, run_command_executor, BuiltinExecutor, RunError};
