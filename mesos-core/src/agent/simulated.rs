//! A simulated agent: speaks the master<->agent protocol (`mesos.internal`) like a real
//! agent but runs nothing. Tasks it is given report TASK_RUNNING at once and, if asked,
//! TASK_FINISHED after a delay; kills report TASK_KILLED. Each task's updates are sent one
//! at a time, the next only after the framework acknowledged the previous, as the real
//! status-update manager does, and unacknowledged updates are retried. Updates of
//! different tasks that are ready together share one call.
//!
//! It exists for tests and benchmarks of the master: thousands of them fit in one process.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;

use super::master_link::{self, LinkError, Registration};
use crate::proto::mesos::internal::{agent_call, agent_event, AgentCall, AgentEvent};
use crate::proto::mesos::v1::{
    task_status, AgentId, AgentInfo, FrameworkId, FrameworkInfo, Resource, Task, TaskId, TaskState,
    TaskStatus,
};

/// How a simulated agent behaves.
#[derive(Debug, Clone)]
pub struct SimulatedAgentOptions {
    /// Its hostname.
    pub hostname: String,
    /// Its total resources.
    pub resources: Vec<Resource>,
    /// Report TASK_FINISHED this long after TASK_RUNNING; `None`: tasks run until killed.
    pub finish_after: Option<Duration>,
    /// Resend an unacknowledged update after this long.
    pub retry_interval: Duration,
    /// Bounds the calls in flight across every agent sharing it, and with them the
    /// sockets they open (thousands of agents in one process would pass its open-file
    /// limit); `None`: no bound.
    pub call_limit: Option<Arc<tokio::sync::Semaphore>>,
}

impl SimulatedAgentOptions {
    /// An agent with `resources` (Mesos text form, e.g. `cpus:4;mem:4096`) whose tasks run
    /// until killed.
    pub fn new(hostname: impl Into<String>, resources: &str) -> Result<Self, String> {
        let resources = crate::resources::parse_resources(resources, "*")
            .map_err(|e| e.to_string())?
            .to_protos();
        Ok(SimulatedAgentOptions {
            hostname: hostname.into(),
            resources,
            finish_after: None,
            retry_interval: Duration::from_secs(10),
            call_limit: None,
        })
    }
}

/// One task the simulated agent runs.
#[derive(Debug, Clone)]
struct SimTask {
    task: Task,
    /// Updates not yet sent, in order.
    pending: VecDeque<TaskStatus>,
    /// The update sent and not yet acknowledged.
    unacked: Option<TaskStatus>,
}

/// What the agent's tasks look like now, shared with its event loop.
#[derive(Debug, Default)]
struct Shared {
    /// Boxed: a `SimTask` is about 700 bytes, and a map node has room for 11 of them
    /// whether the agent runs one task or eleven.
    tasks: BTreeMap<(String, String), Box<SimTask>>,
    frameworks: BTreeMap<String, FrameworkInfo>,
    stream_id: String,
    /// Updates waiting for the sender task, with their frameworks.
    outbox: Vec<(String, TaskStatus)>,
    /// Whether a sender task is running.
    sending: bool,
}

