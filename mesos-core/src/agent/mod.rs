//! The Mesos agent: runs tasks on a host.
//!
//! For now only the containerizer (process launching and resource isolation) lives here.

pub mod containerizer;
pub mod fetcher;
