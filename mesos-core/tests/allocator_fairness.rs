//! Allocator properties over many in-memory agents: fairness, weights, quota guarantees
//! and limits, filters, suppression, and exact bookkeeping under random operation
//! sequences (no resource ever allocated twice).

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use mesos_core::allocator::{
    AgentId, AgentSpec, Allocation, Allocator, AllocatorOptions, FrameworkId, FrameworkSpec, Quota,
};
use mesos_core::resources::{parse_resources, Resources};
use proptest::prelude::*;

fn res(text: &str) -> Resources {
    parse_resources(text, "*").unwrap()
}

/// A harness: an allocator plus its own record of what is outstanding.
struct Harness {
    a: Allocator,
    now: Instant,
    outstanding: BTreeMap<(FrameworkId, AgentId), Resources>,
}

impl Harness {
    fn new(agents: usize, text: &str) -> Harness {
        let mut a = Allocator::new(AllocatorOptions::default());
        let total = res(text);
        let none = HashMap::new();
        for i in 0..agents {
            let id = AgentId(format!("a{i}"));
            a.add_agent(
                id.clone(),
                AgentSpec::new(id.0.clone(), total.clone()),
                &none,
            )
            .unwrap();
        }
        Harness {
            a,
            now: Instant::now(),
            outstanding: BTreeMap::new(),
        }
    }

    fn framework(&mut self, id: &str, role: &str) {
        self.a
            .add_framework(id.into(), FrameworkSpec::new([role]), &HashMap::new(), true)
            .unwrap();
    }

    fn allocate(&mut self) -> Vec<Allocation> {
        let out = self.a.allocate(self.now);
        for x in &out {
            *self
                .outstanding
                .entry((x.framework.clone(), x.agent.clone()))
                .or_default() += &x.resources;
        }
        out
    }

    fn recover(&mut self, x: &Allocation, refuse: Option<Duration>) {
        self.a
            .recover_resources(&x.framework, &x.agent, &x.resources, refuse, self.now)
            .unwrap();
        let key = (x.framework.clone(), x.agent.clone());
        let left = self.outstanding.get_mut(&key).unwrap();
        *left -= &x.resources;
        if left.is_empty() {
            self.outstanding.remove(&key);
        }
    }

    fn cpus_of(&self, framework: &str) -> f64 {
        self.outstanding
            .iter()
            .filter(|((f, _), _)| f.0 == framework)
            .map(|(_, r)| r.cpus().map_or(0.0, |c| c.as_f64()))
            .sum()
    }

    /// Every agent: available + allocated == total, and the allocator's view of what is
    /// allocated equals ours.
    fn check_books(&self) {
        let mut ours: BTreeMap<AgentId, BTreeMap<FrameworkId, Resources>> = BTreeMap::new();
        for ((f, a), r) in &self.outstanding {
            ours.entry(a.clone())
                .or_default()
                .insert(f.clone(), r.clone());
        }
        for id in self.a.agent_ids() {
            let allocated = self.a.allocated(id).unwrap();
            let expected = ours.remove(id).unwrap_or_default();
            assert_eq!(allocated, expected, "allocations on {id}");
            let mut sum = self.a.available(id).unwrap().clone();
            for r in allocated.values() {
                let mut plain = r.clone();
                plain.unallocate();
                sum += plain;
            }
            assert_eq!(&sum, self.a.total(id).unwrap(), "books of {id}");
        }
        assert!(ours.is_empty(), "allocations on removed agents: {ours:?}");
    }
}

#[test]
fn equal_frameworks_converge_to_equal_shares() {
    let mut h = Harness::new(200, "cpus:4;mem:4096");
    h.framework("f1", "r");
    h.framework("f2", "r");
    h.allocate();
    assert_eq!(h.cpus_of("f1"), h.cpus_of("f2"));
    // Churn: recover everything, re-allocate a few times; shares stay equal.
    for _ in 0..3 {
        let all: Vec<Allocation> = h
            .outstanding
            .iter()
            .map(|((f, a), r)| Allocation {
                framework: f.clone(),
                agent: a.clone(),
                role: "r".into(),
                resources: r.clone(),
            })
            .collect();
        for x in &all {
            h.recover(x, None);
        }
        h.allocate();
        assert_eq!(h.cpus_of("f1"), h.cpus_of("f2"));
    }
    h.check_books();
}

