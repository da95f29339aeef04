//! The scheduler driver behind `mesos_scheduler_driver_t`.

use std::ffi::{c_char, c_void};

use mesos_core::proto::mesos::v1::{
    offer, AgentId, ExecutorId, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId,
    Request, TaskId, TaskInfo, TaskStatus,
};
use mesos_core::scheduler::{detector_for, DriverOptions, Scheduler, SchedulerDriver};
use prost::Message;

use crate::callback::{c_string, Gate, UserData};
use crate::error::{call_status, entry, not_in_callback, start_status, Failure, MesosStatus};
use crate::input::{decode_all, decode_optional, live, null, string, strings, MesosBuffer};

/// A scheduler driver (`mesos_scheduler_driver_t` in C): made by
/// `mesos_scheduler_driver_create`, freed by `mesos_scheduler_driver_destroy`.
pub struct SchedulerHandle {
    driver: SchedulerDriver,
    implicit_acknowledgements: bool,
    gate: Gate<SchedulerHandle>,
}

/// The scheduler's callbacks. Any of them may be NULL: that event is then ignored (with
/// implicit acknowledgements a status update is still acknowledged). Each gets the driver
/// and the `user_data` given at create. Buffers hold serialized `mesos.v1` messages and
/// are valid only until the callback returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct SchedulerCallbacks {
    /// The framework subscribed for the first time: a `FrameworkID` and a `MasterInfo`.
    pub registered: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            framework_id: MesosBuffer,
            master_info: MesosBuffer,
        ),
    >,
    /// The framework subscribed again after the driver lost its master: a `MasterInfo`.
    pub reregistered: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            master_info: MesosBuffer,
        ),
    >,
    /// The driver lost its master; it is subscribing again.
    pub disconnected:
        Option<unsafe extern "C" fn(driver: *mut SchedulerHandle, user_data: *mut c_void)>,
    /// Resources offered: one call per OFFERS event, with an array of `count` serialized
    /// `Offer`s (the array and the buffers are valid only during the call).
    pub resource_offers: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            offers: *const MesosBuffer,
            count: usize,
        ),
    >,
    /// An offer is no longer valid: an `OfferID`.
    pub offer_rescinded: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            offer_id: MesosBuffer,
        ),
    >,
    /// A task's status changed: a `TaskStatus`. With implicit acknowledgements the driver
    /// acknowledges it when this returns.
    pub status_update: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            status: MesosBuffer,
        ),
    >,
    /// An executor sent a message: an `ExecutorID`, an `AgentID` and the raw data.
    pub framework_message: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            executor_id: MesosBuffer,
            agent_id: MesosBuffer,
            data: MesosBuffer,
        ),
    >,
    /// An agent was lost: an `AgentID`.
    pub slave_lost: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            agent_id: MesosBuffer,
        ),
    >,
    /// An executor ended or was lost: an `ExecutorID`, an `AgentID` and its exit status
    /// (-1 when unknown).
    pub executor_lost: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            executor_id: MesosBuffer,
            agent_id: MesosBuffer,
            status: i32,
        ),
    >,
    /// An unrecoverable error (the master's ERROR, a refused subscription): a
    /// NUL-terminated message, valid during the call. The driver aborts when this returns.
    pub error: Option<
        unsafe extern "C" fn(
            driver: *mut SchedulerHandle,
            user_data: *mut c_void,
            message: *const c_char,
        ),
    >,
}

/// How a scheduler driver talks to the master. Pass NULL to
/// `mesos_scheduler_driver_create` for the defaults.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SchedulerOptions {
    /// Acknowledge each status update when the `status_update` callback returns (the
    /// default), or leave it to `mesos_scheduler_driver_acknowledge_status_update`.
    pub implicit_acknowledgements: bool,
}

/// The [`Scheduler`] that calls the C callbacks.
struct CScheduler {
    callbacks: SchedulerCallbacks,
    user_data: UserData,
    gate: Gate<SchedulerHandle>,
    /// The encoded offers of the current event, back to back.
    scratch: Vec<u8>,
}

impl CScheduler {
    /// Calls `callback` (when set) with the handle and user data.
    fn call<F: Copy>(
        &self,
        callback: Option<F>,
        call: impl FnOnce(F, *mut SchedulerHandle, *mut c_void),
    ) {
        if let Some(callback) = callback {
            let user_data = self.user_data.0;
            self.gate.call(|handle| call(callback, handle, user_data));
        }
    }
}