/// A running simulated agent.
#[derive(Debug)]
pub struct SimulatedAgent {
    id: String,
    shared: Arc<Mutex<Shared>>,
    answer_pings: Arc<AtomicBool>,
    acknowledged: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Drop for SimulatedAgent {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends calls to the master for one agent.
#[derive(Debug, Clone)]
struct Caller {
    client: reqwest::Client,
    limit: Option<Arc<tokio::sync::Semaphore>>,
    url: reqwest::Url,
    agent_id: String,
    shared: Arc<Mutex<Shared>>,
}

impl Caller {
    async fn send(&self, call: AgentCall) {
        let stream_id = self.shared.lock().expect("lock").stream_id.clone();
        let _permit = match &self.limit {
            Some(limit) => limit.clone().acquire_owned().await.ok(),
            None => None,
        };
        let _ = master_link::post(&self.client, self.url.clone(), &stream_id, &call).await;
    }

    fn call(&self, kind: agent_call::Type) -> AgentCall {
        AgentCall {
            r#type: Some(kind as i32),
            agent_id: Some(AgentId {
                value: self.agent_id.clone(),
            }),
            ..Default::default()
        }
    }

    /// Posts `updates` (framework, status), in order, in STATUS_UPDATE calls of at most
    /// [`master_link::MAX_UPDATES_PER_CALL`] updates.
    async fn send_updates(&self, updates: Vec<(String, TaskStatus)>) {
        for chunk in updates.chunks(master_link::MAX_UPDATES_PER_CALL) {
            let status_updates = chunk
                .iter()
                .map(|(framework, status)| agent_call::StatusUpdate {
                    framework_id: FrameworkId {
                        value: framework.clone(),
                    },
                    status: status.clone(),
                })
                .collect();
            let call = AgentCall {
                status_updates,
                ..self.call(agent_call::Type::StatusUpdate)
            };
            self.send(call).await;
        }
    }

    /// Queues an update for the master. A sender task, started when none runs, posts
    /// everything queued by then in one call, so the updates of a burst of launches share
    /// a request as the real agent's do.
    fn queue_update(&self, framework: &str, status: TaskStatus) {
        let start_sender = {
            let mut shared = self.shared.lock().expect("lock");
            shared.outbox.push((framework.to_string(), status));
            !std::mem::replace(&mut shared.sending, true)
        };
        if start_sender {
            let caller = self.clone();
            tokio::spawn(async move { caller.send_queued().await });
        }
    }

    /// Sends queued updates until the queue is empty.
    async fn send_queued(&self) {
        loop {
            let batch = {
                let mut shared = self.shared.lock().expect("lock");
                if shared.outbox.is_empty() {
                    shared.sending = false;
                    return;
                }
                std::mem::take(&mut shared.outbox)
            };
            self.send_updates(batch).await;
        }
    }
}

fn status(task: &Task, state: TaskState, reason: Option<task_status::Reason>) -> TaskStatus {
    TaskStatus {
        task_id: task.task_id.clone(),
        state: state as i32,
        source: Some(task_status::Source::Executor as i32),
        reason: reason.map(|r| r as i32),
        agent_id: Some(task.agent_id.clone()),
        executor_id: task.executor_id.clone(),
        timestamp: Some(crate::master::wall_clock()),
        uuid: Some(uuid::Uuid::new_v4().as_bytes().to_vec()),
        ..Default::default()
    }
}

impl SimulatedAgent {
    /// Registers with the master at `master` and starts answering it. When the master's
    /// stream ends (the master restarted), the agent re-registers with its id and tasks,
    /// retrying until it succeeds.
    pub async fn start(
        client: reqwest::Client,
        master: SocketAddr,
        options: SimulatedAgentOptions,
    ) -> Result<SimulatedAgent, LinkError> {
        let url = format!("http://{master}{}", master_link::AGENT_PATH);
        let url = reqwest::Url::parse(&url).map_err(|e| LinkError::Url(format!("{url}: {e}")))?;
        let info = AgentInfo {
            hostname: options.hostname.clone(),
            resources: options.resources.clone(),
            ..Default::default()
        };
        let registration = master_link::register(
            &client,
            url.clone(),
            agent_call::Register {
                agent_info: info,
                version: Some(crate::MESOS_WIRE_VERSION.to_string()),
                ..Default::default()
            },
        )
        .await?;
        let id = registration.registered.agent_id.value.clone();
        let shared = Arc::new(Mutex::new(Shared {
            stream_id: registration.stream_id.clone(),
            ..Default::default()
        }));
        let answer_pings = Arc::new(AtomicBool::new(true));
        let acknowledged = Arc::new(AtomicU64::new(0));
        let caller = Caller {
            client,
            limit: options.call_limit.clone(),
            url,
            agent_id: id.clone(),
            shared: shared.clone(),
        };
        let task = tokio::spawn(run(
            registration,
            caller,
            options,
            answer_pings.clone(),
            acknowledged.clone(),
        ));
        Ok(SimulatedAgent {
            id,
            shared,
            answer_pings,
            acknowledged,
            task,
        })
    }

    /// The agent id the master gave it.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Its tasks with their latest states.
    pub fn tasks(&self) -> Vec<(String, String, TaskState)> {
        let shared = self.shared.lock().expect("lock");
        shared
            .tasks
            .iter()
            .map(|((f, t), task)| {
                (
                    f.clone(),
                    t.clone(),
                    TaskState::try_from(task.task.state).unwrap_or(TaskState::TaskStaging),
                )
            })
            .collect()
    }

    /// How many status updates the frameworks have acknowledged.
    pub fn acknowledged(&self) -> u64 {
        self.acknowledged.load(Ordering::Relaxed)
    }

    /// Stops (or resumes) answering health pings, as a partitioned agent would.
    pub fn answer_pings(&self, answer: bool) {
        self.answer_pings.store(answer, Ordering::Relaxed);
    }

    /// Whether its connection to the master is still open.
    pub fn is_connected(&self) -> bool {
        !self.task.is_finished()
    }
}

/// Serves registrations one after the other: reads the master's events until the stream
/// ends, then re-registers with the agent id, its tasks and their frameworks.
async fn run(
    mut registration: Registration,
    caller: Caller,
    options: SimulatedAgentOptions,
    answer_pings: Arc<AtomicBool>,
    acknowledged: Arc<AtomicU64>,
) {
    let retrier = tokio::spawn(retry_unacknowledged(caller.clone(), options.retry_interval));
    loop {
        serve(
            registration,
            &caller,
            &options,
            &answer_pings,
            &acknowledged,
        )
        .await;
        registration = loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            let again = {
                let shared = caller.shared.lock().expect("lock");
                agent_call::Register {
                    agent_info: AgentInfo {
                        hostname: options.hostname.clone(),
                        resources: options.resources.clone(),
                        id: Some(AgentId {
                            value: caller.agent_id.clone(),
                        }),
                        ..Default::default()
                    },
                    version: Some(crate::MESOS_WIRE_VERSION.to_string()),
                    tasks: shared.tasks.values().map(|t| t.task.clone()).collect(),
                    frameworks: shared.frameworks.values().cloned().collect(),
                    ..Default::default()
                }
            };
            match master_link::register(&caller.client, caller.url.clone(), again).await {
                Ok(r) => break r,
                Err(LinkError::Refused { status: 403, .. }) => {
                    retrier.abort();
                    return;
                }
                Err(_) => continue,
            }
        };
        caller.shared.lock().expect("lock").stream_id = registration.stream_id.clone();
        // Updates not acknowledged before the master went away are sent again.
        caller.send_updates(unacknowledged(&caller)).await;
    }
}

/// The updates sent and not acknowledged, with their frameworks.
fn unacknowledged(caller: &Caller) -> Vec<(String, TaskStatus)> {
    let shared = caller.shared.lock().expect("lock");
    shared
        .tasks
        .iter()
        .filter_map(|((f, _), t)| t.unacked.clone().map(|u| (f.clone(), u)))
        .collect()
}

/// Resends unacknowledged updates every `interval`.
async fn retry_unacknowledged(caller: Caller, interval: Duration) {
    loop {
        tokio::time::sleep(interval).await;
        caller.send_updates(unacknowledged(&caller)).await;
    }
}

/// Reads one registration's events and answers them until the stream ends.
async fn serve(
    registration: Registration,
    caller: &Caller,
    options: &SimulatedAgentOptions,
    answer_pings: &AtomicBool,
    acknowledged: &AtomicU64,
) {
    let mut events = registration.events;
    while let Some(event) = events.next().await {
        handle(caller, options, answer_pings, acknowledged, event).await;
    }
}

/// Queues `update` for a task and sends it if nothing is awaiting acknowledgement.
fn push_update(caller: &Caller, key: (String, String), update: TaskStatus) {
    let send = {
        let mut shared = caller.shared.lock().expect("lock");
        let Some(task) = shared.tasks.get_mut(&key) else {
            return;
        };
        task.task.state = update.state;
        if task.unacked.is_none() {
            task.unacked = Some(update.clone());
            Some(update)
        } else {
            task.pending.push_back(update);
            None
        }
    };
    if let Some(update) = send {
        caller.queue_update(&key.0, update);
    }
}

async fn handle(
    caller: &Caller,
    options: &SimulatedAgentOptions,
    answer_pings: &AtomicBool,
    acknowledged: &AtomicU64,
    event: AgentEvent,
) {
    let kind = agent_event::Type::try_from(event.r#type.unwrap_or(0))
        .unwrap_or(agent_event::Type::Unknown);
    match kind {
        agent_event::Type::Ping => {
            if let (true, Some(ping)) = (answer_pings.load(Ordering::Relaxed), event.ping) {
                let call = AgentCall {
                    pong: Some(agent_call::Pong {
                        sequence: ping.sequence,
                    }),
                    ..caller.call(agent_call::Type::Pong)
                };
                caller.send(call).await;
            }
        }
        agent_event::Type::RunTask => {
            if let Some(run) = event.run_task {
                let framework = remember_framework(caller, run.framework);
                start_task(caller, options, &framework, run.task).await;
            }
        }
        agent_event::Type::RunTaskGroup => {
            if let Some(run) = event.run_task_group {
                let framework = remember_framework(caller, run.framework);
                for mut task in run.task_group.tasks {
                    task.executor = Some(Box::new(run.executor.clone()));
                    start_task(caller, options, &framework, task).await;
                }
            }
        }
        agent_event::Type::KillTask => {
            if let Some(kill) = event.kill_task {
                let key = (kill.framework_id.value, kill.task_id.value);
                let task = caller
                    .shared
                    .lock()
                    .expect("lock")
                    .tasks
                    .get(&key)
                    .map(|t| t.task.clone());
                if let Some(task) = task {
                    let killed = status(&task, TaskState::TaskKilled, None);
                    push_update(caller, key, killed);
                }
            }
        }
        agent_event::Type::Acknowledge => {
            if let Some(ack) = event.acknowledge {
                acknowledged.fetch_add(1, Ordering::Relaxed);
                let key = (ack.framework_id.value, ack.task_id.value);
                let next = {
                    let mut shared = caller.shared.lock().expect("lock");
                    let Some(task) = shared.tasks.get_mut(&key) else {
                        return;
                    };
                    if task.unacked.as_ref().and_then(|u| u.uuid.as_deref()) != Some(&ack.uuid) {
                        return;
                    }
                    task.unacked = task.pending.pop_front();
                    let next = task.unacked.clone();
                    if next.is_none() && crate::master::is_terminal(task.task.state) {
                        shared.tasks.remove(&key);
                    }
                    next
                };
                if let Some(update) = next {
                    caller.queue_update(&key.0, update);
                }
            }
        }
        agent_event::Type::ShutdownFramework => {
            if let Some(shutdown) = event.shutdown_framework {
                let framework = shutdown.framework_id.value;
                let mut shared = caller.shared.lock().expect("lock");
                shared.tasks.retain(|(f, _), _| *f != framework);
                shared.frameworks.remove(&framework);
            }
        }
        _ => {}
    }
}

/// Keeps a framework's info for re-registration; returns its id.
fn remember_framework(caller: &Caller, info: FrameworkInfo) -> String {
    let id = info
        .id
        .as_ref()
        .map(|i| i.value.clone())
        .unwrap_or_default();
    caller
        .shared
        .lock()
        .expect("lock")
        .frameworks
        .insert(id.clone(), info);
    id
}

async fn start_task(
    caller: &Caller,
    options: &SimulatedAgentOptions,
    framework: &str,
    info: crate::proto::mesos::v1::TaskInfo,
) {
    let key = (framework.to_string(), info.task_id.value.clone());
    let task = Task {
        name: info.name.clone(),
        task_id: TaskId {
            value: info.task_id.value.clone(),
        },
        framework_id: FrameworkId {
            value: framework.to_string(),
        },
        executor_id: info.executor.as_ref().map(|e| e.executor_id.clone()),
        agent_id: info.agent_id.clone(),
        state: TaskState::TaskStaging as i32,
        resources: info.resources.clone(),
        ..Default::default()
    };
    caller.shared.lock().expect("lock").tasks.insert(
        key.clone(),
        Box::new(SimTask {
            task: task.clone(),
            pending: VecDeque::new(),
            unacked: None,
        }),
    );
    push_update(
        caller,
        key.clone(),
        status(&task, TaskState::TaskRunning, None),
    );
    if let Some(after) = options.finish_after {
        let caller = caller.clone();
        tokio::spawn(async move {
            tokio::time::sleep(after).await;
            let finished = status(&task, TaskState::TaskFinished, None);
            push_update(&caller, key, finished);
        });
    }
}
