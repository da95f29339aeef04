//! Arbitrary bytes posted to a live master's APIs (scheduler, operator, agent protocol), in
//! either content type, always get a 4xx with a reason, never a 5xx, a panic or a hang;
//! afterwards the master still serves a valid subscription.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc;
use std::time::Duration;

use mesos_core::master::{Master, MasterOptions};
use proptest::prelude::*;

/// Starts a master on its own runtime thread; the thread keeps it running.
fn master() -> SocketAddr {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async move {
            let master = Master::start(MasterOptions::default())
                .await
                .expect("master starts");
            tx.send(master.addr()).expect("address sent");
            std::future::pending::<()>().await;
        });
    });
    rx.recv().expect("master address")
}

/// POSTs `body` as `content_type` to `path`; the status code and body.
fn post(addr: SocketAddr, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Accept: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("send head");
    stream.write_all(body).expect("send body");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("answer within 10 s");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

const PATHS: [&str; 3] = ["/api/v1/scheduler", "/api/v1", "/master/internal/agent"];
const TYPES: [&str; 2] = ["application/json", "application/x-protobuf"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn arbitrary_bodies_get_a_4xx(
        body in prop::collection::vec(any::<u8>(), 0..512),
        path in 0..PATHS.len(),
        content_type in 0..TYPES.len(),
    ) {
        static ADDR: std::sync::OnceLock<SocketAddr> = std::sync::OnceLock::new();
        let addr = *ADDR.get_or_init(master);
        let (status, reason) = post(addr, PATHS[path], TYPES[content_type], &body);
        prop_assert!((400..500).contains(&status), "{} -> {status} {reason}", PATHS[path]);
        prop_assert!(!reason.is_empty(), "a 4xx without a reason");
    }
}

#[test]
fn master_still_serves_after_garbage() {
    let addr = master();
    for body in [&b"\xff\xff\xff"[..], b"{", b"[]", b"{\"type\": 7}"] {
        for path in PATHS {
            let (status, _) = post(addr, path, "application/json", body);
            assert!((400..500).contains(&status), "{path} -> {status}");
        }
    }
    let subscribe =
        br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#;
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /api/v1/scheduler HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Accept: application/json\r\nContent-Length: {}\r\n\r\n",
        subscribe.len()
    )
    .unwrap();
    stream.write_all(subscribe).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut buffer = [0u8; 4096];
    let mut seen = Vec::new();
    while !String::from_utf8_lossy(&seen).contains("SUBSCRIBED") {
        let n = stream.read(&mut buffer).expect("SUBSCRIBED within 10 s");
        assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buffer[..n]);
    }
    assert!(String::from_utf8_lossy(&seen).starts_with("HTTP/1.1 200"));
}
