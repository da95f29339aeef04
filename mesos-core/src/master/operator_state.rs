//! The master's state as the v1 operator API reports it: builders of the
//! `mesos.v1.master.Response` messages (GET_STATE, GET_AGENTS, GET_FRAMEWORKS...) from
//! [`MasterState`]. They only read the state; the JSON endpoints (`/master/state`...) use
//! them too.

use std::collections::{BTreeMap, BTreeSet};

use super::events::{agent_id, framework_id, wall_clock};
use super::metrics::MasterGauges;
use super::model::{AgentRecord, FrameworkRecord};
use super::state::{MasterState, TaskEntry};
use super::validation::framework_roles;
use crate::proto::mesos::v1::maintenance::{cluster_status, ClusterStatus};
use crate::proto::mesos::v1::master::response::{
    get_agents, get_executors, get_frameworks, GetAgents, GetExecutors, GetFrameworks,
    GetMaintenanceSchedule, GetMaintenanceStatus, GetMaster, GetQuota, GetRoles, GetState,
    GetTasks, GetWeights,
};
use crate::proto::mesos::v1::quota::{QuotaInfo, QuotaStatus};
use crate::proto::mesos::v1::scheduler::OfferConstraints;
use crate::proto::mesos::v1::{
    agent_info, value, Metric, Resource, Role, Task, TimeInfo, WeightInfo,
};
use crate::resources::Resources;

/// A TimeInfo of `seconds` since the epoch.
fn time_info(seconds: f64) -> TimeInfo {
    TimeInfo {
        nanoseconds: (seconds * 1e9) as i64,
    }
}

/// The protos of `resources` as Mesos reports agents' totals: pre-refinement format
/// (with `role`) when possible.
fn report_resources(resources: &Resources) -> Vec<Resource> {
    resources
        .to_protos_pre_refinement()
        .unwrap_or_else(|_| resources.to_protos())
}

impl MasterState {
    /// What a framework's live tasks and executors use, per agent (allocated form).
    fn framework_used(&self, id: &str) -> Resources {
        let mut used = Resources::new();
        if let Some(framework) = self.frameworks.get(id) {
            for task in &framework.tasks {
                if let Some(entry) = self.tasks.get(&(id.to_string(), task.clone())) {
                    if !entry.recovered {
                        used += entry.resources.clone();
                    }
                }
            }
        }
        for agent in self.agents.values() {
            for ((fw, _), executor) in &agent.executors {
                if fw == id {
                    used += Resources::from_protos_lossy(&executor.resources);
                }
            }
        }
        used
    }

    /// What the live tasks and executors on an agent use (allocated form).
    pub(crate) fn agent_used(&self, agent: &AgentRecord) -> Resources {
        let mut used = Resources::new();
        for key in &agent.tasks {
            if let Some(entry) = self.tasks.get(key) {
                if !entry.recovered {
                    used += entry.resources.clone();
                }
            }
        }
        for executor in agent.executors.values() {
            used += Resources::from_protos_lossy(&executor.resources);
        }
        used
    }

