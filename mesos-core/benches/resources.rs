//! Benchmarks of the Resources algebra against a baseline that works as Apache Mesos does.
//!
//! Workload: two collections of 100 distinct resources (half scalar, half ranges; a third
//! unreserved, a third statically reserved, a third dynamically reserved), where the
//! second holds a part of every resource of the first. Measured: `a + b`, `a - b` and
//! `a.contains(b)`.
//!
//! The baseline (`naive`) mirrors Mesos' `Resources`: an unsorted vector of
//! `mesos.v1.Resource` protos, where adding, subtracting or checking one resource scans the
//! vector for one with matching metadata (name, type, allocation, reservation stack, disk,
//! revocable, provider, shared) — O(n·m) per collection operation. As in Mesos, scalars
//! are combined in fixed point, ranges are coalesced by sorting, and `contains` works on a
//! copy of the left-hand side.
//!
//! Run: `cargo bench -p mesos-core --bench resources -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use mesos_core::proto::mesos::v1 as pb;
use mesos_core::resources::{Reservation, Resource, Resources};

const N: usize = 100;

/// The i-th resource of the workload; `part` selects the smaller value held by `b`.
fn resource(i: usize, part: bool) -> Resource {
    let name = format!("res{i:03}");
    let base = i as u64 * 100;
    let r = if i % 2 == 0 {
        let v = (i as f64 + 1.0) * 1.5;
        Resource::scalar(name, if part { v / 2.0 } else { v })
    } else if part {
        Resource::ranges(name, [(base + 10, base + 20)])
    } else {
        Resource::ranges(name, [(base, base + 50), (base + 60, base + 90)])
    };
    let r = r.expect("valid workload resource");
    match i % 3 {
        0 => r,
        1 => r
            .push_reservation(Reservation::new_static("eng").expect("valid role"))
            .expect("valid reservation"),
        _ => r
            .push_reservation(
                Reservation::new_dynamic("ops", Some("principal".into()), None)
                    .expect("valid role"),
            )
            .expect("valid reservation"),
    }
}

fn workload() -> (Vec<Resource>, Vec<Resource>) {
    let a = (0..N).map(|i| resource(i, false)).collect();
    // `b` in reverse order, so the baseline's scans are not all short.
    let b = (0..N).rev().map(|i| resource(i, true)).collect();
    (a, b)
}

/// A linear-scan implementation of Mesos' `Resources`, over protos.
mod naive {
    use super::pb;

    fn fixed(v: f64) -> i64 {
        (v * 1000.0).round() as i64
    }

    fn floating(f: i64) -> f64 {
        (f / 1000) as f64 + (f % 1000) as f64 / 1000.0
    }

    /// Mesos' metadata comparison (`addable`/`subtractable` for non-shared resources).
    fn same_identity(l: &pb::Resource, r: &pb::Resource) -> bool {
        l.name == r.name
            && l.r#type == r.r#type
            && l.allocation_info == r.allocation_info
            && l.reservations == r.reservations
            && l.disk == r.disk
            && l.revocable.is_some() == r.revocable.is_some()
            && l.provider_id == r.provider_id
            && l.shared.is_some() == r.shared.is_some()
    }

    fn pairs(r: &pb::Resource) -> Vec<(u64, u64)> {
        r.ranges
            .as_ref()
            .map(|x| x.range.iter().map(|r| (r.begin, r.end)).collect())
            .unwrap_or_default()
    }

    fn set_pairs(r: &mut pb::Resource, pairs: Vec<(u64, u64)>) {
        r.ranges = Some(pb::value::Ranges {
            range: pairs
                .into_iter()
                .map(|(begin, end)| pb::value::Range { begin, end })
                .collect(),
        });
    }

    /// Mesos' `coalesce`: sort, then merge overlapping and adjacent ranges.
    fn coalesce(mut v: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
        v.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(v.len());
        for (b, e) in v {
            match out.last_mut() {
                Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => out.push((b, e)),
            }
        }
        out
    }

    fn add_value(l: &mut pb::Resource, r: &pb::Resource) {
        if let (Some(a), Some(b)) = (l.scalar.as_mut(), r.scalar.as_ref()) {
            a.value = floating(fixed(a.value) + fixed(b.value));
        } else {
            let mut all = pairs(l);
            all.extend(pairs(r));
            set_pairs(l, coalesce(all));
        }
    }

    fn subtract_value(l: &mut pb::Resource, r: &pb::Resource) {
        if let (Some(a), Some(b)) = (l.scalar.as_mut(), r.scalar.as_ref()) {
            a.value = floating(fixed(a.value) - fixed(b.value));
        } else {
            let cut = coalesce(pairs(r));
            let mut out = Vec::new();
            for (b, e) in coalesce(pairs(l)) {
                let mut lo = b;
                let mut done = false;
                for &(cb, ce) in &cut {
                    if ce < lo || cb > e {
                        continue;
                    }
                    if cb > lo {
                        out.push((lo, cb - 1));
                    }
                    if ce >= e {
                        done = true;
                        break;
                    }
                    lo = ce + 1;
                }
                if !done {
                    out.push((lo, e));
                }
            }
            set_pairs(l, out);
        }
    }

