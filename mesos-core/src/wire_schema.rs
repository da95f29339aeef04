//! The Mesos schemas flattened into indexed tables for code that walks protobuf bytes.
//!
//! `prost_reflect` descriptors are convenient but every step through them clones reference
//! counts and looks fields up in maps. The byte-level walkers (the required-field check
//! and the JSON writer) run on every message sent or received, so they use these plain
//! tables instead, built once from [`crate::schema::pool`].

use std::collections::HashMap;
use std::sync::OnceLock;

use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor, Value};

use crate::schema::{is_map_field, pool};

/// The type of a field as the byte walkers need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// `double`.
    Double,
    /// `float`.
    Float,
    /// `int32` (varint, sign-extended).
    Int32,
    /// `int64`.
    Int64,
    /// `uint32`.
    Uint32,
    /// `uint64`.
    Uint64,
    /// `sint32` (zigzag varint).
    Sint32,
    /// `sint64` (zigzag varint).
    Sint64,
    /// `fixed32`.
    Fixed32,
    /// `fixed64`.
    Fixed64,
    /// `sfixed32`.
    Sfixed32,
    /// `sfixed64`.
    Sfixed64,
    /// `bool`.
    Bool,
    /// `string`.
    String,
    /// `bytes`.
    Bytes,
    /// An enum, by index into [`WireSchema::enums`].
    Enum(usize),
    /// A message, by index into [`WireSchema::messages`].
    Message(usize),
}

/// One field of a message type.
#[derive(Debug)]
pub struct FieldInfo {
    /// The field number.
    pub number: u32,
    /// The field name, as in the `.proto`.
    pub name: String,
    /// The name as a JSON object key with its colon, `"name":`, ready to write.
    pub json_key: String,
    /// The field's type.
    pub kind: FieldKind,
    /// `repeated` (including map fields).
    pub repeated: bool,
    /// `required`.
    pub required: bool,
    /// For a required field, its position among the message's required fields, when that
    /// is below 64 (the required-field check keeps one bit for each).
    pub required_bit: Option<u32>,
    /// A `map<K, V>` field in Mesos' schema (declared as repeated entries).
    pub map: bool,
    /// For an optional field with a declared default that is not deprecated: the default,
    /// which Mesos' JSON writer emits when the field is unset.
    pub written_default: Option<Value>,
}

/// One message type: its fields by number, and their declaration order.
#[derive(Debug)]
pub struct MessageInfo {
    /// The full name, e.g. `mesos.v1.TaskStatus`.
    pub full_name: String,
    /// Fields sorted by number, for lookups while reading bytes.
    pub fields: Vec<FieldInfo>,
    /// Positions in `fields`, in the order the schema declares the fields.
    pub declared: Vec<usize>,
    /// For each position in `fields`, its index in `declared`.
    pub rank: Vec<usize>,
    /// How many fields are `required`.
    pub required_count: usize,
}

impl MessageInfo {
    /// The position in `fields` of the field with this number.
    pub fn position(&self, number: u64) -> Option<usize> {
        self.fields
            .binary_search_by_key(&number, |f| u64::from(f.number))
            .ok()
    }

    /// The position in `fields` of the field with this name.
    pub fn position_by_name(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|f| f.name == name)
    }
}

/// One enum type: its values sorted by number.
#[derive(Debug)]
pub struct EnumInfo {
    /// The full name, e.g. `mesos.v1.TaskState`.
    pub full_name: String,
    /// `(number, name)` pairs, sorted by number.
    pub values: Vec<(i32, String)>,
}

impl EnumInfo {
    /// The name of the value with this number.
    pub fn name(&self, number: i32) -> Option<&str> {
        self.values
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| self.values[i].1.as_str())
    }

    /// The number of the value with this name.
    pub fn number(&self, name: &str) -> Option<i32> {
        self.values
            .iter()
            .find(|(_, n)| n == name)
            .map(|(number, _)| *number)
    }
}

/// Every message and enum type of the compiled schemas.
#[derive(Debug)]
pub struct WireSchema {
    /// Message types, indexed as `FieldKind::Message` refers to them.
    pub messages: Vec<MessageInfo>,
    /// Enum types, indexed as `FieldKind::Enum` refers to them.
    pub enums: Vec<EnumInfo>,
    by_name: HashMap<String, usize>,
}

impl WireSchema {
    /// The index of a message type by its full name, e.g. `mesos.v1.scheduler.Call`.
    pub fn message_index(&self, full_name: &str) -> Option<usize> {
        self.by_name.get(full_name).copied()
    }
}

/// The tables, built on first use.
pub fn wire_schema() -> &'static WireSchema {
    static SCHEMA: OnceLock<WireSchema> = OnceLock::new();
    SCHEMA.get_or_init(build)
}

