//! How long `mesos-local --num_agents=2` takes from being spawned to having a framework
//! subscribed (the SUBSCRIBED event received), and to having both agents registered.
//!
//! Run with `cargo bench -p mesos-examples --bench mesos_local_start`; `MESOS_LOCAL_RUNS`
//! sets the number of runs (default 20).

use std::process::Stdio;
use std::time::{Duration, Instant};

use mesos_core::recordio;
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// The times of one run, from the spawn.
struct Run {
    subscribed: Duration,
    agents_registered: Duration,
}

async fn run() -> Run {
    let spawned = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_mesos-local"))
        .args(["--num_agents=2", "--port=0", "--logging_level=WARNING"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("mesos-local starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let master = loop {
        let line = lines.next_line().await.expect("stdout").expect("a line");
        if let Some(master) = line.strip_prefix("Master: ") {
            break master.to_string();
        }
    };

    let call = json!({"type": "SUBSCRIBE", "subscribe": {"framework_info": {
        "user": "root", "name": "mesos-local bench"}}});
    let mut response = reqwest::Client::new()
        .post(format!("{master}/api/v1/scheduler"))
        .header("content-type", "application/json")
        .header("accept", "application/json")
        .body(call.to_string())
        .send()
        .await
        .expect("subscribe request");
    let mut decoder = recordio::Decoder::default();
    let subscribed = 'stream: loop {
        let chunk = response.chunk().await.expect("stream").expect("a chunk");
        for record in decoder.decode(&chunk).expect("recordio") {
            let event: Value = serde_json::from_slice(&record).expect("JSON event");
            if event["type"] == "SUBSCRIBED" {
                break 'stream spawned.elapsed();
            }
        }
    };

    let agents_registered = loop {
        let line = lines.next_line().await.expect("stdout").expect("a line");
        if line.starts_with("Agents registered: ") {
            break spawned.elapsed();
        }
    };

    drop(response);
    let pid = nix::unistd::Pid::from_raw(child.id().expect("running") as i32);
    nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGINT).expect("SIGINT");
    let status = child.wait().await.expect("wait");
    assert!(status.success(), "{status}");
    Run {
        subscribed,
        agents_registered,
    }
}

fn summary(what: &str, mut times: Vec<Duration>) {
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "{what}: median {:.1} ms, min {:.1} ms, max {:.1} ms ({} runs)",
        ms(times[times.len() / 2]),
        ms(times[0]),
        ms(times[times.len() - 1]),
        times.len()
    );
}

fn main() {
    let runs: usize = std::env::var("MESOS_LOCAL_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
        .max(1);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let results: Vec<Run> = (0..runs).map(|_| runtime.block_on(run())).collect();
    summary(
        "mesos-local --num_agents=2, spawn to SUBSCRIBED",
        results.iter().map(|r| r.subscribed).collect(),
    );
    summary(
        "mesos-local --num_agents=2, spawn to both agents registered",
        results.iter().map(|r| r.agents_registered).collect(),
    );
}
