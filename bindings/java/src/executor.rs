//! The native methods of `org.apache.mesos.MesosExecutorDriver`, over a
//! [`V0ExecutorDriver`] configured by the `MESOS_*` environment the agent gave this
//! process; the `org.apache.mesos.Executor` it was made with is called back from the
//! driver's callback thread.

use jni::objects::{JByteArray, JObject};
use jni::JNIEnv;
use mesos_core::executor::ExecutorDriver;
use mesos_core::v0::{V0Executor, V0ExecutorDriver};

use crate::jvm::{
    self, byte_array, message_bytes, native, status_natives, Failure, JavaPeer, DRIVER_FIELD,
};

/// Calls the Java executor; an exception it throws aborts the driver.
struct JavaExecutor(JavaPeer);

impl JavaExecutor {
    fn call(
        &self,
        driver: &ExecutorDriver,
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

impl V0Executor for JavaExecutor {
    fn registered(
        &mut self,
        driver: &ExecutorDriver,
        executor_info: &[u8],
        framework_info: &[u8],
        slave_info: &[u8],
    ) {
        self.call(driver, "registered", |env, c, d, e| {
            let executor = c.messages.executor_info.object(env, executor_info)?;
            let framework = c.messages.framework_info.object(env, framework_info)?;
            let slave = c.messages.slave_info.object(env, slave_info)?;
            let args = [
                d.into(),
                (&executor).into(),
                (&framework).into(),
                (&slave).into(),
            ];
            c.executor.registered.call(env, e, &args)
        });
    }

    fn reregistered(&mut self, driver: &ExecutorDriver, slave_info: &[u8]) {
        self.call(driver, "reregistered", |env, c, d, e| {
            let slave = c.messages.slave_info.object(env, slave_info)?;
            c.executor
                .reregistered
                .call(env, e, &[d.into(), (&slave).into()])
        });
    }

    fn disconnected(&mut self, driver: &ExecutorDriver) {
        self.call(driver, "disconnected", |env, c, d, e| {
            c.executor.disconnected.call(env, e, &[d.into()])
        });
    }

    fn launch_task(&mut self, driver: &ExecutorDriver, task: &[u8]) {
        self.call(driver, "launchTask", |env, c, d, e| {
            let task = c.messages.task_info.object(env, task)?;
            c.executor
                .launch_task
                .call(env, e, &[d.into(), (&task).into()])
        });
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &[u8]) {
        self.call(driver, "killTask", |env, c, d, e| {
            let task_id = c.messages.task_id.object(env, task_id)?;
            c.executor
                .kill_task
                .call(env, e, &[d.into(), (&task_id).into()])
        });
    }

    fn framework_message(&mut self, driver: &ExecutorDriver, data: &[u8]) {
        self.call(driver, "frameworkMessage", |env, c, d, e| {
            let data = env.byte_array_from_slice(data)?;
            c.executor
                .framework_message
                .call(env, e, &[d.into(), (&data).into()])
        });
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        self.call(driver, "shutdown", |env, c, d, e| {
            c.executor.shutdown.call(env, e, &[d.into()])
        });
    }

    fn error(&mut self, driver: &ExecutorDriver, message: &str) {
        self.call(driver, "error", |env, c, d, e| {
            let message = env.new_string(message)?;
            c.executor
                .error
                .call(env, e, &[d.into(), (&message).into()])
        });
    }
}

/// `protected native void initialize()`: makes the driver; outside an executor started by
/// an agent (no `MESOS_*` environment) it throws `IllegalStateException` saying what is
/// missing.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosExecutorDriver_initialize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    native(&mut env, (), |env| {
        jvm::classes(env)?;
        let executor = jvm::object_field(env, &this, "executor", "org/apache/mesos/Executor")?;
        let peer = JavaPeer::new(env, &this, &executor, "executor")?;
        let driver = V0ExecutorDriver::new(JavaExecutor(peer)).map_err(|error| {
            Failure::Throw("java/lang/IllegalStateException", error.to_string())
        })?;
        jvm::store_native(env, &this, DRIVER_FIELD, driver)
    })
}

impl jvm::NativeDriver for V0ExecutorDriver {
    fn abort(&self) {
        self.driver().abort();
    }
}

/// `protected native void finalize()`: aborts the driver and frees it.
#[no_mangle]
pub extern "system" fn Java_org_apache_mesos_MesosExecutorDriver_finalize<'local>(
    mut env: JNIEnv<'local>,
    this: JObject<'local>,
) {
    jvm::finalize_driver::<V0ExecutorDriver>(&mut env, &this);
}

status_natives! {
    /// `public native Status start()`.
    fn Java_org_apache_mesos_MesosExecutorDriver_start() =>
        |_, d: &V0ExecutorDriver| Ok(d.driver().start());

    /// `public native Status stop()`.
    fn Java_org_apache_mesos_MesosExecutorDriver_stop() =>
        |_, d: &V0ExecutorDriver| Ok(d.driver().stop());

    /// `public native Status abort()`.
    fn Java_org_apache_mesos_MesosExecutorDriver_abort() =>
        |_, d: &V0ExecutorDriver| Ok(d.driver().abort());

    /// `public native Status join()`: waits until the driver is stopped or aborted.
    fn Java_org_apache_mesos_MesosExecutorDriver_join() =>
        |_, d: &V0ExecutorDriver| Ok(d.driver().join());

    /// `public native Status sendStatusUpdate(TaskStatus)`.
    fn Java_org_apache_mesos_MesosExecutorDriver_sendStatusUpdate(status: JObject) =>
        |env, d: &V0ExecutorDriver| {
            let status = message_bytes(env, &status, "status")?;
            d.send_status_update(&status).map_err(jvm::illegal_argument)
        };

    /// `public native Status sendFrameworkMessage(byte[])`.
    fn Java_org_apache_mesos_MesosExecutorDriver_sendFrameworkMessage(data: JByteArray) =>
        |env, d: &V0ExecutorDriver| {
            let data = byte_array(env, &data, "data")?;
            Ok(d.send_framework_message(data))
        };
}
