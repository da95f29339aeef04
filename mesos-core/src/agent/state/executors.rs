//! The executors' side: their subscriptions, updates and messages.

use super::*;

impl AgentState {
    // ----- executors' calls -----

    /// An executor's SUBSCRIBE: returns its events (SUBSCRIBED first, then its queued
    /// tasks) and the id of this connection.
    pub(in crate::agent) fn subscribe_executor(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        subscribe: crate::proto::mesos::v1::executor::call::Subscribe,
    ) -> Result<(u64, mpsc::UnboundedReceiver<Event>), ExecutorCallError> {
        let connection_id = self.next_connection;
        self.next_connection += 1;
        let agent_info = self.info.clone();
        let framework_info = self
            .frameworks
            .get(framework_id)
            .map(|f| f.info.clone())
            .ok_or_else(|| {
                ExecutorCallError::BadRequest(format!("Framework {framework_id} is not known"))
            })?;
        let executor = self
            .executor_mut(framework_id, executor_id)
            .ok_or_else(|| {
                ExecutorCallError::BadRequest(format!(
                    "Executor {executor_id} of framework {framework_id} is not known"
                ))
            })?;
        if executor.phase == ExecutorPhase::Terminating {
            return Err(ExecutorCallError::Forbidden(format!(
                "Executor {executor_id} is terminating"
            )));
        }
        let (events, receiver) = mpsc::unbounded_channel();
        let _ = events.send(Event {
            r#type: Some(event::Type::Subscribed as i32),
            subscribed: Some(event::Subscribed {
                executor_info: executor.info.clone(),
                framework_info,
                agent_info,
                container_id: Some(ContainerId {
                    value: executor.container_id.clone(),
                    ..Default::default()
                }),
            }),
            ..Default::default()
        });
        executor.connection = Some(Connection {
            id: connection_id,
            events,
        });
        executor.phase = ExecutorPhase::Running;
        executor.registration_deadline = None;
        for pending in std::mem::take(&mut executor.queued) {
            let event = match pending {
                Pending::Task(task) => launch_event(*task),
                Pending::Group(group) => launch_group_event(group),
            };
            send_event(executor, event);
        }
        tracing::info!("executor {executor_id} of framework {framework_id} subscribed");
        // Updates the executor sent that the agent may have missed (it restarted).
        for update in subscribe.unacknowledged_updates {
            let _ = self.executor_update(framework_id, executor_id, update.status);
        }
        Ok((connection_id, receiver))
    }

    /// An executor's subscription stream closed.
    pub(in crate::agent) fn executor_disconnected(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        connection_id: u64,
    ) {
        if let Some(executor) = self.executor_mut(framework_id, executor_id) {
            if executor.connection.as_ref().map(|c| c.id) == Some(connection_id) {
                executor.connection = None;
            }
        }
    }

    /// An executor's UPDATE: checkpointed (for checkpointing frameworks) and forwarded.
    pub(in crate::agent) fn executor_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        status: TaskStatus,
    ) -> Result<(), ExecutorCallError> {
        let result = self.accept_executor_update(framework_id, executor_id, status);
        match result {
            Ok(()) => self.counters.valid_status_updates += 1,
            Err(_) => self.counters.invalid_status_updates += 1,
        }
        result
    }

    pub(super) fn accept_executor_update(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        mut status: TaskStatus,
    ) -> Result<(), ExecutorCallError> {
        if status.uuid.as_deref().map(<[u8]>::len) != Some(16) {
            return Err(ExecutorCallError::BadRequest(
                "Expecting 'status.uuid' to be 16 bytes".into(),
            ));
        }
        if task_state(status.state) == TaskState::TaskStaging {
            return Err(ExecutorCallError::BadRequest(
                "Received TASK_STAGING from executor".into(),
            ));
        }
        let containerizer = self.containerizer.clone();
        let executor = self
            .executor_mut(framework_id, executor_id)
            .ok_or_else(|| {
                ExecutorCallError::BadRequest(format!(
                    "Executor {executor_id} of framework {framework_id} is not known"
                ))
            })?;
        status.executor_id = Some(executor.info.executor_id.clone());
        status.container_status = Some(ContainerStatus {
            container_id: Some(ContainerId {
                value: executor.container_id.clone(),
                ..Default::default()
            }),
            executor_pid: executor.pid.map(|p| p as u32),
            ..Default::default()
        });
        // A task the kernel killed for its memory limit is reported as Mesos does.
        if task_state(status.state) == TaskState::TaskFailed {
            if let Ok(limitations) = containerizer.limitations(&executor.container_id) {
                if let Some(limit) = limitations.first() {
                    status.reason =
                        task_status::Reason::from_str_name(limit.reason).map(|r| r as i32);
                    status.message = Some(limit.message.clone());
                    status.source = Some(task_status::Source::Agent as i32);
                }
            }
        }
        self.accept_update(framework_id, status)
            .map_err(|e| ExecutorCallError::Unavailable(e.to_string()))
    }

    /// An executor's MESSAGE, for its scheduler.
    pub(in crate::agent) fn executor_message(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        data: Vec<u8>,
    ) {
        self.send_master(agent_call::Type::ExecutorMessage, |c| {
            c.executor_message = Some(agent_call::ExecutorMessage {
                framework_id: FrameworkId {
                    value: framework_id.to_string(),
                },
                executor_id: ExecutorId {
                    value: executor_id.to_string(),
                },
                data,
            })
        });
    }
}
