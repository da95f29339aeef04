//! What every native method and callback needs from the JVM: the classes and method ids
//! looked up once, protobuf objects to and from their bytes, exceptions thrown with a
//! message, and callbacks made from the drivers' threads.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;

use jni::objects::{
    GlobalRef, JByteArray, JClass, JMethodID, JObject, JObjectArray, JStaticMethodID, JString,
    JValue, WeakRef,
};
use jni::signature::{Primitive, ReturnType};
use jni::sys::{jlong, jobject, jvalue};
use jni::{JNIEnv, JavaVM};
use mesos_core::proto::mesos::v1::Status;

/// Why a native method returns without a result; an exception is pending when it does.
#[derive(Debug)]
pub enum Failure {
    /// A Java exception is already pending (thrown by a method we called).
    Pending,
    /// Throw the exception class (e.g. `java/lang/NullPointerException`) with a message.
    Throw(&'static str, String),
}

impl From<jni::errors::Error> for Failure {
    fn from(error: jni::errors::Error) -> Failure {
        match error {
            jni::errors::Error::JavaException => Failure::Pending,
            other => Failure::Throw("java/lang/RuntimeException", other.to_string()),
        }
    }
}

/// A `NullPointerException` naming the argument that was null.
pub fn null(what: &str) -> Failure {
    Failure::Throw(
        "java/lang/NullPointerException",
        format!("{what} must not be null"),
    )
}

/// An `IllegalArgumentException` with `message`.
pub fn illegal_argument(message: impl std::fmt::Display) -> Failure {
    Failure::Throw("java/lang/IllegalArgumentException", message.to_string())
}

/// Runs the body of a native method: a [`Failure`] (or a panic, which must not unwind into
/// the JVM) leaves an exception pending and returns `default`.
pub fn native<'local, T>(
    env: &mut JNIEnv<'local>,
    default: T,
    body: impl FnOnce(&mut JNIEnv<'local>) -> Result<T, Failure>,
) -> T {
    let outcome = catch_unwind(AssertUnwindSafe(|| body(env)));
    let failure = match outcome {
        Ok(Ok(value)) => return value,
        Ok(Err(failure)) => failure,
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Failure::Throw(
                "java/lang/RuntimeException",
                format!("panic in the native Mesos library: {reason}"),
            )
        }
    };
    if let Failure::Throw(class, message) = failure {
        if !env.exception_check().unwrap_or(true) {
            let _ = env.throw_new(class, message);
        }
    }
    default
}

/// A protobuf message class of the jar, made from bytes with its static `parseFrom`.
pub struct ProtoClass {
    class: GlobalRef,
    parse_from: JStaticMethodID,
}

impl ProtoClass {
    fn find(env: &mut JNIEnv<'_>, name: &str) -> jni::errors::Result<ProtoClass> {
        let class = env.find_class(name)?;
        let parse_from = env.get_static_method_id(&class, "parseFrom", format!("([B)L{name};"))?;
        Ok(ProtoClass {
            class: env.new_global_ref(class)?,
            parse_from,
        })
    }

    /// The Java message parsed from `bytes`.
    pub fn object<'local>(
        &self,
        env: &mut JNIEnv<'local>,
        bytes: &[u8],
    ) -> jni::errors::Result<JObject<'local>> {
        let array = env.byte_array_from_slice(bytes)?;
        let class: &JClass = self.class.as_obj().into();
        // SAFETY: the method id is `parseFrom([B)` of this very class, returning an object.
        unsafe {
            env.call_static_method_unchecked(
                class,
                self.parse_from,
                ReturnType::Object,
                &[JValue::Object(&array).as_jni()],
            )?
            .l()
        }
    }
}

/// A Java interface method called back with fixed argument types.
pub struct Callback {
    id: JMethodID,
}

impl Callback {
    fn find(
        env: &mut JNIEnv<'_>,
        class: &JClass<'_>,
        name: &str,
        signature: &str,
    ) -> jni::errors::Result<Callback> {
        Ok(Callback {
            id: env.get_method_id(class, name, signature)?,
        })
    }

