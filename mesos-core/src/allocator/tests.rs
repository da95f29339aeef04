//! Unit tests of the allocator's public behaviour.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use super::*;
use crate::resources::{parse_resources, Reservation, Resource};

fn res(text: &str) -> Resources {
    parse_resources(text, "*").unwrap()
}

fn no_used<K>() -> HashMap<K, Resources> {
    HashMap::new()
}

fn agent(a: &mut Allocator, id: &str, text: &str) {
    a.add_agent(id.into(), AgentSpec::new(id, res(text)), &no_used())
        .unwrap();
}

fn framework(a: &mut Allocator, id: &str, roles: &[&str]) {
    a.add_framework(
        id.into(),
        FrameworkSpec::new(roles.iter().copied()),
        &no_used(),
        true,
    )
    .unwrap();
}

fn framework_with(a: &mut Allocator, id: &str, roles: &[&str], caps: Capabilities) {
    let mut spec = FrameworkSpec::new(roles.iter().copied());
    spec.capabilities = caps;
    spec.capabilities.multi_role = roles.len() > 1;
    a.add_framework(id.into(), spec, &no_used(), true).unwrap();
}

fn who(allocs: &[Allocation]) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = allocs
        .iter()
        .map(|x| (x.framework.0.clone(), x.agent.0.clone(), x.role.clone()))
        .collect();
    v.sort();
    v
}

fn recover_all(a: &mut Allocator, allocs: &[Allocation], refuse: Option<Duration>, now: Instant) {
    for x in allocs {
        a.recover_resources(&x.framework, &x.agent, &x.resources, refuse, now)
            .unwrap();
    }
}

fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[test]
fn offers_whole_agent_with_allocation_role() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:4;mem:1024;ports:[31000-32000]");
    framework(&mut a, "f1", &["web"]);
    let now = Instant::now();
    let out = a.allocate(now);
    assert_eq!(out.len(), 1);
    let mut expected = res("cpus:4;mem:1024;ports:[31000-32000]");
    expected.allocate("web");
    assert_eq!(out[0].resources, expected);
    assert!(a.available(&"a1".into()).unwrap().is_empty());
    assert!(a.allocate(now).is_empty(), "nothing left to offer");
}

#[test]
fn recover_returns_exact_resources() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:4;mem:1024;ports:[31000-32000]");
    framework(&mut a, "f1", &["web"]);
    let now = Instant::now();
    let out = a.allocate(now);
    let mut part = res("cpus:1;mem:24;ports:[31000-31009]");
    part.allocate("web");
    a.recover_resources(&"f1".into(), &"a1".into(), &part, None, now)
        .unwrap();
    assert_eq!(
        *a.available(&"a1".into()).unwrap(),
        res("cpus:1;mem:24;ports:[31000-31009]")
    );
    // Recovering more than is allocated, or unallocated resources, is refused.
    assert!(matches!(
        a.recover_resources(&"f1".into(), &"a1".into(), &part, None, now),
        Err(AllocatorError::NotAllocated { .. })
    ));
    assert!(a
        .recover_resources(&"f1".into(), &"a1".into(), &res("cpus:1"), None, now)
        .is_err());
    let mut rest = out[0].resources.clone();
    rest -= &part;
    a.recover_resources(&"f1".into(), &"a1".into(), &rest, None, now)
        .unwrap();
    assert_eq!(
        *a.available(&"a1".into()).unwrap(),
        res("cpus:4;mem:1024;ports:[31000-32000]")
    );
    assert!(a.framework_allocation(&"f1".into()).unwrap().is_empty());
    assert!(a.role_allocation("web").values().all(|v| *v == 0.0));
}

