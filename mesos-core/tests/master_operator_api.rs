//! The master's v1 operator API (`POST /api/v1`) against a running master on 127.0.0.1:
//! a simulated agent registers over the internal agent protocol, a framework subscribes
//! over the scheduler API in JSON, and an operator queries and changes the cluster.
//!
//! The shapes are compared with what a real Mesos master answered: the fixtures in
//! `/work/shared/fixtures/apache-mesos/operator/`, read at `../../shared` relative to this
//! crate (the workspace's shared reference directory).

#[allow(dead_code)]
mod master_support;

use std::collections::BTreeSet;
use std::time::Duration;

use mesos_core::master::{Master, MasterOptions};

use mesos_core::proto::mesos::internal::{agent_call, agent_event, AgentCall, AgentEvent};
use mesos_core::proto::mesos::v1::master::Response;
use mesos_core::proto::mesos::v1::{
    agent_info, value, AgentId, AgentInfo, FrameworkId, Resource, TaskId, TaskState, TaskStatus,
};
use mesos_core::recordio::Decoder;
use prost::Message;
use serde_json::{json, Value};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A fixture of the real Mesos master's answers.
fn fixture(name: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/apache-mesos/operator/"
    );
    let text = std::fs::read_to_string(format!("{path}{name}")).expect("fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// The keys of a JSON object.
fn keys(value: &Value) -> BTreeSet<String> {
    value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {value}"))
        .keys()
        .cloned()
        .collect()
}

/// Checks that `ours` has every key of `mesos`, and nothing but those and `extra`.
fn same_keys(ours: &Value, mesos: &Value, extra: &[&str]) {
    let (ours, mesos) = (keys(ours), keys(mesos));
    assert!(mesos.is_subset(&ours), "missing {:?}", &mesos - &ours);
    let unexpected: Vec<_> = ours
        .difference(&mesos)
        .filter(|k| !extra.contains(&k.as_str()))
        .collect();
    assert!(unexpected.is_empty(), "unexpected keys {unexpected:?}");
}

/// A RecordIO response read record by record.
struct Stream {
    response: reqwest::Response,
    decoder: Decoder,
}

impl Stream {
    fn new(response: reqwest::Response) -> Stream {
        assert_eq!(response.status(), 200);
        Stream {
            response,
            decoder: Decoder::new(64 << 20),
        }
    }

    async fn record(&mut self) -> Vec<u8> {
        tokio::time::timeout(TIMEOUT, async {
            loop {
                if let Some(record) = self.decoder.next_record().expect("recordio") {
                    return record.to_vec();
                }
                let chunk = self.response.chunk().await.expect("read").expect("open");
                self.decoder.push(&chunk);
            }
        })
        .await
        .expect("a record in time")
    }

    async fn json(&mut self) -> Value {
        serde_json::from_slice(&self.record().await).expect("JSON record")
    }

    /// The next JSON record whose `type` is `kind`, skipping others.
    async fn json_of(&mut self, kind: &str) -> Value {
        loop {
            let event = self.json().await;
            if event["type"] == kind {
                return event;
            }
        }
    }

    /// The next agent event of `kind`, skipping others (pings...).
    async fn agent_event(&mut self, kind: agent_event::Type) -> AgentEvent {
        loop {
            let event = AgentEvent::decode(&self.record().await[..]).expect("AgentEvent");
            if event.r#type == Some(kind as i32) {
                return event;
            }
        }
    }
}

struct Cluster {
    master: Master,
    client: reqwest::Client,
}

impl Cluster {
    async fn start() -> Cluster {
        Cluster::start_with(MasterOptions::default()).await
    }

    async fn start_with(options: MasterOptions) -> Cluster {
        Cluster {
            master: Master::start(options).await.expect("master"),
            client: reqwest::Client::new(),
        }
    }