    /// Calls the method on `target`.
    pub fn call(
        &self,
        env: &mut JNIEnv<'_>,
        target: &JObject<'_>,
        args: &[JValue<'_, '_>],
    ) -> jni::errors::Result<()> {
        let args: Vec<jvalue> = args.iter().map(JValue::as_jni).collect();
        // SAFETY: the id is a method of an interface `target` implements, found with the
        // signature whose argument types `args` has, returning void.
        unsafe {
            env.call_method_unchecked(
                target,
                self.id,
                ReturnType::Primitive(Primitive::Void),
                &args,
            )?;
        }
        Ok(())
    }
}

/// The v0 messages (`org.apache.mesos.Protos`) handed to callbacks.
pub struct V0Messages {
    pub framework_id: ProtoClass,
    pub framework_info: ProtoClass,
    pub master_info: ProtoClass,
    pub offer: ProtoClass,
    pub offer_id: ProtoClass,
    pub task_status: ProtoClass,
    pub task_info: ProtoClass,
    pub task_id: ProtoClass,
    pub executor_id: ProtoClass,
    pub executor_info: ProtoClass,
    pub slave_id: ProtoClass,
    pub slave_info: ProtoClass,
}

/// `org.apache.mesos.Scheduler`'s methods.
pub struct SchedulerCallbacks {
    pub registered: Callback,
    pub reregistered: Callback,
    pub disconnected: Callback,
    pub resource_offers: Callback,
    pub offer_rescinded: Callback,
    pub status_update: Callback,
    pub framework_message: Callback,
    pub slave_lost: Callback,
    pub executor_lost: Callback,
    pub error: Callback,
}

/// `org.apache.mesos.Executor`'s methods.
pub struct ExecutorCallbacks {
    pub registered: Callback,
    pub reregistered: Callback,
    pub disconnected: Callback,
    pub launch_task: Callback,
    pub kill_task: Callback,
    pub framework_message: Callback,
    pub shutdown: Callback,
    pub error: Callback,
}

/// `org.apache.mesos.v1.scheduler.Scheduler`'s methods and the v1 `Event` class.
pub struct V1Callbacks {
    pub connected: Callback,
    pub disconnected: Callback,
    pub received: Callback,
    pub event: ProtoClass,
}

/// Everything looked up once, on the first driver's construction (a Java thread, whose
/// class loader sees the jar; the drivers' own threads may not).
pub struct Classes {
    pub messages: V0Messages,
    pub scheduler: SchedulerCallbacks,
    pub executor: ExecutorCallbacks,
    pub v1: V1Callbacks,
    status: GlobalRef,
    status_for_number: JStaticMethodID,
    array_list: GlobalRef,
    array_list_new: JMethodID,
    array_list_add: JMethodID,
}

static CLASSES: OnceLock<Classes> = OnceLock::new();

const V0: &str = "org/apache/mesos/Protos$";

/// The classes, looked up now if this is the first call.
pub fn classes(env: &mut JNIEnv<'_>) -> Result<&'static Classes, Failure> {
    if let Some(classes) = CLASSES.get() {
        return Ok(classes);
    }
    let classes = look_up(env)?;
    Ok(CLASSES.get_or_init(|| classes))
}

/// The classes once looked up (always, after a driver was made).
pub fn loaded() -> Option<&'static Classes> {
    CLASSES.get()
}

