//! The native methods of `org.apache.mesos.MesosSchedulerDriver`, over a
//! [`V0SchedulerDriver`]; the `org.apache.mesos.Scheduler` it was made with is called back
//! from the driver's callback thread.
//!
//! The driver lives in the object's `__driver` field (a boxed [`V0SchedulerDriver`]) from
//! `initialize` (called by every constructor) to `finalize`.

use jni::objects::{JByteArray, JObject, JValue};
use jni::sys::{jboolean, jobject};
use jni::JNIEnv;
use mesos_core::proto::mesos::v1::Status;
use mesos_core::scheduler::SchedulerDriver;
use mesos_core::v0::{V0Error, V0Scheduler, V0SchedulerDriver};

use crate::jvm::{
    self, byte_array, message_bytes, messages_bytes, native, native_ref, object_field,
    optional_bytes, strings, Failure, JavaPeer,
};

const FIELD: &str = "__driver";

/// Calls the Java scheduler; an exception it throws aborts the driver.
struct JavaScheduler(JavaPeer);

impl JavaScheduler {
    fn call(
        &self,
        driver: &SchedulerDriver,
        name: &str,
        call: impl FnOnce(
            &mut JNIEnv<'_>,
            &jvm::Classes,
            &JObject<'_>,
            &JObject<'_>,
        ) -> jni::errors::Result<()>,
    ) {
        if !self.0.callback(name, call) {
            driver.abort();
        }
    }
}

impl V0Scheduler for JavaScheduler {
    fn registered(&mut self, driver: &SchedulerDriver, framework_id: &[u8], master_info: &[u8]) {
        self.call(driver, "registered", |env, c, d, s| {
            let id = c.messages.framework_id.object(env, framework_id)?;
            let master = c.messages.master_info.object(env, master_info)?;
            let args = [d.into(), (&id).into(), (&master).into()];
            c.scheduler.registered.call(env, s, &args)
        });
    }

    fn reregistered(&mut self, driver: &SchedulerDriver, master_info: &[u8]) {
        self.call(driver, "reregistered", |env, c, d, s| {
            let master = c.messages.master_info.object(env, master_info)?;
            c.scheduler
                .reregistered
                .call(env, s, &[d.into(), (&master).into()])
        });
    }

    fn disconnected(&mut self, driver: &SchedulerDriver) {
        self.call(driver, "disconnected", |env, c, d, s| {
            c.scheduler.disconnected.call(env, s, &[d.into()])
        });
    }

    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Vec<u8>>) {
        self.call(driver, "resourceOffers", |env, c, d, s| {
            let list = c.list(env, &c.messages.offer, &offers)?;
            c.scheduler
                .resource_offers
                .call(env, s, &[d.into(), (&list).into()])
        });
    }

    fn offer_rescinded(&mut self, driver: &SchedulerDriver, offer_id: &[u8]) {
        self.call(driver, "offerRescinded", |env, c, d, s| {
            let id = c.messages.offer_id.object(env, offer_id)?;
            c.scheduler
                .offer_rescinded
                .call(env, s, &[d.into(), (&id).into()])
        });
    }

    fn status_update(&mut self, driver: &SchedulerDriver, status: &[u8]) {
        self.call(driver, "statusUpdate", |env, c, d, s| {
            let status = c.messages.task_status.object(env, status)?;
            c.scheduler
                .status_update
                .call(env, s, &[d.into(), (&status).into()])
        });
    }

    fn framework_message(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &[u8],
        slave_id: &[u8],
        data: &[u8],
    ) {
        self.call(driver, "frameworkMessage", |env, c, d, s| {
            let executor = c.messages.executor_id.object(env, executor_id)?;
            let slave = c.messages.slave_id.object(env, slave_id)?;
            let data = env.byte_array_from_slice(data)?;
            let args = [
                d.into(),
                (&executor).into(),
                (&slave).into(),
                (&data).into(),
            ];
            c.scheduler.framework_message.call(env, s, &args)
        });
    }

    fn slave_lost(&mut self, driver: &SchedulerDriver, slave_id: &[u8]) {
        self.call(driver, "slaveLost", |env, c, d, s| {
            let slave = c.messages.slave_id.object(env, slave_id)?;
            c.scheduler
                .slave_lost
                .call(env, s, &[d.into(), (&slave).into()])
        });
    }

    fn executor_lost(
        &mut self,
        driver: &SchedulerDriver,
        executor_id: &[u8],
        slave_id: &[u8],
        status: i32,
    ) {
        self.call(driver, "executorLost", |env, c, d, s| {
            let executor = c.messages.executor_id.object(env, executor_id)?;
            let slave = c.messages.slave_id.object(env, slave_id)?;
            let args = [
                d.into(),
                (&executor).into(),
                (&slave).into(),
                JValue::Int(status),
            ];
            c.scheduler.executor_lost.call(env, s, &args)
        });
    }

    fn error(&mut self, driver: &SchedulerDriver, message: &str) {
        self.call(driver, "error", |env, c, d, s| {
            let message = env.new_string(message)?;
            c.scheduler
                .error
                .call(env, s, &[d.into(), (&message).into()])
        });
    }
}

