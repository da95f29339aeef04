//! Fault tests of a highly available cluster, all real processes: a ZooKeeper server,
//! three `mesos-master`s contending under `--zk` and sharing the registry kept there, two
//! `mesos-agent`s and a scheduler driver finding the leader through `zk://`.
//!
//! - 100 checkpointed command tasks run; the leader is killed with SIGKILL three times in
//!   a row (each time a fresh master takes its place, as a supervisor would start one). Each
//!   time a new leader is elected, both agents re-register with their tasks, the framework
//!   re-subscribes and reconciles, and no task is lost: every task's updates only ever go
//!   forward and none ends.
//! - A leader frozen (SIGSTOP) past its ZooKeeper session never acts as leader again when
//!   it thaws (SIGCONT): it refuses to serve and exits, and the leader elected meanwhile
//!   keeps leading.
//! - An agent with checkpointed tasks and the leading master SIGKILLed at the same moment:
//!   the agent restarts, recovers its executors and re-registers with the new leader, and
//!   the framework reconciles every task as running.
//! - On a three-node ZooKeeper ensemble, losing one node changes nothing; losing two stops
//!   every master from leading (they exit) while the tasks run on; with the quorum back and
//!   the masters restarted, the cluster recovers with the very same task processes.
//! - An agent frozen past the master's ping timeout becomes unreachable: a partition-aware
//!   framework hears TASK_UNREACHABLE, another TASK_LOST. When it thaws and re-registers
//!   the partition-aware framework's task is running again and the other's is killed.

#[allow(dead_code)]
#[path = "../../mesos-core/tests/common/zookeeper.rs"]
mod zookeeper;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::{Duration, Instant};

use mesos_core::proto::mesos::v1::framework_info::{capability, Capability};
use mesos_core::proto::mesos::v1::{
    CommandInfo, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskId, TaskInfo, TaskState,
    TaskStatus,
};
use mesos_core::resources::{parse_resources, Resources};
use mesos_core::scheduler::{Scheduler, SchedulerDriver};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);
/// The ZooKeeper session timeout of every daemon (`--zk_session_timeout`). Short, so that
/// a dead leader is replaced quickly, but long enough to outlast the stalls of a busy
/// shared VM (its vCPUs are sometimes not scheduled for several hundred milliseconds).
const SESSION_SECS: u64 = 5;
const TASKS: usize = 100;

/// A port free now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `mesos-master`, built beside this test's package binaries by `cargo test --workspace`.
fn mesos_master() -> PathBuf {
    let agent = PathBuf::from(env!("CARGO_BIN_EXE_mesos-agent"));
    let master = agent.with_file_name("mesos-master");
    assert!(
        master.exists(),
        "{} is missing: build it with `cargo build -p master-bin` (cargo test --workspace does)",
        master.display()
    );
    master
}

