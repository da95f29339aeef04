//! The master's metrics, named as Mesos names them (`master/tasks_running`,
//! `allocator/mesos/allocation_run_ms/p99`, `system/load_1min`...), served as the
//! `/metrics/snapshot` JSON object and as Prometheus text from one snapshot.
//!
//! The master owns a [`MasterMetrics`] and bumps its counters as events happen (cheap:
//! an array slot per [`Counter`]); timers keep a window of recent samples. What is a
//! function of the current state (agents, frameworks, tasks, resources) is not counted
//! but passed in at snapshot time as [`MasterGauges`], most of it derived from the v1
//! `GetState` with [`MasterGauges::from_state`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::Duration;

use serde_json::{Map, Value as Json};

use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::master::response::GetState;
use crate::resources::Resources;

macro_rules! counters {
    ($($variant:ident => $name:literal,)*) => {
        /// A counter of the master, by its Mesos metric name.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Counter {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl Counter {
            /// Every counter, in declaration order.
            pub const ALL: &'static [Counter] = &[$(Counter::$variant,)*];

            /// The metric name, e.g. `master/slave_registrations`.
            pub fn name(self) -> &'static str {
                match self {
                    $(Counter::$variant => $name,)*
                }
            }
        }
    };
}

counters! {
    SlaveRegistrations => "master/slave_registrations",
    SlaveReregistrations => "master/slave_reregistrations",
    SlaveRemovals => "master/slave_removals",
    SlaveRemovalsReasonRegistered => "master/slave_removals/reason_registered",
    SlaveRemovalsReasonUnhealthy => "master/slave_removals/reason_unhealthy",
    SlaveRemovalsReasonUnregistered => "master/slave_removals/reason_unregistered",
    RecoverySlaveRemovals => "master/recovery_slave_removals",
    SlaveShutdownsScheduled => "master/slave_shutdowns_scheduled",
    SlaveShutdownsCompleted => "master/slave_shutdowns_completed",
    SlaveShutdownsCanceled => "master/slave_shutdowns_canceled",
    SlaveUnreachableScheduled => "master/slave_unreachable_scheduled",
    SlaveUnreachableCompleted => "master/slave_unreachable_completed",
    SlaveUnreachableCanceled => "master/slave_unreachable_canceled",
    TasksFinished => "master/tasks_finished",
    TasksFailed => "master/tasks_failed",
    TasksKilled => "master/tasks_killed",
    TasksLost => "master/tasks_lost",
    TasksError => "master/tasks_error",
    TasksDropped => "master/tasks_dropped",
    TasksGone => "master/tasks_gone",
    TasksGoneByOperator => "master/tasks_gone_by_operator",
    DroppedMessages => "master/dropped_messages",
    HttpCacheHits => "master/http_cache_hits",
    MessagesRegisterFramework => "master/messages_register_framework",
    MessagesReregisterFramework => "master/messages_reregister_framework",
    MessagesUnregisterFramework => "master/messages_unregister_framework",
    MessagesDeactivateFramework => "master/messages_deactivate_framework",
    MessagesKillTask => "master/messages_kill_task",
    MessagesStatusUpdateAcknowledgement => "master/messages_status_update_acknowledgement",
    MessagesResourceRequest => "master/messages_resource_request",
    MessagesLaunchTasks => "master/messages_launch_tasks",
    MessagesDeclineOffers => "master/messages_decline_offers",
    MessagesReviveOffers => "master/messages_revive_offers",
    MessagesSuppressOffers => "master/messages_suppress_offers",
    MessagesReconcileTasks => "master/messages_reconcile_tasks",
    MessagesFrameworkToExecutor => "master/messages_framework_to_executor",
    MessagesExecutorToFramework => "master/messages_executor_to_framework",
    MessagesRegisterSlave => "master/messages_register_slave",
    MessagesReregisterSlave => "master/messages_reregister_slave",
    MessagesUnregisterSlave => "master/messages_unregister_slave",
    MessagesStatusUpdate => "master/messages_status_update",
    MessagesExitedExecutor => "master/messages_exited_executor",
    MessagesUpdateSlave => "master/messages_update_slave",
    MessagesAuthenticate => "master/messages_authenticate",
    MessagesOperationStatusUpdate => "master/messages_operation_status_update",
    MessagesOperationStatusUpdateAcknowledgement =>
        "master/messages_operation_status_update_acknowledgement",
    MessagesReconcileOperations => "master/messages_reconcile_operations",
    ValidFrameworkToExecutorMessages => "master/valid_framework_to_executor_messages",
    InvalidFrameworkToExecutorMessages => "master/invalid_framework_to_executor_messages",
    ValidExecutorToFrameworkMessages => "master/valid_executor_to_framework_messages",
    InvalidExecutorToFrameworkMessages => "master/invalid_executor_to_framework_messages",
    ValidStatusUpdates => "master/valid_status_updates",
    InvalidStatusUpdates => "master/invalid_status_updates",
    ValidStatusUpdateAcknowledgements => "master/valid_status_update_acknowledgements",
    InvalidStatusUpdateAcknowledgements => "master/invalid_status_update_acknowledgements",
    ValidOperationStatusUpdates => "master/valid_operation_status_updates",
    InvalidOperationStatusUpdates => "master/invalid_operation_status_updates",
    ValidOperationStatusUpdateAcknowledgements =>
        "master/valid_operation_status_update_acknowledgements",
    InvalidOperationStatusUpdateAcknowledgements =>
        "master/invalid_operation_status_update_acknowledgements",
    AllocationRuns => "allocator/mesos/allocation_runs",
}

