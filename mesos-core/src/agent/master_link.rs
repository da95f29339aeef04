//! The agent's end of the master<->agent protocol (`mesos.internal`, see
//! `proto/mesos/internal/agent.proto`): REGISTER opens the master's event stream, every
//! other call is a POST carrying that stream's id.
//!
//! Shared by the real [`Agent`](super::Agent) and the
//! [`SimulatedAgent`](super::simulated::SimulatedAgent) of tests and benchmarks.

use prost::Message;

use crate::proto::mesos::internal::{agent_call, agent_event, AgentCall, AgentEvent};
use crate::recordio;

/// The header carrying the id of an agent's open event stream.
pub const AGENT_STREAM_ID: &str = "agent-stream-id";

/// The path of the protocol on the master.
pub const AGENT_PATH: &str = "/master/internal/agent";

/// Why a call to the master failed.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The HTTP request failed (the master is unreachable, the connection broke).
    #[error("request to the master failed: {0}")]
    Http(#[from] reqwest::Error),
    /// The master answered with an error status.
    #[error("the master refused the call: {status} {body}")]
    Refused {
        /// HTTP status.
        status: u16,
        /// The master's reason.
        body: String,
    },
    /// The master's stream is not what the protocol says.
    #[error("the master's stream is not as expected: {0}")]
    Protocol(String),
    /// The master's address does not make a URL.
    #[error("invalid master URL: {0}")]
    Url(String),
}

/// The master's event stream of one registration.
#[derive(Debug)]
pub struct EventStream {
    response: reqwest::Response,
    decoder: recordio::Decoder,
}

impl EventStream {
    /// The next event; `None` when the stream ended or broke (the agent must register
    /// again). Records that do not decode are skipped.
    pub async fn next(&mut self) -> Option<AgentEvent> {
        loop {
            match self.decoder.next_record() {
                Ok(Some(record)) => {
                    if let Ok(event) = AgentEvent::decode(record) {
                        return Some(event);
                    }
                    continue;
                }
                Ok(None) => {}
                Err(_) => return None,
            }
            match self.response.chunk().await {
                Ok(Some(chunk)) => self.decoder.push(&chunk),
                _ => return None,
            }
        }
    }
}

/// An open registration: the master's answer and the stream of what follows.
#[derive(Debug)]
pub struct Registration {
    /// The REGISTERED event that opened the stream.
    pub registered: agent_event::Registered,
    /// The id every later call of this registration carries.
    pub stream_id: String,
    /// The events after REGISTERED.
    pub events: EventStream,
}

/// POSTs a REGISTER to the master at `url` (its [`AGENT_PATH`]) and reads the REGISTERED
/// event that opens the stream. A caller that posts often passes a parsed
/// [`reqwest::Url`], so that it is not parsed again for every call.
pub async fn register(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    register: agent_call::Register,
) -> Result<Registration, LinkError> {
    let call = AgentCall {
        r#type: Some(agent_call::Type::Register as i32),
        register: Some(register),
        ..Default::default()
    };
    let response = client
        .post(url)
        .header("content-type", "application/x-protobuf")
        .body(call.encode_to_vec())
        .send()
        .await?;
    let response = refused(response).await?;
    let stream_id = response
        .headers()
        .get(AGENT_STREAM_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut events = EventStream {
        response,
        decoder: recordio::Decoder::default(),
    };
    let first = events
        .next()
        .await
        .ok_or_else(|| LinkError::Protocol("the stream ended before REGISTERED".into()))?;
    let registered = first
        .registered
        .ok_or_else(|| LinkError::Protocol("the first event is not REGISTERED".into()))?;
    Ok(Registration {
        registered,
        stream_id,
        events,
    })
}

/// POSTs `call` on the registration `stream_id` to the master at `url`.
pub async fn post(
    client: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    stream_id: &str,
    call: &AgentCall,
) -> Result<(), LinkError> {
    let response = client
        .post(url)
        .header("content-type", "application/x-protobuf")
        .header(AGENT_STREAM_ID, stream_id)
        .body(call.encode_to_vec())
        .send()
        .await?;
    refused(response).await.map(drop)
}

/// The response if its status is a success, else [`LinkError::Refused`] with its body.
async fn refused(response: reqwest::Response) -> Result<reqwest::Response, LinkError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Err(LinkError::Refused { status, body })
}

/// The most status updates one STATUS_UPDATE call carries.
pub const MAX_UPDATES_PER_CALL: usize = 256;

/// The size past which [`coalesce_status_updates`] merges no more updates into a call (an
/// update can carry up to megabytes of `data`); a single larger update goes alone.
pub const MAX_MERGED_CALL_BYTES: usize = 1 << 20;

