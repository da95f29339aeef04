//! The v1 scheduler library ([`Mesos`]) against a real master with a simulated agent: over
//! HTTP the scheduler subscribes itself once connected, gets offers, declines them, and is
//! disconnected and connected again by `reconnect`; over a session SUBSCRIBED is held until
//! the scheduler sends SUBSCRIBE; a stopped master is a disconnection, not an error; the
//! library ends when its last handle is dropped.

#[allow(dead_code)]
mod master_support;

use std::sync::mpsc::{channel, Receiver, Sender};
use std::time::Duration;

use mesos_core::agent::simulated::SimulatedAgent;
use mesos_core::master::{Master, MasterOptions};
use mesos_core::proto::mesos::v1::scheduler::{call, event, Call, Event};
use mesos_core::proto::mesos::v1::{FrameworkId, FrameworkInfo};
use mesos_core::scheduler::{detector_for, Mesos, V1Scheduler};

const WAIT: Duration = Duration::from_secs(20);

/// What the scheduler was told.
#[derive(Debug)]
enum Seen {
    Connected,
    Disconnected,
    Event(Box<Event>),
}

/// Sends SUBSCRIBE when connected (if told to) and reports everything to the test.
struct Recorder {
    seen: Sender<Seen>,
    subscribe_on_connect: bool,
}

fn framework(name: &str) -> FrameworkInfo {
    FrameworkInfo {
        user: "root".into(),
        name: name.into(),
        ..Default::default()
    }
}

fn subscribe(name: &str) -> Call {
    Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: framework(name),
            ..Default::default()
        }),
        ..Default::default()
    }
}

impl V1Scheduler for Recorder {
    fn connected(&mut self, mesos: &Mesos) {
        if self.subscribe_on_connect {
            mesos.send(subscribe("library"));
        }
        let _ = self.seen.send(Seen::Connected);
    }
    fn disconnected(&mut self, _: &Mesos) {
        let _ = self.seen.send(Seen::Disconnected);
    }
    fn received(&mut self, _: &Mesos, event: Event) {
        let _ = self.seen.send(Seen::Event(Box::new(event)));
    }
}

fn kind(event: &Event) -> event::Type {
    event
        .r#type
        .and_then(|t| event::Type::try_from(t).ok())
        .unwrap_or(event::Type::Unknown)
}

/// The next thing seen that `pick` accepts, skipping heartbeats and the like.
fn next<T>(seen: &Receiver<Seen>, what: &str, mut pick: impl FnMut(Seen) -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let item = seen
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"));
        if let Some(found) = pick(item) {
            return found;
        }
    }
}

fn event_of(seen: &Receiver<Seen>, wanted: event::Type) -> Event {
    next(seen, &format!("{wanted:?}"), |s| match s {
        Seen::Event(e) if kind(&e) == wanted => Some(*e),
        _ => None,
    })
}

fn connected(seen: &Receiver<Seen>) {
    next(seen, "connected", |s| {
        matches!(s, Seen::Connected).then_some(())
    });
}

