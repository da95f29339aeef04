//! Property tests of the Resources algebra and fuzz-style tests of the flag parsers.
//!
//! The generators cover every kind of identity the collection distinguishes: scalars,
//! ranges and sets; unreserved, static, dynamic and refined reservations; allocation;
//! revocable; persistent volumes (shared and not) and MOUNT disks, which are atomic.

use mesos_core::resources::{
    parse_attributes, parse_resources, DiskInfo, DiskSource, Ranges, Reservation, Resource,
    Resources, Scalar, Set, Value,
};
use proptest::prelude::*;
use proptest::sample::select;

/// Which part of the range/set value space a generator draws from. Resources drawn
/// from `A` and `B` share no port and no set item, which `(a + b) - b == a` needs: adding
/// ranges or sets is a union, so overlapping parts could not be subtracted back out.
#[derive(Clone, Copy, Debug)]
enum Side {
    A,
    B,
    Any,
}

fn reservations() -> impl Strategy<Value = Vec<Reservation>> {
    prop_oneof![
        3 => Just(vec![]),
        2 => Just(vec![Reservation::new_static("eng").unwrap()]),
        1 => Just(vec![Reservation::new_static("ops").unwrap()]),
        1 => Just(vec![Reservation::new_dynamic("eng", Some("alice".into()), None).unwrap()]),
        1 => Just(vec![
            Reservation::new_static("eng").unwrap(),
            Reservation::new_dynamic("eng/web", Some("bob".into()), None).unwrap(),
        ]),
    ]
}

fn ranges(side: Side) -> impl Strategy<Value = Ranges> {
    // Blocks of 20 ports; side A owns the first 10 of each block, side B the last 10.
    let pair = (0u64..20, 0u64..10, 0u64..10).prop_map(move |(block, x, y)| {
        let base = block * 20
            + match side {
                Side::A | Side::Any => 0,
                Side::B => 10,
            };
        let span = if matches!(side, Side::Any) { 20 } else { 10 };
        let (lo, hi) = (x.min(y), x.max(y));
        (base + lo * span / 10, base + hi * span / 10)
    });
    prop::collection::vec(pair, 0..4).prop_map(|pairs| Ranges::from_pairs(pairs).unwrap())
}

fn set(side: Side) -> impl Strategy<Value = Set> {
    let items: Vec<&'static str> = match side {
        Side::A => vec!["a0", "a1", "a2", "a3"],
        Side::B => vec!["b0", "b1", "b2", "b3"],
        Side::Any => vec!["a0", "a1", "a2", "b0", "b1", "b2"],
    };
    prop::collection::vec(select(items), 0..4).prop_map(Set::from_items)
}

fn scalar() -> impl Strategy<Value = Scalar> {
    prop_oneof![
        1 => Just(Scalar::ZERO),
        4 => (1i64..100_000).prop_map(Scalar::from_millis),
    ]
}

/// A divisible resource with any reservation, allocation or revocability.
fn plain(side: Side) -> impl Strategy<Value = Resource> {
    let value = prop_oneof![
        (select(vec!["cpus", "mem", "gpus"]), scalar()).prop_map(|(n, s)| (n, Value::Scalar(s))),
        ranges(side).prop_map(|r| ("ports", Value::Ranges(r))),
        set(side).prop_map(|s| ("zones", Value::Set(s))),
    ];
    (
        value,
        reservations(),
        prop::option::of(select(vec!["eng", "ops"])),
        any::<bool>(),
    )
        .prop_map(|((name, value), stack, allocation, revocable)| {
            let mut b = Resource::builder(name, value).reservations(stack);
            if let Some(role) = allocation {
                b = b.allocation(role);
            }
            if revocable {
                b = b.revocable();
            }
            b.build().unwrap()
        })
}

/// An atomic disk: a persistent volume (shared or not) or a MOUNT disk.
fn atomic() -> impl Strategy<Value = Resource> {
    (
        select(vec!["v1", "v2", "mount"]),
        select(vec![10i64, 20]),
        any::<bool>(),
    )
        .prop_map(|(id, size, shared)| {
            let b = Resource::builder("disk", Scalar::from_units(size))
                .reservation(Reservation::new_dynamic("eng", Some("p".into()), None).unwrap());
            if id == "mount" {
                b.disk(DiskInfo::new().with_source(DiskSource::mount("/mnt/a")))
            } else {
                let b = b.disk(DiskInfo::new().with_persistence(id, Some("p".into())));
                if shared {
                    b.shared()
                } else {
                    b
                }
            }
            .build()
            .unwrap()
        })
}