fn look_up(env: &mut JNIEnv<'_>) -> jni::errors::Result<Classes> {
    let mut v0 = |name: &str| ProtoClass::find(env, &format!("{V0}{name}"));
    let messages = V0Messages {
        framework_id: v0("FrameworkID")?,
        framework_info: v0("FrameworkInfo")?,
        master_info: v0("MasterInfo")?,
        offer: v0("Offer")?,
        offer_id: v0("OfferID")?,
        task_status: v0("TaskStatus")?,
        task_info: v0("TaskInfo")?,
        task_id: v0("TaskID")?,
        executor_id: v0("ExecutorID")?,
        executor_info: v0("ExecutorInfo")?,
        slave_id: v0("SlaveID")?,
        slave_info: v0("SlaveInfo")?,
    };
    let sig = |args: &[&str]| {
        let args: String = args
            .iter()
            .map(|a| match *a {
                "I" | "[B" => a.to_string(),
                "String" => "Ljava/lang/String;".to_string(),
                "List" => "Ljava/util/List;".to_string(),
                class if class.contains('/') => format!("L{class};"),
                message => format!("L{V0}{message};"),
            })
            .collect();
        format!("({args})V")
    };
    let driver = "org/apache/mesos/SchedulerDriver";
    let class = env.find_class("org/apache/mesos/Scheduler")?;
    let mut method = |name: &str, args: &[&str]| Callback::find(env, &class, name, &sig(args));
    let scheduler = SchedulerCallbacks {
        registered: method("registered", &[driver, "FrameworkID", "MasterInfo"])?,
        reregistered: method("reregistered", &[driver, "MasterInfo"])?,
        disconnected: method("disconnected", &[driver])?,
        resource_offers: method("resourceOffers", &[driver, "List"])?,
        offer_rescinded: method("offerRescinded", &[driver, "OfferID"])?,
        status_update: method("statusUpdate", &[driver, "TaskStatus"])?,
        framework_message: method("frameworkMessage", &[driver, "ExecutorID", "SlaveID", "[B"])?,
        slave_lost: method("slaveLost", &[driver, "SlaveID"])?,
        executor_lost: method("executorLost", &[driver, "ExecutorID", "SlaveID", "I"])?,
        error: method("error", &[driver, "String"])?,
    };
    let driver = "org/apache/mesos/ExecutorDriver";
    let class = env.find_class("org/apache/mesos/Executor")?;
    let mut method = |name: &str, args: &[&str]| Callback::find(env, &class, name, &sig(args));
    let executor = ExecutorCallbacks {
        registered: method(
            "registered",
            &[driver, "ExecutorInfo", "FrameworkInfo", "SlaveInfo"],
        )?,
        reregistered: method("reregistered", &[driver, "SlaveInfo"])?,
        disconnected: method("disconnected", &[driver])?,
        launch_task: method("launchTask", &[driver, "TaskInfo"])?,
        kill_task: method("killTask", &[driver, "TaskID"])?,
        framework_message: method("frameworkMessage", &[driver, "[B"])?,
        shutdown: method("shutdown", &[driver])?,
        error: method("error", &[driver, "String"])?,
    };
    let mesos = "org/apache/mesos/v1/scheduler/Mesos";
    let event = "org/apache/mesos/v1/scheduler/Protos$Event";
    let class = env.find_class("org/apache/mesos/v1/scheduler/Scheduler")?;
    let mut method = |name: &str, args: &[&str]| Callback::find(env, &class, name, &sig(args));
    let v1 = V1Callbacks {
        connected: method("connected", &[mesos])?,
        disconnected: method("disconnected", &[mesos])?,
        received: method("received", &[mesos, event])?,
        event: ProtoClass::find(env, event)?,
    };
    let status = env.find_class("org/apache/mesos/Protos$Status")?;
    let status_for_number =
        env.get_static_method_id(&status, "forNumber", "(I)Lorg/apache/mesos/Protos$Status;")?;
    let array_list = env.find_class("java/util/ArrayList")?;
    let array_list_new = env.get_method_id(&array_list, "<init>", "(I)V")?;
    let array_list_add = env.get_method_id(&array_list, "add", "(Ljava/lang/Object;)Z")?;
    Ok(Classes {
        messages,
        scheduler,
        executor,
        v1,
        status: env.new_global_ref(status)?,
        status_for_number,
        array_list: env.new_global_ref(array_list)?,
        array_list_new,
        array_list_add,
    })
}

impl Classes {
    /// The `org.apache.mesos.Protos.Status` constant of a driver status.
    pub fn status(&self, env: &mut JNIEnv<'_>, status: Status) -> Result<jobject, Failure> {
        let class: &JClass = self.status.as_obj().into();
        // SAFETY: `forNumber(I)` of the Status enum, returning an object.
        let object = unsafe {
            env.call_static_method_unchecked(
                class,
                self.status_for_number,
                ReturnType::Object,
                &[JValue::Int(status as i32).as_jni()],
            )?
            .l()?
        };
        Ok(object.into_raw())
    }