#[test]
fn bad_calls_are_typed_errors() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:1;mem:10");
    framework(&mut a, "f1", &["r"]);
    let now = Instant::now();
    assert_eq!(
        a.add_agent("a1".into(), AgentSpec::new("h", res("cpus:1")), &no_used()),
        Err(AllocatorError::DuplicateAgent("a1".into()))
    );
    assert!(matches!(
        a.add_framework("f1".into(), FrameworkSpec::new(["r"]), &no_used(), true),
        Err(AllocatorError::DuplicateFramework(_))
    ));
    assert!(matches!(
        a.add_framework("f2".into(), FrameworkSpec::new(["a//b"]), &no_used(), true),
        Err(AllocatorError::InvalidRole { .. })
    ));
    assert!(matches!(
        a.add_framework(
            "f2".into(),
            FrameworkSpec::new(Vec::<String>::new()),
            &no_used(),
            true
        ),
        Err(AllocatorError::NoRoles(_))
    ));
    let mut spec = FrameworkSpec::new(["x", "y"]);
    spec.capabilities.multi_role = false;
    assert!(matches!(
        a.add_framework("f2".into(), spec, &no_used(), true),
        Err(AllocatorError::NotMultiRole(_))
    ));
    assert!(matches!(
        a.remove_agent(&"nope".into()),
        Err(AllocatorError::UnknownAgent(_))
    ));
    assert!(matches!(
        a.recover_resources(&"nope".into(), &"a1".into(), &Resources::new(), None, now),
        Err(AllocatorError::UnknownFramework(_))
    ));
    assert!(matches!(
        a.suppress(&"f1".into(), &["other".to_string()]),
        Err(AllocatorError::NotSubscribed { .. })
    ));
    assert!(matches!(
        a.update_weights([("r", -1.0)]),
        Err(AllocatorError::InvalidWeight { .. })
    ));
    assert!(matches!(
        a.update_quota(
            "r",
            Quota {
                guarantees: map(&[("cpus", 2.0)]),
                limits: map(&[("cpus", 1.0)])
            }
        ),
        Err(AllocatorError::InvalidQuota { .. })
    ));
    assert!(matches!(
        a.allocate_agents(now, &["nope".into()]),
        Err(AllocatorError::UnknownAgent(_))
    ));
}

#[test]
fn drf_alternates_between_equal_frameworks() {
    let mut a = Allocator::new(AllocatorOptions::default());
    for i in 0..4 {
        agent(&mut a, &format!("a{i}"), "cpus:1;mem:100");
    }
    framework(&mut a, "f1", &["r"]);
    framework(&mut a, "f2", &["r"]);
    let out = a.allocate(Instant::now());
    let f1 = out.iter().filter(|x| x.framework.0 == "f1").count();
    assert_eq!(f1, 2);
    assert_eq!(out.len(), 4);
}

#[test]
fn roles_are_sorted_by_weighted_share() {
    let mut a = Allocator::new(AllocatorOptions::default());
    for i in 0..6 {
        agent(&mut a, &format!("a{i}"), "cpus:1;mem:100");
    }
    framework(&mut a, "f1", &["heavy"]);
    framework(&mut a, "f2", &["light"]);
    a.update_weights([("heavy", 2.0)]).unwrap();
    let out = a.allocate(Instant::now());
    let heavy = out.iter().filter(|x| x.role == "heavy").count();
    assert_eq!(heavy, 4);
}

#[test]
fn hierarchical_roles_share_by_subtree() {
    let mut a = Allocator::new(AllocatorOptions::default());
    for i in 0..8 {
        agent(&mut a, &format!("a{i}"), "cpus:1;mem:100");
    }
    framework(&mut a, "fx", &["eng/x"]);
    framework(&mut a, "fy", &["eng/y"]);
    framework(&mut a, "fo", &["ops"]);
    let out = a.allocate(Instant::now());
    // eng (subtree) and ops split evenly; within eng, x and y split evenly.
    assert_eq!(out.iter().filter(|x| x.role == "ops").count(), 4);
    assert_eq!(out.iter().filter(|x| x.role == "eng/x").count(), 2);
    assert_eq!(out.iter().filter(|x| x.role == "eng/y").count(), 2);
    assert_eq!(a.role_allocation("eng")["cpus"], 4.0);
}

