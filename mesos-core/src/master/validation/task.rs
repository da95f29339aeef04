//! LAUNCH and LAUNCH_GROUP: tasks, task groups and their executors (Mesos'
//! `validation::task`, `validation::task::group` and `validation::executor`).

use std::collections::BTreeSet;

use super::common::{
    overlapping, validate_allocated_to_single_role, validate_check_info, validate_command_info,
    validate_container_info, validate_health_check, validate_id, validate_resources,
    validate_revocable_mix, validate_unique_persistence_id,
};
use super::framework::framework_roles;
use crate::proto::mesos::v1 as pb;
use crate::resources::Resources;

/// The least CPU a task group's executor may use (Mesos' `MIN_CPUS`).
const MIN_CPUS: f64 = 0.01;
/// The least memory, in MB, a task group's executor may use (Mesos' `MIN_MEM`).
const MIN_MEM_MB: f64 = 32.0;

/// What task validation needs to know about the master's state.
pub struct LaunchContext<'a> {
    /// The framework launching.
    pub framework_id: &'a pb::FrameworkId,
    /// Its `FrameworkInfo` (for its roles).
    pub framework: &'a pb::FrameworkInfo,
    /// The agent the accepted offers are for.
    pub agent_id: &'a pb::AgentId,
    /// Resources still available from the accepted offers on that agent (allocated form:
    /// each resource has allocation_info.role set), after the operations before this one.
    pub available: &'a Resources,
    /// Whether a task with this id already exists for the framework (running or pending,
    /// in this or an earlier call).
    pub task_exists: &'a dyn Fn(&pb::TaskId) -> bool,
    /// The ExecutorInfo the master already knows for this executor id on that agent, if
    /// any.
    pub known_executor: &'a dyn Fn(&pb::ExecutorId) -> Option<pb::ExecutorInfo>,
}

/// Checks a task of a LAUNCH operation and its executor, if any, returning what they
/// consume from [`LaunchContext::available`]: the task's resources plus a new executor's
/// (a known executor's are already in use).
///
/// The rules and texts are Mesos': a valid, unused task ID; the offer's agent; a
/// non-negative kill grace period and `max_completion_time`; valid checks, health checks,
/// command environment and container volumes; `limits` only on `cpus` and `mem` and not
/// below the request (whether the agent supports limits is the caller's check); resources
/// that are non-empty (`Task uses no resources`),
/// valid, allocated to a single role of the framework, with unique persistence IDs and
/// not mixing revocable and non-revocable ones; exactly one of `command` and `executor`;
/// an executor that is CUSTOM with a command, has a valid ID, this framework's ID, no
/// shared resources and, if known, is identical to the known one; task and executor
/// resources that do not overlap and fit `available` (`Total resources ... required by
/// task and its executor is more than available ...`).
///
/// As in Mesos, the master injects the offers' allocation role into resources that come
/// without one before calling this.
pub fn validate_task(task: &pb::TaskInfo, ctx: &LaunchContext<'_>) -> Result<Resources, String> {
    let task_resources = validate_task_fields(task, ctx)?;

    if task.executor.is_some() == task.command.is_some() {
        return Err(
            "Task should have at least one (but not both) of CommandInfo or \
                    ExecutorInfo present"
                .to_string(),
        );
    }

    let mut total = task_resources.clone();
    let mut executor_resources = Resources::new();
    if let Some(executor) = &task.executor {
        let (executor, resources, known) = validate_executor(executor, ctx)?;
        if executor.r#type.is_some() && executor.r#type() != pb::executor_info::Type::Custom {
            return Err("'ExecutorInfo.type' must be 'CUSTOM'".to_string());
        }
        if executor.command.is_none() {
            return Err("'ExecutorInfo.command' must be set".to_string());
        }
        if !resources.shared().is_empty() {
            return Err(format!(
                "Executor resources {resources} should not contain any shared resources"
            ));
        }
        if share_cgroups(executor.container.as_ref()) == Some(true) {
            return Err(
                "The 'share_cgroups' field cannot be set to 'true' on executor containers"
                    .to_string(),
            );
        }
        if !known {
            total += &resources;
        }
        executor_resources = resources;
    }

    let combined = &task_resources + &executor_resources;
    validate_resources(&combined.to_protos())
        .map_err(|e| format!("Task and its executor use invalid resources: {e}"))?;
    if overlapping(&[&task_resources, &executor_resources]) {
        return Err(format!(
            "There are overlapping resources in the task resources {task_resources} and \
             executor resources {executor_resources}"
        ));
    }
    validate_unique_persistence_id(&combined)
        .map_err(|e| format!("Task and its executor use duplicate persistence ID: {e}"))?;
    validate_revocable_mix(&combined).map_err(|e| {
        format!("Task and its executor mix revocable and non-revocable resources: {e}")
    })?;

    if !ctx.available.contains(&total) {
        return Err(format!(
            "Total resources {total} required by task and its executor is more than available \
             {}",
            ctx.available
        ));
    }

    if share_cgroups(task.container.as_deref()) == Some(false) {
        return Err(
            "Only tasks in a task group may have 'share_cgroups' set to 'false'".to_string(),
        );
    }
    Ok(total)
}

