//! The Mesos master: frameworks subscribe over the v1 scheduler API and get offers of the
//! resources agents register with; tasks flow to agents; operators read and change the
//! cluster over the v1 operator API and the JSON endpoints.
//!
//! [`Master`] is the running master: an HTTP server and one owner task that holds the
//! [`MasterState`] (DESIGN §5). HTTP handlers decode and validate the wire format, then
//! send a command to the owner, which applies it and answers; nothing else touches the
//! state, so there are no locks around it. The state machine itself (`state`, `agents`,
//! `operations`, `timers`) takes time as an argument and can be driven without sockets.
//!
//! - `scheduler_api`: `POST /api/v1/scheduler`.
//! - `agent_api`: `POST /master/internal/agent`, the agent protocol (`mesos.internal`).
//! - `operator_api`: `POST /api/v1`, the v1 operator API; `operator_state` builds its
//!   answers, `operator_events` its SUBSCRIBE stream.
//! - `runtime`: the owner task and its commands.

mod agent_api;
mod agents;
mod election;
mod events;
pub mod flags;
mod inverse_offers;
mod json_api;
pub mod json_endpoints;
pub mod metrics;
mod model;
mod operations;
mod operator_api;
mod operator_events;
mod operator_state;
mod quota;
mod runtime;
mod scheduler_api;
mod state;
mod state_writer;
mod timers;
pub mod validation;

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;

pub use agents::{AgentConnection, RemovalKind};
pub use events::is_terminal;
pub(crate) use events::wall_clock;
pub use runtime::MasterHandle;
pub use state::{MasterState, Subscription};

use crate::http::{HttpError, HttpServer, ServerError};
use crate::proto::mesos::v1::{Address, MasterInfo};
use crate::registry::{
    FileRegistry, InMemoryRegistry, Registry, RegistryError, ZkRegistry, ZkRegistryOptions,
};

/// A call the master refuses, with the HTTP status it maps to.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Malformed or invalid (400).
    #[error("{0}")]
    BadRequest(String),
    /// Not allowed in the current state (403).
    #[error("{0}")]
    Forbidden(String),
    /// Refers to something unknown (404).
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// The master cannot serve it now (503), e.g. a registry write failed.
    #[error("{0}")]
    Unavailable(String),
}

impl From<CallError> for HttpError {
    fn from(error: CallError) -> HttpError {
        match error {
            CallError::BadRequest(r) => HttpError::bad_request(r),
            CallError::Forbidden(r) => HttpError::forbidden(r),
            CallError::NotFound(r) => HttpError::not_found(r),
            CallError::Conflict(r) => HttpError::conflict(r),
            CallError::Unavailable(r) => HttpError::service_unavailable(r),
        }
    }
}

/// Where the master keeps its registry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistryStore {
    /// Nothing survives a restart (`--registry=in_memory`).
    InMemory,
    /// The embedded durable store under this work directory (`--work_dir`).
    WorkDir(PathBuf),
    /// ZooKeeper, under `<path>/registry` of this URL (`--zk` with
    /// `--registry=replicated_log`): the ensemble is the replicated store.
    ZooKeeper(crate::ha::ZkUrl),
}

/// What the state machine runs with: this master's identity and the options it was
/// started with.
#[derive(Debug, Clone)]
pub struct MasterConfig {
    /// This master's info, as sent to frameworks and agents.
    pub master_info: MasterInfo,
    /// The options (flags) it was started with.
    pub options: MasterOptions,
}

