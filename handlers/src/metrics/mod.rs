//! CloudWatch metrics in the Embedded Metric Format (EMF), written after the answer: no AWS
//! SDK, no async runtime, no crate added. Each flush is one JSON object per line on stdout,
//! which Lambda sends to CloudWatch Logs, which extracts the metrics.
//!
//! ```no_run
//! use coda_handlers::metrics::{Metrics, Unit};
//! use coda_lambda::{Context, Diagnostic};
//!
//! let metrics = Metrics::builder("Shop").service("orders").build().expect("a valid namespace");
//! let observer = metrics.clone();
//! coda_lambda::start_with(
//!     // After each invocation's deferred work: how that work ended.
//!     move |runtime| observer.observe(runtime),
//!     move || {
//!         // After each answer: the invocation's metrics, in a deferred closure.
//!         Ok(metrics.clone().handler(move |order: serde_json::Value, ctx: &mut Context| {
//!             metrics.add("OrderValue", order["cents"].as_f64().unwrap_or(0.0), Unit::Count)?;
//!             let later = metrics.clone();
//!             ctx.after(move |_| later.add("ReceiptsSent", 1.0, Unit::Count));
//!             Ok::<_, Diagnostic>(serde_json::json!({"accepted": true}))
//!         }))
//!     },
//! )
//! ```
//!
//! # What is flushed when
//!
//! A metric belongs to the invocation whose thread records it — the handler's, its deferred
//! and spawned work's — and is written after that invocation's answer, never before it.
//! Two flushes can write it:
//!
//! | flush | installed by | runs | writes |
//! | --- | --- | --- | --- |
//! | deferred | [`Metrics::handler`] | as the invocation's last deferred closure, after any answer (error and panic too) | the metrics the handler and the deferred work before it recorded; `ColdStart`, `TimeToAnswer`, `Errors` |
//! | observer | [`Metrics::observe`] (or [`Metrics::flush_report`] from an observer of yours) | after all deferred work, before the next event | what is left (metrics recorded after the deferred flush, by spawned work say, or all of them without the deferred flush); `InvocationDuration`, `DeferredDuration`, `DeferredRan` / `Failed` / `Panicked` / `Skipped` / `Overran`; and the deferred flush's three if it did not run |
//!
//! A deferred closure cannot see how the work after it ends, so the deferred-work counts
//! need the observer; an observer sees everything. Use both for the two lines per
//! invocation, or only the observer for one line with everything. Metrics recorded outside
//! an invocation (at init), or by work still running after its invocation's last flush, go
//! out with the next flush.
//!
//! The answer-first metrics (turn them off with [`MetricsBuilder::runtime_metrics`]) are in
//! an object of their own, with the default dimensions only (not the invocation's own):
//!
//! | metric | unit | value |
//! | --- | --- | --- |
//! | `ColdStart` | Count | 1 on the process's first invocation, else 0 |
//! | `TimeToAnswer` | Milliseconds | from the event's arrival to the answer's acceptance by the Runtime API (Lambda's `ResponseSent`): the caller's wait |
//! | `Errors` | Count | 1 when the caller received an error, else 0 |
//! | `InvocationDuration` | Milliseconds | from the event's arrival to the end of deferred work |
//! | `DeferredDuration` | Milliseconds | from the answer to the end of deferred work |
//! | `DeferredRan`, `DeferredFailed`, `DeferredPanicked`, `DeferredSkipped`, `DeferredOverran` | Count | the invocation's deferred closures by outcome ([`coda_lambda::DeferredSummary`]) |
//!
//! Every object carries the invocation's `requestId` as a property.
//!
//! # The format
//!
//! Each line is one object: `_aws` with `Timestamp` (epoch milliseconds) and one
//! `CloudWatchMetrics` directive — `Namespace`, `Dimensions` (an array of dimension sets,
//! each an array of at most 30 names), `Metrics` (`Name`, `Unit`, and `StorageResolution: 1`
//! for high-resolution metrics; standard is 60, the default) — then each dimension (a
//! string), each metric (a number, or an array of the values recorded) and each property as
//! members of the root object. More than 100 metrics, or more than 100 values of one, are
//! split across objects, each with every dimension and property. Names are checked as they
//! are recorded ([`MetricsError`]): 1 to 255 characters, dimension names and values ASCII
//! (values up to 1024), no name used twice across metrics, dimensions and properties, no
//! `_aws`, finite values within ±2^360, one unit and resolution per metric, namespaces not
//! starting with `AWS/`.
//!
//! # Logger keys
//!
//! The logger's extra JSON keys are Coda's own ([`coda_lambda::logging`]), re-exported here
//! as Powertools users know them: [`persist_key`] adds a key to every JSON log line from
//! now on, [`append_key`] to the current invocation's lines only (on every thread that serves
//! it) until it ends, [`remove_key`] removes one. They apply with `AWS_LAMBDA_LOG_FORMAT=JSON`.

mod answer;
mod emf;
mod error;
mod handle;
mod handler;
mod output;
mod rules;
mod set;
mod store;
mod unit;

pub use answer::{
    COLD_START, DEFERRED_DURATION, DEFERRED_FAILED, DEFERRED_OVERRAN, DEFERRED_PANICKED,
    DEFERRED_RAN, DEFERRED_SKIPPED, ERRORS, INVOCATION_DURATION, TIME_TO_ANSWER,
};
pub use coda_lambda::logging::{append_key, persist_key, remove_key};
pub use error::MetricsError;
pub use handle::{Metrics, MetricsBuilder, NAMESPACE_VARIABLE, SERVICE_VARIABLE};
#[doc(hidden)]
pub use handler::Measured;
pub use handler::WithMetrics;
pub use rules::{MAX_DIMENSIONS, MAX_METRICS, MAX_VALUES};
pub use set::MetricSet;
pub use unit::{Resolution, Unit};
