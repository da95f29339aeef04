//! The master's durable state as plain Rust data, and its conversion to and from the
//! `mesos.internal.Registry` message that the snapshot file holds.

use std::collections::BTreeMap;

use crate::proto::mesos::internal::{registry as pb, Registry as RegistryProto};
use crate::proto::mesos::v1::maintenance::Schedule;
use crate::proto::mesos::v1::quota::QuotaConfig;
use crate::proto::mesos::v1::{AgentId, AgentInfo, DrainInfo, MasterInfo, TimeInfo, WeightInfo};

/// The version of the `Registry` message this code writes and the newest it reads.
pub const SCHEMA_VERSION: u32 = 1;

/// An admitted (registered) agent.
#[derive(Debug, Clone, PartialEq)]
pub struct AdmittedAgent {
    /// What the agent reported when it was admitted (its `id` is always set).
    pub info: AgentInfo,
    /// Set while the agent is draining or drained.
    pub drain: Option<DrainInfo>,
    /// A deactivated agent gets no offers.
    pub deactivated: bool,
}

/// An agent the master lost contact with; it may reregister.
#[derive(Debug, Clone, PartialEq)]
pub struct UnreachableAgent {
    /// When it was marked unreachable.
    pub timestamp: TimeInfo,
    /// Drain state carried over from when it was admitted.
    pub drain: Option<DrainInfo>,
    /// Deactivation carried over from when it was admitted.
    pub deactivated: bool,
}

/// Everything the master must remember across failovers. Maps are keyed by agent id value
/// or role name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegistryState {
    /// The MasterInfo of the last master that led.
    pub master: Option<MasterInfo>,
    /// Admitted agents.
    pub agents: BTreeMap<String, AdmittedAgent>,
    /// Unreachable agents.
    pub unreachable: BTreeMap<String, UnreachableAgent>,
    /// Gone agents and when they were marked gone.
    pub gone: BTreeMap<String, TimeInfo>,
    /// Role weights (roles not listed have weight 1.0).
    pub weights: BTreeMap<String, f64>,
    /// Quota configurations by role.
    pub quotas: BTreeMap<String, QuotaConfig>,
    /// The maintenance schedule (empty when none).
    pub maintenance: Schedule,
}

impl RegistryState {
    /// Whether `id` is admitted, unreachable or gone.
    pub fn knows_agent(&self, id: &str) -> bool {
        self.agents.contains_key(id)
            || self.unreachable.contains_key(id)
            || self.gone.contains_key(id)
    }

    /// The registry message for this state, recording `last_sequence` as the last log
    /// record folded into it.
    pub fn to_proto(&self, last_sequence: u64) -> RegistryProto {
        RegistryProto {
            schema_version: Some(SCHEMA_VERSION),
            master: self.master.clone(),
            agents: self
                .agents
                .values()
                .map(|agent| pb::Agent {
                    info: agent.info.clone(),
                    drain_info: agent.drain,
                    deactivated: agent.deactivated.then_some(true),
                })
                .collect(),
            unreachable: self
                .unreachable
                .iter()
                .map(|(id, agent)| pb::UnreachableAgent {
                    id: agent_id(id),
                    timestamp: agent.timestamp,
                    drain_info: agent.drain,
                    deactivated: agent.deactivated.then_some(true),
                })
                .collect(),
            gone: self
                .gone
                .iter()
                .map(|(id, timestamp)| pb::GoneAgent {
                    id: agent_id(id),
                    timestamp: *timestamp,
                })
                .collect(),
            weights: self
                .weights
                .iter()
                .map(|(role, weight)| WeightInfo {
                    weight: *weight,
                    role: Some(role.clone()),
                })
                .collect(),
            quota_configs: self.quotas.values().cloned().collect(),
            schedule: (!self.maintenance.windows.is_empty()).then(|| self.maintenance.clone()),
            last_sequence: Some(last_sequence),
        }
    }

