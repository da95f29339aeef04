//! The master's side of the agent protocol (`mesos.internal.AgentCall` / `AgentEvent`):
//! registration and re-registration, status updates, health pings, and the agent's
//! removal when it is unreachable, gone or leaves.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::Instant;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::events::{self, framework_id, is_terminal, wall_clock};
use super::metrics::Counter;
use super::model::{AgentRecord, AgentStream, FrameworkRecord, TaskKey};
use super::state::{framework_spec, push_status, MasterState};
use super::validation::framework_roles;
use super::CallError;
use crate::allocator::{AgentSpec, Domain};
use crate::proto::mesos::internal::{agent_call, agent_event, AgentEvent};
use crate::proto::mesos::v1::scheduler::event;
use crate::proto::mesos::v1::{task_status, AgentInfo, Task, TaskState};
use crate::registry::{Operation, RegistryState};
use crate::resources::Resources;

/// An agent's new connection: its id and where its events come out.
#[derive(Debug)]
pub struct AgentConnection {
    /// The agent id (assigned on first registration).
    pub agent_id: String,
    /// The `Agent-Stream-Id`.
    pub stream_id: String,
    /// The events of the connection, REGISTERED first, each a protobuf-encoded
    /// `AgentEvent`.
    pub events: UnboundedReceiver<Vec<u8>>,
}

fn domain_of(info: &AgentInfo) -> Option<Domain> {
    let fault = info.domain.as_ref()?.fault_domain.as_ref()?;
    Some(Domain {
        region: fault.region.name.clone(),
        zone: fault.zone.name.clone(),
    })
}

impl MasterState {
    /// After a restart: admitted agents are known but must re-register in time.
    pub(crate) fn recover_agents(&mut self, recovered: &RegistryState, now: Instant) {
        for agent in recovered.agents.values() {
            let mut info = agent.info.clone();
            let total = Resources::from_protos_lossy(&std::mem::take(&mut info.resources));
            let id = info
                .id
                .as_ref()
                .map(|i| i.value.clone())
                .unwrap_or_default();
            self.agents.insert(
                id,
                AgentRecord {
                    total,
                    info,
                    stream: None,
                    version: String::new(),
                    capabilities: Vec::new(),
                    registered_time: wall_clock(),
                    reregistered_time: None,
                    recovered: true,
                    deactivated: agent.deactivated,
                    tasks: HashSet::new(),
                    executors: BTreeMap::new(),
                    offers: HashSet::new(),
                    ping_sequence: 0,
                    pong_sequence: 0,
                    missed_pings: 0,
                },
            );
        }
        if !recovered.agents.is_empty() {
            self.reregister_deadline = Some(now + self.config.options.agent_reregister_timeout);
        }
    }

