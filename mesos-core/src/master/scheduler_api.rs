//! `POST /api/v1/scheduler` (also `/master/api/v1/scheduler`): the v1 scheduler API.
//!
//! The wire checks happen here, in Mesos' order: method (405), `Content-Type` (415), body
//! size (413), decoding (400), call validation (400), and for SUBSCRIBE the stream's
//! `Accept` (406). The owner task then checks the framework and its `Mesos-Stream-Id` and
//! applies the call. SUBSCRIBE answers 200 with the event stream; every other call 202.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use super::runtime::MasterHandle;
use super::validation::validate_scheduler_call;
use crate::http::{
    event_stream_from, mesos_405, stream_format_of, CallBody, HttpError, MESOS_STREAM_ID,
};
use crate::proto::mesos::v1::scheduler::{call, Call};

/// The scheduler API routes.
pub(super) fn routes(handle: MasterHandle) -> Router {
    let endpoint = mesos_405(post(scheduler), &[Method::POST]);
    Router::new()
        .route("/api/v1/scheduler", endpoint.clone())
        .route("/master/api/v1/scheduler", endpoint)
        .with_state(handle)
}

async fn scheduler(
    State(master): State<MasterHandle>,
    headers: HeaderMap,
    body: CallBody<Call>,
) -> Result<Response, HttpError> {
    let call = body.message;
    validate_scheduler_call(&call).map_err(HttpError::bad_request)?;
    if call.r#type == Some(call::Type::Subscribe as i32) {
        let format = stream_format_of(&headers)?;
        let (stream_id, events) = master.subscribe(call).await?;
        let stream_id = HeaderValue::from_str(&stream_id)
            .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        return Ok(event_stream_from(
            format,
            events,
            [(HeaderName::from_static(MESOS_STREAM_ID), stream_id)],
        ));
    }
    let stream_id = headers
        .get(MESOS_STREAM_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    master.scheduler_call(call, stream_id).await?;
    Ok(StatusCode::ACCEPTED.into_response())
}
