//! The master's state at scale: 50,000 agents and 100,000 running tasks held by the
//! state machine (`MasterState`, driven directly, no sockets), then the cost of what an
//! operator asks of such a cluster: the v1 `GET_STATE` in protobuf and `/master/state` in
//! JSON, written straight from the master's records as the master does (without the
//! socket write), against the way it did before as the baseline (the v1 message built,
//! then encoded or rendered).
//!
//! `cargo bench -p mesos-core --bench master_scale -- [agents] [tasks]`
//! (defaults: 50000 agents, 100000 tasks). Memory is the process' resident set (VmRSS)
//! after building the cluster, against the same figure before, in this one process.

/// The allocator `mesos-master` uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::collections::BTreeMap;
use std::time::Instant;

use mesos_core::agent::containerizer::procfs;
use mesos_core::http::version_info;
use mesos_core::master::json_endpoints::{state_json, MasterSnapshot};
use mesos_core::master::{MasterConfig, MasterOptions, MasterState};
use mesos_core::proto::mesos::internal::agent_call;
use mesos_core::proto::mesos::internal::AgentCall;
use mesos_core::proto::mesos::v1::master::{response, Response};
use mesos_core::proto::mesos::v1::scheduler::{call, event, Call, Event};
use mesos_core::proto::mesos::v1::{
    framework_info, offer, AgentId, AgentInfo, CommandInfo, FrameworkId, FrameworkInfo, MasterInfo,
    Resource, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_core::registry::{InMemoryRegistry, Registry};
use mesos_core::resources::parse_resources;
use prost::Message;

const FRAMEWORKS: usize = 10;

/// A `/proc/self/status` size (`VmRSS:`, `VmHWM:`), in bytes.
fn status_bytes(field: &str) -> u64 {
    procfs::status_bytes(std::process::id() as i32, field)
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// The resident set size of this process, in bytes.
fn rss() -> u64 {
    status_bytes("VmRSS:")
}

/// The largest resident set size this process has had, in bytes.
fn peak_rss() -> u64 {
    status_bytes("VmHWM:")
}

/// A scalar resource allocated to `role`, as a task in an offer of `role` declares it.
fn scalar(name: &str, value: f64, role: &str) -> Resource {
    mesos_core::resources::Resource::scalar(name, value)
        .expect("a valid scalar")
        .allocate(role)
        .to_proto()
}

fn config() -> MasterConfig {
    MasterConfig {
        master_info: MasterInfo {
            id: "bench-master".into(),
            ip: 0,
            port: 5050,
            hostname: Some("localhost".into()),
            ..Default::default()
        },
        options: MasterOptions {
            min_allocatable_resources: Vec::new(),
            ..MasterOptions::default()
        },
    }
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let agents = args.first().copied().unwrap_or(50_000);
    let tasks = args.get(1).copied().unwrap_or(100_000);
    let per_agent = tasks.div_ceil(agents).max(1);
    let before = rss();

    let mut registry = InMemoryRegistry::new();
    let recovered = registry.recover().expect("in-memory registry");
    let now = Instant::now();
    let mut master =
        MasterState::new(config(), Box::new(registry), recovered, now).expect("master state");
    let total = parse_resources(
        &format!(
            "cpus:{per_agent};mem:{};ports:[31000-32000]",
            per_agent * 256
        ),
        "*",
    )
    .expect("resources")
    .to_protos();
    let started = Instant::now();
    let mut agent_ids = Vec::with_capacity(agents);
    for i in 0..agents {
        let connection = master
            .register_agent(agent_call::Register {
                agent_info: AgentInfo {
                    hostname: format!("agent-{i}.example.com"),
                    resources: total.clone(),
                    ..Default::default()
                },
                version: Some("1.11.0".into()),
                ..Default::default()
            })
            .expect("register");
        // The events an agent would read are not kept: sends to it are dropped.
        agent_ids.push(connection.agent_id);
    }
    let mut subscriptions = Vec::new();
    for i in 0..FRAMEWORKS {
        let subscription = master
            .subscribe(Call {
                r#type: Some(call::Type::Subscribe as i32),
                subscribe: Some(call::Subscribe {
                    framework_info: FrameworkInfo {
                        user: "bench".into(),
                        name: format!("framework-{i}"),
                        roles: vec![format!("role{}", i % 5)],
                        capabilities: vec![framework_info::Capability {
                            r#type: Some(framework_info::capability::Type::MultiRole as i32),
                        }],
                        ..Default::default()
                    },
                    ..Default::default()
                }),
                ..Default::default()
            })
            .expect("subscribe");
        subscriptions.push(subscription);
    }
    master.allocate(now);
    let mut launched = 0usize;
    let mut updates = Vec::with_capacity(tasks);
    for subscription in &mut subscriptions {
        let framework = subscription.framework_id.clone();
        while let Ok(event) = subscription.events.try_recv() {
            let Some(offers) = offers_of(*event) else {
                continue;
            };
            for offer in offers {
                let role = offer
                    .allocation_info
                    .as_ref()
                    .and_then(|a| a.role.clone())
                    .unwrap_or_default();
                let mut infos = Vec::new();
                for _ in 0..per_agent {
                    if launched == tasks {
                        break;
                    }
                    infos.push(TaskInfo {
                        name: format!("task-{launched}"),
                        task_id: TaskId {
                            value: format!("task-{launched}"),
                        },
                        agent_id: offer.agent_id.clone(),
                        resources: vec![scalar("cpus", 1.0, &role), scalar("mem", 128.0, &role)],
                        command: Some(CommandInfo {
                            value: Some("sleep 3600".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    });
                    updates.push((offer.agent_id.value.clone(), framework.clone(), launched));
                    launched += 1;
                }
                let accept = Call {
                    framework_id: Some(FrameworkId {
                        value: framework.clone(),
                    }),
                    r#type: Some(call::Type::Accept as i32),
                    accept: Some(call::Accept {
                        offer_ids: vec![offer.id.clone()],
                        operations: vec![offer::Operation {
                            r#type: Some(offer::operation::Type::Launch as i32),
                            launch: Some(offer::operation::Launch { task_infos: infos }),
                            ..Default::default()
                        }],
                        filters: None,
                    }),
                    ..Default::default()
                };
                master
                    .scheduler_call(&framework, accept, now)
                    .expect("accept");
            }
        }
    }
    for (agent, framework, n) in &updates {
        let call = AgentCall {
            r#type: Some(agent_call::Type::StatusUpdate as i32),
            agent_id: Some(AgentId {
                value: agent.clone(),
            }),
            status_updates: vec![agent_call::StatusUpdate {
                framework_id: FrameworkId {
                    value: framework.clone(),
                },
                status: TaskStatus {
                    task_id: TaskId {
                        value: format!("task-{n}"),
                    },
                    state: TaskState::TaskRunning as i32,
                    uuid: Some(vec![7; 16]),
                    timestamp: Some(1.0),
                    ..Default::default()
                },
            }],
            ..Default::default()
        };
        master.agent_call(agent, call, now).expect("status update");
    }
    // What frameworks would have read is drained.
    for subscription in &mut subscriptions {
        while subscription.events.try_recv().is_ok() {}
    }
    let built = started.elapsed();
    let after = rss();
    println!(
        "master_scale: {agents} agents, {launched} running tasks built in {:.1} s; \
         RSS {:.0} MiB before, {:.0} MiB after: {:.0} MiB held",
        built.as_secs_f64(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        after.saturating_sub(before) as f64 / 1048576.0
    );

    // What the master does: both answers written straight from its records (first round
    // on memory this process has not used yet, second round on memory it freed); then the
    // way it did before, as the baseline: the v1 message built, then encoded or rendered.
    let flags = BTreeMap::new();
    let version = version_info();
    let info = master.master_info().clone();
    let snapshot = MasterSnapshot {
        master_info: &info,
        leader: Some(&info),
        flags: &flags,
        start_time: 0.0,
        elected_time: Some(0.0),
        version: &version,
        unreachable_agents: 0,
    };
    for round in ["first", "second"] {
        let peak = peak_rss();
        let started = Instant::now();
        let written_encoded = master.encode_get_state();
        let protobuf = started.elapsed();
        let started = Instant::now();
        let written_json = master.state_json(&snapshot);
        let written = started.elapsed();
        println!(
            "master_scale: {round} round, written from the records: GET_STATE {:.0} ms ({:.0} MiB protobuf), \
             /master/state {:.0} ms ({:.0} MiB JSON); peak RSS +{:.0} MiB",
            protobuf.as_secs_f64() * 1000.0,
            written_encoded.len() as f64 / 1048576.0,
            written.as_secs_f64() * 1000.0,
            written_json.len() as f64 / 1048576.0,
            peak_rss().saturating_sub(peak) as f64 / 1048576.0
        );

        let peak = peak_rss();
        let started = Instant::now();
        let state = master.get_state();
        let copied = started.elapsed();
        let response = Response {
            r#type: Some(response::Type::GetState as i32),
            get_state: Some(state),
            ..Default::default()
        };
        let started = Instant::now();
        let encoded = response.encode_to_vec();
        let protobuf = copied + started.elapsed();
        let state = response.get_state.expect("the state just encoded");
        let started = Instant::now();
        let json = state_json(&snapshot, &state);
        let rendered = started.elapsed();
        println!(
            "master_scale: {round} round, baseline (message built, then encoded or rendered): \
             GET_STATE {:.0} ms, /master/state {:.0} ms ({:.0} ms build + {:.0} ms render); peak RSS +{:.0} MiB",
            protobuf.as_secs_f64() * 1000.0,
            (copied + rendered).as_secs_f64() * 1000.0,
            copied.as_secs_f64() * 1000.0,
            rendered.as_secs_f64() * 1000.0,
            peak_rss().saturating_sub(peak) as f64 / 1048576.0
        );
        assert!(
            written_encoded == encoded && written_json == json,
            "the two ways give different answers"
        );
    }
}

fn offers_of(event: Event) -> Option<Vec<mesos_core::proto::mesos::v1::Offer>> {
    (event.r#type == Some(event::Type::Offers as i32))
        .then(|| event.offers.map(|o| o.offers))
        .flatten()
}
