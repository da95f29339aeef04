//! A master restarted on the same work directory recovers its registry: agents
//! re-register with their tasks, frameworks re-subscribe with their ids and find their
//! tasks; an agent that does not come back in time is marked unreachable.

// Each test binary uses part of the shared helpers.
#[allow(dead_code)]
mod master_support;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use master_support::{agent, framework_info, scalars, TestScheduler};
use mesos_core::master::{Master, MasterOptions, RegistryStore};
use serde_json::json;

async fn start(dir: &Path, bind: SocketAddr, reregister: Duration) -> Master {
    Master::start(MasterOptions {
        bind,
        registry: RegistryStore::WorkDir(dir.to_path_buf()),
        allocation_interval: Duration::from_millis(100),
        agent_reregister_timeout: reregister,
        ..MasterOptions::default()
    })
    .await
    .expect("master starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_recovers_agents_tasks_and_frameworks() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(
        dir.path(),
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_secs(600),
    )
    .await;
    let addr = first.addr();
    let stays = agent(addr, "stays", "cpus:2;mem:1024").await;
    let mut info = framework_info("survivor", "*", &["PARTITION_AWARE"]);
    info["failover_timeout"] = json!(3600.0);
    let mut scheduler = TestScheduler::subscribe(addr, info.clone()).await;
    let offer = scheduler.offer().await;
    scheduler
        .launch(&offer, "t1", scalars("*", &[("cpus", 1.0)]))
        .await;
    let running = scheduler.next("UPDATE").await;
    assert_eq!(running["update"]["status"]["state"], "TASK_RUNNING");
    scheduler.acknowledge(&running).await;
    let framework_id = scheduler.framework_id.clone();
    drop(scheduler);
    first.stop().await;

    let second = start(dir.path(), addr, Duration::from_secs(600)).await;
    assert_eq!(second.addr(), addr);
    info["id"] = json!({"value": framework_id});
    let mut scheduler = TestScheduler::subscribe(addr, info).await;
    assert_eq!(scheduler.framework_id, framework_id);
    // The agent re-registers on its own; reconcile until the master knows the task.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        let (code, body) = scheduler
            .call(json!({"type": "RECONCILE", "reconcile": {"tasks": [
                {"task_id": {"value": "t1"}, "agent_id": {"value": stays.id()}}]}}))
            .await;
        assert_eq!(code, 202, "{body}");
        if let Some(update) = scheduler
            .next_within("UPDATE", Duration::from_millis(300))
            .await
        {
            if update["update"]["status"]["state"] == "TASK_RUNNING" {
                break;
            }
        }
        assert!(tokio::time::Instant::now() < deadline, "t1 never came back");
    }
    // Its resources are still in use: the next offer has one cpu, not two.
    let offer = scheduler.offer().await;
    let cpus = offer["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "cpus")
        .unwrap()["scalar"]["value"]
        .as_f64()
        .unwrap();
    assert_eq!(cpus, 1.0);
    second.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_that_does_not_come_back_becomes_unreachable() {
    let dir = tempfile::tempdir().unwrap();
    let first = start(
        dir.path(),
        "127.0.0.1:0".parse().unwrap(),
        Duration::from_millis(500),
    )
    .await;
    let addr = first.addr();
    let leaves = agent(addr, "leaves", "cpus:2;mem:1024").await;
    let leaves_id = leaves.id().to_string();
    let mut info = framework_info("watcher", "*", &["PARTITION_AWARE"]);
    info["failover_timeout"] = json!(3600.0);
    let mut scheduler = TestScheduler::subscribe(addr, info.clone()).await;
    let offer = scheduler.offer().await;
    scheduler
        .launch(&offer, "t1", scalars("*", &[("cpus", 1.0)]))
        .await;
    let running = scheduler.next("UPDATE").await;
    scheduler.acknowledge(&running).await;
    let framework_id = scheduler.framework_id.clone();
    drop(scheduler);
    drop(leaves);
    first.stop().await;

    let second = start(dir.path(), addr, Duration::from_millis(500)).await;
    info["id"] = json!({"value": framework_id});
    let mut scheduler = TestScheduler::subscribe(addr, info).await;
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (code, _) = scheduler
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": [
            {"task_id": {"value": "t1"}, "agent_id": {"value": leaves_id}}]}}))
        .await;
    assert_eq!(code, 202);
    let update = scheduler.next("UPDATE").await;
    assert_eq!(
        update["update"]["status"]["state"], "TASK_UNREACHABLE",
        "{update}"
    );
    second.stop().await;
}