    /// A `java.util.ArrayList` of the messages `bytes` parsed as `message`.
    pub fn list<'local>(
        &self,
        env: &mut JNIEnv<'local>,
        message: &ProtoClass,
        items: &[Vec<u8>],
    ) -> jni::errors::Result<JObject<'local>> {
        let class: &JClass = self.array_list.as_obj().into();
        let capacity = i32::try_from(items.len()).unwrap_or(i32::MAX);
        // SAFETY: `ArrayList(int)`.
        let list = unsafe {
            env.new_object_unchecked(
                class,
                self.array_list_new,
                &[JValue::Int(capacity).as_jni()],
            )?
        };
        for item in items {
            let object = message.object(env, item)?;
            // SAFETY: `ArrayList.add(Object)`, returning a boolean.
            unsafe {
                env.call_method_unchecked(
                    &list,
                    self.array_list_add,
                    ReturnType::Primitive(Primitive::Boolean),
                    &[JValue::Object(&object).as_jni()],
                )?;
            }
            env.delete_local_ref(object)?;
        }
        Ok(list)
    }
}

/// The bytes of a protobuf message object (`toByteArray()`); `what` names it when null.
pub fn message_bytes(
    env: &mut JNIEnv<'_>,
    message: &JObject<'_>,
    what: &str,
) -> Result<Vec<u8>, Failure> {
    if message.is_null() {
        return Err(null(what));
    }
    let array = JByteArray::from(env.call_method(message, "toByteArray", "()[B", &[])?.l()?);
    let bytes = byte_array(env, &array, what);
    env.delete_local_ref(array)?;
    bytes
}

/// The bytes of an optional protobuf message object (None when null).
pub fn optional_bytes(
    env: &mut JNIEnv<'_>,
    message: &JObject<'_>,
) -> Result<Option<Vec<u8>>, Failure> {
    if message.is_null() {
        return Ok(None);
    }
    message_bytes(env, message, "message").map(Some)
}

/// The contents of a `byte[]`; `what` names it when null.
pub fn byte_array(
    env: &mut JNIEnv<'_>,
    array: &JByteArray<'_>,
    what: &str,
) -> Result<Vec<u8>, Failure> {
    if array.is_null() {
        return Err(null(what));
    }
    Ok(env.convert_byte_array(array)?)
}

/// The elements of a `java.util.Collection`; `what` names it (or a null element).
fn elements<'local>(
    env: &mut JNIEnv<'local>,
    collection: &JObject<'_>,
    what: &str,
) -> Result<Vec<JObject<'local>>, Failure> {
    if collection.is_null() {
        return Err(null(what));
    }
    let array = env
        .call_method(collection, "toArray", "()[Ljava/lang/Object;", &[])?
        .l()?;
    let array = JObjectArray::from(array);
    let length = env.get_array_length(&array)?;
    let mut items = Vec::with_capacity(usize::try_from(length).unwrap_or_default());
    for index in 0..length {
        let item = env.get_object_array_element(&array, index)?;
        if item.is_null() {
            return Err(null(&format!("an element of {what}")));
        }
        items.push(item);
    }
    Ok(items)
}

/// The bytes of every message of a `Collection` of protobuf objects.
pub fn messages_bytes(
    env: &mut JNIEnv<'_>,
    collection: &JObject<'_>,
    what: &str,
) -> Result<Vec<Vec<u8>>, Failure> {
    elements(env, collection, what)?
        .into_iter()
        .map(|item| message_bytes(env, &item, what))
        .collect()
}

/// The strings of a `Collection<String>`.
pub fn strings(
    env: &mut JNIEnv<'_>,
    collection: &JObject<'_>,
    what: &str,
) -> Result<Vec<String>, Failure> {
    elements(env, collection, what)?
        .into_iter()
        .map(|item| Ok(env.get_string(&JString::from(item))?.into()))
        .collect()
}

