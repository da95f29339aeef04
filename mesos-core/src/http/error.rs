//! [`HttpError`]: an HTTP status with a plain-text reason, rendered as Apache Mesos does.
//!
//! Mesos answers a bad request with the status and a short human-readable reason as a
//! `text/plain; charset=utf-8` body (`415` with `Expecting 'Content-Type' of
//! application/json or application/x-protobuf`, `400` with `Failed to parse body into
//! JSON: ...`). Every handler of the master and agent returns its failures as an
//! `HttpError`, so the wire shape of a failure is decided here, once.

use axum::http::header::{HeaderValue, ALLOW, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use axum::http::{HeaderName, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// The `Content-Type` of every error body, as Mesos sends it.
pub const TEXT_PLAIN_UTF8: &str = "text/plain; charset=utf-8";

/// Mesos' 415 text for a request whose `Content-Type` is neither JSON nor protobuf.
pub const UNSUPPORTED_CONTENT_TYPE: &str =
    "Expecting 'Content-Type' of application/json or application/x-protobuf";

/// An HTTP failure: a status, a plain-text reason, and the few headers some statuses need
/// (`Location` on a redirect, `Allow` on 405, `WWW-Authenticate` on 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {reason}")]
pub struct HttpError {
    status: StatusCode,
    reason: String,
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl HttpError {
    /// A failure with any status and reason. Prefer the named constructors.
    pub fn new(status: StatusCode, reason: impl Into<String>) -> HttpError {
        HttpError {
            status,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }

    /// Adds a header to the response; a value that is not a valid header value is dropped.
    pub fn with_header(mut self, name: HeaderName, value: &str) -> HttpError {
        if let Ok(value) = HeaderValue::from_str(value) {
            self.headers.push((name, value));
        }
        self
    }

    /// 400 Bad Request: the call is malformed or fails validation.
    pub fn bad_request(reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::BAD_REQUEST, reason)
    }

    /// 401 Unauthorized, with `WWW-Authenticate: Basic realm="<realm>"` as Mesos sends it.
    pub fn unauthorized(realm: &str, reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::UNAUTHORIZED, reason)
            .with_header(WWW_AUTHENTICATE, &format!("Basic realm=\"{realm}\""))
    }

    /// 403 Forbidden: the principal is not authorized for this call.
    pub fn forbidden(reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::FORBIDDEN, reason)
    }

    /// 404 Not Found.
    pub fn not_found(reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::NOT_FOUND, reason)
    }

    /// 405 Method Not Allowed, with `Allow` and Mesos' text
    /// `Expecting one of { 'POST' }, but received 'GET'`.
    pub fn method_not_allowed(allowed: &[Method], received: &Method) -> HttpError {
        let quoted: Vec<String> = allowed.iter().map(|m| format!("'{m}'")).collect();
        let allow: Vec<&str> = allowed.iter().map(Method::as_str).collect();
        HttpError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!(
                "Expecting one of {{ {} }}, but received '{received}'",
                quoted.join(", ")
            ),
        )
        .with_header(ALLOW, &allow.join(", "))
    }

    /// 406 Not Acceptable: no response format the client accepts.
    pub fn not_acceptable(reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::NOT_ACCEPTABLE, reason)
    }

    /// 409 Conflict: the call conflicts with the current state.
    pub fn conflict(reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::CONFLICT, reason)
    }

    /// 413 Payload Too Large: the body exceeds the configured maximum.
    pub fn payload_too_large(reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::PAYLOAD_TOO_LARGE, reason)
    }

    /// 415 Unsupported Media Type with Mesos' exact text about `Content-Type`.
    pub fn unsupported_media_type() -> HttpError {
        HttpError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_CONTENT_TYPE)
    }

    /// 503 Service Unavailable: e.g. the master is not yet recovered or has no leader.
    pub fn service_unavailable(reason: impl Into<String>) -> HttpError {
        HttpError::new(StatusCode::SERVICE_UNAVAILABLE, reason)
    }

    /// 307 Temporary Redirect to the leading master, as Mesos sends it: an empty body and
    /// `Location: //<host:port><path>` (scheme-relative, so the client keeps its scheme).
    /// `leader` is `host:port`; `path` is the request's path (may be empty, or carry a query).
    pub fn redirect_to_leader(leader: &str, path: &str) -> HttpError {
        HttpError::new(StatusCode::TEMPORARY_REDIRECT, "")
            .with_header(LOCATION, &format!("//{leader}{path}"))
    }

    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The plain-text reason sent as the body.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The extra headers sent with the response.
    pub fn headers(&self) -> &[(HeaderName, HeaderValue)] {
        &self.headers
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let mut response = if self.reason.is_empty() {
            (self.status, ()).into_response()
        } else {
            let mut response = (self.status, self.reason).into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(TEXT_PLAIN_UTF8));
            response
        };
        for (name, value) in self.headers {
            response.headers_mut().append(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsupported_media_type_matches_mesos() {
        let fixture = "Expecting 'Content-Type' of application/json or application/x-protobuf";
        let error = HttpError::unsupported_media_type();
        assert_eq!(error.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(error.reason(), fixture);
        assert_eq!(fixture.len(), 70); // Content-Length in operator/bad_ctype.headers
        let response = error.into_response();
        assert_eq!(response.headers()[CONTENT_TYPE], TEXT_PLAIN_UTF8);
    }

    #[test]
    fn redirect_has_scheme_relative_location_and_no_body_type() {
        let response = HttpError::redirect_to_leader("localhost:5050", "").into_response();
        assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(response.headers()[LOCATION], "//localhost:5050");
        assert!(response.headers().get(CONTENT_TYPE).is_none());
        let response =
            HttpError::redirect_to_leader("m2:5050", "/api/v1/scheduler").into_response();
        assert_eq!(response.headers()[LOCATION], "//m2:5050/api/v1/scheduler");
    }

    #[test]
    fn method_not_allowed_names_methods() {
        let error = HttpError::method_not_allowed(&[Method::POST], &Method::GET);
        assert_eq!(
            error.reason(),
            "Expecting one of { 'POST' }, but received 'GET'"
        );
        assert_eq!(error.headers()[0].1, "POST");
    }

    #[test]
    fn unauthorized_carries_realm() {
        let error = HttpError::unauthorized("mesos", "no credentials");
        assert_eq!(error.headers()[0].1, "Basic realm=\"mesos\"");
    }
}
