//! `mesos._native.SchedulerDriver`: a [`V0SchedulerDriver`] whose callbacks are methods of
//! a Python object, for `mesos.native.MesosSchedulerDriver`.

use mesos_core::proto::mesos::v1::Status;
use mesos_core::scheduler::{DriverError, SchedulerDriver as Driver};
use mesos_core::v0::{V0Error, V0Scheduler, V0SchedulerDriver};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyInt, PyList, PyString, PyTuple};

use crate::{report_callback_error, to_py_err};

/// Calls the methods of a Python object with the v0 bytes of each callback: the object's
/// methods are named as Apache's `Scheduler` methods, without the driver argument.
struct Callbacks {
    target: Py<PyAny>,
}

/// The arguments of one callback, made once the GIL is held.
type Args<'py> = PyResult<Vec<Bound<'py, PyAny>>>;

impl Callbacks {
    /// Calls `name` on the target with the GIL held; an exception aborts the driver after
    /// its traceback is printed.
    fn call(
        &self,
        driver: &Driver,
        name: &str,
        args: impl for<'py> FnOnce(Python<'py>) -> Args<'py>,
    ) {
        crate::attach(|py| {
            let result = args(py).and_then(|args| {
                let args = PyTuple::new(py, args)?;
                self.target
                    .bind(py)
                    .call_method1(PyString::intern(py, name), args)
            });
            if let Err(error) = result {
                report_callback_error(py, &error, "scheduler", name);
                driver.abort();
            }
        });
    }
}

fn bytes<'py>(py: Python<'py>, data: &[u8]) -> Bound<'py, PyAny> {
    PyBytes::new(py, data).into_any()
}

impl V0Scheduler for Callbacks {
    fn registered(&mut self, driver: &Driver, framework_id: &[u8], master_info: &[u8]) {
        self.call(driver, "registered", |py| {
            Ok(vec![bytes(py, framework_id), bytes(py, master_info)])
        });
    }

    fn reregistered(&mut self, driver: &Driver, master_info: &[u8]) {
        self.call(driver, "reregistered", |py| {
            Ok(vec![bytes(py, master_info)])
        });
    }

    fn disconnected(&mut self, driver: &Driver) {
        self.call(driver, "disconnected", |_| Ok(Vec::new()));
    }

    fn resource_offers(&mut self, driver: &Driver, offers: Vec<Vec<u8>>) {
        self.call(driver, "resourceOffers", |py| {
            let list = PyList::new(py, offers.iter().map(|offer| PyBytes::new(py, offer)))?;
            Ok(vec![list.into_any()])
        });
    }

    fn offer_rescinded(&mut self, driver: &Driver, offer_id: &[u8]) {
        self.call(driver, "offerRescinded", |py| Ok(vec![bytes(py, offer_id)]));
    }

    fn status_update(&mut self, driver: &Driver, status: &[u8]) {
        self.call(driver, "statusUpdate", |py| Ok(vec![bytes(py, status)]));
    }

    fn framework_message(
        &mut self,
        driver: &Driver,
        executor_id: &[u8],
        slave_id: &[u8],
        data: &[u8],
    ) {
        self.call(driver, "frameworkMessage", |py| {
            Ok(vec![
                bytes(py, executor_id),
                bytes(py, slave_id),
                bytes(py, data),
            ])
        });
    }

    fn slave_lost(&mut self, driver: &Driver, slave_id: &[u8]) {
        self.call(driver, "slaveLost", |py| Ok(vec![bytes(py, slave_id)]));
    }

    fn executor_lost(&mut self, driver: &Driver, executor_id: &[u8], slave_id: &[u8], status: i32) {
        self.call(driver, "executorLost", |py| {
            Ok(vec![
                bytes(py, executor_id),
                bytes(py, slave_id),
                PyInt::new(py, status).into_any(),
            ])
        });
    }

    fn error(&mut self, driver: &Driver, message: &str) {
        self.call(driver, "error", |py| {
            Ok(vec![PyString::new(py, message).into_any()])
        });
    }
}

/// The native scheduler driver: every message argument is the bytes of a serialized v0
/// (`mesos_pb2`) message; every method returns the driver's status as an int
/// (`mesos_pb2.DRIVER_RUNNING`, ...).
#[pyclass(module = "mesos._native", name = "SchedulerDriver", frozen)]
pub struct SchedulerDriver {
    driver: V0SchedulerDriver,
}

fn code(status: Status) -> i32 {
    status as i32
}

#[pymethods]
impl SchedulerDriver {
    /// A driver calling the methods of `callbacks` with v0 bytes, for the serialized
    /// `FrameworkInfo` `framework` at `master`. Raises `ValueError` for bytes that do not
    /// decode or a master that cannot be read.
    #[new]
    #[pyo3(signature = (callbacks, framework, master, implicit_acknowledgements, credential=None))]
    fn new(
        callbacks: Py<PyAny>,
        framework: &[u8],
        master: &str,
        implicit_acknowledgements: bool,
        credential: Option<&[u8]>,
    ) -> PyResult<SchedulerDriver> {
        let driver = V0SchedulerDriver::new(
            Callbacks { target: callbacks },
            framework,
            Vec::new(),
            master,
            implicit_acknowledgements,
            credential,
        )
        .map_err(|error| match error {
            V0Error::SchedulerDriver(DriverError::Detector(e)) => {
                PyValueError::new_err(e.to_string())
            }
            other => to_py_err(other),
        })?;
        Ok(SchedulerDriver { driver })
    }

