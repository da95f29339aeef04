//! `mesos-executor`: the built-in command executor the agent starts for a task that brings
//! only a command. It reads the `MESOS_*` environment the agent sets, runs the task and
//! exits 0 when the task is done; a bad environment or an unreachable agent exits 1 with
//! the reason on stderr.

use std::process::ExitCode;

use mesos_core::executor::{run_command_executor, ExecutorEnvironment};

fn main() -> ExitCode {
    eprintln!(
        "mesos-executor {} (Mesos wire {})",
        env!("CARGO_PKG_VERSION"),
        mesos_core::MESOS_WIRE_VERSION
    );
    let env = match ExecutorEnvironment::from_process() {
        Ok(env) => env,
        Err(error) => {
            eprintln!("Failed to read the executor environment: {error}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("Failed to start the executor's runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let own_env = std::env::vars_os()
        .filter_map(|(name, value)| Some((name.into_string().ok()?, value.into_string().ok()?)))
        .collect();
    match runtime.block_on(run_command_executor(&env, own_env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
