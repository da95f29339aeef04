//! The JSON mapping of Mesos messages, as Apache Mesos reads and writes it.
//!
//! This is not proto3's JSON mapping. Field names are exactly as in the `.proto`
//! (snake_case); enums are written by name; `bytes` are base64; 64-bit integers are JSON
//! numbers; unset optional fields and empty repeated fields are left out, except that an
//! unset optional field with a declared default is written with that default unless it
//! is deprecated (Mesos' writer does this: `"shell": true`, `"refuse_seconds": 5.0`);
//! fields are written in the order the schema declares them, as Mesos does. Map fields
//! (`map<string, V>`, e.g. quota guarantees) are JSON objects, keys in sorted order.
//!
//! Reading is strict where strictness protects state and lenient where clients differ:
//! an unknown field is an error naming it; a missing `required` field is an error naming
//! it; numbers may also come as numeric strings (proto3-style clients send 64-bit integers
//! that way); an enum name this schema does not know is dropped from an optional or
//! repeated field, as Mesos and protobuf's binary format do, and is an error in a required
//! one.

use prost::Message;
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage};
use serde_json::Value as Json;

use crate::schema::{join_paths, FieldPath};
use crate::wire_check;
use crate::wire_schema::wire_schema;

mod read;
mod write;

/// Why JSON could not be read as a Mesos message. Each variant says what is wrong and where.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonError {
    /// The text is not JSON at all.
    #[error("malformed JSON at line {line}, column {column}: {reason}")]
    Syntax {
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the JSON parser found wrong.
        reason: String,
    },
    /// An object has a key that is not a field of its message type.
    #[error("unknown field '{path}': {message} has no field '{field}'")]
    UnknownField {
        /// Path of the unknown key.
        path: FieldPath,
        /// Full name of the message type the object was read as.
        message: String,
        /// The unknown key.
        field: String,
    },
    /// A value has the wrong JSON type for its field.
    #[error("field '{path}': expected {expected}, found {found}")]
    WrongType {
        /// Path of the value.
        path: FieldPath,
        /// What the field's type needs, e.g. "a JSON object for mesos.v1.TaskID".
        expected: String,
        /// What the JSON held, e.g. "a string".
        found: &'static str,
    },
    /// A value has the right JSON type but cannot be represented in the field.
    #[error("field '{path}': {reason}")]
    InvalidValue {
        /// Path of the value.
        path: FieldPath,
        /// What is wrong with it.
        reason: String,
    },
    /// Required fields are absent.
    #[error("{message} is missing required fields: {}", join_paths(.fields))]
    MissingRequired {
        /// Full name of the message type read.
        message: String,
        /// Every required field that is unset.
        fields: Vec<FieldPath>,
    },
}

/// Writes `message` as a Mesos JSON value.
pub fn to_value<T: Message + prost::Name>(message: &T) -> Json {
    parse_own(&bytes_of(message))
}

/// Writes `message` as Mesos JSON text.
pub fn to_string<T: Message + prost::Name>(message: &T) -> String {
    text_of(bytes_of(message))
}

/// Writes `message` as Mesos JSON, appending to `out`.
pub fn to_writer<T: Message + prost::Name>(message: &T, out: &mut Vec<u8>) {
    write_encoded(&T::full_name(), &message.encode_to_vec(), out);
}

/// Reads Mesos JSON text as a `T`.
pub fn from_slice<T: Message + prost::Name + Default>(bytes: &[u8]) -> Result<T, JsonError> {
    let json: Json = serde_json::from_slice(bytes).map_err(|e| JsonError::Syntax {
        line: e.line(),
        column: e.column(),
        reason: syntax_reason(&e),
    })?;
    from_value(&json)
}

/// Reads a parsed JSON value as a `T`.
pub fn from_value<T: Message + prost::Name + Default>(json: &Json) -> Result<T, JsonError> {
    let name = T::full_name();
    let bytes = encode_checked(&name, json)?;
    // The bytes were written for T's own schema, so they decode as T.
    T::decode(bytes.as_slice()).map_err(|e| JsonError::InvalidValue {
        path: FieldPath::default(),
        reason: format!("cannot be represented as {name}: {e}"),
    })
}

/// Writes a message of any type in the Mesos schemas as a Mesos JSON value.
pub fn dynamic_to_value(message: &DynamicMessage) -> Json {
    parse_own(&dynamic_bytes(message))
}

