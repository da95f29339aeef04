//! A custom executor on the callback [`ExecutorDriver`], like Mesos' test executor: each
//! task reports TASK_RUNNING, then runs its `data` as a shell command (`sh -c`) and reports
//! TASK_FINISHED (exit 0) or TASK_FAILED ("exited with status N"); a task without data
//! finishes at once. A kill reports TASK_KILLED; a framework message is echoed back.

use std::collections::HashMap;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};

use mesos_core::executor::{Executor, ExecutorDriver};
use mesos_core::proto::mesos::v1::{Status, TaskId, TaskInfo, TaskState, TaskStatus};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// The running tasks' process groups, by task id.
type Running = Arc<Mutex<HashMap<String, Pid>>>;

#[derive(Default)]
struct TestExecutor {
    running: Running,
}

fn update(driver: &ExecutorDriver, task_id: &TaskId, state: TaskState, message: Option<String>) {
    driver.send_status_update(TaskStatus {
        task_id: task_id.clone(),
        state: state as i32,
        message,
        ..Default::default()
    });
}

impl Executor for TestExecutor {
    fn launch_task(&mut self, driver: &ExecutorDriver, task: TaskInfo) {
        update(driver, &task.task_id, TaskState::TaskRunning, None);
        let command = String::from_utf8_lossy(task.data.as_deref().unwrap_or_default()).to_string();
        if command.is_empty() {
            update(driver, &task.task_id, TaskState::TaskFinished, None);
            return;
        }
        let mut child = match Command::new("sh")
            .args(["-c", &command])
            .process_group(0)
            .spawn()
        {
            Ok(child) => child,
            Err(error) => {
                let message = format!("could not run the task: {error}");
                update(driver, &task.task_id, TaskState::TaskFailed, Some(message));
                return;
            }
        };
        let id = task.task_id.value.clone();
        let pid = Pid::from_raw(child.id() as i32);
        self.running.lock().unwrap().insert(id.clone(), pid);
        let (driver, running) = (driver.clone(), self.running.clone());
        std::thread::spawn(move || {
            let status = child.wait();
            // A task no longer listed was killed: kill_task reported it.
            if running.lock().unwrap().remove(&id).is_none() {
                return;
            }
            let (state, message) = match status {
                Ok(status) if status.success() => (TaskState::TaskFinished, None),
                Ok(status) => {
                    let message = match status.code() {
                        Some(code) => format!("exited with status {code}"),
                        None => format!("killed by signal {}", status.signal().unwrap_or(0)),
                    };
                    (TaskState::TaskFailed, Some(message))
                }
                Err(error) => (TaskState::TaskFailed, Some(error.to_string())),
            };
            update(&driver, &task.task_id, state, message);
        });
    }

    fn kill_task(&mut self, driver: &ExecutorDriver, task_id: &TaskId) {
        if let Some(pid) = self.running.lock().unwrap().remove(&task_id.value) {
            let _ = killpg(pid, Signal::SIGKILL);
            update(driver, task_id, TaskState::TaskKilled, None);
        }
    }

    fn framework_message(&mut self, driver: &ExecutorDriver, data: &[u8]) {
        driver.send_framework_message(data.to_vec());
    }

    fn shutdown(&mut self, driver: &ExecutorDriver) {
        let tasks: Vec<(String, Pid)> = self.running.lock().unwrap().drain().collect();
        for (id, pid) in tasks {
            let _ = killpg(pid, Signal::SIGKILL);
            update(driver, &TaskId { value: id }, TaskState::TaskKilled, None);
        }
    }

    fn error(&mut self, _: &ExecutorDriver, message: &str) {
        eprintln!("test-executor: {message}");
    }
}

fn main() -> ExitCode {
    let driver = match ExecutorDriver::new(TestExecutor::default()) {
        Ok(driver) => driver,
        Err(error) => {
            eprintln!("test-executor: {error}");
            return ExitCode::FAILURE;
        }
    };
    match driver.run() {
        Status::DriverStopped => ExitCode::SUCCESS,
        status => {
            let reason = driver.abort_reason().unwrap_or_default();
            eprintln!("test-executor: the driver ended {status:?} {reason}");
            ExitCode::FAILURE
        }
    }
}
