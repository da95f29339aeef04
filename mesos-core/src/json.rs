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

use std::collections::BTreeMap;

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use prost::Message;
use prost_reflect::{
    Cardinality, DynamicMessage, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    ReflectMessage, Value,
};
use prost_types::{field_descriptor_proto::Label, FieldDescriptorProto};
use serde::ser::{Error as _, SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::{Map, Number, Value as Json};

use crate::schema::{
    descriptor_of, is_map_field, join_paths, map_key_text, missing_required, FieldPath,
};

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
    dynamic_to_value(&to_dynamic(message))
}

/// Writes `message` as Mesos JSON text.
pub fn to_string<T: Message + prost::Name>(message: &T) -> String {
    dynamic_to_string(&to_dynamic(message))
}

/// Writes `message` as Mesos JSON bytes, appending to `out`.
pub fn to_writer<T: Message + prost::Name>(message: &T, out: &mut Vec<u8>) {
    let dynamic = to_dynamic(message);
    // Writing into a Vec cannot fail, and `MesosJson` reports no errors of its own.
    let _ = serde_json::to_writer(out, &MesosJson(&dynamic));
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
    let dynamic = dynamic_from_value(descriptor_of::<T>(), json)?;
    // The dynamic message was built against T's own descriptor, so its bytes decode as T.
    T::decode(dynamic.encode_to_vec().as_slice()).map_err(|e| JsonError::InvalidValue {
        path: FieldPath::default(),
        reason: format!("cannot be represented as {}: {e}", T::full_name()),
    })
}

/// Writes a message of any type in the Mesos schemas as a Mesos JSON value.
pub fn dynamic_to_value(message: &DynamicMessage) -> Json {
    serde_json::to_value(MesosJson(message)).unwrap_or(Json::Null)
}

/// Writes a message of any type in the Mesos schemas as Mesos JSON text.
pub fn dynamic_to_string(message: &DynamicMessage) -> String {
    serde_json::to_string(&MesosJson(message)).unwrap_or_default()
}

/// Reads a JSON value as a message of the type `descriptor` describes.
pub fn dynamic_from_value(
    descriptor: MessageDescriptor,
    json: &Json,
) -> Result<DynamicMessage, JsonError> {
    let message = read_message(&descriptor, json, &FieldPath::default())?;
    let missing = missing_required(&message);
    if missing.is_empty() {
        Ok(message)
    } else {
        Err(JsonError::MissingRequired {
            message: descriptor.full_name().to_string(),
            fields: missing,
        })
    }
}

fn to_dynamic<T: Message + prost::Name>(message: &T) -> DynamicMessage {
    let mut dynamic = DynamicMessage::new(descriptor_of::<T>());
    // `T` and the descriptor come from the same schema, so T's bytes always decode here.
    let _ = dynamic.merge(message.encode_to_vec().as_slice());
    dynamic
}

fn syntax_reason(error: &serde_json::Error) -> String {
    // serde_json appends " at line L column C"; the variant prints the position itself.
    let text = error.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

/// Serializes a dynamic message with the Mesos mapping.
struct MesosJson<'a>(&'a DynamicMessage);

impl Serialize for MesosJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let message = self.0;
        let descriptor = message.descriptor();
        let mut map = serializer.serialize_map(None)?;
        // Declaration order, not field-number order: that is the order Mesos writes.
        for declared in &descriptor.descriptor_proto().field {
            let Some(field) = u32::try_from(declared.number())
                .ok()
                .and_then(|number| descriptor.get_field(number))
            else {
                continue;
            };
            if message.has_field(&field) || writes_default(declared) {
                let value = message.get_field(&field);
                if let (true, Value::List(entries)) = (is_map_field(&field), value.as_ref()) {
                    map.serialize_entry(field.name(), &MapJson(entries))?;
                } else {
                    map.serialize_entry(field.name(), &FieldJson(&field.kind(), &value))?;
                }
            }
        }
        map.end()
    }
}

/// Whether an unset field is written with its default anyway. Mesos writes the default of
/// every optional field that declares one, unless the field is deprecated.
fn writes_default(field: &FieldDescriptorProto) -> bool {
    field.label() == Label::Optional
        && field.default_value.is_some()
        && !field.options.as_ref().is_some_and(|o| o.deprecated())
}

/// Serializes one field value (or list of values) of the given kind.
struct FieldJson<'a>(&'a Kind, &'a Value);

