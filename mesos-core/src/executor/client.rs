//! The HTTP side of the v1 executor API, seen from the executor: `POST
//! http://<agent>/api/v1/executor` in protobuf, over TCP or the agent's Unix domain socket.
//! SUBSCRIBE answers 200 with a RecordIO stream of [`Event`]s; UPDATE and MESSAGE answer 202.
//!
//! This module makes single requests and reads one stream; staying subscribed across agent
//! restarts is [`super::connection`]'s job.

use std::path::Path;

use prost::Message;

use crate::http::negotiate::APPLICATION_PROTOBUF;
use crate::proto::mesos::v1::executor::{call, event, Call, Event};
use crate::proto::mesos::v1::{ExecutorId, FrameworkId};
use crate::protobuf::ProtobufError;
use crate::recordio;

/// Why a call to the agent's executor API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request could not be made or its answer not read (the agent is unreachable, the
    /// connection broke).
    #[error("request to the agent's executor API failed: {}", crate::http::client::with_causes(.0))]
    Transport(#[from] reqwest::Error),
    /// The agent answered with a status other than the one the call expects.
    #[error("the agent answered {status}: {body}")]
    Refused {
        /// The HTTP status code.
        status: u16,
        /// The agent's reason (its answer's body).
        body: String,
    },
    /// The event stream is not valid RecordIO.
    #[error("the agent's event stream is malformed: {0}")]
    Framing(#[from] recordio::RecordIoError),
    /// A record of the event stream is not a valid `executor::Event`.
    #[error("the agent sent an event that cannot be decoded: {0}")]
    Decode(#[from] ProtobufError),
}

impl ClientError {
    /// Whether trying again later may succeed: the agent was unreachable, the connection
    /// broke, or the agent answered 503 (it is still recovering) or another 5xx.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Refused { status, .. } => *status >= 500,
            ClientError::Framing(_) | ClientError::Decode(_) => false,
        }
    }
}

/// Makes executor API calls to one agent on behalf of one executor.
#[derive(Debug, Clone)]
pub struct ExecutorClient {
    http: reqwest::Client,
    url: String,
    framework_id: FrameworkId,
    executor_id: ExecutorId,
}

impl ExecutorClient {
    /// A client for the executor `executor_id` of `framework_id`, talking to the agent at
    /// `agent_endpoint` (`host:port`), or through the Unix socket `domain_socket` when one
    /// is given (the endpoint then only names the agent in the requests).
    pub fn new(
        agent_endpoint: &str,
        domain_socket: Option<&Path>,
        framework_id: FrameworkId,
        executor_id: ExecutorId,
    ) -> ExecutorClient {
        let http = match domain_socket {
            Some(socket) => reqwest::Client::builder().unix_socket(socket),
            None => reqwest::Client::builder(),
        };
        ExecutorClient {
            // Building fails only when the TLS backend cannot start. The default client
            // then calls over TCP, which the agent serves as well.
            http: http.build().unwrap_or_default(),
            url: format!("http://{agent_endpoint}/api/v1/executor"),
            framework_id,
            executor_id,
        }
    }

    /// The framework this client's calls are made for.
    pub fn framework_id(&self) -> &FrameworkId {
        &self.framework_id
    }

    /// The executor this client's calls are made for.
    pub fn executor_id(&self) -> &ExecutorId {
        &self.executor_id
    }

    /// A call of `kind` with this executor's ids filled in and nothing else.
    pub fn call(&self, kind: call::Type) -> Call {
        Call {
            executor_id: self.executor_id.clone(),
            framework_id: self.framework_id.clone(),
            r#type: Some(kind as i32),
            ..Default::default()
        }
    }

    /// SUBSCRIBEs, telling the agent about the updates and tasks it has not acknowledged
    /// yet, and returns the event stream the agent answers with (200).
    pub async fn subscribe(&self, subscribe: call::Subscribe) -> Result<EventStream, ClientError> {
        let call = Call {
            subscribe: Some(subscribe),
            ..self.call(call::Type::Subscribe)
        };
        let response = self.post(&call).await?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(refused(response).await);
        }
        Ok(EventStream {
            response,
            decoder: recordio::Decoder::default(),
        })
    }

    /// Sends a call that is not SUBSCRIBE (UPDATE, MESSAGE); the agent accepts it with 202.
    pub async fn send(&self, call: &Call) -> Result<(), ClientError> {
        let response = self.post(call).await?;
        if response.status() != reqwest::StatusCode::ACCEPTED {
            return Err(refused(response).await);
        }
        Ok(())
    }

    async fn post(&self, call: &Call) -> Result<reqwest::Response, ClientError> {
        Ok(self
            .http
            .post(&self.url)
            .header(reqwest::header::CONTENT_TYPE, APPLICATION_PROTOBUF)
            .header(reqwest::header::ACCEPT, APPLICATION_PROTOBUF)
            .body(call.encode_to_vec())
            .send()
            .await?)
    }
}

async fn refused(response: reqwest::Response) -> ClientError {
    let (status, body) = crate::http::client::status_and_reason(response).await;
    ClientError::Refused { status, body }
}

/// The event stream of one subscription.
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    decoder: recordio::Decoder,
}

impl EventStream {
    /// The next event; `Ok(None)` when the agent ended the stream. Cancel safe: dropping
    /// the future loses no event.
    pub async fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            if let Some(record) = self.decoder.next_record()? {
                return Ok(Some(crate::protobuf::decode::<Event>(&record)?));
            }
            match self.response.chunk().await? {
                Some(chunk) => self.decoder.push(&chunk),
                None => {
                    self.decoder.finish()?;
                    return Ok(None);
                }
            }
        }
    }
}

/// The type of `event`, `UNKNOWN` when it is unset or not one this schema knows.
pub fn event_type(event: &Event) -> event::Type {
    event
        .r#type
        .and_then(|t| event::Type::try_from(t).ok())
        .unwrap_or(event::Type::Unknown)
}
