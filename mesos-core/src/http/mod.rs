//! The HTTP edge shared by the master's and the agent's v1 APIs.
//!
//! - [`negotiate`]: `Content-Type` / `Accept` / `Message-Accept` to a [`Format`] or
//!   [`StreamFormat`];
//! - [`body`]: bounded body reading, decoding a call ([`decode_body`], the [`CallBody`]
//!   extractor), encoding a response ([`encode_body`]);
//! - [`error`]: [`HttpError`], a status with a plain-text reason as Mesos renders it;
//! - [`stream`]: RecordIO event-stream responses fed by a channel;
//! - [`server`]: binding and serving a router with graceful shutdown;
//! - [`endpoints`]: `/health`, `/version`, Mesos' 405;
//! - [`client`]: what the executor's and the scheduler's API clients share.

pub mod body;
pub mod client;
pub mod endpoints;
pub mod error;
pub mod negotiate;
pub mod server;
pub mod stream;

pub use body::{
    decode_body, encode_body, encode_message, message_response, read_body, BodyLimit, CallBody,
    DEFAULT_MAX_BODY_SIZE,
};
pub use endpoints::{
    common_routes, flags_response, json_bytes_response, json_response, mesos_405, version_info,
};
pub use error::HttpError;
pub use negotiate::{
    request_format, request_format_of, response_format, response_format_of, stream_format,
    stream_format_of, Format, StreamFormat,
};
pub use server::{HttpServer, ServerError, ShutdownHandle};
pub use stream::{
    encoded_event_stream, event_stream, event_stream_from, unbounded_event_stream, MESOS_STREAM_ID,
};
