//! # coda-handlers: event adapters for Coda functions
//!
//! [Coda](coda_lambda) handlers take any `serde` event; this crate adapts the event sources
//! that deserve more than a struct, and adds what functions need around them:
//!
//! - **HTTP** ([`http`]): API Gateway REST and HTTP APIs, ALB target groups and Function
//!   URLs as `http::Request` / `http::Response`, with a small synchronous router.
//! - **Batches** ([`batch`]): SQS, Kinesis and DynamoDB Streams consumers, one record at a
//!   time, answering the partial failures (`batchItemFailures`) — errors and panics fail
//!   their record only, FIFO order is kept.
//! - **Metrics** ([`metrics`]): CloudWatch metrics in the Embedded Metric Format, written
//!   after the answer, with what only an answer-first runtime can report (time to answer,
//!   deferred-work outcomes).
//!
//! | event source or tool | adapter | feature |
//! | --- | --- | --- |
//! | API Gateway REST API (payload 1.0) | `http::Adapter` | `apigw_v1` |
//! | API Gateway HTTP API (payload 2.0) | `http::Adapter` | `apigw_v2` |
//! | ALB target group | `http::Adapter` | `alb` |
//! | Function URL, buffered or `RESPONSE_STREAM` | `http::Adapter` | `function_url` |
//! | SQS (standard and FIFO queues) | `batch::Batch::sqs` | `sqs` |
//! | Kinesis Data Streams | `batch::Batch::kinesis` | `kinesis` |
//! | DynamoDB Streams | `batch::Batch::dynamodb` | `dynamodb` |
//! | CloudWatch metrics (EMF) | `metrics::Metrics` | `metrics` |
//!
//! Every feature is on by default, as in `aws_lambda_events`; a function turns off what it
//! does not use (`default-features = false, features = ["apigw_v2"]`, or `["sqs", "metrics"]`)
//! and compiles only that code and those `aws_lambda_events` types. `metrics` adds no crate;
//! what each other feature adds is measured in BENCHMARKS.md.
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
//! - [`batch`]: lowest first, `source` ([`batch::Source`]: record type, item identifier,
//!   ordering group), `decode` ([`batch::Decode`]), `record` ([`batch::Record`]), `policy`
//!   ([`batch::AllFailed`], [`batch::Order`]), `outcome` ([`batch::BatchOutcome`], the
//!   answer), `error` ([`batch::BatchError`]), `handler` ([`batch::RecordHandler`]) and
//!   `processor` ([`batch::Batch`], the one module that sequences a batch).
//! - [`metrics`]: lowest first, `unit`, `error` ([`metrics::MetricsError`]), `rules` (the
//!   format's and CloudWatch's limits), `set` ([`metrics::MetricSet`]), `emf` (the lines),
//!   `output` (stdout or a sink), `answer` (the answer-first metrics), `store` (per
//!   invocation), `handle` ([`metrics::Metrics`], the observer flush) and `handler`
//!   ([`metrics::WithMetrics`], the deferred flush).

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

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

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
