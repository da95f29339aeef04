//! The callback SchedulerDriver against a real master (and a real agent) in this process:
//! registration, offers, declines, launching and killing tasks run by pymesos' executor,
//! failover with the framework id, a master restart, reconciliation, a panicking callback,
//! a refused subscription, a non-leading master's redirect, and heartbeat loss (against a
//! master that goes silent).

#[allow(dead_code)]
mod agent_support;
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod master_support;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use agent_support::{pymesos_executor_command, TestCluster};
use common::REQUIRE;
use mesos_core::master::{Master, MasterOptions};
use mesos_core::proto::mesos::v1::scheduler::{event, Event};
use mesos_core::proto::mesos::v1::{
    value, AgentId, CommandInfo, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo,
    MasterInfo, Offer, Resource, Status, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_core::scheduler::{Scheduler, SchedulerDriver};

const RESOURCES: &str = "cpus:2;mem:1024;disk:1024;ports:[31000-31100]";
const WAIT: Duration = Duration::from_secs(30);

/// What the test scheduler saw, in order.
#[derive(Debug, Clone)]
enum Seen {
    Registered(FrameworkId),
    Reregistered,
    Disconnected,
    Offers(Vec<Offer>),
    Update(Box<TaskStatus>),
    Message(Vec<u8>),
    Error(String),
}

/// A scheduler that reports every callback to the test and can be told to panic.
struct Recorder {
    seen: Sender<Seen>,
    panic_on_offers: bool,
}

impl Scheduler for Recorder {
    fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, _: &MasterInfo) {
        let _ = self.seen.send(Seen::Registered(id.clone()));
    }
    fn reregistered(&mut self, _: &SchedulerDriver, _: &MasterInfo) {
        let _ = self.seen.send(Seen::Reregistered);
    }
    fn disconnected(&mut self, _: &SchedulerDriver) {
        let _ = self.seen.send(Seen::Disconnected);
    }
    fn resource_offers(&mut self, _: &SchedulerDriver, offers: Vec<Offer>) {
        if self.panic_on_offers {
            panic!("offers are not welcome here");
        }
        let _ = self.seen.send(Seen::Offers(offers));
    }
    fn status_update(&mut self, _: &SchedulerDriver, status: &TaskStatus) {
        let _ = self.seen.send(Seen::Update(Box::new(status.clone())));
    }
    fn framework_message(&mut self, _: &SchedulerDriver, _: &ExecutorId, _: &AgentId, data: &[u8]) {
        let _ = self.seen.send(Seen::Message(data.to_vec()));
    }
    fn error(&mut self, _: &SchedulerDriver, message: &str) {
        let _ = self.seen.send(Seen::Error(message.to_string()));
    }
}

fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        failover_timeout: Some(300.0),
        ..Default::default()
    }
}

fn driver(
    master: &str,
    framework: FrameworkInfo,
    panic_on_offers: bool,
) -> (SchedulerDriver, Callbacks) {
    let (tx, rx) = channel();
    let recorder = Recorder {
        seen: tx,
        panic_on_offers,
    };
    (
        SchedulerDriver::new(recorder, framework, master).expect("driver"),
        Callbacks {
            rx,
            backlog: Default::default(),
        },
    )
}

/// The callbacks a test scheduler made, read in order; the ones a wait skips are kept for
/// later waits.
struct Callbacks {
    rx: Receiver<Seen>,
    backlog: std::collections::VecDeque<Seen>,
}

/// The first callback (kept or new) matching `pick`.
fn wait_for<T>(seen: &mut Callbacks, what: &str, mut pick: impl FnMut(&Seen) -> Option<T>) -> T {
    if let Some(i) = seen.backlog.iter().position(|s| pick(s).is_some()) {
        let s = seen.backlog.remove(i).expect("present");
        return pick(&s).expect("matched");
    }
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        match seen.rx.recv_timeout(left) {
            Ok(s) => match pick(&s) {
                Some(found) => return found,
                None => seen.backlog.push_back(s),
            },
            Err(e) => panic!("no {what} within {WAIT:?} (seen {:?}): {e}", seen.backlog),
        }
    }
}

fn offers(seen: &mut Callbacks) -> Vec<Offer> {
    wait_for(seen, "offers", |s| match s {
        Seen::Offers(o) => Some(o.clone()),
        _ => None,
    })
}

