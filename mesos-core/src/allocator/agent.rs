//! An agent as the allocator sees it: total, unallocated and per-framework allocated
//! resources, plus the facts that gate who may be offered it.

use super::filters::IndexMap;
use super::quantities::{measure, Names, Quantities};
use super::{AgentId, AgentSpec};
use crate::resources::Resources;

/// Allocator state of one agent.
#[derive(Debug)]
pub(crate) struct Agent {
    /// Caller's id.
    pub(crate) id: AgentId,
    /// What the agent was registered with.
    pub(crate) spec: AgentSpec,
    /// Resources not allocated to any framework (never carry an allocation role).
    pub(crate) available: Resources,
    /// Resources allocated, per framework slot (they carry their allocation role).
    pub(crate) allocated: IndexMap<Resources>,
    /// Whether it may be offered (false while draining / in maintenance).
    pub(crate) active: bool,
    /// Whether the total holds GPUs (only GPU-capable frameworks may be offered it).
    pub(crate) has_gpus: bool,
    /// Whether it is in another region than the master (only region-aware frameworks).
    pub(crate) remote: bool,
    /// Whether the total has no reservation, no revocable and no refined resource, so
    /// that everything available may be offered to any role as is (the fast path).
    pub(crate) simple: bool,
    /// All scalar quantities of the total.
    pub(crate) total_q: Quantities,
    /// Unreserved non-revocable scalar quantities of the total.
    pub(crate) free_q: Quantities,
    /// Reserved non-revocable scalar quantities of the total, per role node.
    pub(crate) reserved: Vec<(u32, Quantities)>,
    /// The whole total in allocated form, per role node it was allocated to before
    /// (handing over an entirely free agent then costs a clone, not a re-keying).
    pub(crate) allocated_total_cache: Vec<(u32, Resources)>,
}

impl Agent {
    /// A new agent with everything available.
    pub(crate) fn new(id: AgentId, spec: AgentSpec, master_region: Option<&str>) -> Agent {
        let mut agent = Agent {
            id,
            available: spec.total.clone(),
            spec,
            allocated: IndexMap::default(),
            active: true,
            has_gpus: false,
            remote: false,
            simple: true,
            total_q: Quantities::default(),
            free_q: Quantities::default(),
            reserved: Vec::new(),
            allocated_total_cache: Vec::new(),
        };
        agent.remote = match (master_region, agent.spec.domain.as_ref()) {
            (Some(master), Some(domain)) => domain.region != master,
            _ => false,
        };
        agent
    }

    /// Recomputes the facts derived from the total (gating flags and quantities); the
    /// reserved quantities are returned by role name for the caller to resolve.
    pub(crate) fn measure_total(&mut self, names: &mut Names) -> Vec<(String, Quantities)> {
        self.allocated_total_cache.clear();
        let total = &self.spec.total;
        self.has_gpus = total.gpus().is_some_and(|g| g.millis() > 0);
        self.simple = total.iter().all(|r| r.is_unreserved() && !r.is_revocable());
        let (all, free) = measure(total, names);
        self.total_q = all;
        self.free_q = free;
        let mut reserved = Vec::new();
        for (role, res) in total.non_revocable().reservations() {
            let (q, _) = measure(&res, names);
            reserved.push((role, q));
        }
        reserved
    }

    /// The sum of everything allocated, without allocation roles.
    pub(crate) fn allocated_sum(&self) -> Resources {
        let mut sum = Resources::new();
        for r in self.allocated.values() {
            sum += r;
        }
        sum.unallocate();
        sum
    }
}
