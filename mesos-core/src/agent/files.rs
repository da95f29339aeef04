//! Mesos' files endpoints: browsing, paging through and downloading the files the agent
//! exposes, such as executors' sandboxes.
//!
//! [`Files`] maps virtual paths to real directories or files, as Mesos' `attach` does; the
//! agent attaches each executor run's sandbox under its real path and under
//! `/slaves/<agent>/frameworks/<framework>/executors/<executor>/runs/latest`. A virtual
//! path resolves through the longest attached prefix; `..` is resolved within the virtual
//! namespace, and a real path that leaves its attached directory (through a symlink) is
//! refused, so nothing outside what was attached can be read.
//!
//! The operations ([`Files::browse`], [`Files::read`], [`Files::download`]) are blocking
//! filesystem calls returning typed results; [`routes`] serves them as Mesos'
//! `GET /files/browse`, `/files/read`, `/files/download` and `/files/debug`, with the same
//! JSON shapes, and the agent's operator API answers `LIST_FILES` and `READ_FILE` from
//! [`Files::browse`] and [`Files::read`].

use std::collections::BTreeMap;
use std::fs::Metadata;
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Component, Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use futures_core::Stream;
use serde_json::{json, Value as Json};
use tokio::io::{AsyncRead, ReadBuf};

use crate::http::{mesos_405, HttpError};
use crate::proto::mesos::v1::agent::{call, response};
use crate::proto::mesos::v1::{FileInfo, TimeInfo};

/// The most bytes one read returns: 16 pages of 4 KiB, Mesos' cap.
pub const MAX_READ_LENGTH: u64 = 16 * 4096;

/// The size of the chunks a download is streamed in.
const DOWNLOAD_CHUNK: usize = 64 * 1024;

/// Why a files operation failed; each maps to the HTTP status Mesos answers with.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilesError {
    /// Nothing is attached at the path, or the file does not exist (404).
    #[error("{0}")]
    NotFound(String),
    /// The path resolves outside the directory attached for it (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request is malformed, or asks to read or download a directory (400).
    #[error("{0}")]
    Invalid(String),
    /// The file exists but could not be read (500).
    #[error("{0}")]
    Io(String),
}

/// The failure as Mesos' HTTP answer: the status and the reason as plain text.
impl From<FilesError> for HttpError {
    fn from(error: FilesError) -> HttpError {
        let status = match &error {
            FilesError::NotFound(_) => StatusCode::NOT_FOUND,
            FilesError::Forbidden(_) => StatusCode::FORBIDDEN,
            FilesError::Invalid(_) => StatusCode::BAD_REQUEST,
            FilesError::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        HttpError::new(status, error.to_string())
    }
}

/// A piece of a file, as one read returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChunk {
    /// The size of the whole file when it was read, in bytes.
    pub size: u64,
    /// The bytes read: at most the length asked for and [`MAX_READ_LENGTH`], empty at or
    /// past the end of the file.
    pub data: Vec<u8>,
}

/// A file to download: where it really is and the name to offer it under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    /// The real path of the file.
    pub path: PathBuf,
    /// Its file name, for `Content-Disposition`.
    pub filename: String,
}

/// The registry of attached paths. Cheap to clone; clones share the registry, and it may
/// be used from any thread.
#[derive(Debug, Clone, Default)]
pub struct Files {
    attached: Arc<RwLock<BTreeMap<String, PathBuf>>>,
}

impl Files {
    /// An empty registry: every path is unknown.
    pub fn new() -> Files {
        Files::default()
    }

    /// Makes the real directory or file `real` visible at `virtual_path` (and below it,
    /// for a directory), replacing what was attached there. `real` must exist; it is
    /// remembered with its symlinks resolved, so a later change of a `latest` link does
    /// not move what is attached.
    pub fn attach(&self, virtual_path: &str, real: &Path) -> Result<(), FilesError> {
        self.attach_all(&[virtual_path], real)
    }

    /// [`Files::attach`] of `real` at each of `virtual_paths`, resolving `real` once.
    /// Nothing is attached if a virtual path is invalid or `real` does not exist.
    pub fn attach_all(&self, virtual_paths: &[&str], real: &Path) -> Result<(), FilesError> {
        let keys = virtual_paths
            .iter()
            .map(|path| normalize(path))
            .collect::<Result<Vec<_>, _>>()?;
        let real = real.canonicalize().map_err(|e| {
            FilesError::NotFound(format!("Cannot attach '{}': {e}", real.display()))
        })?;
        let mut attached = self
            .attached
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for key in keys {
            attached.insert(key, real.clone());
        }
        Ok(())
    }

