//! [`Resources`]: a canonical collection of resources with Mesos' arithmetic.
//!
//! Apache Mesos keeps resources in an unsorted vector and, for every resource added,
//! subtracted or checked, scans the vector for one it can combine with: O(n·m) per
//! operation. Here the collection is a vector sorted by identity key (name, type,
//! reservation stack, allocation, disk, revocable, shared, provider), with at most one
//! entry per key, so `+`, `-` and `contains` are single merges, O(n+m), and lookups by name
//! are binary searches.
//!
//! Atomic resources (persistent volumes, MOUNT/BLOCK disks, RAW disks with an id, shared
//! resources) are never merged or split. For them the value is part of the sort key and
//! the entry carries a count: the share count of a shared resource, or how many identical
//! copies of a non-shared one are held. Subtraction removes whole copies only.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};

use super::error::ResourceError;
use super::ranges::Ranges;
use super::reservation::{validate_stack, Reservation};
use super::resource::{cmp_keys, Resource};
use super::scalar::Scalar;
use super::set::Set;
use super::value::Value;
use crate::proto::mesos::v1 as pb;

/// Below this many entries on the right-hand side, `+=`, `-=` and `contains` binary-search
/// each entry instead of merging the whole vectors.
const SMALL: usize = 4;

/// One distinct resource with its multiplicity (1 unless atomic).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Entry {
    res: Resource,
    count: u64,
}

impl Entry {
    fn one(res: Resource) -> Entry {
        Entry { res, count: 1 }
    }

    fn is_empty(&self) -> bool {
        self.count == 0 || self.res.value.is_empty()
    }

    /// How many times iteration yields this entry: shared resources once (the share
    /// count is internal, as in Mesos), other atomic ones once per copy.
    fn visible_copies(&self) -> u64 {
        if self.res.key.shared {
            1
        } else {
            self.count
        }
    }

    fn add(&mut self, other: &Entry) {
        if self.res.key.is_atomic() {
            self.count = self.count.saturating_add(other.count);
        } else {
            self.res.value.add(&other.res.value);
        }
    }

    /// Subtracts `other`; returns whether anything is left.
    fn subtract(&mut self, other: &Entry) -> bool {
        if self.res.key.is_atomic() {
            self.count = self.count.saturating_sub(other.count);
            self.count > 0
        } else {
            self.res.value.subtract(&other.res.value);
            !self.res.value.is_empty()
        }
    }

    fn contains(&self, other: &Entry) -> bool {
        if self.res.key.is_atomic() {
            self.count >= other.count
        } else {
            self.res.value.contains(&other.res.value)
        }
    }
}

/// The canonical order: identity key, then (for atomic resources only) value.
fn cmp_entry(a: &Resource, b: &Resource) -> Ordering {
    match cmp_keys(&a.key, &b.key) {
        Ordering::Equal if a.key.is_atomic() => a.value.cmp(&b.value),
        other => other,
    }
}

/// Something a merge can read from: an owned entry or a borrowed one (cloned on use).
trait EntrySource: Borrow<Entry> {
    fn into_entry(self) -> Entry;
    /// `self + other`, reusing `self`'s storage when owned.
    fn plus(self, other: &Entry) -> Entry;
}

impl EntrySource for Entry {
    fn into_entry(self) -> Entry {
        self
    }

    fn plus(mut self, other: &Entry) -> Entry {
        self.add(other);
        self
    }
}

impl EntrySource for &Entry {
    fn into_entry(self) -> Entry {
        self.clone()
    }

    fn plus(self, other: &Entry) -> Entry {
        if self.res.key.is_atomic() {
            return Entry {
                res: self.res.clone(),
                count: self.count.saturating_add(other.count),
            };
        }
        match self.res.value.sum(&other.res.value) {
            Some(value) => Entry {
                res: Resource {
                    key: self.res.key.clone(),
                    value,
                },
                count: self.count,
            },
            None => self.clone(),
        }
    }
}

