//! Mesos' hierarchical DRF allocator as pure logic.
//!
//! The [`Allocator`] sees agents, frameworks, roles, weights, quotas and decline filters,
//! and decides which framework is offered which agent's free resources. It does no IO and
//! owns no timers: time is an argument (`now`), decisions are return values
//! ([`Allocation`]s), and the caller (the master) turns them into offers. Resources come
//! back through [`Allocator::recover_resources`] (declined or rescinded offers, finished
//! tasks), optionally with a decline filter.
//!
//! Semantics follow Apache Mesos' `HierarchicalDRFAllocator` (1.11): hierarchical roles
//! with weights, DRF over roles then over frameworks within a role; quota guarantees met
//! first (stage 1), then fair sharing (stage 2) that keeps enough unreserved headroom for
//! unsatisfied guarantees and never lets a role subtree exceed its quota limits, quota
//! consumption counting reservations; reservations offered only to their role's subtree;
//! revocable, GPU and other-region agents gated by framework capabilities; suppressed
//! roles get nothing; decline filters honoured until they expire.
//!
//! Private modules, one concept each: `quantities` (scalar bookkeeping over interned
//! names), `sorter` (the incremental DRF order), `role_tree` (hierarchy, weights, quota
//! consumption and headroom), `filters` (decline filters with heap-based expiry),
//! `agent` / `framework` (per-entity state) and `allocate` (the allocation passes).
//!
//! Performance: the DRF order is never recomputed per agent; each allocation re-keys only
//! the framework and the roles on its path in ordered sets (`O(depth · log n)`). A filter
//! check is one hash lookup; an agent every eligible framework role has filtered is
//! skipped in O(1); an entirely free, unreserved agent is handed over whole as a cached clone. See
//! `benches/allocator.rs` and BENCHMARKS.md.
//!
//! Differences from Apache Mesos: decline filters are per (framework, role, agent) as in
//! Mesos but hold the whole agent rather than the refused resources (no resource
//! comparison); agents are visited in slot order, not shuffled; the quota stage orders
//! roles by the same DRF order as fair sharing.
//!
//! ```
//! use std::collections::HashMap;
//! use std::time::Instant;
//! use mesos_core::allocator::*;
//! use mesos_core::resources::parse_resources;
//!
//! let mut a = Allocator::new(AllocatorOptions::default());
//! let total = parse_resources("cpus:4;mem:4096", "*").unwrap();
//! a.add_agent("a1".into(), AgentSpec::new("host1", total), &HashMap::new()).unwrap();
//! a.add_framework("f1".into(), FrameworkSpec::new(["web"]), &HashMap::new(), true).unwrap();
//! let now = Instant::now();
//! let offers = a.allocate(now);
//! assert_eq!(offers.len(), 1);
//! assert_eq!(offers[0].role, "web");
//! // Declined for 5 s: the agent is not offered to f1 again before then.
//! a.recover_resources(&"f1".into(), &"a1".into(), &offers[0].resources,
//!     Some(std::time::Duration::from_secs(5)), now).unwrap();
//! assert!(a.allocate(now).is_empty());
//! ```

mod agent;
mod allocate;
mod filters;
mod framework;
mod quantities;
mod role_tree;
mod sorter;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use self::agent::Agent;
use self::filters::{DeclineFilters, IndexMap};
use self::framework::{Framework, FrameworkRole};
use self::quantities::{measure, Names, Quantities};
use self::role_tree::RoleTree;
use crate::resources::{validate_role, Resources, RoleError, Scalar};

/// An agent id as the caller (master) knows it, e.g. the v1 `AgentID` value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AgentId(pub String);

/// A framework id as the caller knows it, e.g. the v1 `FrameworkID` value.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameworkId(pub String);

impl From<&str> for AgentId {
    fn from(s: &str) -> AgentId {
        AgentId(s.to_string())
    }
}

impl From<String> for AgentId {
    fn from(s: String) -> AgentId {
        AgentId(s)
    }
}

impl From<&str> for FrameworkId {
    fn from(s: &str) -> FrameworkId {
        FrameworkId(s.to_string())
    }
}

impl From<String> for FrameworkId {
    fn from(s: String) -> FrameworkId {
        FrameworkId(s)
    }
}

impl fmt::Display for AgentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for FrameworkId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A fault domain: region and zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Domain {
    /// Region name.
    pub region: String,
    /// Zone name.
    pub zone: String,
}

/// What an agent registers with.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentSpec {
    /// Its hostname.
    pub hostname: String,
    /// Its total resources (unallocated form).
    pub total: Resources,
    /// Its fault domain, if any.
    pub domain: Option<Domain>,
}

impl AgentSpec {
    /// An agent with no fault domain.
    pub fn new(hostname: impl Into<String>, total: Resources) -> AgentSpec {
        AgentSpec {
            hostname: hostname.into(),
            total,
            domain: None,
        }
    }
}

/// The framework capabilities the allocator honours.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// May be offered revocable resources.
    pub revocable_resources: bool,
    /// May be offered agents that have GPUs.
    pub gpu_resources: bool,
    /// May be offered agents in other regions than the master's.
    pub region_aware: bool,
    /// May be offered resources with refined (stacked) reservations.
    pub reservation_refinement: bool,
    /// May subscribe to several roles.
    pub multi_role: bool,
}

