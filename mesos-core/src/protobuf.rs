//! Protobuf binary decoding of Mesos messages with the checks Google's runtime makes.
//!
//! prost accepts a message with a `required` field missing; Apache Mesos does not. [`decode`]
//! rejects such a message, naming the missing fields, so a client gets the same answer from
//! us as from Mesos.

use crate::schema::{join_paths, FieldPath};
use crate::wire_check;
use crate::wire_schema::wire_schema;
use prost::Message;

/// Why protobuf bytes could not be decoded into a Mesos message.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    /// The bytes are not a valid encoding of the message type.
    #[error("malformed protobuf {message}: {source}")]
    Malformed {
        /// The full name of the message type expected.
        message: String,
        /// prost's description of what is wrong and where.
        source: prost::DecodeError,
    },
    /// The bytes decode, but `required` fields are missing.
    #[error("protobuf {message} is missing required fields: {}", join_paths(.fields))]
    MissingRequired {
        /// The full name of the message type expected.
        message: String,
        /// Every required field that is unset.
        fields: Vec<FieldPath>,
    },
}

/// Decodes `bytes` as a `T`, rejecting malformed input and missing required fields.
pub fn decode<T: Message + prost::Name + Default>(bytes: &[u8]) -> Result<T, ProtobufError> {
    let name = T::full_name();
    let message = T::decode(bytes).map_err(|source| ProtobufError::Malformed {
        message: name.clone(),
        source,
    })?;
    let schema = wire_schema();
    // Every generated type is in the tables; a type that is not has nothing to check.
    let missing = schema
        .message_index(&name)
        .map(|index| wire_check::missing_required_at(schema, index, bytes))
        .unwrap_or_default();
    if !missing.is_empty() {
        return Err(ProtobufError::MissingRequired {
            message: name,
            fields: missing,
        });
    }
    Ok(message)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::scheduler::{call, Call};
    use crate::proto::mesos::v1::{FrameworkId, FrameworkInfo};

    fn subscribe() -> Call {
        Call {
            framework_id: Some(FrameworkId {
                value: "fw-1".into(),
            }),
            r#type: Some(call::Type::Subscribe as i32),
            subscribe: Some(call::Subscribe {
                framework_info: FrameworkInfo {
                    user: "root".into(),
                    name: "test".into(),
                    ..Default::default()
                },
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn decodes_what_prost_encodes() {
        let call = subscribe();
        let decoded: Call = decode(&call.encode_to_vec()).expect("valid call");
        assert_eq!(decoded, call);
    }

    #[test]
    fn missing_required_fields_are_named() {
        // FrameworkID.value is required: encode a FrameworkID with no field at all by
        // appending an empty length-delimited field 1 (framework_id) to a Call.
        let bytes = [0x0a, 0x00];
        let err = decode::<Call>(&bytes).expect_err("framework_id.value is required");
        assert!(
            err.to_string().contains("framework_id.value"),
            "unexpected error: {err}"
        );
    }

    #[test]
    fn truncated_input_says_what_is_wrong() {
        let bytes = subscribe().encode_to_vec();
        let err = decode::<Call>(&bytes[..bytes.len() - 3]).expect_err("truncated");
        let text = err.to_string();
        assert!(
            text.starts_with("malformed protobuf mesos.v1.scheduler.Call"),
            "{text}"
        );
    }
}
