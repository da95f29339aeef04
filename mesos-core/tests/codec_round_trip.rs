//! Every message type of the scheduler, executor and operator (master and agent) APIs
//! survives JSON and protobuf round trips through our codecs.
//!
//! Messages are generated at random from the schema itself (every field kind, repeated
//! fields, oneofs, nesting, extreme integers, unicode, infinities), with fixed seeds so a
//! failure reproduces. Typed round trips go through the prost types the rest of the code
//! uses.

use mesos_core::proto::mesos::v1::{agent, executor, master, scheduler};
use mesos_core::schema::{descriptor_of, is_map_field, pool, FieldPath};
use mesos_core::{json, wire_check};
use prost::Message;
use prost_reflect::{Cardinality, DynamicMessage, Kind, MessageDescriptor, ReflectMessage, Value};

const SEEDS_PER_TYPE: u64 = 12;
const MAX_DEPTH: usize = 4;

/// A small deterministic generator (xorshift64*), so failures reproduce from their seed.
/// `drop_required` is the percentage of required fields it leaves unset.
struct Rng {
    state: u64,
    drop_required: u64,
}

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng {
            state: seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1,
            drop_required: 0,
        }
    }
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn string(&mut self) -> String {
        const PIECES: &[&str] = &[
            "a", "Z", "9", "-", " ", "\"", "\\", "/", "é", "日本", "🦀", "\n", "\u{0}",
        ];
        (0..self.below(6))
            .map(|_| PIECES[self.below(PIECES.len() as u64) as usize])
            .collect()
    }
    fn float(&mut self) -> f64 {
        match self.below(8) {
            0 => 0.0,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => self.below(100_000) as f64,
            4 => -(self.below(1000) as f64) / 8.0,
            5 => f64::MAX,
            _ => (self.next() >> 11) as f64 / (1u64 << 40) as f64,
        }
    }
}

fn random_scalar(kind: &Kind, rng: &mut Rng, depth: usize) -> Value {
    let extreme = rng.chance(25);
    match kind {
        Kind::Double => Value::F64(rng.float()),
        Kind::Float => Value::F32(rng.float() as f32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
            Value::I32(if extreme { i32::MIN } else { rng.next() as i32 })
        }
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => {
            Value::I64(if extreme { i64::MIN } else { rng.next() as i64 })
        }
        Kind::Uint32 | Kind::Fixed32 => {
            Value::U32(if extreme { u32::MAX } else { rng.next() as u32 })
        }
        Kind::Uint64 | Kind::Fixed64 => Value::U64(if extreme { u64::MAX } else { rng.next() }),
        Kind::Bool => Value::Bool(rng.chance(50)),
        Kind::String => Value::String(rng.string()),
        Kind::Bytes => Value::Bytes((0..rng.below(20)).map(|_| rng.next() as u8).collect()),
        Kind::Enum(e) => {
            let values: Vec<i32> = e.values().map(|v| v.number()).collect();
            Value::EnumNumber(values[rng.below(values.len() as u64) as usize])
        }
        Kind::Message(m) => Value::Message(random_message(m, rng, depth + 1)),
    }
}

fn random_message(descriptor: &MessageDescriptor, rng: &mut Rng, depth: usize) -> DynamicMessage {
    let mut message = DynamicMessage::new(descriptor.clone());
    for oneof in descriptor.oneofs() {
        let fields: Vec<_> = oneof.fields().collect();
        if depth < MAX_DEPTH && rng.chance(60) {
            let field = &fields[rng.below(fields.len() as u64) as usize];
            message.set_field(field, random_scalar(&field.kind(), rng, depth));
        }
    }
    for field in descriptor.fields() {
        if field.containing_oneof().is_some() {
            continue;
        }
        let required = field.cardinality() == Cardinality::Required;
        if required && rng.chance(rng.drop_required) {
            continue;
        }
        let nested = matches!(field.kind(), Kind::Message(_));
        if !required && (nested && depth >= MAX_DEPTH || !rng.chance(50)) {
            continue;
        }
        if is_map_field(&field) {
            // A map: distinct keys in the sorted order the JSON object keeps.
            let Kind::Message(entry) = field.kind() else {
                continue;
            };
            let mut keys: Vec<String> = (0..1 + rng.below(3)).map(|_| rng.string()).collect();
            keys.sort();
            keys.dedup();
            let entries = keys
                .into_iter()
                .map(|key| {
                    let mut item = DynamicMessage::new(entry.clone());
                    item.set_field_by_number(1, Value::String(key));
                    if let Some(value) = entry.get_field(2) {
                        item.set_field(&value, random_scalar(&value.kind(), rng, depth));
                    }
                    Value::Message(item)
                })
                .collect();
            message.set_field(&field, Value::List(entries));
        } else if field.is_list() {
            let count = 1 + rng.below(if depth >= MAX_DEPTH { 1 } else { 3 });
            let items = (0..count)
                .map(|_| random_scalar(&field.kind(), rng, depth))
                .collect();
            message.set_field(&field, Value::List(items));
        } else {
            message.set_field(&field, random_scalar(&field.kind(), rng, depth));
        }
    }
    message
}

