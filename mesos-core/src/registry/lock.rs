//! The exclusive lock that keeps two registries (two masters) off one directory.
//!
//! `flock(LOCK_EX | LOCK_NB)` on `<dir>/lock`: the kernel drops it when the holder exits,
//! however it dies, so a crash leaves no stale lock behind. The lock belongs to the open
//! file, so a second [`DirLock`] in the same process conflicts too.
//!
//! A process that forks (to exec a child) shares the open file, and so the lock, with the
//! child until the exec closes it (the descriptor is close-on-exec). Lock attempts are
//! therefore retried for a short while before the lock is reported held, so that a
//! registry reopened in a process that also spawns children is not refused spuriously.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use super::RegistryError;

/// How many times a held lock is retried, [`LOCK_RETRY_DELAY`] apart.
const LOCK_RETRIES: u32 = 20;
/// The pause between lock attempts.
const LOCK_RETRY_DELAY: Duration = Duration::from_millis(10);

/// Holds the lock until dropped.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

impl DirLock {
    /// Takes the lock of `dir`, failing with [`RegistryError::Locked`] if it is held.
    pub(crate) fn acquire(dir: &Path) -> Result<DirLock, RegistryError> {
        let path = dir.join("lock");
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|source| RegistryError::Io {
                action: "open",
                path: path.clone(),
                source,
            })?;
        for attempt in 0..=LOCK_RETRIES {
            // SAFETY: flock on a file descriptor we own; no memory is involved.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
            if rc == 0 {
                return Ok(DirLock { _file: file });
            }
            let source = std::io::Error::last_os_error();
            if source.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(RegistryError::Io {
                    action: "flock",
                    path,
                    source,
                });
            }
            if attempt < LOCK_RETRIES {
                std::thread::sleep(LOCK_RETRY_DELAY);
            }
        }
        Err(RegistryError::Locked { path })
    }
}
