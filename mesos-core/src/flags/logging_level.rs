//! [`LoggingLevel`]: the `--logging_level` value every Mesos daemon takes.

use std::fmt;

use clap::ValueEnum;

use super::cli::write_value_name;

/// The least severe log level written (`--logging_level`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum LoggingLevel {
    /// `INFO`: everything.
    #[value(name = "INFO")]
    Info,
    /// `WARNING`: warnings and errors.
    #[value(name = "WARNING")]
    Warning,
    /// `ERROR`: errors only.
    #[value(name = "ERROR")]
    Error,
}

/// The flag value: `INFO`, `WARNING` or `ERROR`.
impl fmt::Display for LoggingLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_value_name(*self, f)
    }
}