/// Checks a LAUNCH_GROUP operation, returning what the group consumes from
/// [`LaunchContext::available`]: the tasks' resources plus a new executor's.
///
/// Each task passes the checks of [`validate_task`] that concern the task itself (errors
/// read `Task '<id>' is invalid: ...`), has a task ID unique in the group, no Docker
/// container, no HTTP or TCP health check when it has its own network, and resource
/// limits only when it does not share cgroups. A task may repeat the group's executor but
/// not name another. The executor must have a type (DEFAULT or CUSTOM), no Docker
/// container, at least 0.01 cpus, 32MB of memory and some disk; `share_cgroups` must be
/// the same for all tasks; the total must not overlap and must fit `available` (`Total
/// resources ... required by task group and its executor are more than available ...`).
pub fn validate_task_group(
    executor: &pb::ExecutorInfo,
    group: &pb::TaskGroupInfo,
    ctx: &LaunchContext<'_>,
) -> Result<Resources, String> {
    if group.tasks.is_empty() {
        return Err("Task group must have at least one task".to_string());
    }

    let mut ids = BTreeSet::new();
    let mut task_resources = Vec::with_capacity(group.tasks.len());
    for task in &group.tasks {
        let resources = validate_group_task(task, ctx, &mut ids)
            .map_err(|e| format!("Task '{}' is invalid: {e}", task.task_id.value))?;
        task_resources.push(resources);
    }

    let (normalized, executor_resources, known) = validate_executor(executor, ctx)?;
    let id = &normalized.executor_id.value;
    let Some(kind) = normalized.r#type else {
        return Err("'ExecutorInfo.type' must be set".to_string());
    };
    if pb::executor_info::Type::try_from(kind).unwrap_or_default()
        == pb::executor_info::Type::Unknown
    {
        return Err("Unknown executor type".to_string());
    }
    if is_docker(normalized.container.as_ref()) {
        return Err("Docker ContainerInfo is not supported on the executor".to_string());
    }
    for task in &group.tasks {
        if let Some(own) = &task.executor {
            let mut own = pb::ExecutorInfo::clone(own);
            own.framework_id
                .get_or_insert_with(|| ctx.framework_id.clone());
            if own != normalized {
                return Err(format!(
                    "The `ExecutorInfo` of task '{}' is different from executor '{id}'",
                    task.task_id.value
                ));
            }
        }
    }

    let cpus = executor_resources.cpus();
    if cpus.is_none_or(|c| c.as_f64() < MIN_CPUS) {
        return Err(format!(
            "Executor '{id}' uses less CPUs ({}) than the minimum required ({MIN_CPUS})",
            cpus.map_or("None".to_string(), |c| c.to_string())
        ));
    }
    let mem = executor_resources.mem();
    if mem.is_none_or(|m| m.as_f64() < MIN_MEM_MB) {
        return Err(format!(
            "Executor '{id}' uses less memory ({}) than the minimum required ({})",
            mem.map_or("None".to_string(), |m| megabytes(m.as_f64())),
            megabytes(MIN_MEM_MB)
        ));
    }
    if executor_resources.disk().is_none() {
        return Err(format!("Executor '{id}' uses no disk"));
    }

    let mut combined = executor_resources.clone();
    for resources in &task_resources {
        combined += resources;
    }
    validate_unique_persistence_id(&combined)
        .map_err(|e| format!("Task group and executor use duplicate persistence ID: {e}"))?;
    validate_revocable_mix(&combined).map_err(|e| {
        format!("Task group and executor mix revocable and non-revocable resources: {e}")
    })?;
    let mut parts: Vec<&Resources> = task_resources.iter().collect();
    parts.push(&executor_resources);
    if overlapping(&parts) {
        let tasks: Vec<String> = task_resources.iter().map(ToString::to_string).collect();
        return Err(format!(
            "There are overlapping resources in the task group's task resources [ {} ] and/or \
             executor resources {executor_resources}",
            tasks.join(", ")
        ));
    }

    let mut total = Resources::new();
    for resources in &task_resources {
        total += resources;
    }
    if !known {
        total += &executor_resources;
    }
    if !ctx.available.contains(&total) {
        return Err(format!(
            "Total resources {total} required by task group and its executor are more than \
             available {}",
            ctx.available
        ));
    }

    if share_cgroups(normalized.container.as_ref()) == Some(true) {
        return Err(
            "The 'share_cgroups' field cannot be set to 'true' on executor containers".to_string(),
        );
    }
    let mut shared = group
        .tasks
        .iter()
        .map(|t| share_cgroups(t.container.as_deref()).unwrap_or(true));
    if let Some(first) = shared.next() {
        if shared.any(|s| s != first) {
            return Err(
                "If set, the value of 'share_cgroups' must be the same for all tasks \
                        in each task group and under a single executor"
                    .to_string(),
            );
        }
    }
    Ok(total)
}

