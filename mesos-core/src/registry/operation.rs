//! Registry operations and the pure state transition they make: `state + op -> state'` or a
//! typed error. No IO here; both registry implementations and the tests use it.
//!
//! As in Apache Mesos, each operation is validated against the current state and the
//! validation is kept apart from the mutation it guards: [`validate`] never changes
//! anything, [`apply_validated`] never fails.

use std::collections::{BTreeMap, BTreeSet};

use crate::proto::mesos::internal::registry_operation as pb;
use crate::proto::mesos::internal::RegistryOperation;
use crate::proto::mesos::v1::maintenance::Schedule;
use crate::proto::mesos::v1::quota::QuotaConfig;
use crate::proto::mesos::v1::{
    AgentId, AgentInfo, DrainConfig, DrainInfo, DrainState, MasterInfo, TimeInfo, WeightInfo,
};

use super::state::{AdmittedAgent, RegistryState, UnreachableAgent};

/// One mutation of the registry.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    /// Admits a new agent. Fails if its id is already admitted (as in Mesos), unreachable
    /// or gone (those must use `MarkReachable`, or may never return).
    AdmitAgent(AgentInfo),
    /// Removes an admitted agent (it unregistered). Fails if it is not admitted.
    RemoveAgent(AgentId),
    /// Moves an admitted agent to the unreachable list, keeping its drain state.
    MarkUnreachable(AgentId, TimeInfo),
    /// Readmits an agent that reregisters. A no-op if already admitted; an agent unknown
    /// to the registry (e.g. pruned from the unreachable list) is admitted too, as in
    /// Mesos. Fails if the agent is gone.
    MarkReachable(AgentInfo),
    /// Marks an admitted or unreachable agent gone for good. A no-op if already gone.
    MarkGone(AgentId, TimeInfo),
    /// Forgets the listed unreachable and gone agents (garbage collection); ids not in
    /// those lists are ignored.
    Prune {
        /// Agents to drop from the unreachable list.
        unreachable: Vec<AgentId>,
        /// Agents to drop from the gone list.
        gone: Vec<AgentId>,
    },
    /// Sets the weight of each listed role.
    UpdateWeights(Vec<WeightInfo>),
    /// Sets the quota of each listed role (Mesos 1.9 `UPDATE_QUOTA`); a config with no
    /// guarantees and no limits removes the role's quota.
    UpdateQuota(Vec<QuotaConfig>),
    /// Replaces the maintenance schedule.
    UpdateMaintenanceSchedule(Schedule),
    /// Starts draining an admitted or unreachable agent; it is deactivated too.
    DrainAgent(AgentId, DrainConfig),
    /// Records that a draining agent has finished draining.
    MarkAgentDrained(AgentId),
    /// Deactivates an admitted or unreachable agent (no offers).
    DeactivateAgent(AgentId),
    /// Reactivates an agent and clears its drain state.
    ReactivateAgent(AgentId),
    /// Records the MasterInfo of the leading master.
    UpdateMasterInfo(MasterInfo),
}

/// Why an operation cannot be applied to the current state.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OperationError {
    /// The AgentInfo has no id (or an empty one).
    #[error("the agent info has no agent id")]
    MissingAgentId,
    /// The agent is already admitted.
    #[error("agent {0} is already admitted")]
    AgentAlreadyAdmitted(String),
    /// The agent is unreachable; it must be marked reachable, not admitted.
    #[error("agent {0} is unreachable; it must reregister, not register")]
    AgentUnreachable(String),
    /// The agent is gone and may never return.
    #[error("agent {0} is gone")]
    AgentGone(String),
    /// The agent is not admitted.
    #[error("agent {0} is not admitted")]
    AgentNotAdmitted(String),
    /// The agent is neither admitted nor unreachable.
    #[error("agent {0} is neither admitted nor unreachable")]
    AgentNotFound(String),
    /// The agent is not draining.
    #[error("agent {0} is not draining")]
    AgentNotDraining(String),
    /// A drain config is invalid.
    #[error("invalid drain config for agent {agent}: {reason}")]
    InvalidDrainConfig {
        /// The agent.
        agent: String,
        /// What is wrong.
        reason: String,
    },
    /// A weight is invalid.
    #[error("invalid weight for role '{role}': {reason}")]
    InvalidWeight {
        /// The role (empty if unset).
        role: String,
        /// What is wrong.
        reason: String,
    },
    /// A quota config is invalid.
    #[error("invalid quota config for role '{role}': {reason}")]
    InvalidQuota {
        /// The role (empty if unset).
        role: String,
        /// What is wrong.
        reason: String,
    },
    /// The maintenance schedule is invalid.
    #[error("invalid maintenance schedule: {0}")]
    InvalidSchedule(String),
    /// A decoded log record carries no operation.
    #[error("the registry operation is empty")]
    Empty,
}

