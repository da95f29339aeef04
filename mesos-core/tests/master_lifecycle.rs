//! Timers and less common calls of the master, end to end: offer timeouts, heartbeats,
//! framework failover timeouts, LAUNCH_GROUP, RESERVE / UNRESERVE through ACCEPT, and
//! UPDATE_FRAMEWORK.

// Each test binary uses part of the shared helpers.
#[allow(dead_code)]
mod master_support;

use std::time::Duration;

use master_support::{agent, framework_info, scalars, TestScheduler};
use mesos_core::master::{Master, MasterOptions};
use serde_json::{json, Value};

async fn master_with(options: MasterOptions) -> Master {
    Master::start(MasterOptions {
        allocation_interval: Duration::from_millis(100),
        ..options
    })
    .await
    .expect("master starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unused_offers_are_rescinded_after_the_offer_timeout() {
    let master = master_with(MasterOptions {
        offer_timeout: Some(Duration::from_millis(300)),
        ..MasterOptions::default()
    })
    .await;
    let _agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("slow", "*", &[])).await;
    let offer = scheduler.offer().await;
    let rescind = scheduler.next("RESCIND").await;
    assert_eq!(rescind["rescind"]["offer_id"], offer["id"]);
    // The resources come back in a new offer.
    let again = scheduler.offer().await;
    assert_ne!(again["id"], offer["id"]);
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_arrive_every_interval() {
    let master = master_with(MasterOptions {
        heartbeat_interval: Duration::from_millis(100),
        ..MasterOptions::default()
    })
    .await;
    let mut scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("beat", "*", &[])).await;
    assert_eq!(
        scheduler.subscribed["subscribed"]["heartbeat_interval_seconds"],
        0.1
    );
    for _ in 0..3 {
        scheduler.next("HEARTBEAT").await;
    }
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn framework_gone_past_its_failover_timeout_loses_its_tasks() {
    let master = master_with(MasterOptions::default()).await;
    let agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut info = framework_info("brief", "*", &[]);
    info["failover_timeout"] = json!(0.3);
    let mut scheduler = TestScheduler::subscribe(master.addr(), info.clone()).await;
    let offer = scheduler.offer().await;
    scheduler
        .launch(&offer, "t1", scalars("*", &[("cpus", 1.0)]))
        .await;
    let running = scheduler.next("UPDATE").await;
    scheduler.acknowledge(&running).await;
    let id = scheduler.framework_id.clone();
    drop(scheduler);
    // The agent is told to shut the framework down once the timeout passes.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !agent.tasks().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            agent.tasks()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The framework is among the completed ones and may not come back.
    let body = reqwest::get(format!("http://{}/master/frameworks", master.addr()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let state: Value = serde_json::from_str(&body).unwrap();
    let completed = state["completed_frameworks"].as_array().unwrap();
    assert!(completed.iter().any(|f| f["id"] == id.as_str()), "{state}");
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_group_runs_every_task_of_the_group() {
    let master = master_with(MasterOptions::default()).await;
    let agent = agent(master.addr(), "host1", "cpus:4;mem:1024;disk:1024").await;
    let mut scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("grouper", "*", &[])).await;
    let offer = scheduler.offer().await;
    let task = |id: &str| {
        json!({"name": id, "task_id": {"value": id}, "agent_id": offer["agent_id"],
               "resources": scalars("*", &[("cpus", 1.0), ("mem", 64.0)]),
               "command": {"value": "sleep 100"}})
    };
    let (code, body) = scheduler
        .call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
                "executor": {"type": "DEFAULT", "executor_id": {"value": "group-executor"},
                             "resources": scalars("*", &[("cpus", 0.1), ("mem", 32.0), ("disk", 32.0)])},
                "task_group": {"tasks": [task("a"), task("b")]}}}]}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let mut running = Vec::new();
    for _ in 0..2 {
        let update = scheduler.next("UPDATE").await;
        assert_eq!(
            update["update"]["status"]["state"], "TASK_RUNNING",
            "{update}"
        );
        running.push(update["update"]["status"]["task_id"]["value"].clone());
        scheduler.acknowledge(&update).await;
    }
    running.sort_by_key(|v| v.to_string());
    assert_eq!(running, vec![json!("a"), json!("b")]);
    assert_eq!(agent.tasks().len(), 2);
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserve_then_unreserve_through_accept() {
    let master = master_with(MasterOptions::default()).await;
    let _agent = agent(master.addr(), "host1", "cpus:4;mem:1024").await;
    let mut scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("reserver", "ops", &[])).await;
    let offer = scheduler.offer().await;
    let reserved = json!([{"name": "cpus", "type": "SCALAR", "scalar": {"value": 2.0},
        "allocation_info": {"role": "ops"},
        "reservations": [{"type": "DYNAMIC", "role": "ops"}]}]);
    let (code, body) = scheduler
        .call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "RESERVE", "reserve": {"resources": reserved}}],
            "filters": {"refuse_seconds": 0.0}}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let offer = scheduler.offer().await;
    let has_reservation = |offer: &Value| {
        offer["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "cpus" && r["reservations"][0]["role"] == "ops")
    };
    assert!(has_reservation(&offer), "{offer}");
    let (code, body) = scheduler
        .call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "UNRESERVE", "unreserve": {"resources": reserved}}],
            "filters": {"refuse_seconds": 0.0}}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let offer = scheduler.offer().await;
    assert!(!has_reservation(&offer), "{offer}");
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_framework_changes_roles_and_rescinds_old_offers() {
    let master = master_with(MasterOptions::default()).await;
    let _agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("mover", "old", &[])).await;
    let offer = scheduler.offer().await;
    assert_eq!(offer["allocation_info"]["role"], "old");
    let mut info = framework_info("mover", "new", &["MULTI_ROLE"]);
    info["id"] = json!({"value": scheduler.framework_id});
    let (code, body) = scheduler
        .call(json!({"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": info}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let rescind = scheduler.next("RESCIND").await;
    assert_eq!(rescind["rescind"]["offer_id"], offer["id"]);
    let offer = scheduler.offer().await;
    assert_eq!(offer["allocation_info"]["role"], "new");
    // Changing an immutable field is refused.
    let mut info = framework_info("mover", "new", &["MULTI_ROLE"]);
    info["id"] = json!({"value": scheduler.framework_id});
    info["user"] = json!("someone-else");
    let (code, body) = scheduler
        .call(json!({"type": "UPDATE_FRAMEWORK", "update_framework": {"framework_info": info}}))
        .await;
    assert_eq!(code, 400, "{body}");
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_bound_to_every_interface_advertises_an_address_others_can_dial() {
    let master = master_with(MasterOptions {
        bind: "0.0.0.0:0".parse().unwrap(),
        ..MasterOptions::default()
    })
    .await;
    let address = master.info().address.clone().expect("an address");
    let ip = address.ip.expect("an ip");
    assert_ne!(ip, "0.0.0.0", "the wildcard was advertised");
    let url = format!("http://{ip}:{}/health", address.port);
    let health = reqwest::get(&url)
        .await
        .expect("the advertised address answers");
    assert_eq!(health.status(), 200, "{url}");
    assert_eq!(
        master.info().pid.as_deref(),
        Some(format!("master@{ip}:{}", address.port).as_str())
    );
    master.stop().await;
}
