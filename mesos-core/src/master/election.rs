//! A master under `--zk`: it serves HTTP from the start but acts only while it leads.
//!
//! Until elected (and again once it has lost leadership) every request is answered as
//! Mesos' standby masters answer: 307 to the leader's address, keeping the path, or 503
//! while no leader is known. `/health`, `/version` and `/flags` are served by any master;
//! `/redirect` sends to the leader whoever asks. Once elected the master recovers its
//! registry, starts its owner task, and serves; requests that arrive while it recovers
//! wait for it (up to [`RECOVERY_WAIT`]) rather than being refused, so that agents and
//! drivers that found the new leader do not back off from it. When its candidacy ends
//! (session expired, cut off from ZooKeeper) it stops its owner task at once and reports
//! the loss, on which `mesos-master` exits as Mesos' masters do.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

use super::MasterHandle;
use crate::ha::MasterContender;

/// How long a request waits for an elected master to finish recovering.
const RECOVERY_WAIT: Duration = Duration::from_secs(30);

/// How often a request waiting for recovery checks that this master still leads.
const LEASE_RECHECK: Duration = Duration::from_millis(100);

/// Whether this master may serve the leader's requests, and where the leader is.
pub(super) struct Gate {
    /// The owner task runs on this master's elected state.
    serving: watch::Sender<bool>,
    /// Whether the contender leads with a lease that holds.
    lease: Box<dyn Fn() -> bool + Send + Sync>,
    /// The leader as ZooKeeper names it.
    leader: watch::Receiver<Option<String>>,
    /// This master's own `host:port`, to tell a redirect to itself.
    own: String,
}

impl std::fmt::Debug for Gate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gate")
            .field("acting", &self.acting())
            .field("leader", &*self.leader.borrow())
            .finish()
    }
}

impl Gate {
    pub(super) fn new(
        contender: &MasterContender,
        leader: watch::Receiver<Option<String>>,
        own: String,
    ) -> Gate {
        Gate {
            serving: watch::Sender::new(false),
            lease: Box::new(contender.lease_check()),
            leader,
            own,
        }
    }

    /// Whether this master acts as the leader now.
    pub(super) fn acting(&self) -> bool {
        *self.serving.borrow() && (self.lease)()
    }

    /// Waits while this master's contender leads but the master is not serving yet (it is
    /// recovering its registry), up to [`RECOVERY_WAIT`]. Whether it leads is the
    /// contender's own election, not the address ZooKeeper names: a master restarted on a
    /// dead leader's address sees that address lead until the dead session expires.
    async fn recovered(&self) {
        if *self.serving.borrow() {
            return;
        }
        let deadline = tokio::time::Instant::now() + RECOVERY_WAIT;
        let mut serving = self.serving.subscribe();
        while !*serving.borrow_and_update()
            && (self.lease)()
            && tokio::time::Instant::now() < deadline
        {
            let _ = tokio::time::timeout(LEASE_RECHECK, serving.changed()).await;
        }
    }

    /// A 307 to the leader at `path` (a path and query), or 503 while none is known (or
    /// ZooKeeper names this master, which is not serving yet).
    fn redirect(&self, path: &str) -> Response {
        match self.leader.borrow().as_deref() {
            Some(leader) if leader != self.own => (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, format!("//{leader}{path}"))],
            )
                .into_response(),
            _ => (
                StatusCode::SERVICE_UNAVAILABLE,
                "No leading master is serving; try again shortly",
            )
                .into_response(),
        }
    }
}

/// Served by every master, leading or not.
fn served_by_any_master(path: &str) -> bool {
    let path = path.strip_prefix("/master").unwrap_or(path);
    matches!(path, "/health" | "/version" | "/flags")
}

/// The middleware in front of every route of a master under `--zk`.
pub(super) async fn gate(State(gate): State<Arc<Gate>>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    if !served_by_any_master(path) {
        gate.recovered().await;
    }
    if path == "/redirect" || path == "/master/redirect" {
        if gate.acting() {
            return (
                StatusCode::TEMPORARY_REDIRECT,
                [(header::LOCATION, format!("//{}", gate.own))],
            )
                .into_response();
        }
        return gate.redirect("");
    }
    if served_by_any_master(path) || gate.acting() {
        return next.run(request).await;
    }
    let target = request
        .uri()
        .path_and_query()
        .map_or(path.to_string(), |p| p.as_str().to_string());
    gate.redirect(&target)
}

/// Starts the owner task of an elected master, or says why it cannot. The task ends with
/// a reason when the master must stop leading.
pub(super) type StartOwner = Box<dyn FnOnce() -> Result<JoinHandle<Option<String>>, String> + Send>;

/// Runs one candidacy: waits to be elected, serves while leading, and publishes on `lost`
/// why it can lead no more. Ends early, withdrawing, when `stop` fires.
pub(super) async fn run(
    contender: MasterContender,
    gate: Arc<Gate>,
    start: StartOwner,
    handle: MasterHandle,
    lost: watch::Sender<Option<String>>,
    mut stop: oneshot::Receiver<()>,
) {
    let elected = tokio::select! {
        elected = contender.elected() => elected,
        _ = &mut stop => return,
    };
    if let Err(reason) = elected {
        lost.send_replace(Some(reason));
        return;
    }
    let mut owner = match start() {
        Ok(owner) => owner,
        Err(reason) => {
            tracing::error!("cannot lead: {reason}");
            lost.send_replace(Some(reason));
            return;
        }
    };
    gate.serving.send_replace(true);
    tracing::info!("leading master serving");
    let (reason, owner) = tokio::select! {
        reason = contender.lost() => (Some(reason), Some(owner)),
        ended = &mut owner => {
            let reason = match ended {
                Ok(Some(reason)) => reason,
                Ok(None) => "the master stopped".to_string(),
                Err(e) => format!("the master's owner task failed: {e}"),
            };
            (Some(reason), None)
        }
        _ = &mut stop => (None, Some(owner)),
    };
    gate.serving.send_replace(false);
    handle.stop();
    if let Some(owner) = owner {
        let _ = owner.await;
    }
    drop(contender);
    if let Some(reason) = reason {
        tracing::error!("lost leadership: {reason}");
        lost.send_replace(Some(reason));
    }
}
