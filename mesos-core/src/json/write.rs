//! Writes protobuf bytes as Mesos JSON, walking the bytes with the schema tables.
//!
//! Going straight from the wire format to text avoids building a reflective copy of the
//! message: fields are gathered from the bytes, then written in the order the schema
//! declares them, which is the order Mesos writes.

use std::collections::BTreeMap;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use crate::protowire::{next_field, read_varint, take_array, Payload};
use crate::wire_schema::{DefaultValue, FieldInfo, FieldKind, MessageInfo, WireSchema};

/// Appends the message of type `message` encoded in `bytes` to `out` as Mesos JSON.
pub(super) fn write_message(schema: &WireSchema, message: usize, bytes: &[u8], out: &mut Vec<u8>) {
    let info = &schema.messages[message];
    // Occurrences by declaration rank. prost writes fields in declaration order, so the
    // sort (stable: a field's occurrences keep their order) is rarely needed.
    let mut occurrences = gather(info, bytes);
    for occurrence in &mut occurrences {
        occurrence.0 = info.rank[occurrence.0];
    }
    if !occurrences.is_sorted_by_key(|(rank, _)| *rank) {
        occurrences.sort_by_key(|(rank, _)| *rank);
    }

    out.push(b'{');
    let mut first = true;
    let mut next = 0;
    for (rank, &position) in info.declared.iter().enumerate() {
        let field = &info.fields[position];
        let start = next;
        while next < occurrences.len() && occurrences[next].0 == rank {
            next += 1;
        }
        let items = &occurrences[start..next];
        if items.is_empty() && field.written_default.is_none() {
            continue;
        }
        if !first {
            out.push(b',');
        }
        first = false;
        out.extend_from_slice(field.json_key.as_bytes());
        match (items.last(), &field.written_default) {
            (None, Some(default)) => write_default(schema, field.kind, *default, out),
            (None, None) => {}
            (Some(_), _) if field.map => write_map(schema, field, items, out),
            (Some(_), _) if field.repeated => {
                out.push(b'[');
                let mut first_item = true;
                for (_, payload) in items {
                    for_each_element(field.kind, *payload, |element| {
                        if !first_item {
                            out.push(b',');
                        }
                        first_item = false;
                        write_single(schema, field.kind, element, out);
                    });
                }
                out.push(b']');
            }
            (Some((_, last)), _) => match (field.kind, items.len()) {
                // A message field that occurs more than once is their merge, which is
                // what parsing the concatenated occurrences yields.
                (FieldKind::Message(nested), n) if n > 1 => {
                    let merged: Vec<u8> = items
                        .iter()
                        .filter_map(|(_, p)| match p {
                            Payload::Delimited(bytes) => Some(*bytes),
                            _ => None,
                        })
                        .flatten()
                        .copied()
                        .collect();
                    write_message(schema, nested, &merged, out);
                }
                _ => write_single(schema, field.kind, *last, out),
            },
        }
    }
    out.push(b'}');
}

/// Every field occurrence in `bytes` that the message type declares, with its position in
/// the type's table. Bytes that do not parse end the gathering (prost vetted them first).
fn gather<'a>(info: &MessageInfo, mut bytes: &'a [u8]) -> Vec<(usize, Payload<'a>)> {
    let mut occurrences = Vec::new();
    while let Some((number, payload)) = next_field(&mut bytes) {
        if let Some(position) = info.position(number) {
            occurrences.push((position, payload));
        }
    }
    occurrences
}

