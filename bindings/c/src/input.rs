//! Reading the caller's arguments: buffers, arrays of buffers and strings, each checked
//! (NULL, UTF-8, protobuf) before anything is done with them.

use std::ffi::{c_char, CStr};

use crate::error::{Failure, MesosStatus};

/// A byte buffer: `len` bytes at `data`. As an argument it is only read, during the call;
/// the caller keeps ownership. Given to a callback it is valid only until the callback
/// returns; copy what you need to keep. `data` may be NULL when `len` is 0.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct MesosBuffer {
    /// The first byte.
    pub data: *const u8,
    /// How many bytes.
    pub len: usize,
}

impl MesosBuffer {
    /// A buffer over `bytes`, valid while they are.
    pub(crate) fn of(bytes: &[u8]) -> MesosBuffer {
        MesosBuffer {
            data: bytes.as_ptr(),
            len: bytes.len(),
        }
    }

    /// The bytes of the buffer, checked for NULL.
    ///
    /// # Safety
    /// `data` must point to `len` readable bytes that outlive `'a`.
    pub(crate) unsafe fn bytes<'a>(self, what: &str) -> Result<&'a [u8], Failure> {
        if self.len == 0 {
            return Ok(&[]);
        }
        if self.data.is_null() {
            return Err(null(&format!("{what}.data (with {} bytes)", self.len)));
        }
        // SAFETY: non-NULL, and the caller promises `len` readable bytes.
        Ok(unsafe { std::slice::from_raw_parts(self.data, self.len) })
    }

    /// The buffer decoded as a `T`, with the same checks as the master makes (well-formed,
    /// required fields present).
    ///
    /// # Safety
    /// As for [`bytes`](Self::bytes).
    pub(crate) unsafe fn decode<T>(self, what: &str) -> Result<T, Failure>
    where
        T: prost::Message + prost::Name + Default,
    {
        // SAFETY: passed on to the caller.
        let bytes = unsafe { self.bytes(what) }?;
        mesos_core::protobuf::decode(bytes).map_err(|e| {
            Failure::new(
                MesosStatus::MesosErrorInvalidProtobuf,
                format!("{what} is not a valid {}: {e}", T::full_name()),
            )
        })
    }
}

/// The refusal of a NULL `what`.
pub(crate) fn null(what: &str) -> Failure {
    Failure::new(
        MesosStatus::MesosErrorNullPointer,
        format!("{what} is NULL"),
    )
}

/// The driver behind a handle, refusing NULL.
///
/// # Safety
/// `driver` must be NULL or a handle from its `..._create` function not yet destroyed.
pub(crate) unsafe fn live<'a, T>(driver: *mut T) -> Result<&'a T, Failure> {
    // SAFETY: the caller promises a live handle when not NULL.
    unsafe { driver.as_ref() }.ok_or_else(|| null("driver"))
}

/// The `count` buffers at `items`, each decoded as a `T`.
///
/// # Safety
/// `items` must point to `count` buffers, each valid as for [`MesosBuffer::bytes`].
pub(crate) unsafe fn decode_all<T>(
    items: *const MesosBuffer,
    count: usize,
    what: &str,
) -> Result<Vec<T>, Failure>
where
    T: prost::Message + prost::Name + Default,
{
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(null(&format!("{what} (with {count} items)")));
    }
    // SAFETY: non-NULL, and the caller promises `count` buffers.
    let items = unsafe { std::slice::from_raw_parts(items, count) };
    items
        .iter()
        .enumerate()
        // SAFETY: the caller promises each buffer is valid.
        .map(|(i, item)| unsafe { item.decode(&format!("{what}[{i}]")) })
        .collect()
}

/// An optional message: none when `item` is NULL.
///
/// # Safety
/// `item` must be NULL or point to a buffer valid as for [`MesosBuffer::bytes`].
pub(crate) unsafe fn decode_optional<T>(
    item: *const MesosBuffer,
    what: &str,
) -> Result<Option<T>, Failure>
where
    T: prost::Message + prost::Name + Default,
{
    // SAFETY: the caller promises a valid buffer when not NULL.
    match unsafe { item.as_ref() } {
        None => Ok(None),
        Some(item) => unsafe { item.decode(what) }.map(Some),
    }
}

/// A NUL-terminated UTF-8 string.
///
/// # Safety
/// `text` must be NULL or point to a NUL-terminated string that outlives `'a`.
pub(crate) unsafe fn string<'a>(text: *const c_char, what: &str) -> Result<&'a str, Failure> {
    if text.is_null() {
        return Err(null(what));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string.
    unsafe { CStr::from_ptr(text) }.to_str().map_err(|e| {
        Failure::new(
            MesosStatus::MesosErrorInvalidUtf8,
            format!("{what} is not valid UTF-8: {e}"),
        )
    })
}

/// The `count` strings at `items`.
///
/// # Safety
/// `items` must point to `count` pointers, each valid as for [`string`].
pub(crate) unsafe fn strings(
    items: *const *const c_char,
    count: usize,
    what: &str,
) -> Result<Vec<String>, Failure> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if items.is_null() {
        return Err(null(&format!("{what} (with {count} items)")));
    }
    // SAFETY: non-NULL, and the caller promises `count` pointers.
    let items = unsafe { std::slice::from_raw_parts(items, count) };
    items
        .iter()
        .enumerate()
        // SAFETY: the caller promises each string is valid.
        .map(|(i, item)| unsafe { string(*item, &format!("{what}[{i}]")) }.map(str::to_string))
        .collect()
}
