//! How Mesos writes single objects in its JSON endpoints: resources as a summary object,
//! attributes as a flat object, tasks, executors, offers, agents and frameworks as the
//! "model" objects of Apache Mesos' `/master/*` endpoints (not the protobuf JSON mapping).
//!
//! The objects a large cluster has many of (tasks, agents, frameworks and the resource
//! summaries in them) are [`Serialize`] views over the v1 messages, so `/master/state`
//! writes them straight into its output without building a JSON tree; the `*_json`
//! functions give the same objects as [`Json`] values for the smaller endpoints.

use std::borrow::{Borrow, Cow};
use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{json, Map, Value as Json};

use crate::json::to_value;
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::master::response::{get_agents, get_executors, get_frameworks};
use crate::resources::{Ranges, Resource, Resources, Scalar, Set, Value};

/// Mesos' summary object of a resource collection: `cpus`, `gpus`, `mem` and `disk` always
/// (0 when absent), every other scalar by name, ranges as `"[a-b, c-d]"`, sets as `"{a, b}"`;
/// revocable resources under `<name>_revocable`. Resources that are not valid are skipped.
pub fn resources_json(resources: &[pb::Resource]) -> Json {
    to_json(&Summary::of_protos(resources))
}

/// [`resources_json`] of an already validated collection.
pub fn summary_of(resources: &Resources) -> Json {
    to_json(&Summary::of(resources))
}

/// `value` as a JSON tree.
fn to_json(value: &impl Serialize) -> Json {
    serde_json::to_value(value).expect("the endpoints' objects have string keys only")
}

/// A serializable sequence: the items of an iterator, written in order. The iterator is
/// cloned to be walked, so it should be a cheap one (a slice's, mapped).
pub struct Seq<I>(pub I);

impl<I> Serialize for Seq<I>
where
    I: Iterator + Clone,
    I::Item: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

/// Totals by summary name, added up one resource at a time without building a
/// [`Resources`] collection: `/master/state` writes several summaries per agent and one
/// per task, so this is on its hot path. Scalars add up in Mesos' fixed point.
struct Summary<'a> {
    scalars: Vec<(Cow<'a, str>, Scalar)>,
    ranges: Vec<(Cow<'a, str>, Ranges)>,
    sets: Vec<(Cow<'a, str>, Set)>,
}

impl<'a> Summary<'a> {
    fn new() -> Self {
        let always = ["cpus", "gpus", "mem", "disk"];
        Summary {
            scalars: always
                .into_iter()
                .map(|name| (Cow::Borrowed(name), Scalar::ZERO))
                .collect(),
            ranges: Vec::new(),
            sets: Vec::new(),
        }
    }

    /// The summary of resource protos, skipping those that are not valid.
    fn of_protos(resources: &'a [pb::Resource]) -> Self {
        let mut summary = Summary::new();
        for proto in resources {
            if let Ok(resource) = Resource::from_proto(proto) {
                summary.add(&proto.name, &resource);
            }
        }
        summary
    }

    /// The summary of a validated collection.
    fn of(resources: &'a Resources) -> Self {
        let mut summary = Summary::new();
        for resource in resources {
            summary.add(resource.name(), resource);
        }
        summary
    }

    /// Adds `resource`, whose name is `name`.
    fn add(&mut self, name: &'a str, resource: &Resource) {
        let name = if resource.is_revocable() {
            Cow::Owned(format!("{name}_revocable"))
        } else {
            Cow::Borrowed(name)
        };
        match resource.value() {
            Value::Scalar(s) => *entry(&mut self.scalars, name) += *s,
            Value::Ranges(r) => entry(&mut self.ranges, name).add(r),
            Value::Set(s) => entry(&mut self.sets, name).add(s),
        }
    }
}

impl Serialize for Summary<'_> {
    /// A name that is a scalar in some resources and ranges or a set in others is written
    /// once, with its last kind (ranges, then sets), as a JSON object keeps its last key.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        let ranges = self.ranges.iter().map(|(n, v)| (n, v.to_string()));
        let sets = self.sets.iter().map(|(n, v)| (n, v.to_string()));
        let texts: Vec<(&Cow<str>, String)> = ranges.chain(sets).collect();
        for (name, value) in &self.scalars {
            if !texts.iter().any(|(n, _)| *n == name) {
                out.serialize_entry(name, &value.as_f64())?;
            }
        }
        for (i, (name, value)) in texts.iter().enumerate() {
            if !texts[i + 1..].iter().any(|(n, _)| n == name) {
                out.serialize_entry(name, value)?;
            }
        }
        out.end()
    }
}