/// An object field of `this`.
pub fn object_field<'local>(
    env: &mut JNIEnv<'local>,
    this: &JObject<'_>,
    name: &str,
    class: &str,
) -> Result<JObject<'local>, Failure> {
    Ok(env.get_field(this, name, format!("L{class};"))?.l()?)
}

/// A `String` field of `this`; null is a `NullPointerException` naming it.
pub fn string_field(
    env: &mut JNIEnv<'_>,
    this: &JObject<'_>,
    name: &str,
) -> Result<String, Failure> {
    let value = object_field(env, this, name, "java/lang/String")?;
    if value.is_null() {
        return Err(null(name));
    }
    Ok(env.get_string(&JString::from(value))?.into())
}

/// The field of the driver classes (`MesosSchedulerDriver`, `MesosExecutorDriver`) that holds
/// the native driver.
pub const DRIVER_FIELD: &str = "__driver";

/// Runs a native method of a driver class: `body` gets the native driver `T` stored in
/// `__driver` and returns its status, handed to Java as a `Protos.Status`.
///
/// `T` must be the type `initialize` stored in the object's class.
pub fn with_driver<'local, T>(
    env: &mut JNIEnv<'local>,
    this: &JObject<'_>,
    body: impl FnOnce(&mut JNIEnv<'local>, &T) -> Result<Status, Failure>,
) -> jobject {
    native(env, std::ptr::null_mut(), |env| {
        let classes = classes(env)?;
        // SAFETY: each driver class's `initialize` stores its own `T` in the field, and
        // each class's natives ask for that `T`.
        let driver: &T = unsafe { native_ref(env, this, DRIVER_FIELD)? };
        let status = body(env, driver)?;
        classes.status(env, status)
    })
}

/// A native driver a Java driver object holds in `__driver`.
pub trait NativeDriver {
    /// Stops it for good (the Java object is being finalized).
    fn abort(&self);
}

/// The body of a driver class's `finalize()`: aborts the native driver `T` in `__driver`
/// and frees it.
pub fn finalize_driver<T: NativeDriver>(env: &mut JNIEnv<'_>, this: &JObject<'_>) {
    native(env, (), |env| {
        // SAFETY: `finalize` runs once nothing else can call the object's methods, and each
        // driver class's `initialize` stores its own `T`.
        if let Some(driver) = unsafe { take_native::<T>(env, this, DRIVER_FIELD)? } {
            driver.abort();
        }
        Ok(())
    })
}