    /// REGISTER: admits a new agent or takes an admitted one back.
    pub fn register_agent(
        &mut self,
        register: agent_call::Register,
    ) -> Result<AgentConnection, CallError> {
        let mut info = register.agent_info;
        if info.hostname.is_empty() {
            return Err(CallError::BadRequest(
                "'agent_info.hostname' is empty".into(),
            ));
        }
        let total = Resources::try_from_protos(&info.resources)
            .map_err(|e| CallError::BadRequest(format!("Invalid agent resources: {e}")))?;
        let requested = info
            .id
            .as_ref()
            .map(|i| i.value.clone())
            .filter(|v| !v.is_empty());
        let reregistering = requested.is_some();
        let was_unreachable = requested
            .as_ref()
            .is_some_and(|id| self.registry_state.unreachable.contains_key(id));
        let id = match requested {
            None => {
                let id = format!("{}-S{}", self.config.master_info.id, self.next_agent);
                self.next_agent += 1;
                info.id = Some(events::agent_id(&id));
                self.write_registry(vec![Operation::AdmitAgent(info.clone())])?;
                self.metrics.incr(Counter::SlaveRegistrations);
                self.metrics.incr(Counter::MessagesRegisterSlave);
                id
            }
            Some(id) => {
                if self.registry_state.gone.contains_key(&id) {
                    return Err(CallError::Forbidden(format!(
                        "Agent {id} has been marked gone and may not re-register"
                    )));
                }
                if !self.agents.contains_key(&id) {
                    self.write_registry(vec![Operation::MarkReachable(info.clone())])?;
                }
                self.metrics.incr(Counter::SlaveReregistrations);
                self.metrics.incr(Counter::MessagesReregisterSlave);
                id
            }
        };
        let stream_id = self.new_stream_id();
        let (tx, rx) = unbounded_channel();
        let stream = AgentStream {
            id: stream_id.clone(),
            events: tx,
        };
        let wall = wall_clock();
        // Re-registration replaces whatever the master had: offers go, the allocator
        // relearns the agent with what runs there.
        if self.agents.contains_key(&id) {
            self.rescind_agent_offers(&id);
            let _ = self.allocator.remove_agent(&id.clone().into());
        }
        let previous = self.agents.remove(&id);
        info.resources = Vec::new();
        let mut record = AgentRecord {
            info,
            stream: Some(stream),
            version: register.version.unwrap_or_default(),
            capabilities: register
                .capabilities
                .iter()
                .filter_map(|c| c.r#type)
                .collect(),
            total,
            registered_time: previous.as_ref().map(|p| p.registered_time).unwrap_or(wall),
            reregistered_time: reregistering.then_some(wall),
            recovered: false,
            deactivated: previous.as_ref().is_some_and(|p| p.deactivated)
                || self
                    .registry_state
                    .agents
                    .get(&id)
                    .is_some_and(|a| a.deactivated),
            tasks: HashSet::new(),
            executors: BTreeMap::new(),
            offers: HashSet::new(),
            ping_sequence: 0,
            pong_sequence: 0,
            missed_pings: 0,
        };
        for executor in &register.executors {
            let fw = executor
                .framework_id
                .as_ref()
                .map(|f| f.value.clone())
                .unwrap_or_default();
            record
                .executors
                .insert((fw, executor.executor_id.value.clone()), executor.clone());
        }
        let old_tasks: Vec<TaskKey> = previous
            .map(|p| p.tasks.into_iter().collect())
            .unwrap_or_default();
        tracing::info!(
            agent = %id,
            hostname = %record.info.hostname,
            tasks = register.tasks.len(),
            "{}",
            if reregistering { "agent re-registered" } else { "agent registered" }
        );
        self.agents.insert(id.clone(), record);
        // REGISTERED comes first on the stream: what reconciliation sends the agent (kills
        // of tasks that must not come back) only makes sense to a registered agent.
        let registered = AgentEvent {
            registered: Some(agent_event::Registered {
                agent_id: events::agent_id(&id),
                master_info: self.config.master_info.clone(),
                ping_interval_seconds: Some(self.config.options.agent_ping_timeout.as_secs_f64()),
            }),
            ..events::agent_event(agent_event::Type::Registered)
        };
        self.send_to_agent(&id, registered);
        self.reconcile_agent_tasks(
            &id,
            old_tasks,
            register.tasks,
            was_unreachable,
            &register.frameworks,
        );
        self.readd_agent_to_allocator(&id)?;
        self.operator_agent_added(&id);
        self.freed_agents.insert(id.clone());
        Ok(AgentConnection {
            agent_id: id,
            stream_id,
            events: rx,
        })
    }

    /// Squares the master's tasks of a (re-)registering agent with what it reports.
    fn reconcile_agent_tasks(
        &mut self,
        agent: &str,
        old_tasks: Vec<TaskKey>,
        reported: Vec<Task>,
        was_unreachable: bool,
        frameworks: &[crate::proto::mesos::v1::FrameworkInfo],
    ) {
        let reported_keys: HashSet<TaskKey> = reported
            .iter()
            .map(|t| (t.framework_id.value.clone(), t.task_id.value.clone()))
            .collect();
        // Tasks the master had there that the agent no longer knows are lost.
        for key in old_tasks {
            if reported_keys.contains(&key) {
                continue;
            }
            let Some(entry) = self.tasks.get(&key) else {
                continue;
            };
            if is_terminal(entry.task.state) {
                self.complete_task(&key);
                continue;
            }
            let state = self.lost_state(&key.0, TaskState::TaskDropped);
            let status = events::master_status(
                &key.1,
                Some(agent),
                state,
                Some(task_status::Reason::Reconciliation),
                "Task is unknown to the agent that re-registered",
            );
            self.finish_task_from_master(&key, status);
        }
        for task in reported {
            let fw = task.framework_id.value.clone();
            let key = (fw.clone(), task.task_id.value.clone());
            // A framework known only through its tasks (master failover) is recovered.
            if !self.frameworks.contains_key(&fw) {
                let info = frameworks
                    .iter()
                    .find(|f| f.id.as_ref().is_some_and(|i| i.value == fw))
                    .cloned()
                    .unwrap_or_else(|| crate::proto::mesos::v1::FrameworkInfo {
                        id: Some(framework_id(&fw)),
                        ..Default::default()
                    });
                self.add_recovered_framework(&fw, info);
            }
            let aware_unreachable = self
                .frameworks
                .get_mut(&fw)
                .and_then(|f| f.unreachable_tasks.remove(&key.1))
                .is_some();
            if self.tasks.contains_key(&key) {
                if let Some(a) = self.agents.get_mut(agent) {
                    a.tasks.insert(key);
                }
                continue;
            }
            if was_unreachable && !aware_unreachable && !self.partition_aware(&fw) {
                // The framework was told the task is lost when the agent became
                // unreachable: it must not come back to life.
                self.send_to_agent(agent, events::kill_task(&fw, &key.1));
                continue;
            }
            let resources = Resources::from_protos_lossy(&task.resources);
            self.insert_task(task, resources);
        }
    }

    fn add_recovered_framework(&mut self, id: &str, info: crate::proto::mesos::v1::FrameworkInfo) {
        self.frameworks.insert(
            id.to_string(),
            FrameworkRecord {
                id: id.to_string(),
                info,
                stream: None,
                active: false,
                recovered: true,
                registered_time: wall_clock(),
                reregistered_time: None,
                unregistered_time: None,
                failover_deadline: None,
                tasks: HashSet::new(),
                offers: HashSet::new(),
                completed_tasks: VecDeque::new(),
                unreachable_tasks: BTreeMap::new(),
                suppressed_roles: BTreeSet::new(),
            },
        );
    }

    /// Adds the agent to the allocator with what its live tasks and executors use.
    fn readd_agent_to_allocator(&mut self, agent: &str) -> Result<(), CallError> {
        let record = &self.agents[agent];
        let mut used: HashMap<crate::allocator::FrameworkId, Resources> = HashMap::new();
        for key in &record.tasks {
            if let Some(entry) = self.tasks.get(key) {
                if !entry.recovered {
                    *used.entry(key.0.clone().into()).or_default() += entry.resources.clone();
                }
            }
        }
        for ((fw, _), executor) in &record.executors {
            *used.entry(fw.clone().into()).or_default() +=
                Resources::from_protos_lossy(&executor.resources);
        }
        // Resources reported without an allocation role get the framework's first role;
        // only what fits the agent's total can be declared used.
        let total = record.total.clone();
        for (fw, resources) in used.iter_mut() {
            if resources.iter().any(|r| r.allocation_role().is_none()) {
                let role = self
                    .frameworks
                    .get(&fw.0)
                    .and_then(|f| framework_roles(&f.info).into_iter().next())
                    .unwrap_or_else(|| "*".to_string());
                resources.unallocate();
                resources.allocate(&role);
            }
        }
        used.retain(|_, r| {
            let mut plain = r.clone();
            plain.unallocate();
            !r.is_empty() && total.contains(&plain)
        });
        let spec = AgentSpec {
            hostname: record.info.hostname.clone(),
            total,
            domain: domain_of(&record.info),
        };
        let deactivated = record.deactivated;
        self.allocator
            .add_agent(agent.to_string().into(), spec, &used)
            .map_err(|e| CallError::BadRequest(format!("Agent {agent} not admitted: {e}")))?;
        if deactivated {
            let _ = self.allocator.deactivate_agent(&agent.to_string().into());
        }
        // Frameworks recovered from this agent's tasks become known to the allocator.
        for fw in used.keys() {
            if let Some(f) = self.frameworks.get(&fw.0) {
                if f.recovered && !self.allocator.framework_ids().any(|i| i == fw) {
                    let spec = framework_spec(&f.info, &f.suppressed_roles);
                    if spec.roles.is_empty() {
                        continue;
                    }
                    let _ = self
                        .allocator
                        .add_framework(fw.clone(), spec, &HashMap::new(), false);
                }
            }
        }
        Ok(())
    }

    /// The agent's connection closed. Ignored if `stream_id` is not its current stream.
    pub fn agent_disconnected(&mut self, agent: &str, stream_id: &str) {
        let Some(record) = self.agents.get_mut(agent) else {
            return;
        };
        if record.stream.as_ref().map(|s| s.id.as_str()) != Some(stream_id) {
            return;
        }
        record.stream = None;
        let _ = self.allocator.deactivate_agent(&agent.to_string().into());
        self.rescind_agent_offers(agent);
    }

    /// Checks that a call comes from the agent's current connection.
    pub fn check_agent_stream(
        &self,
        agent: &str,
        stream_id: Option<&str>,
    ) -> Result<(), CallError> {
        let Some(record) = self.agents.get(agent) else {
            return Err(CallError::NotFound(format!(
                "Agent {agent} is not registered"
            )));
        };
        match (record.stream.as_ref(), stream_id) {
            (Some(s), Some(id)) if s.id == id => Ok(()),
            (None, _) => Err(CallError::Forbidden(format!(
                "Agent {agent} is not connected"
            ))),
            _ => Err(CallError::BadRequest(
                "The 'Agent-Stream-Id' header does not match the agent's connection".into(),
            )),
        }
    }

    /// A non-REGISTER call of a connected agent.
    pub fn agent_call(
        &mut self,
        agent: &str,
        call: crate::proto::mesos::internal::AgentCall,
        now: Instant,
    ) -> Result<(), CallError> {
        let kind = agent_call::Type::try_from(call.r#type.unwrap_or(0))
            .unwrap_or(agent_call::Type::Unknown);
        let missing =
            |what: &str| CallError::BadRequest(format!("Expecting '{what}' to be present"));
        match kind {
            agent_call::Type::StatusUpdate => {
                if call.status_updates.is_empty() {
                    return Err(missing("status_updates"));
                }
                for update in call.status_updates {
                    self.status_update(agent, update);
                }
            }
            agent_call::Type::Pong => {
                let pong = call.pong.ok_or_else(|| missing("pong"))?;
                if let Some(a) = self.agents.get_mut(agent) {
                    a.pong_sequence = a.pong_sequence.max(pong.sequence);
                    a.missed_pings = 0;
                }
            }
            agent_call::Type::UpdateResources => {
                let update = call
                    .update_resources
                    .ok_or_else(|| missing("update_resources"))?;
                let total = Resources::try_from_protos(&update.total)
                    .map_err(|e| CallError::BadRequest(format!("Invalid resources: {e}")))?;
                self.allocator
                    .update_agent_total(&agent.to_string().into(), total.clone())
                    .map_err(|e| CallError::BadRequest(e.to_string()))?;
                let record = self.agents.get_mut(agent).expect("checked by caller");
                record.total = total;
                self.freed_agents.insert(agent.to_string());
            }
            agent_call::Type::ExecutorMessage => {
                let message = call
                    .executor_message
                    .ok_or_else(|| missing("executor_message"))?;
                let fw = message.framework_id.value.clone();
                self.metrics.incr(Counter::MessagesExecutorToFramework);
                self.metrics.incr(Counter::ValidExecutorToFrameworkMessages);
                let event = crate::proto::mesos::v1::scheduler::Event {
                    message: Some(event::Message {
                        agent_id: events::agent_id(agent),
                        executor_id: message.executor_id,
                        data: message.data,
                    }),
                    ..events::event(event::Type::Message)
                };
                self.send_to_framework(&fw, event);
            }
            agent_call::Type::ExecutorExited => {
                let exited = call
                    .executor_exited
                    .ok_or_else(|| missing("executor_exited"))?;
                let fw = exited.framework_id.value.clone();
                let key = (fw.clone(), exited.executor_id.value.clone());
                if let Some(info) = self
                    .agents
                    .get_mut(agent)
                    .and_then(|a| a.executors.remove(&key))
                {
                    let resources = Resources::from_protos_lossy(&info.resources);
                    self.recover(&fw, agent, &resources, None, now);
                }
                let event = crate::proto::mesos::v1::scheduler::Event {
                    failure: Some(event::Failure {
                        agent_id: Some(events::agent_id(agent)),
                        executor_id: Some(exited.executor_id),
                        status: exited.status,
                    }),
                    ..events::event(event::Type::Failure)
                };
                self.send_to_framework(&fw, event);
            }
            agent_call::Type::Unregister => {
                self.remove_agent(agent, RemovalKind::Unregistered)?;
            }
            agent_call::Type::Register | agent_call::Type::Unknown => {
                return Err(CallError::BadRequest(format!(
                    "Unexpected agent call type {}",
                    kind.as_str_name()
                )));
            }
        }
        Ok(())
    }

    /// A status update from an agent: recorded and forwarded to the framework.
    fn status_update(&mut self, agent: &str, update: agent_call::StatusUpdate) {
        self.metrics.incr(Counter::MessagesStatusUpdate);
        let fw = update.framework_id.value.clone();
        let mut status = update.status;
        status.agent_id = Some(events::agent_id(agent));
        let key = (fw.clone(), status.task_id.value.clone());
        match self.tasks.get_mut(&key) {
            Some(entry) => {
                self.metrics.incr(Counter::ValidStatusUpdates);
                let terminal_now = is_terminal(status.state) && !entry.recovered;
                entry.task.state = status.state;
                entry.task.status_update_state = Some(status.state);
                entry.task.status_update_uuid = status.uuid.clone();
                let mut kept = status.clone();
                kept.data = None;
                push_status(&mut entry.task, kept);
                let needs_ack = status.uuid.is_some();
                if terminal_now {
                    entry.recovered = true;
                    let resources = entry.resources.clone();
                    self.recover_task_resources(&fw, agent, &resources);
                    if !needs_ack {
                        self.complete_task(&key);
                    }
                }
                self.operator_task_updated(&fw, &status);
            }
            None => self.metrics.incr(Counter::InvalidStatusUpdates),
        }
        self.send_to_framework(&fw, events::update(status));
    }

    /// Ends a task with a status the master generates (agent lost, dropped...).
    pub(crate) fn finish_task_from_master(
        &mut self,
        key: &TaskKey,
        status: crate::proto::mesos::v1::TaskStatus,
    ) {
        if let Some(entry) = self.tasks.get_mut(key) {
            entry.task.state = status.state;
            entry.task.status_update_state = Some(status.state);
            entry.task.status_update_uuid = None;
            push_status(&mut entry.task, status.clone());
        }
        self.operator_task_updated(&key.0, &status);
        self.send_to_framework(&key.0, events::update(status));
        self.complete_task(key);
    }

    /// Removes an agent: its tasks end (or become unreachable), its offers and resources
    /// go, the registry records why.
    pub fn remove_agent(&mut self, agent: &str, kind: RemovalKind) -> Result<(), CallError> {
        if !self.agents.contains_key(agent) && kind != RemovalKind::Gone {
            return Err(CallError::NotFound(format!(
                "Agent {agent} is not registered"
            )));
        }
        let timestamp = MasterState::time_now();
        let op = match kind {
            RemovalKind::Unreachable => {
                Operation::MarkUnreachable(events::agent_id(agent), timestamp)
            }
            RemovalKind::Gone => Operation::MarkGone(events::agent_id(agent), timestamp),
            RemovalKind::Unregistered => Operation::RemoveAgent(events::agent_id(agent)),
        };
        self.write_registry(vec![op])?;
        self.metrics.incr(Counter::SlaveRemovals);
        match kind {
            RemovalKind::Unreachable => self.metrics.incr(Counter::SlaveRemovalsReasonUnhealthy),
            RemovalKind::Unregistered => {
                self.metrics.incr(Counter::SlaveRemovalsReasonUnregistered)
            }
            RemovalKind::Gone => {}
        }
        self.rescind_agent_offers(agent);
        let Some(record) = self.agents.remove(agent) else {
            return Ok(());
        };
        if let Some(stream) = &record.stream {
            if kind != RemovalKind::Unreachable {
                stream.send(&events::shutdown_agent(match kind {
                    RemovalKind::Gone => "Agent has been marked gone",
                    _ => "Agent unregistered",
                }));
            }
        }
        let _ = self.allocator.remove_agent(&agent.to_string().into());
        for key in record.tasks {
            let Some(entry) = self.tasks.get_mut(&key) else {
                continue;
            };
            // The agent's resources are gone with it: nothing to give back.
            entry.recovered = true;
            if is_terminal(entry.task.state) {
                self.complete_task(&key);
                continue;
            }
            let aware = super::validation::has_capability(
                &self
                    .frameworks
                    .get(&key.0)
                    .map(|f| f.info.clone())
                    .unwrap_or_default(),
                crate::proto::mesos::v1::framework_info::capability::Type::PartitionAware,
            );
            let (aware_state, reason, message) = match kind {
                RemovalKind::Unreachable => (
                    TaskState::TaskUnreachable,
                    task_status::Reason::AgentRemoved,
                    "Agent is unreachable",
                ),
                RemovalKind::Gone => (
                    TaskState::TaskGoneByOperator,
                    task_status::Reason::AgentRemovedByOperator,
                    "Agent has been marked gone",
                ),
                RemovalKind::Unregistered => (
                    TaskState::TaskGone,
                    task_status::Reason::AgentRemoved,
                    "Agent unregistered",
                ),
            };
            let state = if aware {
                aware_state
            } else {
                TaskState::TaskLost
            };
            let mut status =
                events::master_status(&key.1, Some(agent), state, Some(reason), message);
            if state == TaskState::TaskUnreachable {
                status.unreachable_time = Some(timestamp);
                let mut task = self.tasks.remove(&key).expect("present").into_task();
                task.state = state as i32;
                push_status(&mut task, status.clone());
                if let Some(f) = self.frameworks.get_mut(&key.0) {
                    f.tasks.remove(&key.1);
                    f.unreachable_tasks.insert(key.1.clone(), task);
                }
                self.operator_task_updated(&key.0, &status);
                self.send_to_framework(&key.0, events::update(status));
            } else {
                self.finish_task_from_master(&key, status);
            }
        }
        self.operator_agent_removed(agent);
        Ok(())
    }

    /// A health-check round: agents that missed too many pings become unreachable; the
    /// others get the next PING.
    pub(crate) fn ping_agents(&mut self) {
        let max = self.config.options.max_agent_ping_timeouts;
        let mut lost = Vec::new();
        for (id, agent) in self.agents.iter_mut() {
            if agent.recovered {
                continue;
            }
            if agent.ping_sequence > agent.pong_sequence {
                agent.missed_pings += 1;
                if agent.missed_pings >= max {
                    lost.push(id.clone());
                    continue;
                }
            }
            agent.ping_sequence += 1;
            if let Some(stream) = &agent.stream {
                stream.send(&AgentEvent {
                    ping: Some(agent_event::Ping {
                        sequence: agent.ping_sequence,
                    }),
                    ..events::agent_event(agent_event::Type::Ping)
                });
            }
        }
        for id in lost {
            let _ = self.remove_agent(&id, RemovalKind::Unreachable);
        }
    }

    /// Agents recovered from the registry that did not re-register in time become
    /// unreachable.
    pub(crate) fn expire_recovered_agents(&mut self) {
        self.reregister_deadline = None;
        let stale: Vec<String> = self
            .agents
            .iter()
            .filter(|(_, a)| a.recovered)
            .map(|(id, _)| id.clone())
            .collect();
        for id in stale {
            let _ = self.remove_agent(&id, RemovalKind::Unreachable);
        }
    }
}

/// Why an agent is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemovalKind {
    /// It missed its health checks (or did not re-register after a failover).
    Unreachable,
    /// An operator marked it gone (MARK_AGENT_GONE).
    Gone,
    /// It left on its own (UNREGISTER).
    Unregistered,
}