/// Checks that `op` can be applied to `state`. Changes nothing.
pub fn validate(state: &RegistryState, op: &Operation) -> Result<(), OperationError> {
    match op {
        Operation::AdmitAgent(info) => {
            let id = info_id(info)?;
            if state.agents.contains_key(id) {
                Err(OperationError::AgentAlreadyAdmitted(id.to_string()))
            } else if state.unreachable.contains_key(id) {
                Err(OperationError::AgentUnreachable(id.to_string()))
            } else if state.gone.contains_key(id) {
                Err(OperationError::AgentGone(id.to_string()))
            } else {
                Ok(())
            }
        }
        Operation::RemoveAgent(id) | Operation::MarkUnreachable(id, _) => {
            if state.agents.contains_key(&id.value) {
                Ok(())
            } else {
                Err(OperationError::AgentNotAdmitted(id.value.clone()))
            }
        }
        Operation::MarkReachable(info) => {
            let id = info_id(info)?;
            if state.gone.contains_key(id) {
                Err(OperationError::AgentGone(id.to_string()))
            } else {
                Ok(())
            }
        }
        Operation::MarkGone(id, _) => {
            if state.knows_agent(&id.value) {
                Ok(())
            } else {
                Err(OperationError::AgentNotFound(id.value.clone()))
            }
        }
        Operation::Prune { .. } | Operation::UpdateMasterInfo(_) => Ok(()),
        Operation::UpdateWeights(weights) => weights.iter().try_for_each(validate_weight),
        Operation::UpdateQuota(configs) => configs.iter().try_for_each(validate_quota),
        Operation::UpdateMaintenanceSchedule(schedule) => validate_schedule(schedule),
        Operation::DrainAgent(id, config) => {
            find_agent(state, id)?;
            if let Some(period) = &config.max_grace_period {
                if period.nanoseconds < 0 {
                    return Err(OperationError::InvalidDrainConfig {
                        agent: id.value.clone(),
                        reason: "max_grace_period cannot be negative".into(),
                    });
                }
            }
            Ok(())
        }
        Operation::MarkAgentDrained(id) => match find_agent(state, id)? {
            (Some(_), _) => Ok(()),
            (None, _) => Err(OperationError::AgentNotDraining(id.value.clone())),
        },
        Operation::DeactivateAgent(id) | Operation::ReactivateAgent(id) => {
            find_agent(state, id).map(|_| ())
        }
    }
}

