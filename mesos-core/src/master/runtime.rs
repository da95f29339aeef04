//! The master's owner task: the only code that touches [`MasterState`]. HTTP handlers talk
//! to it through a [`MasterHandle`], one command per call, answered on a oneshot channel.
//!
//! When a command arrives, the loop first lets the other ready tasks run (the connections
//! whose requests were read in the same pass queue their commands meanwhile), then applies
//! every queued command before it allocates. A burst of calls (a thousand
//! acknowledgements, say) so costs one allocation of the agents they freed, and the
//! events it sends to one stream go out together in one write. The loop also runs the
//! full allocation every `--allocation_interval` and the timers every tick.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use super::agents::AgentConnection;
use super::state::{MasterState, Subscription};
use super::CallError;
use crate::proto::mesos::internal::{agent_call, AgentCall};
use crate::proto::mesos::v1::scheduler::{Call, Event};

/// How often timers (heartbeats, pings, offer and failover timeouts) are checked.
const TICK: Duration = Duration::from_millis(50);

/// Commands applied at most per batch before allocating, so timers are not starved.
const MAX_BATCH: usize = 4096;

/// A closure run on the state by the owner task.
type StateFn = Box<dyn FnOnce(&mut MasterState, Instant) + Send>;

/// One thing for the owner task to do.
pub(super) enum Command {
    /// Run a closure on the state (every call goes through this).
    Run(StateFn),
    /// Stop the loop.
    Stop,
}

/// A cloneable handle on a running master's owner task.
#[derive(Clone)]
pub struct MasterHandle {
    commands: mpsc::UnboundedSender<Command>,
    flags: Arc<BTreeMap<String, String>>,
    cluster: Option<Arc<str>>,
}

impl std::fmt::Debug for MasterHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterHandle").finish_non_exhaustive()
    }
}

fn stopped() -> CallError {
    CallError::Unavailable("The master is shutting down".into())
}

impl MasterHandle {
    pub(super) fn new(
        commands: mpsc::UnboundedSender<Command>,
        flags: BTreeMap<String, String>,
        cluster: Option<String>,
    ) -> MasterHandle {
        MasterHandle {
            commands,
            flags: Arc::new(flags),
            cluster: cluster.map(Arc::from),
        }
    }

    /// The master's flags, as `/flags` shows them.
    pub fn flags(&self) -> &BTreeMap<String, String> {
        &self.flags
    }

    /// The `--cluster` name.
    pub fn cluster(&self) -> Option<&str> {
        self.cluster.as_deref()
    }

    /// Runs `f` on the state in the owner task and returns its result.
    pub async fn run<R, F>(&self, f: F) -> Result<R, CallError>
    where
        R: Send + 'static,
        F: FnOnce(&mut MasterState, Instant) -> R + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let command = Command::Run(Box::new(move |state, now| {
            let _ = reply.send(f(state, now));
        }));
        self.commands.send(command).map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    /// Sends a command without waiting for it (from `Drop`).
    fn run_detached(&self, f: StateFn) {
        let _ = self.commands.send(Command::Run(f));
    }

    /// SUBSCRIBE: the stream id and the events. When the events are dropped (the client
    /// went away, or the master ended the stream) the state hears of it.
    pub async fn subscribe(&self, call: Call) -> Result<(String, Unboxed<Event>), CallError> {
        let subscription = self.run(move |s, _| s.subscribe(call)).await??;
        let Subscription {
            framework_id,
            stream_id,
            events,
        } = subscription;
        let stream = stream_id.clone();
        let watched = Watched {
            events,
            on_drop: Some((
                self.clone(),
                Box::new(move |s: &mut MasterState, now| {
                    s.framework_disconnected(&framework_id, &stream, now)
                }),
            )),
        };
        Ok((stream_id, Unboxed(watched)))
    }

    /// A non-SUBSCRIBE scheduler call with the request's `Mesos-Stream-Id`.
    pub async fn scheduler_call(
        &self,
        call: Call,
        stream_id: Option<String>,
    ) -> Result<(), CallError> {
        self.run(move |s, now| {
            let id = s.check_stream(&call, stream_id.as_deref())?;
            s.scheduler_call(&id, call, now)
        })
        .await?
    }

    /// An agent's REGISTER: the stream id and the events; dropping the events (the
    /// connection ended) is reported to the state.
    pub async fn register_agent(
        &self,
        register: agent_call::Register,
    ) -> Result<(String, Watched<Vec<u8>>), CallError> {
        let connection = self.run(move |s, _| s.register_agent(register)).await??;
        let AgentConnection {
            agent_id,
            stream_id,
            events,
        } = connection;
        let stream = stream_id.clone();
        let watched = Watched {
            events,
            on_drop: Some((
                self.clone(),
                Box::new(move |s: &mut MasterState, _| s.agent_disconnected(&agent_id, &stream)),
            )),
        };
        Ok((stream_id, watched))
    }