/// Everything a [`Master`] starts with.
#[derive(Debug, Clone)]
pub struct MasterOptions {
    /// Address to bind (`--ip`, `--port`; port 0 picks one).
    pub bind: SocketAddr,
    /// `--hostname` (default: the bound IP).
    pub hostname: Option<String>,
    /// `--advertise_ip` / `--advertise_port`: the address others should use.
    pub advertise: Option<SocketAddr>,
    /// `--cluster`.
    pub cluster: Option<String>,
    /// `--registry` / `--work_dir`.
    pub registry: RegistryStore,
    /// `--roles`.
    pub roles: Option<Vec<String>>,
    /// `--weights`.
    pub weights: Vec<(String, f64)>,
    /// `--allocation_interval`.
    pub allocation_interval: Duration,
    /// `--offer_timeout`.
    pub offer_timeout: Option<Duration>,
    /// `--agent_ping_timeout`.
    pub agent_ping_timeout: Duration,
    /// `--max_agent_ping_timeouts`.
    pub max_agent_ping_timeouts: u32,
    /// `--agent_reregister_timeout`.
    pub agent_reregister_timeout: Duration,
    /// `--max_completed_frameworks`.
    pub max_completed_frameworks: usize,
    /// `--max_completed_tasks_per_framework`.
    pub max_completed_tasks_per_framework: usize,
    /// `--min_allocatable_resources`.
    pub min_allocatable_resources: Vec<BTreeMap<String, f64>>,
    /// Framework heartbeat interval.
    pub heartbeat_interval: Duration,
    /// `--zk`: contend for leadership in ZooKeeper; `None` is a standalone master.
    pub zk: Option<crate::ha::ZkUrl>,
    /// `--zk_session_timeout`.
    pub zk_session_timeout: Duration,
    /// The flags as `/flags` and GET_FLAGS show them.
    pub flags: BTreeMap<String, String>,
}

impl Default for MasterOptions {
    /// Mesos' defaults, on 127.0.0.1 with an ephemeral port and an in-memory registry.
    fn default() -> MasterOptions {
        MasterOptions {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
            hostname: None,
            advertise: None,
            cluster: None,
            registry: RegistryStore::InMemory,
            roles: None,
            weights: Vec::new(),
            allocation_interval: Duration::from_secs(1),
            offer_timeout: None,
            agent_ping_timeout: Duration::from_secs(15),
            max_agent_ping_timeouts: 5,
            agent_reregister_timeout: Duration::from_secs(600),
            max_completed_frameworks: 50,
            max_completed_tasks_per_framework: 1000,
            min_allocatable_resources: crate::allocator::AllocatorOptions::default()
                .min_allocatable_resources,
            heartbeat_interval: Duration::from_secs(15),
            zk: None,
            zk_session_timeout: crate::ha::DEFAULT_SESSION_TIMEOUT,
            flags: BTreeMap::new(),
        }
    }
}

