//! `mesos-default-executor`: the built-in default executor the agent starts for task groups
//! (LAUNCH_GROUP with an ExecutorInfo of type DEFAULT). It reads the `MESOS_*` environment
//! the agent sets, runs every task of its groups and exits 0 when they are done; a bad
//! environment or an unreachable agent exits 1 with the reason on stderr.

use std::process::ExitCode;

use mesos_core::executor::{run_default_executor, ExecutorEnvironment};

fn main() -> ExitCode {
    eprintln!(
        "mesos-default-executor {} (Mesos wire {})",
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
    match runtime.block_on(run_default_executor(&env, own_env)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}
