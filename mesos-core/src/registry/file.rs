//! The embedded file store: the default registry, under `<work_dir>/registry/`.
//!
//! Files in the directory:
//!
//! - `lock`: held with `flock` by the open registry (see `lock.rs`).
//! - `snapshot`: the magic `MREGSNP1`, then one record (see `frame.rs`) whose payload is a
//!   `mesos.internal.Registry`, including `last_sequence`, the last log record folded in.
//!   Absent until the first compaction. Only ever replaced by rename.
//! - `log`: the magic `MREGLOG1`, then records whose payloads are
//!   `mesos.internal.RegistryLogRecord`s (a sequence number and a batch of operations).
//!   Sequence numbers rise by one from record to record; records at or below the
//!   snapshot's `last_sequence` are already in the snapshot and are skipped.
//!
//! Every append is fsynced before `apply` returns. When the log outgrows
//! [`FileRegistryOptions::compact_after_bytes`], the next `apply` first writes a new
//! snapshot (temp file, fsync, rename, fsync directory) and then starts an empty log the
//! same way; a crash between the two leaves an old log whose records the snapshot already
//! holds, which recovery skips.
//!
//! Recovery loads the snapshot and replays the log. A torn record at the end of the log (a
//! crash in the middle of an append) is cut off and the state before it recovered; any
//! other damage is a [`RegistryError::Corrupt`] naming the file and offset.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use prost::Message;

use super::lock::DirLock;
use super::{apply_batch, operation, Operation, Registry, RegistryError, RegistryState};
use crate::durable_fs;
use crate::frame::{self, Frame};
use crate::proto::mesos::internal::{Registry as RegistryProto, RegistryLogRecord};

const SNAPSHOT_MAGIC: &[u8; 8] = b"MREGSNP1";
const LOG_MAGIC: &[u8; 8] = b"MREGLOG1";
const SNAPSHOT: &str = "snapshot";
const LOG: &str = "log";

/// Tuning of a [`FileRegistry`].
#[derive(Debug, Clone)]
pub struct FileRegistryOptions {
    /// Compact (snapshot the state, start an empty log) once the log is larger than this.
    pub compact_after_bytes: u64,
}

impl Default for FileRegistryOptions {
    fn default() -> Self {
        FileRegistryOptions {
            compact_after_bytes: 4 << 20,
        }
    }
}

/// A [`Registry`] stored in a directory: a snapshot plus an append-only log.
#[derive(Debug)]
pub struct FileRegistry {
    dir: PathBuf,
    options: FileRegistryOptions,
    _lock: DirLock,
    open: Option<OpenLog>,
    failed: bool,
}

/// The recovered state and the log being appended to.
#[derive(Debug)]
struct OpenLog {
    state: RegistryState,
    file: File,
    len: u64,
    last_sequence: u64,
}

impl FileRegistry {
    /// The registry directory of a master's work dir: `<work_dir>/registry`.
    pub fn dir_in(work_dir: &Path) -> PathBuf {
        work_dir.join("registry")
    }

    /// Opens (creating if needed) the registry in `dir` and takes its lock; fails with
    /// [`RegistryError::Locked`] if another registry holds it. Reads nothing yet: call
    /// [`Registry::recover`].
    pub fn open(dir: impl Into<PathBuf>) -> Result<FileRegistry, RegistryError> {
        FileRegistry::open_with(dir, FileRegistryOptions::default())
    }

    /// [`FileRegistry::open`] with the given options.
    pub fn open_with(
        dir: impl Into<PathBuf>,
        options: FileRegistryOptions,
    ) -> Result<FileRegistry, RegistryError> {
        let dir = dir.into();
        durable_fs::create_dirs(&dir).map_err(io("create directory", &dir))?;
        let lock = DirLock::acquire(&dir)?;
        Ok(FileRegistry {
            dir,
            options,
            _lock: lock,
            open: None,
            failed: false,
        })
    }

    /// The registry directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The current size of the log file in bytes (0 before recovery).
    pub fn log_len(&self) -> u64 {
        self.open.as_ref().map_or(0, |open| open.len)
    }

