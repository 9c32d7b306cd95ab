//! anchor-concurrent: Coda's `concurrent` example (`examples/concurrent.rs`) on the official
//! `lambda_runtime` crate, served with `run_concurrent` (its Lambda Managed Instances mode:
//! one tokio task with its own `/next` loop per `AWS_LAMBDA_MAX_CONCURRENCY`, on the
//! multi-threaded runtime; sequential when the variable is absent or 1).
//!
//! The event `{"sleep_ms": N}` makes the handler wait N milliseconds, as an async handler
//! waits: `tokio::time::sleep` (a blocking `std::thread::sleep` would hold one of the
//! runtime's few threads and cap the concurrency at their count). The answer has the
//! example's fields: `{"request_id", "trace_id", "env_trace_id", "worker"}`, where `worker` is
//! the tokio task id of the worker loop that served it (lambda_runtime numbers no workers).

use std::time::Duration;

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde::Deserialize;
use serde_json::{Value, json};

/// The event.
#[derive(Deserialize)]
struct Event {
    /// How long the handler waits.
    #[serde(default)]
    sleep_ms: u64,
}

/// The handler: waits, then says which invocation it was and which worker served it.
async fn handle(event: LambdaEvent<Event>) -> Result<Value, Error> {
    tokio::time::sleep(Duration::from_millis(event.payload.sleep_ms)).await;
    Ok(json!({
        "request_id": event.context.request_id,
        "trace_id": event.context.xray_trace_id,
        "env_trace_id": std::env::var("_X_AMZN_TRACE_ID").ok(),
        "worker": tokio::task::try_id().map(|id| id.to_string()),
    }))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run_concurrent(service_fn(handle)).await
}