/// Merges two canonical sequences into one, adding entries with equal identity.
fn merge_add<L, R>(mut left: L, mut right: R, capacity: usize) -> Vec<Entry>
where
    L: Iterator,
    L::Item: EntrySource,
    R: Iterator,
    R::Item: EntrySource,
{
    let mut out = Vec::with_capacity(capacity);
    let mut a = left.next();
    let mut b = right.next();
    loop {
        match (a.take(), b.take()) {
            (Some(x), Some(y)) => match cmp_entry(&x.borrow().res, &y.borrow().res) {
                Ordering::Less => {
                    out.push(x.into_entry());
                    a = left.next();
                    b = Some(y);
                }
                Ordering::Greater => {
                    out.push(y.into_entry());
                    a = Some(x);
                    b = right.next();
                }
                Ordering::Equal => {
                    out.push(x.plus(y.borrow()));
                    a = left.next();
                    b = right.next();
                }
            },
            (Some(x), None) => {
                out.push(x.into_entry());
                out.extend(left.map(EntrySource::into_entry));
                break;
            }
            (None, Some(y)) => {
                out.push(y.into_entry());
                out.extend(right.map(EntrySource::into_entry));
                break;
            }
            (None, None) => break,
        }
    }
    out
}

/// A collection of resources in canonical form (see the module doc).
///
/// Equality is semantic: two collections are equal when they hold the same resources,
/// whatever order they were added in.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Resources {
    entries: Vec<Entry>,
}

impl Resources {
    /// An empty collection.
    pub const fn new() -> Resources {
        Resources {
            entries: Vec::new(),
        }
    }

    /// Builds from entries in any order, dropping empty ones and combining equal ones.
    fn from_unsorted(mut entries: Vec<Entry>) -> Resources {
        entries.retain(|e| !e.is_empty());
        entries.sort_by(|a, b| cmp_entry(&a.res, &b.res));
        let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
        for e in entries {
            match out.last_mut() {
                Some(last) if cmp_entry(&last.res, &e.res) == Ordering::Equal => last.add(&e),
                _ => out.push(e),
            }
        }
        Resources { entries: out }
    }

