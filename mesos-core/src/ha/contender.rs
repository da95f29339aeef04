//! A master contending for leadership.
//!
//! Each master creates an ephemeral sequential node `<path>/json.info_<seq>` holding its
//! MasterInfo JSON and leads when its node has the lowest sequence; otherwise it watches
//! the node just below its own. ZooKeeper deletes a contender's node when its session
//! ends, which elects the next.
//!
//! No two leaders may act at once. A leader holds a *lease*: after every successful round
//! trip to ZooKeeper it may act for three quarters of the session timeout from when the
//! request was sent; ZooKeeper cannot expire the session (and so elect another master)
//! sooner than a whole timeout after it last heard from us. A leader that is frozen
//! (SIGSTOP) or cut off finds its lease run out the moment it runs again, before it
//! learns that its session expired; [`MasterContender::is_leading`] checks the lease.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;
use zookeeper_client as zk;

use super::group::{connect, leader, sequence, zk_error, LEADER_PREFIX};
use super::{HaError, ZkUrl};
use crate::proto::mesos::v1::MasterInfo;

/// Where a contender stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Leadership {
    /// Another master leads; this one waits its turn.
    Contending,
    /// This master leads (while its lease holds).
    Leading,
    /// This master can never lead again on this session, for the reason given; a master
    /// in this state must stop acting at once (Mesos' masters exit).
    Lost(String),
}

/// When the leader may act until, as nanoseconds since `base`; 0 is never.
#[derive(Debug)]
struct Lease {
    base: Instant,
    until: AtomicU64,
}

impl Lease {
    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.base).as_nanos()).unwrap_or(u64::MAX)
    }

    fn extend_to(&self, until: Instant) {
        self.until.fetch_max(self.nanos(until), Ordering::SeqCst);
    }

    fn revoke(&self) {
        self.until.store(0, Ordering::SeqCst);
    }

    fn holds(&self) -> bool {
        self.nanos(Instant::now()) < self.until.load(Ordering::SeqCst)
    }
}

/// A master's candidacy: its node in the group, and whether it leads.
#[derive(Debug)]
pub struct MasterContender {
    node: String,
    leadership: watch::Receiver<Leadership>,
    lease: Arc<Lease>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MasterContender {
    /// Withdraws: the session closes, ZooKeeper deletes the node, the next master leads.
    fn drop(&mut self) {
        self.lease.revoke();
        self.task.abort();
    }
}

impl MasterContender {
    /// Joins the group at `url` with `info` on a session of `session_timeout`. Returns once
    /// the node exists; leadership follows through [`MasterContender::leadership`].
    pub async fn contend(
        url: &ZkUrl,
        info: &MasterInfo,
        session_timeout: Duration,
    ) -> Result<MasterContender, HaError> {
        let client = connect(url, session_timeout).await?;
        let acls = zk::Acls::anyone_all();
        client
            .mkdir(&url.path, &zk::CreateMode::Persistent.with_acls(acls))
            .await
            .map_err(|e| zk_error(url, &format!("cannot create {}", url.path), e))?;
        let data = crate::json::to_string(info);
        let prefix = format!("{}/{LEADER_PREFIX}", url.path);
        let (_, seq) = client
            .create(
                &prefix,
                data.as_bytes(),
                &zk::CreateMode::EphemeralSequential.with_acls(acls),
            )
            .await
            .map_err(|e| zk_error(url, "cannot create the contender node", e))?;
        let name = format!("{LEADER_PREFIX}{seq}");
        let node = format!("{}/{name}", url.path);
        tracing::info!(node = %node, zk = %url, "contending for leadership");
        let (tx, leadership) = watch::channel(Leadership::Contending);
        let lease = Arc::new(Lease {
            base: Instant::now(),
            until: AtomicU64::new(0),
        });
        let election = Election {
            client,
            path: url.path.clone(),
            name,
            session_timeout,
            tx,
            lease: lease.clone(),
        };
        Ok(MasterContender {
            node,
            leadership,
            lease,
            task: tokio::spawn(election.run()),
        })
    }

    /// The full path of this master's node.
    pub fn node(&self) -> &str {
        &self.node
    }

    /// Where this master stands, updated as it changes.
    pub fn leadership(&self) -> watch::Receiver<Leadership> {
        self.leadership.clone()
    }

    /// Whether this master leads and may act now: elected, and its lease holds.
    pub fn is_leading(&self) -> bool {
        *self.leadership.borrow() == Leadership::Leading && self.lease.holds()
    }

    /// A check of [`MasterContender::is_leading`] that outlives the contender's borrow, for
    /// code on other tasks that must not act without leadership.
    pub fn lease_check(&self) -> impl Fn() -> bool + Send + Sync + 'static {
        let leadership = self.leadership.clone();
        let lease = self.lease.clone();
        move || *leadership.borrow() == Leadership::Leading && lease.holds()
    }

