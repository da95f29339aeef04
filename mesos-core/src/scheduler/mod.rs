//! The framework side of the v1 scheduler API.
//!
//! - [`detector`]: finding the leading master from a `--master` value ([`MasterDetector`]);
//! - [`client`]: single calls and one event stream over `POST /api/v1/scheduler`;
//! - [`session`]: the async client: a subscription kept alive across lost masters, with
//!   backoff, heartbeat-loss detection and failover re-subscription;
//! - [`driver`]: the classic callback API, [`Scheduler`] and [`SchedulerDriver`], on top
//!   of a session;
//! - [`library`]: the v1 scheduler library ([`Mesos`]), which leaves subscribing to the
//!   scheduler, as Apache's `mesos::v1::scheduler::Mesos` (Java's `V1Mesos`, `V0Mesos`);
//! - [`canned`]: a master that only replays a canned event stream, for driver benchmarks.

pub mod canned;
pub mod client;
pub mod detector;
pub mod driver;
pub mod library;
pub mod session;

pub use client::{ClientError, SchedulerClient};
pub use detector::{
    detector_for, master_detector, Detection, DetectorError, LeaderChange, MasterDetector,
    StandaloneDetector,
};
pub use driver::{DriverError, DriverOptions, Scheduler, SchedulerDriver};
pub use library::{LibraryError, Mesos, V1Scheduler};
pub use session::{CallError, Session, SessionConfig, SessionEvent};
