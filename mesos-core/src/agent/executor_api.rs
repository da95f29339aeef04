//! `POST /api/v1/executor`: the v1 executor API. SUBSCRIBE answers 200 with the executor's
//! event stream (in the encoding its `Accept` asks for); UPDATE, MESSAGE and HEARTBEAT
//! answer 202, or 4xx with the reason.

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use tokio::sync::mpsc;

use super::runtime::AgentHandle;
use super::state::ExecutorCallError;
use crate::http::{event_stream_from, mesos_405, stream_format_of, CallBody, HttpError};
use crate::proto::mesos::v1::executor::{call, Call, Event};

/// The executor API routes.
pub(super) fn routes(handle: AgentHandle) -> Router {
    let endpoint = mesos_405(post(executor), &[Method::POST]);
    Router::new()
        .route("/api/v1/executor", endpoint.clone())
        .route("/slave(1)/api/v1/executor", endpoint)
        .with_state(handle)
}

impl From<ExecutorCallError> for HttpError {
    fn from(error: ExecutorCallError) -> HttpError {
        let reason = error.to_string();
        match error {
            ExecutorCallError::BadRequest(_) => HttpError::bad_request(reason),
            ExecutorCallError::Forbidden(_) => HttpError::forbidden(reason),
            ExecutorCallError::Unavailable(_) => HttpError::service_unavailable(reason),
        }
    }
}

async fn executor(
    State(agent): State<AgentHandle>,
    headers: HeaderMap,
    body: CallBody<Call>,
) -> Result<Response, HttpError> {
    let call = body.message;
    let framework_id = call.framework_id.value.clone();
    let executor_id = call.executor_id.value.clone();
    if framework_id.is_empty() {
        return Err(HttpError::bad_request(
            "Expecting 'framework_id' to be present",
        ));
    }
    if executor_id.is_empty() {
        return Err(HttpError::bad_request(
            "Expecting 'executor_id' to be present",
        ));
    }
    let kind = call::Type::try_from(call.r#type.unwrap_or(0)).unwrap_or(call::Type::Unknown);
    match kind {
        call::Type::Subscribe => {
            let format = stream_format_of(&headers)?;
            let subscribe = call.subscribe.unwrap_or_default();
            let (f, e) = (framework_id.clone(), executor_id.clone());
            let (connection, events) = agent
                .run(move |s| s.subscribe_executor(&f, &e, subscribe))
                .await??;
            let events = Disconnecting {
                events,
                on_drop: Some(Box::new(move || {
                    agent.send(move |s| {
                        s.executor_disconnected(&framework_id, &executor_id, connection)
                    })
                })),
            };
            Ok(event_stream_from(format, events, []))
        }
        call::Type::Update => {
            let update = call
                .update
                .ok_or_else(|| HttpError::bad_request("Expecting 'update' to be present"))?;
            agent
                .run(move |s| s.executor_update(&framework_id, &executor_id, update.status))
                .await??;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        call::Type::Message => {
            let message = call
                .message
                .ok_or_else(|| HttpError::bad_request("Expecting 'message' to be present"))?;
            agent
                .run(move |s| s.executor_message(&framework_id, &executor_id, message.data))
                .await?;
            Ok(StatusCode::ACCEPTED.into_response())
        }
        call::Type::Heartbeat => Ok(StatusCode::ACCEPTED.into_response()),
        call::Type::Unknown => Err(HttpError::bad_request("Expecting 'type' to be present")),
    }
}

/// An executor's events; dropping it (the executor went away) tells the state.
struct Disconnecting {
    events: mpsc::UnboundedReceiver<Event>,
    on_drop: Option<Box<dyn FnOnce() + Send>>,
}

impl Drop for Disconnecting {
    fn drop(&mut self) {
        if let Some(f) = self.on_drop.take() {
            f();
        }
    }
}

impl futures_core::Stream for Disconnecting {
    type Item = Event;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Event>> {
        self.events.poll_recv(cx)
    }
}
