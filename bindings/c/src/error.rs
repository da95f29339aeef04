//! Status codes, the thread-local last error, and the guard every entry point runs under.

use std::cell::{Cell, RefCell};
use std::ffi::{c_char, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use mesos_core::proto::mesos::v1::Status;

use crate::callback::c_string;

/// What a libmesos function did. The positive values are the Mesos driver statuses
/// (`mesos.v1.Status`); zero is success for functions that are not driver calls; the
/// negative values say why a call was refused, with details in `mesos_last_error()`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MesosStatus {
    /// Success, for the functions that do not return a driver status (create, destroy).
    MesosOk = 0,
    /// The driver was never started.
    MesosDriverNotStarted = 1,
    /// The driver runs; the call was queued for the master (or agent).
    MesosDriverRunning = 2,
    /// The driver was aborted (by `abort`, or by an unrecoverable error).
    MesosDriverAborted = 3,
    /// The driver was stopped.
    MesosDriverStopped = 4,
    /// A required pointer argument was NULL.
    MesosErrorNullPointer = -1,
    /// A buffer is not a valid serialized protobuf of the expected `mesos.v1` message.
    MesosErrorInvalidProtobuf = -2,
    /// A string argument is not valid UTF-8.
    MesosErrorInvalidUtf8 = -3,
    /// An argument is invalid for another reason (the message says which and why).
    MesosErrorInvalidArgument = -4,
    /// The function may not be called from inside a callback of the same driver.
    MesosErrorInCallback = -5,
    /// The driver could not be created (bad master address, missing executor
    /// environment, no threads).
    MesosErrorCreateFailed = -6,
    /// A bug in libmesos (a caught panic); the message says where.
    MesosErrorInternal = -7,
}

impl From<Status> for MesosStatus {
    fn from(status: Status) -> MesosStatus {
        match status {
            Status::DriverNotStarted => MesosStatus::MesosDriverNotStarted,
            Status::DriverRunning => MesosStatus::MesosDriverRunning,
            Status::DriverAborted => MesosStatus::MesosDriverAborted,
            Status::DriverStopped => MesosStatus::MesosDriverStopped,
        }
    }
}

/// A refused call: the status to return and the message for `mesos_last_error()`.
#[derive(Debug)]
pub(crate) struct Failure {
    status: MesosStatus,
    message: String,
}

impl Failure {
    /// A refusal with `status`, explained by `message`.
    pub(crate) fn new(status: MesosStatus, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
        }
    }
}

thread_local! {
    /// The message of the last failed call on this thread; empty after a successful one.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    /// Set while this thread runs a callback, so calls that would deadlock or free the
    /// driver under its own feet can be refused.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

fn set_last_error(message: &str) {
    let text = c_string(message);
    LAST_ERROR.with(|last| *last.borrow_mut() = text);
}

fn clear_last_error() {
    LAST_ERROR.with(|last| {
        let mut last = last.borrow_mut();
        if !last.as_bytes().is_empty() {
            *last = CString::default();
        }
    });
}

/// The message of the last libmesos call on this thread that failed, or `""` when the
/// last call succeeded. Never NULL. The string belongs to libmesos and stays valid until
/// the next libmesos call on the same thread; copy it to keep it.
#[no_mangle]
pub extern "C" fn mesos_last_error() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().as_ptr())
}

/// Runs the body of an entry point: clears the last error, turns a [`Failure`] into its
/// status and message and a panic into `MesosErrorInternal`.
pub(crate) fn entry(
    function: &str,
    body: impl FnOnce() -> Result<MesosStatus, Failure>,
) -> MesosStatus {
    clear_last_error();
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(status)) => status,
        Ok(Err(failure)) => {
            set_last_error(&format!("{function}: {}", failure.message));
            failure.status
        }
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            set_last_error(&format!("{function}: internal error: {message}"));
            MesosStatus::MesosErrorInternal
        }
    }
}

/// The status of a driver call that is only done while the driver runs: `status` itself,
/// with a message when it is not `DriverRunning` (the call was not made).
pub(crate) fn call_status(
    status: Status,
    abort_reason: Option<String>,
) -> Result<MesosStatus, Failure> {
    if status == Status::DriverRunning {
        return Ok(MesosStatus::MesosDriverRunning);
    }
    let mut message = format!(
        "the driver is not running ({}); nothing was sent",
        status.as_str_name()
    );
    if let Some(reason) = abort_reason {
        message.push_str(&format!("; it aborted because: {reason}"));
    }
    Err(Failure::new(status.into(), message))
}

/// The status of `start`: `DriverRunning`, or the status of a driver that cannot start
/// (it starts once), with a message.
pub(crate) fn start_status(
    status: Status,
    abort_reason: Option<String>,
) -> Result<MesosStatus, Failure> {
    if status == Status::DriverRunning {
        return Ok(MesosStatus::MesosDriverRunning);
    }
    let mut message = format!(
        "the driver cannot start: it is {} (a driver starts only once)",
        status.as_str_name()
    );
    if let Some(reason) = abort_reason {
        message.push_str(&format!("; it aborted because: {reason}"));
    }
    Err(Failure::new(status.into(), message))
}

/// Refuses a call made from inside a callback when `what` cannot be done there.
pub(crate) fn not_in_callback(what: &str) -> Result<(), Failure> {
    if IN_CALLBACK.with(Cell::get) {
        return Err(Failure::new(
            MesosStatus::MesosErrorInCallback,
            format!("{what} may not be called from inside a callback"),
        ));
    }
    Ok(())
}

/// Runs `callback` marked as a callback on this thread.
pub(crate) fn in_callback(callback: impl FnOnce()) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            IN_CALLBACK.with(|flag| flag.set(false));
        }
    }
    IN_CALLBACK.with(|flag| flag.set(true));
    let _reset = Reset;
    callback();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        // SAFETY: never NULL, valid until the next call on this thread.
        unsafe { std::ffi::CStr::from_ptr(mesos_last_error()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn a_panic_becomes_an_internal_error_with_its_message() {
        let status = entry("mesos_test", || panic!("boom"));
        assert_eq!(status, MesosStatus::MesosErrorInternal);
        assert_eq!(last_error(), "mesos_test: internal error: boom");
    }

    #[test]
    fn a_failure_sets_the_message_and_success_clears_it() {
        let status = entry("mesos_test", || {
            Err(Failure::new(
                MesosStatus::MesosErrorNullPointer,
                "x is NULL\0!",
            ))
        });
        assert_eq!(status, MesosStatus::MesosErrorNullPointer);
        assert_eq!(last_error(), "mesos_test: x is NULL\\0!");
        assert_eq!(
            entry("mesos_test", || Ok(MesosStatus::MesosOk)),
            MesosStatus::MesosOk
        );
        assert_eq!(last_error(), "");
    }

    #[test]
    fn calls_not_allowed_in_callbacks_are_refused_only_there() {
        assert!(not_in_callback("join").is_ok());
        in_callback(|| {
            let refused = not_in_callback("join").unwrap_err();
            assert_eq!(refused.status, MesosStatus::MesosErrorInCallback);
        });
        assert!(not_in_callback("join").is_ok());
    }
}
