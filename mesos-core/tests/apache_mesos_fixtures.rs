//! Our codecs against what a real Apache Mesos sent (`shared/fixtures/apache-mesos`).
//!
//! This test reads files outside the repository: the fixtures in `../shared/` beside the
//! checkout. Where they are absent it prints why and checks nothing.

use std::path::PathBuf;

use mesos_core::proto::mesos::v1::{agent, master, scheduler};
use mesos_core::schema::PathSegment;
use mesos_core::{json, recordio};
use serde_json::Value;

fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/apache-mesos");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: no Apache Mesos fixtures at {}", dir.display());
        None
    }
}

#[test]
fn scheduler_event_stream_re_encodes_byte_for_byte() {
    let Some(dir) = fixtures() else { return };
    let stream = std::fs::read(dir.join("scheduler/events.recordio.json")).expect("fixture");
    let mut decoder = recordio::Decoder::default();
    let records = decoder.decode(&stream).expect("Mesos' own stream decodes");
    decoder
        .finish()
        .expect("the stream ends on a record boundary");
    assert!(
        records.len() >= 5,
        "expected a real stream, got {} records",
        records.len()
    );

    let mut reframed = Vec::new();
    for record in &records {
        recordio::encode_into(record, &mut reframed);
    }
    assert_eq!(reframed, stream, "our framing differs from Mesos'");

    for record in &records {
        let mesos = String::from_utf8(record.to_vec()).expect("UTF-8");
        let event: scheduler::Event =
            json::from_slice(record).unwrap_or_else(|e| panic!("{e}: {mesos}"));
        // As in `as_mesos_1_11`: the 1.12 master's QUOTA_V2 capability is unknown to 1.11.
        let expected = mesos.replace(r#"{"type":"QUOTA_V2"}"#, "{}");
        assert_eq!(
            json::to_string(&event),
            expected,
            "our JSON differs from Mesos'"
        );
    }
}

#[test]
fn accept_call_round_trips() {
    let Some(dir) = fixtures() else { return };
    let text = std::fs::read(dir.join("scheduler/accept_call.json")).expect("fixture");
    let call: scheduler::Call = json::from_slice(&text).expect("Mesos accepted this call");
    assert_eq!(call.r#type(), scheduler::call::Type::Accept);
    let launch = &call.accept.as_ref().expect("accept").operations[0];
    let task = &launch.launch.as_ref().expect("launch").task_infos[0];
    assert_eq!(task.name, "env-dump");
    assert_eq!(
        task.resources[0].scalar.as_ref().map(|s| s.value),
        Some(0.1)
    );

    // Written back, the call is what was sent plus `CommandInfo.shell`, whose declared
    // default Mesos writes out when it is unset.
    let mut expected: Value = serde_json::from_slice(&text).expect("JSON");
    expected["accept"]["operations"][0]["launch"]["task_infos"][0]["command"]["shell"] =
        Value::Bool(true);
    let ours = json::to_value(&call);
    assert_eq!(same_numbers(ours.clone()), same_numbers(expected));
    let again: scheduler::Call = json::from_value(&ours).expect("reads its own output");
    assert_eq!(json::to_value(&again), ours);
}

/// Every `POST /api/v1` answer of the master and the agent decodes as a Response and is
/// written back as the same JSON value.
#[test]
fn operator_responses_round_trip() {
    let Some(dir) = fixtures() else { return };
    let mut checked = 0;
    for entry in std::fs::read_dir(dir.join("operator")).expect("fixture dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if !name.ends_with(".json") {
            continue;
        }
        let text = std::fs::read(&path).expect("fixture");
        if text.is_empty() {
            eprintln!("{name}: empty capture, nothing to check");
            continue;
        }
        let mut original: Value = serde_json::from_slice(&text).expect("JSON");
        let ours = if name.starts_with("master_") {
            let response: master::Response = read_dropping_unknown(&mut original, &name);
            assert_ne!(response.r#type(), master::response::Type::Unknown, "{name}");
            json::to_value(&response)
        } else {
            let response: agent::Response = read_dropping_unknown(&mut original, &name);
            assert_ne!(response.r#type(), agent::response::Type::Unknown, "{name}");
            json::to_value(&response)
        };
        assert_eq!(
            same_numbers(ours),
            without_empty_arrays(same_numbers(as_mesos_1_11(original))),
            "{name}"
        );
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} operator fixtures found");
}

/// Reads `value` as a `T`, removing each field our strict reader rejects as unknown and
/// checking it is one Mesos is known to write outside its own v1 schema.
fn read_dropping_unknown<T: prost::Message + prost::Name + Default>(
    value: &mut Value,
    name: &str,
) -> T {
    loop {
        match json::from_value::<T>(value) {
            Ok(message) => return message,
            Err(json::JsonError::UnknownField { path, .. }) => {
                let text = path.to_string();
                eprintln!("{name}: Mesos wrote {text}, which its v1 schema does not declare");
                remove_path(value, &path.0);
            }
            Err(other) => panic!("{name}: {other}"),
        }
    }
}

fn remove_path(value: &mut Value, path: &[PathSegment]) {
    match path {
        [PathSegment::Field(last) | PathSegment::Key(last)] => {
            value.as_object_mut().and_then(|o| o.remove(last));
        }
        [PathSegment::Field(name) | PathSegment::Key(name), rest @ ..] => {
            remove_path(&mut value[name.as_str()], rest)
        }
        [PathSegment::Index(i), rest @ ..] => remove_path(&mut value[*i], rest),
        [] => {}
    }
}

/// The fixtures come from a 1.12 master, which added the QUOTA_V2 master capability; the
/// 1.11 schema drops that unknown enum value, leaving an empty capability.
fn as_mesos_1_11(value: Value) -> Value {
    match value {
        Value::Object(map)
            if map.get("type") == Some(&Value::from("QUOTA_V2")) && map.len() == 1 =>
        {
            Value::Object(Default::default())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(as_mesos_1_11).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, as_mesos_1_11(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Mesos' hand-written writers for GET_STATE and friends write empty repeated fields as
/// `[]`; its generic protobuf writer, like ours, leaves them out.
fn without_empty_arrays(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(without_empty_arrays).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !matches!(v, Value::Array(items) if items.is_empty()))
                .map(|(k, v)| (k, without_empty_arrays(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Mesos writes doubles with a fractional part (`2.0`) even when integral; the pretty-printed
/// fixtures sometimes lost that. Compare numbers by value.
fn same_numbers(value: Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number)
            .unwrap_or(Value::Number(n)),
        Value::Array(items) => Value::Array(items.into_iter().map(same_numbers).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, same_numbers(v))).collect())
        }
        other => other,
    }
}