/// Why a master could not start.
#[derive(Debug, thiserror::Error)]
pub enum MasterError {
    /// The HTTP server could not bind.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The registry could not be opened or recovered.
    #[error("failed to recover the registry: {0}")]
    Registry(#[from] RegistryError),
    /// The options are inconsistent (e.g. invalid weights).
    #[error("invalid master options: {0}")]
    Options(String),
}

/// A running master: its HTTP server and owner task.
#[derive(Debug)]
pub struct Master {
    info: MasterInfo,
    server: HttpServer,
    handle: MasterHandle,
    /// The owner task, or for a master under `--zk` the candidacy that starts it.
    owner: JoinHandle<Option<String>>,
    candidacy: Option<Candidacy>,
}

/// A master under `--zk`: why it lost leadership (once it has), and how to withdraw.
#[derive(Debug)]
struct Candidacy {
    lost: watch::Receiver<Option<String>>,
    stop: oneshot::Sender<()>,
    gate: Arc<election::Gate>,
}

/// A standalone master may always act.
fn always() -> bool {
    true
}

/// Recovers the registry and starts the owner task on it, acting while `may_act` holds.
/// The task ends with the reason when a registry write shows that this master may lead
/// no more (see [`RegistryError::ends_leadership`]).
fn spawn_owner(
    options: &MasterOptions,
    info: &MasterInfo,
    receiver: mpsc::UnboundedReceiver<runtime::Command>,
    handle: MasterHandle,
    may_act: impl Fn() -> bool + Send + Sync + 'static,
) -> Result<JoinHandle<Option<String>>, MasterError> {
    let mut registry: Box<dyn Registry> = match &options.registry {
        RegistryStore::InMemory => Box::new(InMemoryRegistry::new()),
        RegistryStore::WorkDir(dir) => Box::new(FileRegistry::open(FileRegistry::dir_in(dir))?),
        RegistryStore::ZooKeeper(url) => Box::new(ZkRegistry::open(
            url,
            ZkRegistryOptions {
                session_timeout: options.zk_session_timeout,
                ..ZkRegistryOptions::default()
            },
        )?),
    };
    let recovered = registry.recover()?;
    let mut settings = options.clone();
    settings.max_agent_ping_timeouts = settings.max_agent_ping_timeouts.max(1);
    let config = MasterConfig {
        master_info: info.clone(),
        options: settings,
    };
    let mut state = MasterState::new(config, registry, recovered, Instant::now())
        .map_err(|e| MasterError::Options(e.to_string()))?;
    state
        .write_registry(vec![crate::registry::Operation::UpdateMasterInfo(
            info.clone(),
        )])
        .map_err(|e| MasterError::Options(e.to_string()))?;
    Ok(tokio::spawn(runtime::run(
        state,
        receiver,
        handle,
        options.allocation_interval,
        Box::new(may_act),
    )))
}

/// Where others reach a master bound at `addr`: `addr` itself, unless it is a wildcard
/// (`--ip=0.0.0.0`, the default), which no other host can dial. Then, as libprocess does,
/// the address this host's name resolves to, or else the one of the interface that routes
/// off the host, or else loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    if !addr.ip().is_unspecified() {
        return addr;
    }
    let usable = |ip: &IpAddr| ip.is_ipv4() && !ip.is_loopback() && !ip.is_unspecified();
    let by_name = || {
        use std::net::ToSocketAddrs;
        let hostname = nix::unistd::gethostname().ok()?.into_string().ok()?;
        (hostname.as_str(), 0)
            .to_socket_addrs()
            .ok()?
            .map(|a| a.ip())
            .find(usable)
    };
    let routed = || {
        // Connecting a UDP socket sends nothing; it only picks the outgoing interface.
        let socket = std::net::UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)).ok()?;
        socket.connect((Ipv4Addr::new(192, 0, 2, 1), 9)).ok()?;
        Some(socket.local_addr().ok()?.ip()).filter(usable)
    };
    let ip = by_name()
        .or_else(routed)
        .unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
    SocketAddr::new(ip, addr.port())
}

/// The MasterInfo of a master bound at `addr`.
fn master_info(options: &MasterOptions, addr: SocketAddr) -> MasterInfo {
    let advertised = reachable(options.advertise.unwrap_or(addr));
    let ip = match advertised.ip() {
        IpAddr::V4(v4) => u32::from_le_bytes(v4.octets()),
        IpAddr::V6(_) => 0,
    };
    let hostname = options
        .hostname
        .clone()
        .unwrap_or_else(|| advertised.ip().to_string());
    MasterInfo {
        id: uuid::Uuid::new_v4().to_string(),
        ip,
        port: u32::from(advertised.port()),
        pid: Some(format!("master@{advertised}")),
        hostname: Some(hostname.clone()),
        version: Some(crate::MESOS_WIRE_VERSION.to_string()),
        address: Some(Address {
            hostname: Some(hostname),
            ip: Some(advertised.ip().to_string()),
            port: i32::from(advertised.port()),
        }),
        domain: None,
        capabilities: ["AGENT_UPDATE", "AGENT_DRAINING", "QUOTA_V2"]
            .iter()
            .filter_map(|name| {
                crate::proto::mesos::v1::master_info::capability::Type::from_str_name(name)
            })
            .map(|t| crate::proto::mesos::v1::master_info::Capability {
                r#type: Some(t as i32),
            })
            .collect(),
    }
}

