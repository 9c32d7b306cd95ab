//! # coda-handlers: event adapters for Coda functions
//!
//! [Coda](coda_lambda) handlers take any `serde` event; this crate adapts the event sources
//! that deserve more than a struct. Its first family is HTTP: API Gateway REST and HTTP
//! APIs, ALB target groups and Function URLs as `http::Request` / `http::Response`, with a
//! small synchronous router — see [`http`].
//!
//! | event source | adapter | feature |
//! | --- | --- | --- |
//! | API Gateway REST API (payload 1.0) | [`http::Adapter`] | `apigw_v1` |
//! | API Gateway HTTP API (payload 2.0) | [`http::Adapter`] | `apigw_v2` |
//! | ALB target group | [`http::Adapter`] | `alb` |
//! | Function URL, buffered or `RESPONSE_STREAM` | [`http::Adapter`] | `function_url` |
//!
//! All four features are on by default; a function that sits behind one source can turn
//! the others off (`default-features = false, features = ["apigw_v2"]`) and compiles only
//! that source's code and its `aws_lambda_events` types.
//!
//! ```no_run
//! # #[cfg(feature = "apigw_v2")] {
//! use coda_handlers::http::{Json, Request, RequestExt, Router, StatusCode};
//! use coda_lambda::{Context, Diagnostic};
//!
//! coda_handlers::http::start(|| {
//!     Ok(Router::new()
//!         .get("/hello/{name}", |req: Request, ctx: &mut Context| {
//!             let name = req.path_param("name").unwrap_or("you").to_owned();
//!             // Runs after the caller has the answer.
//!             ctx.after(|d| log::info!("greeted in {}", d.request_id()));
//!             Ok::<_, Diagnostic>(Json(serde_json::json!({ "hello": name })))
//!         })
//!         .post("/hello", |_: Request, _: &mut Context| {
//!             Ok::<_, Diagnostic>(StatusCode::NO_CONTENT)
//!         }))
//! })
//! # }
//! ```
//!
//! # Layout
//! - [`http`]: the HTTP adapter. Inside it, lowest first: `origin` (which source), `params`,
//!   `error` ([`http::AdapterError`]), `uri` (percent-encoding, the query), `stage` (the
//!   stage rule), `body` ([`http::Body`], the text-or-base64 rule), `context` (the typed
//!   request context, decoded lazily), `event` (the event read in one pass, source
//!   detection), `ext` ([`http::RequestExt`]), `request` (building the `http::Request`),
//!   `encode` (response JSON parts), one module per source both ways (`apigw_v1`,
//!   `payload_v2` for API Gateway HTTP and Function URLs, `alb`), `source` (the dispatch),
//!   `response` ([`http::IntoResponse`]), `handler` ([`http::HttpHandler`]), `stream`
//!   (streamed answers), `router` ([`http::Router`]) and `adapter` ([`http::Adapter`], the
//!   one module that sequences an invocation).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

#[cfg(not(any(
    feature = "apigw_v1",
    feature = "apigw_v2",
    feature = "alb",
    feature = "function_url",
    feature = "sqs",
    feature = "kinesis",
    feature = "dynamodb",
    feature = "metrics"
)))]
compile_error!(
    "coda-handlers has nothing to build: enable at least one of its features \
     apigw_v1, apigw_v2, alb, function_url, sqs, kinesis, dynamodb, metrics"
);

#[cfg(any(feature = "sqs", feature = "kinesis", feature = "dynamodb"))]
pub mod batch;
#[cfg(any(
    feature = "apigw_v1",
    feature = "apigw_v2",
    feature = "alb",
    feature = "function_url"
))]
pub mod http;
#[cfg(feature = "metrics")]
pub mod metrics;

/// The event types the typed request contexts and batch records come from, at the version
/// this crate uses.
#[cfg(any(
    feature = "apigw_v1",
    feature = "apigw_v2",
    feature = "alb",
    feature = "function_url",
    feature = "sqs",
    feature = "kinesis",
    feature = "dynamodb"
))]
pub use aws_lambda_events;
