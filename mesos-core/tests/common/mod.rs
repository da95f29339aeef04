//! Helpers shared by the tests that compare our output with other implementations'
//! (Google's protobuf runtime, pymesos), and the ZooKeeper servers of the HA tests.

// Not every test binary that shares these helpers starts ZooKeeper.
#[allow(dead_code)]
pub mod zookeeper;

use std::path::PathBuf;

use mesos_core::schema::descriptor_by_name;
use prost_reflect::{FieldDescriptor, Kind, MessageDescriptor};
use serde_json::Value;

/// Set to `1` (as `scripts/test.sh` does) to make a test fail, not skip, when a dependency
/// it needs (Python packages, ZooKeeper) is missing.
pub const REQUIRE: &str = "MESOS_REQUIRE_PYTHON_DEPS";

/// The workspace root.
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Our compiled schema, for comparisons that need field types and defaults.
fn message_descriptor(full_name: &str) -> MessageDescriptor {
    descriptor_by_name(full_name).unwrap_or_else(|| panic!("{full_name} is not in the schema"))
}

/// Where two JSON spellings of a `full_name` message say different things. Allowed
/// differences, all spelling and none content:
/// - numbers by value (`2` == `2.0`); 64-bit integers and doubles also as strings
///   (Google writes int64/uint64 as "123", non-finite doubles as "NaN");
/// - a `google.protobuf.Duration` as proto3's "90.500s" where Mesos writes
///   {"seconds": 90, "nanos": 500000000};
/// - an empty repeated field written (`[]`) on one side, left out on the other;
/// - an unset field with a declared default left out on one side, written with its default
///   on the other (Mesos' writer and ours write those defaults; Google's and pymesos don't).
pub fn differences(full_name: &str, a: &Value, b: &Value) -> Vec<String> {
    let mut out = Vec::new();
    diff_message(&message_descriptor(full_name), "", a, b, &mut out);
    out
}

fn diff_message(
    message: &MessageDescriptor,
    path: &str,
    a: &Value,
    b: &Value,
    out: &mut Vec<String>,
) {
    let (Value::Object(a), Value::Object(b)) = (a, b) else {
        out.push(format!("{path}: {a} vs. {b}"));
        return;
    };
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        let child = format!("{path}.{key}");
        let Some(field) = message.get_field_by_name(key) else {
            out.push(format!("{child}: no such field in {}", message.full_name()));
            continue;
        };
        match (a.get(key), b.get(key)) {
            (Some(x), Some(y)) if field.is_list() => match (x, y) {
                (Value::Array(xs), Value::Array(ys)) if xs.len() == ys.len() => {
                    for (i, (x, y)) in xs.iter().zip(ys).enumerate() {
                        diff_value(&field.kind(), &format!("{child}[{i}]"), x, y, out);
                    }
                }
                _ => out.push(format!("{child}: {x} vs. {y}")),
            },
            (Some(x), Some(y)) => diff_value(&field.kind(), &child, x, y, out),
            (Some(x), None) | (None, Some(x)) if unset_alike(&field, x) => {}
            (x, y) => out.push(format!(
                "{child}: {} vs. {}",
                x.map_or("missing".into(), Value::to_string),
                y.map_or("missing".into(), Value::to_string)
            )),
        }
    }
}

/// Whether `value` says no more than leaving the field out: `[]`, or the declared default.
fn unset_alike(field: &FieldDescriptor, value: &Value) -> bool {
    if field.is_list() {
        return value.as_array().is_some_and(Vec::is_empty);
    }
    let Some(default) = field.field_descriptor_proto().default_value.as_deref() else {
        return false;
    };
    match value {
        Value::Bool(b) => default == b.to_string(),
        Value::Number(n) => default.parse::<f64>().ok() == n.as_f64(),
        Value::String(s) => s == default,
        _ => false,
    }
}

fn diff_value(kind: &Kind, path: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    let same = match kind {
        Kind::Message(m) if m.full_name() == "google.protobuf.Duration" => match (a, b) {
            (Value::Object(o), Value::String(text)) | (Value::String(text), Value::Object(o)) => {
                same_duration(o, text)
            }
            _ => return diff_message(m, path, a, b, out),
        },
        Kind::Message(m) => return diff_message(m, path, a, b, out),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 | Kind::Uint64 | Kind::Fixed64 => {
            let integer = |v: &Value| match v {
                Value::Number(n) => n.as_i128(),
                Value::String(s) => s.parse::<i128>().ok(),
                _ => None,
            };
            integer(a).is_some() && integer(a) == integer(b)
        }
        Kind::Double | Kind::Float => {
            let float = |v: &Value| match v {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.parse::<f64>().ok(),
                _ => None,
            };
            match (float(a), float(b)) {
                (Some(x), Some(y)) => x == y || (x.is_nan() && y.is_nan()),
                _ => false,
            }
        }
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 | Kind::Uint32 | Kind::Fixed32 => {
            a.as_f64().is_some() && a.as_f64() == b.as_f64()
        }
        Kind::Bool | Kind::String | Kind::Bytes | Kind::Enum(_) => a == b,
    };
    if !same {
        out.push(format!("{path}: {a} vs. {b}"));
    }
}

/// `{"seconds": 90, "nanos": 500000000}` against proto3's "90.500s".
fn same_duration(mesos: &serde_json::Map<String, Value>, text: &str) -> bool {
    let Some(number) = text.strip_suffix('s') else {
        return false;
    };
    let (sign, number) = match number.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, number),
    };
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    let (Ok(seconds), Ok(nanos)) = (
        whole.parse::<i64>(),
        format!("{fraction:0<9}").parse::<i64>(),
    ) else {
        return false;
    };
    let field = |name: &str| match mesos.get(name) {
        None => Some(0),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    };
    mesos.keys().all(|k| k == "seconds" || k == "nanos")
        && field("seconds") == Some(sign * seconds)
        && field("nanos") == Some(sign * nanos)
}
