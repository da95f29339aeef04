//! The `test-executor` example, built on the callback `ExecutorDriver`, runs under a real
//! master and agent in this process: tasks finish, fail with their exit status and are
//! killed; a framework message goes to the executor and back to the scheduler.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[allow(dead_code)]
mod support;

use base64::Engine;
use mesos_core::agent::containerizer::{ContainerizerConfig, LauncherKind};
use mesos_core::agent::{Agent, AgentOptions, RecoverMode};
use mesos_core::master::{Master, MasterOptions};
use serde_json::{json, Value};
use support::Framework;

const TEST_EXECUTOR: &str = env!("CARGO_BIN_EXE_test-executor");

fn agent_options(master: SocketAddr, work_dir: &Path) -> AgentOptions {
    AgentOptions {
        master: master.to_string(),
        bind: "127.0.0.1:0".parse().expect("address"),
        advertise: None,
        hostname: "localhost".into(),
        work_dir: work_dir.to_path_buf(),
        resources: mesos_core::resources::parse_resources("cpus:2;mem:1024;disk:1024", "*")
            .expect("valid resources")
            .to_protos(),
        attributes: Vec::new(),
        domain: None,
        containerizer: ContainerizerConfig {
            isolation: "posix/cpu,posix/mem".into(),
            launcher: LauncherKind::Posix,
            ..Default::default()
        },
        // Only custom executors run here.
        command_executor: PathBuf::from("/nonexistent/mesos-executor"),
        default_executor: PathBuf::from("/nonexistent/mesos-default-executor"),
        executor_registration_timeout: Duration::from_secs(60),
        executor_reregistration_timeout: Duration::from_secs(10),
        executor_shutdown_grace_period: Duration::from_secs(2),
        recover: RecoverMode::Reconnect,
        recovery_timeout: Duration::from_secs(900),
        gc_delay: Duration::from_secs(7 * 86_400),
        registration_backoff_factor: Duration::from_millis(100),
        flags: Default::default(),
    }
}

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
    let master = Master::start(MasterOptions {
        allocation_interval: Duration::from_millis(100),
        ..Default::default()
    })
    .await
    .expect("master starts");
    let work = tempfile::tempdir().expect("work dir");
    let agent = Agent::start(agent_options(master.addr(), work.path()))
        .await
        .expect("agent starts");
    agent
        .registered(Duration::from_secs(20))
        .await
        .expect("agent registers");

    let mut framework = Framework::subscribe(&master.addr().to_string()).await;
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

    // Stopping the agent shuts the executor down: it exits.
    agent.stop().await;
    assert!(
        gone(TEST_EXECUTOR, Duration::from_secs(10)).await,
        "the executor outlived the agent"
    );
    master.stop().await;
}
