//! What the `mesos-master` and `mesos-agent` daemons share around the library types: how
//! a flags error ends them, logging to stderr at `--logging_level`, a runtime, and waiting
//! for SIGINT or SIGTERM.

use std::process::ExitCode;

use crate::flags::{FlagsError, LoggingLevel};

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

/// Logs to stderr at `level` and above (`RUST_LOG` overrides it when set).
pub fn init_logging(level: LoggingLevel) {
    let default = match level {
        LoggingLevel::Info => "info",
        LoggingLevel::Warning => "warn",
        LoggingLevel::Error => "error",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
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
