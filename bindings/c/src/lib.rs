//! libmesos: the C binding of mesos-core's scheduler and executor drivers.
//!
//! The C API (`include/mesos/mesos.h`, generated from this crate by cbindgen) wraps
//! [`mesos_core::scheduler::SchedulerDriver`] and [`mesos_core::executor::ExecutorDriver`]
//! behind opaque handles. Messages cross the boundary as serialized `mesos.v1` protobuf
//! ([`MesosBuffer`]); every function returns a [`MesosStatus`] and leaves a message for
//! [`mesos_last_error`] when it fails. No panic crosses the boundary: each entry point runs
//! under `catch_unwind` and turns one into `MESOS_ERROR_INTERNAL`.
//!
//! This crate is only the boundary: pointer and buffer checks, protobuf decoding of inputs,
//! encoding of callback arguments. The drivers' behaviour lives in mesos-core.

mod callback;
mod error;
mod executor;
mod input;
mod scheduler;

pub use error::{mesos_last_error, MesosStatus};
pub use executor::{
    mesos_executor_driver_abort, mesos_executor_driver_create, mesos_executor_driver_destroy,
    mesos_executor_driver_join, mesos_executor_driver_run,
    mesos_executor_driver_send_framework_message, mesos_executor_driver_send_status_update,
    mesos_executor_driver_start, mesos_executor_driver_stop, ExecutorCallbacks, ExecutorHandle,
};
pub use input::MesosBuffer;
pub use scheduler::{
    mesos_scheduler_driver_abort, mesos_scheduler_driver_accept_offers,
    mesos_scheduler_driver_acknowledge_status_update, mesos_scheduler_driver_create,
    mesos_scheduler_driver_decline_offer, mesos_scheduler_driver_destroy,
    mesos_scheduler_driver_join, mesos_scheduler_driver_kill_task,
    mesos_scheduler_driver_launch_tasks, mesos_scheduler_driver_reconcile_tasks,
    mesos_scheduler_driver_request_resources, mesos_scheduler_driver_revive_offers,
    mesos_scheduler_driver_run, mesos_scheduler_driver_send_framework_message,
    mesos_scheduler_driver_start, mesos_scheduler_driver_status, mesos_scheduler_driver_stop,
    mesos_scheduler_driver_suppress_offers, mesos_scheduler_driver_update_framework,
    SchedulerCallbacks, SchedulerHandle, SchedulerOptions,
};

/// The Apache Mesos release whose wire protocol this binding speaks.
pub const MESOS_WIRE_VERSION: &str = mesos_core::MESOS_WIRE_VERSION;
