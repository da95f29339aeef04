//! The HTTP side of the v1 scheduler API, seen from a framework: `POST
//! http://<master>/api/v1/scheduler` in JSON or protobuf. SUBSCRIBE answers 200 with a
//! `Mesos-Stream-Id` and a RecordIO stream of [`Event`]s; every other call answers 202.
//!
//! A non-leading master answers 307 with the leader's address; requests follow it, and the
//! subscription remembers where it ended up so later calls go to the leader directly.
//!
//! This module makes single requests and reads one stream; staying subscribed is
//! [`super::session`]'s job.

use prost::Message;

use crate::http::negotiate::Format;
use crate::json::JsonError;
use crate::proto::mesos::v1::scheduler::{Call, Event};
use crate::protobuf::ProtobufError;
use crate::recordio;

/// The path of the scheduler API on a master.
pub const SCHEDULER_PATH: &str = "/api/v1/scheduler";

/// The header naming a subscription's stream on every call after SUBSCRIBE.
pub const STREAM_ID_HEADER: &str = "Mesos-Stream-Id";

/// Why a call to the master's scheduler API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The request could not be made or its answer not read (the master is unreachable, the
    /// connection broke).
    #[error("request to the master's scheduler API failed: {}", crate::http::client::with_causes(.0))]
    Transport(#[from] reqwest::Error),
    /// The master answered with a status other than the one the call expects.
    #[error("the master answered {status}: {body}")]
    Refused {
        /// The HTTP status code.
        status: u16,
        /// The master's reason (its answer's body).
        body: String,
    },
    /// The master's SUBSCRIBE answer has no `Mesos-Stream-Id`.
    #[error("the master's SUBSCRIBE answer has no Mesos-Stream-Id header")]
    NoStreamId,
    /// The event stream is not valid RecordIO.
    #[error("the master's event stream is malformed: {0}")]
    Framing(#[from] recordio::RecordIoError),
    /// A record of the event stream is not a valid protobuf `scheduler::Event`.
    #[error("the master sent an event that cannot be decoded: {0}")]
    Decode(#[from] ProtobufError),
    /// A record of the event stream is not a valid JSON `scheduler::Event`.
    #[error("the master sent an event that cannot be read: {0}")]
    DecodeJson(#[from] JsonError),
}

impl ClientError {
    /// Whether trying again (perhaps at another master) may succeed: the master was
    /// unreachable, the connection broke, or it answered 5xx (not leading, recovering).
    /// A 4xx means the call itself is wrong and repeating it will not help.
    pub fn is_retryable(&self) -> bool {
        match self {
            ClientError::Transport(_) | ClientError::NoStreamId => true,
            ClientError::Refused { status, .. } => *status >= 500,
            ClientError::Framing(_) | ClientError::Decode(_) | ClientError::DecodeJson(_) => false,
        }
    }
}

/// Makes scheduler API calls in one format.
#[derive(Debug, Clone)]
pub struct SchedulerClient {
    http: reqwest::Client,
    format: Format,
}

impl SchedulerClient {
    /// A client that encodes calls and reads events in `format`.
    pub fn new(format: Format) -> SchedulerClient {
        SchedulerClient {
            http: reqwest::Client::new(),
            format,
        }
    }

    /// The format calls and events are encoded in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// SUBSCRIBEs at the master at `endpoint` (`host:port`) and returns the subscription:
    /// where it ended up after redirects, its stream id and its events.
    pub async fn subscribe(
        &self,
        endpoint: &str,
        call: &Call,
    ) -> Result<Subscription, ClientError> {
        let response = self.post(endpoint, call, None).await?;
        if response.status() != reqwest::StatusCode::OK {
            return Err(refused(response).await);
        }
        let stream_id = response
            .headers()
            .get(STREAM_ID_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or(ClientError::NoStreamId)?;
        let url = response.url();
        let leader = match (url.host_str(), url.port_or_known_default()) {
            (Some(host), Some(port)) => format!("{host}:{port}"),
            _ => endpoint.to_string(),
        };
        Ok(Subscription {
            leader,
            stream_id,
            events: EventStream {
                response,
                decoder: recordio::Decoder::default(),
                format: self.format,
            },
        })
    }

    /// Sends a call other than SUBSCRIBE on the stream `stream_id` to the master at
    /// `endpoint`; the master accepts it with 202.
    pub async fn send(
        &self,
        endpoint: &str,
        stream_id: &str,
        call: &Call,
    ) -> Result<(), ClientError> {
        let response = self.post(endpoint, call, Some(stream_id)).await?;
        if response.status() != reqwest::StatusCode::ACCEPTED {
            return Err(refused(response).await);
        }
        Ok(())
    }

    async fn post(
        &self,
        endpoint: &str,
        call: &Call,
        stream_id: Option<&str>,
    ) -> Result<reqwest::Response, ClientError> {
        let body = match self.format {
            Format::Protobuf => call.encode_to_vec(),
            Format::Json => crate::json::to_string(call).into_bytes(),
        };
        let mut request = self
            .http
            .post(format!("http://{endpoint}{SCHEDULER_PATH}"))
            .header(reqwest::header::CONTENT_TYPE, self.format.content_type())
            .header(reqwest::header::ACCEPT, self.format.content_type())
            .body(body);
        if let Some(stream_id) = stream_id {
            request = request.header(STREAM_ID_HEADER, stream_id);
        }
        Ok(request.send().await?)
    }
}

async fn refused(response: reqwest::Response) -> ClientError {
    let (status, body) = crate::http::client::status_and_reason(response).await;
    ClientError::Refused { status, body }
}

/// An open subscription: the master that holds it, its stream id, its events.
#[derive(Debug)]
pub struct Subscription {
    /// The `host:port` of the master that answered (the leader, after any redirect).
    pub leader: String,
    /// The `Mesos-Stream-Id` every later call must carry.
    pub stream_id: String,
    /// The subscription's events.
    pub events: EventStream,
}

/// The event stream of one subscription.
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    decoder: recordio::Decoder,
    format: Format,
}

impl EventStream {
    /// The next event; `Ok(None)` when the master ended the stream. Cancel safe: dropping
    /// the future loses no event.
    pub async fn next_event(&mut self) -> Result<Option<Event>, ClientError> {
        loop {
            if let Some(record) = self.decoder.next_record()? {
                return Ok(Some(match self.format {
                    Format::Protobuf => crate::protobuf::decode::<Event>(&record)?,
                    Format::Json => crate::json::from_slice::<Event>(&record)?,
                }));
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
