//! The HTTP edge (`mesos_core::http`) served on 127.0.0.1 and driven by a real client:
//! call decoding in both formats, Mesos' error statuses and texts, `/health`, `/version`,
//! the leader redirect.

use std::net::SocketAddr;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use mesos_core::http::{
    common_routes, mesos_405, message_response, response_format_of, version_info, BodyLimit,
    CallBody, HttpError, HttpServer,
};
use mesos_core::proto::mesos::v1::scheduler::{call, Call};
use mesos_core::proto::mesos::v1::FrameworkId;
use prost::Message;

/// Echoes a scheduler call back in the negotiated format.
async fn echo(headers: HeaderMap, call: CallBody<Call>) -> Result<Response, HttpError> {
    let format = response_format_of(&headers)?;
    Ok(message_response(StatusCode::OK, format, &call.message))
}

async fn start(limit: usize) -> HttpServer {
    let router = Router::new()
        .route(
            "/api/v1/scheduler",
            mesos_405(post(echo), &[axum::http::Method::POST]),
        )
        .route(
            "/not-leader",
            get(|| async { HttpError::redirect_to_leader("127.0.0.1:5050", "/api/v1/scheduler") }),
        )
        .merge(common_routes(version_info()))
        .layer(Extension(BodyLimit(limit)));
    let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
    HttpServer::bind(addr, router).await.expect("bind")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

fn url(server: &HttpServer, path: &str) -> String {
    format!("http://{}{}", server.local_addr(), path)
}

fn teardown() -> Call {
    Call {
        framework_id: Some(FrameworkId {
            value: "fw-1".into(),
        }),
        r#type: Some(call::Type::Teardown as i32),
        ..Default::default()
    }
}

const TEARDOWN_JSON: &str = r#"{"framework_id":{"value":"fw-1"},"type":"TEARDOWN"}"#;

async fn post_call(
    server: &HttpServer,
    content_type: Option<&str>,
    accept: Option<&str>,
    body: Vec<u8>,
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut request = client().post(url(server, "/api/v1/scheduler")).body(body);
    if let Some(content_type) = content_type {
        request = request.header("Content-Type", content_type);
    }
    if let Some(accept) = accept {
        request = request.header("Accept", accept);
    }
    let response = request.send().await.expect("send");
    let status = StatusCode::from_u16(response.status().as_u16()).unwrap();
    let headers = convert_headers(response.headers());
    let body = response.bytes().await.expect("body").to_vec();
    (status, headers, body)
}

fn convert_headers(headers: &reqwest::header::HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        out.append(
            axum::http::HeaderName::from_bytes(name.as_str().as_bytes()).unwrap(),
            axum::http::HeaderValue::from_bytes(value.as_bytes()).unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn json_and_protobuf_calls_decode_and_echo() {
    let server = start(1 << 20).await;

    let (status, headers, body) = post_call(
        &server,
        Some("application/json"),
        None,
        TEARDOWN_JSON.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/json");
    assert_eq!(String::from_utf8(body).unwrap(), TEARDOWN_JSON);

    let (status, headers, body) = post_call(
        &server,
        Some("application/x-protobuf"),
        Some("application/x-protobuf"),
        teardown().encode_to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers["content-type"], "application/x-protobuf");
    assert_eq!(Call::decode(body.as_slice()).unwrap(), teardown());

    // JSON in, protobuf out; charset parameter tolerated.
    let (status, _, body) = post_call(
        &server,
        Some("application/json; charset=utf-8"),
        Some("application/json;q=0.2, application/x-protobuf"),
        TEARDOWN_JSON.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(Call::decode(body.as_slice()).unwrap(), teardown());

    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn wrong_content_type_is_415_with_mesos_text() {
    let server = start(1 << 20).await;
    let fixture = "Expecting 'Content-Type' of application/json or application/x-protobuf";
    for content_type in [Some("text/plain"), None] {
        let (status, headers, body) = post_call(
            &server,
            content_type,
            None,
            TEARDOWN_JSON.as_bytes().to_vec(),
        )
        .await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
        assert_eq!(headers["content-length"], "70");
        assert_eq!(String::from_utf8(body).unwrap(), fixture);
    }
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn bad_bodies_are_400_with_reasons() {
    let server = start(1 << 20).await;
    let (status, headers, body) = post_call(
        &server,
        Some("application/json"),
        None,
        b"not json".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.starts_with("Failed to parse body into JSON: syntax error at line 1"),
        "{text}"
    );

    let (status, _, body) = post_call(
        &server,
        Some("application/json"),
        None,
        br#"{"type":"TEARDOWN","framework_id":{"value":7}}"#.to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.starts_with("Failed to convert JSON into Call protobuf: "),
        "{text}"
    );
    assert!(text.contains("framework_id.value"), "{text}");

    let (status, _, body) = post_call(
        &server,
        Some("application/x-protobuf"),
        None,
        vec![0x0a, 0xff],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let text = String::from_utf8(body).unwrap();
    assert!(
        text.starts_with("Failed to parse body into Call protobuf: "),
        "{text}"
    );
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn unacceptable_accept_is_406() {
    let server = start(1 << 20).await;
    let (status, headers, body) = post_call(
        &server,
        Some("application/json"),
        Some("text/html"),
        TEARDOWN_JSON.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "Expecting 'Accept' to allow 'application/x-protobuf' or 'application/json'"
    );
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn oversized_body_is_413() {
    let server = start(1024).await;
    let mut big = TEARDOWN_JSON.as_bytes().to_vec();
    big.resize(4096, b' ');
    let (status, headers, body) = post_call(&server, Some("application/json"), None, big).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let text = String::from_utf8(body).unwrap();
    assert!(text.contains("over the limit of 1024 bytes"), "{text}");

    // Within the limit, trailing whitespace is fine.
    let mut small = TEARDOWN_JSON.as_bytes().to_vec();
    small.resize(1024, b' ');
    let (status, _, _) = post_call(&server, Some("application/json"), None, small).await;
    assert_eq!(status, StatusCode::OK);
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn health_and_version() {
    let server = start(1 << 20).await;
    let response = client().get(url(&server, "/health")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-length"], "0");
    assert!(response.headers().get("content-type").is_none());
    assert!(response.bytes().await.unwrap().is_empty());

    let response = client().get(url(&server, "/version")).send().await.unwrap();
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let json: serde_json::Value = serde_json::from_slice(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(json["version"], mesos_core::MESOS_WIRE_VERSION);
    for key in ["build_date", "build_user"] {
        assert!(json[key].is_string(), "{key} in {json}");
    }
    assert!(json["build_time"].is_number(), "{json}");
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn redirect_to_leader_is_307_with_location() {
    let server = start(1 << 20).await;
    let response = client()
        .get(url(&server, "/not-leader"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 307);
    assert_eq!(
        response.headers()["location"],
        "//127.0.0.1:5050/api/v1/scheduler"
    );
    assert_eq!(response.headers()["content-length"], "0");
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}

#[tokio::test]
async fn ephemeral_ports_and_shutdown() {
    let a = start(1024).await;
    let b = start(1024).await;
    assert_ne!(a.local_addr().port(), 0);
    assert_ne!(a.local_addr(), b.local_addr());
    let addr = a.local_addr();
    a.shutdown(Duration::from_secs(5)).await.unwrap();
    let refused = client().get(format!("http://{addr}/health")).send().await;
    assert!(refused.is_err(), "server still answering after shutdown");
    let handle = b.shutdown_handle();
    handle.shutdown();
    assert!(handle.is_shutdown());
    tokio::time::timeout(Duration::from_secs(5), b.wait())
        .await
        .expect("server stops after its handle is signalled")
        .unwrap();
}

#[tokio::test]
async fn wrong_method_is_405_with_mesos_text() {
    let server = start(1 << 20).await;
    let response = client()
        .get(url(&server, "/api/v1/scheduler"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        response.text().await.unwrap(),
        "Expecting one of { 'POST' }, but received 'GET'"
    );
    server.shutdown(Duration::from_secs(5)).await.unwrap();
}