/// A daemon process; SIGKILLed when dropped, its log printed if the test failed.
struct Daemon {
    child: Child,
    log: PathBuf,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            // The ZooKeeper client's reconnection chatter would crowd out the daemon's own.
            let tail: Vec<&str> = log
                .lines()
                .rev()
                .filter(|line| !line.contains("zookeeper_client::session"))
                .take(40)
                .collect();
            eprintln!("--- {} (last lines of its own) ---", self.log.display());
            for line in tail.iter().rev() {
                eprintln!("{line}");
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Daemon {
    fn start(program: &Path, args: &[String], log: PathBuf) -> Daemon {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("log file");
        let child = Command::new(program)
            .args(args)
            .env("MESOS_LOGGING_LEVEL", "INFO")
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .stdin(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{} starts: {e}", program.display()));
        Daemon { child, log }
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).expect("signal the daemon");
    }
}

/// A `mesos-master` contending under `zk`, on `port`, with `extra` flags; its registry is
/// the one in ZooKeeper (`--registry=replicated_log` with `--zk`).
fn start_master(zk: &str, port: u16, dir: &Path, extra: &[&str]) -> Daemon {
    let mut args = vec![
        format!("--zk={zk}"),
        "--registry=replicated_log".into(),
        "--quorum=2".into(),
        format!(
            "--work_dir={}",
            dir.join(format!("master-{port}")).display()
        ),
        "--ip=127.0.0.1".into(),
        format!("--port={port}"),
        "--hostname=localhost".into(),
        format!("--zk_session_timeout={SESSION_SECS}secs"),
        "--allocation_interval=100ms".into(),
    ];
    args.extend(extra.iter().map(|a| a.to_string()));
    Daemon::start(
        &mesos_master(),
        &args,
        dir.join(format!("master-{port}.log")),
    )
}

fn start_agent(zk: &str, dir: &Path) -> Daemon {
    start_agent_at(zk, &dir.join(format!("agent-{}", free_port())), 0)
}

/// A `mesos-agent` following `zk`, working in `work` on `port` (0: any), logging beside
/// `work`. Restarted with the same `work` and `port`, it recovers its executors.
fn start_agent_at(zk: &str, work: &Path, port: u16) -> Daemon {
    Daemon::start(
        Path::new(env!("CARGO_BIN_EXE_mesos-agent")),
        &[
            format!("--master={zk}"),
            format!("--work_dir={}", work.display()),
            "--ip=127.0.0.1".into(),
            format!("--port={port}"),
            "--hostname=localhost".into(),
            "--resources=cpus:8;mem:8192;disk:1024;ports:[31000-31100]".into(),
            "--isolation=posix/cpu,posix/mem".into(),
            "--launcher=posix".into(),
            "--registration_backoff_factor=100ms".into(),
            format!("--zk_session_timeout={SESSION_SECS}secs"),
        ],
        work.with_extension("log"),
    )
}

/// What the framework saw, for the test to follow.
#[derive(Debug)]
enum Seen {
    Subscribed(u32),
    Update(String, TaskState),
}

/// Launches `tasks` long-running tasks (`sleep <marker>`) as offers allow and reports every
/// callback.
struct Framework {
    seen: Sender<Seen>,
    tasks: usize,
    launched: usize,
    task: Resources,
    marker: String,
}

impl Framework {
    fn new(seen: Sender<Seen>, tasks: usize, marker: &str) -> Framework {
        Framework {
            seen,
            tasks,
            launched: 0,
            task: parse_resources("cpus:0.05;mem:16", "*").expect("resources"),
            marker: marker.to_string(),
        }
    }
}

impl Scheduler for Framework {
    fn registered(&mut self, _: &SchedulerDriver, _: &FrameworkId, master: &MasterInfo) {
        let _ = self.seen.send(Seen::Subscribed(master.port));
    }
    fn reregistered(&mut self, _: &SchedulerDriver, master: &MasterInfo) {
        let _ = self.seen.send(Seen::Subscribed(master.port));
    }
    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        for offer in offers {
            let mut left = Resources::offered(&offer.resources);
            let mut tasks = Vec::new();
            while self.launched < self.tasks && left.contains(&self.task) {
                left -= self.task.clone();
                tasks.push(TaskInfo {
                    name: format!("task {}", self.launched),
                    task_id: TaskId {
                        value: format!("t{}", self.launched),
                    },
                    agent_id: offer.agent_id.clone(),
                    resources: self.task.to_protos(),
                    command: Some(CommandInfo {
                        value: Some(format!("exec sleep {}", self.marker)),
                        ..Default::default()
                    }),
                    ..Default::default()
                });
                self.launched += 1;
            }
            driver.launch_tasks(std::slice::from_ref(&offer.id), tasks, None);
        }
    }
    fn status_update(&mut self, _: &SchedulerDriver, status: &TaskStatus) {
        let _ = self
            .seen
            .send(Seen::Update(status.task_id.value.clone(), status.state()));
    }
}

/// `count` masters contending under `zk`, by port.
fn start_masters(zk: &str, count: usize, dir: &Path) -> BTreeMap<u16, Daemon> {
    (0..count)
        .map(|_| {
            let port = free_port();
            (port, start_master(zk, port, dir, &[]))
        })
        .collect()
}

/// A checkpointing framework (failover timeout one hour, with `capabilities`) that finds
/// the leader through `zk` and runs `tasks` tasks of `sleep <marker>`; started.
fn start_framework(
    zk: &str,
    name: &str,
    tasks: usize,
    marker: &str,
    capabilities: Vec<Capability>,
) -> (SchedulerDriver, Receiver<Seen>) {
    let (tx, seen) = channel();
    let info = FrameworkInfo {
        name: name.into(),
        checkpoint: Some(true),
        failover_timeout: Some(3600.0),
        capabilities,
        ..Default::default()
    };
    let driver = SchedulerDriver::new(Framework::new(tx, tasks, marker), info, zk).expect("driver");
    driver.start();
    (driver, seen)
}

/// Every task's updates, in the order they came.
#[derive(Default)]
struct History(BTreeMap<String, Vec<TaskState>>);

impl History {
    fn running(&self) -> usize {
        self.0
            .values()
            .filter(|states| states.last() == Some(&TaskState::TaskRunning))
            .count()
    }

