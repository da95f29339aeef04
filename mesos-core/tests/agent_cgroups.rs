//! A real master and a real agent with the linux launcher and the cgroups isolators
//! (`cgroups/cpu,cgroups/mem,namespaces/pid,filesystem/linux`) run pymesos' executor: the
//! container's cgroups hold the task's limits, the executor is pid 1 of its own pid
//! namespace with a private /proc and its sandbox at /mnt/mesos/sandbox, an OOM kill is reported as Mesos does, and after a kill and the agent's
//! stop no process or cgroup of the container remains.
//!
//! Needs root with cgroups v1 (cpu, memory, freezer) and pymesos; otherwise each test prints
//! `SKIPPED: <why>` (failing instead, for pymesos, when `MESOS_REQUIRE_PYTHON_DEPS=1`).

#[allow(dead_code)]
mod agent_support;
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod master_support;

use std::time::Duration;

use agent_support::{
    accept, b64, eventually, kill_call, processes_with, pymesos_executor_command,
    task_with_executor, TestCluster,
};
use common::REQUIRE;
use master_support::{framework_info, scalars};
use mesos_core::agent::containerizer::cgroups::{Cgroups, CgroupsVersion, Controller};
use mesos_core::agent::containerizer::{ContainerizerConfig, LauncherKind};
use serde_json::json;

/// Each test's agent has its own cgroups root: an agent starting up destroys every
/// container under its root that it does not know (Mesos' orphan sweep), so agents of tests
/// running at the same time must not share one.
const NAMESPACE_TEST_ROOT: &str = "mesos_agent_test";
const OOM_TEST_ROOT: &str = "mesos_agent_test_oom";
const RESOURCES: &str = "cpus:2;mem:1024;disk:1024;ports:[31000-31100]";

/// The pymesos executor command and the host's v1 cgroups under `cgroups_root`, or why the
/// test cannot run.
fn requirements(cgroups_root: &str) -> Result<(String, Cgroups), String> {
    let command = match pymesos_executor_command() {
        Ok(c) => c,
        Err(reason) => {
            assert_ne!(std::env::var(REQUIRE).as_deref(), Ok("1"), "{reason}");
            return Err(reason);
        }
    };
    if !nix::unistd::Uid::effective().is_root() {
        return Err("not root".into());
    }
    let cgroups = Cgroups::detect(cgroups_root).map_err(|e| format!("no cgroups: {e}"))?;
    if cgroups.version() != CgroupsVersion::V1 {
        return Err("host cgroups are not v1".into());
    }
    for c in [Controller::Cpu, Controller::Memory, Controller::Freezer] {
        if !cgroups.has(c) {
            return Err(format!("cgroup controller {c} not mounted"));
        }
    }
    Ok((command, cgroups))
}