macro_rules! named {
    ($(#[$doc:meta])* $enum:ident { $($variant:ident => $name:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $enum {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant,
            )*
        }

        impl $enum {
            /// Every value, in declaration order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant,)*];

            /// The last part of the metric name.
            pub fn name(self) -> &'static str {
                match self {
                    $($enum::$variant => $name,)*
                }
            }
        }
    };
}

named! {
    /// A scheduler call, counted per framework under `calls/<call>`.
    FrameworkCall {
        Accept => "accept",
        AcceptInverseOffers => "accept_inverse_offers",
        Acknowledge => "acknowledge",
        AcknowledgeOperationStatus => "acknowledge_operation_status",
        Decline => "decline",
        DeclineInverseOffers => "decline_inverse_offers",
        Kill => "kill",
        Message => "message",
        Reconcile => "reconcile",
        ReconcileOperations => "reconcile_operations",
        Request => "request",
        Revive => "revive",
        Shutdown => "shutdown",
        Subscribe => "subscribe",
        Suppress => "suppress",
        Teardown => "teardown",
        UpdateFramework => "update_framework",
    }
}

named! {
    /// A scheduler event, counted per framework under `events/<event>`.
    FrameworkEvent {
        Error => "error",
        Failure => "failure",
        Heartbeat => "heartbeat",
        InverseOffers => "inverse_offers",
        Message => "message",
        Offers => "offers",
        Rescind => "rescind",
        RescindInverseOffer => "rescind_inverse_offer",
        Subscribed => "subscribed",
        Update => "update",
        UpdateOperationStatus => "update_operation_status",
    }
}

named! {
    /// What became of offers, counted per framework under `offers/<outcome>`.
    OfferOutcome {
        Sent => "sent",
        Accepted => "accepted",
        Declined => "declined",
        Rescinded => "rescinded",
    }
}

named! {
    /// An offer operation a framework asked for, counted under `operations/<type>`.
    FrameworkOperation {
        Create => "create",
        CreateDisk => "create_disk",
        Destroy => "destroy",
        DestroyDisk => "destroy_disk",
        GrowVolume => "grow_volume",
        Launch => "launch",
        LaunchGroup => "launch_group",
        Reserve => "reserve",
        ShrinkVolume => "shrink_volume",
        Unreserve => "unreserve",
    }
}

/// The terminal task states counted per framework under `tasks/terminal/task_<state>`.
const TERMINAL_TASK_STATES: [(pb::TaskState, &str); 8] = [
    (pb::TaskState::TaskDropped, "task_dropped"),
    (pb::TaskState::TaskError, "task_error"),
    (pb::TaskState::TaskFailed, "task_failed"),
    (pb::TaskState::TaskFinished, "task_finished"),
    (pb::TaskState::TaskGone, "task_gone"),
    (pb::TaskState::TaskGoneByOperator, "task_gone_by_operator"),
    (pb::TaskState::TaskKilled, "task_killed"),
    (pb::TaskState::TaskLost, "task_lost"),
];

/// The non-terminal task states shown per framework under `tasks/active/task_<state>`.
const ACTIVE_TASK_STATES: [(pb::TaskState, &str); 6] = [
    (pb::TaskState::TaskKilling, "task_killing"),
    (pb::TaskState::TaskRunning, "task_running"),
    (pb::TaskState::TaskStaging, "task_staging"),
    (pb::TaskState::TaskStarting, "task_starting"),
    (pb::TaskState::TaskUnknown, "task_unknown"),
    (pb::TaskState::TaskUnreachable, "task_unreachable"),
];

/// The counters of one framework, written under
/// `master/frameworks/<url-encoded name>/<id>/`.
#[derive(Clone, Debug)]
pub struct FrameworkMetrics {
    name: String,
    calls: Vec<u64>,
    events: Vec<u64>,
    offers: Vec<u64>,
    operations: Vec<u64>,
    terminal_tasks: [u64; TERMINAL_TASK_STATES.len()],
}

impl FrameworkMetrics {
    fn new(name: &str) -> FrameworkMetrics {
        FrameworkMetrics {
            name: name.to_string(),
            calls: vec![0; FrameworkCall::ALL.len()],
            events: vec![0; FrameworkEvent::ALL.len()],
            offers: vec![0; OfferOutcome::ALL.len()],
            operations: vec![0; FrameworkOperation::ALL.len()],
            terminal_tasks: [0; TERMINAL_TASK_STATES.len()],
        }
    }

    /// Counts one call from the framework.
    pub fn call(&mut self, call: FrameworkCall) {
        self.calls[call as usize] += 1;
    }

    /// Counts one event sent to the framework.
    pub fn event(&mut self, event: FrameworkEvent) {
        self.events[event as usize] += 1;
    }

    /// Counts `n` offers that had `outcome`.
    pub fn offers(&mut self, outcome: OfferOutcome, n: u64) {
        self.offers[outcome as usize] += n;
    }

    /// Counts one operation the framework asked for.
    pub fn operation(&mut self, operation: FrameworkOperation) {
        self.operations[operation as usize] += 1;
    }

