//! What the scheduler and executor adapters share: the caller's `user_data`, and the gate
//! through which every callback reaches the C code.

use std::ffi::{c_void, CString};
use std::sync::{Arc, Mutex};

use crate::error::in_callback;

/// The `user_data` pointer given at create, handed back to every callback. libmesos never
/// dereferences it; the caller promised it may be used from the callback thread.
#[derive(Clone, Copy)]
pub(crate) struct UserData(pub(crate) *mut c_void);

// SAFETY: only passed back to the caller's callbacks, which the header documents to run on
// a libmesos thread.
unsafe impl Send for UserData {}

/// The handle callbacks are given, or NULL once the handle is destroyed. Every callback
/// holds the lock while it runs, so destroy (which clears it under the lock) never frees a
/// handle a callback is still using, and no callback starts after it.
pub(crate) struct Gate<H>(Arc<Mutex<HandlePtr<H>>>);

struct HandlePtr<H>(*mut H);

// SAFETY: the pointer is only dereferenced by the caller's C code, during a callback,
// while the gate's lock guarantees the handle is alive.
unsafe impl<H> Send for HandlePtr<H> {}

impl<H> Clone for Gate<H> {
    fn clone(&self) -> Gate<H> {
        Gate(self.0.clone())
    }
}

impl<H> Gate<H> {
    /// A closed gate: no handle yet.
    pub(crate) fn new() -> Gate<H> {
        Gate(Arc::new(Mutex::new(HandlePtr(std::ptr::null_mut()))))
    }

    /// Gives callbacks `handle` (NULL closes the gate for good), once no callback runs.
    pub(crate) fn set(&self, handle: *mut H) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).0 = handle;
    }

    /// Runs `callback` with the handle, marked as a callback on this thread; does nothing
    /// once the handle is destroyed.
    pub(crate) fn call(&self, callback: impl FnOnce(*mut H)) {
        let handle = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if handle.0.is_null() {
            return;
        }
        in_callback(|| callback(handle.0));
    }
}

/// `text` as a C string for a callback (a NUL inside is shown as `\0`).
pub(crate) fn c_string(text: &str) -> CString {
    CString::new(text.replace('\0', "\\0")).unwrap_or_default()
}