/// What a framework subscribes with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FrameworkSpec {
    /// Its roles (at least one; more than one needs `multi_role`).
    pub roles: Vec<String>,
    /// Its capabilities.
    pub capabilities: Capabilities,
    /// Roles (among `roles`) for which it wants no offers.
    pub suppressed_roles: BTreeSet<String>,
}

impl FrameworkSpec {
    /// A framework in `roles` (multi-role capable if more than one), nothing suppressed.
    pub fn new<I, S>(roles: I) -> FrameworkSpec
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let roles: Vec<String> = roles.into_iter().map(Into::into).collect();
        FrameworkSpec {
            capabilities: Capabilities {
                multi_role: roles.len() > 1,
                ..Capabilities::default()
            },
            roles,
            suppressed_roles: BTreeSet::new(),
        }
    }
}

/// A role's quota (Mesos 1.9+): scalar name -> amount.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Quota {
    /// Allocated to the role subtree before fair sharing, kept as headroom until then.
    pub guarantees: BTreeMap<String, f64>,
    /// Never exceeded by the subtree's consumption (allocations plus reservations).
    pub limits: BTreeMap<String, f64>,
}

/// Allocator settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AllocatorOptions {
    /// An offer must hold at least one of these quantity sets (Mesos'
    /// `--min_allocatable_resources`, default `cpus:0.01|mem:32`); empty: any offer with
    /// some scalar resource will do.
    pub min_allocatable_resources: Vec<BTreeMap<String, f64>>,
    /// The master's region; agents in another region go only to region-aware frameworks.
    pub master_region: Option<String>,
}

impl Default for AllocatorOptions {
    fn default() -> AllocatorOptions {
        AllocatorOptions {
            min_allocatable_resources: vec![
                BTreeMap::from([("cpus".to_string(), 0.01)]),
                BTreeMap::from([("mem".to_string(), 32.0)]),
            ],
            master_region: None,
        }
    }
}

/// One decision: offer `resources` of `agent` to `framework` for `role`.
#[derive(Debug, Clone, PartialEq)]
pub struct Allocation {
    /// Who gets it.
    pub framework: FrameworkId,
    /// Where.
    pub agent: AgentId,
    /// For which of the framework's roles.
    pub role: String,
    /// What, allocated to `role` (`Resources::allocate(role)`).
    pub resources: Resources,
}

/// A call the allocator refuses; its state is unchanged.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AllocatorError {
    /// No such agent.
    #[error("unknown agent '{0}'")]
    UnknownAgent(AgentId),
    /// No such framework.
    #[error("unknown framework '{0}'")]
    UnknownFramework(FrameworkId),
    /// The agent is already added.
    #[error("agent '{0}' is already added")]
    DuplicateAgent(AgentId),
    /// The framework is already added.
    #[error("framework '{0}' is already added")]
    DuplicateFramework(FrameworkId),
    /// A role name is not valid.
    #[error("invalid role '{role}': {source}")]
    InvalidRole {
        /// The role.
        role: String,
        /// Why.
        #[source]
        source: RoleError,
    },
    /// A framework with no role.
    #[error("framework '{0}' has no role")]
    NoRoles(FrameworkId),
    /// Several roles without the MULTI_ROLE capability.
    #[error("framework '{0}' has several roles but not the MULTI_ROLE capability")]
    NotMultiRole(FrameworkId),
    /// A role the framework is not subscribed to.
    #[error("framework '{framework}' is not subscribed to role '{role}'")]
    NotSubscribed {
        /// The framework.
        framework: FrameworkId,
        /// The role.
        role: String,
    },
    /// Resources to recover (or declared used) that are not allocated there.
    #[error(
        "resources {resources} are not allocated to framework '{framework}' on agent '{agent}'"
    )]
    NotAllocated {
        /// The framework.
        framework: FrameworkId,
        /// The agent.
        agent: AgentId,
        /// The resources.
        resources: String,
    },
    /// Used resources that are not in the agent's total / free resources.
    #[error("agent '{agent}': {reason}")]
    InvalidResources {
        /// The agent.
        agent: AgentId,
        /// What is wrong.
        reason: String,
    },
    /// A weight that is not a positive finite number.
    #[error("invalid weight {weight} for role '{role}'")]
    InvalidWeight {
        /// The role.
        role: String,
        /// The weight.
        weight: f64,
    },
    /// A quota that is not valid (negative, not finite, guarantee above limit).
    #[error("invalid quota for role '{role}': {reason}")]
    InvalidQuota {
        /// The role.
        role: String,
        /// What is wrong.
        reason: String,
    },
}

/// Result of allocator calls.
pub type Result<T> = std::result::Result<T, AllocatorError>;

