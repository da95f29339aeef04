//! The isolator interface: how one kind of resource is isolated for a container.
//!
//! As in Mesos, the containerizer calls every isolator in turn: [`Isolator::prepare`] before
//! the container's process exists, [`Isolator::cgroups_to_join`] to learn which cgroups that
//! process puts itself in before it execs, [`Isolator::launched`] once it has exec'd,
//! [`Isolator::usage`] at any time while it runs, [`Isolator::limitation`] to learn whether a
//! limit was hit (e.g. OOM), and [`Isolator::cleanup`] after it is gone.
//!
//! Isolators never move the process into their cgroups themselves: the launcher starts it
//! with `vfork` semantics (the agent's thread is suspended until the exec), so the process
//! joins every cgroup on its own, before it execs, and is never seen running outside them.

use std::path::PathBuf;

use super::cgroups::CgroupsError;

/// Resource limits a container is launched with. `None` means unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ResourceLimits {
    /// CPUs (fractional), for shares/weight and CFS quota.
    pub cpus: Option<f64>,
    /// Memory, in bytes.
    pub mem_bytes: Option<u64>,
    /// Maximum number of tasks (processes and threads).
    pub pids: Option<u64>,
}

/// Resource usage of a container, named after Mesos' `ResourceStatistics`.
///
/// Each isolator fills in what it knows; the containerizer merges them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResourceStatistics {
    /// Seconds since the epoch when the sample was taken.
    pub timestamp: f64,
    /// Number of processes.
    pub processes: Option<u32>,
    /// Number of threads.
    pub threads: Option<u32>,
    /// CPU time spent in user mode, seconds.
    pub cpus_user_time_secs: Option<f64>,
    /// CPU time spent in kernel mode, seconds.
    pub cpus_system_time_secs: Option<f64>,
    /// CPU limit (the number of CPUs the container was given).
    pub cpus_limit: Option<f64>,
    /// Number of CFS periods that elapsed.
    pub cpus_nr_periods: Option<u64>,
    /// Number of CFS periods the container was throttled in.
    pub cpus_nr_throttled: Option<u64>,
    /// Total time throttled, seconds.
    pub cpus_throttled_time_secs: Option<f64>,
    /// Resident set size (anonymous memory), bytes.
    pub mem_rss_bytes: Option<u64>,
    /// Page cache, bytes.
    pub mem_cache_bytes: Option<u64>,
    /// Total memory charged to the container, bytes.
    pub mem_total_bytes: Option<u64>,
    /// Memory limit, bytes.
    pub mem_limit_bytes: Option<u64>,
}

impl ResourceStatistics {
    /// Fills every field not yet set from `other`.
    pub fn merge(&mut self, other: &ResourceStatistics) {
        macro_rules! take {
            ($($f:ident),*) => { $( if self.$f.is_none() { self.$f = other.$f; } )* };
        }
        take!(
            processes,
            threads,
            cpus_user_time_secs,
            cpus_system_time_secs,
            cpus_limit,
            cpus_nr_periods,
            cpus_nr_throttled,
            cpus_throttled_time_secs,
            mem_rss_bytes,
            mem_cache_bytes,
            mem_total_bytes,
            mem_limit_bytes
        );
        if self.timestamp == 0.0 {
            self.timestamp = other.timestamp;
        }
    }
}

/// A limit the container hit, reported by an isolator (Mesos' `ContainerLimitation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limitation {
    /// The resource whose limit was hit (`mem`, `cpus`, `pids`).
    pub resource: &'static str,
    /// A human readable description.
    pub message: String,
    /// Mesos' reason name, e.g. `REASON_CONTAINER_LIMITATION_MEMORY`.
    pub reason: &'static str,
}

/// Errors from isolators; each carries the container and what failed.
#[derive(Debug, thiserror::Error)]
pub enum IsolatorError {
    /// A cgroup operation failed.
    #[error("isolator {isolator} for container {container}: {source}")]
    Cgroups {
        /// The isolator's name, e.g. `cgroups/mem`.
        isolator: &'static str,
        /// The container.
        container: String,
        /// The cgroup error.
        #[source]
        source: CgroupsError,
    },
    /// A limit cannot be applied.
    #[error("isolator {isolator}: invalid limit for container {container}: {reason}")]
    InvalidLimit {
        /// The isolator's name.
        isolator: &'static str,
        /// The container.
        container: String,
        /// Why.
        reason: String,
    },
    /// Reading `/proc` failed.
    #[error("isolator {isolator}: cannot read {path}: {source}")]
    Proc {
        /// The isolator's name.
        isolator: &'static str,
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The container was never prepared or isolated by this isolator.
    #[error("isolator {isolator}: unknown container {container}")]
    UnknownContainer {
        /// The isolator's name.
        isolator: &'static str,
        /// The container.
        container: String,
    },
}

/// One kind of resource isolation, in Mesos' shape.
pub trait Isolator: Send + Sync + std::fmt::Debug {
    /// The name used in `--isolation`, e.g. `cgroups/mem`.
    fn name(&self) -> &'static str;

    /// Prepares isolation for a container that is about to be launched (creates cgroups,
    /// applies limits). On error the containerizer calls [`Isolator::cleanup`].
    fn prepare(&self, container: &str, limits: &ResourceLimits) -> Result<(), IsolatorError>;

    /// The files through which the container's first process joins the cgroups made by
    /// [`Isolator::prepare`] before it execs (`Cgroup::join_file`). None by default.
    fn cgroups_to_join(&self, _container: &str) -> Result<Vec<PathBuf>, IsolatorError> {
        Ok(Vec::new())
    }

    /// Told the pid (in the agent's pid namespace) of the container's first process once it
    /// has exec'd inside its cgroups, for bookkeeping. It cannot fail: the process already
    /// runs. Nothing to do by default.
    fn launched(&self, _container: &str, _pid: i32) {}

    /// Current resource usage, with the fields this isolator knows filled in.
    fn usage(&self, container: &str) -> Result<ResourceStatistics, IsolatorError>;

    /// A limit the container hit, if any (polled; e.g. an OOM kill).
    fn limitation(&self, _container: &str) -> Result<Option<Limitation>, IsolatorError> {
        Ok(None)
    }

    /// Changes the limits of a running container (more tasks joined its executor). Isolators
    /// that enforce no limit accept it as is.
    fn update(&self, _container: &str, _limits: &ResourceLimits) -> Result<(), IsolatorError> {
        Ok(())
    }

    /// Takes charge again of a container prepared and isolated before the agent restarted
    /// (its cgroups exist; `pid` is its first process), so usage, limitations and cleanup
    /// work for it.
    fn recover(
        &self,
        container: &str,
        pid: i32,
        limits: &ResourceLimits,
    ) -> Result<(), IsolatorError>;

    /// Releases everything prepared for the container. Called after its processes are
    /// gone; must succeed if nothing (or only part) was prepared.
    fn cleanup(&self, container: &str) -> Result<(), IsolatorError>;
}

/// Seconds since the epoch, for [`ResourceStatistics::timestamp`].
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}
