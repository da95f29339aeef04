//! The Mesos agent: runs tasks on a host.
//!
//! [`Agent`] registers with the master over the internal protocol ([`master_link`],
//! [`master_session`]), launches executors in containers ([`containerizer`], with the
//! launch described by [`executor_launch`]), serves them the v1 executor API
//! ([`executor_api`], over TCP and, if asked, a Unix socket: [`executor_socket`]) and
//! relays their status updates through the status update manager ([`status_update`]).
//! Its state is owned by one task ([`runtime`], [`state`]).
//!
//! * [`flags`]: the `mesos-agent` flags; [`host`]: the resources this host offers.
//! * [`files`]: the sandbox browsing of `/files/*`, LIST_FILES and READ_FILE.
//! * [`paths`]: the work directory layout (sandboxes, checkpoints); [`checkpoint`]: what a
//!   restarted agent recovers; [`gc`]: removal of old sandboxes.
//! * [`fetcher`]: URIs into a sandbox.
//! * [`simulated`]: an agent that runs nothing, for tests and benchmarks of the master.

pub mod checkpoint;
mod cleanup;
pub mod containerizer;
mod executor_api;
pub mod executor_launch;
pub mod executor_socket;
mod exit_watch;
pub mod fetcher;
pub mod files;
pub mod flags;
pub mod gc;
pub mod host;
mod json_api;
pub mod master_link;
mod master_session;
mod operator_api;
pub mod options;
pub mod paths;
pub mod reconfiguration;
pub mod runtime;
pub mod simulated;
pub mod state;
pub mod state_views;
pub mod status_update;
pub mod top_directory;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

pub use cleanup::Cleanup;
pub use options::{AgentOptions, RecoverMode};
pub use reconfiguration::ReconfigurationPolicy;
pub use runtime::AgentHandle;

use crate::http::{HttpServer, ServerError};
use crate::proto::mesos::v1::{AgentId, AgentInfo};
use crate::resources::Resources;
use containerizer::{Containerizer, ContainerizerError};
use state::AgentState;

/// Why an agent could not start.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The work directory cannot be used.
    #[error("cannot use work directory {path}: {source}")]
    WorkDir {
        /// The directory.
        path: std::path::PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The containerizer could not be built from the flags.
    #[error(transparent)]
    Containerizer(#[from] ContainerizerError),
    /// The HTTP server could not start.
    #[error(transparent)]
    Server(#[from] ServerError),
    /// The executors' domain socket could not be made.
    #[error(transparent)]
    ExecutorSocket(#[from] executor_socket::ExecutorSocketError),
    /// The checkpoints of the previous run could not be read.
    #[error(
        "cannot recover the agent's checkpoints (remove {}/meta to start afresh): {source}",
        .work_dir.display()
    )]
    Recovery {
        /// What could not be read.
        source: checkpoint::CheckpointError,
        /// The agent's work directory.
        work_dir: std::path::PathBuf,
    },
    /// The agent's flags changed since its previous run in a way `--reconfiguration_policy`
    /// does not accept.
    #[error(
        "the agent's configuration is incompatible with its previous run \
         (--reconfiguration_policy={}): {reason}; start it with the flags it had, or remove \
         {} to start it as a new agent",
        .policy.name(),
        .latest.display()
    )]
    IncompatibleAgentInfo {
        /// What changed.
        reason: String,
        /// The policy in force.
        policy: ReconfigurationPolicy,
        /// The link naming the previous run's agent id (`meta/slaves/latest`).
        latest: std::path::PathBuf,
    },
    /// `--master` cannot be used.
    #[error("{0}")]
    Master(String),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

/// A running agent.
#[derive(Debug)]
pub struct Agent {
    server: HttpServer,
    handle: AgentHandle,
    stop: oneshot::Sender<()>,
    owner: JoinHandle<AgentState>,
    session: JoinHandle<()>,
    sender: JoinHandle<()>,
    /// The executors' domain socket the server also serves, removed once it stopped.
    executor_socket: Option<std::path::PathBuf>,
    grace: Duration,
}

/// How long [`Agent::stop`] waits for executors on top of their shutdown grace period.
const STOP_SLACK: Duration = Duration::from_secs(15);