    fn value_contains(l: &pb::Resource, r: &pb::Resource) -> bool {
        if let (Some(a), Some(b)) = (l.scalar.as_ref(), r.scalar.as_ref()) {
            fixed(b.value) <= fixed(a.value)
        } else {
            let mine = coalesce(pairs(l));
            coalesce(pairs(r))
                .iter()
                .all(|&(b, e)| mine.iter().any(|&(mb, me)| mb <= b && e <= me))
        }
    }

    fn is_empty(r: &pb::Resource) -> bool {
        match &r.scalar {
            Some(s) => fixed(s.value) <= 0,
            None => r.ranges.as_ref().is_none_or(|x| x.range.is_empty()),
        }
    }

    /// Mesos' vector of resources.
    #[derive(Clone, Default)]
    pub struct NaiveResources(pub Vec<pb::Resource>);

    impl NaiveResources {
        pub fn add(&mut self, that: &pb::Resource) {
            if is_empty(that) {
                return;
            }
            for r in &mut self.0 {
                if same_identity(r, that) {
                    add_value(r, that);
                    return;
                }
            }
            self.0.push(that.clone());
        }

        pub fn subtract(&mut self, that: &pb::Resource) {
            for i in 0..self.0.len() {
                if same_identity(&self.0[i], that) {
                    subtract_value(&mut self.0[i], that);
                    if is_empty(&self.0[i]) {
                        self.0.swap_remove(i);
                    }
                    return;
                }
            }
        }

        pub fn plus(&self, that: &NaiveResources) -> NaiveResources {
            let mut out = self.clone();
            for r in &that.0 {
                out.add(r);
            }
            out
        }

        pub fn minus(&self, that: &NaiveResources) -> NaiveResources {
            let mut out = self.clone();
            for r in &that.0 {
                out.subtract(r);
            }
            out
        }

        pub fn contains(&self, that: &NaiveResources) -> bool {
            let remaining = self.clone();
            that.0.iter().all(|t| {
                remaining
                    .0
                    .iter()
                    .any(|r| same_identity(r, t) && value_contains(r, t))
            })
        }
    }
}

fn bench(c: &mut Criterion) {
    let (a_list, b_list) = workload();
    let a: Resources = a_list.iter().cloned().collect();
    let b: Resources = b_list.iter().cloned().collect();
    let na = naive::NaiveResources(a_list.iter().map(Resource::to_proto).collect());
    let nb = naive::NaiveResources(b_list.iter().map(Resource::to_proto).collect());

    // Both implementations must compute the same thing before their speed means anything.
    let same = |n: &naive::NaiveResources| Resources::try_from_protos(&n.0).expect("valid");
    assert_eq!(same(&na.plus(&nb)), &a + &b);
    assert_eq!(same(&na.minus(&nb)), &a - &b);
    assert!(a.contains(&b) && na.contains(&nb));
    assert!(!b.contains(&a) && !nb.contains(&na));
    assert_eq!(a.len(), N);

    // `b` as the master usually holds it: carved out of `a`, so it shares `a`'s identity
    // keys and comparisons short-cut on pointer equality.
    let b_shared = &a - &(&a - &b);
    assert_eq!(b_shared, b);

    let mut group = c.benchmark_group("resources_100/add");
    group.bench_function("sorted_merge", |x| x.iter(|| black_box(&a) + black_box(&b)));
    group.bench_function("sorted_merge_shared_keys", |x| {
        x.iter(|| black_box(&a) + black_box(&b_shared))
    });
    group.bench_function("mesos_linear_scan", |x| {
        x.iter(|| black_box(&na).plus(black_box(&nb)))
    });
    group.finish();

    let mut group = c.benchmark_group("resources_100/subtract");
    group.bench_function("sorted_merge", |x| x.iter(|| black_box(&a) - black_box(&b)));
    group.bench_function("sorted_merge_shared_keys", |x| {
        x.iter(|| black_box(&a) - black_box(&b_shared))
    });
    group.bench_function("mesos_linear_scan", |x| {
        x.iter(|| black_box(&na).minus(black_box(&nb)))
    });
    group.finish();

    let mut group = c.benchmark_group("resources_100/contains");
    group.bench_function("sorted_merge", |x| {
        x.iter(|| black_box(&a).contains(black_box(&b)))
    });
    group.bench_function("sorted_merge_shared_keys", |x| {
        x.iter(|| black_box(&a).contains(black_box(&b_shared)))
    });
    group.bench_function("mesos_linear_scan", |x| {
        x.iter(|| black_box(&na).contains(black_box(&nb)))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
