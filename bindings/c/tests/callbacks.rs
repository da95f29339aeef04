//! The C callbacks of a scheduler driver, called through the C ABI from this test (the
//! functions are `extern "C"`, as a C program's would be), against a canned master
//! stream ([`mesos_core::scheduler::canned`]): every callback gets decodable messages and
//! the user data, driver calls work from inside a callback, and join, run and destroy are
//! refused there instead of deadlocking or freeing the driver under the callback.

use std::ffi::{c_char, c_void, CStr};
use std::sync::Mutex;

use mesos::{
    mesos_last_error, mesos_scheduler_driver_abort, mesos_scheduler_driver_create,
    mesos_scheduler_driver_decline_offer, mesos_scheduler_driver_destroy,
    mesos_scheduler_driver_join, mesos_scheduler_driver_run, MesosBuffer, MesosStatus,
    SchedulerCallbacks, SchedulerHandle,
};
use mesos_core::proto::mesos::v1::{FrameworkId, FrameworkInfo, Offer, TaskState, TaskStatus};
use mesos_core::scheduler::canned::{canned_master, canned_stream};
use prost::Message;

/// Events in the canned stream: OFFERS and UPDATE alternately.
const EVENTS: usize = 10;

/// What the callbacks saw.
#[derive(Default)]
struct Seen {
    framework_id: Option<String>,
    offer_ids: Vec<String>,
    running_updates: usize,
    /// Statuses of the calls made from inside the first offers callback.
    in_callback: Vec<(&'static str, MesosStatus, String)>,
    /// Messages given to the error callback.
    errors: Vec<String>,
}

fn seen(user_data: *mut c_void) -> std::sync::MutexGuard<'static, Seen> {
    // SAFETY: user_data is the `&'static Mutex<Seen>` given at create.
    let seen = unsafe { &*(user_data as *const Mutex<Seen>) };
    seen.lock().unwrap()
}

fn bytes<'a>(buffer: MesosBuffer) -> &'a [u8] {
    // SAFETY: libmesos hands callbacks valid buffers.
    unsafe { std::slice::from_raw_parts(buffer.data, buffer.len) }
}

fn last_error() -> String {
    // SAFETY: never NULL, valid until the next call on this thread.
    unsafe { CStr::from_ptr(mesos_last_error()) }
        .to_string_lossy()
        .into_owned()
}

/// Aborts the driver (allowed from a callback) once every event was seen.
fn count_one(driver: *mut SchedulerHandle, seen: &Seen) {
    if seen.offer_ids.len() + seen.running_updates == EVENTS {
        // SAFETY: the live driver this callback was given.
        unsafe { mesos_scheduler_driver_abort(driver) };
    }
}

unsafe extern "C" fn registered(
    _: *mut SchedulerHandle,
    user_data: *mut c_void,
    framework_id: MesosBuffer,
    _: MesosBuffer,
) {
    let id = FrameworkId::decode(bytes(framework_id)).expect("a FrameworkID");
    seen(user_data).framework_id = Some(id.value);
}

unsafe extern "C" fn resource_offers(
    driver: *mut SchedulerHandle,
    user_data: *mut c_void,
    offers: *const MesosBuffer,
    count: usize,
) {
    // SAFETY: libmesos hands `count` buffers.
    let offers = unsafe { std::slice::from_raw_parts(offers, count) };
    let mut seen = seen(user_data);
    for buffer in offers {
        let offer = Offer::decode(bytes(*buffer)).expect("an Offer");
        seen.offer_ids.push(offer.id.value.clone());
        if seen.in_callback.is_empty() {
            let id = offer.id.encode_to_vec();
            // SAFETY (each call): the live driver this callback was given, valid buffers.
            let calls = [
                ("decline_offer", unsafe {
                    mesos_scheduler_driver_decline_offer(
                        driver,
                        MesosBuffer {
                            data: id.as_ptr(),
                            len: id.len(),
                        },
                        std::ptr::null(),
                    )
                }),
                ("join", unsafe { mesos_scheduler_driver_join(driver) }),
                ("run", unsafe { mesos_scheduler_driver_run(driver) }),
                ("destroy", unsafe { mesos_scheduler_driver_destroy(driver) }),
            ];
            for (name, status) in calls {
                seen.in_callback.push((name, status, last_error()));
            }
        }
    }
    count_one(driver, &seen);
}