impl Serialize for FieldJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let kind = self.0;
        match self.1 {
            Value::Bool(v) => serializer.serialize_bool(*v),
            Value::I32(v) => serializer.serialize_i32(*v),
            Value::I64(v) => serializer.serialize_i64(*v),
            Value::U32(v) => serializer.serialize_u32(*v),
            Value::U64(v) => serializer.serialize_u64(*v),
            Value::F32(v) => serialize_float(f64::from(*v), serializer),
            Value::F64(v) => serialize_float(*v, serializer),
            Value::String(v) => serializer.serialize_str(v),
            Value::Bytes(v) => serializer.serialize_str(&STANDARD.encode(v)),
            Value::EnumNumber(number) => match kind {
                Kind::Enum(descriptor) => match descriptor.get_value(*number) {
                    Some(value) => serializer.serialize_str(value.name()),
                    None => serializer.serialize_i32(*number),
                },
                _ => serializer.serialize_i32(*number),
            },
            Value::Message(message) => MesosJson(message).serialize(serializer),
            Value::List(items) => {
                let mut seq = serializer.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&FieldJson(kind, item))?;
                }
                seq.end()
            }
            Value::Map(_) => Err(S::Error::custom("the Mesos schemas declare no map fields")),
        }
    }
}

/// Serializes the entries of a map field as a JSON object, keys sorted; when a key repeats
/// the last entry wins, as when protobuf parses a map.
struct MapJson<'a>(&'a [Value]);

impl Serialize for MapJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut entries = BTreeMap::new();
        for entry in self.0 {
            let Value::Message(entry) = entry else {
                return Err(S::Error::custom("a map entry that is not a message"));
            };
            let descriptor = entry.descriptor();
            let (Some(key_field), Some(value_field)) =
                (descriptor.get_field(1), descriptor.get_field(2))
            else {
                return Err(S::Error::custom("a map entry without key and value"));
            };
            let Some(key) = map_key_text(&entry.get_field(&key_field)) else {
                return Err(S::Error::custom("a map key of a type maps cannot have"));
            };
            let value = entry.get_field(&value_field).into_owned();
            entries.insert(key, (value_field.kind(), value));
        }
        let mut map = serializer.serialize_map(Some(entries.len()))?;
        for (key, (kind, value)) in &entries {
            map.serialize_entry(key, &FieldJson(kind, value))?;
        }
        map.end()
    }
}

fn serialize_float<S: Serializer>(value: f64, serializer: S) -> Result<S::Ok, S::Error> {
    if value.is_finite() {
        serializer.serialize_f64(value)
    } else if value.is_nan() {
        serializer.serialize_str("NaN")
    } else if value > 0.0 {
        serializer.serialize_str("Infinity")
    } else {
        serializer.serialize_str("-Infinity")
    }
}

/// Base64 as Mesos writes it (standard alphabet, padded); padding optional when reading.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn json_type(json: &Json) -> &'static str {
    match json {
        Json::Null => "null",
        Json::Bool(_) => "a boolean",
        Json::Number(_) => "a number",
        Json::String(_) => "a string",
        Json::Array(_) => "an array",
        Json::Object(_) => "an object",
    }
}

fn wrong_type(path: &FieldPath, expected: impl Into<String>, found: &Json) -> JsonError {
    JsonError::WrongType {
        path: path.clone(),
        expected: expected.into(),
        found: json_type(found),
    }
}

fn read_message(
    descriptor: &MessageDescriptor,
    json: &Json,
    path: &FieldPath,
) -> Result<DynamicMessage, JsonError> {
    let Json::Object(object) = json else {
        return Err(wrong_type(
            path,
            format!("a JSON object for {}", descriptor.full_name()),
            json,
        ));
    };
    read_object(descriptor, object, path)
}

fn read_object(
    descriptor: &MessageDescriptor,
    object: &Map<String, Json>,
    path: &FieldPath,
) -> Result<DynamicMessage, JsonError> {
    let mut message = DynamicMessage::new(descriptor.clone());
    for (key, json) in object {
        let Some(field) = descriptor.get_field_by_name(key) else {
            return Err(JsonError::UnknownField {
                path: path.field(key),
                message: descriptor.full_name().to_string(),
                field: key.clone(),
            });
        };
        if json.is_null() {
            continue;
        }
        let field_path = path.field(key);
        if is_map_field(&field) {
            message.set_field(&field, Value::List(read_map(&field, json, &field_path)?));
        } else if field.cardinality() == Cardinality::Repeated {
            let Json::Array(items) = json else {
                return Err(wrong_type(&field_path, "a JSON array", json));
            };
            let mut values = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                if let Some(value) = read_single(&field, item, &field_path.index(i))? {
                    values.push(value);
                }
            }
            message.set_field(&field, Value::List(values));
        } else if let Some(value) = read_single(&field, json, &field_path)? {
            message.set_field(&field, value);
        }
    }
    Ok(message)
}