/// `message` with every unset, defaulted, non-deprecated optional field set to its
/// default: what reading our JSON back yields, since the JSON writes those defaults out.
fn with_written_defaults(message: &DynamicMessage) -> DynamicMessage {
    let mut out = message.clone();
    let descriptor = message.descriptor();
    for declared in &descriptor.descriptor_proto().field {
        let Some(field) = descriptor.get_field(declared.number() as u32) else {
            continue;
        };
        let deprecated = declared.options.as_ref().is_some_and(|o| o.deprecated());
        if !message.has_field(&field)
            && field.cardinality() == Cardinality::Optional
            && declared.default_value.is_some()
            && !deprecated
        {
            out.set_field(&field, message.get_field(&field).into_owned());
        }
    }
    for (field, value) in message.fields() {
        let rewritten = match value {
            Value::Message(inner) => Value::Message(with_written_defaults(inner)),
            Value::List(items) => Value::List(items.iter().map(defaults_in).collect()),
            other => other.clone(),
        };
        out.set_field(&field, rewritten);
    }
    out
}

/// Compares dynamic messages, showing them as JSON on a mismatch (their `Debug` output
/// recurses without end through recursive schemas).
fn assert_same(actual: &DynamicMessage, expected: &DynamicMessage, context: &str) {
    if actual != expected {
        panic!(
            "{context}\n  actual: {}\nexpected: {}",
            json::dynamic_to_string(actual),
            json::dynamic_to_string(expected)
        );
    }
}

fn defaults_in(value: &Value) -> Value {
    match value {
        Value::Message(inner) => Value::Message(with_written_defaults(inner)),
        other => other.clone(),
    }
}

fn api_messages() -> Vec<MessageDescriptor> {
    let packages = [
        "mesos.v1.scheduler.",
        "mesos.v1.executor.",
        "mesos.v1.master.",
        "mesos.v1.agent.",
    ];
    pool()
        .all_messages()
        .filter(|m| packages.iter().any(|p| m.full_name().starts_with(p)))
        .collect()
}

#[test]
fn every_api_message_round_trips_through_json_and_protobuf() {
    let messages = api_messages();
    assert!(
        messages.len() > 150,
        "only {} API messages found",
        messages.len()
    );
    for descriptor in &messages {
        for seed in 0..SEEDS_PER_TYPE {
            let mut rng = Rng::new(seed);
            let original = random_message(descriptor, &mut rng, 0);
            let context = format!("{} seed {seed}", descriptor.full_name());

            let bytes = original.encode_to_vec();
            let decoded = DynamicMessage::decode(descriptor.clone(), bytes.as_slice())
                .unwrap_or_else(|e| panic!("{context}: protobuf: {e}"));
            assert_same(
                &decoded,
                &original,
                &format!("{context}: protobuf round trip"),
            );

            let text = json::dynamic_to_string(&original);
            let value: serde_json::Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{context}: we wrote invalid JSON: {e}\n{text}"));
            let read = json::dynamic_from_value(descriptor.clone(), &value)
                .unwrap_or_else(|e| panic!("{context}: cannot read our JSON: {e}\n{text}"));
            assert_same(
                &read,
                &with_written_defaults(&original),
                &format!("{context}: JSON"),
            );
            assert_eq!(
                json::dynamic_to_string(&read),
                text,
                "{context}: JSON is stable"
            );
        }
    }
}

