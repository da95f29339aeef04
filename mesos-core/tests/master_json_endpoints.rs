//! The master's JSON endpoints and metrics, rendered from the v1 operator answers a real
//! Apache Mesos master gave, must match what that master's JSON endpoints answered.
//!
//! These tests use the shared fixtures in `/work/shared/fixtures/apache-mesos/`
//! (`operator/master_GET_*.json` as input, `master/*.json` as expected output), found
//! relative to this crate.

use std::collections::{BTreeMap, BTreeSet};

use mesos_core::master::json_endpoints::{
    frameworks_json, roles_json, slaves_json, state_json, state_summary_json, tasks_json,
    MasterSnapshot, TaskOrder, TasksQuery,
};
use mesos_core::master::metrics::{
    prometheus_text, snapshot_json, Counter, FrameworkCall, FrameworkEvent, FrameworkOperation,
    MasterGauges, MasterMetrics, OfferOutcome,
};
use mesos_core::proto::mesos::v1 as pb;
use mesos_core::proto::mesos::v1::master::response::GetState;
use mesos_core::proto::mesos::v1::master::Response;
use serde_json::{json, Value as Json};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/fixtures/apache-mesos/"
);

fn fixture(path: &str) -> Json {
    let text = std::fs::read(format!("{FIXTURES}{path}")).expect("shared fixture");
    serde_json::from_slice(&text).expect("fixture is JSON")
}

fn response(path: &str) -> Response {
    let mut json = fixture(path);
    // The fixtures come from Mesos 1.12, whose `AgentInfo` has a `checkpoint` field that
    // the 1.11 schema lacks; strict reading rejects it, so it is stripped here.
    let pointer = if json.get("get_state").is_some() {
        "/get_state/get_agents/agents"
    } else {
        "/get_agents/agents"
    };
    if let Some(Json::Array(agents)) = json.pointer_mut(pointer) {
        for agent in agents {
            if let Some(Json::Object(info)) = agent.get_mut("agent_info") {
                info.remove("checkpoint");
            }
        }
    }
    mesos_core::json::from_value::<Response>(&json).expect("fixture reads as a v1 Response")
}

fn get_state() -> GetState {
    response("operator/master_GET_STATE.json")
        .get_state
        .expect("GET_STATE answer")
}

fn master_info() -> pb::MasterInfo {
    let mut info = response("operator/master_GET_MASTER.json")
        .get_master
        .and_then(|m| m.master_info)
        .expect("GET_MASTER answer");
    // The v1 schema has no `QUOTA_V2` master capability (the v0 one has, as 3), so the
    // JSON reader dropped that name; the master sets it by number.
    for capability in &mut info.capabilities {
        capability.r#type.get_or_insert(3);
    }
    info
}

/// Asserts that `actual` has exactly the keys of `expected`, recursively through objects
/// and through the first element of arrays that both have.
fn assert_same_keys(actual: &Json, expected: &Json, path: &str) {
    match (actual, expected) {
        (Json::Object(a), Json::Object(e)) => {
            let ak: BTreeSet<&String> = a.keys().collect();
            let ek: BTreeSet<&String> = e.keys().collect();
            assert_eq!(ak, ek, "keys of {path}");
            for (key, value) in e {
                assert_same_keys(&a[key], value, &format!("{path}.{key}"));
            }
        }
        (Json::Array(a), Json::Array(e)) => {
            if let (Some(a), Some(e)) = (a.first(), e.first()) {
                assert_same_keys(a, e, &format!("{path}[0]"));
            }
        }
        (a, e) => assert_eq!(
            std::mem::discriminant(a),
            std::mem::discriminant(e),
            "type of {path}: {a} vs {e}"
        ),
    }
}

/// The build of the master that produced the fixtures.
fn fixture_version(expected: &Json) -> pb::VersionInfo {
    pb::VersionInfo {
        version: expected["version"].as_str().unwrap().to_string(),
        build_date: expected["build_date"].as_str().map(str::to_string),
        build_time: expected["build_time"].as_f64(),
        build_user: expected["build_user"].as_str().map(str::to_string),
        git_sha: expected["git_sha"].as_str().map(str::to_string),
        git_branch: expected["git_branch"].as_str().map(str::to_string),
        git_tag: None,
    }
}

