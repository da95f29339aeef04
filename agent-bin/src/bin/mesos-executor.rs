//! `mesos-executor`: the built-in command executor the agent starts for a task that brings
//! only a command. It reads the `MESOS_*` environment the agent sets, runs the task and
//! exits 0 when the task is done; a bad environment or an unreachable agent exits 1 with
//! the reason on stderr.

use mesos_core::executor::{executor_main, BuiltinExecutor};

fn main() -> std::process::ExitCode {
    executor_main(BuiltinExecutor::Command)
}
