//! The fetcher: downloads a task's `CommandInfo.URI`s into its sandbox before it starts, as
//! Apache Mesos' `mesos-fetcher` does (see Mesos' `fetcher.md`).
//!
//! For each URI, in order:
//! 1. the source is resolved: `http://` and `https://` are downloaded, `file://` URIs and
//!    local paths are copied (a relative path is taken relative to
//!    [`FetcherOptions::frameworks_home`]); any other scheme (`hdfs://`, `s3://`, `ftp://`, ...)
//!    is refused with [`FetchError::UnsupportedScheme`];
//! 2. the destination is `output_file` if set (a relative path that must stay inside the
//!    sandbox; missing parent directories are created), else the URI's last path segment;
//! 3. the bytes go to a temporary `.<name>.fetch-*.part` file beside the destination, which is
//!    renamed into place only when complete, within [`FetcherOptions::timeout`] and
//!    [`FetcherOptions::max_size`];
//! 4. if `executable` is set the file gets mode `0755` and is not extracted; otherwise, if
//!    `extract` is set (the default) and the name ends in `.tar`, `.tar.gz`, `.tgz`, `.tar.bz2`,
//!    `.tbz2`, `.tar.xz`, `.txz` or `.zip`, the archive is extracted into the directory holding it (the archive is
//!    kept, as Mesos does), and a `.gz` is decompressed to the name without `.gz` (replacing the
//!    `.gz`, like `gunzip`). Archives whose entries would land outside that directory, or go
//!    through a symlink, are refused before anything is written.
//!
//! The fetch stops at the first failing URI. `cache` is ignored: there is no fetcher cache,
//! every URI is downloaded every time.
//!
//! The API is async (tokio): the agent runs on tokio, and an async HTTP client lets the
//! per-URI timeout cancel a stalled download cleanly. Archive extraction is synchronous work
//! run on tokio's blocking pool.

mod archive;
mod download;
mod error;
mod uri;

use std::path::{Path, PathBuf};
use std::time::Duration;

pub use archive::ArchiveKind;
pub use error::FetchError;

use crate::proto::mesos::v1::command_info::Uri;
use archive::ExtractError;
use download::PartFile;
use uri::{default_file_name, parse_source, safe_relative_path, Source, UriProblem};

/// Limits and settings of a fetch. `Default` sets no limit at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetcherOptions {
    /// How long downloading (or copying) one URI may take, from the request to the last byte.
    /// Also the HTTP connect timeout. Extraction is not counted: it is bounded by
    /// [`FetcherOptions::max_extracted_size`] instead.
    pub timeout: Option<Duration>,
    /// The largest size in bytes a single URI may have.
    pub max_size: Option<u64>,
    /// The largest total size in bytes of the file contents extracted from one archive.
    pub max_extracted_size: Option<u64>,
    /// Where relative local paths are resolved (Mesos' `--frameworks_home`). Without it,
    /// relative paths are refused.
    pub frameworks_home: Option<PathBuf>,
}

/// One URI fetched into the sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedUri {
    /// The URI's `value`, as given.
    pub uri: String,
    /// The file in the sandbox: the downloaded file, or for a `.gz` that was decompressed,
    /// the decompressed file.
    pub path: PathBuf,
    /// Bytes downloaded or copied.
    pub size: u64,
    /// Whether the file was made executable (mode `0755`).
    pub executable: bool,
    /// The archive format, if the file was extracted.
    pub extracted: Option<ArchiveKind>,
}

/// Fetches `uris`, in order, into the existing directory `sandbox`. Stops at the first failure.
pub async fn fetch(
    uris: &[Uri],
    sandbox: &Path,
    options: FetcherOptions,
) -> Result<Vec<FetchedUri>, FetchError> {
    match tokio::fs::metadata(sandbox).await {
        Ok(md) if md.is_dir() => {}
        Ok(_) => {
            return Err(FetchError::InvalidSandbox {
                path: sandbox.to_path_buf(),
                reason: "not a directory".into(),
            })
        }
        Err(e) => {
            return Err(FetchError::InvalidSandbox {
                path: sandbox.to_path_buf(),
                reason: e.to_string(),
            })
        }
    }
    let mut builder = reqwest::Client::builder().user_agent("mesos-fetcher");
    if let Some(timeout) = options.timeout {
        builder = builder.connect_timeout(timeout);
    }
    let client = builder.build().map_err(|e| FetchError::Http {
        uri: uris.first().map(|u| u.value.clone()).unwrap_or_default(),
        reason: format!("cannot create HTTP client: {e}"),
    })?;
    let mut fetched = Vec::with_capacity(uris.len());
    for uri in uris {
        fetched.push(fetch_one(&client, uri, sandbox, &options).await?);
    }
    Ok(fetched)
}

