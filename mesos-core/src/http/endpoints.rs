//! The endpoints every Mesos daemon serves, as router pieces the master and agent mount:
//! `GET /health` (200, empty body) and `GET /version` (the build's `VersionInfo` as JSON,
//! the shape of Mesos' `/version`).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{get, MethodRouter};
use axum::Router;

use super::body::message_response;
use super::error::HttpError;
use super::negotiate::Format;
use crate::proto::mesos::v1::VersionInfo;
use crate::MESOS_WIRE_VERSION;

/// What `/version` reports for this build.
///
/// `version` is the Mesos release whose wire protocol we speak ([`MESOS_WIRE_VERSION`]),
/// because clients compare it with Mesos versions. `build_time` (and `build_date` from it)
/// come from `SOURCE_DATE_EPOCH` at compile time when set, else 0; `build_user` from
/// `USER` at compile time; `git_sha`, `git_branch` and `git_tag` from `MESOS_GIT_SHA`,
/// `MESOS_GIT_BRANCH`, `MESOS_GIT_TAG` at compile time, left out when unset. `git_tag`
/// defaults to this crate's own version (`mesos-rs-<version>`).
pub fn version_info() -> VersionInfo {
    let build_time = option_env!("SOURCE_DATE_EPOCH")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0);
    VersionInfo {
        version: MESOS_WIRE_VERSION.to_string(),
        build_date: Some(format_utc(build_time)),
        build_time: Some(build_time as f64),
        build_user: Some(option_env!("USER").unwrap_or("").to_string()),
        git_sha: option_env!("MESOS_GIT_SHA").map(str::to_string),
        git_branch: option_env!("MESOS_GIT_BRANCH").map(str::to_string),
        git_tag: Some(
            option_env!("MESOS_GIT_TAG")
                .map(str::to_string)
                .unwrap_or_else(|| format!("mesos-rs-{}", env!("CARGO_PKG_VERSION"))),
        ),
    }
}

/// `GET /health` and `GET /version` (answering with `version`), to merge into a daemon's
/// router.
pub fn common_routes(version: VersionInfo) -> Router {
    Router::new().route("/health", get(health)).route(
        "/version",
        get(move || async move { version_response(&version) }),
    )
}

/// Makes `router` answer methods it does not route with Mesos' 405: an `Allow` header and
/// `Expecting one of { 'POST' }, but received 'GET'` (axum's own 405 has no body).
/// `allowed` lists the methods `router` serves.
pub fn mesos_405<S>(router: MethodRouter<S>, allowed: &[Method]) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    let allowed = allowed.to_vec();
    router.fallback(move |method: Method| {
        let allowed = allowed.clone();
        async move { HttpError::method_not_allowed(&allowed, &method) }
    })
}

/// The `/health` answer: 200 with an empty body, as Mesos sends it.
pub async fn health() -> StatusCode {
    StatusCode::OK
}

/// The `/version` answer: `version` as Mesos JSON.
pub fn version_response(version: &VersionInfo) -> Response {
    message_response(StatusCode::OK, Format::Json, version)
}

/// A 200 with `value` as its `application/json` body.
pub fn json_response(value: &serde_json::Value) -> Response {
    json_bytes_response(value.to_string().into_bytes())
}

/// A 200 answer carrying JSON already serialized.
pub fn json_bytes_response(json: Vec<u8>) -> Response {
    let mut response = Response::new(json.into());
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    response
}

/// The `/flags` answer: every flag by name, as JSON `{"flags": {...}}`.
pub fn flags_response(flags: &std::collections::BTreeMap<String, String>) -> Response {
    json_response(&serde_json::json!({ "flags": flags }))
}

/// `YYYY-MM-DD HH:MM:SS` in UTC for Unix seconds, the format of Mesos' `build_date`.
fn format_utc(seconds: i64) -> String {
    let days = seconds.div_euclid(86_400);
    let rem = seconds.rem_euclid(86_400);
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_dates_like_mesos() {
        // From master/version.json: build_time 1795278799 is "2026-11-21 16:33:19".
        assert_eq!(format_utc(1_795_278_799), "2026-11-21 16:33:19");
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00");
    }

    #[test]
    fn version_speaks_the_wire_version() {
        let info = version_info();
        assert_eq!(info.version, MESOS_WIRE_VERSION);
        assert!(info.build_date.is_some() && info.build_time.is_some());
    }
}