unsafe extern "C" fn status_update(
    driver: *mut SchedulerHandle,
    user_data: *mut c_void,
    status: MesosBuffer,
) {
    let status = TaskStatus::decode(bytes(status)).expect("a TaskStatus");
    let mut seen = seen(user_data);
    if status.state == TaskState::TaskRunning as i32 {
        seen.running_updates += 1;
    }
    count_one(driver, &seen);
}

unsafe extern "C" fn error(
    _: *mut SchedulerHandle,
    user_data: *mut c_void,
    message: *const c_char,
) {
    // SAFETY: a NUL-terminated message.
    let message = unsafe { CStr::from_ptr(message) }.to_string_lossy();
    seen(user_data).errors.push(message.into_owned());
}

#[test]
fn callbacks_get_messages_and_refuse_join_run_destroy() {
    static SEEN: Mutex<Seen> = Mutex::new(Seen {
        framework_id: None,
        offer_ids: Vec::new(),
        running_updates: 0,
        in_callback: Vec::new(),
        errors: Vec::new(),
    });
    let master = canned_master(canned_stream(EVENTS)).expect("a canned master");
    let master = std::ffi::CString::new(master).unwrap();
    let framework = FrameworkInfo {
        user: "test".into(),
        name: "callbacks".into(),
        ..Default::default()
    }
    .encode_to_vec();
    let callbacks = SchedulerCallbacks {
        registered: Some(registered),
        reregistered: None,
        disconnected: None,
        resource_offers: Some(resource_offers),
        offer_rescinded: None,
        status_update: Some(status_update),
        framework_message: None,
        slave_lost: None,
        executor_lost: None,
        error: Some(error),
    };
    let mut driver = std::ptr::null_mut();
    // SAFETY: valid pointers for the call; SEEN lives for the whole program.
    let created = unsafe {
        mesos_scheduler_driver_create(
            &callbacks,
            &SEEN as *const Mutex<Seen> as *mut c_void,
            MesosBuffer {
                data: framework.as_ptr(),
                len: framework.len(),
            },
            master.as_ptr(),
            std::ptr::null(),
            &mut driver,
        )
    };
    assert_eq!(created, MesosStatus::MesosOk, "{}", last_error());

    // SAFETY: the driver just made; destroyed once, after run.
    let ended = unsafe { mesos_scheduler_driver_run(driver) };
    assert_eq!(ended, MesosStatus::MesosDriverAborted, "{}", last_error());
    assert_eq!(
        unsafe { mesos_scheduler_driver_destroy(driver) },
        MesosStatus::MesosOk
    );

    let seen = SEEN.lock().unwrap();
    assert!(seen.errors.is_empty(), "driver errors: {:?}", seen.errors);
    assert_eq!(seen.framework_id.as_deref(), Some("bench"));
    assert_eq!(seen.offer_ids.len(), EVENTS / 2);
    assert_eq!(seen.offer_ids[0], "o0");
    assert_eq!(seen.running_updates, EVENTS / 2);
    let statuses: Vec<_> = seen
        .in_callback
        .iter()
        .map(|(name, status, _)| (*name, *status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("decline_offer", MesosStatus::MesosDriverRunning),
            ("join", MesosStatus::MesosErrorInCallback),
            ("run", MesosStatus::MesosErrorInCallback),
            ("destroy", MesosStatus::MesosErrorInCallback),
        ]
    );
    for (name, _, message) in &seen.in_callback[1..] {
        assert!(
            message.contains("may not be called from inside a callback"),
            "{name}: {message}"
        );
    }
}
