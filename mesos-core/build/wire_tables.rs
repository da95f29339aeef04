//! Compiles the descriptor set into the wire tables of `src/wire_schema.rs`, written as
//! Rust statics so that no process spends time building them: every message and enum
//! type, fields by number with their declaration order, required-field bits, map fields
//! and the declared defaults Mesos' JSON writer emits.

use std::collections::HashMap;
use std::fmt::Write;

use prost_types::field_descriptor_proto::{Label, Type};
use prost_types::{DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorSet};

use crate::map_field::is_map_shape;

/// The Rust expression of a `WireSchema` for every type in `set`.
pub fn source(set: &FileDescriptorSet) -> String {
    let mut messages: Vec<(String, &DescriptorProto)> = Vec::new();
    let mut enums: Vec<(String, &EnumDescriptorProto)> = Vec::new();
    for file in &set.file {
        collect(
            file.package(),
            &file.message_type,
            &file.enum_type,
            &mut messages,
            &mut enums,
        );
    }
    let tables = Tables {
        by_name: index_of(&messages),
        enum_names: index_of(&enums),
        messages: &messages,
        enums: &enums,
    };
    let mut out = String::from("WireSchema {\n    messages: &[\n");
    for (full_name, descriptor) in &messages {
        tables.write_message(full_name, descriptor, &mut out);
    }
    out.push_str("    ],\n    enums: &[\n");
    for (full_name, descriptor) in &enums {
        let mut values: Vec<(i32, &str)> = descriptor
            .value
            .iter()
            .map(|v| (v.number(), v.name()))
            .collect();
        values.sort_by_key(|(number, _)| *number);
        values.dedup_by_key(|(number, _)| *number);
        let _ = writeln!(
            out,
            "        EnumInfo {{ full_name: {full_name:?}, values: &{values:?} }},"
        );
    }
    out.push_str("    ],\n    by_name: &[\n");
    let mut by_name: Vec<(&str, usize)> = tables
        .by_name
        .iter()
        .map(|(name, index)| (name.as_str(), *index))
        .collect();
    by_name.sort();
    for (name, index) in by_name {
        let _ = writeln!(out, "        ({name:?}, {index}),");
    }
    out.push_str("    ],\n}\n");
    out
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

fn index_of<T>(named: &[(String, T)]) -> HashMap<String, usize> {
    named
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), i))
        .collect()
}

/// The types by name, to resolve the types fields refer to.
struct Tables<'a> {
    messages: &'a [(String, &'a DescriptorProto)],
    enums: &'a [(String, &'a EnumDescriptorProto)],
    by_name: HashMap<String, usize>,
    enum_names: HashMap<String, usize>,
}

/// One field's table entry while it is being compiled.
struct Field<'a> {
    descriptor: &'a FieldDescriptorProto,
    kind: String,
    required_bit: Option<u32>,
}