/// Calls `each` for every element an occurrence of a repeated field holds: one, or for a
/// packed numeric field, all the numbers in it.
fn for_each_element(kind: FieldKind, payload: Payload<'_>, mut each: impl FnMut(Payload<'_>)) {
    let Payload::Delimited(mut bytes) = payload else {
        return each(payload);
    };
    match kind {
        FieldKind::String | FieldKind::Bytes | FieldKind::Message(_) => each(payload),
        FieldKind::Double | FieldKind::Fixed64 | FieldKind::Sfixed64 => {
            while let Some(chunk) = take_array(&mut bytes) {
                each(Payload::Fixed64(u64::from_le_bytes(chunk)));
            }
        }
        FieldKind::Float | FieldKind::Fixed32 | FieldKind::Sfixed32 => {
            while let Some(chunk) = take_array(&mut bytes) {
                each(Payload::Fixed32(u32::from_le_bytes(chunk)));
            }
        }
        _ => {
            while let Some(value) = read_varint(&mut bytes) {
                each(Payload::Varint(value));
            }
        }
    }
}

/// Writes one value of a field. A wire type that does not fit the field, which prost
/// would have refused, is written as `null` to keep the JSON well formed.
fn write_single(schema: &WireSchema, kind: FieldKind, payload: Payload<'_>, out: &mut Vec<u8>) {
    match (kind, payload) {
        (FieldKind::Double, Payload::Fixed64(bits)) => write_float(f64::from_bits(bits), out),
        (FieldKind::Float, Payload::Fixed32(bits)) => {
            write_float(f64::from(f32::from_bits(bits)), out)
        }
        (FieldKind::Int32, Payload::Varint(v)) => write_number(v as i32, out),
        (FieldKind::Int64, Payload::Varint(v)) => write_number(v as i64, out),
        (FieldKind::Uint32, Payload::Varint(v)) => write_number(v as u32, out),
        (FieldKind::Uint64, Payload::Varint(v)) => write_number(v, out),
        (FieldKind::Sint32, Payload::Varint(v)) => {
            write_number(((v as u32) >> 1) as i32 ^ -((v & 1) as i32), out)
        }
        (FieldKind::Sint64, Payload::Varint(v)) => {
            write_number((v >> 1) as i64 ^ -((v & 1) as i64), out)
        }
        (FieldKind::Fixed32, Payload::Fixed32(v)) => write_number(v, out),
        (FieldKind::Sfixed32, Payload::Fixed32(v)) => write_number(v as i32, out),
        (FieldKind::Fixed64, Payload::Fixed64(v)) => write_number(v, out),
        (FieldKind::Sfixed64, Payload::Fixed64(v)) => write_number(v as i64, out),
        (FieldKind::Bool, Payload::Varint(v)) => out.extend_from_slice(bool_text(v != 0)),
        (FieldKind::String, Payload::Delimited(bytes)) => {
            write_str(&String::from_utf8_lossy(bytes), out)
        }
        (FieldKind::Bytes, Payload::Delimited(bytes)) => write_str(&STANDARD.encode(bytes), out),
        (FieldKind::Enum(e), Payload::Varint(v)) => write_enum(schema, e, v as i32, out),
        (FieldKind::Message(m), Payload::Delimited(bytes)) => write_message(schema, m, bytes, out),
        _ => out.extend_from_slice(b"null"),
    }
}

