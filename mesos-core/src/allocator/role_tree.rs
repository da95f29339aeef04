//! The role hierarchy: weights, quotas, per-subtree bookkeeping and the DRF order of roles.
//!
//! Roles form a tree by path (`eng/web` is a child of `eng`). Every node keeps, for its
//! subtree, the allocated quantities (for DRF), the allocated unreserved non-revocable
//! quantities and the reserved quantities (together: quota consumption, as Mesos 1.9+
//! counts it), and how many frameworks could currently take offers in it.
//!
//! Each node orders its children with an incremental [`Sorter`]; a role that itself has
//! frameworks also appears among its own children as the virtual leaf [`OWN`] (as Mesos'
//! hierarchical sorter does), keyed by the allocation made to exactly that role. The
//! order in which roles are offered an agent is a depth-first walk of these sorters.

use std::collections::HashMap;

use super::quantities::Quantities;
use super::sorter::{weighted, Sorter};
use crate::resources::{validate_role, RoleError};

/// The virtual child standing for a role's own frameworks among its sub-roles.
pub(crate) const OWN: u32 = u32::MAX;

/// The root of the tree (not a role).
pub(crate) const ROOT: u32 = 0;

/// One role of the tree.
#[derive(Debug, Default)]
pub(crate) struct RoleNode {
    /// Full role name (`eng/web`).
    pub(crate) name: String,
    /// Parent node (`ROOT` for top-level roles; `None` only for the root).
    pub(crate) parent: Option<u32>,
    /// DRF weight (default 1).
    pub(crate) weight: f64,
    /// Quota guarantees of the subtree.
    pub(crate) guarantees: Quantities,
    /// Quota limits of the subtree: `(name id, millis)`.
    pub(crate) limits: Vec<(usize, i64)>,
    /// Scalars allocated to exactly this role.
    pub(crate) own_alloc: Quantities,
    own_allocations: u64,
    /// Scalars allocated anywhere in the subtree.
    pub(crate) subtree_alloc: Quantities,
    subtree_allocations: u64,
    /// Unreserved non-revocable scalars allocated in the subtree.
    pub(crate) subtree_alloc_free: Quantities,
    /// Reserved non-revocable scalars (in agent totals) for roles of the subtree.
    pub(crate) subtree_reserved: Quantities,
    /// The frameworks subscribed to this role, in DRF order within the role.
    pub(crate) frameworks: Sorter,
    /// Frameworks of this role that may currently be offered (active, not suppressed).
    pub(crate) offerable: u32,
    /// The same, summed over the subtree.
    pub(crate) subtree_offerable: u32,
    /// Children (and `OWN`) in DRF order.
    children: Sorter,
}

impl RoleNode {
    /// Quota consumption of the subtree: reservations plus unreserved allocations.
    pub(crate) fn consumed(&self) -> Quantities {
        let mut c = self.subtree_reserved.clone();
        c.add(&self.subtree_alloc_free);
        c
    }

    /// Whether the role has a non-empty guarantee.
    pub(crate) fn has_guarantees(&self) -> bool {
        !self.guarantees.is_zero()
    }
}

/// The tree of roles (see the module doc).
#[derive(Debug)]
pub(crate) struct RoleTree {
    nodes: Vec<RoleNode>,
    by_name: HashMap<String, u32>,
}

impl Default for RoleTree {
    fn default() -> RoleTree {
        RoleTree {
            nodes: vec![RoleNode {
                weight: 1.0,
                ..RoleNode::default()
            }],
            by_name: HashMap::new(),
        }
    }
}

impl RoleTree {
    /// The node of `role`, creating it and its ancestors if needed.
    pub(crate) fn ensure(&mut self, role: &str) -> Result<u32, RoleError> {
        if let Some(&id) = self.by_name.get(role) {
            return Ok(id);
        }
        validate_role(role)?;
        let mut parent = ROOT;
        let mut end = 0;
        for component in role.split('/') {
            end += component.len();
            let prefix = &role[..end];
            end += 1;
            parent = match self.by_name.get(prefix) {
                Some(&id) => id,
                None => {
                    let id = self.nodes.len() as u32;
                    let mut node = RoleNode {
                        name: prefix.to_string(),
                        parent: Some(parent),
                        weight: 1.0,
                        ..RoleNode::default()
                    };
                    node.children.update(OWN, 0.0, 0);
                    self.nodes.push(node);
                    self.by_name.insert(prefix.to_string(), id);
                    self.nodes[parent as usize].children.update(id, 0.0, 0);
                    id
                }
            };
        }
        Ok(parent)
    }

    /// The node of `role`, if known.
    pub(crate) fn get(&self, role: &str) -> Option<u32> {
        self.by_name.get(role).copied()
    }

    /// Node `id`.
    #[inline]
    pub(crate) fn node(&self, id: u32) -> &RoleNode {
        &self.nodes[id as usize]
    }