fn linux_isolation(cgroups_root: &str) -> ContainerizerConfig {
    ContainerizerConfig {
        isolation: "cgroups/cpu,cgroups/mem,namespaces/pid,filesystem/linux".into(),
        launcher: LauncherKind::Linux,
        cgroups_root: cgroups_root.into(),
        cgroups_enable_cfs: true,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_runs_in_its_cgroups_and_pid_namespace_and_leaves_nothing() {
    let (command, cgroups) = match requirements(NAMESPACE_TEST_ROOT) {
        Ok(r) => r,
        Err(why) => return println!("SKIPPED: {why}"),
    };
    let cluster = TestCluster::start(RESOURCES, |o| {
        o.containerizer = linux_isolation(NAMESPACE_TEST_ROOT)
    })
    .await;
    let mut scheduler = cluster.scheduler(framework_info("cg", "*", &[])).await;
    let offer = scheduler.offer().await;
    let mut task = task_with_executor(
        &offer,
        "t1",
        "cg-executor",
        &command,
        scalars("*", &[("cpus", 0.5), ("mem", 128.0)]),
    );
    task["data"] = json!(b64(
        "echo pid1=$(tr '\\0' ' ' < /proc/1/cmdline); echo sandbox=$MESOS_SANDBOX cwd=$(pwd); echo self=$$; sleep 1000"
    ));
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");

    let running = scheduler.next("UPDATE").await;
    assert_eq!(
        running["update"]["status"]["state"], "TASK_RUNNING",
        "{running}"
    );
    scheduler.acknowledge(&running).await;
    let container = running["update"]["status"]["container_status"]["container_id"]["value"]
        .as_str()
        .expect("container id")
        .to_string();

    // The limits are in the container's cgroups.
    let memory = cgroups.container(Controller::Memory, &container).unwrap();
    assert_eq!(memory.read_u64("memory.limit_in_bytes").unwrap(), 128 << 20);
    let cpu = cgroups.container(Controller::Cpu, &container).unwrap();
    assert_eq!(cpu.read_u64("cpu.shares").unwrap(), 512);
    assert_eq!(cpu.read_u64("cpu.cfs_quota_us").unwrap(), 50_000);
    assert!(!memory.procs().unwrap().is_empty());

    // The executor is pid 1 of the container's pid namespace, with a private /proc.
    let agent_id = offer["agent_id"]["value"].as_str().unwrap();
    let stdout = cluster
        .sandbox(agent_id, &scheduler.framework_id, "cg-executor")
        .join("stdout");
    assert!(
        eventually(Duration::from_secs(10), || std::fs::read_to_string(&stdout)
            .unwrap_or_default()
            .contains("self="))
        .await
    );
    let output = std::fs::read_to_string(&stdout).unwrap();
    let pid1 = output
        .lines()
        .find(|l| l.starts_with("pid1="))
        .unwrap_or_default();
    assert!(pid1.contains("pymesos_executor.py"), "{output}");
    // filesystem/linux: the sandbox is at /mnt/mesos/sandbox, the working directory.
    assert!(
        output.contains("sandbox=/mnt/mesos/sandbox cwd=/mnt/mesos/sandbox"),
        "{output}"
    );
    let own: u32 = output
        .lines()
        .find_map(|l| l.strip_prefix("self="))
        .and_then(|p| p.trim().parse().ok())
        .expect("the task's pid");
    assert!(
        own < 100,
        "the task's shell is pid {own}: not in a new pid namespace"
    );

    // A second task joining the executor raises the container's limits.
    let more = scheduler.offer().await;
    let mut second = task_with_executor(
        &more,
        "t2",
        "cg-executor",
        &command,
        scalars("*", &[("cpus", 0.5), ("mem", 64.0)]),
    );
    second["data"] = json!(b64("sleep 1000"));
    let (code, body) = scheduler.call(accept(&more, vec![second])).await;
    assert_eq!(code, 202, "{body}");
    let running = scheduler.next("UPDATE").await;
    assert_eq!(
        running["update"]["status"]["task_id"]["value"], "t2",
        "{running}"
    );
    assert_eq!(
        running["update"]["status"]["state"], "TASK_RUNNING",
        "{running}"
    );
    scheduler.acknowledge(&running).await;
    assert_eq!(memory.read_u64("memory.limit_in_bytes").unwrap(), 192 << 20);
    assert_eq!(cpu.read_u64("cpu.shares").unwrap(), 1024);
    assert_eq!(cpu.read_u64("cpu.cfs_quota_us").unwrap(), 100_000);

    let (code, body) = scheduler.call(kill_call("t1", &offer["agent_id"])).await;
    assert_eq!(code, 202, "{body}");
    let killed = scheduler.next("UPDATE").await;
    assert_eq!(
        killed["update"]["status"]["state"], "TASK_KILLED",
        "{killed}"
    );
    scheduler.acknowledge(&killed).await;

    cluster.stop().await;
    for controller in [Controller::Cpu, Controller::Memory, Controller::Freezer] {
        let dir = cgroups.container(controller, &container).unwrap();
        assert!(!dir.exists(), "{} outlived the agent", dir.path().display());
    }
    assert!(
        processes_with("sleep 1000").is_empty(),
        "the task outlived the agent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oom_kill_fails_the_task_with_the_memory_limitation() {
    let (command, cgroups) = match requirements(OOM_TEST_ROOT) {
        Ok(r) => r,
        Err(why) => return println!("SKIPPED: {why}"),
    };
    let cluster = TestCluster::start(RESOURCES, |o| {
        o.containerizer = linux_isolation(OOM_TEST_ROOT)
    })
    .await;
    let mut scheduler = cluster.scheduler(framework_info("oom", "*", &[])).await;
    let offer = scheduler.offer().await;
    let mut task = task_with_executor(
        &offer,
        "t1",
        "oom-executor",
        &command,
        scalars("*", &[("cpus", 0.5), ("mem", 64.0)]),
    );
    // The shell keeps 256 MiB of command output in memory: far over the 64 MiB limit.
    task["data"] = json!(b64(
        "x=$(head -c 268435456 /dev/zero | tr '\\000' a); echo survived ${#x}"
    ));
    let (code, body) = scheduler.call(accept(&offer, vec![task])).await;
    assert_eq!(code, 202, "{body}");

    let mut container = None;
    let failed = loop {
        let update = scheduler.next("UPDATE").await;
        scheduler.acknowledge(&update).await;
        let status = &update["update"]["status"];
        if let Some(id) = status["container_status"]["container_id"]["value"].as_str() {
            container = Some(id.to_string());
        }
        if status["state"] != "TASK_RUNNING" {
            break update;
        }
    };
    let status = &failed["update"]["status"];
    assert_eq!(status["state"], "TASK_FAILED", "{failed}");
    assert_eq!(
        status["reason"], "REASON_CONTAINER_LIMITATION_MEMORY",
        "{failed}"
    );
    assert_eq!(status["source"], "SOURCE_AGENT", "{failed}");

    cluster.stop().await;
    if let Some(container) = container {
        let dir = cgroups.container(Controller::Memory, &container).unwrap();
        assert!(!dir.exists(), "{} outlived the agent", dir.path().display());
    }
}
