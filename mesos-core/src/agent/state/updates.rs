//! Status updates: recorded, checkpointed, forwarded to the master, acknowledged.

use super::*;

impl AgentState {
    // ----- status updates -----

    /// Records a task's new state and hands the update to the status update manager.
    pub(super) fn accept_update(
        &mut self,
        framework_id: &str,
        mut status: TaskStatus,
    ) -> Result<(), StatusUpdateError> {
        status.agent_id = self.info.id.clone();
        if status.timestamp.is_none() {
            status.timestamp = Some(wall_clock());
        }
        let task_id = status.task_id.value.clone();
        let agent_id = self.agent_id().value;
        let work_dir = self.options.work_dir.clone();
        let mut checkpoint = None;
        let mut became_terminal = None;
        if let Some(framework) = self.frameworks.get_mut(framework_id) {
            let checkpointing = framework.info.checkpoint.unwrap_or(false);
            // A running executor's task, checkpointed; else one of an executor that ended
            // (its run is over: nothing more is checkpointed for it).
            let running = executor_of_task(&mut framework.executors, &task_id)
                .map(|(_, e)| (e, checkpointing));
            let found = running.or_else(|| {
                framework
                    .completed_executors
                    .iter_mut()
                    .rev()
                    .find(|e| e.tasks.contains_key(&task_id))
                    .map(|e| (e, false))
            });
            if let Some((executor, checkpointing)) = found {
                if checkpointing {
                    checkpoint = Some(Checkpoints::new(&work_dir, &agent_id).task_updates(
                        framework_id,
                        &executor.info.executor_id.value,
                        &executor.container_id,
                        &task_id,
                    ));
                }
                if let Some(task) = executor.tasks.get_mut(&task_id) {
                    if !is_terminal(task.state) {
                        if is_terminal(status.state) {
                            became_terminal = Some(status.state);
                        }
                        task.state = status.state;
                        task.status_update_state = Some(status.state);
                        task.status_update_uuid = status.uuid.clone();
                        task.statuses.push(status.clone());
                    }
                }
            }
        }
        if let Some(state) = became_terminal {
            self.count_terminal(state);
        }
        let framework = FrameworkId {
            value: framework_id.to_string(),
        };
        if let Some(dir) = checkpoint.as_ref().and_then(|c| c.parent()) {
            std::fs::create_dir_all(dir).map_err(|source| StatusUpdateError::Io {
                action: "create",
                path: dir.to_path_buf(),
                source,
            })?;
        }
        match self
            .updates
            .update(&framework, status, checkpoint.as_deref(), Instant::now())?
        {
            UpdateOutcome::Forward(update) => self.forward(update),
            UpdateOutcome::Queued | UpdateOutcome::Duplicate => {}
        }
        Ok(())
    }

    /// An update the agent itself generates for a task (source AGENT).
    pub(super) fn agent_update(
        &mut self,
        framework_id: &str,
        task_id: &TaskId,
        executor_id: Option<&ExecutorId>,
        state: TaskState,
        reason: task_status::Reason,
        message: String,
    ) {
        let status = TaskStatus {
            task_id: task_id.clone(),
            state: state as i32,
            message: Some(message),
            source: Some(task_status::Source::Agent as i32),
            reason: Some(reason as i32),
            executor_id: executor_id.cloned(),
            uuid: Some(uuid::Uuid::new_v4().as_bytes().to_vec()),
            ..Default::default()
        };
        if let Err(e) = self.accept_update(framework_id, status) {
            tracing::error!("cannot record an update of task {}: {e}", task_id.value);
        }
    }

    /// The framework acknowledged an update: tell the executor that sent it, forward the
    /// next one, and forget the task once its terminal update is acknowledged.
    pub(super) fn acknowledge(
        &mut self,
        framework_id: &FrameworkId,
        task_id: &TaskId,
        uuid: &[u8],
    ) {
        let from_executor = self
            .updates
            .stream(framework_id, task_id)
            .and_then(|s| s.head())
            .filter(|(head, _)| head.as_bytes().as_slice() == uuid)
            .map(|(_, status)| status.source == Some(task_status::Source::Executor as i32))
            .unwrap_or(false);
        let outcome = match self
            .updates
            .acknowledge(framework_id, task_id, uuid, Instant::now())
        {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::warn!("ignoring acknowledgement of task {}: {e}", task_id.value);
                return;
            }
        };
        if let Some(next) = outcome.next {
            self.forward(next);
        }
        let Some(framework) = self.frameworks.get_mut(&framework_id.value) else {
            return;
        };
        if let Some((executor_id, executor)) =
            executor_of_task(&mut framework.executors, &task_id.value)
        {
            let executor_id = executor_id.clone();
            if from_executor {
                send_event(
                    executor,
                    Event {
                        r#type: Some(event::Type::Acknowledged as i32),
                        acknowledged: Some(event::Acknowledged {
                            task_id: task_id.clone(),
                            uuid: uuid.to_vec(),
                        }),
                        ..Default::default()
                    },
                );
            }
            if !outcome.terminated {
                return;
            }
            let _ = self.updates.remove(framework_id, task_id);
            if let Some(task) = executor.tasks.remove(&task_id.value) {
                executor.completed_tasks.push(task);
            }
            let idle = executor.tasks.is_empty()
                && executor.phase != ExecutorPhase::Terminating
                && executor.command_executor;
            if idle {
                // The command executor exits by itself; make sure it does.
                let framework_id = framework_id.value.clone();
                self.shutdown_executor(
                    &framework_id,
                    &executor_id,
                    TaskState::TaskKilled,
                    task_status::Reason::ExecutorTerminated,
                    "Executor has no more tasks",
                );
            }
        } else if outcome.terminated {
            // A task of an executor that already ended.
            let _ = self.updates.remove(framework_id, task_id);
            if let Some(executor) = framework
                .completed_executors
                .iter_mut()
                .find(|e| e.tasks.contains_key(&task_id.value))
            {
                if let Some(task) = executor.tasks.remove(&task_id.value) {
                    executor.completed_tasks.push(task);
                }
            }
            self.retire_framework_if_idle(&framework_id.value);
        }
    }
}