/// The value named `name` in a short list of totals, added (empty) if absent.
fn entry<'l, 'a, T: Default>(
    totals: &'l mut Vec<(Cow<'a, str>, T)>,
    name: Cow<'a, str>,
) -> &'l mut T {
    let at = match totals.iter().position(|(n, _)| *n == name) {
        Some(at) => at,
        None => {
            totals.push((name, T::default()));
            totals.len() - 1
        }
    };
    &mut totals[at].1
}

/// Scalar resource quantities by name, as Mesos writes `ResourceQuantities` (the role
/// endpoint's `resources`, `allocated`, `offered`, `reserved`): only names present.
pub fn quantities_json(resources: &[pb::Resource]) -> Json {
    let mut totals: BTreeMap<String, f64> = BTreeMap::new();
    let valid = Resources::from_protos_lossy(resources);
    for resource in &valid {
        if let Some(s) = resource.value().as_scalar() {
            *totals.entry(resource.name().to_string()).or_insert(0.0) += s.as_f64();
        }
    }
    number_map(&totals)
}

/// A map of names to numbers as a JSON object.
pub fn number_map(values: &BTreeMap<String, f64>) -> Json {
    Json::Object(
        values
            .iter()
            .map(|(name, value)| (name.clone(), json!(value)))
            .collect(),
    )
}

/// Resources as Mesos' `*_full` fields write them: protobuf JSON of each resource, in the
/// pre-refinement format (`"role": "*"`) when the reservations allow it. Resources are
/// listed in the order their names first appear in `order` (Mesos keeps them in the
/// order they were added), the rest after.
pub fn resources_full_json(resources: &Resources, order: &[pb::Resource]) -> Json {
    let mut items: Vec<&Resource> = resources.iter().collect();
    items.sort_by_key(|r| {
        order
            .iter()
            .position(|p| p.name == r.name())
            .unwrap_or(order.len())
    });
    Json::Array(
        items
            .into_iter()
            .map(|r| {
                let proto = r.to_proto_pre_refinement().unwrap_or_else(|_| r.to_proto());
                to_value(&proto)
            })
            .collect(),
    )
}

/// Attributes as one flat object: name to number (scalar) or string (text, `"[a-b]"`
/// ranges, `"{a, b}"` sets with their items in the order given).
pub fn attributes_json(attributes: &[pb::Attribute]) -> Json {
    let mut out = Map::new();
    for attribute in attributes {
        let value = if let Some(s) = &attribute.scalar {
            json!(s.value)
        } else if let Some(r) = &attribute.ranges {
            Json::String(
                Ranges::from_proto(r)
                    .map(|r| r.to_string())
                    .unwrap_or_default(),
            )
        } else if let Some(s) = &attribute.set {
            Json::String(format!("{{{}}}", s.item.join(", ")))
        } else if let Some(t) = &attribute.text {
            Json::String(t.value.clone())
        } else {
            continue;
        };
        out.insert(attribute.name.clone(), value);
    }
    Json::Object(out)
}

/// Seconds since the epoch of a `TimeInfo`.
pub fn seconds(time: &pb::TimeInfo) -> f64 {
    time.nanoseconds as f64 / 1e9
}

/// The name of a task state (`TASK_RUNNING`), or `""` for a number this schema lacks.
pub fn task_state_name(state: i32) -> &'static str {
    pb::TaskState::try_from(state).map_or("", |s| s.as_str_name())
}

/// Labels as Mesos' endpoints write them: an array of `{"key", "value"}` objects.
pub fn labels_json(labels: &pb::Labels) -> Json {
    Json::Array(labels.labels.iter().map(to_value).collect())
}

