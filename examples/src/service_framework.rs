//! The long-running service framework: keeps `instances` copies of one command running,
//! launches a replacement for every instance that dies, and scales when told to — by
//! [`ServiceControl::scale`], which the `service-framework` program calls on SIGUSR1 /
//! SIGUSR2 and from its small HTTP API ([`http_api`]).
//!
//! Offers are suppressed while every wanted instance is running and revived as soon as
//! one is missing, so an idle service costs the allocator nothing.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use mesos_core::agent::status_update::is_terminal_state;
use mesos_core::proto::mesos::v1::{
    CommandInfo, Environment, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer, TaskId,
    TaskInfo, TaskState, TaskStatus,
};
use mesos_core::resources::{parse_resources, Resources};
use mesos_core::scheduler::{Scheduler, SchedulerDriver};
use serde_json::{json, Value};

/// How long an offer the service cannot use is refused, in seconds. Short, because a
/// dying instance revives offers anyway.
const DECLINE_SECONDS: f64 = 5.0;

/// What the service runs and how many copies.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The service's name; task ids are `<name>-<n>`.
    pub name: String,
    /// How many instances to keep running at first.
    pub instances: usize,
    /// The shell command each instance runs; it sees its number in `INSTANCE`.
    pub command: String,
    /// Each instance's resources (Mesos resource text).
    pub task_resources: String,
    /// Print each status update as it arrives.
    pub verbose: bool,
}

/// One launched instance, as the service last heard of it.
#[derive(Debug, Clone)]
struct Instance {
    task_id: TaskId,
    state: TaskState,
    /// Being killed because the service scaled down: its end is not a death to repair.
    retiring: bool,
}

/// The service's bookkeeping, shared by the scheduler callbacks and the controls.
#[derive(Debug)]
struct ServiceState {
    config: ServiceConfig,
    target: usize,
    /// Launched instances that have not ended, by launch number.
    instances: BTreeMap<u64, Instance>,
    next_number: u64,
    restarts: u64,
    error: Option<String>,
}

impl ServiceState {
    /// Instances that count towards the target: launched, not ended, not retiring.
    fn active(&self) -> usize {
        self.instances.values().filter(|i| !i.retiring).count()
    }

    /// How many more instances the service wants launched.
    fn missing(&self) -> usize {
        self.target.saturating_sub(self.active())
    }

    /// Marks the newest instances beyond the target as retiring and returns them, for
    /// the caller to kill.
    fn retire_excess(&mut self) -> Vec<TaskId> {
        let excess = self.active().saturating_sub(self.target);
        self.instances
            .values_mut()
            .rev()
            .filter(|i| !i.retiring)
            .take(excess)
            .map(|i| {
                i.retiring = true;
                i.task_id.clone()
            })
            .collect()
    }

    fn status(&self) -> ServiceStatus {
        let count = |state: TaskState| {
            self.instances
                .values()
                .filter(|i| !i.retiring && i.state == state)
                .count()
        };
        ServiceStatus {
            target: self.target,
            running: count(TaskState::TaskRunning),
            active: self.active(),
            restarts: self.restarts,
            tasks: self
                .instances
                .values()
                .map(|i| (i.task_id.value.clone(), i.state))
                .collect(),
            error: self.error.clone(),
        }
    }
}

/// A snapshot of the service, as `GET /status` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceStatus {
    /// How many instances the service wants.
    pub target: usize,
    /// Instances that counted towards the target and are TASK_RUNNING.
    pub running: usize,
    /// Instances that count towards the target, whatever their state.
    pub active: usize,
    /// Replacements launched for instances that died.
    pub restarts: u64,
    /// Every instance not yet ended (retiring ones too), with its last state.
    pub tasks: Vec<(String, TaskState)>,
    /// Why the driver was aborted, if it was.
    pub error: Option<String>,
}

impl ServiceStatus {
    /// The status as the JSON the HTTP API serves.
    pub fn to_json(&self) -> Value {
        json!({
            "target": self.target,
            "running": self.running,
            "active": self.active,
            "restarts": self.restarts,
            "tasks": self.tasks.iter().map(|(id, state)| json!({
                "task_id": id,
                "state": state.as_str_name(),
            })).collect::<Vec<_>>(),
            "error": self.error,
        })
    }
}

/// A handle on a service's bookkeeping, taken before the service moves into its driver.
#[derive(Debug, Clone)]
pub struct ServiceHandle(Arc<Mutex<ServiceState>>);

impl ServiceHandle {
    fn lock(&self) -> MutexGuard<'_, ServiceState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The service framework's scheduler.
#[derive(Debug)]
pub struct Service {
    state: ServiceHandle,
    task_resources: Resources,
}

impl Service {
    /// A service for `config`; errors name a bad resource text or an empty command.
    pub fn new(config: ServiceConfig) -> Result<Service, String> {
        let task_resources = parse_resources(&config.task_resources, "*")
            .map_err(|e| format!("task resources: {e}"))?;
        if task_resources.is_empty() {
            return Err("task resources: an instance needs some resources".into());
        }
        if config.command.trim().is_empty() {
            return Err("command: a service needs a command to run".into());
        }
        Ok(Service {
            task_resources,
            state: ServiceHandle(Arc::new(Mutex::new(ServiceState {
                target: config.instances,
                config,
                instances: BTreeMap::new(),
                next_number: 0,
                restarts: 0,
                error: None,
            }))),
        })
    }

