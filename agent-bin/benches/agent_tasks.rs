//! The agent's speed and memory, measured on this machine with a real master (in this
//! process), the real `mesos-agent` binary and its `mesos-executor`, under
//! `cgroups/cpu,cgroups/mem,namespaces/pid` with the linux launcher:
//!
//! 1. idle agent RSS once registered;
//! 2. throughput: short tasks (`true`) launched in the agent's first offer, from ACCEPT to
//!    the last TASK_FINISHED; and the CPU time that cost per task, from ACCEPT until the
//!    tasks' resources are offered again (every container destroyed), for the agent
//!    process and for the processes in the containers (executors and tasks, from the
//!    cgroups root's CPU accounting). CPU time per task tells builds apart on a shared
//!    machine whose speed changes from one run to the next, where tasks/s cannot;
//! 3. task launch latency, ACCEPT to TASK_RUNNING at the scheduler, for `sleep 1000` tasks
//!    launched one at a time (p50, p99), then the agent's RSS with those tasks running.
//!
//! Run: `cargo bench -p agent-bin --bench agent_tasks` (needs root and cgroups v1 or v2;
//! prints why and exits otherwise). `AGENT_BENCH_TASKS` (default 100) and
//! `AGENT_BENCH_SHORT_TASKS` (default 200) size the phases; `AGENT_BENCH_ISOLATION=posix`
//! runs the same with the posix launcher and isolators, for comparison.
//!
//! The agent runs the static musl builds of its executors, as README.md advises for
//! agents: the bench builds them first (`cargo build --release --target
//! x86_64-unknown-linux-musl`), and when that target cannot be built it says why and runs
//! this build's glibc executors. `AGENT_BENCH_EXECUTORS=glibc` picks those.

#[allow(dead_code)]
#[path = "../../mesos-core/tests/agent_support/mod.rs"]
mod agent_support;
#[allow(dead_code)]
#[path = "../../mesos-core/tests/master_support/mod.rs"]
mod master_support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use agent_support::{accept, command_task, kill_call, master};
use master_support::{framework_info, scalars, TestScheduler};
use mesos_core::agent::containerizer::cgroups::{Cgroup, Cgroups, CgroupsVersion, Controller};
use mesos_core::agent::containerizer::procfs;
use serde_json::Value;

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The resident set size of process `pid`, in MiB.
fn rss_mib(pid: u32) -> f64 {
    match procfs::status_bytes(pid as i32, "VmRSS:") {
        Ok(Some(bytes)) => bytes as f64 / 1048576.0,
        _ => f64::NAN,
    }
}

/// A command task with a hundredth of a CPU and 32 MiB.
fn task(offer: &Value, task_id: &str, command: &str) -> Value {
    command_task(
        offer,
        task_id,
        command,
        scalars("*", &[("cpus", 0.01), ("mem", 32.0)]),
    )
}

/// `AGENT_BENCH_ISOLATION` (`cgroups`, the default, or `posix`) picks the agent's
/// isolation and launcher flags.
fn isolation_flags() -> [&'static str; 2] {
    match std::env::var("AGENT_BENCH_ISOLATION").as_deref() {
        Ok("posix") => ["--isolation=posix/cpu,posix/mem", "--launcher=posix"],
        _ => [
            "--isolation=cgroups/cpu,cgroups/mem,namespaces/pid",
            "--launcher=linux",
        ],
    }
}

