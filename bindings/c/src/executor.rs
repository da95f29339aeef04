//! The executor driver behind `mesos_executor_driver_t`.

use std::ffi::{c_char, c_void};

use mesos_core::executor::{Executor, ExecutorDriver};
use mesos_core::proto::mesos::v1::{
    AgentInfo, ExecutorInfo, FrameworkInfo, TaskId, TaskInfo, TaskStatus,
};
use prost::Message;

use crate::callback::{c_string, Gate, UserData};
use crate::error::{call_status, entry, not_in_callback, start_status, Failure, MesosStatus};
use crate::input::{live, null, MesosBuffer};

/// An executor driver (`mesos_executor_driver_t` in C): made by
/// `mesos_executor_driver_create`, freed by `mesos_executor_driver_destroy`.
pub struct ExecutorHandle {
    driver: ExecutorDriver,
    gate: Gate<ExecutorHandle>,
}

/// The executor's callbacks. Any of them may be NULL: that event is then ignored. Each
/// gets the driver and the `user_data` given at create. Buffers hold serialized `mesos.v1`
/// messages and are valid only until the callback returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ExecutorCallbacks {
    /// The executor subscribed to its agent: an `ExecutorInfo`, a `FrameworkInfo` and an
    /// `AgentInfo`.
    pub registered: Option<
        unsafe extern "C" fn(
            driver: *mut ExecutorHandle,
            user_data: *mut c_void,
            executor_info: MesosBuffer,
            framework_info: MesosBuffer,
            agent_info: MesosBuffer,
        ),
    >,
    /// The executor subscribed again, to a restarted agent: an `AgentInfo`.
    pub reregistered: Option<
        unsafe extern "C" fn(
            driver: *mut ExecutorHandle,
            user_data: *mut c_void,
            agent_info: MesosBuffer,
        ),
    >,
    /// The connection to the agent is lost.
    pub disconnected:
        Option<unsafe extern "C" fn(driver: *mut ExecutorHandle, user_data: *mut c_void)>,
    /// A task to run: a `TaskInfo`.
    pub launch_task: Option<
        unsafe extern "C" fn(
            driver: *mut ExecutorHandle,
            user_data: *mut c_void,
            task: MesosBuffer,
        ),
    >,
    /// The framework asks for a task to be killed: a `TaskID`.
    pub kill_task: Option<
        unsafe extern "C" fn(
            driver: *mut ExecutorHandle,
            user_data: *mut c_void,
            task_id: MesosBuffer,
        ),
    >,
    /// A message from the scheduler: the raw data.
    pub framework_message: Option<
        unsafe extern "C" fn(
            driver: *mut ExecutorHandle,
            user_data: *mut c_void,
            data: MesosBuffer,
        ),
    >,
    /// The executor must end its tasks; the driver stops when this returns.
    pub shutdown: Option<unsafe extern "C" fn(driver: *mut ExecutorHandle, user_data: *mut c_void)>,
    /// An unrecoverable error: a NUL-terminated message, valid during the call. The driver
    /// aborts when this returns.
    pub error: Option<
        unsafe extern "C" fn(
            driver: *mut ExecutorHandle,
            user_data: *mut c_void,
            message: *const c_char,
        ),
    >,
}

/// The [`Executor`] that calls the C callbacks.
struct CExecutor {
    callbacks: ExecutorCallbacks,
    user_data: UserData,
    gate: Gate<ExecutorHandle>,
}

impl CExecutor {
    /// Calls `callback` (when set) with the handle and user data.
    fn call<F: Copy>(
        &self,
        callback: Option<F>,
        call: impl FnOnce(F, *mut ExecutorHandle, *mut c_void),
    ) {
        if let Some(callback) = callback {
            let user_data = self.user_data.0;
            self.gate.call(|handle| call(callback, handle, user_data));
        }
    }
}

impl Executor for CExecutor {
    fn registered(
        &mut self,
        _: &ExecutorDriver,
        executor: &ExecutorInfo,
        framework: &FrameworkInfo,
        agent: &AgentInfo,
    ) {
        let executor = executor.encode_to_vec();
        let framework = framework.encode_to_vec();
        let agent = agent.encode_to_vec();
        // SAFETY (each callback below): the caller's function, called as the header
        // documents, with buffers that outlive the call.
        self.call(self.callbacks.registered, |f, d, u| unsafe {
            f(
                d,
                u,
                MesosBuffer::of(&executor),
                MesosBuffer::of(&framework),
                MesosBuffer::of(&agent),
            )
        });
    }

    fn reregistered(&mut self, _: &ExecutorDriver, agent: &AgentInfo) {
        let agent = agent.encode_to_vec();
        self.call(self.callbacks.reregistered, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(&agent))
        });
    }

    fn disconnected(&mut self, _: &ExecutorDriver) {
        self.call(self.callbacks.disconnected, |f, d, u| unsafe { f(d, u) });
    }

    fn launch_task(&mut self, _: &ExecutorDriver, task: TaskInfo) {
        let task = task.encode_to_vec();
        self.call(self.callbacks.launch_task, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(&task))
        });
    }

    fn kill_task(&mut self, _: &ExecutorDriver, task_id: &TaskId) {
        let task_id = task_id.encode_to_vec();
        self.call(self.callbacks.kill_task, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(&task_id))
        });
    }

    fn framework_message(&mut self, _: &ExecutorDriver, data: &[u8]) {
        self.call(self.callbacks.framework_message, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(data))
        });
    }

    fn shutdown(&mut self, _: &ExecutorDriver) {
        self.call(self.callbacks.shutdown, |f, d, u| unsafe { f(d, u) });
    }

    fn error(&mut self, _: &ExecutorDriver, message: &str) {
        let message = c_string(message);
        self.call(self.callbacks.error, |f, d, u| unsafe {
            f(d, u, message.as_ptr())
        });
    }
}

