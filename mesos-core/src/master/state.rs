//! The master's state machine: frameworks, agents, tasks and offers, changed only by the
//! owner task through the methods here. No IO but sends on channels and registry writes;
//! time comes in as arguments, so tests drive it without sockets or sleeps.
//!
//! Scheduler calls live here, the agent protocol in `agents.rs`, timers in `timers.rs`.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use super::events::{self, framework_id, is_terminal, wall_clock};
use super::metrics::{Counter, MasterMetrics};
use super::model::{FrameworkRecord, FrameworkStream, OfferRecord, TaskKey};
use super::validation::{
    framework_roles, has_capability, validate_framework_info, validate_framework_update,
    validate_task, validate_task_group, LaunchContext,
};
use super::{CallError, MasterConfig};
use crate::allocator::{
    Allocation, Allocator, AllocatorOptions, Capabilities, FrameworkSpec, Quota,
};
use crate::proto::mesos::internal::{agent_event, AgentEvent};
use crate::proto::mesos::v1::framework_info::capability::Type as Capability;
use crate::proto::mesos::v1::scheduler::{call, event, Call, Event};
use crate::proto::mesos::v1::{
    offer, task_status, ExecutorInfo, FrameworkInfo, Offer, OfferId, Task, TaskInfo, TaskState,
    TaskStatus, TimeInfo,
};
use crate::registry::{Registry, RegistryState};
use crate::resources::Resources;

use super::model::AgentRecord;

/// How long a declined offer's resources are filtered by default (Mesos' `Filters`).
const DEFAULT_REFUSE_SECONDS: f64 = 5.0;

/// A task the master tracks: the v1 `Task` it reports plus its resources.
#[derive(Debug)]
pub(crate) struct TaskEntry {
    /// The task as the operator API shows it, but without `resources`: those are kept
    /// only in compact form (a `mesos.v1.Resource` is over a kilobyte in memory) and put
    /// back by [`TaskEntry::to_task`].
    pub task: Task,
    /// Its resources (allocated form), recovered when it ends.
    pub resources: Resources,
    /// Whether its resources went back to the allocator already (terminal update seen).
    pub recovered: bool,
}

impl TaskEntry {
    /// The whole v1 `Task`, resources included.
    pub fn to_task(&self) -> Task {
        Task {
            resources: self.resources.to_protos(),
            ..self.task.clone()
        }
    }

    /// [`TaskEntry::to_task`], consuming the entry.
    pub fn into_task(self) -> Task {
        Task {
            resources: self.resources.to_protos(),
            ..self.task
        }
    }
}

/// Most statuses a task keeps (its latest ones), as `Task.statuses` shows them.
const STATUSES_KEPT: usize = 16;

/// Appends `status` to `task`'s statuses, dropping the oldest past [`STATUSES_KEPT`]. The
/// list grows one slot at a time: a `TaskStatus` is over 300 bytes and most tasks get two
/// or three, where a `Vec`'s first growth would reserve four.
pub(crate) fn push_status(task: &mut Task, status: TaskStatus) {
    if task.statuses.len() >= STATUSES_KEPT {
        task.statuses.remove(0);
    }
    task.statuses.reserve_exact(1);
    task.statuses.push(status);
}

/// A framework's new subscription: the stream id and where its events come out.
#[derive(Debug)]
pub struct Subscription {
    /// The framework id (assigned for a new framework).
    pub framework_id: String,
    /// The `Mesos-Stream-Id`.
    pub stream_id: String,
    /// The events of the subscription, SUBSCRIBED first.
    pub events: UnboundedReceiver<Box<Event>>,
}

/// The master's whole mutable state.
pub struct MasterState {
    pub(crate) config: MasterConfig,
    pub(crate) registry: Box<dyn Registry>,
    pub(crate) allocator: Allocator,
    pub(crate) frameworks: HashMap<String, FrameworkRecord>,
    pub(crate) completed_frameworks: VecDeque<FrameworkRecord>,
    pub(crate) agents: HashMap<String, AgentRecord>,
    /// Boxed: a table of 400-byte slots would be copied whole each time it grows.
    pub(crate) tasks: HashMap<TaskKey, Box<TaskEntry>>,
    pub(crate) offers: HashMap<String, OfferRecord>,
    pub(crate) offer_expiry: BTreeSet<(Instant, String)>,
    /// The registry's state as last written (unreachable / gone agents, weights, quota).
    pub(crate) registry_state: RegistryState,
    pub(crate) next_framework: u64,
    pub(crate) next_agent: u64,
    pub(crate) next_offer: u64,
    pub(crate) next_stream: u64,
    /// Agents recovered from the registry must re-register before this.
    pub(crate) reregister_deadline: Option<Instant>,
    /// Set when a registry write showed that this master may lead no more (another
    /// master took the registry over); the owner task stops on it.
    pub(crate) deposed: Option<String>,
    /// Agents whose resources freed up since the last allocation.
    pub(crate) freed_agents: BTreeSet<String>,
    /// A full allocation run is wanted as soon as possible.
    pub(crate) allocation_wanted: bool,
    pub(crate) next_heartbeat_round: Instant,
    pub(crate) next_ping_round: Instant,
    pub(crate) metrics: MasterMetrics,
    /// When this master started (seconds since the epoch).
    pub(crate) start_time: f64,
    /// Operator API subscribers, machines under maintenance, draining agents.
    pub(crate) operator: super::operator_events::OperatorData,
}

/// Builds the allocator's view of a framework.
pub(crate) fn framework_spec(info: &FrameworkInfo, suppressed: &BTreeSet<String>) -> FrameworkSpec {
    let roles = framework_roles(info);
    FrameworkSpec {
        suppressed_roles: suppressed
            .iter()
            .filter(|r| roles.contains(r))
            .cloned()
            .collect(),
        roles,
        capabilities: Capabilities {
            revocable_resources: has_capability(info, Capability::RevocableResources),
            gpu_resources: has_capability(info, Capability::GpuResources),
            region_aware: has_capability(info, Capability::RegionAware),
            reservation_refinement: has_capability(info, Capability::ReservationRefinement),
            multi_role: has_capability(info, Capability::MultiRole),
        },
    }
}

