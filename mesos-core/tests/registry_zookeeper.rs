//! The registry in a real ZooKeeper: every kind of state survives a reopen by another
//! instance, 50,000 agents recover intact across many chunk nodes, a deposed registry
//! cannot overwrite its successor's, corrupt nodes are reported and left as they are, and
//! an unreachable ensemble is an error within the operation timeout.

#[allow(dead_code)]
mod common;

use std::time::{Duration, Instant};

use common::zookeeper::{zookeeper_or_skip, ZooKeeper};
use mesos_core::ha::ZkUrl;
use mesos_core::proto::mesos::v1::maintenance::{Schedule, Window};
use mesos_core::proto::mesos::v1::quota::quota_config::GuaranteesEntry;
use mesos_core::proto::mesos::v1::quota::QuotaConfig;
use mesos_core::proto::mesos::v1::value::Scalar;
use mesos_core::proto::mesos::v1::{
    AgentId, AgentInfo, DrainConfig, DurationInfo, MachineId, MasterInfo, TimeInfo, Unavailability,
    WeightInfo,
};
use mesos_core::registry::{
    operation, Operation, Registry, RegistryError, RegistryState, ZkRegistry, ZkRegistryOptions,
};
use mesos_core::resources::Resources;
use zookeeper_client as zk;

fn agent_id(n: usize) -> AgentId {
    AgentId {
        value: format!("a5f2c1d0-0000-4000-8000-{n:012}-S0"),
    }
}

/// An agent with the resources and attributes a real one reports (a few hundred bytes).
fn agent(n: usize) -> AgentInfo {
    let resources = Resources::parse("cpus:32;mem:131072;disk:1048576;ports:[31000-32000]", "*")
        .expect("valid resources");
    AgentInfo {
        hostname: format!("agent-{n}.rack-{}.example.com", n % 40),
        port: Some(5051),
        id: Some(agent_id(n)),
        resources: resources.to_protos(),
        ..Default::default()
    }
}

fn at(nanoseconds: i64) -> TimeInfo {
    TimeInfo { nanoseconds }
}

/// A ZooKeeper server and the URL of `path` on it, or `None` (the test is skipped).
fn zookeeper_at(path: &str) -> Option<(ZooKeeper, ZkUrl)> {
    let zk = zookeeper_or_skip()?;
    let url = ZkUrl::parse(&zk.url(path)).expect("valid url");
    Some((zk, url))
}

fn options() -> ZkRegistryOptions {
    ZkRegistryOptions {
        session_timeout: Duration::from_secs(5),
        operation_timeout: Duration::from_secs(10),
        ..ZkRegistryOptions::default()
    }
}

/// A registry on `url`, recovered.
fn recovered(url: &ZkUrl, options: ZkRegistryOptions) -> (ZkRegistry, RegistryState) {
    let mut registry = ZkRegistry::open(url, options).expect("open the registry");
    let state = registry.recover().expect("recover the registry");
    (registry, state)
}

