//! Command tasks (a CommandInfo, no ExecutorInfo) run under the built-in `mesos-executor`
//! on a real agent and master in this process: what the task sees, how its exit becomes
//! TASK_FINISHED or TASK_FAILED with Mesos' messages, kills with TASK_KILLING, a
//! command that cannot start, and nothing left behind. The environment check compares
//! with the names in `../shared/fixtures` (what Apache Mesos set) when that directory exists.

#[allow(dead_code)]
#[path = "../../mesos-core/tests/agent_support/mod.rs"]
mod agent_support;
#[allow(dead_code)]
#[path = "../../mesos-core/tests/master_support/mod.rs"]
mod master_support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use agent_support::{accept, command_task, eventually, kill_call, processes_with, TestCluster};
use master_support::{framework_info, scalars, TestScheduler};
use serde_json::{json, Value};

const RESOURCES: &str = "cpus:2;mem:1024;disk:1024;ports:[31000-31100]";

/// A command task with a quarter CPU and 64 MiB.
fn task(offer: &Value, task_id: &str, command: &str) -> Value {
    command_task(
        offer,
        task_id,
        command,
        scalars("*", &[("cpus", 0.25), ("mem", 64.0)]),
    )
}

/// Reads the task's updates until a terminal one, acknowledging each; their states and
/// the last status.
async fn run_to_end(scheduler: &mut TestScheduler, task_id: &str) -> (Vec<String>, Value) {
    let mut states = Vec::new();
    loop {
        let update = scheduler.next("UPDATE").await;
        let status = update["update"]["status"].clone();
        assert_eq!(status["task_id"]["value"], task_id, "{update}");
        scheduler.acknowledge(&update).await;
        let state = status["state"].as_str().unwrap_or_default().to_string();
        states.push(state.clone());
        if !matches!(
            state.as_str(),
            "TASK_STAGING" | "TASK_STARTING" | "TASK_RUNNING" | "TASK_KILLING"
        ) {
            return (states, status);
        }
    }
}

/// The built-in executor `name` these tests run: from `MESOS_TEST_EXECUTORS_DIR` when set
/// (scripts/test.sh runs them again with the static musl builds), else this build's.
fn builtin_executor(name: &str, this_build: &str) -> PathBuf {
    match std::env::var_os("MESOS_TEST_EXECUTORS_DIR") {
        Some(dir) => PathBuf::from(dir).join(name),
        None => PathBuf::from(this_build),
    }
}

fn executor_binary() -> PathBuf {
    builtin_executor("mesos-executor", env!("CARGO_BIN_EXE_mesos-executor"))
}

