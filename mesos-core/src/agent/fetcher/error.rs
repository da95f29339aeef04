//! Typed errors of the fetcher. Every variant names the URI it is about.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// Why fetching one `CommandInfo.URI` into a sandbox failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The sandbox directory is missing or is not a directory.
    #[error("sandbox {path} is not a usable directory: {reason}")]
    InvalidSandbox {
        /// The sandbox that was given.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The URI could not be parsed, or no file name could be derived from it.
    #[error("invalid URI '{uri}': {reason}")]
    InvalidUri {
        /// The URI as given.
        uri: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The URI's scheme is not one the fetcher can download from.
    #[error("cannot fetch '{uri}': unsupported URI scheme '{scheme}' (supported: http, https, file, local paths)")]
    UnsupportedScheme {
        /// The URI as given.
        uri: String,
        /// Its scheme, lowercased.
        scheme: String,
    },
    /// `output_file` is absolute, contains `..`, is empty or otherwise leaves the sandbox.
    #[error("cannot fetch '{uri}': invalid output_file '{output_file}': {reason}")]
    InvalidOutputFile {
        /// The URI as given.
        uri: String,
        /// The `output_file` as given.
        output_file: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP server answered with a status other than 2xx.
    #[error("cannot fetch '{uri}': HTTP status {status}")]
    HttpStatus {
        /// The URI as given.
        uri: String,
        /// The status code received.
        status: u16,
    },
    /// The HTTP request failed (connection refused, TLS, protocol error, ...).
    #[error("cannot fetch '{uri}': HTTP request failed: {reason}")]
    Http {
        /// The URI as given.
        uri: String,
        /// The client's error, with its causes.
        reason: String,
    },
    /// The download is larger than [`FetcherOptions::max_size`](super::FetcherOptions::max_size).
    #[error("cannot fetch '{uri}': size exceeds the limit of {limit} bytes")]
    SizeLimitExceeded {
        /// The URI as given.
        uri: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The download did not finish within [`FetcherOptions::timeout`](super::FetcherOptions::timeout).
    #[error("cannot fetch '{uri}': timed out after {timeout:?}")]
    Timeout {
        /// The URI as given.
        uri: String,
        /// The timeout that elapsed.
        timeout: Duration,
    },
    /// A local file system operation failed.
    #[error("cannot fetch '{uri}': {context}: {source}")]
    Io {
        /// The URI as given.
        uri: String,
        /// What was being done, naming the path.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The archive holds an entry that would land outside the sandbox (or through a symlink);
    /// nothing of the archive was extracted.
    #[error("refusing to extract '{uri}': unsafe archive entry '{entry}': {reason}")]
    UnsafeArchive {
        /// The URI as given.
        uri: String,
        /// The entry's name as stored in the archive.
        entry: String,
        /// Why it is unsafe.
        reason: String,
    },
    /// The archive is corrupt or cannot be read.
    #[error("cannot extract '{uri}': {reason}")]
    Archive {
        /// The URI as given.
        uri: String,
        /// What went wrong.
        reason: String,
    },
    /// The archive's contents are larger than
    /// [`FetcherOptions::max_extracted_size`](super::FetcherOptions::max_extracted_size).
    #[error("cannot extract '{uri}': extracted size exceeds the limit of {limit} bytes")]
    ExtractLimitExceeded {
        /// The URI as given.
        uri: String,
        /// The limit in bytes.
        limit: u64,
    },
}

impl FetchError {
    /// The URI this error is about, if it is about one (all but [`FetchError::InvalidSandbox`]).
    pub fn uri(&self) -> Option<&str> {
        match self {
            FetchError::InvalidSandbox { .. } => None,
            FetchError::InvalidUri { uri, .. }
            | FetchError::UnsupportedScheme { uri, .. }
            | FetchError::InvalidOutputFile { uri, .. }
            | FetchError::HttpStatus { uri, .. }
            | FetchError::Http { uri, .. }
            | FetchError::SizeLimitExceeded { uri, .. }
            | FetchError::Timeout { uri, .. }
            | FetchError::Io { uri, .. }
            | FetchError::UnsafeArchive { uri, .. }
            | FetchError::Archive { uri, .. }
            | FetchError::ExtractLimitExceeded { uri, .. } => Some(uri),
        }
    }
}