/// The checks of one task of a group beyond those of [`validate_task_fields`].
fn validate_group_task(
    task: &pb::TaskInfo,
    ctx: &LaunchContext<'_>,
    ids: &mut BTreeSet<String>,
) -> Result<Resources, String> {
    let resources = validate_task_fields(task, ctx)?;
    if !ids.insert(task.task_id.value.clone()) {
        return Err(format!("Task has duplicate ID: {}", task.task_id.value));
    }
    if let Some(container) = &task.container {
        let http_or_tcp = task.health_check.as_ref().is_some_and(|h| {
            matches!(
                h.r#type(),
                pb::health_check::Type::Http | pb::health_check::Type::Tcp
            )
        });
        if !container.network_infos.is_empty() && http_or_tcp {
            return Err(
                "HTTP and TCP health checks are not supported for nested containers \
                        not joining parent's network"
                    .to_string(),
            );
        }
        if is_docker(Some(container)) {
            return Err("Docker ContainerInfo is not supported on the task".to_string());
        }
    }
    let isolated = task
        .container
        .as_ref()
        .and_then(|c| c.linux_info.as_ref())
        .is_some_and(|l| !l.share_cgroups.unwrap_or(true));
    if !task.limits.is_empty() && !isolated {
        return Err(
            "Resource limits may only be set for tasks within a task group when the \
                    'share_cgroups' field is set to 'false'."
                .to_string(),
        );
    }
    Ok(resources)
}

/// Mesos' `task::internal::validateTask`: the checks of the task itself, for LAUNCH and
/// LAUNCH_GROUP alike. Returns the task's resources.
fn validate_task_fields(task: &pb::TaskInfo, ctx: &LaunchContext<'_>) -> Result<Resources, String> {
    validate_id(&task.task_id.value)?;
    if (ctx.task_exists)(&task.task_id) {
        return Err(format!("Task has duplicate ID: {}", task.task_id.value));
    }
    if task.agent_id.value != ctx.agent_id.value {
        return Err(format!(
            "Task uses invalid agent {} while agent {} is expected",
            task.agent_id.value, ctx.agent_id.value
        ));
    }
    let negative = |d: Option<&pb::DurationInfo>| d.is_some_and(|d| d.nanoseconds < 0);
    if negative(
        task.kill_policy
            .as_ref()
            .and_then(|k| k.grace_period.as_ref()),
    ) {
        return Err("Task's 'kill_policy.grace_period' must be non-negative".to_string());
    }
    if negative(task.max_completion_time.as_ref()) {
        return Err("Task's `max_completion_time` must be non-negative".to_string());
    }
    if let Some(check) = &task.check {
        validate_check_info(check).map_err(|e| format!("Task uses invalid check: {e}"))?;
    }
    if let Some(check) = &task.health_check {
        validate_health_check(check).map_err(|e| format!("Task uses invalid health check: {e}"))?;
    }

    if task.resources.is_empty() {
        return Err("Task uses no resources".to_string());
    }
    let resources = validate_resources(&task.resources)
        .map_err(|e| format!("Task uses invalid resources: {e}"))?;
    validate_unique_persistence_id(&resources)
        .map_err(|e| format!("Task uses duplicate persistence ID: {e}"))?;
    validate_allocated_to_single_role(&resources)
        .and_then(|()| validate_framework_role(&resources, ctx))
        .map_err(|e| format!("Invalid task resources: {e}"))?;
    validate_revocable_mix(&resources)
        .map_err(|e| format!("Task mixes revocable and non-revocable resources: {e}"))?;

    if let Some(command) = &task.command {
        validate_command_info(command)
            .map_err(|e| format!("Task's `CommandInfo` is invalid: {e}"))?;
    }
    if let Some(container) = &task.container {
        validate_container_info(container)
            .map_err(|e| format!("Task's `ContainerInfo` is invalid: {e}"))?;
    }
    validate_limits(task, &resources)?;
    Ok(resources)
}

/// Mesos' `validateResourceLimits`, but for the agent's TASK_RESOURCE_LIMITS capability,
/// which the caller checks: only `cpus` and `mem`, each at least the task's request.
fn validate_limits(task: &pb::TaskInfo, resources: &Resources) -> Result<(), String> {
    let limit = |name: &str| {
        task.limits
            .iter()
            .rev()
            .find(|l| l.key.as_deref() == Some(name))
            .map(|l| l.value.map_or(0.0, |v| v.value))
    };
    if task
        .limits
        .iter()
        .any(|l| !matches!(l.key.as_deref(), Some("cpus" | "mem")))
    {
        return Err("Only cpus and mem may be included in a task's resource limits".to_string());
    }
    if let Some(cpus) = limit("cpus") {
        let Some(request) = resources.cpus() else {
            return Err(
                "When a CPU limit is specified, a CPU request must also be specified".to_string(),
            );
        };
        if cpus < request.as_f64() {
            return Err(
                "The cpu limit must be greater than or equal to the cpu request".to_string(),
            );
        }
    }
    if let Some(mem) = limit("mem") {
        let Some(request) = resources.mem() else {
            return Err(
                "When a memory limit is specified, a memory request must also be specified"
                    .to_string(),
            );
        };
        if mem.is_finite() && mem < request.as_f64() {
            return Err(
                "The memory limit must be greater than or equal to the memory request".to_string(),
            );
        }
    }
    Ok(())
}