/// Applies an operation that [`validate`] accepted for this `state`.
pub fn apply_validated(state: &mut RegistryState, op: &Operation) {
    match op {
        Operation::AdmitAgent(info) => {
            let id = info
                .id
                .as_ref()
                .map(|id| id.value.clone())
                .unwrap_or_default();
            state.agents.insert(
                id,
                AdmittedAgent {
                    info: info.clone(),
                    drain: None,
                    deactivated: false,
                },
            );
        }
        Operation::RemoveAgent(id) => {
            state.agents.remove(&id.value);
        }
        Operation::MarkUnreachable(id, timestamp) => {
            if let Some(agent) = state.agents.remove(&id.value) {
                state.unreachable.insert(
                    id.value.clone(),
                    UnreachableAgent {
                        timestamp: *timestamp,
                        drain: agent.drain,
                        deactivated: agent.deactivated,
                    },
                );
            }
        }
        Operation::MarkReachable(info) => {
            let id = info
                .id
                .as_ref()
                .map(|id| id.value.clone())
                .unwrap_or_default();
            if state.agents.contains_key(&id) {
                return;
            }
            let previous = state.unreachable.remove(&id);
            state.agents.insert(
                id,
                AdmittedAgent {
                    info: info.clone(),
                    drain: previous.as_ref().and_then(|p| p.drain),
                    deactivated: previous.is_some_and(|p| p.deactivated),
                },
            );
        }
        Operation::MarkGone(id, timestamp) => {
            if state.gone.contains_key(&id.value) {
                return;
            }
            state.agents.remove(&id.value);
            state.unreachable.remove(&id.value);
            state.gone.insert(id.value.clone(), *timestamp);
        }
        Operation::Prune { unreachable, gone } => {
            for id in unreachable {
                state.unreachable.remove(&id.value);
            }
            for id in gone {
                state.gone.remove(&id.value);
            }
        }
        Operation::UpdateWeights(weights) => {
            for weight in weights {
                let role = weight.role.clone().unwrap_or_default();
                state.weights.insert(role, weight.weight);
            }
        }
        Operation::UpdateQuota(configs) => {
            for config in configs {
                if config.guarantees.is_empty() && config.limits.is_empty() {
                    state.quotas.remove(&config.role);
                } else {
                    state.quotas.insert(config.role.clone(), config.clone());
                }
            }
        }
        Operation::UpdateMaintenanceSchedule(schedule) => state.maintenance = schedule.clone(),
        Operation::DrainAgent(id, config) => with_agent(state, id, |drain, deactivated| {
            *deactivated = true;
            *drain = Some(DrainInfo {
                state: DrainState::Draining as i32,
                config: *config,
            });
        }),
        Operation::MarkAgentDrained(id) => with_agent(state, id, |drain, _| {
            if let Some(drain) = drain {
                drain.state = DrainState::Drained as i32;
            }
        }),
        Operation::DeactivateAgent(id) => with_agent(state, id, |_, deactivated| {
            *deactivated = true;
        }),
        Operation::ReactivateAgent(id) => with_agent(state, id, |drain, deactivated| {
            *deactivated = false;
            *drain = None;
        }),
        Operation::UpdateMasterInfo(info) => state.master = Some(info.clone()),
    }
}

/// Validates `op` against `state` and applies it; on error `state` is unchanged.
pub fn apply(state: &mut RegistryState, op: &Operation) -> Result<(), OperationError> {
    validate(state, op)?;
    apply_validated(state, op);
    Ok(())
}

/// The state after applying `ops` in order to `state`, or the index and error of the first
/// invalid operation. `state` itself is never changed.
pub fn apply_all(
    state: &RegistryState,
    ops: &[Operation],
) -> Result<RegistryState, (usize, OperationError)> {
    let mut next = state.clone();
    for (index, op) in ops.iter().enumerate() {
        apply(&mut next, op).map_err(|error| (index, error))?;
    }
    Ok(next)
}

fn info_id(info: &AgentInfo) -> Result<&str, OperationError> {
    match &info.id {
        Some(id) if !id.value.is_empty() => Ok(&id.value),
        _ => Err(OperationError::MissingAgentId),
    }
}

/// The drain info and deactivation of an admitted or unreachable agent.
fn find_agent<'a>(
    state: &'a RegistryState,
    id: &AgentId,
) -> Result<(Option<&'a DrainInfo>, bool), OperationError> {
    if let Some(agent) = state.agents.get(&id.value) {
        Ok((agent.drain.as_ref(), agent.deactivated))
    } else if let Some(agent) = state.unreachable.get(&id.value) {
        Ok((agent.drain.as_ref(), agent.deactivated))
    } else {
        Err(OperationError::AgentNotFound(id.value.clone()))
    }
}

