//! Reads Mesos JSON into protobuf bytes, walking the JSON with the schema tables.
//!
//! The bytes are then decoded by prost into the typed message (or by `prost_reflect` for a
//! dynamic one) and checked for required fields by `wire_check`. Paths for errors are
//! kept as a trail of segments and only turned into a [`FieldPath`] when something is
//! wrong.

use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine;
use serde_json::{Map, Number, Value as Json};

use super::JsonError;
use crate::schema::{FieldPath, PathSegment};
use crate::wire_schema::{FieldInfo, FieldKind, WireSchema};

/// Base64 as Mesos writes it (standard alphabet, padded); padding optional when reading.
const BASE64_LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// One step of the path to the value being read, borrowing the JSON's own keys.
#[derive(Clone, Copy)]
enum Step<'j> {
    Field(&'j str),
    Index(usize),
    Key(&'j str),
}

/// Where the reader is: the schema and the path to the value being read.
pub(super) struct Reader<'s, 'j> {
    schema: &'s WireSchema,
    trail: Vec<Step<'j>>,
}

impl<'s, 'j> Reader<'s, 'j> {
    /// A reader at the root of a message.
    pub(super) fn new(schema: &'s WireSchema) -> Reader<'s, 'j> {
        Reader {
            schema,
            trail: Vec::new(),
        }
    }

    /// Encodes the JSON `json` as a message of type `message`, appending to `out`.
    pub(super) fn message(
        &mut self,
        message: usize,
        json: &'j Json,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        let info = &self.schema.messages[message];
        let Json::Object(object) = json else {
            return Err(self.wrong_type(format!("a JSON object for {}", info.full_name), json));
        };
        self.object(message, object, out)
    }

    fn object(
        &mut self,
        message: usize,
        object: &'j Map<String, Json>,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        let info = &self.schema.messages[message];
        for (key, json) in object {
            self.trail.push(Step::Field(key));
            let Some(position) = info.position_by_name(key) else {
                return Err(JsonError::UnknownField {
                    path: self.path(),
                    message: info.full_name.to_string(),
                    field: key.clone(),
                });
            };
            let field = &info.fields[position];
            if !json.is_null() {
                if field.map {
                    self.map(field, json, out)?;
                } else if field.repeated {
                    let Json::Array(items) = json else {
                        return Err(self.wrong_type("a JSON array", json));
                    };
                    for (i, item) in items.iter().enumerate() {
                        self.trail.push(Step::Index(i));
                        self.single(field, item, out)?;
                        self.trail.pop();
                    }
                } else {
                    self.single(field, json, out)?;
                }
            }
            self.trail.pop();
        }
        Ok(())
    }

    /// A map field, written as a JSON object from key to value: each pair becomes an entry.
    fn map(
        &mut self,
        field: &FieldInfo,
        json: &'j Json,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        let Json::Object(object) = json else {
            return Err(self.wrong_type("a JSON object (a map)", json));
        };
        let FieldKind::Message(entry) = field.kind else {
            return Err(self.wrong_type("a map field", json));
        };
        let entry_info = &self.schema.messages[entry];
        let (Some(key_position), Some(value_position)) =
            (entry_info.position(1), entry_info.position(2))
        else {
            return Err(self.wrong_type("a map field", json));
        };
        let key_field = &entry_info.fields[key_position];
        let value_field = &entry_info.fields[value_position];
        let mut body = Vec::new();
        for (text, item) in object {
            if item.is_null() {
                continue;
            }
            self.trail.push(Step::Key(text));
            body.clear();
            self.scalar(key_field, &Json::from(text.as_str()), &mut body)?;
            self.single(value_field, item, &mut body)?;
            write_key(field.number, 2, out);
            write_varint(body.len() as u64, out);
            out.extend_from_slice(&body);
            self.trail.pop();
        }
        Ok(())
    }

    /// One value of `field` (an element, for a repeated field), as one field occurrence.
    /// An enum name the schema does not know is left out, as Mesos does, unless the
    /// field is required.
    fn single(
        &mut self,
        field: &FieldInfo,
        json: &'j Json,
        out: &mut Vec<u8>,
    ) -> Result<(), JsonError> {
        if let FieldKind::Message(nested) = field.kind {
            let mut body = Vec::new();
            self.message(nested, json, &mut body)?;
            write_key(field.number, 2, out);
            write_varint(body.len() as u64, out);
            out.extend_from_slice(&body);
            Ok(())
        } else {
            self.scalar(field, json, out)
        }
    }

    /// One value of a field that is not a message.
    fn scalar(&self, field: &FieldInfo, json: &Json, out: &mut Vec<u8>) -> Result<(), JsonError> {
        let number = field.number;
        match field.kind {
            FieldKind::Message(_) => return Err(self.wrong_type("a message", json)),
            FieldKind::Enum(e) => {
                let enumeration = &self.schema.enums[e];
                let known = match json {
                    Json::String(name) => enumeration.number(name),
                    Json::Number(n) => n
                        .as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .filter(|n| enumeration.name(*n).is_some()),
                    _ => {
                        let expected = format!("an enum name of {}", enumeration.full_name);
                        return Err(self.wrong_type(expected, json));
                    }
                };
                match known {
                    Some(value) => {
                        write_key(number, 0, out);
                        write_varint(value as i64 as u64, out);
                    }
                    None if field.required => {
                        let reason = format!("{json} is not a value of {}", enumeration.full_name);
                        return Err(self.invalid(reason));
                    }
                    None => {}
                }
            }
            FieldKind::Bool => {
                let Json::Bool(b) = json else {
                    return Err(self.wrong_type("a boolean", json));
                };
                write_key(number, 0, out);
                write_varint(u64::from(*b), out);
            }
            FieldKind::String => {
                let Json::String(text) = json else {
                    return Err(self.wrong_type("a string", json));
                };
                write_delimited(number, text.as_bytes(), out);
            }
            FieldKind::Bytes => {
                let Json::String(text) = json else {
                    return Err(self.wrong_type("a base64 string", json));
                };
                let bytes = BASE64_LENIENT
                    .decode(text)
                    .map_err(|e| self.invalid(format!("bytes must be base64: {e}")))?;
                write_delimited(number, &bytes, out);
            }
            FieldKind::Double => {
                let value = self.float(json)?;
                write_key(number, 1, out);
                out.extend_from_slice(&value.to_bits().to_le_bytes());
            }
            FieldKind::Float => {
                let value = self.float(json)? as f32;
                write_key(number, 5, out);
                out.extend_from_slice(&value.to_bits().to_le_bytes());
            }
            FieldKind::Int32 => {
                let value: i32 = self.integer(json)?;
                write_key(number, 0, out);
                write_varint(i64::from(value) as u64, out);
            }
            FieldKind::Int64 => {
                let value: i64 = self.integer(json)?;
                write_key(number, 0, out);
                write_varint(value as u64, out);
            }
            FieldKind::Uint32 => {
                let value: u32 = self.integer(json)?;
                write_key(number, 0, out);
                write_varint(u64::from(value), out);
            }
            FieldKind::Uint64 => {
                let value: u64 = self.integer(json)?;
                write_key(number, 0, out);
                write_varint(value, out);
            }
            FieldKind::Sint32 => {
                let value: i32 = self.integer(json)?;
                write_key(number, 0, out);
                write_varint(u64::from(((value << 1) ^ (value >> 31)) as u32), out);
            }
            FieldKind::Sint64 => {
                let value: i64 = self.integer(json)?;
                write_key(number, 0, out);
                write_varint(((value << 1) ^ (value >> 63)) as u64, out);
            }
            FieldKind::Fixed32 => {
                let value: u32 = self.integer(json)?;
                write_key(number, 5, out);
                out.extend_from_slice(&value.to_le_bytes());
            }
            FieldKind::Sfixed32 => {
                let value: i32 = self.integer(json)?;
                write_key(number, 5, out);
                out.extend_from_slice(&value.to_le_bytes());
            }
            FieldKind::Fixed64 => {
                let value: u64 = self.integer(json)?;
                write_key(number, 1, out);
                out.extend_from_slice(&value.to_le_bytes());
            }
            FieldKind::Sfixed64 => {
                let value: i64 = self.integer(json)?;
                write_key(number, 1, out);
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        Ok(())
    }

    fn float(&self, json: &Json) -> Result<f64, JsonError> {
        match json {
            Json::Number(n) => n
                .as_f64()
                .ok_or_else(|| self.invalid(format!("{n} is not a floating point number"))),
            Json::String(s) => match s.as_str() {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                text => text
                    .trim()
                    .parse()
                    .map_err(|_| self.invalid(format!("'{text}' is not a number"))),
            },
            _ => Err(self.wrong_type("a number", json)),
        }
    }

    /// An integer from a JSON number, a numeric string (proto3-style clients send 64-bit
    /// integers that way) or an integral float (`5.0`, `1e3`).
    fn integer<N>(&self, json: &Json) -> Result<N, JsonError>
    where
        N: TryFrom<i64> + TryFrom<u64>,
    {
        let number = match json {
            Json::Number(n) => n.clone(),
            Json::String(s) => s
                .trim()
                .parse::<Number>()
                .map_err(|_| self.invalid(format!("'{s}' is not an integer")))?,
            _ => return Err(self.wrong_type("an integer", json)),
        };
        let out_of_range =
            || self.invalid(format!("{number} is out of range for this integer field"));
        if let Some(n) = number.as_i64() {
            return N::try_from(n).map_err(|_| out_of_range());
        }
        if let Some(n) = number.as_u64() {
            return N::try_from(n).map_err(|_| out_of_range());
        }
        match number.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 => {
                N::try_from(f as i64).map_err(|_| out_of_range())
            }
            _ => Err(self.invalid(format!("{number} is not an integer"))),
        }
    }

    fn path(&self) -> FieldPath {
        FieldPath(
            self.trail
                .iter()
                .map(|step| match *step {
                    Step::Field(name) => PathSegment::Field(name.to_string()),
                    Step::Index(index) => PathSegment::Index(index),
                    Step::Key(key) => PathSegment::Key(key.to_string()),
                })
                .collect(),
        )
    }

    fn invalid(&self, reason: String) -> JsonError {
        JsonError::InvalidValue {
            path: self.path(),
            reason,
        }
    }

    fn wrong_type(&self, expected: impl Into<String>, found: &Json) -> JsonError {
        JsonError::WrongType {
            path: self.path(),
            expected: expected.into(),
            found: json_type(found),
        }
    }
}

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

fn write_key(number: u32, wire_type: u8, out: &mut Vec<u8>) {
    write_varint((u64::from(number) << 3) | u64::from(wire_type), out);
}

fn write_delimited(number: u32, bytes: &[u8], out: &mut Vec<u8>) {
    write_key(number, 2, out);
    write_varint(bytes.len() as u64, out);
    out.extend_from_slice(bytes);
}

fn write_varint(mut value: u64, out: &mut Vec<u8>) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}