fn disconnected(seen: &Receiver<Seen>) {
    next(seen, "disconnected", |s| {
        matches!(s, Seen::Disconnected).then_some(())
    });
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

async fn master_with_agent() -> (Master, SimulatedAgent) {
    let master = Master::start(MasterOptions {
        allocation_interval: Duration::from_millis(50),
        ..MasterOptions::default()
    })
    .await
    .expect("master starts");
    let agent = master_support::agent(master.addr(), "a1", "cpus:2;mem:1024").await;
    (master, agent)
}

/// The library over HTTP at `master`, with a scheduler that subscribes when connected.
fn connect(master: &str) -> (Mesos, Receiver<Seen>) {
    let (tx, seen) = channel();
    let detector = detector_for(master).expect("detector");
    let mesos = Mesos::connect(
        detector,
        Recorder {
            seen: tx,
            subscribe_on_connect: true,
        },
    )
    .expect("library starts");
    (mesos, seen)
}

#[test]
fn over_http_the_scheduler_subscribes_gets_offers_and_reconnects() {
    let rt = runtime();
    let (master, _agent) = rt.block_on(master_with_agent());
    let (mesos, seen) = connect(&master.addr().to_string());
    connected(&seen);
    let subscribed = event_of(&seen, event::Type::Subscribed);
    let framework_id: FrameworkId = subscribed.subscribed.expect("subscribed").framework_id;
    let offers = event_of(&seen, event::Type::Offers).offers.expect("offers");
    assert_eq!(offers.offers.len(), 1, "{offers:?}");
    mesos.send(Call {
        framework_id: Some(framework_id.clone()),
        r#type: Some(call::Type::Decline as i32),
        decline: Some(call::Decline {
            offer_ids: vec![offers.offers[0].id.clone()],
            filters: None,
        }),
        ..Default::default()
    });
    // Declined without a filter, the agent's resources come back in a new offer.
    let again = event_of(&seen, event::Type::Offers).offers.expect("offers");
    assert_ne!(again.offers[0].id, offers.offers[0].id);

    mesos.reconnect();
    disconnected(&seen);
    connected(&seen);
    let resubscribed = event_of(&seen, event::Type::Subscribed);
    assert!(resubscribed.subscribed.is_some());

    rt.block_on(master.stop());
    disconnected(&seen);
    mesos.close();
}

#[test]
fn over_a_session_subscribed_waits_for_the_schedulers_subscribe() {
    let rt = runtime();
    let (master, _agent) = rt.block_on(master_with_agent());
    let (tx, seen) = channel();
    let detector = detector_for(&master.addr().to_string()).expect("detector");
    let mesos = Mesos::over_session(
        detector,
        framework("adapted"),
        Recorder {
            seen: tx,
            subscribe_on_connect: false,
        },
    )
    .expect("library starts");
    connected(&seen);
    // The session is subscribed, but nothing reaches the scheduler before its SUBSCRIBE.
    match seen.recv_timeout(Duration::from_millis(500)) {
        Err(_) => {}
        Ok(other) => panic!("{other:?} arrived before the scheduler subscribed"),
    }
    mesos.send(subscribe("ignored: the session's framework is used"));
    let subscribed = event_of(&seen, event::Type::Subscribed);
    assert!(subscribed.subscribed.is_some());
    event_of(&seen, event::Type::Offers);
    mesos.send(Call {
        r#type: Some(call::Type::Teardown as i32),
        ..Default::default()
    });
    disconnected(&seen);
    mesos.close();
    rt.block_on(master.stop());
}

#[test]
fn an_unreachable_master_is_a_disconnection_retried_until_closed() {
    let (mesos, seen) = connect("127.0.0.1:1");
    // A standalone master is "connected" at once; its SUBSCRIBE fails to connect, which is
    // a lost master: disconnected, then connected again after a backoff.
    connected(&seen);
    disconnected(&seen);
    connected(&seen);
    mesos.close();
    std::thread::sleep(Duration::from_millis(300));
    while let Ok(item) = seen.try_recv() {
        assert!(!matches!(item, Seen::Event(_)), "{item:?}");
    }
}

#[test]
fn dropping_the_last_handle_ends_the_library() {
    let rt = runtime();
    let (master, _agent) = rt.block_on(master_with_agent());
    let (mesos, seen) = connect(&master.addr().to_string());
    connected(&seen);
    event_of(&seen, event::Type::Subscribed);
    drop(mesos);
    // The callback thread ends, and the scheduler (with its end of the channel) with it.
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        match seen.recv_timeout(deadline.saturating_duration_since(std::time::Instant::now())) {
            Ok(_) => continue,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                panic!("the library still runs after its last handle was dropped")
            }
        }
    }
    rt.block_on(master.stop());
}
