//! `cgroups/mem`: a hard memory limit (v1 `memory.limit_in_bytes`, v2 `memory.max`), memory
//! accounting, and OOM detection (v1 `memory.oom_control`, v2 `memory.events`).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::agent::containerizer::cgroups::formats;
use crate::agent::containerizer::cgroups::{
    Cgroup, Cgroups, CgroupsError, CgroupsVersion, Controller,
};
use crate::agent::containerizer::isolator::{
    now_secs, Isolator, IsolatorError, Limitation, ResourceLimits, ResourceStatistics,
};

use super::cgroups_cpu::lock;
use super::{cgroup_err, require_controller, CLEANUP_TIMEOUT};

const NAME: &str = "cgroups/mem";

/// Smallest memory limit accepted, as in Mesos (`MIN_MEMORY`, 32 MB).
pub const MIN_MEMORY_BYTES: u64 = 32 * 1024 * 1024;

/// The `cgroups/mem` isolator.
#[derive(Debug)]
pub struct CgroupsMemIsolator {
    cgroups: Arc<Cgroups>,
    /// The OOM kill count each container had when it was prepared (a cgroup left over from a
    /// previous run must not count).
    baseline: Mutex<HashMap<String, u64>>,
}

impl CgroupsMemIsolator {
    /// Creates the isolator. Fails if the host has no memory controller.
    pub fn new(cgroups: Arc<Cgroups>) -> Result<Self, IsolatorError> {
        require_controller(NAME, &cgroups, Controller::Memory)?;
        Ok(CgroupsMemIsolator {
            cgroups,
            baseline: Mutex::new(HashMap::new()),
        })
    }

    fn cgroup(&self, container: &str) -> Result<Cgroup, IsolatorError> {
        self.cgroups
            .container(Controller::Memory, container)
            .map_err(|e| cgroup_err(NAME, container, e))
    }

    /// The number of OOM kills in the cgroup, and whether it is under OOM right now (v1).
    fn oom_state(&self, cg: &Cgroup) -> Result<(u64, bool), CgroupsError> {
        match cg.version() {
            CgroupsVersion::V1 => {
                let m = cg.read_keyed("memory.oom_control")?;
                Ok((
                    m.get("oom_kill").copied().unwrap_or(0),
                    m.get("under_oom").copied().unwrap_or(0) == 1,
                ))
            }
            CgroupsVersion::V2 => {
                let m = cg.read_keyed("memory.events")?;
                Ok((m.get("oom_kill").copied().unwrap_or(0), false))
            }
        }
    }

    fn read_usage(&self, cg: &Cgroup) -> Result<ResourceStatistics, CgroupsError> {
        let stat = cg.read_keyed("memory.stat")?;
        let mut stats = ResourceStatistics {
            timestamp: now_secs(),
            ..Default::default()
        };
        match cg.version() {
            CgroupsVersion::V1 => {
                stats.mem_total_bytes = Some(cg.read_u64("memory.usage_in_bytes")?);
                let text = cg.read("memory.limit_in_bytes")?;
                stats.mem_limit_bytes =
                    formats::parse_v1_memory_limit(&text).map_err(|_| CgroupsError::Parse {
                        path: cg.file("memory.limit_in_bytes"),
                        content: text,
                    })?;
                stats.mem_rss_bytes = stat.get("total_rss").or(stat.get("rss")).copied();
                stats.mem_cache_bytes = stat.get("total_cache").or(stat.get("cache")).copied();
            }
            CgroupsVersion::V2 => {
                stats.mem_total_bytes = Some(cg.read_u64("memory.current")?);
                let text = cg.read("memory.max")?;
                stats.mem_limit_bytes =
                    formats::parse_max_value(&text).map_err(|_| CgroupsError::Parse {
                        path: cg.file("memory.max"),
                        content: text,
                    })?;
                stats.mem_rss_bytes = stat.get("anon").copied();
                stats.mem_cache_bytes = stat.get("file").copied();
            }
        }
        Ok(stats)
    }
}

impl Isolator for CgroupsMemIsolator {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, container: &str, limits: &ResourceLimits) -> Result<(), IsolatorError> {
        if let Some(mem) = limits.mem_bytes {
            if mem < MIN_MEMORY_BYTES {
                return Err(IsolatorError::InvalidLimit {
                    isolator: NAME,
                    container: container.to_string(),
                    reason: format!("memory limit {mem} is below the minimum {MIN_MEMORY_BYTES}"),
                });
            }
        }
        let cg = self.cgroup(container)?;
        let err = |e| cgroup_err(NAME, container, e);
        cg.create().map_err(err)?;
        if let Some(mem) = limits.mem_bytes {
            match cg.version() {
                CgroupsVersion::V1 => cg.write("memory.limit_in_bytes", &mem.to_string()),
                CgroupsVersion::V2 => cg.write("memory.max", &mem.to_string()),
            }
            .map_err(err)?;
        }
        let (kills, _) = self.oom_state(&cg).map_err(err)?;
        lock(&self.baseline).insert(container.to_string(), kills);
        Ok(())
    }

    fn update(&self, container: &str, limits: &ResourceLimits) -> Result<(), IsolatorError> {
        let Some(mem) = limits.mem_bytes else {
            return Ok(());
        };
        let cg = self.cgroup(container)?;
        match cg.version() {
            CgroupsVersion::V1 => cg.write("memory.limit_in_bytes", &mem.to_string()),
            CgroupsVersion::V2 => cg.write("memory.max", &mem.to_string()),
        }
        .map_err(|e| cgroup_err(NAME, container, e))
    }

    fn recover(
        &self,
        container: &str,
        _pid: i32,
        _limits: &ResourceLimits,
    ) -> Result<(), IsolatorError> {
        // The cgroup was created for this container, with no OOM kill yet.
        lock(&self.baseline).insert(container.to_string(), 0);
        Ok(())
    }

    fn cgroups_to_join(&self, container: &str) -> Result<Vec<PathBuf>, IsolatorError> {
        Ok(vec![self.cgroup(container)?.join_file()])
    }

    fn usage(&self, container: &str) -> Result<ResourceStatistics, IsolatorError> {
        let cg = self.cgroup(container)?;
        self.read_usage(&cg)
            .map_err(|e| cgroup_err(NAME, container, e))
    }

    fn limitation(&self, container: &str) -> Result<Option<Limitation>, IsolatorError> {
        let cg = self.cgroup(container)?;
        if !cg.exists() {
            return Ok(None);
        }
        let err = |e| cgroup_err(NAME, container, e);
        let (kills, under_oom) = self.oom_state(&cg).map_err(err)?;
        let base = lock(&self.baseline).get(container).copied().unwrap_or(0);
        if kills <= base && !under_oom {
            return Ok(None);
        }
        let usage = self.read_usage(&cg).ok();
        let limit = usage.as_ref().and_then(|u| u.mem_limit_bytes);
        Ok(Some(Limitation {
            resource: "mem",
            message: format!(
                "Memory limit exceeded: {} OOM kill(s) in {}, limit {}",
                kills - base.min(kills),
                cg.path().display(),
                limit.map_or_else(|| "unlimited".to_string(), |l| format!("{l} bytes")),
            ),
            reason: "REASON_CONTAINER_LIMITATION_MEMORY",
        }))
    }

    fn cleanup(&self, container: &str) -> Result<(), IsolatorError> {
        lock(&self.baseline).remove(container);
        self.cgroup(container)?
            .destroy(CLEANUP_TIMEOUT)
            .map_err(|e| cgroup_err(NAME, container, e))
    }
}