fn network_info_json(info: &pb::NetworkInfo) -> Json {
    let mut out = match to_value(info) {
        Json::Object(map) => map,
        _ => Map::new(),
    };
    if let Some(labels) = &info.labels {
        out.insert("labels".into(), labels_json(labels));
    }
    Json::Object(out)
}

fn container_status_json(status: &pb::ContainerStatus) -> Json {
    let mut out = Map::new();
    if let Some(id) = &status.container_id {
        out.insert("container_id".into(), to_value(id));
    }
    if !status.network_infos.is_empty() {
        let infos = status.network_infos.iter().map(network_info_json).collect();
        out.insert("network_infos".into(), Json::Array(infos));
    }
    if let Some(cgroup) = &status.cgroup_info {
        out.insert("cgroup_info".into(), to_value(cgroup));
    }
    Json::Object(out)
}

/// One task status as Mesos' endpoints write it: `state`, `timestamp`, and `labels`,
/// `container_status` and `healthy` when set.
pub fn task_status_json(status: &pb::TaskStatus) -> Json {
    to_json(&TaskStatusJson(status))
}

/// [`task_status_json`] as a [`Serialize`] view.
struct TaskStatusJson<'a>(&'a pb::TaskStatus);

impl Serialize for TaskStatusJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let status = self.0;
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("state", task_state_name(status.state))?;
        out.serialize_entry("timestamp", &status.timestamp())?;
        if let Some(labels) = &status.labels {
            out.serialize_entry("labels", &labels_json(labels))?;
        }
        if let Some(container) = &status.container_status {
            out.serialize_entry("container_status", &container_status_json(container))?;
        }
        if let Some(healthy) = status.healthy {
            out.serialize_entry("healthy", &healthy)?;
        }
        out.end()
    }
}

/// A task as Mesos' endpoints write it (`id`, `slave_id`, `state` by name, summarised
/// `resources`, `role` from the allocation, `statuses`...).
pub fn task_json(task: &pb::Task) -> Json {
    to_json(&TaskJson(task))
}

/// [`task_json`] as a [`Serialize`] view of a task, borrowed or owned.
pub struct TaskJson<T>(pub T);

impl<T: Borrow<pb::Task>> Serialize for TaskJson<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let task = self.0.borrow();
        let mut out = serializer.serialize_map(None)?;
        out.serialize_entry("id", &task.task_id.value)?;
        out.serialize_entry("name", &task.name)?;
        out.serialize_entry("framework_id", &task.framework_id.value)?;
        let executor = task.executor_id.as_ref().map_or("", |e| e.value.as_str());
        out.serialize_entry("executor_id", executor)?;
        out.serialize_entry("slave_id", &task.agent_id.value)?;
        out.serialize_entry("state", task_state_name(task.state))?;
        out.serialize_entry("resources", &Summary::of_protos(&task.resources))?;
        if !task.limits.is_empty() {
            let limits = task
                .limits
                .iter()
                .map(|e| (e.key(), e.value.as_ref().map_or(0.0, |v| v.value)));
            let limits: BTreeMap<&str, f64> = limits.collect();
            out.serialize_entry("limits", &limits)?;
        }
        out.serialize_entry("role", allocation_role(&task.resources))?;
        out.serialize_entry("statuses", &Seq(task.statuses.iter().map(TaskStatusJson)))?;
        if let Some(user) = &task.user {
            out.serialize_entry("user", user)?;
        }
        if let Some(labels) = &task.labels {
            out.serialize_entry("labels", &labels_json(labels))?;
        }
        if let Some(discovery) = task.discovery.as_deref() {
            out.serialize_entry("discovery", &to_value(discovery))?;
        }
        if let Some(container) = task.container.as_deref() {
            out.serialize_entry("container", &to_value(container))?;
        }
        if let Some(check) = task.health_check.as_deref() {
            out.serialize_entry("health_check", &to_value(check))?;
        }
        out.end()
    }
}

/// The role of the first resource's allocation (tasks and executors never mix roles),
/// `""` when there is none.
fn allocation_role(resources: &[pb::Resource]) -> &str {
    resources
        .first()
        .and_then(|r| r.allocation_info.as_ref())
        .map_or("", |a| a.role())
}

