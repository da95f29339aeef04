//! The native methods of `org.apache.mesos.MesosSchedulerDriver`, over a
//! [`V0SchedulerDriver`]; the `org.apache.mesos.Scheduler` it was made with is called back
//! from the driver's callback thread.
//!
//! The driver lives in the object's `__driver` field (a boxed [`V0SchedulerDriver`]) from
//! `initialize` (called by every constructor) to `finalize`.

use jni::objects::{JByteArray, JObject, JValue};
use jni::sys::jboolean;
use jni::JNIEnv;
use mesos_core::proto::mesos::v1::Status;
use mesos_core::scheduler::SchedulerDriver;
use mesos_core::v0::{V0Error, V0Scheduler, V0SchedulerDriver};

use crate::jvm::{
    self, byte_array, message_bytes, messages_bytes, native, object_field, optional_bytes,
    status_natives, strings, Failure, JavaPeer, DRIVER_FIELD,
};

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
        self.0.callback(
            name,
            || {
                driver.abort();
            },
            call,
        );
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
        jvm::store_native(env, &this, DRIVER_FIELD, driver)
    })
}

impl jvm::NativeDriver for V0SchedulerDriver {
    fn abort(&self) {
        self.driver().abort();
    }
}

/// `protected native void finalize()`: aborts the driver and frees it.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosSchedulerDriver_finalize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    jvm::finalize_driver::<V0SchedulerDriver>(&mut env, &this);
}

status_natives! {
    /// `public native Status start()`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_start() =>
        |_, d: &V0SchedulerDriver| Ok(d.driver().start());

    /// `public native Status stop(boolean failover)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_stop(failover: jboolean) =>
        |_, d: &V0SchedulerDriver| Ok(d.driver().stop(failover != 0));

    /// `public native Status abort()`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_abort() =>
        |_, d: &V0SchedulerDriver| Ok(d.driver().abort());

    /// `public native Status join()`: waits until the driver is stopped or aborted.
    fn Java_org_apache_mesos_MesosSchedulerDriver_join() =>
        |_, d: &V0SchedulerDriver| Ok(d.driver().join());

    /// `public native Status requestResources(Collection<Request>)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_requestResources(requests: JObject) =>
        |env, d: &V0SchedulerDriver| {
            let requests = messages_bytes(env, &requests, "requests")?;
            decoded(d.request_resources(&requests))
        };

    /// `public native Status launchTasks(OfferID, Collection<TaskInfo>, Filters)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_launchTasks__Lorg_apache_mesos_Protos_00024OfferID_2Ljava_util_Collection_2Lorg_apache_mesos_Protos_00024Filters_2(
        offer_id: JObject,
        tasks: JObject,
        filters: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let offer_id = message_bytes(env, &offer_id, "offerId")?;
        let tasks = messages_bytes(env, &tasks, "tasks")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(d.launch_tasks(&[offer_id], &tasks, filters.as_deref()))
    };

    /// `public native Status launchTasks(Collection<OfferID>, Collection<TaskInfo>,
    /// Filters)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_launchTasks__Ljava_util_Collection_2Ljava_util_Collection_2Lorg_apache_mesos_Protos_00024Filters_2(
        offer_ids: JObject,
        tasks: JObject,
        filters: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let offer_ids = messages_bytes(env, &offer_ids, "offerIds")?;
        let tasks = messages_bytes(env, &tasks, "tasks")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(d.launch_tasks(&offer_ids, &tasks, filters.as_deref()))
    };

    /// `public native Status killTask(TaskID)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_killTask(task_id: JObject) =>
        |env, d: &V0SchedulerDriver| {
            let task_id = message_bytes(env, &task_id, "taskId")?;
            decoded(d.kill_task(&task_id))
        };

    /// `public native Status acceptOffers(Collection<OfferID>, Collection<Offer.Operation>,
    /// Filters)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_acceptOffers(
        offer_ids: JObject,
        operations: JObject,
        filters: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let offer_ids = messages_bytes(env, &offer_ids, "offerIds")?;
        let operations = messages_bytes(env, &operations, "operations")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(d.accept_offers(&offer_ids, &operations, filters.as_deref()))
    };

    /// `public native Status declineOffer(OfferID, Filters)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_declineOffer(
        offer_id: JObject,
        filters: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let offer_id = message_bytes(env, &offer_id, "offerId")?;
        let filters = optional_bytes(env, &filters)?;
        decoded(d.decline_offer(&offer_id, filters.as_deref()))
    };

    /// `public native Status reviveOffers()`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_reviveOffers__() =>
        |_, d: &V0SchedulerDriver| Ok(d.driver().revive_offers(&[]));

    /// `public native Status reviveOffers(Collection<String> roles)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_reviveOffers__Ljava_util_Collection_2(
        roles: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let roles = strings(env, &roles, "roles")?;
        Ok(d.driver().revive_offers(&roles))
    };

    /// `public native Status suppressOffers()`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_suppressOffers__() =>
        |_, d: &V0SchedulerDriver| Ok(d.driver().suppress_offers(&[]));

    /// `public native Status suppressOffers(Collection<String> roles)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_suppressOffers__Ljava_util_Collection_2(
        roles: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let roles = strings(env, &roles, "roles")?;
        Ok(d.driver().suppress_offers(&roles))
    };

    /// `public native Status acknowledgeStatusUpdate(TaskStatus)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_acknowledgeStatusUpdate(status: JObject) =>
        |env, d: &V0SchedulerDriver| {
            let status = message_bytes(env, &status, "status")?;
            decoded(d.acknowledge_status_update(&status))
        };

    /// `public native Status sendFrameworkMessage(ExecutorID, SlaveID, byte[])`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_sendFrameworkMessage(
        executor_id: JObject,
        slave_id: JObject,
        data: JByteArray
    ) => |env, d: &V0SchedulerDriver| {
        let executor_id = message_bytes(env, &executor_id, "executorId")?;
        let slave_id = message_bytes(env, &slave_id, "slaveId")?;
        let data = byte_array(env, &data, "data")?;
        decoded(d.send_framework_message(&executor_id, &slave_id, data))
    };

    /// `public native Status reconcileTasks(Collection<TaskStatus>)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_reconcileTasks(statuses: JObject) =>
        |env, d: &V0SchedulerDriver| {
            let statuses = messages_bytes(env, &statuses, "statuses")?;
            decoded(d.reconcile_tasks(&statuses))
        };

    /// `public native Status updateFramework(FrameworkInfo, Collection<String>)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_updateFramework(
        framework: JObject,
        suppressed_roles: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let framework = message_bytes(env, &framework, "frameworkInfo")?;
        let roles = strings(env, &suppressed_roles, "suppressedRoles")?;
        decoded(d.update_framework(&framework, roles, None))
    };

    /// `private native Status updateFrameworkWithConstraints(FrameworkInfo,
    /// Collection<String>, OfferConstraints)`.
    fn Java_org_apache_mesos_MesosSchedulerDriver_updateFrameworkWithConstraints(
        framework: JObject,
        suppressed_roles: JObject,
        constraints: JObject
    ) => |env, d: &V0SchedulerDriver| {
        let framework = message_bytes(env, &framework, "frameworkInfo")?;
        let roles = strings(env, &suppressed_roles, "suppressedRoles")?;
        let constraints = message_bytes(env, &constraints, "offerConstraints")?;
        decoded(d.update_framework(&framework, roles, Some(&constraints)))
    };
}