fn resource_list(side: Side) -> impl Strategy<Value = Vec<Resource>> {
    let one = prop_oneof![4 => plain(side), 1 => atomic()];
    prop::collection::vec(one, 0..12)
}

fn resources(side: Side) -> impl Strategy<Value = Resources> {
    resource_list(side).prop_map(|v| v.into_iter().collect())
}

/// Resources that the `--resources` text form can express: static single-role
/// reservations, one value type per name.
fn text_resources() -> impl Strategy<Value = Resources> {
    let role = select(vec![
        None,
        Some("eng"),
        Some("eng/web"),
        Some("ops"),
        Some("a.b"),
    ]);
    let value = prop_oneof![
        (select(vec!["cpus", "mem", "disk"]), scalar()).prop_map(|(n, s)| (n, Value::Scalar(s))),
        ranges(Side::Any).prop_map(|r| ("ports", Value::Ranges(r))),
        set(Side::Any).prop_map(|s| ("zones", Value::Set(s))),
    ];
    prop::collection::vec((value, role), 0..10).prop_map(|entries| {
        entries
            .into_iter()
            .map(|((name, value), role)| {
                let mut b = Resource::builder(name, value);
                if let Some(role) = role {
                    b = b.reservation(Reservation::new_static(role).unwrap());
                }
                b.build().unwrap()
            })
            .collect()
    })
}

proptest! {
    #[test]
    fn add_then_subtract_is_identity(a in resources(Side::A), b in resources(Side::B)) {
        prop_assert_eq!(&(&a + &b) - &b, a);
    }

    #[test]
    fn addition_commutes(a in resources(Side::Any), b in resources(Side::Any)) {
        prop_assert_eq!(&a + &b, &b + &a);
    }

    #[test]
    fn addition_associates(
        a in resources(Side::Any),
        b in resources(Side::Any),
        c in resources(Side::Any),
    ) {
        prop_assert_eq!(&(&a + &b) + &c, &a + &(&b + &c));
    }

    #[test]
    fn sum_contains_its_parts(a in resources(Side::Any), b in resources(Side::Any)) {
        let sum = &a + &b;
        prop_assert!(sum.contains(&a));
        prop_assert!(sum.contains(&b));
    }

    #[test]
    fn contains_itself_and_minus_itself_is_empty(a in resources(Side::Any)) {
        prop_assert!(a.contains(&a));
        prop_assert!((&a - &a).is_empty());
        prop_assert!(a.contains(&Resources::new()));
    }

    #[test]
    fn mutual_containment_is_equality(
        list in resource_list(Side::Any),
        other in resources(Side::Any),
        seed in any::<u64>(),
    ) {
        let x: Resources = list.iter().cloned().collect();
        // The same resources added in another order.
        let mut shuffled = list.clone();
        let n = shuffled.len().max(1) as u64;
        shuffled.rotate_left((seed % n) as usize);
        shuffled.reverse();
        let mut y = Resources::new();
        for r in shuffled {
            y += r;
        }
        prop_assert!(x.contains(&y) && y.contains(&x));
        prop_assert_eq!(&x, &y);
        if x.contains(&other) && other.contains(&x) {
            prop_assert_eq!(&x, &other);
        }
    }

    #[test]
    fn subtraction_saturates(a in resources(Side::Any), b in resources(Side::Any)) {
        // `-` takes away what it can, so adding back what was taken covers the original.
        prop_assert!((&(&a - &b) + &b).contains(&a));
        prop_assert!(a.contains(&(&a - &b)));
        if a.contains(&b) {
            prop_assert_eq!(&(&a - &b) + &b, a);
        }
    }

    #[test]
    fn operator_forms_agree(a in resources(Side::Any), list in resource_list(Side::Any)) {
        let b: Resources = list.iter().cloned().collect();
        let by_ref = &a + &b;
        prop_assert_eq!(&(a.clone() + b.clone()), &by_ref);
        prop_assert_eq!(&(a.clone() + &b), &by_ref);
        let mut one_by_one = a.clone();
        for r in &list {
            one_by_one += r;
        }
        prop_assert_eq!(&one_by_one, &by_ref);

        let diff = &a - &b;
        prop_assert_eq!(&(a.clone() - b.clone()), &diff);
        let mut assign = a.clone();
        assign -= &b;
        prop_assert_eq!(&assign, &diff);
    }

    #[test]
    fn scalar_totals_are_exact(a in resources(Side::Any), b in resources(Side::Any)) {
        let sum = &a + &b;
        for name in ["cpus", "mem", "gpus"] {
            let total = a.scalar(name).unwrap_or_default() + b.scalar(name).unwrap_or_default();
            prop_assert_eq!(sum.scalar(name).unwrap_or_default(), total);
        }
    }

    #[test]
    fn proto_round_trip(a in resources(Side::Any)) {
        // As in Mesos, a shared resource is written once whatever its share count.
        let back = Resources::try_from_protos(&a.to_protos()).unwrap();
        prop_assert_eq!(back.non_shared(), a.non_shared());
        let distinct: Resources = a.shared().iter().cloned().collect();
        prop_assert_eq!(back.shared(), distinct);
    }

    #[test]
    fn display_parses_back(r in text_resources()) {
        let text = r.to_string();
        let parsed = if r.is_empty() { parse_resources("", "*") } else { parse_resources(&text, "*") };
        prop_assert_eq!(parsed.unwrap(), r, "{}", text);
    }

    #[test]
    fn to_unreserved_keeps_totals(a in resources(Side::Any)) {
        let u = a.to_unreserved();
        prop_assert!(u.reserved(None).is_empty());
        for name in ["cpus", "mem", "gpus", "disk"] {
            prop_assert_eq!(u.scalar(name), a.scalar(name));
        }
        prop_assert_eq!(u.ports(), a.ports());
    }
}

