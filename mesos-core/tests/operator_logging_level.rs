//! SET_LOGGING_LEVEL and GET_LOGGING_LEVEL through the operator APIs of a real master and
//! agent in this process. The verbosity is one setting per process, as glog's is in
//! Mesos, so this is the only test in its binary.

#[allow(dead_code)]
mod agent_support;
#[allow(dead_code)]
mod master_support;

use std::net::SocketAddr;
use std::time::Duration;

use agent_support::TestCluster;
use master_support::operator_call;
use serde_json::{json, Value};

async fn level(api: SocketAddr) -> u64 {
    let (code, body) = operator_call(api, json!({"type": "GET_LOGGING_LEVEL"})).await;
    assert_eq!(code, 200, "{body}");
    body["get_logging_level"]["level"]
        .as_u64()
        .unwrap_or_else(|| panic!("no level in {body}"))
}

fn set(level: u32, nanoseconds: i64) -> Value {
    json!({
        "type": "SET_LOGGING_LEVEL",
        "set_logging_level": {"level": level, "duration": {"nanoseconds": nanoseconds}}
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_logging_level_is_raised_for_a_while_on_the_master_and_the_agent() {
    let cluster = TestCluster::start("cpus:1;mem:128", |_| {}).await;
    let (master, agent) = (cluster.master.addr(), cluster.agent.addr());
    assert_eq!((level(master).await, level(agent).await), (0, 0));

    for api in [master, agent] {
        let (code, body) = operator_call(api, set(1, -5)).await;
        assert_eq!(code, 400, "{body}");
        assert!(body.to_string().contains("-5"), "{body}");
        let (code, body) = operator_call(api, json!({"type": "SET_LOGGING_LEVEL"})).await;
        assert_eq!(code, 400, "{body}");
        assert!(body.to_string().contains("set_logging_level"), "{body}");
    }
    assert_eq!(level(master).await, 0, "a refused call changes nothing");

    let (code, body) = operator_call(master, set(1, 60_000_000_000)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!((level(master).await, level(agent).await), (1, 1));

    let (code, body) = operator_call(agent, set(2, 300_000_000)).await;
    assert_eq!(code, 200, "{body}");
    assert_eq!(level(master).await, 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while level(agent).await != 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the level did not go back to 0 after its duration"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        level(master).await,
        0,
        "the earlier, longer setting was replaced"
    );
    cluster.stop().await;
}