    /// Reads and validates proto resources; fails on the first invalid one.
    pub fn try_from_protos<'a, I>(protos: I) -> Result<Resources, ResourceError>
    where
        I: IntoIterator<Item = &'a pb::Resource>,
    {
        let entries = protos
            .into_iter()
            .map(|p| Resource::from_proto(p).map(Entry::one))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Resources::from_unsorted(entries))
    }

    /// Reads proto resources as Mesos' `Resources(RepeatedPtrField)` constructor does:
    /// invalid ones are silently skipped.
    pub fn from_protos_lossy<'a, I>(protos: I) -> Resources
    where
        I: IntoIterator<Item = &'a pb::Resource>,
    {
        let entries = protos
            .into_iter()
            .filter_map(|p| Resource::from_proto(p).ok().map(Entry::one))
            .collect();
        Resources::from_unsorted(entries)
    }

    /// The resources of an offer as a framework sizes tasks against them: read like
    /// [`Resources::from_protos_lossy`], with the allocation role taken off so that they
    /// compare with resources the framework writes without one.
    pub fn offered<'a, I>(protos: I) -> Resources
    where
        I: IntoIterator<Item = &'a pb::Resource>,
    {
        let mut resources = Resources::from_protos_lossy(protos);
        resources.unallocate();
        resources
    }

    /// Writes the resources as post-refinement protos, one per resource yielded by
    /// [`Resources::iter`].
    pub fn to_protos(&self) -> Vec<pb::Resource> {
        self.iter().map(Resource::to_proto).collect()
    }

    /// Writes the resources in the pre-refinement format; fails if any has a refined
    /// reservation stack.
    pub fn to_protos_pre_refinement(&self) -> Result<Vec<pb::Resource>, ResourceError> {
        self.iter().map(Resource::to_proto_pre_refinement).collect()
    }

    /// Whether the collection holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many resources [`Resources::iter`] yields.
    pub fn len(&self) -> usize {
        self.entries
            .iter()
            .map(|e| usize::try_from(e.visible_copies()).unwrap_or(usize::MAX))
            .fold(0usize, usize::saturating_add)
    }

    /// Iterates over the resources in canonical order. A non-shared atomic resource held
    /// several times is yielded once per copy; a shared one once, whatever its count.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            entries: self.entries.iter(),
            current: None,
            remaining: 0,
        }
    }

    /// Iterates over distinct resources with their counts (share count for shared
    /// resources, number of copies for other atomic ones, 1 otherwise).
    pub fn iter_with_counts(&self) -> impl Iterator<Item = (&Resource, u64)> + '_ {
        self.entries.iter().map(|e| (&e.res, e.count))
    }

    /// How many times exactly `resource` is held: its share count if shared, its number
    /// of copies if atomic, 1 if an equal resource is held otherwise, else 0.
    pub fn count(&self, resource: &Resource) -> u64 {
        match self.find(resource) {
            Ok(i) if self.entries[i].res.value == resource.value => self.entries[i].count,
            _ => 0,
        }
    }

    fn find(&self, resource: &Resource) -> Result<usize, usize> {
        self.entries
            .binary_search_by(|e| cmp_entry(&e.res, resource))
    }

    /// Adds one resource (empty ones are ignored).
    pub fn push(&mut self, resource: Resource) {
        self.add_entry(Entry::one(resource));
    }

    fn add_entry(&mut self, entry: Entry) {
        if entry.is_empty() {
            return;
        }
        match self.find(&entry.res) {
            Ok(i) => self.entries[i].add(&entry),
            Err(i) => self.entries.insert(i, entry),
        }
    }

    fn subtract_entry(&mut self, entry: &Entry) {
        if let Ok(i) = self.find(&entry.res) {
            if !self.entries[i].subtract(entry) {
                self.entries.remove(i);
            }
        }
    }

    fn add_sorted(&mut self, other: &Resources) {
        if other.entries.len() <= SMALL {
            for e in &other.entries {
                self.add_entry(e.clone());
            }
            return;
        }
        let left = std::mem::take(&mut self.entries);
        let capacity = left.len() + other.entries.len();
        self.entries = merge_add(left.into_iter(), other.entries.iter(), capacity);
    }

    fn subtract_sorted(&mut self, other: &Resources) {
        if other.entries.is_empty() || self.entries.is_empty() {
            return;
        }
        if other.entries.len() <= SMALL {
            for e in &other.entries {
                self.subtract_entry(e);
            }
            return;
        }
        let mut theirs = other.entries.iter().peekable();
        self.entries.retain_mut(|mine| {
            while let Some(t) = theirs.peek() {
                match cmp_entry(&t.res, &mine.res) {
                    Ordering::Less => {
                        theirs.next();
                    }
                    Ordering::Equal => {
                        let t = *t;
                        theirs.next();
                        return mine.subtract(t);
                    }
                    Ordering::Greater => return true,
                }
            }
            true
        });
    }

    /// `self - other` as a new collection, cloning only what survives.
    fn difference(&self, other: &Resources) -> Resources {
        if other.entries.len() <= SMALL {
            let mut out = self.clone();
            out.subtract_sorted(other);
            return out;
        }
        let mut out = Vec::with_capacity(self.entries.len());
        let mut theirs = other.entries.iter().peekable();
        for mine in &self.entries {
            while theirs
                .peek()
                .is_some_and(|t| cmp_entry(&t.res, &mine.res) == Ordering::Less)
            {
                theirs.next();
            }
            let Some(t) = theirs.next_if(|t| cmp_entry(&t.res, &mine.res) == Ordering::Equal)
            else {
                out.push(mine.clone());
                continue;
            };
            if mine.res.key.is_atomic() {
                let count = mine.count.saturating_sub(t.count);
                if count > 0 {
                    out.push(Entry {
                        res: mine.res.clone(),
                        count,
                    });
                }
            } else if let Some(value) = mine.res.value.difference(&t.res.value) {
                if !value.is_empty() {
                    out.push(Entry {
                        res: Resource {
                            key: mine.res.key.clone(),
                            value,
                        },
                        count: mine.count,
                    });
                }
            }
        }
        Resources { entries: out }
    }

    /// Whether `self` holds everything in `other`: for every resource of `other`, one
    /// with the same identity whose value contains it (and, for atomic resources, at
    /// least as many copies / as high a share count).
    pub fn contains(&self, other: &Resources) -> bool {
        if other.entries.len() > self.entries.len() {
            return false;
        }
        if other.entries.len() <= SMALL {
            return other.entries.iter().all(|t| self.contains_entry(t));
        }
        let mut mine = self.entries.iter();
        'theirs: for t in &other.entries {
            for m in mine.by_ref() {
                match cmp_entry(&m.res, &t.res) {
                    Ordering::Less => continue,
                    Ordering::Equal if m.contains(t) => continue 'theirs,
                    _ => return false,
                }
            }
            return false;
        }
        true
    }

    fn contains_entry(&self, entry: &Entry) -> bool {
        entry.is_empty()
            || self
                .find(&entry.res)
                .is_ok_and(|i| self.entries[i].contains(entry))
    }

    /// Whether `self` holds `resource`.
    pub fn contains_resource(&self, resource: &Resource) -> bool {
        self.contains_entry(&Entry::one(resource.clone()))
    }

    /// The resources for which `predicate` holds.
    pub fn filter<F: FnMut(&Resource) -> bool>(&self, mut predicate: F) -> Resources {
        Resources {
            entries: self
                .entries
                .iter()
                .filter(|e| predicate(&e.res))
                .cloned()
                .collect(),
        }
    }

    /// Applies `f` to every resource and re-normalizes (keys may now collide and merge).
    fn map_resources<F: FnMut(&Resource) -> Resource>(&self, mut f: F) -> Resources {
        Resources::from_unsorted(
            self.entries
                .iter()
                .map(|e| Entry {
                    res: f(&e.res),
                    count: e.count,
                })
                .collect(),
        )
    }

    fn try_map_resources<F>(&self, mut f: F) -> Result<Resources, ResourceError>
    where
        F: FnMut(&Resource) -> Result<Resource, ResourceError>,
    {
        let entries = self
            .entries
            .iter()
            .map(|e| {
                f(&e.res).map(|res| Entry {
                    res,
                    count: e.count,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Resources::from_unsorted(entries))
    }

    /// Reserved resources: all of them if `role` is `None`, else those whose reservation
    /// role (top of the stack) is exactly `role`.
    pub fn reserved(&self, role: Option<&str>) -> Resources {
        self.filter(|r| r.is_reserved(role))
    }

    /// Resources reserved for `role` or any of its descendants.
    pub fn reserved_to_role_subtree(&self, role: &str) -> Resources {
        self.filter(|r| r.is_reserved_to_role_subtree(role))
    }

    /// Reserved resources grouped by reservation role.
    pub fn reservations(&self) -> BTreeMap<String, Resources> {
        let mut out: BTreeMap<String, Resources> = BTreeMap::new();
        for e in &self.entries {
            if let Some(role) = e.res.reservation_role() {
                // Entries come in canonical order and `filter` keeps it, so pushing at the
                // end of each group keeps every group canonical.
                out.entry(role.to_string())
                    .or_default()
                    .entries
                    .push(e.clone());
            }
        }
        out
    }

    /// Unreserved resources.
    pub fn unreserved(&self) -> Resources {
        self.filter(Resource::is_unreserved)
    }

    /// Resources a framework in `role` may be offered: unreserved, or reserved for `role`
    /// or an ancestor of it.
    pub fn allocatable_to(&self, role: &str) -> Resources {
        self.filter(|r| r.is_allocatable_to(role))
    }

    /// Revocable resources.
    pub fn revocable(&self) -> Resources {
        self.filter(Resource::is_revocable)
    }

    /// Non-revocable resources.
    pub fn non_revocable(&self) -> Resources {
        self.filter(|r| !r.is_revocable())
    }

    /// Shared resources.
    pub fn shared(&self) -> Resources {
        self.filter(Resource::is_shared)
    }

    /// Non-shared resources.
    pub fn non_shared(&self) -> Resources {
        self.filter(|r| !r.is_shared())
    }

    /// Persistent volumes.
    pub fn persistent_volumes(&self) -> Resources {
        self.filter(Resource::is_persistent_volume)
    }

    /// Resources allocated to exactly `role`.
    pub fn allocated_to(&self, role: &str) -> Resources {
        self.filter(|r| r.allocation_role() == Some(role))
    }

    /// Resources allocated to `role` or any of its descendants.
    pub fn allocated_to_role_subtree(&self, role: &str) -> Resources {
        self.filter(|r| {
            r.allocation_role()
                .is_some_and(|a| super::role::is_in_subtree(a, role))
        })
    }

    /// Allocated resources grouped by allocation role (unallocated ones are left out).
    pub fn allocations(&self) -> BTreeMap<String, Resources> {
        let mut groups: BTreeMap<String, Vec<Entry>> = BTreeMap::new();
        for e in &self.entries {
            if let Some(role) = e.res.allocation_role() {
                groups.entry(role.to_string()).or_default().push(e.clone());
            }
        }
        groups
            .into_iter()
            .map(|(role, entries)| (role, Resources { entries }))
            .collect()
    }

    /// Marks every resource as allocated to `role`.
    pub fn allocate(&mut self, role: &str) {
        if self
            .entries
            .iter()
            .all(|e| e.res.allocation_role() == Some(role))
        {
            return;
        }
        *self = self.map_resources(|r| r.allocate(role));
    }

    /// Clears the allocation of every resource.
    pub fn unallocate(&mut self) {
        if self
            .entries
            .iter()
            .all(|e| e.res.allocation_role().is_none())
        {
            return;
        }
        *self = self.map_resources(Resource::unallocate);
    }

    /// Every resource re-targeted to the reservation stack `stack` (empty: unreserved),
    /// merging those that become identical. Fails if `stack` is not a valid refinement.
    pub fn flatten(&self, stack: &[Reservation]) -> Result<Resources, ResourceError> {
        validate_stack(stack)?;
        Ok(self.map_resources(|r| r.with_reservations_unchecked(stack)))
    }

    /// Every resource unreserved, merging those that become identical.
    pub fn to_unreserved(&self) -> Resources {
        self.map_resources(Resource::to_unreserved)
    }

    /// Every resource with `reservation` pushed on its stack. Fails if that is not a valid
    /// refinement for some resource.
    pub fn push_reservation(&self, reservation: &Reservation) -> Result<Resources, ResourceError> {
        self.try_map_resources(|r| r.push_reservation(reservation.clone()))
    }

    /// Every resource with its top reservation removed. Fails if some is unreserved.
    pub fn pop_reservation(&self) -> Result<Resources, ResourceError> {
        self.try_map_resources(Resource::pop_reservation)
    }

    fn named(&self, name: &str) -> &[Entry] {
        let start = self
            .entries
            .partition_point(|e| e.res.key.name.as_str() < name);
        let len = self.entries[start..]
            .iter()
            .take_while(|e| e.res.key.name == name)
            .count();
        &self.entries[start..start + len]
    }

    /// All resources named `name`.
    pub fn get(&self, name: &str) -> Resources {
        Resources {
            entries: self.named(name).to_vec(),
        }
    }

    /// All scalar resources.
    pub fn scalars(&self) -> Resources {
        self.filter(|r| r.value.as_scalar().is_some())
    }

    /// The total of the scalar resources named `name`, whatever their reservations etc.;
    /// `None` if there is none.
    pub fn scalar(&self, name: &str) -> Option<Scalar> {
        let mut found = false;
        let mut total = Scalar::ZERO;
        for e in self.named(name) {
            if let Value::Scalar(s) = e.res.value {
                found = true;
                let copies = i64::try_from(e.visible_copies()).unwrap_or(i64::MAX);
                total += Scalar::from_millis(s.millis().saturating_mul(copies));
            }
        }
        found.then_some(total)
    }

    /// The union of the ranges resources named `name`; `None` if there is none.
    pub fn ranges(&self, name: &str) -> Option<Ranges> {
        let mut total: Option<Ranges> = None;
        for e in self.named(name) {
            if let Value::Ranges(r) = &e.res.value {
                total.get_or_insert_with(Ranges::new).add(r);
            }
        }
        total
    }

    /// The union of the set resources named `name`; `None` if there is none.
    pub fn set(&self, name: &str) -> Option<Set> {
        let mut total: Option<Set> = None;
        for e in self.named(name) {
            if let Value::Set(s) = &e.res.value {
                total.get_or_insert_with(Set::new).add(s);
            }
        }
        total
    }

    /// Total `cpus`.
    pub fn cpus(&self) -> Option<Scalar> {
        self.scalar("cpus")
    }

    /// Total `mem`, in MB.
    pub fn mem(&self) -> Option<Scalar> {
        self.scalar("mem")
    }

    /// Total `disk`, in MB.
    pub fn disk(&self) -> Option<Scalar> {
        self.scalar("disk")
    }

    /// Total `gpus`.
    pub fn gpus(&self) -> Option<Scalar> {
        self.scalar("gpus")
    }

    /// All `ports`.
    pub fn ports(&self) -> Option<Ranges> {
        self.ranges("ports")
    }

    /// Whether both collections hold the same amount of every resource name (scalars
    /// summed, ranges and sets merged), whatever their reservations, allocations and disk
    /// infos: e.g. an agent's total before and after operators reserved parts of it.
    pub fn same_quantities(&self, other: &Resources) -> bool {
        let mut names = self.names();
        names.extend(other.names());
        names.iter().all(|name| {
            self.scalar(name) == other.scalar(name)
                && self.ranges(name) == other.ranges(name)
                && self.set(name) == other.set(name)
        })
    }

    /// The distinct resource names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for e in &self.entries {
            if out.last() != Some(&e.res.key.name.as_str()) {
                out.push(&e.res.key.name);
            }
        }
        out
    }
}

