//! Streaming responses: a 200 whose body is a RecordIO stream of messages, as the
//! scheduler SUBSCRIBE, the executor SUBSCRIBE and the operator SUBSCRIBE answer.
//!
//! The producer sends messages into a `tokio::sync::mpsc` channel (or any [`Stream`]);
//! each message is encoded in the negotiated [`StreamFormat`], framed as one RecordIO
//! record and handed to the connection as its own chunk, so it is written as soon as it is
//! produced. The stream ends when every sender is dropped. When the client goes away the
//! body, and with it the receiver, is dropped: the producer's `send` then fails and
//! `Sender::closed()` completes, which is how a master notices a disconnected framework.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_core::Stream;
use prost::Message;
use tokio::sync::mpsc;

use super::body::encode_message;
use super::negotiate::{StreamFormat, MESSAGE_CONTENT_TYPE};
use crate::recordio;

/// The header carrying a scheduler subscription's stream id.
pub const MESOS_STREAM_ID: &str = "mesos-stream-id";

/// A 200 response streaming the messages received on `events` as RecordIO records in
/// `format`, with `Content-Type`, `Message-Content-Type` (for `application/recordio`) and
/// the `extra_headers` (e.g. `Mesos-Stream-Id`).
pub fn event_stream<T>(
    format: StreamFormat,
    events: mpsc::Receiver<T>,
    extra_headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
) -> Response
where
    T: Message + prost::Name + Send + 'static,
{
    event_stream_from(format, ReceiverStream(events), extra_headers)
}

/// [`event_stream`] over an unbounded channel: for producers that must never wait on a
/// slow reader (the master's single owner task).
pub fn unbounded_event_stream<T>(
    format: StreamFormat,
    events: mpsc::UnboundedReceiver<T>,
    extra_headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
) -> Response
where
    T: Message + prost::Name + Send + 'static,
{
    event_stream_from(format, UnboundedReceiverStream(events), extra_headers)
}

/// [`event_stream`] over any [`Stream`] of messages; the response ends when it does.
pub fn event_stream_from<T, S>(
    format: StreamFormat,
    events: S,
    extra_headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
) -> Response
where
    T: Message + prost::Name + Send + 'static,
    S: Stream<Item = T> + Send + 'static,
{
    let body = Body::from_stream(RecordIoFrames {
        events: Box::pin(events),
        format,
    });
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::OK;
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    if let Some(message_type) = format.message_content_type() {
        headers.insert(
            HeaderName::from_static(MESSAGE_CONTENT_TYPE),
            HeaderValue::from_static(message_type),
        );
    }
    for (name, value) in extra_headers {
        headers.insert(name, value);
    }
    response
}

/// Frames one message as a RecordIO record in `format`'s message encoding.
pub fn frame<T: Message + prost::Name>(format: StreamFormat, message: &T) -> Bytes {
    Bytes::from(recordio::encode(&encode_message(format.message, message)))
}

/// A `Stream` over a channel receiver.
struct ReceiverStream<T>(mpsc::Receiver<T>);

impl<T> Stream for ReceiverStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// A `Stream` over an unbounded channel receiver.
struct UnboundedReceiverStream<T>(mpsc::UnboundedReceiver<T>);

impl<T> Stream for UnboundedReceiverStream<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.0.poll_recv(cx)
    }
}

/// Turns a stream of messages into a stream of RecordIO-framed chunks.
struct RecordIoFrames<T> {
    events: Pin<Box<dyn Stream<Item = T> + Send>>,
    format: StreamFormat,
}

impl<T: Message + prost::Name> Stream for RecordIoFrames<T> {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let format = self.format;
        self.events
            .as_mut()
            .poll_next(cx)
            .map(|event| event.map(|message| Ok(frame(format, &message))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::negotiate::Format;
    use crate::proto::mesos::v1::scheduler::{event, Event};
    use http_body_util::BodyExt;

    fn heartbeat() -> Event {
        Event {
            r#type: Some(event::Type::Heartbeat as i32),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn frames_each_message_and_ends_with_the_senders() {
        let format = StreamFormat {
            message: Format::Json,
            recordio_content_type: true,
        };
        let (tx, rx) = mpsc::channel(4);
        let response = event_stream(
            format,
            rx,
            [(
                HeaderName::from_static(MESOS_STREAM_ID),
                HeaderValue::from_static("abc"),
            )],
        );
        assert_eq!(response.headers()[CONTENT_TYPE], "application/recordio");
        assert_eq!(response.headers()[MESSAGE_CONTENT_TYPE], "application/json");
        assert_eq!(response.headers()[MESOS_STREAM_ID], "abc");
        tx.send(heartbeat()).await.unwrap();
        tx.send(heartbeat()).await.unwrap();
        drop(tx);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(
            &body[..],
            b"20\n{\"type\":\"HEARTBEAT\"}20\n{\"type\":\"HEARTBEAT\"}"
        );
    }

    #[tokio::test]
    async fn dropping_the_body_closes_the_channel() {
        let format = StreamFormat {
            message: Format::Protobuf,
            recordio_content_type: false,
        };
        let (tx, rx) = mpsc::channel::<Event>(1);
        let response = event_stream(format, rx, []);
        assert_eq!(response.headers()[CONTENT_TYPE], "application/x-protobuf");
        assert!(response.headers().get(MESSAGE_CONTENT_TYPE).is_none());
        drop(response);
        assert!(tx.is_closed());
        assert!(tx.send(heartbeat()).await.is_err());
    }
}