/// The directory of the built-in executors the agent is to run (its `--launcher_dir`):
/// static musl builds unless `AGENT_BENCH_EXECUTORS=glibc` or they cannot be built, else
/// this build's, beside `mesos-agent`.
fn executors_dir() -> PathBuf {
    let agent = Path::new(env!("CARGO_BIN_EXE_mesos-agent"));
    let this_build = agent.parent().expect("the agent's directory").to_path_buf();
    if std::env::var("AGENT_BENCH_EXECUTORS").as_deref() == Ok("glibc") {
        println!("executors: glibc (AGENT_BENCH_EXECUTORS=glibc)");
        return this_build;
    }
    let target_dir = this_build.parent().expect("the target directory");
    const TARGET: &str = "x86_64-unknown-linux-musl";
    println!("executors: building the static ones for {TARGET} (minutes the first time)");
    let built = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["build", "--release", "--target", TARGET, "-p", "agent-bin"])
        .args(["--bin", "mesos-executor", "--bin", "mesos-default-executor"])
        .arg("--target-dir")
        .arg(target_dir)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(Stdio::null())
        .output();
    match built {
        Ok(out) if out.status.success() => {
            println!("executors: static ({TARGET})");
            target_dir.join(TARGET).join("release")
        }
        Ok(out) => {
            let stderr = String::from_utf8_lossy(&out.stderr);
            let lines: Vec<&str> = stderr.lines().collect();
            println!(
                "executors: glibc: the static ones did not build (see .cargo/config.toml): {}",
                lines[lines.len().saturating_sub(3)..].join(" / ")
            );
            this_build
        }
        Err(e) => {
            println!("executors: glibc: cargo cannot be run to build the static ones: {e}");
            this_build
        }
    }
}

fn start_agent(master: std::net::SocketAddr, work: &Path, executors: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_mesos-agent"))
        .arg(format!("--master={master}"))
        .arg(format!("--launcher_dir={}", executors.display()))
        .arg(format!("--work_dir={}", work.display()))
        .arg("--ip=127.0.0.1")
        .arg("--port=0")
        .arg("--hostname=localhost")
        .arg("--resources=cpus:100;mem:100000;disk:10000;ports:[31000-32000]")
        .args(isolation_flags())
        .arg("--cgroups_root=mesos_bench")
        .arg("--logging_level=WARNING")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("mesos-agent starts")
}