/// Defines native methods of a driver class that return a `Protos.Status`: each
/// `fn Symbol(arguments) => |env, driver| body;` becomes the JNI function `Symbol` of
/// `(env, this, arguments)`, running the closure through [`with_driver`].
macro_rules! status_natives {
    ($($(#[$doc:meta])* fn $symbol:ident($($arg:ident: $ty:ty),*) => $body:expr;)*) => {
        $(
            $(#[$doc])*
            #[no_mangle]
            pub extern "system" fn $symbol(
                mut env: jni::JNIEnv,
                this: jni::objects::JObject,
                $($arg: $ty),*
            ) -> jni::sys::jobject {
                $crate::jvm::with_driver(&mut env, &this, $body)
            }
        )*
    };
}
pub(crate) use status_natives;

/// Stores `native` in the `long` field `field` of `this`, boxed; [`take_native`] frees it.
pub fn store_native<T>(
    env: &mut JNIEnv<'_>,
    this: &JObject<'_>,
    field: &str,
    native: T,
) -> Result<(), Failure> {
    let pointer = Box::into_raw(Box::new(native));
    if let Err(error) = env.set_field(this, field, "J", JValue::Long(pointer as jlong)) {
        // SAFETY: the box was made just above and nothing else has the pointer.
        drop(unsafe { Box::from_raw(pointer) });
        return Err(error.into());
    }
    Ok(())
}

/// The native value stored in `field` of `this` by [`store_native`].
///
/// # Safety
/// `field` must have been set by `store_native::<T>` (or be 0), and the value must not be
/// freed while the reference is used: [`take_native`] runs only from `finalize`, once no
/// Java code can call a method of `this`.
pub unsafe fn native_ref<'a, T>(
    env: &mut JNIEnv<'_>,
    this: &JObject<'_>,
    field: &str,
) -> Result<&'a T, Failure> {
    let pointer = env.get_field(this, field, "J")?.j()?;
    if pointer == 0 {
        return Err(Failure::Throw(
            "java/lang/IllegalStateException",
            "the driver was not initialized or is finalized".into(),
        ));
    }
    // SAFETY: as the caller promises.
    Ok(unsafe { &*(pointer as *const T) })
}

/// Takes the native value out of `field` of `this` (setting it to 0), for `finalize`.
///
/// # Safety
/// As [`native_ref`].
pub unsafe fn take_native<T>(
    env: &mut JNIEnv<'_>,
    this: &JObject<'_>,
    field: &str,
) -> Result<Option<Box<T>>, Failure> {
    let pointer = env.get_field(this, field, "J")?.j()?;
    if pointer == 0 {
        return Ok(None);
    }
    env.set_field(this, field, "J", JValue::Long(0))?;
    // SAFETY: as the caller promises.
    Ok(Some(unsafe { Box::from_raw(pointer as *mut T) }))
}

/// The Java side of a driver, for its callbacks: the JVM, the driver object (weakly, so an
/// unreachable driver can be finalized) and the callback object it was made with.
pub struct JavaPeer {
    vm: JavaVM,
    driver: WeakRef,
    target: GlobalRef,
}

impl JavaPeer {
    /// The peer of `driver` calling back `target`.
    pub fn new(
        env: &mut JNIEnv<'_>,
        driver: &JObject<'_>,
        target: &JObject<'_>,
        what: &str,
    ) -> Result<JavaPeer, Failure> {
        if target.is_null() {
            return Err(null(what));
        }
        let weak = env
            .new_weak_ref(driver)?
            .ok_or_else(|| null("the driver"))?;
        Ok(JavaPeer {
            vm: env.get_java_vm()?,
            driver: weak,
            target: env.new_global_ref(target)?,
        })
    }

    /// Makes a callback from a driver thread: `call` gets the JNI environment (this thread
    /// is attached to the JVM for good, as a daemon), the classes, the driver object and
    /// the target. A Java exception it raises is printed with its stack trace, and then
    /// `on_failure` runs (it aborts the driver), as it does when the JVM cannot be reached.
    /// Nothing is called once the driver object is gone.
    pub fn callback(
        &self,
        name: &str,
        on_failure: impl FnOnce(),
        call: impl FnOnce(
            &mut JNIEnv<'_>,
            &Classes,
            &JObject<'_>,
            &JObject<'_>,
        ) -> jni::errors::Result<()>,
    ) {
        if !self.call(name, call) {
            on_failure();
        }
    }

    /// [`JavaPeer::callback`]'s call; false when it failed.
    fn call(
        &self,
        name: &str,
        call: impl FnOnce(
            &mut JNIEnv<'_>,
            &Classes,
            &JObject<'_>,
            &JObject<'_>,
        ) -> jni::errors::Result<()>,
    ) -> bool {
        let Some(classes) = loaded() else {
            return false;
        };
        let mut env = match self.vm.attach_current_thread_as_daemon() {
            Ok(env) => env,
            Err(error) => {
                eprintln!("cannot attach a Mesos driver thread to the JVM for {name}: {error}");
                return false;
            }
        };
        let result = env.with_local_frame(16, |env| -> jni::errors::Result<()> {
            let Some(driver) = self.driver.upgrade_local(env)? else {
                return Ok(());
            };
            call(env, classes, &driver, self.target.as_obj())
        });
        if env.exception_check().unwrap_or(true) {
            eprintln!("Exception in callback {name}; aborting the driver:");
            let _ = env.exception_describe();
            let _ = env.exception_clear();
            return false;
        }
        match result {
            Ok(()) => true,
            Err(error) => {
                eprintln!("JNI error in callback {name}; aborting the driver: {error}");
                false
            }
        }
    }
}