/// Writes a message of any type in the Mesos schemas as Mesos JSON text.
pub fn dynamic_to_string(message: &DynamicMessage) -> String {
    text_of(dynamic_bytes(message))
}

/// Writes protobuf bytes of the message type named `full_name` (e.g.
/// `mesos.v1.scheduler.Event`) as Mesos JSON, appending to `out`: the way to write a
/// message received as protobuf without decoding it. A type not in the schemas writes `{}`.
pub fn write_encoded(full_name: &str, bytes: &[u8], out: &mut Vec<u8>) {
    let schema = wire_schema();
    match schema.message_index(full_name) {
        Some(index) => write::write_message(schema, index, bytes, out),
        None => out.extend_from_slice(b"{}"),
    }
}

fn bytes_of<T: Message + prost::Name>(message: &T) -> Vec<u8> {
    let mut out = Vec::new();
    to_writer(message, &mut out);
    out
}

fn dynamic_bytes(message: &DynamicMessage) -> Vec<u8> {
    let mut out = Vec::new();
    write_encoded(
        message.descriptor().full_name(),
        &message.encode_to_vec(),
        &mut out,
    );
    out
}

/// The writer emits UTF-8 only (strings pass through `from_utf8_lossy`).
fn text_of(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Our own output is valid JSON; `Null` would only mark a writer defect.
fn parse_own(bytes: &[u8]) -> Json {
    serde_json::from_slice(bytes).unwrap_or(Json::Null)
}

/// Reads a JSON value as a message of the type `descriptor` describes.
pub fn dynamic_from_value(
    descriptor: MessageDescriptor,
    json: &Json,
) -> Result<DynamicMessage, JsonError> {
    let bytes = encode_checked(descriptor.full_name(), json)?;
    DynamicMessage::decode(descriptor, bytes.as_slice()).map_err(|e| JsonError::InvalidValue {
        path: FieldPath::default(),
        reason: format!("cannot be represented: {e}"),
    })
}

/// Encodes JSON as protobuf bytes of the named message type, with the required-field check.
fn encode_checked(full_name: &str, json: &Json) -> Result<Vec<u8>, JsonError> {
    let schema = wire_schema();
    let index = schema
        .message_index(full_name)
        .ok_or_else(|| JsonError::InvalidValue {
            path: FieldPath::default(),
            reason: format!("{full_name} is not a type of the Mesos schemas"),
        })?;
    let mut bytes = Vec::new();
    read::Reader::new(schema).message(index, json, &mut bytes)?;
    let missing = wire_check::missing_required_at(schema, index, &bytes);
    if missing.is_empty() {
        Ok(bytes)
    } else {
        Err(JsonError::MissingRequired {
            message: full_name.to_string(),
            fields: missing,
        })
    }
}

fn syntax_reason(error: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the variant prints the position itself.
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::scheduler::{call, Call};
    use crate::proto::mesos::v1::{task_status, FrameworkId, TaskId, TaskState, TaskStatus};
    use serde_json::json;

    #[test]
    fn writes_mesos_json() {
        let status = TaskStatus {
            task_id: TaskId { value: "t1".into() },
            state: TaskState::TaskRunning as i32,
            uuid: Some(vec![0xb2, 0x16, 0x62]),
            timestamp: Some(1795281471.001867),
            source: Some(task_status::Source::Executor as i32),
            ..Default::default()
        };
        assert_eq!(
            to_string(&status),
            r#"{"task_id":{"value":"t1"},"state":"TASK_RUNNING","source":"SOURCE_EXECUTOR","timestamp":1795281471.001867,"uuid":"shZi"}"#
        );
    }

    #[test]
    fn sixty_four_bit_integers_are_numbers() {
        let value = to_value(&crate::proto::mesos::v1::value::Range {
            begin: 31000,
            end: u64::MAX,
        });
        assert_eq!(value, json!({"begin": 31000, "end": u64::MAX}));
    }

    #[test]
    fn reads_what_it_writes() {
        let call = Call {
            framework_id: Some(FrameworkId { value: "f".into() }),
            r#type: Some(call::Type::Decline as i32),
            decline: Some(call::Decline {
                offer_ids: vec![crate::proto::mesos::v1::OfferId { value: "o".into() }],
                filters: Some(crate::proto::mesos::v1::Filters {
                    refuse_seconds: Some(5.0),
                }),
            }),
            ..Default::default()
        };
        let text = to_string(&call);
        assert_eq!(from_slice::<Call>(text.as_bytes()), Ok(call));
    }

    #[test]
    fn unknown_fields_are_named() {
        let err = from_value::<Call>(&json!({"type": "REVIVE", "revive": {"rolez": ["a"]}}))
            .expect_err("unknown field");
        assert_eq!(
            err.to_string(),
            "unknown field 'revive.rolez': mesos.v1.scheduler.Call.Revive has no field 'rolez'"
        );
    }

    #[test]
    fn wrong_types_say_where() {
        let err = from_value::<Call>(&json!({
            "type": "DECLINE",
            "decline": {"offer_ids": [{"value": "a"}, {"value": 7}]}
        }))
        .expect_err("wrong type");
        assert_eq!(
            err.to_string(),
            "field 'decline.offer_ids[1].value': expected a string, found a number"
        );
    }

    #[test]
    fn missing_required_fields_are_named() {
        let err = from_value::<Call>(&json!({"type": "DECLINE", "decline": {"offer_ids": [{}]}}))
            .expect_err("missing value");
        assert_eq!(
            err.to_string(),
            "mesos.v1.scheduler.Call is missing required fields: decline.offer_ids[0].value"
        );
    }

    #[test]
    fn syntax_errors_give_the_position() {
        let err = from_slice::<Call>(b"{\"type\": \n  SUBSCRIBE}").expect_err("bad JSON");
        assert!(
            matches!(
                err,
                JsonError::Syntax {
                    line: 2,
                    column: 3,
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn unknown_enum_names_are_dropped_from_optional_fields_as_mesos_does() {
        let call: Call = from_value(&json!({"type": "NOT_A_CALL"})).expect("dropped");
        assert_eq!(call.r#type, None);
        let err = from_value::<TaskStatus>(&json!({"task_id": {"value": "t"}, "state": "NOPE"}))
            .expect_err("required enum");
        assert!(err.to_string().contains("field 'state'"), "{err}");
    }

    #[test]
    fn numbers_may_come_as_strings_and_integral_floats() {
        let range: crate::proto::mesos::v1::value::Range =
            from_value(&json!({"begin": "31000", "end": 32000.0})).expect("lenient numbers");
        assert_eq!((range.begin, range.end), (31000, 32000));
        let err =
            from_value::<crate::proto::mesos::v1::value::Range>(&json!({"begin": 1.5, "end": -1}))
                .expect_err("fraction");
        assert!(err.to_string().contains("field 'begin'"), "{err}");
        let err =
            from_value::<crate::proto::mesos::v1::value::Range>(&json!({"begin": 1, "end": -1}))
                .expect_err("negative");
        assert_eq!(
            err.to_string(),
            "field 'end': -1 is out of range for this integer field"
        );
    }

    #[test]
    fn maps_are_json_objects() {
        use crate::proto::mesos::v1::quota::QuotaConfig;
        let config: QuotaConfig = from_value(&json!({
            "role": "dev",
            "guarantees": {"mem": {"value": 512}, "cpus": {"value": 1.5}}
        }))
        .expect("a quota config");
        let cpus = config.guarantees.iter().find(|e| e.key() == "cpus");
        assert_eq!(
            cpus.and_then(|e| e.value.as_ref()).map(|s| s.value),
            Some(1.5)
        );
        assert_eq!(
            to_string(&config),
            r#"{"role":"dev","guarantees":{"cpus":{"value":1.5},"mem":{"value":512.0}}}"#
        );
        let err = from_value::<QuotaConfig>(&json!({"role": "r", "limits": {"cpus": {}}}))
            .expect_err("Scalar.value is required");
        assert_eq!(
            err.to_string(),
            "mesos.v1.quota.QuotaConfig is missing required fields: limits[\"cpus\"].value"
        );
        let err = from_value::<QuotaConfig>(&json!({"role": "r", "limits": [1]}))
            .expect_err("a list is not a map");
        assert_eq!(
            err.to_string(),
            "field 'limits': expected a JSON object (a map), found an array"
        );
    }

    #[test]
    fn bad_base64_is_an_error() {
        let err = from_value::<TaskStatus>(
            &json!({"task_id": {"value": "t"}, "state": "TASK_RUNNING", "uuid": "!!"}),
        )
        .expect_err("bad base64");
        assert!(
            err.to_string()
                .starts_with("field 'uuid': bytes must be base64"),
            "{err}"
        );
    }
}
