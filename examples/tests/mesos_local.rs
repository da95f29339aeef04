//! The `mesos-local` binary end to end: a cluster of two agents that a v1 scheduler runs
//! command tasks on (through the binary's own multi-call executor), and that SIGINT stops
//! leaving no process and no directory behind.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

#[allow(dead_code)]
mod support;

use serde_json::Value;
use support::{Framework, EVENT_TIMEOUT};
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// A running `mesos-local` and the `Name: value` lines it printed.
struct Local {
    child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    printed: BTreeMap<String, String>,
}

impl Local {
    /// Starts `mesos-local` with `args` and reads its lines up to `until`.
    async fn start(args: &[&str], until: &str) -> Local {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("mesos-local starts");
        let lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut local = Local {
            child,
            lines,
            printed: BTreeMap::new(),
        };
        local.read_until(until).await;
        local
    }

    async fn read_until(&mut self, name: &str) {
        let read = async {
            while let Some(line) = self.lines.next_line().await.expect("stdout readable") {
                if let Some((key, value)) = line.split_once(": ") {
                    self.printed.insert(key.to_string(), value.to_string());
                    if key == name {
                        return;
                    }
                }
            }
            panic!(
                "mesos-local ended before printing {name}: {:?}",
                self.printed
            );
        };
        tokio::time::timeout(EVENT_TIMEOUT, read)
            .await
            .unwrap_or_else(|_| panic!("no {name} line in time: {:?}", self.printed));
    }

    fn get(&self, name: &str) -> &str {
        self.printed
            .get(name)
            .unwrap_or_else(|| panic!("{name} was printed"))
    }
}

/// The pids of processes whose command line or environment mentions `dir`.
fn processes_mentioning(dir: &Path) -> Vec<i32> {
    let needle = dir.as_os_str().as_encoded_bytes();
    let mentions = |data: &[u8]| data.windows(needle.len()).any(|w| w == needle);
    let mut pids = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let read = |file: &str| std::fs::read(entry.path().join(file)).unwrap_or_default();
        if mentions(&read("cmdline")) || mentions(&read("environ")) {
            pids.push(pid);
        }
    }
    pids
}

/// Starts `mesos-local --num_agents=2` with `extra` flags, runs a task to TASK_FINISHED on
/// one agent and leaves one running on the other, then SIGINTs it: it must exit 0 leaving
/// no process, no cgroup of its containers and no temporary directory.
async fn run_tasks_then_interrupt(extra: &[&str]) {
    let mut args = vec!["--num_agents=2", "--port=0"];
    args.extend_from_slice(extra);
    let mut local = Local::start(&args, "Agents registered").await;
    assert_eq!(local.get("Agents registered"), "2");
    let master = local.get("Master").to_string();
    let work_dir = PathBuf::from(local.get("Work directory"));
    assert!(work_dir.join("bin/mesos-executor").exists());
    assert!(local.printed.contains_key("Agent 1"));

    let state = reqwest::get(format!("{master}/master/state"))
        .await
        .expect("state request")
        .text()
        .await
        .expect("state body");
    let state: Value = serde_json::from_str(&state).expect("state is JSON");
    assert_eq!(state["activated_slaves"], 2.0, "{state}");
    assert_eq!(state["slaves"].as_array().map(Vec::len), Some(2));

    let mut scheduler = Framework::subscribe(master.trim_start_matches("http://")).await;
    let offers = scheduler.next("OFFERS").await;
    let offers = offers["offers"]["offers"]
        .as_array()
        .expect("offers")
        .clone();
    let mut offers = offers.into_iter();
    let first = offers.next().expect("an offer");
    scheduler.launch(&first, "finishes", "echo hello").await;
    scheduler.await_state("finishes", "TASK_FINISHED").await;

    // A task that never ends on the other agent: stopping must kill its executor.
    let second = match offers.next() {
        Some(offer) => offer,
        None => scheduler.next("OFFERS").await["offers"]["offers"][0].clone(),
    };
    scheduler.launch(&second, "sleeps", "sleep 1000").await;
    scheduler.await_state("sleeps", "TASK_RUNNING").await;
    let running = processes_mentioning(&work_dir);
    assert!(
        !running.is_empty(),
        "the sleeping task's executor is found by its environment"
    );
    let cgroups: Vec<PathBuf> = running.iter().flat_map(|&pid| local_cgroups(pid)).collect();
    for cgroup in &cgroups {
        assert!(cgroup.is_dir(), "{} exists", cgroup.display());
    }

    let pid = nix::unistd::Pid::from_raw(local.child.id().expect("running") as i32);
    let stopping = Instant::now();
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let status = tokio::time::timeout(Duration::from_secs(15), local.child.wait())
        .await
        .expect("mesos-local exits in time")
        .expect("wait");
    println!(
        "mesos-local {extra:?} stopped in {:?}; its containers had {} cgroups",
        stopping.elapsed(),
        cgroups.len()
    );
    assert!(status.success(), "{status}");
    assert_eq!(processes_mentioning(&work_dir), Vec::<i32>::new());
    let left: Vec<&PathBuf> = cgroups.iter().filter(|c| c.exists()).collect();
    assert!(left.is_empty(), "cgroups left: {left:?}");
    assert!(!work_dir.exists(), "{} was removed", work_dir.display());
}