    /// An operator SUBSCRIBE stream in JSON, its SUBSCRIBED and first HEARTBEAT read.
    async fn subscribe_operator(&self) -> (Value, Stream) {
        let response = self
            .client
            .post(self.url("/api/v1"))
            .header("Content-Type", "application/json")
            .header("Accept", "application/recordio")
            .header("Message-Accept", "application/json")
            .body(json!({"type": "SUBSCRIBE"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["content-type"], "application/recordio");
        let mut stream = Stream::new(response);
        let subscribed = stream.json().await;
        assert_eq!(subscribed["type"], "SUBSCRIBED");
        assert_eq!(stream.json().await["type"], "HEARTBEAT");
        (subscribed, stream)
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.master.addr())
    }

    /// Registers an agent on `hostname` with 2 cpus, 1024 mem and 1000 disk.
    async fn register_agent(&self, hostname: &str) -> (String, String, Stream) {
        let scalar = |name: &str, value: f64| Resource {
            name: name.into(),
            r#type: value::Type::Scalar as i32,
            scalar: Some(value::Scalar { value }),
            ..Default::default()
        };
        let call = AgentCall {
            r#type: Some(agent_call::Type::Register as i32),
            register: Some(agent_call::Register {
                agent_info: AgentInfo {
                    hostname: hostname.into(),
                    port: Some(5051),
                    resources: vec![
                        scalar("cpus", 2.0),
                        scalar("mem", 1024.0),
                        scalar("disk", 1000.0),
                    ],
                    ..Default::default()
                },
                version: Some("1.11.0".into()),
                capabilities: vec![agent_info::Capability {
                    r#type: Some(agent_info::capability::Type::MultiRole as i32),
                }],
                ..Default::default()
            }),
            ..Default::default()
        };
        let response = self
            .client
            .post(self.url("/master/internal/agent"))
            .header("Content-Type", "application/x-protobuf")
            .body(call.encode_to_vec())
            .send()
            .await
            .expect("register");
        let stream_id = response.headers()["agent-stream-id"]
            .to_str()
            .unwrap()
            .to_string();
        let mut stream = Stream::new(response);
        let registered = stream.agent_event(agent_event::Type::Registered).await;
        let id = registered.registered.unwrap().agent_id.value;
        (id, stream_id, stream)
    }

    /// Subscribes a partition-aware framework in JSON: its id, stream id and events.
    async fn subscribe_framework(&self) -> (String, String, Stream) {
        let call = json!({
            "type": "SUBSCRIBE",
            "subscribe": {"framework_info": {
                "user": "root", "name": "operator-test", "roles": ["*"],
                "failover_timeout": 60.0,
                "capabilities": [{"type": "MULTI_ROLE"}, {"type": "PARTITION_AWARE"}]
            }}
        });
        let response = self
            .client
            .post(self.url("/api/v1/scheduler"))
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .body(call.to_string())
            .send()
            .await
            .expect("subscribe");
        let stream_id = response.headers()["mesos-stream-id"]
            .to_str()
            .unwrap()
            .to_string();
        let mut stream = Stream::new(response);
        let subscribed = stream.json_of("SUBSCRIBED").await;
        let id = subscribed["subscribed"]["framework_id"]["value"]
            .as_str()
            .unwrap()
            .to_string();
        (id, stream_id, stream)
    }

    /// Launches task `task` (0.5 cpus) on the next offer the framework gets.
    async fn launch(
        &self,
        framework: &str,
        stream_id: &str,
        agent: &str,
        events: &mut Stream,
        task: &str,
    ) {
        let offers = events.json_of("OFFERS").await;
        let offer = offers["offers"]["offers"][0]["id"]["value"].clone();
        let accept = json!({
            "framework_id": {"value": framework}, "type": "ACCEPT",
            "accept": {"offer_ids": [{"value": offer}], "operations": [{"type": "LAUNCH",
                "launch": {"task_infos": [{
                    "name": "sleep", "task_id": {"value": task}, "agent_id": {"value": agent},
                    "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.5},
                                   "allocation_info": {"role": "*"}}],
                    "command": {"value": "sleep 100"}}]}}]}
        });
        assert_eq!(self.scheduler_call(stream_id, accept).await, 202);
    }

    /// Sends a framework's call (JSON) on its stream; the answer's status code.
    async fn scheduler_call(&self, stream_id: &str, call: Value) -> u16 {
        self.client
            .post(self.url("/api/v1/scheduler"))
            .header("Content-Type", "application/json")
            .header("Mesos-Stream-Id", stream_id)
            .body(call.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// The agent's status update of `task`.
    async fn status_update(
        &self,
        agent: &str,
        agent_stream_id: &str,
        framework: &str,
        task: &str,
        state: TaskState,
    ) {
        let (status, reason) = self
            .status_updates(agent, agent_stream_id, framework, task, &[state])
            .await;
        assert_eq!(status, 202, "{reason}");
    }

    /// One STATUS_UPDATE call carrying an update of `task` to each of `states`, in order:
    /// the master's HTTP status and body.
    async fn status_updates(
        &self,
        agent: &str,
        agent_stream_id: &str,
        framework: &str,
        task: &str,
        states: &[TaskState],
    ) -> (u16, String) {
        let update = |state: &TaskState| agent_call::StatusUpdate {
            framework_id: FrameworkId {
                value: framework.into(),
            },
            status: TaskStatus {
                task_id: TaskId { value: task.into() },
                state: *state as i32,
                uuid: Some(vec![*state as u8; 16]),
                ..Default::default()
            },
        };
        let call = AgentCall {
            agent_id: Some(AgentId {
                value: agent.into(),
            }),
            r#type: Some(agent_call::Type::StatusUpdate as i32),
            status_updates: states.iter().map(update).collect(),
            ..Default::default()
        };
        let response = self
            .client
            .post(self.url("/master/internal/agent"))
            .header("Content-Type", "application/x-protobuf")
            .header("Agent-Stream-Id", agent_stream_id)
            .body(call.encode_to_vec())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// POSTs an operator call in JSON: the status and the body (JSON when there is one).
    async fn call(&self, call: Value) -> (u16, Value) {
        master_support::operator_call(self.master.addr(), call).await
    }

    /// An operator call that must answer 200.
    async fn ok(&self, call: Value) -> Value {
        let (status, body) = self.call(call).await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// An operator call that must answer 202 Accepted, as Mesos answers operations on an
    /// agent's resources.
    async fn accepted(&self, call: Value) {
        let (status, body) = self.call(call).await;
        assert_eq!(status, 202, "{body}");
    }
}

#[tokio::test]
async fn state_agents_and_frameworks_have_the_shapes_of_mesos() {
    let cluster = Cluster::start().await;
    let (agent, _, _agent_stream) = cluster.register_agent("localhost").await;
    let (framework, _, _framework_stream) = cluster.subscribe_framework().await;

    let state = cluster.ok(json!({"type": "GET_STATE"})).await;
    let mesos = fixture("master_GET_STATE.json");
    same_keys(&state, &mesos, &[]);
    let (ours, theirs) = (&state["get_state"], &mesos["get_state"]);
    same_keys(ours, theirs, &[]);
    for part in ["get_agents", "get_frameworks", "get_tasks", "get_executors"] {
        same_keys(&ours[part], &theirs[part], &[]);
    }
    let agent_extra = ["offered_resources", "allocated_resources"];
    same_keys(
        &ours["get_agents"]["agents"][0],
        &theirs["get_agents"]["agents"][0],
        &agent_extra,
    );
    let framework_extra = ["offers", "offered_resources", "allocated_resources"];
    same_keys(
        &ours["get_frameworks"]["frameworks"][0],
        &theirs["get_frameworks"]["frameworks"][0],
        &framework_extra,
    );
    assert_eq!(
        ours["get_agents"]["agents"][0]["agent_info"]["id"]["value"],
        agent
    );
    assert_eq!(
        ours["get_frameworks"]["frameworks"][0]["framework_info"]["id"]["value"],
        framework
    );

    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    let mesos = fixture("master_GET_AGENTS.json");
    same_keys(&agents["get_agents"], &mesos["get_agents"], &[]);
    let ours = &agents["get_agents"]["agents"][0];
    same_keys(ours, &mesos["get_agents"]["agents"][0], &agent_extra);
    assert_eq!(ours["active"], true);
    assert_eq!(ours["deactivated"], false);
    assert_eq!(ours["version"], "1.11.0");
    assert_eq!(ours["total_resources"][0]["role"], "*");

    let frameworks = cluster.ok(json!({"type": "GET_FRAMEWORKS"})).await;
    let mesos = fixture("master_GET_FRAMEWORKS.json");
    same_keys(&frameworks["get_frameworks"], &mesos["get_frameworks"], &[]);
    let ours = &frameworks["get_frameworks"]["frameworks"][0];
    same_keys(
        ours,
        &mesos["get_frameworks"]["frameworks"][0],
        &framework_extra,
    );
    assert_eq!(ours["active"], true);
    assert_eq!(ours["connected"], true);

    for (call, name) in [
        ("GET_TASKS", "master_GET_TASKS.json"),
        ("GET_EXECUTORS", "master_GET_EXECUTORS.json"),
        ("GET_MASTER", "master_GET_MASTER.json"),
        ("GET_HEALTH", "master_GET_HEALTH.json"),
        ("GET_VERSION", "master_GET_VERSION.json"),
        ("GET_LOGGING_LEVEL", "master_GET_LOGGING_LEVEL.json"),
        (
            "GET_MAINTENANCE_SCHEDULE",
            "master_GET_MAINTENANCE_SCHEDULE.json",
        ),
        (
            "GET_MAINTENANCE_STATUS",
            "master_GET_MAINTENANCE_STATUS.json",
        ),
        ("GET_QUOTA", "master_GET_QUOTA.json"),
        ("GET_WEIGHTS", "master_GET_WEIGHTS.json"),
    ] {
        let ours = cluster.ok(json!({ "type": call })).await;
        let mesos = fixture(name);
        same_keys(&ours, &mesos, &[]);
        let part = call.to_ascii_lowercase();
        // The build's version info depends on how it was built; only its shape above.
        if mesos.get(&part).is_some() && call != "GET_VERSION" {
            same_keys(&ours[&part], &mesos[&part], &[]);
        }
    }
    let master = cluster.ok(json!({"type": "GET_MASTER"})).await;
    assert!(master["get_master"]["start_time"].as_f64().unwrap() > 0.0);
    same_keys(
        &master["get_master"]["master_info"],
        &fixture("master_GET_MASTER.json")["get_master"]["master_info"],
        &[],
    );

    let metrics = cluster.ok(json!({"type": "GET_METRICS"})).await;
    let names: BTreeSet<&str> = metrics["get_metrics"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    for name in [
        "master/tasks_running",
        "master/slaves_active",
        "master/frameworks_active",
        "master/slave_registrations",
        "master/cpus_total",
        "allocator/mesos/allocation_runs",
    ] {
        assert!(names.contains(name), "{name} missing");
    }

    let flags = cluster.ok(json!({"type": "GET_FLAGS"})).await;
    assert_eq!(flags["type"], "GET_FLAGS");

    // The same answer in protobuf.
    let response = cluster
        .client
        .post(cluster.url("/master/api/v1"))
        .header("Content-Type", "application/json")
        .header("Accept", "application/x-protobuf")
        .body(json!({"type": "GET_STATE"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/x-protobuf");
    let decoded = Response::decode(response.bytes().await.unwrap()).unwrap();
    let state = decoded.get_state.unwrap();
    assert_eq!(state.get_agents.unwrap().agents.len(), 1);
    assert_eq!(state.get_frameworks.unwrap().frameworks.len(), 1);
    cluster.master.stop().await;
}

#[tokio::test]
async fn roles_weights_and_quota() {
    let cluster = Cluster::start().await;
    let (_agent, _, _agent_stream) = cluster.register_agent("localhost").await;
    let (framework, _, _framework_stream) = cluster.subscribe_framework().await;

    let roles = cluster.ok(json!({"type": "GET_ROLES"})).await;
    let mesos = fixture("master_GET_ROLES.json");
    let star = &roles["get_roles"]["roles"][0];
    same_keys(star, &mesos["get_roles"]["roles"][0], &["resources"]);
    assert_eq!(star["name"], "*");
    assert_eq!(star["weight"], 1.0);
    assert_eq!(star["frameworks"][0]["value"], framework);

    let update = json!({"type": "UPDATE_WEIGHTS", "update_weights": {
        "weight_infos": [{"role": "dev", "weight": 2.5}]}});
    cluster.ok(update).await;
    let weights = cluster.ok(json!({"type": "GET_WEIGHTS"})).await;
    assert_eq!(
        weights["get_weights"]["weight_infos"],
        json!([{"weight": 2.5, "role": "dev"}])
    );
    let roles = cluster.ok(json!({"type": "GET_ROLES"})).await;
    let dev = roles["get_roles"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "dev")
        .expect("role dev")
        .clone();
    assert_eq!(dev["weight"], 2.5);
    let (status, _) = cluster
        .call(json!({"type": "UPDATE_WEIGHTS", "update_weights": {
            "weight_infos": [{"role": "dev", "weight": -1.0}]}}))
        .await;
    assert_eq!(status, 400);

    let quota = |cpus: f64, force: bool| {
        json!({"type": "UPDATE_QUOTA", "update_quota": {"force": force, "quota_configs": [
            {"role": "dev", "guarantees": {"cpus": {"value": cpus}},
             "limits": {"cpus": {"value": cpus}}}]}})
    };
    cluster.ok(quota(1.0, false)).await;
    let got = cluster.ok(json!({"type": "GET_QUOTA"})).await;
    let configs = &got["get_quota"]["status"]["configs"];
    assert_eq!(configs[0]["role"], "dev");
    assert_eq!(configs[0]["guarantees"]["cpus"]["value"], 1.0);
    assert_eq!(got["get_quota"]["status"]["infos"][0]["role"], "dev");
    let (status, reason) = cluster.call(quota(100.0, false)).await;
    assert_eq!(status, 400, "{reason}");
    assert!(reason.as_str().unwrap().contains("force"), "{reason}");
    cluster.ok(quota(100.0, true)).await;
    let removal = json!({"type": "UPDATE_QUOTA", "update_quota": {"quota_configs": [
        {"role": "dev"}]}});
    cluster.ok(removal).await;
    let got = cluster.ok(json!({"type": "GET_QUOTA"})).await;
    assert_eq!(got, fixture("master_GET_QUOTA.json"));
    cluster.master.stop().await;
}

#[tokio::test]
async fn one_agent_call_carries_several_updates_applied_in_order() {
    let cluster = Cluster::start().await;
    let (agent, agent_stream_id, mut agent_stream) = cluster.register_agent("localhost").await;
    let (framework, stream_id, mut events) = cluster.subscribe_framework().await;
    cluster
        .launch(&framework, &stream_id, &agent, &mut events, "t1")
        .await;
    agent_stream.agent_event(agent_event::Type::RunTask).await;

    // A STATUS_UPDATE without updates is refused and changes nothing.
    let (status, reason) = cluster
        .status_updates(&agent, &agent_stream_id, &framework, "t1", &[])
        .await;
    assert_eq!(status, 400, "{reason}");
    assert!(reason.contains("status_updates"), "{reason}");
    let tasks = cluster.ok(json!({"type": "GET_TASKS"})).await;
    assert_eq!(tasks["get_tasks"]["tasks"][0]["state"], "TASK_STAGING");

    let states = [TaskState::TaskRunning, TaskState::TaskFinished];
    let (status, reason) = cluster
        .status_updates(&agent, &agent_stream_id, &framework, "t1", &states)
        .await;
    assert_eq!(status, 202, "{reason}");
    let first = events.json_of("UPDATE").await;
    assert_eq!(first["update"]["status"]["state"], "TASK_RUNNING");
    let second = events.json_of("UPDATE").await;
    assert_eq!(second["update"]["status"]["state"], "TASK_FINISHED");
    // The task stays known until the terminal update is acknowledged, with both statuses.
    let tasks = cluster.ok(json!({"type": "GET_TASKS"})).await;
    let task = &tasks["get_tasks"]["tasks"][0];
    assert_eq!(task["state"], "TASK_FINISHED", "{tasks}");
    let statuses: Vec<&Value> = task["statuses"].as_array().unwrap().iter().collect();
    let seen: Vec<&Value> = statuses.iter().map(|s| &s["state"]).collect();
    assert_eq!(seen, [&json!("TASK_RUNNING"), &json!("TASK_FINISHED")]);
    cluster.master.stop().await;
}

#[tokio::test]
async fn tasks_flow_through_the_operator_stream_and_mark_agent_gone() {
    let cluster = Cluster::start().await;
    let (subscribed, mut operator) = cluster.subscribe_operator().await;
    assert_eq!(subscribed["subscribed"]["heartbeat_interval_seconds"], 15.0);
    assert!(subscribed["subscribed"]["get_state"].is_object());

    let (agent, agent_stream_id, mut agent_stream) = cluster.register_agent("localhost").await;
    let added = operator.json_of("AGENT_ADDED").await;
    assert_eq!(
        added["agent_added"]["agent"]["agent_info"]["id"]["value"],
        agent
    );
    let (framework, stream_id, mut events) = cluster.subscribe_framework().await;
    let added = operator.json_of("FRAMEWORK_ADDED").await;
    assert_eq!(
        added["framework_added"]["framework"]["framework_info"]["id"]["value"],
        framework
    );

    // Launch a task on the offer; the agent reports it running.
    cluster
        .launch(&framework, &stream_id, &agent, &mut events, "t1")
        .await;
    agent_stream.agent_event(agent_event::Type::RunTask).await;
    let added = operator.json_of("TASK_ADDED").await;
    assert_eq!(added["task_added"]["task"]["task_id"]["value"], "t1");
    cluster
        .status_update(
            &agent,
            &agent_stream_id,
            &framework,
            "t1",
            TaskState::TaskRunning,
        )
        .await;
    let updated = operator.json_of("TASK_UPDATED").await;
    assert_eq!(updated["task_updated"]["state"], "TASK_RUNNING");
    let tasks = cluster.ok(json!({"type": "GET_TASKS"})).await;
    assert_eq!(tasks["get_tasks"]["tasks"][0]["state"], "TASK_RUNNING");
    let metrics = cluster.ok(json!({"type": "GET_METRICS"})).await;
    let running = metrics["get_metrics"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "master/tasks_running")
        .unwrap()["value"]
        .clone();
    assert_eq!(running, 1.0);

    // Unknown agents are refused; a gone agent's tasks are gone by operator.
    let (status, _) = cluster
        .call(json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {
            "agent_id": {"value": "no-such-agent"}}}))
        .await;
    assert_eq!(status, 404);
    cluster
        .ok(json!({"type": "MARK_AGENT_GONE", "mark_agent_gone": {
            "agent_id": {"value": agent}}}))
        .await;
    agent_stream.agent_event(agent_event::Type::Shutdown).await;
    loop {
        let update = events.json_of("UPDATE").await;
        if update["update"]["status"]["state"] == "TASK_GONE_BY_OPERATOR" {
            break;
        }
    }
    let updated = operator.json_of("TASK_UPDATED").await;
    assert_eq!(updated["task_updated"]["state"], "TASK_GONE_BY_OPERATOR");
    let removed = operator.json_of("AGENT_REMOVED").await;
    assert_eq!(removed["agent_removed"]["agent_id"]["value"], agent);
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    assert_eq!(agents["get_agents"]["agents"], json!([]));

    // TEARDOWN: unknown frameworks are refused; the framework becomes completed.
    let (status, reason) = cluster
        .call(json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": "nope"}}}))
        .await;
    assert_eq!(status, 400, "{reason}");
    cluster
        .ok(json!({"type": "TEARDOWN", "teardown": {"framework_id": {"value": framework}}}))
        .await;
    let removed = operator.json_of("FRAMEWORK_REMOVED").await;
    assert_eq!(
        removed["framework_removed"]["framework_info"]["id"]["value"],
        framework
    );
    let frameworks = cluster.ok(json!({"type": "GET_FRAMEWORKS"})).await;
    assert_eq!(frameworks["get_frameworks"]["frameworks"], json!([]));
    assert_eq!(
        frameworks["get_frameworks"]["completed_frameworks"][0]["framework_info"]["id"]["value"],
        framework
    );
    cluster.master.stop().await;
}

#[tokio::test]
async fn frameworks_using_draining_machines_get_inverse_offers_and_their_answers_show() {
    let cluster = Cluster::start().await;
    let (agent, _, _agent_stream) = cluster.register_agent("host-a").await;
    let (framework, stream_id, mut events) = cluster.subscribe_framework().await;
    // The framework holds an offer of host-a's agent: it uses the machine.
    events.json_of("OFFERS").await;
    let schedule = json!({"windows": [{"machine_ids": [{"hostname": "host-a"}],
        "unavailability": {"start": {"nanoseconds": 1}}}]});
    cluster
        .ok(json!({"type": "UPDATE_MAINTENANCE_SCHEDULE",
            "update_maintenance_schedule": {"schedule": schedule}}))
        .await;
    let statuses = || async {
        let status = cluster.ok(json!({"type": "GET_MAINTENANCE_STATUS"})).await;
        status["get_maintenance_status"]["status"]["draining_machines"][0]["statuses"].clone()
    };
    let inverse_offer = |event: Value| {
        let offer = event["inverse_offers"]["inverse_offers"][0].clone();
        assert_eq!(offer["agent_id"]["value"], agent);
        assert_eq!(offer["framework_id"]["value"], framework);
        assert_eq!(offer["unavailability"]["start"]["nanoseconds"], 1);
        offer["id"]["value"].as_str().unwrap().to_string()
    };
    let answer = |kind: &str, field: &str, id: &str| {
        json!({"framework_id": {"value": framework}, "type": kind,
            field: {"inverse_offer_ids": [{"value": id}], "filters": {"refuse_seconds": 0.5}}})
    };

    let first = inverse_offer(events.json_of("INVERSE_OFFERS").await);
    let unanswered = statuses().await;
    assert_eq!(unanswered[0]["status"], "UNKNOWN", "{unanswered}");
    assert_eq!(unanswered[0]["framework_id"]["value"], framework);

    // An answer to an inverse offer that is not the framework's changes nothing.
    let stranger = answer(
        "DECLINE_INVERSE_OFFERS",
        "decline_inverse_offers",
        "no-such-id",
    );
    assert_eq!(cluster.scheduler_call(&stream_id, stranger).await, 202);
    assert_eq!(statuses().await[0]["status"], "UNKNOWN");

    let decline = answer("DECLINE_INVERSE_OFFERS", "decline_inverse_offers", &first);
    assert_eq!(cluster.scheduler_call(&stream_id, decline).await, 202);
    assert_eq!(statuses().await[0]["status"], "DECLINE");

    // Past the answer's filter the framework, still on the machine, is asked again.
    let second = inverse_offer(events.json_of("INVERSE_OFFERS").await);
    assert_ne!(second, first);
    let accept = answer("ACCEPT_INVERSE_OFFERS", "accept_inverse_offers", &second);
    assert_eq!(cluster.scheduler_call(&stream_id, accept).await, 202);
    assert_eq!(statuses().await[0]["status"], "ACCEPT");

    // The machine goes DOWN: the outstanding inverse offer is rescinded.
    let third = inverse_offer(events.json_of("INVERSE_OFFERS").await);
    cluster
        .ok(json!({"type": "START_MAINTENANCE", "start_maintenance": {
            "machines": [{"hostname": "host-a"}]}}))
        .await;
    let rescinded = events.json_of("RESCIND_INVERSE_OFFER").await;
    assert_eq!(
        rescinded["rescind_inverse_offer"]["inverse_offer_id"]["value"],
        third
    );
    let status = cluster.ok(json!({"type": "GET_MAINTENANCE_STATUS"})).await;
    assert_eq!(
        status["get_maintenance_status"]["status"]["draining_machines"],
        Value::Null,
        "{status}"
    );
    cluster.master.stop().await;
}

#[tokio::test]
async fn maintenance_deactivation_and_drain() {
    let cluster = Cluster::start().await;
    let (agent, _, mut agent_stream) = cluster.register_agent("host-a").await;
    let (_framework, _, mut events) = cluster.subscribe_framework().await;
    events.json_of("OFFERS").await;

    let schedule = json!({"windows": [{"machine_ids": [{"hostname": "host-a"}],
        "unavailability": {"start": {"nanoseconds": 1}}}]});
    cluster
        .ok(json!({"type": "UPDATE_MAINTENANCE_SCHEDULE",
            "update_maintenance_schedule": {"schedule": schedule}}))
        .await;
    let got = cluster
        .ok(json!({"type": "GET_MAINTENANCE_SCHEDULE"}))
        .await;
    assert_eq!(got["get_maintenance_schedule"]["schedule"], schedule);
    let invalid = json!({"windows": [{"machine_ids": [{}],
        "unavailability": {"start": {"nanoseconds": 1}}}]});
    let (status, _) = cluster
        .call(json!({"type": "UPDATE_MAINTENANCE_SCHEDULE",
            "update_maintenance_schedule": {"schedule": invalid}}))
        .await;
    assert_eq!(status, 400);
    let status = cluster.ok(json!({"type": "GET_MAINTENANCE_STATUS"})).await;
    assert_eq!(
        status["get_maintenance_status"]["status"]["draining_machines"][0]["id"]["hostname"],
        "host-a"
    );

    let (status, _) = cluster
        .call(json!({"type": "START_MAINTENANCE", "start_maintenance": {
            "machines": [{"hostname": "unscheduled"}]}}))
        .await;
    assert_eq!(status, 400);
    cluster
        .ok(json!({"type": "START_MAINTENANCE", "start_maintenance": {
            "machines": [{"hostname": "host-a"}]}}))
        .await;
    events.json_of("RESCIND").await;
    let status = cluster.ok(json!({"type": "GET_MAINTENANCE_STATUS"})).await;
    assert_eq!(
        status["get_maintenance_status"]["status"]["down_machines"],
        json!([{"hostname": "host-a"}])
    );
    cluster
        .ok(json!({"type": "STOP_MAINTENANCE", "stop_maintenance": {
            "machines": [{"hostname": "host-a"}]}}))
        .await;
    let got = cluster
        .ok(json!({"type": "GET_MAINTENANCE_SCHEDULE"}))
        .await;
    assert_eq!(got["get_maintenance_schedule"]["schedule"], json!({}));
    events.json_of("OFFERS").await;

    // DEACTIVATE / REACTIVATE.
    let (status, _) = cluster
        .call(json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": {
            "agent_id": {"value": "nope"}}}))
        .await;
    assert_eq!(status, 404);
    cluster
        .ok(json!({"type": "DEACTIVATE_AGENT", "deactivate_agent": {
            "agent_id": {"value": agent}}}))
        .await;
    events.json_of("RESCIND").await;
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    assert_eq!(agents["get_agents"]["agents"][0]["deactivated"], true);
    cluster
        .ok(json!({"type": "REACTIVATE_AGENT", "reactivate_agent": {
            "agent_id": {"value": agent}}}))
        .await;
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    assert_eq!(agents["get_agents"]["agents"][0]["deactivated"], false);
    events.json_of("OFFERS").await;

    // DRAIN of an agent without tasks: drained at once, then gone as asked.
    cluster
        .ok(json!({"type": "DRAIN_AGENT", "drain_agent": {
            "agent_id": {"value": agent}, "mark_gone": true}}))
        .await;
    agent_stream.agent_event(agent_event::Type::Shutdown).await;
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    assert_eq!(agents["get_agents"]["agents"], json!([]));

    let (_other, _, _other_stream) = cluster.register_agent("host-b").await;
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    let other = agents["get_agents"]["agents"][0]["agent_info"]["id"]["value"].clone();
    cluster
        .ok(json!({"type": "DRAIN_AGENT", "drain_agent": {"agent_id": {"value": other}}}))
        .await;
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    let drained = &agents["get_agents"]["agents"][0];
    assert_eq!(drained["deactivated"], true);
    assert_eq!(drained["drain_info"]["state"], "DRAINED");
    cluster.master.stop().await;
}

#[tokio::test]
async fn reserve_and_unreserve_resources() {
    let cluster = Cluster::start().await;
    let (agent, _, mut agent_stream) = cluster.register_agent("localhost").await;
    let (_framework, _, mut events) = cluster.subscribe_framework().await;
    events.json_of("OFFERS").await;

    let reserved = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
        "reservations": [{"type": "DYNAMIC", "role": "dev", "principal": "ops"}]}]);
    let (status, _) = cluster
        .call(json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
            "agent_id": {"value": "nope"}, "resources": reserved}}))
        .await;
    assert_eq!(status, 404);
    cluster
        .accepted(json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
            "agent_id": {"value": agent}, "resources": reserved}}))
        .await;
    // The agent's resources were all offered: the offer is rescinded first.
    events.json_of("RESCIND").await;
    let checkpoint = agent_stream
        .agent_event(agent_event::Type::CheckpointResources)
        .await;
    let total = checkpoint.checkpoint_resources.unwrap().total;
    assert!(total.iter().any(|r| r.name == "cpus"
        && r.reservations
            .iter()
            .any(|s| s.role.as_deref() == Some("dev"))));
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    let totals = agents["get_agents"]["agents"][0]["total_resources"]
        .as_array()
        .unwrap()
        .clone();
    assert!(
        totals
            .iter()
            .any(|r| r["name"] == "cpus" && r["role"] == "dev"),
        "{totals:?}"
    );
    let roles = cluster.ok(json!({"type": "GET_ROLES"})).await;
    assert!(roles["get_roles"]["roles"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == "dev"));

    let too_much = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 5.0},
        "reservations": [{"type": "DYNAMIC", "role": "dev"}]}]);
    let (status, _) = cluster
        .call(json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
            "agent_id": {"value": agent}, "resources": too_much}}))
        .await;
    assert_eq!(status, 409);

    cluster
        .accepted(
            json!({"type": "UNRESERVE_RESOURCES", "unreserve_resources": {
            "agent_id": {"value": agent}, "resources": reserved}}),
        )
        .await;
    let checkpoint = agent_stream
        .agent_event(agent_event::Type::CheckpointResources)
        .await;
    assert!(checkpoint
        .checkpoint_resources
        .unwrap()
        .total
        .iter()
        .all(|r| r.reservations.is_empty()));
    cluster.master.stop().await;
}

