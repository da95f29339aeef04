//! Mesos' command-line flags: the machinery the daemons share, and value types read and
//! written the way Mesos does, so the daemons accept Mesos' flag values and `/flags` shows
//! them as Mesos would.
//!
//! - [`cli`]: clap plus `MESOS_*` environment variables, Mesos booleans, [`FlagsError`].
//! - [`Duration`]: `15secs`, `1.5mins`, `100ms`, `2weeks`.
//! - [`Bytes`]: `512MB`, `10GB`, `100B`.
//! - [`LoggingLevel`]: `INFO`, `WARNING`, `ERROR`.

mod bytes;
pub mod cli;
mod duration;
mod logging_level;

pub use bytes::{Bytes, BytesError};
pub use cli::FlagsError;
pub use duration::{Duration, DurationError};
pub use logging_level::LoggingLevel;
