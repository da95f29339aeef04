//! Operator GET_STATE in protobuf and `/master/state` in JSON, written straight from the
//! master's records. Each task, agent and framework becomes its v1 message only while it
//! is written, so a big cluster's state is never copied whole: for 50,000 agents and
//! 100,000 tasks that copy took 300 MiB of fresh memory and most of the time.
//!
//! The output is that of building the v1 message ([`MasterState::get_state`]) and then
//! encoding it, or rendering it with [`json_endpoints::state_json`]; the tests hold the
//! two ways to the same bytes.

use std::collections::HashMap;

use serde::Serialize;

use prost::encoding::{encode_key, encode_varint, encoded_len_varint, key_len, message, WireType};
use prost::Message;

use super::json_endpoints::{
    self, executor_json, AgentJson, FrameworkJson, MasterSnapshot, Seq, StateLists, TaskJson,
};
use super::model::FrameworkRecord;
use super::state::{MasterState, TaskEntry};
use crate::proto::mesos::v1::master::response::{self, get_executors};
use crate::proto::mesos::v1::master::Response;

/// Field numbers of the v1 master `Response` and its GET_STATE parts.
mod field {
    /// `Response.get_state`.
    pub const RESPONSE_GET_STATE: u32 = 9;
    /// `GetState.get_tasks`.
    pub const STATE_TASKS: u32 = 1;
    /// `GetState.get_executors`.
    pub const STATE_EXECUTORS: u32 = 2;
    /// `GetState.get_frameworks`.
    pub const STATE_FRAMEWORKS: u32 = 3;
    /// `GetState.get_agents`.
    pub const STATE_AGENTS: u32 = 4;
    /// `GetTasks.tasks`.
    pub const TASKS: u32 = 2;
    /// `GetTasks.completed_tasks`.
    pub const COMPLETED_TASKS: u32 = 3;
    /// `GetTasks.unreachable_tasks`.
    pub const UNREACHABLE_TASKS: u32 = 5;
    /// `GetAgents.agents`.
    pub const AGENTS: u32 = 1;
    /// `GetAgents.recovered_agents`.
    pub const RECOVERED_AGENTS: u32 = 2;
}

/// Appends an embedded message, already encoded, as field `number`.
fn embedded(number: u32, encoded: &[u8], out: &mut Vec<u8>) {
    encode_key(number, WireType::LengthDelimited, out);
    encode_varint(encoded.len() as u64, out);
    out.extend_from_slice(encoded);
}

impl MasterState {
    /// The operator API's GET_STATE answer (a `mesos.v1.master.Response`) in protobuf.
    /// The tasks are encoded on a second thread while this one does the rest.
    pub fn encode_get_state(&self) -> Vec<u8> {
        let (tasks, rest) = std::thread::scope(|scope| {
            let tasks = scope.spawn(|| self.encode_tasks());
            let mut rest = Vec::new();
            let executors = self.get_executors().encode_to_vec();
            embedded(field::STATE_EXECUTORS, &executors, &mut rest);
            let frameworks = self.get_frameworks().encode_to_vec();
            embedded(field::STATE_FRAMEWORKS, &frameworks, &mut rest);
            embedded(field::STATE_AGENTS, &self.encode_agents(), &mut rest);
            let tasks = tasks
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (tasks, rest)
        });
        let mut out = Response {
            r#type: Some(response::Type::GetState as i32),
            ..Default::default()
        }
        .encode_to_vec();
        let tasks_length = key_len(field::STATE_TASKS) + encoded_len_varint(tasks.len() as u64);
        let state_length = tasks_length + tasks.len() + rest.len();
        out.reserve(state_length + 16);
        encode_key(
            field::RESPONSE_GET_STATE,
            WireType::LengthDelimited,
            &mut out,
        );
        encode_varint(state_length as u64, &mut out);
        embedded(field::STATE_TASKS, &tasks, &mut out);
        out.extend_from_slice(&rest);
        out
    }