fn flags(expected: &Json) -> BTreeMap<String, String> {
    expected["flags"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
        .collect()
}

#[test]
fn state_matches_apache_mesos() {
    let expected = fixture("master/master_state.json");
    let state = get_state();
    let info = master_info();
    let flags = flags(&expected);
    let version = fixture_version(&expected);
    let snapshot = MasterSnapshot {
        master_info: &info,
        leader: Some(&info),
        flags: &flags,
        start_time: expected["start_time"].as_f64().unwrap(),
        elected_time: expected["elected_time"].as_f64(),
        version: &version,
        unreachable_agents: 0,
    };
    let actual: Json = serde_json::from_slice(&state_json(&snapshot, &state)).unwrap();
    assert_same_keys(&actual, &expected, "state");
    assert_eq!(actual, expected);
}

#[test]
fn state_summary_matches_apache_mesos() {
    let expected = fixture("master/master_state-summary.json");
    let state = get_state();
    let info = master_info();
    let flags: BTreeMap<String, String> = [("cluster".to_string(), "fixtures".to_string())].into();
    let version = mesos_core::http::endpoints::version_info();
    let snapshot = MasterSnapshot {
        master_info: &info,
        leader: Some(&info),
        flags: &flags,
        start_time: 0.0,
        elected_time: None,
        version: &version,
        unreachable_agents: 0,
    };
    let actual = state_summary_json(&snapshot, &state);
    assert_same_keys(&actual, &expected, "state-summary");
    assert_eq!(actual, expected);
}

#[test]
fn frameworks_match_apache_mesos() {
    let expected = fixture("master/master_frameworks.json");
    let state = get_state();
    let actual = frameworks_json(&state, None);
    assert_same_keys(&actual, &expected, "frameworks");
    assert_eq!(actual, expected);

    let id = expected["frameworks"][0]["id"].as_str().unwrap();
    assert_eq!(frameworks_json(&state, Some(id)), expected);
    let other = frameworks_json(&state, Some("no-such-framework"));
    assert_eq!(other["frameworks"], json!([]));
}

#[test]
fn slaves_match_apache_mesos() {
    let expected = fixture("master/master_slaves.json");
    let state = get_state();
    let agents = state.get_agents.clone().unwrap();
    let actual = slaves_json(&agents, None);
    assert_same_keys(&actual, &expected, "slaves");
    assert_eq!(actual, expected);

    let id = expected["slaves"][0]["id"].as_str().unwrap();
    assert_eq!(slaves_json(&agents, Some(id)), expected);
    assert_eq!(slaves_json(&agents, Some("S9"))["slaves"], json!([]));
}

#[test]
fn tasks_match_apache_mesos() {
    let expected = fixture("master/master_tasks.json");
    let state = get_state();
    let actual = tasks_json(&state, &TasksQuery::default());
    assert_same_keys(&actual, &expected, "tasks");
    assert_eq!(actual, expected);

    let none = TasksQuery {
        offset: 1,
        ..TasksQuery::default()
    };
    assert_eq!(tasks_json(&state, &none)["tasks"], json!([]));
    let by_id = TasksQuery {
        task_id: Some("env-dump".into()),
        order: TaskOrder::Ascending,
        ..TasksQuery::default()
    };
    assert_eq!(tasks_json(&state, &by_id), expected);
    let other = TasksQuery {
        framework_id: Some("other".into()),
        ..TasksQuery::default()
    };
    assert_eq!(tasks_json(&state, &other)["tasks"], json!([]));
}

#[test]
fn tasks_query_reads_params_like_mesos() {
    let params: BTreeMap<String, String> = [
        ("limit", "5"),
        ("offset", "x"),
        ("order", "asc"),
        ("task_id", "t"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let q = TasksQuery::from_params(&params);
    assert_eq!(q.limit, 5);
    assert_eq!(q.offset, 0);
    assert_eq!(q.order, TaskOrder::Ascending);
    assert_eq!(q.task_id.as_deref(), Some("t"));
    assert_eq!(q.framework_id, None);
    assert_eq!(
        TasksQuery::from_params(&BTreeMap::new()),
        TasksQuery::default()
    );
}

#[test]
fn tasks_sort_by_first_status_time() {
    let mut state = get_state();
    let tasks = state.get_tasks.as_mut().unwrap();
    let mut older = tasks.completed_tasks[0].clone();
    older.task_id.value = "older".into();
    older.statuses[0].timestamp = Some(1.0);
    let mut unseen = older.clone();
    unseen.task_id.value = "no-status".into();
    unseen.statuses.clear();
    tasks.completed_tasks.push(older);
    tasks.completed_tasks.push(unseen);
    let ids = |order| {
        let q = TasksQuery {
            order,
            ..TasksQuery::default()
        };
        tasks_json(&state, &q)["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(TaskOrder::Descending),
        ["env-dump", "older", "no-status"]
    );
    assert_eq!(
        ids(TaskOrder::Ascending),
        ["no-status", "older", "env-dump"]
    );
}

#[test]
fn roles_match_apache_mesos() {
    let expected = fixture("master/master_roles.json");
    let roles = response("operator/master_GET_ROLES.json")
        .get_roles
        .expect("GET_ROLES answer");
    let actual = roles_json(&roles, &BTreeMap::new());
    assert_same_keys(&actual, &expected, "roles");
    assert_eq!(actual, expected);
}

#[test]
fn metrics_snapshot_has_the_keys_of_apache_mesos() {
    let expected = fixture("master/metrics_snapshot.json");
    let expected = expected.as_object().unwrap();
    let state = get_state();
    let mut gauges = MasterGauges::from_state(&state, &[], 0);
    gauges.elected = true;
    gauges.role_dominant_shares.insert("*".into(), 0.0);
    gauges.role_active_offer_filters.insert("*".into(), 0);
    let mut metrics = MasterMetrics::new();
    metrics.incr(Counter::SlaveRegistrations);
    for ms in [0.01, 0.02, 0.03] {
        metrics.allocation_run.record_ms(ms);
        metrics.allocation_run_latency.record_ms(ms);
    }
    metrics.registrar_state_fetch.record_ms(0.2);
    metrics.registrar_state_store.record_ms(0.2);
    metrics.registrar_state_store.record_ms(2.5);
    // What the fixture's framework did: subscribe, get an offer, launch one task
    // that finished, acknowledge its three updates.
    let framework = &state.get_frameworks.as_ref().unwrap().frameworks[0];
    let id = framework.framework_info.id.as_ref().unwrap().value.clone();
    metrics.add_framework(&id, &framework.framework_info.name);
    let f = metrics.framework(&id).unwrap();
    f.call(FrameworkCall::Subscribe);
    f.call(FrameworkCall::Accept);
    for _ in 0..3 {
        f.call(FrameworkCall::Acknowledge);
        f.event(FrameworkEvent::Update);
    }
    f.event(FrameworkEvent::Subscribed);
    f.event(FrameworkEvent::Heartbeat);
    f.event(FrameworkEvent::Offers);
    f.offers(OfferOutcome::Sent, 1);
    f.offers(OfferOutcome::Accepted, 1);
    f.operation(FrameworkOperation::Launch);
    f.task_terminated(pb::TaskState::TaskFinished);
    let snapshot = metrics.snapshot(&gauges);

    let wanted: BTreeSet<&str> = expected.keys().map(String::as_str).collect();
    let ours: BTreeSet<&str> = snapshot.keys().map(String::as_str).collect();
    assert_eq!(ours, wanted);

    for (key, value) in expected {
        if key.starts_with("master/frameworks/") {
            assert_eq!(Some(snapshot[key]), value.as_f64(), "{key}");
        }
    }
    for key in [
        "master/slaves_active",
        "master/slaves_connected",
        "master/slaves_inactive",
        "master/slaves_disconnected",
        "master/frameworks_active",
        "master/frameworks_inactive",
        "master/frameworks_connected",
        "master/frameworks_disconnected",
        "master/cpus_total",
        "master/mem_total",
        "master/disk_total",
        "master/gpus_total",
        "master/cpus_used",
        "master/cpus_percent",
        "master/tasks_running",
        "master/tasks_staging",
        "master/elected",
        "master/slave_registrations",
        "allocator/mesos/resources/cpus/total",
        "allocator/mesos/resources/mem/total",
        "allocator/mesos/resources/disk/total",
        "allocator/mesos/resources/cpus/offered_or_allocated",
    ] {
        assert_eq!(Some(snapshot[key]), expected[key].as_f64(), "{key}");
    }

    let json = snapshot_json(&snapshot);
    assert_eq!(json["master/cpus_total"], json!(2.0));
    let text = prometheus_text(&snapshot);
    assert!(text.contains("\nmaster_cpus_total 2\n"), "{text}");
    assert!(text.contains("\nallocator_mesos_allocation_run_ms_p50 0.02\n"));
}