impl Master {
    /// Recovers the registry, binds the HTTP server and starts the owner task. Must be
    /// called within a Tokio runtime.
    pub async fn start(options: MasterOptions) -> Result<Master, MasterError> {
        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|source| ServerError::Bind {
                addr: options.bind,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: options.bind,
            source,
        })?;
        let info = master_info(&options, addr);
        let (commands, receiver) = mpsc::unbounded_channel();
        let handle = MasterHandle::new(commands, options.flags.clone(), options.cluster.clone());
        let Some(url) = options.zk.clone() else {
            let owner = spawn_owner(&options, &info, receiver, handle.clone(), always)?;
            let server = HttpServer::serve(listener, routes(handle.clone()))?;
            return Ok(Master {
                info,
                server,
                handle,
                owner,
                candidacy: None,
            });
        };
        if let RegistryStore::ZooKeeper(registry) = &options.registry {
            tracing::info!(
                node = %ZkRegistry::node_of(registry),
                "the registry is kept in ZooKeeper (--quorum has no effect: the ensemble \
                 replicates it)"
            );
        }
        let timeout = options.zk_session_timeout;
        let contender = crate::ha::MasterContender::contend(&url, &info, timeout)
            .await
            .map_err(|e| MasterError::Options(e.to_string()))?;
        let detector = crate::ha::ZkDetector::with_session_timeout(url, timeout);
        let own = format!(
            "{}:{}",
            info.address
                .as_ref()
                .and_then(|a| a.ip.clone())
                .unwrap_or_default(),
            info.port
        );
        let gate = Arc::new(election::Gate::new(
            &contender,
            detector.leader().await,
            own,
        ));
        let acting = gate.clone();
        let start: election::StartOwner = {
            let (options, info, handle) = (options.clone(), info.clone(), handle.clone());
            Box::new(move || {
                spawn_owner(&options, &info, receiver, handle, move || acting.acting())
                    .map_err(|e| e.to_string())
            })
        };
        let router = routes(handle.clone()).layer(axum::middleware::from_fn_with_state(
            gate.clone(),
            election::gate,
        ));
        let server = HttpServer::serve(listener, router)?;
        let (lost_tx, lost) = watch::channel(None);
        let (stop, stop_rx) = oneshot::channel();
        let (election_handle, election_gate) = (handle.clone(), gate.clone());
        let owner = tokio::spawn(async move {
            // The detector follows the leader for the gate's redirects as long as this runs.
            let _detector = detector;
            election::run(
                contender,
                election_gate,
                start,
                election_handle,
                lost_tx,
                stop_rx,
            )
            .await;
            None
        });
        Ok(Master {
            info,
            server,
            handle,
            owner,
            candidacy: Some(Candidacy { lost, stop, gate }),
        })
    }

    /// The address the master serves on.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// This master's MasterInfo (its id, address and version).
    pub fn info(&self) -> &MasterInfo {
        &self.info
    }

    /// Whether this master acts as the leader: always for a standalone master; under
    /// `--zk`, while it is elected and its ZooKeeper lease holds.
    pub fn is_leading(&self) -> bool {
        match &self.candidacy {
            None => true,
            Some(candidacy) => candidacy.gate.acting(),
        }
    }

    /// Waits until this master can no longer lead and says why; never returns for a
    /// standalone master. A master that lost leadership has stopped acting; Mesos'
    /// masters exit then, and so does `mesos-master`.
    pub async fn leadership_lost(&self) -> String {
        let Some(candidacy) = &self.candidacy else {
            return std::future::pending().await;
        };
        let mut lost = candidacy.lost.clone();
        let reason = lost.wait_for(Option::is_some).await.map(|r| r.clone());
        match reason {
            Ok(Some(reason)) => reason,
            _ => "the candidacy ended".into(),
        }
    }

    /// A handle to send commands to the master.
    pub fn handle(&self) -> &MasterHandle {
        &self.handle
    }

    /// Stops the master: the owner task ends (closing every stream), then the HTTP server
    /// (waiting up to 5 s for requests in flight); the port is free when this returns.
    pub async fn stop(self) {
        match self.candidacy {
            Some(candidacy) => {
                let _ = candidacy.stop.send(());
            }
            None => self.handle.stop(),
        }
        let _ = self.owner.await;
        let _ = self.server.shutdown(Duration::from_secs(5)).await;
    }
}

/// Every route the master serves.
fn routes(handle: MasterHandle) -> Router {
    Router::new()
        .merge(scheduler_api::routes(handle.clone()))
        .merge(agent_api::routes(handle.clone()))
        .merge(operator_api::routes(handle.clone()))
        .merge(json_api::routes(handle))
        .merge(crate::http::common_routes(crate::http::version_info()))
}