    /// Counts one of the framework's tasks reaching terminal `state` (other states are
    /// ignored).
    pub fn task_terminated(&mut self, state: pb::TaskState) {
        if let Some(i) = TERMINAL_TASK_STATES.iter().position(|(s, _)| *s == state) {
            self.terminal_tasks[i] += 1;
        }
    }

    fn write(&self, prefix: &str, gauges: &FrameworkGauges, out: &mut BTreeMap<String, f64>) {
        let mut group = |group: &str, names: &[&str], counts: &[u64]| {
            out.insert(
                format!("{prefix}/{group}"),
                counts.iter().sum::<u64>() as f64,
            );
            for (name, n) in names.iter().zip(counts) {
                out.insert(format!("{prefix}/{group}/{name}"), *n as f64);
            }
        };
        let calls: Vec<&str> = FrameworkCall::ALL.iter().map(|c| c.name()).collect();
        group("calls", &calls, &self.calls);
        let events: Vec<&str> = FrameworkEvent::ALL.iter().map(|e| e.name()).collect();
        group("events", &events, &self.events);
        let operations: Vec<&str> = FrameworkOperation::ALL.iter().map(|o| o.name()).collect();
        group("operations", &operations, &self.operations);
        for (outcome, n) in OfferOutcome::ALL.iter().zip(&self.offers) {
            out.insert(format!("{prefix}/offers/{}", outcome.name()), *n as f64);
        }
        for ((_, name), n) in TERMINAL_TASK_STATES.iter().zip(self.terminal_tasks) {
            out.insert(format!("{prefix}/tasks/terminal/{name}"), n as f64);
        }
        for (state, name) in ACTIVE_TASK_STATES {
            let n = gauges
                .active_tasks
                .get(&(state as i32))
                .copied()
                .unwrap_or(0);
            out.insert(format!("{prefix}/tasks/active/{name}"), n as f64);
        }
        let subscribed = if gauges.subscribed { 1.0 } else { 0.0 };
        out.insert(format!("{prefix}/subscribed"), subscribed);
        for role in &gauges.roles {
            let suppressed = if gauges.suppressed_roles.contains(role) {
                1.0
            } else {
                0.0
            };
            out.insert(format!("{prefix}/roles/{role}/suppressed"), suppressed);
        }
    }
}

/// The per-framework gauges at one instant.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameworkGauges {
    /// Whether the framework is subscribed (connected).
    pub subscribed: bool,
    /// The framework's roles.
    pub roles: Vec<String>,
    /// The roles for which the framework has suppressed offers.
    pub suppressed_roles: BTreeSet<String>,
    /// Non-terminal tasks by state number.
    pub active_tasks: BTreeMap<i32, u64>,
}

/// A framework name made safe for a metric path, as Mesos URL-encodes it.
fn encode_name(name: &str) -> String {
    let mut out = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl Counter {
    /// The counter of tasks that reached terminal `state`, if it is one Mesos counts.
    pub fn for_terminal_task_state(state: pb::TaskState) -> Option<Counter> {
        use pb::TaskState as S;
        Some(match state {
            S::TaskFinished => Counter::TasksFinished,
            S::TaskFailed => Counter::TasksFailed,
            S::TaskKilled => Counter::TasksKilled,
            S::TaskLost => Counter::TasksLost,
            S::TaskError => Counter::TasksError,
            S::TaskDropped => Counter::TasksDropped,
            S::TaskGone => Counter::TasksGone,
            S::TaskGoneByOperator => Counter::TasksGoneByOperator,
            _ => return None,
        })
    }
}

/// How many recent samples a [`Timer`] keeps for its statistics.
pub const TIMER_WINDOW: usize = 1000;

/// Durations in milliseconds, written as Mesos writes a timer: `<name>` is the last
/// sample; `<name>/count`, `/min`, `/max`, `/p50`, `/p90`, `/p95`, `/p99`, `/p999` and
/// `/p9999` describe the recent window once it holds two samples.
#[derive(Clone, Debug, Default)]
pub struct Timer {
    samples: VecDeque<f64>,
}

impl Timer {
    /// Adds one sample, dropping the oldest beyond [`TIMER_WINDOW`].
    pub fn record(&mut self, elapsed: Duration) {
        self.record_ms(elapsed.as_secs_f64() * 1000.0);
    }

    /// Adds one sample given in milliseconds.
    pub fn record_ms(&mut self, ms: f64) {
        if self.samples.len() == TIMER_WINDOW {
            self.samples.pop_front();
        }
        self.samples.push_back(ms);
    }

    fn write(&self, name: &str, out: &mut BTreeMap<String, f64>) {
        let Some(last) = self.samples.back() else {
            return;
        };
        out.insert(name.to_string(), *last);
        if self.samples.len() < 2 {
            return;
        }
        let mut sorted: Vec<f64> = self.samples.iter().copied().collect();
        sorted.sort_by(f64::total_cmp);
        out.insert(format!("{name}/count"), sorted.len() as f64);
        out.insert(format!("{name}/min"), sorted[0]);
        out.insert(format!("{name}/max"), sorted[sorted.len() - 1]);
        for (suffix, p) in [
            ("p50", 0.5),
            ("p90", 0.9),
            ("p95", 0.95),
            ("p99", 0.99),
            ("p999", 0.999),
            ("p9999", 0.9999),
        ] {
            out.insert(format!("{name}/{suffix}"), percentile(&sorted, p));
        }
    }
}

/// The `p` percentile of sorted samples, interpolating linearly between neighbours.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let below = position.floor() as usize;
    let above = position.ceil() as usize;
    let fraction = position - below as f64;
    sorted[below] + (sorted[above] - sorted[below]) * fraction
}