fn with_agent(
    state: &mut RegistryState,
    id: &AgentId,
    change: impl FnOnce(&mut Option<DrainInfo>, &mut bool),
) {
    if let Some(agent) = state.agents.get_mut(&id.value) {
        change(&mut agent.drain, &mut agent.deactivated);
    } else if let Some(agent) = state.unreachable.get_mut(&id.value) {
        change(&mut agent.drain, &mut agent.deactivated);
    }
}

fn validate_weight(weight: &WeightInfo) -> Result<(), OperationError> {
    let role = weight.role.clone().unwrap_or_default();
    let invalid = |reason: &str| OperationError::InvalidWeight {
        role: role.clone(),
        reason: reason.to_string(),
    };
    if role.is_empty() {
        return Err(invalid("the role is not set"));
    }
    if !weight.weight.is_finite() || weight.weight <= 0.0 {
        return Err(invalid(&format!(
            "weight {} is not a positive number",
            weight.weight
        )));
    }
    Ok(())
}

fn validate_quota(config: &QuotaConfig) -> Result<(), OperationError> {
    let invalid = |reason: String| OperationError::InvalidQuota {
        role: config.role.clone(),
        reason,
    };
    if config.role.is_empty() {
        return Err(invalid("the role is not set".into()));
    }
    let mut maps: [BTreeMap<&str, f64>; 2] = Default::default();
    let entries = [
        config
            .guarantees
            .iter()
            .map(|e| (e.key.as_deref(), e.value.as_ref().map(|v| v.value)))
            .collect::<Vec<_>>(),
        config
            .limits
            .iter()
            .map(|e| (e.key.as_deref(), e.value.as_ref().map(|v| v.value)))
            .collect(),
    ];
    for (kind, (map, entries)) in ["guarantee", "limit"]
        .iter()
        .zip(maps.iter_mut().zip(entries.iter()))
    {
        for (key, value) in entries {
            let key = key
                .filter(|k| !k.is_empty())
                .ok_or_else(|| invalid(format!("a {kind} has no resource name")))?;
            let value =
                value.ok_or_else(|| invalid(format!("the {kind} of {key} has no value")))?;
            if !value.is_finite() || value < 0.0 {
                return Err(invalid(format!(
                    "the {kind} of {key} ({value}) is not a non-negative number"
                )));
            }
            if map.insert(key, value).is_some() {
                return Err(invalid(format!("the {kind} of {key} is given twice")));
            }
        }
    }
    let [guarantees, limits] = &maps;
    for (name, guarantee) in guarantees {
        if let Some(limit) = limits.get(name) {
            if guarantee > limit {
                return Err(invalid(format!(
                    "the guarantee of {name} ({guarantee}) exceeds its limit ({limit})"
                )));
            }
        }
    }
    Ok(())
}

fn validate_schedule(schedule: &Schedule) -> Result<(), OperationError> {
    let mut seen = BTreeSet::new();
    for window in &schedule.windows {
        for machine in &window.machine_ids {
            let hostname = machine.hostname.clone().unwrap_or_default().to_lowercase();
            let ip = machine.ip.clone().unwrap_or_default();
            if hostname.is_empty() && ip.is_empty() {
                return Err(OperationError::InvalidSchedule(
                    "a machine id has neither hostname nor ip".into(),
                ));
            }
            if !seen.insert((hostname.clone(), ip.clone())) {
                return Err(OperationError::InvalidSchedule(format!(
                    "machine {hostname}/{ip} is in more than one window"
                )));
            }
        }
    }
    Ok(())
}

