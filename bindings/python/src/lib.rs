//! The native module `mesos._native` of the `mesos` Python package.
//!
//! It is the thin layer between Python and `mesos-core`'s v0 driver layer
//! ([`mesos_core::v0`]): every message crosses as the bytes of its serialized protobuf, which
//! the pure-Python package (`bindings/python/python/mesos`) turns into `mesos_pb2` objects
//! and back. The classes here are private to that package:
//! - [`scheduler::SchedulerDriver`] and [`executor::ExecutorDriver`] back
//!   `mesos.native.MesosSchedulerDriver` and `mesos.native.MesosExecutorDriver`;
//! - [`session::Session`] backs the asyncio client `mesos.v1.aio`;
//! - [`file_descriptor`] gives the schemas the package builds its protobuf classes from.
//!
//! Threading: the drivers call into Python from their callback threads, holding the GIL
//! only for the call; the methods that wait (`join`, `run`, `stop`) release it.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use prost::Message;
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

mod executor;
mod scheduler;
mod session;

/// The serialized `FileDescriptorProto` of the schema file `name` (e.g.
/// `"mesos/mesos.proto"`), from the schemas compiled into `mesos-core`.
#[pyfunction]
fn file_descriptor<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyBytes>> {
    let set = prost_types::FileDescriptorSet::decode(mesos_core::proto::FILE_DESCRIPTOR_SET)
        .map_err(|e| PyValueError::new_err(format!("corrupt descriptor set: {e}")))?;
    let file = set
        .file
        .iter()
        .find(|file| file.name() == name)
        .ok_or_else(|| PyKeyError::new_err(format!("no schema file named {name:?}")))?;
    Ok(PyBytes::new(py, &file.encode_to_vec()))
}

/// Turns an error of the v0 layer into the Python exception for it: bytes that do not
/// decode are a `ValueError`, a driver that cannot be made a `RuntimeError`.
fn to_py_err(error: mesos_core::v0::V0Error) -> PyErr {
    match error {
        mesos_core::v0::V0Error::Decode { .. } => PyValueError::new_err(error.to_string()),
        _ => pyo3::exceptions::PyRuntimeError::new_err(error.to_string()),
    }
}

/// Prints the traceback of an exception a callback raised, saying which one and that the
/// driver aborts because of it.
fn report_callback_error(py: Python<'_>, error: &PyErr, kind: &str, callback: &str) {
    eprintln!("Exception in {kind} callback {callback}; aborting the driver:");
    error.display(py);
}

thread_local! {
    /// Whether this thread has a Python thread state of its own (see [`attach`]).
    static HAS_THREAD_STATE: Cell<bool> = const { Cell::new(false) };
}

/// Set (by [`finalize`]) once the interpreter is exiting: no callback reaches Python after.
static FINALIZING: AtomicBool = AtomicBool::new(false);

/// Runs `f` with the GIL, from a thread of the drivers' (never one running Python code);
/// None, without touching Python, once the interpreter is exiting.
///
/// `Python::attach` on a thread Python does not know makes a Python thread state and
/// deletes it again when it returns: most of the cost of a callback. So the first call on
/// a thread makes one that lives as long as the thread, and later calls only take and
/// release the GIL.
fn attach<R>(f: impl for<'py> FnOnce(Python<'py>) -> R) -> Option<R> {
    if FINALIZING.load(Ordering::Acquire) {
        return None;
    }
    if !HAS_THREAD_STATE.get() {
        HAS_THREAD_STATE.set(true);
        // SAFETY: this thread does not hold the GIL (it is a driver thread, outside any
        // `attach`); `PyGILState_Ensure` takes it with a new thread state, never released,
        // and `PyEval_SaveThread` gives the GIL back, keeping the thread state for later.
        unsafe {
            pyo3::ffi::PyGILState_Ensure();
            pyo3::ffi::PyEval_SaveThread();
        }
    }
    Python::attach(|py| (!FINALIZING.load(Ordering::Acquire)).then(|| f(py)))
}

/// Called at interpreter exit (by `mesos._lifecycle`, after the drivers were aborted):
/// from now on callbacks are dropped instead of calling Python. The GIL is let go for a
/// moment so that a driver thread already waiting for it sees the flag and leaves, rather
/// than waking up in a finalized interpreter.
#[pyfunction]
fn finalize(py: Python<'_>) {
    FINALIZING.store(true, Ordering::Release);
    py.detach(|| std::thread::sleep(Duration::from_millis(20)));
}

/// The module `mesos._native`.
#[pymodule]
fn _native(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("MESOS_WIRE_VERSION", mesos_core::MESOS_WIRE_VERSION)?;
    module.add_function(wrap_pyfunction!(file_descriptor, module)?)?;
    module.add_function(wrap_pyfunction!(finalize, module)?)?;
    module.add_class::<scheduler::SchedulerDriver>()?;
    module.add_class::<executor::ExecutorDriver>()?;
    module.add_class::<session::Session>()?;
    Ok(())
}
