//! The process' logging: records to stderr at the daemon's `--logging_level` (or as
//! `RUST_LOG` says), and the verbosity the operator API reads and sets (GET_LOGGING_LEVEL,
//! SET_LOGGING_LEVEL). As Mesos' glog verbosity, it is one setting for the whole process
//! (a master and agents in one process share it): raised for a while, then back to 0.
//!
//! Verbosity 0 logs at the daemon's level; 1 adds debug records; 2 and above add trace
//! records.

use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use tracing_subscriber::prelude::*;
use tracing_subscriber::{fmt, reload, EnvFilter, Registry};

use crate::flags::LoggingLevel;
use crate::proto::mesos::v1::DurationInfo;

/// The filter installed by [`init`], and what it filters at verbosity 0.
struct Installed {
    base: String,
    filter: reload::Handle<EnvFilter, Registry>,
}

static INSTALLED: OnceLock<Installed> = OnceLock::new();

/// The verbosity now, and how many times it was set (a revert only undoes its own setting).
static VERBOSITY: Mutex<(u32, u64)> = Mutex::new((0, 0));

/// Logs to stderr at `level` and above (`RUST_LOG` overrides it when set). Only the first
/// call in a process installs the logger.
pub fn init(level: LoggingLevel) {
    let base = std::env::var("RUST_LOG")
        .ok()
        .filter(|value| EnvFilter::try_new(value).is_ok())
        .unwrap_or_else(|| {
            match level {
                LoggingLevel::Info => "info",
                LoggingLevel::Warning => "warn",
                LoggingLevel::Error => "error",
            }
            .to_string()
        });
    let (layer, filter) = reload::Layer::new(EnvFilter::new(&base));
    let installed = tracing_subscriber::registry()
        .with(layer)
        .with(fmt::layer().with_writer(std::io::stderr).with_ansi(false))
        .try_init();
    if installed.is_ok() {
        let _ = INSTALLED.set(Installed { base, filter });
    }
}

/// The verbosity set by the operator API (0 unless raised).
pub fn verbosity() -> u32 {
    VERBOSITY.lock().unwrap_or_else(PoisonError::into_inner).0
}

/// Sets the verbosity to `level` for `duration`, as SET_LOGGING_LEVEL does; afterwards it
/// goes back to 0 unless it was set again meanwhile. A negative or unrepresentable
/// duration is an error, with the reason.
pub fn set_verbosity(level: u32, duration: &DurationInfo) -> Result<(), String> {
    let duration = u64::try_from(duration.nanoseconds)
        .map(Duration::from_nanos)
        .map_err(|_| format!("Invalid duration: {} ns", duration.nanoseconds))?;
    let generation = {
        let mut current = VERBOSITY.lock().unwrap_or_else(PoisonError::into_inner);
        *current = (level, current.1 + 1);
        // Under the lock, so that the filter ends at the level of the last call.
        apply(level);
        current.1
    };
    let revert = move || {
        let mut current = VERBOSITY.lock().unwrap_or_else(PoisonError::into_inner);
        if current.1 == generation {
            current.0 = 0;
            apply(0);
        }
    };
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(async move {
                tokio::time::sleep(duration).await;
                revert();
            });
        }
        Err(_) => {
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                revert();
            });
        }
    }
    Ok(())
}

/// SET_LOGGING_LEVEL of the master's or the agent's operator API: its
/// `set_logging_level` (level and duration), which the call must carry, applied with
/// [`set_verbosity`]. The error is the reason, for a 400.
pub fn set_from_call(set: Option<(u32, DurationInfo)>) -> Result<(), String> {
    let (level, duration) =
        set.ok_or_else(|| "Expecting 'set_logging_level' to be present".to_string())?;
    set_verbosity(level, &duration)
}

/// Points the installed filter (if any) at `level`.
fn apply(level: u32) {
    let Some(installed) = INSTALLED.get() else {
        return;
    };
    let directive = match level {
        0 => installed.base.as_str(),
        1 => "debug",
        _ => "trace",
    };
    if let Err(e) = installed.filter.reload(EnvFilter::new(directive)) {
        tracing::warn!("cannot change the logging level: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The only test here that sets the verbosity: tests run in parallel in one process.
    #[tokio::test]
    async fn the_verbosity_is_raised_for_its_duration_then_back_to_zero() {
        let negative = DurationInfo { nanoseconds: -1 };
        assert!(set_verbosity(2, &negative).unwrap_err().contains("-1"));
        assert_eq!(verbosity(), 0);

        let long = DurationInfo {
            nanoseconds: 60_000_000_000,
        };
        let short = DurationInfo {
            nanoseconds: 50_000_000,
        };
        set_verbosity(2, &long).unwrap();
        set_verbosity(1, &short).unwrap();
        assert_eq!(verbosity(), 1);
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(verbosity(), 0, "the later, shorter setting has run out");
    }
}
