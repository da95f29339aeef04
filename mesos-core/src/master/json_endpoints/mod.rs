//! The master's JSON endpoints (`/master/state`, `/master/state-summary`,
//! `/master/frameworks`, `/master/slaves`, `/master/tasks`, `/master/roles`), rendered from
//! the v1 operator messages the master builds for `GET_STATE` and `GET_ROLES`.
//!
//! These are pure functions: the master snapshots its state as v1 messages, adds what
//! those do not carry ([`MasterSnapshot`], [`RoleDetails`]) and gets the JSON that Apache
//! Mesos answers with, with the same keys, nesting and v0 names (`slaves`, `slave_id`,
//! resources as summary objects, attributes as flat objects). `/master/state` can also
//! be written from lists that make each agent and framework only as it is written
//! ([`write_state`]), which is how the master serves it.

mod model;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value as Json};

use crate::proto::mesos::v1 as pb;
use crate::proto::mesos::v1::master::response::{get_frameworks, GetAgents, GetRoles, GetState};

pub use model::{
    agent_full_json, agent_info_json, agent_json, attributes_json, executor_json,
    framework_full_json, framework_summary_json, framework_view, labels_json, number_map,
    offer_json, quantities_json, resources_full_json, resources_json, seconds, summary_of,
    task_json, task_state_name, task_status_json, AgentJson, FrameworkJson, FrameworkParts, Seq,
    TaskJson,
};

/// How many tasks `/master/tasks` answers with when the query names no `limit`.
pub const DEFAULT_TASK_LIMIT: usize = 100;

/// What the JSON endpoints need besides the v1 state of the cluster.
pub struct MasterSnapshot<'a> {
    /// This master.
    pub master_info: &'a pb::MasterInfo,
    /// The leading master, if one is known (this one when it leads).
    pub leader: Option<&'a pb::MasterInfo>,
    /// The master's effective flags, by name, as `/flags` shows them; `cluster`, `log_dir`
    /// and `external_log_file` are also read from here.
    pub flags: &'a BTreeMap<String, String>,
    /// When the master started, in seconds since the epoch.
    pub start_time: f64,
    /// When the master was elected leader, in seconds since the epoch.
    pub elected_time: Option<f64>,
    /// This build (see `mesos_core::http::endpoints::version_info`).
    pub version: &'a pb::VersionInfo,
    /// How many agents are marked unreachable (v1 `GET_STATE` does not list them).
    pub unreachable_agents: usize,
}

/// The parts of a `GetState`, each empty when absent.
struct Parts<'a> {
    tasks: &'a [pb::Task],
    pending_tasks: &'a [pb::Task],
    unreachable_tasks: &'a [pb::Task],
    completed_tasks: &'a [pb::Task],
    executors: &'a [pb::master::response::get_executors::Executor],
    frameworks: &'a [get_frameworks::Framework],
    completed_frameworks: &'a [get_frameworks::Framework],
    agents: &'a [pb::master::response::get_agents::Agent],
    recovered_agents: &'a [pb::AgentInfo],
}

