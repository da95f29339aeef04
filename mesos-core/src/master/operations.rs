//! Offer operations that change resources in place: RESERVE, UNRESERVE, CREATE and
//! DESTROY, applied to an ACCEPT's offered resources, the allocator and the agent.

use super::events;
use super::state::MasterState;
use super::validation::{
    framework_roles, validate_create, validate_destroy, validate_reserve, validate_unreserve,
};
use crate::proto::mesos::internal::{agent_event, AgentEvent};
use crate::proto::mesos::v1::scheduler::{event, Event};
use crate::proto::mesos::v1::{offer, OperationState, OperationStatus, Resource as ProtoResource};
use crate::resources::Resources;

/// `resources` without persistent-volume information: what a CREATE consumes and a
/// DESTROY gives back.
pub(super) fn without_volumes(resources: &[ProtoResource]) -> Vec<ProtoResource> {
    resources
        .iter()
        .cloned()
        .map(|mut r| {
            if let Some(disk) = r.disk.as_mut() {
                disk.persistence = None;
                disk.volume = None;
                if disk.source.is_none() {
                    r.disk = None;
                }
            }
            r
        })
        .collect()
}

/// Resources from protos, or the reason they are invalid.
fn parse(protos: &[ProtoResource]) -> Result<Resources, String> {
    Resources::try_from_protos(protos).map_err(|e| format!("Invalid resources: {e}"))
}

impl MasterState {
    /// Applies one RESERVE / UNRESERVE / CREATE / DESTROY of an ACCEPT to `available`.
    /// An invalid operation is skipped (with OPERATION_ERROR when it asked for feedback).
    pub(crate) fn apply_resource_operation(
        &mut self,
        id: &str,
        agent: &str,
        operation: &offer::Operation,
        available: &mut Resources,
    ) {
        let result = self
            .convert(id, agent, operation, available)
            .and_then(|(from, to)| {
                self.allocator
                    .update_allocation(
                        &id.to_string().into(),
                        &agent.to_string().into(),
                        &from,
                        &to,
                    )
                    .map_err(|e| e.to_string())?;
                Ok((from, to))
            });
        let state = match result {
            Ok((from, to)) => {
                *available -= &from;
                *available += to.clone();
                let mut from_plain = from;
                from_plain.unallocate();
                let mut to_plain = to;
                to_plain.unallocate();
                if let Some(record) = self.agents.get_mut(agent) {
                    record.total = &(&record.total - &from_plain) + &to_plain;
                    let checkpoint = AgentEvent {
                        checkpoint_resources: Some(agent_event::CheckpointResources {
                            total: record.total.to_protos(),
                        }),
                        ..events::agent_event(agent_event::Type::CheckpointResources)
                    };
                    self.send_to_agent(agent, checkpoint);
                }
                (OperationState::OperationFinished, None)
            }
            Err(reason) => (OperationState::OperationError, Some(reason)),
        };
        if let Some(operation_id) = &operation.id {
            let status = OperationStatus {
                operation_id: Some(operation_id.clone()),
                state: state.0 as i32,
                message: state.1,
                agent_id: Some(events::agent_id(agent)),
                ..Default::default()
            };
            let event = Event {
                update_operation_status: Some(event::UpdateOperationStatus { status }),
                ..events::event(event::Type::UpdateOperationStatus)
            };
            self.send_to_framework(id, event);
        }
    }

    /// An agent's total (checkpointed) resources.
    fn agent_total(&self, agent: &str) -> Resources {
        self.agents
            .get(agent)
            .map(|a| a.total.clone())
            .unwrap_or_default()
    }

    /// What an operation takes out of the offered resources and what it puts back.
    fn convert(
        &self,
        id: &str,
        agent: &str,
        operation: &offer::Operation,
        available: &Resources,
    ) -> Result<(Resources, Resources), String> {
        let framework = &self.frameworks[id].info;
        let roles = framework_roles(framework);
        let principal = framework.principal.as_deref();
        let kind = offer::operation::Type::try_from(operation.r#type.unwrap_or(0))
            .unwrap_or(offer::operation::Type::Unknown);
        let (from, to) = match kind {
            offer::operation::Type::Reserve => {
                let reserve = operation
                    .reserve
                    .as_ref()
                    .ok_or("Expecting 'reserve' to be present")?;
                let to = validate_reserve(&reserve.resources, &roles, principal)?;
                let from = to.pop_reservation().map_err(|e| e.to_string())?;
                (from, to)
            }
            offer::operation::Type::Unreserve => {
                let unreserve = operation
                    .unreserve
                    .as_ref()
                    .ok_or("Expecting 'unreserve' to be present")?;
                let from = validate_unreserve(&unreserve.resources)?;
                let to = from.pop_reservation().map_err(|e| e.to_string())?;
                (from, to)
            }
            offer::operation::Type::Create => {
                let create = operation
                    .create
                    .as_ref()
                    .ok_or("Expecting 'create' to be present")?;
                let to = validate_create(
                    &create.volumes,
                    &self.agent_total(agent),
                    principal,
                    framework,
                )?;
                let from = parse(&without_volumes(&create.volumes))?;
                (from, to)
            }
            offer::operation::Type::Destroy => {
                let destroy = operation
                    .destroy
                    .as_ref()
                    .ok_or("Expecting 'destroy' to be present")?;
                let from = validate_destroy(
                    &destroy.volumes,
                    &self.agent_total(agent),
                    &self
                        .agents
                        .get(agent)
                        .map(|a| self.agent_used(a))
                        .unwrap_or_default(),
                )?;
                let to = parse(&without_volumes(&destroy.volumes))?;
                (from, to)
            }
            _ => return Err("Unsupported operation".into()),
        };
        if !available.contains(&from) {
            return Err(format!(
                "Invalid {}: {from} is not available in the offered resources {available}",
                kind.as_str_name()
            ));
        }
        Ok((from, to))
    }
}

/// Gives every resource of `operation` that names no allocation role the offers' `role`,
/// as Mesos does so that schedulers written before MULTI_ROLE (which copy resources
/// without `allocation_info`) keep working.
pub(super) fn inject_allocation_role(operation: &mut offer::Operation, role: &str) {
    let inject = |resources: &mut Vec<ProtoResource>| {
        for resource in resources {
            if resource.allocation_info.is_none() {
                resource.allocation_info =
                    Some(crate::proto::mesos::v1::resource::AllocationInfo {
                        role: Some(role.to_string()),
                    });
            }
        }
    };
    let inject_executor = |executor: &mut Option<Box<crate::proto::mesos::v1::ExecutorInfo>>| {
        if let Some(executor) = executor {
            inject(&mut executor.resources);
        }
    };
    if let Some(launch) = &mut operation.launch {
        for task in &mut launch.task_infos {
            inject(&mut task.resources);
            inject_executor(&mut task.executor);
        }
    }
    if let Some(group) = &mut operation.launch_group {
        inject(&mut group.executor.resources);
        for task in &mut group.task_group.tasks {
            inject(&mut task.resources);
            inject_executor(&mut task.executor);
        }
    }
    if let Some(reserve) = &mut operation.reserve {
        inject(&mut reserve.source);
        inject(&mut reserve.resources);
    }
    if let Some(unreserve) = &mut operation.unreserve {
        inject(&mut unreserve.resources);
    }
    if let Some(create) = &mut operation.create {
        inject(&mut create.volumes);
    }
    if let Some(destroy) = &mut operation.destroy {
        inject(&mut destroy.volumes);
    }
}
