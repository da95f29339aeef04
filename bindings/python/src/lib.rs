//! The python binding of mesos-core. Its API is issue #6; for now it only re-exports the
//! version of the Mesos wire protocol it speaks, so the workspace layout is in place.

/// The Apache Mesos release whose wire protocol this binding speaks.
pub const MESOS_WIRE_VERSION: &str = mesos_core::MESOS_WIRE_VERSION;