    /// No task ended, and no task's state went backwards.
    fn check(&self) {
        let rank = |s: &TaskState| match s {
            TaskState::TaskStaging => 0,
            TaskState::TaskStarting => 1,
            TaskState::TaskRunning => 2,
            other => panic!("a task reached {}: {:?}", other.as_str_name(), self.0),
        };
        for (task, states) in &self.0 {
            let ranks: Vec<u8> = states.iter().map(rank).collect();
            assert!(
                ranks.windows(2).all(|w| w[0] <= w[1]),
                "task {task}'s updates went backwards: {states:?}"
            );
        }
    }
}

/// Follows the framework's callbacks, recording updates, until `done` holds.
fn follow(
    seen: &Receiver<Seen>,
    history: &mut History,
    what: &str,
    done: impl FnMut(&Seen, &History) -> bool,
) {
    assert!(
        follow_for(seen, history, WAIT, done),
        "{what}: not within {WAIT:?}"
    );
}

/// Follows the framework's callbacks, recording updates, for at most `wait`; whether
/// `done` came to hold.
fn follow_for(
    seen: &Receiver<Seen>,
    history: &mut History,
    wait: Duration,
    mut done: impl FnMut(&Seen, &History) -> bool,
) -> bool {
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(event) = seen.recv_timeout(left) else {
            return false;
        };
        if let Seen::Update(task, state) = &event {
            history.0.entry(task.clone()).or_default().push(*state);
        }
        if done(&event, history) {
            return true;
        }
    }
}

fn http() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client")
}