impl Scheduler for CScheduler {
    fn registered(&mut self, _: &SchedulerDriver, framework_id: &FrameworkId, master: &MasterInfo) {
        let (id, master) = (framework_id.encode_to_vec(), master.encode_to_vec());
        // SAFETY (each callback below): the caller's function, called as the header
        // documents, with buffers that outlive the call.
        self.call(self.callbacks.registered, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(&id), MesosBuffer::of(&master))
        });
    }

    fn reregistered(&mut self, _: &SchedulerDriver, master: &MasterInfo) {
        let master = master.encode_to_vec();
        self.call(self.callbacks.reregistered, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(&master))
        });
    }

    fn disconnected(&mut self, _: &SchedulerDriver) {
        self.call(self.callbacks.disconnected, |f, d, u| unsafe { f(d, u) });
    }

    fn resource_offers(&mut self, _: &SchedulerDriver, offers: Vec<Offer>) {
        let Some(callback) = self.callbacks.resource_offers else {
            return;
        };
        self.scratch.clear();
        let mut ends = Vec::with_capacity(offers.len());
        for offer in &offers {
            // Encoding into a Vec cannot fail.
            let _ = offer.encode(&mut self.scratch);
            ends.push(self.scratch.len());
        }
        let mut start = 0;
        let buffers: Vec<MesosBuffer> = ends
            .iter()
            .map(|&end| {
                let buffer = MesosBuffer::of(&self.scratch[start..end]);
                start = end;
                buffer
            })
            .collect();
        self.call(Some(callback), |f, d, u| unsafe {
            f(d, u, buffers.as_ptr(), buffers.len())
        });
    }

    fn offer_rescinded(&mut self, _: &SchedulerDriver, offer_id: &OfferId) {
        let id = offer_id.encode_to_vec();
        self.call(self.callbacks.offer_rescinded, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(&id))
        });
    }

    fn status_update(&mut self, _: &SchedulerDriver, status: &TaskStatus) {
        if self.callbacks.status_update.is_none() {
            return;
        }
        self.scratch.clear();
        let _ = status.encode(&mut self.scratch);
        let status = MesosBuffer::of(&self.scratch);
        self.call(self.callbacks.status_update, |f, d, u| unsafe {
            f(d, u, status)
        });
    }

    fn framework_message(
        &mut self,
        _: &SchedulerDriver,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        data: &[u8],
    ) {
        let (executor_id, agent_id) = (executor_id.encode_to_vec(), agent_id.encode_to_vec());
        self.call(self.callbacks.framework_message, |f, d, u| unsafe {
            f(
                d,
                u,
                MesosBuffer::of(&executor_id),
                MesosBuffer::of(&agent_id),
                MesosBuffer::of(data),
            )
        });
    }

    fn slave_lost(&mut self, _: &SchedulerDriver, agent_id: &AgentId) {
        let agent_id = agent_id.encode_to_vec();
        self.call(self.callbacks.slave_lost, |f, d, u| unsafe {
            f(d, u, MesosBuffer::of(&agent_id))
        });
    }

    fn executor_lost(
        &mut self,
        _: &SchedulerDriver,
        executor_id: &ExecutorId,
        agent_id: &AgentId,
        status: i32,
    ) {
        let (executor_id, agent_id) = (executor_id.encode_to_vec(), agent_id.encode_to_vec());
        self.call(self.callbacks.executor_lost, |f, d, u| unsafe {
            f(
                d,
                u,
                MesosBuffer::of(&executor_id),
                MesosBuffer::of(&agent_id),
                status,
            )
        });
    }

    fn error(&mut self, _: &SchedulerDriver, message: &str) {
        let message = c_string(message);
        self.call(self.callbacks.error, |f, d, u| unsafe {
            f(d, u, message.as_ptr())
        });
    }
}