/// The required fields unset in a decoded message, found by reflection: the oracle for
/// the wire-level check. Map values are named by key, as the wire-level check names them.
fn missing_by_reflection(message: &DynamicMessage) -> Vec<FieldPath> {
    fn collect(message: &DynamicMessage, path: &FieldPath, missing: &mut Vec<FieldPath>) {
        for field in message.descriptor().fields() {
            if field.cardinality() == Cardinality::Required && !message.has_field(&field) {
                missing.push(path.field(field.name()));
            }
        }
        for (field, value) in message.fields() {
            let Value::List(items) = value else {
                if let Value::Message(inner) = value {
                    collect(inner, &path.field(field.name()), missing);
                }
                continue;
            };
            for (i, item) in items.iter().enumerate() {
                let Value::Message(inner) = item else {
                    continue;
                };
                if !is_map_field(&field) {
                    collect(inner, &path.field(field.name()).index(i), missing);
                    continue;
                }
                let key = match inner.get_field_by_number(1).as_deref() {
                    Some(Value::String(key)) => key.clone(),
                    _ => String::new(),
                };
                if let Some(Value::Message(value)) = inner.get_field_by_number(2).as_deref() {
                    collect(value, &path.field(field.name()).key(&key), missing);
                }
            }
        }
    }
    let mut missing = Vec::new();
    collect(message, &FieldPath::default(), &mut missing);
    missing
}

/// The wire-level required-field check finds exactly what a check over the decoded
/// message finds.
#[test]
fn wire_check_finds_every_missing_required_field() {
    let mut found = 0;
    for descriptor in api_messages() {
        for seed in 0..SEEDS_PER_TYPE {
            let mut rng = Rng::new(seed);
            rng.drop_required = 15;
            let message = random_message(&descriptor, &mut rng, 0);
            let bytes = message.encode_to_vec();
            let mut by_wire: Vec<String> = wire_check::missing_required(&descriptor, &bytes)
                .iter()
                .map(ToString::to_string)
                .collect();
            let mut by_reflection: Vec<String> = missing_by_reflection(&message)
                .iter()
                .map(ToString::to_string)
                .collect();
            by_wire.sort();
            by_reflection.sort();
            // Map entries show as keys in one and as indices in the other: compare counts.
            if by_reflection.iter().any(|p| p.contains("[\"")) {
                assert_eq!(
                    by_wire.len(),
                    by_reflection.len(),
                    "{}",
                    descriptor.full_name()
                );
            } else {
                assert_eq!(
                    by_wire,
                    by_reflection,
                    "{} seed {seed}",
                    descriptor.full_name()
                );
            }
            found += by_wire.len();
        }
    }
    assert!(found > 100, "only {found} missing fields generated");
}

/// The typed path: prost types through `json::to_string`/`from_slice` and
/// `protobuf::decode` agree with the dynamic one for each API's top-level messages.
fn typed_round_trip<T: Message + prost::Name + Default + PartialEq + std::fmt::Debug>() {
    let descriptor = descriptor_of::<T>();
    for seed in 0..SEEDS_PER_TYPE * 4 {
        let dynamic = random_message(&descriptor, &mut Rng::new(seed), 0);
        let context = format!("{} seed {seed}", T::full_name());
        let typed: T = mesos_core::protobuf::decode(&dynamic.encode_to_vec())
            .unwrap_or_else(|e| panic!("{context}: {e}"));
        let text = json::to_string(&typed);
        assert_eq!(text, json::dynamic_to_string(&dynamic), "{context}");
        let read: T =
            json::from_slice(text.as_bytes()).unwrap_or_else(|e| panic!("{context}: {e}"));
        assert_eq!(json::to_string(&read), text, "{context}");
        let expected: T = with_written_defaults(&dynamic)
            .transcode_to()
            .expect("same schema");
        assert_eq!(read, expected, "{context}");
    }
}

#[test]
fn scheduler_calls_and_events_round_trip_typed() {
    typed_round_trip::<scheduler::Call>();
    typed_round_trip::<scheduler::Event>();
}

#[test]
fn executor_calls_and_events_round_trip_typed() {
    typed_round_trip::<executor::Call>();
    typed_round_trip::<executor::Event>();
}

#[test]
fn operator_calls_events_and_responses_round_trip_typed() {
    typed_round_trip::<master::Call>();
    typed_round_trip::<master::Event>();
    typed_round_trip::<master::Response>();
    typed_round_trip::<agent::Call>();
    typed_round_trip::<agent::Response>();
}
