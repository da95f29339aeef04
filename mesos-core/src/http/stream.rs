//! Streaming responses: a 200 whose body is a RecordIO stream of messages, as the
//! scheduler SUBSCRIBE, the executor SUBSCRIBE and the operator SUBSCRIBE answer.
//!
//! The producer sends messages into a `tokio::sync::mpsc` channel (or any [`Stream`]);
//! each message is encoded in the negotiated [`StreamFormat`] and framed as one RecordIO
//! record. The messages ready together (a burst the master sent while handling a batch of
//! calls) go to the connection as one chunk, written at once in one system call; a
//! message that comes alone is written as soon as it is produced. A producer may also
//! queue messages already encoded in protobuf ([`encoded_event_stream`]). The stream ends
//! when every sender is dropped. When the client goes away the body, and with it the
//! receiver, is dropped: the producer's `send` then fails and `Sender::closed()`
//! completes, which is how a master notices a disconnected framework.

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
use super::negotiate::{Format, StreamFormat, MESSAGE_CONTENT_TYPE};
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
    let frames = RecordIoFrames {
        events: Box::pin(events),
        format,
        frame: frame_into::<T>,
        ended: false,
    };
    streaming_response(format, frames, extra_headers)
}

/// A 200 response streaming messages that come already encoded in protobuf (a producer
/// that queues thousands of events keeps them small that way), each framed as one
/// RecordIO record: `Content-Type: application/recordio`, `Message-Content-Type:
/// application/x-protobuf`, and the `extra_headers`.
pub fn encoded_event_stream<S>(
    events: S,
    extra_headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
) -> Response
where
    S: Stream<Item = Vec<u8>> + Send + 'static,
{
    let format = StreamFormat {
        message: Format::Protobuf,
        recordio_content_type: true,
    };
    let frames = RecordIoFrames {
        events: Box::pin(events),
        format,
        frame: |_, encoded: &Vec<u8>, out| recordio::encode_into(encoded, out),
        ended: false,
    };
    streaming_response(format, frames, extra_headers)
}