    /// The operator API's view of one agent.
    pub(crate) fn agent_model(&self, agent: &AgentRecord) -> get_agents::Agent {
        let mut offered = Resources::new();
        for offer in &agent.offers {
            if let Some(record) = self.offers.get(offer) {
                offered += record.resources.clone();
            }
        }
        let drain_info = self
            .registry_state
            .agents
            .get(agent.id())
            .and_then(|a| a.drain);
        get_agents::Agent {
            agent_info: agent.full_info(),
            active: agent.connected(),
            deactivated: Some(agent.deactivated),
            version: agent.version.clone(),
            pid: Some(format!(
                "slave(1)@{}:{}",
                agent.info.hostname,
                agent.info.port.unwrap_or(5051)
            )),
            registered_time: Some(time_info(agent.registered_time)),
            reregistered_time: agent.reregistered_time.map(time_info),
            total_resources: report_resources(&agent.total),
            allocated_resources: self.agent_used(agent).to_protos(),
            offered_resources: offered.to_protos(),
            capabilities: agent
                .capabilities
                .iter()
                .map(|c| agent_info::Capability { r#type: Some(*c) })
                .collect(),
            resource_providers: Vec::new(),
            drain_info,
            estimated_drain_start_time: None,
        }
    }

    /// The operator API's view of one framework; `completed` for removed frameworks.
    pub(crate) fn framework_model(
        &self,
        framework: &FrameworkRecord,
        completed: bool,
    ) -> get_frameworks::Framework {
        let offers: Vec<_> = framework
            .offers
            .iter()
            .filter_map(|o| self.offers.get(o))
            .collect();
        let mut offered = Resources::new();
        for offer in &offers {
            offered += offer.resources.clone();
        }
        let allocated = if completed {
            Resources::new()
        } else {
            self.framework_used(&framework.id)
        };
        get_frameworks::Framework {
            framework_info: framework.info.clone(),
            active: framework.active,
            connected: framework.connected(),
            recovered: framework.recovered,
            registered_time: Some(time_info(framework.registered_time)),
            reregistered_time: Some(time_info(
                framework
                    .reregistered_time
                    .unwrap_or(framework.registered_time),
            )),
            unregistered_time: if completed {
                framework.unregistered_time.map(time_info)
            } else {
                None
            },
            offers: offers.iter().map(|o| o.offer.clone()).collect(),
            inverse_offers: Vec::new(),
            allocated_resources: allocated.to_protos(),
            offered_resources: offered.to_protos(),
            offer_constraints: Some(OfferConstraints::default()),
        }
    }

    /// Every agent, registered or recovered from the registry, by id.
    pub(crate) fn agents_by_id(&self) -> Vec<&AgentRecord> {
        let mut agents: Vec<&AgentRecord> = self.agents.values().collect();
        agents.sort_by(|a, b| a.id().cmp(b.id()));
        agents
    }

    /// GET_AGENTS: registered agents, and those recovered from the registry that have
    /// not re-registered yet.
    pub fn get_agents(&self) -> GetAgents {
        let agents = self.agents_by_id();
        GetAgents {
            agents: agents
                .iter()
                .filter(|a| !a.recovered)
                .map(|a| self.agent_model(a))
                .collect(),
            recovered_agents: agents
                .iter()
                .filter(|a| a.recovered)
                .map(|a| a.full_info())
                .collect(),
        }
    }

    /// The frameworks that subscribed or are known from agents' re-registrations, by id.
    pub(crate) fn frameworks_by_id(&self) -> Vec<&FrameworkRecord> {
        let mut frameworks: Vec<&FrameworkRecord> = self.frameworks.values().collect();
        frameworks.sort_by(|a, b| a.id.cmp(&b.id));
        frameworks
    }

    /// GET_FRAMEWORKS: subscribed (or disconnected) frameworks, completed ones, and those
    /// known only from re-registering agents.
    pub fn get_frameworks(&self) -> GetFrameworks {
        let frameworks = self.frameworks_by_id();
        GetFrameworks {
            frameworks: frameworks
                .iter()
                .filter(|f| !f.recovered)
                .map(|f| self.framework_model(f, false))
                .collect(),
            completed_frameworks: self
                .completed_frameworks
                .iter()
                .map(|f| self.framework_model(f, true))
                .collect(),
            recovered_frameworks: frameworks
                .iter()
                .filter(|f| f.recovered)
                .map(|f| f.info.clone())
                .collect(),
        }
    }

    /// GET_EXECUTORS: the executors the agents run.
    pub fn get_executors(&self) -> GetExecutors {
        GetExecutors {
            executors: self
                .agents_by_id()
                .iter()
                .flat_map(|a| {
                    a.executors.values().map(|e| get_executors::Executor {
                        executor_info: e.clone(),
                        agent_id: agent_id(a.id()),
                    })
                })
                .collect(),
            orphan_executors: Vec::new(),
        }
    }

    /// Live tasks (including terminal ones not yet acknowledged), by framework and id.
    pub(crate) fn launched_tasks(&self) -> Vec<&TaskEntry> {
        let mut keys: Vec<_> = self.tasks.keys().collect();
        keys.sort();
        keys.into_iter().map(|k| &*self.tasks[k]).collect()
    }

    /// Tasks on unreachable agents, of the current frameworks by id.
    pub(crate) fn unreachable_tasks(&self) -> impl Iterator<Item = &Task> {
        let frameworks = self.frameworks_by_id().into_iter();
        frameworks.flat_map(|f| f.unreachable_tasks.values())
    }

    /// Completed tasks, of the current frameworks by id, then of removed frameworks.
    pub(crate) fn completed_tasks(&self) -> impl Iterator<Item = &Task> {
        let frameworks = self.frameworks_by_id().into_iter();
        frameworks
            .chain(self.completed_frameworks.iter())
            .flat_map(|f| f.completed_tasks.iter())
    }

    /// GET_TASKS: live tasks (including terminal ones not yet acknowledged), tasks on
    /// unreachable agents, and completed tasks of current and removed frameworks.
    pub fn get_tasks(&self) -> GetTasks {
        GetTasks {
            pending_tasks: Vec::new(),
            tasks: self
                .launched_tasks()
                .into_iter()
                .map(TaskEntry::to_task)
                .collect(),
            unreachable_tasks: self.unreachable_tasks().cloned().collect(),
            completed_tasks: self.completed_tasks().cloned().collect(),
            orphan_tasks: Vec::new(),
        }
    }

    /// GET_STATE: tasks, executors, frameworks and agents at once. The tasks (most of a
    /// big cluster's state) are copied on a second thread while this one does the rest;
    /// for a small cluster the thread costs tens of microseconds.
    pub fn get_state(&self) -> GetState {
        std::thread::scope(|scope| {
            let tasks = scope.spawn(|| self.get_tasks());
            let get_agents = Some(self.get_agents());
            let get_executors = Some(self.get_executors());
            let get_frameworks = Some(self.get_frameworks());
            GetState {
                get_tasks: Some(tasks.join().expect("building GET_STATE's tasks")),
                get_executors,
                get_frameworks,
                get_agents,
            }
        })
    }

    /// Every role weight: `--weights`, overridden by those set through UPDATE_WEIGHTS.
    fn weights(&self) -> BTreeMap<String, f64> {
        let mut weights: BTreeMap<String, f64> =
            self.config.options.weights.iter().cloned().collect();
        weights.extend(
            self.registry_state
                .weights
                .iter()
                .map(|(r, w)| (r.clone(), *w)),
        );
        weights
    }

    /// GET_WEIGHTS: the weights of roles that have one set (unset when none is).
    pub fn get_weights(&self) -> Option<GetWeights> {
        let weights = self.weights();
        (!weights.is_empty()).then(|| GetWeights {
            weight_infos: weights
                .into_iter()
                .map(|(role, weight)| WeightInfo {
                    weight,
                    role: Some(role),
                })
                .collect(),
        })
    }

    /// GET_ROLES: roles that frameworks subscribed to, that have a weight, a quota or
    /// reservations, or that `--roles` lists; each with its weight, frameworks and the
    /// resources allocated to it.
    pub fn get_roles(&self) -> GetRoles {
        let weights = self.weights();
        let mut members: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for framework in self.frameworks.values() {
            for role in framework_roles(&framework.info) {
                members
                    .entry(role)
                    .or_default()
                    .insert(framework.id.clone());
            }
        }
        let mut names: BTreeSet<String> = members.keys().cloned().collect();
        names.extend(weights.keys().cloned());
        names.extend(self.registry_state.quotas.keys().cloned());
        names.extend(self.config.options.roles.iter().flatten().cloned());
        for agent in self.agents.values() {
            names.extend(agent.total.reservations().into_keys());
        }
        let mut allocated: BTreeMap<String, Resources> = BTreeMap::new();
        for id in self.allocator.framework_ids() {
            for resources in self
                .allocator
                .framework_allocation(id)
                .unwrap_or_default()
                .into_values()
            {
                for (role, held) in resources.allocations() {
                    *allocated.entry(role).or_default() += held;
                }
            }
        }
        GetRoles {
            roles: names
                .into_iter()
                .map(|name| Role {
                    weight: weights.get(&name).copied().unwrap_or(1.0),
                    frameworks: members
                        .get(&name)
                        .map(|ids| ids.iter().map(|id| framework_id(id)).collect())
                        .unwrap_or_default(),
                    resources: allocated
                        .get(&name)
                        .map(Resources::to_protos)
                        .unwrap_or_default(),
                    name,
                })
                .collect(),
        }
    }

    /// GET_MASTER: this master's info and when it started and was elected (at start:
    /// it leads from the moment it runs).
    pub fn get_master(&self) -> GetMaster {
        GetMaster {
            master_info: Some(self.config.master_info.clone()),
            start_time: Some(self.start_time),
            elected_time: Some(self.start_time),
        }
    }

    /// GET_QUOTA: every role's quota config, plus the pre-1.9 `infos` view of the
    /// guarantees.
    pub fn get_quota(&self) -> GetQuota {
        let configs: Vec<_> = self.registry_state.quotas.values().cloned().collect();
        let infos = configs
            .iter()
            .filter(|c| !c.guarantees.is_empty())
            .map(|c| QuotaInfo {
                role: Some(c.role.clone()),
                principal: None,
                guarantee: c
                    .guarantees
                    .iter()
                    .filter_map(|entry| {
                        Some(Resource {
                            name: entry.key.clone()?,
                            r#type: value::Type::Scalar as i32,
                            scalar: entry.value,
                            ..Default::default()
                        })
                    })
                    .collect(),
            })
            .collect();
        GetQuota {
            status: QuotaStatus { infos, configs },
        }
    }

    /// GET_MAINTENANCE_SCHEDULE: the schedule in the registry.
    pub fn get_maintenance_schedule(&self) -> GetMaintenanceSchedule {
        GetMaintenanceSchedule {
            schedule: self.registry_state.maintenance.clone(),
        }
    }

    /// GET_MAINTENANCE_STATUS: scheduled machines that are not down yet (draining), with
    /// the frameworks' answers to their inverse offers, and the machines under maintenance
    /// (down).
    pub fn get_maintenance_status(&self) -> GetMaintenanceStatus {
        let down = &self.operator.down_machines;
        let mut seen = BTreeSet::new();
        let mut draining = Vec::new();
        for window in &self.registry_state.maintenance.windows {
            for machine in &window.machine_ids {
                let key = (machine.hostname.clone(), machine.ip.clone());
                if !down.contains(&key) && seen.insert(key.clone()) {
                    let statuses = self.inverse_offer_statuses(&key);
                    draining.push(cluster_status::DrainingMachine {
                        id: machine.clone(),
                        statuses,
                    });
                }
            }
        }
        GetMaintenanceStatus {
            status: ClusterStatus {
                draining_machines: draining,
                down_machines: down
                    .iter()
                    .map(|(hostname, ip)| crate::proto::mesos::v1::MachineId {
                        hostname: hostname.clone(),
                        ip: ip.clone(),
                    })
                    .collect(),
            },
        }
    }

    /// Every metric of the master by its Mesos name: the counters and timers it keeps,
    /// the gauges of its current state, and the host's `system/*` figures. GET_METRICS,
    /// `/metrics/snapshot` and the Prometheus text all come from this.
    pub fn metrics_snapshot(&self) -> BTreeMap<String, f64> {
        let state = self.get_state();
        let mut gauges =
            MasterGauges::from_state(&state, &[], self.registry_state.unreachable.len() as u64);
        gauges.uptime_secs = (wall_clock() - self.start_time).max(0.0);
        gauges.elected = true;
        gauges.outstanding_offers = self.offers.len() as u64;
        gauges.operator_event_stream_subscribers = self.operator.subscribers.len() as u64;
        gauges.tasks_unreachable = self
            .frameworks
            .values()
            .map(|f| f.unreachable_tasks.len() as u64)
            .sum();
        self.metrics.snapshot(&gauges)
    }

    /// GET_METRICS: [`MasterState::metrics_snapshot`] as v1 `Metric`s.
    pub fn operator_metrics(&self) -> Vec<Metric> {
        self.metrics_snapshot()
            .into_iter()
            .map(|(name, value)| Metric {
                name,
                value: Some(value),
            })
            .collect()
    }

    /// The latest state of a task the master tracks (live or unreachable).
    pub(crate) fn task_state_of(&self, framework: &str, task: &str) -> Option<i32> {
        self.tasks
            .get(&(framework.to_string(), task.to_string()))
            .map(|e| e.task.state)
            .or_else(|| {
                self.frameworks
                    .get(framework)
                    .and_then(|f| f.unreachable_tasks.get(task))
                    .map(|t: &Task| t.state)
            })
    }
}