/// Merges each run of consecutive STATUS_UPDATE calls on the same stream into calls of at
/// most [`MAX_UPDATES_PER_CALL`] updates and, unless one update alone is larger,
/// [`MAX_MERGED_CALL_BYTES`]. Every update keeps its place in the order.
pub fn coalesce_status_updates(calls: Vec<(String, AgentCall)>) -> Vec<(String, AgentCall)> {
    let is_update = |call: &AgentCall| call.r#type == Some(agent_call::Type::StatusUpdate as i32);
    // Each merged call with its encoded size so far.
    let mut merged: Vec<(String, AgentCall, usize)> = Vec::with_capacity(calls.len());
    for (stream_id, call) in calls {
        let bytes = call.encoded_len();
        if let Some((last_stream, last, last_bytes)) = merged.last_mut() {
            if is_update(last)
                && is_update(&call)
                && *last_stream == stream_id
                && last.agent_id == call.agent_id
                && last.status_updates.len() + call.status_updates.len() <= MAX_UPDATES_PER_CALL
                && *last_bytes + bytes <= MAX_MERGED_CALL_BYTES
            {
                last.status_updates.extend(call.status_updates);
                *last_bytes += bytes;
                continue;
            }
        }
        merged.push((stream_id, call, bytes));
    }
    merged.into_iter().map(|(s, call, _)| (s, call)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn update(stream: &str, task: &str) -> (String, AgentCall) {
        let call = AgentCall {
            r#type: Some(agent_call::Type::StatusUpdate as i32),
            status_updates: vec![agent_call::StatusUpdate {
                status: crate::proto::mesos::v1::TaskStatus {
                    task_id: crate::proto::mesos::v1::TaskId { value: task.into() },
                    ..Default::default()
                },
                ..Default::default()
            }],
            ..Default::default()
        };
        (stream.to_string(), call)
    }

    fn pong(stream: &str) -> (String, AgentCall) {
        let call = AgentCall {
            r#type: Some(agent_call::Type::Pong as i32),
            ..Default::default()
        };
        (stream.to_string(), call)
    }

    /// The calls as (stream, type, task ids), for comparing.
    fn shape(calls: &[(String, AgentCall)]) -> Vec<(String, i32, Vec<String>)> {
        calls
            .iter()
            .map(|(s, c)| {
                let tasks = c.status_updates.iter();
                let tasks = tasks.map(|u| u.status.task_id.value.clone()).collect();
                (s.clone(), c.r#type.unwrap_or(0), tasks)
            })
            .collect()
    }

    #[test]
    fn consecutive_updates_on_one_stream_share_a_call_in_order() {
        let calls = vec![
            update("s1", "a"),
            update("s1", "b"),
            pong("s1"),
            update("s1", "c"),
            update("s2", "d"),
            update("s2", "e"),
        ];
        let kind = |t: agent_call::Type| t as i32;
        let s = |x: &str| x.to_string();
        let expected = vec![
            (
                s("s1"),
                kind(agent_call::Type::StatusUpdate),
                vec![s("a"), s("b")],
            ),
            (s("s1"), kind(agent_call::Type::Pong), vec![]),
            (s("s1"), kind(agent_call::Type::StatusUpdate), vec![s("c")]),
            (
                s("s2"),
                kind(agent_call::Type::StatusUpdate),
                vec![s("d"), s("e")],
            ),
        ];
        assert_eq!(shape(&coalesce_status_updates(calls)), expected);
    }

    #[test]
    fn large_updates_are_not_merged_past_the_size_cap() {
        let big = |task: &str| {
            let (stream, mut call) = update("s", task);
            let data = vec![7u8; MAX_MERGED_CALL_BYTES / 2];
            call.status_updates[0].status.data = Some(data);
            (stream, call)
        };
        let calls = vec![big("a"), big("b"), update("s", "c"), update("s", "d")];
        let merged = coalesce_status_updates(calls);
        let tasks: Vec<Vec<String>> = shape(&merged).into_iter().map(|(_, _, t)| t).collect();
        let s = |x: &str| x.to_string();
        assert_eq!(tasks, vec![vec![s("a")], vec![s("b"), s("c"), s("d")]]);
        assert!(merged
            .iter()
            .all(|(_, c)| c.encoded_len() <= MAX_MERGED_CALL_BYTES + 64));
    }

    #[test]
    fn a_long_run_of_updates_is_split_at_the_cap() {
        let n = MAX_UPDATES_PER_CALL * 2 + 1;
        let calls = (0..n).map(|i| update("s", &i.to_string())).collect();
        let merged = coalesce_status_updates(calls);
        let sizes: Vec<usize> = merged.iter().map(|(_, c)| c.status_updates.len()).collect();
        assert_eq!(sizes, vec![MAX_UPDATES_PER_CALL, MAX_UPDATES_PER_CALL, 1]);
        let order: Vec<String> = shape(&merged).into_iter().flat_map(|(_, _, t)| t).collect();
        let expected: Vec<String> = (0..n).map(|i| i.to_string()).collect();
        assert_eq!(order, expected);
    }
}
