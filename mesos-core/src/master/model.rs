//! What the master knows about each framework, agent, task and offer: plain records that
//! only the master's owner task touches.

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::time::Instant;

use prost::Message;
use tokio::sync::mpsc::UnboundedSender;

use crate::proto::mesos::internal::AgentEvent;
use crate::proto::mesos::v1::scheduler::Event;
use crate::proto::mesos::v1::{AgentInfo, ExecutorInfo, FrameworkInfo, Offer, Task};
use crate::resources::Resources;

/// A task's key: (framework id, task id).
pub(crate) type TaskKey = (String, String);

/// The open event stream of a subscribed framework.
#[derive(Debug)]
pub(crate) struct FrameworkStream {
    /// The `Mesos-Stream-Id` of the subscription.
    pub id: String,
    /// Where its events go (boxed: an event is large, a queue slot need not be).
    pub events: UnboundedSender<Box<Event>>,
}

/// A framework the master knows: subscribed, disconnected (within its failover timeout),
/// or recovered from a re-registering agent before it re-subscribed.
#[derive(Debug)]
pub(crate) struct FrameworkRecord {
    /// Its id value.
    pub id: String,
    /// Its FrameworkInfo (with `id` set).
    pub info: FrameworkInfo,
    /// Its subscription, while connected.
    pub stream: Option<FrameworkStream>,
    /// Whether it gets offers (connected and not deactivated).
    pub active: bool,
    /// Known only from agents' re-registrations; it has not subscribed to this master.
    pub recovered: bool,
    /// When it first subscribed (seconds since the epoch).
    pub registered_time: f64,
    /// When it last re-subscribed.
    pub reregistered_time: Option<f64>,
    /// When it last disconnected.
    pub unregistered_time: Option<f64>,
    /// When it is removed unless it re-subscribes (disconnected frameworks).
    pub failover_deadline: Option<Instant>,
    /// Its live tasks (task ids).
    pub tasks: HashSet<String>,
    /// Its outstanding offers (offer ids).
    pub offers: HashSet<String>,
    /// Its finished tasks, oldest first, bounded by `--max_completed_tasks_per_framework`.
    pub completed_tasks: VecDeque<Task>,
    /// Its tasks on unreachable agents (partition-aware frameworks).
    pub unreachable_tasks: BTreeMap<String, Task>,
    /// Roles it asked not to get offers for.
    pub suppressed_roles: BTreeSet<String>,
}

impl FrameworkRecord {
    /// Whether it has an open subscription.
    pub fn connected(&self) -> bool {
        self.stream.is_some()
    }
}

/// The open event stream of a registered agent.
#[derive(Debug)]
pub(crate) struct AgentStream {
    /// The `Agent-Stream-Id` of the connection.
    pub id: String,
    /// Where its events go, encoded: an `AgentEvent` is over 5 KiB in memory (a RUN_TASK's
    /// TaskInfo inline), its encoding a few hundred bytes, and a batch of calls queues
    /// thousands of events before any is written.
    pub events: UnboundedSender<Vec<u8>>,
}

impl AgentStream {
    /// Queues `event` for the agent; a closed stream drops it (the agent is gone, and
    /// the state hears of that separately).
    pub fn send(&self, event: &AgentEvent) {
        let _ = self.events.send(event.encode_to_vec());
    }
}

/// An admitted agent.
#[derive(Debug)]
pub(crate) struct AgentRecord {
    /// Its AgentInfo (with `id` set) without `resources`: those are `total`, kept only
    /// in compact form and put back by [`AgentRecord::full_info`].
    pub info: AgentInfo,
    /// Its connection, while connected.
    pub stream: Option<AgentStream>,
    /// The software version it reported.
    pub version: String,
    /// Its capabilities (`AgentInfo.Capability.Type` values).
    pub capabilities: Vec<i32>,
    /// Its total resources.
    pub total: Resources,
    /// When it registered (seconds since the epoch).
    pub registered_time: f64,
    /// When it last re-registered.
    pub reregistered_time: Option<f64>,
    /// Recovered from the registry after a master restart, not re-registered yet.
    pub recovered: bool,
    /// Deactivated by an operator (or draining): no offers.
    pub deactivated: bool,
    /// Its live tasks.
    pub tasks: HashSet<TaskKey>,
    /// Its executors: (framework id, executor id) -> info.
    pub executors: BTreeMap<(String, String), ExecutorInfo>,
    /// Outstanding offers of its resources.
    pub offers: HashSet<String>,
    /// Sequence number of the last PING sent.
    pub ping_sequence: u64,
    /// Sequence number of the last PONG received.
    pub pong_sequence: u64,
    /// Consecutive pings not answered in time.
    pub missed_pings: u32,
}

impl AgentRecord {
    /// Whether it is registered and its event stream is open (Mesos' "active").
    pub fn connected(&self) -> bool {
        self.stream.is_some()
    }

    /// Its whole AgentInfo, resources included.
    pub fn full_info(&self) -> AgentInfo {
        AgentInfo {
            resources: self.total.to_protos(),
            ..self.info.clone()
        }
    }

    /// Its id value.
    pub fn id(&self) -> &str {
        self.info
            .id
            .as_ref()
            .map(|i| i.value.as_str())
            .unwrap_or("")
    }
}

/// An outstanding offer.
#[derive(Debug)]
pub(crate) struct OfferRecord {
    /// The offer as sent.
    pub offer: Offer,
    /// Its framework.
    pub framework: String,
    /// Its agent.
    pub agent: String,
    /// Its resources, allocated form.
    pub resources: Resources,
    /// When it is rescinded (`--offer_timeout`).
    pub expires: Option<Instant>,
}