fn command_json(command: &pb::CommandInfo) -> Json {
    let mut out = Map::new();
    if let Some(shell) = command.shell {
        out.insert("shell".into(), json!(shell));
    }
    if let Some(value) = &command.value {
        out.insert("value".into(), json!(value));
    }
    out.insert("argv".into(), json!(command.arguments));
    if let Some(environment) = &command.environment {
        out.insert("environment".into(), to_value(environment));
    }
    let uris = command
        .uris
        .iter()
        .map(|u| json!({"value": u.value, "executable": u.executable()}))
        .collect();
    out.insert("uris".into(), Json::Array(uris));
    Json::Object(out)
}

/// An executor as Mesos' endpoints write it, with the `slave_id` of its agent.
pub fn executor_json(executor: &get_executors::Executor) -> Json {
    let info = &executor.executor_info;
    let mut out = Map::new();
    out.insert("executor_id".into(), json!(info.executor_id.value));
    out.insert("name".into(), json!(info.name()));
    let framework = info.framework_id.as_ref().map_or("", |f| f.value.as_str());
    out.insert("framework_id".into(), json!(framework));
    let command = info.command.clone().unwrap_or_default();
    out.insert("command".into(), command_json(&command));
    out.insert("resources".into(), resources_json(&info.resources));
    if !info.resources.is_empty() {
        out.insert("role".into(), json!(allocation_role(&info.resources)));
    }
    if let Some(labels) = &info.labels {
        out.insert("labels".into(), labels_json(labels));
    }
    if let Some(kind) = info.r#type {
        let name = pb::executor_info::Type::try_from(kind).map_or("", |t| t.as_str_name());
        out.insert("type".into(), json!(name));
    }
    out.insert("slave_id".into(), json!(executor.agent_id.value));
    Json::Object(out)
}

/// An offer as Mesos' endpoints write it.
pub fn offer_json(offer: &pb::Offer) -> Json {
    let allocation = offer.allocation_info.clone().unwrap_or_default();
    json!({
        "id": offer.id.value,
        "framework_id": offer.framework_id.value,
        "allocation_info": to_value(&allocation),
        "slave_id": offer.agent_id.value,
        "resources": resources_json(&offer.resources),
    })
}

/// What Mesos writes of an `AgentInfo` (`id`, `hostname`, `port`, `attributes`, `domain`):
/// the whole of a recovered agent, and the start of a registered one.
pub fn agent_info_json(info: &pb::AgentInfo) -> Map<String, Json> {
    object(&AgentInfoJson(info))
}

/// `value`, which serializes as an object, as a JSON object.
fn object(value: &impl Serialize) -> Map<String, Json> {
    match to_json(value) {
        Json::Object(map) => map,
        _ => Map::new(),
    }
}

/// [`agent_info_json`] as a [`Serialize`] view.
struct AgentInfoJson<'a>(&'a pb::AgentInfo);

impl AgentInfoJson<'_> {
    fn entries<M: SerializeMap>(&self, out: &mut M) -> Result<(), M::Error> {
        let info = self.0;
        let id = info.id.as_ref().map_or("", |i| i.value.as_str());
        out.serialize_entry("id", id)?;
        out.serialize_entry("hostname", &info.hostname)?;
        out.serialize_entry("port", &info.port())?;
        out.serialize_entry("attributes", &attributes_json(&info.attributes))?;
        if let Some(domain) = &info.domain {
            out.serialize_entry("domain", &to_value(domain))?;
        }
        Ok(())
    }
}

impl Serialize for AgentInfoJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        self.entries(&mut out)?;
        out.end()
    }
}

/// A registered agent as `/master/state` and `/master/slaves` write it (without the
/// `*_full` fields, see [`agent_full_json`]).
pub fn agent_json(agent: &get_agents::Agent) -> Map<String, Json> {
    object(&AgentJson(agent))
}

/// [`agent_json`] as a [`Serialize`] view of an agent, borrowed or owned.
pub struct AgentJson<A>(pub A);