async fn fetch_one(
    client: &reqwest::Client,
    uri: &Uri,
    sandbox: &Path,
    options: &FetcherOptions,
) -> Result<FetchedUri, FetchError> {
    let value = uri.value.as_str();
    let source = parse_source(value, options.frameworks_home.as_deref()).map_err(|p| match p {
        UriProblem::Invalid(reason) => FetchError::InvalidUri {
            uri: value.to_string(),
            reason,
        },
        UriProblem::UnsupportedScheme(scheme) => FetchError::UnsupportedScheme {
            uri: value.to_string(),
            scheme,
        },
    })?;

    let rel = destination(value, uri.output_file.as_deref(), &source)?;
    // Parent directories of an output_file such as "conf/app.yml", never through a symlink.
    archive::create_parents(sandbox, &rel).map_err(|e| match e {
        ExtractError::Io { context, source } => FetchError::Io {
            uri: value.to_string(),
            context,
            source,
        },
        other => FetchError::InvalidOutputFile {
            uri: value.to_string(),
            output_file: rel.display().to_string(),
            reason: describe_extract_error(other),
        },
    })?;
    let dest = sandbox.join(&rel);

    let part = PartFile::beside(&dest);
    let download = async {
        match &source {
            Source::Http(url) => {
                download::http(client, value, url.clone(), part.path(), options.max_size).await
            }
            Source::Local(path) => {
                download::local(value, path, part.path(), options.max_size).await
            }
        }
    };
    let size = match options.timeout {
        Some(timeout) => tokio::time::timeout(timeout, download)
            .await
            .map_err(|_| FetchError::Timeout {
                uri: value.to_string(),
                timeout,
            })??,
        None => download.await?,
    };
    tokio::fs::rename(part.path(), &dest)
        .await
        .map_err(|source| FetchError::Io {
            uri: value.to_string(),
            context: format!("moving download to {}", dest.display()),
            source,
        })?;
    part.keep();

    let mut result = FetchedUri {
        uri: value.to_string(),
        path: dest.clone(),
        size,
        executable: false,
        extracted: None,
    };
    if uri.executable() {
        use std::os::unix::fs::PermissionsExt;
        tokio::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
            .await
            .map_err(|source| FetchError::Io {
                uri: value.to_string(),
                context: format!("making {} executable", dest.display()),
                source,
            })?;
        result.executable = true;
        return Ok(result);
    }
    let kind = dest
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(ArchiveKind::detect);
    if let (true, Some(kind)) = (uri.extract(), kind) {
        let root = dest.parent().unwrap_or(sandbox).to_path_buf();
        let archive_path = dest.clone();
        let limit = options.max_extracted_size;
        let extraction = tokio::task::spawn_blocking(move || {
            archive::extract(&archive_path, kind, &root, limit)
        })
        .await
        .map_err(|e| FetchError::Archive {
            uri: value.to_string(),
            reason: format!("extraction task failed: {e}"),
        })?
        .map_err(|e| extract_error(value, e))?;
        if let Some(replaced_by) = extraction.replaced_by {
            result.path = replaced_by;
        }
        result.extracted = Some(kind);
    }
    Ok(result)
}

/// The destination of a URI, relative to the sandbox.
fn destination(
    value: &str,
    output_file: Option<&str>,
    source: &Source,
) -> Result<PathBuf, FetchError> {
    match output_file {
        Some(output_file) => {
            let invalid = |reason: String| FetchError::InvalidOutputFile {
                uri: value.to_string(),
                output_file: output_file.to_string(),
                reason,
            };
            let rel = safe_relative_path(Path::new(output_file)).map_err(invalid)?;
            if rel.as_os_str().is_empty() || output_file.ends_with('/') {
                return Err(invalid("must name a file".into()));
            }
            Ok(rel)
        }
        None => default_file_name(source)
            .map(PathBuf::from)
            .map_err(|reason| FetchError::InvalidUri {
                uri: value.to_string(),
                reason,
            }),
    }
}

fn describe_extract_error(e: ExtractError) -> String {
    match e {
        ExtractError::Unsafe { entry, reason } => format!("{entry}: {reason}"),
        ExtractError::Corrupt(reason) => reason,
        ExtractError::Io { context, source } => format!("{context}: {source}"),
        ExtractError::Limit(limit) => format!("size exceeds {limit} bytes"),
    }
}

fn extract_error(uri: &str, e: ExtractError) -> FetchError {
    let uri = uri.to_string();
    match e {
        ExtractError::Unsafe { entry, reason } => FetchError::UnsafeArchive { uri, entry, reason },
        ExtractError::Corrupt(reason) => FetchError::Archive { uri, reason },
        ExtractError::Io { context, source } => FetchError::Io {
            uri,
            context,
            source,
        },
        ExtractError::Limit(limit) => FetchError::ExtractLimitExceeded { uri, limit },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local(path: &str) -> Source {
        Source::Local(PathBuf::from(path))
    }

    #[test]
    fn output_file_must_stay_in_sandbox() {
        let src = local("/x/y.txt");
        assert_eq!(
            destination("u", None, &src).unwrap(),
            PathBuf::from("y.txt")
        );
        assert_eq!(
            destination("u", Some("a/./b.txt"), &src).unwrap(),
            PathBuf::from("a/b.txt")
        );
        for bad in ["../b", "a/../../b", "/etc/passwd", "", ".", "a/"] {
            let err = destination("u", Some(bad), &src).unwrap_err();
            assert!(
                matches!(err, FetchError::InvalidOutputFile { .. }),
                "{bad}: {err}"
            );
            assert_eq!(err.uri(), Some("u"));
        }
    }

    #[test]
    fn errors_name_the_uri() {
        let e = extract_error(
            "http://h/a.tgz",
            ExtractError::Unsafe {
                entry: "../evil".into(),
                reason: "path contains '..'".into(),
            },
        );
        let text = e.to_string();
        assert!(
            text.contains("http://h/a.tgz") && text.contains("../evil"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn missing_sandbox_is_an_error() {
        let err = fetch(
            &[],
            Path::new("/nonexistent/sandbox"),
            FetcherOptions::default(),
        )
        .await
        .unwrap_err();
        assert!(matches!(err, FetchError::InvalidSandbox { .. }));
    }
}
