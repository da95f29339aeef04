//! Content negotiation: which encoding a request body is in, and which the client wants back.
//!
//! Mesos' v1 APIs speak JSON (`application/json`) or protobuf (`application/x-protobuf`),
//! chosen by the request's `Content-Type` and `Accept`. Streaming responses are RecordIO
//! framed and come in two styles:
//! - `Accept: application/recordio` with `Message-Accept` choosing the inner encoding; the
//!   response says `Content-Type: application/recordio` and `Message-Content-Type`;
//! - the older style Mesos 1.11's scheduler API answers to `Accept: application/json` (or
//!   protobuf): `Content-Type: application/json` with RecordIO framing inside.
//!
//! Everything here is a pure function of header values, so it is tested without sockets.

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use axum::http::HeaderMap;

use super::error::HttpError;

/// `application/json`.
pub const APPLICATION_JSON: &str = "application/json";
/// `application/x-protobuf`.
pub const APPLICATION_PROTOBUF: &str = "application/x-protobuf";
/// `application/recordio`.
pub const APPLICATION_RECORDIO: &str = "application/recordio";
/// The request header choosing the inner encoding of a RecordIO stream.
pub const MESSAGE_ACCEPT: &str = "message-accept";
/// The response header naming the inner encoding of a RecordIO stream.
pub const MESSAGE_CONTENT_TYPE: &str = "message-content-type";

/// Mesos' 406 text when `Accept` allows neither JSON nor protobuf.
pub const NOT_ACCEPTABLE: &str =
    "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'";
/// The 406 text when a streaming call's `Accept` allows no stream encoding.
pub const STREAM_NOT_ACCEPTABLE: &str = "Expecting 'Accept' to allow 'application/recordio', \
     'application/x-protobuf' or 'application/json'";
/// The 406 text when `Message-Accept` allows neither JSON nor protobuf.
pub const MESSAGE_NOT_ACCEPTABLE: &str =
    "Expecting 'Message-Accept' to allow 'application/x-protobuf' or 'application/json'";

/// The encoding of one message: Mesos JSON or protobuf binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `application/json`, the Mesos JSON mapping.
    Json,
    /// `application/x-protobuf`, protobuf binary.
    Protobuf,
}

impl Format {
    /// The media type naming this format.
    pub const fn content_type(self) -> &'static str {
        match self {
            Format::Json => APPLICATION_JSON,
            Format::Protobuf => APPLICATION_PROTOBUF,
        }
    }

    /// The format a `Content-Type` value names; parameters (`; charset=utf-8`), surrounding
    /// whitespace and letter case are ignored. `None` for any other media type.
    pub fn from_content_type(value: &str) -> Option<Format> {
        let media = value.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case(APPLICATION_JSON) {
            Some(Format::Json)
        } else if media.eq_ignore_ascii_case(APPLICATION_PROTOBUF) {
            Some(Format::Protobuf)
        } else {
            None
        }
    }
}

/// The format of a request body from its `Content-Type`; absent or anything else is 415
/// with Mesos' text.
pub fn request_format(content_type: Option<&str>) -> Result<Format, HttpError> {
    content_type
        .and_then(Format::from_content_type)
        .ok_or_else(HttpError::unsupported_media_type)
}

/// [`request_format`] of a request's headers.
pub fn request_format_of(headers: &HeaderMap) -> Result<Format, HttpError> {
    match headers.get(CONTENT_TYPE) {
        None => request_format(None),
        Some(value) => request_format(Some(value.to_str().unwrap_or(""))),
    }
}

/// The format of a (non-streaming) response from the request's `Accept`: absent, blank or
/// `*/*` is JSON; otherwise the acceptable format with the highest q-value, JSON on a tie;
/// neither acceptable (including `q=0`) is 406.
pub fn response_format(accept: Option<&str>) -> Result<Format, HttpError> {
    choose_message_format(accept).ok_or_else(|| HttpError::not_acceptable(NOT_ACCEPTABLE))
}

/// [`response_format`] of a request's headers.
pub fn response_format_of(headers: &HeaderMap) -> Result<Format, HttpError> {
    response_format(header_str(headers, ACCEPT.as_str()).as_deref())
}

/// How a streaming response is encoded: RecordIO framing around messages in `message`
/// format, announced either as `application/recordio` + `Message-Content-Type` or, in the
/// older style, as the message's own content type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StreamFormat {
    /// The encoding of each record.
    pub message: Format,
    /// Whether the response announces `Content-Type: application/recordio` (with
    /// `Message-Content-Type`) rather than the message's content type.
    pub recordio_content_type: bool,
}