#[test]
fn weights_two_to_one_give_two_to_one() {
    let mut h = Harness::new(300, "cpus:4;mem:4096");
    h.framework("heavy", "heavy");
    h.framework("light", "light");
    h.a.update_weights([("heavy", 2.0), ("light", 1.0)])
        .unwrap();
    h.allocate();
    let (heavy, light) = (h.cpus_of("heavy"), h.cpus_of("light"));
    assert!((heavy / light - 2.0).abs() < 0.05, "{heavy} vs {light}");
    h.check_books();
}

#[test]
fn quota_guarantees_are_met_before_fair_share() {
    let mut h = Harness::new(100, "cpus:1;mem:1024");
    for i in 0..10 {
        h.framework(&format!("f{i}"), &format!("r{i}"));
    }
    h.framework("q", "quota");
    h.a.update_quota(
        "quota",
        Quota {
            guarantees: BTreeMap::from([("cpus".to_string(), 40.0)]),
            limits: BTreeMap::new(),
        },
    )
    .unwrap();
    h.allocate();
    assert!(h.cpus_of("q") >= 40.0, "quota role got {}", h.cpus_of("q"));
    h.check_books();
}

#[test]
fn quota_limits_are_never_exceeded() {
    let mut h = Harness::new(100, "cpus:1;mem:1024");
    h.framework("a", "capped/a");
    h.framework("b", "capped/b");
    h.framework("o", "other");
    h.a.update_quota(
        "capped",
        Quota {
            guarantees: BTreeMap::new(),
            limits: BTreeMap::from([("cpus".to_string(), 10.0)]),
        },
    )
    .unwrap();
    h.allocate();
    let capped = h.cpus_of("a") + h.cpus_of("b");
    assert_eq!(capped, 10.0);
    assert_eq!(h.cpus_of("o"), 90.0);
    h.check_books();
}

#[test]
fn filters_are_respected_then_expire() {
    let mut h = Harness::new(50, "cpus:1;mem:1024");
    h.framework("f", "r");
    let out = h.allocate();
    assert_eq!(out.len(), 50);
    for x in &out {
        h.recover(x, Some(Duration::from_secs(10)));
    }
    h.now += Duration::from_secs(9);
    assert!(h.allocate().is_empty());
    h.now += Duration::from_secs(1);
    assert_eq!(h.allocate().len(), 50);
    h.check_books();
}

#[test]
fn suppressed_roles_get_nothing() {
    let mut h = Harness::new(20, "cpus:1;mem:1024");
    h.framework("s", "sup");
    h.framework("o", "other");
    h.a.suppress(&"s".into(), &[]).unwrap();
    let out = h.allocate();
    assert!(out.iter().all(|x| x.role == "other"));
    assert_eq!(out.len(), 20);
    h.check_books();
}

/// The harness holds 50,000 agents in memory and one pass offers every one of them
/// (how fast is the allocator bench's business, not a test's).
#[test]
fn fifty_thousand_agents_are_all_offered() {
    let mut h = Harness::new(50_000, "cpus:16;mem:64000;disk:1000000;ports:[31000-32000]");
    for i in 0..100 {
        h.framework(&format!("f{i}"), &format!("role{}", i % 5));
    }
    let out = h.allocate();
    assert_eq!(out.len(), 50_000);
    h.check_books();
}