impl<'a> Parts<'a> {
    fn of(state: &'a GetState) -> Parts<'a> {
        let tasks = state.get_tasks.as_ref();
        let frameworks = state.get_frameworks.as_ref();
        let agents = state.get_agents.as_ref();
        Parts {
            tasks: tasks.map_or(&[], |t| &t.tasks),
            pending_tasks: tasks.map_or(&[], |t| &t.pending_tasks),
            unreachable_tasks: tasks.map_or(&[], |t| &t.unreachable_tasks),
            completed_tasks: tasks.map_or(&[], |t| &t.completed_tasks),
            executors: state.get_executors.as_ref().map_or(&[], |e| &e.executors),
            frameworks: frameworks.map_or(&[], |f| &f.frameworks),
            completed_frameworks: frameworks.map_or(&[], |f| &f.completed_frameworks),
            agents: agents.map_or(&[], |a| &a.agents),
            recovered_agents: agents.map_or(&[], |a| &a.recovered_agents),
        }
    }

    /// The tasks and executors of every framework, by framework id.
    fn by_framework(&self) -> HashMap<&'a str, FrameworkParts<'a>> {
        let mut out: HashMap<&str, FrameworkParts> = HashMap::new();
        for task in self.pending_tasks {
            out.entry(&task.framework_id.value)
                .or_default()
                .pending_tasks
                .push(task);
        }
        for task in self.tasks {
            out.entry(&task.framework_id.value)
                .or_default()
                .tasks
                .push(task);
        }
        for task in self.unreachable_tasks {
            out.entry(&task.framework_id.value)
                .or_default()
                .unreachable_tasks
                .push(task);
        }
        for task in self.completed_tasks {
            out.entry(&task.framework_id.value)
                .or_default()
                .completed_tasks
                .push(task);
        }
        for executor in self.executors {
            let framework = executor.executor_info.framework_id.as_ref();
            out.entry(framework.map_or("", |f| f.value.as_str()))
                .or_default()
                .executors
                .push(executor);
        }
        out
    }
}

fn full_frameworks(
    frameworks: &[get_frameworks::Framework],
    parts: &HashMap<&str, FrameworkParts<'_>>,
    selected: impl Fn(&get_frameworks::Framework) -> bool,
) -> Json {
    let none = FrameworkParts::default();
    Json::Array(
        frameworks
            .iter()
            .filter(|f| selected(f))
            .map(|f| framework_full_json(f, parts.get(model::framework_id(f)).unwrap_or(&none)))
            .collect(),
    )
}

/// The names of a master's capabilities. They are looked up in the v0 schema, which
/// (unlike the v1 one) names `QUOTA_V2`; both share the numbers.
fn master_capabilities(info: &pb::MasterInfo) -> Vec<&'static str> {
    use crate::proto::mesos::master_info::capability::Type;
    info.capabilities
        .iter()
        .map(|c| {
            c.r#type
                .and_then(|t| Type::try_from(t).ok())
                .map_or("UNKNOWN", |t| t.as_str_name())
        })
        .collect()
}

/// The lists `/master/state` writes, each of which serializes as a JSON array.
pub struct StateLists<'a, A, F, C> {
    /// The registered agents ([`AgentJson`]).
    pub agents: A,
    /// How many of them are active.
    pub active_agents: usize,
    /// How many are not.
    pub inactive_agents: usize,
    /// Agents recovered from the registry that have not re-registered yet.
    pub recovered_agents: &'a [pb::AgentInfo],
    /// The registered frameworks ([`FrameworkJson`]).
    pub frameworks: F,
    /// The completed frameworks.
    pub completed_frameworks: C,
}

/// `GET /master/state`, serialized. The agents are written on a second thread while this
/// one writes the frameworks (with their tasks): on a big cluster they are most of it.
pub fn write_state<A, F, C>(s: &MasterSnapshot<'_>, lists: StateLists<'_, A, F, C>) -> Vec<u8>
where
    A: serde::Serialize + Sync,
    F: serde::Serialize,
    C: serde::Serialize,
{
    let mut out = json_bytes(&Json::Object(state_head(s, &lists)));
    // The head is a non-empty object: its closing brace makes way for the big parts,
    // the frameworks written in place, the agents appended when their thread is done.
    out.pop();
    std::thread::scope(|scope| {
        let agents = scope.spawn(|| json_bytes(&lists.agents));
        write_key(&mut out, "frameworks");
        write_json(&mut out, &lists.frameworks);
        write_key(&mut out, "completed_frameworks");
        write_json(&mut out, &lists.completed_frameworks);
        let agents = agents
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        write_key(&mut out, "slaves");
        out.extend_from_slice(&agents);
    });
    out.push(b'}');
    out
}

