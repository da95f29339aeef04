//! The Mesos schemas flattened into indexed tables for code that walks protobuf bytes.
//!
//! `prost_reflect` descriptors are convenient but every step through them clones reference
//! counts and looks fields up in maps. The byte-level walkers (the required-field check
//! and the JSON writer) run on every message sent or received, so they use these plain
//! tables instead, built once straight from the compiled `FileDescriptorSet` (decoding it
//! into a `prost_reflect` pool first costs a process about 10 ms, paid by every executor
//! before its first event).

use std::collections::HashMap;
use std::sync::OnceLock;

use prost::Message;
use prost_reflect::Value;
use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};

use crate::proto::FILE_DESCRIPTOR_SET;
use crate::schema::is_map_shape;

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
    let set = FileDescriptorSet::decode(FILE_DESCRIPTOR_SET)
        .expect("the descriptor set written by build.rs is valid");
    let mut messages: Vec<(String, &DescriptorProto)> = Vec::new();
    let mut enum_types: Vec<(String, &EnumDescriptorProto)> = Vec::new();
    for file in &set.file {
        let package = file.package();
        collect(
            package,
            &file.message_type,
            &file.enum_type,
            &mut messages,
            &mut enum_types,
        );
    }
    let by_name: HashMap<String, usize> = messages
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), i))
        .collect();
    let mut enum_names: HashMap<String, usize> = HashMap::new();
    let mut enums = Vec::with_capacity(enum_types.len());
    for (full_name, descriptor) in &enum_types {
        enum_names.insert(full_name.clone(), enums.len());
        let mut values: Vec<(i32, String)> = descriptor
            .value
            .iter()
            .map(|v| (v.number(), v.name().to_string()))
            .collect();
        values.sort_by_key(|(number, _)| *number);
        values.dedup_by_key(|(number, _)| *number);
        enums.push(EnumInfo {
            full_name: full_name.clone(),
            values,
        });
    }
    let tables = Tables {
        messages: &messages,
        by_name: &by_name,
        enum_names: &enum_names,
        enums: &enums,
    };
    let messages = messages
        .iter()
        .map(|(full_name, descriptor)| {
            let mut fields: Vec<FieldInfo> = descriptor
                .field
                .iter()
                .map(|field| tables.field_info(full_name, field))
                .collect();
            fields.sort_by_key(|f| f.number);
            for (bit, field) in fields.iter_mut().filter(|f| f.required).enumerate() {
                field.required_bit = u32::try_from(bit).ok().filter(|b| *b < 64);
            }
            let declared: Vec<usize> = descriptor
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
                full_name: full_name.clone(),
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

/// Gathers the messages and enums declared in `scope` (a package or a message's full
/// name), nested ones included, under their full names.
fn collect<'a>(
    scope: &str,
    message_types: &'a [DescriptorProto],
    enum_types: &'a [EnumDescriptorProto],
    messages: &mut Vec<(String, &'a DescriptorProto)>,
    enums: &mut Vec<(String, &'a EnumDescriptorProto)>,
) {
    let qualify = |name: &str| {
        if scope.is_empty() {
            name.to_string()
        } else {
            format!("{scope}.{name}")
        }
    };
    for descriptor in enum_types {
        enums.push((qualify(descriptor.name()), descriptor));
    }
    for descriptor in message_types {
        let full_name = qualify(descriptor.name());
        messages.push((full_name.clone(), descriptor));
        collect(
            &full_name,
            &descriptor.nested_type,
            &descriptor.enum_type,
            messages,
            enums,
        );
    }
}

/// The lookups a field's entry needs while the tables are being built.
struct Tables<'a> {
    messages: &'a [(String, &'a DescriptorProto)],
    by_name: &'a HashMap<String, usize>,
    enum_names: &'a HashMap<String, usize>,
    enums: &'a [EnumInfo],
}