/// Creates a scheduler driver for the framework `framework_info` (a serialized
/// `FrameworkInfo`; an empty `user` is filled with the user running the program) at
/// `master` (`host:port`, a comma-separated list of them, or a `zk://` URL to follow the
/// leader elected in ZooKeeper), with `callbacks` (copied) and `user_data` (handed back to
/// every callback).
/// `options` may be NULL for the defaults. On success stores the new driver in `*out` and
/// returns `MESOS_OK`; nothing happens until `mesos_scheduler_driver_start`.
///
/// # Safety
/// Pointers must be NULL or valid for reads (`out` for a write) during the call;
/// `user_data` must be usable from the driver's callback thread.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_create(
    callbacks: *const SchedulerCallbacks,
    user_data: *mut c_void,
    framework_info: MesosBuffer,
    master: *const c_char,
    options: *const SchedulerOptions,
    out: *mut *mut SchedulerHandle,
) -> MesosStatus {
    entry("mesos_scheduler_driver_create", || {
        if out.is_null() {
            return Err(null("out"));
        }
        // SAFETY: each pointer is checked for NULL and otherwise promised valid.
        let callbacks = *unsafe { callbacks.as_ref() }.ok_or_else(|| null("callbacks"))?;
        let framework: FrameworkInfo = unsafe { framework_info.decode("framework_info") }?;
        let master = unsafe { string(master, "master") }?;
        let options = unsafe { options.as_ref() }
            .copied()
            .unwrap_or(SchedulerOptions {
                implicit_acknowledgements: true,
            });
        let detector = detector_for(master)
            .map_err(|e| Failure::new(MesosStatus::MesosErrorCreateFailed, e.to_string()))?;
        let gate = Gate::new();
        let scheduler = CScheduler {
            callbacks,
            user_data: UserData(user_data),
            gate: gate.clone(),
            scratch: Vec::new(),
        };
        let driver_options = DriverOptions {
            implicit_acknowledgements: options.implicit_acknowledgements,
            ..DriverOptions::default()
        };
        let driver = SchedulerDriver::with_options(scheduler, framework, detector, driver_options)
            .map_err(|e| Failure::new(MesosStatus::MesosErrorCreateFailed, e.to_string()))?;
        let handle = Box::into_raw(Box::new(SchedulerHandle {
            driver,
            implicit_acknowledgements: options.implicit_acknowledgements,
            gate: gate.clone(),
        }));
        gate.set(handle);
        // SAFETY: checked non-NULL above.
        unsafe { *out = handle };
        Ok(MesosStatus::MesosOk)
    })
}

/// Destroys a driver: aborts it if it runs, waits for its threads and for any callback in
/// progress, and frees it. `driver` must not be used afterwards. Must not be called from a
/// callback (returns `MESOS_ERROR_IN_CALLBACK`).
///
/// # Safety
/// `driver` must be NULL or a live handle; no other thread may use it during or after.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_destroy(
    driver: *mut SchedulerHandle,
) -> MesosStatus {
    entry("mesos_scheduler_driver_destroy", || {
        not_in_callback("mesos_scheduler_driver_destroy")?;
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

/// The driver's status now (a `MESOS_DRIVER_*` value).
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_status(
    driver: *mut SchedulerHandle,
) -> MesosStatus {
    entry("mesos_scheduler_driver_status", || {
        Ok(unsafe { live(driver) }?.driver.status().into())
    })
}

/// Starts subscribing to the master; callbacks begin. Returns `MESOS_DRIVER_RUNNING`, or
/// the status of a driver that was started before (with a message).
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_start(driver: *mut SchedulerHandle) -> MesosStatus {
    entry("mesos_scheduler_driver_start", || {
        let driver = &unsafe { live(driver) }?.driver;
        start_status(driver.start(), driver.error_message())
    })
}

/// Stops the driver. With `failover` false the framework is torn down (its tasks
/// killed); with true the master keeps it for its failover timeout. Returns
/// `MESOS_DRIVER_STOPPED` (`MESOS_DRIVER_ABORTED` for an aborted driver).
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_stop(
    driver: *mut SchedulerHandle,
    failover: bool,
) -> MesosStatus {
    entry("mesos_scheduler_driver_stop", || {
        Ok(unsafe { live(driver) }?.driver.stop(failover).into())
    })
}

/// Aborts the driver: no more callbacks, the framework is not torn down. Returns
/// `MESOS_DRIVER_ABORTED`, or the status of a driver that was not running.
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_abort(driver: *mut SchedulerHandle) -> MesosStatus {
    entry("mesos_scheduler_driver_abort", || {
        Ok(unsafe { live(driver) }?.driver.abort().into())
    })
}

/// Waits until the driver is stopped or aborted and returns that status. Must not be
/// called from a callback (returns `MESOS_ERROR_IN_CALLBACK`).
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_join(driver: *mut SchedulerHandle) -> MesosStatus {
    entry("mesos_scheduler_driver_join", || {
        not_in_callback("mesos_scheduler_driver_join")?;
        Ok(unsafe { live(driver) }?.driver.join().into())
    })
}

/// `mesos_scheduler_driver_start`, then `mesos_scheduler_driver_join`. Must not be called
/// from a callback.
///
/// # Safety
/// `driver` must be NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_run(driver: *mut SchedulerHandle) -> MesosStatus {
    entry("mesos_scheduler_driver_run", || {
        not_in_callback("mesos_scheduler_driver_run")?;
        let driver = &unsafe { live(driver) }?.driver;
        let started = driver.start();
        start_status(started, driver.error_message())?;
        Ok(driver.join().into())
    })
}

/// Launches `task_count` tasks (serialized `TaskInfo`s) on the offers `offer_ids`
/// (`offer_count` serialized `OfferID`s): an ACCEPT with one LAUNCH. No tasks declines the
/// offers. `filters` (a serialized `Filters`) may be NULL.
///
/// # Safety
/// Arrays must hold their counts of valid buffers; pointers NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_launch_tasks(
    driver: *mut SchedulerHandle,
    offer_ids: *const MesosBuffer,
    offer_count: usize,
    tasks: *const MesosBuffer,
    task_count: usize,
    filters: *const MesosBuffer,
) -> MesosStatus {
    entry("mesos_scheduler_driver_launch_tasks", || {
        let driver = &unsafe { live(driver) }?.driver;
        let offer_ids: Vec<OfferId> = unsafe { decode_all(offer_ids, offer_count, "offer_ids") }?;
        let tasks: Vec<TaskInfo> = unsafe { decode_all(tasks, task_count, "tasks") }?;
        let filters: Option<Filters> = unsafe { decode_optional(filters, "filters") }?;
        call_status(
            driver.launch_tasks(&offer_ids, tasks, filters),
            driver.error_message(),
        )
    })
}

/// Accepts the offers `offer_ids` with `operation_count` operations (serialized
/// `Offer.Operation`s: LAUNCH, RESERVE, CREATE, ...). `filters` may be NULL.
///
/// # Safety
/// Arrays must hold their counts of valid buffers; pointers NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_accept_offers(
    driver: *mut SchedulerHandle,
    offer_ids: *const MesosBuffer,
    offer_count: usize,
    operations: *const MesosBuffer,
    operation_count: usize,
    filters: *const MesosBuffer,
) -> MesosStatus {
    entry("mesos_scheduler_driver_accept_offers", || {
        let driver = &unsafe { live(driver) }?.driver;
        let offer_ids: Vec<OfferId> = unsafe { decode_all(offer_ids, offer_count, "offer_ids") }?;
        let operations: Vec<offer::Operation> =
            unsafe { decode_all(operations, operation_count, "operations") }?;
        let filters: Option<Filters> = unsafe { decode_optional(filters, "filters") }?;
        call_status(
            driver.accept_offers(&offer_ids, operations, filters),
            driver.error_message(),
        )
    })
}

