//! `cgroups/cpu`: CPU shares (v1 `cpu.shares`, v2 `cpu.weight`), optional CFS bandwidth
//! limits (v1 `cpu.cfs_quota_us`/`cpu.cfs_period_us`, v2 `cpu.max`) and CPU accounting.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::agent::containerizer::cgroups::formats::{self, CpuMax};
use crate::agent::containerizer::cgroups::{
    Cgroup, Cgroups, CgroupsError, CgroupsVersion, Controller,
};
use crate::agent::containerizer::isolator::{
    now_secs, Isolator, IsolatorError, ResourceLimits, ResourceStatistics,
};
use crate::agent::containerizer::procfs;

use super::{cgroup_err, require_controller, CLEANUP_TIMEOUT};

const NAME: &str = "cgroups/cpu";

/// The `cgroups/cpu` isolator.
#[derive(Debug)]
pub struct CgroupsCpuIsolator {
    cgroups: Arc<Cgroups>,
    enable_cfs: bool,
    limits: Mutex<HashMap<String, f64>>,
}

impl CgroupsCpuIsolator {
    /// Creates the isolator; `enable_cfs` also applies a hard CFS quota (Mesos'
    /// `--cgroups_enable_cfs`). Fails if the host has no cpu controller.
    pub fn new(cgroups: Arc<Cgroups>, enable_cfs: bool) -> Result<Self, IsolatorError> {
        require_controller(NAME, &cgroups, Controller::Cpu)?;
        Ok(CgroupsCpuIsolator {
            cgroups,
            enable_cfs,
            limits: Mutex::new(HashMap::new()),
        })
    }

    /// The container's cgroups: cpu, and on v1 cpuacct when it is a separate hierarchy.
    fn cgroups_of(&self, container: &str) -> Result<Vec<Cgroup>, CgroupsError> {
        let mut out = vec![self.cgroups.container(Controller::Cpu, container)?];
        if self.cgroups.version() == CgroupsVersion::V1 && self.cgroups.has(Controller::Cpuacct) {
            let acct = self.cgroups.container(Controller::Cpuacct, container)?;
            if acct.path() != out[0].path() {
                out.push(acct);
            }
        }
        Ok(out)
    }

    fn apply(&self, cpu: &Cgroup, cpus: f64) -> Result<(), CgroupsError> {
        let shares = formats::cpu_shares(cpus);
        match self.cgroups.version() {
            CgroupsVersion::V1 => {
                cpu.write("cpu.shares", &shares.to_string())?;
                if self.enable_cfs {
                    cpu.write("cpu.cfs_period_us", &formats::CFS_PERIOD_US.to_string())?;
                    cpu.write("cpu.cfs_quota_us", &formats::cfs_quota_us(cpus).to_string())?;
                }
            }
            CgroupsVersion::V2 => {
                cpu.write("cpu.weight", &formats::shares_to_weight(shares).to_string())?;
                if self.enable_cfs {
                    cpu.write("cpu.max", &CpuMax::for_cpus(cpus).format())?;
                }
            }
        }
        Ok(())
    }

    fn read_usage(&self, container: &str) -> Result<ResourceStatistics, CgroupsError> {
        let mut stats = ResourceStatistics {
            timestamp: now_secs(),
            ..Default::default()
        };
        let cgs = self.cgroups_of(container)?;
        let cpu = &cgs[0];
        match self.cgroups.version() {
            CgroupsVersion::V1 => {
                let acct = cgs.last().unwrap_or(cpu);
                if acct.has_file("cpuacct.stat") {
                    let m = acct.read_keyed("cpuacct.stat")?;
                    let tick = procfs::clock_ticks() as f64;
                    stats.cpus_user_time_secs = m.get("user").map(|v| *v as f64 / tick);
                    stats.cpus_system_time_secs = m.get("system").map(|v| *v as f64 / tick);
                }
                let m = cpu.read_keyed("cpu.stat")?;
                stats.cpus_nr_periods = m.get("nr_periods").copied();
                stats.cpus_nr_throttled = m.get("nr_throttled").copied();
                stats.cpus_throttled_time_secs = m.get("throttled_time").map(|ns| *ns as f64 / 1e9);
            }
            CgroupsVersion::V2 => {
                let m = cpu.read_keyed("cpu.stat")?;
                stats.cpus_user_time_secs = m.get("user_usec").map(|v| *v as f64 / 1e6);
                stats.cpus_system_time_secs = m.get("system_usec").map(|v| *v as f64 / 1e6);
                stats.cpus_nr_periods = m.get("nr_periods").copied();
                stats.cpus_nr_throttled = m.get("nr_throttled").copied();
                stats.cpus_throttled_time_secs = m.get("throttled_usec").map(|us| *us as f64 / 1e6);
            }
        }
        Ok(stats)
    }
}