    /// Node `id`, mutably.
    #[inline]
    pub(crate) fn node_mut(&mut self, id: u32) -> &mut RoleNode {
        &mut self.nodes[id as usize]
    }

    /// `id` and its ancestors, bottom-up (roles only, not the root).
    pub(crate) fn chain(&self, id: u32) -> Chain<'_> {
        Chain {
            tree: self,
            next: (id != ROOT).then_some(id),
        }
    }

    /// Records an allocation (`add`) or its return (`!add`) of `all` scalars (of which
    /// `free` unreserved non-revocable) to `role`, re-keying the sorters on the way up.
    pub(crate) fn track(
        &mut self,
        role: u32,
        all: &Quantities,
        free: &Quantities,
        add: bool,
        total: &Quantities,
    ) {
        let node = &mut self.nodes[role as usize];
        if add {
            node.own_alloc.add(all);
            node.own_allocations += 1;
        } else {
            node.own_alloc.sub(all);
        }
        let share = weighted(node.own_alloc.dominant_share(total), node.weight);
        let count = node.own_allocations;
        node.children.update(OWN, share, count);
        let mut id = role;
        while id != ROOT {
            let node = &mut self.nodes[id as usize];
            if add {
                node.subtree_alloc.add(all);
                node.subtree_alloc_free.add(free);
                node.subtree_allocations += 1;
            } else {
                node.subtree_alloc.sub(all);
                node.subtree_alloc_free.sub(free);
            }
            let share = weighted(node.subtree_alloc.dominant_share(total), node.weight);
            let count = node.subtree_allocations;
            let parent = node.parent.unwrap_or(ROOT);
            self.nodes[parent as usize]
                .children
                .update(id, share, count);
            id = parent;
        }
    }

    /// Adds (or removes) reserved quantities of `role` in agent totals.
    pub(crate) fn track_reserved(&mut self, role: u32, reserved: &Quantities, add: bool) {
        let mut id = role;
        while id != ROOT {
            let node = &mut self.nodes[id as usize];
            if add {
                node.subtree_reserved.add(reserved);
            } else {
                node.subtree_reserved.sub(reserved);
            }
            id = node.parent.unwrap_or(ROOT);
        }
    }

    /// Changes the number of offerable frameworks of `role` by `delta`.
    pub(crate) fn add_offerable(&mut self, role: u32, delta: i32) {
        let node = &mut self.nodes[role as usize];
        node.offerable = node.offerable.saturating_add_signed(delta);
        let mut id = role;
        while id != ROOT {
            let node = &mut self.nodes[id as usize];
            node.subtree_offerable = node.subtree_offerable.saturating_add_signed(delta);
            id = node.parent.unwrap_or(ROOT);
        }
    }

    /// Re-keys every role (after the pool total or weights changed).
    pub(crate) fn rekey_all(&mut self, total: &Quantities) {
        for id in 1..self.nodes.len() {
            let node = &mut self.nodes[id];
            let own = weighted(node.own_alloc.dominant_share(total), node.weight);
            let own_count = node.own_allocations;
            node.children.update(OWN, own, own_count);
            let share = weighted(node.subtree_alloc.dominant_share(total), node.weight);
            let count = node.subtree_allocations;
            let parent = node.parent.unwrap_or(ROOT);
            self.nodes[parent as usize]
                .children
                .update(id as u32, share, count);
        }
    }

    /// Appends to `out`, in DRF order, the roles that have offerable frameworks.
    pub(crate) fn order(&self, out: &mut Vec<u32>) {
        self.visit(ROOT, out);
    }

    fn visit(&self, id: u32, out: &mut Vec<u32>) {
        for child in self.nodes[id as usize].children.iter() {
            if child == OWN {
                if self.nodes[id as usize].offerable > 0 {
                    out.push(id);
                }
            } else if self.nodes[child as usize].subtree_offerable > 0 {
                self.visit(child, out);
            }
        }
    }

    /// Whether `role` or an ancestor has a quota limit.
    pub(crate) fn is_limited(&self, role: u32) -> bool {
        self.chain(role)
            .any(|id| !self.nodes[id as usize].limits.is_empty())
    }

    /// For each limited name, how much more `role` may consume before it or an ancestor
    /// reaches its limit (may be zero; names without limit are absent).
    pub(crate) fn limit_headroom(&self, role: u32) -> Vec<(usize, i64)> {
        let mut out: Vec<(usize, i64)> = Vec::new();
        for id in self.chain(role) {
            let node = &self.nodes[id as usize];
            if node.limits.is_empty() {
                continue;
            }
            let consumed = node.consumed();
            for &(name, limit) in &node.limits {
                let room = (limit - consumed.get(name)).max(0);
                match out.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = entry.1.min(room),
                    None => out.push((name, room)),
                }
            }
        }
        out
    }

    /// The guarantee still unsatisfied for `role`: that of the nearest role of its chain
    /// with a guarantee, minus that role's consumption (clamped at zero). `None` if no
    /// role of the chain has a guarantee or it is satisfied.
    pub(crate) fn unsatisfied_guarantee(&self, role: u32) -> Option<Quantities> {
        let id = self
            .chain(role)
            .find(|id| self.nodes[*id as usize].has_guarantees())?;
        let node = &self.nodes[id as usize];
        let consumed = node.consumed();
        let mut out = Quantities::default();
        for (name, g) in node.guarantees.iter() {
            let left = g - consumed.get(name);
            if left > 0 {
                out.set(name, left);
            }
        }
        (!out.is_zero()).then_some(out)
    }

    /// The sum of unsatisfied guarantees of the outermost roles with guarantees: what
    /// must stay unallocated (unreserved, non-revocable) for quota to be met.
    pub(crate) fn required_headroom(&self) -> Quantities {
        let mut out = Quantities::default();
        for id in 1..self.nodes.len() as u32 {
            let node = &self.nodes[id as usize];
            if !node.has_guarantees() {
                continue;
            }
            let parent = node.parent.unwrap_or(ROOT);
            if self
                .chain(parent)
                .any(|a| self.nodes[a as usize].has_guarantees())
            {
                continue;
            }
            let consumed = node.consumed();
            for (name, g) in node.guarantees.iter() {
                let left = g - consumed.get(name);
                if left > 0 {
                    out.add_at(name, left);
                }
            }
        }
        out
    }
}

