//! `mesos-execute`, the Rust test framework (with the Rust test executor), the service
//! framework and `mesos-local --demo`, run as the real programs against a real
//! `mesos-local` cluster process: tasks finish, a failing command reports FAILED with its
//! exit status, a killed task KILLED, a task group runs under the default executor, a
//! service replaces a killed instance and scales on HTTP calls and signals.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// A running `mesos-local` with two agents; SIGINT and reaped when dropped.
struct Cluster {
    child: Child,
    master: String,
}

impl Cluster {
    fn start() -> Cluster {
        let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
            .args(["--num_agents=2", "--port=0", "--logging_level=WARNING"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("mesos-local starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut master = None;
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("stdout readable");
            if let Some(url) = line.strip_prefix("Master: http://") {
                master = Some(url.to_string());
            }
            if line.starts_with("Agents registered: ") {
                break;
            }
        }
        Cluster {
            child,
            master: master.expect("mesos-local printed its master"),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT);
        let _ = self.child.wait();
    }
}

/// Runs `program` with `args`, killing it if it takes longer than a minute.
fn run(program: &str, args: &[String]) -> Output {
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("program starts");
    let pid = child.id() as i32;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        if rx.recv_timeout(Duration::from_secs(60)).is_err() {
            let pid = nix::unistd::Pid::from_raw(pid);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
        }
    });
    let output = child.wait_with_output().expect("program ends");
    let _ = tx.send(());
    output
}

fn execute(cluster: &Cluster, args: &[&str]) -> (bool, String, String) {
    let mut all = vec![format!("--master={}", cluster.master)];
    all.extend(args.iter().map(|a| a.to_string()));
    let output = run(env!("CARGO_BIN_EXE_mesos-execute"), &all);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn mesos_execute_reports_finished_failed_and_killed_tasks() {
    let cluster = Cluster::start();

    let (ok, out, err) = execute(&cluster, &["--name=hello", "--command=echo hello"]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("Subscribed with ID"), "{out}");
    assert!(out.contains("Submitted task 'hello' to agent"), "{out}");
    assert!(
        out.contains("Received status update TASK_RUNNING for task 'hello'"),
        "{out}"
    );
    assert!(
        out.contains("Received status update TASK_FINISHED for task 'hello'"),
        "{out}"
    );

    let (ok, out, err) = execute(
        &cluster,
        &["--name=broken", "--command=exit 3", "--content_type=json"],
    );
    assert!(!ok, "a failed command exits non-zero: {out}");
    assert!(
        out.contains("Received status update TASK_FAILED for task 'broken'"),
        "{out}"
    );
    assert!(out.contains("exited with status 3"), "{out}");
    assert!(
        err.contains("task 'broken' ended in TASK_FAILED") && err.contains("status 3"),
        "{err}"
    );

    let (ok, out, err) = execute(
        &cluster,
        &[
            "--name=sleeper",
            "--command=sleep 100",
            "--kill_after=1secs",
        ],
    );
    assert!(!ok, "a killed task exits non-zero: {out}");
    assert!(
        out.contains("Received status update TASK_KILLED for task 'sleeper'"),
        "{out}"
    );
    assert!(err.contains("TASK_KILLED"), "{err}");
}

#[test]
fn mesos_execute_runs_a_task_group_under_the_default_executor() {
    let cluster = Cluster::start();
    let dir = tempfile::tempdir().expect("dir");
    let group = dir.path().join("group.json");
    let task = |id: &str, command: &str| {
        serde_json::json!({
            "name": id, "task_id": {"value": id}, "agent_id": {"value": ""},
            "resources": [
                {"name": "cpus", "type": "SCALAR", "scalar": {"value": 0.1}},
                {"name": "mem", "type": "SCALAR", "scalar": {"value": 32}}
            ],
            "command": {"value": command}
        })
    };
    let json = serde_json::json!({"tasks": [task("first", "true"), task("second", "sleep 0.2")]});
    std::fs::write(&group, json.to_string()).expect("group file");
    let flag = format!("--task_group=file://{}", group.display());
    let (ok, out, err) = execute(&cluster, &[&flag]);
    assert!(ok, "{out}\n{err}");
    assert!(
        out.contains("Submitted task group with tasks [ first, second ]"),
        "{out}"
    );
    for id in ["first", "second"] {
        assert!(
            out.contains(&format!(
                "Received status update TASK_FINISHED for task '{id}'"
            )),
            "{out}"
        );
    }
}

#[test]
fn mesos_execute_refuses_bad_flags_with_the_reason() {
    let output = run(
        env!("CARGO_BIN_EXE_mesos-execute"),
        &["--master=127.0.0.1:1".to_string()],
    );
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("either --command or --task_group"), "{err}");
}

#[test]
fn the_test_framework_runs_its_tasks_through_the_rust_executor() {
    let cluster = Cluster::start();
    let output = run(
        env!("CARGO_BIN_EXE_test-framework"),
        &[
            format!("--master={}", cluster.master),
            "--num_tasks=6".into(),
            format!("--executor={}", env!("CARGO_BIN_EXE_test-executor")),
            "--command=test {} -ge 0".into(),
        ],
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("All 6 tasks finished"), "{out}");
    assert_eq!(out.matches("is in state TASK_FINISHED").count(), 6, "{out}");

    let output = run(
        env!("CARGO_BIN_EXE_test-framework"),
        &[
            format!("--master={}", cluster.master),
            "--num_tasks=2".into(),
            format!("--executor={}", env!("CARGO_BIN_EXE_test-executor")),
            "--command=exit {}".into(),
        ],
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "a failing task aborts the run: {out}"
    );
    assert!(
        out.contains("Aborting because task 1 is in unexpected state TASK_FAILED"),
        "{out}"
    );
}