/// One step of a random operation sequence.
#[derive(Debug, Clone)]
enum Op {
    Allocate,
    /// Recover the i-th outstanding allocation, maybe with a filter (seconds).
    Recover(usize, Option<u64>),
    Advance(u64),
    Suppress(usize),
    Revive(usize),
    ToggleAgent(usize),
    RemoveAgent(usize),
    AddAgent,
    RemoveFramework(usize),
    AddFramework(usize),
    Quota(usize, u32, u32),
    Weight(usize, u32),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => Just(Op::Allocate),
        4 => (any::<usize>(), prop::option::of(1u64..20)).prop_map(|(i, r)| Op::Recover(i, r)),
        1 => (1u64..15).prop_map(Op::Advance),
        1 => any::<usize>().prop_map(Op::Suppress),
        1 => any::<usize>().prop_map(Op::Revive),
        1 => any::<usize>().prop_map(Op::ToggleAgent),
        1 => any::<usize>().prop_map(Op::RemoveAgent),
        1 => Just(Op::AddAgent),
        1 => any::<usize>().prop_map(Op::RemoveFramework),
        1 => any::<usize>().prop_map(Op::AddFramework),
        1 => (any::<usize>(), 0u32..6, 0u32..12).prop_map(|(r, g, l)| Op::Quota(r, g, l)),
        1 => (any::<usize>(), 1u32..4).prop_map(|(r, w)| Op::Weight(r, w)),
    ]
}