/// Iterator over the resources of a [`Resources`]; see [`Resources::iter`].
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    entries: std::slice::Iter<'a, Entry>,
    current: Option<&'a Resource>,
    remaining: u64,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a Resource;

    fn next(&mut self) -> Option<&'a Resource> {
        loop {
            if self.remaining > 0 {
                self.remaining -= 1;
                return self.current;
            }
            let e = self.entries.next()?;
            self.current = Some(&e.res);
            self.remaining = e.visible_copies();
        }
    }
}

impl<'a> IntoIterator for &'a Resources {
    type Item = &'a Resource;
    type IntoIter = Iter<'a>;
    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl From<Resource> for Resources {
    fn from(resource: Resource) -> Resources {
        let mut out = Resources::new();
        out.push(resource);
        out
    }
}

impl FromIterator<Resource> for Resources {
    fn from_iter<I: IntoIterator<Item = Resource>>(iter: I) -> Resources {
        Resources::from_unsorted(iter.into_iter().map(Entry::one).collect())
    }
}

impl Extend<Resource> for Resources {
    fn extend<I: IntoIterator<Item = Resource>>(&mut self, iter: I) {
        let other: Resources = iter.into_iter().collect();
        *self += other;
    }
}

impl AddAssign<&Resources> for Resources {
    fn add_assign(&mut self, other: &Resources) {
        self.add_sorted(other);
    }
}

impl AddAssign<Resources> for Resources {
    fn add_assign(&mut self, other: Resources) {
        if other.entries.len() <= SMALL {
            for e in other.entries {
                self.add_entry(e);
            }
            return;
        }
        let left = std::mem::take(&mut self.entries);
        let capacity = left.len() + other.entries.len();
        self.entries = merge_add(left.into_iter(), other.entries.into_iter(), capacity);
    }
}

impl AddAssign<Resource> for Resources {
    fn add_assign(&mut self, other: Resource) {
        self.push(other);
    }
}

impl AddAssign<&Resource> for Resources {
    fn add_assign(&mut self, other: &Resource) {
        self.push(other.clone());
    }
}

impl Add<&Resources> for &Resources {
    type Output = Resources;
    fn add(self, other: &Resources) -> Resources {
        let capacity = self.entries.len() + other.entries.len();
        Resources {
            entries: merge_add(self.entries.iter(), other.entries.iter(), capacity),
        }
    }
}

impl Add<&Resources> for Resources {
    type Output = Resources;
    fn add(mut self, other: &Resources) -> Resources {
        self += other;
        self
    }
}

impl Add<Resources> for Resources {
    type Output = Resources;
    fn add(mut self, other: Resources) -> Resources {
        self += other;
        self
    }
}

impl Add<Resource> for Resources {
    type Output = Resources;
    fn add(mut self, other: Resource) -> Resources {
        self.push(other);
        self
    }
}

impl SubAssign<&Resources> for Resources {
    fn sub_assign(&mut self, other: &Resources) {
        self.subtract_sorted(other);
    }
}

impl SubAssign<Resources> for Resources {
    fn sub_assign(&mut self, other: Resources) {
        self.subtract_sorted(&other);
    }
}

impl SubAssign<&Resource> for Resources {
    fn sub_assign(&mut self, other: &Resource) {
        self.subtract_entry(&Entry::one(other.clone()));
    }
}

impl Sub<&Resources> for &Resources {
    type Output = Resources;
    fn sub(self, other: &Resources) -> Resources {
        self.difference(other)
    }
}

impl Sub<&Resources> for Resources {
    type Output = Resources;
    fn sub(mut self, other: &Resources) -> Resources {
        self.subtract_sorted(other);
        self
    }
}

impl Sub<Resources> for Resources {
    type Output = Resources;
    fn sub(mut self, other: Resources) -> Resources {
        self.subtract_sorted(&other);
        self
    }
}

impl Sub<&Resource> for Resources {
    type Output = Resources;
    fn sub(mut self, other: &Resource) -> Resources {
        self -= other;
        self
    }
}

/// Writes Mesos' form: resources joined by `"; "`, or `{}` when empty.
impl fmt::Display for Resources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.entries.is_empty() {
            return f.write_str("{}");
        }
        for (i, r) in self.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::disk::{DiskInfo, DiskSource};
    use super::*;

