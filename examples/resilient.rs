//! resilient: deferred work that retries inside the budget, and a sink for what cannot finish.
//!
//! The event `{"fail_times": N, "block_ms": M, "carry": bool}` (each optional) registers two
//! deferred closures, run after the caller has its answer:
//!
//! - `block`, which blocks M milliseconds (a call without a timeout, say);
//! - `write`, a named write that fails its first N attempts and asks for up to 3 attempts in
//!   all. With `"carry": true`, a write that never started (the budget was spent by `block`)
//!   runs after the next invocation's answer instead of being handed off.
//!
//! Work that cannot finish — retries exhausted, skipped, detached at the budget — reaches the
//! sink, which logs one line per job starting `sink:`. Try it under the emulator:
//!
//! ```sh
//! cargo build -p coda-bootstrap -p coda-examples
//! target/debug/coda run --timeout 1 -- target/debug/resilient
//! target/debug/coda invoke --data '{"fail_times": 2}' --tail      # ran on attempt 3
//! target/debug/coda invoke --data '{"fail_times": 5}' --tail      # sink: … "failed", 3 attempts
//! target/debug/coda invoke --data '{"block_ms": 2000}' --tail     # sink: block overran, write skipped
//! ```

use std::time::Duration;

use coda_lambda::{Context, Diagnostic, IfUnfinished};
use serde::Deserialize;
use serde_json::{Value, json};

/// The event; every field is optional.
#[derive(Deserialize)]
struct Event {
    /// How many attempts of the write fail before one succeeds.
    #[serde(default)]
    fail_times: u32,
    /// How long the blocking closure blocks.
    #[serde(default)]
    block_ms: u64,
    /// Whether a write that never started carries over to the next invocation.
    #[serde(default)]
    carry: bool,
}

fn main() {
    coda_lambda::start_with(
        |runtime| runtime.on_unfinished(|job| log::warn!("sink: {job}")),
        || Ok(handle),
    )
}

fn handle(event: Event, ctx: &mut Context) -> Result<Value, Diagnostic> {
    if event.block_ms > 0 {
        let block = Duration::from_millis(event.block_ms);
        ctx.deferred("block").after(move |_| {
            log::info!("block: blocking for {} ms", block.as_millis());
            // The example's stand-in for a call that does not return in time.
            std::thread::sleep(block);
        });
    }
    let mut failures_left = event.fail_times;
    let policy = if event.carry {
        IfUnfinished::CarryOver
    } else {
        IfUnfinished::HandOff
    };
    ctx.deferred("write")
        .attempts(3)
        .backoff(Duration::from_millis(20))
        .if_unfinished(policy)
        .after(move |d| {
            if failures_left > 0 {
                failures_left -= 1;
                return Err(format!(
                    "write: the store refused the record ({failures_left} more refusals to come)"
                ));
            }
            log::info!("write: stored the record of {}", d.request_id());
            Ok(())
        });
    Ok(json!({"accepted": true, "request_id": ctx.request_id()}))
}