/// Counters and gauges of a master, named as Mesos names them.
#[derive(Clone, Debug)]
pub struct MasterMetrics {
    counters: Vec<u64>,
    /// `allocator/mesos/allocation_run_ms`: how long each allocation run took.
    pub allocation_run: Timer,
    /// `allocator/mesos/allocation_run_latency_ms`: how late each allocation run started.
    pub allocation_run_latency: Timer,
    /// `registrar/state_fetch_ms`: how long reading the registry took.
    pub registrar_state_fetch: Timer,
    /// `registrar/state_store_ms`: how long each registry write took.
    pub registrar_state_store: Timer,
    frameworks: BTreeMap<String, FrameworkMetrics>,
    reasons: BTreeMap<String, u64>,
}

impl Default for MasterMetrics {
    fn default() -> MasterMetrics {
        MasterMetrics {
            counters: vec![0; Counter::ALL.len()],
            allocation_run: Timer::default(),
            allocation_run_latency: Timer::default(),
            registrar_state_fetch: Timer::default(),
            registrar_state_store: Timer::default(),
            frameworks: BTreeMap::new(),
            reasons: BTreeMap::new(),
        }
    }
}

impl MasterMetrics {
    /// All counters at zero, all timers empty.
    pub fn new() -> MasterMetrics {
        MasterMetrics::default()
    }

    /// Adds one to `counter`.
    pub fn incr(&mut self, counter: Counter) {
        self.add(counter, 1);
    }

    /// Adds `n` to `counter`.
    pub fn add(&mut self, counter: Counter, n: u64) {
        let slot = &mut self.counters[counter as usize];
        *slot = slot.saturating_add(n);
    }

    /// The current value of `counter`.
    pub fn get(&self, counter: Counter) -> u64 {
        self.counters[counter as usize]
    }

    /// Counts a task reaching terminal `state`: `master/tasks_<state>`, and when the
    /// update says why, `master/task_<state>/source_<source>/reason_<reason>` (e.g.
    /// `master/task_failed/source_slave/reason_container_launch_failed`; names as in the
    /// v0 schema, which Mesos' master uses). Non-terminal states are ignored.
    pub fn task_terminated(
        &mut self,
        state: pb::TaskState,
        source: Option<pb::task_status::Source>,
        reason: Option<pb::task_status::Reason>,
    ) {
        use crate::proto::mesos::task_status::{Reason as V0Reason, Source as V0Source};
        let Some(counter) = Counter::for_terminal_task_state(state) else {
            return;
        };
        self.incr(counter);
        let source = source.and_then(|s| V0Source::try_from(s as i32).ok());
        let reason = reason.and_then(|r| V0Reason::try_from(r as i32).ok());
        if let (Some(source), Some(reason)) = (source, reason) {
            let name = format!(
                "master/{}/{}/{}",
                state.as_str_name().to_ascii_lowercase(),
                source.as_str_name().to_ascii_lowercase(),
                reason.as_str_name().to_ascii_lowercase()
            );
            *self.reasons.entry(name).or_insert(0) += 1;
        }
    }

    /// Starts the counters of framework `id` named `name` (kept if already started).
    pub fn add_framework(&mut self, id: &str, name: &str) {
        self.frameworks
            .entry(id.to_string())
            .or_insert_with(|| FrameworkMetrics::new(name));
    }

    /// Drops the counters of framework `id`, as Mesos does when a framework is removed.
    pub fn remove_framework(&mut self, id: &str) {
        self.frameworks.remove(id);
    }

    /// The counters of framework `id`, if started with [`MasterMetrics::add_framework`].
    pub fn framework(&mut self, id: &str) -> Option<&mut FrameworkMetrics> {
        self.frameworks.get_mut(id)
    }

    /// Every metric of the master, by name: the counters, the timers, `gauges`, and the
    /// `system/*` figures of this host read from `/proc` (left out where unreadable).
    pub fn snapshot(&self, gauges: &MasterGauges) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for counter in Counter::ALL {
            out.insert(counter.name().to_string(), self.get(*counter) as f64);
        }
        self.allocation_run
            .write("allocator/mesos/allocation_run_ms", &mut out);
        self.allocation_run_latency
            .write("allocator/mesos/allocation_run_latency_ms", &mut out);
        self.registrar_state_fetch
            .write("registrar/state_fetch_ms", &mut out);
        self.registrar_state_store
            .write("registrar/state_store_ms", &mut out);
        for (name, n) in &self.reasons {
            out.insert(name.clone(), *n as f64);
        }
        gauges.write(&mut out);
        let none = FrameworkGauges::default();
        for (id, framework) in &self.frameworks {
            let prefix = format!("master/frameworks/{}/{id}", encode_name(&framework.name));
            let framework_gauges = gauges.frameworks_detail.get(id).unwrap_or(&none);
            framework.write(&prefix, framework_gauges, &mut out);
        }
        out.extend(system_metrics());
        out
    }
}

/// Total and used amounts of one resource across the registered agents.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ResourceGauge {
    /// Non-revocable total.
    pub total: f64,
    /// Non-revocable amount allocated to frameworks.
    pub used: f64,
    /// Revocable total.
    pub revocable_total: f64,
    /// Revocable amount allocated to frameworks.
    pub revocable_used: f64,
    /// Allocated or offered, revocable or not (the allocator's view).
    pub offered_or_allocated: f64,
}