    /// GET_TASKS in protobuf, as [`MasterState::get_tasks`] then encoding gives it.
    fn encode_tasks(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for entry in self.launched_tasks() {
            message::encode(field::TASKS, &entry.to_task(), &mut out);
        }
        for task in self.completed_tasks() {
            message::encode(field::COMPLETED_TASKS, task, &mut out);
        }
        for task in self.unreachable_tasks() {
            message::encode(field::UNREACHABLE_TASKS, task, &mut out);
        }
        out
    }

    /// GET_AGENTS in protobuf, as [`MasterState::get_agents`] then encoding gives it.
    fn encode_agents(&self) -> Vec<u8> {
        let agents = self.agents_by_id();
        let mut out = Vec::new();
        for agent in agents.iter().filter(|a| !a.recovered) {
            message::encode(field::AGENTS, &self.agent_model(agent), &mut out);
        }
        for agent in agents.iter().filter(|a| a.recovered) {
            message::encode(field::RECOVERED_AGENTS, &agent.full_info(), &mut out);
        }
        out
    }

    /// `/master/state` in JSON, with `snapshot`'s details of this master.
    pub fn state_json(&self, snapshot: &MasterSnapshot<'_>) -> Vec<u8> {
        let agents = self.agents_by_id();
        let (recovered, registered): (Vec<_>, Vec<_>) =
            agents.into_iter().partition(|a| a.recovered);
        let recovered: Vec<_> = recovered.iter().map(|a| a.full_info()).collect();
        let active_agents = registered.iter().filter(|a| a.connected()).count();
        let by_framework = TasksAndExecutors::of(self);
        let frameworks = self.frameworks_by_id();
        let current = frameworks.iter().filter(|f| !f.recovered);
        let lists = StateLists {
            agents: Seq(registered.iter().map(|a| AgentJson(self.agent_model(a)))),
            active_agents,
            inactive_agents: registered.len() - active_agents,
            recovered_agents: &recovered,
            frameworks: Seq(current.map(|f| by_framework.view(self, f, false))),
            completed_frameworks: Seq(self
                .completed_frameworks
                .iter()
                .map(|f| by_framework.view(self, f, true))),
        };
        json_endpoints::write_state(snapshot, lists)
    }
}

/// The live tasks and the executors of every framework, picked out of the master's
/// records once for all frameworks.
struct TasksAndExecutors<'a> {
    /// Live tasks by framework id, in GET_TASKS order.
    tasks: HashMap<&'a str, Vec<&'a TaskEntry>>,
    /// Executors by framework id, in GET_EXECUTORS order.
    executors: HashMap<String, Vec<get_executors::Executor>>,
}

impl<'a> TasksAndExecutors<'a> {
    fn of(state: &'a MasterState) -> Self {
        let mut tasks: HashMap<&str, Vec<&TaskEntry>> = HashMap::new();
        for entry in state.launched_tasks() {
            let framework = entry.task.framework_id.value.as_str();
            tasks.entry(framework).or_default().push(entry);
        }
        let mut executors: HashMap<String, Vec<get_executors::Executor>> = HashMap::new();
        for executor in state.get_executors().executors {
            let framework = executor.executor_info.framework_id.as_ref();
            let framework = framework.map_or_else(String::new, |f| f.value.clone());
            executors.entry(framework).or_default().push(executor);
        }
        TasksAndExecutors { tasks, executors }
    }