/// The cgroups of process `pid` under a mesos-local agent's cgroups root, and those roots.
fn local_cgroups(pid: i32) -> Vec<PathBuf> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default();
    let mut found = Vec::new();
    for line in text.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        if !path.starts_with("/mesos-local-") {
            continue;
        }
        let hierarchy = Path::new("/sys/fs/cgroup").join(controllers.trim_start_matches("name="));
        let cgroup = hierarchy.join(path.trim_start_matches('/'));
        found.extend(cgroup.parent().map(Path::to_path_buf));
        found.push(cgroup);
    }
    found
}

/// With the agents' default isolation and launcher (the linux launcher when run as root).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_agents_run_command_tasks_and_sigint_leaves_nothing_behind() {
    run_tasks_then_interrupt(&[]).await;
}

/// With what works without root: posix isolators and launcher.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn posix_agents_run_command_tasks_and_sigint_leaves_nothing_behind() {
    run_tasks_then_interrupt(&["--isolation=posix/cpu,posix/mem", "--launcher=posix"]).await;
}

#[tokio::test]
async fn a_kept_work_dir_holds_master_and_agent_directories() {
    let dir = std::env::temp_dir().join(format!("mesos-local-kept-{}", std::process::id()));
    let flag = format!("--work_dir={}", dir.display());
    let mut local = Local::start(&["--num_agents=1", "--port=0", &flag], "Agents registered").await;
    assert_eq!(local.get("Work directory"), dir.display().to_string());
    let pid = nix::unistd::Pid::from_raw(local.child.id().expect("running") as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).expect("SIGTERM");
    let status = local.child.wait().await.expect("wait");
    assert!(status.success(), "{status}");
    assert!(dir.join("master").is_dir());
    assert!(dir.join("agents/0").is_dir());
    std::fs::remove_dir_all(&dir).expect("remove the kept directory");
}

#[test]
fn a_bad_flag_fails_with_the_reason() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .arg("--num_agents=abc")
        .output()
        .expect("mesos-local runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("--num_agents"), "{stderr}");
    assert!(stderr.contains("'abc'"), "{stderr}");
}

#[test]
fn bad_agent_resources_fail_before_serving() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args(["--port=0", "--resources=cpus:lots"])
        .output()
        .expect("mesos-local runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("invalid agent settings"), "{stderr}");
    assert!(output.stdout.is_empty(), "nothing was served");
}

/// The first of `count` consecutive ports free on 127.0.0.1, below the kernel's ephemeral
/// range (32768 and up by default): a port the kernel hands out for a concurrent test's
/// connection or port-0 listener, as the one after an ephemeral port can be, is never one
/// of them.
fn consecutive_free_ports(count: u16) -> u16 {
    (20_000..32_000)
        .step_by(usize::from(count))
        .find(|&first| {
            (first..first + count)
                .all(|port| std::net::TcpListener::bind(("127.0.0.1", port)).is_ok())
        })
        .expect("consecutive free ports below the ephemeral range")
}

/// The library type on its own: agents on consecutive ports, all registered, and the
/// temporary directory gone after stop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_cluster_registers_its_agents_and_stop_removes_its_directory() {
    use mesos_core::local::{LocalCluster, LocalOptions};
    let free_port = consecutive_free_ports(3);
    let cluster = LocalCluster::start(LocalOptions {
        num_agents: 3,
        agent_port: free_port,
        isolation: Some("posix/cpu,posix/mem".into()),
        launcher: Some("posix".into()),
        ..LocalOptions::default()
    })
    .await
    .expect("the cluster starts");
    let ports: Vec<u16> = cluster.agent_addrs().iter().map(|a| a.port()).collect();
    assert_eq!(ports, [free_port, free_port + 1, free_port + 2]);
    cluster
        .wait_for_agents(EVENT_TIMEOUT)
        .await
        .expect("all agents register");
    let work_dir = cluster.work_dir().to_path_buf();
    assert!(work_dir.join("agents/2").is_dir());
    cluster.stop().await;
    assert!(!work_dir.exists());
}
