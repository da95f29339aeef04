//! A whole cluster in one process, as `mesos-local` runs it: one [`Master`] and a number of
//! [`Agent`]s registered with it, each agent with its own work directory under one
//! cluster directory.
//!
//! The master and agents are the library types the `mesos-master` and `mesos-agent` daemons
//! run, built from the same flags (so their defaults and checks are those daemons'); only
//! the flags that tie them together (addresses, work directories, cgroups roots, executor
//! programs) are chosen here.

use std::ffi::OsStr;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::agent::containerizer::cgroups::Cgroups;
use crate::agent::flags::{AgentFlags, COMMAND_EXECUTOR, DEFAULT_EXECUTOR};
use crate::agent::options::AgentOptions;
use crate::agent::{Agent, AgentError};
use crate::executor::BuiltinExecutor;
use crate::flags::FlagsError;
use crate::master::flags::MasterFlags;
use crate::master::{Master, MasterError};

/// Resources each agent offers unless [`LocalOptions::resources`] says otherwise: small
/// enough that several agents fit on one machine, big enough for a few example tasks.
pub const DEFAULT_AGENT_RESOURCES: &str = "cpus:2;mem:1024;disk:4096;ports:[31000-32000]";

/// Where the agents find the built-in executors they launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExecutorPrograms {
    /// Separate programs: the command executor (`mesos-executor`) and the default executor
    /// (`mesos-default-executor`). A path without `/` is looked up in `PATH`.
    Programs {
        /// The command executor.
        command_executor: PathBuf,
        /// The default executor.
        default_executor: PathBuf,
    },
    /// One multi-call program that runs as either executor when started under its name
    /// (see [`invoked_as_executor`]): the cluster links `<work_dir>/bin/mesos-executor`
    /// and `<work_dir>/bin/mesos-default-executor` to it and has the agents launch those.
    MultiCall(PathBuf),
}

/// How to start a [`LocalCluster`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalOptions {
    /// How many agents to start.
    pub num_agents: usize,
    /// The cluster directory: the master's registry in `master/`, agent `n`'s work
    /// directory in `agents/<n>/`. `None` makes a fresh temporary directory that
    /// [`LocalCluster::stop`] removes; a given directory is kept.
    pub work_dir: Option<PathBuf>,
    /// The address the master and every agent listen on.
    pub ip: IpAddr,
    /// The master's port; 0 picks a free one.
    pub port: u16,
    /// 0 gives every agent a free port; otherwise agent `n` (from 0) listens on
    /// `agent_port + n`.
    pub agent_port: u16,
    /// What each agent offers, in `--resources` syntax; what it leaves out is detected
    /// from the host.
    pub resources: String,
    /// The agents' `--isolation`; `None` keeps the agent's default (posix isolators,
    /// which need no root).
    pub isolation: Option<String>,
    /// The agents' `--launcher` (`posix` or `linux`); `None` keeps the agent's default.
    pub launcher: Option<String>,
    /// The executor programs the agents launch.
    pub executors: ExecutorPrograms,
}

impl Default for LocalOptions {
    /// One agent with [`DEFAULT_AGENT_RESOURCES`] on 127.0.0.1, free ports, a temporary
    /// directory, and the executors looked up in `PATH`.
    fn default() -> LocalOptions {
        LocalOptions {
            num_agents: 1,
            work_dir: None,
            ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            agent_port: 0,
            resources: DEFAULT_AGENT_RESOURCES.to_string(),
            isolation: None,
            launcher: None,
            executors: ExecutorPrograms::Programs {
                command_executor: PathBuf::from(COMMAND_EXECUTOR),
                default_executor: PathBuf::from(DEFAULT_EXECUTOR),
            },
        }
    }
}

