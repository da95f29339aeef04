//! Our compiled schemas declare exactly what Apache Mesos 1.11.0 declares.
//!
//! This test reads files outside the repository: the schema data in
//! `../shared/mesos-wire/` beside the checkout. Where it is absent it prints why and checks
//! nothing. It compares the descriptors protoc built from `proto/` (what prost generated
//! code from) with the data: every file's package, every message (nested ones too), every
//! field's name, number, label, type, type name, default and oneof, and every enum value,
//! in declaration order.

use std::path::PathBuf;

use mesos_core::schema::pool;
use prost_reflect::prost_types::{
    field_descriptor_proto::{Label, Type},
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto,
};
use serde_json::Value;

fn wire_data(file: &str) -> Option<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/mesos-wire")
        .join(file);
    match std::fs::read(&path) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).expect("schema data is JSON")),
        Err(e) => {
            eprintln!("SKIPPED: no Mesos schema data at {}: {e}", path.display());
            None
        }
    }
}

fn label_name(label: Label) -> &'static str {
    match label {
        Label::Optional => "optional",
        Label::Required => "required",
        Label::Repeated => "repeated",
    }
}

fn type_name(kind: Type) -> &'static str {
    match kind {
        Type::Double => "double",
        Type::Float => "float",
        Type::Int64 => "int64",
        Type::Uint64 => "uint64",
        Type::Int32 => "int32",
        Type::Fixed64 => "fixed64",
        Type::Fixed32 => "fixed32",
        Type::Bool => "bool",
        Type::String => "string",
        Type::Group => "group",
        Type::Message => "message",
        Type::Bytes => "bytes",
        Type::Uint32 => "uint32",
        Type::Enum => "enum",
        Type::Sfixed32 => "sfixed32",
        Type::Sfixed64 => "sfixed64",
        Type::Sint32 => "sint32",
        Type::Sint64 => "sint64",
    }
}

/// Renders a compiled field in the shape of the data, for comparison.
fn field_facts(field: &FieldDescriptorProto, oneofs: &[String]) -> Value {
    let mut facts = serde_json::json!({
        "name": field.name(),
        "number": field.number(),
        "label": label_name(field.label()),
        "type": type_name(field.r#type()),
    });
    if let Some(type_name) = &field.type_name {
        facts["type_name"] = Value::from(type_name.as_str());
    }
    if let Some(default) = &field.default_value {
        facts["default"] = Value::from(default.as_str());
    }
    if let Some(index) = field.oneof_index {
        facts["oneof"] = Value::from(oneofs[index as usize].as_str());
    }
    if field.options.as_ref().is_some_and(|o| o.packed()) {
        facts["packed"] = Value::Bool(true);
    }
    facts
}

fn enum_facts(enumeration: &EnumDescriptorProto) -> Value {
    serde_json::json!({
        "name": enumeration.name(),
        "values": enumeration
            .value
            .iter()
            .map(|v| serde_json::json!([v.name(), v.number()]))
            .collect::<Vec<_>>(),
    })
}

fn message_facts(message: &DescriptorProto) -> Value {
    let oneofs: Vec<String> = message
        .oneof_decl
        .iter()
        .map(|o| o.name().to_string())
        .collect();
    let mut facts = serde_json::json!({
        "name": message.name(),
        "fields": message.field.iter().map(|f| field_facts(f, &oneofs)).collect::<Vec<_>>(),
    });
    if !message.enum_type.is_empty() {
        facts["enums"] = message.enum_type.iter().map(enum_facts).collect();
    }
    if !message.nested_type.is_empty() {
        facts["messages"] = message.nested_type.iter().map(message_facts).collect();
    }
    facts
}

/// The data, reduced to the facts compared (no empty lists, no file options).
fn data_facts(message: &Value) -> Value {
    let mut facts = serde_json::json!({
        "name": message["name"],
        "fields": message["fields"].as_array().cloned().unwrap_or_default(),
    });
    if let Some(enums) = message["enums"].as_array().filter(|e| !e.is_empty()) {
        facts["enums"] = Value::Array(enums.clone());
    }
    if let Some(nested) = message["messages"].as_array().filter(|m| !m.is_empty()) {
        facts["messages"] = nested.iter().map(data_facts).collect();
    }
    facts
}

fn check(file: &str) -> usize {
    let Some(data) = wire_data(file) else {
        return 0;
    };
    let mut messages = 0;
    for spec in data.as_array().expect("a list of files") {
        let name = spec["file"].as_str().expect("file name");
        let compiled = pool()
            .get_file_by_name(name)
            .unwrap_or_else(|| panic!("{name} is not compiled"));
        let proto = compiled.file_descriptor_proto();
        assert_eq!(proto.package(), spec["package"], "{name}: package");
        assert_eq!(
            proto.syntax.as_deref().unwrap_or("proto2"),
            spec["syntax"],
            "{name}"
        );
        let dependencies: Vec<&str> = proto.dependency.iter().map(String::as_str).collect();
        let imports: Vec<&str> = spec["imports"]
            .as_array()
            .expect("imports")
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert_eq!(dependencies, imports, "{name}: imports");

        let enums: Vec<Value> = proto.enum_type.iter().map(enum_facts).collect();
        assert_eq!(
            Value::Array(enums),
            spec["enums"],
            "{name}: top-level enums"
        );

        let wanted = spec["messages"].as_array().expect("messages");
        assert_eq!(
            proto.message_type.len(),
            wanted.len(),
            "{name}: message count"
        );
        for (ours, theirs) in proto.message_type.iter().zip(wanted) {
            let ours = message_facts(ours);
            let theirs = data_facts(theirs);
            assert_eq!(
                ours, theirs,
                "{name}: message {} differs from Mesos 1.11.0",
                theirs["name"]
            );
            messages += 1;
        }
    }
    messages
}

#[test]
fn v1_schemas_match_mesos_1_11() {
    let checked = check("v1.json");
    if checked > 0 {
        assert!(checked > 100, "only {checked} v1 messages checked");
    }
}

#[test]
fn v0_schema_matches_mesos_1_11() {
    let checked = check("v0.json");
    if checked > 0 {
        assert!(checked > 50, "only {checked} v0 messages checked");
    }
}