fn update(seen: &mut Callbacks, task: &str, state: TaskState) -> TaskStatus {
    wait_for(seen, &format!("{state:?} of {task}"), |s| match s {
        Seen::Update(u) if u.task_id.value == task && u.state() == state => Some((**u).clone()),
        _ => None,
    })
}

fn scalar(name: &str, value: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value }),
        ..Default::default()
    }
}

/// A task for `offer` running `command` (base64 data, read by the pymesos executor) under
/// the executor `executor` started by `executor_command`.
fn task(
    offer: &Offer,
    id: &str,
    executor: &str,
    executor_command: &str,
    command: &str,
) -> TaskInfo {
    TaskInfo {
        name: id.into(),
        task_id: TaskId { value: id.into() },
        agent_id: offer.agent_id.clone(),
        resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
        executor: Some(Box::new(ExecutorInfo {
            executor_id: ExecutorId {
                value: executor.into(),
            },
            command: Some(CommandInfo {
                value: Some(executor_command.into()),
                ..Default::default()
            }),
            resources: vec![scalar("cpus", 0.1), scalar("mem", 32.0)],
            ..Default::default()
        })),
        data: Some(command.as_bytes().to_vec()),
        ..Default::default()
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn driver_launches_kills_messages_and_fails_over_with_its_tasks() {
    let executor = match pymesos_executor_command() {
        Ok(command) => command,
        Err(reason) => {
            assert_ne!(std::env::var(REQUIRE).as_deref(), Ok("1"), "{reason}");
            println!("SKIPPED: {reason}");
            return;
        }
    };
    let rt = runtime();
    let cluster = rt.block_on(TestCluster::start(RESOURCES, |_| {}));
    let master = cluster.master.addr().to_string();

    let (first, mut seen) = driver(&master, framework("driver-test"), false);
    assert_eq!(first.start(), Status::DriverRunning);
    assert_eq!(
        first.start(),
        Status::DriverRunning,
        "a second start changes nothing"
    );
    let framework_id = wait_for(&mut seen, "registered", |s| match s {
        Seen::Registered(id) => Some(id.clone()),
        _ => None,
    });

    let offer = offers(&mut seen).remove(0);
    let tasks = vec![
        task(&offer, "ok", "e1", &executor, "true"),
        task(&offer, "bad", "e2", &executor, "exit 3"),
        task(&offer, "long", "e3", &executor, "sleep 100"),
    ];
    assert_eq!(
        first.launch_tasks(std::slice::from_ref(&offer.id), tasks, None),
        Status::DriverRunning
    );
    update(&mut seen, "ok", TaskState::TaskFinished);
    let failed = update(&mut seen, "bad", TaskState::TaskFailed);
    assert!(failed.message().contains("exit status 3"), "{failed:?}");
    let running = update(&mut seen, "long", TaskState::TaskRunning);

    let agent_id = running.agent_id.clone().expect("agent id");
    let executor_id = ExecutorId { value: "e3".into() };
    first.send_framework_message(&executor_id, &agent_id, b"ping".to_vec());
    let echoed = wait_for(&mut seen, "framework message", |s| match s {
        Seen::Message(data) => Some(data.clone()),
        _ => None,
    });
    assert_eq!(echoed, b"echo:ping");

    // Fail over: the first driver goes away without tearing the framework down; a second
    // driver with the framework's id registers with the same id and finds its task.
    assert_eq!(first.stop(true), Status::DriverStopped);
    assert_eq!(first.join(), Status::DriverStopped);
    assert_eq!(
        first.launch_tasks(&[], Vec::new(), None),
        Status::DriverStopped
    );

    let mut resumed = framework("driver-test");
    resumed.id = Some(framework_id.clone());
    let (second, mut seen) = driver(&master, resumed, false);
    second.start();
    let again = wait_for(&mut seen, "registered after failover", |s| match s {
        Seen::Registered(id) => Some(id.clone()),
        _ => None,
    });
    assert_eq!(again, framework_id);
    second.reconcile_tasks(&[TaskStatus {
        task_id: TaskId {
            value: "long".into(),
        },
        agent_id: Some(agent_id.clone()),
        ..Default::default()
    }]);
    let reconciled = update(&mut seen, "long", TaskState::TaskRunning);
    assert_eq!(
        reconciled.reason(),
        mesos_core::proto::mesos::v1::task_status::Reason::Reconciliation
    );

    second.kill_task(&TaskId {
        value: "long".into(),
    });
    update(&mut seen, "long", TaskState::TaskKilled);

    // Without failover the framework is torn down: the master forgets it.
    assert_eq!(second.stop(false), Status::DriverStopped);
    let state: serde_json::Value = rt.block_on(async {
        reqwest::get(format!("http://{master}/state"))
            .await
            .expect("state")
            .text()
            .await
            .map(|t| serde_json::from_str(&t).expect("json"))
            .expect("body")
    });
    assert_eq!(
        state["frameworks"].as_array().map(Vec::len),
        Some(0),
        "{state}"
    );
    rt.block_on(cluster.stop());
}

#[test]
fn declined_offers_come_back_after_the_filter_and_revive_brings_them_at_once() {
    let rt = runtime();
    let cluster = rt.block_on(TestCluster::start(RESOURCES, |_| {}));
    let (driver, mut seen) = driver(
        &cluster.master.addr().to_string(),
        framework("decliner"),
        false,
    );
    driver.start();
    let offer = offers(&mut seen).remove(0);
    let long = Filters {
        refuse_seconds: Some(3600.0),
    };
    driver.decline_offer(&offer.id, Some(long));
    assert!(
        seen.rx
            .recv_timeout(Duration::from_secs(1))
            .map(|s| !matches!(s, Seen::Offers(_)))
            .unwrap_or(true),
        "a declined offer returned inside its filter"
    );
    driver.revive_offers(&[]);
    let again = offers(&mut seen);
    assert_eq!(again[0].agent_id, offer.agent_id);
    driver.suppress_offers(&[]);
    driver.stop(false);
    rt.block_on(cluster.stop());
}

#[test]
fn a_panicking_callback_aborts_the_driver_through_error() {
    let rt = runtime();
    let cluster = rt.block_on(TestCluster::start(RESOURCES, |_| {}));
    let (driver, mut seen) = driver(
        &cluster.master.addr().to_string(),
        framework("panicker"),
        true,
    );
    driver.start();
    let message = wait_for(&mut seen, "error", |s| match s {
        Seen::Error(m) => Some(m.clone()),
        _ => None,
    });
    assert!(message.contains("offers are not welcome here"), "{message}");
    assert_eq!(driver.join(), Status::DriverAborted);
    assert_eq!(driver.status(), Status::DriverAborted);
    assert!(driver
        .error_message()
        .unwrap_or_default()
        .contains("panicked"));
    assert_eq!(driver.kill_task(&TaskId::default()), Status::DriverAborted);
    rt.block_on(cluster.stop());
}

#[test]
fn a_refused_subscription_is_an_error_not_a_retry_loop() {
    let rt = runtime();
    let master = rt.block_on(agent_support::master());
    let mut bad = framework("bad-timeout");
    bad.failover_timeout = Some(f64::NAN);
    let (driver, mut seen) = driver(&master.addr().to_string(), bad, false);
    driver.start();
    let message = wait_for(&mut seen, "error", |s| match s {
        Seen::Error(m) => Some(m.clone()),
        _ => None,
    });
    assert!(
        message.contains("400") && message.contains("failover_timeout"),
        "{message}"
    );
    assert_eq!(driver.join(), Status::DriverAborted);
    rt.block_on(master.stop());
}

#[test]
fn invalid_master_and_lifecycle_misuse_get_clear_answers() {
    let (tx, _rx) = channel();
    let recorder = Recorder {
        seen: tx,
        panic_on_offers: false,
    };
    let error = SchedulerDriver::new(recorder, framework("x"), "zk://z/mesos").unwrap_err();
    assert!(error.to_string().contains("ZooKeeper URL"), "{error}");

    let (driver, _seen) = driver("127.0.0.1:1", framework("x"), false);
    assert_eq!(driver.status(), Status::DriverNotStarted);
    assert_eq!(
        driver.kill_task(&TaskId::default()),
        Status::DriverNotStarted
    );
    assert_eq!(driver.stop(false), Status::DriverNotStarted);
    assert_eq!(driver.join(), Status::DriverNotStarted);
    assert_eq!(driver.start(), Status::DriverRunning);
    assert_eq!(driver.abort(), Status::DriverAborted);
    assert_eq!(driver.join(), Status::DriverAborted);
    assert_eq!(driver.start(), Status::DriverAborted);
}

#[test]
fn a_restarted_master_gets_the_framework_back() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("dir");
    let options = MasterOptions {
        allocation_interval: Duration::from_millis(100),
        registry: mesos_core::master::RegistryStore::WorkDir(dir.path().to_path_buf()),
        ..Default::default()
    };
    let master = rt.block_on(Master::start(options.clone())).expect("master");
    let addr = master.addr();
    let (driver, mut seen) = driver(&addr.to_string(), framework("survivor"), false);
    driver.start();
    let id = wait_for(&mut seen, "registered", |s| match s {
        Seen::Registered(id) => Some(id.clone()),
        _ => None,
    });
    rt.block_on(master.stop());
    wait_for(&mut seen, "disconnected", |s| {
        matches!(s, Seen::Disconnected).then_some(())
    });
    let restarted = rt
        .block_on(Master::start(MasterOptions {
            bind: addr,
            ..options
        }))
        .expect("master restarts on its port");
    wait_for(&mut seen, "reregistered", |s| {
        matches!(s, Seen::Reregistered).then_some(())
    });
    assert_eq!(driver.framework_id(), Some(id));
    driver.stop(false);
    rt.block_on(restarted.stop());
}

/// A master that subscribes the framework with a 0.2 s heartbeat and then says nothing.
fn silent_master() -> (String, std::sync::mpsc::Receiver<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (subscribed, subscriptions) = channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            let event = Event {
                r#type: Some(event::Type::Subscribed as i32),
                subscribed: Some(event::Subscribed {
                    framework_id: FrameworkId {
                        value: "silent".into(),
                    },
                    heartbeat_interval_seconds: Some(0.2),
                    master_info: None,
                }),
                ..Default::default()
            };
            let record = mesos_core::recordio::encode(&prost::Message::encode_to_vec(&event));
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n\
                 Mesos-Stream-Id: s\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
                record.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&record);
            let _ = stream.write_all(b"\r\n");
            let _ = subscribed.send(());
            held.push(stream);
        }
    });
    (addr, subscriptions)
}