#[test]
fn mesos_local_demo_runs_its_framework_and_exits() {
    let output = run(
        env!("CARGO_BIN_EXE_mesos-local"),
        &[
            "--demo".into(),
            "--num_agents=2".into(),
            "--port=0".into(),
            "--logging_level=WARNING".into(),
        ],
    );
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{out}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(out.contains("Demo: all 5 tasks finished"), "{out}");
}

/// The pids of processes whose command line is exactly `argv`.
fn processes_running(argv: &[&str]) -> Vec<i32> {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc")
        .expect("/proc")
        .filter_map(|entry| {
            let pid: i32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            (cmdline == wanted).then_some(pid)
        })
        .collect()
}

/// A running `service-framework`; its output is collected in the background.
struct ServiceProcess {
    child: Child,
    api: String,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl ServiceProcess {
    fn start(cluster: &Cluster, command: &str) -> ServiceProcess {
        let mut child = Command::new(env!("CARGO_BIN_EXE_service-framework"))
            .args([
                format!("--master={}", cluster.master),
                "--name=web".into(),
                "--instances=2".into(),
                format!("--command={command}"),
                "--http_port=0".into(),
            ])
            .stdout(Stdio::piped())
            .spawn()
            .expect("service-framework starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let api = lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|line| line.strip_prefix("Service API: ").map(str::to_string))
            .expect("service-framework printed its API address");
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let sink = output.clone();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                let mut out = sink.lock().unwrap();
                out.push_str(&line);
                out.push('\n');
            }
        });
        ServiceProcess { child, api, output }
    }

    fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        nix::sys::signal::kill(pid, signal).expect("signal the service");
    }

    async fn status(&self) -> serde_json::Value {
        reqwest::get(format!("{}/status", self.api))
            .await
            .expect("GET /status")
            .text()
            .await
            .map(|body| serde_json::from_str(&body).expect("JSON status"))
            .expect("status body")
    }

    /// Polls `/status` until `done` holds of it and of the running instance processes.
    async fn wait_for(
        &self,
        what: &str,
        argv: &[&str],
        done: impl Fn(&serde_json::Value, usize) -> bool,
    ) {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let status = self.status().await;
            let processes = processes_running(argv).len();
            if done(&status, processes) {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{what}: status {status}, {processes} processes\n{}",
                self.output.lock().unwrap()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_service_framework_replaces_dead_instances_and_scales() {
    use nix::sys::signal::Signal;

    let cluster = Cluster::start();
    // A command line no other process has, to find this test's instances by.
    let seconds = format!("100000.{}", std::process::id());
    let argv = ["sleep", seconds.as_str()];
    let mut service = ServiceProcess::start(&cluster, &format!("exec sleep {seconds}"));
    let running = |n: usize| {
        move |s: &serde_json::Value, processes: usize| {
            s["running"] == n && s["tasks"].as_array().map(Vec::len) == Some(n) && processes == n
        }
    };
    service
        .wait_for("two instances run", &argv, running(2))
        .await;

    let victim = processes_running(&argv)[0];
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(victim), Signal::SIGKILL).expect("kill");
    service
        .wait_for("the dead instance is replaced", &argv, |s, p| {
            s["restarts"] == 1 && running(2)(s, p)
        })
        .await;
    assert!(
        service
            .output
            .lock()
            .unwrap()
            .contains("ended in TASK_FAILED; launching a replacement"),
        "{}",
        service.output.lock().unwrap()
    );

    let client = reqwest::Client::new();
    let scaled: serde_json::Value = client
        .post(format!("{}/scale?instances=3", service.api))
        .send()
        .await
        .expect("POST /scale")
        .text()
        .await
        .map(|body| serde_json::from_str(&body).expect("JSON status"))
        .expect("scale body");
    assert_eq!(scaled["target"], 3, "{scaled}");
    service
        .wait_for("scaled up over HTTP", &argv, running(3))
        .await;

    service.signal(Signal::SIGUSR2);
    service
        .wait_for("scaled down by SIGUSR2", &argv, |s, p| {
            s["target"] == 2 && s["restarts"] == 1 && running(2)(s, p)
        })
        .await;
    service.signal(Signal::SIGUSR1);
    service
        .wait_for("scaled up by SIGUSR1", &argv, running(3))
        .await;

    let bad = client
        .post(format!("{}/scale?instances=many", service.api))
        .send()
        .await
        .expect("POST /scale");
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("non-negative integer"));
    assert_eq!(
        service.status().await["target"],
        3,
        "a bad call changes nothing"
    );

    service.signal(Signal::SIGTERM);
    let exit = service.child.wait().expect("service-framework ends");
    assert!(exit.success(), "{exit}\n{}", service.output.lock().unwrap());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while !processes_running(&argv).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the torn-down service's instances still run"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
