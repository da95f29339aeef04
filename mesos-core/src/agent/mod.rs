//! The Mesos agent: runs tasks on a host.
//!
//! So far the parts the agent will be built from: the containerizer (process launching and
//! resource isolation), the fetcher (URIs into a sandbox) and the task status update
//! manager (ordered, checkpointed, acknowledged updates).

pub mod containerizer;
pub mod fetcher;
pub mod files;
pub mod flags;
pub mod host;
pub mod options;
pub mod simulated;
pub mod status_update;

pub use options::{AgentOptions, RecoverMode};
