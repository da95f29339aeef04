//! Finding the leading master in ZooKeeper, for agents, drivers and tools given
//! `--master=zk://...`.

use std::time::Duration;

use tokio::sync::{watch, OnceCell};
use zookeeper_client as zk;

use super::group::{connect, leader, leader_address};
use super::{ZkUrl, DEFAULT_SESSION_TIMEOUT};
use crate::scheduler::detector::{Detection, LeaderChange, MasterDetector};

/// How long to wait before reconnecting after ZooKeeper could not be reached.
const RECONNECT_DELAY: Duration = Duration::from_millis(500);

/// The longest a caller whose attempt at the leader failed waits for another leader
/// before it is given the same one again: a dead leader's node lasts a session timeout,
/// but a live one may only have been busy (recovering, just elected).
const FAILED_LEADER_WAIT: Duration = Duration::from_secs(1);

/// A [`MasterDetector`] that follows the leader elected under a ZooKeeper path: the master
/// whose `json.info_` node has the lowest sequence. It watches the group from its first
/// use on (inside the caller's tokio runtime) until it is dropped.
#[derive(Debug)]
pub struct ZkDetector {
    url: ZkUrl,
    session_timeout: Duration,
    follower: OnceCell<Follower>,
}

/// The task following the group, and what it last saw: the leader's `host:port`, or `None`
/// while no master leads.
#[derive(Debug)]
struct Follower {
    leader: watch::Receiver<Option<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl ZkDetector {
    /// A detector for the group at `url`, on sessions of Mesos' default timeout.
    pub fn new(url: ZkUrl) -> ZkDetector {
        ZkDetector::with_session_timeout(url, DEFAULT_SESSION_TIMEOUT)
    }

    /// A detector whose ZooKeeper sessions last `session_timeout` (`--zk_session_timeout`).
    pub fn with_session_timeout(url: ZkUrl, session_timeout: Duration) -> ZkDetector {
        ZkDetector {
            url,
            session_timeout,
            follower: OnceCell::new(),
        }
    }

    /// The leader as the detector sees it, updated as it changes. Starts following the
    /// group on first use.
    pub async fn leader(&self) -> watch::Receiver<Option<String>> {
        self.follower
            .get_or_init(|| async {
                let (tx, leader) = watch::channel(None);
                let task = tokio::spawn(follow(self.url.clone(), self.session_timeout, tx));
                Follower { leader, task }
            })
            .await
            .leader
            .clone()
    }
}

impl MasterDetector for ZkDetector {
    /// The current leader. After `failed`, gives the group a moment (a second, at most a
    /// session timeout) to elect another before answering with whoever leads then: the
    /// same master again if it still leads (it may only have been busy, or come back at
    /// the same address). While no master leads, waits for one.
    fn detect<'a>(&'a self, failed: Option<&'a str>) -> Detection<'a> {
        Box::pin(async move {
            let mut leader = self.leader().await;
            if failed.is_some() && leader.borrow().as_deref() == failed {
                let changed = leader.wait_for(|now| now.as_deref() != failed);
                let wait = self.session_timeout.min(FAILED_LEADER_WAIT);
                let _ = tokio::time::timeout(wait, changed).await;
            }
            let found = leader
                .wait_for(Option::is_some)
                .await
                .map(|l| l.clone().unwrap_or_default());
            Ok(found.unwrap_or_default())
        })
    }

    fn leader_changed<'a>(&'a self, failed: Option<&'a str>) -> LeaderChange<'a> {
        Box::pin(async move {
            let Some(failed) = failed else {
                return std::future::pending().await;
            };
            let mut leader = self.leader().await;
            let elected = leader.wait_for(|now| now.as_deref().is_some_and(|l| l != failed));
            if elected.await.is_err() {
                std::future::pending::<()>().await;
            }
        })
    }
}

/// Follows the group at `url` forever, publishing its leader on `tx`; reconnects after
/// a lost session.
async fn follow(url: ZkUrl, session_timeout: Duration, tx: watch::Sender<Option<String>>) {
    loop {
        match connect(&url, session_timeout).await {
            Ok(client) => {
                let reason = watch_group(&client, &url, &tx).await;
                tracing::info!(zk = %url, "following the leader again: {reason}");
            }
            Err(e) => tracing::debug!("leader detection: {e}"),
        }
        tokio::time::sleep(RECONNECT_DELAY).await;
    }
}

/// Publishes the leader of the group each time the group changes, until the session fails.
async fn watch_group(
    client: &zk::Client,
    url: &ZkUrl,
    tx: &watch::Sender<Option<String>>,
) -> String {
    loop {
        let watcher = match client.list_and_watch_children(&url.path).await {
            Ok((children, watcher)) => {
                let found = leader_of(client, url, &children).await;
                tx.send_if_modified(|now| {
                    let changed = *now != found;
                    *now = found;
                    changed
                });
                watcher
            }
            Err(zk::Error::NoNode) => {
                tx.send_if_modified(|now| now.take().is_some());
                match client.check_and_watch_stat(&url.path).await {
                    Ok((_, watcher)) => watcher,
                    Err(e) => return e.to_string(),
                }
            }
            Err(e) => return e.to_string(),
        };
        let event = watcher.changed().await;
        if event.event_type == zk::EventType::Session {
            return format!("session {:?}", event.session_state);
        }
    }
}

/// The leader's address among `children`, read from its node; `None` when no contender
/// is there or its MasterInfo cannot be read (a leader that vanished meanwhile is seen
/// through the next change of the group).
async fn leader_of(client: &zk::Client, url: &ZkUrl, children: &[String]) -> Option<String> {
    let name = leader(children)?;
    let (data, _) = client
        .get_data(&format!("{}/{name}", url.path))
        .await
        .ok()?;
    match leader_address(&data) {
        Ok(address) => Some(address),
        Err(e) => {
            tracing::warn!(zk = %url, node = name, "{e}");
            None
        }
    }
}