/// The hierarchical DRF allocator (see the module doc).
#[derive(Debug)]
pub struct Allocator {
    options: AllocatorOptions,
    names: Names,
    min_allocatable: Vec<Quantities>,
    agents: Vec<Option<Agent>>,
    free_agent_slots: Vec<u32>,
    agent_ids: HashMap<AgentId, u32>,
    frameworks: Vec<Option<Framework>>,
    free_framework_slots: Vec<u32>,
    framework_ids: HashMap<FrameworkId, u32>,
    /// Decline-filter subjects (one per framework role) no longer in use, and the next
    /// never used one.
    free_subjects: Vec<u32>,
    next_subject: u32,
    next_uid: u64,
    roles: RoleTree,
    filters: DeclineFilters,
    /// Scalar quantities of all agents' totals: the DRF denominator.
    total: Quantities,
    /// Unreserved non-revocable scalars not allocated, over all agents: quota headroom.
    free_unallocated: Quantities,
    /// Roles with a quota guarantee.
    guaranteed_roles: usize,
    /// Shares must be recomputed (total or weights changed).
    dirty: bool,
    scratch_roles: Vec<u32>,
    scratch_frameworks: Vec<u32>,
}

fn role_error(role: &str, source: RoleError) -> AllocatorError {
    AllocatorError::InvalidRole {
        role: role.to_string(),
        source,
    }
}

impl Allocator {
    /// An empty allocator.
    pub fn new(options: AllocatorOptions) -> Allocator {
        let mut names = Names::default();
        let min_allocatable = options
            .min_allocatable_resources
            .iter()
            .map(|m| names.quantities(m))
            .collect();
        Allocator {
            options,
            names,
            min_allocatable,
            agents: Vec::new(),
            free_agent_slots: Vec::new(),
            agent_ids: HashMap::new(),
            frameworks: Vec::new(),
            free_framework_slots: Vec::new(),
            framework_ids: HashMap::new(),
            free_subjects: Vec::new(),
            next_subject: 0,
            next_uid: 1,
            roles: RoleTree::default(),
            filters: DeclineFilters::default(),
            total: Quantities::default(),
            free_unallocated: Quantities::default(),
            guaranteed_roles: 0,
            dirty: false,
            scratch_roles: Vec::new(),
            scratch_frameworks: Vec::new(),
        }
    }

