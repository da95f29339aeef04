//! The native methods of `org.apache.mesos.v1.scheduler.V1Mesos` and `V0Mesos`, over the
//! v1 scheduler library ([`Mesos`]): `V1Mesos` speaks the v1 HTTP API directly, `V0Mesos`
//! subscribes its framework at construction, as Apache's adapter over the v0 driver does.
//! The `org.apache.mesos.v1.scheduler.Scheduler` given is called back from the library's
//! callback thread. The library lives in the object's `__mesos` field, in a [`Slot`]
//! stored before the library starts, so that a callback may call `send` at once.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

use jni::objects::JObject;
use jni::JNIEnv;
use mesos_core::proto::mesos::v1::scheduler::{Call, Event};
use mesos_core::proto::mesos::v1::{Credential, FrameworkInfo};
use mesos_core::scheduler::{detector_for, Mesos, V1Scheduler};
use prost::Message;

use crate::jvm::{self, message_bytes, native, native_ref, object_field, JavaPeer};

const FIELD: &str = "__mesos";

/// How long a method called from the library's first callback waits for the constructor
/// to have stored the library.
const STORED_WITHIN: Duration = Duration::from_secs(10);

/// Where the library is kept: empty from just before it starts until its constructor
/// returns.
#[derive(Default)]
struct Slot {
    mesos: Mutex<Option<Mesos>>,
    stored: Condvar,
}

impl Slot {
    fn store(&self, mesos: Mesos) {
        *self.mesos.lock().unwrap_or_else(|e| e.into_inner()) = Some(mesos);
        self.stored.notify_all();
    }

    /// The library, waiting for it if a callback calls before the constructor is done.
    fn get(&self) -> Result<Mesos, jvm::Failure> {
        let guard = self.mesos.lock().unwrap_or_else(|e| e.into_inner());
        let (guard, _) = self
            .stored
            .wait_timeout_while(guard, STORED_WITHIN, |mesos| mesos.is_none())
            .unwrap_or_else(|e| e.into_inner());
        guard.clone().ok_or_else(|| {
            jvm::Failure::Throw(
                "java/lang/IllegalStateException",
                "the scheduler library was not started".into(),
            )
        })
    }
}

/// The library of `this`.
fn library(env: &mut JNIEnv<'_>, this: &JObject<'_>) -> Result<Mesos, jvm::Failure> {
    // SAFETY: the field is only ever set by `initialize` to a `Slot`.
    let slot: &Slot = unsafe { native_ref(env, this, FIELD)? };
    slot.get()
}
const SCHEDULER: &str = "org/apache/mesos/v1/scheduler/Scheduler";

/// Calls the Java v1 scheduler; an exception it throws is printed and the library closed.
struct JavaV1Scheduler(JavaPeer);

impl V1Scheduler for JavaV1Scheduler {
    fn connected(&mut self, mesos: &Mesos) {
        self.0.callback(
            "connected",
            || mesos.close(),
            |env, c, m, s| c.v1.connected.call(env, s, &[m.into()]),
        );
    }

    fn disconnected(&mut self, mesos: &Mesos) {
        self.0.callback(
            "disconnected",
            || mesos.close(),
            |env, c, m, s| c.v1.disconnected.call(env, s, &[m.into()]),
        );
    }

    fn received(&mut self, mesos: &Mesos, event: Event) {
        let bytes = event.encode_to_vec();
        self.0.callback(
            "received",
            || mesos.close(),
            |env, c, m, s| {
                let event = c.v1.event.object(env, &bytes)?;
                c.v1.received.call(env, s, &[m.into(), (&event).into()])
            },
        );
    }
}

