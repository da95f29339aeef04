//! The checkpoint of one status update stream: an append-only, CRC-framed, fsynced log.
//!
//! File layout: the [`MAGIC`] line, then records framed as in the registry log
//! (`length: u32 LE | crc32(length bytes): u32 LE | crc32(payload): u32 LE | payload`).
//! A payload is one kind byte and a body:
//!
//! - `1` UPDATE: the full `mesos.v1.TaskStatus`, protobuf-encoded;
//! - `2` ACK: the 16 bytes of the acknowledged update's uuid.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use prost::Message;

use super::stream::{Accepted, StreamState, UpdateUuid};
use super::StatusUpdateError;
use crate::durable_fs::{self, parent_of};
use crate::frame::{self, Frame};
use crate::proto::mesos::v1::{TaskId, TaskStatus};

/// The first bytes of every status update log.
pub const MAGIC: &[u8] = b"MESOS-RS TASK STATUS UPDATES v1\n";

const KIND_UPDATE: u8 = 1;
const KIND_ACK: u8 = 2;

/// One record of the log.
pub(super) enum Record<'a> {
    /// An update was received.
    Update(&'a TaskStatus),
    /// The update with this uuid was acknowledged.
    Ack(UpdateUuid),
}

impl Record<'_> {
    fn frame(&self, path: &Path) -> Result<Vec<u8>, StatusUpdateError> {
        let payload = match self {
            Record::Update(status) => {
                let mut payload = Vec::with_capacity(1 + status.encoded_len());
                payload.push(KIND_UPDATE);
                status.encode_raw(&mut payload);
                payload
            }
            Record::Ack(uuid) => {
                let mut payload = vec![KIND_ACK];
                payload.extend_from_slice(uuid.as_bytes());
                payload
            }
        };
        if u32::try_from(payload.len()).is_err() {
            return Err(StatusUpdateError::TooLarge {
                path: path.to_path_buf(),
                len: payload.len(),
            });
        }
        Ok(frame::encode(&payload))
    }
}

/// An open stream log, positioned for appending.
#[derive(Debug)]
pub(super) struct StreamLog {
    path: PathBuf,
    file: File,
    len: u64,
    failed: bool,
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StatusUpdateError {
    let path = path.to_path_buf();
    move |source| StatusUpdateError::Io {
        action,
        path,
        source,
    }
}

fn corrupt(path: &Path, offset: usize, reason: impl Into<String>) -> StatusUpdateError {
    StatusUpdateError::Corrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason: reason.into(),
    }
}

fn sync_dir(dir: &Path) -> Result<(), StatusUpdateError> {
    durable_fs::sync_dir(dir).map_err(io("fsync directory", dir))
}

fn create_dirs(dir: &Path) -> Result<(), StatusUpdateError> {
    durable_fs::create_dirs(dir).map_err(io("create directory", dir))
}

fn read_if_exists(path: &Path) -> Result<Option<Vec<u8>>, StatusUpdateError> {
    durable_fs::read_if_exists(path).map_err(io("read", path))
}

/// Whether `bytes` hold no record: empty, or a magic line cut short, or the magic alone.
fn holds_no_record(bytes: &[u8]) -> bool {
    bytes.len() <= MAGIC.len() && MAGIC.starts_with(bytes)
}

impl StreamLog {
    /// Creates the log of a new stream at `path` holding `first`, durably (file and
    /// directories fsynced). Refuses to overwrite a log that holds records.
    pub(super) fn create(path: &Path, first: Record<'_>) -> Result<StreamLog, StatusUpdateError> {
        if let Some(bytes) = read_if_exists(path)? {
            if !holds_no_record(&bytes) {
                return Err(StatusUpdateError::AlreadyExists {
                    path: path.to_path_buf(),
                });
            }
        }
        let dir = parent_of(path);
        create_dirs(dir)?;
        let mut bytes = MAGIC.to_vec();
        bytes.extend(first.frame(path)?);
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(io("create", path))?;
        file.set_len(0).map_err(io("truncate", path))?;
        file.write_all(&bytes).map_err(io("write", path))?;
        file.sync_all().map_err(io("fsync", path))?;
        sync_dir(dir)?;
        Ok(StreamLog {
            path: path.to_path_buf(),
            file,
            len: bytes.len() as u64,
            failed: false,
        })
    }

