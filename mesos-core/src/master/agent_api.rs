//! `POST /master/internal/agent`: the agent protocol (`mesos.internal.AgentCall`, see
//! `proto/mesos/internal/agent.proto`). REGISTER answers 200 with the agent's event
//! stream (RecordIO of protobuf `AgentEvent`s) and an `Agent-Stream-Id` header; every
//! other call carries that header and answers 202.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;

use super::runtime::MasterHandle;
use crate::http::{encoded_event_stream, mesos_405, CallBody, HttpError};
use crate::proto::mesos::internal::{agent_call, AgentCall};

use crate::agent::master_link::{AGENT_PATH, AGENT_STREAM_ID};

/// The agent protocol routes.
pub(super) fn routes(handle: MasterHandle) -> Router {
    Router::new()
        .route(AGENT_PATH, mesos_405(post(agent), &[Method::POST]))
        .with_state(handle)
}

async fn agent(
    State(master): State<MasterHandle>,
    headers: HeaderMap,
    body: CallBody<AgentCall>,
) -> Result<Response, HttpError> {
    let call = body.message;
    match agent_call::Type::try_from(call.r#type.unwrap_or(0)) {
        Ok(agent_call::Type::Register) => {
            let register = call
                .register
                .ok_or_else(|| HttpError::bad_request("Expecting 'register' to be present"))?;
            let (stream_id, events) = master.register_agent(register).await?;
            let stream_id = HeaderValue::from_str(&stream_id)
                .map_err(|e| HttpError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
            Ok(encoded_event_stream(
                events,
                [(HeaderName::from_static(AGENT_STREAM_ID), stream_id)],
            ))
        }
        Ok(agent_call::Type::Unknown) | Err(_) => {
            Err(HttpError::bad_request("Expecting 'type' to be present"))
        }
        Ok(_) => {
            let stream_id = headers
                .get(AGENT_STREAM_ID)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            master.agent_call(call, stream_id).await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
    }
}
