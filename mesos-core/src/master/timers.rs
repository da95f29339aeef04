//! Everything the master does because time passed: allocation runs, framework heartbeats,
//! agent health pings, offer timeouts, framework failover timeouts and the deadline for
//! agents to re-register after a master restart.

use std::time::Instant;

use super::events;
use super::metrics::Counter;
use super::state::MasterState;
use crate::proto::mesos::v1::scheduler::event;

impl MasterState {
    /// Does whatever is due at `now`.
    pub fn tick(&mut self, now: Instant) {
        self.operator_tick(now);
        if now >= self.next_heartbeat_round {
            self.next_heartbeat_round = now + self.config.options.heartbeat_interval;
            for framework in self.frameworks.values() {
                if let Some(stream) = &framework.stream {
                    let _ = stream
                        .events
                        .send(Box::new(events::event(event::Type::Heartbeat)));
                }
            }
        }
        if now >= self.next_ping_round {
            self.next_ping_round = now + self.config.options.agent_ping_timeout;
            self.ping_agents();
        }
        while let Some((at, offer)) = self.offer_expiry.first().cloned() {
            if at > now {
                break;
            }
            self.offer_expiry.remove(&(at, offer.clone()));
            self.rescind_offer(&offer);
        }
        let expired: Vec<String> = self
            .frameworks
            .values()
            .filter(|f| f.failover_deadline.is_some_and(|d| d <= now))
            .map(|f| f.id.clone())
            .collect();
        for id in expired {
            self.remove_framework(&id);
        }
        if self.reregister_deadline.is_some_and(|d| d <= now) {
            self.expire_recovered_agents();
        }
    }

    /// A full allocation run (the `--allocation_interval` batch).
    pub fn allocate(&mut self, now: Instant) {
        let started = Instant::now();
        let allocations = self.allocator.allocate(now);
        self.freed_agents.clear();
        self.allocation_wanted = false;
        self.record_allocation_run(started);
        self.make_offers(allocations, now);
    }

    /// Allocates what became free since the last run, at once: the agents whose resources
    /// freed up, or everything if a framework arrived or revived.
    pub fn allocate_pending(&mut self, now: Instant) {
        if self.allocation_wanted {
            self.allocate(now);
            return;
        }
        if self.freed_agents.is_empty() {
            return;
        }
        let agents: Vec<crate::allocator::AgentId> = std::mem::take(&mut self.freed_agents)
            .into_iter()
            .filter(|a| self.agents.get(a).is_some_and(|r| !r.recovered))
            .map(Into::into)
            .collect();
        let started = Instant::now();
        let allocations = self
            .allocator
            .allocate_agents(now, &agents)
            .unwrap_or_default();
        self.record_allocation_run(started);
        self.make_offers(allocations, now);
    }

    fn record_allocation_run(&mut self, started: Instant) {
        self.metrics.incr(Counter::AllocationRuns);
        self.metrics.allocation_run.record(started.elapsed());
    }
}
