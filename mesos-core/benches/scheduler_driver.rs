//! Driver overhead: events per second from a master's event stream through the callback
//! `SchedulerDriver` into a `Scheduler`, against the same stream read by the bare
//! `SchedulerClient` (decode only) in the same run as the baseline.
//!
//! The stream comes from a canned master on 127.0.0.1 ([`mesos_core::scheduler::canned`])
//! that answers SUBSCRIBE with SUBSCRIBED and then `events` pre-encoded protobuf events,
//! alternating OFFERS (one offer of three resources) and UPDATE (TASK_RUNNING, no uuid so
//! nothing is acknowledged): a real master cannot produce events fast enough to measure
//! the driver.
//!
//! `cargo bench -p mesos-core --bench scheduler_driver -- [events] [runs]`
//! (defaults: 200000 events, 5 runs; the median is reported).

use std::time::{Duration, Instant};

use mesos_core::proto::mesos::v1::scheduler::{call, Call};
use mesos_core::scheduler::canned::{canned_master, canned_stream, time_rust_driver};
use mesos_core::scheduler::SchedulerClient;

fn through_client(master: &str, events: usize) -> Duration {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = SchedulerClient::new(mesos_core::http::Format::Protobuf);
        let subscribe = Call {
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe::default()),
            ..Default::default()
        };
        let start = Instant::now();
        let mut subscription = client
            .subscribe(master, &subscribe)
            .await
            .expect("subscribe");
        let mut seen = 0;
        while seen <= events {
            let event = subscription
                .events
                .next_event()
                .await
                .expect("event")
                .expect("more");
            std::hint::black_box(&event);
            seen += 1;
        }
        start.elapsed()
    })
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let events = args.first().copied().unwrap_or(200_000);
    let runs = args.get(1).copied().unwrap_or(5).max(1);
    let master = canned_master(canned_stream(events)).expect("a canned master on 127.0.0.1");
    let client = median((0..runs).map(|_| through_client(&master, events)).collect());
    let driver = median(
        (0..runs)
            .map(|_| time_rust_driver(&master, events))
            .collect(),
    );
    let rate = |d: Duration| events as f64 / d.as_secs_f64();
    println!("events per run: {events}, runs: {runs} (medians)");
    println!(
        "client (decode only): {:>10.0} events/s ({client:?})",
        rate(client)
    );
    println!(
        "callback driver:      {:>10.0} events/s ({driver:?})",
        rate(driver)
    );
    println!(
        "driver / client time: {:.2}",
        driver.as_secs_f64() / client.as_secs_f64()
    );
}