impl Agent {
    /// Starts an agent: binds its HTTP server, builds its containerizer and begins
    /// registering with the master. Must be called within a Tokio runtime.
    pub async fn start(options: AgentOptions) -> Result<Agent, AgentError> {
        std::fs::create_dir_all(&options.work_dir).map_err(|source| AgentError::WorkDir {
            path: options.work_dir.clone(),
            source,
        })?;
        let containerizer = Arc::new(Containerizer::from_config(&options.containerizer)?);
        let listener = tokio::net::TcpListener::bind(options.bind)
            .await
            .map_err(|source| ServerError::Bind {
                addr: options.bind,
                source,
            })?;
        let bound = listener.local_addr().map_err(|source| ServerError::Bind {
            addr: options.bind,
            source,
        })?;
        let endpoint = options.advertise.unwrap_or_else(|| {
            if bound.ip().is_unspecified() {
                SocketAddr::new(Ipv4Addr::LOCALHOST.into(), bound.port())
            } else {
                bound
            }
        });
        let mut info = AgentInfo {
            hostname: options.hostname.clone(),
            port: Some(i32::from(endpoint.port())),
            resources: options.resources.clone(),
            attributes: options.attributes.clone(),
            domain: options.domain.clone(),
            id: paths::recorded_agent_id(&options.work_dir).map(|value| AgentId { value }),
        };
        let runs = match &info.id {
            Some(id) => {
                let checkpoints = checkpoint::Checkpoints::new(&options.work_dir, &id.value);
                let recovery = |source| AgentError::Recovery {
                    source,
                    work_dir: options.work_dir.clone(),
                };
                // Work directories of agents that did not record their info yet are taken
                // to have had the flags of this run.
                let previous = checkpoints
                    .read_agent_info()
                    .map_err(recovery)?
                    .unwrap_or_else(|| info.clone());
                let policy = options.reconfiguration_policy;
                reconfiguration::check(policy, &previous, &info).map_err(|reason| {
                    AgentError::IncompatibleAgentInfo {
                        reason,
                        policy,
                        latest: paths::latest_agent_link(&options.work_dir),
                    }
                })?;
                if let Some(checkpointed) = checkpoints.read_resources().map_err(recovery)? {
                    let added =
                        reconfiguration::added_resources(&previous.resources, &options.resources);
                    if added.is_empty() {
                        info.resources = checkpointed;
                    } else {
                        // The new info (with the flags' resources) goes first: a crash
                        // before the total is written leaves the additions out of the
                        // total, where the other order would count them twice.
                        checkpoints.write_agent_info(&info).map_err(recovery)?;
                        info.resources =
                            (Resources::from_protos_lossy(&checkpointed) + added).to_protos();
                        checkpoints
                            .write_resources(&info.resources)
                            .map_err(recovery)?;
                    }
                }
                checkpoints.recover().map_err(recovery)?
            }
            None => Vec::new(),
        };
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(4)
            .build()?;
        let detector =
            crate::scheduler::master_detector(&options.master, options.zk_session_timeout)
                .map_err(|e| AgentError::Master(e.to_string()))?;
        // Made last of what can fail, so that a failed start leaves no socket file.
        let socket_path = options.executor_domain_socket.clone();
        let socket_listener = socket_path
            .as_deref()
            .map(executor_socket::bind)
            .transpose()?;
        let (current, current_url) = tokio::sync::watch::channel(None);
        let (handle, commands) = AgentHandle::new();
        let files = files::Files::new();
        let (outbox, calls) = mpsc::unbounded_channel();
        let grace = options.executor_shutdown_grace_period;
        let backoff = options.registration_backoff_factor;
        let flags = options.flags.clone();
        let mut state = AgentState::new(
            Arc::new(options),
            endpoint,
            info,
            containerizer.clone(),
            handle.clone(),
            outbox,
            files.clone(),
        );
        state.recover(runs);
        let (stop, stopped) = oneshot::channel();
        let owner = tokio::spawn(runtime::run(state, commands, stopped));
        let sender = tokio::spawn(master_session::send_calls(
            client.clone(),
            current_url,
            calls,
        ));
        let session = tokio::spawn(master_session::run(
            handle.clone(),
            client,
            detector,
            backoff,
            current,
        ));
        let api = json_api::JsonApi {
            handle: handle.clone(),
            containerizer,
            files,
        };
        let mut server = HttpServer::serve(listener, routes(api, flags))?;
        if let Some(listener) = socket_listener {
            server.serve_unix(listener, executor_api::routes(handle.clone()));
        }
        Ok(Agent {
            server,
            handle,
            stop,
            owner,
            session,
            sender,
            executor_socket: socket_path,
            grace,
        })
    }

    /// The address the agent's HTTP server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.server.local_addr()
    }

    /// A handle to run closures on the agent's state.
    pub fn handle(&self) -> &AgentHandle {
        &self.handle
    }

    /// The agent id, once the master registered the agent.
    pub async fn id(&self) -> Option<String> {
        self.handle
            .run(|s| s.is_registered().then(|| s.agent_id().value))
            .await
            .ok()
            .flatten()
    }

    /// Waits up to `timeout` for the agent to be registered; its id.
    pub async fn registered(&self, timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(id) = self.id().await {
                return Some(id);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the agent: shuts every executor down (destroying its container after the
    /// shutdown grace period), then stops serving. No process or cgroup of it remains.
    pub async fn stop(self) {
        self.session.abort();
        let _ = self.handle.run(|s| s.shutdown_all()).await;
        let deadline = tokio::time::Instant::now() + self.grace + STOP_SLACK;
        while tokio::time::Instant::now() < deadline {
            let idle = self
                .handle
                .run(|s| s.frameworks.values().all(|f| f.executors.is_empty()))
                .await
                .unwrap_or(true);
            if idle {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = self.stop.send(());
        let _ = self.owner.await;
        self.sender.abort();
        let _ = self.server.shutdown(Duration::from_secs(5)).await;
        if let Some(path) = &self.executor_socket {
            executor_socket::remove(path);
        }
    }
}

/// Every route the agent serves.
fn routes(api: json_api::JsonApi, flags: std::collections::BTreeMap<String, String>) -> Router {
    Router::new()
        .merge(executor_api::routes(api.handle.clone()))
        .merge(operator_api::routes(api.clone()))
        .merge(files::routes(api.files.clone()))
        .merge(json_api::routes(api))
        .route(
            "/flags",
            axum::routing::get(move || {
                let flags = flags.clone();
                async move { crate::http::flags_response(&flags) }
            }),
        )
        .merge(crate::http::common_routes(crate::http::version_info()))
}