/// Why a [`LocalCluster`] did not start, or its agents did not register.
#[derive(Debug, thiserror::Error)]
pub enum LocalError {
    /// The cluster directory (or something in it) could not be made.
    #[error("cannot prepare {path}: {source}")]
    WorkDir {
        /// What could not be made.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The options make no valid master.
    #[error("invalid master settings: {0}")]
    MasterFlags(FlagsError),
    /// The options make no valid agent (a bad `--resources`, `--isolation` or
    /// `--launcher`).
    #[error("invalid agent settings: {0}")]
    AgentFlags(FlagsError),
    /// The master did not start.
    #[error("the master did not start: {0}")]
    Master(#[from] MasterError),
    /// An agent did not start.
    #[error("agent {index} did not start: {source}")]
    Agent {
        /// Which agent (from 0).
        index: usize,
        /// Why.
        source: AgentError,
    },
    /// Not every agent registered with the master in time.
    #[error("only {registered} of {total} agents registered within {timeout:?}")]
    NotRegistered {
        /// How many did.
        registered: usize,
        /// How many were started.
        total: usize,
        /// How long was waited.
        timeout: Duration,
    },
}

/// A running master and its agents.
#[derive(Debug)]
pub struct LocalCluster {
    master: Master,
    agents: Vec<Agent>,
    work_dir: PathBuf,
    /// The agents' `--cgroups_root`s, agent 0's first.
    cgroups_roots: Vec<String>,
    temp_dir: Option<tempfile::TempDir>,
}

impl LocalCluster {
    /// Prepares the cluster directory, starts the master and then every agent at once.
    /// Returns once the master serves and every agent is started (registration goes on:
    /// see [`LocalCluster::wait_for_agents`]). Must be called within a Tokio runtime.
    pub async fn start(options: LocalOptions) -> Result<LocalCluster, LocalError> {
        let (work_dir, temp_dir) = match &options.work_dir {
            Some(dir) => {
                create_dir(dir)?;
                (dir.clone(), None)
            }
            None => {
                let temp = tempfile::Builder::new()
                    .prefix("mesos-local-")
                    .tempdir()
                    .map_err(|source| LocalError::WorkDir {
                        path: std::env::temp_dir(),
                        source,
                    })?;
                (temp.path().to_path_buf(), Some(temp))
            }
        };
        let (command_executor, default_executor) = executor_paths(&options.executors, &work_dir)?;

        let master_dir = work_dir.join("master");
        let master_args = vec![
            format!("--ip={}", options.ip),
            format!("--port={}", options.port),
            format!("--work_dir={}", master_dir.display()),
        ];
        let master_flags = MasterFlags::parse_from_with_env(with_program(master_args), no_env)
            .map_err(LocalError::MasterFlags)?;
        let master = Master::start(master_flags.to_options()).await?;
        let master_addr = master.addr();

        let agent_options = match agent_options(
            &options,
            &work_dir,
            master_addr,
            &command_executor,
            &default_executor,
        ) {
            Ok(agent_options) => agent_options,
            Err(e) => {
                master.stop().await;
                return Err(e);
            }
        };

        let mut starting = tokio::task::JoinSet::new();
        for (index, agent) in agent_options.into_iter().enumerate() {
            starting.spawn(async move { (index, Agent::start(agent).await) });
        }
        let mut started: Vec<Option<Agent>> = (0..options.num_agents).map(|_| None).collect();
        let mut failure = None;
        while let Some(joined) = starting.join_next().await {
            match joined {
                Ok((index, Ok(agent))) => started[index] = Some(agent),
                Ok((index, Err(source))) => {
                    failure.get_or_insert(LocalError::Agent { index, source });
                }
                Err(panic) => std::panic::resume_unwind(panic.into_panic()),
            }
        }
        let agents: Vec<Agent> = started.into_iter().flatten().collect();
        let cluster = LocalCluster {
            master,
            agents,
            cgroups_roots: (0..options.num_agents)
                .map(|index| cgroups_root(&work_dir, index))
                .collect(),
            work_dir,
            temp_dir,
        };
        match failure {
            None => Ok(cluster),
            Some(error) => {
                cluster.stop().await;
                Err(error)
            }
        }
    }

    /// The address the master serves on.
    pub fn master_addr(&self) -> SocketAddr {
        self.master.addr()
    }

    /// The addresses the agents serve on, agent 0 first.
    pub fn agent_addrs(&self) -> Vec<SocketAddr> {
        self.agents.iter().map(Agent::addr).collect()
    }

    /// The cluster directory.
    pub fn work_dir(&self) -> &Path {
        &self.work_dir
    }

    /// The master.
    pub fn master(&self) -> &Master {
        &self.master
    }

    /// The agents, agent 0 first.
    pub fn agents(&self) -> &[Agent] {
        &self.agents
    }

    /// Waits up to `timeout` for every agent to be registered with the master.
    pub async fn wait_for_agents(&self, timeout: Duration) -> Result<(), LocalError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut registered = 0;
        for agent in &self.agents {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if agent.registered(left).await.is_none() {
                break;
            }
            registered += 1;
        }
        if registered == self.agents.len() {
            Ok(())
        } else {
            Err(LocalError::NotRegistered {
                registered,
                total: self.agents.len(),
                timeout,
            })
        }
    }

    /// Stops every agent at once (each shuts its executors down and destroys their
    /// containers), then the master; then removes the agents' emptied cgroups roots, and
    /// the cluster directory if it was a temporary one.
    pub async fn stop(self) {
        let mut stopping = tokio::task::JoinSet::new();
        for agent in self.agents {
            stopping.spawn(agent.stop());
        }
        while stopping.join_next().await.is_some() {}
        self.master.stop().await;
        for root in &self.cgroups_roots {
            remove_cgroups_root(root);
        }
        if let Some(temp) = self.temp_dir {
            if let Err(e) = temp.close() {
                tracing::warn!("cannot remove {}: {e}", self.work_dir.display());
            }
        }
    }
}

/// The options of every agent: the same but for port, work directory and cgroups root.
fn agent_options(
    options: &LocalOptions,
    work_dir: &Path,
    master_addr: SocketAddr,
    command_executor: &Path,
    default_executor: &Path,
) -> Result<Vec<AgentOptions>, LocalError> {
    (0..options.num_agents)
        .map(|index| {
            let port = match options.agent_port {
                0 => 0,
                first => usize::from(first) + index,
            };
            let agent_dir = work_dir.join("agents").join(index.to_string());
            create_dir(&agent_dir)?;
            let mut args = vec![
                format!("--master={master_addr}"),
                format!("--ip={}", options.ip),
                format!("--port={port}"),
                format!("--work_dir={}", agent_dir.display()),
                format!("--resources={}", options.resources),
                format!("--cgroups_root={}", cgroups_root(work_dir, index)),
            ];
            if let Some(isolation) = &options.isolation {
                args.push(format!("--isolation={isolation}"));
            }
            if let Some(launcher) = &options.launcher {
                args.push(format!("--launcher={launcher}"));
            }
            let mut agent = AgentFlags::parse_from_with_env(with_program(args), no_env)
                .and_then(|flags| flags.to_options())
                .map_err(LocalError::AgentFlags)?;
            agent.command_executor = command_executor.to_path_buf();
            agent.default_executor = default_executor.to_path_buf();
            Ok(agent)
        })
        .collect()
}

/// The built-in executor a multi-call program should run as, judged by the file name it
/// was started under (`argv[0]`): `mesos-executor` or `mesos-default-executor`.
pub fn invoked_as_executor(argv0: &OsStr) -> Option<BuiltinExecutor> {
    let name = Path::new(argv0).file_name()?;
    if name == COMMAND_EXECUTOR {
        Some(BuiltinExecutor::Command)
    } else if name == DEFAULT_EXECUTOR {
        Some(BuiltinExecutor::Default)
    } else {
        None
    }
}

/// The command and default executor programs the agents are given; for a multi-call
/// program, the links to it made in `<work_dir>/bin`.
fn executor_paths(
    executors: &ExecutorPrograms,
    work_dir: &Path,
) -> Result<(PathBuf, PathBuf), LocalError> {
    match executors {
        ExecutorPrograms::Programs {
            command_executor,
            default_executor,
        } => Ok((command_executor.clone(), default_executor.clone())),
        ExecutorPrograms::MultiCall(program) => {
            let bin = work_dir.join("bin");
            create_dir(&bin)?;
            let link = |name: &str| -> Result<PathBuf, LocalError> {
                let path = bin.join(name);
                let io_error = |source| LocalError::WorkDir {
                    path: path.clone(),
                    source,
                };
                match std::fs::remove_file(&path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_error(e)),
                }
                std::os::unix::fs::symlink(program, &path).map_err(io_error)?;
                Ok(path)
            };
            Ok((link(COMMAND_EXECUTOR)?, link(DEFAULT_EXECUTOR)?))
        }
    }
}