/// Appends `,"key":` to an object being written.
fn write_key(out: &mut Vec<u8>, key: &str) {
    out.push(b',');
    write_json(out, &key);
    out.push(b':');
}

/// Appends `value` as JSON.
fn write_json(out: &mut Vec<u8>, value: &impl serde::Serialize) {
    serde_json::to_writer(out, value).expect("the endpoints' objects have string keys only");
}

/// `GET /master/state` of a `GET_STATE` answer, serialized.
pub fn state_json(s: &MasterSnapshot<'_>, state: &GetState) -> Vec<u8> {
    let parts = Parts::of(state);
    let by_framework = parts.by_framework();
    let none = FrameworkParts::default();
    let view = |framework| {
        let parts = by_framework.get(model::framework_id(framework));
        framework_view(framework, parts.unwrap_or(&none))
    };
    let active_agents = parts.agents.iter().filter(|a| a.active).count();
    let lists = StateLists {
        agents: Seq(parts.agents.iter().map(AgentJson)),
        active_agents,
        inactive_agents: parts.agents.len() - active_agents,
        recovered_agents: parts.recovered_agents,
        frameworks: Seq(parts.frameworks.iter().map(view)),
        completed_frameworks: Seq(parts.completed_frameworks.iter().map(view)),
    };
    write_state(s, lists)
}

/// `value` serialized as JSON.
pub fn json_bytes(value: &impl serde::Serialize) -> Vec<u8> {
    let mut out = Vec::new();
    write_json(&mut out, value);
    out
}

/// Everything `/master/state` writes but its agents and frameworks.
fn state_head<A, F, C>(
    s: &MasterSnapshot<'_>,
    lists: &StateLists<'_, A, F, C>,
) -> Map<String, Json> {
    let mut out = Map::new();
    let version = s.version;
    out.insert("version".into(), json!(version.version));
    if let Some(sha) = &version.git_sha {
        out.insert("git_sha".into(), json!(sha));
    }
    if let Some(branch) = &version.git_branch {
        out.insert("git_branch".into(), json!(branch));
    }
    if let Some(tag) = &version.git_tag {
        out.insert("git_tag".into(), json!(tag));
    }
    out.insert("build_date".into(), json!(version.build_date()));
    out.insert("build_time".into(), json!(version.build_time()));
    out.insert("build_user".into(), json!(version.build_user()));
    out.insert("start_time".into(), json!(s.start_time));
    if let Some(elected) = s.elected_time {
        out.insert("elected_time".into(), json!(elected));
    }
    let info = s.master_info;
    out.insert("id".into(), json!(info.id));
    out.insert("pid".into(), json!(info.pid()));
    out.insert("hostname".into(), json!(info.hostname()));
    out.insert("capabilities".into(), json!(master_capabilities(info)));
    let active = lists.active_agents as f64;
    out.insert("activated_slaves".into(), json!(active));
    let inactive = lists.inactive_agents as f64;
    out.insert("deactivated_slaves".into(), json!(inactive));
    let unreachable = s.unreachable_agents as f64;
    out.insert("unreachable_slaves".into(), json!(unreachable));
    if let Some(domain) = &info.domain {
        out.insert("domain".into(), crate::json::to_value(domain));
    }
    if let Some(leader) = s.leader {
        out.insert("leader".into(), json!(leader.pid()));
        let leader_info = json!({
            "id": leader.id,
            "pid": leader.pid(),
            "port": leader.port,
            "hostname": leader.hostname(),
        });
        out.insert("leader_info".into(), leader_info);
    }
    for flag in ["cluster", "log_dir", "external_log_file"] {
        if let Some(value) = s.flags.get(flag) {
            out.insert(flag.into(), json!(value));
        }
    }
    out.insert("flags".into(), json!(s.flags));
    let recovered = lists
        .recovered_agents
        .iter()
        .map(|a| Json::Object(agent_info_json(a)));
    out.insert("recovered_slaves".into(), Json::Array(recovered.collect()));
    out.insert("orphan_tasks".into(), json!([]));
    out.insert("unregistered_frameworks".into(), json!([]));
    out
}

