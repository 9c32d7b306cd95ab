//! echo-deferred: the echo plus one deferred closure that sleeps `CODA_DEFER_MS` ms (default
//! 100) after the answer and logs one line at debug level.
//!
//! The benchmarks compare the caller's latency against the plain `echo` (see BENCHMARKS.md):
//! the caller should not pay for the sleep, the invocation's end should. Run it under the
//! benchmark's driver (`bench/driver`); the 20 invocations take about 2 s, the sleeps:
//!
//! ```sh
//! cargo build -q --release -p coda-examples --bin echo-deferred && AWS_LAMBDA_LOG_LEVEL=debug cargo run -q --release -p coda-bench-driver -- -n 20 -- target/release/echo-deferred
//! ```

use std::time::Duration;

use coda_lambda::{Context, Diagnostic, Reply};

fn main() {
    coda_lambda::start(|| {
        // Read once at init, not per invocation.
        let defer = match std::env::var("CODA_DEFER_MS") {
            Ok(ms) => Duration::from_millis(ms.trim().parse()?),
            Err(_) => Duration::from_millis(100),
        };
        Ok(move |event: serde_json::Value, _ctx: &mut Context| {
            Ok::<_, Diagnostic>(Reply::new(event).after(move |d| {
                std::thread::sleep(defer.min(d.remaining()));
                log::debug!("deferred work done {:?} after the event", d.elapsed());
            }))
        })
    })
}
