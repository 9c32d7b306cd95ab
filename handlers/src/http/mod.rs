//! HTTP functions behind API Gateway (REST and HTTP APIs), an ALB or a Function URL, written
//! with the `http` crate's types: the handler gets an `http::Request<Body>` and its
//! invocation's [`coda_lambda::Context`], and returns anything [`IntoResponse`]; the
//! [`Adapter`] turns the event into the request and the response into the JSON the
//! originating source expects. Deferred work is registered on the `Context` as in any Coda
//! handler, so an endpoint answers at handler speed and finishes its side work after.
//!
//! ```no_run
//! use coda_handlers::http::{Json, Request, RequestExt};
//! use coda_lambda::{Context, Diagnostic};
//!
//! fn main() {
//!     coda_handlers::http::start(|| {
//!         Ok(|req: Request, ctx: &mut Context| {
//!             let user = req.query_param("user").unwrap_or_default().into_owned();
//!             ctx.after(move |d| log::info!("audit: {user} in {}", d.request_id()));
//!             Ok::<_, Diagnostic>(Json(serde_json::json!({"path": req.uri().path()})))
//!         })
//!     })
//! }
//! ```
//!
//! # Sources
//!
//! | source | feature | recognised by | response |
//! | --- | --- | --- | --- |
//! | API Gateway REST API (payload 1.0) | `apigw_v1` | `httpMethod`, no `requestContext.elb` | `statusCode`, `headers` + `multiValueHeaders`, `body`, `isBase64Encoded` |
//! | API Gateway HTTP API (payload 2.0) | `apigw_v2` | `version: "2.0"` | `statusCode`, `headers` (repeated names joined by `", "`), `cookies`, `body`, `isBase64Encoded` |
//! | ALB target group | `alb` | `httpMethod` and `requestContext.elb` | `statusCode`, `statusDescription`, `headers` or `multiValueHeaders` (the request's mode), `body`, `isBase64Encoded` |
//! | Function URL (payload 2.0) | `function_url` | `version: "2.0"`, a `*.lambda-url.*` domain | as API Gateway HTTP; or streamed with [`Adapter::response_stream`] |
//!
//! An event that is none of these fails with one message naming the sources this build
//! accepts and the keys the event lacks (never serde's "did not match any variant"). The
//! source's extras — [`RequestExt::origin`], [`RequestExt::raw_http_path`], path parameters,
//! stage variables, the typed [`RequestContext`], the authorizer — are read through
//! [`RequestExt`].
//!
//! # The request
//!
//! - **URI**: `scheme://host/path?query`. The scheme is `x-forwarded-proto` (`http` or
//!   `https`, default `https`); the host is the `host` header (for an ALB in multi-value mode
//!   too), else `requestContext.domainName`; without either the URI is the path and query
//!   alone. The path and query keep the percent-encoding the source sent (only bytes a URI
//!   cannot hold are escaped), and the query keeps its parameters' order: payload 2.0's
//!   `rawQueryString` as sent, an ALB's parameters as sent (an ALB does not decode them), a
//!   REST API's decoded parameters encoded again, in the event's order.
//! - **Headers**: single- and multi-value headers merged; a name in both keeps every value,
//!   none twice. Payload 2.0's `cookies` join any `cookie` header into one `cookie` header,
//!   no cookie repeated.
//! - **Body**: base64-decoded when `isBase64Encoded`; a body that does not decode is
//!   answered `400` (and logged) without calling the handler.
//!
//! # The stage rule
//!
//! Whether an API Gateway stage name is part of the request's URI path:
//!
//! | source | the event's path | stage kept (default) | stage left out |
//! | --- | --- | --- | --- |
//! | REST API (1.0) | `path`, without the stage | `/{stage}` + `path`, unless `path` is `/{stage}` or starts with `/{stage}/` | `path` |
//! | HTTP API (2.0) | `rawPath`, with the stage of a named stage | `rawPath` | `rawPath` without its leading `/{stage}` (`/{stage}` alone becomes `/`) |
//! | ALB, Function URL | `path` / `rawPath` | as sent | as sent |
//!
//! A stage that is absent, empty or `$default` is never in a path. "Kept" is the path the
//! client requested on the API's `execute-api` domain; "left out" is the resource path a
//! router usually matches, whatever the stage. A stage is never added twice: a REST path
//! that already starts with it and an HTTP API path that is exactly `/{stage}` stay as they
//! are (`lambda_http` doubles the latter into `/{stage}/{stage}`). Set
//! `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` (to anything but `false` or `0`) to leave stages
//! out, or choose in code with [`Adapter::stage_in_path`]. [`RequestExt::raw_http_path`] is
//! always the event's path as sent.
//!
//! # The body rule (responses)
//!
//! A response body goes out as **text** when it is valid UTF-8, has no `Content-Encoding`
//! (other than `identity`), and has no `Content-Type` or a textual one (`text/*`,
//! `application/json`, `application/xml`, `application/javascript`,
//! `application/ecmascript`, `application/x-www-form-urlencoded`, `application/graphql`,
//! `application/yaml`, `application/x-ndjson`, any `+json`, `+xml` or `+yaml` type;
//! [`is_text_media`]). Otherwise it goes out as **base64** with `isBase64Encoded: true`. No
//! byte is ever replaced: a body with no content type that is not UTF-8 is base64 (where
//! `lambda_http` sends U+FFFD in place of the bytes). A REST API decodes base64 only for the
//! media types in its `binaryMediaTypes`. An empty body is `"body": ""`.
//!
//! # Responses
//!
//! Repeated headers become `multiValueHeaders` (REST API, ALB in multi-value mode) or are
//! joined with `", "` (payload 2.0, ALB in single-value mode; RFC 9110). `Set-Cookie` is never
//! joined: payload 2.0 sends each in `cookies`, an ALB in single-value mode only the first
//! (with a warning: turn on multi-value headers). The ALB's `statusDescription` is
//! `"<code> <reason>"`.
//!
//! # Streaming
//!
//! A Function URL in `RESPONSE_STREAM` invoke mode needs an HTTP-integration stream: build
//! the adapter with [`Adapter::response_stream`], and answer with any response — a
//! [`Body::stream`] body reaches the caller write by write, others in one piece.

// The crate doc's Layout lists these lowest first: each uses only modules before it there.
mod adapter;
#[cfg(feature = "alb")]
mod alb;
#[cfg(feature = "apigw_v1")]
mod apigw_v1;
mod body;
mod context;
mod encode;
mod error;
mod event;
mod ext;
mod handler;
mod origin;
mod params;
#[cfg(any(feature = "apigw_v2", feature = "function_url"))]
mod payload_v2;
mod request;
mod response;
mod router;
mod source;
mod stage;
mod stream;
mod uri;

pub use adapter::{Adapter, request_from_event, start};
pub use body::{Body, is_text_media};
pub use context::RequestContext;
pub use error::AdapterError;
pub use ext::RequestExt;
pub use handler::HttpHandler;
pub use origin::Origin;
pub use params::Params;
pub use request::Request;
pub use response::{IntoResponse, Json, Response};
pub use router::Router;
pub use stage::IGNORE_STAGE_VARIABLE;
pub use uri::query_pairs;

/// The `http` crate's types a handler needs most, re-exported.
pub use ::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, header};