/// Strings made of the characters the resource grammar cares about, so the fuzzer
/// reaches deep into the parser instead of failing at the first character.
fn resourceish() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            select(vec![
                "cpus",
                "mem",
                "ports",
                "disk",
                "(",
                ")",
                "eng",
                "*",
                "/",
                ":",
                ";",
                "[",
                "]",
                "-",
                ",",
                "{",
                "}",
                "1",
                "0.5",
                "1e309",
                "-1",
                "18446744073709551616",
                " ",
                "\n",
                ".",
                "..",
                "é",
                "\u{0}",
                "[",
                "{\"name\":",
                "\"",
            ])
            .prop_map(str::to_string),
            any::<char>().prop_map(String::from),
        ],
        0..24,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_resources_never_panics(text in any::<String>(), role in any::<String>()) {
        let _ = parse_resources(&text, "*");
        let _ = parse_resources(&text, &role);
    }

    #[test]
    fn parse_resources_never_panics_on_bytes(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_resources(&text, "*");
        let _ = parse_attributes(&text);
    }

    #[test]
    fn parse_resources_never_panics_on_near_misses(text in resourceish()) {
        match parse_resources(&text, "eng") {
            Ok(r) => {
                // Whatever parses must display as text that parses to the same thing.
                if !r.is_empty() {
                    prop_assert_eq!(parse_resources(&r.to_string(), "*").unwrap(), r);
                }
            }
            Err(e) => {
                // The error points at a real token of the input.
                prop_assert!(text.get(e.offset..e.offset + e.token.len()).is_some()
                    || e.token.is_empty() || text.trim_start().starts_with('['),
                    "{e:?}");
                prop_assert!(!e.to_string().is_empty());
            }
        }
    }

    #[test]
    fn parse_json_never_panics(text in resourceish()) {
        let json = format!("[{text}]");
        let _ = parse_resources(&json, "*");
        let json = format!("[{{\"name\":\"cpus\",\"type\":\"SCALAR\",\"scalar\":{{\"value\":{text}}}}}]");
        let _ = parse_resources(&json, "*");
    }

    #[test]
    fn parse_attributes_never_panics(text in any::<String>(), near in resourceish()) {
        let _ = parse_attributes(&text);
        if let Ok(a) = parse_attributes(&near) {
            // Display is the flag form, and parses back.
            prop_assert_eq!(parse_attributes(&a.to_string()).unwrap(), a);
        }
    }
}
