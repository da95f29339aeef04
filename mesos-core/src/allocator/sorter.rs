//! The incremental DRF sorter: clients kept in order of weighted dominant share.
//!
//! Apache Mesos' `DRFSorter` marks itself dirty on every allocation change and re-sorts
//! all clients on the next `sort()`, which the allocator calls for every agent. Here a
//! client's position is a key in a `BTreeSet`: when its allocation changes, the owner
//! computes the new share and calls [`Sorter::update`], an `O(log n)` remove + insert.
//! Iterating in order is walking the set. Only a change of the pool total (agents added
//! or removed) or of weights changes every share; the allocator then re-keys every
//! client once, lazily, at the start of the next allocation pass.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use super::filters::IndexMap;

/// The ordering key of one client: weighted share, then allocation count, then id.
///
/// Ties on share are broken, as in Mesos, by how many allocations the client has had (so
/// equal clients take turns), then by id for determinism.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ShareKey {
    /// Dominant share divided by weight.
    pub(crate) share: f64,
    /// How many allocations the client has received.
    pub(crate) allocations: u64,
    /// The client id.
    pub(crate) id: u32,
}

impl PartialEq for ShareKey {
    fn eq(&self, other: &ShareKey) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for ShareKey {}

impl PartialOrd for ShareKey {
    fn partial_cmp(&self, other: &ShareKey) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ShareKey {
    fn cmp(&self, other: &ShareKey) -> Ordering {
        self.share
            .total_cmp(&other.share)
            .then(self.allocations.cmp(&other.allocations))
            .then(self.id.cmp(&other.id))
    }
}

/// A set of clients (by `u32` id) ordered by [`ShareKey`].
#[derive(Debug, Default, Clone)]
pub(crate) struct Sorter {
    order: BTreeSet<ShareKey>,
    keys: IndexMap<ShareKey>,
}

impl Sorter {
    /// Adds `id` with the given share, or re-keys it if present.
    pub(crate) fn update(&mut self, id: u32, share: f64, allocations: u64) {
        let key = ShareKey {
            share,
            allocations,
            id,
        };
        if let Some(old) = self.keys.insert(id, key) {
            if old == key {
                return;
            }
            self.order.remove(&old);
        }
        self.order.insert(key);
    }

    /// Removes `id` if present.
    pub(crate) fn remove(&mut self, id: u32) {
        if let Some(old) = self.keys.remove(&id) {
            self.order.remove(&old);
        }
    }

    /// Whether `id` is a client.
    #[cfg(test)]
    pub(crate) fn contains(&self, id: u32) -> bool {
        self.keys.contains_key(&id)
    }

    /// The clients, lowest weighted share first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        self.order.iter().map(|k| k.id)
    }

    /// Appends the clients in order to `out`.
    pub(crate) fn extend_into(&self, out: &mut Vec<u32>) {
        out.extend(self.iter());
    }

    /// The number of clients.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// The current key of `id`.
    #[cfg(test)]
    pub(crate) fn key(&self, id: u32) -> Option<ShareKey> {
        self.keys.get(&id).copied()
    }
}

/// The weighted dominant share used as sort key; a zero/invalid weight sorts last.
pub(crate) fn weighted(share: f64, weight: f64) -> f64 {
    if weight > 0.0 && weight.is_finite() {
        share / weight
    } else {
        f64::INFINITY
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_share_then_count_then_id() {
        let mut s = Sorter::default();
        s.update(1, 0.5, 0);
        s.update(2, 0.1, 3);
        s.update(3, 0.1, 1);
        s.update(4, 0.1, 1);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![3, 4, 2, 1]);
        s.update(3, 0.9, 2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![4, 2, 1, 3]);
        s.remove(2);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![4, 1, 3]);
        assert_eq!(s.len(), 3);
        assert!(!s.contains(2));
        assert_eq!(s.key(4).unwrap().share, 0.1);
    }

    #[test]
    fn weights_divide_shares() {
        let mut s = Sorter::default();
        s.update(1, weighted(0.4, 2.0), 0);
        s.update(2, weighted(0.3, 1.0), 0);
        assert_eq!(s.iter().collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(weighted(0.1, 0.0), f64::INFINITY);
    }
}