/// Reads the fields every constructor sets and starts the library `start` makes.
fn initialize(
    env: &mut JNIEnv<'_>,
    this: &JObject<'_>,
    start: impl FnOnce(&mut JNIEnv<'_>, &str, JavaV1Scheduler) -> Result<Mesos, jvm::Failure>,
) -> Result<(), jvm::Failure> {
    jvm::classes(env)?;
    let scheduler = object_field(env, this, "scheduler", SCHEDULER)?;
    let peer = JavaPeer::new(env, this, &scheduler, "scheduler")?;
    let master = jvm::string_field(env, this, "master")?;
    let credential = object_field(
        env,
        this,
        "credential",
        "org/apache/mesos/v1/Protos$Credential",
    )?;
    if let Some(credential) = jvm::optional_bytes(env, &credential)? {
        let credential = Credential::decode(credential.as_slice())
            .map_err(|e| jvm::illegal_argument(format!("invalid mesos.v1.Credential: {e}")))?;
        tracing::warn!(
            "credential of principal '{}' ignored: the library does not authenticate",
            credential.principal
        );
    }
    jvm::store_native(env, this, FIELD, Slot::default())?;
    // SAFETY: just stored; freed only by `finalize`.
    let slot: &Slot = unsafe { native_ref(env, this, FIELD)? };
    let mesos = start(env, &master, JavaV1Scheduler(peer))?;
    slot.store(mesos);
    Ok(())
}

/// Sends a `Call` object.
fn send(env: &mut JNIEnv<'_>, this: &JObject<'_>, call: &JObject<'_>) -> Result<(), jvm::Failure> {
    let call = message_bytes(env, call, "call")?;
    let call = Call::decode(call.as_slice())
        .map_err(|e| jvm::illegal_argument(format!("invalid mesos.v1.scheduler.Call: {e}")))?;
    library(env, this)?.send(call);
    Ok(())
}

/// Closes the library and frees it.
fn finalize(env: &mut JNIEnv<'_>, this: &JObject<'_>) -> Result<(), jvm::Failure> {
    // SAFETY: `finalize` runs once nothing else can call the object's methods.
    if let Some(slot) = unsafe { jvm::take_native::<Slot>(env, this, FIELD)? } {
        if let Some(mesos) = slot.mesos.lock().unwrap_or_else(|e| e.into_inner()).take() {
            mesos.close();
        }
    }
    Ok(())
}

/// `protected native void initialize()` of `V1Mesos`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_v1_scheduler_V1Mesos_initialize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| {
        initialize(env, &this, |_, master, scheduler| {
            let detector = detector_for(master).map_err(jvm::illegal_argument)?;
            Mesos::connect(detector, scheduler).map_err(jvm::illegal_argument)
        })
    })
}

/// `public native void send(Call)` of `V1Mesos`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_v1_scheduler_V1Mesos_send<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    call: JObject<'local>,
) {
    native(&mut env, (), |env| send(env, &this, &call))
}

/// `public native void reconnect()` of `V1Mesos`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_v1_scheduler_V1Mesos_reconnect<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| {
        library(env, &this)?.reconnect();
        Ok(())
    })
}

/// `protected native void finalize()` of `V1Mesos`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_v1_scheduler_V1Mesos_finalize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| finalize(env, &this))
}

/// `protected native void initialize()` of `V0Mesos`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_v1_scheduler_V0Mesos_initialize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| {
        initialize(env, &this, |env, master, scheduler| {
            let framework = object_field(
                env,
                &this,
                "framework",
                "org/apache/mesos/v1/Protos$FrameworkInfo",
            )?;
            let framework = message_bytes(env, &framework, "framework")?;
            let framework = FrameworkInfo::decode(framework.as_slice()).map_err(|e| {
                jvm::illegal_argument(format!("invalid mesos.v1.FrameworkInfo: {e}"))
            })?;
            let detector = detector_for(master).map_err(jvm::illegal_argument)?;
            Mesos::over_session(detector, framework, scheduler).map_err(jvm::illegal_argument)
        })
    })
}

/// `public native void send(Call)` of `V0Mesos`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_v1_scheduler_V0Mesos_send<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    call: JObject<'local>,
) {
    native(&mut env, (), |env| send(env, &this, &call))
}

/// `protected native void finalize()` of `V0Mesos`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_v1_scheduler_V0Mesos_finalize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| finalize(env, &this))
}