#[tokio::test]
async fn bad_calls_are_refused_as_mesos_refuses_them() {
    let cluster = Cluster::start().await;
    let post = |content_type: &str, accept: &str, body: &str| {
        cluster
            .client
            .post(cluster.url("/api/v1"))
            .header("Content-Type", content_type)
            .header("Accept", accept)
            .body(body.to_string())
            .send()
    };
    let response = post(
        "application/json",
        "application/json",
        r#"{"type":"UNKNOWN"}"#,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 400);
    let response = post("application/json", "application/json", "not json")
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap();
    assert!(text.starts_with("Failed to parse body into JSON"), "{text}");
    let response = post("text/plain", "application/json", r#"{"type":"GET_HEALTH"}"#)
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let expected = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/apache-mesos/operator/bad_ctype.body"
    ))
    .unwrap();
    assert_eq!(response.text().await.unwrap(), expected.trim_end());
    let response = post("application/json", "text/html", r#"{"type":"GET_HEALTH"}"#)
        .await
        .unwrap();
    assert_eq!(response.status(), 406);
    let response = post(
        "application/json",
        "application/json",
        r#"{"type":"UPDATE_WEIGHTS"}"#,
    )
    .await
    .unwrap();
    assert_eq!(response.status(), 400);
    assert!(response.text().await.unwrap().contains("update_weights"));
    let response = cluster
        .client
        .get(cluster.url("/api/v1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    cluster.master.stop().await;
}

#[tokio::test]
async fn draining_kills_tasks_then_the_agent_is_drained() {
    let cluster = Cluster::start().await;
    let (agent, agent_stream_id, mut agent_stream) = cluster.register_agent("localhost").await;
    let (framework, stream_id, mut events) = cluster.subscribe_framework().await;
    cluster
        .launch(&framework, &stream_id, &agent, &mut events, "t1")
        .await;
    agent_stream.agent_event(agent_event::Type::RunTask).await;
    cluster
        .status_update(
            &agent,
            &agent_stream_id,
            &framework,
            "t1",
            TaskState::TaskRunning,
        )
        .await;

    cluster
        .ok(json!({"type": "DRAIN_AGENT", "drain_agent": {
            "agent_id": {"value": agent}, "max_grace_period": {"seconds": 5}}}))
        .await;
    let kill = agent_stream.agent_event(agent_event::Type::KillTask).await;
    let kill = kill.kill_task.unwrap();
    assert_eq!(kill.task_id.value, "t1");
    assert_eq!(
        kill.kill_policy.unwrap().grace_period.unwrap().nanoseconds,
        5_000_000_000
    );
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    let draining = &agents["get_agents"]["agents"][0];
    assert_eq!(draining["drain_info"]["state"], "DRAINING");
    assert_eq!(draining["deactivated"], true);

    cluster
        .status_update(
            &agent,
            &agent_stream_id,
            &framework,
            "t1",
            TaskState::TaskKilled,
        )
        .await;
    let drained = tokio::time::timeout(TIMEOUT, async {
        loop {
            let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
            if agents["get_agents"]["agents"][0]["drain_info"]["state"] == "DRAINED" {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    assert_eq!(drained, Ok(true));

    // REACTIVATE clears the drain.
    cluster
        .ok(json!({"type": "REACTIVATE_AGENT", "reactivate_agent": {
            "agent_id": {"value": agent}}}))
        .await;
    let agents = cluster.ok(json!({"type": "GET_AGENTS"})).await;
    let agent = &agents["get_agents"]["agents"][0];
    assert_eq!(agent["deactivated"], false);
    assert!(agent.get("drain_info").is_none(), "{agent}");
    cluster.master.stop().await;
}

#[tokio::test]
async fn operator_subscribers_get_heartbeats() {
    let options = MasterOptions {
        heartbeat_interval: Duration::from_millis(100),
        ..MasterOptions::default()
    };
    let cluster = Cluster::start_with(options).await;
    let (subscribed, mut operator) = cluster.subscribe_operator().await;
    assert_eq!(subscribed["subscribed"]["heartbeat_interval_seconds"], 0.1);
    assert_eq!(operator.json().await["type"], "HEARTBEAT");
    assert_eq!(operator.json().await["type"], "HEARTBEAT");
    cluster.master.stop().await;
}