/// Batches that between them use every operation and leave every kind of state behind:
/// admitted (drained, deactivated), unreachable and gone agents, weights, quota, the
/// maintenance schedule and the leader's MasterInfo.
fn every_kind_of_state() -> Vec<Vec<Operation>> {
    let drain = DrainConfig {
        max_grace_period: Some(DurationInfo { nanoseconds: 5 }),
        mark_gone: Some(false),
    };
    let quota = QuotaConfig {
        role: "dev".into(),
        guarantees: vec![GuaranteesEntry {
            key: Some("cpus".into()),
            value: Some(Scalar { value: 4.0 }),
        }],
        limits: Vec::new(),
    };
    let window = Window {
        machine_ids: vec![MachineId {
            hostname: Some("agent-1.rack-1.example.com".into()),
            ip: None,
        }],
        unavailability: Unavailability {
            start: at(1_000),
            duration: Some(DurationInfo { nanoseconds: 60 }),
        },
    };
    let master = MasterInfo {
        id: "zk-leader".into(),
        port: 5050,
        ..Default::default()
    };
    vec![
        vec![Operation::UpdateMasterInfo(master)],
        (0..8).map(|n| Operation::AdmitAgent(agent(n))).collect(),
        vec![Operation::DrainAgent(agent_id(0), drain)],
        vec![Operation::MarkAgentDrained(agent_id(0))],
        vec![Operation::DeactivateAgent(agent_id(1))],
        vec![
            Operation::MarkUnreachable(agent_id(2), at(7)),
            Operation::MarkUnreachable(agent_id(3), at(8)),
        ],
        vec![Operation::MarkReachable(agent(3))],
        vec![Operation::MarkGone(agent_id(4), at(9))],
        vec![Operation::MarkGone(agent_id(5), at(10))],
        vec![Operation::Prune {
            unreachable: Vec::new(),
            gone: vec![agent_id(5)],
        }],
        vec![Operation::RemoveAgent(agent_id(6))],
        vec![Operation::DeactivateAgent(agent_id(7))],
        vec![Operation::ReactivateAgent(agent_id(7))],
        vec![Operation::UpdateWeights(vec![WeightInfo {
            weight: 2.5,
            role: Some("dev".into()),
        }])],
        vec![Operation::UpdateQuota(vec![quota])],
        vec![Operation::UpdateMaintenanceSchedule(Schedule {
            windows: vec![window],
        })],
    ]
}

/// The state `batches` leave, by the pure model.
fn model(batches: &[Vec<Operation>]) -> RegistryState {
    batches.iter().fold(RegistryState::default(), |state, ops| {
        operation::apply_all(&state, ops).expect("valid batch")
    })
}

/// A plain ZooKeeper client on `zk`, to look at and damage the registry's nodes.
async fn raw_client(zk: &ZooKeeper) -> zk::Client {
    zk::Client::connect(&zk.server()).await.expect("connect")
}

#[test]
fn every_kind_of_state_survives_a_reopen_by_another_instance() {
    let Some((_zk, url)) = zookeeper_at("/mesos/roundtrip") else {
        return;
    };
    let (mut first, state) = recovered(&url, options());
    assert_eq!(state, RegistryState::default(), "a new registry is empty");
    let batches = every_kind_of_state();
    for batch in &batches {
        first.apply(batch.clone()).expect("valid batch is written");
    }
    let expected = model(&batches);
    assert!(!expected.agents.is_empty() && !expected.unreachable.is_empty());
    assert!(!expected.gone.is_empty() && !expected.quotas.is_empty());
    assert!(expected
        .agents
        .values()
        .any(|a| a.drain.is_some() && a.deactivated));
    let invalid = first.apply(vec![Operation::AdmitAgent(agent(1))]);
    assert!(matches!(
        invalid,
        Err(RegistryError::InvalidOperation { index: 0, .. })
    ));
    assert_eq!(first.apply(Vec::new()).expect("empty batch"), &expected);
    drop(first);

    let (_second, state) = recovered(&url, options());
    assert_eq!(state, expected);
}