impl<A: Borrow<get_agents::Agent>> Serialize for AgentJson<A> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let agent = self.0.borrow();
        let mut out = serializer.serialize_map(None)?;
        AgentInfoJson(&agent.agent_info).entries(&mut out)?;
        out.serialize_entry("pid", agent.pid())?;
        let registered = agent.registered_time.as_ref().map_or(0.0, seconds);
        out.serialize_entry("registered_time", &registered)?;
        if let Some(time) = &agent.reregistered_time {
            out.serialize_entry("reregistered_time", &seconds(time))?;
        }
        let total = Resources::from_protos_lossy(&agent.total_resources);
        out.serialize_entry("resources", &Summary::of(&total))?;
        let used = Summary::of_protos(&agent.allocated_resources);
        out.serialize_entry("used_resources", &used)?;
        let offered = Summary::of_protos(&agent.offered_resources);
        out.serialize_entry("offered_resources", &offered)?;
        let reservations = total.reservations();
        let reserved = reservations.iter().map(|(role, r)| (role, Summary::of(r)));
        out.serialize_entry("reserved_resources", &Entries(reserved))?;
        let unreserved = total.unreserved();
        out.serialize_entry("unreserved_resources", &Summary::of(&unreserved))?;
        out.serialize_entry("active", &agent.active)?;
        out.serialize_entry("deactivated", &agent.deactivated())?;
        out.serialize_entry("version", &agent.version)?;
        let capabilities = agent.capabilities.iter().map(|c| {
            c.r#type
                .and_then(|t| pb::agent_info::capability::Type::try_from(t).ok())
                .map_or("UNKNOWN", |t| t.as_str_name())
        });
        out.serialize_entry("capabilities", &Seq(capabilities))?;
        if let Some(drain) = &agent.drain_info {
            out.serialize_entry("drain_info", &to_value(drain))?;
        }
        if let Some(time) = &agent.estimated_drain_start_time {
            // Whole seconds, as an integer.
            let whole = time.nanoseconds / 1_000_000_000;
            out.serialize_entry("estimated_drain_start_time_seconds", &whole)?;
        }
        out.end()
    }
}

/// A serializable object: the keys and values of an iterator, written in order (each key
/// once). Cloned to be walked, as [`Seq`].
struct Entries<I>(I);

impl<I, K, V> Serialize for Entries<I>
where
    I: Iterator<Item = (K, V)> + Clone,
    K: Serialize,
    V: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.clone())
    }
}

/// [`agent_json`] plus the protobuf JSON of every reserved, unreserved, used and offered
/// resource, as `/master/slaves` writes it.
pub fn agent_full_json(agent: &get_agents::Agent) -> Map<String, Json> {
    let mut out = agent_json(agent);
    let total = Resources::from_protos_lossy(&agent.total_resources);
    let reserved = total
        .reservations()
        .iter()
        .map(|(role, resources)| {
            let full = resources_full_json(resources, &agent.total_resources);
            (role.clone(), full)
        })
        .collect();
    out.insert("reserved_resources_full".into(), Json::Object(reserved));
    let unreserved = resources_full_json(&total.unreserved(), &agent.total_resources);
    out.insert("unreserved_resources_full".into(), unreserved);
    let used = Resources::from_protos_lossy(&agent.allocated_resources);
    let used = resources_full_json(&used, &agent.allocated_resources);
    out.insert("used_resources_full".into(), used);
    let offered = Resources::from_protos_lossy(&agent.offered_resources);
    let offered = resources_full_json(&offered, &agent.offered_resources);
    out.insert("offered_resources_full".into(), offered);
    out
}

/// The names of a framework's capabilities.
fn framework_capabilities(info: &pb::FrameworkInfo) -> Vec<&'static str> {
    info.capabilities
        .iter()
        .map(|c| {
            c.r#type
                .and_then(|t| pb::framework_info::capability::Type::try_from(t).ok())
                .map_or("UNKNOWN", |t| t.as_str_name())
        })
        .collect()
}