impl MasterState {
    /// A master recovering `registry` (whose state was read by the caller).
    pub fn new(
        config: MasterConfig,
        registry: Box<dyn Registry>,
        recovered: RegistryState,
        now: Instant,
    ) -> Result<MasterState, CallError> {
        let options = AllocatorOptions {
            min_allocatable_resources: config.options.min_allocatable_resources.clone(),
            master_region: config
                .master_info
                .domain
                .as_ref()
                .and_then(|d| d.fault_domain.as_ref())
                .map(|f| f.region.name.clone()),
        };
        let mut allocator = Allocator::new(options);
        let mut weights: BTreeMap<String, f64> = config.options.weights.iter().cloned().collect();
        weights.extend(recovered.weights.iter().map(|(r, w)| (r.clone(), *w)));
        allocator
            .update_weights(weights.iter().map(|(r, w)| (r.as_str(), *w)))
            .map_err(|e| CallError::BadRequest(format!("invalid weights: {e}")))?;
        for (role, quota) in super::quota::quotas_of(&recovered) {
            allocator
                .update_quota(&role, quota)
                .map_err(|e| CallError::BadRequest(format!("invalid quota: {e}")))?;
        }
        let mut state = MasterState {
            allocator,
            registry,
            frameworks: HashMap::new(),
            completed_frameworks: VecDeque::new(),
            agents: HashMap::new(),
            tasks: HashMap::new(),
            offers: HashMap::new(),
            offer_expiry: BTreeSet::new(),
            registry_state: RegistryState::default(),
            next_framework: 0,
            next_agent: 0,
            next_offer: 0,
            next_stream: 0,
            reregister_deadline: None,
            deposed: None,
            freed_agents: BTreeSet::new(),
            allocation_wanted: false,
            next_heartbeat_round: now + config.options.heartbeat_interval,
            next_ping_round: now + config.options.agent_ping_timeout,
            metrics: MasterMetrics::new(),
            start_time: wall_clock(),
            operator: Default::default(),
            config,
        };
        state.recover_agents(&recovered, now);
        state.registry_state = recovered;
        Ok(state)
    }

    /// The master's info.
    pub fn master_info(&self) -> &crate::proto::mesos::v1::MasterInfo {
        &self.config.master_info
    }

    /// The master's counters and timers.
    pub fn metrics(&self) -> &MasterMetrics {
        &self.metrics
    }

    pub(crate) fn new_stream_id(&mut self) -> String {
        self.next_stream += 1;
        uuid::Uuid::new_v4().to_string()
    }

    fn new_framework_id(&mut self) -> String {
        let id = format!("{}-{:04}", self.config.master_info.id, self.next_framework);
        self.next_framework += 1;
        id
    }

    /// A new offer id (inverse offers share the offers' id space).
    pub(crate) fn new_offer_id(&mut self) -> String {
        let id = format!("{}-O{}", self.config.master_info.id, self.next_offer);
        self.next_offer += 1;
        id
    }

    // ----- sending ------------------------------------------------------------------

    /// Sends `event` to a framework if it is connected.
    pub(crate) fn send_to_framework(&self, framework: &str, event: Event) {
        if let Some(stream) = self
            .frameworks
            .get(framework)
            .and_then(|f| f.stream.as_ref())
        {
            let _ = stream.events.send(Box::new(event));
        }
    }

    /// Sends `event` to an agent if it is connected.
    pub(crate) fn send_to_agent(&self, agent: &str, event: AgentEvent) {
        if let Some(stream) = self.agents.get(agent).and_then(|a| a.stream.as_ref()) {
            stream.send(&event);
        }
    }

    // ----- subscription -------------------------------------------------------------

    /// SUBSCRIBE: registers a new framework, or fails one over to this new connection.
    pub fn subscribe(&mut self, call: Call) -> Result<Subscription, CallError> {
        let subscribe = call
            .subscribe
            .ok_or_else(|| CallError::BadRequest("Expecting 'subscribe' to be present".into()))?;
        let mut info = subscribe.framework_info;
        validate_framework_info(&info, self.config.options.roles.as_deref())
            .map_err(CallError::BadRequest)?;
        let suppressed: BTreeSet<String> = subscribe.suppressed_roles.into_iter().collect();
        let roles = framework_roles(&info);
        if let Some(role) = suppressed.iter().find(|r| !roles.contains(r)) {
            return Err(CallError::BadRequest(format!(
                "Suppressed role '{role}' is not contained in the list of roles"
            )));
        }
        let requested_id = info.id.as_ref().map(|i| i.value.clone());
        if let Some(id) = &requested_id {
            if self.completed_frameworks.iter().any(|f| &f.id == id) {
                return Err(CallError::Forbidden(format!(
                    "Framework {id} has been removed (torn down or failed over too late)"
                )));
            }
        }
        let stream_id = self.new_stream_id();
        let (tx, rx) = unbounded_channel();
        let stream = FrameworkStream {
            id: stream_id.clone(),
            events: tx.clone(),
        };
        let wall = wall_clock();
        let heartbeat = self.config.options.heartbeat_interval.as_secs_f64();
        let id = match requested_id.filter(|id| self.frameworks.contains_key(id)) {
            Some(id) => {
                let existing = self.frameworks.get(&id).expect("checked");
                validate_framework_update(&existing.info, &info).map_err(CallError::BadRequest)?;
                self.failover_framework(&id, info, suppressed, stream, wall)?;
                id
            }
            None => {
                let id = match info.id.as_ref() {
                    Some(i) => i.value.clone(),
                    None => self.new_framework_id(),
                };
                info.id = Some(framework_id(&id));
                let spec = framework_spec(&info, &suppressed);
                self.allocator
                    .add_framework(id.clone().into(), spec, &HashMap::new(), true)
                    .map_err(|e| CallError::BadRequest(e.to_string()))?;
                self.frameworks.insert(
                    id.clone(),
                    FrameworkRecord {
                        id: id.clone(),
                        info,
                        stream: Some(stream),
                        active: true,
                        recovered: false,
                        registered_time: wall,
                        reregistered_time: None,
                        unregistered_time: None,
                        failover_deadline: None,
                        tasks: HashSet::new(),
                        offers: HashSet::new(),
                        completed_tasks: VecDeque::new(),
                        unreachable_tasks: BTreeMap::new(),
                        suppressed_roles: suppressed,
                    },
                );
                self.operator_framework_added(&id);
                id
            }
        };
        tracing::info!(framework = %id, "framework subscribed");
        let subscribed = Event {
            subscribed: Some(event::Subscribed {
                framework_id: framework_id(&id),
                heartbeat_interval_seconds: Some(heartbeat),
                master_info: Some(self.config.master_info.clone()),
            }),
            ..events::event(event::Type::Subscribed)
        };
        let _ = tx.send(Box::new(subscribed));
        let _ = tx.send(Box::new(events::event(event::Type::Heartbeat)));
        self.allocation_wanted = true;
        Ok(Subscription {
            framework_id: id,
            stream_id,
            events: rx,
        })
    }