impl Operation {
    /// The log-record form of this operation.
    pub fn to_proto(&self) -> RegistryOperation {
        use pb::Operation as O;
        let operation = match self.clone() {
            Operation::AdmitAgent(info) => O::AdmitAgent(pb::AdmitAgent { info }),
            Operation::RemoveAgent(id) => O::RemoveAgent(pb::RemoveAgent { id }),
            Operation::MarkUnreachable(id, timestamp) => {
                O::MarkUnreachable(pb::MarkUnreachable { id, timestamp })
            }
            Operation::MarkReachable(info) => O::MarkReachable(pb::MarkReachable { info }),
            Operation::MarkGone(id, timestamp) => O::MarkGone(pb::MarkGone { id, timestamp }),
            Operation::Prune { unreachable, gone } => O::Prune(pb::Prune { unreachable, gone }),
            Operation::UpdateWeights(weights) => O::UpdateWeights(pb::UpdateWeights { weights }),
            Operation::UpdateQuota(configs) => O::UpdateQuota(pb::UpdateQuota { configs }),
            Operation::UpdateMaintenanceSchedule(schedule) => {
                O::UpdateMaintenanceSchedule(pb::UpdateMaintenanceSchedule { schedule })
            }
            Operation::DrainAgent(id, config) => O::DrainAgent(pb::DrainAgent { id, config }),
            Operation::MarkAgentDrained(id) => O::MarkAgentDrained(pb::MarkAgentDrained { id }),
            Operation::DeactivateAgent(id) => O::DeactivateAgent(pb::DeactivateAgent { id }),
            Operation::ReactivateAgent(id) => O::ReactivateAgent(pb::ReactivateAgent { id }),
            Operation::UpdateMasterInfo(info) => O::UpdateMasterInfo(pb::UpdateMasterInfo { info }),
        };
        RegistryOperation {
            operation: Some(operation),
        }
    }

