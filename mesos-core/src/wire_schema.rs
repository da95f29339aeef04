//! The Mesos schemas flattened into indexed tables for code that walks protobuf bytes.
//!
//! `prost_reflect` descriptors are convenient but every step through them clones reference
//! counts and looks fields up in maps. The byte-level walkers (the required-field check
//! and the JSON writer) run on every message sent or received, so they use these plain
//! tables instead. The build script compiles them from the descriptor set into statics
//! (`build/wire_tables.rs`): building them at run time cost every process, each executor
//! included, about 5 ms before its first message.

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

/// A default declared in the schema, as the JSON writer emits it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum DefaultValue {
    /// A `bool` default.
    Bool(bool),
    /// An `int32`, `sint32` or `sfixed32` default.
    I32(i32),
    /// An `int64`, `sint64` or `sfixed64` default.
    I64(i64),
    /// A `uint32` or `fixed32` default.
    U32(u32),
    /// A `uint64` or `fixed64` default.
    U64(u64),
    /// A `float` default.
    F32(f32),
    /// A `double` default.
    F64(f64),
    /// A `string` default.
    String(&'static str),
    /// An enum default, by the value's number.
    Enum(i32),
}

/// One field of a message type.
#[derive(Debug)]
pub struct FieldInfo {
    /// The field number.
    pub number: u32,
    /// The field name, as in the `.proto`.
    pub name: &'static str,
    /// The name as a JSON object key with its colon, `"name":`, ready to write.
    pub json_key: &'static str,
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
    pub written_default: Option<DefaultValue>,
}

/// One message type: its fields by number, and their declaration order.
#[derive(Debug)]
pub struct MessageInfo {
    /// The full name, e.g. `mesos.v1.TaskStatus`.
    pub full_name: &'static str,
    /// Fields sorted by number, for lookups while reading bytes.
    pub fields: &'static [FieldInfo],
    /// Positions in `fields`, in the order the schema declares the fields.
    pub declared: &'static [usize],
    /// For each position in `fields`, its index in `declared`.
    pub rank: &'static [usize],
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
    pub full_name: &'static str,
    /// `(number, name)` pairs, sorted by number.
    pub values: &'static [(i32, &'static str)],
}

impl EnumInfo {
    /// The name of the value with this number.
    pub fn name(&self, number: i32) -> Option<&'static str> {
        self.values
            .binary_search_by_key(&number, |(n, _)| *n)
            .ok()
            .map(|i| self.values[i].1)
    }

    /// The number of the value with this name.
    pub fn number(&self, name: &str) -> Option<i32> {
        self.values
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(number, _)| *number)
    }
}

/// Every message and enum type of the compiled schemas.
#[derive(Debug)]
pub struct WireSchema {
    /// Message types, indexed as `FieldKind::Message` refers to them.
    pub messages: &'static [MessageInfo],
    /// Enum types, indexed as `FieldKind::Enum` refers to them.
    pub enums: &'static [EnumInfo],
    /// `(full name, index in messages)`, sorted by name.
    by_name: &'static [(&'static str, usize)],
}

impl WireSchema {
    /// The index of a message type by its full name, e.g. `mesos.v1.scheduler.Call`.
    pub fn message_index(&self, full_name: &str) -> Option<usize> {
        self.by_name
            .binary_search_by_key(&full_name, |(name, _)| name)
            .ok()
            .map(|i| self.by_name[i].1)
    }
}

/// The tables of every type compiled from `proto/`.
pub fn wire_schema() -> &'static WireSchema {
    static SCHEMA: WireSchema = include!(concat!(env!("OUT_DIR"), "/wire_tables.rs"));
    &SCHEMA
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables as `prost_reflect` describes the same schemas, to check ours against.
    mod reflected {
        use prost_reflect::{Cardinality, FieldDescriptor, Kind, Value};

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

    /// A default as `prost_reflect` gives it.
    fn reflected_value(default: DefaultValue) -> prost_reflect::Value {
        use prost_reflect::Value;
        match default {
            DefaultValue::Bool(b) => Value::Bool(b),
            DefaultValue::I32(n) => Value::I32(n),
            DefaultValue::I64(n) => Value::I64(n),
            DefaultValue::U32(n) => Value::U32(n),
            DefaultValue::U64(n) => Value::U64(n),
            DefaultValue::F32(f) => Value::F32(f),
            DefaultValue::F64(f) => Value::F64(f),
            DefaultValue::String(s) => Value::String(s.to_string()),
            DefaultValue::Enum(n) => Value::EnumNumber(n),
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
        for (index, message) in schema.messages.iter().enumerate() {
            assert_eq!(schema.message_index(message.full_name), Some(index));
            let ours: Vec<reflected::Expected> = message
                .fields
                .iter()
                .map(|f| reflected::Expected {
                    number: f.number,
                    name: f.name.to_string(),
                    kind: kind_name(schema, f.kind),
                    repeated: f.repeated,
                    required: f.required,
                    map: f.map,
                    written_default: f.written_default.map(reflected_value),
                })
                .collect();
            assert_eq!(
                ours,
                reflected::fields(message.full_name),
                "{}",
                message.full_name
            );
        }
        for info in schema.enums {
            let descriptor = pool.get_enum_by_name(info.full_name).expect("known enum");
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
            .flat_map(|m| m.fields.iter())
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
            .map(|&p| status.fields[p].name)
            .collect();
        assert_eq!(declared, ["task_id", "state", "message", "source"]);
        let state = &status.fields[status.position(2).expect("state")];
        let FieldKind::Enum(states) = state.kind else {
            panic!("state is an enum")
        };
        assert_eq!(schema.enums[states].name(1), Some("TASK_RUNNING"));
        assert!(state.required);

        let filters = &schema.messages[schema.message_index("mesos.v1.Filters").expect("x")];
        assert_eq!(
            filters.fields[0].written_default,
            Some(DefaultValue::F64(5.0))
        );
        let resource = &schema.messages[schema.message_index("mesos.v1.Resource").expect("x")];
        let role = &resource.fields[resource.position(6).expect("role")];
        assert_eq!(
            role.written_default, None,
            "deprecated defaults are not written"
        );
    }
}