impl Isolator for CgroupsCpuIsolator {
    fn name(&self) -> &'static str {
        NAME
    }

    fn prepare(&self, container: &str, limits: &ResourceLimits) -> Result<(), IsolatorError> {
        if let Some(cpus) = limits.cpus {
            if !(cpus.is_finite() && cpus > 0.0) {
                return Err(IsolatorError::InvalidLimit {
                    isolator: NAME,
                    container: container.to_string(),
                    reason: format!("cpus must be a positive number, got {cpus}"),
                });
            }
        }
        let cgs = self
            .cgroups_of(container)
            .map_err(|e| cgroup_err(NAME, container, e))?;
        for cg in &cgs {
            cg.create().map_err(|e| cgroup_err(NAME, container, e))?;
        }
        if let Some(cpus) = limits.cpus {
            self.apply(&cgs[0], cpus)
                .map_err(|e| cgroup_err(NAME, container, e))?;
            lock(&self.limits).insert(container.to_string(), cpus);
        }
        Ok(())
    }

    fn update(&self, container: &str, limits: &ResourceLimits) -> Result<(), IsolatorError> {
        let Some(cpus) = limits.cpus else {
            return Ok(());
        };
        if !(cpus.is_finite() && cpus > 0.0) {
            return Err(IsolatorError::InvalidLimit {
                isolator: NAME,
                container: container.to_string(),
                reason: format!("cpus must be a positive number, got {cpus}"),
            });
        }
        let cgs = self
            .cgroups_of(container)
            .map_err(|e| cgroup_err(NAME, container, e))?;
        self.apply(&cgs[0], cpus)
            .map_err(|e| cgroup_err(NAME, container, e))?;
        lock(&self.limits).insert(container.to_string(), cpus);
        Ok(())
    }

    fn recover(
        &self,
        container: &str,
        _pid: i32,
        limits: &ResourceLimits,
    ) -> Result<(), IsolatorError> {
        if let Some(cpus) = limits.cpus {
            lock(&self.limits).insert(container.to_string(), cpus);
        }
        Ok(())
    }

    fn cgroups_to_join(&self, container: &str) -> Result<Vec<PathBuf>, IsolatorError> {
        let cgs = self
            .cgroups_of(container)
            .map_err(|e| cgroup_err(NAME, container, e))?;
        Ok(cgs.iter().map(Cgroup::join_file).collect())
    }

    fn usage(&self, container: &str) -> Result<ResourceStatistics, IsolatorError> {
        let mut stats = self
            .read_usage(container)
            .map_err(|e| cgroup_err(NAME, container, e))?;
        stats.cpus_limit = lock(&self.limits).get(container).copied();
        Ok(stats)
    }

    fn cleanup(&self, container: &str) -> Result<(), IsolatorError> {
        lock(&self.limits).remove(container);
        let cgs = self
            .cgroups_of(container)
            .map_err(|e| cgroup_err(NAME, container, e))?;
        for cg in cgs {
            cg.destroy(CLEANUP_TIMEOUT)
                .map_err(|e| cgroup_err(NAME, container, e))?;
        }
        Ok(())
    }
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