    /// The operation a log record holds.
    pub fn from_proto(op: RegistryOperation) -> Result<Operation, OperationError> {
        use pb::Operation as O;
        Ok(match op.operation.ok_or(OperationError::Empty)? {
            O::AdmitAgent(op) => Operation::AdmitAgent(op.info),
            O::RemoveAgent(op) => Operation::RemoveAgent(op.id),
            O::MarkUnreachable(op) => Operation::MarkUnreachable(op.id, op.timestamp),
            O::MarkReachable(op) => Operation::MarkReachable(op.info),
            O::MarkGone(op) => Operation::MarkGone(op.id, op.timestamp),
            O::Prune(op) => Operation::Prune {
                unreachable: op.unreachable,
                gone: op.gone,
            },
            O::UpdateWeights(op) => Operation::UpdateWeights(op.weights),
            O::UpdateQuota(op) => Operation::UpdateQuota(op.configs),
            O::UpdateMaintenanceSchedule(op) => Operation::UpdateMaintenanceSchedule(op.schedule),
            O::DrainAgent(op) => Operation::DrainAgent(op.id, op.config),
            O::MarkAgentDrained(op) => Operation::MarkAgentDrained(op.id),
            O::DeactivateAgent(op) => Operation::DeactivateAgent(op.id),
            O::ReactivateAgent(op) => Operation::ReactivateAgent(op.id),
            O::UpdateMasterInfo(op) => Operation::UpdateMasterInfo(op.info),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::maintenance::Window;
    use crate::proto::mesos::v1::quota::quota_config::{GuaranteesEntry, LimitsEntry};
    use crate::proto::mesos::v1::value::Scalar;
    use crate::proto::mesos::v1::{DurationInfo, MachineId, Unavailability};

    fn id(value: &str) -> AgentId {
        AgentId {
            value: value.into(),
        }
    }

    fn info(value: &str) -> AgentInfo {
        AgentInfo {
            hostname: format!("{value}.example.com"),
            id: Some(id(value)),
            ..Default::default()
        }
    }

    fn time(nanoseconds: i64) -> TimeInfo {
        TimeInfo { nanoseconds }
    }

    fn with(ops: &[Operation]) -> RegistryState {
        apply_all(&RegistryState::default(), ops).expect("valid operations")
    }

    fn quota(role: &str, guarantees: &[(&str, f64)], limits: &[(&str, f64)]) -> QuotaConfig {
        QuotaConfig {
            role: role.into(),
            guarantees: guarantees
                .iter()
                .map(|(k, v)| GuaranteesEntry {
                    key: Some(k.to_string()),
                    value: Some(Scalar { value: *v }),
                })
                .collect(),
            limits: limits
                .iter()
                .map(|(k, v)| LimitsEntry {
                    key: Some(k.to_string()),
                    value: Some(Scalar { value: *v }),
                })
                .collect(),
        }
    }

    #[track_caller]
    fn rejects(state: &RegistryState, op: Operation, expected: OperationError) {
        let mut copy = state.clone();
        assert_eq!(apply(&mut copy, &op), Err(expected));
        assert_eq!(&copy, state, "a rejected operation changed the state");
    }

    #[test]
    fn admit_and_readmit() {
        let state = with(&[Operation::AdmitAgent(info("a1"))]);
        assert_eq!(state.agents["a1"].info, info("a1"));
        rejects(
            &state,
            Operation::AdmitAgent(info("a1")),
            OperationError::AgentAlreadyAdmitted("a1".into()),
        );
        let mut no_id = info("x");
        no_id.id = None;
        rejects(
            &state,
            Operation::AdmitAgent(no_id),
            OperationError::MissingAgentId,
        );
    }

    #[test]
    fn remove_requires_admitted() {
        let state = with(&[Operation::AdmitAgent(info("a1"))]);
        rejects(
            &state,
            Operation::RemoveAgent(id("a2")),
            OperationError::AgentNotAdmitted("a2".into()),
        );
        let mut next = state.clone();
        apply(&mut next, &Operation::RemoveAgent(id("a1"))).unwrap();
        assert!(next.agents.is_empty());
    }

    #[test]
    fn unreachable_then_reachable_keeps_drain_state() {
        let config = DrainConfig {
            max_grace_period: Some(DurationInfo { nanoseconds: 5 }),
            mark_gone: Some(false),
        };
        let state = with(&[
            Operation::AdmitAgent(info("a1")),
            Operation::DrainAgent(id("a1"), config),
            Operation::MarkUnreachable(id("a1"), time(10)),
        ]);
        assert!(state.agents.is_empty());
        let unreachable = &state.unreachable["a1"];
        assert_eq!(unreachable.timestamp, time(10));
        assert!(unreachable.deactivated);
        rejects(
            &state,
            Operation::AdmitAgent(info("a1")),
            OperationError::AgentUnreachable("a1".into()),
        );
        rejects(
            &state,
            Operation::MarkUnreachable(id("a1"), time(11)),
            OperationError::AgentNotAdmitted("a1".into()),
        );
        let mut next = state.clone();
        let mut new_info = info("a1");
        new_info.hostname = "moved.example.com".into();
        apply(&mut next, &Operation::MarkReachable(new_info.clone())).unwrap();
        assert!(next.unreachable.is_empty());
        let agent = &next.agents["a1"];
        assert_eq!(agent.info, new_info);
        assert!(agent.deactivated);
        assert_eq!(
            agent.drain,
            Some(DrainInfo {
                state: DrainState::Draining as i32,
                config
            })
        );
        // Reachable again while admitted: no change, as in Mesos.
        let before = next.clone();
        apply(&mut next, &Operation::MarkReachable(info("a1"))).unwrap();
        assert_eq!(next, before);
        // An agent the registry forgot may reregister.
        apply(&mut next, &Operation::MarkReachable(info("a9"))).unwrap();
        assert!(next.agents.contains_key("a9"));
    }

    #[test]
    fn gone_is_final() {
        let state = with(&[
            Operation::AdmitAgent(info("a1")),
            Operation::AdmitAgent(info("a2")),
            Operation::MarkUnreachable(id("a2"), time(1)),
            Operation::MarkGone(id("a1"), time(2)),
            Operation::MarkGone(id("a2"), time(3)),
            Operation::MarkGone(id("a2"), time(4)),
        ]);
        assert!(state.agents.is_empty() && state.unreachable.is_empty());
        assert_eq!(state.gone["a1"], time(2));
        assert_eq!(state.gone["a2"], time(3), "marking gone twice is a no-op");
        rejects(
            &state,
            Operation::MarkReachable(info("a1")),
            OperationError::AgentGone("a1".into()),
        );
        rejects(
            &state,
            Operation::AdmitAgent(info("a1")),
            OperationError::AgentGone("a1".into()),
        );
        rejects(
            &state,
            Operation::MarkGone(id("a3"), time(5)),
            OperationError::AgentNotFound("a3".into()),
        );
        let mut next = state.clone();
        apply(
            &mut next,
            &Operation::Prune {
                unreachable: vec![],
                gone: vec![id("a1"), id("zz")],
            },
        )
        .unwrap();
        assert_eq!(next.gone.keys().collect::<Vec<_>>(), vec!["a2"]);
    }

    #[test]
    fn draining_lifecycle() {
        let config = DrainConfig::default();
        let mut state = with(&[Operation::AdmitAgent(info("a1"))]);
        rejects(
            &state,
            Operation::MarkAgentDrained(id("a1")),
            OperationError::AgentNotDraining("a1".into()),
        );
        rejects(
            &state,
            Operation::DrainAgent(id("a2"), config),
            OperationError::AgentNotFound("a2".into()),
        );
        rejects(
            &state,
            Operation::DrainAgent(
                id("a1"),
                DrainConfig {
                    max_grace_period: Some(DurationInfo { nanoseconds: -1 }),
                    mark_gone: None,
                },
            ),
            OperationError::InvalidDrainConfig {
                agent: "a1".into(),
                reason: "max_grace_period cannot be negative".into(),
            },
        );
        apply(&mut state, &Operation::DrainAgent(id("a1"), config)).unwrap();
        apply(&mut state, &Operation::MarkAgentDrained(id("a1"))).unwrap();
        let agent = &state.agents["a1"];
        assert_eq!(
            agent.drain.as_ref().unwrap().state,
            DrainState::Drained as i32
        );
        assert!(agent.deactivated);
        apply(&mut state, &Operation::ReactivateAgent(id("a1"))).unwrap();
        assert_eq!(state.agents["a1"].drain, None);
        assert!(!state.agents["a1"].deactivated);
        apply(&mut state, &Operation::DeactivateAgent(id("a1"))).unwrap();
        assert!(state.agents["a1"].deactivated);
        rejects(
            &state,
            Operation::DeactivateAgent(id("nope")),
            OperationError::AgentNotFound("nope".into()),
        );
    }

    #[test]
    fn weights() {
        let weight = |role: &str, weight: f64| WeightInfo {
            weight,
            role: Some(role.into()),
        };
        let mut state = with(&[Operation::UpdateWeights(vec![
            weight("a", 2.0),
            weight("b", 3.0),
        ])]);
        apply(
            &mut state,
            &Operation::UpdateWeights(vec![weight("a", 0.5)]),
        )
        .unwrap();
        assert_eq!(state.weights["a"], 0.5);
        assert_eq!(state.weights["b"], 3.0);
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let op = Operation::UpdateWeights(vec![weight("c", 1.0), weight("a", bad)]);
            let mut copy = state.clone();
            assert!(matches!(
                apply(&mut copy, &op),
                Err(OperationError::InvalidWeight { .. })
            ));
            assert_eq!(copy, state);
        }
        rejects(
            &state,
            Operation::UpdateWeights(vec![WeightInfo {
                weight: 1.0,
                role: None,
            }]),
            OperationError::InvalidWeight {
                role: String::new(),
                reason: "the role is not set".into(),
            },
        );
    }

    #[test]
    fn quota_set_replace_and_remove() {
        let dev = quota("dev", &[("cpus", 1.0)], &[("cpus", 4.0)]);
        let ops = quota("ops", &[], &[("mem", 1024.0)]);
        let mut state = with(&[Operation::UpdateQuota(vec![dev.clone(), ops.clone()])]);
        assert_eq!(state.quotas["dev"], dev);
        let dev2 = quota("dev", &[("cpus", 2.0)], &[]);
        apply(&mut state, &Operation::UpdateQuota(vec![dev2.clone()])).unwrap();
        assert_eq!(state.quotas["dev"], dev2);
        apply(
            &mut state,
            &Operation::UpdateQuota(vec![quota("ops", &[], &[])]),
        )
        .unwrap();
        assert_eq!(state.quotas.keys().collect::<Vec<_>>(), vec!["dev"]);
        for bad in [
            quota("", &[("cpus", 1.0)], &[]),
            quota("x", &[("cpus", -1.0)], &[]),
            quota("x", &[("cpus", 2.0)], &[("cpus", 1.0)]),
            quota("x", &[("cpus", 1.0), ("cpus", 1.0)], &[]),
            quota("x", &[("", 1.0)], &[]),
        ] {
            let mut copy = state.clone();
            let result = apply(&mut copy, &Operation::UpdateQuota(vec![bad.clone()]));
            assert!(
                matches!(result, Err(OperationError::InvalidQuota { .. })),
                "{bad:?} accepted"
            );
            assert_eq!(copy, state);
        }
    }

    #[test]
    fn maintenance_schedule() {
        let machine = |host: &str| MachineId {
            hostname: Some(host.into()),
            ip: None,
        };
        let window = |hosts: &[&str]| Window {
            machine_ids: hosts.iter().map(|h| machine(h)).collect(),
            unavailability: Unavailability {
                start: time(100),
                duration: None,
            },
        };
        let schedule = Schedule {
            windows: vec![window(&["h1", "h2"]), window(&["h3"])],
        };
        let state = with(&[Operation::UpdateMaintenanceSchedule(schedule.clone())]);
        assert_eq!(state.maintenance, schedule);
        let twice = Schedule {
            windows: vec![window(&["h1"]), window(&["H1"])],
        };
        let mut copy = state.clone();
        assert!(matches!(
            apply(&mut copy, &Operation::UpdateMaintenanceSchedule(twice)),
            Err(OperationError::InvalidSchedule(_))
        ));
        assert_eq!(copy, state);
    }

    #[test]
    fn a_batch_with_one_bad_operation_changes_nothing() {
        let state = with(&[Operation::AdmitAgent(info("a1"))]);
        let result = apply_all(
            &state,
            &[
                Operation::AdmitAgent(info("a2")),
                Operation::RemoveAgent(id("a1")),
                Operation::RemoveAgent(id("a1")),
            ],
        );
        assert_eq!(
            result,
            Err((2, OperationError::AgentNotAdmitted("a1".into())))
        );
        assert_eq!(state.agents.len(), 1);
    }

    #[test]
    fn operations_round_trip_through_protobuf() {
        let ops = vec![
            Operation::AdmitAgent(info("a1")),
            Operation::RemoveAgent(id("a1")),
            Operation::MarkUnreachable(id("a"), time(1)),
            Operation::MarkReachable(info("a")),
            Operation::MarkGone(id("a"), time(2)),
            Operation::Prune {
                unreachable: vec![id("u")],
                gone: vec![id("g")],
            },
            Operation::UpdateWeights(vec![WeightInfo {
                weight: 2.0,
                role: Some("r".into()),
            }]),
            Operation::UpdateQuota(vec![quota("r", &[("cpus", 1.0)], &[])]),
            Operation::UpdateMaintenanceSchedule(Schedule::default()),
            Operation::DrainAgent(id("a"), DrainConfig::default()),
            Operation::MarkAgentDrained(id("a")),
            Operation::DeactivateAgent(id("a")),
            Operation::ReactivateAgent(id("a")),
            Operation::UpdateMasterInfo(MasterInfo {
                id: "m".into(),
                ip: 1,
                port: 5050,
                ..Default::default()
            }),
        ];
        for op in ops {
            let bytes = prost::Message::encode_to_vec(&op.to_proto());
            let decoded = crate::protobuf::decode::<RegistryOperation>(&bytes).unwrap();
            assert_eq!(Operation::from_proto(decoded).unwrap(), op);
        }
        assert_eq!(
            Operation::from_proto(RegistryOperation::default()),
            Err(OperationError::Empty)
        );
    }
}
