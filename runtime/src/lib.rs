//! # coda-lambda: a synchronous AWS Lambda runtime that answers first and finishes after
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
//!             ctx.spawn(|d| log::info!("audit {}", d.request_id()));
//!             let greeting = Greeting { message: format!("Hello, {}!", event.name) };
//!             // Runs after the caller has the greeting (and only if it was delivered).
//!             Ok(Reply::new(greeting).after_success(|d| log::info!("flushed after {:?}", d.elapsed())))
//!         })
//!     })
//! }
//! ```
//!
//! - Handlers are closures or functions `(Event, &mut Context) -> Result<Output, Diagnostic>`
//!   (or `&Context`), or types implementing [`Handler`]; its docs list the forms that compile.
//!   `Event` is any `serde` type or [`Bytes`]; `Output` any `Serialize` type, [`Bytes`] or a
//!   [`Reply`].
//! - Errors: `?` turns any error into a [`Diagnostic`] with a readable `errorType`; undecodable
//!   events are `Runtime.UnmarshalError`, unencodable output `Runtime.MarshalError`, panics
//!   `Runtime.HandlerPanic`. The loop goes on after each.
//! - Deferred work: `after` (after any answer), `after_success`, `after_error` — the same
//!   three on [`Context`] and [`Reply`] — and [`Context::spawn`] (starts at once, joined
//!   before `/next`). The [`Deferred`] contract: ordered, isolated, bounded, counted.
//! - Logging: [`logging`] (env_logger in Lambda's Text and JSON formats, with request ids).
//! - Tests and local runs: the `coda-emulator` crate (`coda_emulator::testing::invoke`) runs
//!   a handler through this real loop against a real Runtime API server on loopback.
//!
//! # Words
//!
//! | word | meaning |
//! | --- | --- |
//! | answer | what the caller receives: the response, or the error |
//! | [`Delivery`] | what the Runtime API said to the answer: accepted, or refused with a 4xx |
//! | deferred work | closures that run after the answer, before the next `/next`; each gets a [`Deferred`] |
//! | spawned work | closures started at once on their own thread ([`Context::spawn`]), joined before `/next` |
//! | budget | the deadline minus the safety margin ([`Runtime::deferred_margin`]): deferred work ends by then |
//! | [`DeferredOutcome`] | how one closure ended: ran, failed, panicked, skipped (budget spent before its turn), overran (detached at the budget) |
//! | [`DeferredSummary`] | the counts of an invocation's outcomes |
//! | [`InvocationReport`] | what an observer ([`Runtime::on_invocation`]) learns of one invocation |
//!
//! # Layout
//! - [`protocol`]: the Runtime API vocabulary shared with the emulator and the HTTP adapters.
//! - `config`: the Lambda environment as a [`Config`].
//! - `client`: the Runtime API client (ureq) and its status policy.
//! - `invocation`: what `/next` returned, read leniently; `identity`: client context and
//!   Cognito identity.
//! - `context`: [`Context`]; `handler`: [`Handler`], [`FromEvent`], [`Bytes`]; `reply`:
//!   [`Reply`], [`IntoReply`]; `streaming`: [`ResponseStream`].
//! - `deferred`: [`Deferred`] and its outcomes; `task`: one registered closure; `worker`: the
//!   thread that runs them; `work`: an invocation's registered work and how it finishes.
//! - `diagnostic`: [`Diagnostic`]; `panic`: what caught panics become; `error`: [`Error`].
//! - `run`: the loop. `runtime`: [`Runtime`], [`start`].
//! - [`logging`]: the logger; `timestamp`: RFC 3339 times; `trace_env`: `_X_AMZN_TRACE_ID`
//!   (the one module with `unsafe`).
//!
//! The public surface is what a function author uses; see ARCHITECTURE.md for the rule.

#![deny(unsafe_code)]
#![deny(missing_docs)]

mod builder;
mod client;
mod concurrent;
mod config;
mod context;
mod deferred;
mod detached;
mod diagnostic;
mod error;
mod extension;
mod handler;
mod identity;
mod invocation;
mod log_context;
pub mod logging;
mod panic;
pub mod protocol;
mod reply;
mod run;
mod runtime;
mod sandbox;
#[cfg(feature = "shutdown")]
mod shutdown;
mod streaming;
mod task;
mod timestamp;
mod trace_env;
mod work;
mod worker;

#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;

pub use builder::DeferredBuilder;
pub use client::{ApiError, Delivery, Operation};
pub use config::{Config, ConfigError, FunctionConfig};
pub use context::Context;
pub use deferred::{
    Deferred, DeferredOutcome, DeferredResult, DeferredSummary, HandOff, IfUnfinished,
};
pub use diagnostic::Diagnostic;
pub use error::Error;
pub use extension::{ExtensionEvent, InvokeEvent, Shutdown};
pub use handler::{Bytes, FromEvent, Handler};
#[doc(hidden)]
pub use handler::{FnHandler, FnRefHandler};
pub use identity::{ClientApplication, ClientContext, CognitoIdentity};
pub use reply::{IntoReply, Reply};
pub use run::InvocationReport;
pub use runtime::{Runtime, start, start_concurrent, start_concurrent_with, start_with};
pub use streaming::ResponseStream;
