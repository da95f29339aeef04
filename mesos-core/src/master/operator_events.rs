//! The operator API's event stream (`SUBSCRIBE` on `/api/v1`): subscribers get
//! SUBSCRIBED with the whole state, then TASK_ADDED, TASK_UPDATED, AGENT_ADDED,
//! AGENT_REMOVED and FRAMEWORK_ADDED / UPDATED / REMOVED as they happen, and a HEARTBEAT
//! every heartbeat interval.
//!
//! The state machine calls the `operator_*` hooks here where those things happen; they
//! fan the event out to every subscriber and forget those whose client went away. The
//! same per-master operator data holds the machines under maintenance and the agents
//! being drained, which [`MasterState::operator_tick`] finishes draining.

use std::collections::BTreeSet;
use std::time::Instant;

use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use super::state::MasterState;
use crate::proto::mesos::v1::master::{event, Event};
use crate::proto::mesos::v1::{DrainState, FrameworkId, FrameworkInfo, Task, TaskStatus};

/// A machine as the maintenance schedule names it: (hostname, ip).
pub(crate) type MachineKey = (Option<String>, Option<String>);

/// What the operator API keeps in the master: event subscribers, machines under
/// maintenance, agents being drained.
#[derive(Debug, Default)]
pub(crate) struct OperatorData {
    /// Open SUBSCRIBE streams.
    pub(crate) subscribers: Vec<UnboundedSender<Event>>,
    /// When subscribers get their next HEARTBEAT.
    pub(crate) next_heartbeat: Option<Instant>,
    /// Machines in DOWN mode (START_MAINTENANCE), not persisted across failovers.
    pub(crate) down_machines: BTreeSet<MachineKey>,
    /// Agents draining (DRAIN_AGENT) until their last task ends.
    pub(crate) draining: BTreeSet<String>,
    /// Inverse offers for the machines the maintenance schedule drains.
    pub(crate) inverse_offers: super::inverse_offers::InverseOffers,
}

/// An event of `kind` with nothing else set.
fn event(kind: event::Type) -> Event {
    Event {
        r#type: Some(kind as i32),
        ..Default::default()
    }
}

impl MasterState {
    /// A new operator subscription: its receiver starts with SUBSCRIBED (the whole
    /// state) and a HEARTBEAT.
    pub fn subscribe_operator(&mut self, now: Instant) -> UnboundedReceiver<Event> {
        let (tx, rx) = unbounded_channel();
        let subscribed = Event {
            subscribed: Some(event::Subscribed {
                get_state: Some(self.get_state()),
                heartbeat_interval_seconds: Some(
                    self.config.options.heartbeat_interval.as_secs_f64(),
                ),
            }),
            ..event(event::Type::Subscribed)
        };
        let _ = tx.send(subscribed);
        let _ = tx.send(event(event::Type::Heartbeat));
        self.operator.subscribers.push(tx);
        if self.operator.next_heartbeat.is_none() {
            self.operator.next_heartbeat = Some(now + self.config.options.heartbeat_interval);
        }
        rx
    }

    /// Sends `event` to every operator subscriber, dropping those that went away.
    fn notify_operators(&mut self, event: Event) {
        self.operator
            .subscribers
            .retain(|s| s.send(event.clone()).is_ok());
    }

    /// TASK_ADDED.
    pub(crate) fn operator_task_added(&mut self, task: &Task) {
        if self.operator.subscribers.is_empty() {
            return;
        }
        self.notify_operators(Event {
            task_added: Some(event::TaskAdded { task: task.clone() }),
            ..event(event::Type::TaskAdded)
        });
    }

    /// TASK_UPDATED: a status update of a task of `framework`, with the task's latest
    /// state.
    pub(crate) fn operator_task_updated(&mut self, framework: &str, status: &TaskStatus) {
        if self.operator.subscribers.is_empty() {
            return;
        }
        let state = self
            .task_state_of(framework, &status.task_id.value)
            .unwrap_or(status.state);
        self.notify_operators(Event {
            task_updated: Some(event::TaskUpdated {
                framework_id: FrameworkId {
                    value: framework.to_string(),
                },
                status: status.clone(),
                state,
            }),
            ..event(event::Type::TaskUpdated)
        });
    }

    /// AGENT_ADDED for a (re-)registered agent. An agent on a machine under maintenance
    /// is kept from getting offers; one still draining is watched until it is drained.
    pub(crate) fn operator_agent_added(&mut self, agent: &str) {
        let Some(record) = self.agents.get(agent) else {
            return;
        };
        if self.machine_down(&record.info) {
            let _ = self.allocator.deactivate_agent(&agent.to_string().into());
        }
        let draining = self.registry_state.agents.get(agent).and_then(|a| a.drain);
        if draining.is_some_and(|d| d.state == DrainState::Draining as i32) {
            self.operator.draining.insert(agent.to_string());
        }
        if self.operator.subscribers.is_empty() {
            return;
        }
        let model = self.agent_model(record);
        self.notify_operators(Event {
            agent_added: Some(event::AgentAdded { agent: model }),
            ..event(event::Type::AgentAdded)
        });
    }

    /// AGENT_REMOVED.
    pub(crate) fn operator_agent_removed(&mut self, agent: &str) {
        self.operator.draining.remove(agent);
        if self.operator.subscribers.is_empty() {
            return;
        }
        self.notify_operators(Event {
            agent_removed: Some(event::AgentRemoved {
                agent_id: super::events::agent_id(agent),
            }),
            ..event(event::Type::AgentRemoved)
        });
    }

    /// FRAMEWORK_ADDED for a new framework.
    pub(crate) fn operator_framework_added(&mut self, id: &str) {
        if self.operator.subscribers.is_empty() {
            return;
        }
        if let Some(framework) = self.frameworks.get(id) {
            let model = self.framework_model(framework, false);
            self.notify_operators(Event {
                framework_added: Some(event::FrameworkAdded { framework: model }),
                ..event(event::Type::FrameworkAdded)
            });
        }
    }

    /// FRAMEWORK_UPDATED: a framework re-subscribed, changed its info or disconnected.
    pub(crate) fn operator_framework_updated(&mut self, id: &str) {
        if self.operator.subscribers.is_empty() {
            return;
        }
        if let Some(framework) = self.frameworks.get(id) {
            let model = self.framework_model(framework, false);
            self.notify_operators(Event {
                framework_updated: Some(event::FrameworkUpdated { framework: model }),
                ..event(event::Type::FrameworkUpdated)
            });
        }
    }

    /// FRAMEWORK_REMOVED.
    pub(crate) fn operator_framework_removed(&mut self, info: &FrameworkInfo) {
        if self.operator.subscribers.is_empty() {
            return;
        }
        self.notify_operators(Event {
            framework_removed: Some(event::FrameworkRemoved {
                framework_info: info.clone(),
            }),
            ..event(event::Type::FrameworkRemoved)
        });
    }

    /// The operator API's timers: subscribers' heartbeats, draining agents whose last
    /// task ended become drained, and inverse offers for draining machines.
    pub(crate) fn operator_tick(&mut self, now: Instant) {
        if self.operator.next_heartbeat.is_some_and(|at| at <= now) {
            self.notify_operators(event(event::Type::Heartbeat));
            self.operator.next_heartbeat = (!self.operator.subscribers.is_empty())
                .then(|| now + self.config.options.heartbeat_interval);
        }
        let draining: Vec<String> = self.operator.draining.iter().cloned().collect();
        for agent in draining {
            self.check_drained(&agent);
        }
        self.inverse_offers_tick(now);
    }
}
