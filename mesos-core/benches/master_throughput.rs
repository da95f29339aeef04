//! Scheduling throughput through the real HTTP APIs: a `Master` on 127.0.0.1 (in a child
//! process: this binary run with `--master-process`, one worker thread), simulated agents
//! speaking the internal protocol over HTTP, and frameworks speaking the v1 scheduler API
//! in protobuf, both in this process (two worker threads). Each framework launches a task per cpu
//! of every offer it gets and acknowledges every status update; the clock runs from the
//! first offer to the moment every task's TASK_RUNNING has been acknowledged by its
//! framework. Agents have one cpu per task they may get (at least 8).
//!
//! `cargo bench -p mesos-core --bench master_throughput -- [agents] [frameworks] [tasks]`
//! (defaults: 10000 agents, 10 frameworks, 50000 tasks).

/// The allocator `mesos-master` uses.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesos_core::agent::containerizer::procfs;
use mesos_core::agent::simulated::{SimulatedAgent, SimulatedAgentOptions};
use mesos_core::master::{Master, MasterOptions};
use mesos_core::proto::mesos::v1::scheduler::{call, event, Call, Event};
use mesos_core::proto::mesos::v1::{
    offer, FrameworkId, FrameworkInfo, Offer, Resource, TaskId, TaskInfo, TaskState,
};
use mesos_core::recordio;
use prost::Message;

/// Raises the open-file limit: every simulated agent holds a connection, both ends here.
fn raise_fd_limit(wanted: u64) {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we pass.
    unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut current) };
    if current.rlim_cur >= wanted {
        return;
    }
    let limit = libc::rlimit {
        rlim_cur: wanted,
        rlim_max: wanted.max(current.rlim_max),
    };
    // SAFETY: setrlimit reads the struct we pass; failure leaves the old limit.
    let ok = unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &limit) } == 0;
    if !ok {
        eprintln!("could not raise RLIMIT_NOFILE to {wanted}; large runs may fail");
    }
}

/// A scalar resource allocated to `role`, as a task in an offer of `role` declares it.
fn scalar(name: &str, value: f64, role: &str) -> Resource {
    mesos_core::resources::Resource::scalar(name, value)
        .expect("a valid scalar")
        .allocate(role)
        .to_proto()
}

/// Counters shared by the frameworks.
#[derive(Default)]
struct Progress {
    launched: AtomicU64,
    running_acked: AtomicU64,
    /// Offers received, by all frameworks.
    offers: AtomicU64,
    /// When the last task's TASK_RUNNING was acknowledged, taken where it happens.
    all_running_acked: std::sync::OnceLock<Instant>,
    /// Wakes the bench's main loop then. Until session 25 the loop polled every 10 ms
    /// with a timer instead, and in some runs that timer of the thread blocking on the
    /// runtime fired up to 0.7 s late, which the run's time included.
    finished: tokio::sync::Notify,
}

/// The frameworks' client for their calls: hyper's pooled HTTP/1.1 client, without
/// reqwest's layers (its redirect policy and its response each parse the URL again).
type CallClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    http_body_util::Full<bytes::Bytes>,
>;

/// A client for one framework's calls, with `TCP_NODELAY` as reqwest sets it.
fn call_client() -> CallClient {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build(connector)
}

struct Framework {
    client: CallClient,
    /// Bounds calls in flight (and sockets) across frameworks.
    limit: Arc<tokio::sync::Semaphore>,
    /// Parsed once: parsing it for every call was 6% of this process' CPU.
    url: axum::http::Uri,
    /// As the master sent it: a header value checked once, not for every call.
    stream_id: axum::http::HeaderValue,
    id: FrameworkId,
    role: String,
}