const ROLES: [&str; 4] = ["a", "b", "b/x", "c"];
const AGENT_KINDS: [&str; 5] = [
    "cpus:2;mem:2048;ports:[31000-31010]",
    "cpus:1;mem:512;cpus(b):1;mem(b):256",
    "cpus:4;mem:1024;disk:100;cpus(b/x):2",
    "cpus:0.5;mem:64",
    "cpus:1;mem:256;gpus:1",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn books_stay_exact_under_random_operations(ops in prop::collection::vec(op(), 1..60)) {
        let mut h = Harness::new(0, "cpus:1");
        let mut next_agent = 0usize;
        let mut next_fw = 0usize;
        let mut agents: Vec<AgentId> = Vec::new();
        let mut fws: Vec<(FrameworkId, usize)> = Vec::new();
        let mut inactive: Vec<AgentId> = Vec::new();
        let mut suppressed: Vec<FrameworkId> = Vec::new();
        let mut limits: HashMap<&str, f64> = HashMap::new();
        // Decline filters as Mesos keeps them: per framework, role and agent.
        let mut filters: HashMap<(FrameworkId, String, AgentId), Instant> = HashMap::new();
        for _ in 0..6 {
            let id = AgentId(format!("a{next_agent}"));
            let spec = AgentSpec::new(id.0.clone(), res(AGENT_KINDS[next_agent % AGENT_KINDS.len()]));
            h.a.add_agent(id.clone(), spec, &HashMap::new()).unwrap();
            agents.push(id);
            next_agent += 1;
        }
        for i in 0..4 {
            let id = FrameworkId(format!("f{i}"));
            h.framework(&id.0, ROLES[i % 4]);
            fws.push((id, i % 4));
            next_fw += 1;
        }
        for op in ops {
            match op {
                Op::Allocate => {
                    let before: HashMap<&str, f64> = ROLES.iter().map(|r| {
                        (*r, h.a.role_consumed_quota(r).get("cpus").copied().unwrap_or(0.0))
                    }).collect();
                    let out = h.allocate();
                    for x in &out {
                        prop_assert!(!inactive.contains(&x.agent), "inactive agent offered");
                        prop_assert!(x.resources.gpus().is_none(), "GPUs offered to a non-GPU framework");
                        prop_assert!(!suppressed.contains(&x.framework), "suppressed framework offered");
                        if let Some(until) = filters.get(&(x.framework.clone(), x.role.clone(), x.agent.clone())) {
                            prop_assert!(h.now >= *until, "filtered agent offered");
                        }
                        prop_assert!(x.resources.iter().all(|r| r.allocation_role() == Some(x.role.as_str())));
                    }
                    for (role, limit) in &limits {
                        let after = h.a.role_consumed_quota(role).get("cpus").copied().unwrap_or(0.0);
                        prop_assert!(after <= limit.max(before[role]) + 1e-9,
                            "role {role}: {after} > limit {limit} (before {})", before[role]);
                    }
                }
                Op::Recover(i, refuse) => {
                    if !h.outstanding.is_empty() {
                        let ((f, a), r) = h.outstanding.iter().nth(i % h.outstanding.len()).unwrap();
                        let x = Allocation { framework: f.clone(), agent: a.clone(), role: String::new(), resources: r.clone() };
                        h.recover(&x, refuse.map(Duration::from_secs));
                        if let Some(secs) = refuse {
                            for role in x.resources.allocations().keys() {
                                let key = (x.framework.clone(), role.clone(), x.agent.clone());
                                filters.insert(key, h.now + Duration::from_secs(secs));
                            }
                        }
                    }
                }
                Op::Advance(s) => h.now += Duration::from_secs(s),
                Op::Suppress(i) => if !fws.is_empty() {
                    let f = fws[i % fws.len()].0.clone();
                    h.a.suppress(&f, &[]).unwrap();
                    if !suppressed.contains(&f) { suppressed.push(f); }
                },
                Op::Revive(i) => if !fws.is_empty() {
                    let f = fws[i % fws.len()].0.clone();
                    h.a.revive(&f, &[]).unwrap();
                    filters.retain(|(fw, _, _), _| *fw != f);
                    suppressed.retain(|s| *s != f);
                },
                Op::ToggleAgent(i) => if !agents.is_empty() {
                    let a = agents[i % agents.len()].clone();
                    if let Some(p) = inactive.iter().position(|x| *x == a) {
                        inactive.remove(p);
                        h.a.activate_agent(&a).unwrap();
                    } else {
                        h.a.deactivate_agent(&a).unwrap();
                        inactive.push(a);
                    }
                },
                Op::RemoveAgent(i) => if !agents.is_empty() {
                    let a = agents.remove(i % agents.len());
                    h.a.remove_agent(&a).unwrap();
                    inactive.retain(|x| *x != a);
                    h.outstanding.retain(|(_, ag), _| *ag != a);
                    filters.retain(|(_, _, ag), _| *ag != a);
                },
                Op::AddAgent => {
                    let id = AgentId(format!("a{next_agent}"));
                    let spec = AgentSpec::new(id.0.clone(), res(AGENT_KINDS[next_agent % AGENT_KINDS.len()]));
                    h.a.add_agent(id.clone(), spec, &HashMap::new()).unwrap();
                    agents.push(id);
                    next_agent += 1;
                }
                Op::RemoveFramework(i) => if !fws.is_empty() {
                    let (f, _) = fws.remove(i % fws.len());
                    h.a.remove_framework(&f).unwrap();
                    suppressed.retain(|s| *s != f);
                    h.outstanding.retain(|(fw, _), _| *fw != f);
                    filters.retain(|(fw, _, _), _| *fw != f);
                },
                Op::AddFramework(r) => {
                    let id = FrameworkId(format!("f{next_fw}"));
                    next_fw += 1;
                    if r % 3 == 0 {
                        // A multi-role framework.
                        let roles = [ROLES[r % 4], ROLES[(r + 1) % 4]];
                        h.a.add_framework(id.clone(), FrameworkSpec::new(roles), &HashMap::new(), true).unwrap();
                    } else {
                        h.framework(&id.0, ROLES[r % 4]);
                    }
                    fws.push((id, r % 4));
                }
                Op::Quota(r, g, l) => {
                    let role = ROLES[r % 4];
                    let mut quota = Quota::default();
                    if g > 0 { quota.guarantees.insert("cpus".into(), f64::from(g)); }
                    let l = l.max(g);
                    if l > 0 { quota.limits.insert("cpus".into(), f64::from(l)); limits.insert(role, f64::from(l)); }
                    else { limits.remove(role); }
                    h.a.update_quota(role, quota).unwrap();
                }
                Op::Weight(r, w) => h.a.update_weights([(ROLES[r % 4], f64::from(w))]).unwrap(),
            }
            h.check_books();
        }
    }
}
