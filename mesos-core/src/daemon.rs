//! What the `mesos-master` and `mesos-agent` daemons share around the library types: how
//! a flags error ends them, a runtime, and waiting for SIGINT or SIGTERM (their logging
//! is [`crate::logging`]).

use std::process::ExitCode;

use crate::flags::FlagsError;

/// Ends `program` after its flags could not be used: `--help` and `--version` print to
/// stdout and succeed; anything else prints the reason to stderr and fails, as Mesos does.
pub fn flags_exit(program: &str, error: FlagsError) -> ExitCode {
    match error {
        FlagsError::Help(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        FlagsError::Version(text) => {
            println!("{text}");
            ExitCode::SUCCESS
        }
        FlagsError::Invalid(reason) => {
            eprintln!("Failed to load flags: {reason}");
            eprintln!("See '{program} --help' for the list of flags.");
            ExitCode::FAILURE
        }
    }
}

/// A multi-threaded Tokio runtime for a daemon, or why there is none.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
}

/// Waits for SIGINT or SIGTERM (forever if the handlers cannot be installed).
pub async fn wait_for_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut interrupt), Ok(mut terminate)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) else {
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = interrupt.recv() => {}
        _ = terminate.recv() => {}
    }
}
