//! Decline filters: "do not offer agent A to framework F for role R until time T".
//!
//! Apache Mesos keeps, per framework, role and agent, a list of filter objects each
//! holding the refused resources and a timer; every offer decision scans the list and
//! compares resources. Here the filters belong to *subjects*, one per (framework, role)
//! pair the allocator numbers, and a filter is one entry in a per-subject hash map
//! `agent -> expiry` (O(1) check, no resource comparison). Expiry is bookkept in one
//! min-heap so that [`DeclineFilters::expire`] drops exactly the filters that are due,
//! without scanning every pair. Superseded heap entries are recognised and skipped.
//!
//! To make the all-declined case cheap, the filters also count, per agent, how many
//! *eligible* subjects (framework active, role subscribed and not suppressed) filter it:
//! when that count equals the number of eligible subjects, the whole agent is skipped in
//! O(1).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::hash::{BuildHasherDefault, Hasher};
use std::time::Instant;

/// A fast hasher for dense `u32` indices (multiplicative, no DoS concern: keys are ours).
#[derive(Default, Clone, Copy)]
pub(crate) struct IndexHasher(u64);

impl Hasher for IndexHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_u32(&mut self, n: u32) {
        self.0 = u64::from(n).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// A `HashMap` keyed by dense indices.
pub(crate) type IndexMap<V> = HashMap<u32, V, BuildHasherDefault<IndexHasher>>;

#[derive(Debug, Default)]
struct SubjectFilters {
    /// Incarnation of the subject slot, so stale heap entries of a removed subject
    /// are not applied to a new one in the same slot.
    uid: u64,
    eligible: bool,
    by_agent: IndexMap<Instant>,
}

/// One pending expiry in the heap.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Expiry {
    at: Instant,
    uid: u64,
    subject: u32,
    agent: u32,
}

/// All decline filters of an allocator (see the module doc).
#[derive(Debug, Default)]
pub(crate) struct DeclineFilters {
    subjects: Vec<Option<SubjectFilters>>,
    /// Per agent slot: filters on it held by eligible subjects.
    agent_counts: Vec<u32>,
    eligible_subjects: u32,
    /// Live filters (entries of the per-subject maps).
    live: usize,
    heap: BinaryHeap<Reverse<Expiry>>,
}

impl DeclineFilters {
    /// Starts tracking subject slot `subject`.
    pub(crate) fn add_subject(&mut self, subject: u32, uid: u64, eligible: bool) {
        let i = subject as usize;
        if self.subjects.len() <= i {
            self.subjects.resize_with(i + 1, || None);
        }
        self.subjects[i] = Some(SubjectFilters {
            uid,
            eligible,
            by_agent: IndexMap::default(),
        });
        if eligible {
            self.eligible_subjects += 1;
        }
    }

    /// Stops tracking subject slot `subject`, dropping its filters.
    pub(crate) fn remove_subject(&mut self, subject: u32) {
        self.clear_subject(subject);
        if let Some(f) = self
            .subjects
            .get_mut(subject as usize)
            .and_then(Option::take)
        {
            if f.eligible {
                self.eligible_subjects -= 1;
            }
        }
    }

    /// Drops every filter of `subject` (revive).
    pub(crate) fn clear_subject(&mut self, subject: u32) {
        let Some(Some(f)) = self.subjects.get_mut(subject as usize) else {
            return;
        };
        let map = std::mem::take(&mut f.by_agent);
        self.live -= map.len();
        if f.eligible {
            for agent in map.keys() {
                self.agent_counts[*agent as usize] -= 1;
            }
        }
    }

    /// Marks whether `subject` is eligible for offers (adjusts the per-agent counts).
    pub(crate) fn set_eligible(&mut self, subject: u32, eligible: bool) {
        let Some(Some(f)) = self.subjects.get_mut(subject as usize) else {
            return;
        };
        if f.eligible == eligible {
            return;
        }
        f.eligible = eligible;
        for agent in f.by_agent.keys() {
            let c = &mut self.agent_counts[*agent as usize];
            if eligible {
                *c += 1;
            } else {
                *c -= 1;
            }
        }
        if eligible {
            self.eligible_subjects += 1;
        } else {
            self.eligible_subjects -= 1;
        }
    }

    /// Starts tracking agent slot `agent` (with no filters).
    pub(crate) fn add_agent(&mut self, agent: u32) {
        let i = agent as usize;
        if self.agent_counts.len() <= i {
            self.agent_counts.resize(i + 1, 0);
        }
        self.agent_counts[i] = 0;
    }

    /// Drops every filter on agent slot `agent`.
    pub(crate) fn remove_agent(&mut self, agent: u32) {
        for f in self.subjects.iter_mut().flatten() {
            if f.by_agent.remove(&agent).is_some() {
                self.live -= 1;
            }
        }
        if let Some(c) = self.agent_counts.get_mut(agent as usize) {
            *c = 0;
        }
    }