/// The port of the master that leads and serves, once every live master agrees on it.
fn leader(masters: &BTreeMap<u16, Daemon>) -> u16 {
    let client = http();
    let deadline = Instant::now() + WAIT;
    loop {
        let named: Vec<Option<u16>> = masters
            .keys()
            .map(|port| {
                let answer = client
                    .get(format!("http://127.0.0.1:{port}/master/redirect"))
                    .send()
                    .ok()?;
                let location = answer.headers().get("location")?.to_str().ok()?;
                location.rsplit(':').next()?.parse().ok()
            })
            .collect();
        if let Some(Some(first)) = named.first() {
            if named.iter().all(|n| *n == Some(*first)) && masters.contains_key(first) {
                return *first;
            }
        }
        assert!(Instant::now() < deadline, "no agreed leader: {named:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The leader once one other than `previous` is agreed on.
fn new_leader(masters: &BTreeMap<u16, Daemon>, previous: u16) -> u16 {
    let deadline = Instant::now() + WAIT;
    loop {
        let now = leader(masters);
        if now != previous {
            return now;
        }
        assert!(Instant::now() < deadline, "no new leader after {previous}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// After a failover to `leading`: the framework re-subscribes there, the leader knows
/// `agents` agents and `tasks` running tasks, and a reconciliation reports every task
/// without any having ended or gone backwards.
fn recovered(
    seen: &Receiver<Seen>,
    history: &mut History,
    driver: &SchedulerDriver,
    leading: u16,
    (agents, tasks): (usize, usize),
) {
    follow(
        seen,
        history,
        "the framework re-subscribes",
        |s, _| matches!(s, Seen::Subscribed(port) if *port == u32::from(leading)),
    );
    let deadline = Instant::now() + WAIT;
    while agents_and_running_tasks(leading) != (agents, tasks) {
        assert!(
            Instant::now() < deadline,
            "the new leader knows {:?} (agents, running tasks)",
            agents_and_running_tasks(leading)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // As frameworks should, reconciliation is asked again until every task is reported:
    // a call made while the driver is between subscriptions is dropped.
    let before: usize = history.0.values().map(Vec::len).sum();
    let deadline = Instant::now() + WAIT;
    loop {
        driver.reconcile_tasks(&[]);
        let reported = follow_for(seen, history, Duration::from_secs(5), |_, h| {
            h.0.values().map(Vec::len).sum::<usize>() >= before + tasks
        });
        if reported {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reconciliation: {} of {tasks} tasks reported",
            history.0.values().map(Vec::len).sum::<usize>() - before
        );
    }
    history.check();
    assert_eq!(history.0.len(), tasks);
    assert_eq!(history.running(), tasks);
}

/// The leader's `/master/state`.
fn state(port: u16) -> Value {
    http()
        .get(format!("http://127.0.0.1:{port}/master/state"))
        .send()
        .and_then(|r| r.json())
        .unwrap_or(Value::Null)
}

/// How many agents and running tasks the master at `port` knows.
fn agents_and_running_tasks(port: u16) -> (usize, usize) {
    let state = state(port);
    let agents = state["slaves"].as_array().map_or(0, Vec::len);
    let running = state["frameworks"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|f| f["tasks"].as_array().cloned().unwrap_or_default())
        .filter(|t| t["state"] == "TASK_RUNNING")
        .count();
    (agents, running)
}

/// The pids of the tasks running `sleep <marker>`.
fn tasks_running(marker: &str) -> Vec<i32> {
    let wanted = format!("sleep\0{marker}\0");
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| {
            std::fs::read(entry.path().join("cmdline")).unwrap_or_default() == wanted.as_bytes()
        })
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .collect()
}

/// The pids of the `count` tasks running `sleep <marker>`, sorted, once all of them are
/// seen: an executor reports TASK_RUNNING as it forks the task, which may not have
/// exec'd `sleep` yet.
fn all_tasks_running(marker: &str, count: usize) -> Vec<i32> {
    let deadline = Instant::now() + WAIT;
    loop {
        let mut pids = tasks_running(marker);
        if pids.len() == count {
            pids.sort_unstable();
            return pids;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {count} tasks run",
            pids.len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// SIGKILLs, when dropped, every process whose environment names the test's directory:
/// the executors and tasks the SIGKILLed agents leave behind (a checkpointing command
/// executor waits for its agent to come back for the whole recovery timeout).
struct Reaper(PathBuf);

impl Drop for Reaper {
    fn drop(&mut self) {
        let needle = self.0.as_os_str().as_encoded_bytes();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let environ = std::fs::read(entry.path().join("environ")).unwrap_or_default();
            if environ.windows(needle.len()).any(|w| w == needle) {
                if let Some(pid) = entry.file_name().to_str().and_then(|p| p.parse().ok()) {
                    let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
                }
            }
        }
    }
}

/// Makes the fault tests run one at a time: each runs a whole cluster (ZooKeeper, three
/// masters, agents, a hundred executors), and two at once on a 2-core machine starve
/// ZooKeeper of the CPU its short sessions need.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A directory for a test's daemons, and the reaper of what they leave behind. Declared
/// before the daemons, so that it is dropped after them.
fn test_dir() -> (tempfile::TempDir, Reaper) {
    let dir = tempfile::tempdir().expect("dir");
    let reaper = Reaper(dir.path().to_path_buf());
    (dir, reaper)
}

#[test]
fn killing_the_leader_three_times_loses_no_task() {
    let _serial = one_at_a_time();
    let Some(zk) = zookeeper::zookeeper_or_skip() else {
        return;
    };
    let url = zk.url("/mesos");
    let (dir, _reaper) = test_dir();
    let mut masters = start_masters(&url, 3, dir.path());
    let mut leading = leader(&masters);
    let _agents = [start_agent(&url, dir.path()), start_agent(&url, dir.path())];

    let marker = format!("7{}.5", std::process::id());
    let (driver, seen) = start_framework(&url, "ha-fault-test", TASKS, &marker, Vec::new());
    let mut history = History::default();
    follow(&seen, &mut history, "all tasks running", |_, h| {
        h.running() == TASKS
    });
    history.check();

    for _ in 0..3 {
        masters
            .remove(&leading)
            .expect("the leader is ours")
            .signal(Signal::SIGKILL);
        masters.insert(leading, start_master(&url, leading, dir.path(), &[]));
        leading = new_leader(&masters, leading);
        recovered(&seen, &mut history, &driver, leading, (2, TASKS));
    }

    driver.stop(false);
    let deadline = Instant::now() + WAIT;
    while agents_and_running_tasks(leading).1 > 0 {
        assert!(Instant::now() < deadline, "the torn-down tasks still run");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_leader_frozen_past_its_session_never_leads_again() {
    let _serial = one_at_a_time();
    let Some(zk) = zookeeper::zookeeper_or_skip() else {
        return;
    };
    let url = zk.url("/mesos");
    let (dir, _reaper) = test_dir();
    let mut masters = start_masters(&url, 2, dir.path());
    let frozen_port = leader(&masters);
    let mut frozen = masters.remove(&frozen_port).expect("leader");
    frozen.signal(Signal::SIGSTOP);
    let successor = leader(&masters);
    assert_ne!(successor, frozen_port);
    // Well past its session: ZooKeeper has expired the frozen master's session.
    std::thread::sleep(Duration::from_secs(2 * SESSION_SECS));
    frozen.signal(Signal::SIGCONT);
    let client = http();
    let deadline = Instant::now() + WAIT;
    loop {
        if let Ok(Some(status)) = frozen.child.try_wait() {
            assert!(
                !status.success(),
                "a master that lost leadership exits non-zero"
            );
            break;
        }
        // Until it exits it must not serve as a leader: no 200 to a scheduler call.
        if let Ok(answer) = client
            .post(format!("http://127.0.0.1:{frozen_port}/api/v1/scheduler"))
            .header("content-type", "application/json")
            .body(r#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#)
            .send()
        {
            assert_ne!(
                answer.status(),
                200,
                "the thawed master served a subscription"
            );
        }
        assert!(Instant::now() < deadline, "the thawed master did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = std::fs::read_to_string(&frozen.log).unwrap_or_default();
    assert!(log.contains("lost leadership"), "{log}");
    assert_eq!(leader(&masters), successor, "the successor keeps leading");
}

#[test]
fn an_agent_cut_off_past_its_ping_timeout_is_unreachable_then_reconciled() {
    let _serial = one_at_a_time();
    let Some(zk) = zookeeper::zookeeper_or_skip() else {
        return;
    };
    let url = zk.url("/mesos");
    let (dir, _reaper) = test_dir();
    let port = free_port();
    let pings = ["--agent_ping_timeout=1secs", "--max_agent_ping_timeouts=2"];
    let masters = BTreeMap::from([(port, start_master(&url, port, dir.path(), &pings))]);
    assert_eq!(leader(&masters), port);
    let agent = start_agent(&url, dir.path());

    let aware_marker = format!("8{}.5", std::process::id());
    let other_marker = format!("9{}.5", std::process::id());
    let start = |name: &str, marker: &str, capabilities: Vec<Capability>| {
        let (driver, seen) = start_framework(&url, name, 1, marker, capabilities);
        (driver, seen, History::default())
    };
    let partition_aware = vec![Capability {
        r#type: Some(capability::Type::PartitionAware as i32),
    }];
    let (aware, aware_seen, mut aware_history) = start("aware", &aware_marker, partition_aware);
    let (other, other_seen, mut other_history) = start("other", &other_marker, Vec::new());
    for (seen, history) in [
        (&aware_seen, &mut aware_history),
        (&other_seen, &mut other_history),
    ] {
        follow(seen, history, "the task runs", |_, h| h.running() == 1);
    }

    agent.signal(Signal::SIGSTOP);
    let ended = |state: TaskState| move |s: &Seen, _: &History| matches!(s, Seen::Update(_, st) if *st == state);
    follow(
        &aware_seen,
        &mut aware_history,
        "TASK_UNREACHABLE",
        ended(TaskState::TaskUnreachable),
    );
    follow(
        &other_seen,
        &mut other_history,
        "TASK_LOST",
        ended(TaskState::TaskLost),
    );
    agent.signal(Signal::SIGCONT);

    // Back: the partition-aware framework's task runs on; the other's is killed.
    let deadline = Instant::now() + WAIT;
    while !tasks_running(&other_marker).is_empty() {
        assert!(
            Instant::now() < deadline,
            "the other framework's task still runs"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        tasks_running(&aware_marker).len(),
        1,
        "the aware task kept running"
    );
    aware.reconcile_tasks(&[]);
    follow(
        &aware_seen,
        &mut aware_history,
        "TASK_RUNNING again",
        ended(TaskState::TaskRunning),
    );
    let states = aware_history.0.values().next().expect("one task");
    assert_eq!(
        &states[states.len() - 2..],
        [TaskState::TaskUnreachable, TaskState::TaskRunning]
    );
    aware.stop(false);
    other.stop(false);
    let deadline = Instant::now() + WAIT;
    while !tasks_running(&aware_marker).is_empty() {
        assert!(Instant::now() < deadline, "the torn-down task still runs");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn an_agent_and_the_leader_killed_together_lose_no_task() {
    let _serial = one_at_a_time();
    let Some(zk) = zookeeper::zookeeper_or_skip() else {
        return;
    };
    let url = zk.url("/mesos");
    let (dir, _reaper) = test_dir();
    let mut masters = start_masters(&url, 2, dir.path());
    let first = leader(&masters);
    let work = dir.path().join("agent");
    let agent_port = free_port();
    let agent = start_agent_at(&url, &work, agent_port);

    const COUNT: usize = 10;
    let marker = format!("6{}.5", std::process::id());
    let (driver, seen) = start_framework(&url, "survivor", COUNT, &marker, Vec::new());
    let mut history = History::default();
    follow(&seen, &mut history, "all tasks running", |_, h| {
        h.running() == COUNT
    });
    let pids = all_tasks_running(&marker, COUNT);

    // Both at once, then both come back as supervisors would start them.
    agent.signal(Signal::SIGKILL);
    masters
        .remove(&first)
        .expect("leader")
        .signal(Signal::SIGKILL);
    drop(agent);
    let _agent = start_agent_at(&url, &work, agent_port);
    masters.insert(first, start_master(&url, first, dir.path(), &[]));

    let second = new_leader(&masters, first);
    recovered(&seen, &mut history, &driver, second, (1, COUNT));
    let mut still = tasks_running(&marker);
    still.sort_unstable();
    assert_eq!(still, pids, "the very same task processes run on");
    driver.stop(false);
}

#[test]
fn losing_one_zookeeper_of_three_changes_nothing_and_losing_two_stops_leading_not_tasks() {
    let _serial = one_at_a_time();
    let Some(mut ensemble) = zookeeper::ensemble_or_skip(3) else {
        return;
    };
    let url = zookeeper::ensemble_url(&ensemble, "/mesos");
    let (dir, _reaper) = test_dir();
    let mut masters = start_masters(&url, 2, dir.path());
    let first = leader(&masters);
    let _agent = start_agent(&url, dir.path());

    const COUNT: usize = 5;
    let marker = format!("5{}.5", std::process::id());
    let (driver, seen) = start_framework(&url, "quorum", COUNT, &marker, Vec::new());
    let mut history = History::default();
    follow(&seen, &mut history, "all tasks running", |_, h| {
        h.running() == COUNT
    });
    let pids = all_tasks_running(&marker, COUNT);

    // One of three gone: the other two are a quorum.
    ensemble[0].kill();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(leader(&masters), first, "the leader kept leading");
    assert_eq!(agents_and_running_tasks(first), (1, COUNT));

    // Two of three gone: no master may lead, and every one exits; the tasks run on.
    ensemble[1].kill();
    let deadline = Instant::now() + WAIT;
    for (port, master) in masters.iter_mut() {
        loop {
            if let Ok(Some(status)) = master.child.try_wait() {
                assert!(!status.success(), "master {port} exits non-zero");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "master {port} still runs without a quorum"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    let mut still = tasks_running(&marker);
    still.sort_unstable();
    assert_eq!(still, pids, "the tasks run on without a leader");

    // The quorum is back and the masters are restarted: the same tasks, reconciled.
    for server in &mut ensemble[..2] {
        server.restart().expect("ZooKeeper restarts");
    }
    for server in &ensemble {
        server
            .wait_until_serving()
            .expect("the ensemble serves again");
    }
    let ports: Vec<u16> = masters.keys().copied().collect();
    for port in ports {
        masters.insert(port, start_master(&url, port, dir.path(), &[]));
    }
    let leading = leader(&masters);
    recovered(&seen, &mut history, &driver, leading, (1, COUNT));
    let mut still = tasks_running(&marker);
    still.sort_unstable();
    assert_eq!(still, pids, "the very same task processes run on");
    driver.stop(false);
}
