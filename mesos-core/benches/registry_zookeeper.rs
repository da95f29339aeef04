//! The registry in ZooKeeper at scale: a real ZooKeeper server (Debian's `zookeeper`
//! package), the default layout (256 agent shards, 512 KiB chunks). Measures admitting N
//! agents in one batch, the latency of single-agent writes on a registry that holds them
//! (each rewrites one shard), and a new instance recovering them all.
//!
//! `cargo bench -p mesos-core --bench registry_zookeeper -- [agents] [writes] [shards]`
//! (defaults: 50000 agents, 200 single writes, the default number of agent shards).

#[allow(dead_code)]
#[path = "../tests/common/zookeeper.rs"]
mod zookeeper;

use std::time::{Duration, Instant};

use mesos_core::ha::ZkUrl;
use mesos_core::proto::mesos::v1::{AgentId, AgentInfo, TimeInfo};
use mesos_core::registry::{Operation, Registry, ZkRegistry, ZkRegistryOptions};
use mesos_core::resources::parse_resources;

fn id(n: usize) -> AgentId {
    AgentId {
        value: format!("bench-master-S{n}"),
    }
}

fn arg(index: usize, default: usize) -> usize {
    std::env::args()
        .filter(|a| !a.starts_with("--"))
        .nth(index)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: usize) -> Duration {
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)]
}

fn main() {
    let (agents, writes) = (arg(1, 50_000), arg(2, 200).max(1));
    let options = ZkRegistryOptions {
        agent_shards: u32::try_from(arg(3, 0))
            .ok()
            .filter(|&s| s > 0)
            .unwrap_or(ZkRegistryOptions::default().agent_shards),
        ..ZkRegistryOptions::default()
    };
    let Some(zk) = zookeeper::zookeeper_or_skip() else {
        return;
    };
    let url = ZkUrl::parse(&zk.url("/mesos")).expect("url");
    let resources = parse_resources("cpus:32;mem:131072;disk:1048576;ports:[31000-32000]", "*")
        .expect("resources")
        .to_protos();
    let info = |n: usize| AgentInfo {
        hostname: format!("host-{n}.example.com"),
        port: Some(5051),
        id: Some(id(n)),
        resources: resources.clone(),
        ..Default::default()
    };

    let mut registry = ZkRegistry::open(&url, options.clone()).expect("open");
    registry.recover().expect("recover");
    let started = Instant::now();
    registry
        .apply(
            (0..agents)
                .map(|n| Operation::AdmitAgent(info(n)))
                .collect(),
        )
        .expect("admit");
    let bulk = started.elapsed();

    let mut latencies = Vec::with_capacity(writes);
    for n in 0..writes {
        // Even writes mark an agent unreachable, odd ones bring the same agent back.
        let agent = (n / 2) % agents.max(1);
        let op = if n % 2 == 0 {
            Operation::MarkUnreachable(id(agent), TimeInfo { nanoseconds: 1 })
        } else {
            Operation::MarkReachable(info(agent))
        };
        let started = Instant::now();
        registry.apply(vec![op]).expect("single write");
        latencies.push(started.elapsed());
    }
    latencies.sort_unstable();
    drop(registry);

    let started = Instant::now();
    let mut again = ZkRegistry::open(&url, options.clone()).expect("reopen");
    let state = again.recover().expect("recover");
    let recovery = started.elapsed();
    assert_eq!(state.agents.len() + state.unreachable.len(), agents);

    println!(
        "registry_zookeeper: {agents} agents in {} shards, {writes} single writes",
        options.agent_shards
    );
    println!("  admit all in one batch: {bulk:.2?}");
    println!(
        "  single write: median {:.2?}, p90 {:.2?}, p99 {:.2?}",
        percentile(&latencies, 50),
        percentile(&latencies, 90),
        percentile(&latencies, 99)
    );
    println!("  recover all (new instance, includes connecting and claiming): {recovery:.2?}");
}