/// Agent `index`'s `--cgroups_root`: distinct per agent and per cluster directory, since an
/// agent destroys every container under its root that it does not know as an orphan.
fn cgroups_root(work_dir: &Path, index: usize) -> String {
    let mut hasher = DefaultHasher::new();
    work_dir
        .canonicalize()
        .unwrap_or_else(|_| work_dir.to_path_buf())
        .hash(&mut hasher);
    format!("mesos-local-{:016x}-agent-{index}", hasher.finish())
}

/// Removes the (empty) cgroups root `root` from every hierarchy it is in; nothing when the
/// host has no cgroups or the agent made none.
fn remove_cgroups_root(root: &str) {
    let Ok(cgroups) = Cgroups::detect(root) else {
        return;
    };
    for controller in cgroups.controllers() {
        // A container's cgroup is `<hierarchy>/<root>/<id>`: its parent is the root.
        let Ok(probe) = cgroups.container(controller, "root") else {
            continue;
        };
        let Some(path) = probe.path().parent() else {
            continue;
        };
        match std::fs::remove_dir(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => tracing::warn!("cannot remove cgroup {}: {e}", path.display()),
        }
    }
}

fn create_dir(path: &Path) -> Result<(), LocalError> {
    std::fs::create_dir_all(path).map_err(|source| LocalError::WorkDir {
        path: path.to_path_buf(),
        source,
    })
}

/// `args` after a program name, as the flag parsers take them.
fn with_program(args: Vec<String>) -> impl Iterator<Item = String> {
    std::iter::once("mesos-local".to_string()).chain(args)
}

/// No environment: a cluster's daemons take only the flags given here, never the
/// process' `MESOS_*` variables (which are `mesos-local`'s own).
fn no_env(_: &str) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executors_are_recognised_by_file_name() {
        assert_eq!(
            invoked_as_executor(OsStr::new("/tmp/x/bin/mesos-executor")),
            Some(BuiltinExecutor::Command)
        );
        assert_eq!(
            invoked_as_executor(OsStr::new("mesos-default-executor")),
            Some(BuiltinExecutor::Default)
        );
        assert_eq!(
            invoked_as_executor(OsStr::new("/usr/bin/mesos-local")),
            None
        );
    }

    #[test]
    fn cgroups_roots_differ_per_agent_and_directory() {
        let a = cgroups_root(Path::new("/nonexistent/a"), 0);
        assert_ne!(a, cgroups_root(Path::new("/nonexistent/a"), 1));
        assert_ne!(a, cgroups_root(Path::new("/nonexistent/b"), 0));
        crate::agent::containerizer::cgroups::validate_name(&a).expect("a valid name");
    }
}
