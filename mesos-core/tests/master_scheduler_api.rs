//! The master's scheduler API end to end: a real `Master` on 127.0.0.1, simulated agents
//! speaking the internal protocol, and a JSON scheduler client.

#[allow(dead_code)]
mod master_support;

use std::time::Duration;

use master_support::{agent, framework_info, scalars, TestScheduler};
use mesos_core::master::{Master, MasterOptions};
use serde_json::json;

async fn master() -> Master {
    Master::start(MasterOptions {
        allocation_interval: Duration::from_millis(100),
        ..MasterOptions::default()
    })
    .await
    .expect("master starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn launch_update_acknowledge_kill() {
    let master = master().await;
    let agent = agent(master.addr(), "host1", "cpus:4;mem:4096").await;
    let mut scheduler = TestScheduler::subscribe(
        master.addr(),
        framework_info("launcher", "web", &["TASK_KILLING_STATE"]),
    )
    .await;
    assert_eq!(
        scheduler.subscribed["subscribed"]["heartbeat_interval_seconds"],
        15.0
    );
    let offer = scheduler.offer().await;
    assert_eq!(offer["agent_id"]["value"], agent.id());
    assert_eq!(offer["allocation_info"]["role"], "web");
    let (code, body) = scheduler
        .launch(
            &offer,
            "t1",
            scalars("web", &[("cpus", 1.0), ("mem", 128.0)]),
        )
        .await;
    assert_eq!(code, 202, "{body}");
    let running = scheduler.next("UPDATE").await;
    assert_eq!(running["update"]["status"]["state"], "TASK_RUNNING");
    assert_eq!(running["update"]["status"]["task_id"]["value"], "t1");
    assert!(running["update"]["status"]["uuid"].is_string());
    scheduler.acknowledge(&running).await;

    // The unused part of the offer comes back (refuse_seconds 0) without the task's share.
    let offer = scheduler.offer().await;
    let cpus = offer["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "cpus")
        .unwrap()["scalar"]["value"]
        .as_f64()
        .unwrap();
    assert_eq!(cpus, 3.0);

    let (code, body) = scheduler
        .call(json!({"type": "KILL", "kill": {"task_id": {"value": "t1"}}}))
        .await;
    assert_eq!(code, 202, "{body}");
    let killed = scheduler.next("UPDATE").await;
    assert_eq!(killed["update"]["status"]["state"], "TASK_KILLED");
    scheduler.acknowledge(&killed).await;
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_launch_is_task_error_and_invalid_offer_is_dropped() {
    let master = master().await;
    let _agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut scheduler = TestScheduler::subscribe(
        master.addr(),
        framework_info("bad", "*", &["PARTITION_AWARE"]),
    )
    .await;
    let offer = scheduler.offer().await;
    // More cpus than offered.
    let (code, _) = scheduler
        .launch(&offer, "big", scalars("*", &[("cpus", 64.0)]))
        .await;
    assert_eq!(code, 202);
    let error = scheduler.next("UPDATE").await;
    assert_eq!(error["update"]["status"]["state"], "TASK_ERROR");
    assert_eq!(error["update"]["status"]["reason"], "REASON_TASK_INVALID");
    assert_eq!(error["update"]["status"]["source"], "SOURCE_MASTER");
    // The same offer again: no longer valid.
    let (code, _) = scheduler
        .launch(&offer, "late", scalars("*", &[("cpus", 1.0)]))
        .await;
    assert_eq!(code, 202);
    let dropped = scheduler.next("UPDATE").await;
    assert_eq!(dropped["update"]["status"]["state"], "TASK_DROPPED");
    assert_eq!(
        dropped["update"]["status"]["reason"],
        "REASON_INVALID_OFFERS"
    );
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn decline_filters_the_agent_until_revive() {
    let master = master().await;
    let _agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("decliner", "*", &[])).await;
    let offer = scheduler.offer().await;
    let (code, _) = scheduler
        .call(json!({"type": "DECLINE", "decline": {
            "offer_ids": [offer["id"]], "filters": {"refuse_seconds": 3600.0}}}))
        .await;
    assert_eq!(code, 202);
    // Several allocation intervals pass without a new offer.
    let quiet = scheduler
        .next_within("OFFERS", Duration::from_millis(600))
        .await;
    assert!(quiet.is_none(), "unexpected event {quiet:?}");
    let (code, _) = scheduler.call(json!({"type": "REVIVE"})).await;
    assert_eq!(code, 202);
    scheduler.offer().await;
    // Suppressed: nothing more comes even after a decline without filter.
    let (code, _) = scheduler.call(json!({"type": "SUPPRESS"})).await;
    assert_eq!(code, 202);
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_explicit_and_implicit() {
    let master = master().await;
    let agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut scheduler = TestScheduler::subscribe(
        master.addr(),
        framework_info("reconciler", "*", &["PARTITION_AWARE"]),
    )
    .await;
    let offer = scheduler.offer().await;
    scheduler
        .launch(&offer, "t1", scalars("*", &[("cpus", 1.0)]))
        .await;
    let running = scheduler.next("UPDATE").await;
    scheduler.acknowledge(&running).await;

    let (code, _) = scheduler
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": []}}))
        .await;
    assert_eq!(code, 202);
    let update = scheduler.next("UPDATE").await;
    assert_eq!(update["update"]["status"]["state"], "TASK_RUNNING");
    assert_eq!(
        update["update"]["status"]["reason"],
        "REASON_RECONCILIATION"
    );
    assert!(update["update"]["status"].get("uuid").is_none());

    let (code, _) = scheduler
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": [
            {"task_id": {"value": "nope"}, "agent_id": {"value": agent.id()}},
            {"task_id": {"value": "nowhere"}}
        ]}}))
        .await;
    assert_eq!(code, 202);
    let gone = scheduler.next("UPDATE").await;
    assert_eq!(gone["update"]["status"]["task_id"]["value"], "nope");
    assert_eq!(gone["update"]["status"]["state"], "TASK_GONE");
    let unknown = scheduler.next("UPDATE").await;
    assert_eq!(unknown["update"]["status"]["state"], "TASK_UNKNOWN");
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failover_keeps_tasks_and_second_subscriber_takes_over() {
    let master = master().await;
    let _agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut info = framework_info("failover", "*", &[]);
    info["failover_timeout"] = json!(3600.0);
    let mut first = TestScheduler::subscribe(master.addr(), info.clone()).await;
    let offer = first.offer().await;
    first
        .launch(&offer, "t1", scalars("*", &[("cpus", 1.0)]))
        .await;
    let running = first.next("UPDATE").await;
    first.acknowledge(&running).await;

    info["id"] = json!({"value": first.framework_id});
    let mut second = TestScheduler::subscribe(master.addr(), info).await;
    assert_eq!(second.framework_id, first.framework_id);
    let error = first.next("ERROR").await;
    assert_eq!(error["error"]["message"], "Framework failed over");
    // The old stream id no longer works.
    let (code, body) = first.call(json!({"type": "REVIVE"})).await;
    assert_eq!(code, 400, "{body}");
    assert!(body.contains("didn't match"), "{body}");
    // The task survived.
    let (code, _) = second
        .call(json!({"type": "RECONCILE", "reconcile": {"tasks": []}}))
        .await;
    assert_eq!(code, 202);
    let update = second.next("UPDATE").await;
    assert_eq!(update["update"]["status"]["task_id"]["value"], "t1");
    assert_eq!(update["update"]["status"]["state"], "TASK_RUNNING");
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teardown_kills_tasks_and_forgets_the_framework() {
    let master = master().await;
    let agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("torn", "*", &[])).await;
    let offer = scheduler.offer().await;
    scheduler
        .launch(&offer, "t1", scalars("*", &[("cpus", 1.0)]))
        .await;
    let running = scheduler.next("UPDATE").await;
    scheduler.acknowledge(&running).await;
    let (code, _) = scheduler.call(json!({"type": "TEARDOWN"})).await;
    assert_eq!(code, 202);
    // The agent was told to shut the framework down.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !agent.tasks().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            agent.tasks()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, body) = scheduler.call(json!({"type": "REVIVE"})).await;
    assert_eq!(code, 404, "{body}");
    // Its id may not subscribe again.
    let again = reqwest::Client::new()
        .post(format!("http://{}/api/v1/scheduler", master.addr()))
        .header("content-type", "application/json")
        .body(
            json!({"type": "SUBSCRIBE", "framework_id": {"value": scheduler.framework_id},
                   "subscribe": {"framework_info": {"user": "root", "name": "torn",
                   "id": {"value": scheduler.framework_id}}}})
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 403);
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_calls_get_reasons_and_change_nothing() {
    let master = master().await;
    let scheduler =
        TestScheduler::subscribe(master.addr(), framework_info("picky", "*", &[])).await;
    let url = format!("http://{}/api/v1/scheduler", master.addr());
    let client = reqwest::Client::new();
    let post = |ctype: &'static str, body: Vec<u8>| {
        client
            .post(&url)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let r = post("text/plain", b"{}".to_vec()).await.unwrap();
    assert_eq!(r.status(), 415);
    let r = post("application/json", b"{not json".to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post("application/x-protobuf", vec![0xff, 0xff, 0xff])
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = post("application/json", br#"{"type": "TEARDOWN"}"#.to_vec())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.text().await.unwrap(),
        "Failed to validate scheduler::Call: Expecting 'framework_id' to be present"
    );
    let r = client
        .post(&url)
        .header("content-type", "application/json")
        .header("accept", "text/html")
        .body(json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {"user": "u", "name": "n"}}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 406);
    // Missing and wrong stream ids.
    let teardown = json!({"type": "TEARDOWN", "framework_id": {"value": scheduler.framework_id}});
    let (code, body) = scheduler.call_with(teardown.clone(), None).await;
    assert_eq!(code, 400);
    assert!(body.contains("Mesos-Stream-Id"), "{body}");
    let (code, _) = scheduler.call_with(teardown.clone(), Some("bogus")).await;
    assert_eq!(code, 400);
    // Unknown framework.
    let (code, _) = scheduler
        .call_with(
            json!({"type": "REVIVE", "framework_id": {"value": "nobody"}}),
            Some(&scheduler.stream_id),
        )
        .await;
    assert_eq!(code, 404);
    // Oversized body: refused on its declared length, before it is sent.
    let addr = master.addr();
    let head = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        write!(
            stream,
            "POST /api/v1/scheduler HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n",
            (64 << 20) + 1
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    })
    .await
    .unwrap();
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    // None of it changed the framework: it still works.
    let (code, body) = scheduler.call(json!({"type": "REVIVE"})).await;
    assert_eq!(code, 202, "{body}");
    let r = client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 405);
    master.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_agent_tasks_are_unreachable_or_lost() {
    let master = Master::start(MasterOptions {
        allocation_interval: Duration::from_millis(100),
        agent_ping_timeout: Duration::from_millis(200),
        max_agent_ping_timeouts: 2,
        ..MasterOptions::default()
    })
    .await
    .unwrap();
    let agent = agent(master.addr(), "host1", "cpus:2;mem:1024").await;
    let mut aware = TestScheduler::subscribe(
        master.addr(),
        framework_info("aware", "a", &["PARTITION_AWARE"]),
    )
    .await;
    let mut plain =
        TestScheduler::subscribe(master.addr(), framework_info("plain", "b", &[])).await;
    for scheduler in [&mut aware, &mut plain] {
        let offer = scheduler.offer().await;
        let role = offer["allocation_info"]["role"]
            .as_str()
            .unwrap()
            .to_string();
        scheduler
            .launch(&offer, "t", scalars(&role, &[("cpus", 0.5)]))
            .await;
        let running = scheduler.next("UPDATE").await;
        assert_eq!(running["update"]["status"]["state"], "TASK_RUNNING");
        scheduler.acknowledge(&running).await;
    }
    agent.answer_pings(false);
    let update = aware.next("UPDATE").await;
    assert_eq!(update["update"]["status"]["state"], "TASK_UNREACHABLE");
    assert!(update["update"]["status"]["unreachable_time"].is_object());
    let update = plain.next("UPDATE").await;
    assert_eq!(update["update"]["status"]["state"], "TASK_LOST");
    master.stop().await;
}
