//! Agent recovery, for real: the `mesos-agent` binary runs command tasks of a checkpointing
//! framework and of one that does not checkpoint, is killed with SIGKILL and started again
//! on the same port and work directory. The checkpointed tasks keep running, the restarted
//! agent reconnects to their executors, and every update reaches the scheduler exactly once
//! and in order; the other framework's task is killed and reported lost, as in Mesos.
//! Reservations an operator made on the agent (CHECKPOINT_RESOURCES) survive the same
//! restart; a restart with more resources is refused unless `--reconfiguration_policy`
//! is `additive`, which keeps the reservations and adds the new resources. With
//! `--recover=cleanup` the agent destroys what its killed predecessor left and exits, and
//! its next start is a new agent. An executor that reaches the agent only through its
//! domain socket (`--http_executor_domain_sockets`) reconnects through it after the same kill.

#[allow(dead_code)]
#[path = "../../mesos-core/tests/agent_support/mod.rs"]
mod agent_support;
#[allow(dead_code)]
#[path = "../../mesos-core/tests/master_support/mod.rs"]
mod master_support;

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agent_support::{accept, command_task, eventually, master, processes_with};
use master_support::{framework_info, operator_call, scalars, TestScheduler};
use serde_json::{json, Value};

/// A port free now, for an agent that must come back on the same one.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A running `mesos-agent`; killed if the test ends without stopping it, and its log
/// printed if the test failed.
struct AgentProcess {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for AgentProcess {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            eprintln!("--- agent log ---\n{log}");
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl AgentProcess {
    /// SIGKILL: the agent gets no chance to clean anything up.
    fn kill_9(&mut self) {
        self.child.kill().expect("kill -9 the agent");
        self.child.wait().expect("reaped");
    }

    /// SIGTERM, then waits for the agent to exit; it must exit successfully.
    fn terminate(&mut self) {
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .expect("SIGTERM");
        let status = self.child.wait().expect("agent exits");
        assert!(status.success(), "{status}");
    }
}

/// How `agent` exited, which it must within 30 seconds.
fn exit_status(agent: &mut AgentProcess) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = agent.child.try_wait().expect("wait for the agent") {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the agent did not exit"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The resources the tests' agents are started with.
const RESOURCES: &str = "cpus:4;mem:2048;disk:1024;ports:[31000-31100]";

/// Starts `mesos-agent` for `master` on `port` in `work`, logging to `work/agent.log`.
fn start_agent(master: SocketAddr, work: &Path, port: u16) -> AgentProcess {
    start_agent_with(master, work, port, RESOURCES, &[])
}

/// [`start_agent`] with `resources` and `extra` flags.
fn start_agent_with(
    master: SocketAddr,
    work: &Path,
    port: u16,
    resources: &str,
    extra: &[&str],
) -> AgentProcess {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(work.join("agent.log"))
        .expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .arg(format!("--master={master}"))
        .arg(format!("--work_dir={}", work.join("agent").display()))
        .arg("--ip=127.0.0.1")
        .arg(format!("--port={port}"))
        .arg("--hostname=localhost")
        .arg(format!("--resources={resources}"))
        .arg("--isolation=posix/cpu,posix/mem")
        .arg("--launcher=posix")
        .arg("--executor_reregistration_timeout=15secs")
        .arg("--registration_backoff_factor=100ms")
        .args(extra)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("mesos-agent starts");
    AgentProcess {
        child,
        log: work.join("agent.log"),
    }
}

/// A command task with a quarter CPU and 32 MiB.
fn task(offer: &Value, task_id: &str, command: &str) -> Value {
    command_task(
        offer,
        task_id,
        command,
        scalars("*", &[("cpus", 0.25), ("mem", 32.0)]),
    )
}

/// Every update of one framework: its states per task, checked to come once each.
#[derive(Default)]
struct Updates {
    states: BTreeMap<String, Vec<String>>,
    uuids: HashSet<String>,
}

impl Updates {
    /// Waits for the next update, acknowledges it and records it; fails on a duplicate.
    async fn next(&mut self, scheduler: &mut TestScheduler) -> (String, String) {
        let update = scheduler.next("UPDATE").await;
        let status = &update["update"]["status"];
        let task = status["task_id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let state = status["state"].as_str().unwrap_or_default().to_string();
        if let Some(uuid) = status["uuid"].as_str() {
            assert!(
                self.uuids.insert(uuid.to_string()),
                "update delivered twice: {update}"
            );
            scheduler.acknowledge(&update).await;
        }
        let seen = self.states.entry(task.clone()).or_default();
        assert!(!seen.contains(&state), "{task} got {state} twice: {update}");
        seen.push(state.clone());
        (task, state)
    }
}

/// Launches the command task `task_id` on `offer` and reads its updates until it runs.
async fn launch_until_running(
    scheduler: &mut TestScheduler,
    offer: &Value,
    task_id: &str,
    command: &str,
) -> Updates {
    let (code, body) = scheduler
        .call(accept(offer, vec![task(offer, task_id, command)]))
        .await;
    assert_eq!(code, 202, "{body}");
    let mut updates = Updates::default();
    while updates.next(scheduler).await.1 != "TASK_RUNNING" {}
    updates
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checkpointed_tasks_survive_an_agent_kill_and_restart() {
    let master = master().await;
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut agent = start_agent(master.addr(), work.path(), port);

    let mut keeper_info = framework_info("keeper", "*", &[]);
    keeper_info["checkpoint"] = json!(true);
    let mut keeper = TestScheduler::subscribe(master.addr(), keeper_info).await;
    let offer = keeper.offer().await;
    let tasks: Vec<Value> = (0..3)
        .map(|i| task(&offer, &format!("kept-{i}"), "sleep 8; echo finished"))
        .collect();
    let (code, body) = keeper.call(accept(&offer, tasks)).await;
    assert_eq!(code, 202, "{body}");
    // The keeper wants nothing more: what is left goes to the other framework.
    let (code, body) = keeper
        .call(json!({"type": "SUPPRESS", "suppress": {}}))
        .await;
    assert_eq!(code, 202, "{body}");
    while let Some(offers) = keeper.next_within("OFFERS", Duration::from_secs(1)).await {
        let ids: Vec<Value> = offers["offers"]["offers"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|o| o["id"].clone())
            .collect();
        let (code, body) = keeper
            .call(json!({"type": "DECLINE", "decline": {"offer_ids": ids}}))
            .await;
        assert_eq!(code, 202, "{body}");
    }

    let mut forgetter =
        TestScheduler::subscribe(master.addr(), framework_info("forgetter", "*", &[])).await;
    let offer = forgetter.offer().await;
    let marker = "sleep 1000.75";
    let (code, body) = forgetter
        .call(accept(&offer, vec![task(&offer, "forgotten", marker)]))
        .await;
    assert_eq!(code, 202, "{body}");

    let mut kept = Updates::default();
    while kept
        .states
        .values()
        .filter(|s| s.contains(&"TASK_RUNNING".to_string()))
        .count()
        < 3
    {
        kept.next(&mut keeper).await;
    }
    let mut forgotten = Updates::default();
    while !forgotten
        .states
        .values()
        .any(|s| s.contains(&"TASK_RUNNING".to_string()))
    {
        forgotten.next(&mut forgetter).await;
    }

    // SIGKILL: no chance to clean up anything.
    agent.kill_9();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        processes_with("echo finished").len(),
        3,
        "the checkpointed tasks died with the agent"
    );
    let mut agent_again = start_agent(master.addr(), work.path(), port);

    // Every kept task finishes, each update once and in order.
    while kept
        .states
        .values()
        .filter(|s| s.last().map(String::as_str) == Some("TASK_FINISHED"))
        .count()
        < 3
    {
        kept.next(&mut keeper).await;
    }
    for (task, states) in &kept.states {
        assert_eq!(
            states,
            &["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"],
            "{task}"
        );
    }
    // The task of the framework that does not checkpoint is gone, and reported so.
    let (task, state) = forgotten.next(&mut forgetter).await;
    assert_eq!(task, "forgotten");
    assert!(
        matches!(state.as_str(), "TASK_LOST" | "TASK_FAILED" | "TASK_KILLED"),
        "{state}"
    );
    assert!(
        eventually(Duration::from_secs(10), || processes_with(marker)
            .is_empty())
        .await,
        "the task of a framework that does not checkpoint survived the agent restart"
    );

    // SIGTERM stops the agent cleanly: nothing of it remains.
    agent_again.terminate();
    let log = std::fs::read_to_string(work.path().join("agent.log")).unwrap_or_default();
    assert!(log.contains("recovered executor"), "{log}");
    master.stop().await;
}

/// The master's view of an agent once `ready` holds for it (GET_AGENTS, polled).
async fn agent_when(master: SocketAddr, ready: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, agents) = operator_call(master, json!({"type": "GET_AGENTS"})).await;
        let all = agents["get_agents"]["agents"].as_array();
        if let Some(agent) = all.into_iter().flatten().find(|a| ready(a)) {
            return agent.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the agent is not as expected: {agents}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Whether `agent` (GET_AGENTS) has `cpus` dynamically reserved to `role` in its total,
/// which the master writes in the pre-refinement format (`role` and `reservation`).
fn reserves_cpus_for(agent: &Value, role: &str) -> bool {
    let total = agent["total_resources"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    total
        .iter()
        .any(|r| r["name"] == "cpus" && r["role"] == role && r["reservation"].is_object())
}

/// The cpus in `agent`'s total (GET_AGENTS), reserved or not.
fn total_cpus(agent: &Value) -> f64 {
    agent["total_resources"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["name"] == "cpus")
        .filter_map(|r| r["scalar"]["value"].as_f64())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reservations_survive_a_restart_and_more_resources_need_the_additive_policy() {
    let master = master().await;
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut agent = start_agent(master.addr(), work.path(), port);
    let registered = agent_when(master.addr(), |a| a["active"] == true).await;
    let agent_id = registered["agent_info"]["id"]["value"].clone();

    let reserve = json!({"type": "RESERVE_RESOURCES", "reserve_resources": {
        "agent_id": {"value": agent_id},
        "resources": [{"name": "cpus", "type": "SCALAR", "scalar": {"value": 1.0},
            "reservations": [{"type": "DYNAMIC", "role": "ops", "principal": "ops-team"}]}]}});
    let (status, body) = operator_call(master.addr(), reserve).await;
    assert_eq!(status, 202, "{body}");
    let reserved = agent_when(master.addr(), |a| reserves_cpus_for(a, "ops")).await;
    assert!(!reserves_cpus_for(&reserved, "dev"), "{reserved}");
    let checkpoint = work
        .path()
        .join("agent/meta/slaves")
        .join(agent_id.as_str().unwrap())
        .join("resources.info");
    assert!(
        eventually(Duration::from_secs(10), || checkpoint.exists()).await,
        "the agent never checkpointed its resources at {}",
        checkpoint.display()
    );

    agent.kill_9();
    let mut again = start_agent(master.addr(), work.path(), port);
    // The master takes the total an agent re-registers with: the reservation is there only
    // if the agent kept it.
    let back = agent_when(master.addr(), |a| {
        a["active"] == true && a["reregistered_time"].is_object()
    })
    .await;
    assert_eq!(back["agent_info"]["id"]["value"], agent_id);
    assert!(reserves_cpus_for(&back, "ops"), "reservation lost: {back}");
    assert_eq!(total_cpus(&back), 4.0, "{back}");
    again.kill_9();

    // More cpus: refused under the default policy, as Mesos refuses them...
    let grown = "cpus:8;mem:2048;disk:1024;ports:[31000-31100]";
    let mut refused = start_agent_with(master.addr(), work.path(), port, grown, &[]);
    let status = exit_status(&mut refused);
    assert!(!status.success(), "{status}");
    let log = std::fs::read_to_string(work.path().join("agent.log")).unwrap_or_default();
    assert!(
        log.contains("--reconfiguration_policy=equal") && log.contains("resources changed"),
        "{log}"
    );
    // ...and taken under the additive one, with the reservation kept.
    let mut additive = start_agent_with(
        master.addr(),
        work.path(),
        port,
        grown,
        &["--reconfiguration_policy=additive"],
    );
    let grew = agent_when(master.addr(), |a| {
        a["active"] == true && total_cpus(a) == 8.0
    })
    .await;
    assert_eq!(grew["agent_info"]["id"]["value"], agent_id);
    assert!(reserves_cpus_for(&grew, "ops"), "reservation lost: {grew}");

    // The grown flags are now the agent's own: the default policy takes them back.
    additive.kill_9();
    let _same = start_agent_with(master.addr(), work.path(), port, grown, &[]);
    let kept = agent_when(master.addr(), |a| {
        a["active"] == true
            && a["reregistered_time"] != grew["reregistered_time"]
            && total_cpus(a) == 8.0
            && reserves_cpus_for(a, "ops")
    })
    .await;
    assert_eq!(kept["agent_info"]["id"]["value"], agent_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recover_cleanup_destroys_what_the_previous_run_left_and_forgets_its_id() {
    let master = master().await;
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut agent = start_agent(master.addr(), work.path(), port);
    let mut info = framework_info("keeper", "*", &[]);
    info["checkpoint"] = json!(true);
    let mut keeper = TestScheduler::subscribe(master.addr(), info).await;
    let offer = keeper.offer().await;
    let old_id = offer["agent_id"]["value"].clone();
    let marker = format!("sleep 1000.{}", std::process::id());
    let marker = marker.as_str();
    launch_until_running(&mut keeper, &offer, "left", marker).await;
    agent.kill_9();
    assert!(
        eventually(Duration::from_secs(10), || !processes_with(marker)
            .is_empty())
        .await,
        "the checkpointed task died with the agent"
    );

    let mut cleanup = start_agent_with(
        master.addr(),
        work.path(),
        port,
        RESOURCES,
        &["--recover=cleanup"],
    );
    let status = exit_status(&mut cleanup);
    assert!(status.success(), "{status}");
    assert!(
        eventually(Duration::from_secs(5), || processes_with(marker).is_empty()).await,
        "the task outlived the cleanup"
    );
    assert!(!work.path().join("agent/meta/slaves/latest").exists());

    // The next start is a new agent.
    let _fresh = start_agent(master.addr(), work.path(), port);
    let fresh = agent_when(master.addr(), |a| {
        a["active"] == true && a["agent_info"]["id"]["value"] != old_id
    })
    .await;
    assert_eq!(fresh["reregistered_time"], Value::Null, "{fresh}");
}

/// A checkpointed executor that reaches the agent only through its domain socket (its TCP
/// endpoint is a dead port) survives a kill -9 of the agent: the restarted agent replaces
/// the socket file its predecessor left, the executor subscribes again through it, and
/// the task's updates each reach the scheduler once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn executors_reconnect_through_the_domain_socket_after_an_agent_kill() {
    let master = master().await;
    let work = tempfile::tempdir().unwrap();
    let port = free_port();
    let socket = work.path().join("run").join("agent.sock");
    let dead_port = free_port().to_string();
    let location = format!("--domain_socket_location={}", socket.display());
    let flags = [
        "--http_executor_domain_sockets",
        location.as_str(),
        "--advertise_ip=127.0.0.1",
        &format!("--advertise_port={dead_port}"),
    ];
    let mut agent = start_agent_with(master.addr(), work.path(), port, RESOURCES, &flags);

    let mut info = framework_info("socket-keeper", "*", &[]);
    info["checkpoint"] = json!(true);
    let mut scheduler = TestScheduler::subscribe(master.addr(), info).await;
    let offer = scheduler.offer().await;
    let mut updates =
        launch_until_running(&mut scheduler, &offer, "over-socket", "sleep 4; echo done").await;

    // The acknowledgement reaches the agent after the master took it; an agent killed
    // before then sends TASK_RUNNING again after its restart, as Mesos' agent does.
    tokio::time::sleep(Duration::from_secs(1)).await;
    agent.kill_9();
    assert!(socket.exists(), "the killed agent's socket file is gone");
    let mut agent_again = start_agent_with(master.addr(), work.path(), port, RESOURCES, &flags);

    while updates.next(&mut scheduler).await.1 != "TASK_FINISHED" {}
    assert_eq!(
        updates.states["over-socket"],
        ["TASK_STARTING", "TASK_RUNNING", "TASK_FINISHED"]
    );
    agent_again.terminate();
    assert!(!socket.exists(), "the socket file outlived the agent");
    let log = std::fs::read_to_string(work.path().join("agent.log")).unwrap_or_default();
    assert!(log.contains("recovered executor"), "{log}");
    master.stop().await;
}