/// The resources the `master/<name>_*` gauges are written for.
const GAUGED_RESOURCES: [&str; 4] = ["cpus", "mem", "disk", "gpus"];

/// The operation types and states of the `master/operations/*` gauges.
const OPERATION_TYPES: [(pb::offer::operation::Type, &str); 8] = [
    (pb::offer::operation::Type::Create, "create"),
    (pb::offer::operation::Type::CreateDisk, "create_disk"),
    (pb::offer::operation::Type::Destroy, "destroy"),
    (pb::offer::operation::Type::DestroyDisk, "destroy_disk"),
    (pb::offer::operation::Type::GrowVolume, "grow_volume"),
    (pb::offer::operation::Type::Reserve, "reserve"),
    (pb::offer::operation::Type::ShrinkVolume, "shrink_volume"),
    (pb::offer::operation::Type::Unreserve, "unreserve"),
];

const OPERATION_STATES: [(pb::OperationState, &str); 8] = [
    (pb::OperationState::OperationPending, "pending"),
    (pb::OperationState::OperationRecovering, "recovering"),
    (pb::OperationState::OperationUnreachable, "unreachable"),
    (pb::OperationState::OperationFinished, "finished"),
    (pb::OperationState::OperationFailed, "failed"),
    (pb::OperationState::OperationError, "error"),
    (pb::OperationState::OperationDropped, "dropped"),
    (
        pb::OperationState::OperationGoneByOperator,
        "gone_by_operator",
    ),
];

/// The master's gauges at one instant: what is a function of its state, not a count of
/// events. [`MasterGauges::from_state`] fills what `GetState` holds; the master sets the
/// rest (uptime, election, queues, offers, registrar, allocator) itself.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MasterGauges {
    /// `master/uptime_secs`.
    pub uptime_secs: f64,
    /// `master/elected`.
    pub elected: bool,
    /// Registered frameworks.
    pub frameworks: u64,
    /// Registered frameworks that are active.
    pub frameworks_active: u64,
    /// Registered frameworks that are connected.
    pub frameworks_connected: u64,
    /// Registered agents.
    pub slaves: u64,
    /// Registered agents that are active.
    pub slaves_active: u64,
    /// Registered agents that are connected.
    pub slaves_connected: u64,
    /// `master/slaves_unreachable`.
    pub slaves_unreachable: u64,
    /// `master/tasks_staging` (including tasks not yet sent to their agent).
    pub tasks_staging: u64,
    /// `master/tasks_starting`.
    pub tasks_starting: u64,
    /// `master/tasks_running`.
    pub tasks_running: u64,
    /// `master/tasks_killing`.
    pub tasks_killing: u64,
    /// `master/tasks_unreachable`.
    pub tasks_unreachable: u64,
    /// Amounts of every scalar resource of the registered agents, by name.
    pub resources: BTreeMap<String, ResourceGauge>,
    /// `master/operations/<type>/<state>`: operations by type and latest state.
    pub operations: BTreeMap<(&'static str, &'static str), u64>,
    /// `master/outstanding_offers`.
    pub outstanding_offers: u64,
    /// `master/event_queue_messages`.
    pub event_queue_messages: u64,
    /// `master/event_queue_dispatches`.
    pub event_queue_dispatches: u64,
    /// `master/event_queue_http_requests`.
    pub event_queue_http_requests: u64,
    /// `master/operator_event_stream_subscribers`.
    pub operator_event_stream_subscribers: u64,
    /// `allocator/mesos/event_queue_dispatches` (also written as
    /// `allocator/event_queue_dispatches`).
    pub allocator_event_queue_dispatches: u64,
    /// `allocator/mesos/roles/<role>/shares/dominant`.
    pub role_dominant_shares: BTreeMap<String, f64>,
    /// `allocator/mesos/offer_filters/roles/<role>/active`.
    pub role_active_offer_filters: BTreeMap<String, u64>,
    /// `registrar/queued_operations`.
    pub registrar_queued_operations: u64,
    /// `registrar/registry_size_bytes`.
    pub registrar_registry_size_bytes: u64,
    /// Per-framework gauges, by framework id.
    pub frameworks_detail: BTreeMap<String, FrameworkGauges>,
}

