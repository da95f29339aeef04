//! Leader election and detection on a real ZooKeeper server: the lowest contender leads,
//! the next takes over when it withdraws, detectors follow (and wake clients backing off
//! from the old leader), a leader cut off from
//! ZooKeeper stops leading within its session timeout, and the nodes are laid out as
//! Apache Mesos lays them out.

#[allow(dead_code)]
mod common;

use std::time::Duration;

use common::zookeeper::zookeeper_or_skip;
use mesos_core::ha::{Leadership, MasterContender, ZkDetector, ZkUrl};
use mesos_core::proto::mesos::v1::{Address, MasterInfo};
use mesos_core::scheduler::MasterDetector;

const WAIT: Duration = Duration::from_secs(20);

fn info(port: u16) -> MasterInfo {
    MasterInfo {
        id: format!("master-{port}"),
        ip: 0x0100007f,
        port: u32::from(port),
        hostname: Some("localhost".into()),
        address: Some(Address {
            hostname: Some("localhost".into()),
            ip: Some("127.0.0.1".into()),
            port: i32::from(port),
        }),
        ..Default::default()
    }
}

async fn contend(url: &ZkUrl, port: u16, timeout: Duration) -> MasterContender {
    MasterContender::contend(url, &info(port), timeout)
        .await
        .expect("joins the group")
}

/// Waits until `detector` names `expected`.
async fn detected(detector: &ZkDetector, expected: &str) {
    let mut leader = detector.leader().await;
    let found = tokio::time::timeout(WAIT, leader.wait_for(|l| l.as_deref() == Some(expected)))
        .await
        .is_ok();
    assert!(
        found,
        "the detector saw {:?}, not {expected}",
        *leader.borrow()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_lowest_contender_leads_and_the_next_takes_over() {
    let Some(zk) = zookeeper_or_skip() else {
        return;
    };
    let url = ZkUrl::parse(&zk.url("/mesos")).unwrap();
    let timeout = Duration::from_secs(4);
    let first = contend(&url, 5051, timeout).await;
    tokio::time::timeout(WAIT, first.elected())
        .await
        .expect("elected in time")
        .expect("elected");
    let second = contend(&url, 5052, timeout).await;
    let third = contend(&url, 5053, timeout).await;
    assert!(first.is_leading());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(*second.leadership().borrow(), Leadership::Contending);
    assert!(!second.is_leading() && !third.is_leading());

    let detector = ZkDetector::with_session_timeout(url.clone(), timeout);
    detected(&detector, "127.0.0.1:5051").await;
    assert_eq!(detector.detect(None).await.unwrap(), "127.0.0.1:5051");

    drop(first);
    tokio::time::timeout(WAIT, second.elected())
        .await
        .expect("the next is elected in time")
        .expect("elected");
    assert!(second.is_leading());
    assert!(!third.is_leading(), "only one leader");
    detected(&detector, "127.0.0.1:5052").await;
    assert_eq!(
        detector.detect(Some("127.0.0.1:5051")).await.unwrap(),
        "127.0.0.1:5052",
        "a failed leader's successor is detected"
    );

    let changed = detector.leader_changed(Some("127.0.0.1:5052"));
    tokio::pin!(changed);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut changed)
            .await
            .is_err(),
        "no change is seen while the same master leads"
    );
    drop(second);
    tokio::time::timeout(WAIT, changed)
        .await
        .expect("a client backing off from the old leader hears of the new one");
    tokio::time::timeout(WAIT, third.elected())
        .await
        .expect("the last is elected in time")
        .expect("elected");
    detected(&detector, "127.0.0.1:5053").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nodes_are_laid_out_as_apache_mesos_detectors_read_them() {
    let Some(zk) = zookeeper_or_skip() else {
        return;
    };
    let url = ZkUrl::parse(&zk.url("/deep/mesos")).unwrap();
    let contender = contend(&url, 5050, Duration::from_secs(4)).await;
    let client = zookeeper_client::Client::connect(&zk.server())
        .await
        .expect("connect");
    let children = client.list_children("/deep/mesos").await.expect("children");
    assert_eq!(children.len(), 1, "{children:?}");
    let name = &children[0];
    let sequence = name.strip_prefix("json.info_").expect("json.info_ prefix");
    assert!(
        sequence.len() == 10 && sequence.bytes().all(|b| b.is_ascii_digit()),
        "{name}"
    );
    assert_eq!(contender.node(), format!("/deep/mesos/{name}"));
    let (data, stat) = client
        .get_data(&format!("/deep/mesos/{name}"))
        .await
        .expect("data");
    assert!(stat.ephemeral_owner != 0, "the node is ephemeral");
    let json: serde_json::Value = serde_json::from_slice(&data).expect("MasterInfo JSON");
    assert_eq!(json["address"]["ip"], "127.0.0.1");
    assert_eq!(json["address"]["port"], 5050);
    assert_eq!(json["id"], "master-5050");
    assert_eq!(json["port"], 5050);
    assert_eq!(
        mesos_core::ha::leader_address(&data).unwrap(),
        "127.0.0.1:5050"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_leader_cut_off_from_zookeeper_stops_leading_within_its_session_timeout() {
    let Some(mut zk) = zookeeper_or_skip() else {
        return;
    };
    let url = ZkUrl::parse(&zk.url("/mesos")).unwrap();
    let timeout = Duration::from_secs(2);
    let leader = contend(&url, 5050, timeout).await;
    tokio::time::timeout(WAIT, leader.elected())
        .await
        .expect("elected in time")
        .expect("elected");
    let leading = leader.lease_check();
    assert!(leading());
    let cut_at = std::time::Instant::now();
    zk.kill();
    while leading() {
        assert!(cut_at.elapsed() < WAIT, "still leading without ZooKeeper");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let stopped = cut_at.elapsed();
    assert!(
        stopped < timeout,
        "a cut-off leader must stop acting before ZooKeeper can elect another: {stopped:?}"
    );
    let reason = tokio::time::timeout(WAIT, leader.lost())
        .await
        .expect("the candidacy ends");
    assert!(reason.contains("ZooKeeper"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_zookeeper_and_bad_urls_are_errors() {
    let url = ZkUrl::parse("zk://127.0.0.1:1/mesos").unwrap();
    let error = MasterContender::contend(&url, &info(5050), Duration::from_secs(1))
        .await
        .expect_err("nothing listens on port 1");
    assert!(error.to_string().contains("127.0.0.1:1"), "{error}");
    let bad = mesos_core::scheduler::detector_for("zk://nohost/mesos").unwrap_err();
    assert!(bad.to_string().contains("host:port"), "{bad}");
}