/// Reads a map field, written as a JSON object from key to value, into its entries.
fn read_map(
    field: &FieldDescriptor,
    json: &Json,
    path: &FieldPath,
) -> Result<Vec<Value>, JsonError> {
    let Json::Object(object) = json else {
        return Err(wrong_type(path, "a JSON object (a map)", json));
    };
    let (Kind::Message(entry), true) = (field.kind(), is_map_field(field)) else {
        return Err(wrong_type(path, "a map field", json));
    };
    let (Some(key_field), Some(value_field)) = (entry.get_field(1), entry.get_field(2)) else {
        return Err(wrong_type(path, "a map field", json));
    };
    let mut entries = Vec::with_capacity(object.len());
    for (text, item) in object {
        if item.is_null() {
            continue;
        }
        let item_path = path.key(text);
        let key = read_single(&key_field, &Json::from(text.as_str()), &item_path)?;
        let value = read_single(&value_field, item, &item_path)?;
        if let (Some(key), Some(value)) = (key, value) {
            let mut message = DynamicMessage::new(entry.clone());
            message.set_field(&key_field, key);
            message.set_field(&value_field, value);
            entries.push(Value::Message(message));
        }
    }
    Ok(entries)
}

/// Reads one value of `field`'s type; `None` for an unknown enum name that is dropped.
fn read_single(
    field: &FieldDescriptor,
    json: &Json,
    path: &FieldPath,
) -> Result<Option<Value>, JsonError> {
    let value = match field.kind() {
        Kind::Message(descriptor) => Value::Message(read_message(&descriptor, json, path)?),
        Kind::Enum(descriptor) => {
            return read_enum(&descriptor, field.cardinality(), json, path);
        }
        Kind::Bool => match json {
            Json::Bool(b) => Value::Bool(*b),
            _ => return Err(wrong_type(path, "a boolean", json)),
        },
        Kind::String => match json {
            Json::String(s) => Value::String(s.clone()),
            _ => return Err(wrong_type(path, "a string", json)),
        },
        Kind::Bytes => match json {
            Json::String(s) => Value::Bytes(
                BASE64_LENIENT
                    .decode(s)
                    .map_err(|e| JsonError::InvalidValue {
                        path: path.clone(),
                        reason: format!("bytes must be base64: {e}"),
                    })?
                    .into(),
            ),
            _ => return Err(wrong_type(path, "a base64 string", json)),
        },
        Kind::Double => Value::F64(read_float(json, path)?),
        Kind::Float => Value::F32(read_float(json, path)? as f32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(read_integer(json, path)?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(read_integer(json, path)?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(read_integer(json, path)?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(read_integer(json, path)?),
    };
    Ok(Some(value))
}

fn read_enum(
    descriptor: &EnumDescriptor,
    cardinality: Cardinality,
    json: &Json,
    path: &FieldPath,
) -> Result<Option<Value>, JsonError> {
    let known = match json {
        Json::String(name) => descriptor.get_value_by_name(name),
        Json::Number(n) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .and_then(|n| descriptor.get_value(n)),
        _ => {
            return Err(wrong_type(
                path,
                format!("an enum name of {}", descriptor.full_name()),
                json,
            ))
        }
    };
    match known {
        Some(value) => Ok(Some(Value::EnumNumber(value.number()))),
        None if cardinality == Cardinality::Required => Err(JsonError::InvalidValue {
            path: path.clone(),
            reason: format!("{json} is not a value of {}", descriptor.full_name()),
        }),
        None => Ok(None),
    }
}

fn read_float(json: &Json, path: &FieldPath) -> Result<f64, JsonError> {
    match json {
        Json::Number(n) => n.as_f64().ok_or_else(|| JsonError::InvalidValue {
            path: path.clone(),
            reason: format!("{n} is not a floating point number"),
        }),
        Json::String(s) => match s.as_str() {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            text => text.trim().parse().map_err(|_| JsonError::InvalidValue {
                path: path.clone(),
                reason: format!("'{text}' is not a number"),
            }),
        },
        _ => Err(wrong_type(path, "a number", json)),
    }
}

fn read_integer<N>(json: &Json, path: &FieldPath) -> Result<N, JsonError>
where
    N: TryFrom<i64> + TryFrom<u64>,
{
    let invalid = |reason: String| JsonError::InvalidValue {
        path: path.clone(),
        reason,
    };
    let number = match json {
        Json::Number(n) => n.clone(),
        Json::String(s) => s
            .trim()
            .parse::<Number>()
            .map_err(|_| invalid(format!("'{s}' is not an integer")))?,
        _ => return Err(wrong_type(path, "an integer", json)),
    };
    let out_of_range = || invalid(format!("{number} is out of range for this integer field"));
    if let Some(n) = number.as_i64() {
        return N::try_from(n).map_err(|_| out_of_range());
    }
    if let Some(n) = number.as_u64() {
        return N::try_from(n).map_err(|_| out_of_range());
    }
    // A float: accepted when integral and exactly representable (e.g. 5.0 or 1e3).
    match number.as_f64() {
        Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
            N::try_from(f as i64).map_err(|_| out_of_range())
        }
        _ => Err(invalid(format!("{number} is not an integer"))),
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
        assert_eq!(cpus.and_then(|e| e.value.as_ref()).map(|s| s.value), Some(1.5));
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
