//! A framework as the allocator sees it: its roles (with per-role allocation, for the
//! DRF order within each role), capabilities and state.

use super::filters::IndexMap;
use super::quantities::Quantities;
use super::{Capabilities, FrameworkId};

/// One role of a framework.
#[derive(Debug, Clone)]
pub(crate) struct FrameworkRole {
    /// Role node.
    pub(crate) role: u32,
    /// Its decline filters' subject in [`super::filters::DeclineFilters`].
    pub(crate) subject: u32,
    /// Whether the framework is subscribed to it (false: only an allocation remains).
    pub(crate) subscribed: bool,
    /// Whether offers for this role are suppressed.
    pub(crate) suppressed: bool,
    /// Scalars allocated to the framework in this role.
    pub(crate) alloc: Quantities,
    /// Allocations made to the framework in this role (sort tie-breaker).
    pub(crate) allocations: u64,
}

/// Allocator state of one framework.
#[derive(Debug)]
pub(crate) struct Framework {
    /// Caller's id.
    pub(crate) id: FrameworkId,
    /// Its roles.
    pub(crate) roles: Vec<FrameworkRole>,
    /// What it can be offered.
    pub(crate) capabilities: Capabilities,
    /// Whether it is connected and wants offers at all.
    pub(crate) active: bool,
    /// Whether it is only known from allocations agents declared (not added yet).
    pub(crate) placeholder: bool,
    /// Agents on which it holds allocations.
    pub(crate) agents: IndexMap<()>,
}

impl Framework {
    /// Whether it may be offered resources for `role` (an entry of `roles`).
    #[inline]
    pub(crate) fn offerable(&self, role: &FrameworkRole) -> bool {
        self.active && role.subscribed && !role.suppressed
    }

    /// The role nodes it may currently be offered resources for.
    pub(crate) fn offerable_roles(&self) -> Vec<u32> {
        self.roles
            .iter()
            .filter(|r| self.offerable(r))
            .map(|r| r.role)
            .collect()
    }

    /// The entry for role node `role`.
    #[inline]
    pub(crate) fn role(&self, role: u32) -> Option<&FrameworkRole> {
        self.roles.iter().find(|r| r.role == role)
    }

    /// The entry for role node `role`, mutably.
    #[inline]
    pub(crate) fn role_mut(&mut self, role: u32) -> Option<&mut FrameworkRole> {
        self.roles.iter_mut().find(|r| r.role == role)
    }
}
