//! Serving a router: bind a TCP listener, serve an axum [`Router`] on it (and, if asked, on
//! a Unix domain socket too) in the background, stop gracefully on request.
//!
//! Binding to port 0 picks an ephemeral port; [`HttpServer::local_addr`] reports the one
//! bound, so tests and `mesos-local` can run many daemons side by side. Graceful shutdown
//! stops accepting and waits for open requests to finish; a streaming response only
//! finishes when its producer ends it, so producers should watch
//! [`ShutdownHandle::signalled`] and drop their senders.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Why a server could not start or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The address could not be bound (in use, not local, no permission).
    #[error("failed to bind {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// Serving failed.
    #[error("HTTP server on {addr} failed: {source}")]
    Serve {
        /// The address served.
        addr: SocketAddr,
        /// What failed.
        source: std::io::Error,
    },
    /// The serving task panicked or was cancelled.
    #[error("HTTP server task on {addr} ended abnormally: {reason}")]
    Task {
        /// The address served.
        addr: SocketAddr,
        /// The join error.
        reason: String,
    },
    /// Open requests did not finish within the grace period; the server was abandoned.
    #[error("HTTP server on {addr} still had open requests after {grace:?}")]
    ShutdownTimeout {
        /// The address served.
        addr: SocketAddr,
        /// The grace period waited.
        grace: Duration,
    },
}

/// A cloneable signal to shut a server down; also lets producers of streaming responses
/// learn that the server is stopping.
#[derive(Debug, Clone)]
pub struct ShutdownHandle {
    sender: Arc<watch::Sender<bool>>,
}

impl Default for ShutdownHandle {
    fn default() -> ShutdownHandle {
        ShutdownHandle::new()
    }
}

impl ShutdownHandle {
    /// A new handle, not yet signalled.
    pub fn new() -> ShutdownHandle {
        ShutdownHandle {
            sender: Arc::new(watch::Sender::new(false)),
        }
    }

    /// Asks the server to shut down gracefully. Idempotent.
    pub fn shutdown(&self) {
        self.sender.send_replace(true);
    }

    /// Whether shutdown has been asked for.
    pub fn is_shutdown(&self) -> bool {
        *self.sender.borrow()
    }

    /// Completes once shutdown has been asked for.
    pub async fn signalled(&self) {
        let mut receiver = self.sender.subscribe();
        // The sender lives in `self`, so the channel cannot close while we wait.
        let _ = receiver.wait_for(|stopping| *stopping).await;
    }
}

/// An HTTP/1.1 server running in the background on a Tokio runtime.
#[derive(Debug)]
pub struct HttpServer {
    local_addr: SocketAddr,
    shutdown: ShutdownHandle,
    task: JoinHandle<std::io::Result<()>>,
    /// The servers of the Unix sockets also served ([`HttpServer::serve_unix`]).
    unix_tasks: Vec<JoinHandle<std::io::Result<()>>>,
}

impl HttpServer {
    /// Binds `addr` (port 0: an ephemeral port) and serves `router` there until shut down.
    /// Must be called within a Tokio runtime.
    pub async fn bind(addr: SocketAddr, router: Router) -> Result<HttpServer, ServerError> {
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| ServerError::Bind { addr, source })?;
        HttpServer::serve(listener, router)
    }

    /// Serves `router` on an already bound listener (when the caller needs the address
    /// before the router exists) until shut down. Must be called within a Tokio runtime.
    pub fn serve(listener: TcpListener, router: Router) -> Result<HttpServer, ServerError> {
        let local_addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: SocketAddr::from(([0, 0, 0, 0], 0)),
            source,
        })?;
        let shutdown = ShutdownHandle::new();
        let signal = shutdown.clone();
        // Small RecordIO records must not wait for Nagle's algorithm.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        // Turned into a service once: `axum::serve` on a bare `Router` rebuilds every route
        // for each connection it accepts, about 17 KB and the CPU to build it, per agent
        // and per client connection.
        let service = router.with_state(()).into_make_service();
        let task = tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async move { signal.signalled().await })
                .await
        });
        Ok(HttpServer {
            local_addr,
            shutdown,
            task,
            unix_tasks: Vec::new(),
        })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// A handle that shuts this server down.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        self.shutdown.clone()
    }

    /// Shuts down: stops accepting, waits up to `grace` for open requests (on the TCP
    /// listener and every Unix socket) to finish. After `grace` the server tasks are
    /// abandoned and `ShutdownTimeout` returned.
    pub async fn shutdown(self, grace: Duration) -> Result<(), ServerError> {
        self.shutdown.shutdown();
        let addr = self.local_addr;
        let mut tasks = self.tasks();
        match tokio::time::timeout(grace, Self::join_all(addr, &mut tasks)).await {
            Ok(joined) => joined,
            Err(_) => {
                tasks.iter().for_each(JoinHandle::abort);
                Err(ServerError::ShutdownTimeout { addr, grace })
            }
        }
    }

    /// Waits until the server stops (after a [`ShutdownHandle::shutdown`] elsewhere).
    pub async fn wait(self) -> Result<(), ServerError> {
        let addr = self.local_addr;
        Self::join_all(addr, &mut self.tasks()).await
    }

    /// Also serves `router` on the Unix domain socket `listener` until this server is shut
    /// down; [`shutdown`](Self::shutdown) waits for its open requests too.
    pub fn serve_unix(&mut self, listener: UnixListener, router: Router) {
        let signal = self.shutdown.clone();
        let service = router.with_state(()).into_make_service();
        self.unix_tasks.push(tokio::spawn(async move {
            axum::serve(listener, service)
                .with_graceful_shutdown(async move { signal.signalled().await })
                .await
        }));
    }

    /// Every serving task: the TCP listener's, then the Unix sockets'.
    fn tasks(self) -> Vec<JoinHandle<std::io::Result<()>>> {
        std::iter::once(self.task).chain(self.unix_tasks).collect()
    }

    /// Waits for every task; the first failure.
    async fn join_all(
        addr: SocketAddr,
        tasks: &mut [JoinHandle<std::io::Result<()>>],
    ) -> Result<(), ServerError> {
        let mut result = Ok(());
        for task in tasks {
            result = result.and(Self::joined(addr, task.await));
        }
        result
    }

    fn joined(
        addr: SocketAddr,
        joined: Result<std::io::Result<()>, tokio::task::JoinError>,
    ) -> Result<(), ServerError> {
        match joined {
            Ok(Ok(())) => Ok(()),
            Ok(Err(source)) => Err(ServerError::Serve { addr, source }),
            Err(error) => Err(ServerError::Task {
                addr,
                reason: error.to_string(),
            }),
        }
    }
}