    /// Stops exposing `virtual_path` (what is attached below it stays).
    pub fn detach(&self, virtual_path: &str) {
        if let Ok(key) = normalize(virtual_path) {
            self.attached
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&key);
        }
    }

    /// Every attached virtual path with its real path, as `/files/debug` shows them.
    pub fn attached(&self) -> BTreeMap<String, PathBuf> {
        self.attached
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The entries of the directory at `virtual_path`, sorted by name, each with its
    /// virtual path; empty when the path is a file, as in Mesos. Entries that vanish while
    /// being listed, and symlinks leading outside the attached directory, are left out.
    pub fn browse(&self, virtual_path: &str) -> Result<Vec<FileInfo>, FilesError> {
        let Resolved {
            virtual_path,
            real,
            root,
        } = self.resolve(virtual_path)?;
        if !real.is_dir() {
            return Ok(Vec::new());
        }
        let entries = std::fs::read_dir(&real)
            .map_err(|e| FilesError::Io(format!("Failed to list '{virtual_path}': {e}")))?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|entry| entry.file_name().into_string().ok())
            .collect();
        names.sort();
        Ok(names
            .into_iter()
            .filter_map(|name| {
                let target = real.join(&name).canonicalize().ok()?;
                if !target.starts_with(&root) {
                    return None;
                }
                let metadata = std::fs::metadata(target).ok()?;
                Some(file_info(&join_virtual(&virtual_path, &name), &metadata))
            })
            .collect())
    }

    /// Reads up to `length` bytes (all that remain when `None`; never more than
    /// [`MAX_READ_LENGTH`]) of the file at `virtual_path`, from byte `offset`.
    pub fn read(
        &self,
        virtual_path: &str,
        offset: u64,
        length: Option<u64>,
    ) -> Result<FileChunk, FilesError> {
        let Resolved {
            virtual_path, real, ..
        } = self.resolve(virtual_path)?;
        if real.is_dir() {
            return Err(FilesError::Invalid("Cannot read a directory".to_string()));
        }
        let io =
            |e: std::io::Error| FilesError::Io(format!("Failed to read '{virtual_path}': {e}"));
        let mut file = std::fs::File::open(&real).map_err(io)?;
        let size = file.metadata().map_err(io)?.len();
        if offset >= size {
            return Ok(FileChunk {
                size,
                data: Vec::new(),
            });
        }
        let wanted = length
            .unwrap_or(size - offset)
            .min(size - offset)
            .min(MAX_READ_LENGTH);
        file.seek(SeekFrom::Start(offset)).map_err(io)?;
        let mut data = Vec::new();
        file.take(wanted).read_to_end(&mut data).map_err(io)?;
        Ok(FileChunk { size, data })
    }

    /// The file at `virtual_path`, to be sent whole.
    pub fn download(&self, virtual_path: &str) -> Result<Download, FilesError> {
        let Resolved { real, .. } = self.resolve(virtual_path)?;
        if real.is_dir() {
            return Err(FilesError::Invalid(
                "Cannot download a directory".to_string(),
            ));
        }
        let filename = real
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        Ok(Download {
            path: real,
            filename,
        })
    }

    /// The operator API's `LIST_FILES`: [`Files::browse`] of the call's path.
    pub fn list_files(&self, call: &call::ListFiles) -> Result<response::ListFiles, FilesError> {
        Ok(response::ListFiles {
            file_infos: self.browse(&call.path)?,
        })
    }

    /// The operator API's `READ_FILE`: [`Files::read`] of the call's path, offset and
    /// length, with the file's size.
    pub fn read_file(&self, call: &call::ReadFile) -> Result<response::ReadFile, FilesError> {
        let chunk = self.read(&call.path, call.offset, call.length)?;
        Ok(response::ReadFile {
            size: chunk.size,
            data: chunk.data,
        })
    }

    /// The real path `virtual_path` names, checked to exist and to lie within the
    /// directory attached for it.
    fn resolve(&self, virtual_path: &str) -> Result<Resolved, FilesError> {
        let normalized = normalize(virtual_path)?;
        let not_found = || FilesError::NotFound(format!("No file or directory at '{normalized}'"));
        let (root, rest) = {
            let attached = self.attached.read().unwrap_or_else(PoisonError::into_inner);
            let mut prefix = normalized.as_str();
            loop {
                if let Some(root) = attached.get(prefix) {
                    let rest = normalized[prefix.len()..].trim_start_matches('/');
                    break (root.clone(), rest.to_string());
                }
                if prefix == "/" {
                    return Err(not_found());
                }
                prefix = match prefix.rfind('/') {
                    Some(0) => "/",
                    Some(at) => &prefix[..at],
                    None => return Err(not_found()),
                };
            }
        };
        let root = root.canonicalize().map_err(|_| not_found())?;
        let candidate = if rest.is_empty() {
            root.clone()
        } else {
            root.join(&rest)
        };
        let real = candidate.canonicalize().map_err(|_| not_found())?;
        if !real.starts_with(&root) {
            return Err(FilesError::Forbidden(format!(
                "'{normalized}' leads outside the directory attached for it"
            )));
        }
        Ok(Resolved {
            virtual_path: normalized,
            real,
            root,
        })
    }
}

