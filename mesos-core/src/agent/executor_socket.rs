//! The Unix domain socket executors reach the agent's executor API through when the agent
//! runs with `--http_executor_domain_sockets` (Mesos' executor domain sockets). It saves
//! executors the loopback TCP stack; the agent goes on serving TCP for executors that do not
//! know `MESOS_DOMAIN_SOCKET`.
//!
//! The socket file is made when the agent starts and removed when it stops. One left by an
//! agent that died is replaced; one another agent is serving is not.

use std::io::ErrorKind;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

use crate::durable_fs;

/// Why the executors' domain socket could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ExecutorSocketError {
    /// Another process serves the socket (another agent with the same location).
    #[error(
        "the executor domain socket {} is served by another process (another agent?); give \
         this agent its own --domain_socket_location",
        .0.display()
    )]
    InUse(PathBuf),
    /// Something other than a socket is at the socket's path; it is left alone.
    #[error(
        "cannot make the executor domain socket {}: a file that is not a socket is there",
        .0.display()
    )]
    NotASocket(PathBuf),
    /// The socket or its directory could not be made.
    #[error("cannot make the executor domain socket {}: {source}", .path.display())]
    Io {
        /// The socket's path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// Binds the socket at `path` (making its directory), readable and writable by every user
/// as the agent's TCP port is reachable by every user: executors may run as any user. Must
/// be called within a Tokio runtime.
pub fn bind(path: &Path) -> Result<UnixListener, ExecutorSocketError> {
    let io = |source| ExecutorSocketError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    remove_stale(path)?;
    let listener = UnixListener::bind(path).map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o666)).map_err(io)?;
    Ok(listener)
}

/// Removes the socket file once the agent stopped serving it; a failure is logged, as
/// the next start replaces a stale file anyway.
pub fn remove(path: &Path) {
    if let Err(error) = durable_fs::remove_if_exists(path) {
        tracing::warn!("cannot remove {}: {error}", path.display());
    }
}

/// Removes a socket file nobody serves any more; refuses one that is served or that is
/// not a socket.
fn remove_stale(path: &Path) -> Result<(), ExecutorSocketError> {
    let io = |source| ExecutorSocketError::Io {
        path: path.to_path_buf(),
        source,
    };
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(error) if error.kind() == ErrorKind::NotFound => return Ok(()),
        Err(error) => return Err(io(error)),
    };
    if !metadata.file_type().is_socket() {
        return Err(ExecutorSocketError::NotASocket(path.to_path_buf()));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(ExecutorSocketError::InUse(path.to_path_buf()));
    }
    std::fs::remove_file(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;

    use super::*;
    use crate::http::HttpServer;

    #[tokio::test]
    async fn a_stale_socket_is_replaced_and_a_served_one_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run").join("agent.sock");
        let first = bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o666);
        let error = bind(&path).unwrap_err();
        assert!(matches!(error, ExecutorSocketError::InUse(_)), "{error}");
        drop(first);
        // The file of a socket nobody serves any more is still there; it is replaced.
        assert!(path.exists());
        let _second = bind(&path).unwrap();
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_socket_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        std::fs::write(&path, "data").unwrap();
        let error = bind(&path).unwrap_err();
        assert!(
            matches!(error, ExecutorSocketError::NotASocket(_)),
            "{error}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "data");
    }

    #[tokio::test]
    async fn serves_until_the_server_stops_then_removes_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.sock");
        let listener = bind(&path).unwrap();
        let mut server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), Router::new())
            .await
            .unwrap();
        let router = Router::new().route("/ping", axum::routing::get(|| async { "pong" }));
        server.serve_unix(listener, router);
        let client = reqwest::Client::builder()
            .unix_socket(path.as_path())
            .build()
            .unwrap();
        let answer = client.get("http://agent/ping").send().await.unwrap();
        assert_eq!(answer.text().await.unwrap(), "pong");
        server.shutdown(Duration::from_secs(5)).await.unwrap();
        remove(&path);
        assert!(!path.exists());
        assert!(client.get("http://agent/ping").send().await.is_err());
    }
}
