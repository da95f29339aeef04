//! `cgroups/pids`: a limit on the number of tasks (`pids.max`) and task counts.

use std::path::PathBuf;
use std::sync::Arc;

use crate::agent::containerizer::cgroups::formats;
use crate::agent::containerizer::cgroups::{Cgroup, Cgroups, Controller};
use crate::agent::containerizer::isolator::{
    now_secs, Isolator, IsolatorError, Limitation, ResourceLimits, ResourceStatistics,
};

use super::{cgroup_err, require_controller, CLEANUP_TIMEOUT};

const NAME: &str = "cgroups/pids";

/// The `cgroups/pids` isolator.
#[derive(Debug)]
pub struct CgroupsPidsIsolator {
    cgroups: Arc<Cgroups>,
}

impl CgroupsPidsIsolator {
    /// Creates the isolator. Fails if the host has no pids controller.
    pub fn new(cgroups: Arc<Cgroups>) -> Result<Self, IsolatorError> {
        require_controller(NAME, &cgroups, Controller::Pids)?;
        Ok(CgroupsPidsIsolator { cgroups })
    }

    fn cgroup(&self, container: &str) -> Result<Cgroup, IsolatorError> {
        self.cgroups
            .container(Controller::Pids, container)
            .map_err(|e| cgroup_err(NAME, container, e))
    }
}

impl Isolator for CgroupsPidsIsolator {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, container: &str, limits: &ResourceLimits) -> Result<(), IsolatorError> {
        if limits.pids == Some(0) {
            return Err(IsolatorError::InvalidLimit {
                isolator: NAME,
                container: container.to_string(),
                reason: "pids limit must be at least 1".to_string(),
            });
        }
        let cg = self.cgroup(container)?;
        let err = |e| cgroup_err(NAME, container, e);
        cg.create().map_err(err)?;
        cg.write("pids.max", &formats::format_max_value(limits.pids))
            .map_err(err)
    }

    fn recover(
        &self,
        _container: &str,
        _pid: i32,
        _limits: &ResourceLimits,
    ) -> Result<(), IsolatorError> {
        Ok(())
    }

    fn cgroups_to_join(&self, container: &str) -> Result<Vec<PathBuf>, IsolatorError> {
        Ok(vec![self.cgroup(container)?.join_file()])
    }

    fn usage(&self, container: &str) -> Result<ResourceStatistics, IsolatorError> {
        let cg = self.cgroup(container)?;
        let err = |e| cgroup_err(NAME, container, e);
        Ok(ResourceStatistics {
            timestamp: now_secs(),
            processes: Some(cg.procs().map_err(err)?.len() as u32),
            threads: Some(cg.thread_count().map_err(err)?),
            ..Default::default()
        })
    }

    fn limitation(&self, container: &str) -> Result<Option<Limitation>, IsolatorError> {
        let cg = self.cgroup(container)?;
        if !cg.has_file("pids.events") {
            return Ok(None);
        }
        let events = cg
            .read_keyed("pids.events")
            .map_err(|e| cgroup_err(NAME, container, e))?;
        Ok(match events.get("max") {
            Some(&n) if n > 0 => Some(Limitation {
                resource: "pids",
                message: format!("fork failed {n} times: pids limit reached"),
                reason: "REASON_CONTAINER_LIMITATION",
            }),
            _ => None,
        })
    }

    fn cleanup(&self, container: &str) -> Result<(), IsolatorError> {
        self.cgroup(container)?
            .destroy(CLEANUP_TIMEOUT)
            .map_err(|e| cgroup_err(NAME, container, e))
    }
}