#[test]
fn missed_heartbeats_disconnect_and_subscribe_again() {
    let (addr, subscriptions) = silent_master();
    let (driver, mut seen) = driver(&addr, framework("listener"), false);
    driver.start();
    wait_for(&mut seen, "registered", |s| {
        matches!(s, Seen::Registered(_)).then_some(())
    });
    wait_for(&mut seen, "disconnected", |s| {
        matches!(s, Seen::Disconnected).then_some(())
    });
    wait_for(&mut seen, "reregistered", |s| {
        matches!(s, Seen::Reregistered).then_some(())
    });
    assert!(subscriptions.try_iter().count() >= 2);
    assert_eq!(driver.abort(), Status::DriverAborted);
}

/// A non-leading master as Mesos answers for one: 307 to the leader at `leader`, with a
/// protocol-relative `Location`. Counts the requests it got.
fn redirecting_master(leader: String) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let requests = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let answer = format!(
                "HTTP/1.1 307 Temporary Redirect\r\nLocation: //{leader}/api/v1/scheduler\r\n\
                 Content-Length: 0\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (addr, requests)
}

#[test]
fn a_non_leading_master_redirects_the_driver_to_the_leader() {
    let rt = runtime();
    let cluster = rt.block_on(TestCluster::start(RESOURCES, |_| {}));
    let leader = cluster.master.addr().to_string();
    let (follower, requests) = redirecting_master(leader);
    // The follower is listed first: the driver tries it, is redirected, and stays with the
    // leader for every later call.
    let (driver, mut seen) = driver(&follower, framework("redirected"), false);
    driver.start();
    wait_for(&mut seen, "registered", |s| {
        matches!(s, Seen::Registered(_)).then_some(())
    });
    let offer = offers(&mut seen).remove(0);
    driver.decline_offer(
        &offer.id,
        Some(Filters {
            refuse_seconds: Some(3600.0),
        }),
    );
    driver.revive_offers(&[]);
    let again = offers(&mut seen);
    assert_eq!(
        again[0].agent_id, offer.agent_id,
        "the revive reached the leader"
    );
    assert_eq!(
        requests.load(std::sync::atomic::Ordering::SeqCst),
        1,
        "only SUBSCRIBE went to the non-leading master"
    );
    driver.stop(false);
    rt.block_on(cluster.stop());
}
