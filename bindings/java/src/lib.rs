//! `libmesos_java`: the JNI library behind Apache Mesos' Java API.
//!
//! The unmodified `org.apache.mesos:mesos:1.11.0` jar declares its drivers' methods
//! `native`; this library implements them, with the jar's exact symbol names and fields
//! (`__driver`, `__mesos`), on `mesos-core`:
//! - [`scheduler`]: `org.apache.mesos.MesosSchedulerDriver`, over the v0 driver layer
//!   ([`mesos_core::v0`]);
//! - [`executor`]: `org.apache.mesos.MesosExecutorDriver`, likewise;
//! - [`v1`]: `org.apache.mesos.v1.scheduler.V1Mesos` and `V0Mesos`, over the v1 scheduler
//!   library ([`mesos_core::scheduler::Mesos`]);
//! - `MesosNativeLibrary._version()`, below.
//!
//! Every protobuf object crosses as its serialized bytes (`toByteArray()` one way, the
//! class's `parseFrom(byte[])` the other), as Apache's JNI code does. A null argument is a
//! `NullPointerException` naming it, bytes that do not decode an
//! `IllegalArgumentException`; a Java exception thrown by a callback is printed with its
//! stack trace and aborts the driver, and the JVM goes on.
//!
//! Load it with `MESOS_NATIVE_JAVA_LIBRARY=/path/to/libmesos_java.so`, or under the name
//! `libmesos.so` in a directory of `java.library.path`.

mod executor;
mod jvm;
mod scheduler;
mod v1;

use std::ffi::c_void;

use jni::objects::{JClass, JValue};
use jni::sys::{jint, jobject, JNI_ERR, JNI_VERSION_1_8};
use jni::{JNIEnv, JavaVM};

/// The Mesos version the library is wire compatible with, as `MesosNativeLibrary` reports
/// it (frameworks compare it against the versions they need).
const VERSION: (i64, i64, i64) = (1, 11, 0);

/// Called by the JVM when `MesosNativeLibrary.load` loads the library: marks it loaded
/// (`MesosNativeLibrary.loaded`, which `version()` checks), as Apache's library does.
#[no_mangle]
pub extern "system" fn JNI_OnLoad(vm: JavaVM, _reserved: *mut c_void) -> jint {
    let Ok(mut env) = vm.get_env() else {
        return JNI_ERR;
    };
    let marked = env
        .find_class("org/apache/mesos/MesosNativeLibrary")
        .and_then(|class| {
            let loaded = env.get_static_field_id(&class, "loaded", "Z")?;
            env.set_static_field(&class, loaded, JValue::Bool(1))
        });
    if marked.is_err() {
        // Loaded by something other than the jar's MesosNativeLibrary: nothing to mark.
        let _ = env.exception_clear();
    }
    JNI_VERSION_1_8
}

/// `private static native MesosNativeLibrary.Version _version()`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosNativeLibrary__1version<'local>(
    mut env: JNIEnv<'local>,
    _class: JClass<'local>,
) -> jobject {
    jvm::native(&mut env, std::ptr::null_mut(), |env| {
        let (major, minor, patch) = VERSION;
        let version = env.new_object(
            "org/apache/mesos/MesosNativeLibrary$Version",
            "(JJJ)V",
            &[
                JValue::Long(major),
                JValue::Long(minor),
                JValue::Long(patch),
            ],
        )?;
        Ok(version.into_raw())
    })
}