#[test]
fn reservations_go_to_role_subtree_only() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus(eng):2;mem(eng):200;cpus:1;mem:100");
    framework(&mut a, "fo", &["ops"]);
    let now = Instant::now();
    let out = a.allocate(now);
    assert_eq!(out.len(), 1);
    let mut expected = res("cpus:1;mem:100");
    expected.allocate("ops");
    assert_eq!(
        out[0].resources, expected,
        "ops never sees eng's reservation"
    );
    // A framework in a subrole of eng gets eng's reservation.
    framework(&mut a, "fw", &["eng/web"]);
    let out = a.allocate(now);
    assert_eq!(
        who(&out),
        vec![("fw".into(), "a1".into(), "eng/web".into())]
    );
    let mut expected = res("cpus(eng):2;mem(eng):200");
    expected.allocate("eng/web");
    assert_eq!(out[0].resources, expected);
}

#[test]
fn refined_reservations_need_the_capability() {
    let mut a = Allocator::new(AllocatorOptions::default());
    let stack = vec![
        Reservation::new_static("eng").unwrap(),
        Reservation::new_dynamic("eng/web", Some("p".into()), None).unwrap(),
    ];
    let refined = Resource::builder("cpus", crate::resources::Scalar::from_millis(2000))
        .reservations(stack)
        .build()
        .unwrap();
    let mut total = res("mem:100");
    total.push(refined);
    a.add_agent("a1".into(), AgentSpec::new("h", total), &no_used())
        .unwrap();
    framework(&mut a, "plain", &["eng/web"]);
    let now = Instant::now();
    let out = a.allocate(now);
    assert_eq!(out.len(), 1);
    assert!(
        out[0].resources.cpus().is_none(),
        "no refined cpus without capability"
    );
    recover_all(&mut a, &out, None, now);
    a.remove_framework(&"plain".into()).unwrap();
    framework_with(
        &mut a,
        "capable",
        &["eng/web"],
        Capabilities {
            reservation_refinement: true,
            ..Capabilities::default()
        },
    );
    let out = a.allocate(now);
    assert_eq!(out[0].resources.cpus().unwrap().as_f64(), 2.0);
}

#[test]
fn revocable_gpu_and_region_gating() {
    let opts = AllocatorOptions {
        master_region: Some("east".into()),
        ..AllocatorOptions::default()
    };
    let mut a = Allocator::new(opts);
    let revocable = Resource::builder("cpus", crate::resources::Scalar::from_millis(1000))
        .revocable()
        .build()
        .unwrap();
    let mut total = res("mem:100");
    total.push(revocable);
    a.add_agent("rev".into(), AgentSpec::new("h", total), &no_used())
        .unwrap();
    agent(&mut a, "gpu", "cpus:1;mem:100;gpus:1");
    let mut remote = AgentSpec::new("h", res("cpus:1;mem:100"));
    remote.domain = Some(Domain {
        region: "west".into(),
        zone: "z".into(),
    });
    a.add_agent("remote".into(), remote, &no_used()).unwrap();
    framework(&mut a, "plain", &["r"]);
    let now = Instant::now();
    let out = a.allocate(now);
    // Only the revocable agent's non-revocable mem reaches the plain framework.
    assert_eq!(who(&out), vec![("plain".into(), "rev".into(), "r".into())]);
    assert!(out[0].resources.revocable().is_empty());
    recover_all(&mut a, &out, None, now);
    a.remove_framework(&"plain".into()).unwrap();
    framework_with(
        &mut a,
        "all",
        &["r"],
        Capabilities {
            revocable_resources: true,
            gpu_resources: true,
            region_aware: true,
            ..Capabilities::default()
        },
    );
    let out = a.allocate(now);
    assert_eq!(out.len(), 3);
    let rev = out.iter().find(|x| x.agent.0 == "rev").unwrap();
    assert!(!rev.resources.revocable().is_empty());
}

#[test]
fn decline_filters_hold_until_expiry_and_revive_clears() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:1;mem:100");
    framework(&mut a, "f1", &["r"]);
    let t0 = Instant::now();
    let out = a.allocate(t0);
    recover_all(&mut a, &out, Some(Duration::from_secs(5)), t0);
    assert!(a.allocate(t0 + Duration::from_secs(4)).is_empty());
    assert!(a.is_filtered(&"f1".into(), &"a1".into()).unwrap());
    let out = a.allocate(t0 + Duration::from_secs(5));
    assert_eq!(out.len(), 1, "filter expired");
    assert_eq!(a.filter_count(&"f1".into()).unwrap(), 0);
    recover_all(&mut a, &out, Some(Duration::from_secs(3600)), t0);
    assert!(a.allocate(t0 + Duration::from_secs(6)).is_empty());
    a.revive(&"f1".into(), &[]).unwrap();
    assert_eq!(a.allocate(t0 + Duration::from_secs(6)).len(), 1);
}