impl MasterGauges {
    /// The gauges that follow from `state`: frameworks, agents, non-terminal tasks,
    /// resources, per-framework subscription, roles and tasks (suppressed roles are for
    /// the master to add), operations (`operations` is the `GET_OPERATIONS` list), plus
    /// `unreachable_agents`, which `GetState` does not list. An agent counts as
    /// connected when it is active or deactivated (deactivated agents stay connected);
    /// others are disconnected.
    pub fn from_state(
        state: &GetState,
        operations: &[pb::Operation],
        unreachable_agents: u64,
    ) -> MasterGauges {
        let mut g = MasterGauges {
            slaves_unreachable: unreachable_agents,
            ..MasterGauges::default()
        };
        if let Some(frameworks) = &state.get_frameworks {
            for f in &frameworks.frameworks {
                g.frameworks += 1;
                g.frameworks_active += u64::from(f.active);
                g.frameworks_connected += u64::from(f.connected);
                let info = &f.framework_info;
                let roles = if info.roles.is_empty() {
                    vec![info.role().to_string()]
                } else {
                    info.roles.clone()
                };
                let id = info.id.as_ref().map_or("", |i| i.value.as_str());
                let detail = g.frameworks_detail.entry(id.to_string()).or_default();
                detail.subscribed = f.connected;
                detail.roles = roles;
            }
        }
        if let Some(agents) = &state.get_agents {
            for agent in &agents.agents {
                g.slaves += 1;
                g.slaves_active += u64::from(agent.active);
                g.slaves_connected += u64::from(agent.active || agent.deactivated());
                let total = Resources::from_protos_lossy(&agent.total_resources);
                let used = Resources::from_protos_lossy(&agent.allocated_resources);
                let offered = Resources::from_protos_lossy(&agent.offered_resources);
                add_resources(&mut g.resources, &total, |r, v, revocable| {
                    if revocable {
                        r.revocable_total += v;
                    } else {
                        r.total += v;
                    }
                });
                add_resources(&mut g.resources, &used, |r, v, revocable| {
                    r.offered_or_allocated += v;
                    if revocable {
                        r.revocable_used += v;
                    } else {
                        r.used += v;
                    }
                });
                add_resources(&mut g.resources, &offered, |r, v, _| {
                    r.offered_or_allocated += v;
                });
            }
        }
        if let Some(tasks) = &state.get_tasks {
            g.tasks_staging += tasks.pending_tasks.len() as u64;
            let pending = tasks
                .pending_tasks
                .iter()
                .map(|t| (t, pb::TaskState::TaskStaging as i32));
            let known = tasks
                .tasks
                .iter()
                .chain(&tasks.unreachable_tasks)
                .map(|t| (t, t.state));
            for (task, state) in pending.chain(known) {
                let framework = g
                    .frameworks_detail
                    .entry(task.framework_id.value.clone())
                    .or_default();
                *framework.active_tasks.entry(state).or_insert(0) += 1;
            }
            for task in tasks.tasks.iter().chain(&tasks.unreachable_tasks) {
                use pb::TaskState as S;
                match S::try_from(task.state) {
                    Ok(S::TaskStaging) => g.tasks_staging += 1,
                    Ok(S::TaskStarting) => g.tasks_starting += 1,
                    Ok(S::TaskRunning) => g.tasks_running += 1,
                    Ok(S::TaskKilling) => g.tasks_killing += 1,
                    Ok(S::TaskUnreachable) => g.tasks_unreachable += 1,
                    _ => {}
                }
            }
        }
        for operation in operations {
            let kind = operation
                .info
                .r#type
                .and_then(|t| OPERATION_TYPES.iter().find(|(k, _)| *k as i32 == t));
            let state = OPERATION_STATES
                .iter()
                .find(|(s, _)| *s as i32 == operation.latest_status.state);
            if let (Some((_, kind)), Some((_, state))) = (kind, state) {
                *g.operations.entry((kind, state)).or_insert(0) += 1;
            }
        }
        g
    }

    fn write(&self, out: &mut BTreeMap<String, f64>) {
        let mut put = |name: &str, value: f64| {
            out.insert(name.to_string(), value);
        };
        put("master/uptime_secs", self.uptime_secs);
        put("master/elected", if self.elected { 1.0 } else { 0.0 });
        put("master/frameworks_active", self.frameworks_active as f64);
        put(
            "master/frameworks_inactive",
            self.frameworks.saturating_sub(self.frameworks_active) as f64,
        );
        put(
            "master/frameworks_connected",
            self.frameworks_connected as f64,
        );
        put(
            "master/frameworks_disconnected",
            self.frameworks.saturating_sub(self.frameworks_connected) as f64,
        );
        put("master/slaves_active", self.slaves_active as f64);
        put(
            "master/slaves_inactive",
            self.slaves.saturating_sub(self.slaves_active) as f64,
        );
        put("master/slaves_connected", self.slaves_connected as f64);
        put(
            "master/slaves_disconnected",
            self.slaves.saturating_sub(self.slaves_connected) as f64,
        );
        put("master/slaves_unreachable", self.slaves_unreachable as f64);
        put("master/tasks_staging", self.tasks_staging as f64);
        put("master/tasks_starting", self.tasks_starting as f64);
        put("master/tasks_running", self.tasks_running as f64);
        put("master/tasks_killing", self.tasks_killing as f64);
        put("master/tasks_unreachable", self.tasks_unreachable as f64);
        put("master/outstanding_offers", self.outstanding_offers as f64);
        put(
            "master/event_queue_messages",
            self.event_queue_messages as f64,
        );
        put(
            "master/event_queue_dispatches",
            self.event_queue_dispatches as f64,
        );
        put(
            "master/event_queue_http_requests",
            self.event_queue_http_requests as f64,
        );
        put(
            "master/operator_event_stream_subscribers",
            self.operator_event_stream_subscribers as f64,
        );
        let dispatches = self.allocator_event_queue_dispatches as f64;
        put("allocator/event_queue_dispatches", dispatches);
        put("allocator/mesos/event_queue_dispatches", dispatches);
        put(
            "registrar/queued_operations",
            self.registrar_queued_operations as f64,
        );
        put(
            "registrar/registry_size_bytes",
            self.registrar_registry_size_bytes as f64,
        );
        for name in GAUGED_RESOURCES {
            let r = self.resources.get(name).copied().unwrap_or_default();
            let percent = |used: f64, total: f64| if total > 0.0 { used / total } else { 0.0 };
            put(&format!("master/{name}_total"), r.total);
            put(&format!("master/{name}_used"), r.used);
            put(&format!("master/{name}_percent"), percent(r.used, r.total));
            put(&format!("master/{name}_revocable_total"), r.revocable_total);
            put(&format!("master/{name}_revocable_used"), r.revocable_used);
            put(
                &format!("master/{name}_revocable_percent"),
                percent(r.revocable_used, r.revocable_total),
            );
        }
        for (name, r) in &self.resources {
            if r.total + r.revocable_total > 0.0 {
                let prefix = format!("allocator/mesos/resources/{name}");
                put(&format!("{prefix}/total"), r.total + r.revocable_total);
                put(
                    &format!("{prefix}/offered_or_allocated"),
                    r.offered_or_allocated,
                );
            }
        }
        for (role, share) in &self.role_dominant_shares {
            put(
                &format!("allocator/mesos/roles/{role}/shares/dominant"),
                *share,
            );
        }
        for (role, n) in &self.role_active_offer_filters {
            put(
                &format!("allocator/mesos/offer_filters/roles/{role}/active"),
                *n as f64,
            );
        }
        let mut by_state: BTreeMap<&str, u64> = BTreeMap::new();
        let mut total = 0;
        for (_, kind) in OPERATION_TYPES {
            let mut kind_total = 0;
            for (_, state) in OPERATION_STATES {
                let n = self.operations.get(&(kind, state)).copied().unwrap_or(0);
                put(&format!("master/operations/{kind}/{state}"), n as f64);
                *by_state.entry(state).or_insert(0) += n;
                kind_total += n;
            }
            put(
                &format!("master/operations/{kind}/total"),
                kind_total as f64,
            );
            total += kind_total;
        }
        for (state, n) in by_state {
            put(&format!("master/operations/{state}"), n as f64);
        }
        put("master/operations/total", total as f64);
    }
}