impl Framework {
    /// Sends `call` from a task of its own, once one of the limit's slots is free; `done`
    /// gets whether the master took it (202). Calls still in flight when the master stops
    /// at the end fail, which is not an error of the run. The request is boxed when its
    /// turn comes: the thousands of tasks waiting for a slot then hold only the call's
    /// bytes, not the space of a request in flight each.
    fn send(self: &Arc<Self>, call: Call, done: impl FnOnce(bool) + Send + 'static) {
        let framework = self.clone();
        let body = call.encode_to_vec();
        tokio::spawn(async move {
            let _permit = framework.limit.acquire().await.expect("semaphore open");
            let request = axum::http::Request::post(framework.url.clone())
                .header("content-type", "application/x-protobuf")
                .header("mesos-stream-id", framework.stream_id.clone())
                .body(http_body_util::Full::new(bytes::Bytes::from(body)))
                .expect("a valid request");
            let response = Box::pin(framework.client.request(request)).await;
            done(matches!(response, Ok(r) if r.status() == 202));
        });
    }

    fn call(&self, kind: call::Type) -> Call {
        Call {
            framework_id: Some(self.id.clone()),
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    fn launch(&self, offer: &Offer, next_task: &AtomicU64, budget: u64) -> Option<Call> {
        let cpus = offer
            .resources
            .iter()
            .filter(|r| r.name == "cpus")
            .filter_map(|r| r.scalar.as_ref().map(|s| s.value))
            .sum::<f64>();
        let mut tasks = Vec::new();
        for _ in 0..(cpus as u64) {
            let n = next_task.fetch_add(1, Ordering::Relaxed);
            if n >= budget {
                break;
            }
            tasks.push(TaskInfo {
                name: format!("t{n}"),
                task_id: TaskId {
                    value: format!("t{n}"),
                },
                agent_id: offer.agent_id.clone(),
                resources: vec![
                    scalar("cpus", 1.0, &self.role),
                    scalar("mem", 32.0, &self.role),
                ],
                command: Some(mesos_core::proto::mesos::v1::CommandInfo {
                    value: Some("true".into()),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        let launched = tasks.len();
        let accept = call::Accept {
            offer_ids: vec![offer.id.clone()],
            operations: if tasks.is_empty() {
                Vec::new()
            } else {
                vec![offer::Operation {
                    r#type: Some(offer::operation::Type::Launch as i32),
                    launch: Some(offer::operation::Launch { task_infos: tasks }),
                    ..Default::default()
                }]
            },
            filters: None,
        };
        (launched > 0 || budget > 0).then(|| Call {
            accept: Some(accept),
            ..self.call(call::Type::Accept)
        })
    }
}

async fn subscribe(
    master: SocketAddr,
    name: &str,
    role: &str,
    limit: Arc<tokio::sync::Semaphore>,
) -> (Arc<Framework>, reqwest::Response) {
    let client = reqwest::Client::new();
    let url = format!("http://{master}/api/v1/scheduler");
    let info = FrameworkInfo {
        user: "bench".into(),
        name: name.into(),
        roles: vec![role.into()],
        capabilities: vec![mesos_core::proto::mesos::v1::framework_info::Capability {
            r#type: Some(
                mesos_core::proto::mesos::v1::framework_info::capability::Type::MultiRole as i32,
            ),
        }],
        ..Default::default()
    };
    let call = Call {
        r#type: Some(call::Type::Subscribe as i32),
        subscribe: Some(call::Subscribe {
            framework_info: info,
            ..Default::default()
        }),
        ..Default::default()
    };
    let response = client
        .post(&url)
        .header("content-type", "application/x-protobuf")
        .header("accept", "application/x-protobuf")
        .body(call.encode_to_vec())
        .send()
        .await
        .expect("subscribe");
    let stream_id = response.headers()["mesos-stream-id"].clone();
    let framework = Framework {
        client: call_client(),
        limit,
        url: url.parse().expect("a URL"),
        stream_id,
        id: FrameworkId::default(),
        role: role.into(),
    };
    (Arc::new(framework), response)
}

/// Reads a framework's events: launches on offers, acknowledges updates.
async fn drive(
    mut framework: Arc<Framework>,
    mut response: reqwest::Response,
    progress: Arc<Progress>,
    next_task: Arc<AtomicU64>,
    budget: u64,
    first_offer: Arc<std::sync::OnceLock<Instant>>,
) {
    let mut decoder = recordio::Decoder::new(64 << 20);
    while let Ok(Some(chunk)) = response.chunk().await {
        for record in decoder.decode(&chunk).expect("recordio") {
            let event = Event::decode(record).expect("event");
            match event::Type::try_from(event.r#type.unwrap_or(0)) {
                Ok(event::Type::Subscribed) => {
                    let id = event.subscribed.expect("subscribed").framework_id;
                    Arc::get_mut(&mut framework).expect("not shared yet").id = id;
                }
                Ok(event::Type::Offers) => {
                    first_offer.get_or_init(Instant::now);
                    for offer in event.offers.expect("offers").offers {
                        progress.offers.fetch_add(1, Ordering::Relaxed);
                        if let Some(call) = framework.launch(&offer, &next_task, budget) {
                            let launched = call
                                .accept
                                .as_ref()
                                .map(|a| {
                                    a.operations
                                        .iter()
                                        .map(|o| {
                                            o.launch.as_ref().map_or(0, |l| l.task_infos.len())
                                        })
                                        .sum::<usize>()
                                })
                                .unwrap_or(0);
                            progress
                                .launched
                                .fetch_add(launched as u64, Ordering::Relaxed);
                            framework.send(call, |_| ());
                        }
                    }
                }
                Ok(event::Type::Update) => {
                    let status = event.update.expect("update").status;
                    let running = status.state == TaskState::TaskRunning as i32;
                    if let (Some(uuid), Some(agent_id)) = (status.uuid, status.agent_id) {
                        let ack = Call {
                            acknowledge: Some(call::Acknowledge {
                                agent_id,
                                task_id: status.task_id,
                                uuid,
                            }),
                            ..framework.call(call::Type::Acknowledge)
                        };
                        let progress = progress.clone();
                        framework.send(ack, move |accepted| {
                            if accepted
                                && running
                                && progress.running_acked.fetch_add(1, Ordering::Relaxed) + 1
                                    == budget
                            {
                                let _ = progress.all_running_acked.set(Instant::now());
                                progress.finished.notify_one();
                            }
                        });
                    }
                }
                _ => {}
            }
        }
    }
}

/// CPU time (user + system) a process has used, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    match procfs::read_stat(pid as i32) {
        Ok(Some(stat)) => (stat.utime + stat.stime) as f64 / procfs::clock_ticks() as f64,
        _ => 0.0,
    }
}

/// A `/proc/<pid>/status` size (`VmRSS:`, `VmHWM:`) in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    match procfs::status_bytes(pid as i32, field) {
        Ok(Some(bytes)) => bytes as f64 / 1048576.0,
        _ => f64::NAN,
    }
}

/// Calls in flight at once, for the agents and for the frameworks.
const CALLS_IN_FLIGHT: usize = 256;

/// The argument that makes this binary serve the master instead (see `main`).
const MASTER_PROCESS: &str = "--master-process";

/// Runs a master until stdin closes, after printing its address.
fn serve_master() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let master = Master::start(MasterOptions {
            allocation_interval: Duration::from_secs(1),
            ..MasterOptions::default()
        })
        .await
        .expect("master");
        println!("{}", master.addr());
        tokio::task::spawn_blocking(|| {
            let mut sink = String::new();
            let _ = std::io::stdin().read_line(&mut sink);
        })
        .await
        .expect("stdin watcher");
        master.stop().await;
    });
}

