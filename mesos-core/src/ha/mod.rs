//! High availability on ZooKeeper, laid out as Apache Mesos does it so that existing
//! detectors (pymesos, mesos-dns, Marathon) find our leader:
//!
//! - [`ZkUrl`]: `zk://[user:password@]host:port[,host:port...]/path` (or `file://` naming a
//!   file that holds one), as `--zk` and `--master` take it;
//! - [`MasterContender`]: a master contends by creating an ephemeral sequential node
//!   `<path>/json.info_<seq>` holding its MasterInfo JSON; the lowest sequence leads. A
//!   leader whose session expires, or that has not heard from ZooKeeper for most of its
//!   session timeout, stops leading at once;
//! - [`ZkDetector`]: the [`MasterDetector`](crate::scheduler::MasterDetector) that reads
//!   the leader from those nodes, for agents, drivers and tools.

mod contender;
mod detector;
mod group;
mod url;

pub use contender::{Leadership, MasterContender};
pub use detector::ZkDetector;
pub(crate) use group::connect;
pub use group::{leader_address, LEADER_PREFIX};
pub use url::ZkUrl;

use std::time::Duration;

/// Mesos' default `--zk_session_timeout`.
pub const DEFAULT_SESSION_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a ZooKeeper operation of ours failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HaError {
    /// A `zk://` URL (or the file naming one) is not valid.
    #[error("invalid ZooKeeper URL '{url}': {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// ZooKeeper could not be reached or refused an operation.
    #[error("ZooKeeper at {servers}: {reason}")]
    ZooKeeper {
        /// The servers of the URL.
        servers: String,
        /// What failed.
        reason: String,
    },
    /// A leader's node does not hold a MasterInfo we can read.
    #[error("the leader's MasterInfo is unreadable: {0}")]
    BadMasterInfo(String),
}