    /// The state a registry message holds, and the sequence number of the last log record
    /// folded into it. Fails, saying why, on a message no correct writer produces
    /// (duplicate agents, an agent without id, a newer schema version).
    pub fn from_proto(registry: RegistryProto) -> Result<(RegistryState, u64), String> {
        let version = registry.schema_version.unwrap_or(0);
        if version > SCHEMA_VERSION {
            return Err(format!(
                "schema version {version} is newer than the newest this build reads ({SCHEMA_VERSION})"
            ));
        }
        let mut state = RegistryState {
            master: registry.master,
            maintenance: registry.schedule.unwrap_or_default(),
            ..RegistryState::default()
        };
        for agent in registry.agents {
            let id = match &agent.info.id {
                Some(id) if !id.value.is_empty() => id.value.clone(),
                _ => return Err("an admitted agent has no id".into()),
            };
            if state.knows_agent(&id) {
                return Err(format!("agent {id} is listed twice"));
            }
            state.agents.insert(
                id,
                AdmittedAgent {
                    info: agent.info,
                    drain: agent.drain_info,
                    deactivated: agent.deactivated.unwrap_or(false),
                },
            );
        }
        for agent in registry.unreachable {
            let id = agent.id.value;
            if state.knows_agent(&id) {
                return Err(format!("agent {id} is listed twice"));
            }
            state.unreachable.insert(
                id,
                UnreachableAgent {
                    timestamp: agent.timestamp,
                    drain: agent.drain_info,
                    deactivated: agent.deactivated.unwrap_or(false),
                },
            );
        }
        for agent in registry.gone {
            let id = agent.id.value;
            if state.knows_agent(&id) {
                return Err(format!("agent {id} is listed twice"));
            }
            state.gone.insert(id, agent.timestamp);
        }
        for weight in registry.weights {
            let role = weight.role.unwrap_or_default();
            if state.weights.insert(role.clone(), weight.weight).is_some() {
                return Err(format!("the weight of role '{role}' is listed twice"));
            }
        }
        for config in registry.quota_configs {
            let role = config.role.clone();
            if state.quotas.insert(role.clone(), config).is_some() {
                return Err(format!("the quota of role '{role}' is listed twice"));
            }
        }
        Ok((state, registry.last_sequence.unwrap_or(0)))
    }
}

/// An `AgentID` with the given value.
pub(crate) fn agent_id(value: &str) -> AgentId {
    AgentId {
        value: value.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::operation::{apply_all, Operation};

    #[test]
    fn proto_round_trip() {
        let info = |v: &str| AgentInfo {
            hostname: "h".into(),
            id: Some(agent_id(v)),
            ..Default::default()
        };
        let state = apply_all(
            &RegistryState::default(),
            &[
                Operation::AdmitAgent(info("a")),
                Operation::AdmitAgent(info("b")),
                Operation::AdmitAgent(info("c")),
                Operation::DeactivateAgent(agent_id("a")),
                Operation::MarkUnreachable(agent_id("b"), TimeInfo { nanoseconds: 7 }),
                Operation::MarkGone(agent_id("c"), TimeInfo { nanoseconds: 8 }),
                Operation::UpdateWeights(vec![WeightInfo {
                    weight: 2.5,
                    role: Some("r".into()),
                }]),
            ],
        )
        .unwrap();
        let (back, sequence) = RegistryState::from_proto(state.to_proto(42)).unwrap();
        assert_eq!(back, state);
        assert_eq!(sequence, 42);
    }

    #[test]
    fn rejects_duplicates_and_newer_versions() {
        let mut proto = RegistryState::default().to_proto(0);
        proto.gone.push(pb::GoneAgent {
            id: agent_id("x"),
            timestamp: TimeInfo { nanoseconds: 1 },
        });
        proto.gone.push(proto.gone[0].clone());
        assert!(RegistryState::from_proto(proto.clone())
            .unwrap_err()
            .contains("twice"));
        proto.gone.clear();
        proto.schema_version = Some(SCHEMA_VERSION + 1);
        assert!(RegistryState::from_proto(proto).is_err());
    }
}