/// Resources allocated to a single role must be allocated to one of the framework's.
fn validate_framework_role(resources: &Resources, ctx: &LaunchContext<'_>) -> Result<(), String> {
    let roles = framework_roles(ctx.framework);
    match resources.iter().find_map(|r| r.allocation_role()) {
        Some(role) if !roles.iter().any(|r| r == role) => Err(format!(
            "The resources are allocated to role '{role}', which is not a role of the framework"
        )),
        _ => Ok(()),
    }
}

/// Mesos' `executor::internal::validate`: the executor alone, its framework, its resources
/// and its compatibility with a known executor of the same ID. Returns the executor with
/// `framework_id` filled in (as the master does), its resources, and whether it is known.
fn validate_executor(
    executor: &pb::ExecutorInfo,
    ctx: &LaunchContext<'_>,
) -> Result<(pb::ExecutorInfo, Resources, bool), String> {
    use pb::executor_info::Type;
    let kind = executor
        .r#type
        .map(|t| Type::try_from(t).unwrap_or_default());
    match kind {
        Some(Type::Default) => {
            if executor.command.is_some() {
                return Err(
                    "'ExecutorInfo.command' must not be set for 'DEFAULT' executor".to_string(),
                );
            }
            if let Some(container) = &executor.container {
                if container.r#type() != pb::container_info::Type::Mesos {
                    return Err(
                        "'ExecutorInfo.container.type' must be 'MESOS' for 'DEFAULT' executor"
                            .to_string(),
                    );
                }
                if container.mesos.as_ref().is_some_and(|m| m.image.is_some()) {
                    return Err(
                        "'ExecutorInfo.container.mesos.image' must not be set for 'DEFAULT' \
                         executor"
                            .to_string(),
                    );
                }
            }
        }
        Some(Type::Custom) if executor.command.is_none() => {
            return Err("'ExecutorInfo.command' must be set for 'CUSTOM' executor".to_string())
        }
        _ => {}
    }
    validate_id(&executor.executor_id.value)?;
    if executor
        .shutdown_grace_period
        .as_ref()
        .is_some_and(|d| d.nanoseconds < 0)
    {
        return Err("ExecutorInfo's 'shutdown_grace_period' must be non-negative".to_string());
    }
    if let Some(command) = &executor.command {
        validate_command_info(command)
            .map_err(|e| format!("Executor's `CommandInfo` is invalid: {e}"))?;
    }
    if let Some(container) = &executor.container {
        validate_container_info(container)
            .map_err(|e| format!("Executor's `ContainerInfo` is invalid: {e}"))?;
    }

    let mut normalized = executor.clone();
    let framework_id = normalized
        .framework_id
        .get_or_insert_with(|| ctx.framework_id.clone());
    if framework_id.value != ctx.framework_id.value {
        return Err(format!(
            "ExecutorInfo has an invalid FrameworkID (Actual: {} vs Expected: {})",
            framework_id.value, ctx.framework_id.value
        ));
    }

    let resources = validate_resources(&executor.resources)
        .map_err(|e| format!("Executor uses invalid resources: {e}"))?;
    validate_unique_persistence_id(&resources)
        .map_err(|e| format!("Executor uses duplicate persistence ID: {e}"))?;
    validate_allocated_to_single_role(&resources)
        .and_then(|()| validate_framework_role(&resources, ctx))
        .map_err(|e| format!("Invalid executor resources: {e}"))?;
    validate_revocable_mix(&resources)
        .map_err(|e| format!("Executor mixes revocable and non-revocable resources: {e}"))?;

    let known = (ctx.known_executor)(&executor.executor_id);
    if let Some(known) = &known {
        if *known != normalized {
            let line = "-".repeat(60);
            return Err(format!(
                "ExecutorInfo is not compatible with existing ExecutorInfo with same \
                 ExecutorID.\n{line}\nExisting ExecutorInfo:\n{known:?}\n{line}\n\
                 ExecutorInfo:\n{normalized:?}\n{line}\n"
            ));
        }
    }
    Ok((normalized, resources, known.is_some()))
}