fn default_executor_binary() -> PathBuf {
    builtin_executor(
        "mesos-default-executor",
        env!("CARGO_BIN_EXE_mesos-default-executor"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_tasks_finish_fail_and_see_the_mesos_environment() {
    let cluster = TestCluster::start(RESOURCES, |o| o.command_executor = executor_binary()).await;
    let mut scheduler = cluster.scheduler(framework_info("cmd", "*", &[])).await;

    let offer = scheduler.offer().await;
    let (code, body) = scheduler
        .call(accept(
            &offer,
            vec![task(&offer, "env-dump", "env | sort; pwd")],
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    let (states, last) = run_to_end(&mut scheduler, "env-dump").await;
    assert_eq!(
        states,
        ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"],
        "{last}"
    );
    assert_eq!(last["message"], "Command exited with status 0", "{last}");
    assert_eq!(last["source"], "SOURCE_EXECUTOR", "{last}");

    // The task saw the variables a Mesos command task sees, and ran in its sandbox.
    let agent_id = offer["agent_id"]["value"].as_str().unwrap();
    let sandbox = cluster.sandbox(agent_id, &scheduler.framework_id, "env-dump");
    let stdout = std::fs::read_to_string(sandbox.join("stdout")).unwrap();
    let fixture = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/apache-mesos/agent/command_task_env_and_sandbox.txt"),
    );
    let names: Vec<String> = match &fixture {
        // A test that reads the shared fixtures: the names Apache Mesos set.
        Ok(text) => text
            .lines()
            .filter_map(|l| l.split_once('=').map(|(n, _)| n.to_string()))
            .filter(|n| n.starts_with("MESOS_") && !n.starts_with("MESOS_NATIVE"))
            .collect(),
        Err(_) => [
            "MESOS_AGENT_ENDPOINT",
            "MESOS_FRAMEWORK_ID",
            "MESOS_EXECUTOR_ID",
            "MESOS_SANDBOX",
        ]
        .map(String::from)
        .to_vec(),
    };
    for name in names {
        assert!(
            stdout.contains(&format!("{name}=")),
            "{name} missing:\n{stdout}"
        );
    }
    assert!(
        stdout.contains(&format!("MESOS_FRAMEWORK_ID={}", scheduler.framework_id)),
        "{stdout}"
    );
    let real = std::fs::canonicalize(&sandbox).unwrap();
    assert!(
        stdout.contains(&format!("\n{}\n", real.display())),
        "pwd is not the sandbox:\n{stdout}"
    );

    let offer = scheduler.offer().await;
    let (code, body) = scheduler
        .call(accept(&offer, vec![task(&offer, "fails", "exit 3")]))
        .await;
    assert_eq!(code, 202, "{body}");
    let (_, last) = run_to_end(&mut scheduler, "fails").await;
    assert_eq!(last["state"], "TASK_FAILED", "{last}");
    assert_eq!(last["message"], "Command exited with status 3", "{last}");

    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_a_command_task_reports_killing_then_killed_and_leaves_nothing() {
    let cluster = TestCluster::start(RESOURCES, |o| o.command_executor = executor_binary()).await;
    let info = framework_info("killer", "*", &["TASK_KILLING_STATE"]);
    let mut scheduler = cluster.scheduler(info).await;
    let offer = scheduler.offer().await;
    let marker = "sleep 1000.5";
    let mut task = task(&offer, "sleeper", &format!("trap '' TERM; {marker}"));
    task["kill_policy"] = json!({"grace_period": {"nanoseconds": 500_000_000}});
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    for expected in ["TASK_STARTING", "TASK_RUNNING"] {
        let update = scheduler.next("UPDATE").await;
        assert_eq!(update["update"]["status"]["state"], expected, "{update}");
        scheduler.acknowledge(&update).await;
    }
    let (code, body) = scheduler
        .call(kill_call("sleeper", &offer["agent_id"]))
        .await;
    assert_eq!(code, 202, "{body}");
    let (states, last) = run_to_end(&mut scheduler, "sleeper").await;
    assert_eq!(states, ["TASK_KILLING", "TASK_KILLED"], "{last}");
    assert!(
        eventually(Duration::from_secs(10), || processes_with(marker)
            .is_empty())
        .await,
        "the task outlived its kill"
    );
    // The command executor exits once its task is done; the agent reaps its container.
    let handle = cluster.agent.handle().clone();
    let mut gone = false;
    for _ in 0..100 {
        if handle
            .run(|s| s.frameworks.values().all(|f| f.executors.is_empty()))
            .await
            .unwrap()
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "the command executor did not end after its task");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_that_cannot_start_fails_its_task() {
    let cluster = TestCluster::start(RESOURCES, |o| o.command_executor = executor_binary()).await;
    let mut scheduler = cluster.scheduler(framework_info("bad", "*", &[])).await;
    let offer = scheduler.offer().await;
    let mut task = task(&offer, "nothing", "");
    task["command"] =
        json!({"shell": false, "value": "/nonexistent/program", "arguments": ["program"]});
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    let (_, last) = run_to_end(&mut scheduler, "nothing").await;
    assert_eq!(last["state"], "TASK_FAILED", "{last}");
    assert!(
        last["message"]
            .as_str()
            .unwrap_or_default()
            .contains("/nonexistent/program"),
        "{last}"
    );
    cluster.stop().await;
}

/// Forty command tasks in one offer, launched together: every one runs to TASK_FINISHED
/// once, in its own sandbox.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_tasks_in_one_offer_all_finish_in_their_own_sandboxes() {
    const TASKS: usize = 40;
    let cluster = TestCluster::start(RESOURCES, |o| o.command_executor = executor_binary()).await;
    let mut scheduler = cluster.scheduler(framework_info("burst", "*", &[])).await;
    let offer = scheduler.offer().await;
    let tasks = (0..TASKS)
        .map(|i| {
            command_task(
                &offer,
                &format!("burst-{i}"),
                &format!("echo burst {i}"),
                scalars("*", &[("cpus", 0.01), ("mem", 16.0)]),
            )
        })
        .collect();
    let (code, body) = scheduler.call(accept(&offer, tasks)).await;
    assert_eq!(code, 202, "{body}");
    let mut finished = std::collections::BTreeSet::new();
    while finished.len() < TASKS {
        let update = scheduler.next("UPDATE").await;
        let status = &update["update"]["status"];
        let state = status["state"].as_str().unwrap_or_default();
        assert!(
            matches!(state, "TASK_STARTING" | "TASK_RUNNING" | "TASK_FINISHED"),
            "{update}"
        );
        scheduler.acknowledge(&update).await;
        if state == "TASK_FINISHED" {
            let id = status["task_id"]["value"].as_str().unwrap_or_default();
            assert!(finished.insert(id.to_string()), "{id} finished twice");
        }
    }
    let agent_id = offer["agent_id"]["value"].as_str().expect("agent id");
    for i in 0..TASKS {
        let sandbox = cluster.sandbox(agent_id, &scheduler.framework_id, &format!("burst-{i}"));
        let stdout = std::fs::read_to_string(sandbox.join("stdout")).expect("stdout");
        assert!(stdout.contains(&format!("burst {i}\n")), "{i}: {stdout}");
    }
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sandboxes_are_removed_after_the_gc_delay() {
    let cluster = TestCluster::start(RESOURCES, |o| {
        o.command_executor = executor_binary();
        o.gc_delay = Duration::from_millis(500);
    })
    .await;
    let mut scheduler = cluster.scheduler(framework_info("gc", "*", &[])).await;
    let offer = scheduler.offer().await;
    let (code, body) = scheduler
        .call(accept(
            &offer,
            vec![task(&offer, "short", "echo short-lived")],
        ))
        .await;
    assert_eq!(code, 202, "{body}");
    let (_, last) = run_to_end(&mut scheduler, "short").await;
    assert_eq!(last["state"], "TASK_FINISHED", "{last}");
    let agent_id = offer["agent_id"]["value"].as_str().unwrap();
    let runs = cluster
        .sandbox(agent_id, &scheduler.framework_id, "short")
        .parent()
        .expect("runs directory")
        .to_path_buf();
    let sandboxes = || {
        std::fs::read_dir(&runs)
            .map(|entries| {
                entries
                    .flatten()
                    .filter(|e| e.file_name() != "latest")
                    .count()
            })
            .unwrap_or(0)
    };
    assert!(
        eventually(Duration::from_secs(20), || sandboxes() == 0).await,
        "the sandbox outlived --gc_delay: {}",
        runs.display()
    );
    // The removal is counted once the blocking removal reports back, just after the
    // directory is gone.
    let handle = cluster.agent.handle().clone();
    let mut waited = Duration::ZERO;
    loop {
        let metrics = handle.run(|s| s.metrics()).await.unwrap();
        if metrics["gc/path_removals_succeeded"] >= 1.0 {
            break;
        }
        assert!(
            waited < Duration::from_secs(10),
            "the removal was never counted: {metrics:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    cluster.stop().await;
}

/// A LAUNCH_GROUP of `tasks` (id, command) under a DEFAULT executor `executor_id`.
fn launch_group(offer: &Value, executor_id: &str, tasks: &[(&str, &str)]) -> Value {
    let tasks: Vec<Value> = tasks
        .iter()
        .map(|(id, command)| task(offer, id, command))
        .collect();
    json!({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH_GROUP", "launch_group": {
                "executor": {
                    "type": "DEFAULT",
                    "executor_id": {"value": executor_id},
                    "resources": scalars("*", &[("cpus", 0.1), ("mem", 32.0), ("disk", 10.0)])
                },
                "task_group": {"tasks": tasks}
            }}],
            "filters": {"refuse_seconds": 0.0}
        }
    })
}

/// Reads updates (acknowledging each) until every task in `ids` is terminal; their last
/// states.
async fn run_group_to_end(scheduler: &mut TestScheduler, ids: &[&str]) -> BTreeMap<String, String> {
    let mut last = BTreeMap::new();
    while ids.iter().any(|id| {
        !matches!(
            last.get(*id).map(String::as_str),
            Some("TASK_FINISHED" | "TASK_FAILED" | "TASK_KILLED" | "TASK_LOST" | "TASK_ERROR")
        )
    }) {
        let update = scheduler.next("UPDATE").await;
        let status = &update["update"]["status"];
        if status.get("uuid").is_some() {
            scheduler.acknowledge(&update).await;
        }
        assert_ne!(status["state"], "TASK_ERROR", "{update}");
        last.insert(
            status["task_id"]["value"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            status["state"].as_str().unwrap_or_default().to_string(),
        );
    }
    last
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_groups_run_under_the_default_executor_and_fail_together() {
    let cluster = TestCluster::start(RESOURCES, |o| {
        o.default_executor = default_executor_binary();
    })
    .await;
    let mut scheduler = cluster.scheduler(framework_info("groups", "*", &[])).await;

    let offer = scheduler.offer().await;
    let call = launch_group(
        &offer,
        "group-1",
        &[("one", "echo one"), ("two", "echo two")],
    );
    let (code, body) = scheduler.call(call).await;
    assert_eq!(code, 202, "{body}");
    let states = run_group_to_end(&mut scheduler, &["one", "two"]).await;
    assert_eq!(states["one"], "TASK_FINISHED", "{states:?}");
    assert_eq!(states["two"], "TASK_FINISHED", "{states:?}");

    // One task fails: the other task of its group is killed.
    let offer = scheduler.offer().await;
    let marker = "sleep 1000.25";
    let call = launch_group(
        &offer,
        "group-2",
        &[("fails", "sleep 1; exit 4"), ("waits", marker)],
    );
    let (code, body) = scheduler.call(call).await;
    assert_eq!(code, 202, "{body}");
    let states = run_group_to_end(&mut scheduler, &["fails", "waits"]).await;
    assert_eq!(states["fails"], "TASK_FAILED", "{states:?}");
    assert_eq!(states["waits"], "TASK_KILLED", "{states:?}");
    assert!(
        eventually(Duration::from_secs(10), || processes_with(marker)
            .is_empty())
        .await,
        "a task of the failed group survived"
    );
    cluster.stop().await;
}

/// With `--http_executor_domain_sockets` the executor reaches the agent through the Unix
/// socket alone: the TCP endpoint it is told (`MESOS_AGENT_ENDPOINT`) is a dead port here,
/// so the task runs and finishes only if the executor subscribed and sent its updates over
/// the socket. Stopping the agent removes the socket file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executors_reach_the_agent_through_its_domain_socket() {
    let run = tempfile::tempdir().unwrap();
    let socket = run.path().join("agent.sock");
    let dead_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let cluster = TestCluster::start(RESOURCES, |o| {
        o.command_executor = executor_binary();
        o.executor_domain_socket = Some(socket.clone());
        o.advertise = Some(dead_port);
    })
    .await;
    assert!(socket.exists(), "no socket at {}", socket.display());
    let mut scheduler = cluster.scheduler(framework_info("uds", "*", &[])).await;
    let offer = scheduler.offer().await;
    let command = "echo \"endpoint=$MESOS_AGENT_ENDPOINT socket=$MESOS_DOMAIN_SOCKET\"";
    let (code, body) = scheduler
        .call(accept(&offer, vec![task(&offer, "over-uds", command)]))
        .await;
    assert_eq!(code, 202, "{body}");
    let (states, last) = run_to_end(&mut scheduler, "over-uds").await;
    assert_eq!(
        states,
        ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"],
        "{last}"
    );
    let agent_id = offer["agent_id"]["value"].as_str().unwrap();
    let sandbox = cluster.sandbox(agent_id, &scheduler.framework_id, "over-uds");
    let stdout = std::fs::read_to_string(sandbox.join("stdout")).unwrap();
    let expected = format!("endpoint={dead_port} socket={}", socket.display());
    assert!(stdout.contains(&expected), "{stdout}");
    cluster.stop().await;
    assert!(!socket.exists(), "{} outlived the agent", socket.display());
}
