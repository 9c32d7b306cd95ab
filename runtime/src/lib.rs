//! # Coda: a synchronous AWS Lambda runtime that answers first and finishes after
//!
//! A Coda handler returns its response *plus deferred work*. The runtime posts the response
//! to the Lambda Runtime API, so the caller has its answer at handler speed, then runs the
//! deferred work inside the same invocation — bounded by the deadline — and only then asks
//! for the next event. One thread, one loop, one keep-alive connection; no async runtime.
//!
//! ```no_run
//! use coda_lambda::{Context, Reply};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Deserialize)]
//! struct Hello { name: String }
//!
//! #[derive(Serialize)]
//! struct Greeting { message: String }
//!
//! fn main() {
//!     coda_lambda::start(|| {
//!         Ok(|event: Hello, ctx: &mut Context| {
//!             // Starts now on a thread; joined before the next event is polled.
//!             ctx.spawn(|job| log::info!("audit {}", job.request_id()));
//!             let greeting = Greeting { message: format!("Hello, {}!", event.name) };
//!             // Runs after the caller has the greeting.
//!             Ok(Reply::new(greeting).after(|job| log::info!("flushed after {:?}", job.elapsed())))
//!         })
//!     })
//! }
//! ```
//!
//! - Handlers are closures or functions `(Event, &mut Context) -> Result<Output, Diagnostic>`,
//!   or types implementing [`Handler`]. `Event` is any `serde` type or [`Bytes`]; `Output`
//!   any `Serialize` type or a [`Reply`].
//! - Errors: `?` turns any error into a [`Diagnostic`] with a readable `errorType`; undecodable
//!   events are `Runtime.UnmarshalError`, unencodable output `Runtime.MarshalError`, panics
//!   `Runtime.HandlerPanic`. The loop goes on after each.
//! - Deferred work: [`Reply::after`] (after success), [`Context::after`] (always),
//!   [`Context::after_error`] (after failure), [`Context::spawn`] (concurrent, joined before
//!   `/next`). See the [`deferred`] contract: ordered, isolated, bounded, counted.
//! - Locally (feature `emulator`): `emulator::Emulator` is a real Runtime API server;
//!   `coda_emulator::testing` runs a handler through the real loop against it in a few lines. Add
//!   `coda = { version = "…", features = ["emulator"] }` to `[dev-dependencies]` for tests:
//!   function binaries do not compile the emulator.
//!
//! # Layout
//! - [`config`]: the Lambda environment as a [`Config`].
//! - [`headers`]: Runtime API header names and paths shared by client and emulator.
//! - `client`: the Runtime API client (ureq) and its status policy.
//! - `invocation`: what `/next` returned, read leniently.
//! - [`Context`], [`Job`]: what handlers and deferred work know.
//! - [`Handler`], [`FromEvent`], [`Bytes`]: handlers and event decoding.
//! - [`Reply`], [`IntoReply`], [`ResponseStream`]: answers, buffered or streamed.
//! - [`deferred`]: deferred and spawned work; `worker`: the thread that runs it.
//! - [`Diagnostic`]: error bodies. [`Error`]: why the runtime stopped.
//! - `run`: the loop. [`Runtime`], [`start`]: configuration and entry point.
//! - [`LambdaLogger`]: Lambda's log formats. `trace_env`: `_X_AMZN_TRACE_ID` (the one
//!   module with `unsafe`).
//! - `emulator` (feature `emulator`): the local Runtime API server. `testing` (same
//!   feature): handler tests on the real loop.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod client;
pub mod config;
mod context;
pub mod deferred;
mod diagnostic;
mod error;
mod handler;
mod identity;
mod invocation;
mod job;
#[doc(hidden)]
pub mod logger;
pub mod protocol;
mod reply;
mod run;
mod runtime;
mod streaming;
mod timestamp;
mod trace_env;
mod worker;

pub use client::{ApiError, Delivery, Operation};
pub use config::{Config, ConfigError, FunctionConfig};
pub use context::Context;
pub use deferred::{DeferredSummary, SkipReason, TaskOutcome, TaskResult};
pub use diagnostic::{Diagnostic, readable_type_name};
pub use error::Error;
pub use handler::{Bytes, FnHandler, FromEvent, Handler};
pub use identity::{ClientApplication, ClientContext, CognitoIdentity};
pub use job::{InvocationResult, Job};
pub use logger::{LambdaLogger, LogFormat, parse_level};
pub use reply::{IntoReply, Reply};
pub use run::InvocationReport;
pub use runtime::{DEFAULT_DEFERRED_MARGIN, Runtime, start};
pub use streaming::ResponseStream;

/// The `User-Agent` Coda sends: `coda/<version>` (RAPID records the first token, §0).
pub const USER_AGENT: &str = concat!("coda/", env!("CARGO_PKG_VERSION"));