    /// Appends `record` and fsyncs it. After a failed write the log refuses further
    /// appends: what reached the disk is unknown until the stream is recovered.
    pub(super) fn append(&mut self, record: Record<'_>) -> Result<(), StatusUpdateError> {
        if self.failed {
            return Err(StatusUpdateError::Failed {
                path: self.path.clone(),
            });
        }
        let bytes = record.frame(&self.path)?;
        let written = self
            .file
            .write_all(&bytes)
            .map_err(io("append to", &self.path))
            .and_then(|()| self.file.sync_data().map_err(io("fsync", &self.path)));
        match written {
            Ok(()) => {
                self.len += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                self.failed = true;
                let _ = self.file.set_len(self.len);
                Err(error)
            }
        }
    }

    /// Whether an append failed, leaving the file's contents unknown.
    pub(super) fn failed(&self) -> bool {
        self.failed
    }

    /// The log's path.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Deletes the log file (and fsyncs its directory).
    pub(super) fn remove(self) -> Result<(), StatusUpdateError> {
        drop(self.file);
        match fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(error) if error.kind() == ErrorKind::NotFound => {}
            Err(error) => return Err(io("remove", &self.path)(error)),
        }
        sync_dir(parent_of(&self.path))
    }

    /// Replays the log at `path` into the stream of `task_id`. `None` if there is no log
    /// or it holds no record. A torn last record (a crash in the middle of an append that
    /// was therefore never acknowledged) is cut off the file; any other damage is an error.
    pub(super) fn recover(
        path: &Path,
        task_id: &TaskId,
    ) -> Result<Option<(StreamState, StreamLog)>, StatusUpdateError> {
        let Some(bytes) = read_if_exists(path)? else {
            return Ok(None);
        };
        if holds_no_record(&bytes) {
            return Ok(None);
        }
        if !bytes.starts_with(MAGIC) {
            return Err(corrupt(path, 0, "not a status update log (bad magic)"));
        }
        let mut state = StreamState::new(task_id.clone());
        let mut offset = MAGIC.len();
        let mut torn = false;
        while offset < bytes.len() {
            let at = offset;
            let payload = match frame::decode(&bytes[offset..]) {
                Frame::Record(payload, used) => {
                    offset += used;
                    payload
                }
                Frame::Torn(_) => {
                    torn = true;
                    break;
                }
                Frame::Corrupt(reason) => return Err(corrupt(path, at, reason)),
            };
            match payload.split_first() {
                Some((&KIND_UPDATE, body)) => {
                    let status = crate::protobuf::decode::<TaskStatus>(body)
                        .map_err(|e| corrupt(path, at, e.to_string()))?;
                    match state.update(status) {
                        Ok(Accepted::New { .. }) => {}
                        Ok(Accepted::Duplicate) => {
                            return Err(corrupt(path, at, "duplicate update record"))
                        }
                        Err(error) => return Err(corrupt(path, at, error.to_string())),
                    }
                }
                Some((&KIND_ACK, body)) => {
                    let uuid = UpdateUuid::from_slice(body).ok_or_else(|| {
                        corrupt(
                            path,
                            at,
                            format!("ack record of {} bytes, not 16", body.len()),
                        )
                    })?;
                    state
                        .acknowledge(uuid)
                        .map_err(|e| corrupt(path, at, e.to_string()))?;
                }
                Some((kind, _)) => {
                    return Err(corrupt(path, at, format!("unknown record kind {kind}")))
                }
                None => return Err(corrupt(path, at, "empty record")),
            }
        }
        let file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(io("open", path))?;
        if torn {
            file.set_len(offset as u64)
                .map_err(io("truncate torn tail of", path))?;
            file.sync_all().map_err(io("fsync", path))?;
        }
        if offset == MAGIC.len() {
            return Ok(None);
        }
        Ok(Some((
            state,
            StreamLog {
                path: path.to_path_buf(),
                file,
                len: offset as u64,
                failed: false,
            },
        )))
    }
}