/// Whether a framework declared the `MULTI_ROLE` capability.
fn is_multi_role(info: &pb::FrameworkInfo) -> bool {
    let multi = pb::framework_info::capability::Type::MultiRole as i32;
    info.capabilities.iter().any(|c| c.r#type == Some(multi))
}

/// The id of a framework, `""` if it has none.
pub fn framework_id(framework: &get_frameworks::Framework) -> &str {
    framework
        .framework_info
        .id
        .as_ref()
        .map_or("", |id| id.value.as_str())
}

/// The summary of a framework that `/master/state-summary` writes and the full object
/// starts with.
pub fn framework_summary_json(framework: &get_frameworks::Framework) -> Map<String, Json> {
    object(&FrameworkSummaryJson(framework))
}

/// [`framework_summary_json`] as a [`Serialize`] view.
struct FrameworkSummaryJson<'a>(&'a get_frameworks::Framework);

impl FrameworkSummaryJson<'_> {
    fn entries<M: SerializeMap>(&self, out: &mut M) -> Result<(), M::Error> {
        let framework = self.0;
        let info = &framework.framework_info;
        out.serialize_entry("id", framework_id(framework))?;
        out.serialize_entry("name", &info.name)?;
        let used = Summary::of_protos(&framework.allocated_resources);
        out.serialize_entry("used_resources", &used)?;
        let offered = Summary::of_protos(&framework.offered_resources);
        out.serialize_entry("offered_resources", &offered)?;
        out.serialize_entry("capabilities", &framework_capabilities(info))?;
        out.serialize_entry("hostname", info.hostname())?;
        out.serialize_entry("webui_url", info.webui_url())?;
        out.serialize_entry("active", &framework.active)?;
        out.serialize_entry("connected", &framework.connected)?;
        out.serialize_entry("recovered", &framework.recovered)
    }
}

impl Serialize for FrameworkSummaryJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_map(None)?;
        self.entries(&mut out)?;
        out.end()
    }
}

/// The tasks and executors of one framework, picked out of the master's lists.
#[derive(Default)]
pub struct FrameworkParts<'a> {
    /// Tasks being launched, not yet sent to their agent (written first under `tasks`).
    pub pending_tasks: Vec<&'a pb::Task>,
    /// Launched non-terminal tasks.
    pub tasks: Vec<&'a pb::Task>,
    /// Tasks on unreachable agents.
    pub unreachable_tasks: Vec<&'a pb::Task>,
    /// Terminal tasks the master still remembers.
    pub completed_tasks: Vec<&'a pb::Task>,
    /// The framework's executors.
    pub executors: Vec<&'a get_executors::Executor>,
}

/// Tasks as [`TaskJson`] views.
fn tasks<'a>(list: &'a [&'a pb::Task]) -> impl Iterator<Item = TaskJson<&'a pb::Task>> + Clone {
    list.iter().map(|task| TaskJson(*task))
}

/// A framework as `/master/state` writes it: the framework (borrowed or owned) and its
/// lists, each of which serializes as a JSON array (of [`TaskJson`], [`executor_json`]).
pub struct FrameworkJson<F, T, U, C, E> {
    /// The framework.
    pub framework: F,
    /// Its launched tasks, pending ones first.
    pub tasks: T,
    /// Its tasks on unreachable agents.
    pub unreachable_tasks: U,
    /// Its completed tasks.
    pub completed_tasks: C,
    /// Its executors.
    pub executors: E,
}

/// A framework of a `GetState` with its parts, as [`framework_full_json`] writes it.
pub fn framework_view<'a>(
    framework: &'a get_frameworks::Framework,
    parts: &'a FrameworkParts<'a>,
) -> impl Serialize + 'a {
    FrameworkJson {
        framework,
        tasks: Seq(tasks(&parts.pending_tasks).chain(tasks(&parts.tasks))),
        unreachable_tasks: Seq(tasks(&parts.unreachable_tasks)),
        completed_tasks: Seq(tasks(&parts.completed_tasks)),
        executors: Seq(parts.executors.iter().map(|e| executor_json(e))),
    }
}

/// A framework as `/master/state` and `/master/frameworks` write it.
pub fn framework_full_json(
    framework: &get_frameworks::Framework,
    parts: &FrameworkParts<'_>,
) -> Json {
    to_json(&framework_view(framework, parts))
}