/// Writes a map field's entries as a JSON object, keys sorted; when a key repeats, the
/// last entry wins, as when protobuf parses a map.
fn write_map(
    schema: &WireSchema,
    field: &FieldInfo,
    items: &[(usize, Payload<'_>)],
    out: &mut Vec<u8>,
) {
    let FieldKind::Message(entry) = field.kind else {
        out.extend_from_slice(b"{}");
        return;
    };
    let entry_info = &schema.messages[entry];
    let (Some(key_position), Some(value_position)) =
        (entry_info.position(1), entry_info.position(2))
    else {
        out.extend_from_slice(b"{}");
        return;
    };
    let key_kind = entry_info.fields[key_position].kind;
    let value_kind = entry_info.fields[value_position].kind;
    let mut entries: BTreeMap<String, Option<Payload<'_>>> = BTreeMap::new();
    for (_, payload) in items {
        let Payload::Delimited(bytes) = payload else {
            continue;
        };
        let mut key = None;
        let mut value = None;
        for (position, item) in gather(entry_info, bytes) {
            if position == key_position {
                key = Some(item);
            } else if position == value_position {
                value = Some(item);
            }
        }
        entries.insert(map_key(schema, key_kind, key), value);
    }
    out.push(b'{');
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(key, out);
        out.push(b':');
        match value {
            Some(payload) => write_single(schema, value_kind, *payload, out),
            None => write_zero(schema, value_kind, out),
        }
    }
    out.push(b'}');
}

/// A map key as text: a string as is, a number or boolean as written in JSON.
fn map_key(schema: &WireSchema, kind: FieldKind, key: Option<Payload<'_>>) -> String {
    match key {
        Some(Payload::Delimited(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
        Some(payload) => {
            let mut text = Vec::new();
            write_single(schema, kind, payload, &mut text);
            String::from_utf8_lossy(&text).into_owned()
        }
        None if kind == FieldKind::Bool => "false".to_string(),
        None if kind == FieldKind::String => String::new(),
        None => "0".to_string(),
    }
}

/// Writes the value an unset field of this kind reads as.
fn write_zero(schema: &WireSchema, kind: FieldKind, out: &mut Vec<u8>) {
    match kind {
        FieldKind::Message(m) => write_message(schema, m, &[], out),
        FieldKind::String | FieldKind::Bytes => out.extend_from_slice(b"\"\""),
        FieldKind::Bool => out.extend_from_slice(b"false"),
        FieldKind::Double | FieldKind::Float => write_float(0.0, out),
        FieldKind::Enum(e) => {
            let first = schema.enums[e].values.first().map_or(0, |(n, _)| *n);
            write_enum(schema, e, first, out)
        }
        _ => out.push(b'0'),
    }
}

/// Writes a declared default (a field the message leaves unset).
fn write_default(schema: &WireSchema, kind: FieldKind, value: DefaultValue, out: &mut Vec<u8>) {
    match value {
        DefaultValue::Bool(b) => out.extend_from_slice(bool_text(b)),
        DefaultValue::I32(n) => write_number(n, out),
        DefaultValue::I64(n) => write_number(n, out),
        DefaultValue::U32(n) => write_number(n, out),
        DefaultValue::U64(n) => write_number(n, out),
        DefaultValue::F32(f) => write_float(f64::from(f), out),
        DefaultValue::F64(f) => write_float(f, out),
        DefaultValue::String(s) => write_str(s, out),
        DefaultValue::Enum(n) => match kind {
            FieldKind::Enum(e) => write_enum(schema, e, n, out),
            _ => write_number(n, out),
        },
    }
}

fn write_enum(schema: &WireSchema, enumeration: usize, number: i32, out: &mut Vec<u8>) {
    match schema.enums.get(enumeration).and_then(|e| e.name(number)) {
        Some(name) => write_str(name, out),
        None => write_number(number, out),
    }
}

fn write_float(value: f64, out: &mut Vec<u8>) {
    if value.is_finite() {
        // serde_json writes a finite double in its shortest round-trip form, "2.0" for 2.
        let _ = serde_json::to_writer(out, &value);
    } else if value.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if value > 0.0 {
        out.extend_from_slice(b"\"Infinity\"");
    } else {
        out.extend_from_slice(b"\"-Infinity\"");
    }
}

fn write_number(value: impl itoa::Integer, out: &mut Vec<u8>) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

fn write_str(text: &str, out: &mut Vec<u8>) {
    if text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        // Nothing to escape: the common case of ids, names and enum values.
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
    } else {
        // serde_json escapes as JSON requires; writing into a Vec cannot fail.
        let _ = serde_json::to_writer(out, text);
    }
}

fn bool_text(value: bool) -> &'static [u8] {
    if value {
        b"true"
    } else {
        b"false"
    }
}
