//! A canned master for benchmarks of the framework side: it answers SUBSCRIBE with a
//! pre-encoded stream of events, as fast as the socket takes them. A real master cannot
//! produce events fast enough to load a driver; this one measures the driver alone. Used
//! by the driver benchmarks of mesos-core and of the C binding.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::mpsc::{channel, Sender};
use std::time::{Duration, Instant};

use prost::Message;

use super::{Scheduler, SchedulerDriver};
use crate::proto::mesos::v1::scheduler::{event, Event};
use crate::proto::mesos::v1::{
    value, AgentId, FrameworkId, FrameworkInfo, MasterInfo, Offer, OfferId, Resource, TaskId,
    TaskState, TaskStatus,
};

/// An unreserved scalar resource.
fn scalar(name: &str, value: f64) -> Resource {
    Resource {
        name: name.into(),
        r#type: value::Type::Scalar as i32,
        scalar: Some(value::Scalar { value }),
        ..Default::default()
    }
}

/// The whole HTTP answer to SUBSCRIBE, in protobuf: headers, SUBSCRIBED (framework id
/// `bench`), then `events` events in RecordIO, chunked: alternately OFFERS (one offer of
/// three scalar resources) and UPDATE (TASK_RUNNING without a uuid, so a driver sends no
/// acknowledgement).
pub fn canned_stream(events: usize) -> Vec<u8> {
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
    crate::recordio::encode_into(&subscribed.encode_to_vec(), &mut body);
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
        crate::recordio::encode_into(&event.encode_to_vec(), &mut body);
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

/// Serves `answer` to every connection on 127.0.0.1 (read as SUBSCRIBE), from a thread per
/// connection that then holds it open; other calls on their own connections get the same
/// answer, which HTTP clients of a driver ignore. Returns the `host:port` to use as master.
pub fn canned_master(answer: Vec<u8>) -> std::io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?.to_string();
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
    Ok(addr)
}

/// A scheduler that counts its callbacks and says when `expected` have been made.
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

/// The time the Rust [`SchedulerDriver`] takes from `start` to the last of `events`
/// callbacks fed by the canned master at `master`: the baseline the bindings' benchmarks
/// compare with.
pub fn time_rust_driver(master: &str, events: usize) -> Duration {
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