/// Declines the offer `offer_id` (a serialized `OfferID`); `filters` may be NULL.
///
/// # Safety
/// Buffers must be valid; pointers NULL or valid.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_decline_offer(
    driver: *mut SchedulerHandle,
    offer_id: MesosBuffer,
    filters: *const MesosBuffer,
) -> MesosStatus {
    entry("mesos_scheduler_driver_decline_offer", || {
        let driver = &unsafe { live(driver) }?.driver;
        let offer_id: OfferId = unsafe { offer_id.decode("offer_id") }?;
        let filters: Option<Filters> = unsafe { decode_optional(filters, "filters") }?;
        call_status(
            driver.decline_offer(&offer_id, filters),
            driver.error_message(),
        )
    })
}

/// Asks the master to kill the task `task_id` (a serialized `TaskID`).
///
/// # Safety
/// The buffer must be valid; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_kill_task(
    driver: *mut SchedulerHandle,
    task_id: MesosBuffer,
) -> MesosStatus {
    entry("mesos_scheduler_driver_kill_task", || {
        let driver = &unsafe { live(driver) }?.driver;
        let task_id: TaskId = unsafe { task_id.decode("task_id") }?;
        call_status(driver.kill_task(&task_id), driver.error_message())
    })
}

/// Removes the offer filters of `role_count` roles (NUL-terminated UTF-8; none means all
/// the framework's roles) and resumes their offers.
///
/// # Safety
/// `roles` must hold `role_count` valid strings; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_revive_offers(
    driver: *mut SchedulerHandle,
    roles: *const *const c_char,
    role_count: usize,
) -> MesosStatus {
    entry("mesos_scheduler_driver_revive_offers", || {
        let driver = &unsafe { live(driver) }?.driver;
        let roles = unsafe { strings(roles, role_count, "roles") }?;
        call_status(driver.revive_offers(&roles), driver.error_message())
    })
}