    /// `framework` as `/master/state` writes it; `completed` for a removed one.
    fn view<'b>(
        &'b self,
        state: &'b MasterState,
        framework: &'b FrameworkRecord,
        completed: bool,
    ) -> impl Serialize + 'b {
        let tasks = self.tasks.get(framework.id.as_str());
        let executors = self.executors.get(&framework.id);
        // GET_TASKS lists the unreachable tasks of current frameworks only.
        let unreachable = (!completed).then_some(&framework.unreachable_tasks);
        FrameworkJson {
            framework: state.framework_model(framework, completed),
            tasks: Seq(tasks.into_iter().flatten().map(|e| TaskJson(e.to_task()))),
            unreachable_tasks: Seq(unreachable
                .into_iter()
                .flat_map(|t| t.values())
                .map(TaskJson)),
            completed_tasks: Seq(framework.completed_tasks.iter().map(TaskJson)),
            executors: Seq(executors.into_iter().flatten().map(executor_json)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::time::Instant;

    use serde_json::Value as Json;

    use super::*;
    use crate::master::{MasterConfig, MasterOptions};
    use crate::proto::mesos::internal::{agent_call, AgentCall};
    use crate::proto::mesos::v1::scheduler::{call, event, Call};
    use crate::proto::mesos::v1::{
        framework_info, offer, AgentInfo, CommandInfo, FrameworkId, FrameworkInfo, MasterInfo,
        TaskId, TaskInfo, TaskState, TaskStatus, VersionInfo,
    };
    use crate::registry::{InMemoryRegistry, Registry};
    use crate::resources::parse_resources;

    /// A master with three agents, two frameworks (one multi-role, one with the
    /// deprecated `role`) and tasks that are staging, running, and finished and
    /// acknowledged (completed).
    #[allow(deprecated)]
    fn cluster() -> MasterState {
        let mut registry = InMemoryRegistry::new();
        let recovered = registry.recover().unwrap();
        let now = Instant::now();
        let config = MasterConfig {
            master_info: MasterInfo {
                id: "m".into(),
                hostname: Some("localhost".into()),
                port: 5050,
                ..Default::default()
            },
            options: MasterOptions::default(),
        };
        let mut master = MasterState::new(config, Box::new(registry), recovered, now).unwrap();
        let resources = parse_resources("cpus:4;mem:1024;ports:[31000-31009]", "*")
            .unwrap()
            .to_protos();
        for i in 0..3 {
            let register = agent_call::Register {
                agent_info: AgentInfo {
                    hostname: format!("agent-{i}"),
                    resources: resources.clone(),
                    ..Default::default()
                },
                version: Some("1.11.0".into()),
                ..Default::default()
            };
            master.register_agent(register).unwrap();
        }
        let mut subscriptions = Vec::new();
        for (i, multi_role) in [(0, true), (1, false)] {
            let multi = framework_info::Capability {
                r#type: Some(framework_info::capability::Type::MultiRole as i32),
            };
            let capabilities = multi_role.then_some(multi).into_iter().collect();
            let subscribe = Call {
                r#type: Some(call::Type::Subscribe as i32),
                subscribe: Some(call::Subscribe {
                    framework_info: FrameworkInfo {
                        user: "u".into(),
                        name: format!("framework-{i}"),
                        roles: multi_role.then(|| format!("role{i}")).into_iter().collect(),
                        role: (!multi_role).then(|| format!("role{i}")),
                        capabilities,
                        ..Default::default()
                    },
                    ..Default::default()
                }),
                ..Default::default()
            };
            subscriptions.push(master.subscribe(subscribe).unwrap());
        }
        master.allocate(now);
        let mut launched = Vec::new();
        for subscription in &mut subscriptions {
            let framework = subscription.framework_id.clone();
            while let Ok(event) = subscription.events.try_recv() {
                let Some(offers) = event
                    .offers
                    .filter(|_| event.r#type == Some(event::Type::Offers as i32))
                else {
                    continue;
                };
                for offer in offers.offers {
                    let role = offer.allocation_info.clone().unwrap_or_default().role;
                    let resources = parse_resources("cpus:1;mem:32", "*").unwrap();
                    let task = |n: usize| TaskInfo {
                        name: format!("task-{n}"),
                        task_id: TaskId {
                            value: format!("task-{n}"),
                        },
                        agent_id: offer.agent_id.clone(),
                        resources: resources
                            .iter()
                            .map(|r| {
                                r.clone()
                                    .allocate(role.as_deref().unwrap_or("*"))
                                    .to_proto()
                            })
                            .collect(),
                        command: Some(CommandInfo {
                            value: Some("sleep 1000".into()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    };
                    let infos = vec![task(launched.len()), task(launched.len() + 1)];
                    for info in &infos {
                        launched.push((framework.clone(), info.clone()));
                    }
                    let accept = Call {
                        framework_id: Some(FrameworkId {
                            value: framework.clone(),
                        }),
                        r#type: Some(call::Type::Accept as i32),
                        accept: Some(call::Accept {
                            offer_ids: vec![offer.id.clone()],
                            operations: vec![offer::Operation {
                                r#type: Some(offer::operation::Type::Launch as i32),
                                launch: Some(offer::operation::Launch { task_infos: infos }),
                                ..Default::default()
                            }],
                            filters: None,
                        }),
                        ..Default::default()
                    };
                    master.scheduler_call(&framework, accept, now).unwrap();
                }
            }
        }
        assert!(launched.len() >= 4, "tasks launched: {}", launched.len());
        // The first task stays staging, the second runs, the rest finish and are
        // acknowledged.
        for (n, (framework, info)) in launched.iter().enumerate().skip(1) {
            let state = if n == 1 {
                TaskState::TaskRunning
            } else {
                TaskState::TaskFinished
            };
            let uuid = vec![n as u8; 16];
            let update = AgentCall {
                r#type: Some(agent_call::Type::StatusUpdate as i32),
                agent_id: Some(info.agent_id.clone()),
                status_updates: vec![agent_call::StatusUpdate {
                    framework_id: FrameworkId {
                        value: framework.clone(),
                    },
                    status: TaskStatus {
                        task_id: info.task_id.clone(),
                        agent_id: Some(info.agent_id.clone()),
                        state: state as i32,
                        uuid: Some(uuid.clone()),
                        timestamp: Some(n as f64),
                        ..Default::default()
                    },
                }],
                ..Default::default()
            };
            master
                .agent_call(&info.agent_id.value, update, now)
                .unwrap();
            if n > 1 {
                let acknowledge = Call {
                    framework_id: Some(FrameworkId {
                        value: framework.clone(),
                    }),
                    r#type: Some(call::Type::Acknowledge as i32),
                    acknowledge: Some(call::Acknowledge {
                        agent_id: info.agent_id.clone(),
                        task_id: info.task_id.clone(),
                        uuid,
                    }),
                    ..Default::default()
                };
                master.scheduler_call(framework, acknowledge, now).unwrap();
            }
        }
        master
    }

    #[test]
    fn get_state_written_from_the_records_is_the_encoded_message() {
        let master = cluster();
        let state = master.get_state();
        let tasks = state.get_tasks.as_ref().unwrap();
        assert!(tasks.tasks.len() >= 2, "staging and running tasks");
        assert!(!tasks.completed_tasks.is_empty(), "completed tasks");
        assert_eq!(state.get_agents.as_ref().unwrap().agents.len(), 3);
        let whole = Response {
            r#type: Some(response::Type::GetState as i32),
            get_state: Some(state),
            ..Default::default()
        };
        assert_eq!(master.encode_get_state(), whole.encode_to_vec());
    }

    #[test]
    fn master_state_written_from_the_records_is_that_of_the_message() {
        let master = cluster();
        let flags = BTreeMap::from([("cluster".to_string(), "c".to_string())]);
        let version = VersionInfo::default();
        let snapshot = MasterSnapshot {
            master_info: master.master_info(),
            leader: Some(master.master_info()),
            flags: &flags,
            start_time: 1.0,
            elected_time: Some(2.0),
            version: &version,
            unreachable_agents: 0,
        };
        let written = master.state_json(&snapshot);
        let rendered = json_endpoints::state_json(&snapshot, &master.get_state());
        let json: Json = serde_json::from_slice(&written).unwrap();
        let frameworks = json["frameworks"].as_array().unwrap();
        assert_eq!(frameworks.len(), 2);
        let tasks: usize = frameworks
            .iter()
            .map(|f| f["tasks"].as_array().unwrap().len())
            .sum();
        assert!(tasks >= 2, "staging and running tasks");
        assert!(frameworks
            .iter()
            .any(|f| !f["completed_tasks"].as_array().unwrap().is_empty()));
        assert_eq!(String::from_utf8(written), String::from_utf8(rendered));
    }
}
