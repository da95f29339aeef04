//! What the agent's operator API and JSON endpoints show, built from [`AgentState`] in the
//! owner task: v1 `GetState` parts, the containers to sample, and the metrics.

use std::collections::BTreeMap;

use super::containerizer::isolator::ResourceStatistics;
use super::state::{AgentState, Executor, ExecutorPhase};
use crate::master::{is_terminal, wall_clock};
use crate::proto::mesos::v1::agent::response::{
    get_executors, get_frameworks, GetExecutors, GetFrameworks, GetState, GetTasks,
};
use crate::proto::mesos::v1::{self as pb, TaskState};

/// Counters of what happened on the agent since it started (Mesos' `slave/*` counters).
#[derive(Debug, Clone, Default)]
pub struct AgentCounters {
    /// Tasks that reached each terminal state, by state name (`TASK_FINISHED`, ...).
    pub terminal_tasks: BTreeMap<&'static str, u64>,
    /// Status updates from executors that were accepted.
    pub valid_status_updates: u64,
    /// Status updates from executors that were refused.
    pub invalid_status_updates: u64,
    /// Framework messages delivered to executors.
    pub valid_framework_messages: u64,
    /// Framework messages for executors the agent does not run.
    pub invalid_framework_messages: u64,
    /// Executors that ended.
    pub executors_terminated: u64,
    /// Containers that failed to launch.
    pub container_launch_errors: u64,
    /// Sandboxes and checkpoints the garbage collector removed.
    pub gc_removals_succeeded: u64,
    /// Sandboxes and checkpoints the garbage collector failed to remove.
    pub gc_removals_failed: u64,
}

/// One running container, to sample for `/monitor/statistics` and GET_CONTAINERS.
#[derive(Debug, Clone)]
pub struct ContainerView {
    /// Its framework.
    pub framework_id: String,
    /// Its executor.
    pub executor_id: String,
    /// The executor's name.
    pub executor_name: String,
    /// The executor's `source`.
    pub source: String,
    /// The container.
    pub container_id: String,
    /// Its first process.
    pub pid: Option<i32>,
}

/// Converts the containerizer's usage sample into Mesos' `ResourceStatistics`.
pub fn statistics_proto(stats: &ResourceStatistics) -> pb::ResourceStatistics {
    pb::ResourceStatistics {
        timestamp: stats.timestamp,
        processes: stats.processes,
        threads: stats.threads,
        cpus_user_time_secs: stats.cpus_user_time_secs,
        cpus_system_time_secs: stats.cpus_system_time_secs,
        cpus_limit: stats.cpus_limit,
        cpus_nr_periods: stats
            .cpus_nr_periods
            .map(|v| v.min(u64::from(u32::MAX)) as u32),
        cpus_nr_throttled: stats
            .cpus_nr_throttled
            .map(|v| v.min(u64::from(u32::MAX)) as u32),
        cpus_throttled_time_secs: stats.cpus_throttled_time_secs,
        mem_rss_bytes: stats.mem_rss_bytes,
        mem_cache_bytes: stats.mem_cache_bytes,
        mem_total_bytes: stats.mem_total_bytes,
        mem_limit_bytes: stats.mem_limit_bytes,
        ..Default::default()
    }
}

fn state_name(state: i32) -> &'static str {
    TaskState::try_from(state)
        .map(|s| s.as_str_name())
        .unwrap_or("TASK_UNKNOWN")
}

impl Executor {
    fn is_queued(&self, task_id: &str) -> bool {
        self.phase != ExecutorPhase::Running
            && self.tasks.get(task_id).map(|t| t.state) == Some(TaskState::TaskStaging as i32)
    }
}

impl AgentState {
    /// Counts a task that reached a terminal state.
    pub(super) fn count_terminal(&mut self, state: i32) {
        *self
            .counters
            .terminal_tasks
            .entry(state_name(state))
            .or_default() += 1;
    }

    /// GET_FRAMEWORKS.
    pub fn get_frameworks(&self) -> GetFrameworks {
        let view = |info: &pb::FrameworkInfo| get_frameworks::Framework {
            framework_info: info.clone(),
        };
        GetFrameworks {
            frameworks: self.frameworks.values().map(|f| view(&f.info)).collect(),
            completed_frameworks: self
                .completed_frameworks
                .iter()
                .map(|f| view(&f.info))
                .collect(),
        }
    }

    /// GET_EXECUTORS.
    pub fn get_executors(&self) -> GetExecutors {
        let view = |e: &Executor| get_executors::Executor {
            executor_info: e.info.clone(),
        };
        GetExecutors {
            executors: self
                .frameworks
                .values()
                .flat_map(|f| f.executors.values())
                .map(view)
                .collect(),
            completed_executors: self
                .frameworks
                .values()
                .flat_map(|f| f.completed_executors.iter())
                .chain(
                    self.completed_frameworks
                        .iter()
                        .flat_map(|f| f.completed_executors.iter()),
                )
                .map(view)
                .collect(),
        }
    }

    /// GET_TASKS: queued (not yet given to their executor), launched, terminated (terminal
    /// update not yet acknowledged) and completed tasks.
    pub fn get_tasks(&self) -> GetTasks {
        let mut tasks = GetTasks::default();
        let frameworks = self
            .frameworks
            .values()
            .chain(self.completed_frameworks.iter());
        for framework in frameworks {
            let executors = framework
                .executors
                .values()
                .chain(framework.completed_executors.iter());
            for executor in executors {
                for (id, task) in &executor.tasks {
                    if is_terminal(task.state) {
                        tasks.terminated_tasks.push(task.clone());
                    } else if executor.is_queued(id) {
                        tasks.queued_tasks.push(task.clone());
                    } else {
                        tasks.launched_tasks.push(task.clone());
                    }
                }
                tasks
                    .completed_tasks
                    .extend(executor.completed_tasks.iter().cloned());
            }
        }
        tasks
    }