/// Stops offers for `role_count` roles (none means all the framework's roles) until
/// revived.
///
/// # Safety
/// `roles` must hold `role_count` valid strings; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_suppress_offers(
    driver: *mut SchedulerHandle,
    roles: *const *const c_char,
    role_count: usize,
) -> MesosStatus {
    entry("mesos_scheduler_driver_suppress_offers", || {
        let driver = &unsafe { live(driver) }?.driver;
        let roles = unsafe { strings(roles, role_count, "roles") }?;
        call_status(driver.suppress_offers(&roles), driver.error_message())
    })
}

/// Acknowledges the status update `status` (the serialized `TaskStatus` a
/// `status_update` callback received). Only for drivers created with
/// `implicit_acknowledgements` false (otherwise `MESOS_ERROR_INVALID_ARGUMENT`); an update
/// without a uuid needs no acknowledgement and sends nothing.
///
/// # Safety
/// The buffer must be valid; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_acknowledge_status_update(
    driver: *mut SchedulerHandle,
    status: MesosBuffer,
) -> MesosStatus {
    entry("mesos_scheduler_driver_acknowledge_status_update", || {
        let handle = unsafe { live(driver) }?;
        let status: TaskStatus = unsafe { status.decode("status") }?;
        if handle.implicit_acknowledgements {
            return Err(Failure::new(
                MesosStatus::MesosErrorInvalidArgument,
                "the driver acknowledges status updates implicitly; create it with \
                 implicit_acknowledgements false to acknowledge them yourself",
            ));
        }
        let driver = &handle.driver;
        call_status(
            driver.acknowledge_status_update(&status),
            driver.error_message(),
        )
    })
}

/// Sends `data` to the executor `executor_id` (a serialized `ExecutorID`) on the agent
/// `agent_id` (a serialized `AgentID`). Delivery is not guaranteed.
///
/// # Safety
/// Buffers must be valid; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_send_framework_message(
    driver: *mut SchedulerHandle,
    executor_id: MesosBuffer,
    agent_id: MesosBuffer,
    data: MesosBuffer,
) -> MesosStatus {
    entry("mesos_scheduler_driver_send_framework_message", || {
        let driver = &unsafe { live(driver) }?.driver;
        let executor_id: ExecutorId = unsafe { executor_id.decode("executor_id") }?;
        let agent_id: AgentId = unsafe { agent_id.decode("agent_id") }?;
        let data = unsafe { data.bytes("data") }?.to_vec();
        call_status(
            driver.send_framework_message(&executor_id, &agent_id, data),
            driver.error_message(),
        )
    })
}

/// Asks for the latest status of `status_count` tasks (serialized `TaskStatus`es, of which
/// the task and agent ids are used); none asks for every task the master knows.
///
/// # Safety
/// The array must hold `status_count` valid buffers; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_reconcile_tasks(
    driver: *mut SchedulerHandle,
    statuses: *const MesosBuffer,
    status_count: usize,
) -> MesosStatus {
    entry("mesos_scheduler_driver_reconcile_tasks", || {
        let driver = &unsafe { live(driver) }?.driver;
        let statuses: Vec<TaskStatus> = unsafe { decode_all(statuses, status_count, "statuses") }?;
        call_status(driver.reconcile_tasks(&statuses), driver.error_message())
    })
}

/// Asks for resources: `request_count` serialized `Request`s (a hint to the allocator).
///
/// # Safety
/// The array must hold `request_count` valid buffers; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_request_resources(
    driver: *mut SchedulerHandle,
    requests: *const MesosBuffer,
    request_count: usize,
) -> MesosStatus {
    entry("mesos_scheduler_driver_request_resources", || {
        let driver = &unsafe { live(driver) }?.driver;
        let requests: Vec<Request> = unsafe { decode_all(requests, request_count, "requests") }?;
        call_status(driver.request_resources(requests), driver.error_message())
    })
}

/// Changes the framework's info to `framework_info` (a serialized `FrameworkInfo`; its id
/// may be left out) and its suppressed roles to `suppressed_roles`.
///
/// # Safety
/// Buffers and strings must be valid; `driver` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn mesos_scheduler_driver_update_framework(
    driver: *mut SchedulerHandle,
    framework_info: MesosBuffer,
    suppressed_roles: *const *const c_char,
    suppressed_role_count: usize,
) -> MesosStatus {
    entry("mesos_scheduler_driver_update_framework", || {
        let driver = &unsafe { live(driver) }?.driver;
        let framework: FrameworkInfo = unsafe { framework_info.decode("framework_info") }?;
        let roles =
            unsafe { strings(suppressed_roles, suppressed_role_count, "suppressed_roles") }?;
        call_status(
            driver.update_framework(framework, roles, None),
            driver.error_message(),
        )
    })
}