    /// A known framework subscribes again: the old connection (if any) gets ERROR, its
    /// offers are rescinded, and the new connection takes over.
    fn failover_framework(
        &mut self,
        id: &str,
        mut info: FrameworkInfo,
        suppressed: BTreeSet<String>,
        stream: FrameworkStream,
        wall: f64,
    ) -> Result<(), CallError> {
        info.id = Some(framework_id(id));
        let spec = framework_spec(&info, &suppressed);
        let recovered = self.frameworks.get(id).is_some_and(|f| f.recovered);
        let result = if recovered {
            self.allocator
                .add_framework(id.to_string().into(), spec, &HashMap::new(), true)
        } else {
            self.allocator
                .update_framework(&id.to_string().into(), spec)
        };
        result.map_err(|e| CallError::BadRequest(e.to_string()))?;
        self.rescind_framework_offers(id);
        let framework = self.frameworks.get_mut(id).expect("checked by caller");
        if let Some(old) = framework.stream.take() {
            let _ = old
                .events
                .send(Box::new(events::error("Framework failed over")));
        }
        framework.info = info;
        framework.stream = Some(stream);
        framework.suppressed_roles = suppressed;
        framework.failover_deadline = None;
        framework.recovered = false;
        framework.reregistered_time = Some(wall);
        framework.active = true;
        self.allocator
            .activate_framework(&id.to_string().into())
            .map_err(|e| CallError::BadRequest(e.to_string()))?;
        let agents: Vec<String> = self
            .tasks_of(id)
            .into_iter()
            .map(|k| self.tasks[&k].task.agent_id.value.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let update = AgentEvent {
            update_framework: Some(agent_event::UpdateFramework {
                framework: self.frameworks[id].info.clone(),
            }),
            ..events::agent_event(agent_event::Type::UpdateFramework)
        };
        for agent in agents {
            self.send_to_agent(&agent, update.clone());
        }
        self.operator_framework_updated(id);
        Ok(())
    }

    /// The framework's connection closed (client gone). Ignored if `stream_id` is not its
    /// current stream (it already failed over).
    pub fn framework_disconnected(&mut self, id: &str, stream_id: &str, now: Instant) {
        let Some(framework) = self.frameworks.get_mut(id) else {
            return;
        };
        if framework.stream.as_ref().map(|s| s.id.as_str()) != Some(stream_id) {
            return;
        }
        framework.stream = None;
        framework.active = false;
        framework.unregistered_time = Some(wall_clock());
        let timeout = framework.info.failover_timeout.unwrap_or(0.0).max(0.0);
        let timeout = Duration::try_from_secs_f64(timeout).unwrap_or(Duration::MAX);
        framework.failover_deadline = Some(
            now.checked_add(timeout)
                .unwrap_or(now + Duration::from_secs(u32::MAX as u64)),
        );
        let _ = self.allocator.deactivate_framework(&id.to_string().into());
        self.rescind_framework_offers(id);
        self.operator_framework_updated(id);
    }

    /// Checks that `call` comes from the framework's current subscription.
    pub fn check_stream(&self, call: &Call, stream_id: Option<&str>) -> Result<String, CallError> {
        let id = call
            .framework_id
            .as_ref()
            .map(|f| f.value.clone())
            .unwrap_or_default();
        let Some(framework) = self.frameworks.get(&id) else {
            return Err(CallError::NotFound("Framework cannot be found".into()));
        };
        let Some(stream) = framework.stream.as_ref() else {
            return Err(CallError::Forbidden("Framework is not subscribed".into()));
        };
        match stream_id {
            None => Err(CallError::BadRequest(
                "All non-subscribe calls should include the 'Mesos-Stream-Id' header".into(),
            )),
            Some(s) if s != stream.id => Err(CallError::BadRequest(format!(
                "The stream ID '{s}' included in this request didn't match the stream ID \
                 currently associated with framework ID {id}"
            ))),
            Some(_) => Ok(id),
        }
    }

    // ----- scheduler calls ----------------------------------------------------------

    /// Applies a non-SUBSCRIBE scheduler call of the (already checked) framework `id`.
    pub fn scheduler_call(&mut self, id: &str, call: Call, now: Instant) -> Result<(), CallError> {
        let kind = call::Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(call::Type::Unknown);
        if let Some(counter) = call_counter(kind) {
            self.metrics.incr(counter);
        }
        match kind {
            call::Type::Teardown => {
                self.remove_framework(id);
                Ok(())
            }
            call::Type::Accept => {
                self.accept(id, call.accept.unwrap_or_default(), now);
                Ok(())
            }
            call::Type::Decline => {
                let decline = call.decline.unwrap_or_default();
                let refuse = refuse_for(decline.filters.as_ref());
                for offer in decline.offer_ids {
                    self.remove_offer(&offer.value, Some(id), refuse, now);
                }
                Ok(())
            }
            call::Type::Revive => {
                let roles = call.revive.map(|r| r.roles).unwrap_or_default();
                self.revive(id, roles)
            }
            call::Type::Suppress => {
                let roles = call.suppress.map(|s| s.roles).unwrap_or_default();
                self.suppress(id, roles)
            }
            call::Type::Kill => {
                let kill = call.kill.unwrap_or_default();
                self.kill(id, &kill.task_id.value, kill.agent_id.map(|a| a.value));
                Ok(())
            }
            call::Type::Shutdown => {
                let shutdown = call.shutdown.unwrap_or_default();
                let agent = shutdown.agent_id.value.clone();
                if self.agents.contains_key(&agent) {
                    self.send_to_agent(
                        &agent,
                        events::shutdown_executor(id, &shutdown.executor_id),
                    );
                }
                Ok(())
            }
            call::Type::Acknowledge => {
                let ack = call.acknowledge.unwrap_or_default();
                self.acknowledge(id, &ack.agent_id.value, &ack.task_id.value, ack.uuid);
                Ok(())
            }
            call::Type::Reconcile => {
                let tasks = call.reconcile.unwrap_or_default().tasks;
                self.reconcile(id, tasks);
                Ok(())
            }
            call::Type::Message => {
                let message = call.message.unwrap_or_default();
                let event = AgentEvent {
                    framework_message: Some(agent_event::FrameworkMessage {
                        framework_id: framework_id(id),
                        executor_id: message.executor_id,
                        data: message.data,
                    }),
                    ..events::agent_event(agent_event::Type::FrameworkMessage)
                };
                self.metrics.incr(Counter::MessagesFrameworkToExecutor);
                self.metrics.incr(Counter::ValidFrameworkToExecutorMessages);
                self.send_to_agent(&message.agent_id.value, event);
                Ok(())
            }
            call::Type::UpdateFramework => {
                let update = call.update_framework.unwrap_or_default();
                self.update_framework(id, update)
            }
            call::Type::AcceptInverseOffers | call::Type::DeclineInverseOffers => {
                let accept = kind == call::Type::AcceptInverseOffers;
                let (ids, filters) = match (call.accept_inverse_offers, call.decline_inverse_offers)
                {
                    (Some(a), _) if accept => (a.inverse_offer_ids, a.filters),
                    (_, Some(d)) if !accept => (d.inverse_offer_ids, d.filters),
                    _ => (Vec::new(), None),
                };
                self.answer_inverse_offers(id, &ids, filters.as_ref(), accept, now);
                Ok(())
            }
            // Requests and operation-status calls change nothing here.
            _ => Ok(()),
        }
    }

    fn update_framework(
        &mut self,
        id: &str,
        update: call::UpdateFramework,
    ) -> Result<(), CallError> {
        let mut info = update.framework_info;
        validate_framework_info(&info, self.config.options.roles.as_deref())
            .map_err(CallError::BadRequest)?;
        let framework = &self.frameworks[id];
        if info.id.as_ref().map(|i| i.value.as_str()) != Some(id) {
            return Err(CallError::BadRequest(
                "'framework_info.id' differs from 'framework_id'".into(),
            ));
        }
        validate_framework_update(&framework.info, &info).map_err(CallError::BadRequest)?;
        let suppressed: BTreeSet<String> = update.suppressed_roles.into_iter().collect();
        let roles = framework_roles(&info);
        if let Some(role) = suppressed.iter().find(|r| !roles.contains(r)) {
            return Err(CallError::BadRequest(format!(
                "Suppressed role '{role}' is not contained in the list of roles"
            )));
        }
        info.id = Some(framework_id(id));
        self.allocator
            .update_framework(&id.to_string().into(), framework_spec(&info, &suppressed))
            .map_err(|e| CallError::BadRequest(e.to_string()))?;
        // Offers made to roles it left are rescinded.
        let stale: Vec<String> = self.frameworks[id]
            .offers
            .iter()
            .filter(|o| {
                self.offers[*o]
                    .offer
                    .allocation_info
                    .as_ref()
                    .and_then(|a| a.role.as_ref())
                    .is_some_and(|r| !roles.contains(r))
            })
            .cloned()
            .collect();
        for offer in stale {
            self.rescind_offer(&offer);
        }
        let framework = self.frameworks.get_mut(id).expect("checked");
        framework.info = info;
        framework.suppressed_roles = suppressed;
        self.allocation_wanted = true;
        self.operator_framework_updated(id);
        Ok(())
    }

    fn revive(&mut self, id: &str, roles: Vec<String>) -> Result<(), CallError> {
        let roles = if roles.is_empty() {
            framework_roles(&self.frameworks[id].info)
        } else {
            roles
        };
        self.allocator
            .revive(&id.to_string().into(), &roles)
            .map_err(|e| CallError::BadRequest(e.to_string()))?;
        let framework = self.frameworks.get_mut(id).expect("checked");
        for role in &roles {
            framework.suppressed_roles.remove(role);
        }
        self.allocation_wanted = true;
        Ok(())
    }

    fn suppress(&mut self, id: &str, roles: Vec<String>) -> Result<(), CallError> {
        let roles = if roles.is_empty() {
            framework_roles(&self.frameworks[id].info)
        } else {
            roles
        };
        self.allocator
            .suppress(&id.to_string().into(), &roles)
            .map_err(|e| CallError::BadRequest(e.to_string()))?;
        let framework = self.frameworks.get_mut(id).expect("checked");
        framework.suppressed_roles.extend(roles);
        Ok(())
    }

    /// The keys of a framework's live tasks.
    pub(crate) fn tasks_of(&self, framework: &str) -> Vec<TaskKey> {
        self.frameworks
            .get(framework)
            .map(|f| {
                f.tasks
                    .iter()
                    .map(|t| (framework.to_string(), t.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub(crate) fn partition_aware(&self, framework: &str) -> bool {
        self.frameworks
            .get(framework)
            .is_some_and(|f| has_capability(&f.info, Capability::PartitionAware))
    }

    /// TASK_LOST, or `aware` for partition-aware frameworks.
    pub(crate) fn lost_state(&self, framework: &str, aware: TaskState) -> TaskState {
        if self.partition_aware(framework) {
            aware
        } else {
            TaskState::TaskLost
        }
    }

    // ----- accept -------------------------------------------------------------------

    fn accept(&mut self, id: &str, accept: call::Accept, now: Instant) {
        let refuse = refuse_for(accept.filters.as_ref());
        let mut offered = Resources::new();
        let mut agent: Option<String> = None;
        let mut invalid: Option<String> = None;
        for offer_id in &accept.offer_ids {
            let Some(record) = self.offers.get(&offer_id.value) else {
                invalid = Some(format!("Offer {} is no longer valid", offer_id.value));
                continue;
            };
            if record.framework != id {
                invalid = Some(format!(
                    "Offer {} is not for framework {id}",
                    offer_id.value
                ));
                continue;
            }
            match &agent {
                Some(a) if *a != record.agent => {
                    invalid = Some("Aggregated offers must belong to one single agent".into());
                }
                _ => agent = Some(record.agent.clone()),
            }
        }
        // Valid offers are used up either way.
        let mut roles = BTreeSet::new();
        for offer_id in &accept.offer_ids {
            if let Some(record) = self.take_offer(&offer_id.value, id) {
                roles.extend(
                    record
                        .offer
                        .resources
                        .iter()
                        .filter_map(|r| r.allocation_info.as_ref().and_then(|a| a.role.clone())),
                );
                offered += record.resources;
            }
        }
        let mut operations = accept.operations;
        if let (Some(role), 1) = (roles.first(), roles.len()) {
            for operation in &mut operations {
                super::operations::inject_allocation_role(operation, role);
            }
        }
        if accept.offer_ids.is_empty() {
            invalid = Some("No offers specified".into());
        }
        let agent = match (invalid, agent) {
            (None, Some(agent)) => agent,
            (reason, agent) => {
                let reason = reason.unwrap_or_else(|| "No valid offers".into());
                if let Some(agent) = &agent {
                    self.recover(id, agent, &offered, None, now);
                }
                self.drop_launches(id, &operations, &reason);
                return;
            }
        };
        let mut available = offered;
        for operation in operations {
            self.apply_operation(id, &agent, operation, &mut available);
        }
        self.recover(id, &agent, &available, refuse, now);
    }

    /// Removes an offer of framework `id` without giving its resources back.
    fn take_offer(&mut self, offer_id: &str, id: &str) -> Option<OfferRecord> {
        if self.offers.get(offer_id).is_none_or(|o| o.framework != id) {
            return None;
        }
        let record = self.offers.remove(offer_id)?;
        self.forget_offer(&record);
        Some(record)
    }

    /// Unlinks a removed offer from its framework, agent and expiry queue.
    fn forget_offer(&mut self, record: &OfferRecord) {
        let id = &record.offer.id.value;
        if let Some(f) = self.frameworks.get_mut(&record.framework) {
            f.offers.remove(id);
        }
        if let Some(a) = self.agents.get_mut(&record.agent) {
            a.offers.remove(id);
        }
        if let Some(at) = record.expires {
            self.offer_expiry.remove(&(at, id.clone()));
        }
    }

    /// Tasks of an ACCEPT that could not be used get TASK_DROPPED / TASK_LOST.
    fn drop_launches(&mut self, id: &str, operations: &[offer::Operation], reason: &str) {
        let state = self.lost_state(id, TaskState::TaskDropped);
        for task in launched_tasks(operations) {
            let status = events::master_status(
                &task.task_id.value,
                Some(&task.agent_id.value),
                state,
                Some(task_status::Reason::InvalidOffers),
                reason,
            );
            self.send_to_framework(id, events::update(status));
        }
    }

    fn apply_operation(
        &mut self,
        id: &str,
        agent: &str,
        operation: offer::Operation,
        available: &mut Resources,
    ) {
        let kind = offer::operation::Type::try_from(operation.r#type.unwrap_or(0))
            .unwrap_or(offer::operation::Type::Unknown);
        match kind {
            offer::operation::Type::Launch => {
                for task in operation.launch.map(|l| l.task_infos).unwrap_or_default() {
                    self.launch(id, agent, task, available);
                }
            }
            offer::operation::Type::LaunchGroup => {
                if let Some(group) = operation.launch_group {
                    self.launch_group(id, agent, group.executor, group.task_group, available);
                }
            }
            offer::operation::Type::Reserve
            | offer::operation::Type::Unreserve
            | offer::operation::Type::Create
            | offer::operation::Type::Destroy => {
                self.apply_resource_operation(id, agent, &operation, available);
            }
            _ => {}
        }
    }

    fn launch_context_check<F>(
        &self,
        id: &str,
        agent: &str,
        available: &Resources,
        check: F,
    ) -> Result<Resources, String>
    where
        F: FnOnce(&LaunchContext) -> Result<Resources, String>,
    {
        let framework = &self.frameworks[id];
        let fw_id = framework_id(id);
        let agent_id = events::agent_id(agent);
        let task_exists = |t: &crate::proto::mesos::v1::TaskId| {
            self.tasks.contains_key(&(id.to_string(), t.value.clone()))
        };
        let known_executor = |e: &crate::proto::mesos::v1::ExecutorId| {
            self.agents
                .get(agent)
                .and_then(|a| a.executors.get(&(id.to_string(), e.value.clone())))
                .cloned()
        };
        let ctx = LaunchContext {
            framework_id: &fw_id,
            framework: &framework.info,
            agent_id: &agent_id,
            available,
            task_exists: &task_exists,
            known_executor: &known_executor,
        };
        check(&ctx)
    }

    fn launch(&mut self, id: &str, agent: &str, task: TaskInfo, available: &mut Resources) {
        match self.launch_context_check(id, agent, available, |ctx| validate_task(&task, ctx)) {
            Err(reason) => {
                let status = events::master_status(
                    &task.task_id.value,
                    Some(agent),
                    TaskState::TaskError,
                    Some(task_status::Reason::TaskInvalid),
                    reason,
                );
                self.send_to_framework(id, events::update(status));
            }
            Ok(consumed) => {
                *available -= &consumed;
                let mut task = task;
                if let Some(executor) = &mut task.executor {
                    // As Mesos, the master fills in the framework id the executor omits.
                    executor
                        .framework_id
                        .get_or_insert_with(|| framework_id(id));
                    self.add_executor(id, agent, executor);
                }
                let framework = self.frameworks[id].info.clone();
                self.add_task(id, agent, &task);
                self.send_to_agent(
                    agent,
                    AgentEvent {
                        run_task: Some(agent_event::RunTask { framework, task }),
                        ..events::agent_event(agent_event::Type::RunTask)
                    },
                );
            }
        }
    }

    fn launch_group(
        &mut self,
        id: &str,
        agent: &str,
        executor: ExecutorInfo,
        group: crate::proto::mesos::v1::TaskGroupInfo,
        available: &mut Resources,
    ) {
        let checked = self.launch_context_check(id, agent, available, |ctx| {
            validate_task_group(&executor, &group, ctx)
        });
        match checked {
            Err(reason) => {
                for task in &group.tasks {
                    let status = events::master_status(
                        &task.task_id.value,
                        Some(agent),
                        TaskState::TaskError,
                        Some(task_status::Reason::TaskGroupInvalid),
                        reason.clone(),
                    );
                    self.send_to_framework(id, events::update(status));
                }
            }
            Ok(consumed) => {
                *available -= &consumed;
                let mut executor = executor;
                executor
                    .framework_id
                    .get_or_insert_with(|| framework_id(id));
                self.add_executor(id, agent, &executor);
                let mut tasks = group.tasks.clone();
                for task in &mut tasks {
                    task.executor = Some(Box::new(executor.clone()));
                    self.add_task(id, agent, task);
                }
                let framework = self.frameworks[id].info.clone();
                self.send_to_agent(
                    agent,
                    AgentEvent {
                        run_task_group: Some(agent_event::RunTaskGroup {
                            framework,
                            executor,
                            task_group: group,
                        }),
                        ..events::agent_event(agent_event::Type::RunTaskGroup)
                    },
                );
            }
        }
    }

    fn add_executor(&mut self, id: &str, agent: &str, executor: &ExecutorInfo) {
        if let Some(a) = self.agents.get_mut(agent) {
            a.executors
                .entry((id.to_string(), executor.executor_id.value.clone()))
                .or_insert_with(|| executor.clone());
        }
    }

    /// Records a task launched (or reported by a re-registering agent) as STAGING.
    pub(crate) fn add_task(&mut self, id: &str, agent: &str, info: &TaskInfo) {
        let resources = Resources::from_protos_lossy(&info.resources);
        let task = Task {
            name: info.name.clone(),
            task_id: info.task_id.clone(),
            framework_id: framework_id(id),
            executor_id: info.executor.as_ref().map(|e| e.executor_id.clone()),
            agent_id: events::agent_id(agent),
            state: TaskState::TaskStaging as i32,
            resources: info.resources.clone(),
            labels: info.labels.clone(),
            discovery: info.discovery.clone(),
            container: info.container.clone(),
            health_check: info.health_check.clone(),
            kill_policy: info.kill_policy,
            user: self.frameworks.get(id).map(|f| f.info.user.clone()),
            limits: info
                .limits
                .iter()
                .map(|e| crate::proto::mesos::v1::task::LimitsEntry {
                    key: e.key.clone(),
                    value: e.value,
                })
                .collect(),
            ..Default::default()
        };
        self.insert_task(task, resources);
    }

    /// Tracks `task` in the indexes of its framework and agent.
    pub(crate) fn insert_task(&mut self, task: Task, resources: Resources) {
        let key = (task.framework_id.value.clone(), task.task_id.value.clone());
        if let Some(f) = self.frameworks.get_mut(&key.0) {
            f.tasks.insert(key.1.clone());
        }
        if let Some(a) = self.agents.get_mut(&task.agent_id.value) {
            a.tasks.insert(key.clone());
        }
        let recovered = is_terminal(task.state);
        self.operator_task_added(&task);
        let mut task = task;
        task.resources = Vec::new();
        self.tasks.insert(
            key,
            Box::new(TaskEntry {
                task,
                resources,
                recovered,
            }),
        );
    }

    // ----- kill, acknowledge, reconcile ---------------------------------------------

    fn kill(&mut self, id: &str, task: &str, agent: Option<String>) {
        let key = (id.to_string(), task.to_string());
        match self.tasks.get(&key) {
            Some(entry) => {
                let agent = entry.task.agent_id.value.clone();
                self.send_to_agent(&agent, events::kill_task(id, task));
            }
            None => {
                let probe = crate::proto::mesos::v1::scheduler::call::reconcile::Task {
                    task_id: crate::proto::mesos::v1::TaskId {
                        value: task.to_string(),
                    },
                    agent_id: agent.map(|a| events::agent_id(&a)),
                };
                self.reconcile(id, vec![probe]);
            }
        }
    }

    fn acknowledge(&mut self, id: &str, agent: &str, task: &str, uuid: Vec<u8>) {
        let key = (id.to_string(), task.to_string());
        let done = self.tasks.get(&key).is_some_and(|entry| {
            entry.task.status_update_uuid.as_deref() == Some(uuid.as_slice())
                && entry.task.status_update_state.is_some_and(is_terminal)
        });
        if done {
            self.complete_task(&key);
        }
        let event = AgentEvent {
            acknowledge: Some(agent_event::Acknowledge {
                framework_id: framework_id(id),
                task_id: crate::proto::mesos::v1::TaskId {
                    value: task.to_string(),
                },
                uuid,
            }),
            ..events::agent_event(agent_event::Type::Acknowledge)
        };
        self.send_to_agent(agent, event);
    }

    /// The latest status of a task the master knows, for reconciliation.
    fn reconciliation_status(&self, entry: &TaskEntry) -> TaskStatus {
        let mut status = entry
            .task
            .statuses
            .last()
            .cloned()
            .unwrap_or_else(|| TaskStatus {
                task_id: entry.task.task_id.clone(),
                state: entry.task.state,
                agent_id: Some(entry.task.agent_id.clone()),
                executor_id: entry.task.executor_id.clone(),
                ..Default::default()
            });
        status.state = entry.task.state;
        status.uuid = None;
        status.data = None;
        status.source = Some(task_status::Source::Master as i32);
        status.reason = Some(task_status::Reason::Reconciliation as i32);
        status.message = Some("Reconciliation: Latest task state".into());
        status.timestamp = Some(wall_clock());
        status
    }

    fn reconcile(&mut self, id: &str, tasks: Vec<call::reconcile::Task>) {
        let mut updates = Vec::new();
        if tasks.is_empty() {
            for key in self.tasks_of(id) {
                updates.push(self.reconciliation_status(&self.tasks[&key]));
            }
            if let Some(f) = self.frameworks.get(id) {
                for task in f.unreachable_tasks.values() {
                    let mut status = events::master_status(
                        &task.task_id.value,
                        Some(&task.agent_id.value),
                        TaskState::TaskUnreachable,
                        Some(task_status::Reason::Reconciliation),
                        "Reconciliation: Task is unreachable",
                    );
                    status.unreachable_time = self
                        .registry_state
                        .unreachable
                        .get(&task.agent_id.value)
                        .map(|u| u.timestamp);
                    updates.push(status);
                }
            }
        }
        for probe in tasks {
            let key = (id.to_string(), probe.task_id.value.clone());
            if let Some(entry) = self.tasks.get(&key) {
                updates.push(self.reconciliation_status(entry));
                continue;
            }
            let agent = probe.agent_id.as_ref().map(|a| a.value.clone());
            let unreachable_task = self
                .frameworks
                .get(id)
                .and_then(|f| f.unreachable_tasks.get(&probe.task_id.value))
                .is_some();
            let (state, message, unreachable_time) = match agent.as_deref() {
                _ if unreachable_task => (
                    TaskState::TaskUnreachable,
                    "Reconciliation: Task is unreachable",
                    None,
                ),
                Some(a) if self.registry_state.unreachable.contains_key(a) => (
                    TaskState::TaskUnreachable,
                    "Reconciliation: Task is unreachable",
                    Some(self.registry_state.unreachable[a].timestamp),
                ),
                Some(a) if self.registry_state.gone.contains_key(a) => (
                    TaskState::TaskGoneByOperator,
                    "Reconciliation: Task is gone",
                    None,
                ),
                Some(a) if self.agents.get(a).is_some_and(|r| r.recovered) => {
                    // The agent may still re-register with the task: no answer yet.
                    continue;
                }
                Some(a) if self.agents.contains_key(a) => (
                    TaskState::TaskGone,
                    "Reconciliation: Task is unknown to the agent",
                    None,
                ),
                _ => (
                    TaskState::TaskUnknown,
                    "Reconciliation: Task is unknown",
                    None,
                ),
            };
            let aware = self.partition_aware(id);
            let state = if aware { state } else { TaskState::TaskLost };
            let mut status = events::master_status(
                &probe.task_id.value,
                agent.as_deref(),
                state,
                Some(task_status::Reason::Reconciliation),
                message,
            );
            status.unreachable_time = unreachable_time;
            updates.push(status);
        }
        for status in updates {
            self.send_to_framework(id, events::update(status));
        }
    }

    /// A terminal task whose last update was acknowledged leaves the live tasks.
    pub(crate) fn complete_task(&mut self, key: &TaskKey) {
        let Some(mut entry) = self.tasks.remove(key) else {
            return;
        };
        if !entry.recovered {
            let agent = entry.task.agent_id.value.clone();
            self.recover_task_resources(&key.0, &agent, &entry.resources);
            entry.recovered = true;
        }
        if let Some(a) = self.agents.get_mut(&entry.task.agent_id.value) {
            a.tasks.remove(key);
        }
        if let Ok(state) = TaskState::try_from(entry.task.state) {
            let last = entry.task.statuses.last();
            self.metrics.task_terminated(
                state,
                last.and_then(|s| s.source)
                    .and_then(|s| task_status::Source::try_from(s).ok()),
                last.and_then(|s| s.reason)
                    .and_then(|r| task_status::Reason::try_from(r).ok()),
            );
        }
        let limit = self.config.options.max_completed_tasks_per_framework;
        if let Some(f) = self.frameworks.get_mut(&key.0) {
            f.tasks.remove(&key.1);
            f.completed_tasks.push_back(entry.into_task());
            while f.completed_tasks.len() > limit {
                f.completed_tasks.pop_front();
            }
        }
    }

    /// Gives a task's resources back to the allocator.
    pub(crate) fn recover_task_resources(
        &mut self,
        framework: &str,
        agent: &str,
        resources: &Resources,
    ) {
        // An agent recovered from the registry is not in the allocator yet.
        if self.agents.get(agent).is_some_and(|a| !a.recovered) {
            self.recover(framework, agent, resources, None, Instant::now());
        }
    }

    // ----- framework removal --------------------------------------------------------

    /// An operator's teardown (`TEARDOWN`, `/master/teardown`) of a framework that must exist.
    pub fn teardown(&mut self, id: &str) -> Result<(), CallError> {
        if !self.frameworks.contains_key(id) {
            return Err(CallError::BadRequest(format!(
                "No framework found with specified ID '{id}'"
            )));
        }
        self.remove_framework(id);
        Ok(())
    }

    /// Removes a framework: its tasks are killed, its offers and resources go back, it is
    /// remembered among the completed frameworks.
    pub fn remove_framework(&mut self, id: &str) {
        if !self.frameworks.contains_key(id) {
            return;
        }
        self.rescind_framework_offers(id);
        let keys = self.tasks_of(id);
        let mut agents = BTreeSet::new();
        for key in &keys {
            if let Some(entry) = self.tasks.get_mut(key) {
                agents.insert(entry.task.agent_id.value.clone());
                if !is_terminal(entry.task.state) {
                    entry.task.state = TaskState::TaskKilled as i32;
                }
                entry.task.status_update_uuid = None;
            }
            self.complete_task(key);
        }
        for agent in self
            .agents
            .values()
            .filter(|a| a.executors.keys().any(|(f, _)| f == id))
        {
            agents.insert(agent.id().to_string());
        }
        for agent in &agents {
            self.send_to_agent(agent, events::shutdown_framework(id));
            if let Some(a) = self.agents.get_mut(agent) {
                a.executors.retain(|(f, _), _| f != id);
            }
        }
        let _ = self.allocator.remove_framework(&id.to_string().into());
        let mut framework = self.frameworks.remove(id).expect("checked");
        framework.stream = None;
        framework.active = false;
        framework.unregistered_time = Some(wall_clock());
        framework.failover_deadline = None;
        self.operator_framework_removed(&framework.info);
        self.completed_frameworks.push_back(framework);
        while self.completed_frameworks.len() > self.config.options.max_completed_frameworks {
            self.completed_frameworks.pop_front();
        }
        self.allocation_wanted = true;
    }

    // ----- offers -------------------------------------------------------------------

    /// Turns allocations into offers and sends them, one OFFERS event per framework.
    pub(crate) fn make_offers(&mut self, allocations: Vec<Allocation>, now: Instant) {
        let mut by_framework: BTreeMap<String, Vec<Offer>> = BTreeMap::new();
        for allocation in allocations {
            let framework = allocation.framework.0.clone();
            let agent = allocation.agent.0.clone();
            if !self.agents.contains_key(&agent) {
                continue;
            }
            let offer_id = self.new_offer_id();
            let agent_record = &self.agents[&agent];
            let executor_ids = agent_record
                .executors
                .keys()
                .filter(|(f, _)| *f == framework)
                .map(|(_, e)| crate::proto::mesos::v1::ExecutorId { value: e.clone() })
                .collect();
            let offer = Offer {
                id: OfferId {
                    value: offer_id.clone(),
                },
                framework_id: framework_id(&framework),
                agent_id: events::agent_id(&agent),
                hostname: agent_record.info.hostname.clone(),
                url: None,
                domain: agent_record.info.domain.clone(),
                resources: allocation.resources.to_protos(),
                attributes: agent_record.info.attributes.clone(),
                executor_ids,
                unavailability: None,
                allocation_info: Some(crate::proto::mesos::v1::resource::AllocationInfo {
                    role: Some(allocation.role.clone()),
                }),
            };
            let expires = self.config.options.offer_timeout.map(|t| now + t);
            if let Some(at) = expires {
                self.offer_expiry.insert((at, offer_id.clone()));
            }
            if let Some(a) = self.agents.get_mut(&agent) {
                a.offers.insert(offer_id.clone());
            }
            if let Some(f) = self.frameworks.get_mut(&framework) {
                f.offers.insert(offer_id.clone());
            }
            by_framework
                .entry(framework.clone())
                .or_default()
                .push(offer.clone());
            self.offers.insert(
                offer_id,
                OfferRecord {
                    offer,
                    framework,
                    agent,
                    resources: allocation.resources,
                    expires,
                },
            );
        }
        for (framework, offers) in by_framework {
            self.send_to_framework(&framework, events::offers(offers));
        }
    }

    /// Removes an offer and gives its resources back (with a filter for a decline). With
    /// `framework`, only that framework's offer is removed.
    pub(crate) fn remove_offer(
        &mut self,
        offer_id: &str,
        framework: Option<&str>,
        refuse: Option<Duration>,
        now: Instant,
    ) -> bool {
        let owned = self
            .offers
            .get(offer_id)
            .is_some_and(|o| framework.is_none_or(|f| o.framework == f));
        if !owned {
            return false;
        }
        let record = self.offers.remove(offer_id).expect("checked");
        self.forget_offer(&record);
        self.recover(
            &record.framework,
            &record.agent,
            &record.resources,
            refuse,
            now,
        );
        true
    }

    /// Rescinds an offer: RESCIND to its framework, resources back without a filter.
    pub(crate) fn rescind_offer(&mut self, offer_id: &str) {
        let Some(framework) = self.offers.get(offer_id).map(|o| o.framework.clone()) else {
            return;
        };
        self.send_to_framework(&framework, events::rescind(offer_id));
        self.remove_offer(offer_id, None, None, Instant::now());
    }

    pub(crate) fn rescind_framework_offers(&mut self, framework: &str) {
        let offers: Vec<String> = self
            .frameworks
            .get(framework)
            .map(|f| f.offers.iter().cloned().collect())
            .unwrap_or_default();
        for offer in offers {
            self.rescind_offer(&offer);
        }
    }

    pub(crate) fn rescind_agent_offers(&mut self, agent: &str) {
        let offers: Vec<String> = self
            .agents
            .get(agent)
            .map(|a| a.offers.iter().cloned().collect())
            .unwrap_or_default();
        for offer in offers {
            self.rescind_offer(&offer);
        }
    }

    /// Gives resources of `framework` on `agent` back to the allocator.
    pub(crate) fn recover(
        &mut self,
        framework: &str,
        agent: &str,
        resources: &Resources,
        refuse: Option<Duration>,
        now: Instant,
    ) {
        let result = self.allocator.recover_resources(
            &framework.to_string().into(),
            &agent.to_string().into(),
            resources,
            refuse,
            now,
        );
        if result.is_ok() && !resources.is_empty() {
            self.freed_agents.insert(agent.to_string());
        }
    }

    // ----- weights and quota --------------------------------------------------------

    /// Sets role weights, durably first.
    pub fn update_weights(
        &mut self,
        weights: Vec<crate::proto::mesos::v1::WeightInfo>,
    ) -> Result<(), CallError> {
        let pairs: Vec<(String, f64)> = weights
            .iter()
            .map(|w| (w.role.clone().unwrap_or_default(), w.weight))
            .collect();
        for (role, weight) in &pairs {
            Allocator::check_weight(role, *weight)
                .map_err(|e| CallError::BadRequest(e.to_string()))?;
        }
        self.write_registry(vec![crate::registry::Operation::UpdateWeights(weights)])?;
        self.allocator
            .update_weights(pairs.iter().map(|(r, w)| (r.as_str(), *w)))
            .map_err(|e| CallError::BadRequest(e.to_string()))?;
        self.allocation_wanted = true;
        Ok(())
    }

    /// Sets role quotas, durably first.
    pub fn update_quota(
        &mut self,
        configs: Vec<crate::proto::mesos::v1::quota::QuotaConfig>,
    ) -> Result<(), CallError> {
        let mut quotas = Vec::new();
        for config in &configs {
            let quota = super::quota::quota_of(config).map_err(CallError::BadRequest)?;
            quotas.push((config.role.clone(), quota));
        }
        // The allocator's rules are checked before the registry write commits them.
        for (role, quota) in &quotas {
            Allocator::check_quota(role, quota)
                .map_err(|e| CallError::BadRequest(e.to_string()))?;
        }
        self.write_registry(vec![crate::registry::Operation::UpdateQuota(configs)])?;
        for (role, quota) in quotas {
            self.allocator
                .update_quota(&role, quota)
                .map_err(|e| CallError::BadRequest(e.to_string()))?;
        }
        self.allocation_wanted = true;
        Ok(())
    }

    /// Applies registry operations durably and mirrors the result.
    pub(crate) fn write_registry(
        &mut self,
        ops: Vec<crate::registry::Operation>,
    ) -> Result<(), CallError> {
        // The registry validated the batch in order, so the mirror (kept to avoid copying
        // the whole state per write) can apply it without checks.
        match self.registry.apply(ops.clone()) {
            Ok(_) => {
                for op in &ops {
                    crate::registry::operation::apply_validated(&mut self.registry_state, op);
                }
                Ok(())
            }
            Err(crate::registry::RegistryError::InvalidOperation { source, .. }) => {
                Err(CallError::Conflict(source.to_string()))
            }
            Err(e) => {
                if e.ends_leadership() {
                    tracing::error!("registry write failed; this master stops leading: {e}");
                    self.deposed.get_or_insert_with(|| e.to_string());
                }
                Err(CallError::Unavailable(format!(
                    "Registry write failed: {e}"
                )))
            }
        }
    }

    /// A TimeInfo of now.
    pub(crate) fn time_now() -> TimeInfo {
        TimeInfo {
            nanoseconds: (wall_clock() * 1e9) as i64,
        }
    }

    /// Quota of a role, for the operator API.
    pub(crate) fn quota(&self, role: &str) -> Option<Quota> {
        super::quota::quotas_of(&self.registry_state)
            .into_iter()
            .find(|(r, _)| r == role)
            .map(|(_, q)| q)
    }
}

/// The v0 message counter Mesos bumps for a scheduler call.
fn call_counter(kind: call::Type) -> Option<Counter> {
    Some(match kind {
        call::Type::Teardown => Counter::MessagesUnregisterFramework,
        call::Type::Accept => Counter::MessagesLaunchTasks,
        call::Type::Decline => Counter::MessagesDeclineOffers,
        call::Type::Revive => Counter::MessagesReviveOffers,
        call::Type::Suppress => Counter::MessagesSuppressOffers,
        call::Type::Kill => Counter::MessagesKillTask,
        call::Type::Acknowledge => Counter::MessagesStatusUpdateAcknowledgement,
        call::Type::AcknowledgeOperationStatus => {
            Counter::MessagesOperationStatusUpdateAcknowledgement
        }
        call::Type::Reconcile => Counter::MessagesReconcileTasks,
        call::Type::ReconcileOperations => Counter::MessagesReconcileOperations,
        call::Type::Request => Counter::MessagesResourceRequest,
        _ => return None,
    })
}

/// The filter duration of a decline (default 5 s; non-positive: none).
fn refuse_for(filters: Option<&crate::proto::mesos::v1::Filters>) -> Option<Duration> {
    let seconds = filters
        .and_then(|f| f.refuse_seconds)
        .unwrap_or(DEFAULT_REFUSE_SECONDS);
    if seconds.is_finite() && seconds > 0.0 {
        Some(Duration::try_from_secs_f64(seconds).unwrap_or(Duration::from_secs(u32::MAX as u64)))
    } else {
        None
    }
}

/// The tasks of LAUNCH and LAUNCH_GROUP operations.
fn launched_tasks(operations: &[offer::Operation]) -> Vec<TaskInfo> {
    let mut tasks = Vec::new();
    for op in operations {
        if let Some(launch) = &op.launch {
            tasks.extend(launch.task_infos.iter().cloned());
        }
        if let Some(group) = &op.launch_group {
            tasks.extend(group.task_group.tasks.iter().cloned());
        }
    }
    tasks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(state: TaskState) -> TaskStatus {
        TaskStatus {
            state: state as i32,
            ..Default::default()
        }
    }

    #[test]
    fn a_task_keeps_its_latest_statuses_without_spare_room() {
        let mut task = Task::default();
        push_status(&mut task, status(TaskState::TaskStarting));
        push_status(&mut task, status(TaskState::TaskRunning));
        assert_eq!(task.statuses.len(), 2);
        assert_eq!(task.statuses.capacity(), 2);
        for _ in 0..STATUSES_KEPT {
            push_status(&mut task, status(TaskState::TaskRunning));
        }
        push_status(&mut task, status(TaskState::TaskFinished));
        assert_eq!(task.statuses.len(), STATUSES_KEPT);
        assert_eq!(
            task.statuses.last().map(|s| s.state),
            Some(TaskState::TaskFinished as i32)
        );
        assert!(task
            .statuses
            .iter()
            .all(|s| s.state != TaskState::TaskStarting as i32));
    }
}