impl<F, T, U, C, E> Serialize for FrameworkJson<F, T, U, C, E>
where
    F: Borrow<get_frameworks::Framework>,
    T: Serialize,
    U: Serialize,
    C: Serialize,
    E: Serialize,
{
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let framework = self.framework.borrow();
        let info = &framework.framework_info;
        let mut out = serializer.serialize_map(None)?;
        FrameworkSummaryJson(framework).entries(&mut out)?;
        out.serialize_entry("user", &info.user)?;
        out.serialize_entry("failover_timeout", &info.failover_timeout())?;
        out.serialize_entry("checkpoint", &info.checkpoint())?;
        let registered = framework.registered_time.as_ref().map_or(0.0, seconds);
        out.serialize_entry("registered_time", &registered)?;
        let unregistered = framework.unregistered_time.as_ref().map_or(0.0, seconds);
        out.serialize_entry("unregistered_time", &unregistered)?;
        if let Some(principal) = &info.principal {
            out.serialize_entry("principal", principal)?;
        }
        let total = Resources::from_protos_lossy(&framework.allocated_resources)
            + Resources::from_protos_lossy(&framework.offered_resources);
        out.serialize_entry("resources", &Summary::of(&total))?;
        let reregistered = framework.reregistered_time.as_ref().map(seconds);
        if let Some(time) = reregistered.filter(|t| *t != registered) {
            out.serialize_entry("reregistered_time", &time)?;
        }
        if is_multi_role(info) {
            out.serialize_entry("roles", &info.roles)?;
        } else {
            out.serialize_entry("role", info.role())?;
        }
        out.serialize_entry("tasks", &self.tasks)?;
        out.serialize_entry("unreachable_tasks", &self.unreachable_tasks)?;
        out.serialize_entry("completed_tasks", &self.completed_tasks)?;
        out.serialize_entry("offers", &Seq(framework.offers.iter().map(offer_json)))?;
        out.serialize_entry("executors", &self.executors)?;
        if let Some(labels) = &info.labels {
            out.serialize_entry("labels", &labels_json(labels))?;
        }
        let constraints = framework
            .offer_constraints
            .as_ref()
            .map_or_else(|| Json::Object(Map::new()), to_value);
        out.serialize_entry("offer_constraints", &constraints)?;
        out.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::{parse_attributes, parse_resources};

    #[test]
    fn resources_summary_has_the_four_defaults_ranges_sets_and_revocable() {
        let mut r = parse_resources(
            "cpus:1.5;mem:64;ports:[31000-31005,31010-31020];zones:{b,a}",
            "*",
        )
        .unwrap();
        r.push(
            Resource::builder(
                "cpus",
                Value::Scalar(crate::resources::Scalar::from_f64(0.5).unwrap()),
            )
            .revocable()
            .build()
            .unwrap(),
        );
        let json = resources_json(&r.to_protos());
        assert_eq!(
            json,
            json!({
                "cpus": 1.5, "gpus": 0.0, "mem": 64.0, "disk": 0.0,
                "cpus_revocable": 0.5,
                "ports": "[31000-31005, 31010-31020]",
                "zones": "{a, b}",
            })
        );
    }

    #[test]
    fn a_name_of_two_kinds_is_written_once_as_the_last_kind() {
        let scalar = |name: &str| pb::Resource {
            name: name.into(),
            r#type: pb::value::Type::Scalar as i32,
            scalar: Some(pb::value::Scalar { value: 1.0 }),
            ..Default::default()
        };
        let ranges = pb::Resource {
            name: "foo".into(),
            r#type: pb::value::Type::Ranges as i32,
            ranges: Some(pb::value::Ranges {
                range: vec![pb::value::Range { begin: 1, end: 2 }],
            }),
            ..Default::default()
        };
        let set = pb::Resource {
            name: "mem".into(),
            r#type: pb::value::Type::Set as i32,
            set: Some(pb::value::Set {
                item: vec!["a".into()],
            }),
            ..Default::default()
        };
        let written = serde_json::to_string(&Summary::of_protos(&[
            scalar("foo"),
            ranges,
            set,
            scalar("cpus"),
        ]))
        .unwrap();
        assert_eq!(
            written,
            r#"{"cpus":1.0,"gpus":0.0,"disk":0.0,"foo":"[1-2]","mem":"{a}"}"#
        );
    }

    #[test]
    fn empty_resources_are_zeros() {
        assert_eq!(
            resources_json(&[]),
            json!({"cpus": 0.0, "gpus": 0.0, "mem": 0.0, "disk": 0.0})
        );
        assert_eq!(quantities_json(&[]), json!({}));
    }

    #[test]
    fn quantities_keep_scalars_only() {
        let r = parse_resources("cpus:2;mem:10;ports:[1-2]", "*").unwrap();
        assert_eq!(
            quantities_json(&r.to_protos()),
            json!({"cpus": 2.0, "mem": 10.0})
        );
    }

    #[test]
    fn attributes_are_flat() {
        let mut a = parse_attributes("rack:r1;weight:2.5;ids:[1-3]")
            .unwrap()
            .into_protos();
        a.push(pb::Attribute {
            name: "tags".into(),
            r#type: pb::value::Type::Set as i32,
            set: Some(pb::value::Set {
                item: vec!["y".into(), "x".into()],
            }),
            ..Default::default()
        });
        assert_eq!(
            attributes_json(&a),
            json!({"rack": "r1", "weight": 2.5, "ids": "[1-3]", "tags": "{y, x}"})
        );
    }

    #[test]
    fn full_resources_use_the_legacy_role_field() {
        let r = parse_resources("cpus:2", "*").unwrap();
        let full = resources_full_json(&r, &[]);
        assert_eq!(full[0]["role"], json!("*"));
        assert_eq!(full[0]["scalar"]["value"], json!(2.0));
    }

    #[test]
    fn draining_agent_shows_its_drain() {
        let agent = get_agents::Agent {
            agent_info: pb::AgentInfo {
                hostname: "h".into(),
                ..Default::default()
            },
            deactivated: Some(true),
            drain_info: Some(pb::DrainInfo {
                state: pb::DrainState::Draining as i32,
                ..Default::default()
            }),
            estimated_drain_start_time: Some(pb::TimeInfo {
                nanoseconds: 1_500_000_000,
            }),
            ..Default::default()
        };
        let json = agent_json(&agent);
        assert_eq!(json["deactivated"], json!(true));
        assert_eq!(json["drain_info"]["state"], json!("DRAINING"));
        assert_eq!(json["estimated_drain_start_time_seconds"], json!(1));
        assert_eq!(json["port"], json!(5051));
        assert_eq!(json["attributes"], json!({}));
    }

    #[test]
    // A framework without MULTI_ROLE names its role in the deprecated `role` field.
    #[allow(deprecated)]
    fn framework_writes_role_without_multi_role_and_reregistration_when_it_differs() {
        let framework = get_frameworks::Framework {
            framework_info: pb::FrameworkInfo {
                user: "u".into(),
                name: "n".into(),
                role: Some("web".into()),
                principal: Some("p".into()),
                ..Default::default()
            },
            registered_time: Some(pb::TimeInfo {
                nanoseconds: 1_000_000_000,
            }),
            reregistered_time: Some(pb::TimeInfo {
                nanoseconds: 2_000_000_000,
            }),
            ..Default::default()
        };
        let json = framework_full_json(&framework, &FrameworkParts::default());
        assert_eq!(json["role"], json!("web"));
        assert!(json.get("roles").is_none());
        assert_eq!(json["principal"], json!("p"));
        assert_eq!(json["registered_time"], json!(1.0));
        assert_eq!(json["reregistered_time"], json!(2.0));
        assert_eq!(json["offer_constraints"], json!({}));
    }

    #[test]
    fn task_without_executor_or_resources_has_empty_strings() {
        let task = pb::Task {
            name: "t".into(),
            task_id: pb::TaskId { value: "t1".into() },
            framework_id: pb::FrameworkId { value: "f".into() },
            agent_id: pb::AgentId { value: "a".into() },
            state: pb::TaskState::TaskRunning as i32,
            ..Default::default()
        };
        let json = task_json(&task);
        assert_eq!(json["executor_id"], json!(""));
        assert_eq!(json["role"], json!(""));
        assert_eq!(json["state"], json!("TASK_RUNNING"));
        assert_eq!(json["statuses"], json!([]));
    }
}
