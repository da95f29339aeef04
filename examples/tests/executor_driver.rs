//! The `test-executor` example, built on the callback `ExecutorDriver`, runs under a real
//! master and agent in this process: tasks finish, fail with their exit status and are
//! killed; a framework message goes to the executor and back to the scheduler.

use std::collections::BTreeMap;
use std::time::Duration;

#[allow(dead_code)]
mod support;

use base64::Engine;
use mesos_core::local::{LocalCluster, LocalOptions};
use serde_json::{json, Value};
use support::Framework;

const TEST_EXECUTOR: &str = env!("CARGO_BIN_EXE_test-executor");

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(data)
}

/// A task of the test executor `e1` running `command` (none when empty).
fn task(offer: &Value, id: &str, command: &str) -> Value {
    let mut task = json!({
        "name": id,
        "task_id": {"value": id},
        "agent_id": offer["agent_id"],
        "resources": [
            {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.2},
             "allocation_info": {"role": "*"}},
            {"name": "mem", "type": "SCALAR", "scalar": {"value": 32.0},
             "allocation_info": {"role": "*"}}
        ],
        "executor": {
            "executor_id": {"value": "e1"},
            "command": {"value": TEST_EXECUTOR, "shell": false}
        }
    });
    if !command.is_empty() {
        task["data"] = json!(b64(command.as_bytes()));
    }
    task
}

/// Pids of processes whose command line contains `marker`.
fn processes_with(marker: &str) -> Vec<u32> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|s| s.parse().ok()) else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmdline).contains(marker) {
                found.push(pid);
            }
        }
    }
    found
}

/// Waits up to `timeout` for no process to have `marker` in its command line.
async fn gone(marker: &str, timeout: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    while !processes_with(marker).is_empty() {
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn test_executor_runs_fails_kills_and_echoes() {
    let cluster = LocalCluster::start(LocalOptions {
        isolation: Some("posix/cpu,posix/mem".into()),
        launcher: Some("posix".into()),
        ..Default::default()
    })
    .await
    .expect("cluster starts");
    cluster
        .wait_for_agents(Duration::from_secs(20))
        .await
        .expect("agent registers");

    let mut framework = Framework::subscribe(&cluster.master_addr().to_string()).await;
    let offers = framework.next("OFFERS").await;
    let offer = offers["offers"]["offers"][0].clone();
    let sleep_marker = "sleep 100.4711";
    let tasks = vec![
        task(&offer, "ok", "exit 0"),
        task(&offer, "fail", "exit 3"),
        task(&offer, "empty", ""),
        task(&offer, "sleeper", sleep_marker),
    ];
    framework
        .call(json!({"type": "ACCEPT", "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
            "filters": {"refuse_seconds": 0.0}
        }}))
        .await;

    // Each task's states in order; the sleeper only gets to RUNNING.
    let mut states: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut messages: BTreeMap<String, String> = BTreeMap::new();
    for _ in 0..7 {
        let status = framework.update().await;
        assert_eq!(status["source"], "SOURCE_EXECUTOR", "{status}");
        assert_eq!(status["executor_id"]["value"], "e1", "{status}");
        assert_eq!(status["agent_id"], offer["agent_id"], "{status}");
        let task = status["task_id"]["value"].as_str().unwrap().to_string();
        let state = status["state"].as_str().unwrap().to_string();
        if let Some(message) = status["message"].as_str() {
            messages.insert(task.clone(), message.to_string());
        }
        states.entry(task).or_default().push(state);
    }
    let expected = |states: &[&str]| states.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(states["ok"], expected(&["TASK_RUNNING", "TASK_FINISHED"]));
    assert_eq!(states["fail"], expected(&["TASK_RUNNING", "TASK_FAILED"]));
    assert_eq!(
        states["empty"],
        expected(&["TASK_RUNNING", "TASK_FINISHED"])
    );
    assert_eq!(states["sleeper"], expected(&["TASK_RUNNING"]));
    assert_eq!(messages["fail"], "exited with status 3");

    // A framework message reaches the executor, which echoes it back.
    framework
        .call(json!({"type": "MESSAGE", "message": {
            "agent_id": offer["agent_id"],
            "executor_id": {"value": "e1"},
            "data": b64(b"ping \x00\xff")
        }}))
        .await;
    let message = framework.next("MESSAGE").await;
    assert_eq!(message["message"]["data"], json!(b64(b"ping \x00\xff")));
    assert_eq!(
        message["message"]["executor_id"]["value"], "e1",
        "{message}"
    );

    // A kill ends the sleeping task's process.
    framework
        .call(json!({"type": "KILL", "kill": {
            "task_id": {"value": "sleeper"}, "agent_id": offer["agent_id"]}}))
        .await;
    let killed = framework.update().await;
    assert_eq!(killed["task_id"]["value"], "sleeper", "{killed}");
    assert_eq!(killed["state"], "TASK_KILLED", "{killed}");
    assert!(
        gone(sleep_marker, Duration::from_secs(10)).await,
        "the task outlived its kill"
    );

    // Stopping the cluster's agent shuts the executor down: it exits.
    cluster.stop().await;
    assert!(
        gone(TEST_EXECUTOR, Duration::from_secs(10)).await,
        "the executor outlived the agent"
    );
}
