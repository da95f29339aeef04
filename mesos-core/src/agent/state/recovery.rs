//! Recovery: what an agent restarted after a crash takes back from its checkpoints.

use super::*;

impl AgentState {
    /// Takes back the containers an earlier run of the agent left: those of checkpointing
    /// frameworks are reconnected (their executors must subscribe again within
    /// `--executor_reregistration_timeout`) with their tasks and unacknowledged updates;
    /// the others, and all of them with `--recover=cleanup`, are destroyed.
    pub(in crate::agent) fn recover(&mut self, runs: Vec<RecoveredRun>) {
        let now = Instant::now();
        let known: std::collections::HashSet<String> =
            runs.iter().map(|r| r.container_id.clone()).collect();
        for orphan in self.containerizer.orphans(&known) {
            tracing::info!("destroying orphan container {orphan}");
            let containerizer = self.containerizer.clone();
            tokio::task::spawn_blocking(move || {
                if let Err(e) = containerizer.destroy_orphan(&orphan) {
                    tracing::error!("cannot destroy orphan container {orphan}: {e}");
                }
            });
        }
        for run in runs {
            if let Err(e) = self.containerizer.recover(
                &run.container_id,
                run.run.pid,
                run.run.start_time,
                &run.run.limits(),
            ) {
                tracing::error!("cannot recover container {}: {e}", run.container_id);
                continue;
            }
            let keep =
                self.options.recover == crate::agent::RecoverMode::Reconnect && run.run.checkpoint;
            let (Some(framework), Some(info), true) =
                (run.framework.clone(), run.executor.clone(), keep)
            else {
                tracing::info!(
                    "destroying container {} left by the previous agent",
                    run.container_id
                );
                let containerizer = self.containerizer.clone();
                let checkpoints = self.checkpoints();
                tokio::task::spawn_blocking(move || {
                    if let Err(e) = containerizer.destroy(&run.container_id) {
                        tracing::error!("cannot destroy container {}: {e}", run.container_id);
                    }
                    let _ =
                        checkpoints.end_run(&run.framework_id, &run.executor_id, &run.container_id);
                });
                continue;
            };
            let framework_id = self.remember_framework(framework);
            let framework_key = FrameworkId {
                value: framework_id.clone(),
            };
            let mut tasks = BTreeMap::new();
            let mut resources = info.resources.clone();
            if run.run.command_executor {
                resources.extend(launch::command_executor_overhead());
            }
            for (mut task, updates) in run.tasks {
                resources.extend(task.resources.iter().cloned());
                if let Some(path) = updates {
                    if let Err(e) = self
                        .updates
                        .recover(&framework_key, &task.task_id, &path, now)
                    {
                        tracing::error!(
                            "cannot recover the updates of task {}: {e}",
                            task.task_id.value
                        );
                    }
                    if let Some(state) = self
                        .updates
                        .stream(&framework_key, &task.task_id)
                        .and_then(|s| s.latest_state())
                    {
                        task.state = state as i32;
                    }
                }
                tasks.insert(task.task_id.value.clone(), task);
            }
            let directory = paths::sandbox_dir(
                &self.options.work_dir,
                &self.agent_id().value,
                &framework_id,
                &run.executor_id,
                &run.container_id,
            );
            let executor = Executor {
                info,
                container_id: run.container_id.clone(),
                directory: directory.clone(),
                phase: ExecutorPhase::Registering,
                pid: Some(run.run.pid),
                command_executor: run.run.command_executor,
                resources,
                connection: None,
                queued: Vec::new(),
                tasks,
                completed_tasks: Vec::new(),
                registration_deadline: Some(now + self.options.executor_reregistration_timeout),
                shutdown_deadline: None,
                termination_cause: None,
                recovered: true,
                destroying: false,
            };
            tracing::info!(
                "recovered executor {} of framework {framework_id} in container {}",
                run.executor_id,
                run.container_id
            );
            self.frameworks
                .get_mut(&framework_id)
                .expect("remembered")
                .executors
                .insert(run.executor_id.clone(), executor);
            self.attach_sandbox(&framework_id, &run.executor_id, &directory);
            match self.containerizer.wait(&run.container_id, None) {
                // Gone while the agent was down (or its pid is another process's now).
                Ok(Some(_)) => {
                    self.container_exited(&framework_id, &run.executor_id, &run.container_id)
                }
                _ => self.watch_exit(
                    &framework_id,
                    &run.executor_id,
                    &run.container_id,
                    run.run.pid,
                ),
            }
        }
    }
}