/// A virtual path resolved to a real one.
struct Resolved {
    /// The virtual path, normalized.
    virtual_path: String,
    /// The real path it names, symlinks resolved.
    real: PathBuf,
    /// The real path of the attached directory (or file) it lies in.
    root: PathBuf,
}

/// A virtual path made absolute with `.` and empty components dropped and `..` applied;
/// `..` above the root is refused.
fn normalize(virtual_path: &str) -> Result<String, FilesError> {
    let mut parts: Vec<&str> = Vec::new();
    for component in Path::new(virtual_path).components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().ok_or_else(|| {
                FilesError::Invalid(format!("'{virtual_path}' is not valid UTF-8"))
            })?),
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(FilesError::NotFound(format!(
                        "'{virtual_path}' leads above the root"
                    )));
                }
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// `name` inside the virtual directory `dir`.
fn join_virtual(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// The `FileInfo` Mesos reports for a file: its virtual path, link count, size,
/// modification time in whole seconds, mode bits, and owner and group by name (by number
/// when they have no name).
fn file_info(virtual_path: &str, metadata: &Metadata) -> FileInfo {
    let uid = metadata.uid();
    let gid = metadata.gid();
    let user = nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|user| user.name)
        .unwrap_or_else(|| uid.to_string());
    let group = nix::unistd::Group::from_gid(nix::unistd::Gid::from_raw(gid))
        .ok()
        .flatten()
        .map(|group| group.name)
        .unwrap_or_else(|| gid.to_string());
    FileInfo {
        path: virtual_path.to_string(),
        nlink: Some(i32::try_from(metadata.nlink()).unwrap_or(i32::MAX)),
        size: Some(metadata.len()),
        mtime: Some(TimeInfo {
            nanoseconds: metadata.mtime().saturating_mul(1_000_000_000),
        }),
        mode: Some(metadata.mode()),
        uid: Some(user),
        gid: Some(group),
    }
}

/// A mode as `ls -l` shows it, as Mesos' browse does: `d` or `-`, then `rwx` for owner,
/// group and others.
pub fn mode_string(mode: u32) -> String {
    const DIRECTORY: u32 = 0o040000;
    const FILE_TYPE: u32 = 0o170000;
    let mut text = String::with_capacity(10);
    text.push(if mode & FILE_TYPE == DIRECTORY {
        'd'
    } else {
        '-'
    });
    for shift in [6, 3, 0] {
        let bits = (mode >> shift) & 0o7;
        text.push(if bits & 0o4 != 0 { 'r' } else { '-' });
        text.push(if bits & 0o2 != 0 { 'w' } else { '-' });
        text.push(if bits & 0o1 != 0 { 'x' } else { '-' });
    }
    text
}

/// One entry of `/files/browse` as Mesos renders it: `path`, `nlink`, `size`, `mtime`
/// (seconds, a float), `mode` (`-rw-r--r--`), `uid` and `gid` (names).
pub fn file_info_json(info: &FileInfo) -> Json {
    let seconds = info
        .mtime
        .as_ref()
        .map_or(0, |t| t.nanoseconds / 1_000_000_000);
    json!({
        "path": info.path,
        "nlink": info.nlink.unwrap_or(0),
        "size": info.size.unwrap_or(0),
        "mtime": seconds as f64,
        "mode": mode_string(info.mode.unwrap_or(0)),
        "uid": info.uid.clone().unwrap_or_default(),
        "gid": info.gid.clone().unwrap_or_default(),
    })
}

