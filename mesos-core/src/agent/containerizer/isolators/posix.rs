//! `posix/cpu` and `posix/mem`: usage only, summed over the container's process tree as
//! seen in `/proc`. They isolate nothing; they exist for hosts without cgroups.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::agent::containerizer::isolator::{
    now_secs, Isolator, IsolatorError, ResourceLimits, ResourceStatistics,
};
use crate::agent::containerizer::procfs;

use super::cgroups_cpu::lock;

/// Which usage a [`PosixIsolator`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosixResource {
    /// `posix/cpu`: user and system CPU time.
    Cpu,
    /// `posix/mem`: resident set size.
    Mem,
}

/// The `posix/cpu` or `posix/mem` isolator.
#[derive(Debug)]
pub struct PosixIsolator {
    resource: PosixResource,
    pids: Mutex<HashMap<String, i32>>,
}

impl PosixIsolator {
    /// Creates the isolator for one resource.
    pub fn new(resource: PosixResource) -> Self {
        PosixIsolator {
            resource,
            pids: Mutex::new(HashMap::new()),
        }
    }
}

impl Isolator for PosixIsolator {
    fn name(&self) -> &'static str {
        match self.resource {
            PosixResource::Cpu => "posix/cpu",
            PosixResource::Mem => "posix/mem",
        }
    }

    fn prepare(&self, _container: &str, _limits: &ResourceLimits) -> Result<(), IsolatorError> {
        Ok(())
    }

    fn recover(
        &self,
        container: &str,
        pid: i32,
        _limits: &ResourceLimits,
    ) -> Result<(), IsolatorError> {
        lock(&self.pids).insert(container.to_string(), pid);
        Ok(())
    }

    fn launched(&self, container: &str, pid: i32) {
        lock(&self.pids).insert(container.to_string(), pid);
    }

    fn usage(&self, container: &str) -> Result<ResourceStatistics, IsolatorError> {
        let pid = lock(&self.pids).get(container).copied().ok_or_else(|| {
            IsolatorError::UnknownContainer {
                isolator: self.name(),
                container: container.to_string(),
            }
        })?;
        let tree = procfs::process_tree(pid).map_err(|source| IsolatorError::Proc {
            isolator: self.name(),
            path: "/proc".into(),
            source,
        })?;
        let mut stats = ResourceStatistics {
            timestamp: now_secs(),
            processes: Some(tree.len() as u32),
            threads: Some(tree.iter().map(|s| s.num_threads as u32).sum()),
            ..Default::default()
        };
        match self.resource {
            PosixResource::Cpu => {
                let tick = procfs::clock_ticks() as f64;
                stats.cpus_user_time_secs =
                    Some(tree.iter().map(|s| s.utime).sum::<u64>() as f64 / tick);
                stats.cpus_system_time_secs =
                    Some(tree.iter().map(|s| s.stime).sum::<u64>() as f64 / tick);
            }
            PosixResource::Mem => {
                stats.mem_rss_bytes =
                    Some(tree.iter().map(|s| s.rss_pages).sum::<u64>() * procfs::page_size());
            }
        }
        Ok(stats)
    }

    fn cleanup(&self, container: &str) -> Result<(), IsolatorError> {
        lock(&self.pids).remove(container);
        Ok(())
    }
}
