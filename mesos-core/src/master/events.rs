//! Builders of the messages the master sends: scheduler events, agent events and the
//! status updates the master itself generates.

use std::time::{SystemTime, UNIX_EPOCH};

use crate::proto::mesos::internal::{agent_event, AgentEvent};
use crate::proto::mesos::v1::scheduler::{event, Event};
use crate::proto::mesos::v1::{
    task_status, AgentId, ExecutorId, FrameworkId, Offer, OfferId, TaskId, TaskState, TaskStatus,
};

/// Seconds since the epoch, as Mesos timestamps are.
pub(crate) fn wall_clock() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Whether a task in `state` (a `TaskState` value) is done for good.
pub fn is_terminal(state: i32) -> bool {
    matches!(
        TaskState::try_from(state),
        Ok(TaskState::TaskFinished
            | TaskState::TaskFailed
            | TaskState::TaskKilled
            | TaskState::TaskError
            | TaskState::TaskLost
            | TaskState::TaskDropped
            | TaskState::TaskGone
            | TaskState::TaskGoneByOperator)
    )
}

/// An event of `kind` with nothing else set.
pub(crate) fn event(kind: event::Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// An UPDATE event carrying `status`.
pub(crate) fn update(status: TaskStatus) -> Event {
    Event {
        update: Some(event::Update { status }),
        ..event(event::Type::Update)
    }
}

/// An OFFERS event.
pub(crate) fn offers(offers: Vec<Offer>) -> Event {
    Event {
        offers: Some(event::Offers { offers }),
        ..event(event::Type::Offers)
    }
}

/// A RESCIND event for one offer.
pub(crate) fn rescind(offer_id: &str) -> Event {
    Event {
        rescind: Some(event::Rescind {
            offer_id: OfferId {
                value: offer_id.to_string(),
            },
        }),
        ..event(event::Type::Rescind)
    }
}

/// An ERROR event: the framework's subscription ends.
pub(crate) fn error(message: impl Into<String>) -> Event {
    Event {
        error: Some(event::Error {
            message: message.into(),
        }),
        ..event(event::Type::Error)
    }
}

/// A status update the master generates (source MASTER, no uuid: it needs no
/// acknowledgement).
pub(crate) fn master_status(
    task_id: &str,
    agent_id: Option<&str>,
    state: TaskState,
    reason: Option<task_status::Reason>,
    message: impl Into<String>,
) -> TaskStatus {
    TaskStatus {
        task_id: TaskId {
            value: task_id.to_string(),
        },
        state: state as i32,
        message: Some(message.into()),
        source: Some(task_status::Source::Master as i32),
        reason: reason.map(|r| r as i32),
        agent_id: agent_id.map(|a| AgentId {
            value: a.to_string(),
        }),
        timestamp: Some(wall_clock()),
        ..Default::default()
    }
}

/// An agent event of `kind` with nothing else set.
pub(crate) fn agent_event(kind: agent_event::Type) -> AgentEvent {
    AgentEvent {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

/// A KILL_TASK agent event.
pub(crate) fn kill_task(framework: &str, task: &str) -> AgentEvent {
    AgentEvent {
        kill_task: Some(agent_event::KillTask {
            framework_id: framework_id(framework),
            task_id: TaskId {
                value: task.to_string(),
            },
            kill_policy: None,
        }),
        ..agent_event(agent_event::Type::KillTask)
    }
}

/// A SHUTDOWN_FRAMEWORK agent event.
pub(crate) fn shutdown_framework(framework: &str) -> AgentEvent {
    AgentEvent {
        shutdown_framework: Some(agent_event::ShutdownFramework {
            framework_id: framework_id(framework),
        }),
        ..agent_event(agent_event::Type::ShutdownFramework)
    }
}

/// A SHUTDOWN_EXECUTOR agent event.
pub(crate) fn shutdown_executor(framework: &str, executor: &ExecutorId) -> AgentEvent {
    AgentEvent {
        shutdown_executor: Some(agent_event::ShutdownExecutor {
            framework_id: framework_id(framework),
            executor_id: executor.clone(),
        }),
        ..agent_event(agent_event::Type::ShutdownExecutor)
    }
}

/// A SHUTDOWN agent event: the agent must stop.
pub(crate) fn shutdown_agent(message: impl Into<String>) -> AgentEvent {
    AgentEvent {
        shutdown: Some(agent_event::Shutdown {
            message: Some(message.into()),
        }),
        ..agent_event(agent_event::Type::Shutdown)
    }
}

/// A `FrameworkID` of `value`.
pub(crate) fn framework_id(value: &str) -> FrameworkId {
    FrameworkId {
        value: value.to_string(),
    }
}

/// An `AgentID` of `value`.
pub(crate) fn agent_id(value: &str) -> AgentId {
    AgentId {
        value: value.to_string(),
    }
}