/// Acknowledges updates until `task` reaches `state`; the time it did.
async fn until(
    scheduler: &mut TestScheduler,
    states: &mut std::collections::HashMap<String, String>,
    task: &str,
    state: &str,
) -> Instant {
    loop {
        if states.get(task).map(String::as_str) == Some(state) {
            return Instant::now();
        }
        let update = scheduler.next("UPDATE").await;
        let status = &update["update"]["status"];
        let id = status["task_id"]["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let got = status["state"].as_str().unwrap_or_default().to_string();
        assert!(
            !matches!(
                got.as_str(),
                "TASK_FAILED" | "TASK_LOST" | "TASK_ERROR" | "TASK_DROPPED"
            ),
            "{update}"
        );
        scheduler.acknowledge(&update).await;
        states.insert(id, got);
    }
}

/// CPU time (user and system) used so far by process `pid`, in milliseconds.
fn process_cpu_ms(pid: u32) -> f64 {
    let ticks = procfs::read_stat(pid as i32)
        .ok()
        .flatten()
        .map_or(0, |stat| stat.utime + stat.stime);
    ticks as f64 * 1e3 / procfs::clock_ticks() as f64
}

/// CPU time used so far by every process in a container of the bench's cgroups, in
/// milliseconds (`None` when the cgroups do not account CPU). Before the agent's first
/// container on a fresh host the bench's cgroup does not exist yet: nothing used.
fn containers_cpu_ms(cgroups: &Cgroups) -> Option<f64> {
    type Usage = fn(&Cgroup) -> Option<f64>;
    let (controller, usage): (Controller, Usage) = match cgroups.version() {
        CgroupsVersion::V1 => (Controller::Cpuacct, |root| {
            let ns = root.read_u64("cpuacct.usage").ok()?;
            Some(ns as f64 / 1e6)
        }),
        CgroupsVersion::V2 => (Controller::Cpu, |root| {
            let us = *root.read_keyed("cpu.stat").ok()?.get("usage_usec")?;
            Some(us as f64 / 1e3)
        }),
    };
    let root = cgroups.root_cgroup(controller).ok()?;
    if !root.exists() {
        return Some(0.0);
    }
    usage(&root)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn main() {
    if !nix::unistd::Uid::effective().is_root() {
        println!("agent_tasks: SKIPPED: needs root for cgroups and namespaces");
        return;
    }
    let cgroups = match Cgroups::detect("mesos_bench") {
        Ok(cgroups) => cgroups,
        Err(e) => {
            println!("agent_tasks: SKIPPED: no cgroups: {e}");
            return;
        }
    };
    let long_tasks = env_number("AGENT_BENCH_TASKS", 100);
    let short_tasks = env_number("AGENT_BENCH_SHORT_TASKS", 200);
    let executors = executors_dir();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let master = master().await;
        let work = tempfile::tempdir().expect("work dir");
        let mut agent = start_agent(master.addr(), work.path(), &executors);
        let mut scheduler = TestScheduler::subscribe(master.addr(), framework_info("bench", "*", &[])).await;
        let mut offer = scheduler.offer().await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let idle = rss_mib(agent.id());
        println!("idle agent RSS: {idle:.1} MiB");

        let mut states = std::collections::HashMap::new();
        let tasks: Vec<Value> = (0..short_tasks)
            .map(|i| task(&offer, &format!("true-{i}"), "true"))
            .collect();
        let agent_cpu = process_cpu_ms(agent.id());
        let containers_cpu = containers_cpu_ms(&cgroups);
        let started = Instant::now();
        let (code, body) = scheduler.call(accept(&offer, tasks)).await;
        assert_eq!(code, 202, "{body}");
        for i in 0..short_tasks {
            until(&mut scheduler, &mut states, &format!("true-{i}"), "TASK_FINISHED").await;
        }
        let elapsed = started.elapsed();
        println!(
            "throughput: {short_tasks} short tasks in one offer launched and finished in {:.2} s: {:.1} tasks/s",
            elapsed.as_secs_f64(),
            short_tasks as f64 / elapsed.as_secs_f64()
        );
        offer = scheduler.offer().await;
        let per_task = |ms: f64| ms / short_tasks as f64;
        let agent_cpu = per_task(process_cpu_ms(agent.id()) - agent_cpu);
        match containers_cpu.zip(containers_cpu_ms(&cgroups)) {
            Some((before, after)) => println!(
                "CPU per short task: agent {agent_cpu:.2} ms, containers {:.2} ms",
                per_task(after - before)
            ),
            None => println!("CPU per short task: agent {agent_cpu:.2} ms (containers: not accounted)"),
        }
        let mut latencies = Vec::with_capacity(long_tasks);
        for i in 0..long_tasks {
            let id = format!("sleep-{i}");
            let started = Instant::now();
            let (code, body) = scheduler.call(accept(&offer, vec![task(&offer, &id, "sleep 1000")])).await;
            assert_eq!(code, 202, "{body}");
            let running = until(&mut scheduler, &mut states, &id, "TASK_RUNNING").await;
            latencies.push(running - started);
            offer = scheduler.offer().await;
        }
        latencies.sort();
        println!(
            "launch latency over {long_tasks} tasks: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            percentile(&latencies, 0.5).as_secs_f64() * 1e3,
            percentile(&latencies, 0.99).as_secs_f64() * 1e3,
            latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
        println!("agent RSS with {long_tasks} running tasks: {:.1} MiB", rss_mib(agent.id()));
        for i in 0..long_tasks {
            let id = format!("sleep-{i}");
            let (code, body) = scheduler.call(kill_call(&id, &offer["agent_id"])).await;
            assert_eq!(code, 202, "{body}");
        }
        for i in 0..long_tasks {
            until(&mut scheduler, &mut states, &format!("sleep-{i}"), "TASK_KILLED").await;
        }

        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(agent.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        );
        let _ = agent.wait();
        master.stop().await;
    });
}