    /// The driver's status now.
    fn status(&self) -> i32 {
        code(self.driver.driver().status())
    }

    /// Starts the driver.
    fn start(&self) -> i32 {
        code(self.driver.driver().start())
    }

    /// Stops the driver; with `failover` the framework stays registered for a new driver.
    fn stop(&self, py: Python<'_>, failover: bool) -> i32 {
        code(py.detach(|| self.driver.driver().stop(failover)))
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

    /// The message of the error that aborted the driver, if one did.
    fn error_message(&self) -> Option<String> {
        self.driver.driver().error_message()
    }

    /// Launches serialized `TaskInfo`s on serialized `OfferID`s.
    #[pyo3(signature = (offer_ids, tasks, filters=None))]
    fn launch_tasks(
        &self,
        offer_ids: Vec<Bound<'_, PyBytes>>,
        tasks: Vec<Bound<'_, PyBytes>>,
        filters: Option<&[u8]>,
    ) -> PyResult<i32> {
        self.driver
            .launch_tasks(&all(&offer_ids), &all(&tasks), filters)
            .map(code)
            .map_err(to_py_err)
    }

    /// Accepts serialized `OfferID`s with serialized `Offer.Operation`s.
    #[pyo3(signature = (offer_ids, operations, filters=None))]
    fn accept_offers(
        &self,
        offer_ids: Vec<Bound<'_, PyBytes>>,
        operations: Vec<Bound<'_, PyBytes>>,
        filters: Option<&[u8]>,
    ) -> PyResult<i32> {
        self.driver
            .accept_offers(&all(&offer_ids), &all(&operations), filters)
            .map(code)
            .map_err(to_py_err)
    }

    /// Declines a serialized `OfferID`.
    #[pyo3(signature = (offer_id, filters=None))]
    fn decline_offer(&self, offer_id: &[u8], filters: Option<&[u8]>) -> PyResult<i32> {
        self.driver
            .decline_offer(offer_id, filters)
            .map(code)
            .map_err(to_py_err)
    }

    /// Kills the task of a serialized `TaskID`.
    fn kill_task(&self, task_id: &[u8]) -> PyResult<i32> {
        self.driver.kill_task(task_id).map(code).map_err(to_py_err)
    }

    /// Resumes offers for `roles` (every role of the framework when empty).
    fn revive_offers(&self, roles: Vec<String>) -> i32 {
        code(self.driver.driver().revive_offers(&roles))
    }

    /// Stops offers for `roles` (every role of the framework when empty).
    fn suppress_offers(&self, roles: Vec<String>) -> i32 {
        code(self.driver.driver().suppress_offers(&roles))
    }

    /// Acknowledges a serialized `TaskStatus`.
    fn acknowledge_status_update(&self, status: &[u8]) -> PyResult<i32> {
        self.driver
            .acknowledge_status_update(status)
            .map(code)
            .map_err(to_py_err)
    }

    /// Sends `data` to the executor of a serialized `ExecutorID` on a serialized `SlaveID`.
    fn send_framework_message(
        &self,
        executor_id: &[u8],
        slave_id: &[u8],
        data: &[u8],
    ) -> PyResult<i32> {
        self.driver
            .send_framework_message(executor_id, slave_id, data.to_vec())
            .map(code)
            .map_err(to_py_err)
    }

    /// Reconciles the tasks of serialized `TaskStatus`es (every task when empty).
    fn reconcile_tasks(&self, statuses: Vec<Bound<'_, PyBytes>>) -> PyResult<i32> {
        self.driver
            .reconcile_tasks(&all(&statuses))
            .map(code)
            .map_err(to_py_err)
    }

    /// Asks for resources with serialized `Request`s.
    fn request_resources(&self, requests: Vec<Bound<'_, PyBytes>>) -> PyResult<i32> {
        self.driver
            .request_resources(&all(&requests))
            .map(code)
            .map_err(to_py_err)
    }

    /// Replaces the framework's serialized `FrameworkInfo` and its suppressed roles.
    fn update_framework(&self, framework: &[u8], suppressed_roles: Vec<String>) -> PyResult<i32> {
        self.driver
            .update_framework(framework, suppressed_roles, None)
            .map(code)
            .map_err(to_py_err)
    }
}

/// The contents of Python `bytes` objects.
fn all<'a>(items: &'a [Bound<'_, PyBytes>]) -> Vec<&'a [u8]> {
    items.iter().map(|item| item.as_bytes()).collect()
}

impl Drop for SchedulerDriver {
    /// A driver nobody can reach any more stops calling back: it aborts (the framework is
    /// left to fail over, as after a crash).
    fn drop(&mut self) {
        self.driver.driver().abort();
    }
}