    /// Writes a snapshot of the current state and starts an empty log now.
    pub fn compact(&mut self) -> Result<(), RegistryError> {
        if self.failed {
            return Err(RegistryError::Failed);
        }
        let dir = self.dir.clone();
        let open = self.open.as_mut().ok_or(RegistryError::NotRecovered)?;
        let result = compact(&dir, open);
        if result.is_err() {
            self.failed = true;
        }
        result
    }
}

impl Registry for FileRegistry {
    fn recover(&mut self) -> Result<RegistryState, RegistryError> {
        if self.failed {
            return Err(RegistryError::Failed);
        }
        if let Some(open) = &self.open {
            return Ok(open.state.clone());
        }
        let open = recover(&self.dir)?;
        let state = open.state.clone();
        self.open = Some(open);
        Ok(state)
    }

    fn apply(&mut self, operations: Vec<Operation>) -> Result<&RegistryState, RegistryError> {
        if self.failed {
            return Err(RegistryError::Failed);
        }
        let open = self.open.as_mut().ok_or(RegistryError::NotRecovered)?;
        if operations.is_empty() {
            return Ok(&open.state);
        }
        if open.len > self.options.compact_after_bytes {
            if let Err(error) = compact(&self.dir, open) {
                self.failed = true;
                return Err(error);
            }
        }
        let path = self.dir.join(LOG);
        let OpenLog {
            state,
            file,
            len,
            last_sequence,
        } = open;
        let mut failed = false;
        let result = apply_batch(state, &operations, || {
            let record = RegistryLogRecord {
                sequence: *last_sequence + 1,
                operations: operations.iter().map(Operation::to_proto).collect(),
            };
            let bytes = frame::encode(&record.encode_to_vec());
            let written = file
                .write_all(&bytes)
                .map_err(io("append to", &path))
                .and_then(|()| file.sync_data().map_err(io("fsync", &path)));
            if written.is_err() {
                // Whether any of it reached the disk is unknown: only recovery can tell.
                failed = true;
                let _ = file.set_len(*len);
            } else {
                *len += bytes.len() as u64;
                *last_sequence += 1;
            }
            written
        });
        self.failed = failed;
        result.map(|()| &open.state)
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> RegistryError {
    let path = path.to_path_buf();
    move |source| RegistryError::Io {
        action,
        path,
        source,
    }
}

fn corrupt(path: &Path, offset: u64, reason: impl Into<String>) -> RegistryError {
    RegistryError::Corrupt {
        path: path.to_path_buf(),
        offset,
        reason: reason.into(),
    }
}

/// Reads a whole file, or `None` if it does not exist.
fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, RegistryError> {
    durable_fs::read_if_exists(path).map_err(io("read", path))
}

/// Writes `contents` to `<dir>/<name>` atomically and durably.
fn replace_file(dir: &Path, name: &str, contents: &[u8]) -> Result<(), RegistryError> {
    let path = dir.join(name);
    durable_fs::replace_file(&path, contents).map_err(io("replace", &path))
}

fn open_log_for_append(path: &Path) -> Result<File, RegistryError> {
    OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(io("open", path))
}

fn load_snapshot(path: &Path) -> Result<(RegistryState, u64), RegistryError> {
    let Some(bytes) = read_if_exists(path)? else {
        return Ok((RegistryState::default(), 0));
    };
    if bytes.len() < SNAPSHOT_MAGIC.len() || &bytes[..SNAPSHOT_MAGIC.len()] != SNAPSHOT_MAGIC {
        return Err(corrupt(path, 0, "not a registry snapshot (bad magic)"));
    }
    let offset = SNAPSHOT_MAGIC.len();
    let payload = match frame::decode(&bytes[offset..]) {
        Frame::Record(payload, used) if offset + used == bytes.len() => payload,
        Frame::Record(_, used) => {
            return Err(corrupt(
                path,
                (offset + used) as u64,
                "unexpected bytes after the snapshot record",
            ))
        }
        Frame::Torn(reason) | Frame::Corrupt(reason) => {
            return Err(corrupt(path, offset as u64, reason))
        }
    };
    let registry = crate::protobuf::decode::<RegistryProto>(payload)
        .map_err(|e| corrupt(path, offset as u64, e.to_string()))?;
    RegistryState::from_proto(registry).map_err(|reason| corrupt(path, offset as u64, reason))
}

fn recover(dir: &Path) -> Result<OpenLog, RegistryError> {
    let (mut state, snapshot_sequence) = load_snapshot(&dir.join(SNAPSHOT))?;
    let path = dir.join(LOG);
    let Some(bytes) = read_if_exists(&path)? else {
        replace_file(dir, LOG, LOG_MAGIC)?;
        return Ok(OpenLog {
            state,
            file: open_log_for_append(&path)?,
            len: LOG_MAGIC.len() as u64,
            last_sequence: snapshot_sequence,
        });
    };
    if bytes.len() < LOG_MAGIC.len() || &bytes[..LOG_MAGIC.len()] != LOG_MAGIC {
        return Err(corrupt(&path, 0, "not a registry log (bad magic)"));
    }
    let mut offset = LOG_MAGIC.len();
    let mut last_sequence = snapshot_sequence;
    let mut previous: Option<u64> = None;
    let mut torn = false;
    while offset < bytes.len() {
        let at = offset as u64;
        let payload = match frame::decode(&bytes[offset..]) {
            Frame::Record(payload, used) => {
                offset += used;
                payload
            }
            Frame::Torn(_) => {
                torn = true;
                break;
            }
            Frame::Corrupt(reason) => return Err(corrupt(&path, at, reason)),
        };
        let record = crate::protobuf::decode::<RegistryLogRecord>(payload)
            .map_err(|e| corrupt(&path, at, e.to_string()))?;
        if previous.is_some_and(|p| record.sequence != p + 1) {
            return Err(corrupt(
                &path,
                at,
                format!(
                    "record sequence {} follows {}",
                    record.sequence,
                    previous.unwrap_or(0)
                ),
            ));
        }
        previous = Some(record.sequence);
        if record.sequence <= snapshot_sequence {
            continue; // Already in the snapshot (a crash in the middle of a compaction).
        }
        if record.sequence != last_sequence + 1 {
            return Err(corrupt(
                &path,
                at,
                format!(
                    "record sequence {} does not follow the snapshot's {}",
                    record.sequence, last_sequence
                ),
            ));
        }
        let operations = record
            .operations
            .into_iter()
            .map(Operation::from_proto)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(&path, at, e.to_string()))?;
        // In place, without copying the state: on an error the state is dropped anyway.
        for (index, op) in operations.iter().enumerate() {
            operation::apply(&mut state, op).map_err(|error| {
                corrupt(
                    &path,
                    at,
                    format!("logged operation {index} does not apply: {error}"),
                )
            })?;
        }
        last_sequence = record.sequence;
    }
    let file = open_log_for_append(&path)?;
    if torn {
        // A crash cut the last append short; it was never acknowledged. Cut it off.
        file.set_len(offset as u64)
            .map_err(io("truncate torn tail of", &path))?;
        file.sync_all().map_err(io("fsync", &path))?;
    }
    Ok(OpenLog {
        state,
        file,
        len: offset as u64,
        last_sequence,
    })
}

fn compact(dir: &Path, open: &mut OpenLog) -> Result<(), RegistryError> {
    let payload = open.state.to_proto(open.last_sequence).encode_to_vec();
    let mut snapshot = SNAPSHOT_MAGIC.to_vec();
    snapshot.extend(frame::encode(&payload));
    replace_file(dir, SNAPSHOT, &snapshot)?;
    replace_file(dir, LOG, LOG_MAGIC)?;
    let path = dir.join(LOG);
    open.file = open_log_for_append(&path)?;
    open.len = LOG_MAGIC.len() as u64;
    Ok(())
}
