//! shutdown: a shutdown hook, and deferred work that may still be pending when the sandbox is
//! retired.
//!
//! The hook logs `shutdown hook ran` when Lambda sends SIGTERM (it does so because the runtime
//! registers a do-nothing internal extension for the hook). Each invocation `{"defer_ms": N}`
//! answers at once and registers one deferred closure that sleeps N milliseconds: a closure
//! still running at the shutdown is reported as dropped, with its request id.
//!
//! ```sh
//! cargo build -p coda-bootstrap -p coda-examples
//! target/debug/coda run -- target/debug/shutdown     # Ctrl-C delivers the shutdown
//! target/debug/coda invoke --data '{"defer_ms": 100}'
//! ```

use std::time::Duration;

use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;
use serde_json::{Value, json};

/// The event.
#[derive(Deserialize)]
struct Event {
    /// How long the deferred closure sleeps.
    #[serde(default)]
    defer_ms: u64,
}

fn main() {
    coda_lambda::start_with(
        |runtime| {
            runtime.on_shutdown(|shutdown| {
                log::info!(
                    "shutdown hook ran ({} ms left to flush)",
                    shutdown.remaining().as_millis()
                )
            })
        },
        || Ok(handle),
    )
}

fn handle(event: Event, ctx: &mut Context) -> Result<Value, Diagnostic> {
    let pause = Duration::from_millis(event.defer_ms);
    ctx.deferred("sleep").after(move |_| {
        // The example's stand-in for work after the answer.
        std::thread::sleep(pause);
        log::info!("deferred: slept {} ms", pause.as_millis());
    });
    Ok(json!({"defer_ms": event.defer_ms}))
}
