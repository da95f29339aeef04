//! The test framework, as Mesos ships one: runs `num_tasks` tasks, as many per offer as fit,
//! either through a custom executor (the `test-executor` example, one per agent) or as
//! command tasks, and stops when every task finished. A task that ends any other way
//! aborts the run with the reason, as Mesos' test framework does.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use mesos_core::agent::status_update::is_terminal_state;
use mesos_core::proto::mesos::v1::{
    CommandInfo, ExecutorId, ExecutorInfo, Filters, FrameworkId, FrameworkInfo, MasterInfo, Offer,
    Resource, TaskId, TaskInfo, TaskState, TaskStatus,
};
use mesos_core::resources::{parse_resources, Resources};
use mesos_core::scheduler::{Scheduler, SchedulerDriver};

/// What the custom executor is given, once per agent.
const EXECUTOR_RESOURCES: &str = "cpus:0.1;mem:32";

/// How a test framework run goes.
#[derive(Debug, Clone)]
pub struct TestFrameworkConfig {
    /// How many tasks to run.
    pub num_tasks: usize,
    /// Each task's resources (Mesos resource text).
    pub task_resources: String,
    /// The custom executor's program; `None` runs command tasks.
    pub executor: Option<PathBuf>,
    /// What each task runs: the shell command of a command task, or the data handed to
    /// the custom executor (which runs it with `sh -c`; empty finishes at once). `{}` is
    /// replaced by the task's number.
    pub command: String,
    /// Print each status update as it arrives.
    pub verbose: bool,
}

/// What a run did: the tasks that finished, in the order they did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TestFrameworkReport {
    /// Ids of the finished tasks.
    pub finished: Vec<String>,
    /// Why the run was aborted, if it was.
    pub aborted: Option<String>,
}

/// The test framework's scheduler; share its report with [`TestFramework::report`].
#[derive(Debug)]
pub struct TestFramework {
    config: TestFrameworkConfig,
    task_resources: Resources,
    executor_resources: Resources,
    launched: usize,
    agents_with_executor: BTreeSet<String>,
    report: Arc<Mutex<TestFrameworkReport>>,
}

impl TestFramework {
    /// A test framework for `config`; errors name a bad resource text.
    pub fn new(config: TestFrameworkConfig) -> Result<TestFramework, String> {
        let task_resources = parse_resources(&config.task_resources, "*")
            .map_err(|e| format!("task resources: {e}"))?;
        let executor_resources =
            parse_resources(EXECUTOR_RESOURCES, "*").expect("the executor's resources parse");
        Ok(TestFramework {
            config,
            task_resources,
            executor_resources,
            launched: 0,
            agents_with_executor: BTreeSet::new(),
            report: Arc::default(),
        })
    }

    /// The report, filled in as the run goes.
    pub fn report(&self) -> Arc<Mutex<TestFrameworkReport>> {
        self.report.clone()
    }

    /// The framework a test framework subscribes as.
    pub fn framework_info(name: &str) -> FrameworkInfo {
        FrameworkInfo {
            user: String::new(),
            name: name.to_string(),
            ..Default::default()
        }
    }

    fn executor(&self, program: &std::path::Path) -> ExecutorInfo {
        ExecutorInfo {
            executor_id: ExecutorId {
                value: "test-executor".into(),
            },
            name: Some("Test Executor (Rust)".into()),
            command: Some(CommandInfo {
                value: Some(program.display().to_string()),
                shell: Some(true),
                ..Default::default()
            }),
            resources: self.executor_resources.to_protos(),
            ..Default::default()
        }
    }

    /// The tasks to launch on `offer`, as many as its resources hold.
    fn tasks_for(&mut self, offer: &Offer) -> Vec<TaskInfo> {
        let mut left = Resources::offered(&offer.resources);
        let agent = offer.agent_id.value.clone();
        let mut tasks = Vec::new();
        while self.launched < self.config.num_tasks {
            let mut needed = self.task_resources.clone();
            let new_executor =
                self.config.executor.is_some() && !self.agents_with_executor.contains(&agent);
            if new_executor {
                needed += self.executor_resources.clone();
            }
            if !left.contains(&needed) {
                break;
            }
            left -= needed;
            let number = self.launched;
            self.launched += 1;
            let command = self.config.command.replace("{}", &number.to_string());
            let resources: Vec<Resource> = self.task_resources.to_protos();
            let mut task = TaskInfo {
                name: format!("Task {number}"),
                task_id: TaskId {
                    value: number.to_string(),
                },
                agent_id: offer.agent_id.clone(),
                resources,
                ..Default::default()
            };
            match &self.config.executor {
                Some(program) => {
                    task.executor = Some(Box::new(self.executor(program)));
                    task.data = Some(command.into_bytes());
                    self.agents_with_executor.insert(agent.clone());
                }
                None => {
                    task.command = Some(CommandInfo {
                        value: Some(command),
                        shell: Some(true),
                        ..Default::default()
                    })
                }
            }
            tasks.push(task);
        }
        tasks
    }

    fn report_mut(&self) -> std::sync::MutexGuard<'_, TestFrameworkReport> {
        self.report.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Scheduler for TestFramework {
    fn registered(&mut self, _: &SchedulerDriver, id: &FrameworkId, master: &MasterInfo) {
        println!("{}", crate::console::registered(id, master));
    }

    fn resource_offers(&mut self, driver: &SchedulerDriver, offers: Vec<Offer>) {
        for offer in offers {
            let tasks = self.tasks_for(&offer);
            for task in &tasks {
                println!(
                    "Launching task {} using offer {}",
                    task.task_id.value, offer.id.value
                );
            }
            let filters = Some(Filters {
                refuse_seconds: Some(if tasks.is_empty() { 3600.0 } else { 0.0 }),
            });
            driver.launch_tasks(std::slice::from_ref(&offer.id), tasks, filters);
        }
    }

    fn status_update(&mut self, driver: &SchedulerDriver, status: &TaskStatus) {
        let state = status.state();
        if self.config.verbose {
            println!("{}", crate::console::task_state(status));
        }
        if !is_terminal_state(state) {
            return;
        }
        if state != TaskState::TaskFinished {
            let reason = format!(
                "task {} is in unexpected state {} with message '{}'",
                status.task_id.value,
                state.as_str_name(),
                status.message.as_deref().unwrap_or("")
            );
            println!("Aborting because {reason}");
            self.report_mut().aborted = Some(reason);
            driver.abort();
            return;
        }
        let done = {
            let mut report = self.report_mut();
            report.finished.push(status.task_id.value.clone());
            report.finished.len() == self.config.num_tasks
        };
        if done {
            println!("All {} tasks finished", self.config.num_tasks);
            driver.stop(false);
        }
    }

    fn error(&mut self, _: &SchedulerDriver, message: &str) {
        self.report_mut().aborted = Some(message.to_string());
    }
}
