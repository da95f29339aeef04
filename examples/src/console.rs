//! The lines the example frameworks print about what happens to them.

use mesos_core::proto::mesos::v1::{FrameworkId, MasterInfo, TaskStatus};

/// `Registered with the master at host:port as framework <id>`.
pub fn registered(id: &FrameworkId, master: &MasterInfo) -> String {
    format!(
        "Registered with the master at {}:{} as framework {}",
        master.hostname.as_deref().unwrap_or("?"),
        master.port,
        id.value
    )
}

/// `Task <id> is in state <STATE>`, with the update's message in parentheses if it has one.
pub fn task_state(status: &TaskStatus) -> String {
    let message = status
        .message
        .as_deref()
        .filter(|m| !m.is_empty())
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    format!(
        "Task {} is in state {}{message}",
        status.task_id.value,
        status.state().as_str_name()
    )
}
