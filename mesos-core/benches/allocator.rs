//! Allocator benchmarks: one full allocation pass over many agents and 100 frameworks in
//! 5 roles, (a) when every offer was recovered unused (everything is re-offered) and (b)
//! when every framework has declined every agent with a long filter (Mesos'
//! `DeclineOffers` benchmark: the pass finds nothing). Only `allocate` is timed; the
//! recovery before each pass and the harness setup are not.

use std::collections::HashMap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use mesos_core::allocator::{
    AgentId, AgentSpec, Allocation, Allocator, AllocatorOptions, FrameworkId, FrameworkSpec,
};
use mesos_core::resources::{parse_resources, Resources};

const FRAMEWORKS: usize = 100;
const ROLES: usize = 5;

/// `agents` agents of `cpus:16;mem:64000;disk:1000000;ports:[31000-32000]` and 100
/// frameworks spread over 5 roles.
fn cluster(agents: usize) -> (Allocator, Vec<AgentId>, Vec<FrameworkId>) {
    let mut a = Allocator::new(AllocatorOptions::default());
    let total = parse_resources("cpus:16;mem:64000;disk:1000000;ports:[31000-32000]", "*")
        .expect("valid resources");
    let none = HashMap::new();
    let agent_ids: Vec<AgentId> = (0..agents).map(|i| AgentId(format!("agent-{i}"))).collect();
    for id in &agent_ids {
        a.add_agent(
            id.clone(),
            AgentSpec::new(id.0.clone(), total.clone()),
            &none,
        )
        .expect("add agent");
    }
    let none = HashMap::new();
    let fw_ids: Vec<FrameworkId> = (0..FRAMEWORKS)
        .map(|i| FrameworkId(format!("framework-{i}")))
        .collect();
    for (i, id) in fw_ids.iter().enumerate() {
        let role = format!("role{}", i % ROLES);
        a.add_framework(id.clone(), FrameworkSpec::new([role]), &none, true)
            .expect("add framework");
    }
    (a, agent_ids, fw_ids)
}

fn recover_all(a: &mut Allocator, allocations: &[Allocation], now: Instant) {
    for x in allocations {
        a.recover_resources(&x.framework, &x.agent, &x.resources, None, now)
            .expect("recover");
    }
}

fn reoffer(c: &mut Criterion, agents: usize) {
    let (mut a, _, _) = cluster(agents);
    let now = Instant::now();
    let mut last = a.allocate(now);
    assert_eq!(last.len(), agents);
    c.bench_function(
        &format!("allocate/reoffer/{agents}_agents_x_100_frameworks"),
        |b| {
            b.iter_custom(|iters| {
                let mut timed = Duration::ZERO;
                for _ in 0..iters {
                    recover_all(&mut a, &last, now);
                    drop(std::mem::take(&mut last));
                    let start = Instant::now();
                    last = a.allocate(now);
                    timed += start.elapsed();
                    assert_eq!(black_box(&last).len(), agents);
                }
                timed
            })
        },
    );
}

fn declined(c: &mut Criterion, agents: usize) {
    let (mut a, agent_ids, fw_ids) = cluster(agents);
    let now = Instant::now();
    let long = Some(Duration::from_secs(365 * 24 * 3600));
    let empty = Resources::new();
    for f in &fw_ids {
        for id in &agent_ids {
            a.recover_resources(f, id, &empty, long, now)
                .expect("decline");
        }
    }
    c.bench_function(
        &format!("allocate/declined/{agents}_agents_x_100_frameworks"),
        |b| {
            b.iter(|| {
                let out = a.allocate(now);
                assert!(black_box(out).is_empty());
            })
        },
    );
}

fn benches(c: &mut Criterion) {
    let start = Instant::now();
    let _ = cluster(50_000);
    eprintln!(
        "harness: built 50,000 agents x 100 frameworks in {:?}",
        start.elapsed()
    );
    reoffer(c, 10_000);
    declined(c, 10_000);
    reoffer(c, 50_000);
    declined(c, 50_000);
}

criterion_group!(allocator, benches);
criterion_main!(allocator);
