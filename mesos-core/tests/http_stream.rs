//! RecordIO event streams served by `mesos_core::http` on 127.0.0.1 and read by a real
//! client: records arrive one at a time as the producer sends them, in JSON and protobuf,
//! in both header styles; the stream ends with the producer; a client that hangs up is
//! noticed by the producer.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use mesos_core::http::{
    event_stream, stream_format_of, CallBody, Format, HttpError, HttpServer, MESOS_STREAM_ID,
};
use mesos_core::proto::mesos::v1::scheduler::{call, event, Call, Event};
use mesos_core::proto::mesos::v1::FrameworkId;
use mesos_core::recordio::Decoder;
use prost::Message;
use tokio::sync::mpsc;

/// Hands each subscription's event sender to the test.
type Subscriptions = mpsc::UnboundedSender<mpsc::Sender<Event>>;

async fn subscribe(
    State(subscriptions): State<Subscriptions>,
    headers: HeaderMap,
    call: CallBody<Call>,
) -> Result<Response, HttpError> {
    if call.message.r#type != Some(call::Type::Subscribe as i32) {
        return Err(HttpError::bad_request("Expecting SUBSCRIBE"));
    }
    let format = stream_format_of(&headers)?;
    let (tx, rx) = mpsc::channel(16);
    subscriptions
        .send(tx)
        .map_err(|_| HttpError::service_unavailable("test is gone"))?;
    Ok(event_stream(
        format,
        rx,
        [(
            HeaderName::from_static(MESOS_STREAM_ID),
            HeaderValue::from_static("8bc28f5a-6c17-4b3f-8d4d-ba16f01cee50"),
        )],
    ))
}

async fn start() -> (HttpServer, mpsc::UnboundedReceiver<mpsc::Sender<Event>>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let router = Router::new()
        .route("/api/v1/scheduler", post(subscribe))
        .with_state(tx);
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    (HttpServer::bind(addr, router).await.expect("bind"), rx)
}

fn subscribe_call() -> Vec<u8> {
    br#"{"type":"SUBSCRIBE","subscribe":{"framework_info":{"user":"u","name":"n"}}}"#.to_vec()
}

fn subscribed() -> Event {
    Event {
        r#type: Some(event::Type::Subscribed as i32),
        subscribed: Some(event::Subscribed {
            framework_id: FrameworkId {
                value: "fw-1".into(),
            },
            heartbeat_interval_seconds: Some(15.0),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn heartbeat() -> Event {
    Event {
        r#type: Some(event::Type::Heartbeat as i32),
        ..Default::default()
    }
}

/// Reads chunks until one whole record has arrived.
async fn next_record(response: &mut reqwest::Response, decoder: &mut Decoder) -> Option<Vec<u8>> {
    loop {
        if let Some(record) = decoder.next_record().expect("valid RecordIO") {
            return Some(record.to_vec());
        }
        let chunk = tokio::time::timeout(Duration::from_secs(5), response.chunk())
            .await
            .expect("record within 5 s")
            .expect("chunk");
        match chunk {
            Some(chunk) => decoder.push(&chunk),
            None => return None,
        }
    }
}

fn decode(format: Format, bytes: &[u8]) -> Event {
    match format {
        Format::Json => mesos_core::json::from_slice(bytes).expect("JSON event"),
        Format::Protobuf => Event::decode(bytes).expect("protobuf event"),
    }
}

/// Subscribes with the given headers, checks the response headers, and streams two events,
/// each read before the next is sent.
async fn streams_incrementally(
    accept: &str,
    message_accept: Option<&str>,
    content_type: &str,
    message_content_type: Option<&str>,
    format: Format,
) {
    let (server, mut subscriptions) = start().await;
    let mut request = reqwest::Client::new()
        .post(format!("http://{}/api/v1/scheduler", server.local_addr()))
        .header("Content-Type", "application/json")
        .header("Accept", accept)
        .body(subscribe_call());
    if let Some(message_accept) = message_accept {
        request = request.header("Message-Accept", message_accept);
    }
    let mut response = request.send().await.expect("subscribe");
    assert_eq!(response.status().as_u16(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], content_type);
    assert_eq!(
        headers
            .get("message-content-type")
            .map(|v| v.to_str().unwrap()),
        message_content_type
    );
    assert_eq!(
        headers["mesos-stream-id"],
        "8bc28f5a-6c17-4b3f-8d4d-ba16f01cee50"
    );
    assert_eq!(headers["transfer-encoding"], "chunked");

    let events = subscriptions.recv().await.expect("subscription");
    let mut decoder = Decoder::default();
    events.send(subscribed()).await.unwrap();
    let first = next_record(&mut response, &mut decoder).await.unwrap();
    assert_eq!(decode(format, &first), subscribed());
    if format == Format::Json {
        assert!(first.starts_with(br#"{"type":"SUBSCRIBED""#));
    }

    // The second event is produced only after the first was read.
    events.send(heartbeat()).await.unwrap();
    let second = next_record(&mut response, &mut decoder).await.unwrap();
    assert_eq!(decode(format, &second), heartbeat());

    drop(events);
    assert_eq!(next_record(&mut response, &mut decoder).await, None);
    decoder.finish().expect("stream ends on a record boundary");
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn json_stream_old_style() {
    // What Mesos 1.11's scheduler SUBSCRIBE answers (scheduler/subscribe_response_headers.txt).
    streams_incrementally(
        "application/json",
        None,
        "application/json",
        None,
        Format::Json,
    )
    .await;
}

#[tokio::test]
async fn protobuf_stream_old_style() {
    streams_incrementally(
        "application/x-protobuf",
        None,
        "application/x-protobuf",
        None,
        Format::Protobuf,
    )
    .await;
}

#[tokio::test]
async fn recordio_stream_with_json_messages() {
    streams_incrementally(
        "application/recordio",
        Some("application/json"),
        "application/recordio",
        Some("application/json"),
        Format::Json,
    )
    .await;
}

#[tokio::test]
async fn recordio_stream_with_protobuf_messages() {
    streams_incrementally(
        "application/recordio",
        Some("application/x-protobuf"),
        "application/recordio",
        Some("application/x-protobuf"),
        Format::Protobuf,
    )
    .await;
}

#[tokio::test]
async fn unacceptable_message_accept_is_406() {
    let (server, _subscriptions) = start().await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/api/v1/scheduler", server.local_addr()))
        .header("Content-Type", "application/json")
        .header("Accept", "application/recordio")
        .header("Message-Accept", "text/xml")
        .body(subscribe_call())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 406);
    assert_eq!(
        response.text().await.unwrap(),
        "Expecting 'Message-Accept' to allow 'application/x-protobuf' or 'application/json'"
    );
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn producer_notices_a_client_that_hangs_up() {
    let (server, mut subscriptions) = start().await;
    let mut response = reqwest::Client::new()
        .post(format!("http://{}/api/v1/scheduler", server.local_addr()))
        .header("Content-Type", "application/json")
        .header("Accept", "application/json")
        .body(subscribe_call())
        .send()
        .await
        .expect("subscribe");
    let events = subscriptions.recv().await.expect("subscription");
    events.send(subscribed()).await.unwrap();
    let mut decoder = Decoder::default();
    next_record(&mut response, &mut decoder).await.unwrap();

    drop(response);
    // Without the producer writing anything, the closed connection is noticed.
    tokio::time::timeout(Duration::from_secs(5), events.closed())
        .await
        .expect("producer learns the client hung up");
    assert!(events.send(heartbeat()).await.is_err());
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}
