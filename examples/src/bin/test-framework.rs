//! `test-framework`: Mesos' test framework in Rust. Runs `--num_tasks` tasks through the
//! `test-executor` (beside this program unless `--executor` says otherwise), or as command
//! tasks with `--executor=none`; exits 0 when every task finished, 1 with the reason
//! otherwise.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use mesos_core::proto::mesos::v1::Status;
use mesos_core::scheduler::SchedulerDriver;
use mesos_examples::test_framework::{TestFramework, TestFrameworkConfig};

#[derive(Debug, Parser)]
#[command(name = "test-framework", rename_all = "snake_case")]
struct Flags {
    /// The master: host:port or a comma-separated list of them.
    #[arg(long)]
    master: String,
    /// How many tasks to run.
    #[arg(long, default_value_t = 5)]
    num_tasks: usize,
    /// Each task's resources.
    #[arg(long, default_value = "cpus:0.1;mem:32")]
    task_resources: String,
    /// The custom executor's program, or `none` for command tasks.
    #[arg(long)]
    executor: Option<String>,
    /// What each task runs (`{}` is the task's number); empty finishes at once.
    #[arg(long, default_value = "")]
    command: String,
}

fn main() -> ExitCode {
    let flags = Flags::parse();
    let executor = match flags.executor.as_deref() {
        Some("none") => None,
        Some(path) => Some(PathBuf::from(path)),
        None => std::env::current_exe()
            .ok()
            .and_then(|exe| Some(exe.parent()?.join("test-executor"))),
    };
    let config = TestFrameworkConfig {
        num_tasks: flags.num_tasks,
        task_resources: flags.task_resources,
        executor,
        command: flags.command,
        verbose: true,
    };
    let scheduler = match TestFramework::new(config) {
        Ok(scheduler) => scheduler,
        Err(e) => {
            eprintln!("test-framework: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = scheduler.report();
    let framework = TestFramework::framework_info("Test Framework (Rust)");
    let driver = match SchedulerDriver::new(scheduler, framework, &flags.master) {
        Ok(driver) => driver,
        Err(e) => {
            eprintln!("test-framework: {e}");
            return ExitCode::FAILURE;
        }
    };
    let status = driver.run();
    let report = report.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match (status, report.aborted) {
        (Status::DriverStopped, None) => ExitCode::SUCCESS,
        (status, reason) => {
            eprintln!(
                "test-framework: the driver ended {} after {} finished tasks: {}",
                status.as_str_name(),
                report.finished.len(),
                reason.or(driver.error_message()).unwrap_or_default()
            );
            ExitCode::FAILURE
        }
    }
}
