//! Getting a URI's bytes into a temporary file in the sandbox.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::error::FetchError;

/// A temporary file that is removed when dropped unless [`PartFile::keep`] was called, so a
/// failed, cancelled or timed-out download leaves nothing behind.
pub(crate) struct PartFile {
    path: PathBuf,
    armed: bool,
}

static NEXT_PART: AtomicU64 = AtomicU64::new(0);

impl PartFile {
    /// A fresh temporary name beside `dest`: `.<name>.fetch-<pid>-<n>.part`.
    pub(crate) fn beside(dest: &Path) -> PartFile {
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let n = NEXT_PART.fetch_add(1, Ordering::Relaxed);
        let file = format!(".{name}.fetch-{}-{n}.part", std::process::id());
        let path = match dest.parent() {
            Some(dir) => dir.join(file),
            None => PathBuf::from(file),
        };
        PartFile { path, armed: true }
    }

    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Stops the file from being removed on drop (it has been renamed into place).
    pub(crate) fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for PartFile {
    fn drop(&mut self) {
        if self.armed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn io(uri: &str, context: String) -> impl FnOnce(std::io::Error) -> FetchError + '_ {
    move |source| FetchError::Io {
        uri: uri.to_string(),
        context,
        source,
    }
}

/// The open temporary file a fetch writes into, refusing to grow past the size limit.
struct LimitedWriter<'a> {
    uri: &'a str,
    part: &'a Path,
    file: tokio::fs::File,
    written: u64,
    limit: Option<u64>,
}

impl<'a> LimitedWriter<'a> {
    async fn create(
        uri: &'a str,
        part: &'a Path,
        limit: Option<u64>,
    ) -> Result<LimitedWriter<'a>, FetchError> {
        let file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(part)
            .await
            .map_err(io(uri, format!("creating {}", part.display())))?;
        Ok(LimitedWriter {
            uri,
            part,
            file,
            written: 0,
            limit,
        })
    }

    /// Appends `bytes`, or fails once the total would pass the limit.
    async fn write(&mut self, bytes: &[u8]) -> Result<(), FetchError> {
        self.written = self.written.saturating_add(bytes.len() as u64);
        if let Some(limit) = self.limit.filter(|limit| self.written > *limit) {
            return Err(too_big(self.uri, limit));
        }
        self.file
            .write_all(bytes)
            .await
            .map_err(io(self.uri, format!("writing {}", self.part.display())))
    }

    /// Flushes the file; returns the number of bytes written.
    async fn finish(mut self) -> Result<u64, FetchError> {
        self.file
            .flush()
            .await
            .map_err(io(self.uri, format!("writing {}", self.part.display())))?;
        Ok(self.written)
    }
}

fn too_big(uri: &str, limit: u64) -> FetchError {
    FetchError::SizeLimitExceeded {
        uri: uri.to_string(),
        limit,
    }
}

/// Formats a client error with its chain of causes.
fn describe(e: &reqwest::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

/// Downloads `url` into `part`; returns the number of bytes written.
pub(crate) async fn http(
    client: &reqwest::Client,
    uri: &str,
    url: reqwest::Url,
    part: &Path,
    max_size: Option<u64>,
) -> Result<u64, FetchError> {
    let http_err = |e: reqwest::Error| FetchError::Http {
        uri: uri.to_string(),
        reason: describe(&e),
    };
    let mut response = client.get(url).send().await.map_err(http_err)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::HttpStatus {
            uri: uri.to_string(),
            status: status.as_u16(),
        });
    }
    if let (Some(limit), Some(len)) = (max_size, response.content_length()) {
        if len > limit {
            return Err(too_big(uri, limit));
        }
    }
    let mut out = LimitedWriter::create(uri, part, max_size).await?;
    while let Some(chunk) = response.chunk().await.map_err(http_err)? {
        out.write(&chunk).await?;
    }
    out.finish().await
}

/// Copies the local file `source` into `part`; returns the number of bytes written.
pub(crate) async fn local(
    uri: &str,
    source: &Path,
    part: &Path,
    max_size: Option<u64>,
) -> Result<u64, FetchError> {
    let metadata = tokio::fs::metadata(source)
        .await
        .map_err(io(uri, format!("reading {}", source.display())))?;
    if !metadata.is_file() {
        return Err(FetchError::InvalidUri {
            uri: uri.to_string(),
            reason: format!("{} is not a regular file", source.display()),
        });
    }
    if let Some(limit) = max_size {
        if metadata.len() > limit {
            return Err(too_big(uri, limit));
        }
    }
    let mut input = tokio::fs::File::open(source)
        .await
        .map_err(io(uri, format!("opening {}", source.display())))?;
    let mut out = LimitedWriter::create(uri, part, max_size).await?;
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = input
            .read(&mut buf)
            .await
            .map_err(io(uri, format!("reading {}", source.display())))?;
        if n == 0 {
            break;
        }
        out.write(&buf[..n]).await?;
    }
    out.finish().await
}