/// `GET /files/browse`, `/files/read`, `/files/download` and `/files/debug` over `files`,
/// with Mesos' `.json` aliases, to merge into the agent's router.
pub fn routes(files: Files) -> Router {
    let only_get = |handler| mesos_405(handler, &[Method::GET]);
    Router::new()
        .route("/files/browse", only_get(get(browse)))
        .route("/files/browse.json", only_get(get(browse)))
        .route("/files/read", only_get(get(read)))
        .route("/files/read.json", only_get(get(read)))
        .route("/files/download", only_get(get(download)))
        .route("/files/download.json", only_get(get(download)))
        .route("/files/debug", only_get(get(debug)))
        .route("/files/debug.json", only_get(get(debug)))
        .with_state(files)
}

/// The query parameters of a files request.
type Params = Query<BTreeMap<String, String>>;

/// The `path` query parameter, which every files request needs.
fn path_param(params: &BTreeMap<String, String>) -> Result<String, HttpError> {
    params
        .get("path")
        .cloned()
        .ok_or_else(|| HttpError::bad_request("Expecting 'path=value' in query."))
}

/// Runs a blocking files operation off the async runtime.
async fn blocking<T, F>(operation: F) -> Result<T, HttpError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, FilesError> + Send + 'static,
{
    tokio::task::spawn_blocking(operation)
        .await
        .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
        .map_err(HttpError::from)
}

