//! What an [`Agent`](super::Agent) is started with: the settings `mesos-agent`'s flags
//! describe, already parsed and checked.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::agent::containerizer::ContainerizerConfig;
use crate::proto::mesos::v1::{Attribute, DomainInfo, Resource};

/// What to do with executors that were running when the agent restarts (`--recover`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoverMode {
    /// `reconnect`: reconnect to checkpointed executors that are still running.
    Reconnect,
    /// `cleanup`: kill every executor that was running and forget the agent's state
    /// ([`Agent::cleanup`](super::Agent::cleanup), after which `mesos-agent` exits); an
    /// agent started with it destroys every container it recovers.
    Cleanup,
}

/// Settings of an [`Agent`](super::Agent).
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// The master to register with (`--master`): `host:port`, or as given when it is a
    /// comma-separated list or a `zk://` / `file://` URL.
    pub master: String,
    /// Where the agent's HTTP server listens (`--ip`, `--port`; port 0 picks one).
    pub bind: SocketAddr,
    /// The address executors and the master reach the agent at (`--advertise_ip`,
    /// `--advertise_port`); the bound address when `None`.
    pub advertise: Option<SocketAddr>,
    /// The hostname reported to the master (`--hostname`).
    pub hostname: String,
    /// Sandboxes, checkpoints and the agent id live here (`--work_dir`).
    pub work_dir: PathBuf,
    /// The agent's total resources: detected from the host, overridden by `--resources`.
    pub resources: Vec<Resource>,
    /// `--attributes`.
    pub attributes: Vec<Attribute>,
    /// `--domain`: the agent's fault domain.
    pub domain: Option<DomainInfo>,
    /// The Unix socket the agent also serves its executor API on, named to executors as
    /// `MESOS_DOMAIN_SOCKET` (`--http_executor_domain_sockets`, `--domain_socket_location`);
    /// `None` (Mesos' default) leaves executors on TCP only.
    pub executor_domain_socket: Option<PathBuf>,
    /// `--isolation`, `--launcher`, `--cgroups_root`, `--cgroups_enable_cfs`.
    pub containerizer: ContainerizerConfig,
    /// The program run as the command executor for tasks without an ExecutorInfo
    /// (`mesos-executor`, found in `--launcher_dir`).
    pub command_executor: PathBuf,
    /// The program run as the default executor of task groups whose ExecutorInfo has no
    /// command (`mesos-default-executor`, found in `--launcher_dir`).
    pub default_executor: PathBuf,
    /// How long an executor has to subscribe after it is launched
    /// (`--executor_registration_timeout`, Mesos default 1 minute).
    pub executor_registration_timeout: Duration,
    /// How long a recovered executor has to subscribe again after the agent restarted
    /// (`--executor_reregistration_timeout`, Mesos default 2 seconds).
    pub executor_reregistration_timeout: Duration,
    /// How long an executor has to exit after SHUTDOWN before it is killed
    /// (`--executor_shutdown_grace_period`, Mesos default 5 seconds).
    pub executor_shutdown_grace_period: Duration,
    /// `--recover`.
    pub recover: RecoverMode,
    /// Which changes of the agent's flags a restart accepts (`--reconfiguration_policy`,
    /// Mesos default `equal`).
    pub reconfiguration_policy: super::ReconfigurationPolicy,
    /// How long a recovering agent waits for its executors to reconnect
    /// (`--recovery_timeout`, Mesos default 15 minutes).
    pub recovery_timeout: Duration,
    /// How long sandboxes of finished executors are kept (`--gc_delay`, Mesos default
    /// 1 week).
    pub gc_delay: Duration,
    /// The share of the disk kept free by collecting sandboxes sooner
    /// (`--gc_disk_headroom`, Mesos default 0.1).
    pub gc_disk_headroom: f64,
    /// The most the agent waits between attempts to (re-)register
    /// (`--registration_backoff_factor` scales the first wait; Mesos default 1 second).
    pub registration_backoff_factor: Duration,
    /// The ZooKeeper session timeout when `master` is a `zk://` URL
    /// (`--zk_session_timeout`, Mesos default 10 seconds).
    pub zk_session_timeout: Duration,
    /// Every flag by name as `/flags` and GET_FLAGS show them.
    pub flags: BTreeMap<String, String>,
}
