//! Property tests of the HTTP edge's pure parts: no header value or body makes content
//! negotiation or call decoding panic; each answers with a value or an `HttpError`.

use axum::http::StatusCode;
use mesos_core::http::{
    decode_body, encode_body, request_format, response_format, stream_format, Format,
};
use mesos_core::proto::mesos::v1::{agent, executor, master, scheduler};
use proptest::prelude::*;

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_string())),
        Just(Some("application/x-protobuf".to_string())),
        Just(Some("application/json; charset=utf-8".to_string())),
        any::<String>().prop_map(Some),
        "[a-z/*;=.,0-9 -]{0,40}".prop_map(Some),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..256),
        "[{}\\[\\]\":, a-z0-9_.-]{0,120}".prop_map(String::into_bytes),
        Just(br#"{"type":"TEARDOWN","framework_id":{"value":"x"}}"#.to_vec()),
    ]
}

fn check_error(status: StatusCode, reason: &str) {
    assert!(status.is_client_error(), "{status}");
    assert!(!reason.is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn decoding_never_panics(content_type in content_type(), body in body()) {
        match request_format(content_type.as_deref()) {
            Err(error) => {
                prop_assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
            }
            Ok(format) => {
                match decode_body::<scheduler::Call>(format, &body) {
                    Ok(call) => {
                        // A value decoded is a value that encodes and decodes again.
                        let (_, bytes) = encode_body(format, &call);
                        prop_assert_eq!(decode_body::<scheduler::Call>(format, &bytes).ok(), Some(call));
                    }
                    Err(error) => {
                        prop_assert_eq!(error.status(), StatusCode::BAD_REQUEST);
                        check_error(error.status(), error.reason());
                    }
                }
                if let Err(error) = decode_body::<master::Call>(format, &body) {
                    check_error(error.status(), error.reason());
                }
                if let Err(error) = decode_body::<executor::Call>(format, &body) {
                    check_error(error.status(), error.reason());
                }
                if let Err(error) = decode_body::<agent::Call>(format, &body) {
                    check_error(error.status(), error.reason());
                }
            }
        }
    }

    #[test]
    fn negotiation_never_panics(accept in content_type(), message_accept in content_type()) {
        if let Err(error) = response_format(accept.as_deref()) {
            prop_assert_eq!(error.status(), StatusCode::NOT_ACCEPTABLE);
        }
        match stream_format(accept.as_deref(), message_accept.as_deref()) {
            Ok(format) => {
                prop_assert!(matches!(format.message, Format::Json | Format::Protobuf));
            }
            Err(error) => prop_assert_eq!(error.status(), StatusCode::NOT_ACCEPTABLE),
        }
    }
}