/// Counts of tasks by state, as `/master/state-summary` writes them per agent and
/// per framework.
#[derive(Default)]
struct TaskCounts([u64; 10]);

/// The states `/master/state-summary` counts, in the order it writes them.
const SUMMARY_STATES: [pb::TaskState; 10] = [
    pb::TaskState::TaskStaging,
    pb::TaskState::TaskStarting,
    pb::TaskState::TaskRunning,
    pb::TaskState::TaskKilling,
    pb::TaskState::TaskFinished,
    pb::TaskState::TaskKilled,
    pb::TaskState::TaskFailed,
    pb::TaskState::TaskLost,
    pb::TaskState::TaskError,
    pb::TaskState::TaskUnreachable,
];

impl TaskCounts {
    fn count(&mut self, state: i32) {
        if let Some(i) = SUMMARY_STATES.iter().position(|s| *s as i32 == state) {
            self.0[i] += 1;
        }
    }

    fn write(&self, out: &mut Map<String, Json>) {
        for (state, n) in SUMMARY_STATES.iter().zip(self.0) {
            out.insert(state.as_str_name().into(), json!(n));
        }
    }
}

/// `GET /master/state-summary`.
pub fn state_summary_json(s: &MasterSnapshot<'_>, state: &GetState) -> Json {
    let parts = Parts::of(state);
    let registered: BTreeSet<&str> = parts.frameworks.iter().map(model::framework_id).collect();

    let mut agent_counts: HashMap<&str, TaskCounts> = HashMap::new();
    let mut framework_counts: HashMap<&str, TaskCounts> = HashMap::new();
    let mut agent_frameworks: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let mut framework_agents: HashMap<&str, BTreeSet<&str>> = HashMap::new();
    let pending = parts.pending_tasks.iter().map(|t| (t, true));
    let others = parts
        .tasks
        .iter()
        .chain(parts.unreachable_tasks)
        .chain(parts.completed_tasks)
        .map(|t| (t, false));
    for (task, is_pending) in pending.chain(others) {
        let framework = task.framework_id.value.as_str();
        if !registered.contains(framework) {
            continue;
        }
        let agent = task.agent_id.value.as_str();
        let state = if is_pending {
            pb::TaskState::TaskStaging as i32
        } else {
            task.state
        };
        agent_counts.entry(agent).or_default().count(state);
        framework_counts.entry(framework).or_default().count(state);
        agent_frameworks.entry(agent).or_default().insert(framework);
        framework_agents.entry(framework).or_default().insert(agent);
    }

    let no_counts = TaskCounts::default();
    let no_ids = BTreeSet::new();
    let agents = parts.agents.iter().map(|agent| {
        let mut out = agent_json(agent);
        let id = agent
            .agent_info
            .id
            .as_ref()
            .map_or("", |i| i.value.as_str());
        agent_counts.get(id).unwrap_or(&no_counts).write(&mut out);
        let ids = agent_frameworks.get(id).unwrap_or(&no_ids);
        out.insert("framework_ids".into(), json!(ids));
        Json::Object(out)
    });
    let frameworks = parts.frameworks.iter().map(|framework| {
        let mut out = framework_summary_json(framework);
        let id = model::framework_id(framework);
        framework_counts
            .get(id)
            .unwrap_or(&no_counts)
            .write(&mut out);
        let ids = framework_agents.get(id).unwrap_or(&no_ids);
        out.insert("slave_ids".into(), json!(ids));
        Json::Object(out)
    });

    let mut out = Map::new();
    out.insert("hostname".into(), json!(s.master_info.hostname()));
    if let Some(cluster) = s.flags.get("cluster") {
        out.insert("cluster".into(), json!(cluster));
    }
    out.insert("slaves".into(), Json::Array(agents.collect()));
    out.insert("frameworks".into(), Json::Array(frameworks.collect()));
    Json::Object(out)
}

