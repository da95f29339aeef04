//! The allocation passes: stage 1 (quota guarantees) and stage 2 (fair share).
//!
//! For every agent, roles are visited in hierarchical DRF order and, within a role,
//! frameworks in DRF order (both read from the incremental sorters, re-keyed as each
//! allocation is made). An agent that every eligible framework has filtered is skipped
//! in O(1); an agent whose resources are all unreserved and non-revocable, for a role
//! without quota limits while no guarantee needs headroom, is handed over whole without
//! filtering its resources (the common case).

use std::time::Instant;

use super::quantities::{is_quota_free, measure, Quantities};
use super::{AgentId, Allocation, Allocator, AllocatorError, Result};
use crate::resources::{Resource, Resources, Scalar, Value};

/// Which stage of the pass is running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    /// Allocating towards unsatisfied quota guarantees.
    Guarantees,
    /// Fair sharing of what is left.
    FairShare,
}

impl Allocator {
    /// One full allocation pass over all agents at time `now` (expired filters are dropped
    /// first). Returns the allocations made; the resources stay allocated until recovered.
    pub fn allocate(&mut self, now: Instant) -> Vec<Allocation> {
        self.filters.expire(now);
        let agents: Vec<u32> = (0..self.agents.len() as u32)
            .filter(|a| self.agents[*a as usize].is_some())
            .collect();
        self.run(&agents)
    }

    /// An allocation pass over some agents only (resources freed up there).
    pub fn allocate_agents(&mut self, now: Instant, agents: &[AgentId]) -> Result<Vec<Allocation>> {
        let slots = agents
            .iter()
            .map(|id| {
                self.agent_ids
                    .get(id)
                    .copied()
                    .ok_or_else(|| AllocatorError::UnknownAgent(id.clone()))
            })
            .collect::<Result<Vec<u32>>>()?;
        self.filters.expire(now);
        Ok(self.run(&slots))
    }

    /// Re-keys every sorter if the pool total or weights changed.
    fn refresh_shares(&mut self) {
        if !self.dirty {
            return;
        }
        self.roles.rekey_all(&self.total);
        for (f, fw) in self.frameworks.iter().enumerate() {
            let Some(fw) = fw else { continue };
            for r in &fw.roles {
                let share = r.alloc.dominant_share(&self.total);
                self.roles
                    .node_mut(r.role)
                    .frameworks
                    .update(f as u32, share, r.allocations);
            }
        }
        self.dirty = false;
    }

    fn run(&mut self, agents: &[u32]) -> Vec<Allocation> {
        let mut out = Vec::with_capacity(agents.len().min(1 << 16));
        self.refresh_shares();
        if self.filters.eligible_subjects() == 0 {
            return out;
        }
        if self.guaranteed_roles > 0 {
            let mut required = self.roles.required_headroom();
            if !required.is_zero() {
                for &a in agents {
                    self.allocate_agent(a, Stage::Guarantees, &mut required, &mut out);
                }
            }
            let mut required = self.roles.required_headroom();
            for &a in agents {
                self.allocate_agent(a, Stage::FairShare, &mut required, &mut out);
            }
        } else {
            let mut required = Quantities::default();
            for &a in agents {
                self.allocate_agent(a, Stage::FairShare, &mut required, &mut out);
            }
        }
        out
    }