/// Iterator over a role and its ancestors; see [`RoleTree::chain`].
pub(crate) struct Chain<'a> {
    tree: &'a RoleTree,
    next: Option<u32>,
}

impl Iterator for Chain<'_> {
    type Item = u32;

    fn next(&mut self) -> Option<u32> {
        let id = self.next?;
        let parent = self.tree.nodes[id as usize].parent.unwrap_or(ROOT);
        self.next = (parent != ROOT).then_some(parent);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(v: &[i64]) -> Quantities {
        let mut q = Quantities::default();
        for (i, x) in v.iter().enumerate() {
            q.set(i, *x);
        }
        q
    }

    #[test]
    fn ensure_builds_ancestors_and_rejects_invalid() {
        let mut t = RoleTree::default();
        let web = t.ensure("eng/web").unwrap();
        let eng = t.get("eng").unwrap();
        assert_eq!(t.node(web).parent, Some(eng));
        assert_eq!(t.chain(web).collect::<Vec<_>>(), vec![web, eng]);
        assert!(t.ensure("a//b").is_err());
        assert!(t.ensure("").is_err());
    }

    #[test]
    fn order_is_hierarchical_drf() {
        let mut t = RoleTree::default();
        let total = q(&[100_000]);
        let a = t.ensure("a").unwrap();
        let b1 = t.ensure("b/x").unwrap();
        let b2 = t.ensure("b/y").unwrap();
        for r in [a, b1, b2] {
            t.add_offerable(r, 1);
        }
        // b/x has 10, b/y 10: subtree b has 20; a has 15.
        t.track(a, &q(&[15_000]), &q(&[15_000]), true, &total);
        t.track(b1, &q(&[10_000]), &q(&[10_000]), true, &total);
        t.track(b2, &q(&[10_000]), &q(&[10_000]), true, &total);
        let mut out = Vec::new();
        t.order(&mut out);
        assert_eq!(out, vec![a, b1, b2]);
        // Weight 2 on b: 20/2 = 10 < 15.
        t.node_mut(t.get("b").unwrap()).weight = 2.0;
        t.rekey_all(&total);
        out.clear();
        t.order(&mut out);
        assert_eq!(out, vec![b1, b2, a]);
        // A role without offerable frameworks is skipped.
        t.add_offerable(b1, -1);
        out.clear();
        t.order(&mut out);
        assert_eq!(out, vec![b2, a]);
    }

    #[test]
    fn quota_consumption_and_headroom() {
        let mut t = RoleTree::default();
        let eng = t.ensure("eng").unwrap();
        let web = t.ensure("eng/web").unwrap();
        t.node_mut(eng).guarantees = q(&[10_000]);
        t.node_mut(web).guarantees = q(&[4_000]);
        t.node_mut(eng).limits = vec![(0, 12_000)];
        t.track_reserved(web, &q(&[3_000]), true);
        t.track(web, &q(&[2_000]), &q(&[2_000]), true, &q(&[100_000]));
        assert_eq!(t.node(eng).consumed(), q(&[5_000]));
        assert_eq!(t.unsatisfied_guarantee(web), None); // 4 - 5 < 0
        assert_eq!(t.required_headroom(), q(&[5_000])); // only eng counts
        assert_eq!(t.limit_headroom(web), vec![(0, 7_000)]);
        assert!(t.is_limited(web));
    }
}
