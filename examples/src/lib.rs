//! Example frameworks and command-line tools built on `mesos-core`: `mesos-execute`
//! ([`execute`]), `mesos-local`, the test framework and executor, and a long-running
//! service framework.

pub mod console;
pub mod execute;
pub mod service_framework;
pub mod test_framework;
