//! Shared by the agent's integration tests: a master and a real agent in this process,
//! options for them, and ways to look for leftover processes.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mesos_core::agent::containerizer::{ContainerizerConfig, LauncherKind};
use mesos_core::agent::{Agent, AgentOptions, RecoverMode};
use mesos_core::master::{Master, MasterOptions};
use serde_json::{json, Value};

/// Options for an agent of `master` working in `work_dir`, with `resources`, the posix
/// launcher and posix isolation, executors given `registration_timeout` to subscribe.
pub fn agent_options(master: SocketAddr, work_dir: &Path, resources: &str) -> AgentOptions {
    AgentOptions {
        master: master.to_string(),
        bind: "127.0.0.1:0".parse().expect("address"),
        advertise: None,
        hostname: "localhost".into(),
        work_dir: work_dir.to_path_buf(),
        resources: mesos_core::resources::parse_resources(resources, "*")
            .expect("valid resources")
            .to_protos(),
        attributes: Vec::new(),
        domain: None,
        executor_domain_socket: None,
        containerizer: ContainerizerConfig {
            isolation: "posix/cpu,posix/mem".into(),
            launcher: LauncherKind::Posix,
            ..Default::default()
        },
        command_executor: PathBuf::from("/nonexistent/mesos-executor"),
        default_executor: PathBuf::from("/nonexistent/mesos-default-executor"),
        executor_registration_timeout: Duration::from_secs(60),
        executor_reregistration_timeout: Duration::from_secs(10),
        executor_shutdown_grace_period: Duration::from_secs(2),
        recover: RecoverMode::Reconnect,
        reconfiguration_policy: Default::default(),
        recovery_timeout: Duration::from_secs(900),
        gc_delay: Duration::from_secs(7 * 86_400),
        // Sandboxes stay for these tests whatever the disk's fill: on a shared CI machine
        // the disk can be over 90% full, where the default headroom removes them at once.
        gc_disk_headroom: 0.0,
        registration_backoff_factor: Duration::from_millis(100),
        zk_session_timeout: Duration::from_secs(10),
        flags: Default::default(),
    }
}

/// A master on an ephemeral port with a short allocation interval.
pub async fn master() -> Master {
    Master::start(MasterOptions {
        allocation_interval: Duration::from_millis(100),
        ..Default::default()
    })
    .await
    .expect("master starts")
}

/// Starts `options`' agent and waits for it to register.
pub async fn agent(options: AgentOptions) -> Agent {
    let agent = Agent::start(options).await.expect("agent starts");
    agent
        .registered(Duration::from_secs(20))
        .await
        .expect("agent registers");
    agent
}

/// Pids of processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<i32> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() as i32 {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) {
            let text = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if text.contains(marker) {
                found.push(pid);
            }
        }
    }
    found
}

/// Waits up to `timeout` for `check` to hold.
pub async fn eventually(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if check() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A task for `offer` with a custom executor running `command` in a shell.
pub fn task_with_executor(
    offer: &Value,
    task_id: &str,
    executor_id: &str,
    command: &str,
    resources: Value,
) -> Value {
    json!({
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": offer["agent_id"],
        "resources": resources,
        "executor": {
            "executor_id": {"value": executor_id},
            "command": {"value": command}
        }
    })
}

/// An ACCEPT of `offer` launching `tasks`.
pub fn accept(offer: &Value, tasks: Vec<Value>) -> Value {
    json!({
        "type": "ACCEPT",
        "accept": {
            "offer_ids": [offer["id"]],
            "operations": [{"type": "LAUNCH", "launch": {"task_infos": tasks}}],
            "filters": {"refuse_seconds": 0.0}
        }
    })
}

/// The file name of the pymesos test executor (`tests/python/pymesos_executor.py`).
pub const PYMESOS_EXECUTOR: &str = "pymesos_executor.py";

/// The shell command running the pymesos test executor with the `python3` that has pymesos
/// (executors get Mesos' default `PATH`, not ours), or why it cannot run.
pub fn pymesos_executor_command() -> Result<String, String> {
    let out = std::process::Command::new("python3")
        .args(["-c", "import pymesos, sys; print(sys.executable)"])
        .output()
        .map_err(|e| format!("python3 cannot be run: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "python3 cannot import pymesos (run scripts/install-test-deps.sh): {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let python = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/python")
        .join(PYMESOS_EXECUTOR);
    Ok(format!("exec {python} {}", script.display()))
}

/// A master and one agent in this process, with the agent's work directory.
pub struct TestCluster {
    /// The master.
    pub master: Master,
    /// The agent, registered.
    pub agent: Agent,
    /// The agent's work directory.
    pub work: tempfile::TempDir,
    /// Kills what a panicking test left running of this cluster.
    _reaper: ExecutorReaper,
}

/// SIGKILLs, when dropped, every process whose environment names the work directory — the
/// executors of a cluster whose test panicked before stopping it, which would otherwise
/// outlive the test (pymesos' executor does not exit when its agent goes).
struct ExecutorReaper(PathBuf);

impl Drop for ExecutorReaper {
    fn drop(&mut self) {
        let needle = self.0.as_os_str().as_encoded_bytes();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return;
        };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
                continue;
            };
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            if environ.windows(needle.len()).any(|w| w == needle) {
                let pid = nix::unistd::Pid::from_raw(pid);
                let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
    }
}

impl TestCluster {
    /// Starts a master and an agent with `resources`, its options adjusted by `configure`.
    pub async fn start(resources: &str, configure: impl FnOnce(&mut AgentOptions)) -> TestCluster {
        let master = master().await;
        let work = tempfile::tempdir().expect("work dir");
        let mut options = agent_options(master.addr(), work.path(), resources);
        configure(&mut options);
        let agent = agent(options).await;
        TestCluster {
            master,
            agent,
            _reaper: ExecutorReaper(work.path().to_path_buf()),
            work,
        }
    }

    /// A scheduler subscribed with `framework_info`.
    pub async fn scheduler(&self, framework_info: Value) -> crate::master_support::TestScheduler {
        crate::master_support::TestScheduler::subscribe(self.master.addr(), framework_info).await
    }

    /// The latest run's sandbox of an executor.
    pub fn sandbox(&self, agent_id: &str, framework_id: &str, executor_id: &str) -> PathBuf {
        self.work
            .path()
            .join("slaves")
            .join(agent_id)
            .join("frameworks")
            .join(framework_id)
            .join("executors")
            .join(executor_id)
            .join("runs/latest")
    }

    /// Stops the agent (shutting its executors down), then the master.
    pub async fn stop(self) {
        self.agent.stop().await;
        self.master.stop().await;
    }
}

/// A scheduler KILL of `task_id` on the agent `agent_id` (JSON `{"value": ...}`).
pub fn kill_call(task_id: &str, agent_id: &Value) -> Value {
    json!({"type": "KILL", "kill": {"task_id": {"value": task_id}, "agent_id": agent_id}})
}

/// `text` in base64, as JSON carries bytes.
pub fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// A command task for `offer` running `command` with `resources` (JSON).
pub fn command_task(offer: &Value, task_id: &str, command: &str, resources: Value) -> Value {
    json!({
        "name": task_id,
        "task_id": {"value": task_id},
        "agent_id": offer["agent_id"],
        "resources": resources,
        "command": {"value": command}
    })
}
