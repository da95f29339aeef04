//! What the `mesos-master` and `mesos-agent` daemons share around the library types:
//! logging to stderr at `--logging_level`, and waiting for SIGINT or SIGTERM.

use crate::flags::LoggingLevel;

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