/// Adds each scalar of `resources` to its gauge through `apply(gauge, value, revocable)`.
fn add_resources(
    gauges: &mut BTreeMap<String, ResourceGauge>,
    resources: &Resources,
    apply: impl Fn(&mut ResourceGauge, f64, bool),
) {
    for resource in resources {
        if let Some(s) = resource.value().as_scalar() {
            let gauge = gauges.entry(resource.name().to_string()).or_default();
            apply(gauge, s.as_f64(), resource.is_revocable());
        }
    }
}

/// `system/cpus_total`, `system/load_1min|5min|15min`, `system/mem_total_bytes` and
/// `system/mem_free_bytes` of this host, from `/proc`; a figure that cannot be read is
/// left out, as Mesos does.
pub fn system_metrics() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    // SAFETY: sysconf only reads a system constant.
    let cpus = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    if cpus > 0 {
        out.insert("system/cpus_total".to_string(), cpus as f64);
    }
    if let Ok(text) = std::fs::read_to_string("/proc/loadavg") {
        out.extend(parse_loadavg(&text));
    }
    if let Ok(text) = std::fs::read_to_string("/proc/meminfo") {
        out.extend(parse_meminfo(&text));
    }
    out
}

fn parse_loadavg(text: &str) -> BTreeMap<String, f64> {
    let names = ["system/load_1min", "system/load_5min", "system/load_15min"];
    names
        .iter()
        .zip(text.split_whitespace())
        .filter_map(|(name, v)| v.parse::<f64>().ok().map(|v| (name.to_string(), v)))
        .collect()
}

/// Total memory and free memory (`MemAvailable`, or `MemFree` on kernels without it).
fn parse_meminfo(text: &str) -> BTreeMap<String, f64> {
    let field = |key: &str| {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix(key)?.strip_prefix(':')?;
            let kb = rest.split_whitespace().next()?.parse::<f64>().ok()?;
            Some(kb * 1024.0)
        })
    };
    let mut out = BTreeMap::new();
    if let Some(total) = field("MemTotal") {
        out.insert("system/mem_total_bytes".to_string(), total);
    }
    if let Some(free) = field("MemAvailable").or_else(|| field("MemFree")) {
        out.insert("system/mem_free_bytes".to_string(), free);
    }
    out
}

/// A snapshot as the `/metrics/snapshot` JSON object.
pub fn snapshot_json(snapshot: &BTreeMap<String, f64>) -> Json {
    let mut out = Map::new();
    for (name, value) in snapshot {
        out.insert(name.clone(), Json::from(*value));
    }
    Json::Object(out)
}

