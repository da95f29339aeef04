//! Request and response bodies: reading a bounded body, decoding a call from it, and
//! encoding a response message in the negotiated [`Format`].
//!
//! Failures carry Mesos' texts: `Failed to parse body into JSON: ...` for JSON that is not
//! JSON, `Failed to convert JSON into Call protobuf: ...` for JSON that is not a valid
//! message, `Failed to parse body into Call protobuf: ...` for bad protobuf; our reasons
//! after the colon name the offending field's path.

use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use prost::Message;

use super::error::HttpError;
use super::negotiate::{request_format_of, Format};
use crate::json::{self, JsonError};
use crate::protobuf;

/// The largest request body read unless configured otherwise: 64 MiB.
pub const DEFAULT_MAX_BODY_SIZE: usize = 64 * 1024 * 1024;

/// The maximum request body size. Put it in a router's extensions
/// (`router.layer(axum::Extension(BodyLimit(n)))`) to change what [`CallBody`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BodyLimit(pub usize);

impl Default for BodyLimit {
    fn default() -> BodyLimit {
        BodyLimit(DEFAULT_MAX_BODY_SIZE)
    }
}

/// Decodes a call body in `format` as a `T`, with Mesos' 400 texts on failure.
pub fn decode_body<T: Message + prost::Name + Default>(
    format: Format,
    bytes: &[u8],
) -> Result<T, HttpError> {
    match format {
        Format::Json => json::from_slice::<T>(bytes).map_err(|error| match error {
            JsonError::Syntax {
                line,
                column,
                reason,
            } => HttpError::bad_request(format!(
                "Failed to parse body into JSON: syntax error at line {line}, column {column}: {reason}"
            )),
            other => HttpError::bad_request(format!(
                "Failed to convert JSON into {} protobuf: {other}",
                T::NAME
            )),
        }),
        Format::Protobuf => protobuf::decode::<T>(bytes).map_err(|error| {
            HttpError::bad_request(format!(
                "Failed to parse body into {} protobuf: {error}",
                T::NAME
            ))
        }),
    }
}

/// Encodes `message` in `format`: the `Content-Type` to send and the bytes.
pub fn encode_body<T: Message + prost::Name>(
    format: Format,
    message: &T,
) -> (&'static str, Vec<u8>) {
    (format.content_type(), encode_message(format, message))
}

/// The bytes of `message` in `format`, without a content type.
pub fn encode_message<T: Message + prost::Name>(format: Format, message: &T) -> Vec<u8> {
    match format {
        Format::Json => {
            let mut out = Vec::new();
            json::to_writer(message, &mut out);
            out
        }
        Format::Protobuf => message.encode_to_vec(),
    }
}

/// A complete response carrying `message` in `format` with `status` (200 for a query's
/// answer, for instance) and its `Content-Type`.
pub fn message_response<T: Message + prost::Name>(
    status: StatusCode,
    format: Format,
    message: &T,
) -> Response {
    let (content_type, bytes) = encode_body(format, message);
    let mut response = (status, bytes).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// Reads a whole request body of at most `limit` bytes. A declared `Content-Length` over
/// the limit is refused before reading; a body that grows past it is cut off. Both are 413;
/// a connection failure while reading is 400.
pub async fn read_body(
    content_length: Option<&HeaderValue>,
    body: Body,
    limit: usize,
) -> Result<Bytes, HttpError> {
    let too_large = |size: &dyn std::fmt::Display| {
        HttpError::payload_too_large(format!(
            "Request body is {size} bytes, over the limit of {limit} bytes"
        ))
    };
    if let Some(length) = content_length
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
    {
        if length > limit as u64 {
            return Err(too_large(&length));
        }
    }
    let mut body = body;
    let mut collected = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|e| HttpError::bad_request(format!("Failed to read request body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            if collected.len() + data.len() > limit {
                return Err(too_large(&format!("more than {limit}")));
            }
            collected.extend_from_slice(&data);
        }
    }
    Ok(collected.freeze())
}

/// An axum extractor for a v1 API call: checks `Content-Type` (415), reads the body up to
/// the [`BodyLimit`] in the request's extensions (413; default [`DEFAULT_MAX_BODY_SIZE`])
/// and decodes it as a `T` (400). Rejections are [`HttpError`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct CallBody<T> {
    /// The decoded call.
    pub message: T,
    /// The format the body was in.
    pub format: Format,
}

impl<T, S> FromRequest<S> for CallBody<T>
where
    T: Message + prost::Name + Default,
    S: Send + Sync,
{
    type Rejection = HttpError;

    async fn from_request(request: Request, _state: &S) -> Result<Self, HttpError> {
        let format = request_format_of(request.headers())?;
        let limit = request
            .extensions()
            .get::<BodyLimit>()
            .copied()
            .unwrap_or_default()
            .0;
        let (parts, body) = request.into_parts();
        let bytes = read_body(parts.headers.get(CONTENT_LENGTH), body, limit).await?;
        let message = decode_body::<T>(format, &bytes)?;
        Ok(CallBody { message, format })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::mesos::v1::scheduler::{call, Call};
    use crate::proto::mesos::v1::FrameworkId;

    fn teardown() -> Call {
        Call {
            framework_id: Some(FrameworkId { value: "f1".into() }),
            r#type: Some(call::Type::Teardown as i32),
            ..Default::default()
        }
    }

    #[test]
    fn round_trips_both_formats() {
        for format in [Format::Json, Format::Protobuf] {
            let (content_type, bytes) = encode_body(format, &teardown());
            assert_eq!(content_type, format.content_type());
            assert_eq!(decode_body::<Call>(format, &bytes), Ok(teardown()));
        }
        let (_, json) = encode_body(Format::Json, &teardown());
        assert_eq!(
            String::from_utf8(json).unwrap(),
            r#"{"framework_id":{"value":"f1"},"type":"TEARDOWN"}"#
        );
    }

    #[test]
    fn json_errors_have_mesos_prefixes() {
        let error = decode_body::<Call>(Format::Json, b"not json").unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error
                .reason()
                .starts_with("Failed to parse body into JSON: syntax error at line 1"),
            "{}",
            error.reason()
        );
        let error =
            decode_body::<Call>(Format::Json, br#"{"type":"TEARDOWN","bogus":1}"#).unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error
                .reason()
                .starts_with("Failed to convert JSON into Call protobuf: "),
            "{}",
            error.reason()
        );
        assert!(error.reason().contains("bogus"), "{}", error.reason());
    }

    #[test]
    fn protobuf_errors_have_mesos_prefix() {
        let error = decode_body::<Call>(Format::Protobuf, &[0xff, 0xff, 0xff]).unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        assert!(
            error
                .reason()
                .starts_with("Failed to parse body into Call protobuf: "),
            "{}",
            error.reason()
        );
    }

    #[tokio::test]
    async fn read_body_enforces_limit() {
        let ok = read_body(None, Body::from("12345"), 5).await.unwrap();
        assert_eq!(&ok[..], b"12345");
        let error = read_body(None, Body::from("123456"), 5).await.unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let declared = HeaderValue::from_static("1000");
        let error = read_body(Some(&declared), Body::empty(), 5)
            .await
            .unwrap_err();
        assert_eq!(error.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert!(error.reason().contains("1000"), "{}", error.reason());
    }
}
