//! `mesos-default-executor`: the built-in default executor the agent starts for task groups
//! (LAUNCH_GROUP with an ExecutorInfo of type DEFAULT). It reads the `MESOS_*` environment
//! the agent sets, runs every task of its groups and exits 0 when they are done; a bad
//! environment or an unreachable agent exits 1 with the reason on stderr.

use mesos_core::executor::{executor_main, BuiltinExecutor};

fn main() -> std::process::ExitCode {
    executor_main(BuiltinExecutor::Default)
}