/// `GET /master/frameworks`, optionally only the framework with id `framework_id`.
pub fn frameworks_json(state: &GetState, framework_id: Option<&str>) -> Json {
    let parts = Parts::of(state);
    let by_framework = parts.by_framework();
    let selected =
        |f: &get_frameworks::Framework| framework_id.is_none_or(|id| id == model::framework_id(f));
    json!({
        "frameworks": full_frameworks(parts.frameworks, &by_framework, selected),
        "completed_frameworks": full_frameworks(parts.completed_frameworks, &by_framework, selected),
        "unregistered_frameworks": [],
    })
}

/// `GET /master/slaves`, optionally only the agent with id `slave_id`.
pub fn slaves_json(agents: &GetAgents, slave_id: Option<&str>) -> Json {
    let selected = |info: &pb::AgentInfo| {
        slave_id.is_none_or(|id| info.id.as_ref().is_some_and(|i| i.value == id))
    };
    let registered = agents
        .agents
        .iter()
        .filter(|a| selected(&a.agent_info))
        .map(|a| Json::Object(agent_full_json(a)));
    let recovered = agents
        .recovered_agents
        .iter()
        .filter(|a| selected(a))
        .map(|a| Json::Object(agent_info_json(a)));
    json!({
        "slaves": registered.collect::<Vec<_>>(),
        "recovered_slaves": recovered.collect::<Vec<_>>(),
    })
}

/// The order of `/master/tasks`: by the timestamp of each task's first status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum TaskOrder {
    /// Oldest first (`order=asc`).
    Ascending,
    /// Newest first, the default.
    #[default]
    Descending,
}

/// The query of `/master/tasks`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TasksQuery {
    /// At most this many tasks.
    pub limit: usize,
    /// Skip this many first.
    pub offset: usize,
    /// Sort order.
    pub order: TaskOrder,
    /// Only tasks of this framework.
    pub framework_id: Option<String>,
    /// Only tasks with this id.
    pub task_id: Option<String>,
}

impl Default for TasksQuery {
    fn default() -> TasksQuery {
        TasksQuery {
            limit: DEFAULT_TASK_LIMIT,
            offset: 0,
            order: TaskOrder::Descending,
            framework_id: None,
            task_id: None,
        }
    }
}

impl TasksQuery {
    /// Reads `limit`, `offset`, `order`, `framework_id` and `task_id` from query
    /// parameters as Mesos does: a number that does not parse means the default, and any
    /// `order` but `asc` means descending.
    pub fn from_params(params: &BTreeMap<String, String>) -> TasksQuery {
        let number = |key: &str, default: usize| {
            params
                .get(key)
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(default)
        };
        TasksQuery {
            limit: number("limit", DEFAULT_TASK_LIMIT),
            offset: number("offset", 0),
            order: if params.get("order").map(String::as_str) == Some("asc") {
                TaskOrder::Ascending
            } else {
                TaskOrder::Descending
            },
            framework_id: params.get("framework_id").cloned(),
            task_id: params.get("task_id").cloned(),
        }
    }
}

