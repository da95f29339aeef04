//! Launching: tasks and task groups onto executors, executors into containers.

use super::*;

impl AgentState {
    // ----- launching -----

    pub(super) fn remember_framework(&mut self, info: FrameworkInfo) -> String {
        let id = info.id.clone().unwrap_or_default().value;
        self.frameworks
            .entry(id.clone())
            .and_modify(|f| f.info = info.clone())
            .or_insert_with(|| Framework {
                info,
                executors: BTreeMap::new(),
                completed_executors: VecDeque::new(),
            });
        id
    }

    /// RUN_TASK: queue the task on its executor, launching the executor if needed.
    pub(super) fn run_task(&mut self, framework_info: FrameworkInfo, task: TaskInfo) {
        let framework_id = self.remember_framework(framework_info);
        let framework = &self.frameworks[&framework_id];
        let (executor_info, command) = match (&task.executor, &task.command) {
            (Some(executor), _) => (ExecutorInfo::clone(executor), false),
            (None, Some(_)) => (
                launch::command_executor_info(
                    &task,
                    &framework.info,
                    &self.options.command_executor,
                ),
                true,
            ),
            (None, None) => {
                self.agent_update(
                    &framework_id,
                    &task.task_id,
                    None,
                    TaskState::TaskError,
                    task_status::Reason::TaskInvalid,
                    "Task has neither an executor nor a command".into(),
                );
                return;
            }
        };
        let executor_id = executor_info.executor_id.value.clone();
        if !paths::is_safe_component(&executor_id) || !paths::is_safe_component(&task.task_id.value)
        {
            self.agent_update(
                &framework_id,
                &task.task_id,
                None,
                TaskState::TaskError,
                task_status::Reason::TaskInvalid,
                format!("Task or executor id cannot name a sandbox directory: '{executor_id}'"),
            );
            return;
        }
        let record_executor = (!command).then(|| executor_info.executor_id.clone());
        let record = task_record(
            &task,
            &framework_id,
            &self.agent_id(),
            record_executor.as_ref(),
        );
        let task_id = task.task_id.value.clone();
        let checkpointed = task_id.clone();
        let exists = self.frameworks[&framework_id]
            .executors
            .get(&executor_id)
            .map(|e| e.phase);
        match exists {
            Some(ExecutorPhase::Terminating) => {
                self.agent_update(
                    &framework_id,
                    &task.task_id,
                    Some(&executor_info.executor_id),
                    TaskState::TaskLost,
                    task_status::Reason::ExecutorTerminated,
                    "Executor is terminating".into(),
                );
            }
            Some(ExecutorPhase::Running) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(task.resources.iter().cloned());
                executor.tasks.insert(task_id, record);
                self.resize_container(&framework_id, &executor_id);
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                send_event(executor, launch_event(task));
            }
            Some(_) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(task.resources.iter().cloned());
                executor.tasks.insert(task_id, record);
                executor.queued.push(Pending::Task(Box::new(task)));
                self.resize_container(&framework_id, &executor_id);
            }
            None => {
                let mut resources = executor_info.resources.clone();
                if command {
                    resources.extend(launch::command_executor_overhead());
                }
                resources.extend(task.resources.iter().cloned());
                let mut tasks = BTreeMap::new();
                tasks.insert(task_id, record);
                self.launch_executor(
                    &framework_id,
                    executor_info,
                    command,
                    resources,
                    tasks,
                    vec![Pending::Task(Box::new(task))],
                );
            }
        }
        self.checkpoint_tasks(&framework_id, &executor_id, &[checkpointed]);
    }

    /// RUN_TASK_GROUP: like RUN_TASK for a group given to one executor.
    pub(super) fn run_task_group(
        &mut self,
        framework_info: FrameworkInfo,
        executor_info: ExecutorInfo,
        group: TaskGroupInfo,
    ) {
        let framework_id = self.remember_framework(framework_info);
        let executor_id = executor_info.executor_id.value.clone();
        let agent_id = self.agent_id();
        let records: BTreeMap<String, Task> = group
            .tasks
            .iter()
            .map(|t| {
                (
                    t.task_id.value.clone(),
                    task_record(
                        t,
                        &framework_id,
                        &agent_id,
                        Some(&executor_info.executor_id),
                    ),
                )
            })
            .collect();
        let unsafe_id = !paths::is_safe_component(&executor_id)
            || group
                .tasks
                .iter()
                .any(|t| !paths::is_safe_component(&t.task_id.value));
        let phase = self.frameworks[&framework_id]
            .executors
            .get(&executor_id)
            .map(|e| e.phase);
        if unsafe_id || phase == Some(ExecutorPhase::Terminating) {
            let (state, reason, message) = if unsafe_id {
                (
                    TaskState::TaskError,
                    task_status::Reason::TaskGroupInvalid,
                    "Task or executor id cannot name a sandbox directory",
                )
            } else {
                (
                    TaskState::TaskLost,
                    task_status::Reason::ExecutorTerminated,
                    "Executor is terminating",
                )
            };
            for task in &group.tasks {
                self.agent_update(
                    &framework_id,
                    &task.task_id,
                    Some(&executor_info.executor_id),
                    state,
                    reason,
                    message.into(),
                );
            }
            return;
        }
        let task_ids: Vec<String> = records.keys().cloned().collect();
        let resources: Vec<Resource> = group
            .tasks
            .iter()
            .flat_map(|t| t.resources.iter().cloned())
            .collect();
        match phase {
            Some(ExecutorPhase::Running) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(resources);
                executor.tasks.extend(records);
                self.resize_container(&framework_id, &executor_id);
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                send_event(executor, launch_group_event(group));
            }
            Some(_) => {
                let executor = self
                    .executor_mut(&framework_id, &executor_id)
                    .expect("exists");
                executor.resources.extend(resources);
                executor.tasks.extend(records);
                executor.queued.push(Pending::Group(group));
                self.resize_container(&framework_id, &executor_id);
            }
            None => {
                let mut all = executor_info.resources.clone();
                all.extend(resources);
                self.launch_executor(
                    &framework_id,
                    executor_info,
                    false,
                    all,
                    records,
                    vec![Pending::Group(group)],
                );
            }
        }
        self.checkpoint_tasks(&framework_id, &executor_id, &task_ids);
    }

    /// Sets a running container's limits to what its executor and tasks now hold (more
    /// tasks joined it); a container still launching gets them once launched.
    pub(super) fn resize_container(&mut self, framework_id: &str, executor_id: &str) {
        let Some(executor) = self
            .frameworks
            .get(framework_id)
            .and_then(|f| f.executors.get(executor_id))
        else {
            return;
        };
        if executor.pid.is_none() {
            return;
        }
        let limits = launch::container_limits(&executor.resources);
        if let Err(e) = self.containerizer.update(&executor.container_id, &limits) {
            tracing::warn!(
                "cannot update the limits of container {}: {e}",
                executor.container_id
            );
        }
    }

    pub(super) fn executor_mut(
        &mut self,
        framework_id: &str,
        executor_id: &str,
    ) -> Option<&mut Executor> {
        self.frameworks
            .get_mut(framework_id)?
            .executors
            .get_mut(executor_id)
    }

    /// Creates the executor record and starts launching its container in the background;
    /// [`AgentState::executor_launched`] hears how it went.
    pub(super) fn launch_executor(
        &mut self,
        framework_id: &str,
        info: ExecutorInfo,
        command_executor: bool,
        resources: Vec<Resource>,
        tasks: BTreeMap<String, Task>,
        queued: Vec<Pending>,
    ) {
        let container_id = uuid::Uuid::new_v4().to_string();
        let agent_id = self.agent_id().value;
        let executor_id = info.executor_id.value.clone();
        let directory = paths::sandbox_dir(
            &self.options.work_dir,
            &agent_id,
            framework_id,
            &executor_id,
            &container_id,
        );
        let framework_info = self.frameworks[framework_id].info.clone();
        let context = launch::ExecutorContext {
            agent_endpoint: self.endpoint,
            domain_socket: self.options.executor_domain_socket.as_deref(),
            agent_id: &agent_id,
            sandbox: &directory,
            sandbox_mount: self.containerizer.sandbox_mount_point(),
            recovery_timeout: self.options.recovery_timeout,
            shutdown_grace_period: self.options.executor_shutdown_grace_period,
        };
        let env = launch::executor_environment(&info, &framework_info, &context);
        let user = launch::executor_user(&info, &framework_info).map(str::to_string);
        let uris = launch::executor_uris(&info);
        let limits = launch::container_limits(&resources);
        let mount = self
            .containerizer
            .sandbox_mount_point()
            .map(std::path::Path::to_path_buf);
        let spec = match &info.command {
            Some(_) => launch::launch_spec(&info, env, directory.clone(), mount),
            // An executor without a command (a task group's DEFAULT executor) is ours.
            None => launch::launch_spec(
                &ExecutorInfo {
                    command: Some(crate::proto::mesos::v1::CommandInfo {
                        value: Some(self.options.default_executor.display().to_string()),
                        shell: Some(false),
                        arguments: vec!["mesos-default-executor".into()],
                        ..Default::default()
                    }),
                    ..info.clone()
                },
                env,
                directory.clone(),
                mount,
            ),
        };
        tracing::info!(
            "launching executor {executor_id} of framework {framework_id} in container {container_id}"
        );
        let executor = Executor {
            info,
            container_id: container_id.clone(),
            directory: directory.clone(),
            phase: ExecutorPhase::Launching,
            pid: None,
            command_executor,
            resources,
            connection: None,
            queued,
            tasks,
            completed_tasks: Vec::new(),
            registration_deadline: None,
            shutdown_deadline: None,
            termination_cause: None,
            recovered: false,
            destroying: false,
        };
        self.frameworks
            .get_mut(framework_id)
            .expect("remembered")
            .executors
            .insert(executor_id.clone(), executor);

        let run = RunCheckpoint {
            checkpoints: self.checkpoints(),
            framework_id: framework_id.to_string(),
            executor_id: executor_id.clone(),
            record: RunRecord {
                pid: 0,
                start_time: None,
                command_executor,
                checkpoint: self.checkpointing(framework_id),
                cpus: limits.cpus,
                mem_bytes: limits.mem_bytes,
            },
        };
        let containerizer = self.containerizer.clone();
        let handle = self.handle.clone();
        let framework_id = framework_id.to_string();
        tokio::spawn(async move {
            let result =
                prepare_and_launch(containerizer, &container_id, spec, user, uris, limits, run)
                    .await;
            handle.send(move |s| {
                s.executor_launched(&framework_id, &executor_id, &container_id, result)
            });
        });
    }

    /// The container of an executor was launched (or failed to be).
    pub(super) fn executor_launched(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        result: Result<i32, String>,
    ) {
        let timeout = self.options.executor_registration_timeout;
        let Some(executor) = self.executor_mut(framework_id, executor_id) else {
            return;
        };
        if executor.container_id != container_id {
            return;
        }
        match result {
            Ok(pid) => {
                executor.pid = Some(pid);
                let directory = executor.directory.clone();
                self.attach_sandbox(framework_id, executor_id, &directory);
                let Some(executor) = self.executor_mut(framework_id, executor_id) else {
                    return;
                };
                if executor.phase == ExecutorPhase::Terminating {
                    // Killed while launching: end it now.
                    self.destroy_container(framework_id, executor_id);
                    return;
                }
                // The executor may have subscribed already (it runs as soon as it is
                // exec'd, which can be before this news arrives): then it is Running and
                // must not get a registration deadline.
                if executor.phase == ExecutorPhase::Launching {
                    executor.phase = ExecutorPhase::Registering;
                    executor.registration_deadline = Some(Instant::now() + timeout);
                }
                // Tasks that joined while the container was launching.
                self.resize_container(framework_id, executor_id);
                self.watch_exit(framework_id, executor_id, container_id, pid);
            }
            Err(message) => {
                tracing::warn!("executor {executor_id} failed to launch: {message}");
                executor.termination_cause.get_or_insert((
                    TaskState::TaskFailed,
                    task_status::Reason::ContainerLaunchFailed,
                    format!("Failed to launch container: {message}"),
                ));
                self.counters.container_launch_errors += 1;
                self.executor_terminated(framework_id, executor_id, None);
            }
        }
    }

    /// Makes a sandbox browsable at its real path, at its executor's `runs/latest` and at
    /// Mesos' virtual `/frameworks/<fw>/executors/<ex>/runs/latest`.
    pub(super) fn attach_sandbox(
        &mut self,
        framework_id: &str,
        executor_id: &str,
        directory: &std::path::Path,
    ) {
        let real = directory.display().to_string();
        let latest = directory.with_file_name("latest").display().to_string();
        let virtual_latest =
            format!("/frameworks/{framework_id}/executors/{executor_id}/runs/latest");
        if let Err(e) = self
            .files
            .attach_all(&[&real, &latest, &virtual_latest], directory)
        {
            tracing::warn!("cannot attach sandbox {real}: {e}");
        }
    }

    /// Tells the state when the container's first process exits.
    pub(super) fn watch_exit(
        &self,
        framework_id: &str,
        executor_id: &str,
        container_id: &str,
        pid: i32,
    ) {
        let handle = self.handle.clone();
        let (framework_id, executor_id, container_id) = (
            framework_id.to_string(),
            executor_id.to_string(),
            container_id.to_string(),
        );
        tokio::spawn(async move {
            crate::agent::exit_watch::exited(pid).await;
            handle.send(move |s| s.container_exited(&framework_id, &executor_id, &container_id));
        });
    }
}
