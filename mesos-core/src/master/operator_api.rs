//! `POST /api/v1` (also `/master/api/v1`): the v1 operator API of the master.
//!
//! The wire checks are the scheduler API's: method (405), `Content-Type` (415), body
//! (400), then the answer's `Accept` (406). Queries answer 200 with a
//! `mesos.v1.master.Response` in the negotiated format; calls that change something
//! answer 200 with an empty body; SUBSCRIBE answers with a RecordIO stream of
//! `mesos.v1.master.Event`s. Refusals are 4xx with a plain-text reason.
//!
//! Maintenance: the schedule lives in the registry; frameworks using its machines get
//! inverse offers while they drain ([`super::inverse_offers`]); START_MAINTENANCE puts
//! machines DOWN (their agents get no offers, their offers are rescinded) until
//! STOP_MAINTENANCE. The DOWN set is not persisted.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};
use axum::routing::post;
use axum::Router;
use serde_json::Value as Json;

use super::events::{self, agent_id, is_terminal};
use super::operator_events::MachineKey;
use super::runtime::MasterHandle;
use super::state::MasterState;
use super::{CallError, RemovalKind};
use crate::http::{
    mesos_405, message_response, response_format_of, stream_format_of, unbounded_event_stream,
    version_info, CallBody, Format, HttpError,
};
use crate::proto::mesos::internal::{agent_event, AgentEvent};
use crate::proto::mesos::v1::master::{call, response, Call, Response};
use crate::proto::mesos::v1::quota::{quota_config, QuotaConfig};
use crate::proto::mesos::v1::{
    AgentInfo, DrainConfig, DrainState, DurationInfo, Flag, KillPolicy, MachineId,
    Resource as ProtoResource, TaskId,
};
use crate::registry::Operation;
use crate::resources::Resources;

/// The operator API routes.
pub(super) fn routes(handle: MasterHandle) -> Router {
    let endpoint = mesos_405(post(operator), &[Method::POST]);
    Router::new()
        .route("/api/v1", endpoint.clone())
        .route("/master/api/v1", endpoint)
        .with_state(handle)
}

async fn operator(
    State(master): State<MasterHandle>,
    headers: HeaderMap,
    body: CallBody<Call>,
) -> Result<HttpResponse, HttpError> {
    let call = body.message;
    let kind = call::Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(call::Type::Unknown);
    if kind == call::Type::Subscribe {
        let format = stream_format_of(&headers)?;
        let events = master.run(|s, now| s.subscribe_operator(now)).await?;
        return Ok(unbounded_event_stream(format, events, []));
    }
    let format = response_format_of(&headers)?;
    if kind == call::Type::GetState && format == Format::Protobuf {
        // Written straight from the master's records: a big cluster's state is not
        // copied into a message first.
        let encoded = master.run(|s, _| s.encode_get_state()).await?;
        let mut response = (StatusCode::OK, encoded).into_response();
        response.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        return Ok(response);
    }
    let answer = match kind {
        call::Type::Unknown => {
            return Err(HttpError::bad_request("Expecting 'type' to be present"));
        }
        call::Type::GetHealth => Some(Response {
            get_health: Some(response::GetHealth { healthy: true }),
            ..typed(response::Type::GetHealth)
        }),
        call::Type::GetFlags => Some(Response {
            get_flags: Some(response::GetFlags {
                flags: master
                    .flags()
                    .iter()
                    .map(|(name, value)| Flag {
                        name: name.clone(),
                        value: Some(value.clone()),
                    })
                    .collect(),
            }),
            ..typed(response::Type::GetFlags)
        }),
        call::Type::GetVersion => Some(Response {
            get_version: Some(response::GetVersion {
                version_info: version_info(),
            }),
            ..typed(response::Type::GetVersion)
        }),
        call::Type::GetLoggingLevel => Some(Response {
            get_logging_level: Some(response::GetLoggingLevel {
                level: crate::logging::verbosity(),
            }),
            ..typed(response::Type::GetLoggingLevel)
        }),
        // The process' logging, not the master's state: no need for the owner task.
        call::Type::SetLoggingLevel => {
            let set = call.set_logging_level.map(|set| (set.level, set.duration));
            crate::logging::set_from_call(set).map_err(HttpError::bad_request)?;
            None
        }
        _ => master.run(move |s, _| s.operator_call(call)).await??,
    };
    Ok(match answer {
        // A big cluster's GET_STATE in JSON takes long enough to write that it would hold
        // up an async worker.
        Some(answer) => tokio::task::spawn_blocking(move || respond(format, &answer))
            .await
            .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?,
        None if forwarded_to_the_agent(kind) => StatusCode::ACCEPTED.into_response(),
        None => StatusCode::OK.into_response(),
    })
}

