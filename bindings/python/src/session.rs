//! `mesos._native.Session`: the async v1 scheduler client ([`mesos_core::scheduler::Session`])
//! for `mesos.v1.aio`, which bridges it to asyncio.
//!
//! The session runs on its own tokio runtime. Its events are handed, one at a time and in
//! order, to a Python callable from a thread of the session's (with the GIL held for the
//! call only); the asyncio side moves them onto its loop. A call's outcome is handed to
//! the callable given with it, the same way.

use mesos_core::proto::mesos::v1::scheduler::Call;
use mesos_core::proto::mesos::v1::FrameworkInfo;
use mesos_core::scheduler::{detector_for, SessionConfig, SessionEvent};
use prost::Message;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A subscription of a framework over the v1 scheduler API. Event kinds handed to
/// `on_event(kind, payload)`: `"connected"` (the leader's address), `"event"` (a
/// serialized `mesos.v1.scheduler.Event`), `"disconnected"` (the reason), `"error"` (the
/// reason the session ended) and, last, `"closed"` (None).
#[pyclass(module = "mesos._native", name = "Session", frozen)]
pub struct Session {
    session: mesos_core::scheduler::Session,
    runtime: Option<tokio::runtime::Runtime>,
}

#[pymethods]
impl Session {
    /// Subscribes the serialized `mesos.v1.FrameworkInfo` `framework` at `master`, with
    /// `suppressed_roles` suppressed from the start; events go to `on_event`.
    #[new]
    fn new(
        framework: &[u8],
        master: &str,
        suppressed_roles: Vec<String>,
        on_event: Py<PyAny>,
    ) -> PyResult<Session> {
        let framework = FrameworkInfo::decode(framework)
            .map_err(|e| PyValueError::new_err(format!("invalid mesos.v1.FrameworkInfo: {e}")))?;
        let detector = detector_for(master).map_err(|e| PyValueError::new_err(e.to_string()))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("mesos-aio-session")
            .enable_all()
            .build()
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a runtime: {e}")))?;
        let mut config = SessionConfig::new(framework);
        config.suppressed_roles = suppressed_roles;
        let (session, mut events) = {
            let _entered = runtime.enter();
            mesos_core::scheduler::Session::start(detector, config)
        };
        let spawned = std::thread::Builder::new()
            .name("mesos-aio-events".into())
            .spawn(move || {
                while let Some(event) = events.blocking_recv() {
                    deliver(&on_event, event);
                }
                crate::attach(|py| {
                    if let Err(error) = on_event.call1(py, ("closed", py.None())) {
                        error.display(py);
                    }
                });
            });
        if let Err(e) = spawned {
            session.close();
            return Err(PyRuntimeError::new_err(format!(
                "cannot start the event thread: {e}"
            )));
        }
        Ok(Session {
            session,
            runtime: Some(runtime),
        })
    }

    /// Sends the serialized `mesos.v1.scheduler.Call` `call` (its framework id is filled
    /// in); `on_done(error)` is called with None once the master took it, or with the
    /// reason it did not.
    fn call(&self, call: &[u8], on_done: Py<PyAny>) -> PyResult<()> {
        let call = Call::decode(call)
            .map_err(|e| PyValueError::new_err(format!("invalid mesos.v1.scheduler.Call: {e}")))?;
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| PyRuntimeError::new_err("the session is gone"))?;
        let session = self.session.clone();
        runtime.spawn(async move {
            let outcome = session.call(call).await.err().map(|e| e.to_string());
            // Python is called off the runtime's only worker, which must keep serving IO.
            let _ = tokio::task::spawn_blocking(move || {
                crate::attach(|py| {
                    if let Err(error) = on_done.call1(py, (outcome,)) {
                        error.display(py);
                    }
                })
            })
            .await;
        });
        Ok(())
    }

    /// The serialized `mesos.v1.FrameworkID` the master gave, once it has.
    fn framework_id<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyBytes>> {
        self.session
            .framework_id()
            .map(|id| PyBytes::new(py, &id.encode_to_vec()))
    }

    /// Ends the subscription (the framework stays registered for its failover timeout).
    fn close(&self) {
        self.session.close();
    }
}

/// Hands one session event to Python.
fn deliver(on_event: &Py<PyAny>, event: SessionEvent) {
    crate::attach(|py| {
        let result = match event {
            SessionEvent::Connected { leader } => on_event.call1(py, ("connected", leader)),
            SessionEvent::Event(event) => {
                on_event.call1(py, ("event", PyBytes::new(py, &event.encode_to_vec())))
            }
            SessionEvent::Disconnected { reason } => on_event.call1(py, ("disconnected", reason)),
            SessionEvent::Error { message } => on_event.call1(py, ("error", message)),
        };
        if let Err(error) = result {
            error.display(py);
        }
    });
}

impl Drop for Session {
    /// Ends the subscription and lets the runtime go without waiting for its threads.
    fn drop(&mut self) {
        self.session.close();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}
