//! pymesos 0.3.15 (PyPI), unmodified, drives our master: subscribe, launch from an offer,
//! decline with a filter, kill, fail over to a new driver with the framework id,
//! reconcile, and tear down (`tests/python/pymesos_framework.py`). The master runs in
//! this process with one simulated agent. Then again with two masters contending in a
//! real ZooKeeper, pymesos given only the `zk://` URL: its detector (kazoo) must find our
//! leader from the nodes we write.
//!
//! Needs `python3` with pymesos (`scripts/install-test-deps.sh`). Without it the test
//! prints `SKIPPED: <why>` and passes, unless `MESOS_REQUIRE_PYTHON_DEPS=1`, which
//! `scripts/test.sh` sets, makes it fail.

// Each test binary uses part of the shared helpers.
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod master_support;

use std::process::Command;
use std::time::Duration;

use common::{workspace, REQUIRE};
use mesos_core::master::{Master, MasterOptions};
use serde_json::Value;

fn pymesos_missing() -> Option<String> {
    match Command::new("python3")
        .args(["-c", "import pymesos, kazoo"])
        .output()
    {
        Err(e) => Some(format!("python3 cannot be run: {e}")),
        Ok(out) if !out.status.success() => Some(format!(
            "python3 cannot import pymesos (run scripts/install-test-deps.sh): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Ok(_) => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymesos_framework_runs_against_the_master() {
    if let Some(reason) = pymesos_missing() {
        assert_ne!(
            std::env::var(REQUIRE).as_deref(),
            Ok("1"),
            "{REQUIRE}=1 but {reason}"
        );
        eprintln!("SKIPPED: {reason}");
        return;
    }
    let master = Master::start(MasterOptions {
        allocation_interval: Duration::from_millis(100),
        ..MasterOptions::default()
    })
    .await
    .expect("master starts");
    let agent = master_support::agent(master.addr(), "host1", "cpus:4;mem:4096").await;
    run_pymesos_framework(master.addr().to_string(), &agent).await;
    master.stop().await;
}

/// Runs `tests/python/pymesos_framework.py` against `master` (an address or a `zk://` URL)
/// and checks what it saw; `agent` is where its tasks ran.
async fn run_pymesos_framework(
    master: String,
    agent: &mesos_core::agent::simulated::SimulatedAgent,
) {
    let script = workspace().join("tests/python/pymesos_framework.py");
    let out = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(&script)
            .arg(master)
            .output()
            .expect("run pymesos_framework.py")
    })
    .await
    .unwrap();
    assert!(
        out.status.success(),
        "pymesos_framework.py failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: Value = serde_json::from_slice(&out.stdout).expect("JSON summary");
    let updates = summary["first_updates"].as_array().expect("updates");
    for task in ["t0", "t1", "t2"] {
        assert!(
            updates
                .iter()
                .any(|u| u["task"] == task && u["state"] == "TASK_RUNNING"),
            "{task} never ran: {updates:?}"
        );
    }
    assert!(updates
        .iter()
        .any(|u| u["task"] == "t0" && u["state"] == "TASK_KILLED"));
    assert_eq!(summary["reconciled"]["t1"], "TASK_RUNNING", "{summary}");
    assert_eq!(summary["reconciled"]["t2"], "TASK_RUNNING", "{summary}");
    assert!(summary["reconciled"].get("t0").is_none(), "{summary}");
    // The teardown at the end shut the framework down on the agent.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !agent.tasks().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "tasks left after teardown: {:?}",
            agent.tasks()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymesos_finds_our_leader_in_zookeeper() {
    if let Some(reason) = pymesos_missing() {
        assert_ne!(
            std::env::var(REQUIRE).as_deref(),
            Ok("1"),
            "{REQUIRE}=1 but {reason}"
        );
        eprintln!("SKIPPED: {reason}");
        return;
    }
    let Some(zk) = common::zookeeper::zookeeper_or_skip() else {
        return;
    };
    let url = mesos_core::ha::ZkUrl::parse(&zk.url("/mesos")).expect("url");
    let mut masters = Vec::new();
    for _ in 0..2 {
        let options = MasterOptions {
            allocation_interval: Duration::from_millis(100),
            zk: Some(url.clone()),
            zk_session_timeout: Duration::from_secs(4),
            ..MasterOptions::default()
        };
        masters.push(Master::start(options).await.expect("master starts"));
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let leader = loop {
        if let Some(leader) = masters.iter().find(|m| m.is_leading()) {
            break leader;
        }
        assert!(tokio::time::Instant::now() < deadline, "no leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let agent = master_support::agent(leader.addr(), "host1", "cpus:4;mem:4096").await;
    run_pymesos_framework(url.to_string(), &agent).await;
    for master in masters {
        master.stop().await;
    }
}