    /// The handle to build a [`ServiceControl`] from once the driver exists.
    pub fn handle(&self) -> ServiceHandle {
        self.state.clone()
    }

    /// The framework a service subscribes as.
    pub fn framework_info(name: &str) -> FrameworkInfo {
        FrameworkInfo {
            user: String::new(),
            name: name.to_string(),
            ..Default::default()
        }
    }

    /// The instances to launch on `offer`: as many missing ones as its resources hold.
    fn tasks_for(&self, state: &mut ServiceState, offer: &Offer) -> Vec<TaskInfo> {
        let mut left = Resources::offered(&offer.resources);
        let mut tasks = Vec::new();
        while state.missing() > 0 && left.contains(&self.task_resources) {
            left -= self.task_resources.clone();
            let number = state.next_number;
            state.next_number += 1;
            let task_id = TaskId {
                value: format!("{}-{number}", state.config.name),
            };
            state.instances.insert(
                number,
                Instance {
                    task_id: task_id.clone(),
                    state: TaskState::TaskStaging,
                    retiring: false,
                },
            );
            tasks.push(TaskInfo {
                name: format!("{} instance {number}", state.config.name),
                task_id,
                agent_id: offer.agent_id.clone(),
                resources: self.task_resources.to_protos(),
                command: Some(CommandInfo {
                    value: Some(state.config.command.clone()),
                    shell: Some(true),
                    environment: Some(Environment {
                        variables: vec![mesos_core::proto::mesos::v1::environment::Variable {
                            name: "INSTANCE".into(),
                            value: Some(number.to_string()),
                            ..Default::default()
                        }],
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        tasks
    }
}

/// Offers come back while instances are missing and stop once none is.
fn follow_demand(driver: &SchedulerDriver, missing: usize) {
    if missing > 0 {
        driver.revive_offers(&[]);
    } else {
        driver.suppress_offers(&[]);
    }
}

impl Scheduler for Service {
    fn registered(&mut self, driver: &SchedulerDriver, id: &FrameworkId, master: &MasterInfo) {
        println!("{}", crate::console::registered(id, master));
        let missing = self.state.lock().missing();
        follow_demand(driver, missing);
    }

    fn reregistered(&mut self, driver: &SchedulerDriver, _: &MasterInfo) {
        // Whatever changed while disconnected comes back as updates.
        driver.reconcile_tasks(&[]);
        let missing = self.state.lock().missing();
        follow_demand(driver, missing);
    }

    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        let mut state = self.state.lock();
        for offer in offers {
            let tasks = self.tasks_for(&mut state, &offer);
            if tasks.is_empty() {
                let filters = Some(Filters {
                    refuse_seconds: Some(DECLINE_SECONDS),
                });
                driver.decline_offer(&offer.id, filters);
                continue;
            }
            for task in &tasks {
                println!(
                    "Launching {} on agent {}",
                    task.task_id.value, offer.agent_id.value
                );
            }
            driver.launch_tasks(std::slice::from_ref(&offer.id), tasks, None);
        }
        if state.missing() == 0 {
            driver.suppress_offers(&[]);
        }
    }

    fn status_update(&mut self, driver: &SchedulerDriver, status: &TaskStatus) {
        let state_now = status.state();
        let mut state = self.state.lock();
        if state.config.verbose {
            println!("{}", crate::console::task_state(status));
        }
        let Some((&number, instance)) = state
            .instances
            .iter_mut()
            .find(|(_, i)| i.task_id == status.task_id)
        else {
            return;
        };
        instance.state = state_now;
        if !is_terminal_state(state_now) {
            return;
        }
        let ended = state.instances.remove(&number).expect("found above");
        if ended.retiring {
            return;
        }
        if state_now == TaskState::TaskError {
            // The task itself is invalid: every replacement would fail the same way.
            let reason = format!(
                "instance {} is invalid: {}",
                status.task_id.value,
                status.message.as_deref().unwrap_or("")
            );
            println!("Aborting because {reason}");
            state.error = Some(reason);
            drop(state);
            driver.abort();
            return;
        }
        state.restarts += 1;
        println!(
            "Instance {} ended in {}; launching a replacement",
            status.task_id.value,
            state_now.as_str_name()
        );
        let missing = state.missing();
        follow_demand(driver, missing);
    }

    fn error(&mut self, _: &SchedulerDriver, message: &str) {
        self.state.lock().error = Some(message.to_string());
    }
}

/// Scales a running service and reports on it, from any thread.
#[derive(Debug, Clone)]
pub struct ServiceControl {
    state: ServiceHandle,
    driver: SchedulerDriver,
}

impl ServiceControl {
    /// Controls for the service behind `handle`, run by `driver`.
    pub fn new(handle: ServiceHandle, driver: SchedulerDriver) -> ServiceControl {
        ServiceControl {
            state: handle,
            driver,
        }
    }

    /// The service now.
    pub fn status(&self) -> ServiceStatus {
        self.state.lock().status()
    }

    /// Wants `instances` instances from now on: kills the newest beyond that, or asks for
    /// offers to launch the missing ones.
    pub fn scale(&self, instances: usize) -> ServiceStatus {
        let (retired, missing, status) = {
            let mut state = self.state.lock();
            state.target = instances;
            let retired = state.retire_excess();
            (retired, state.missing(), state.status())
        };
        println!("Scaling to {instances} instances");
        for task_id in retired {
            println!("Killing {} to scale down", task_id.value);
            self.driver.kill_task(&task_id);
        }
        follow_demand(&self.driver, missing);
        status
    }

    /// Scales by `delta` instances, never below zero.
    pub fn scale_by(&self, delta: isize) -> ServiceStatus {
        let target = self.state.lock().target;
        self.scale(target.saturating_add_signed(delta))
    }
}

/// The service's HTTP API: `GET /status` shows the service as JSON; `POST
/// /scale?instances=N` scales it and answers with the status, or 400 with the reason.
pub fn http_api(control: ServiceControl) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/scale", post(scale))
        .with_state(control)
}

async fn status(State(control): State<ServiceControl>) -> Json<Value> {
    Json(control.status().to_json())
}

async fn scale(
    State(control): State<ServiceControl>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, (StatusCode, String)> {
    let text = query.get("instances").ok_or((
        StatusCode::BAD_REQUEST,
        "missing query parameter 'instances'".to_string(),
    ))?;
    let instances = text.parse::<usize>().map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            format!("'instances' must be a non-negative integer, not '{text}'"),
        )
    })?;
    Ok(Json(control.scale(instances).to_json()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesos_core::proto::mesos::v1::AgentId;

    fn state(target: usize, instances: &[(u64, bool)]) -> ServiceState {
        ServiceState {
            config: ServiceConfig {
                name: "web".into(),
                instances: target,
                command: "sleep 100".into(),
                task_resources: "cpus:0.1".into(),
                verbose: false,
            },
            target,
            instances: instances
                .iter()
                .map(|&(n, retiring)| {
                    (
                        n,
                        Instance {
                            task_id: TaskId {
                                value: format!("web-{n}"),
                            },
                            state: TaskState::TaskRunning,
                            retiring,
                        },
                    )
                })
                .collect(),
            next_number: 10,
            restarts: 0,
            error: None,
        }
    }

    #[test]
    fn scaling_down_retires_the_newest_instances_once() {
        let mut s = state(1, &[(1, false), (4, false), (7, false)]);
        let retired: Vec<String> = s.retire_excess().into_iter().map(|t| t.value).collect();
        assert_eq!(retired, ["web-7", "web-4"]);
        assert_eq!(s.active(), 1);
        assert!(s.retire_excess().is_empty(), "already retiring");
        assert_eq!(s.missing(), 0);
    }

    #[test]
    fn retiring_instances_do_not_count_towards_the_target() {
        let s = state(3, &[(1, false), (2, true)]);
        assert_eq!(s.active(), 1);
        assert_eq!(s.missing(), 2);
        let status = s.status();
        assert_eq!((status.target, status.running, status.active), (3, 1, 1));
        assert_eq!(status.tasks.len(), 2);
    }

    #[test]
    fn offers_launch_only_the_missing_instances_that_fit() {
        let service = Service::new(ServiceConfig {
            name: "web".into(),
            instances: 3,
            command: "sleep 100".into(),
            task_resources: "cpus:1;mem:10".into(),
            verbose: false,
        })
        .unwrap();
        let offer = Offer {
            agent_id: AgentId { value: "a".into() },
            resources: parse_resources("cpus:2;mem:100", "*").unwrap().to_protos(),
            ..Default::default()
        };
        let mut state = service.state.lock();
        let tasks = service.tasks_for(&mut state, &offer);
        assert_eq!(tasks.len(), 2, "two cpus hold two instances");
        assert_eq!(state.missing(), 1);
        assert_eq!(tasks[1].task_id.value, "web-1");
        let more = service.tasks_for(&mut state, &offer);
        assert_eq!(more.len(), 1);
        assert!(service.tasks_for(&mut state, &offer).is_empty());
    }

    #[test]
    fn a_service_needs_a_command_and_valid_resources() {
        let config = ServiceConfig {
            name: "web".into(),
            instances: 1,
            command: " ".into(),
            task_resources: "cpus:1".into(),
            verbose: false,
        };
        assert!(Service::new(config.clone())
            .unwrap_err()
            .contains("command"));
        let config = ServiceConfig {
            command: "sleep 1".into(),
            task_resources: "cpus:x".into(),
            ..config
        };
        assert!(Service::new(config).unwrap_err().contains("task resources"));
    }
}
