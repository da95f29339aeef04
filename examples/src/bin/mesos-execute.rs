//! `mesos-execute`: runs one command or task group on a Mesos cluster, printing its status
//! updates; exits 0 when it finished and 1 with the reason otherwise (or on bad flags).

use std::process::ExitCode;

use mesos_examples::execute::{execute, exit_code, ExecuteFlags, Outcome};

fn main() -> ExitCode {
    let flags = match ExecuteFlags::parse_from(std::env::args_os()) {
        Ok(flags) => flags,
        Err(error) => return mesos_core::daemon::flags_exit("mesos-execute", error),
    };
    let outcome = execute(flags);
    if let Outcome::Failed(reason) = &outcome {
        eprintln!("mesos-execute: {reason}");
    }
    exit_code(&outcome)
}