#[test]
fn fifty_thousand_agents_recover_intact_and_a_write_rewrites_one_shard() {
    const AGENTS: usize = 50_000;
    let Some((zk, url)) = zookeeper_at("/mesos/large") else {
        return;
    };
    // Small chunks, so that every shard takes several chunk nodes.
    let small_chunks = ZkRegistryOptions {
        chunk_bytes: 16 << 10,
        ..options()
    };
    let (mut registry, _) = recovered(&url, small_chunks.clone());
    let admit: Vec<Operation> = (0..AGENTS)
        .map(|n| Operation::AdmitAgent(agent(n)))
        .collect();
    let started = Instant::now();
    registry.apply(admit).expect("admit 50,000 agents");
    println!("50,000 agents written in {:?}", started.elapsed());

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let root = ZkRegistry::node_of(&url);
    let manifest = || -> serde_json::Value {
        runtime.block_on(async {
            let client = raw_client(&zk).await;
            let (data, _) = client.get_data(&root).await.expect("manifest");
            serde_json::from_slice(&data).expect("manifest JSON")
        })
    };
    let before = manifest();
    let shards = before["shards"].as_array().expect("shards").clone();
    let chunks: usize = shards
        .iter()
        .map(|s| s["chunks"].as_array().map_or(0, Vec::len))
        .sum();
    let largest = shards
        .iter()
        .map(|s| s["bytes"].as_u64().unwrap_or(0))
        .max()
        .unwrap_or(0);
    println!(
        "{} shards, {chunks} chunks, largest shard {largest} bytes",
        shards.len()
    );
    assert!(chunks > 2 * shards.len(), "shards span several chunks");

    // One agent's change rewrites its shard only.
    registry
        .apply(vec![Operation::MarkUnreachable(agent_id(7), at(1))])
        .expect("mark one agent unreachable");
    let after = manifest();
    let changed: Vec<usize> = (0..shards.len())
        .filter(|&i| after["shards"][i] != before["shards"][i])
        .collect();
    assert_eq!(
        changed.len(),
        1,
        "only one shard was rewritten: {changed:?}"
    );
    // One transaction replaced the shard's chunks: none is left over.
    let named: usize = after["shards"]
        .as_array()
        .expect("shards")
        .iter()
        .map(|s| s["chunks"].as_array().map_or(0, Vec::len))
        .sum();
    let children = runtime.block_on(async {
        let client = raw_client(&zk).await;
        client.list_children(&root).await.expect("chunks").len()
    });
    assert_eq!(children, named, "every chunk node is named by the manifest");
    drop(registry);

    let started = Instant::now();
    let (_again, state) = recovered(&url, small_chunks);
    println!("50,000 agents recovered in {:?}", started.elapsed());
    assert_eq!(state.agents.len(), AGENTS - 1);
    assert_eq!(state.unreachable.len(), 1);
    assert!(state.unreachable.contains_key(&agent_id(7).value));
    for n in [0, 1, 12_345, AGENTS - 1] {
        assert_eq!(state.agents[&agent_id(n).value].info, agent(n), "agent {n}");
    }
}

#[test]
fn a_deposed_registry_cannot_overwrite_its_successor() {
    let Some((_zk, url)) = zookeeper_at("/mesos/deposed") else {
        return;
    };
    let (mut old, _) = recovered(&url, options());
    old.apply(vec![Operation::AdmitAgent(agent(1))])
        .expect("the first leader writes");

    // A new leader recovers (and so claims the registry) while the old one still runs.
    let (mut new, state) = recovered(&url, options());
    assert!(state.agents.contains_key(&agent_id(1).value));
    for attempt in 0..2 {
        let refused = old.apply(vec![Operation::AdmitAgent(agent(2))]);
        match refused {
            Err(error @ RegistryError::Superseded { .. }) => assert!(error.ends_leadership()),
            other => panic!("attempt {attempt}: the deposed registry wrote: {other:?}"),
        }
    }
    new.apply(vec![Operation::AdmitAgent(agent(3))])
        .expect("the new leader writes");
    drop((old, new));

    let (_third, state) = recovered(&url, options());
    let ids: Vec<&String> = state.agents.keys().collect();
    assert_eq!(ids, [&agent_id(1).value, &agent_id(3).value]);
}

/// A copy of every node under the registry: (path, data, version).
async fn snapshot(client: &zk::Client, root: &str) -> Vec<(String, Vec<u8>, i32)> {
    let mut nodes = Vec::new();
    let (data, stat) = client.get_data(root).await.expect("manifest");
    nodes.push((root.to_string(), data, stat.version));
    let mut children = client.list_children(root).await.expect("chunks");
    children.sort();
    for child in children {
        let path = format!("{root}/{child}");
        let (data, stat) = client.get_data(&path).await.expect("chunk");
        nodes.push((path, data, stat.version));
    }
    nodes
}