impl StreamFormat {
    /// The response's `Content-Type`.
    pub const fn content_type(self) -> &'static str {
        if self.recordio_content_type {
            APPLICATION_RECORDIO
        } else {
            self.message.content_type()
        }
    }

    /// The response's `Message-Content-Type`, sent only with `application/recordio`.
    pub const fn message_content_type(self) -> Option<&'static str> {
        if self.recordio_content_type {
            Some(self.message.content_type())
        } else {
            None
        }
    }
}

/// The encoding of a streaming response from the request's `Accept` and `Message-Accept`.
///
/// When `Accept` names `application/recordio` itself (not through a wildcard) at least as
/// strongly as JSON or protobuf, the stream is `application/recordio` and `Message-Accept`
/// picks the inner format (absent: JSON; unacceptable: 406). Otherwise the older style:
/// the inner format is chosen from `Accept` as for [`response_format`] and announced as the
/// `Content-Type` (what Mesos 1.11's scheduler SUBSCRIBE answers to `Accept:
/// application/json`). Nothing acceptable is 406.
pub fn stream_format(
    accept: Option<&str>,
    message_accept: Option<&str>,
) -> Result<StreamFormat, HttpError> {
    let ranges = accept.map(parse_accept).unwrap_or_default();
    if let Some((q_recordio, 3)) = quality(&ranges, APPLICATION_RECORDIO) {
        let q_message = [APPLICATION_JSON, APPLICATION_PROTOBUF]
            .iter()
            .filter_map(|media| quality(&ranges, media))
            .map(|(q, _)| q)
            .fold(0.0, f32::max);
        if q_recordio > 0.0 && q_recordio >= q_message {
            let message = choose_message_format(message_accept)
                .ok_or_else(|| HttpError::not_acceptable(MESSAGE_NOT_ACCEPTABLE))?;
            return Ok(StreamFormat {
                message,
                recordio_content_type: true,
            });
        }
    }
    let message = choose_message_format(accept)
        .ok_or_else(|| HttpError::not_acceptable(STREAM_NOT_ACCEPTABLE))?;
    Ok(StreamFormat {
        message,
        recordio_content_type: false,
    })
}

/// [`stream_format`] of a request's headers.
pub fn stream_format_of(headers: &HeaderMap) -> Result<StreamFormat, HttpError> {
    stream_format(
        header_str(headers, ACCEPT.as_str()).as_deref(),
        header_str(headers, MESSAGE_ACCEPT).as_deref(),
    )
}

/// All values of a header joined with `,` (as a list header means); `None` when absent.
/// A value that is not visible ASCII counts as empty.
fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap_or(""))
        .collect();
    if values.is_empty() {
        None
    } else {
        Some(values.join(","))
    }
}

/// JSON or protobuf from an `Accept`-style header: absent or blank means anything (JSON).
fn choose_message_format(accept: Option<&str>) -> Option<Format> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Some(Format::Json);
    };
    let ranges = parse_accept(accept);
    let q_json = quality(&ranges, APPLICATION_JSON).map_or(0.0, |(q, _)| q);
    let q_protobuf = quality(&ranges, APPLICATION_PROTOBUF).map_or(0.0, |(q, _)| q);
    if q_json <= 0.0 && q_protobuf <= 0.0 {
        None
    } else if q_json >= q_protobuf {
        Some(Format::Json)
    } else {
        Some(Format::Protobuf)
    }
}

/// One media range of an `Accept` header: `type`, `subtype` (lowercase) and its q-value.
#[derive(Debug, Clone, PartialEq)]
struct MediaRange {
    kind: String,
    subtype: String,
    q: f32,
}

/// Parses an `Accept` header; malformed ranges are skipped.
fn parse_accept(accept: &str) -> Vec<MediaRange> {
    accept
        .split(',')
        .filter_map(|item| {
            let mut parts = item.split(';');
            let media = parts.next()?.trim().to_ascii_lowercase();
            let (kind, subtype) = media.split_once('/')?;
            let (kind, subtype) = (kind.trim(), subtype.trim());
            if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
                return None;
            }
            let mut q = 1.0;
            for param in parts {
                if let Some((name, value)) = param.split_once('=') {
                    if name.trim().eq_ignore_ascii_case("q") {
                        q = value
                            .trim()
                            .parse::<f32>()
                            .ok()
                            .filter(|q| (0.0..=1.0).contains(q))?;
                    }
                }
            }
            Some(MediaRange {
                kind: kind.to_string(),
                subtype: subtype.to_string(),
                q,
            })
        })
        .collect()
}

