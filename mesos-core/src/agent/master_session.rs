//! The agent's connection to its master: registers (re-registers with its id and what it
//! runs after the first time), feeds the master's events to the state, and registers again
//! with backoff whenever the stream ends, at the master the `--master` detector names next
//! (the next address of a list, or the leader ZooKeeper names). Calls to
//! the master go out in order through one sender task, to the master registered with.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, watch};

use super::master_link::{self, LinkError};
use super::runtime::AgentHandle;
use crate::proto::mesos::internal::AgentCall;
use crate::scheduler::MasterDetector;

/// How long a call to the master may take before it is given up (updates are retried).
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest wait between two registration attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The agent protocol URL of the master at `endpoint` (`host:port`).
pub(super) fn agent_url(endpoint: &str) -> String {
    format!("http://{endpoint}{}", master_link::AGENT_PATH)
}

/// Registers with the master `detector` finds and serves its events until the agent stops
/// or a master refuses the agent for good (it was removed); `current` tells the sender
/// where the agent is registered. After a failed attempt or a lost stream the detector is
/// asked again, naming the master that failed.
pub(super) async fn run(
    handle: AgentHandle,
    client: reqwest::Client,
    detector: Arc<dyn MasterDetector>,
    backoff_factor: Duration,
    current: watch::Sender<Option<reqwest::Url>>,
) {
    let initial = backoff_factor.max(Duration::from_millis(10));
    let mut backoff = initial;
    let mut failed: Option<String> = None;
    loop {
        let Ok(register) = handle.run(|s| s.register_message()).await else {
            return;
        };
        let endpoint = match detector.detect(failed.as_deref()).await {
            Ok(endpoint) => endpoint,
            Err(e) => {
                tracing::error!("cannot find the master: {e}");
                return;
            }
        };
        let registration = match reqwest::Url::parse(&agent_url(&endpoint)) {
            Ok(url) => master_link::register(&client, url.clone(), register)
                .await
                .map(|registration| (url, registration)),
            Err(e) => Err(LinkError::Url(format!("{endpoint}: {e}"))),
        };
        match registration {
            Ok((url, registration)) => {
                current.send_replace(Some(url.clone()));
                backoff = initial;
                let stream_id = registration.stream_id;
                let registered = registration.registered;
                handle.send(move |s| s.registered(registered, stream_id));
                let mut events = registration.events;
                while let Some(event) = events.next().await {
                    handle.send(move |s| s.master_event(event));
                }
                tracing::warn!("lost the connection to the master at {url}; registering again");
                if handle.run(|s| s.master_disconnected()).await.is_err() {
                    return;
                }
                failed = Some(endpoint);
            }
            Err(LinkError::Refused { status: 403, body }) => {
                tracing::error!("the master refused this agent for good: {body}");
                handle.send(|s| {
                    s.shutdown_all();
                    s.shut_down = true;
                });
                return;
            }
            Err(e) => {
                tracing::debug!("registration with the master at {endpoint} failed: {e}");
                failed = Some(endpoint);
            }
        }
        let pause = backoff.mul_f64(0.5 + rand_fraction() / 2.0);
        backoff = (backoff * 2).min(MAX_BACKOFF);
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            () = detector.leader_changed(failed.as_deref()) => {
                // As Mesos' agents: a newly detected leader is tried at once (after a
                // random fraction of the first backoff, so agents do not come in a herd).
                backoff = initial;
                tokio::time::sleep(initial.mul_f64(rand_fraction())).await;
            }
        }
    }
}

/// A number in [0, 1) for backoff jitter.
fn rand_fraction() -> f64 {
    let bytes = uuid::Uuid::new_v4();
    f64::from(u16::from_le_bytes([
        bytes.as_bytes()[0],
        bytes.as_bytes()[1],
    ])) / 65536.0
}

/// Posts the agent's calls to the master (the one `current` names, parsed once per
/// registration) one after the other, in the order they were made. Status updates that
/// are ready together go in one call (see [`master_link::coalesce_status_updates`]).
/// Calls made before the first registration are dropped: what must reach the master
/// (status updates) is retried by its manager.
pub(super) async fn send_calls(
    client: reqwest::Client,
    current: watch::Receiver<Option<reqwest::Url>>,
    mut calls: mpsc::UnboundedReceiver<(String, AgentCall)>,
) {
    while let Some(first) = calls.recv().await {
        let mut ready = vec![first];
        while let Ok(next) = calls.try_recv() {
            ready.push(next);
        }
        for (stream_id, call) in master_link::coalesce_status_updates(ready) {
            let Some(url) = current.borrow().clone() else {
                tracing::debug!("not registered with a master: a call is dropped");
                continue;
            };
            let sent = tokio::time::timeout(
                CALL_TIMEOUT,
                master_link::post(&client, url, &stream_id, &call),
            )
            .await;
            match sent {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::debug!("call to the master failed: {e}"),
                Err(_) => tracing::debug!("call to the master timed out"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_agent_protocol_lives_under_the_master() {
        assert_eq!(
            agent_url("127.0.0.1:5050"),
            "http://127.0.0.1:5050/master/internal/agent"
        );
    }
}
