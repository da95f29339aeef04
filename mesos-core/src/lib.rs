//! Apache Mesos in Rust: the library behind `mesos-master`, `mesos-agent` and every binding.
//!
//! Everything with logic lives here; the daemons and bindings are thin layers over it.

pub mod agent;
pub mod allocator;
pub mod daemon;
mod durable_fs;
pub mod executor;
pub mod flags;
mod frame;
pub mod ha;
pub mod http;
pub mod json;
pub mod local;
pub mod logging;
mod map_field;
pub mod master;
pub mod proto;
pub mod protobuf;
mod protowire;
pub mod recordio;
pub mod registry;
pub mod resources;
pub mod scheduler;
pub mod schema;
pub mod v0;
pub mod wire_check;
pub mod wire_schema;

/// The Apache Mesos release whose wire protocol (v1 HTTP APIs and schemas) this crate speaks.
pub const MESOS_WIRE_VERSION: &str = "1.11.0";