#[test]
fn decline_filters_are_per_role_and_revive_clears_only_the_roles_named() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:1;mem:100");
    framework(&mut a, "f1", &["x", "y"]);
    let (f1, a1) = (FrameworkId::from("f1"), AgentId::from("a1"));
    let t0 = Instant::now();
    let long = Some(Duration::from_secs(3600));

    // Declining the agent for one role leaves it offerable for the other.
    let first = a.allocate(t0);
    assert_eq!(first.len(), 1);
    let declined = first[0].role.clone();
    let other = if declined == "x" { "y" } else { "x" };
    recover_all(&mut a, &first, long, t0);
    assert!(a.is_filtered_for_role(&f1, &a1, &declined).unwrap());
    assert!(!a.is_filtered_for_role(&f1, &a1, other).unwrap());
    let second = a.allocate(t0);
    assert_eq!(who(&second), vec![("f1".into(), "a1".into(), other.into())]);

    // Declined for both roles, the agent is offered to neither.
    recover_all(&mut a, &second, long, t0);
    assert_eq!(a.filter_count(&f1).unwrap(), 2);
    assert!(a.allocate(t0).is_empty());

    // Reviving one role clears its filter only.
    a.revive(&f1, &[other.to_string()]).unwrap();
    assert!(a.is_filtered_for_role(&f1, &a1, &declined).unwrap());
    assert_eq!(a.filter_count(&f1).unwrap(), 1);
    let third = a.allocate(t0);
    assert_eq!(who(&third), vec![("f1".into(), "a1".into(), other.into())]);

    // Reviving without roles clears every filter.
    recover_all(&mut a, &third, long, t0);
    a.revive(&f1, &[]).unwrap();
    assert_eq!(a.filter_count(&f1).unwrap(), 0);
    assert_eq!(a.allocate(t0).len(), 1);
}

#[test]
fn filtered_framework_lets_others_through() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:1;mem:100");
    framework(&mut a, "f1", &["r"]);
    framework(&mut a, "f2", &["r"]);
    let t0 = Instant::now();
    let out = a.allocate(t0);
    let first = out[0].framework.clone();
    recover_all(&mut a, &out, Some(Duration::from_secs(60)), t0);
    let out = a.allocate(t0);
    assert_eq!(out.len(), 1);
    assert_ne!(out[0].framework, first);
}

#[test]
fn suppressed_roles_and_inactive_get_nothing() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:1;mem:100");
    framework(&mut a, "f1", &["x", "y"]);
    let now = Instant::now();
    a.suppress(&"f1".into(), &["x".to_string()]).unwrap();
    let out = a.allocate(now);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].role, "y");
    recover_all(&mut a, &out, None, now);
    a.suppress(&"f1".into(), &[]).unwrap();
    assert!(a.allocate(now).is_empty());
    a.revive(&"f1".into(), &["x".to_string()]).unwrap();
    let out = a.allocate(now);
    assert_eq!(out[0].role, "x");
    recover_all(&mut a, &out, None, now);
    a.deactivate_framework(&"f1".into()).unwrap();
    assert!(a.allocate(now).is_empty());
    a.activate_framework(&"f1".into()).unwrap();
    a.deactivate_agent(&"a1".into()).unwrap();
    assert!(a.allocate(now).is_empty());
    a.activate_agent(&"a1".into()).unwrap();
    assert_eq!(a.allocate(now).len(), 1);
}

