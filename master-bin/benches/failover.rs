//! Failover time of a highly available cluster: from SIGKILL of the leading `mesos-master`
//! to every one of N simulated agents re-registered with the master elected after it and a
//! framework re-subscribed there.
//!
//! A ZooKeeper server (Debian's `zookeeper`), two `mesos-master` processes under `--zk`
//! (their registry in ZooKeeper too), N simulated agents (`mesos_core::agent::simulated`) in
//! this process, registered through the standby (which redirects them to the leader), and a
//! `SchedulerDriver` given the `zk://` URL. The leader is killed; the clock stops when the standby, now leading, counts
//! N active agents and the driver has subscribed with it. Most of the time is ZooKeeper
//! noticing that the killed leader's session is gone: a SIGKILLed master cannot close it,
//! so its node lasts the session timeout, which this bench takes as an argument.
//!
//!     cargo bench -p master-bin --bench failover -- [agents] [rounds] [session seconds]

#[allow(dead_code)]
#[path = "../../mesos-core/tests/common/zookeeper.rs"]
mod zookeeper;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_core::agent::simulated::{SimulatedAgent, SimulatedAgentOptions};
use mesos_core::proto::mesos::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use mesos_core::scheduler::{Scheduler, SchedulerDriver};

/// Tells the bench the port of each master the framework (re-)subscribes with.
struct Subscriptions(std::sync::mpsc::Sender<u32>);

impl Scheduler for Subscriptions {
    fn registered(&mut self, _: &SchedulerDriver, _: &FrameworkId, master: &MasterInfo) {
        let _ = self.0.send(master.port);
    }
    fn reregistered(&mut self, _: &SchedulerDriver, master: &MasterInfo) {
        let _ = self.0.send(master.port);
    }
    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        for offer in offers {
            driver.decline_offer(&offer.id, None);
        }
    }
    fn status_update(&mut self, _: &SchedulerDriver, _: &TaskStatus) {}
}

/// Waits until the framework has subscribed with the master on `port`.
async fn subscribed(subscriptions: &std::sync::mpsc::Receiver<u32>, port: u16) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        match subscriptions.try_recv() {
            Ok(at) if at == u32::from(port) => return,
            Ok(_) => {}
            Err(_) => tokio::time::sleep(Duration::from_millis(5)).await,
        }
        assert!(
            Instant::now() < deadline,
            "the framework never subscribed at {port}"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A `mesos-master` under `--zk` with its work dir; SIGKILLed when dropped.
struct MasterProcess {
    child: Child,
    /// Removed when the master is gone.
    _work_dir: tempfile::TempDir,
}

impl Drop for MasterProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A master on the registry in ZooKeeper (`--registry=replicated_log` with `--zk`), as in
/// production: a new leader reads the agents from it before they re-register.
fn start_master(zk: &str, port: u16, session: u64) -> MasterProcess {
    let work_dir = tempfile::tempdir().expect("a work dir");
    let child = Command::new(env!("CARGO_BIN_EXE_mesos-master"))
        .args([
            format!("--zk={zk}"),
            "--registry=replicated_log".into(),
            "--quorum=1".into(),
            format!("--work_dir={}", work_dir.path().display()),
            "--ip=127.0.0.1".into(),
            format!("--port={port}"),
            format!("--zk_session_timeout={session}secs"),
            "--logging_level=WARNING".into(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mesos-master starts");
    MasterProcess {
        child,
        _work_dir: work_dir,
    }
}

/// `master/slaves_active` of the master at `port` if it leads and serves, else `None`.
async fn active_agents(client: &reqwest::Client, port: u16) -> Option<u64> {
    let answer = client
        .get(format!("http://127.0.0.1:{port}/metrics/snapshot"))
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    let metrics: serde_json::Value = answer.json().await.ok()?;
    metrics["master/slaves_active"].as_f64().map(|n| n as u64)
}

async fn wait_for_agents(client: &reqwest::Client, port: u16, agents: u64) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while active_agents(client, port).await != Some(agents) {
        assert!(
            Instant::now() < deadline,
            "agents never all registered at {port}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One failover: seconds from the SIGKILL to all agents active at the new leader.
async fn failover(zk: &str, agents: usize, session: u64) -> Duration {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let (first, second) = (free_port(), free_port());
    let mut leader = start_master(zk, first, session);
    // The first master leads before the second contends.
    let deadline = Instant::now() + Duration::from_secs(60);
    while active_agents(&client, first).await.is_none() {
        assert!(Instant::now() < deadline, "the first master never led");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _standby = start_master(zk, second, session);
    let agent_client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");
    let limit = Some(Arc::new(tokio::sync::Semaphore::new(256)));
    let standby = format!("127.0.0.1:{second}").parse().expect("address");
    let mut running = Vec::with_capacity(agents);
    for i in 0..agents {
        let mut options =
            SimulatedAgentOptions::new(format!("sim-{i}"), "cpus:4;mem:4096").expect("options");
        options.call_limit = limit.clone();
        // Through the standby, which redirects to the leader: after the failover the
        // standby leads and the agents find it at the same address.
        let agent = loop {
            match SimulatedAgent::start(agent_client.clone(), standby, options.clone()).await {
                Ok(agent) => break agent,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        running.push(agent);
    }
    wait_for_agents(&client, first, agents as u64).await;
    let (tx, subscriptions) = std::sync::mpsc::channel();
    let framework = FrameworkInfo {
        name: "failover-bench".into(),
        failover_timeout: Some(3600.0),
        ..Default::default()
    };
    let driver = SchedulerDriver::new(Subscriptions(tx), framework, zk).expect("driver");
    driver.start();
    subscribed(&subscriptions, first).await;
    let killed = Instant::now();
    let _ = leader.child.kill();
    let _ = leader.child.wait();
    wait_for_agents(&client, second, agents as u64).await;
    subscribed(&subscriptions, second).await;
    let elapsed = killed.elapsed();
    driver.abort();
    elapsed
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let agents: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let rounds: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(3);
    let session: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let zk = match zookeeper::ZooKeeper::start() {
        Ok(zk) => zk,
        Err(reason) => {
            eprintln!("failover bench needs ZooKeeper: {reason}");
            std::process::exit(1);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!("agents: {agents}, zk session timeout: {session} s, rounds: {rounds}");
    let mut times = Vec::new();
    for round in 0..rounds {
        let path = format!("/failover-{round}");
        let time = runtime.block_on(failover(&zk.url(&path), agents, session));
        println!("round {}: {:.2} s", round + 1, time.as_secs_f64());
        times.push(time);
    }
    times.sort();
    let median = times[times.len() / 2];
    println!(
        "failover, SIGKILL of the leader to all {agents} agents re-registered and the framework \
         re-subscribed: median {:.2} s (session timeout {session} s; {:+.2} s beyond it)",
        median.as_secs_f64(),
        median.as_secs_f64() - session as f64
    );
}