/// A 200 response whose body is `frames`, with the headers of `format`.
fn streaming_response<I: Send + 'static>(
    format: StreamFormat,
    frames: RecordIoFrames<I>,
    extra_headers: impl IntoIterator<Item = (HeaderName, HeaderValue)>,
) -> Response {
    let mut response = Response::new(Body::from_stream(frames));
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

/// Frames one message as a RecordIO record in `format`'s message encoding onto the end of
/// `out`.
fn frame_into<T: Message + prost::Name>(format: StreamFormat, message: &T, out: &mut Vec<u8>) {
    match format.message {
        Format::Protobuf => {
            let length = message.encoded_len();
            out.extend_from_slice(itoa::Buffer::new().format(length).as_bytes());
            out.push(b'\n');
            out.reserve(length);
            message
                .encode(out)
                .expect("a Vec grows to hold any message");
        }
        Format::Json => recordio::encode_into(&encode_message(format.message, message), out),
    }
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

/// The most bytes of ready messages gathered into one chunk; a larger burst goes out in
/// several.
const MAX_CHUNK: usize = 64 * 1024;

/// Turns a stream of messages into a stream of RecordIO-framed chunks, one per burst of
/// messages ready together.
struct RecordIoFrames<I> {
    events: Pin<Box<dyn Stream<Item = I> + Send>>,
    format: StreamFormat,
    /// Appends one message as a record.
    frame: fn(StreamFormat, &I, &mut Vec<u8>),
    /// Whether `events` ended (it is not polled again).
    ended: bool,
}

impl<I> Stream for RecordIoFrames<I> {
    type Item = Result<Bytes, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let (format, frame) = (self.format, self.frame);
        let mut chunk = Vec::new();
        while !self.ended && chunk.len() < MAX_CHUNK {
            match self.events.as_mut().poll_next(cx) {
                Poll::Ready(Some(message)) => frame(format, &message, &mut chunk),
                Poll::Ready(None) => self.ended = true,
                Poll::Pending => break,
            }
        }
        if !chunk.is_empty() {
            Poll::Ready(Some(Ok(Bytes::from(chunk))))
        } else if self.ended {
            Poll::Ready(None)
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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

    /// The data of the body's next frame.
    async fn next_chunk(body: &mut Body) -> Option<Bytes> {
        let frame = body.frame().await?.unwrap();
        Some(frame.into_data().unwrap())
    }

    #[tokio::test]
    async fn messages_ready_together_share_a_chunk() {
        let format = StreamFormat {
            message: Format::Json,
            recordio_content_type: true,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let mut body = unbounded_event_stream(format, rx, []).into_body();
        tx.send(heartbeat()).unwrap();
        tx.send(heartbeat()).unwrap();
        let both = next_chunk(&mut body).await.unwrap();
        assert_eq!(
            &both[..],
            b"20\n{\"type\":\"HEARTBEAT\"}20\n{\"type\":\"HEARTBEAT\"}"
        );
        tx.send(heartbeat()).unwrap();
        let one = next_chunk(&mut body).await.unwrap();
        assert_eq!(&one[..], b"20\n{\"type\":\"HEARTBEAT\"}");
        drop(tx);
        assert!(next_chunk(&mut body).await.is_none());
    }

    #[tokio::test]
    async fn a_large_burst_is_split_into_bounded_chunks() {
        let format = StreamFormat {
            message: Format::Protobuf,
            recordio_content_type: false,
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let mut body = unbounded_event_stream(format, rx, []).into_body();
        let message = Event {
            r#type: Some(event::Type::Message as i32),
            message: Some(event::Message {
                data: vec![7; 1000],
                ..Default::default()
            }),
            ..Default::default()
        };
        let record = frame_to_vec(format, &message);
        let count = 3 * MAX_CHUNK / record.len();
        for _ in 0..count {
            tx.send(message.clone()).unwrap();
        }
        drop(tx);
        let mut chunks = Vec::new();
        while let Some(chunk) = next_chunk(&mut body).await {
            chunks.push(chunk);
        }
        assert!(chunks.len() >= 3, "{} chunks", chunks.len());
        assert!(chunks.iter().all(|c| c.len() < MAX_CHUNK + record.len()));
        assert_eq!(chunks.concat(), record.repeat(count));
    }

    fn frame_to_vec(format: StreamFormat, message: &Event) -> Vec<u8> {
        let mut out = Vec::new();
        frame_into(format, message, &mut out);
        out
    }

    #[test]
    fn a_protobuf_record_is_its_length_and_its_encoding() {
        let format = StreamFormat {
            message: Format::Protobuf,
            recordio_content_type: false,
        };
        let encoded = heartbeat().encode_to_vec();
        let mut expected = format!("{}\n", encoded.len()).into_bytes();
        expected.extend_from_slice(&encoded);
        assert_eq!(frame_to_vec(format, &heartbeat()), expected);
    }

    #[tokio::test]
    async fn encoded_messages_are_framed_as_they_are() {
        let (tx, rx) = mpsc::unbounded_channel();
        let response = encoded_event_stream(
            UnboundedReceiverStream(rx),
            [(
                HeaderName::from_static(MESOS_STREAM_ID),
                HeaderValue::from_static("abc"),
            )],
        );
        assert_eq!(response.headers()[CONTENT_TYPE], "application/recordio");
        assert_eq!(
            response.headers()[MESSAGE_CONTENT_TYPE],
            "application/x-protobuf"
        );
        assert_eq!(response.headers()[MESOS_STREAM_ID], "abc");
        let encoded = heartbeat().encode_to_vec();
        tx.send(encoded.clone()).unwrap();
        tx.send(encoded.clone()).unwrap();
        drop(tx);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let format = StreamFormat {
            message: Format::Protobuf,
            recordio_content_type: true,
        };
        assert_eq!(&body[..], frame_to_vec(format, &heartbeat()).repeat(2));
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
