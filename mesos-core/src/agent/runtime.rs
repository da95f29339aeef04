//! The agent's owner task: the only code that touches [`AgentState`]. The master session,
//! executor connections and finished container operations talk to it through an
//! [`AgentHandle`]; a tick drives retries and timeouts.

use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::state::AgentState;

/// How often timers (update retries, executor timeouts) are checked.
const TICK: Duration = Duration::from_millis(100);

/// Every how many ticks containers are checked for limits they hit.
const LIMIT_CHECK_TICKS: u32 = 5;

/// A closure run on the state by the owner task.
type StateFn = Box<dyn FnOnce(&mut AgentState) + Send>;

/// The agent is stopping: its owner task no longer takes commands.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("the agent is shutting down")]
pub struct AgentStopped;

impl From<AgentStopped> for crate::http::HttpError {
    fn from(_: AgentStopped) -> crate::http::HttpError {
        crate::http::HttpError::service_unavailable("The agent is shutting down")
    }
}

/// A cloneable handle on a running agent's owner task.
#[derive(Clone)]
pub struct AgentHandle {
    commands: mpsc::UnboundedSender<StateFn>,
}

impl std::fmt::Debug for AgentHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentHandle").finish_non_exhaustive()
    }
}

impl AgentHandle {
    /// A handle and the receiving end its owner loop reads.
    pub(super) fn new() -> (AgentHandle, mpsc::UnboundedReceiver<StateFn>) {
        let (commands, receiver) = mpsc::unbounded_channel();
        (AgentHandle { commands }, receiver)
    }

    /// Runs `f` on the state in the owner task and returns its result.
    pub async fn run<R, F>(&self, f: F) -> Result<R, AgentStopped>
    where
        R: Send + 'static,
        F: FnOnce(&mut AgentState) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        self.send(move |state| {
            let _ = reply.send(f(state));
        });
        answer.await.map_err(|_| AgentStopped)
    }

    /// Runs `f` on the state without waiting for it.
    pub fn send(&self, f: impl FnOnce(&mut AgentState) + Send + 'static) {
        let _ = self.commands.send(Box::new(f));
    }
}

/// The owner task's loop: applies commands as they come and ticks the timers, until
/// every handle is gone or `stop` fires.
pub(super) async fn run(
    mut state: AgentState,
    mut commands: mpsc::UnboundedReceiver<StateFn>,
    mut stop: oneshot::Receiver<()>,
) -> AgentState {
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u32;
    loop {
        tokio::select! {
            command = commands.recv() => match command {
                Some(f) => f(&mut state),
                None => return state,
            },
            _ = ticker.tick() => {
                ticks = ticks.wrapping_add(1);
                state.tick(Instant::now(), ticks % LIMIT_CHECK_TICKS == 0);
            }
            _ = &mut stop => return state,
        }
    }
}