    /// GET_STATE.
    pub fn get_state(&self) -> GetState {
        GetState {
            get_tasks: Some(self.get_tasks()),
            get_executors: Some(self.get_executors()),
            get_frameworks: Some(self.get_frameworks()),
        }
    }

    /// The running containers.
    pub fn containers(&self) -> Vec<ContainerView> {
        self.frameworks
            .iter()
            .flat_map(|(framework_id, f)| {
                f.executors
                    .values()
                    .filter(|e| e.pid.is_some())
                    .map(move |e| ContainerView {
                        framework_id: framework_id.clone(),
                        executor_id: e.info.executor_id.value.clone(),
                        executor_name: e.info.name.clone().unwrap_or_default(),
                        source: e.info.source.clone().unwrap_or_default(),
                        container_id: e.container_id.clone(),
                        pid: e.pid,
                    })
            })
            .collect()
    }

    /// The agent's metrics by Mesos name (`slave/tasks_running`, ...).
    pub fn metrics(&self) -> BTreeMap<String, f64> {
        let mut m = BTreeMap::new();
        let mut put = |name: &str, value: f64| {
            m.insert(name.to_string(), value);
        };
        let executors: Vec<&Executor> = self
            .frameworks
            .values()
            .flat_map(|f| f.executors.values())
            .collect();
        let phase_count =
            |phase: ExecutorPhase| executors.iter().filter(|e| e.phase == phase).count() as f64;
        put(
            "slave/executors_registering",
            phase_count(ExecutorPhase::Registering) + phase_count(ExecutorPhase::Launching),
        );
        put(
            "slave/executors_running",
            phase_count(ExecutorPhase::Running),
        );
        put(
            "slave/executors_terminating",
            phase_count(ExecutorPhase::Terminating),
        );
        put(
            "slave/executors_terminated",
            self.counters.executors_terminated as f64,
        );
        put("slave/executors_preempted", 0.0);
        put("slave/frameworks_active", self.frameworks.len() as f64);
        put(
            "slave/registered",
            if self.is_registered() { 1.0 } else { 0.0 },
        );
        put(
            "slave/uptime_secs",
            (wall_clock() - self.start_time).max(0.0),
        );
        put(
            "slave/valid_status_updates",
            self.counters.valid_status_updates as f64,
        );
        put(
            "slave/invalid_status_updates",
            self.counters.invalid_status_updates as f64,
        );
        put(
            "slave/valid_framework_messages",
            self.counters.valid_framework_messages as f64,
        );
        put(
            "slave/invalid_framework_messages",
            self.counters.invalid_framework_messages as f64,
        );
        put(
            "slave/container_launch_errors",
            self.counters.container_launch_errors as f64,
        );
        put("slave/recovery_errors", 0.0);
        put("gc/path_removals_pending", self.gc.pending() as f64);
        put(
            "gc/path_removals_succeeded",
            self.counters.gc_removals_succeeded as f64,
        );
        put(
            "gc/path_removals_failed",
            self.counters.gc_removals_failed as f64,
        );
        let live = executors
            .iter()
            .flat_map(|e| e.tasks.values())
            .filter(|t| !is_terminal(t.state));
        let mut by_state: BTreeMap<i32, f64> = BTreeMap::new();
        let mut used: BTreeMap<String, f64> = BTreeMap::new();
        for task in live {
            *by_state.entry(task.state).or_default() += 1.0;
            for r in &task.resources {
                if let Some(s) = &r.scalar {
                    *used.entry(r.name.clone()).or_default() += s.value;
                }
            }
        }
        for (name, state) in [
            ("staging", TaskState::TaskStaging),
            ("starting", TaskState::TaskStarting),
            ("running", TaskState::TaskRunning),
            ("killing", TaskState::TaskKilling),
        ] {
            put(
                &format!("slave/tasks_{name}"),
                by_state.get(&(state as i32)).copied().unwrap_or(0.0),
            );
        }
        for (name, state) in [
            ("finished", TaskState::TaskFinished),
            ("failed", TaskState::TaskFailed),
            ("killed", TaskState::TaskKilled),
            ("lost", TaskState::TaskLost),
            ("gone", TaskState::TaskGone),
        ] {
            let count = self
                .counters
                .terminal_tasks
                .get(state.as_str_name())
                .copied()
                .unwrap_or(0);
            put(&format!("slave/tasks_{name}"), count as f64);
        }
        let mut total: BTreeMap<String, f64> = BTreeMap::new();
        for r in &self.info.resources {
            if let Some(s) = &r.scalar {
                *total.entry(r.name.clone()).or_default() += s.value;
            }
        }
        for name in ["cpus", "mem", "disk", "gpus"] {
            let t = total.get(name).copied().unwrap_or(0.0);
            let u = used.get(name).copied().unwrap_or(0.0);
            put(&format!("slave/{name}_total"), t);
            put(&format!("slave/{name}_used"), u);
            put(
                &format!("slave/{name}_percent"),
                if t > 0.0 { u / t } else { 0.0 },
            );
            put(&format!("slave/{name}_revocable_total"), 0.0);
            put(&format!("slave/{name}_revocable_used"), 0.0);
            put(&format!("slave/{name}_revocable_percent"), 0.0);
        }
        m
    }
}
