//! Scalar resource quantities (`cpus:4;mem:1024`) as dense vectors over interned names.
//!
//! The allocator's bookkeeping (shares, quota consumption, headroom) only needs how much of
//! each scalar resource something holds, whatever its reservation or allocation. Names are
//! interned once per allocator so that a quantity is a `Vec<i64>` of fixed-point millis
//! indexed by name id: adding, subtracting and comparing are tight loops, exact (no float
//! drift across millions of allocate/recover cycles), and allocation-free in the common case.

use std::collections::{BTreeMap, HashMap};

use crate::resources::{Resource, Resources, Scalar};

/// Interned scalar resource names.
#[derive(Debug, Default, Clone)]
pub(crate) struct Names {
    ids: HashMap<String, usize>,
    names: Vec<String>,
}

impl Names {
    /// The id of `name`, interning it if new.
    #[inline]
    pub(crate) fn intern(&mut self, name: &str) -> usize {
        // There are few distinct names: a scan beats hashing the string.
        if self.names.len() <= 16 {
            if let Some(id) = self.names.iter().position(|n| n == name) {
                return id;
            }
        } else if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len();
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    /// The id of `name`, if interned.
    pub(crate) fn get(&self, name: &str) -> Option<usize> {
        self.ids.get(name).copied()
    }

    /// The name of id `id`.
    pub(crate) fn name(&self, id: usize) -> &str {
        &self.names[id]
    }

    /// Converts a name -> value map into quantities (values in units, e.g. `4.0` cpus).
    pub(crate) fn quantities(&mut self, map: &BTreeMap<String, f64>) -> Quantities {
        let mut q = Quantities::default();
        for (name, value) in map {
            let id = self.intern(name);
            q.set(
                id,
                Scalar::from_f64(*value).map(Scalar::millis).unwrap_or(0),
            );
        }
        q
    }
}

/// Fixed-point (millis) amounts per interned name; missing trailing entries are zero.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Quantities(Vec<i64>);

impl Quantities {
    /// The amount of name `id`.
    #[inline]
    pub(crate) fn get(&self, id: usize) -> i64 {
        self.0.get(id).copied().unwrap_or(0)
    }

    /// Sets the amount of name `id`.
    pub(crate) fn set(&mut self, id: usize, millis: i64) {
        if self.0.len() <= id {
            self.0.resize(id + 1, 0);
        }
        self.0[id] = millis;
    }

    /// Adds `millis` to name `id`.
    #[inline]
    pub(crate) fn add_at(&mut self, id: usize, millis: i64) {
        if self.0.len() <= id {
            self.0.resize(id + 1, 0);
        }
        self.0[id] += millis;
    }

    /// `self += other`.
    pub(crate) fn add(&mut self, other: &Quantities) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a += *b;
        }
    }

    /// `self -= other` (may go negative; callers clamp where it matters).
    pub(crate) fn sub(&mut self, other: &Quantities) {
        if self.0.len() < other.0.len() {
            self.0.resize(other.0.len(), 0);
        }
        for (a, b) in self.0.iter_mut().zip(&other.0) {
            *a -= *b;
        }
    }

    /// Whether every amount is zero (or below).
    pub(crate) fn is_zero(&self) -> bool {
        self.0.iter().all(|v| *v <= 0)
    }

    /// The number of name slots held (ids beyond are zero).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Iterates over `(id, millis)` for non-zero amounts.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0)
            .map(|(i, v)| (i, *v))
    }

    /// The largest `self[i] / total[i]` over names with a positive total: a dominant share.
    pub(crate) fn dominant_share(&self, total: &Quantities) -> f64 {
        let mut share = 0.0f64;
        for (i, v) in self.0.iter().enumerate() {
            let t = total.get(i);
            if t > 0 && *v > 0 {
                share = share.max(*v as f64 / t as f64);
            }
        }
        share
    }

    /// Converts back to a name -> units map (for reporting).
    pub(crate) fn to_map(&self, names: &Names) -> BTreeMap<String, f64> {
        self.iter()
            .map(|(i, v)| (names.name(i).to_string(), Scalar::from_millis(v).as_f64()))
            .collect()
    }
}

/// The scalar quantities of `resources`: `(all scalars, unreserved non-revocable scalars)`.
pub(crate) fn measure(resources: &Resources, names: &mut Names) -> (Quantities, Quantities) {
    let mut all = Quantities::default();
    let mut free = Quantities::default();
    for (r, count) in resources.iter_with_counts() {
        if let Some(s) = r.value().as_scalar() {
            let copies = if r.is_shared() { 1 } else { count as i64 };
            let millis = s.millis().saturating_mul(copies);
            let id = names.intern(r.name());
            all.add_at(id, millis);
            if is_quota_free(r) {
                free.add_at(id, millis);
            }
        }
    }
    (all, free)
}

/// Whether `r` is an unreserved, non-revocable resource (what quota headroom is made of).
#[inline]
pub(crate) fn is_quota_free(r: &Resource) -> bool {
    r.is_unreserved() && !r.is_revocable()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::parse_resources;

    #[test]
    fn measure_splits_reserved_and_revocable() {
        let mut names = Names::default();
        let r = parse_resources("cpus:4;mem:100;cpus(eng):2;ports:[1-10]", "*").unwrap();
        let (all, free) = measure(&r, &mut names);
        let cpus = names.get("cpus").unwrap();
        let mem = names.get("mem").unwrap();
        assert_eq!(all.get(cpus), 6000);
        assert_eq!(free.get(cpus), 4000);
        assert_eq!(all.get(mem), 100_000);
        assert!(names.get("ports").is_none());
    }

    #[test]
    fn dominant_share_takes_max() {
        let mut a = Quantities::default();
        a.set(0, 1000);
        a.set(1, 500);
        let mut t = Quantities::default();
        t.set(0, 4000);
        t.set(1, 1000);
        assert_eq!(a.dominant_share(&t), 0.5);
        a.sub(&a.clone());
        assert!(a.is_zero());
    }
}