/// `GET /master/tasks`: the launched, unreachable and completed tasks of registered and
/// completed frameworks, sorted by first status time, then `offset` and `limit` applied.
pub fn tasks_json(state: &GetState, query: &TasksQuery) -> Json {
    let parts = Parts::of(state);
    let frameworks = parts
        .frameworks
        .iter()
        .chain(parts.completed_frameworks)
        .map(model::framework_id)
        .filter(|id| query.framework_id.as_deref().is_none_or(|want| want == *id));
    let by_framework = parts.by_framework();
    let mut tasks: Vec<&pb::Task> = Vec::new();
    let mut seen = BTreeSet::new();
    for id in frameworks {
        if !seen.insert(id) {
            continue;
        }
        let Some(p) = by_framework.get(id) else {
            continue;
        };
        let all = p
            .tasks
            .iter()
            .chain(&p.unreachable_tasks)
            .chain(&p.completed_tasks)
            .filter(|t| {
                query
                    .task_id
                    .as_deref()
                    .is_none_or(|want| want == t.task_id.value)
            });
        tasks.extend(all.copied());
    }
    let first_time = |t: &pb::Task| t.statuses.first().map(|s| s.timestamp());
    match query.order {
        // Tasks without statuses sort first ascending, last descending.
        TaskOrder::Ascending => tasks.sort_by(|a, b| {
            first_time(a)
                .partial_cmp(&first_time(b))
                .unwrap_or(std::cmp::Ordering::Equal)
        }),
        TaskOrder::Descending => tasks.sort_by(|a, b| {
            first_time(b)
                .partial_cmp(&first_time(a))
                .unwrap_or(std::cmp::Ordering::Equal)
        }),
    }
    let page = tasks
        .into_iter()
        .skip(query.offset)
        .take(query.limit)
        .map(task_json);
    json!({ "tasks": page.collect::<Vec<_>>() })
}

/// What `/master/roles` shows of a role besides the v1 `Role` message.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoleDetails {
    /// Resources allocated to the role's frameworks.
    pub allocated: Vec<pb::Resource>,
    /// Resources offered to the role's frameworks.
    pub offered: Vec<pb::Resource>,
    /// Resources reserved to the role (and its subroles).
    pub reserved: Vec<pb::Resource>,
    /// The role's quota guarantees, by resource name.
    pub quota_guarantee: BTreeMap<String, f64>,
    /// The role's quota limits, by resource name.
    pub quota_limit: BTreeMap<String, f64>,
    /// How much of its quota the role consumes, by resource name.
    pub quota_consumed: BTreeMap<String, f64>,
}