    fn cpus(v: f64) -> Resource {
        Resource::scalar("cpus", v).unwrap()
    }

    fn rs(items: impl IntoIterator<Item = Resource>) -> Resources {
        items.into_iter().collect()
    }

    fn volume(id: &str, size: i64, shared: bool) -> Resource {
        let b = Resource::builder("disk", Scalar::from_units(size))
            .reservation(Reservation::new_dynamic("eng", None, None).unwrap())
            .disk(DiskInfo::new().with_persistence(id, None));
        if shared { b.shared() } else { b }.build().unwrap()
    }

    #[test]
    fn scalars_merge_and_drop_zero() {
        let r = rs([cpus(0.1), cpus(0.2), Resource::scalar("gpus", 0.0).unwrap()]);
        assert_eq!(r.to_string(), "cpus:0.3");
        assert_eq!(r.cpus(), Some(Scalar::from_millis(300)));
        assert_eq!(r.gpus(), None);
    }

    #[test]
    fn subtraction_saturates_and_contains_is_exact() {
        let a = rs([cpus(1.0)]);
        let b = rs([cpus(2.0)]);
        assert!((&a - &b).is_empty());
        assert!(!a.contains(&b));
        assert!(b.contains(&a));
    }

    #[test]
    fn identities_do_not_mix() {
        let eng = cpus(1.0)
            .push_reservation(Reservation::new_static("eng").unwrap())
            .unwrap();
        let r = rs([cpus(1.0), eng.clone()]);
        assert_eq!(r.len(), 2);
        assert_eq!(r.to_string(), "cpus:1; cpus(eng):1");
        assert_eq!(r.cpus(), Some(Scalar::from_units(2)));
        assert_eq!(r.reserved(Some("eng")), rs([eng.clone()]));
        assert_eq!(r.unreserved(), rs([cpus(1.0)]));
        assert_eq!(r.to_unreserved(), rs([cpus(2.0)]));
        assert!(!rs([cpus(2.0)]).contains(&rs([eng])));
    }