    /// Filters `agent` for `subject` until `until` (replacing an existing filter).
    pub(crate) fn install(&mut self, subject: u32, agent: u32, until: Instant) {
        let Some(Some(f)) = self.subjects.get_mut(subject as usize) else {
            return;
        };
        if f.by_agent.insert(agent, until).is_none() {
            self.live += 1;
            if f.eligible {
                self.agent_counts[agent as usize] += 1;
            }
        }
        self.heap.push(Reverse(Expiry {
            at: until,
            uid: f.uid,
            subject,
            agent,
        }));
        // Superseded entries (replaced, revived, removed) wait in the heap until their
        // time; if they pile up, rebuild the heap from the live filters (amortized O(1)).
        if self.heap.len() > 1024 && self.heap.len() > 2 * self.live {
            self.rebuild_heap();
        }
    }

    fn rebuild_heap(&mut self) {
        let mut entries = Vec::with_capacity(self.live);
        for (subject, f) in self.subjects.iter().enumerate() {
            let Some(f) = f else { continue };
            for (agent, at) in &f.by_agent {
                entries.push(Reverse(Expiry {
                    at: *at,
                    uid: f.uid,
                    subject: subject as u32,
                    agent: *agent,
                }));
            }
        }
        self.heap = BinaryHeap::from(entries);
    }

    /// Whether `subject` currently filters `agent` (call [`DeclineFilters::expire`] first).
    #[inline]
    pub(crate) fn is_filtered(&self, subject: u32, agent: u32) -> bool {
        match self.subjects.get(subject as usize) {
            Some(Some(f)) => !f.by_agent.is_empty() && f.by_agent.contains_key(&agent),
            _ => false,
        }
    }

    /// Whether every eligible subject filters `agent` (so nobody can be offered it).
    #[inline]
    pub(crate) fn filtered_by_all(&self, agent: u32) -> bool {
        self.eligible_subjects == 0
            || self.agent_counts.get(agent as usize).copied() == Some(self.eligible_subjects)
    }

    /// The number of eligible subjects.
    pub(crate) fn eligible_subjects(&self) -> u32 {
        self.eligible_subjects
    }

    /// Drops the filters that expire at or before `now`.
    pub(crate) fn expire(&mut self, now: Instant) {
        while let Some(Reverse(top)) = self.heap.peek() {
            if top.at > now {
                break;
            }
            let Some(Reverse(e)) = self.heap.pop() else {
                break;
            };
            let Some(Some(f)) = self.subjects.get_mut(e.subject as usize) else {
                continue;
            };
            if f.uid != e.uid || f.by_agent.get(&e.agent) != Some(&e.at) {
                continue; // superseded, revived or the subject slot was reused
            }
            f.by_agent.remove(&e.agent);
            self.live -= 1;
            if f.eligible {
                self.agent_counts[e.agent as usize] -= 1;
            }
        }
    }

    /// The number of live filters of `subject`.
    pub(crate) fn count(&self, subject: u32) -> usize {
        match self.subjects.get(subject as usize) {
            Some(Some(f)) => f.by_agent.len(),
            _ => 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn filters_expire_from_the_heap() {
        let t0 = Instant::now();
        let mut f = DeclineFilters::default();
        f.add_agent(0);
        f.add_agent(1);
        f.add_subject(0, 1, true);
        f.add_subject(1, 2, true);
        f.install(0, 0, t0 + Duration::from_secs(5));
        f.install(0, 1, t0 + Duration::from_secs(10));
        f.install(1, 0, t0 + Duration::from_secs(5));
        assert!(f.is_filtered(0, 0));
        assert!(f.filtered_by_all(0));
        assert!(!f.filtered_by_all(1));
        f.expire(t0 + Duration::from_secs(4));
        assert!(f.is_filtered(0, 0));
        f.expire(t0 + Duration::from_secs(5));
        assert!(!f.is_filtered(0, 0));
        assert!(!f.is_filtered(1, 0));
        assert!(f.is_filtered(0, 1));
        assert!(!f.filtered_by_all(0));
        assert_eq!(f.count(0), 1);
        assert_eq!(f.live, 1);
        f.remove_agent(1);
        assert_eq!(f.live, 0);
    }

    #[test]
    fn replaced_filter_keeps_later_expiry_and_eligibility_counts() {
        let t0 = Instant::now();
        let mut f = DeclineFilters::default();
        f.add_agent(0);
        f.add_subject(0, 1, true);
        f.add_subject(1, 2, true);
        f.install(0, 0, t0 + Duration::from_secs(1));
        f.install(0, 0, t0 + Duration::from_secs(100));
        f.expire(t0 + Duration::from_secs(2));
        assert!(f.is_filtered(0, 0));
        assert!(!f.filtered_by_all(0));
        f.set_eligible(1, false);
        assert!(f.filtered_by_all(0));
        f.set_eligible(1, true);
        assert!(!f.filtered_by_all(0));
        f.clear_subject(0);
        assert!(!f.is_filtered(0, 0));
        f.remove_subject(1);
        assert_eq!(f.eligible_subjects(), 1);
    }

    #[test]
    fn superseded_entries_do_not_pile_up() {
        let t0 = Instant::now();
        let mut f = DeclineFilters::default();
        f.add_agent(0);
        f.add_subject(0, 1, true);
        for i in 0..10_000u64 {
            f.install(0, 0, t0 + Duration::from_secs(1000 + i));
            f.clear_subject(0);
        }
        assert!(f.heap.len() <= 2048, "heap has {}", f.heap.len());
        f.install(0, 0, t0 + Duration::from_secs(5));
        f.expire(t0 + Duration::from_secs(4));
        assert!(f.is_filtered(0, 0));
    }
}
