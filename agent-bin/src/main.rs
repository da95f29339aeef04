//! `mesos-agent`: Mesos' agent flags (command line and `MESOS_*` environment variables)
//! in, a running `mesos_core::agent::Agent` out, until SIGINT or SIGTERM, when every
//! executor is shut down and the agent exits. With `--recover=cleanup` it only cleans up
//! after the previous run (`Agent::cleanup`) and exits, as Mesos' agent does.

use std::process::ExitCode;

use mesos_core::agent::flags::AgentFlags;
use mesos_core::agent::{Agent, RecoverMode};

fn main() -> ExitCode {
    let flags = match AgentFlags::parse_from(std::env::args_os()) {
        Ok(flags) => flags,
        Err(error) => return mesos_core::daemon::flags_exit("mesos-agent", error),
    };
    let options = match flags.to_options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("mesos-agent: {e}");
            return ExitCode::FAILURE;
        }
    };
    mesos_core::logging::init(flags.logging_level);
    if options.recover == RecoverMode::Cleanup {
        return match Agent::cleanup(&options) {
            Ok(cleanup) => {
                println!(
                    "Cleaned up after agent {}: {} container(s) destroyed; exiting \
                     (--recover=cleanup)",
                    cleanup.agent_id.as_deref().unwrap_or("(none)"),
                    cleanup.destroyed
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("mesos-agent: cleanup failed: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match mesos_core::daemon::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mesos-agent: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let agent = match Agent::start(options).await {
            Ok(agent) => agent,
            Err(e) => {
                eprintln!("mesos-agent: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("Agent listening on {}", agent.addr());
        mesos_core::daemon::wait_for_signal().await;
        agent.stop().await;
        ExitCode::SUCCESS
    })
}