fn is_docker(container: Option<&pb::ContainerInfo>) -> bool {
    container.is_some_and(|c| c.r#type() == pb::container_info::Type::Docker)
}

/// `container.linux_info.share_cgroups`, when set.
fn share_cgroups(container: Option<&pb::ContainerInfo>) -> Option<bool> {
    container?.linux_info.as_ref()?.share_cgroups
}

/// Writes megabytes as stout writes `Bytes`: in the largest unit that loses nothing.
fn megabytes(mb: f64) -> String {
    let bytes = (mb * 1024.0 * 1024.0) as u64;
    let units = ["B", "KB", "MB", "GB", "TB"];
    let mut value = bytes;
    let mut unit = 0;
    while value != 0 && value % 1024 == 0 && unit + 1 < units.len() {
        value /= 1024;
        unit += 1;
    }
    format!("{value}{}", units[unit])
}

#[cfg(test)]
mod tests {
    use super::super::common::tests::{ports, scalar, volume};
    use super::super::framework::tests::multi_role;
    use super::*;
    use proptest::prelude::*;
    use prost::Message;

    const ROLE: &str = "eng";

    struct Fixture {
        framework_id: pb::FrameworkId,
        framework: pb::FrameworkInfo,
        agent_id: pb::AgentId,
        available: Resources,
        existing: Vec<String>,
        known: Option<pb::ExecutorInfo>,
    }

    impl Fixture {
        fn new() -> Fixture {
            Fixture {
                framework_id: pb::FrameworkId { value: "f1".into() },
                framework: multi_role(&[ROLE, "other"]),
                agent_id: pb::AgentId { value: "a1".into() },
                available: Resources::try_from_protos(&[
                    scalar("cpus", 4.0, Some(ROLE)),
                    scalar("mem", 1024.0, Some(ROLE)),
                    scalar("disk", 1024.0, Some(ROLE)),
                    ports(31000, 32000, ROLE),
                ])
                .unwrap(),
                existing: vec!["running".into()],
                known: None,
            }
        }

        /// Runs `check` with a launch context over this fixture.
        fn with_context<R>(&self, check: impl FnOnce(&LaunchContext<'_>) -> R) -> R {
            let exists = |id: &pb::TaskId| self.existing.contains(&id.value);
            let known = |id: &pb::ExecutorId| {
                self.known
                    .clone()
                    .filter(|k| k.executor_id.value == id.value)
            };
            check(&LaunchContext {
                framework_id: &self.framework_id,
                framework: &self.framework,
                agent_id: &self.agent_id,
                available: &self.available,
                task_exists: &exists,
                known_executor: &known,
            })
        }

        fn task(&self, task: &pb::TaskInfo) -> Result<Resources, String> {
            self.with_context(|ctx| validate_task(task, ctx))
        }

        fn group(
            &self,
            executor: &pb::ExecutorInfo,
            tasks: Vec<pb::TaskInfo>,
        ) -> Result<Resources, String> {
            self.with_context(|ctx| {
                validate_task_group(executor, &pb::TaskGroupInfo { tasks }, ctx)
            })
        }
    }

    fn command_task(id: &str) -> pb::TaskInfo {
        pb::TaskInfo {
            name: "t".into(),
            task_id: pb::TaskId { value: id.into() },
            agent_id: pb::AgentId { value: "a1".into() },
            resources: vec![
                scalar("cpus", 1.0, Some(ROLE)),
                scalar("mem", 128.0, Some(ROLE)),
            ],
            command: Some(pb::CommandInfo {
                value: Some("sleep 10".into()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn custom_executor(id: &str) -> pb::ExecutorInfo {
        pb::ExecutorInfo {
            executor_id: pb::ExecutorId { value: id.into() },
            command: Some(pb::CommandInfo {
                value: Some("./exec".into()),
                ..Default::default()
            }),
            resources: vec![
                scalar("cpus", 0.5, Some(ROLE)),
                scalar("mem", 64.0, Some(ROLE)),
            ],
            ..Default::default()
        }
    }

    fn default_executor(id: &str) -> pb::ExecutorInfo {
        pb::ExecutorInfo {
            r#type: Some(pb::executor_info::Type::Default as i32),
            executor_id: pb::ExecutorId { value: id.into() },
            resources: vec![
                scalar("cpus", 0.1, Some(ROLE)),
                scalar("mem", 32.0, Some(ROLE)),
                scalar("disk", 32.0, Some(ROLE)),
            ],
            ..Default::default()
        }
    }

    fn group_task(id: &str) -> pb::TaskInfo {
        pb::TaskInfo {
            command: None,
            ..command_task(id)
        }
    }

    fn expect_err(result: Result<Resources, String>, needle: &str) {
        let err = result.expect_err(needle);
        assert!(err.contains(needle), "{err:?} does not contain {needle:?}");
    }

    #[test]
    fn valid_command_task_consumes_its_resources() {
        let f = Fixture::new();
        let used = f.task(&command_task("t1")).unwrap();
        assert_eq!(
            used.to_string(),
            "cpus(allocated: eng):1; mem(allocated: eng):128"
        );
    }

    #[test]
    fn task_id_rules() {
        let f = Fixture::new();
        expect_err(f.task(&command_task("")), "ID must not be empty");
        expect_err(
            f.task(&command_task("a/b")),
            "'a/b' contains invalid characters",
        );
        expect_err(f.task(&command_task("..")), "'..' is disallowed");
        expect_err(
            f.task(&command_task("running")),
            "Task has duplicate ID: running",
        );
    }

    #[test]
    fn agent_must_match() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.agent_id.value = "a2".into();
        expect_err(
            f.task(&task),
            "Task uses invalid agent a2 while agent a1 is expected",
        );
    }

    #[test]
    fn durations_non_negative() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.kill_policy = Some(pb::KillPolicy {
            grace_period: Some(pb::DurationInfo { nanoseconds: -1 }),
        });
        expect_err(
            f.task(&task),
            "Task's 'kill_policy.grace_period' must be non-negative",
        );
        let mut task = command_task("t1");
        task.max_completion_time = Some(pb::DurationInfo { nanoseconds: -5 });
        expect_err(
            f.task(&task),
            "Task's `max_completion_time` must be non-negative",
        );
    }

    #[test]
    fn checks_are_validated() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.health_check = Some(Box::new(pb::HealthCheck::default()));
        expect_err(
            f.task(&task),
            "Task uses invalid health check: HealthCheck must specify",
        );
        let mut task = command_task("t1");
        task.check = Some(Box::new(pb::CheckInfo::default()));
        expect_err(
            f.task(&task),
            "Task uses invalid check: CheckInfo must specify 'type'",
        );
    }

    #[test]
    fn resources_rules() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.resources.clear();
        expect_err(f.task(&task), "Task uses no resources");

        let mut task = command_task("t1");
        task.resources.push(scalar("gpus", 0.5, Some(ROLE)));
        expect_err(
            f.task(&task),
            "Task uses invalid resources: Invalid 'gpus' resource",
        );

        let mut task = command_task("t1");
        task.resources = vec![scalar("cpus", 1.0, None)];
        expect_err(
            f.task(&task),
            "Invalid task resources: The resources are not allocated to a role",
        );

        let mut task = command_task("t1");
        task.resources.push(scalar("disk", 1.0, Some("other")));
        expect_err(f.task(&task), "only one allocation role is allowed");

        let mut task = command_task("t1");
        task.resources = vec![scalar("cpus", 1.0, Some("stranger"))];
        expect_err(f.task(&task), "which is not a role of the framework");

        let mut task = command_task("t1");
        task.resources = vec![volume("v1", 1.0, ROLE), volume("v1", 2.0, ROLE)];
        expect_err(
            f.task(&task),
            "Task uses duplicate persistence ID: Persistence ID 'v1'",
        );

        let mut task = command_task("t1");
        let mut revocable = scalar("cpus", 1.0, Some(ROLE));
        revocable.revocable = Some(pb::resource::RevocableInfo {});
        task.resources.push(revocable);
        expect_err(
            f.task(&task),
            "Task mixes revocable and non-revocable resources",
        );
    }

    #[test]
    fn containers_are_validated() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.container = Some(Box::new(pb::ContainerInfo {
            r#type: pb::container_info::Type::Docker as i32,
            ..Default::default()
        }));
        expect_err(
            f.task(&task),
            "Task's `ContainerInfo` is invalid: DockerInfo 'docker' is not set",
        );
        let mut executor = custom_executor("e1");
        executor.container = task.container.take().map(|c| *c);
        task.command = None;
        task.executor = Some(Box::new(executor));
        expect_err(f.task(&task), "Executor's `ContainerInfo` is invalid: ");
    }

    #[test]
    fn resource_limits() {
        let f = Fixture::new();
        let limit = |key: &str, value: f64| pb::task_info::LimitsEntry {
            key: Some(key.into()),
            value: Some(pb::value::Scalar { value }),
        };
        let with = |limits: Vec<pb::task_info::LimitsEntry>| {
            let mut task = command_task("t1");
            task.limits = limits;
            f.task(&task)
        };
        assert!(with(vec![limit("cpus", 2.0), limit("mem", f64::INFINITY)]).is_ok());
        expect_err(
            with(vec![limit("disk", 1.0)]),
            "Only cpus and mem may be included in a task's resource limits",
        );
        expect_err(
            with(vec![limit("cpus", 0.5)]),
            "The cpu limit must be greater than or equal to the cpu request",
        );
        expect_err(
            with(vec![limit("mem", 64.0)]),
            "The memory limit must be greater than or equal to the memory request",
        );
        let mut task = command_task("t1");
        task.resources = vec![scalar("mem", 64.0, Some(ROLE))];
        task.limits = vec![limit("cpus", 1.0)];
        expect_err(
            f.task(&task),
            "When a CPU limit is specified, a CPU request must also be specified",
        );
    }

    #[test]
    fn must_fit_available() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.resources = vec![scalar("cpus", 8.0, Some(ROLE))];
        expect_err(
            f.task(&task),
            "Total resources cpus(allocated: eng):8 required by task and its executor is more \
             than available",
        );
    }

    #[test]
    fn command_xor_executor() {
        let f = Fixture::new();
        let mut neither = command_task("t1");
        neither.command = None;
        expect_err(
            f.task(&neither),
            "Task should have at least one (but not both) of CommandInfo or ExecutorInfo present",
        );
        let mut both = command_task("t1");
        both.executor = Some(Box::new(custom_executor("e1")));
        expect_err(f.task(&both), "at least one (but not both)");
    }

    #[test]
    fn new_executor_resources_are_counted() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.command = None;
        task.executor = Some(Box::new(custom_executor("e1")));
        let used = f.task(&task).unwrap();
        assert_eq!(used.cpus().unwrap().to_string(), "1.5");

        let mut f = Fixture::new();
        let mut known = custom_executor("e1");
        known.framework_id = Some(f.framework_id.clone());
        f.known = Some(known);
        let used = f.task(&task).unwrap();
        assert_eq!(used.cpus().unwrap().to_string(), "1");
    }

    #[test]
    fn known_executor_must_be_identical() {
        let mut f = Fixture::new();
        let mut known = custom_executor("e1");
        known.framework_id = Some(f.framework_id.clone());
        known.name = Some("old".into());
        f.known = Some(known);
        let mut task = command_task("t1");
        task.command = None;
        task.executor = Some(Box::new(custom_executor("e1")));
        expect_err(
            f.task(&task),
            "ExecutorInfo is not compatible with existing ExecutorInfo with same ExecutorID.",
        );
    }

    #[test]
    fn executor_rules() {
        let f = Fixture::new();
        let with = |executor: pb::ExecutorInfo| {
            let mut task = command_task("t1");
            task.command = None;
            task.executor = Some(Box::new(executor));
            f.task(&task)
        };
        let mut e = custom_executor("e1");
        e.framework_id = Some(pb::FrameworkId { value: "f2".into() });
        expect_err(
            with(e),
            "ExecutorInfo has an invalid FrameworkID (Actual: f2 vs Expected: f1)",
        );
        expect_err(
            with(custom_executor("a/b")),
            "'a/b' contains invalid characters",
        );

        let mut e = custom_executor("e1");
        e.command = None;
        expect_err(with(e), "'ExecutorInfo.command' must be set");

        let mut e = custom_executor("e1");
        e.r#type = Some(pb::executor_info::Type::Custom as i32);
        e.command = None;
        expect_err(
            with(e),
            "'ExecutorInfo.command' must be set for 'CUSTOM' executor",
        );

        expect_err(
            with(default_executor("e1")),
            "'ExecutorInfo.type' must be 'CUSTOM'",
        );

        let mut e = default_executor("e1");
        e.command = Some(pb::CommandInfo::default());
        expect_err(
            with(e),
            "'ExecutorInfo.command' must not be set for 'DEFAULT' executor",
        );

        let mut e = custom_executor("e1");
        e.shutdown_grace_period = Some(pb::DurationInfo { nanoseconds: -1 });
        expect_err(
            with(e),
            "ExecutorInfo's 'shutdown_grace_period' must be non-negative",
        );

        let mut e = custom_executor("e1");
        e.resources = vec![scalar("cpus", 1.0, None)];
        expect_err(
            with(e),
            "Invalid executor resources: The resources are not allocated",
        );

        let mut e = custom_executor("e1");
        let mut shared = volume("v1", 1.0, ROLE);
        shared.shared = Some(pb::resource::SharedInfo {});
        e.resources.push(shared);
        expect_err(with(e), "should not contain any shared resources");
    }

    #[test]
    fn task_and_executor_must_not_overlap() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.command = None;
        task.resources.push(ports(31000, 31010, ROLE));
        let mut e = custom_executor("e1");
        e.resources.push(ports(31005, 31020, ROLE));
        task.executor = Some(Box::new(e));
        expect_err(
            f.task(&task),
            "There are overlapping resources in the task resources",
        );
    }

    #[test]
    fn share_cgroups_false_only_in_groups() {
        let f = Fixture::new();
        let mut task = command_task("t1");
        task.container = Some(Box::new(pb::ContainerInfo {
            r#type: pb::container_info::Type::Mesos as i32,
            linux_info: Some(pb::LinuxInfo {
                share_cgroups: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }));
        expect_err(
            f.task(&task),
            "Only tasks in a task group may have 'share_cgroups' set to 'false'",
        );
    }

    #[test]
    fn valid_group_consumes_tasks_and_new_executor() {
        let f = Fixture::new();
        let used = f
            .group(
                &default_executor("e1"),
                vec![group_task("t1"), group_task("t2")],
            )
            .unwrap();
        assert_eq!(used.cpus().unwrap().to_string(), "2.1");
        assert_eq!(used.mem().unwrap().to_string(), "288");
    }

    #[test]
    fn group_rules() {
        let f = Fixture::new();
        let executor = default_executor("e1");
        expect_err(
            f.group(&executor, vec![]),
            "Task group must have at least one task",
        );
        expect_err(
            f.group(&executor, vec![group_task("t1"), group_task("t1")]),
            "Task 't1' is invalid: Task has duplicate ID: t1",
        );
        expect_err(
            f.group(&executor, vec![group_task("running")]),
            "Task 'running' is invalid: Task has duplicate ID: running",
        );

        let mut docker = group_task("t1");
        docker.container = Some(Box::new(pb::ContainerInfo {
            r#type: pb::container_info::Type::Docker as i32,
            docker: Some(pb::container_info::DockerInfo {
                image: "busybox".into(),
                ..Default::default()
            }),
            ..Default::default()
        }));
        expect_err(
            f.group(&executor, vec![docker]),
            "Docker ContainerInfo is not supported on the task",
        );

        let mut limited = group_task("t1");
        limited.limits = vec![pb::task_info::LimitsEntry {
            key: Some("cpus".into()),
            value: Some(pb::value::Scalar { value: 2.0 }),
        }];
        expect_err(
            f.group(&executor, vec![limited]),
            "Resource limits may only be set for tasks within a task group",
        );

        let mut other = group_task("t1");
        other.executor = Some(Box::new(default_executor("e2")));
        expect_err(
            f.group(&executor, vec![other]),
            "The `ExecutorInfo` of task 't1' is different from executor 'e1'",
        );
        let mut same = group_task("t1");
        same.executor = Some(Box::new(executor.clone()));
        assert!(f.group(&executor, vec![same]).is_ok());
    }

    #[test]
    fn group_executor_rules() {
        let f = Fixture::new();
        let tasks = || vec![group_task("t1")];

        let mut untyped = default_executor("e1");
        untyped.r#type = None;
        expect_err(
            f.group(&untyped, tasks()),
            "'ExecutorInfo.type' must be set",
        );

        let mut unknown = default_executor("e1");
        unknown.r#type = Some(pb::executor_info::Type::Unknown as i32);
        expect_err(f.group(&unknown, tasks()), "Unknown executor type");

        let mut few_cpus = default_executor("e1");
        few_cpus.resources[0] = scalar("cpus", 0.001, Some(ROLE));
        expect_err(
            f.group(&few_cpus, tasks()),
            "Executor 'e1' uses less CPUs (0.001) than the minimum required (0.01)",
        );

        let mut no_mem = default_executor("e1");
        no_mem.resources.remove(1);
        expect_err(
            f.group(&no_mem, tasks()),
            "Executor 'e1' uses less memory (None) than the minimum required (32MB)",
        );

        let mut little_mem = default_executor("e1");
        little_mem.resources[1] = scalar("mem", 16.5, Some(ROLE));
        expect_err(f.group(&little_mem, tasks()), "uses less memory (16896KB)");

        let mut no_disk = default_executor("e1");
        no_disk.resources.remove(2);
        expect_err(f.group(&no_disk, tasks()), "Executor 'e1' uses no disk");

        let mut too_big = default_executor("e1");
        too_big.resources[0] = scalar("cpus", 10.0, Some(ROLE));
        expect_err(
            f.group(&too_big, tasks()),
            "required by task group and its executor are more than available",
        );

        let mut overlapping = default_executor("e1");
        overlapping.resources.push(ports(31000, 31001, ROLE));
        let mut task = group_task("t1");
        task.resources.push(ports(31001, 31002, ROLE));
        expect_err(
            f.group(&overlapping, vec![task]),
            "There are overlapping resources in the task group's task resources",
        );
    }

    #[test]
    fn group_share_cgroups() {
        let f = Fixture::new();
        let linux = |share: bool| {
            Some(pb::ContainerInfo {
                r#type: pb::container_info::Type::Mesos as i32,
                linux_info: Some(pb::LinuxInfo {
                    share_cgroups: Some(share),
                    ..Default::default()
                }),
                ..Default::default()
            })
        };
        let mut executor = default_executor("e1");
        executor.container = linux(true);
        expect_err(
            f.group(&executor, vec![group_task("t1")]),
            "The 'share_cgroups' field cannot be set to 'true' on executor containers",
        );

        let mut isolated = group_task("t2");
        isolated.container = linux(false).map(Box::new);
        expect_err(
            f.group(
                &default_executor("e1"),
                vec![group_task("t1"), isolated.clone()],
            ),
            "the value of 'share_cgroups' must be the same for all tasks",
        );
        assert!(f.group(&default_executor("e1"), vec![isolated]).is_ok());
    }

    #[test]
    fn byte_formatting() {
        let mb = megabytes;
        assert_eq!(mb(32.0), "32MB");
        assert_eq!(mb(1024.0), "1GB");
        assert_eq!(mb(0.0), "0B");
        assert_eq!(mb(16.5), "16896KB");
    }

    proptest! {
        #[test]
        fn validate_task_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            if let Ok(task) = pb::TaskInfo::decode(bytes.as_slice()) {
                let f = Fixture::new();
                let _ = f.task(&task);
                if let Some(executor) = task.executor.clone() {
                    let _ = f.group(&executor, vec![task]);
                }
            }
        }

        #[test]
        fn validate_task_never_panics_on_shapes(
            id in "[a-z./]{0,4}",
            cpus in -2.0f64..10.0,
            with_command in any::<bool>(),
            with_executor in any::<bool>(),
            grace in any::<i64>(),
            role in prop_oneof![Just(None), Just(Some(ROLE)), Just(Some("other")), Just(Some("x"))],
        ) {
            let f = Fixture::new();
            let mut task = command_task(&id);
            task.resources = vec![scalar("cpus", cpus, role)];
            if !with_command {
                task.command = None;
            }
            if with_executor {
                task.executor = Some(Box::new(custom_executor(&id)));
            }
            task.kill_policy = Some(pb::KillPolicy {
                grace_period: Some(pb::DurationInfo { nanoseconds: grace }),
            });
            let _ = f.task(&task);
            let _ = f.group(&default_executor(&id), vec![task]);
        }
    }
}
