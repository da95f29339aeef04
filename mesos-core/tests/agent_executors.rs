//! A real master and a real agent in this process run custom executors: one that never
//! subscribes, one that cannot start, and pymesos' executor (PyPI, unmodified) running
//! tasks, relaying framework messages and handling kills. Nothing may be left running.
//!
//! The pymesos test needs `python3` with pymesos (`scripts/install-test-deps.sh`); without
//! it it prints `SKIPPED: <why>` and passes, unless `MESOS_REQUIRE_PYTHON_DEPS=1`.

#[allow(dead_code)]
mod agent_support;
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod master_support;

use std::time::Duration;

use agent_support::{
    accept, b64, eventually, kill_call, processes_with, pymesos_executor_command,
    task_with_executor, TestCluster, PYMESOS_EXECUTOR,
};
use common::REQUIRE;
use master_support::{framework_info, scalars};
use serde_json::json;

const RESOURCES: &str = "cpus:2;mem:1024;disk:1024;ports:[31000-31100]";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_that_never_subscribes_fails_its_task_and_is_killed() {
    let cluster = TestCluster::start(RESOURCES, |o| {
        o.executor_registration_timeout = Duration::from_secs(1)
    })
    .await;
    let mut scheduler = cluster.scheduler(framework_info("silent", "*", &[])).await;
    let offer = scheduler.offer().await;
    let marker = "4711.25";
    let task = task_with_executor(
        &offer,
        "t1",
        "e1",
        &format!("sleep {marker}"),
        scalars("*", &[("cpus", 0.5), ("mem", 64.0)]),
    );
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");

    let update = scheduler.next("UPDATE").await;
    let status = &update["update"]["status"];
    assert_eq!(status["state"], "TASK_FAILED", "{update}");
    assert_eq!(
        status["reason"], "REASON_EXECUTOR_REGISTRATION_TIMEOUT",
        "{update}"
    );
    assert_eq!(status["source"], "SOURCE_AGENT", "{update}");
    scheduler.acknowledge(&update).await;
    assert!(
        eventually(Duration::from_secs(10), || processes_with(marker)
            .is_empty())
        .await,
        "the executor outlived its container: {:?}",
        processes_with(marker)
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_that_dies_fails_its_task_with_its_exit_status() {
    let cluster = TestCluster::start(RESOURCES, |_| {}).await;
    let mut scheduler = cluster.scheduler(framework_info("dying", "*", &[])).await;
    let offer = scheduler.offer().await;
    let task = task_with_executor(
        &offer,
        "t1",
        "e1",
        "exit 3",
        scalars("*", &[("cpus", 0.5), ("mem", 64.0)]),
    );
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    let update = scheduler.next("UPDATE").await;
    let status = &update["update"]["status"];
    assert_eq!(status["state"], "TASK_FAILED", "{update}");
    assert_eq!(status["reason"], "REASON_EXECUTOR_TERMINATED", "{update}");
    assert_eq!(
        status["message"], "Executor exited with status 3",
        "{update}"
    );
    scheduler.acknowledge(&update).await;
    // The framework hears that its executor is gone.
    let failure = scheduler.next("FAILURE").await;
    assert_eq!(
        failure["failure"]["executor_id"]["value"], "e1",
        "{failure}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executor_that_cannot_start_fails_its_task_with_the_reason() {
    let cluster = TestCluster::start(RESOURCES, |_| {}).await;
    let mut scheduler = cluster.scheduler(framework_info("broken", "*", &[])).await;
    let offer = scheduler.offer().await;
    let mut task = task_with_executor(
        &offer,
        "t1",
        "e1",
        "",
        scalars("*", &[("cpus", 0.5), ("mem", 64.0)]),
    );
    task["executor"]["command"] = json!({"shell": false, "value": "/nonexistent/executor"});
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");

    let update = scheduler.next("UPDATE").await;
    let status = &update["update"]["status"];
    assert_eq!(status["state"], "TASK_FAILED", "{update}");
    assert_eq!(
        status["reason"], "REASON_CONTAINER_LAUNCH_FAILED",
        "{update}"
    );
    let message = status["message"].as_str().unwrap_or_default();
    assert!(message.contains("/nonexistent/executor"), "{message}");
    scheduler.acknowledge(&update).await;

    // A URI that cannot be fetched fails the launch the same way, naming the URI.
    let offer = scheduler.offer().await;
    let mut task = task_with_executor(
        &offer,
        "t2",
        "e2",
        "true",
        scalars("*", &[("cpus", 0.5), ("mem", 64.0)]),
    );
    task["executor"]["command"]["uris"] = json!([{"value": "/nonexistent/archive.tar.gz"}]);
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");
    let update = scheduler.next("UPDATE").await;
    let status = &update["update"]["status"];
    assert_eq!(status["state"], "TASK_FAILED", "{update}");
    assert_eq!(
        status["reason"], "REASON_CONTAINER_LAUNCH_FAILED",
        "{update}"
    );
    assert!(
        status["message"]
            .as_str()
            .unwrap_or_default()
            .contains("archive.tar.gz"),
        "{update}"
    );
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pymesos_executor_runs_tasks_messages_and_kills() {
    let command = match pymesos_executor_command() {
        Ok(command) => command,
        Err(reason) => {
            assert_ne!(std::env::var(REQUIRE).as_deref(), Ok("1"), "{reason}");
            println!("SKIPPED: {reason}");
            return;
        }
    };
    let cluster = TestCluster::start(RESOURCES, |_| {}).await;
    let mut scheduler = cluster.scheduler(framework_info("py", "*", &[])).await;

    let offer = scheduler.offer().await;
    let mut first = task_with_executor(
        &offer,
        "t1",
        "py-executor",
        &command,
        scalars("*", &[("cpus", 0.5), ("mem", 128.0)]),
    );
    first["data"] = json!(b64("sleep 1; echo hello-from-task"));
    let mut second = task_with_executor(
        &offer,
        "t2",
        "py-executor",
        &command,
        scalars("*", &[("cpus", 0.5), ("mem", 128.0)]),
    );
    second["data"] = json!(b64("sleep 1000"));
    let (code, body) = scheduler.call(accept(&offer, vec![first, second])).await;
    assert_eq!(code, 202, "{body}");

    let mut running = 0;
    while running < 2 {
        let update = scheduler.next("UPDATE").await;
        let status = &update["update"]["status"];
        assert_eq!(status["state"], "TASK_RUNNING", "{update}");
        assert_eq!(status["source"], "SOURCE_EXECUTOR", "{update}");
        assert_eq!(status["executor_id"]["value"], "py-executor", "{update}");
        assert!(
            status["container_status"]["container_id"]["value"].is_string(),
            "{update}"
        );
        scheduler.acknowledge(&update).await;
        running += 1;
    }

    let (code, body) = scheduler
        .call(json!({"type": "MESSAGE", "message": {
            "agent_id": offer["agent_id"],
            "executor_id": {"value": "py-executor"},
            "data": b64("ping")
        }}))
        .await;
    assert_eq!(code, 202, "{body}");
    let message = scheduler.next("MESSAGE").await;
    assert_eq!(
        message["message"]["data"],
        json!(b64("echo:ping")),
        "{message}"
    );

    let finished = scheduler.next("UPDATE").await;
    let status = &finished["update"]["status"];
    assert_eq!(status["task_id"]["value"], "t1", "{finished}");
    assert_eq!(status["state"], "TASK_FINISHED", "{finished}");
    scheduler.acknowledge(&finished).await;

    check_endpoints(cluster.agent.addr(), &scheduler.framework_id).await;

    let (code, body) = scheduler.call(kill_call("t2", &offer["agent_id"])).await;
    assert_eq!(code, 202, "{body}");
    let killed = scheduler.next("UPDATE").await;
    assert_eq!(
        killed["update"]["status"]["task_id"]["value"], "t2",
        "{killed}"
    );
    assert_eq!(
        killed["update"]["status"]["state"], "TASK_KILLED",
        "{killed}"
    );
    scheduler.acknowledge(&killed).await;

    let agent_id = offer["agent_id"]["value"].as_str().unwrap();
    let stdout = cluster
        .sandbox(agent_id, &scheduler.framework_id, "py-executor")
        .join("stdout");
    let output = std::fs::read_to_string(&stdout).unwrap_or_default();
    assert!(
        output.contains("hello-from-task"),
        "{}: {output}",
        stdout.display()
    );

    let TestCluster { master, agent, .. } = cluster;
    agent.stop().await;
    let script_text = PYMESOS_EXECUTOR;
    assert!(
        eventually(Duration::from_secs(10), || processes_with(script_text)
            .is_empty())
        .await,
        "the executor outlived the agent"
    );
    assert!(
        processes_with("sleep 1000").is_empty(),
        "the killed task's process outlived the agent"
    );
    master.stop().await;
}

/// With task t2 running under executor `py-executor`: the agent's endpoints and operator
/// API show it, in Mesos' shapes.
async fn check_endpoints(agent: std::net::SocketAddr, framework_id: &str) {
    let client = reqwest::Client::new();
    let get = |path: &str| {
        let request = client.get(format!("http://{agent}{path}"));
        async move {
            let response = request.send().await.expect("request");
            assert_eq!(response.status(), 200);
            let body = response.text().await.expect("body");
            serde_json::from_str::<serde_json::Value>(&body).expect("JSON")
        }
    };
    let state = get("/state").await;
    let framework = &state["frameworks"][0];
    assert_eq!(framework["id"], framework_id, "{state}");
    let executor = &framework["executors"][0];
    assert_eq!(executor["id"], "py-executor", "{state}");
    let running: Vec<&serde_json::Value> = executor["tasks"].as_array().unwrap().iter().collect();
    assert_eq!(running.len(), 1, "{state}");
    assert_eq!(running[0]["id"], "t2");
    assert_eq!(running[0]["state"], "TASK_RUNNING");
    assert_eq!(get("/slave(1)/state").await["id"], state["id"]);

    let sandbox = format!("/frameworks/{framework_id}/executors/py-executor/runs/latest");
    let listing = get(&format!("/files/browse?path={sandbox}")).await;
    let names: Vec<&str> = listing
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["path"].as_str())
        .collect();
    assert!(
        names.contains(&format!("{sandbox}/stdout").as_str()),
        "{listing}"
    );
    let read = get(&format!("/files/read?path={sandbox}/stdout&offset=0")).await;
    assert!(
        read["data"].as_str().unwrap().contains("hello-from-task"),
        "{read}"
    );

    let metrics = get("/metrics/snapshot").await;
    assert_eq!(metrics["slave/tasks_running"], 1.0, "{metrics}");
    assert_eq!(metrics["slave/tasks_finished"], 1.0, "{metrics}");
    assert_eq!(metrics["slave/executors_running"], 1.0, "{metrics}");
    assert_eq!(metrics["slave/registered"], 1.0, "{metrics}");
    assert_eq!(metrics["slave/cpus_total"], 2.0, "{metrics}");

    let statistics = get("/monitor/statistics").await;
    assert_eq!(statistics[0]["executor_id"], "py-executor", "{statistics}");
    assert!(
        statistics[0]["statistics"]["timestamp"].as_f64().unwrap() > 0.0,
        "{statistics}"
    );

    let call = |body: serde_json::Value| {
        let request = client
            .post(format!("http://{agent}/api/v1"))
            .header("content-type", "application/json")
            .header("accept", "application/json")
            .body(body.to_string());
        async move {
            let response = request.send().await.expect("request");
            let status = response.status().as_u16();
            (status, response.text().await.unwrap_or_default())
        }
    };
    let (code, body) = call(json!({"type": "GET_TASKS"})).await;
    assert_eq!(code, 200, "{body}");
    let tasks: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        tasks["get_tasks"]["launched_tasks"][0]["task_id"]["value"], "t2",
        "{tasks}"
    );
    assert_eq!(
        tasks["get_tasks"]["completed_tasks"][0]["task_id"]["value"], "t1",
        "{tasks}"
    );
    let (code, body) = call(json!({"type": "GET_CONTAINERS"})).await;
    assert_eq!(code, 200, "{body}");
    let containers: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        containers["get_containers"]["containers"][0]["executor_id"]["value"], "py-executor",
        "{containers}"
    );
    let (code, body) = call(json!({"type": "READ_FILE", "read_file": {"path": format!("{sandbox}/stdout"), "offset": 0}})).await;
    assert_eq!(code, 200, "{body}");
    let read: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(read["read_file"]["size"].as_u64().unwrap() > 0, "{read}");
    let (code, body) =
        call(json!({"type": "LIST_FILES", "list_files": {"path": "/no/such/dir"}})).await;
    assert_eq!(code, 404, "{body}");
    let (code, body) = call(json!({"type": "GET_AGENT"})).await;
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("\"hostname\":\"localhost\""), "{body}");
    let (code, body) = call(
        json!({"type": "KILL_CONTAINER", "kill_container": {"container_id": {"value": "no-such"}}}),
    )
    .await;
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("no-such"), "{body}");
    let (code, body) = call(json!({"type": "LAUNCH_NESTED_CONTAINER"})).await;
    assert_eq!(code, 400, "{body}");
}
