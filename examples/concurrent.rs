//! concurrent: a Lambda Managed Instances function — up to `AWS_LAMBDA_MAX_CONCURRENCY`
//! invocations at once, one worker thread each.
//!
//! The event `{"sleep_ms": N}` makes the handler sleep N milliseconds (a stand-in for I/O);
//! the answer says which invocation it was and which worker served it:
//! `{"request_id", "trace_id", "env_trace_id", "worker"}`. `env_trace_id` is the process's
//! `_X_AMZN_TRACE_ID`, which a concurrent runtime never sets (the trace id lives in the
//! `Context`): it is `null`.
//!
//! ```sh
//! cargo build -p coda-bootstrap -p coda-examples
//! target/debug/coda run --concurrency 4 -- target/debug/concurrent
//! for i in 1 2 3 4; do target/debug/coda invoke --data '{"sleep_ms": 500}' & done; wait
//! ```

use std::time::Duration;

use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;
use serde_json::{Value, json};

/// The event.
#[derive(Deserialize)]
struct Event {
    /// How long the handler sleeps.
    #[serde(default)]
    sleep_ms: u64,
}

fn main() {
    coda_lambda::start_concurrent(|| Ok(handle))
}

fn handle(event: Event, ctx: &mut Context) -> Result<Value, Diagnostic> {
    log::info!("worker {} serves {}", ctx.worker(), ctx.request_id());
    // The example's stand-in for a call that takes a while.
    std::thread::sleep(Duration::from_millis(event.sleep_ms));
    Ok(json!({
        "request_id": ctx.request_id(),
        "trace_id": ctx.trace_id(),
        "env_trace_id": std::env::var("_X_AMZN_TRACE_ID").ok(),
        "worker": ctx.worker(),
    }))
}
