//! Three masters contending in a real ZooKeeper, in this process: one leads, the others
//! answer as Mesos' standby masters do (307 to the leader, /master/redirect), an agent
//! and a scheduler driver given `zk://` find the leader, and when the leader goes the next
//! is elected and both follow it. With the registry in ZooKeeper, a new leader knows the
//! old leader's agents, and a leader whose registry another master took over stops.

#[allow(dead_code)]
mod agent_support;
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod master_support;

use std::sync::mpsc::{channel, Sender};
use std::time::{Duration, Instant};

use common::zookeeper::{zookeeper_or_skip, ZooKeeper};
use mesos_core::ha::ZkUrl;
use mesos_core::master::{Master, MasterOptions, RegistryStore};
use mesos_core::proto::mesos::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
use mesos_core::registry::{Registry, ZkRegistry, ZkRegistryOptions};
use mesos_core::scheduler::{Scheduler, SchedulerDriver};

const WAIT: Duration = Duration::from_secs(30);

/// What the test scheduler heard.
#[derive(Debug)]
enum Heard {
    Registered(u32),
    Reregistered(u32),
    Offers(usize),
}

struct Listener(Sender<Heard>);

impl Scheduler for Listener {
    fn registered(&mut self, _: &SchedulerDriver, _: &FrameworkId, master: &MasterInfo) {
        let _ = self.0.send(Heard::Registered(master.port));
    }
    fn reregistered(&mut self, _: &SchedulerDriver, master: &MasterInfo) {
        let _ = self.0.send(Heard::Reregistered(master.port));
    }
    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        let _ = self.0.send(Heard::Offers(offers.len()));
        for offer in offers {
            driver.decline_offer(&offer.id, None);
        }
    }
    fn status_update(&mut self, _: &SchedulerDriver, _: &TaskStatus) {}
}

async fn masters(url: &ZkUrl, count: usize) -> Vec<Master> {
    masters_with(url, count, |_| {}).await
}

/// `count` masters contending at `url`, their options changed by `configure`.
async fn masters_with(
    url: &ZkUrl,
    count: usize,
    configure: impl Fn(&mut MasterOptions),
) -> Vec<Master> {
    let mut masters = Vec::new();
    for _ in 0..count {
        let mut options = MasterOptions {
            zk: Some(url.clone()),
            zk_session_timeout: Duration::from_secs(5),
            allocation_interval: Duration::from_millis(100),
            ..Default::default()
        };
        configure(&mut options);
        masters.push(Master::start(options).await.expect("master starts"));
    }
    masters
}

/// A ZooKeeper server and `count` masters on it keeping their registry there, their
/// options changed by `configure`; `None` when the test is skipped.
async fn masters_on_zookeeper_registry(
    count: usize,
    configure: impl Fn(&mut MasterOptions),
) -> Option<(ZooKeeper, ZkUrl, Vec<Master>)> {
    let zk = zookeeper_or_skip()?;
    let (url, masters) = masters_on_zookeeper_registry_at(&zk, count, configure).await;
    Some((zk, url, masters))
}

/// `count` masters on `zk` under `/mesos`, keeping their registry there.
async fn masters_on_zookeeper_registry_at(
    zk: &ZooKeeper,
    count: usize,
    configure: impl Fn(&mut MasterOptions),
) -> (ZkUrl, Vec<Master>) {
    let url = ZkUrl::parse(&zk.url("/mesos")).unwrap();
    let masters = masters_with(&url, count, |options| {
        options.registry = RegistryStore::ZooKeeper(url.clone());
        configure(options);
    })
    .await;
    (url, masters)
}

/// `GET <master><path>` as JSON.
async fn get_json(master: &Master, path: &str) -> serde_json::Value {
    no_redirects()
        .get(format!("http://{}{path}", master.addr()))
        .send()
        .await
        .expect("request")
        .bytes()
        .await
        .map(|body| serde_json::from_slice(&body).expect("JSON"))
        .expect("body")
}