    #[test]
    fn shared_resources_count() {
        let v = volume("v1", 10, true);
        let mut r = Resources::from(v.clone());
        r += &v;
        r += &v;
        assert_eq!(r.count(&v), 3);
        assert_eq!(r.len(), 1);
        assert_eq!(r.scalar("disk"), Some(Scalar::from_units(10)));
        assert!(r.contains(&rs([v.clone(), v.clone()])));
        let two = Resources::from(v.clone()) + v.clone();
        assert!(r.contains(&two));
        assert!(!two.contains(&r));
        r -= &v;
        assert_eq!(r.count(&v), 2);
        assert_eq!(r, two);
        r -= &two;
        assert!(r.is_empty());
    }

    #[test]
    fn persistent_volumes_are_atomic() {
        let v = volume("v1", 100, false);
        let half = volume("v1", 50, false);
        let r = Resources::from(v.clone());
        // Partial subtraction does nothing, whole subtraction removes it.
        assert_eq!(&r - &Resources::from(half.clone()), r);
        assert!((&r - &Resources::from(v.clone())).is_empty());
        assert!(!r.contains(&Resources::from(half)));
        // Two copies stay two copies.
        let two = &r + &r;
        assert_eq!(two.len(), 2);
        assert_eq!(two.count(&v), 2);
        assert_eq!(two.iter().count(), 2);
        assert_eq!(two.scalar("disk"), Some(Scalar::from_units(200)));
        assert!(two.contains(&r) && !r.contains(&two));
        assert_eq!(&two - &r, r);
    }

