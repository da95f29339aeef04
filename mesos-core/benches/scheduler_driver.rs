//! Driver overhead: events per second from a master's event stream through the callback
//! `SchedulerDriver` into a `Scheduler`, against the same stream read by the bare
//! `SchedulerClient` (decode only) in the same run as the baseline.
//!
//! The stream comes from a canned master on 127.0.0.1 that answers SUBSCRIBE with
//! SUBSCRIBED and then `events` pre-encoded protobuf events, alternating OFFERS (one offer
//! of three resources) and UPDATE (TASK_RUNNING, no uuid so nothing is acknowledged): a
//! real master cannot produce events fast enough to measure the driver.
//!
//! `cargo bench -p mesos-core --bench scheduler_driver -- [events] [runs]`
//! (defaults: 200000 events, 5 runs; the median is reported).

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Sender};
use std::time::{Duration, Instant};

use mesos_core::proto::mesos::v1::scheduler::{call, event, Call, Event};
use mesos_core::proto::mesos::v1::{
    value, AgentId, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId, Resource, TaskId,
    TaskState, TaskStatus,
};
use mesos_core::scheduler::{Scheduler, SchedulerClient, SchedulerDriver};
use prost::Message;

fn scalar(name: &str, value: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value }),
        ..Default::default()
    }
}

/// The whole HTTP answer to SUBSCRIBE: headers, then `events` events in RecordIO, chunked.
fn canned_stream(events: usize) -> Vec<u8> {
    let mut body = Vec::new();
    let subscribed = Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId {
                value: "bench".into(),
            },
            heartbeat_interval_seconds: Some(15.0),
            master_info: None,
        }),
        ..Default::default()
    };
    mesos_core::recordio::encode_into(&subscribed.encode_to_vec(), &mut body);
    for i in 0..events {
        let event = if i % 2 == 0 {
            Event {
                r#type: Some(event::Type::Offers as i32),
                offers: Some(event::Offers {
                    offers: vec![Offer {
                        id: OfferId {
                            value: format!("o{i}"),
                        },
                        framework_id: FrameworkId {
                            value: "bench".into(),
                        },
                        agent_id: AgentId { value: "a".into() },
                        hostname: "localhost".into(),
                        resources: vec![
                            scalar("cpus", 4.0),
                            scalar("mem", 4096.0),
                            scalar("disk", 1024.0),
                        ],
                        ..Default::default()
                    }],
                }),
                ..Default::default()
            }
        } else {
            Event {
                r#type: Some(event::Type::Update as i32),
                update: Some(event::Update {
                    status: TaskStatus {
                        task_id: TaskId {
                            value: format!("t{i}"),
                        },
                        state: TaskState::TaskRunning as i32,
                        agent_id: Some(AgentId { value: "a".into() }),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }
        };
        mesos_core::recordio::encode_into(&event.encode_to_vec(), &mut body);
    }
    let mut answer = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nMesos-Stream-Id: s\r\n\
         Transfer-Encoding: chunked\r\n\r\n{:x}\r\n",
        body.len()
    )
    .into_bytes();
    answer.extend_from_slice(&body);
    answer.extend_from_slice(b"\r\n0\r\n\r\n");
    answer
}

/// Serves `answer` to every connection (SUBSCRIBE), and 202 to anything else.
fn canned_master(answer: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let answer = answer.clone();
            std::thread::spawn(move || {
                let mut request = [0u8; 8192];
                let n = stream.read(&mut request).unwrap_or(0);
                if n > 0 {
                    let _ = stream.write_all(&answer);
                    std::thread::sleep(Duration::from_secs(3600));
                }
            });
        }
    });
    addr
}

/// Counts callbacks and says when `expected` have been made.
struct Counter {
    seen: usize,
    expected: usize,
    done: Sender<Instant>,
}

impl Counter {
    fn one(&mut self) {
        self.seen += 1;
        if self.seen == self.expected {
            let _ = self.done.send(Instant::now());
        }
    }
}

impl Scheduler for Counter {
    fn registered(&mut self, _: &SchedulerDriver, _: &FrameworkId, _: &MasterInfo) {}
    fn resource_offers(&mut self, _: &SchedulerDriver, offers: Vec<Offer>) {
        std::hint::black_box(&offers);
        self.one();
    }
    fn status_update(&mut self, _: &SchedulerDriver, status: &TaskStatus) {
        std::hint::black_box(status);
        self.one();
    }
}

fn through_driver(master: &str, events: usize) -> Duration {
    let (done, finished) = channel();
    let counter = Counter {
        seen: 0,
        expected: events,
        done,
    };
    let framework = FrameworkInfo {
        user: "bench".into(),
        name: "bench".into(),
        ..Default::default()
    };
    let driver = SchedulerDriver::new(counter, framework, master).expect("driver");
    let start = Instant::now();
    driver.start();
    let end = finished
        .recv_timeout(Duration::from_secs(600))
        .expect("all events");
    driver.abort();
    driver.join();
    end - start
}

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
    let master = canned_master(canned_stream(events));
    let client = median((0..runs).map(|_| through_client(&master, events)).collect());
    let driver = median((0..runs).map(|_| through_driver(&master, events)).collect());
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