    fn agent_slot(&self, id: &AgentId) -> Result<u32> {
        self.agent_ids
            .get(id)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownAgent(id.clone()))
    }

    fn framework_slot(&self, id: &FrameworkId) -> Result<u32> {
        self.framework_ids
            .get(id)
            .copied()
            .ok_or_else(|| AllocatorError::UnknownFramework(id.clone()))
    }

    #[inline]
    fn agent(&self, a: u32) -> &Agent {
        self.agents[a as usize].as_ref().expect("live agent slot")
    }

    #[inline]
    fn agent_mut(&mut self, a: u32) -> &mut Agent {
        self.agents[a as usize].as_mut().expect("live agent slot")
    }

    #[inline]
    fn framework(&self, f: u32) -> &Framework {
        self.frameworks[f as usize]
            .as_ref()
            .expect("live framework slot")
    }

    #[inline]
    fn framework_mut(&mut self, f: u32) -> &mut Framework {
        self.frameworks[f as usize]
            .as_mut()
            .expect("live framework slot")
    }

    // ----- agents -------------------------------------------------------------------

    /// Adds an agent. `used` holds what each framework is already allocated there, in
    /// allocated form (as [`Allocation::resources`]). A framework not added yet is
    /// created as an inactive placeholder that [`Allocator::add_framework`] adopts.
    pub fn add_agent(
        &mut self,
        id: AgentId,
        spec: AgentSpec,
        used: &HashMap<FrameworkId, Resources>,
    ) -> Result<()> {
        if self.agent_ids.contains_key(&id) {
            return Err(AllocatorError::DuplicateAgent(id));
        }
        let mut used_sum = Resources::new();
        for (fw, res) in used {
            self.check_allocation_roles(&id, fw, res)?;
            for role in res.allocations().keys() {
                validate_role(role).map_err(|e| role_error(role, e))?;
            }
            used_sum += res;
        }
        used_sum.unallocate();
        if !spec.total.contains(&used_sum) {
            return Err(AllocatorError::InvalidResources {
                agent: id,
                reason: format!("used {used_sum} is not within total {}", spec.total),
            });
        }
        let mut used_slots = Vec::with_capacity(used.len());
        for (fw, res) in used {
            let f = match self.framework_ids.get(fw) {
                Some(&f) => f,
                None => self.new_framework(fw.clone(), true),
            };
            used_slots.push((f, res.clone()));
        }
        let slot = match self.free_agent_slots.pop() {
            Some(s) => s,
            None => {
                self.agents.push(None);
                (self.agents.len() - 1) as u32
            }
        };
        let mut agent = Agent::new(id.clone(), spec, self.options.master_region.as_deref());
        self.install_total(&mut agent);
        self.agents[slot as usize] = Some(agent);
        self.agent_ids.insert(id, slot);
        self.filters.add_agent(slot);
        for (f, res) in used_slots {
            let mut plain = res.clone();
            plain.unallocate();
            self.agent_mut(slot).available -= &plain;
            self.take_allocation(f, slot, &res);
        }
        Ok(())
    }

    /// Adds the derived quantities of `agent`'s total to the pool.
    fn install_total(&mut self, agent: &mut Agent) {
        let reserved = agent.measure_total(&mut self.names);
        agent.reserved.clear();
        for (role, q) in reserved {
            // Reservation roles of valid resources are valid roles.
            if let Ok(node) = self.roles.ensure(&role) {
                self.roles.track_reserved(node, &q, true);
                agent.reserved.push((node, q));
            }
        }
        self.total.add(&agent.total_q);
        self.free_unallocated.add(&agent.free_q);
        self.dirty = true;
    }

    /// Removes the derived quantities of `agent`'s total from the pool.
    fn uninstall_total(&mut self, agent: &Agent) {
        for (node, q) in &agent.reserved {
            self.roles.track_reserved(*node, q, false);
        }
        self.total.sub(&agent.total_q);
        self.free_unallocated.sub(&agent.free_q);
        self.dirty = true;
    }

    /// Checks that every resource of `res` carries an allocation role.
    fn check_allocation_roles(
        &self,
        agent: &AgentId,
        fw: &FrameworkId,
        res: &Resources,
    ) -> Result<()> {
        if res.iter().any(|r| r.allocation_role().is_none()) {
            return Err(AllocatorError::NotAllocated {
                framework: fw.clone(),
                agent: agent.clone(),
                resources: res.to_string(),
            });
        }
        Ok(())
    }

    /// Removes an agent; everything allocated there is forgotten, its filters dropped.
    pub fn remove_agent(&mut self, id: &AgentId) -> Result<()> {
        let a = self.agent_slot(id)?;
        let fws: Vec<u32> = self.agent(a).allocated.keys().copied().collect();
        for f in fws {
            if let Some(res) = self.agent_mut(a).allocated.remove(&f) {
                self.untrack(f, &res);
                self.framework_mut(f).agents.remove(&a);
            }
        }
        let agent = self.agents[a as usize].take().expect("live agent slot");
        self.uninstall_total(&agent);
        self.filters.remove_agent(a);
        self.agent_ids.remove(id);
        self.free_agent_slots.push(a);
        Ok(())
    }

    /// Changes an agent's total (e.g. oversubscription changed its revocable resources).
    /// The new total must still hold everything allocated there.
    pub fn update_agent_total(&mut self, id: &AgentId, total: Resources) -> Result<()> {
        let a = self.agent_slot(id)?;
        let allocated = self.agent(a).allocated_sum();
        if !total.contains(&allocated) {
            return Err(AllocatorError::InvalidResources {
                agent: id.clone(),
                reason: format!("allocated {allocated} is not within new total {total}"),
            });
        }
        let mut agent = self.agents[a as usize].take().expect("live agent slot");
        self.uninstall_total(&agent);
        // Allocated quota-free quantities were subtracted from the headroom on allocation
        // and are still allocated: keep them out of the new total's contribution.
        agent.available = &total - &allocated;
        agent.spec.total = total;
        self.install_total(&mut agent);
        self.agents[a as usize] = Some(agent);
        Ok(())
    }

    /// Converts part of what `framework` holds on `agent`: `from` (allocated form, held by
    /// it) becomes `to` (allocated form), and the agent's total follows. This is how an
    /// accepted RESERVE, UNRESERVE, CREATE or DESTROY changes offered resources in place.
    pub fn update_allocation(
        &mut self,
        framework: &FrameworkId,
        agent: &AgentId,
        from: &Resources,
        to: &Resources,
    ) -> Result<()> {
        let f = self.framework_slot(framework)?;
        let a = self.agent_slot(agent)?;
        if !self
            .agent(a)
            .allocated
            .get(&f)
            .is_some_and(|held| held.contains(from))
        {
            return Err(AllocatorError::NotAllocated {
                framework: framework.clone(),
                agent: agent.clone(),
                resources: from.to_string(),
            });
        }
        let mut from_plain = from.clone();
        from_plain.unallocate();
        let mut to_plain = to.clone();
        to_plain.unallocate();
        let old_total = &self.agent(a).spec.total;
        if !old_total.contains(&from_plain) {
            return Err(AllocatorError::InvalidResources {
                agent: agent.clone(),
                reason: format!("{from_plain} is not within total {old_total}"),
            });
        }
        let new_total = &(old_total - &from_plain) + &to_plain;
        self.untrack(f, from);
        let emptied = {
            let held = self
                .agent_mut(a)
                .allocated
                .get_mut(&f)
                .expect("checked above");
            *held -= from;
            held.is_empty()
        };
        if emptied {
            self.agent_mut(a).allocated.remove(&f);
            self.framework_mut(f).agents.remove(&a);
        }
        let mut record = self.agents[a as usize].take().expect("live agent slot");
        self.uninstall_total(&record);
        record.available = &(&new_total - &record.allocated_sum()) - &to_plain;
        record.spec.total = new_total;
        self.install_total(&mut record);
        self.agents[a as usize] = Some(record);
        self.take_allocation(f, a, to);
        Ok(())
    }

    /// Stops offering an agent (draining, maintenance); its allocations are kept.
    pub fn deactivate_agent(&mut self, id: &AgentId) -> Result<()> {
        let a = self.agent_slot(id)?;
        self.agent_mut(a).active = false;
        Ok(())
    }

    /// Offers an agent again.
    pub fn activate_agent(&mut self, id: &AgentId) -> Result<()> {
        let a = self.agent_slot(id)?;
        self.agent_mut(a).active = true;
        Ok(())
    }

    // ----- frameworks ---------------------------------------------------------------

    fn validate_spec(&self, id: &FrameworkId, spec: &FrameworkSpec) -> Result<()> {
        if spec.roles.is_empty() {
            return Err(AllocatorError::NoRoles(id.clone()));
        }
        if spec.roles.len() > 1 && !spec.capabilities.multi_role {
            return Err(AllocatorError::NotMultiRole(id.clone()));
        }
        for role in &spec.roles {
            validate_role(role).map_err(|e| role_error(role, e))?;
        }
        if let Some(role) = spec
            .suppressed_roles
            .iter()
            .find(|r| !spec.roles.contains(r))
        {
            return Err(AllocatorError::NotSubscribed {
                framework: id.clone(),
                role: role.clone(),
            });
        }
        Ok(())
    }

    /// Adds a framework. `used` holds what it is already allocated per (added) agent, in
    /// allocated form; it is taken out of those agents' free resources, except what
    /// [`Allocator::add_agent`] already declared for it.
    ///
    /// A framework that an agent declared allocations for before the framework was added
    /// (master failover: agents re-register before frameworks re-subscribe) exists as an
    /// inactive placeholder holding those allocations; adding it adopts the placeholder.
    pub fn add_framework(
        &mut self,
        id: FrameworkId,
        spec: FrameworkSpec,
        used: &HashMap<AgentId, Resources>,
        active: bool,
    ) -> Result<()> {
        let existing = self.framework_ids.get(&id).copied();
        if let Some(f) = existing {
            if !self.framework(f).placeholder {
                return Err(AllocatorError::DuplicateFramework(id));
            }
        }
        self.validate_spec(&id, &spec)?;
        let mut used_slots = Vec::with_capacity(used.len());
        for (agent, res) in used {
            let a = self.agent_slot(agent)?;
            self.check_allocation_roles(agent, &id, res)?;
            for role in res.allocations().keys() {
                validate_role(role).map_err(|e| role_error(role, e))?;
            }
            let known = existing
                .and_then(|f| self.agent(a).allocated.get(&f))
                .is_some_and(|held| held.contains(res));
            if known {
                continue;
            }
            let mut plain = res.clone();
            plain.unallocate();
            if !self.agent(a).available.contains(&plain) {
                return Err(AllocatorError::InvalidResources {
                    agent: agent.clone(),
                    reason: format!("used {plain} is not free there"),
                });
            }
            used_slots.push((a, res.clone()));
        }
        let slot = match existing {
            Some(f) => f,
            None => self.new_framework(id, false),
        };
        self.apply_spec(slot, &spec, Some(active));
        for (a, res) in used_slots {
            let mut plain = res.clone();
            plain.unallocate();
            self.agent_mut(a).available -= &plain;
            self.take_allocation(slot, a, &res);
        }
        Ok(())
    }

    /// A new framework entry: inactive, no role, no filter.
    fn new_framework(&mut self, id: FrameworkId, placeholder: bool) -> u32 {
        let slot = match self.free_framework_slots.pop() {
            Some(s) => s,
            None => {
                self.frameworks.push(None);
                (self.frameworks.len() - 1) as u32
            }
        };
        self.frameworks[slot as usize] = Some(Framework {
            id: id.clone(),
            roles: Vec::new(),
            capabilities: Capabilities::default(),
            active: false,
            placeholder,
            agents: IndexMap::default(),
        });
        self.framework_ids.insert(id, slot);
        slot
    }

    /// Applies a (validated) spec to framework `f`: roles, suppression, capabilities and,
    /// if given, activity. Roles left keep their allocations but get no more offers.
    fn apply_spec(&mut self, f: u32, spec: &FrameworkSpec, active: Option<bool>) {
        let mut nodes = Vec::with_capacity(spec.roles.len());
        for role in &spec.roles {
            // Validated by `validate_spec`.
            if let Ok(node) = self.roles.ensure(role) {
                nodes.push((node, spec.suppressed_roles.contains(role)));
            }
        }
        for (node, _) in &nodes {
            self.ensure_framework_role(f, *node);
        }
        self.change_framework(f, |fw| {
            fw.capabilities = spec.capabilities;
            fw.placeholder = false;
            if let Some(active) = active {
                fw.active = active;
            }
            for r in &mut fw.roles {
                match nodes.iter().find(|(n, _)| *n == r.role) {
                    Some((_, suppressed)) => {
                        r.subscribed = true;
                        r.suppressed = *suppressed;
                    }
                    None => {
                        r.subscribed = false;
                        r.suppressed = false;
                    }
                }
            }
        });
    }

    /// Records `res` (allocated form, already out of `available`) as allocated to `f` on `a`.
    fn take_allocation(&mut self, f: u32, a: u32, res: &Resources) {
        if res.is_empty() {
            return;
        }
        for (role, part) in res.allocations() {
            let Ok(node) = self.roles.ensure(&role) else {
                continue;
            };
            self.ensure_framework_role(f, node);
            let (all, free) = measure(&part, &mut self.names);
            self.track(f, node, &all, &free, true);
        }
        let agent = self.agent_mut(a);
        *agent.allocated.entry(f).or_default() += res;
        self.framework_mut(f).agents.insert(a, ());
    }

    /// Makes sure `f` has an entry (maybe unsubscribed) for role node `node`, with its
    /// decline-filter subject.
    fn ensure_framework_role(&mut self, f: u32, node: u32) {
        if self.framework(f).role(node).is_none() {
            let subject = self.free_subjects.pop().unwrap_or_else(|| {
                self.next_subject += 1;
                self.next_subject - 1
            });
            let uid = self.next_uid;
            self.next_uid += 1;
            self.filters.add_subject(subject, uid, false);
            self.framework_mut(f).roles.push(FrameworkRole {
                role: node,
                subject,
                subscribed: false,
                suppressed: false,
                alloc: Quantities::default(),
                allocations: 0,
            });
            self.roles.node_mut(node).frameworks.update(f, 0.0, 0);
        }
    }

    /// Books an allocation (`add`) or its return to framework `f` in role `node`.
    fn track(&mut self, f: u32, node: u32, all: &Quantities, free: &Quantities, add: bool) {
        self.roles.track(node, all, free, add, &self.total);
        if add {
            self.free_unallocated.sub(free);
        } else {
            self.free_unallocated.add(free);
        }
        let total = &self.total;
        let fw = self.frameworks[f as usize]
            .as_mut()
            .expect("live framework slot");
        if let Some(r) = fw.role_mut(node) {
            if add {
                r.alloc.add(all);
                r.allocations += 1;
            } else {
                r.alloc.sub(all);
            }
            let share = r.alloc.dominant_share(total);
            let count = r.allocations;
            self.roles.node_mut(node).frameworks.update(f, share, count);
        }
    }

    /// Books the return of `res` (allocated form) by `f`.
    fn untrack(&mut self, f: u32, res: &Resources) {
        for (role, part) in res.allocations() {
            if let Some(node) = self.roles.get(&role) {
                let (all, free) = measure(&part, &mut self.names);
                self.track(f, node, &all, &free, false);
            }
        }
    }

    /// Applies `change` to framework `f`, keeping offerable counts and filter
    /// eligibility in step.
    fn change_framework(&mut self, f: u32, change: impl FnOnce(&mut Framework)) {
        let before = self.framework(f).offerable_roles();
        change(self.framework_mut(f));
        let after = self.framework(f).offerable_roles();
        for r in &before {
            if !after.contains(r) {
                self.roles.add_offerable(*r, -1);
            }
        }
        for r in &after {
            if !before.contains(r) {
                self.roles.add_offerable(*r, 1);
            }
        }
        let fw = self.framework(f);
        let eligibility: Vec<(u32, bool)> = fw
            .roles
            .iter()
            .map(|r| (r.subject, fw.offerable(r)))
            .collect();
        for (subject, eligible) in eligibility {
            self.filters.set_eligible(subject, eligible);
        }
    }

    /// Removes a framework; everything allocated to it becomes free again.
    pub fn remove_framework(&mut self, id: &FrameworkId) -> Result<()> {
        let f = self.framework_slot(id)?;
        self.change_framework(f, |fw| fw.active = false);
        let agents: Vec<u32> = self.framework(f).agents.keys().copied().collect();
        for a in agents {
            if let Some(res) = self.agent_mut(a).allocated.remove(&f) {
                self.untrack(f, &res);
                let mut plain = res;
                plain.unallocate();
                self.agent_mut(a).available += plain;
            }
        }
        let fw = self.frameworks[f as usize]
            .take()
            .expect("live framework slot");
        for r in &fw.roles {
            self.roles.node_mut(r.role).frameworks.remove(f);
            self.filters.remove_subject(r.subject);
            self.free_subjects.push(r.subject);
        }
        self.framework_ids.remove(id);
        self.free_framework_slots.push(f);
        Ok(())
    }

    /// Offers to a framework again (it reconnected).
    pub fn activate_framework(&mut self, id: &FrameworkId) -> Result<()> {
        let f = self.framework_slot(id)?;
        self.change_framework(f, |fw| fw.active = true);
        Ok(())
    }

    /// Stops offering to a framework (it disconnected); its allocations are kept.
    pub fn deactivate_framework(&mut self, id: &FrameworkId) -> Result<()> {
        let f = self.framework_slot(id)?;
        self.change_framework(f, |fw| fw.active = false);
        Ok(())
    }

    /// Replaces a framework's roles, capabilities and suppressed roles. Roles it leaves
    /// keep their outstanding allocations until recovered but get no more offers.
    pub fn update_framework(&mut self, id: &FrameworkId, spec: FrameworkSpec) -> Result<()> {
        let f = self.framework_slot(id)?;
        self.validate_spec(id, &spec)?;
        self.apply_spec(f, &spec, None);
        Ok(())
    }

    fn role_nodes(&self, f: u32, id: &FrameworkId, roles: &[String]) -> Result<Vec<u32>> {
        if roles.is_empty() {
            return Ok(self
                .framework(f)
                .roles
                .iter()
                .filter(|r| r.subscribed)
                .map(|r| r.role)
                .collect());
        }
        roles
            .iter()
            .map(|role| {
                self.roles
                    .get(role)
                    .filter(|n| self.framework(f).role(*n).is_some_and(|r| r.subscribed))
                    .ok_or_else(|| AllocatorError::NotSubscribed {
                        framework: id.clone(),
                        role: role.clone(),
                    })
            })
            .collect()
    }

    /// Stops offers to a framework for `roles` (all its roles if empty).
    pub fn suppress(&mut self, id: &FrameworkId, roles: &[String]) -> Result<()> {
        let f = self.framework_slot(id)?;
        let nodes = self.role_nodes(f, id, roles)?;
        self.change_framework(f, |fw| {
            for r in &mut fw.roles {
                if nodes.contains(&r.role) {
                    r.suppressed = true;
                }
            }
        });
        Ok(())
    }

    /// Resumes offers to a framework for `roles` and, as Mesos does, clears its decline
    /// filters for them; with no roles, for all its roles, and clears every filter.
    pub fn revive(&mut self, id: &FrameworkId, roles: &[String]) -> Result<()> {
        let f = self.framework_slot(id)?;
        let nodes = self.role_nodes(f, id, roles)?;
        self.change_framework(f, |fw| {
            for r in &mut fw.roles {
                if nodes.contains(&r.role) {
                    r.suppressed = false;
                }
            }
        });
        let revived: Vec<u32> = self
            .framework(f)
            .roles
            .iter()
            .filter(|r| roles.is_empty() || nodes.contains(&r.role))
            .map(|r| r.subject)
            .collect();
        for subject in revived {
            self.filters.clear_subject(subject);
        }
        Ok(())
    }

    // ----- resources back -----------------------------------------------------------

    /// Takes back `resources` (allocated form) of `framework` on `agent`: a declined or
    /// rescinded offer, or resources of finished tasks. With `refuse_for`, `agent` is not
    /// offered to `framework` again until `now + refuse_for` for the roles `resources` were
    /// allocated to. `resources` may be empty to install a filter only, for every role the
    /// framework is subscribed to.
    pub fn recover_resources(
        &mut self,
        framework: &FrameworkId,
        agent: &AgentId,
        resources: &Resources,
        refuse_for: Option<Duration>,
        now: Instant,
    ) -> Result<()> {
        let f = self.framework_slot(framework)?;
        let a = self.agent_slot(agent)?;
        if !resources.is_empty() {
            let held = self.agent(a).allocated.get(&f);
            if !held.is_some_and(|h| h.contains(resources)) {
                return Err(AllocatorError::NotAllocated {
                    framework: framework.clone(),
                    agent: agent.clone(),
                    resources: resources.to_string(),
                });
            }
            let ag = self.agent_mut(a);
            let emptied = match ag.allocated.get_mut(&f) {
                Some(held) => {
                    *held -= resources;
                    held.is_empty()
                }
                None => false,
            };
            if emptied {
                ag.allocated.remove(&f);
            }
            if ag.allocated.is_empty() {
                // Nothing allocated any more: available is the total (sharing its keys).
                ag.available = ag.spec.total.clone();
            } else {
                let mut plain = resources.clone();
                plain.unallocate();
                ag.available += plain;
            }
            if emptied {
                self.framework_mut(f).agents.remove(&a);
            }
            self.untrack(f, resources);
        }
        if let Some(d) = refuse_for {
            if !d.is_zero() {
                if let Some(until) = now.checked_add(d) {
                    for subject in self.refused_subjects(f, resources) {
                        self.filters.install(subject, a, until);
                    }
                }
            }
        }
        Ok(())
    }

    /// The filter subjects a refusal of `resources` (allocated form) by `f` applies to:
    /// those of the roles they were allocated to or, when they name none (a refusal with
    /// no resources), of every role the framework is subscribed to.
    fn refused_subjects(&self, f: u32, resources: &Resources) -> Vec<u32> {
        let fw = self.framework(f);
        let allocated: Vec<u32> = resources
            .allocations()
            .keys()
            .filter_map(|role| self.roles.get(role))
            .filter_map(|node| fw.role(node))
            .map(|r| r.subject)
            .collect();
        if !allocated.is_empty() {
            return allocated;
        }
        fw.roles
            .iter()
            .filter(|r| r.subscribed)
            .map(|r| r.subject)
            .collect()
    }

    // ----- roles --------------------------------------------------------------------

    /// Sets role weights (roles not listed keep theirs; the default is 1).
    pub fn update_weights<'a, I>(&mut self, weights: I) -> Result<()>
    where
        I: IntoIterator<Item = (&'a str, f64)>,
    {
        let weights: Vec<(&str, f64)> = weights.into_iter().collect();
        for (role, w) in &weights {
            Allocator::check_weight(role, *w)?;
        }
        for (role, w) in weights {
            let node = self.roles.ensure(role).map_err(|e| role_error(role, e))?;
            self.roles.node_mut(node).weight = w;
        }
        self.dirty = true;
        Ok(())
    }

    /// Whether [`Allocator::update_weights`] would take `weight` for `role`: a valid role
    /// name and a positive finite weight. Lets a caller check before it commits elsewhere.
    pub fn check_weight(role: &str, weight: f64) -> Result<()> {
        validate_role(role).map_err(|e| role_error(role, e))?;
        if !(weight.is_finite() && weight > 0.0) {
            return Err(AllocatorError::InvalidWeight {
                role: role.to_string(),
                weight,
            });
        }
        Ok(())
    }

    /// Whether [`Allocator::update_quota`] would take `quota` for `role`: a valid role,
    /// finite non-negative amounts, no guarantee above its limit.
    pub fn check_quota(role: &str, quota: &Quota) -> Result<()> {
        validate_role(role).map_err(|e| role_error(role, e))?;
        let bad = |reason: String| AllocatorError::InvalidQuota {
            role: role.to_string(),
            reason,
        };
        for (name, v) in quota.guarantees.iter().chain(&quota.limits) {
            if !(v.is_finite() && *v >= 0.0) || Scalar::from_f64(*v).is_err() {
                return Err(bad(format!("{name} is {v}")));
            }
        }
        for (name, g) in &quota.guarantees {
            if let Some(l) = quota.limits.get(name) {
                if g > l {
                    return Err(bad(format!("guarantee {g} of {name} above limit {l}")));
                }
            }
        }
        Ok(())
    }

    /// Sets a role's quota (an empty [`Quota`] removes it).
    pub fn update_quota(&mut self, role: &str, quota: Quota) -> Result<()> {
        Allocator::check_quota(role, &quota)?;
        let node = self.roles.ensure(role).map_err(|e| role_error(role, e))?;
        let guarantees = self.names.quantities(&quota.guarantees);
        let limits_q = self.names.quantities(&quota.limits);
        let limits: Vec<(usize, i64)> = quota
            .limits
            .keys()
            .filter_map(|n| self.names.get(n))
            .map(|id| (id, limits_q.get(id)))
            .collect();
        let n = self.roles.node_mut(node);
        let had = n.has_guarantees();
        n.guarantees = guarantees;
        n.limits = limits;
        let has = n.has_guarantees();
        match (had, has) {
            (false, true) => self.guaranteed_roles += 1,
            (true, false) => self.guaranteed_roles -= 1,
            _ => {}
        }
        Ok(())
    }

    // ----- queries ------------------------------------------------------------------

    /// An agent's free (unallocated) resources.
    pub fn available(&self, agent: &AgentId) -> Result<&Resources> {
        Ok(&self.agent(self.agent_slot(agent)?).available)
    }

    /// An agent's total resources.
    pub fn total(&self, agent: &AgentId) -> Result<&Resources> {
        Ok(&self.agent(self.agent_slot(agent)?).spec.total)
    }

    /// What is allocated on an agent, per framework (allocated form).
    pub fn allocated(&self, agent: &AgentId) -> Result<BTreeMap<FrameworkId, Resources>> {
        let a = self.agent(self.agent_slot(agent)?);
        Ok(a.allocated
            .iter()
            .map(|(f, r)| (self.framework(*f).id.clone(), r.clone()))
            .collect())
    }

    /// Everything allocated to a framework, per agent (allocated form).
    pub fn framework_allocation(
        &self,
        framework: &FrameworkId,
    ) -> Result<BTreeMap<AgentId, Resources>> {
        let f = self.framework_slot(framework)?;
        Ok(self
            .framework(f)
            .agents
            .keys()
            .filter_map(|a| {
                let agent = self.agent(*a);
                agent
                    .allocated
                    .get(&f)
                    .map(|r| (agent.id.clone(), r.clone()))
            })
            .collect())
    }

    /// The scalar quantities allocated to a role's subtree (empty if unknown).
    pub fn role_allocation(&self, role: &str) -> BTreeMap<String, f64> {
        self.roles
            .get(role)
            .map(|n| self.roles.node(n).subtree_alloc.to_map(&self.names))
            .unwrap_or_default()
    }

    /// A role's quota consumption: allocations plus reservations of its subtree.
    pub fn role_consumed_quota(&self, role: &str) -> BTreeMap<String, f64> {
        self.roles
            .get(role)
            .map(|n| self.roles.node(n).consumed().to_map(&self.names))
            .unwrap_or_default()
    }

    /// Whether `framework` currently has a decline filter on `agent` for any of its roles
    /// (as of the last allocation pass's expiry processing).
    pub fn is_filtered(&self, framework: &FrameworkId, agent: &AgentId) -> Result<bool> {
        let f = self.framework_slot(framework)?;
        let a = self.agent_slot(agent)?;
        let roles = &self.framework(f).roles;
        Ok(roles.iter().any(|r| self.filters.is_filtered(r.subject, a)))
    }

    /// Whether `framework` currently has a decline filter on `agent` for `role`.
    pub fn is_filtered_for_role(
        &self,
        framework: &FrameworkId,
        agent: &AgentId,
        role: &str,
    ) -> Result<bool> {
        let f = self.framework_slot(framework)?;
        let a = self.agent_slot(agent)?;
        let entry = self.roles.get(role).and_then(|n| self.framework(f).role(n));
        Ok(entry.is_some_and(|r| self.filters.is_filtered(r.subject, a)))
    }

    /// The number of live decline filters of a framework, over its roles.
    pub fn filter_count(&self, framework: &FrameworkId) -> Result<usize> {
        let f = self.framework_slot(framework)?;
        let roles = &self.framework(f).roles;
        Ok(roles.iter().map(|r| self.filters.count(r.subject)).sum())
    }

    /// The ids of all agents.
    pub fn agent_ids(&self) -> impl Iterator<Item = &AgentId> {
        self.agent_ids.keys()
    }

    /// The ids of all frameworks.
    pub fn framework_ids(&self) -> impl Iterator<Item = &FrameworkId> {
        self.framework_ids.keys()
    }

    /// Drops the decline filters that expire at or before `now` (an allocation pass does
    /// this itself).
    pub fn expire_filters(&mut self, now: Instant) {
        self.filters.expire(now);
    }
}