/// Starts this binary again as the master process; the child and its address.
fn spawn_master() -> (std::process::Child, SocketAddr) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(std::env::current_exe().expect("own path"))
        .arg(MASTER_PROCESS)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("master process starts");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("master address");
    (child, line.trim().parse().expect("an address"))
}

fn main() {
    if std::env::args().nth(1).as_deref() == Some(MASTER_PROCESS) {
        serve_master();
        return;
    }
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let agents = args.first().copied().unwrap_or(10_000) as usize;
    let frameworks = args.get(1).copied().unwrap_or(10) as usize;
    let tasks = args.get(2).copied().unwrap_or(50_000);
    raise_fd_limit(4 * agents as u64 + 10_000);
    // Enough cpus for every task (one cpu each), at least 8 per agent.
    let cpus_per_agent = tasks.div_ceil(agents as u64).max(8);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    // The master runs in its own process: each agent's stream needs a socket at both
    // ends, and 10,000 agents would pass the open-file limit of one process.
    let (mut master, addr) = spawn_master();
    let master_pid = master.id();
    runtime.block_on(async move {
        let started = Instant::now();
        let client = reqwest::Client::new();
        let agent_limit = Arc::new(tokio::sync::Semaphore::new(CALLS_IN_FLIGHT));
        let mut sim = Vec::with_capacity(agents);
        for batch in 0..agents.div_ceil(500) {
            let joins: Vec<_> = (batch * 500..((batch + 1) * 500).min(agents))
                .map(|i| {
                    let client = client.clone();
                    let limit = agent_limit.clone();
                    tokio::spawn(async move {
                        let mut options = SimulatedAgentOptions::new(
                            format!("agent-{i}"),
                            &format!("cpus:{cpus_per_agent};mem:65536"),
                        )
                        .expect("resources");
                        options.call_limit = Some(limit);
                        SimulatedAgent::start(client, addr, options).await.expect("register")
                    })
                })
                .collect();
            for join in joins {
                sim.push(join.await.expect("join"));
            }
        }
        println!("{agents} simulated agents registered in {:.1?}", started.elapsed());

        let framework_limit = Arc::new(tokio::sync::Semaphore::new(CALLS_IN_FLIGHT));
        let cpu_before = cpu_seconds(master_pid);
        let harness_cpu_before = cpu_seconds(std::process::id());
        let rss_before = status_mib(master_pid, "VmRSS:");
        let progress = Arc::new(Progress::default());
        let next_task = Arc::new(AtomicU64::new(0));
        let first_offer = Arc::new(std::sync::OnceLock::new());
        for i in 0..frameworks {
            let (framework, response) =
                subscribe(addr, &format!("bench-{i}"), &format!("role{}", i % 5), framework_limit.clone()).await;
            tokio::spawn(drive(
                framework,
                response,
                progress.clone(),
                next_task.clone(),
                tasks,
                first_offer.clone(),
            ));
        }
        let deadline = Instant::now() + Duration::from_secs(300);
        let done = loop {
            if let Some(done) = progress.all_running_acked.get() {
                break *done;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {tasks} tasks acknowledged running after 300 s",
                progress.running_acked.load(Ordering::Relaxed)
            );
            let _ = tokio::time::timeout(Duration::from_secs(1), progress.finished.notified())
                .await;
        };
        let elapsed = done - *first_offer.get().expect("an offer came");
        let master_cpu = cpu_seconds(master_pid) - cpu_before;
        let harness_cpu = cpu_seconds(std::process::id()) - harness_cpu_before;
        let acked: u64 = sim.iter().map(|a| a.acknowledged()).sum();
        let peak = status_mib(master_pid, "VmHWM:");
        println!(
            "master_throughput: {tasks} tasks launched and acknowledged across {agents} agents by \
             {frameworks} frameworks in {:.2} s = {:.0} tasks/s (agents saw {acked} acknowledgements); \
             the master process used {master_cpu:.2} s of CPU = {:.0} µs per task, {:.0}% of the run",
            elapsed.as_secs_f64(),
            tasks as f64 / elapsed.as_secs_f64(),
            master_cpu * 1e6 / tasks as f64,
            100.0 * master_cpu / elapsed.as_secs_f64()
        );
        println!(
            "offers received: {} ({:.2} per task)",
            progress.offers.load(Ordering::Relaxed),
            progress.offers.load(Ordering::Relaxed) as f64 / tasks as f64
        );
        println!(
            "this process (the agents and frameworks) used {harness_cpu:.2} s of CPU = {:.0} µs \
             per task",
            harness_cpu * 1e6 / tasks as f64
        );
        println!(
            "master memory: {rss_before:.0} MiB resident with the agents registered, peak \
             {peak:.0} MiB by the end = {:.1} KiB more per task",
            (peak - rss_before) * 1024.0 / tasks as f64
        );
        drop(sim);
    });
    drop(master.stdin.take());
    let _ = master.wait();
}