/// `GET /master/roles`: each role of `GET_ROLES`, with its quota and resources from
/// `details` (a role missing there shows none).
pub fn roles_json(roles: &GetRoles, details: &BTreeMap<String, RoleDetails>) -> Json {
    let none = RoleDetails::default();
    let roles = roles.roles.iter().map(|role| {
        let d = details.get(&role.name).unwrap_or(&none);
        let frameworks: Vec<&str> = role.frameworks.iter().map(|f| f.value.as_str()).collect();
        json!({
            "name": role.name,
            "weight": role.weight,
            "quota": {
                "role": role.name,
                "guarantee": number_map(&d.quota_guarantee),
                "limit": number_map(&d.quota_limit),
                "consumed": number_map(&d.quota_consumed),
            },
            "resources": quantities_json(&role.resources),
            "frameworks": frameworks,
            "allocated": quantities_json(&d.allocated),
            "offered": quantities_json(&d.offered),
            "reserved": quantities_json(&d.reserved),
        })
    });
    json!({ "roles": roles.collect::<Vec<_>>() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::master::response::{get_executors, GetExecutors, GetTasks};
    use crate::resources::parse_resources;

    fn task(id: &str, framework: &str, state: pb::TaskState) -> pb::Task {
        pb::Task {
            name: id.into(),
            task_id: pb::TaskId { value: id.into() },
            framework_id: pb::FrameworkId {
                value: framework.into(),
            },
            agent_id: pb::AgentId { value: "a1".into() },
            state: state as i32,
            ..Default::default()
        }
    }

    fn framework(id: &str) -> get_frameworks::Framework {
        get_frameworks::Framework {
            framework_info: pb::FrameworkInfo {
                user: "u".into(),
                name: "fw".into(),
                id: Some(pb::FrameworkId { value: id.into() }),
                ..Default::default()
            },
            active: true,
            connected: true,
            ..Default::default()
        }
    }

    fn state() -> GetState {
        GetState {
            get_tasks: Some(GetTasks {
                pending_tasks: vec![task("p", "f1", pb::TaskState::TaskStaging)],
                tasks: vec![task("r", "f1", pb::TaskState::TaskRunning)],
                ..Default::default()
            }),
            get_executors: Some(GetExecutors {
                executors: vec![get_executors::Executor {
                    executor_info: pb::ExecutorInfo {
                        executor_id: pb::ExecutorId { value: "e".into() },
                        framework_id: Some(pb::FrameworkId { value: "f1".into() }),
                        ..Default::default()
                    },
                    agent_id: pb::AgentId { value: "a1".into() },
                }],
                ..Default::default()
            }),
            get_frameworks: Some(pb::master::response::GetFrameworks {
                frameworks: vec![framework("f1")],
                ..Default::default()
            }),
            get_agents: None,
        }
    }

    #[test]
    fn pending_tasks_show_in_frameworks_but_not_in_tasks() {
        let state = state();
        let frameworks = frameworks_json(&state, None);
        let f = &frameworks["frameworks"][0];
        let ids: Vec<&str> = f["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["p", "r"]);
        let executor = &f["executors"][0];
        assert_eq!(executor["executor_id"], json!("e"));
        assert_eq!(executor["slave_id"], json!("a1"));
        assert_eq!(executor["command"], json!({"argv": [], "uris": []}));
        assert!(executor.get("role").is_none());

        let tasks = tasks_json(&state, &TasksQuery::default());
        assert_eq!(tasks["tasks"].as_array().unwrap().len(), 1);
        assert_eq!(tasks["tasks"][0]["id"], json!("r"));
    }

    #[test]
    fn state_summary_counts_pending_tasks_as_staging() {
        let state = state();
        let info = pb::MasterInfo::default();
        let flags = BTreeMap::new();
        let version = pb::VersionInfo::default();
        let snapshot = MasterSnapshot {
            master_info: &info,
            leader: None,
            flags: &flags,
            start_time: 0.0,
            elected_time: None,
            version: &version,
            unreachable_agents: 0,
        };
        let summary = state_summary_json(&snapshot, &state);
        let f = &summary["frameworks"][0];
        assert_eq!(f["TASK_STAGING"], json!(1));
        assert_eq!(f["TASK_RUNNING"], json!(1));
        assert_eq!(f["slave_ids"], json!(["a1"]));
        assert!(summary.get("cluster").is_none());

        let full: Json = serde_json::from_slice(&state_json(&snapshot, &state)).unwrap();
        assert!(full.get("leader").is_none());
        assert!(full.get("elected_time").is_none());
        assert_eq!(full["frameworks"][0]["tasks"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn roles_show_their_details() {
        let roles = GetRoles {
            roles: vec![pb::Role {
                name: "web".into(),
                weight: 2.0,
                frameworks: vec![pb::FrameworkId { value: "f1".into() }],
                resources: parse_resources("cpus:1;mem:32", "*").unwrap().to_protos(),
            }],
        };
        let details = RoleDetails {
            allocated: parse_resources("cpus:1", "*").unwrap().to_protos(),
            quota_guarantee: [("cpus".to_string(), 0.5)].into(),
            ..RoleDetails::default()
        };
        let json = roles_json(&roles, &[("web".to_string(), details)].into());
        let role = &json["roles"][0];
        assert_eq!(role["weight"], json!(2.0));
        assert_eq!(role["frameworks"], json!(["f1"]));
        assert_eq!(role["resources"], json!({"cpus": 1.0, "mem": 32.0}));
        assert_eq!(role["allocated"], json!({"cpus": 1.0}));
        assert_eq!(role["offered"], json!({}));
        assert_eq!(
            role["quota"],
            json!({"role": "web", "guarantee": {"cpus": 0.5}, "limit": {}, "consumed": {}})
        );
    }
}
