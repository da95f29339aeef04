//! Random operation sequences: the file registry (reopened and compacted at random points)
//! and the in-memory registry must agree with the pure state transition at every step.

use std::path::Path;

use mesos_core::proto::mesos::v1::maintenance::{Schedule, Window};
use mesos_core::proto::mesos::v1::quota::quota_config::{GuaranteesEntry, LimitsEntry};
use mesos_core::proto::mesos::v1::quota::QuotaConfig;
use mesos_core::proto::mesos::v1::value::Scalar;
use mesos_core::proto::mesos::v1::{
    AgentId, AgentInfo, DrainConfig, DurationInfo, MachineId, MasterInfo, TimeInfo, Unavailability,
    WeightInfo,
};
use mesos_core::registry::{
    operation, FileRegistry, FileRegistryOptions, InMemoryRegistry, Operation, Registry,
    RegistryError, RegistryState,
};
use proptest::prelude::*;

fn id(n: u8) -> AgentId {
    AgentId {
        value: format!("agent-{n}"),
    }
}

fn info(n: u8, port: i32) -> AgentInfo {
    AgentInfo {
        hostname: format!("host-{n}"),
        port: Some(port),
        id: Some(id(n)),
        ..Default::default()
    }
}

fn time(t: i64) -> TimeInfo {
    TimeInfo { nanoseconds: t }
}

fn scalar(value: f64) -> Option<Scalar> {
    Some(Scalar { value })
}

/// Operations over a few agents and roles, so that collisions (and invalid operations)
/// are common.
fn op() -> impl Strategy<Value = Operation> {
    let agent = 0u8..5;
    let role = prop::sample::select(vec!["dev", "ops", "web"]);
    prop_oneof![
        (agent.clone(), 5000i32..5003).prop_map(|(n, p)| Operation::AdmitAgent(info(n, p))),
        agent.clone().prop_map(|n| Operation::RemoveAgent(id(n))),
        (agent.clone(), 0i64..100).prop_map(|(n, t)| Operation::MarkUnreachable(id(n), time(t))),
        (agent.clone(), 5000i32..5003).prop_map(|(n, p)| Operation::MarkReachable(info(n, p))),
        (agent.clone(), 0i64..100).prop_map(|(n, t)| Operation::MarkGone(id(n), time(t))),
        (
            prop::collection::vec(agent.clone(), 0..3),
            prop::collection::vec(agent.clone(), 0..3)
        )
            .prop_map(|(u, g)| Operation::Prune {
                unreachable: u.into_iter().map(id).collect(),
                gone: g.into_iter().map(id).collect(),
            }),
        prop::collection::vec((role.clone(), -1.0f64..4.0), 0..3).prop_map(|ws| {
            Operation::UpdateWeights(
                ws.into_iter()
                    .map(|(role, weight)| WeightInfo {
                        weight,
                        role: Some(role.into()),
                    })
                    .collect(),
            )
        }),
        prop::collection::vec(
            (
                role,
                prop::option::of(0.0f64..8.0),
                prop::option::of(0.0f64..8.0)
            ),
            0..3
        )
        .prop_map(|qs| {
            Operation::UpdateQuota(
                qs.into_iter()
                    .map(|(role, guarantee, limit)| QuotaConfig {
                        role: role.into(),
                        guarantees: guarantee
                            .map(|g| GuaranteesEntry {
                                key: Some("cpus".into()),
                                value: scalar(g),
                            })
                            .into_iter()
                            .collect(),
                        limits: limit
                            .map(|l| LimitsEntry {
                                key: Some("cpus".into()),
                                value: scalar(l),
                            })
                            .into_iter()
                            .collect(),
                    })
                    .collect(),
            )
        }),
        prop::collection::vec(0u8..4, 0..4).prop_map(|hosts| {
            Operation::UpdateMaintenanceSchedule(Schedule {
                windows: hosts
                    .into_iter()
                    .map(|h| Window {
                        machine_ids: vec![MachineId {
                            hostname: Some(format!("host-{h}")),
                            ip: None,
                        }],
                        unavailability: Unavailability {
                            start: time(i64::from(h)),
                            duration: None,
                        },
                    })
                    .collect(),
            })
        }),
        (agent.clone(), -1i64..3, any::<bool>()).prop_map(|(n, grace, mark_gone)| {
            Operation::DrainAgent(
                id(n),
                DrainConfig {
                    max_grace_period: Some(DurationInfo { nanoseconds: grace }),
                    mark_gone: Some(mark_gone),
                },
            )
        }),
        agent
            .clone()
            .prop_map(|n| Operation::MarkAgentDrained(id(n))),
        agent
            .clone()
            .prop_map(|n| Operation::DeactivateAgent(id(n))),
        agent.prop_map(|n| Operation::ReactivateAgent(id(n))),
        (0u32..3).prop_map(|n| Operation::UpdateMasterInfo(MasterInfo {
            id: format!("master-{n}"),
            ip: n,
            port: 5050,
            ..Default::default()
        })),
    ]
}

#[derive(Debug, Clone)]
enum Step {
    Apply(Vec<Operation>),
    Reopen,
    Compact,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        6 => prop::collection::vec(op(), 1..2).prop_map(Step::Apply),
        2 => prop::collection::vec(op(), 0..4).prop_map(Step::Apply),
        1 => Just(Step::Reopen),
        1 => Just(Step::Compact),
    ]
}

fn open(dir: &Path, compact_after_bytes: u64) -> (FileRegistry, RegistryState) {
    let mut registry = FileRegistry::open_with(
        dir,
        FileRegistryOptions {
            compact_after_bytes,
        },
    )
    .unwrap();
    let state = registry.recover().unwrap();
    (registry, state)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn file_registry_matches_the_model(
        steps in prop::collection::vec(step(), 1..40),
        compact_after_bytes in 0u64..3000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let (mut file, recovered) = open(dir.path(), compact_after_bytes);
        prop_assert_eq!(recovered, RegistryState::default());
        let mut memory = InMemoryRegistry::new();
        memory.recover().unwrap();
        let mut model = RegistryState::default();
        for step in steps {
            match step {
                Step::Apply(ops) => {
                    let expected = operation::apply_all(&model, &ops);
                    let from_file = file.apply(ops.clone());
                    match (&expected, from_file) {
                        (Ok(next), Ok(state)) => prop_assert_eq!(state, next),
                        (Err((index, error)), Err(RegistryError::InvalidOperation { index: i, source })) => {
                            prop_assert_eq!(*index, i);
                            prop_assert_eq!(error, &source);
                        }
                        (expected, got) => {
                            prop_assert!(false, "model {:?}, file registry {:?}", expected, got.map(|_| ()));
                        }
                    }
                    let from_memory = memory.apply(ops).cloned().map_err(|e| e.to_string());
                    prop_assert_eq!(
                        from_memory,
                        expected.clone().map_err(|(index, source)| RegistryError::InvalidOperation { index, source }.to_string())
                    );
                    if let Ok(next) = expected {
                        model = next;
                    }
                }
                Step::Reopen => {
                    drop(file);
                    let (reopened, state) = open(dir.path(), compact_after_bytes);
                    file = reopened;
                    prop_assert_eq!(&state, &model);
                }
                Step::Compact => file.compact().unwrap(),
            }
        }
        drop(file);
        let (_, state) = open(dir.path(), compact_after_bytes);
        prop_assert_eq!(state, model);
    }
}
