//! Kills, shutdowns, container ends and garbage collection.

use super::*;

impl AgentState {
    // ----- kills and shutdowns -----

    pub(super) fn kill_task(
        &mut self,
        framework_id: &str,
        task_id: TaskId,
        kill_policy: Option<crate::proto::mesos::v1::KillPolicy>,
    ) {
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            tracing::warn!(
                "ignoring kill of task {} of unknown framework {framework_id}",
                task_id.value
            );
            return;
        };
        let Some((executor_id, executor)) =
            executor_of_task(&mut framework.executors, &task_id.value)
        else {
            tracing::warn!("ignoring kill of unknown task {}", task_id.value);
            return;
        };
        let executor_id = executor_id.clone();
        let queued = executor.queued.iter().position(|p| match p {
            Pending::Task(t) => t.task_id == task_id,
            Pending::Group(g) => g.tasks.iter().any(|t| t.task_id == task_id),
        });
        if let Some(index) = queued {
            // Not handed to the executor yet: killed here (a whole group with it).
            let ids: Vec<TaskId> = match executor.queued.remove(index) {
                Pending::Task(t) => vec![t.task_id.clone()],
                Pending::Group(g) => g.tasks.into_iter().map(|t| t.task_id).collect(),
            };
            let owned_executor = executor.info.executor_id.clone();
            let no_work = executor.queued.is_empty();
            for id in ids {
                self.agent_update(
                    framework_id,
                    &id,
                    Some(&owned_executor),
                    TaskState::TaskKilled,
                    task_status::Reason::TaskKilledDuringLaunch,
                    "Killed before delivery to the executor".into(),
                );
            }
            if no_work {
                self.shutdown_executor(
                    framework_id,
                    &executor_id,
                    TaskState::TaskKilled,
                    task_status::Reason::TaskKilledDuringLaunch,
                    "Killed before delivery to the executor",
                );
            }
            return;
        }
        if executor.connection.is_some() {
            send_event(
                executor,
                Event {
                    r#type: Some(event::Type::Kill as i32),
                    kill: Some(event::Kill {
                        task_id,
                        kill_policy,
                    }),
                    ..Default::default()
                },
            );
        } else {
            // Its executor is gone or not reachable: end the executor, which ends the task.
            self.shutdown_executor(
                framework_id,
                &executor_id,
                TaskState::TaskKilled,
                task_status::Reason::ExecutorTerminated,
                "Task killed while its executor was disconnected",
            );
        }
    }

    pub(super) fn framework_message(&mut self, message: agent_event::FrameworkMessage) {
        let Some(executor) =
            self.executor_mut(&message.framework_id.value, &message.executor_id.value)
        else {
            tracing::warn!(
                "dropping a message for unknown executor {}",
                message.executor_id.value
            );
            self.counters.invalid_framework_messages += 1;
            return;
        };
        send_event(
            executor,
            Event {
                r#type: Some(event::Type::Message as i32),
                message: Some(event::Message { data: message.data }),
                ..Default::default()
            },
        );
        self.counters.valid_framework_messages += 1;
    }

    /// Ends an executor: SHUTDOWN to a subscribed one, then its container is destroyed
    /// after `--executor_shutdown_grace_period`; at once otherwise. Its unfinished tasks
    /// get `state` with `reason`.
    pub(in crate::agent) fn shutdown_executor(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        state: TaskState,
        reason: task_status::Reason,
        message: &str,
    ) {
        let grace = self.options.executor_shutdown_grace_period;
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        executor
            .termination_cause
            .get_or_insert((state, reason, message.to_string()));
        let phase = executor.phase;
        executor.phase = ExecutorPhase::Terminating;
        match phase {
            ExecutorPhase::Terminating | ExecutorPhase::Launching => {}
            ExecutorPhase::Running if executor.connection.is_some() => {
                send_event(
                    executor,
                    Event {
                        r#type: Some(event::Type::Shutdown as i32),
                        ..Default::default()
                    },
                );
                executor.shutdown_deadline = Some(Instant::now() + grace);
            }
            ExecutorPhase::Running | ExecutorPhase::Registering => {
                self.destroy_container(framework_id, executor_id);
            }
        }
    }

    pub(super) fn shutdown_framework(&mut self, framework_id: &str) {
        let ids: Vec<String> = match self.frameworks.get(framework_id) {
            Some(f) => f.executors.keys().cloned().collect(),
            None => return,
        };
        for id in ids {
            self.shutdown_executor(
                framework_id,
                &id,
                TaskState::TaskKilled,
                task_status::Reason::ExecutorTerminated,
                "Framework shut down",
            );
        }
        self.retire_framework_if_idle(framework_id);
    }

    /// KILL_CONTAINER: destroys the container; its executor's unfinished tasks fail.
    pub(in crate::agent) fn kill_container(&mut self, container_id: &str) -> Result<(), String> {
        let found = self.frameworks.iter().find_map(|(f, framework)| {
            framework
                .executors
                .iter()
                .find(|(_, e)| e.container_id == container_id)
                .map(|(e, _)| (f.clone(), e.clone()))
        });
        let (framework_id, executor_id) =
            found.ok_or_else(|| format!("Container {container_id} not found"))?;
        if let Some(executor) = self.executor_mut(&framework_id, &executor_id) {
            executor.termination_cause.get_or_insert((
                TaskState::TaskFailed,
                task_status::Reason::ExecutorTerminated,
                "Container killed by the operator".to_string(),
            ));
        }
        self.destroy_container(&framework_id, &executor_id);
        Ok(())
    }

    /// Shuts down every executor (the agent is stopping or was told to).
    pub(in crate::agent) fn shutdown_all(&mut self) {
        let ids: Vec<String> = self.frameworks.keys().cloned().collect();
        for id in ids {
            self.shutdown_framework(&id);
        }
    }

    /// Kills the executor's container in the background.
    pub(super) fn destroy_container(&mut self, framework_id: &str, executor_id: &str) {
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        executor.phase = ExecutorPhase::Terminating;
        executor.shutdown_deadline = None;
        if executor.pid.is_none() || executor.destroying {
            // Still launching (executor_launched destroys it), or already being destroyed.
            return;
        }
        executor.destroying = true;
        let container_id = executor.container_id.clone();
        let containerizer = self.containerizer.clone();
        let handle = self.handle.clone();
        let (framework_id, executor_id) = (framework_id.to_string(), executor_id.to_string());
        tokio::task::spawn_blocking(move || {
            let termination = containerizer.destroy(&container_id);
            handle.send(move |s| {
                s.container_destroyed(&framework_id, &executor_id, &container_id, termination)
            });
        });
    }

    /// The executor's first process exited: destroy the rest of its container.
    pub(super) fn container_exited(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
    ) {
        let same = self
            .executor_mut(framework_id, executor_id)
            .map(|e| e.container_id == container_id)
            .unwrap_or(false);
        if same {
            self.destroy_container(framework_id, executor_id);
        }
    }

    pub(super) fn container_destroyed(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        termination: Result<Termination, crate::agent::containerizer::ContainerizerError>,
    ) {
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if executor.container_id != container_id {
            return;
        }
        let termination = match termination {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::error!("destroying container {container_id}: {e}");
                None
            }
        };
        if let Some(limit) = termination.as_ref().and_then(|t| t.limitations.first()) {
            let reason = task_status::Reason::from_str_name(limit.reason)
                .unwrap_or(task_status::Reason::ExecutorTerminated);
            executor.termination_cause =
                Some((TaskState::TaskFailed, reason, limit.message.clone()));
        }
        let status = termination.and_then(|t| t.status);
        self.executor_terminated(framework_id, executor_id, status);
    }

    /// The executor is gone: its unfinished tasks get a terminal update, the master
    /// hears of it, and it moves to the completed executors.
    pub(super) fn executor_terminated(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        status: Option<crate::agent::containerizer::launcher::ExitStatus>,
    ) {
        let checkpoints = self.checkpoints();
        let Some(framework) = self.frameworks.get_mut(framework_id) else {
            return;
        };
        let Some(mut executor) = framework.executors.remove(executor_id) else {
            return;
        };
        self.counters.executors_terminated += 1;
        let (state, reason, message) = executor.termination_cause.take().unwrap_or_else(|| {
            (
                TaskState::TaskFailed,
                task_status::Reason::ExecutorTerminated,
                match status {
                    Some(crate::agent::containerizer::launcher::ExitStatus::Exited(code)) => {
                        format!("Executor exited with status {code}")
                    }
                    Some(crate::agent::containerizer::launcher::ExitStatus::Signaled(signal)) => {
                        format!("Executor terminated by signal {signal}")
                    }
                    Some(crate::agent::containerizer::launcher::ExitStatus::Unknown) | None => {
                        "Executor terminated".to_string()
                    }
                },
            )
        });
        let ended = Instant::now();
        self.gc.schedule(executor.directory.clone(), ended);
        self.gc.schedule(
            checkpoints.run_dir(framework_id, executor_id, &executor.container_id),
            ended,
        );
        if let Err(e) = checkpoints.end_run(framework_id, executor_id, &executor.container_id) {
            tracing::error!("cannot checkpoint the end of executor {executor_id}: {e}");
        }
        let unfinished: Vec<TaskId> = executor
            .tasks
            .values()
            .filter(|t| !is_terminal(t.state))
            .map(|t| t.task_id.clone())
            .collect();
        let info_id = executor.info.executor_id.clone();
        executor.phase = ExecutorPhase::Terminating;
        executor.connection = None;
        // Keep the record reachable for the updates below, then retire it.
        let retired_tasks: Vec<Task> = std::mem::take(&mut executor.tasks).into_values().collect();
        let container_id = executor.container_id.clone();
        framework.completed_executors.push_back(executor);
        if framework.completed_executors.len() > MAX_COMPLETED {
            if let Some(old) = framework.completed_executors.pop_front() {
                self.files.detach(&old.directory.display().to_string());
            }
        }
        // Tasks whose streams are still open go to a holding executor entry so their
        // acknowledgements still find them.
        let holder = framework
            .completed_executors
            .back_mut()
            .expect("just pushed");
        for task in retired_tasks {
            if is_terminal(task.state)
                && self
                    .updates
                    .stream(&task.framework_id, &task.task_id)
                    .is_none()
            {
                holder.completed_tasks.push(task);
            } else {
                holder.tasks.insert(task.task_id.value.clone(), task);
            }
        }
        tracing::info!("executor {executor_id} of framework {framework_id} (container {container_id}) terminated");
        for task_id in unfinished {
            self.agent_update(
                framework_id,
                &task_id,
                Some(&info_id),
                state,
                reason,
                message.clone(),
            );
        }
        self.send_master(agent_call::Type::ExecutorExited, |c| {
            c.executor_exited = Some(agent_call::ExecutorExited {
                framework_id: FrameworkId {
                    value: framework_id.to_string(),
                },
                executor_id: info_id.clone(),
                status: status.and_then(|s| match s {
                    crate::agent::containerizer::launcher::ExitStatus::Exited(code) => {
                        Some((code & 0xff) << 8)
                    }
                    crate::agent::containerizer::launcher::ExitStatus::Signaled(signal) => {
                        Some(signal & 0x7f)
                    }
                    crate::agent::containerizer::launcher::ExitStatus::Unknown => None,
                }),
            })
        });
        self.retire_framework_if_idle(framework_id);
    }

    /// Moves a framework without executors and open update streams to the completed ones.
    pub(super) fn retire_framework_if_idle(&mut self, framework_id: &str) {
        let idle = self
            .frameworks
            .get(framework_id)
            .map(|f| {
                f.executors.is_empty()
                    && !self
                        .updates
                        .streams()
                        .any(|k| k.framework_id.value == framework_id)
            })
            .unwrap_or(false);
        if idle {
            if let Some(framework) = self.frameworks.remove(framework_id) {
                self.updates.remove_framework(&FrameworkId {
                    value: framework_id.to_string(),
                });
                self.completed_frameworks.push_back(framework);
                if self.completed_frameworks.len() > MAX_COMPLETED {
                    self.completed_frameworks.pop_front();
                }
            }
        }
    }

    /// Removes the sandboxes and checkpoints whose time has come (checking the disk usage
    /// every `DISK_WATCH_INTERVAL`).
    pub(super) fn collect_garbage(&mut self, now: Instant) {
        let check = self
            .last_disk_check
            .is_none_or(|at| now.saturating_duration_since(at) >= DISK_WATCH_INTERVAL);
        if check {
            self.last_disk_check = Some(now);
            if let Some(usage) = gc::disk_usage(&self.options.work_dir) {
                self.gc.disk_usage(usage);
            }
        }
        for path in self.gc.due(now) {
            self.files.detach(&path.display().to_string());
            let handle = self.handle.clone();
            tokio::task::spawn_blocking(move || {
                let removed = match std::fs::remove_dir_all(&path) {
                    Ok(()) => true,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
                    Err(e) => {
                        tracing::warn!("cannot remove {}: {e}", path.display());
                        false
                    }
                };
                handle.send(move |s| {
                    if removed {
                        s.counters.gc_removals_succeeded += 1;
                    } else {
                        s.counters.gc_removals_failed += 1;
                    }
                });
            });
        }
    }
}