    #[test]
    fn mount_disks_are_atomic() {
        let mount = |size| {
            Resource::builder("disk", Scalar::from_units(size))
                .disk(DiskInfo::new().with_source(DiskSource::mount("/mnt/a")))
                .build()
                .unwrap()
        };
        let path = |size| {
            Resource::builder("disk", Scalar::from_units(size))
                .disk(DiskInfo::new().with_source(DiskSource::path("/p")))
                .build()
                .unwrap()
        };
        let r = rs([mount(100)]);
        assert_eq!(&r - &rs([mount(40)]), r);
        assert!((&r - &rs([mount(100)])).is_empty());
        let p = rs([path(100), path(50)]);
        assert_eq!(p, rs([path(150)]));
        assert_eq!(&p - &rs([path(40)]), rs([path(110)]));
    }

    #[test]
    fn ranges_and_sets() {
        let ports =
            |pairs: &[(u64, u64)]| Resource::ranges("ports", pairs.iter().copied()).unwrap();
        let r = rs([ports(&[(1, 2)]), ports(&[(3, 4)])]);
        assert_eq!(r.to_string(), "ports:[1-4]");
        assert_eq!(&r - &rs([ports(&[(2, 3)])]), rs([ports(&[(1, 1), (4, 4)])]));
        let zones = Resource::set("zones", ["a", "b"]).unwrap();
        let z = Resources::from(zones) - &Resource::set("zones", ["a", "b"]).unwrap();
        assert!(z.is_empty());
    }