#[test]
fn quota_guarantee_is_met_before_fair_share() {
    let mut a = Allocator::new(AllocatorOptions::default());
    for i in 0..10 {
        agent(&mut a, &format!("a{i}"), "cpus:1;mem:100");
    }
    for i in 0..5 {
        framework(&mut a, &format!("other{i}"), &[&format!("o{i}")]);
    }
    framework(&mut a, "q", &["quota"]);
    a.update_quota(
        "quota",
        Quota {
            guarantees: map(&[("cpus", 6.0)]),
            limits: BTreeMap::new(),
        },
    )
    .unwrap();
    let out = a.allocate(Instant::now());
    let q: f64 = out
        .iter()
        .filter(|x| x.role == "quota")
        .map(|x| x.resources.cpus().unwrap().as_f64())
        .sum();
    assert!(q >= 6.0, "quota role got {q} cpus");
    assert_eq!(a.role_consumed_quota("quota")["cpus"], q);
}

#[test]
fn quota_guarantee_chops_to_what_is_needed() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:8;mem:800");
    framework(&mut a, "q", &["quota"]);
    framework(&mut a, "o", &["other"]);
    a.update_quota(
        "quota",
        Quota {
            guarantees: map(&[("cpus", 2.0), ("mem", 200.0)]),
            limits: map(&[("cpus", 2.0), ("mem", 200.0)]),
        },
    )
    .unwrap();
    let out = a.allocate(Instant::now());
    let q = out.iter().find(|x| x.role == "quota").unwrap();
    assert_eq!(q.resources.cpus().unwrap().as_f64(), 2.0);
    assert_eq!(q.resources.mem().unwrap().as_f64(), 200.0);
    let o = out.iter().find(|x| x.role == "other").unwrap();
    assert_eq!(o.resources.cpus().unwrap().as_f64(), 6.0);
}

#[test]
fn quota_limits_are_never_exceeded_and_include_reservations() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus(lim):1;mem(lim):100");
    for i in 0..4 {
        agent(&mut a, &format!("b{i}"), "cpus:1;mem:100");
    }
    framework(&mut a, "f", &["lim"]);
    a.update_quota(
        "lim",
        Quota {
            guarantees: BTreeMap::new(),
            limits: map(&[("cpus", 2.5)]),
        },
    )
    .unwrap();
    let out = a.allocate(Instant::now());
    let cpus: f64 = out
        .iter()
        .map(|x| x.resources.cpus().map_or(0.0, |c| c.as_f64()))
        .sum();
    // 1 reserved cpu counts, so 1.5 unreserved at most.
    assert_eq!(cpus, 2.5);
    assert!(a.role_consumed_quota("lim")["cpus"] <= 2.5);
}

#[test]
fn headroom_is_kept_for_unsatisfied_guarantees() {
    let mut a = Allocator::new(AllocatorOptions::default());
    for i in 0..4 {
        agent(&mut a, &format!("a{i}"), "cpus:1;mem:100");
    }
    framework(&mut a, "o", &["other"]);
    a.update_quota(
        "quota",
        Quota {
            guarantees: map(&[("cpus", 3.0)]),
            limits: BTreeMap::new(),
        },
    )
    .unwrap();
    // No framework in "quota" yet: 3 cpus stay unallocated for it.
    let out = a.allocate(Instant::now());
    let cpus: f64 = out
        .iter()
        .map(|x| x.resources.cpus().map_or(0.0, |c| c.as_f64()))
        .sum();
    assert_eq!(cpus, 1.0);
}

#[test]
fn used_resources_on_add_and_remove_paths() {
    let mut a = Allocator::new(AllocatorOptions::default());
    framework(&mut a, "f1", &["r"]);
    let mut used = res("cpus:1;mem:10");
    used.allocate("r");
    a.add_agent(
        "a1".into(),
        AgentSpec::new("h", res("cpus:2;mem:100")),
        &HashMap::from([(FrameworkId::from("f1"), used.clone())]),
    )
    .unwrap();
    assert_eq!(*a.available(&"a1".into()).unwrap(), res("cpus:1;mem:90"));
    assert_eq!(a.role_allocation("r")["cpus"], 1.0);
    a.remove_framework(&"f1".into()).unwrap();
    assert_eq!(*a.available(&"a1".into()).unwrap(), res("cpus:2;mem:100"));
    framework(&mut a, "f2", &["r"]);
    let now = Instant::now();
    let out = a.allocate(now);
    assert_eq!(out.len(), 1);
    a.remove_agent(&"a1".into()).unwrap();
    assert!(a.framework_allocation(&"f2".into()).unwrap().is_empty());
    assert!(a.role_allocation("r").values().all(|v| *v == 0.0));
    assert!(a.allocate(now).is_empty());
}

