//! `mesos-master`: Mesos' master flags (command line and `MESOS_*` environment variables)
//! in, a running `mesos_core::master::Master` out, until SIGINT or SIGTERM (exit 0) or,
//! under `--zk`, until it can no longer lead (exit 1).

use std::process::ExitCode;

use mesos_core::master::flags::MasterFlags;
use mesos_core::master::Master;

/// mimalloc: the master's many small allocations (offers, tasks, events) cost about half
/// of glibc's time with it (see BENCHMARKS.md, master scale).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let flags = match MasterFlags::parse_from(std::env::args_os()) {
        Ok(flags) => flags,
        Err(error) => return mesos_core::daemon::flags_exit("mesos-master", error),
    };
    mesos_core::logging::init(flags.logging_level);
    let runtime = match mesos_core::daemon::runtime() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("mesos-master: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let master = match Master::start(flags.to_options()).await {
            Ok(master) => master,
            Err(e) => {
                eprintln!("mesos-master: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!("Master {} listening on {}", master.info().id, master.addr());
        tokio::select! {
            _ = mesos_core::daemon::wait_for_signal() => {
                master.stop().await;
                ExitCode::SUCCESS
            }
            reason = master.leadership_lost() => {
                // As Mesos' masters do: a master that may no longer lead exits, and its
                // supervisor starts it again as a fresh contender.
                eprintln!("mesos-master: lost leadership ({reason}); exiting");
                master.stop().await;
                ExitCode::FAILURE
            }
        }
    })
}