impl Tables<'_> {
    /// Writes the `MessageInfo` of the message `full_name`.
    fn write_message(&self, full_name: &str, descriptor: &DescriptorProto, out: &mut String) {
        let mut fields: Vec<Field> = descriptor
            .field
            .iter()
            .map(|field| Field {
                descriptor: field,
                kind: self.kind(field),
                required_bit: None,
            })
            .collect();
        fields.sort_by_key(|f| f.descriptor.number());
        let mut required_count = 0;
        for field in fields
            .iter_mut()
            .filter(|f| f.descriptor.label() == Label::Required)
        {
            field.required_bit = u32::try_from(required_count).ok().filter(|b| *b < 64);
            required_count += 1;
        }
        let declared: Vec<usize> = descriptor
            .field
            .iter()
            .filter_map(|f| {
                fields
                    .iter()
                    .position(|ours| ours.descriptor.number() == f.number())
            })
            .collect();
        let mut rank = vec![0; fields.len()];
        for (index, &position) in declared.iter().enumerate() {
            rank[position] = index;
        }
        let _ = writeln!(
            out,
            "        MessageInfo {{ full_name: {full_name:?}, declared: &{declared:?}, \
             rank: &{rank:?}, required_count: {required_count}, fields: &["
        );
        for field in &fields {
            self.write_field(full_name, field, out);
        }
        out.push_str("        ] },\n");
    }

    /// Writes the `FieldInfo` of `field`, declared in message `parent` (a full name).
    fn write_field(&self, parent: &str, field: &Field, out: &mut String) {
        let descriptor = field.descriptor;
        let name = descriptor.name();
        let deprecated = descriptor.options.as_ref().is_some_and(|o| o.deprecated());
        let written_default = (descriptor.label() == Label::Optional && !deprecated)
            .then_some(descriptor.default_value.as_deref())
            .flatten()
            .and_then(|text| self.default_value(descriptor, text));
        let _ = writeln!(
            out,
            "            FieldInfo {{ number: {}, name: {name:?}, json_key: {:?}, kind: {}, \
             repeated: {}, required: {}, required_bit: {:?}, map: {}, written_default: {} }},",
            descriptor.number(),
            format!("{name:?}:"),
            field.kind,
            descriptor.label() == Label::Repeated,
            descriptor.label() == Label::Required,
            field.required_bit,
            self.is_map(parent, descriptor),
            written_default.map_or_else(|| "None".to_string(), |v| format!("Some({v})")),
        );
    }

    /// The index of the message or enum type `field` refers to.
    fn referred(&self, field: &FieldDescriptorProto, names: &HashMap<String, usize>) -> usize {
        // protoc writes resolved type names fully qualified, with a leading dot; every
        // type referenced is in the same set.
        let type_name = field.type_name().trim_start_matches('.');
        *names
            .get(type_name)
            .unwrap_or_else(|| panic!("{type_name} is not in the descriptor set"))
    }

    /// The `FieldKind` expression of `field`.
    fn kind(&self, field: &FieldDescriptorProto) -> String {
        match field.r#type() {
            Type::Enum => format!(
                "FieldKind::Enum({})",
                self.referred(field, &self.enum_names)
            ),
            Type::Message | Type::Group => {
                format!(
                    "FieldKind::Message({})",
                    self.referred(field, &self.by_name)
                )
            }
            other => format!("FieldKind::{}", scalar_kind(other)),
        }
    }

    /// Whether `field` of `parent` is a `map<K, V>` field in Mesos' schema.
    fn is_map(&self, parent: &str, field: &FieldDescriptorProto) -> bool {
        if field.r#type() != Type::Message {
            return false;
        }
        let (entry_name, entry) = &self.messages[self.referred(field, &self.by_name)];
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

    /// The `DefaultValue` expression of a declared default, from its text in the
    /// descriptor; `None` for a default the JSON writer does not emit.
    fn default_value(&self, field: &FieldDescriptorProto, text: &str) -> Option<String> {
        Some(match field.r#type() {
            Type::Double => format!("DefaultValue::F64({})", float(text)?),
            Type::Float => format!("DefaultValue::F32({} as f32)", float(text)?),
            Type::Int32 | Type::Sint32 | Type::Sfixed32 => {
                format!("DefaultValue::I32({})", text.parse::<i32>().ok()?)
            }
            Type::Int64 | Type::Sint64 | Type::Sfixed64 => {
                format!("DefaultValue::I64({})", text.parse::<i64>().ok()?)
            }
            Type::Uint32 | Type::Fixed32 => {
                format!("DefaultValue::U32({})", text.parse::<u32>().ok()?)
            }
            Type::Uint64 | Type::Fixed64 => {
                format!("DefaultValue::U64({})", text.parse::<u64>().ok()?)
            }
            Type::Bool => format!("DefaultValue::Bool({})", text.parse::<bool>().ok()?),
            Type::String => format!("DefaultValue::String({text:?})"),
            Type::Enum => {
                let (_, enumeration) = &self.enums[self.referred(field, &self.enum_names)];
                let value = enumeration.value.iter().find(|v| v.name() == text)?;
                format!("DefaultValue::Enum({})", value.number())
            }
            // protoc writes a bytes default C-escaped; Mesos' schemas declare none.
            Type::Bytes | Type::Message | Type::Group => return None,
        })
    }
}

/// The `FieldKind` variant of a scalar type.
fn scalar_kind(kind: Type) -> &'static str {
    match kind {
        Type::Double => "Double",
        Type::Float => "Float",
        Type::Int32 => "Int32",
        Type::Int64 => "Int64",
        Type::Uint32 => "Uint32",
        Type::Uint64 => "Uint64",
        Type::Sint32 => "Sint32",
        Type::Sint64 => "Sint64",
        Type::Fixed32 => "Fixed32",
        Type::Fixed64 => "Fixed64",
        Type::Sfixed32 => "Sfixed32",
        Type::Sfixed64 => "Sfixed64",
        Type::Bool => "Bool",
        Type::String => "String",
        Type::Bytes => "Bytes",
        Type::Enum | Type::Message | Type::Group => unreachable!("not a scalar type"),
    }
}

/// A floating-point default as a Rust `f64` expression (protoc writes `inf`, `-inf` and
/// `nan` as words).
fn float(text: &str) -> Option<String> {
    Some(match text {
        "inf" => "f64::INFINITY".to_string(),
        "-inf" => "f64::NEG_INFINITY".to_string(),
        "nan" => "f64::NAN".to_string(),
        _ => format!("{:?}", text.parse::<f64>().ok()?),
    })
}