#[test]
fn update_agent_total_keeps_allocations() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:2;mem:100");
    framework(&mut a, "f1", &["r"]);
    let now = Instant::now();
    let out = a.allocate(now);
    assert!(a.update_agent_total(&"a1".into(), res("cpus:1")).is_err());
    a.update_agent_total(&"a1".into(), res("cpus:4;mem:100"))
        .unwrap();
    assert_eq!(*a.available(&"a1".into()).unwrap(), res("cpus:2"));
    recover_all(&mut a, &out, None, now);
    assert_eq!(*a.available(&"a1".into()).unwrap(), res("cpus:4;mem:100"));
}

#[test]
fn allocate_agents_only_touches_given_agents() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:1;mem:100");
    agent(&mut a, "a2", "cpus:1;mem:100");
    framework(&mut a, "f1", &["r"]);
    let out = a.allocate_agents(Instant::now(), &["a2".into()]).unwrap();
    assert_eq!(who(&out), vec![("f1".into(), "a2".into(), "r".into())]);
}

#[test]
fn min_allocatable_resources_are_respected() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "ports:[1-10];disk:5");
    framework(&mut a, "f1", &["r"]);
    assert!(a.allocate(Instant::now()).is_empty());
}

#[test]
fn update_framework_changes_roles_and_keeps_old_allocations() {
    let mut a = Allocator::new(AllocatorOptions::default());
    agent(&mut a, "a1", "cpus:1;mem:100");
    agent(&mut a, "a2", "cpus:1;mem:100");
    framework(&mut a, "f1", &["old"]);
    let now = Instant::now();
    let out = a.allocate_agents(now, &["a1".into()]).unwrap();
    assert_eq!(out[0].role, "old");
    a.update_framework(&"f1".into(), FrameworkSpec::new(["new"]))
        .unwrap();
    let out2 = a.allocate(now);
    assert_eq!(who(&out2), vec![("f1".into(), "a2".into(), "new".into())]);
    // The allocation made for the old role can still be recovered exactly.
    recover_all(&mut a, &out, None, now);
    assert!(a.role_allocation("old").is_empty());
    assert!(matches!(
        a.update_quota(
            "old",
            Quota {
                guarantees: map(&[("cpus", 1e300)]),
                limits: BTreeMap::new()
            }
        ),
        Err(AllocatorError::InvalidQuota { .. })
    ));
}

#[test]
fn agents_may_declare_frameworks_not_added_yet() {
    let mut a = Allocator::new(AllocatorOptions::default());
    let mut used = res("cpus:1;mem:10");
    used.allocate("r");
    a.add_agent(
        "a1".into(),
        AgentSpec::new("h", res("cpus:2;mem:100")),
        &HashMap::from([(FrameworkId::from("late"), used.clone())]),
    )
    .unwrap();
    assert_eq!(*a.available(&"a1".into()).unwrap(), res("cpus:1;mem:90"));
    let now = Instant::now();
    // The placeholder is never offered anything.
    assert!(a.allocate(now).is_empty());
    // Re-subscribing with the same used resources adopts them once.
    a.add_framework(
        "late".into(),
        FrameworkSpec::new(["r"]),
        &HashMap::from([(AgentId::from("a1"), used.clone())]),
        true,
    )
    .unwrap();
    assert_eq!(a.role_allocation("r")["cpus"], 1.0);
    assert!(matches!(
        a.add_framework("late".into(), FrameworkSpec::new(["r"]), &no_used(), true),
        Err(AllocatorError::DuplicateFramework(_))
    ));
    let out = a.allocate(now);
    assert_eq!(out.len(), 1);
    a.recover_resources(&"late".into(), &"a1".into(), &used, None, now)
        .unwrap();
    recover_all(&mut a, &out, None, now);
    assert_eq!(*a.available(&"a1".into()).unwrap(), res("cpus:2;mem:100"));
}