/// Runs a native method of the driver: `body` gets the driver and returns its status,
/// handed to Java as a `Protos.Status`.
fn with_driver<'local>(
    env: &mut JNIEnv<'local>,
    this: &JObject<'local>,
    body: impl FnOnce(&mut JNIEnv<'local>, &V0SchedulerDriver) -> Result<Status, Failure>,
) -> jobject {
    native(env, std::ptr::null_mut(), |env| {
        let classes = jvm::classes(env)?;
        // SAFETY: the field is only ever set by `initialize` to a `V0SchedulerDriver`.
        let driver: &V0SchedulerDriver = unsafe { native_ref(env, this, FIELD)? };
        let status = body(env, driver)?;
        classes.status(env, status)
    })
}

/// Bytes the v0 layer could not decode are an `IllegalArgumentException`.
fn decoded(result: Result<Status, V0Error>) -> Result<Status, Failure> {
    result.map_err(jvm::illegal_argument)
}

/// `protected native void initialize()`: makes the driver from the object's fields.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_initialize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| {
        jvm::classes(env)?;
        let scheduler = object_field(env, &this, "scheduler", "org/apache/mesos/Scheduler")?;
        let peer = JavaPeer::new(env, &this, &scheduler, "scheduler")?;
        let framework = object_field(
            env,
            &this,
            "framework",
            "org/apache/mesos/Protos$FrameworkInfo",
        )?;
        let framework = message_bytes(env, &framework, "framework")?;
        let master = jvm::string_field(env, &this, "master")?;
        let implicit = env.get_field(&this, "implicitAcknowledgements", "Z")?.z()?;
        let credential = object_field(
            env,
            &this,
            "credential",
            "org/apache/mesos/Protos$Credential",
        )?;
        let credential = optional_bytes(env, &credential)?;
        let suppressed = object_field(env, &this, "suppressedRoles", "java/util/Collection")?;
        let suppressed = if suppressed.is_null() {
            Vec::new()
        } else {
            strings(env, &suppressed, "suppressedRoles")?
        };
        let driver = V0SchedulerDriver::new(
            JavaScheduler(peer),
            &framework,
            suppressed,
            &master,
            implicit,
            credential.as_deref(),
        )
        .map_err(jvm::illegal_argument)?;
        jvm::store_native(env, &this, FIELD, driver)
    })
}

/// `protected native void finalize()`: aborts the driver and frees it.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_finalize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| {
        // SAFETY: `finalize` runs once nothing else can call the driver's methods.
        if let Some(driver) = unsafe { jvm::take_native::<V0SchedulerDriver>(env, &this, FIELD)? } {
            driver.driver().abort();
        }
        Ok(())
    })
}

/// `public native Status start()`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_start<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |_, driver| Ok(driver.driver().start()))
}

/// `public native Status stop(boolean failover)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_stop<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    failover: jboolean,
) -> jobject {
    with_driver(&mut env, &this, |_, driver| {
        Ok(driver.driver().stop(failover != 0))
    })
}

/// `public native Status abort()`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_abort<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |_, driver| Ok(driver.driver().abort()))
}

/// `public native Status join()`: waits until the driver is stopped or aborted.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_join<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |_, driver| Ok(driver.driver().join()))
}

/// `public native Status requestResources(Collection<Request>)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_requestResources<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    requests: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let requests = messages_bytes(env, &requests, "requests")?;
        decoded(driver.request_resources(&requests))
    })
}

/// `public native Status launchTasks(OfferID, Collection<TaskInfo>, Filters)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_launchTasks__Lorg_apache_mesos_Protos_00024OfferID_2Ljava_util_Collection_2Lorg_apache_mesos_Protos_00024Filters_2<
    'local,
>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    offer_id: JObject<'local>,
    tasks: JObject<'local>,
    filters: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let offer_id = message_bytes(env, &offer_id, "offerId")?;
        let tasks = messages_bytes(env, &tasks, "tasks")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(driver.launch_tasks(&[offer_id], &tasks, filters.as_deref()))
    })
}