/// Creates an executor driver configured by the `MESOS_*` environment the agent starts
/// executors with (`MESOS_AGENT_ENDPOINT`, `MESOS_FRAMEWORK_ID`, `MESOS_EXECUTOR_ID`, ...),
/// with `callbacks` (copied) and `user_data` (handed back to every callback). On success
/// stores the new driver in `*out` and returns `MESOS_OK`; a missing or invalid
/// environment gives `MESOS_ERROR_CREATE_FAILED`.
///
/// # Safety
/// Pointers must be NULL or valid (`out` for a write) during the call; `user_data` must be
/// usable from the driver's callback thread.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_create(
    callbacks: *const ExecutorCallbacks,
    user_data: *mut c_void,
    out: *mut *mut ExecutorHandle,
) -> MesosStatus {
    entry("mesos_executor_driver_create", || {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: checked for NULL, otherwise promised valid.
        let callbacks = *unsafe { callbacks.as_ref() }.ok_or_else(|| null("callbacks"))?;
        let gate = Gate::new();
        let executor = CExecutor {
            callbacks,
            user_data: UserData(user_data),
            gate: gate.clone(),
        };
        let driver = ExecutorDriver::new(executor)
            .map_err(|e| Failure::new(MesosStatus::MesosErrorCreateFailed, e.to_string()))?;
        let handle = Box::into_raw(Box::new(ExecutorHandle {
            driver,
            gate: gate.clone(),
        }));
        gate.set(handle);
        // SAFETY: checked non-NULL above.
        unsafe { *out = handle };
        Ok(MesosStatus::MesosOk)
    })
}

/// Destroys a driver: aborts it if it runs, waits for it and for any callback in
/// progress, and frees it. `driver` must not be used afterwards. Must not be called from a
/// callback (returns `MESOS_ERROR_IN_CALLBACK`).
///
/// # Safety
/// `driver` must be NULL or a live handle; no other thread may use it during or after.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_destroy(driver: *mut ExecutorHandle) -> MesosStatus {
    entry("mesos_executor_driver_destroy", || {
        not_in_callback("mesos_executor_driver_destroy")?;
        // SAFETY: promised live; checked for NULL.
        let handle = unsafe { live(driver) }?;
        handle.driver.abort();
        handle.driver.join();
        handle.gate.set(std::ptr::null_mut());
        // SAFETY: made by Box::into_raw in create; no callback can reach it any more.
        drop(unsafe { Box::from_raw(driver) });
        Ok(MesosStatus::MesosOk)
    })
}

/// Subscribes to the agent; callbacks begin. Returns `MESOS_DRIVER_RUNNING`, or the status
/// of a driver that was started before (with a message).
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_start(driver: *mut ExecutorHandle) -> MesosStatus {
    entry("mesos_executor_driver_start", || {
        let driver = &unsafe { live(driver) }?.driver;
        start_status(driver.start(), driver.abort_reason())
    })
}

/// Stops the driver after sending what was queued. Returns `MESOS_DRIVER_STOPPED`
/// (`MESOS_DRIVER_ABORTED` for an aborted driver).
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_stop(driver: *mut ExecutorHandle) -> MesosStatus {
    entry("mesos_executor_driver_stop", || {
        Ok(unsafe { live(driver) }?.driver.stop().into())
    })
}

/// Aborts the driver: no more callbacks, nothing more is sent.
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_abort(driver: *mut ExecutorHandle) -> MesosStatus {
    entry("mesos_executor_driver_abort", || {
        Ok(unsafe { live(driver) }?.driver.abort().into())
    })
}

/// Waits until the driver is stopped or aborted and returns that status. Must not be
/// called from a callback (returns `MESOS_ERROR_IN_CALLBACK`).
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_join(driver: *mut ExecutorHandle) -> MesosStatus {
    entry("mesos_executor_driver_join", || {
        not_in_callback("mesos_executor_driver_join")?;
        Ok(unsafe { live(driver) }?.driver.join().into())
    })
}

/// `mesos_executor_driver_start`, then `mesos_executor_driver_join`. Must not be called
/// from a callback.
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_run(driver: *mut ExecutorHandle) -> MesosStatus {
    entry("mesos_executor_driver_run", || {
        not_in_callback("mesos_executor_driver_run")?;
        let driver = &unsafe { live(driver) }?.driver;
        start_status(driver.start(), driver.abort_reason())?;
        Ok(driver.join().into())
    })
}

/// Sends a status update `status` (a serialized `TaskStatus`); the driver fills in its
/// uuid, timestamp, source and executor id. TASK_STAGING aborts the driver, as in Mesos.
///
/// # Safety
/// The buffer must be valid; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_send_status_update(
    driver: *mut ExecutorHandle,
    status: MesosBuffer,
) -> MesosStatus {
    entry("mesos_executor_driver_send_status_update", || {
        let driver = &unsafe { live(driver) }?.driver;
        let status: TaskStatus = unsafe { status.decode("status") }?;
        call_status(driver.send_status_update(status), driver.abort_reason())
    })
}

/// Sends `data` to the framework's scheduler (delivery is not guaranteed).
///
/// # Safety
/// The buffer must be valid; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_executor_driver_send_framework_message(
    driver: *mut ExecutorHandle,
    data: MesosBuffer,
) -> MesosStatus {
    entry("mesos_executor_driver_send_framework_message", || {
        let driver = &unsafe { live(driver) }?.driver;
        let data = unsafe { data.bytes("data") }?.to_vec();
        call_status(driver.send_framework_message(data), driver.abort_reason())
    })
}