/// A snapshot as Prometheus text exposition: one `name value` line per metric, the name
/// with every character Prometheus does not allow (`/`, `*`, `-`...) made `_`.
pub fn prometheus_text(snapshot: &BTreeMap<String, f64>) -> String {
    let mut out = String::new();
    for (name, value) in snapshot {
        let mut metric: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if metric.starts_with(|c: char| c.is_ascii_digit()) {
            metric.insert(0, '_');
        }
        let value = if value.is_nan() {
            "NaN".to_string()
        } else if value.is_infinite() {
            if *value > 0.0 { "+Inf" } else { "-Inf" }.to_string()
        } else {
            value.to_string()
        };
        out.push_str(&metric);
        out.push(' ');
        out.push_str(&value);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timer_statistics_interpolate_like_mesos() {
        let mut t = Timer::default();
        t.record_ms(0.199168);
        let mut out = BTreeMap::new();
        t.write("registrar/state_store_ms", &mut out);
        assert_eq!(out.len(), 1, "one sample: no statistics");
        t.record_ms(2.505984);
        t.write("registrar/state_store_ms", &mut out);
        assert_eq!(out["registrar/state_store_ms"], 2.505984);
        assert_eq!(out["registrar/state_store_ms/count"], 2.0);
        assert_eq!(out["registrar/state_store_ms/min"], 0.199168);
        assert!((out["registrar/state_store_ms/p50"] - 1.352576).abs() < 1e-12);
        assert!((out["registrar/state_store_ms/p90"] - 2.2753024).abs() < 1e-12);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn timer_keeps_a_window() {
        let mut t = Timer::default();
        for i in 0..(TIMER_WINDOW + 5) {
            t.record(Duration::from_millis(i as u64));
        }
        let mut out = BTreeMap::new();
        t.write("x", &mut out);
        assert_eq!(out["x/count"], TIMER_WINDOW as f64);
        assert_eq!(out["x/min"], 5.0);
    }

    #[test]
    fn counters_are_named_and_counted() {
        let mut m = MasterMetrics::new();
        m.incr(Counter::SlaveRegistrations);
        m.add(Counter::ValidStatusUpdates, 3);
        let snap = m.snapshot(&MasterGauges::default());
        assert_eq!(snap["master/slave_registrations"], 1.0);
        assert_eq!(snap["master/valid_status_updates"], 3.0);
        assert_eq!(snap["allocator/mesos/allocation_runs"], 0.0);
        assert_eq!(snap["master/cpus_percent"], 0.0);
        assert_eq!(snap["master/operations/reserve/pending"], 0.0);
        assert!(!snap.contains_key("allocator/mesos/allocation_run_ms"));
        assert_eq!(
            Counter::for_terminal_task_state(pb::TaskState::TaskFinished),
            Some(Counter::TasksFinished)
        );
        assert_eq!(
            Counter::for_terminal_task_state(pb::TaskState::TaskRunning),
            None
        );
    }

    #[test]
    fn proc_parsers() {
        let load = parse_loadavg("0.08 0.22 0.83 1/234 5678\n");
        assert_eq!(load["system/load_15min"], 0.83);
        let mem = parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\nMemAvailable: 50 kB\n");
        assert_eq!(mem["system/mem_total_bytes"], 102400.0);
        assert_eq!(mem["system/mem_free_bytes"], 51200.0);
        let old = parse_meminfo("MemTotal: 100 kB\nMemFree: 10 kB\n");
        assert_eq!(old["system/mem_free_bytes"], 10240.0);
    }

    #[test]
    fn framework_metrics_are_prefixed_by_encoded_name_and_id() {
        let mut m = MasterMetrics::new();
        m.add_framework("f-1", "my fw/1");
        let f = m.framework("f-1").unwrap();
        f.call(FrameworkCall::Decline);
        f.offers(OfferOutcome::Declined, 2);
        f.task_terminated(pb::TaskState::TaskRunning);
        let mut gauges = MasterGauges::default();
        let detail = gauges.frameworks_detail.entry("f-1".into()).or_default();
        detail.roles = vec!["a".into(), "b".into()];
        detail.suppressed_roles.insert("b".into());
        let snap = m.snapshot(&gauges);
        let p = "master/frameworks/my%20fw%2F1/f-1";
        assert_eq!(snap[&format!("{p}/calls")], 1.0);
        assert_eq!(snap[&format!("{p}/calls/decline")], 1.0);
        assert_eq!(snap[&format!("{p}/offers/declined")], 2.0);
        assert_eq!(snap[&format!("{p}/tasks/terminal/task_finished")], 0.0);
        assert_eq!(snap[&format!("{p}/roles/a/suppressed")], 0.0);
        assert_eq!(snap[&format!("{p}/roles/b/suppressed")], 1.0);
        m.remove_framework("f-1");
        let snap = m.snapshot(&gauges);
        assert!(!snap.keys().any(|k| k.starts_with("master/frameworks/")));
    }

    #[test]
    fn terminal_tasks_count_by_state_and_reason() {
        use pb::task_status::{Reason, Source};
        let mut m = MasterMetrics::new();
        m.task_terminated(
            pb::TaskState::TaskFailed,
            Some(Source::Agent),
            Some(Reason::AgentDisconnected),
        );
        m.task_terminated(pb::TaskState::TaskFinished, None, None);
        m.task_terminated(pb::TaskState::TaskRunning, None, None);
        let snap = m.snapshot(&MasterGauges::default());
        assert_eq!(snap["master/tasks_failed"], 1.0);
        assert_eq!(snap["master/tasks_finished"], 1.0);
        assert_eq!(
            snap["master/task_failed/source_slave/reason_slave_disconnected"],
            1.0
        );
        assert_eq!(
            snap.keys()
                .filter(|k| k.starts_with("master/task_"))
                .count(),
            1
        );
    }

    #[test]
    fn prometheus_names_use_underscores() {
        let mut snap = BTreeMap::new();
        snap.insert("master/tasks_running".to_string(), 3.0);
        snap.insert("allocator/mesos/roles/*/shares/dominant".to_string(), 0.5);
        let text = prometheus_text(&snap);
        assert_eq!(
            text,
            "allocator_mesos_roles___shares_dominant 0.5\nmaster_tasks_running 3\n"
        );
    }
}