    /// Waits until this master is elected; the reason if it lost its candidacy instead.
    pub async fn elected(&self) -> Result<(), String> {
        let mut leadership = self.leadership.clone();
        let state = leadership
            .wait_for(|l| *l != Leadership::Contending)
            .await
            .map(|l| l.clone());
        match state {
            Ok(Leadership::Leading) => Ok(()),
            Ok(Leadership::Lost(reason)) => Err(reason),
            _ => Err("the election ended".into()),
        }
    }

    /// Waits until this master can no longer lead, and says why.
    pub async fn lost(&self) -> String {
        let mut leadership = self.leadership.clone();
        let state = leadership
            .wait_for(|l| matches!(l, Leadership::Lost(_)))
            .await
            .map(|l| l.clone());
        match state {
            Ok(Leadership::Lost(reason)) => reason,
            _ => "the election ended".into(),
        }
    }
}

/// The election task of one contender.
struct Election {
    client: zk::Client,
    path: String,
    name: String,
    session_timeout: Duration,
    tx: watch::Sender<Leadership>,
    lease: Arc<Lease>,
}

/// What one look at the group found.
enum Position {
    /// Our node has the lowest sequence.
    Leader,
    /// The node just below ours, to watch.
    Behind(String),
    /// Our node is no longer there.
    Gone,
}

type Watch = Pin<Box<dyn Future<Output = zk::WatchedEvent> + Send>>;

impl Election {
    async fn run(self) {
        let reason = self.contend().await;
        tracing::warn!(node = %self.name, "lost leadership candidacy: {reason}");
        self.lease.revoke();
        self.tx.send_replace(Leadership::Lost(reason));
    }

    fn leading(&self) -> bool {
        *self.tx.borrow() == Leadership::Leading
    }

    /// Follows the group until this contender can no longer lead; returns why.
    async fn contend(&self) -> String {
        let mut states = self.client.state_watcher();
        let mut tick = tokio::time::interval(self.session_timeout / 4);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut predecessor: Option<Watch> = None;
        let mut disconnected_since: Option<Instant> = None;
        let mut look = true;
        loop {
            if look && disconnected_since.is_none() && !self.leading() {
                look = false;
                let sent = Instant::now();
                match self.position().await {
                    Ok(Position::Leader) => {
                        self.lease.extend_to(sent + self.session_timeout * 3 / 4);
                        tracing::info!(node = %self.name, "elected leading master");
                        self.tx.send_replace(Leadership::Leading);
                    }
                    Ok(Position::Behind(below)) => {
                        let path = format!("{}/{below}", self.path);
                        match self.client.check_and_watch_stat(&path).await {
                            Ok((Some(_), watcher)) => {
                                predecessor = Some(Box::pin(watcher.changed()));
                            }
                            // Gone between the listing and the watch: look again.
                            Ok((None, _)) => look = true,
                            // Retried on the next tick.
                            Err(_) => look = true,
                        }
                    }
                    Ok(Position::Gone) => return "its node in ZooKeeper is gone".into(),
                    Err(_) => look = true,
                }
            }
            tokio::select! {
                state = states.changed() => match state {
                    zk::SessionState::Disconnected => {
                        disconnected_since.get_or_insert_with(Instant::now);
                    }
                    zk::SessionState::SyncConnected | zk::SessionState::ConnectedReadOnly => {
                        disconnected_since = None;
                        look = true;
                    }
                    zk::SessionState::Expired => return "its ZooKeeper session expired".into(),
                    zk::SessionState::AuthFailed => {
                        return "ZooKeeper refused its credentials".into()
                    }
                    zk::SessionState::Closed => return "its ZooKeeper session closed".into(),
                },
                _ = async { predecessor.as_mut().expect("guarded").await },
                    if predecessor.is_some() =>
                {
                    predecessor = None;
                    look = true;
                }
                _ = tick.tick() => {
                    if let Some(since) = disconnected_since {
                        if since.elapsed() >= self.session_timeout {
                            return "it was cut off from ZooKeeper for its whole session timeout"
                                .into();
                        }
                    } else if self.leading() {
                        let sent = Instant::now();
                        let node = format!("{}/{}", self.path, self.name);
                        match self.client.check_stat(&node).await {
                            Ok(Some(_)) => self.lease.extend_to(sent + self.session_timeout * 3 / 4),
                            Ok(None) => return "its node in ZooKeeper is gone".into(),
                            Err(_) => {}
                        }
                    } else {
                        look |= predecessor.is_none();
                    }
                }
            }
        }
    }

    /// Lists the group and places our node in it.
    async fn position(&self) -> Result<Position, zk::Error> {
        let children = self.client.list_children(&self.path).await?;
        let Some(mine) = sequence(&self.name) else {
            return Ok(Position::Gone);
        };
        if !children.contains(&self.name) {
            return Ok(Position::Gone);
        }
        if leader(&children) == Some(self.name.as_str()) {
            return Ok(Position::Leader);
        }
        let below = children
            .iter()
            .filter_map(|name| Some((sequence(name)?, name)))
            .filter(|(seq, _)| *seq < mine)
            .max()
            .map(|(_, name)| name.clone());
        Ok(below.map_or(Position::Leader, Position::Behind))
    }
}