#[tokio::test(flavor = "multi_thread")]
async fn corrupt_nodes_are_clear_errors_and_stay_untouched() {
    let Some((zk, url)) = zookeeper_at("/mesos/corrupt") else {
        return;
    };
    let root = ZkRegistry::node_of(&url);
    let (mut registry, _) = recovered(&url, options());
    registry
        .apply(every_kind_of_state().concat())
        .expect("write state");
    drop(registry);
    let client = raw_client(&zk).await;
    let good = snapshot(&client, &root).await;
    let chunk = good[1].0.clone();

    let recover = || ZkRegistry::open(&url, options()).and_then(|mut r| r.recover());
    let other_format = br#"{"format":"x","generation":1,"shards":[]}"#.to_vec();
    // What is damaged, which node, and its new data (`None`: deleted).
    let damages = [
        ("a chunk of garbage", &chunk, Some(b"garbage".to_vec())),
        ("a missing chunk", &chunk, None),
        ("a garbage manifest", &root, Some(b"{\"nope\"".to_vec())),
        ("a manifest of another format", &root, Some(other_format)),
    ];
    for (what, path, data) in damages {
        match &data {
            Some(data) => {
                client.set_data(path, data, None).await.expect("damage");
            }
            None => client.delete(path, None).await.expect("delete"),
        }
        let damaged = snapshot(&client, &root).await;
        let error = recover().expect_err(what);
        assert!(
            matches!(&error, RegistryError::CorruptNode { node, .. } if node.starts_with(&root)),
            "{what}: {error}"
        );
        println!("{what}: {error}");
        assert_eq!(
            snapshot(&client, &root).await,
            damaged,
            "{what}: left untouched"
        );
        // Repair, for the next damage.
        let original = good.iter().find(|(p, _, _)| p == path).expect("original");
        match data {
            Some(_) => {
                client
                    .set_data(path, &original.1, None)
                    .await
                    .expect("repair");
            }
            None => {
                let options = zk::CreateMode::Persistent.with_acls(zk::Acls::anyone_all());
                client
                    .create(path, &original.1, &options)
                    .await
                    .expect("recreate");
            }
        }
    }
    let state = recover().expect("the repaired registry recovers");
    assert_eq!(state, model(&every_kind_of_state()));
}

#[test]
fn an_unreachable_ensemble_is_an_error_within_the_operation_timeout() {
    let timeout = Duration::from_secs(2);
    let quick = ZkRegistryOptions {
        operation_timeout: timeout,
        session_timeout: Duration::from_secs(2),
        ..ZkRegistryOptions::default()
    };
    // Nothing listens on a port just released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let nowhere = ZkUrl::parse(&format!("zk://127.0.0.1:{port}/mesos")).expect("url");
    let started = Instant::now();
    let error = ZkRegistry::open(&nowhere, quick.clone()).expect_err("nothing to connect to");
    assert!(matches!(error, RegistryError::ZooKeeper { .. }), "{error}");
    assert!(started.elapsed() < timeout * 3, "{:?}", started.elapsed());

    let Some((mut zk, url)) = zookeeper_at("/mesos/gone") else {
        return;
    };
    let (mut registry, _) = recovered(&url, quick);
    registry
        .apply(vec![Operation::AdmitAgent(agent(1))])
        .expect("write while ZooKeeper runs");
    zk.kill();
    let started = Instant::now();
    let error = registry
        .apply(vec![Operation::AdmitAgent(agent(2))])
        .expect_err("ZooKeeper is gone");
    println!("after the ensemble went: {error} ({:?})", started.elapsed());
    assert!(error.ends_leadership(), "{error}");
    assert!(started.elapsed() < timeout * 6, "{:?}", started.elapsed());
}