/// A 200 `application/json` answer.
fn json_response(value: &Json) -> Response {
    let mut response = value.to_string().into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `GET /files/browse?path=`: the directory's entries as a JSON array.
async fn browse(State(files): State<Files>, Query(params): Params) -> Result<Response, HttpError> {
    let path = path_param(&params)?;
    let entries = blocking(move || files.browse(&path)).await?;
    Ok(json_response(&Json::Array(
        entries.iter().map(file_info_json).collect(),
    )))
}

/// A signed integer query parameter of `/files/read`, at least -1; `None` when absent.
fn read_param(params: &BTreeMap<String, String>, name: &str) -> Result<Option<i64>, HttpError> {
    let Some(text) = params.get(name) else {
        return Ok(None);
    };
    let value: i64 = text
        .trim()
        .parse()
        .map_err(|e| HttpError::bad_request(format!("Failed to parse {name}: {e}")))?;
    if value < -1 {
        return Err(HttpError::bad_request(format!(
            "Negative {name} provided: {value}"
        )));
    }
    Ok(Some(value))
}

/// `GET /files/read?path=&offset=&length=`: `{"data": ..., "offset": ...}`. Without an
/// offset (or with -1) the data is empty and the offset is the file's size, so a reader
/// can start following the end of a log; `length` -1 or absent reads to the end, capped
/// at [`MAX_READ_LENGTH`]. Bytes that are not UTF-8 are replaced by U+FFFD in the JSON.
async fn read(State(files): State<Files>, Query(params): Params) -> Result<Response, HttpError> {
    let path = path_param(&params)?;
    let offset = read_param(&params, "offset")?.and_then(|o| u64::try_from(o).ok());
    let length = read_param(&params, "length")?.and_then(|l| u64::try_from(l).ok());
    let body = match offset {
        None => {
            let chunk = blocking(move || files.read(&path, 0, Some(0))).await?;
            json!({"data": "", "offset": chunk.size})
        }
        Some(offset) => {
            let chunk = blocking(move || files.read(&path, offset, length)).await?;
            json!({"data": String::from_utf8_lossy(&chunk.data), "offset": offset})
        }
    };
    Ok(json_response(&body))
}

/// `GET /files/download?path=`: the file as `application/octet-stream`, offered as an
/// attachment under its own name.
async fn download(
    State(files): State<Files>,
    Query(params): Params,
) -> Result<Response, HttpError> {
    let path = path_param(&params)?;
    let target = blocking(move || files.download(&path)).await?;
    let unreadable = |e: std::io::Error| {
        HttpError::from(FilesError::Io(format!(
            "Failed to open '{}': {e}",
            target.filename
        )))
    };
    let file = tokio::fs::File::open(&target.path)
        .await
        .map_err(unreadable)?;
    let size = file.metadata().await.map_err(unreadable)?.len();
    let disposition = format!("attachment; filename={}", target.filename);
    let mut response = Body::from_stream(FileStream { file }).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// `GET /files/debug`: every attached virtual path with its real path.
async fn debug(State(files): State<Files>) -> Response {
    let attached: serde_json::Map<String, Json> = files
        .attached()
        .into_iter()
        .map(|(name, real)| (name, Json::String(real.display().to_string())))
        .collect();
    json_response(&Json::Object(attached))
}

/// A file read chunk by chunk, as a download's body.
struct FileStream {
    file: tokio::fs::File,
}

impl Stream for FileStream {
    type Item = std::io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut buffer = vec![0u8; DOWNLOAD_CHUNK];
        let mut read = ReadBuf::new(&mut buffer);
        match Pin::new(&mut self.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Some(Err(e))),
            Poll::Ready(Ok(())) => {
                let filled = read.filled().len();
                if filled == 0 {
                    Poll::Ready(None)
                } else {
                    buffer.truncate(filled);
                    Poll::Ready(Some(Ok(Bytes::from(buffer))))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::os::unix::fs::{symlink, PermissionsExt};

    /// A temp dir with `stdout` (10 bytes), `sub/inner` and a registry attaching the dir
    /// at `/sandbox`.
    fn sandbox() -> (tempfile::TempDir, Files) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("stdout"), b"0123456789").unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/inner"), b"x").unwrap();
        let files = Files::new();
        files.attach("/sandbox", dir.path()).unwrap();
        (dir, files)
    }

    #[test]
    fn normalize_applies_dots_and_refuses_escaping_the_root() {
        assert_eq!(normalize("a//b/./c/").unwrap(), "/a/b/c");
        assert_eq!(normalize("/a/b/../c").unwrap(), "/a/c");
        assert_eq!(normalize("/").unwrap(), "/");
        assert!(matches!(
            normalize("/a/../.."),
            Err(FilesError::NotFound(_))
        ));
    }

    #[test]
    fn browse_lists_entries_sorted_with_virtual_paths() {
        let (_dir, files) = sandbox();
        let entries = files.browse("/sandbox/").unwrap();
        let paths: Vec<&str> = entries.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["/sandbox/stdout", "/sandbox/sub"]);
        assert_eq!(entries[0].size, Some(10));
        let json = file_info_json(&entries[1]);
        assert!(json["mode"].as_str().unwrap().starts_with('d'));
        assert!(files.browse("/sandbox/stdout").unwrap().is_empty());
        assert_eq!(
            files.browse("/sandbox/sub").unwrap()[0].path,
            "/sandbox/sub/inner"
        );
    }

    #[test]
    fn file_info_json_has_mesos_shape() {
        let info = FileInfo {
            path: "/s/stdout".to_string(),
            nlink: Some(1),
            size: Some(717),
            mtime: Some(TimeInfo {
                nanoseconds: 1_795_281_472_000_000_000,
            }),
            mode: Some(0o100644),
            uid: Some("root".to_string()),
            gid: Some("root".to_string()),
        };
        assert_eq!(
            file_info_json(&info).to_string(),
            r#"{"gid":"root","mode":"-rw-r--r--","mtime":1795281472.0,"nlink":1,"path":"/s/stdout","size":717,"uid":"root"}"#
        );
        assert_eq!(mode_string(0o040755), "drwxr-xr-x");
        assert_eq!(mode_string(0o100000), "----------");
    }

    #[test]
    fn read_pages_through_a_file() {
        let (_dir, files) = sandbox();
        let chunk = files.read("/sandbox/stdout", 2, Some(3)).unwrap();
        assert_eq!(
            chunk,
            FileChunk {
                size: 10,
                data: b"234".to_vec()
            }
        );
        assert_eq!(files.read("/sandbox/stdout", 8, None).unwrap().data, b"89");
        assert!(files
            .read("/sandbox/stdout", 10, None)
            .unwrap()
            .data
            .is_empty());
        assert!(files
            .read("/sandbox/stdout", 99, Some(5))
            .unwrap()
            .data
            .is_empty());
        assert!(matches!(
            files.read("/sandbox/sub", 0, None),
            Err(FilesError::Invalid(_))
        ));
        assert!(matches!(
            files.read("/sandbox/nothing", 0, None),
            Err(FilesError::NotFound(_))
        ));
    }

    #[test]
    fn read_is_capped() {
        let (dir, files) = sandbox();
        std::fs::write(dir.path().join("big"), vec![b'a'; 200_000]).unwrap();
        let chunk = files.read("/sandbox/big", 0, None).unwrap();
        assert_eq!(chunk.size, 200_000);
        assert_eq!(chunk.data.len() as u64, MAX_READ_LENGTH);
    }

    #[test]
    fn nothing_outside_attached_directories_is_reachable() {
        let (dir, files) = sandbox();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), b"s").unwrap();
        symlink(outside.path().join("secret"), dir.path().join("link")).unwrap();
        symlink(dir.path().join("stdout"), dir.path().join("inside")).unwrap();
        assert!(matches!(
            files.read("/sandbox/link", 0, None),
            Err(FilesError::Forbidden(_))
        ));
        assert_eq!(
            files.read("/sandbox/inside", 0, None).unwrap().data,
            b"0123456789"
        );
        assert!(matches!(
            files.read("/sandbox/../etc/passwd", 0, None),
            Err(FilesError::NotFound(_))
        ));
        assert!(matches!(files.browse("/"), Err(FilesError::NotFound(_))));
        assert!(matches!(
            files.browse("/other"),
            Err(FilesError::NotFound(_))
        ));
    }

    #[test]
    fn attach_detach_and_nested_attachments() {
        let (dir, files) = sandbox();
        files.attach("/latest", &dir.path().join("sub")).unwrap();
        assert_eq!(files.read("/latest/inner", 0, None).unwrap().data, b"x");
        files.detach("/latest/");
        assert!(matches!(
            files.read("/latest/inner", 0, None),
            Err(FilesError::NotFound(_))
        ));
        assert!(files.attach("/x", &dir.path().join("missing")).is_err());
        files.attach("/log", &dir.path().join("stdout")).unwrap();
        assert_eq!(files.download("/log").unwrap().filename, "stdout");
        assert_eq!(files.attached().len(), 2);
    }

    #[test]
    fn one_directory_attached_at_several_paths() {
        let (dir, files) = sandbox();
        let sub = dir.path().join("sub");
        files.attach_all(&["/a", "/b/c"], &sub).unwrap();
        for path in ["/a/inner", "/b/c/inner"] {
            assert_eq!(files.read(path, 0, None).unwrap().data, b"x", "{path}");
        }
        assert!(files
            .attach_all(&["/d", "/e"], &dir.path().join("missing"))
            .is_err());
        assert!(files.attach_all(&["/f", "/.."], &sub).is_err());
        let attached = files.attached();
        assert_eq!(
            attached.keys().collect::<Vec<_>>(),
            ["/a", "/b/c", "/sandbox"]
        );
        assert_eq!(attached["/a"], sub.canonicalize().unwrap());
    }

    #[test]
    fn operator_calls_answer_from_the_registry() {
        let (_dir, files) = sandbox();
        let listed = files
            .list_files(&call::ListFiles {
                path: "/sandbox".to_string(),
            })
            .unwrap();
        assert_eq!(listed.file_infos.len(), 2);
        let read = files
            .read_file(&call::ReadFile {
                path: "/sandbox/stdout".to_string(),
                offset: 4,
                length: Some(2),
            })
            .unwrap();
        assert_eq!((read.size, read.data), (10, b"45".to_vec()));
        let missing = files.list_files(&call::ListFiles {
            path: "/nowhere".to_string(),
        });
        assert!(matches!(missing, Err(FilesError::NotFound(_))));
    }

    #[test]
    fn download_refuses_directories() {
        let (dir, files) = sandbox();
        let target = files.download("/sandbox/stdout").unwrap();
        assert_eq!(
            target.path,
            dir.path().canonicalize().unwrap().join("stdout")
        );
        assert!(matches!(
            files.download("/sandbox/sub"),
            Err(FilesError::Invalid(_))
        ));
    }

    #[test]
    fn unreadable_file_is_an_io_error_when_not_root() {
        let (dir, files) = sandbox();
        let path = dir.path().join("stdout");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o000)).unwrap();
        let result = files.read("/sandbox/stdout", 0, None);
        if nix::unistd::geteuid().is_root() {
            assert!(result.is_ok());
        } else {
            assert!(matches!(result, Err(FilesError::Io(_))));
        }
    }
}
