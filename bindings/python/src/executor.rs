//! `mesos._native.ExecutorDriver`: a [`V0ExecutorDriver`] whose callbacks are methods of a
//! Python object, for `mesos.native.MesosExecutorDriver`.

use mesos_core::executor::ExecutorDriver as Driver;
use mesos_core::proto::mesos::v1::Status;
use mesos_core::v0::{V0Executor, V0ExecutorDriver};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};

use crate::{report_callback_error, to_py_err};

/// Calls the methods of a Python object with the v0 bytes of each callback: the object's
/// methods are named as Apache's `Executor` methods, without the driver argument.
struct Callbacks {
    target: Py<PyAny>,
}

impl Callbacks {
    /// Calls `name` on the target with `args` as bytes; an exception aborts the driver
    /// after its traceback is printed.
    fn call(&self, driver: &Driver, name: &str, args: &[&[u8]]) {
        crate::attach(|py| {
            let args = args.iter().map(|arg| PyBytes::new(py, arg));
            let result = PyTuple::new(py, args).and_then(|args| {
                self.target
                    .bind(py)
                    .call_method1(PyString::intern(py, name), args)
            });
            if let Err(error) = result {
                report_callback_error(py, &error, "executor", name);
                driver.abort();
            }
        });
    }
}

impl V0Executor for Callbacks {
    fn registered(
        &mut self,
        driver: &Driver,
        executor_info: &[u8],
        framework_info: &[u8],
        slave_info: &[u8],
    ) {
        self.call(
            driver,
            "registered",
            &[executor_info, framework_info, slave_info],
        );
    }

    fn reregistered(&mut self, driver: &Driver, slave_info: &[u8]) {
        self.call(driver, "reregistered", &[slave_info]);
    }

    fn disconnected(&mut self, driver: &Driver) {
        self.call(driver, "disconnected", &[]);
    }

    fn launch_task(&mut self, driver: &Driver, task: &[u8]) {
        self.call(driver, "launchTask", &[task]);
    }

    fn kill_task(&mut self, driver: &Driver, task_id: &[u8]) {
        self.call(driver, "killTask", &[task_id]);
    }

    fn framework_message(&mut self, driver: &Driver, data: &[u8]) {
        self.call(driver, "frameworkMessage", &[data]);
    }

    fn shutdown(&mut self, driver: &Driver) {
        self.call(driver, "shutdown", &[]);
    }

    fn error(&mut self, driver: &Driver, message: &str) {
        self.call(driver, "error", &[message.as_bytes()]);
    }
}

/// The native executor driver: message arguments are the bytes of serialized v0
/// (`mesos_pb2`) messages; methods return the driver's status as an int.
#[pyclass(module = "mesos._native", name = "ExecutorDriver", frozen)]
pub struct ExecutorDriver {
    driver: V0ExecutorDriver,
}

fn code(status: Status) -> i32 {
    status as i32
}

#[pymethods]
impl ExecutorDriver {
    /// A driver calling the methods of `callbacks` with v0 bytes, configured by the
    /// `MESOS_*` environment the agent starts executors with; `RuntimeError` when that
    /// environment is missing or invalid.
    #[new]
    fn new(callbacks: Py<PyAny>) -> PyResult<ExecutorDriver> {
        let driver = V0ExecutorDriver::new(Callbacks { target: callbacks }).map_err(to_py_err)?;
        Ok(ExecutorDriver { driver })
    }

    /// The driver's status now.
    fn status(&self) -> i32 {
        code(self.driver.driver().status())
    }

    /// Starts the driver.
    fn start(&self) -> i32 {
        code(self.driver.driver().start())
    }

    /// Stops the driver once what was queued is sent.
    fn stop(&self) -> i32 {
        code(self.driver.driver().stop())
    }

    /// Aborts the driver.
    fn abort(&self) -> i32 {
        code(self.driver.driver().abort())
    }

    /// Waits, without the GIL, until the driver is stopped or aborted.
    fn join(&self, py: Python<'_>) -> i32 {
        code(py.detach(|| self.driver.driver().join()))
    }

    /// Starts the driver and waits, without the GIL, until it is stopped or aborted.
    fn run(&self, py: Python<'_>) -> i32 {
        code(py.detach(|| self.driver.driver().run()))
    }

    /// Why the driver aborted on its own, if it did.
    fn abort_reason(&self) -> Option<String> {
        self.driver.driver().abort_reason()
    }

    /// Sends a serialized `TaskStatus` to the scheduler.
    fn send_status_update(&self, status: &[u8]) -> PyResult<i32> {
        self.driver
            .send_status_update(status)
            .map(code)
            .map_err(to_py_err)
    }

    /// Sends `data` to the scheduler.
    fn send_framework_message(&self, data: &[u8]) -> i32 {
        code(self.driver.send_framework_message(data.to_vec()))
    }
}

impl Drop for ExecutorDriver {
    /// A driver nobody can reach any more stops calling back: it aborts.
    fn drop(&mut self) {
        self.driver.driver().abort();
    }
}
