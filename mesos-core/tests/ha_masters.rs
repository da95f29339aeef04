//! Three masters contending in a real ZooKeeper, in this process: one leads, the others
//! answer as Mesos' standby masters do (307 to the leader, /master/redirect), an agent
//! and a scheduler driver given `zk://` find the leader, and when the leader goes the next
//! is elected and both follow it.

#[allow(dead_code)]
mod agent_support;
#[allow(dead_code)]
mod common;
#[allow(dead_code)]
mod master_support;

use std::sync::mpsc::{channel, Sender};
use std::time::{Duration, Instant};

use common::zookeeper::zookeeper_or_skip;
use mesos_core::ha::ZkUrl;
use mesos_core::master::{Master, MasterOptions};
use mesos_core::proto::mesos::v1::{FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskStatus};
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
    let mut masters = Vec::new();
    for _ in 0..count {
        let options = MasterOptions {
            zk: Some(url.clone()),
            zk_session_timeout: Duration::from_secs(3),
            allocation_interval: Duration::from_millis(100),
            ..Default::default()
        };
        masters.push(Master::start(options).await.expect("master starts"));
    }
    masters
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
    options.zk_session_timeout = Duration::from_secs(3);
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