    #[test]
    fn allocation() {
        let mut r = rs([cpus(1.0), Resource::scalar("mem", 10.0).unwrap()]);
        r.allocate("eng");
        assert_eq!(r.allocated_to("eng").len(), 2);
        assert_eq!(r.allocations().len(), 1);
        assert_eq!(
            r.to_string(),
            "cpus(allocated: eng):1; mem(allocated: eng):10"
        );
        let merged = r.clone() + cpus(1.0);
        assert_eq!(merged.len(), 3);
        let mut m = merged;
        m.unallocate();
        assert_eq!(m, rs([cpus(2.0), Resource::scalar("mem", 10.0).unwrap()]));
    }

    #[test]
    fn flatten_and_reservation_stack() {
        let eng = Reservation::new_static("eng").unwrap();
        let web = Reservation::new_dynamic("eng/web", None, None).unwrap();
        let r = rs([cpus(1.0), cpus(2.0).push_reservation(eng.clone()).unwrap()]);
        let flat = r.flatten(std::slice::from_ref(&eng)).unwrap();
        assert_eq!(flat.to_string(), "cpus(eng):3");
        let refined = flat.push_reservation(&web).unwrap();
        assert_eq!(
            refined.reserved(Some("eng/web")).cpus(),
            Some(Scalar::from_units(3))
        );
        assert_eq!(refined.pop_reservation().unwrap(), flat);
        assert!(r.pop_reservation().is_err());
        assert!(r.flatten(&[web]).is_ok());
        assert!(r
            .flatten(&[eng, Reservation::new_dynamic("ops", None, None).unwrap()])
            .is_err());
    }

    #[test]
    fn large_merges_match_small_paths() {
        let many: Vec<Resource> = (0..20)
            .map(|i| Resource::scalar(format!("r{i:02}"), f64::from(i) + 1.0).unwrap())
            .collect();
        let a: Resources = many.iter().cloned().collect();
        let mut b = Resources::new();
        for r in &many {
            b += r;
        }
        assert_eq!(a, b);
        assert_eq!((&a + &a).scalar("r05"), Some(Scalar::from_units(12)));
        assert!((&a - &a).is_empty());
        assert!(a.contains(&a));
        assert_eq!(a.names().len(), 20);
        assert_eq!(a.get("r03").len(), 1);
    }

    #[test]
    fn proto_round_trip() {
        let r = rs([cpus(1.5), volume("v", 5, true), volume("w", 5, false)]);
        let back = Resources::try_from_protos(&r.to_protos()).unwrap();
        assert_eq!(back, r);
        assert!(Resources::try_from_protos(&[pb::Resource::default()]).is_err());
        assert!(Resources::from_protos_lossy(&[pb::Resource::default()]).is_empty());
    }
}