/// The index of the one leading master, once exactly one leads.
async fn leader(masters: &[Master]) -> usize {
    let deadline = Instant::now() + WAIT;
    loop {
        let leading: Vec<usize> = (0..masters.len())
            .filter(|&i| masters[i].is_leading())
            .collect();
        if leading.len() == 1 {
            return leading[0];
        }
        assert!(leading.len() < 2, "two leaders at once: {leading:?}");
        assert!(Instant::now() < deadline, "no leader within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

#[tokio::test(flavor = "multi_thread")]
async fn standbys_redirect_and_everyone_follows_a_new_leader() {
    let Some(zk) = zookeeper_or_skip() else {
        return;
    };
    let url = ZkUrl::parse(&zk.url("/mesos")).unwrap();
    let mut masters = masters(&url, 3).await;
    let first = leader(&masters).await;
    let leading = masters[first].addr().to_string();

    let http = no_redirects();
    for (i, master) in masters.iter().enumerate().filter(|(i, _)| *i != first) {
        let base = format!("http://{}", master.addr());
        // A standby answers 503 until its detector has read the leader from ZooKeeper.
        let deadline = Instant::now() + WAIT;
        let redirect = loop {
            let answer = http
                .get(format!("{base}/master/redirect"))
                .send()
                .await
                .expect("redirect");
            if answer.status() != 503 || Instant::now() > deadline {
                break answer;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert_eq!(redirect.status(), 307, "standby {i}");
        assert_eq!(redirect.headers()["location"], format!("//{leading}"));
        let scheduler = http
            .post(format!("{base}/api/v1/scheduler"))
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .expect("scheduler call");
        assert_eq!(scheduler.status(), 307, "standby {i}");
        assert_eq!(
            scheduler.headers()["location"],
            format!("//{leading}/api/v1/scheduler")
        );
        let state = http
            .get(format!("{base}/master/state?jsonp=x"))
            .send()
            .await
            .expect("state");
        assert_eq!(
            state.headers()["location"],
            format!("//{leading}/master/state?jsonp=x")
        );
        let health = http
            .get(format!("{base}/health"))
            .send()
            .await
            .expect("health");
        assert_eq!(health.status(), 200, "any master is healthy");
    }

    let work = tempfile::tempdir().expect("work dir");
    let mut options = agent_support::agent_options(
        masters[first].addr(),
        work.path(),
        "cpus:1;mem:256;disk:256",
    );
    options.master = url.to_string();
    options.zk_session_timeout = Duration::from_secs(5);
    let agent = agent_support::agent(options).await;

    let (tx, heard) = channel();
    let framework = FrameworkInfo {
        name: "ha-follower".into(),
        failover_timeout: Some(3600.0),
        ..Default::default()
    };
    let driver = SchedulerDriver::new(Listener(tx), framework, &url.to_string()).expect("driver");
    driver.start();
    let wait = |want: &dyn Fn(&Heard) -> bool| {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match heard.recv_timeout(left) {
                Ok(h) if want(&h) => return h,
                Ok(_) => continue,
                Err(e) => panic!("nothing expected heard within {WAIT:?}: {e}"),
            }
        }
    };
    let port = masters[first].addr().port();
    let registered = wait(&|h| matches!(h, Heard::Registered(_)));
    assert!(matches!(registered, Heard::Registered(p) if p == u32::from(port)));
    wait(&|h| matches!(h, Heard::Offers(n) if *n > 0));

    let old = masters.remove(first);
    old.stop().await;
    let second = leader(&masters).await;
    let new_port = u32::from(masters[second].addr().port());
    let back = wait(&|h| matches!(h, Heard::Registered(_) | Heard::Reregistered(_)));
    assert!(
        matches!(back, Heard::Registered(p) | Heard::Reregistered(p) if p == new_port),
        "the driver followed the new leader: {back:?}"
    );
    assert_eq!(
        driver.framework_id().map(|id| !id.value.is_empty()),
        Some(true)
    );
    wait(&|h| matches!(h, Heard::Offers(n) if *n > 0));

    driver.stop(false);
    agent.stop().await;
    for master in masters {
        master.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_leader_recovers_the_old_leaders_agents_from_the_zookeeper_registry() {
    let Some((_zk, _, mut masters)) = masters_on_zookeeper_registry(2, |options| {
        options.agent_reregister_timeout = Duration::from_secs(2);
    })
    .await
    else {
        return;
    };
    let first = leader(&masters).await;
    let agent = master_support::agent(masters[first].addr(), "zk-agent", "cpus:1;mem:128").await;
    let id = agent.id().to_string();
    // The agent goes with the old leader: it will not reregister with the new one.
    drop(agent);
    masters.remove(first).stop().await;

    let new = &masters[leader(&masters).await];
    let slaves = get_json(new, "/master/slaves").await;
    let recovered: Vec<&str> = slaves["recovered_slaves"]
        .as_array()
        .expect("recovered_slaves")
        .iter()
        .filter_map(|agent| agent["id"].as_str())
        .collect();
    assert_eq!(recovered, [id.as_str()], "{slaves}");
    // After --agent_reregister_timeout the agent that did not return is unreachable.
    let deadline = Instant::now() + WAIT;
    loop {
        let state = get_json(new, "/master/state").await;
        if state["unreachable_slaves"] == 1.0 {
            break;
        }
        assert!(Instant::now() < deadline, "not marked unreachable: {state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for master in masters {
        master.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leader_whose_registry_another_master_took_over_stops_leading() {
    let Some((_zk, url, mut masters)) = masters_on_zookeeper_registry(1, |_| {}).await else {
        return;
    };
    leader(&masters).await;
    // Another registry recovers, and so claims, the registry behind the leader's back.
    let mut usurper = ZkRegistry::open(&url, ZkRegistryOptions::default()).expect("open");
    let state = usurper.recover().expect("recover");
    assert!(state.master.is_some(), "the leader recorded its MasterInfo");

    let master = masters.remove(0);
    let answer = no_redirects()
        .post(format!("http://{}/api/v1", master.addr()))
        .header("content-type", "application/json")
        .body(r#"{"type":"UPDATE_WEIGHTS","update_weights":{"weight_infos":[{"role":"dev","weight":2.0}]}}"#)
        .send()
        .await
        .expect("UPDATE_WEIGHTS");
    assert_eq!(answer.status(), 503, "the write was refused");
    let reason = tokio::time::timeout(WAIT, master.leadership_lost())
        .await
        .expect("the master stops leading");
    assert!(reason.contains("taken over"), "{reason}");
    assert!(!master.is_leading());
    assert!(usurper.recover().expect("state").weights.is_empty());
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_master_refuses_to_lead_on_a_corrupt_registry_and_leaves_it_as_it_is() {
    let Some(zk) = zookeeper_or_skip() else {
        return;
    };
    let url = ZkUrl::parse(&zk.url("/mesos")).unwrap();
    let client = zookeeper_client::Client::connect(&zk.server())
        .await
        .expect("connect");
    let options =
        zookeeper_client::CreateMode::Persistent.with_acls(zookeeper_client::Acls::anyone_all());
    client.mkdir("/mesos", &options).await.expect("mkdir");
    let node = ZkRegistry::node_of(&url);
    client
        .create(&node, b"not a manifest", &options)
        .await
        .expect("create");

    let (_, masters) = masters_on_zookeeper_registry_at(&zk, 1, |_| {}).await;
    let master = masters.into_iter().next().expect("a master");
    let reason = tokio::time::timeout(WAIT, master.leadership_lost())
        .await
        .expect("the master gives up leading");
    assert!(reason.contains("corrupt registry node"), "{reason}");
    assert!(!master.is_leading());
    let (data, _) = client.get_data(&node).await.expect("still there");
    assert_eq!(data, b"not a manifest", "the registry is untouched");
    master.stop().await;
}