/// The calls Mesos answers with 202 Accepted: operations on an agent's resources, which
/// the master validates and applies, then forwards to the agent to checkpoint.
fn forwarded_to_the_agent(kind: call::Type) -> bool {
    matches!(
        kind,
        call::Type::ReserveResources
            | call::Type::UnreserveResources
            | call::Type::CreateVolumes
            | call::Type::DestroyVolumes
    )
}

/// A response of `kind` with nothing else set.
fn typed(kind: response::Type) -> Response {
    Response {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// `answer` as a 200 in `format`. In JSON, the lists Mesos always writes are written
/// even when empty, as its operator API does (e.g. `"recovered_agents": []`).
fn respond(format: Format, answer: &Response) -> HttpResponse {
    if format == Format::Protobuf {
        return message_response(StatusCode::OK, format, answer);
    }
    let mut json = crate::json::to_value(answer);
    add_mesos_lists(&mut json);
    let mut response = (StatusCode::OK, json.to_string()).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static(Format::Json.content_type()),
    );
    response
}

/// Adds the empty lists Mesos' operator API writes for GET_STATE and its parts.
fn add_mesos_lists(json: &mut Json) {
    let Some(object) = json.as_object_mut() else {
        return;
    };
    for (key, value) in object.iter_mut() {
        match value.as_object_mut() {
            Some(state) if key == "get_state" => {
                for (part, inner) in state.iter_mut() {
                    add_lists_of(part, inner);
                }
            }
            _ => add_lists_of(key, value),
        }
    }
}

/// Adds the lists Mesos always writes in the part `key` of a response.
fn add_lists_of(key: &str, value: &mut Json) {
    let lists: &[&str] = match key {
        "get_agents" => &["agents", "recovered_agents"],
        "get_frameworks" => &["frameworks", "completed_frameworks"],
        "get_executors" => &["executors"],
        "get_tasks" => &["tasks", "unreachable_tasks", "completed_tasks"],
        _ => return,
    };
    if let Some(object) = value.as_object_mut() {
        for list in lists {
            object
                .entry(list.to_string())
                .or_insert_with(|| Json::Array(Vec::new()));
        }
    }
}

/// The `Expecting '<field>' to be present` refusal.
fn missing(field: &str) -> CallError {
    CallError::BadRequest(format!("Expecting '{field}' to be present"))
}

/// A DurationInfo of a `google.protobuf.Duration`.
fn duration_info(duration: &prost_types::Duration) -> DurationInfo {
    DurationInfo {
        nanoseconds: duration
            .seconds
            .saturating_mul(1_000_000_000)
            .saturating_add(i64::from(duration.nanos)),
    }
}

/// The key of a machine id.
fn machine_key(machine: &MachineId) -> MachineKey {
    (machine.hostname.clone(), machine.ip.clone())
}

/// Whether `machine` is the machine of an agent with `info`: its hostname, or its IP
/// when the agent's hostname is an address.
pub(crate) fn is_machine_of(machine: &MachineKey, info: &AgentInfo) -> bool {
    match machine {
        (Some(hostname), _) if hostname.eq_ignore_ascii_case(&info.hostname) => true,
        (_, Some(ip)) => *ip == info.hostname,
        _ => false,
    }
}

/// Resources from protos, or a 400 saying why they are invalid.
fn parse(protos: &[ProtoResource]) -> Result<Resources, CallError> {
    Resources::try_from_protos(protos)
        .map_err(|e| CallError::BadRequest(format!("Invalid resources: {e}")))
}

impl MasterState {
    /// Applies an operator call that needs the state: the answer to send (queries) or
    /// nothing (changes).
    pub fn operator_call(&mut self, call: Call) -> Result<Option<Response>, CallError> {
        let kind = call::Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(call::Type::Unknown);
        let answer = |build: fn(&mut Response, &MasterState)| {
            let mut response = Response {
                r#type: response::Type::from_str_name(kind.as_str_name()).map(|t| t as i32),
                ..Default::default()
            };
            build(&mut response, self);
            Ok(Some(response))
        };
        match kind {
            call::Type::GetMetrics => answer(|r, s| {
                r.get_metrics = Some(response::GetMetrics {
                    metrics: s.operator_metrics(),
                })
            }),
            call::Type::GetState => answer(|r, s| r.get_state = Some(s.get_state())),
            call::Type::GetAgents => answer(|r, s| r.get_agents = Some(s.get_agents())),
            call::Type::GetFrameworks => answer(|r, s| r.get_frameworks = Some(s.get_frameworks())),
            call::Type::GetExecutors => answer(|r, s| r.get_executors = Some(s.get_executors())),
            call::Type::GetTasks => answer(|r, s| r.get_tasks = Some(s.get_tasks())),
            call::Type::GetRoles => answer(|r, s| r.get_roles = Some(s.get_roles())),
            call::Type::GetWeights => answer(|r, s| r.get_weights = s.get_weights()),
            call::Type::GetMaster => answer(|r, s| r.get_master = Some(s.get_master())),
            call::Type::GetQuota => answer(|r, s| r.get_quota = Some(s.get_quota())),
            call::Type::GetOperations => {
                answer(|r, _| r.get_operations = Some(response::GetOperations::default()))
            }
            call::Type::GetMaintenanceSchedule => {
                answer(|r, s| r.get_maintenance_schedule = Some(s.get_maintenance_schedule()))
            }
            call::Type::GetMaintenanceStatus => {
                answer(|r, s| r.get_maintenance_status = Some(s.get_maintenance_status()))
            }
            _ => self.operator_change(kind, call).map(|()| None),
        }
    }

    /// Applies an operator call that changes the state.
    fn operator_change(&mut self, kind: call::Type, call: Call) -> Result<(), CallError> {
        match kind {
            call::Type::UpdateWeights => {
                let update = call
                    .update_weights
                    .ok_or_else(|| missing("update_weights"))?;
                self.update_weights(update.weight_infos)
            }
            call::Type::UpdateQuota => {
                let update = call.update_quota.ok_or_else(|| missing("update_quota"))?;
                self.operator_update_quota(update.quota_configs, update.force.unwrap_or(false))
            }
            call::Type::SetQuota => {
                let request = call.set_quota.ok_or_else(|| missing("set_quota"))?;
                self.set_quota(request.quota_request)
            }
            call::Type::RemoveQuota => {
                let remove = call.remove_quota.ok_or_else(|| missing("remove_quota"))?;
                if !self.registry_state.quotas.contains_key(&remove.role) {
                    return Err(CallError::BadRequest(format!(
                        "Failed to validate remove quota request for role '{}': \
                         no quota set for role",
                        remove.role
                    )));
                }
                self.update_quota(vec![QuotaConfig {
                    role: remove.role,
                    ..Default::default()
                }])
            }
            call::Type::Teardown => {
                let teardown = call.teardown.ok_or_else(|| missing("teardown"))?;
                self.teardown(&teardown.framework_id.value)
            }
            call::Type::MarkAgentGone => {
                let gone = call
                    .mark_agent_gone
                    .ok_or_else(|| missing("mark_agent_gone"))?;
                self.mark_agent_gone(&gone.agent_id.value)
            }
            call::Type::ReserveResources => {
                let reserve = call
                    .reserve_resources
                    .ok_or_else(|| missing("reserve_resources"))?;
                let to = parse(&reserve.resources)?;
                let from = if reserve.source.is_empty() {
                    to.pop_reservation()
                        .map_err(|e| CallError::BadRequest(format!("Invalid reservation: {e}")))?
                } else {
                    parse(&reserve.source)?
                };
                self.operator_convert(&reserve.agent_id.value, from, to)
            }
            call::Type::UnreserveResources => {
                let unreserve = call
                    .unreserve_resources
                    .ok_or_else(|| missing("unreserve_resources"))?;
                let from = parse(&unreserve.resources)?;
                let to = from
                    .pop_reservation()
                    .map_err(|e| CallError::BadRequest(format!("Invalid reservation: {e}")))?;
                self.operator_convert(&unreserve.agent_id.value, from, to)
            }
            call::Type::CreateVolumes => {
                let create = call
                    .create_volumes
                    .ok_or_else(|| missing("create_volumes"))?;
                let to = parse(&create.volumes)?;
                let from = parse(&super::operations::without_volumes(&create.volumes))?;
                self.operator_convert(&create.agent_id.value, from, to)
            }
            call::Type::DestroyVolumes => {
                let destroy = call
                    .destroy_volumes
                    .ok_or_else(|| missing("destroy_volumes"))?;
                let from = parse(&destroy.volumes)?;
                let to = parse(&super::operations::without_volumes(&destroy.volumes))?;
                self.operator_convert(&destroy.agent_id.value, from, to)
            }
            call::Type::UpdateMaintenanceSchedule => {
                let update = call
                    .update_maintenance_schedule
                    .ok_or_else(|| missing("update_maintenance_schedule"))?;
                self.update_maintenance_schedule(update.schedule)
            }
            call::Type::StartMaintenance => {
                let start = call
                    .start_maintenance
                    .ok_or_else(|| missing("start_maintenance"))?;
                self.start_maintenance(&start.machines)
            }
            call::Type::StopMaintenance => {
                let stop = call
                    .stop_maintenance
                    .ok_or_else(|| missing("stop_maintenance"))?;
                self.stop_maintenance(&stop.machines)
            }
            call::Type::DrainAgent => {
                let drain = call.drain_agent.ok_or_else(|| missing("drain_agent"))?;
                self.drain_agent(drain)
            }
            call::Type::DeactivateAgent => {
                let deactivate = call
                    .deactivate_agent
                    .ok_or_else(|| missing("deactivate_agent"))?;
                let id = deactivate.agent_id.value;
                self.check_agent_known(&id)?;
                self.write_registry(vec![Operation::DeactivateAgent(agent_id(&id))])?;
                self.deactivate(&id);
                Ok(())
            }
            call::Type::ReactivateAgent => {
                let reactivate = call
                    .reactivate_agent
                    .ok_or_else(|| missing("reactivate_agent"))?;
                self.reactivate_agent(&reactivate.agent_id.value)
            }
            call::Type::ListFiles
            | call::Type::ReadFile
            | call::Type::GrowVolume
            | call::Type::ShrinkVolume => Err(CallError::BadRequest(format!(
                "The call {} is not supported by this master",
                kind.as_str_name()
            ))),
            _ => Err(CallError::BadRequest(format!(
                "Unexpected operator call {}",
                kind.as_str_name()
            ))),
        }
    }

    /// UPDATE_QUOTA: without `force`, the cluster must be able to hold every role's
    /// guarantee once the update applies.
    fn operator_update_quota(
        &mut self,
        configs: Vec<QuotaConfig>,
        force: bool,
    ) -> Result<(), CallError> {
        if !force {
            // Every role's guarantee once the update applies.
            let mut wanted: BTreeMap<String, f64> = BTreeMap::new();
            let updated: BTreeSet<&str> = configs.iter().map(|c| c.role.as_str()).collect();
            let mut quotas: Vec<_> = self
                .registry_state
                .quotas
                .keys()
                .filter(|role| !updated.contains(role.as_str()))
                .filter_map(|role| self.quota(role))
                .collect();
            for config in &configs {
                quotas.push(super::quota::quota_of(config).map_err(CallError::BadRequest)?);
            }
            for quota in quotas {
                for (name, value) in quota.guarantees {
                    *wanted.entry(name).or_default() += value;
                }
            }
            let mut capacity: BTreeMap<String, f64> = BTreeMap::new();
            for agent in self.agents.values().filter(|a| !a.recovered) {
                for resource in agent.total.iter().filter(|r| !r.is_revocable()) {
                    if let crate::resources::Value::Scalar(s) = resource.value() {
                        *capacity.entry(resource.name().to_string()).or_default() += s.as_f64();
                    }
                }
            }
            let short = wanted
                .iter()
                .any(|(name, value)| *value > capacity.get(name).copied().unwrap_or(0.0) + 1e-9);
            if short {
                return Err(CallError::BadRequest(format!(
                    "Invalid QuotaConfig: total quota guarantees '{wanted:?}' exceed cluster \
                     capacity '{capacity:?}' (use 'force' flag to bypass this check)"
                )));
            }
        }
        self.update_quota(configs)
    }

    /// SET_QUOTA (pre-1.9): the requested guarantee becomes the role's guarantee and
    /// limit.
    fn set_quota(
        &mut self,
        request: crate::proto::mesos::v1::quota::QuotaRequest,
    ) -> Result<(), CallError> {
        let role = request
            .role
            .clone()
            .ok_or_else(|| missing("quota_request.role"))?;
        let mut guarantees = Vec::new();
        let mut limits = Vec::new();
        for resource in &request.guarantee {
            let scalar = resource.scalar.ok_or_else(|| {
                CallError::BadRequest(format!(
                    "Invalid quota request: '{}' is not a scalar resource",
                    resource.name
                ))
            })?;
            guarantees.push(quota_config::GuaranteesEntry {
                key: Some(resource.name.clone()),
                value: Some(scalar),
            });
            limits.push(quota_config::LimitsEntry {
                key: Some(resource.name.clone()),
                value: Some(scalar),
            });
        }
        let config = QuotaConfig {
            role,
            guarantees,
            limits,
        };
        self.operator_update_quota(vec![config], request.force.unwrap_or(false))
    }

    /// MARK_AGENT_GONE of a registered or unreachable agent.
    fn mark_agent_gone(&mut self, agent: &str) -> Result<(), CallError> {
        if self.registry_state.gone.contains_key(agent) {
            return Ok(());
        }
        self.check_agent_known(agent)?;
        self.remove_agent(agent, RemovalKind::Gone)
    }

    /// Refuses an agent that is neither registered nor unreachable.
    fn check_agent_known(&self, agent: &str) -> Result<(), CallError> {
        if self.agents.contains_key(agent) || self.registry_state.unreachable.contains_key(agent) {
            Ok(())
        } else {
            Err(CallError::NotFound(format!("Agent {agent} not found")))
        }
    }

    /// RESERVE / UNRESERVE / CREATE / DESTROY by the operator: `from` (unallocated, on
    /// the agent) becomes `to`. Offers of the agent are rescinded when `from` is not free
    /// otherwise; the agent checkpoints its new total.
    fn operator_convert(
        &mut self,
        agent: &str,
        from: Resources,
        to: Resources,
    ) -> Result<(), CallError> {
        let Some(record) = self.agents.get(agent) else {
            return Err(CallError::NotFound(format!("Agent {agent} not found")));
        };
        if record.recovered {
            return Err(CallError::Conflict(format!(
                "Agent {agent} has not re-registered with this master yet"
            )));
        }
        let key = agent.to_string().into();
        let free = |s: &MasterState| {
            s.allocator
                .available(&key)
                .is_ok_and(|available| available.contains(&from))
        };
        if !free(self) {
            self.rescind_agent_offers(agent);
        }
        if !free(self) {
            return Err(CallError::Conflict(format!(
                "Agent {agent} does not have the resources {from} available"
            )));
        }
        let record = &self.agents[agent];
        let total = &(&record.total - &from) + &to;
        self.allocator
            .update_agent_total(&key, total.clone())
            .map_err(|e| CallError::Conflict(e.to_string()))?;
        let record = self.agents.get_mut(agent).expect("checked above");
        record.total = total;
        let checkpoint = AgentEvent {
            checkpoint_resources: Some(agent_event::CheckpointResources {
                total: record.total.to_protos(),
            }),
            ..events::agent_event(agent_event::Type::CheckpointResources)
        };
        self.send_to_agent(agent, checkpoint);
        self.freed_agents.insert(agent.to_string());
        Ok(())
    }

    /// Whether the machine of an agent with `info` is DOWN.
    pub(crate) fn machine_down(&self, info: &AgentInfo) -> bool {
        self.operator
            .down_machines
            .iter()
            .any(|m| is_machine_of(m, info))
    }

    /// The agents on `machine`.
    fn agents_on(&self, machine: &MachineKey) -> Vec<String> {
        self.agents
            .values()
            .filter(|a| is_machine_of(machine, &a.info))
            .map(|a| a.id().to_string())
            .collect()
    }

    /// UPDATE_MAINTENANCE_SCHEDULE: machines that are DOWN must stay in the schedule.
    fn update_maintenance_schedule(
        &mut self,
        schedule: crate::proto::mesos::v1::maintenance::Schedule,
    ) -> Result<(), CallError> {
        let scheduled: BTreeSet<MachineKey> = schedule
            .windows
            .iter()
            .flat_map(|w| w.machine_ids.iter().map(machine_key))
            .collect();
        if let Some((hostname, ip)) = self
            .operator
            .down_machines
            .iter()
            .find(|m| !scheduled.contains(*m))
        {
            return Err(CallError::BadRequest(format!(
                "Machine '{}' is deactivated and cannot be removed from the schedule",
                hostname.as_deref().or(ip.as_deref()).unwrap_or("")
            )));
        }
        let update = Operation::UpdateMaintenanceSchedule(schedule);
        crate::registry::operation::validate(&self.registry_state, &update)
            .map_err(|e| CallError::BadRequest(e.to_string()))?;
        self.write_registry(vec![update])?;
        self.operator.inverse_offers.check_now();
        Ok(())
    }

    /// START_MAINTENANCE: scheduled machines go DOWN; their agents get no offers.
    fn start_maintenance(&mut self, machines: &[MachineId]) -> Result<(), CallError> {
        let scheduled: BTreeSet<MachineKey> = self
            .registry_state
            .maintenance
            .windows
            .iter()
            .flat_map(|w| w.machine_ids.iter().map(machine_key))
            .collect();
        let keys: Vec<MachineKey> = machines.iter().map(machine_key).collect();
        if keys.is_empty() {
            return Err(CallError::BadRequest(
                "List of machines is empty".to_string(),
            ));
        }
        if let Some((hostname, ip)) = keys.iter().find(|k| !scheduled.contains(*k)) {
            return Err(CallError::BadRequest(format!(
                "Machine '{}' is not part of a maintenance schedule",
                hostname.as_deref().or(ip.as_deref()).unwrap_or("")
            )));
        }
        for key in keys {
            for agent in self.agents_on(&key) {
                let _ = self.allocator.deactivate_agent(&agent.clone().into());
                self.rescind_agent_offers(&agent);
            }
            self.operator.down_machines.insert(key);
        }
        self.operator.inverse_offers.check_now();
        Ok(())
    }

    /// STOP_MAINTENANCE: DOWN machines come back UP and leave the schedule; their agents
    /// get offers again unless an operator deactivated them.
    fn stop_maintenance(&mut self, machines: &[MachineId]) -> Result<(), CallError> {
        let keys: Vec<MachineKey> = machines.iter().map(machine_key).collect();
        if keys.is_empty() {
            return Err(CallError::BadRequest(
                "List of machines is empty".to_string(),
            ));
        }
        if let Some((hostname, ip)) = keys
            .iter()
            .find(|k| !self.operator.down_machines.contains(*k))
        {
            return Err(CallError::BadRequest(format!(
                "Machine '{}' is not in DOWN mode",
                hostname.as_deref().or(ip.as_deref()).unwrap_or("")
            )));
        }
        let mut schedule = self.registry_state.maintenance.clone();
        for window in &mut schedule.windows {
            window
                .machine_ids
                .retain(|m| !keys.contains(&machine_key(m)));
        }
        schedule.windows.retain(|w| !w.machine_ids.is_empty());
        self.write_registry(vec![Operation::UpdateMaintenanceSchedule(schedule)])?;
        for key in &keys {
            self.operator.down_machines.remove(key);
        }
        self.operator.inverse_offers.check_now();
        for key in &keys {
            for agent in self.agents_on(key) {
                let record = &self.agents[&agent];
                let offerable = record.connected() && !record.deactivated;
                if offerable && !self.machine_down(&record.info) {
                    let _ = self.allocator.activate_agent(&agent.clone().into());
                    self.freed_agents.insert(agent);
                }
            }
        }
        Ok(())
    }

    /// Stops offering an agent: deactivated in the allocator, offers rescinded.
    fn deactivate(&mut self, agent: &str) {
        if let Some(record) = self.agents.get_mut(agent) {
            record.deactivated = true;
            let _ = self.allocator.deactivate_agent(&agent.to_string().into());
            self.rescind_agent_offers(agent);
        }
    }

    /// DRAIN_AGENT: the agent is deactivated and its tasks killed (within the grace
    /// period); once none is left it is DRAINED, and marked gone if asked.
    fn drain_agent(&mut self, drain: call::DrainAgent) -> Result<(), CallError> {
        let agent = drain.agent_id.value.clone();
        self.check_agent_known(&agent)?;
        let grace = drain.max_grace_period.as_ref().map(duration_info);
        if grace.is_some_and(|g| g.nanoseconds < 0) {
            return Err(CallError::BadRequest(
                "Invalid 'max_grace_period': it cannot be negative".into(),
            ));
        }
        let config = DrainConfig {
            max_grace_period: grace,
            mark_gone: drain.mark_gone,
        };
        self.write_registry(vec![Operation::DrainAgent(agent_id(&agent), config)])?;
        self.deactivate(&agent);
        let tasks: Vec<_> = self
            .agents
            .get(&agent)
            .map(|a| a.tasks.iter().cloned().collect())
            .unwrap_or_default();
        for (framework, task) in tasks {
            let live = self
                .tasks
                .get(&(framework.clone(), task.clone()))
                .is_some_and(|e| !is_terminal(e.task.state));
            if live {
                let kill = AgentEvent {
                    kill_task: Some(agent_event::KillTask {
                        framework_id: events::framework_id(&framework),
                        task_id: TaskId { value: task },
                        kill_policy: grace.map(|g| KillPolicy {
                            grace_period: Some(g),
                        }),
                    }),
                    ..events::agent_event(agent_event::Type::KillTask)
                };
                self.send_to_agent(&agent, kill);
            }
        }
        if self.agents.contains_key(&agent) {
            self.operator.draining.insert(agent.clone());
            self.check_drained(&agent);
        }
        Ok(())
    }

    /// A draining agent without live tasks becomes DRAINED (and gone if its drain config
    /// says so).
    pub(crate) fn check_drained(&mut self, agent: &str) {
        let busy = self.agents.get(agent).is_some_and(|a| {
            a.tasks.iter().any(|k| {
                self.tasks
                    .get(k)
                    .is_some_and(|e| !is_terminal(e.task.state))
            })
        });
        if busy {
            return;
        }
        self.operator.draining.remove(agent);
        let Some(drain) = self.registry_state.agents.get(agent).and_then(|a| a.drain) else {
            return;
        };
        if drain.state != DrainState::Draining as i32 {
            return;
        }
        if self
            .write_registry(vec![Operation::MarkAgentDrained(agent_id(agent))])
            .is_err()
        {
            self.operator.draining.insert(agent.to_string());
            return;
        }
        if drain.config.mark_gone == Some(true) {
            let _ = self.remove_agent(agent, RemovalKind::Gone);
        }
    }

    /// REACTIVATE_AGENT: offers again (unless its machine is DOWN); drain state cleared.
    fn reactivate_agent(&mut self, agent: &str) -> Result<(), CallError> {
        self.check_agent_known(agent)?;
        self.write_registry(vec![Operation::ReactivateAgent(agent_id(agent))])?;
        self.operator.draining.remove(agent);
        let down = self
            .agents
            .get(agent)
            .is_some_and(|a| self.machine_down(&a.info));
        if let Some(record) = self.agents.get_mut(agent) {
            record.deactivated = false;
            if record.connected() && !down {
                let _ = self.allocator.activate_agent(&agent.to_string().into());
                self.freed_agents.insert(agent.to_string());
            }
        }
        Ok(())
    }
}
