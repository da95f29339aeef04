//! A check of proto2 `required` fields straight on protobuf bytes.
//!
//! prost decodes a message short of a required field into its default; Google's runtime
//! and Apache Mesos reject it. Building a reflective copy of every message to find out is
//! slow, so this walks the wire format once with the schema in hand, allocating nothing
//! unless something is missing. Malformed bytes are not its concern: callers decode with
//! prost first, which reports them. (A singular message field split over several
//! occurrences, which protobuf merges, is checked occurrence by occurrence.)

use prost_reflect::MessageDescriptor;

use crate::protowire::{next_field, Payload};
use crate::schema::FieldPath;
use crate::wire_schema::{wire_schema, FieldKind, WireSchema};

/// How deep messages may nest before the scan stops looking (prost's own limit is 100).
const MAX_DEPTH: usize = 100;

/// One step down into a nested message: the field's position in its message's table and
/// which element: an index into a repeated field, or a key of a map field.
struct Step {
    message: usize,
    field: usize,
    element: Element,
}

enum Element {
    Single,
    Index(usize),
    Key(String),
}

/// The paths of the required fields missing from the message of type `descriptor` encoded
/// in `bytes` and from its nested messages, in the order found; empty when complete.
pub fn missing_required(descriptor: &MessageDescriptor, bytes: &[u8]) -> Vec<FieldPath> {
    let schema = wire_schema();
    match schema.message_index(descriptor.full_name()) {
        Some(root) => missing_required_at(schema, root, bytes),
        None => Vec::new(),
    }
}

/// As [`missing_required`], for the message type at `message` in the tables.
pub(crate) fn missing_required_at(
    schema: &WireSchema,
    message: usize,
    bytes: &[u8],
) -> Vec<FieldPath> {
    let mut missing = Vec::new();
    let mut trail = Vec::new();
    scan(schema, message, bytes, &mut trail, &mut missing);
    missing
}

fn scan(
    schema: &WireSchema,
    message: usize,
    mut bytes: &[u8],
    trail: &mut Vec<Step>,
    missing: &mut Vec<FieldPath>,
) {
    if trail.len() > MAX_DEPTH {
        return;
    }
    let info = &schema.messages[message];
    // Which required fields were seen, one bit each by position among the required fields
    // (the Mesos schemas have at most 5 in a message; more than 64 are not checked).
    let mut seen: u64 = 0;
    // Elements seen so far of each repeated message field, for the paths of errors.
    let mut counts: Vec<(usize, usize)> = Vec::new();

    while let Some((number, payload)) = next_field(&mut bytes) {
        let Some(position) = info.position(number) else {
            continue;
        };
        let field = &info.fields[position];
        if let Some(bit) = field.required_bit {
            seen |= 1 << bit;
        }
        let (Payload::Delimited(payload), FieldKind::Message(nested)) = (payload, field.kind)
        else {
            continue;
        };
        let (element, nested, payload) = if field.map {
            // Descend into the entry's value, named by the entry's key.
            let Some((key, value_type, value)) = map_entry(schema, nested, payload) else {
                continue;
            };
            (Element::Key(key), value_type, value)
        } else if field.repeated {
            let count = match counts.iter_mut().find(|(p, _)| *p == position) {
                Some((_, count)) => {
                    *count += 1;
                    *count
                }
                None => {
                    counts.push((position, 0));
                    0
                }
            };
            (Element::Index(count), nested, payload)
        } else {
            (Element::Single, nested, payload)
        };
        trail.push(Step {
            message,
            field: position,
            element,
        });
        scan(schema, nested, payload, trail, missing);
        trail.pop();
    }

    if info.required_count > 0 {
        for field in info.fields {
            if field.required_bit.is_some_and(|bit| seen & (1 << bit) == 0) {
                missing.push(render(schema, trail).field(field.name));
            }
        }
    }
}

/// A map entry's key as text, and the type and bytes of its value when that is a
/// message; `None` for an entry whose value is not a message (nothing to check inside).
fn map_entry<'a>(
    schema: &WireSchema,
    entry: usize,
    mut bytes: &'a [u8],
) -> Option<(String, usize, &'a [u8])> {
    let info = &schema.messages[entry];
    let FieldKind::Message(value_type) = info.fields[info.position(2)?].kind else {
        return None;
    };
    let mut key = String::new();
    let mut value: &[u8] = &[];
    while let Some((number, payload)) = next_field(&mut bytes) {
        match (number, payload) {
            (1, Payload::Delimited(text)) => key = String::from_utf8_lossy(text).into_owned(),
            (1, Payload::Varint(n)) => key = n.to_string(),
            (2, Payload::Delimited(message)) => value = message,
            _ => {}
        }
    }
    Some((key, value_type, value))
}

/// The trail as a path of field names.
fn render(schema: &WireSchema, trail: &[Step]) -> FieldPath {
    let mut path = FieldPath::default();
    for step in trail {
        path = path.field(schema.messages[step.message].fields[step.field].name);
        match &step.element {
            Element::Single => {}
            Element::Index(index) => path = path.index(*index),
            Element::Key(key) => path = path.key(key),
        }
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::scheduler::{call, Call};
    use crate::proto::mesos::v1::{FrameworkId, OfferId};
    use crate::schema::descriptor_of;
    use prost::Message;

    #[test]
    fn complete_messages_have_nothing_missing() {
        let call = Call {
            framework_id: Some(FrameworkId {
                value: String::new(),
            }),
            r#type: Some(call::Type::Decline as i32),
            decline: Some(call::Decline {
                offer_ids: vec![OfferId { value: "a".into() }; 3],
                filters: None,
            }),
            ..Default::default()
        };
        let bytes = call.encode_to_vec();
        assert!(missing_required(&descriptor_of::<Call>(), &bytes).is_empty());
    }

    #[test]
    fn missing_fields_are_found_with_their_paths() {
        // Call { decline: Decline { offer_ids: [OfferID {value: "a"}, OfferID {}] } }
        let bytes = [0x2a, 0x07, 0x0a, 0x03, 0x0a, 0x01, b'a', 0x0a, 0x00];
        let paths: Vec<String> = missing_required(&descriptor_of::<Call>(), &bytes)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(paths, ["decline.offer_ids[1].value"]);
    }
}