/// The q-value the most specific matching range gives `media` (`type/subtype`), with that
/// range's specificity (3 exact, 2 `type/*`, 1 `*/*`); `None` when no range matches.
fn quality(ranges: &[MediaRange], media: &str) -> Option<(f32, u8)> {
    let (kind, subtype) = media.split_once('/')?;
    ranges
        .iter()
        .filter_map(|range| {
            let specificity = if range.kind == kind && range.subtype == subtype {
                3
            } else if range.kind == kind && range.subtype == "*" {
                2
            } else if range.kind == "*" && range.subtype == "*" {
                1
            } else {
                return None;
            };
            Some((range.q, specificity))
        })
        .max_by(|a, b| a.1.cmp(&b.1).then(a.0.total_cmp(&b.0)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn request_content_types() {
        assert_eq!(request_format(Some("application/json")), Ok(Format::Json));
        assert_eq!(
            request_format(Some("Application/JSON; charset=utf-8")),
            Ok(Format::Json)
        );
        assert_eq!(
            request_format(Some(" application/x-protobuf ")),
            Ok(Format::Protobuf)
        );
        for bad in [
            None,
            Some("text/plain"),
            Some(""),
            Some("application/jsonx"),
        ] {
            let error = request_format(bad).unwrap_err();
            assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
            assert_eq!(
                error.reason(),
                "Expecting 'Content-Type' of application/json or application/x-protobuf"
            );
        }
    }

    #[test]
    fn response_formats() {
        assert_eq!(response_format(None), Ok(Format::Json));
        assert_eq!(response_format(Some("")), Ok(Format::Json));
        assert_eq!(response_format(Some("*/*")), Ok(Format::Json));
        assert_eq!(response_format(Some("application/*")), Ok(Format::Json));
        assert_eq!(
            response_format(Some("application/x-protobuf")),
            Ok(Format::Protobuf)
        );
        assert_eq!(
            response_format(Some("application/json;q=0.5, application/x-protobuf")),
            Ok(Format::Protobuf)
        );
        assert_eq!(
            response_format(Some("application/json, application/x-protobuf")),
            Ok(Format::Json)
        );
        assert_eq!(
            response_format(Some("*/*, application/json;q=0")),
            Ok(Format::Protobuf)
        );
        for bad in ["text/html", "application/json;q=0", "image/*", "*/*;q=0"] {
            let error = response_format(Some(bad)).unwrap_err();
            assert_eq!(error.status(), StatusCode::NOT_ACCEPTABLE, "{bad}");
            assert_eq!(error.reason(), NOT_ACCEPTABLE);
        }
    }

    #[test]
    fn malformed_ranges_are_skipped() {
        assert_eq!(
            response_format(Some(
                "garbage, application/x-protobuf;q=x, application/json"
            )),
            Ok(Format::Json)
        );
        assert!(response_format(Some(";;;,/,*/json")).is_err());
    }

    #[test]
    fn stream_formats() {
        let old_json = StreamFormat {
            message: Format::Json,
            recordio_content_type: false,
        };
        assert_eq!(stream_format(None, None), Ok(old_json));
        assert_eq!(stream_format(Some("*/*"), None), Ok(old_json));
        assert_eq!(stream_format(Some("application/json"), None), Ok(old_json));
        assert_eq!(old_json.content_type(), "application/json");
        assert_eq!(old_json.message_content_type(), None);

        let old_pb = stream_format(Some("application/x-protobuf"), None).unwrap();
        assert_eq!(old_pb.content_type(), "application/x-protobuf");

        let recordio = stream_format(Some("application/recordio"), None).unwrap();
        assert_eq!(recordio.content_type(), "application/recordio");
        assert_eq!(recordio.message_content_type(), Some("application/json"));
        let recordio =
            stream_format(Some("application/recordio"), Some("application/x-protobuf")).unwrap();
        assert_eq!(recordio.message, Format::Protobuf);
        assert_eq!(
            recordio.message_content_type(),
            Some("application/x-protobuf")
        );

        let error = stream_format(Some("application/recordio"), Some("text/xml")).unwrap_err();
        assert_eq!(error.status(), StatusCode::NOT_ACCEPTABLE);
        assert_eq!(error.reason(), MESSAGE_NOT_ACCEPTABLE);
        let error = stream_format(Some("text/xml"), None).unwrap_err();
        assert_eq!(error.reason(), STREAM_NOT_ACCEPTABLE);

        // JSON preferred over RecordIO: the older style.
        assert_eq!(
            stream_format(Some("application/recordio;q=0.1, application/json"), None),
            Ok(old_json)
        );
    }

    #[test]
    fn header_maps() {
        let mut headers = HeaderMap::new();
        assert!(request_format_of(&headers).is_err());
        headers.insert(CONTENT_TYPE, "application/x-protobuf".parse().unwrap());
        headers.insert(ACCEPT, "application/recordio".parse().unwrap());
        headers.insert(MESSAGE_ACCEPT, "application/x-protobuf".parse().unwrap());
        assert_eq!(request_format_of(&headers), Ok(Format::Protobuf));
        assert_eq!(
            stream_format_of(&headers).unwrap().message,
            Format::Protobuf
        );
        assert!(response_format_of(&headers).is_err());
    }
}