fn build() -> WireSchema {
    let descriptors: Vec<MessageDescriptor> = pool().all_messages().collect();
    let by_name: HashMap<String, usize> = descriptors
        .iter()
        .enumerate()
        .map(|(i, d)| (d.full_name().to_string(), i))
        .collect();
    let mut enum_names: HashMap<String, usize> = HashMap::new();
    let mut enums = Vec::new();
    for descriptor in pool().all_enums() {
        enum_names.insert(descriptor.full_name().to_string(), enums.len());
        let mut values: Vec<(i32, String)> = descriptor
            .values()
            .map(|v| (v.number(), v.name().to_string()))
            .collect();
        values.sort_by_key(|(number, _)| *number);
        values.dedup_by_key(|(number, _)| *number);
        enums.push(EnumInfo {
            full_name: descriptor.full_name().to_string(),
            values,
        });
    }
    let messages = descriptors
        .iter()
        .map(|descriptor| {
            let mut fields: Vec<FieldInfo> = descriptor
                .fields()
                .map(|field| field_info(&field, &by_name, &enum_names))
                .collect();
            for (bit, field) in fields.iter_mut().filter(|f| f.required).enumerate() {
                field.required_bit = u32::try_from(bit).ok().filter(|b| *b < 64);
            }
            let declared: Vec<usize> = descriptor
                .descriptor_proto()
                .field
                .iter()
                .filter_map(|f| {
                    fields
                        .iter()
                        .position(|ours| i64::from(ours.number) == i64::from(f.number()))
                })
                .collect();
            let mut rank = vec![0; fields.len()];
            for (index, &position) in declared.iter().enumerate() {
                rank[position] = index;
            }
            let required_count = fields.iter().filter(|f| f.required).count();
            MessageInfo {
                full_name: descriptor.full_name().to_string(),
                fields,
                declared,
                rank,
                required_count,
            }
        })
        .collect();
    WireSchema {
        messages,
        enums,
        by_name,
    }
}

fn field_info(
    field: &FieldDescriptor,
    messages: &HashMap<String, usize>,
    enums: &HashMap<String, usize>,
) -> FieldInfo {
    let kind = match field.kind() {
        Kind::Double => FieldKind::Double,
        Kind::Float => FieldKind::Float,
        Kind::Int32 => FieldKind::Int32,
        Kind::Int64 => FieldKind::Int64,
        Kind::Uint32 => FieldKind::Uint32,
        Kind::Uint64 => FieldKind::Uint64,
        Kind::Sint32 => FieldKind::Sint32,
        Kind::Sint64 => FieldKind::Sint64,
        Kind::Fixed32 => FieldKind::Fixed32,
        Kind::Fixed64 => FieldKind::Fixed64,
        Kind::Sfixed32 => FieldKind::Sfixed32,
        Kind::Sfixed64 => FieldKind::Sfixed64,
        Kind::Bool => FieldKind::Bool,
        Kind::String => FieldKind::String,
        Kind::Bytes => FieldKind::Bytes,
        // Every enum and message referenced is in the same pool, hence in the tables.
        Kind::Enum(e) => FieldKind::Enum(enums.get(e.full_name()).copied().unwrap_or(0)),
        Kind::Message(m) => FieldKind::Message(messages.get(m.full_name()).copied().unwrap_or(0)),
    };
    let proto = field.field_descriptor_proto();
    let deprecated = proto.options.as_ref().is_some_and(|o| o.deprecated());
    let written_default = (field.cardinality() == Cardinality::Optional
        && proto.default_value.is_some()
        && !deprecated)
        .then(|| field.default_value());
    FieldInfo {
        number: field.number(),
        name: field.name().to_string(),
        json_key: format!("{}:", serde_json::Value::from(field.name())),
        kind,
        repeated: field.is_list(),
        required: field.cardinality() == Cardinality::Required,
        required_bit: None,
        map: is_map_field(field),
        written_default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_follow_the_schema() {
        let schema = wire_schema();
        let index = schema
            .message_index("mesos.v1.TaskStatus")
            .expect("TaskStatus");
        let status = &schema.messages[index];
        let declared: Vec<&str> = status.declared[..4]
            .iter()
            .map(|&p| status.fields[p].name.as_str())
            .collect();
        assert_eq!(declared, ["task_id", "state", "message", "source"]);
        let state = &status.fields[status.position(2).expect("state")];
        let FieldKind::Enum(states) = state.kind else {
            panic!("state is an enum")
        };
        assert_eq!(schema.enums[states].name(1), Some("TASK_RUNNING"));
        assert!(state.required);

        let filters = &schema.messages[schema.message_index("mesos.v1.Filters").expect("x")];
        assert_eq!(filters.fields[0].written_default, Some(Value::F64(5.0)));
        let resource = &schema.messages[schema.message_index("mesos.v1.Resource").expect("x")];
        let role = &resource.fields[resource.position(6).expect("role")];
        assert_eq!(
            role.written_default, None,
            "deprecated defaults are not written"
        );
    }
}