    /// Offers agent `a` to roles and frameworks in DRF order for one stage.
    fn allocate_agent(
        &mut self,
        a: u32,
        stage: Stage,
        required: &mut Quantities,
        out: &mut Vec<Allocation>,
    ) {
        {
            let agent = self.agent(a);
            if !agent.active || agent.available.is_empty() || self.filters.filtered_by_all(a) {
                return;
            }
        }
        let mut role_order = std::mem::take(&mut self.scratch_roles);
        let mut fw_order = std::mem::take(&mut self.scratch_frameworks);
        role_order.clear();
        self.roles.order(&mut role_order);
        'roles: for &role in &role_order {
            if stage == Stage::Guarantees && self.roles.unsatisfied_guarantee(role).is_none() {
                continue;
            }
            fw_order.clear();
            self.roles.node(role).frameworks.extend_into(&mut fw_order);
            for &f in &fw_order {
                if self.agent(a).available.is_empty() {
                    break 'roles;
                }
                if !self.may_offer(f, a, role) {
                    continue;
                }
                let Some(offer) = self.offer_for(f, a, role, stage, required) else {
                    continue;
                };
                self.grant(f, a, role, offer, out);
                if self.guaranteed_roles > 0 {
                    *required = self.roles.required_headroom();
                }
                if stage == Stage::Guarantees && self.roles.unsatisfied_guarantee(role).is_none() {
                    continue 'roles;
                }
            }
        }
        self.scratch_roles = role_order;
        self.scratch_frameworks = fw_order;
    }

    /// Whether framework `f` may be offered agent `a` for role `role` at all.
    #[inline]
    fn may_offer(&self, f: u32, a: u32, role: u32) -> bool {
        let fw = self.framework(f);
        let Some(entry) = fw.role(role).filter(|r| fw.offerable(r)) else {
            return false;
        };
        if self.filters.is_filtered(entry.subject, a) {
            return false;
        }
        let agent = self.agent(a);
        if agent.has_gpus && !fw.capabilities.gpu_resources {
            return false;
        }
        if agent.remote && !fw.capabilities.region_aware {
            return false;
        }
        true
    }

    /// Whether an offer of quantities `q` is worth making (min allocatable resources).
    fn allocatable(&self, q: &Quantities) -> bool {
        if self.min_allocatable.is_empty() {
            return !q.is_zero();
        }
        self.min_allocatable
            .iter()
            .any(|m| m.iter().all(|(id, v)| q.get(id) >= v))
    }

    /// What of agent `a` framework `f` would get for `role` in `stage`.
    fn offer_for(
        &mut self,
        f: u32,
        a: u32,
        role: u32,
        stage: Stage,
        required: &Quantities,
    ) -> Option<Offer> {
        let limited = self.roles.is_limited(role);
        if stage == Stage::FairShare && !limited && required.is_zero() && self.agent(a).simple {
            // Fast path: everything available, as is.
            let agent = self.agents[a as usize].as_ref()?;
            let (all, free) = if agent.allocated.is_empty() {
                (agent.total_q.clone(), agent.free_q.clone())
            } else {
                measure(&agent.available, &mut self.names)
            };
            if !self.allocatable(&all) {
                return None;
            }
            return Some(Offer {
                resources: None,
                all,
                free,
            });
        }
        let caps = self.framework(f).capabilities;
        let role_name = self.roles.node(role).name.as_str();
        let agent = self.agent(a);
        let candidates = agent.available.filter(|r| {
            r.is_allocatable_to(role_name)
                && (caps.reservation_refinement || !r.has_refined_reservations())
                && (!r.is_revocable() || (caps.revocable_resources && stage == Stage::FairShare))
        });
        if candidates.is_empty() {
            return None;
        }
        let mut room: Vec<(usize, i64)> = if limited {
            self.roles.limit_headroom(role)
        } else {
            Vec::new()
        };
        let offer = match stage {
            Stage::Guarantees => {
                let unsatisfied = self.roles.unsatisfied_guarantee(role)?;
                // Guaranteed names: up to the unsatisfied guarantee (and the limits).
                // Other names: only out of headroom surplus (and the limits).
                let mut budget: Vec<(usize, i64)> = Vec::new();
                for id in 0..self.free_unallocated.len().max(unsatisfied.len()) {
                    let cap = if unsatisfied.get(id) > 0 {
                        unsatisfied.get(id)
                    } else {
                        (self.free_unallocated.get(id) - required.get(id)).max(0)
                    };
                    let cap = match room.iter().find(|(n, _)| *n == id) {
                        Some((_, r)) => cap.min(*r),
                        None => cap,
                    };
                    budget.push((id, cap));
                }
                let offer = self.chop(&candidates, &mut budget, true);
                // Only worth it if something counts towards the guarantee.
                let (all, free) = measure(&offer, &mut self.names);
                let counts = unsatisfied.iter().any(|(id, _)| all.get(id) > 0)
                    || free.is_zero() && !all.is_zero();
                if !counts {
                    return None;
                }
                offer
            }
            Stage::FairShare => {
                let mut offer = if limited {
                    self.chop(&candidates, &mut room, false)
                } else {
                    candidates
                };
                if !required.is_zero() {
                    let (_, free) = measure(&offer, &mut self.names);
                    let sufficient = required
                        .iter()
                        .all(|(id, need)| self.free_unallocated.get(id) - free.get(id) >= need);
                    if !sufficient {
                        offer = offer
                            .filter(|r| !(is_quota_free(r) && r.value().as_scalar().is_some()));
                    }
                }
                offer
            }
        };
        if offer.is_empty() {
            return None;
        }
        let (all, free) = measure(&offer, &mut self.names);
        if !self.allocatable(&all) {
            return None;
        }
        Some(Offer {
            resources: Some(offer),
            all,
            free,
        })
    }

    /// Cuts the unreserved non-revocable scalars of `resources` down to `budget` (per
    /// name id, consumed as it goes). With `strict`, names absent from `budget` are
    /// dropped; otherwise they pass. Atomic resources that do not fit are dropped whole.
    fn chop(
        &mut self,
        resources: &Resources,
        budget: &mut [(usize, i64)],
        strict: bool,
    ) -> Resources {
        let mut out = Resources::new();
        for r in resources.iter() {
            let Some(s) = r.value().as_scalar() else {
                out.push(r.clone());
                continue;
            };
            if !is_quota_free(r) {
                out.push(r.clone());
                continue;
            }
            let id = self.names.intern(r.name());
            let Some(entry) = budget.iter_mut().find(|(n, _)| *n == id) else {
                if !strict {
                    out.push(r.clone());
                }
                continue;
            };
            let take = s.millis().min(entry.1);
            if take <= 0 {
                continue;
            }
            if take == s.millis() {
                entry.1 -= take;
                out.push(r.clone());
            } else if !r.is_atomic() {
                entry.1 -= take;
                out.push(shrunk(r, take));
            }
        }
        out
    }

    /// Moves `offer` (part of agent `a`'s available) to framework `f` for `role` and
    /// records the allocation.
    fn grant(&mut self, f: u32, a: u32, role: u32, offer: Offer, out: &mut Vec<Allocation>) {
        let Offer {
            resources: part,
            all,
            free,
        } = offer;
        let agent = self.agents[a as usize].as_mut().expect("live agent slot");
        let role_name = &self.roles.node(role).name;
        let resources = match part {
            Some(mut part) => {
                agent.available -= &part;
                part.allocate(role_name);
                part
            }
            None if agent.allocated.is_empty() => {
                // The agent is entirely free: hand over its total, allocated form cached.
                drop(std::mem::take(&mut agent.available));
                match agent.allocated_total_cache.iter().find(|(r, _)| *r == role) {
                    Some((_, cached)) => cached.clone(),
                    None => {
                        let mut whole = agent.spec.total.clone();
                        whole.allocate(role_name);
                        agent.allocated_total_cache.push((role, whole.clone()));
                        whole
                    }
                }
            }
            None => {
                let mut whole = std::mem::take(&mut agent.available);
                whole.allocate(role_name);
                whole
            }
        };
        match agent.allocated.entry(f) {
            std::collections::hash_map::Entry::Occupied(mut e) => *e.get_mut() += &resources,
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(resources.clone());
            }
        }
        let agent_id = agent.id.clone();
        let role_name = role_name.clone();
        self.track(f, role, &all, &free, true);
        let fw = self.framework_mut(f);
        fw.agents.insert(a, ());
        out.push(Allocation {
            framework: fw.id.clone(),
            agent: agent_id,
            role: role_name,
            resources,
        });
    }
}

/// An offer being made: the resources (`None`: everything available) and their scalar
/// quantities (all, and unreserved non-revocable).
struct Offer {
    resources: Option<Resources>,
    all: Quantities,
    free: Quantities,
}

/// `r` with its scalar value replaced by `millis`.
fn shrunk(r: &Resource, millis: i64) -> Resource {
    let mut out = r.clone();
    out.value = Value::Scalar(Scalar::from_millis(millis));
    out
}
