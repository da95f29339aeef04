//! Example frameworks and CLIs (`mesos-execute`, `mesos-local`) arrive with issue #5.
//! The crate exists now so the workspace has its final layout.