/// `public native Status launchTasks(Collection<OfferID>, Collection<TaskInfo>, Filters)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_launchTasks__Ljava_util_Collection_2Ljava_util_Collection_2Lorg_apache_mesos_Protos_00024Filters_2<
    'local,
>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    offer_ids: JObject<'local>,
    tasks: JObject<'local>,
    filters: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let offer_ids = messages_bytes(env, &offer_ids, "offerIds")?;
        let tasks = messages_bytes(env, &tasks, "tasks")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(driver.launch_tasks(&offer_ids, &tasks, filters.as_deref()))
    })
}

/// `public native Status killTask(TaskID)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_killTask<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    task_id: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let task_id = message_bytes(env, &task_id, "taskId")?;
        decoded(driver.kill_task(&task_id))
    })
}

/// `public native Status acceptOffers(Collection<OfferID>, Collection<Offer.Operation>,
/// Filters)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_acceptOffers<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    offer_ids: JObject<'local>,
    operations: JObject<'local>,
    filters: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let offer_ids = messages_bytes(env, &offer_ids, "offerIds")?;
        let operations = messages_bytes(env, &operations, "operations")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(driver.accept_offers(&offer_ids, &operations, filters.as_deref()))
    })
}

/// `public native Status declineOffer(OfferID, Filters)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_declineOffer<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    offer_id: JObject<'local>,
    filters: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let offer_id = message_bytes(env, &offer_id, "offerId")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(driver.decline_offer(&offer_id, filters.as_deref()))
    })
}

/// `public native Status reviveOffers()`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_reviveOffers__<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |_, driver| {
        Ok(driver.driver().revive_offers(&[]))
    })
}

/// `public native Status reviveOffers(Collection<String> roles)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_reviveOffers__Ljava_util_Collection_2<
    'local,
>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    roles: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let roles = strings(env, &roles, "roles")?;
        Ok(driver.driver().revive_offers(&roles))
    })
}

/// `public native Status suppressOffers()`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_suppressOffers__<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |_, driver| {
        Ok(driver.driver().suppress_offers(&[]))
    })
}

/// `public native Status suppressOffers(Collection<String> roles)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_suppressOffers__Ljava_util_Collection_2<
    'local,
>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    roles: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let roles = strings(env, &roles, "roles")?;
        Ok(driver.driver().suppress_offers(&roles))
    })
}

/// `public native Status acknowledgeStatusUpdate(TaskStatus)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_acknowledgeStatusUpdate<
    'local,
>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    status: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let status = message_bytes(env, &status, "status")?;
        decoded(driver.acknowledge_status_update(&status))
    })
}

/// `public native Status sendFrameworkMessage(ExecutorID, SlaveID, byte[])`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_sendFrameworkMessage<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    executor_id: JObject<'local>,
    slave_id: JObject<'local>,
    data: JByteArray<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let executor_id = message_bytes(env, &executor_id, "executorId")?;
        let slave_id = message_bytes(env, &slave_id, "slaveId")?;
        let data = byte_array(env, &data, "data")?;
        decoded(driver.send_framework_message(&executor_id, &slave_id, data))
    })
}

/// `public native Status reconcileTasks(Collection<TaskStatus>)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_reconcileTasks<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    statuses: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let statuses = messages_bytes(env, &statuses, "statuses")?;
        decoded(driver.reconcile_tasks(&statuses))
    })
}

/// `public native Status updateFramework(FrameworkInfo, Collection<String>)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_updateFramework<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    framework: JObject<'local>,
    suppressed_roles: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let framework = message_bytes(env, &framework, "frameworkInfo")?;
        let roles = strings(env, &suppressed_roles, "suppressedRoles")?;
        decoded(driver.update_framework(&framework, roles, None))
    })
}

/// `private native Status updateFrameworkWithConstraints(FrameworkInfo, Collection<String>,
/// OfferConstraints)`.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_updateFrameworkWithConstraints<
    'local,
>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
    framework: JObject<'local>,
    suppressed_roles: JObject<'local>,
    constraints: JObject<'local>,
) -> jobject {
    with_driver(&mut env, &this, |env, driver| {
        let framework = message_bytes(env, &framework, "frameworkInfo")?;
        let roles = strings(env, &suppressed_roles, "suppressedRoles")?;
        let constraints = message_bytes(env, &constraints, "offerConstraints")?;
        decoded(driver.update_framework(&framework, roles, Some(&constraints)))
    })
}
