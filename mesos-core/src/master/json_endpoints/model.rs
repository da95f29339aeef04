//! How Mesos writes single objects in its JSON endpoints: resources as a summary object,
//! attributes as a flat object, tasks, executors, offers, agents and frameworks as the
//! "model" objects of Apache Mesos' `/master/*` endpoints (not the protobuf JSON mapping).

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use crate::json::to_value;
use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::master::response::{get_agents, get_executors, get_frameworks};
use crate::resources::{Ranges, Resource, Resources, Scalar, Set, Value};

/// Mesos' summary object of a resource collection: `cpus`, `gpus`, `mem` and `disk` always
/// (0 when absent), every other scalar by name, ranges as `"[a-b, c-d]"`, sets as `"{a, b}"`;
/// revocable resources under `<name>_revocable`. Resources that are not valid are skipped.
pub fn resources_json(resources: &[pb::Resource]) -> Json {
    let mut summary = Summary::new();
    for proto in resources {
        if let Ok(resource) = Resource::from_proto(proto) {
            summary.add(&proto.name, &resource);
        }
    }
    summary.into_json()
}

/// [`resources_json`] of an already validated collection.
pub fn summary_of(resources: &Resources) -> Json {
    let mut summary = Summary::new();
    for resource in resources {
        summary.add(resource.name(), resource);
    }
    summary.into_json()
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

    fn into_json(self) -> Json {
        let mut out = Map::new();
        for (name, value) in self.scalars {
            out.insert(name.into_owned(), json!(value.as_f64()));
        }
        for (name, value) in self.ranges {
            out.insert(name.into_owned(), Json::String(value.to_string()));
        }
        for (name, value) in self.sets {
            out.insert(name.into_owned(), Json::String(value.to_string()));
        }
        Json::Object(out)
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
    let mut out = Map::new();
    out.insert("state".into(), json!(task_state_name(status.state)));
    out.insert("timestamp".into(), json!(status.timestamp()));
    if let Some(labels) = &status.labels {
        out.insert("labels".into(), labels_json(labels));
    }
    if let Some(container) = &status.container_status {
        out.insert("container_status".into(), container_status_json(container));
    }
    if let Some(healthy) = status.healthy {
        out.insert("healthy".into(), json!(healthy));
    }
    Json::Object(out)
}

/// A task as Mesos' endpoints write it (`id`, `slave_id`, `state` by name, summarised
/// `resources`, `role` from the allocation, `statuses`...).
pub fn task_json(task: &pb::Task) -> Json {
    let mut out = Map::new();
    out.insert("id".into(), json!(task.task_id.value));
    out.insert("name".into(), json!(task.name));
    out.insert("framework_id".into(), json!(task.framework_id.value));
    let executor = task.executor_id.as_ref().map_or("", |e| e.value.as_str());
    out.insert("executor_id".into(), json!(executor));
    out.insert("slave_id".into(), json!(task.agent_id.value));
    out.insert("state".into(), json!(task_state_name(task.state)));
    out.insert("resources".into(), resources_json(&task.resources));
    if !task.limits.is_empty() {
        let limits = task
            .limits
            .iter()
            .map(|e| {
                (
                    e.key().to_string(),
                    json!(e.value.as_ref().map_or(0.0, |v| v.value)),
                )
            })
            .collect();
        out.insert("limits".into(), Json::Object(limits));
    }
    out.insert("role".into(), json!(allocation_role(&task.resources)));
    let statuses = task.statuses.iter().map(task_status_json).collect();
    out.insert("statuses".into(), Json::Array(statuses));
    if let Some(user) = &task.user {
        out.insert("user".into(), json!(user));
    }
    if let Some(labels) = &task.labels {
        out.insert("labels".into(), labels_json(labels));
    }
    if let Some(discovery) = task.discovery.as_deref() {
        out.insert("discovery".into(), to_value(discovery));
    }
    if let Some(container) = task.container.as_deref() {
        out.insert("container".into(), to_value(container));
    }
    if let Some(check) = task.health_check.as_deref() {
        out.insert("health_check".into(), to_value(check));
    }
    Json::Object(out)
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
    let mut out = Map::new();
    let id = info.id.as_ref().map_or("", |i| i.value.as_str());
    out.insert("id".into(), json!(id));
    out.insert("hostname".into(), json!(info.hostname));
    out.insert("port".into(), json!(info.port()));
    out.insert("attributes".into(), attributes_json(&info.attributes));
    if let Some(domain) = &info.domain {
        out.insert("domain".into(), to_value(domain));
    }
    out
}

/// A registered agent as `/master/state` and `/master/slaves` write it (without the
/// `*_full` fields, see [`agent_full_json`]).
pub fn agent_json(agent: &get_agents::Agent) -> Map<String, Json> {
    let mut out = agent_info_json(&agent.agent_info);
    out.insert("pid".into(), json!(agent.pid()));
    let registered = agent.registered_time.as_ref().map_or(0.0, seconds);
    out.insert("registered_time".into(), json!(registered));
    if let Some(time) = &agent.reregistered_time {
        out.insert("reregistered_time".into(), json!(seconds(time)));
    }
    let total = Resources::from_protos_lossy(&agent.total_resources);
    out.insert("resources".into(), summary_of(&total));
    let used = resources_json(&agent.allocated_resources);
    out.insert("used_resources".into(), used);
    let offered = resources_json(&agent.offered_resources);
    out.insert("offered_resources".into(), offered);
    let reserved = total
        .reservations()
        .iter()
        .map(|(role, resources)| (role.clone(), summary_of(resources)))
        .collect();
    out.insert("reserved_resources".into(), Json::Object(reserved));
    out.insert(
        "unreserved_resources".into(),
        summary_of(&total.unreserved()),
    );
    out.insert("active".into(), json!(agent.active));
    out.insert("deactivated".into(), json!(agent.deactivated()));
    out.insert("version".into(), json!(agent.version));
    let capabilities: Vec<&str> = agent
        .capabilities
        .iter()
        .map(|c| {
            c.r#type
                .and_then(|t| pb::agent_info::capability::Type::try_from(t).ok())
                .map_or("UNKNOWN", |t| t.as_str_name())
        })
        .collect();
    out.insert("capabilities".into(), json!(capabilities));
    if let Some(drain) = &agent.drain_info {
        out.insert("drain_info".into(), to_value(drain));
    }
    if let Some(time) = &agent.estimated_drain_start_time {
        // Whole seconds, as an integer.
        let whole = time.nanoseconds / 1_000_000_000;
        out.insert("estimated_drain_start_time_seconds".into(), json!(whole));
    }
    out
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
    let info = &framework.framework_info;
    let mut out = Map::new();
    out.insert("id".into(), json!(framework_id(framework)));
    out.insert("name".into(), json!(info.name));
    let used = resources_json(&framework.allocated_resources);
    out.insert("used_resources".into(), used);
    let offered = resources_json(&framework.offered_resources);
    out.insert("offered_resources".into(), offered);
    out.insert("capabilities".into(), json!(framework_capabilities(info)));
    out.insert("hostname".into(), json!(info.hostname()));
    out.insert("webui_url".into(), json!(info.webui_url()));
    out.insert("active".into(), json!(framework.active));
    out.insert("connected".into(), json!(framework.connected));
    out.insert("recovered".into(), json!(framework.recovered));
    out
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

/// A framework as `/master/state` and `/master/frameworks` write it.
pub fn framework_full_json(
    framework: &get_frameworks::Framework,
    parts: &FrameworkParts<'_>,
) -> Json {
    let info = &framework.framework_info;
    let mut out = framework_summary_json(framework);
    out.insert("user".into(), json!(info.user));
    out.insert("failover_timeout".into(), json!(info.failover_timeout()));
    out.insert("checkpoint".into(), json!(info.checkpoint()));
    let registered = framework.registered_time.as_ref().map_or(0.0, seconds);
    out.insert("registered_time".into(), json!(registered));
    let unregistered = framework.unregistered_time.as_ref().map_or(0.0, seconds);
    out.insert("unregistered_time".into(), json!(unregistered));
    if let Some(principal) = &info.principal {
        out.insert("principal".into(), json!(principal));
    }
    let total = Resources::from_protos_lossy(&framework.allocated_resources)
        + Resources::from_protos_lossy(&framework.offered_resources);
    out.insert("resources".into(), summary_of(&total));
    let reregistered = framework.reregistered_time.as_ref().map(seconds);
    if let Some(time) = reregistered.filter(|t| *t != registered) {
        out.insert("reregistered_time".into(), json!(time));
    }
    if is_multi_role(info) {
        out.insert("roles".into(), json!(info.roles));
    } else {
        out.insert("role".into(), json!(info.role()));
    }
    let tasks = |list: &[&pb::Task]| Json::Array(list.iter().map(|t| task_json(t)).collect());
    let all_tasks: Vec<&pb::Task> = parts
        .pending_tasks
        .iter()
        .chain(&parts.tasks)
        .copied()
        .collect();
    out.insert("tasks".into(), tasks(&all_tasks));
    out.insert("unreachable_tasks".into(), tasks(&parts.unreachable_tasks));
    out.insert("completed_tasks".into(), tasks(&parts.completed_tasks));
    let offers = framework.offers.iter().map(offer_json).collect();
    out.insert("offers".into(), Json::Array(offers));
    let executors = parts.executors.iter().map(|e| executor_json(e)).collect();
    out.insert("executors".into(), Json::Array(executors));
    if let Some(labels) = &info.labels {
        out.insert("labels".into(), labels_json(labels));
    }
    let constraints = framework
        .offer_constraints
        .as_ref()
        .map_or_else(|| Json::Object(Map::new()), to_value);
    out.insert("offer_constraints".into(), constraints);
    Json::Object(out)
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