impl Tables<'_> {
    /// The entry of `field`, declared in message `parent` (a full name).
    fn field_info(&self, parent: &str, field: &FieldDescriptorProto) -> FieldInfo {
        // protoc writes resolved type names fully qualified, with a leading dot; every
        // type referenced is in the same set, hence in the tables.
        let type_name = field.type_name().trim_start_matches('.');
        let kind = match field.r#type() {
            Type::Double => FieldKind::Double,
            Type::Float => FieldKind::Float,
            Type::Int32 => FieldKind::Int32,
            Type::Int64 => FieldKind::Int64,
            Type::Uint32 => FieldKind::Uint32,
            Type::Uint64 => FieldKind::Uint64,
            Type::Sint32 => FieldKind::Sint32,
            Type::Sint64 => FieldKind::Sint64,
            Type::Fixed32 => FieldKind::Fixed32,
            Type::Fixed64 => FieldKind::Fixed64,
            Type::Sfixed32 => FieldKind::Sfixed32,
            Type::Sfixed64 => FieldKind::Sfixed64,
            Type::Bool => FieldKind::Bool,
            Type::String => FieldKind::String,
            Type::Bytes => FieldKind::Bytes,
            Type::Enum => FieldKind::Enum(self.enum_names.get(type_name).copied().unwrap_or(0)),
            Type::Message | Type::Group => {
                FieldKind::Message(self.by_name.get(type_name).copied().unwrap_or(0))
            }
        };
        let deprecated = field.options.as_ref().is_some_and(|o| o.deprecated());
        let written_default = (field.label() == Label::Optional && !deprecated)
            .then_some(field.default_value.as_deref())
            .flatten()
            .and_then(|text| self.default_value(kind, text));
        FieldInfo {
            number: u32::try_from(field.number()).unwrap_or(0),
            name: field.name().to_string(),
            json_key: format!("{}:", serde_json::Value::from(field.name())),
            kind,
            repeated: field.label() == Label::Repeated,
            required: field.label() == Label::Required,
            required_bit: None,
            map: self.is_map(parent, field, kind),
            written_default,
        }
    }

    /// Whether `field` of `parent` is a `map<K, V>` field in Mesos' schema.
    fn is_map(&self, parent: &str, field: &FieldDescriptorProto, kind: FieldKind) -> bool {
        let FieldKind::Message(entry) = kind else {
            return false;
        };
        let (entry_name, entry) = &self.messages[entry];
        is_map_shape(
            field.label() == Label::Repeated,
            entry_name.rsplit_once('.').map(|(scope, _)| scope) == Some(parent),
            entry.name(),
            entry.field.len(),
            |number, name| {
                entry
                    .field
                    .iter()
                    .any(|f| i64::from(f.number()) == i64::from(number) && f.name() == name)
            },
        )
    }

    /// A declared default, from its text in the descriptor, as the JSON writer emits it.
    fn default_value(&self, kind: FieldKind, text: &str) -> Option<Value> {
        Some(match kind {
            FieldKind::Double => Value::F64(special_float(text).or_else(|| text.parse().ok())?),
            FieldKind::Float => Value::F32(
                special_float(text).map_or_else(|| text.parse().ok(), |v| Some(v as f32))?,
            ),
            FieldKind::Int32 | FieldKind::Sint32 | FieldKind::Sfixed32 => {
                Value::I32(text.parse().ok()?)
            }
            FieldKind::Int64 | FieldKind::Sint64 | FieldKind::Sfixed64 => {
                Value::I64(text.parse().ok()?)
            }
            FieldKind::Uint32 | FieldKind::Fixed32 => Value::U32(text.parse().ok()?),
            FieldKind::Uint64 | FieldKind::Fixed64 => Value::U64(text.parse().ok()?),
            FieldKind::Bool => Value::Bool(text.parse().ok()?),
            FieldKind::String => Value::String(text.to_string()),
            // protoc writes a bytes default C-escaped; Mesos' schemas declare none.
            FieldKind::Bytes => return None,
            FieldKind::Enum(index) => Value::EnumNumber(self.enums[index].number(text)?),
            FieldKind::Message(_) => return None,
        })
    }
}

/// The floating-point defaults protoc writes as words: `inf`, `-inf`, `nan`.
fn special_float(text: &str) -> Option<f64> {
    match text {
        "inf" => Some(f64::INFINITY),
        "-inf" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables as `prost_reflect` describes the same schemas, to check ours against.
    mod reflected {
        use prost_reflect::{Cardinality, FieldDescriptor, Kind};

        use super::super::*;
        use crate::schema::{is_map_field, pool};

        /// What one field should say, with types by full name.
        #[derive(Debug, PartialEq)]
        pub struct Expected {
            pub number: u32,
            pub name: String,
            pub kind: String,
            pub repeated: bool,
            pub required: bool,
            pub map: bool,
            pub written_default: Option<Value>,
        }

        pub fn fields(message: &str) -> Vec<Expected> {
            let descriptor = pool().get_message_by_name(message).expect("known");
            let mut fields: Vec<Expected> = descriptor.fields().map(|f| expected(&f)).collect();
            fields.sort_by_key(|f| f.number);
            fields
        }

        fn expected(field: &FieldDescriptor) -> Expected {
            let kind = match field.kind() {
                Kind::Enum(e) => format!("enum {}", e.full_name()),
                Kind::Message(m) => format!("message {}", m.full_name()),
                other => format!("{other:?}"),
            };
            let proto = field.field_descriptor_proto();
            let deprecated = proto.options.as_ref().is_some_and(|o| o.deprecated());
            Expected {
                number: field.number(),
                name: field.name().to_string(),
                kind,
                repeated: field.is_list(),
                required: field.cardinality() == Cardinality::Required,
                map: is_map_field(field),
                written_default: (field.cardinality() == Cardinality::Optional
                    && proto.default_value.is_some()
                    && !deprecated)
                    .then(|| field.default_value()),
            }
        }
    }

    fn kind_name(schema: &WireSchema, kind: FieldKind) -> String {
        match kind {
            FieldKind::Enum(i) => format!("enum {}", schema.enums[i].full_name),
            FieldKind::Message(i) => format!("message {}", schema.messages[i].full_name),
            other => format!("{other:?}").to_lowercase(),
        }
    }

    #[test]
    fn tables_say_what_prost_reflect_says_of_every_message_and_enum() {
        let schema = wire_schema();
        let pool = crate::schema::pool();
        assert_eq!(schema.messages.len(), pool.all_messages().count());
        assert_eq!(schema.enums.len(), pool.all_enums().count());
        for message in &schema.messages {
            let ours: Vec<reflected::Expected> = message
                .fields
                .iter()
                .map(|f| reflected::Expected {
                    number: f.number,
                    name: f.name.clone(),
                    kind: kind_name(schema, f.kind),
                    repeated: f.repeated,
                    required: f.required,
                    map: f.map,
                    written_default: f.written_default.clone(),
                })
                .collect();
            assert_eq!(
                ours,
                reflected::fields(&message.full_name),
                "{}",
                message.full_name
            );
        }
        for info in &schema.enums {
            let descriptor = pool.get_enum_by_name(&info.full_name).expect("known enum");
            for value in descriptor.values() {
                assert_eq!(
                    info.number(value.name()),
                    Some(value.number()),
                    "{}",
                    info.full_name
                );
            }
        }
        let maps = schema
            .messages
            .iter()
            .flat_map(|m| &m.fields)
            .filter(|f| f.map)
            .count();
        assert!(maps > 0, "the schemas have map fields");
    }

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
