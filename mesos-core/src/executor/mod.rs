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

/// Writes one line to the executor's stderr in a single `write`, where `eprintln!` makes a
/// system call for every piece of its format string. The stderr of an executor is the
/// `stderr` file of its sandbox, so each write is a file system call.
macro_rules! log_line {
    ($($arg:tt)*) => {
        $crate::executor::write_log_line(format_args!($($arg)*))
    };
}

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

/// The body of [`log_line!`]: formats the line, then writes it at once; a failed write is
/// dropped, as `eprintln!` would panic where an executor has nowhere else to report it.
pub(crate) fn write_log_line(args: std::fmt::Arguments<'_>) {
    let _ = write_line(&mut std::io::stderr().lock(), args);
}

fn write_line(out: &mut impl std::io::Write, args: std::fmt::Arguments<'_>) -> std::io::Result<()> {
    let mut line = std::fmt::format(args);
    line.push('\n');
    out.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    /// Records every `write` it is given.
    #[derive(Default)]
    struct Writes(Vec<Vec<u8>>);

    impl Write for Writes {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.push(buf.to_vec());
            Ok(buf.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_log_line_is_one_write() {
        let kind = "SUBSCRIBED";
        let mut pieces = Writes::default();
        writeln!(pieces, "Received {kind} event").unwrap();
        assert!(pieces.0.len() > 1, "formatting writes piece by piece");
        let mut line = Writes::default();
        super::write_line(&mut line, format_args!("Received {kind} event")).unwrap();
        assert_eq!(line.0, vec![b"Received SUBSCRIBED event\n".to_vec()]);
    }
}
