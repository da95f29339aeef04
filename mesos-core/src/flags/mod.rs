//! Value types of Mesos' command-line flags, read and written the way Mesos does, so the
//! daemons accept Mesos' flag values and `/flags` shows them as Mesos would.
//!
//! - [`Duration`]: `15secs`, `1.5mins`, `100ms`, `2weeks`.
//! - [`Bytes`]: `512MB`, `10GB`, `100B`.

mod bytes;
mod duration;

pub use bytes::{Bytes, BytesError};
pub use duration::{Duration, DurationError};