    /// Any other agent call, with the request's `Agent-Stream-Id`.
    pub async fn agent_call(
        &self,
        call: AgentCall,
        stream_id: Option<String>,
    ) -> Result<(), CallError> {
        self.run(move |s, now| {
            let agent = call
                .agent_id
                .as_ref()
                .map(|a| a.value.clone())
                .ok_or_else(|| {
                    CallError::BadRequest("Expecting 'agent_id' to be present".into())
                })?;
            s.check_agent_stream(&agent, stream_id.as_deref())?;
            s.agent_call(&agent, call, now)
        })
        .await?
    }

    /// Asks the owner task to stop.
    pub fn stop(&self) {
        let _ = self.commands.send(Command::Stop);
    }
}

/// The events of one subscription or agent connection, as its channel carries them
/// (boxed framework events, encoded agent events). Dropping it tells the owner task that
/// the connection ended.
pub struct Watched<T> {
    events: mpsc::UnboundedReceiver<T>,
    on_drop: Option<(MasterHandle, StateFn)>,
}

impl<T> Drop for Watched<T> {
    fn drop(&mut self) {
        if let Some((handle, f)) = self.on_drop.take() {
            handle.run_detached(f);
        }
    }
}

impl<T> futures_core::Stream for Watched<T> {
    type Item = T;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        self.events.poll_recv(cx)
    }
}

/// A framework's events out of their boxes, as the scheduler API's stream encodes them.
pub struct Unboxed<T>(Watched<Box<T>>);

impl<T> futures_core::Stream for Unboxed<T> {
    type Item = T;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<T>> {
        std::pin::Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|event| event.map(|boxed| *boxed))
    }
}

/// The owner task's loop. While `may_act` is false (a master under `--zk` whose lease
/// lapsed) it applies nothing: calls are refused as if the master were stopping, timers
/// and allocations wait. Ends on Stop (with `None`), or as soon as a registry write shows
/// that this master may lead no more (with the reason).
pub(super) async fn run(
    mut state: MasterState,
    mut commands: mpsc::UnboundedReceiver<Command>,
    handle: MasterHandle,
    allocation_interval: Duration,
    may_act: Box<dyn Fn() -> bool + Send + Sync>,
) -> Option<String> {
    // The handle's sender lives as long as the loop; only Stop ends it.
    let _keep = handle;
    let mut ticker = tokio::time::interval(TICK);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut allocation = tokio::time::interval(allocation_interval.max(Duration::from_millis(1)));
    allocation.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            command = commands.recv() => {
                let Some(command) = command else { break };
                if !may_act() {
                    match command {
                        Command::Stop => break,
                        // Dropping the command drops its answer: the caller hears that
                        // the master is unavailable.
                        Command::Run(_) => continue,
                    }
                }
                // Without this the runtime would run the owner task right after each
                // caller that woke it, one command at a time.
                tokio::task::yield_now().await;
                let now = Instant::now();
                if !apply(&mut state, command, now) {
                    break;
                }
                let mut applied = 1;
                while applied < MAX_BATCH && state.deposed.is_none() {
                    let Ok(command) = commands.try_recv() else { break };
                    if !apply(&mut state, command, now) {
                        return None;
                    }
                    applied += 1;
                }
                if state.deposed.is_none() {
                    state.allocate_pending(Instant::now());
                }
            }
            _ = ticker.tick(), if may_act() => state.tick(Instant::now()),
            _ = allocation.tick(), if may_act() => state.allocate(Instant::now()),
        }
        if let Some(reason) = state.deposed.take() {
            return Some(reason);
        }
    }
    None
}

/// Applies one command; false to stop.
fn apply(state: &mut MasterState, command: Command, now: Instant) -> bool {
    match command {
        Command::Run(f) => {
            f(state, now);
            true
        }
        Command::Stop => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::master::{Master, MasterOptions};

    /// Calls that arrive together are applied as one batch (they see one `now`), also on
    /// the one-worker runtime whose LIFO slot would otherwise run the owner task after
    /// each caller.
    #[test]
    fn calls_that_arrive_together_are_applied_together() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(async {
            let master = Master::start(MasterOptions::default())
                .await
                .expect("master");
            let handle = master.handle().clone();
            // Spawned from the worker itself, the callers all wait in its queue until the
            // spawning task yields, as connections read in one pass do; spawned from
            // here, the worker could start on the first before the last exists.
            let seen = tokio::spawn(async move {
                let callers: Vec<_> = (0..16)
                    .map(|_| {
                        let handle = handle.clone();
                        tokio::spawn(async move { handle.run(|_, now| now).await })
                    })
                    .collect();
                let mut seen = Vec::new();
                for caller in callers {
                    seen.push(caller.await.expect("caller").expect("applied"));
                }
                seen
            })
            .await
            .expect("spawner");
            assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
            master.stop().await;
        });
    }
}
