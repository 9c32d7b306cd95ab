//! hello: a typed event, a reply, and deferred work the caller does not wait for.
//!
//! Run it end to end under the embedded emulator (the README's first command):
//!
//! ```sh
//! cargo run -q -p coda-bootstrap -- run --invoke '{"name":"World"}' -- cargo run -q -p coda-examples --bin hello
//! ```
//!
//! The response prints first; the deferred closure's log lines follow about 200 ms later; the
//! timing line shows the caller had its answer long before the invocation ended.

use std::time::Duration;

use coda_lambda::{Context, Reply};
use serde::{Deserialize, Serialize};

/// The event: `{"name": "World"}`.
#[derive(Deserialize)]
struct Hello {
    name: String,
}

/// The answer: `{"message": "Hello, World!"}`.
#[derive(Serialize)]
struct Greeting {
    message: String,
}

fn main() {
    coda_lambda::start(|| {
        // How long the deferred work takes (default 200 ms; 0 leaves it out): the knob the
        // README's latency figures turn.
        let defer_ms: u64 = match std::env::var("HELLO_DEFER_MS") {
            Ok(value) => value.trim().parse()?,
            Err(_) => 200,
        };
        Ok(move |event: Hello, ctx: &mut Context| {
            let start = if ctx.is_cold_start() {
                "cold start"
            } else {
                "warm start"
            };
            log::info!("{start}: greeting {}", event.name);
            let greeting = Greeting {
                message: format!("Hello, {}!", event.name),
            };
            if defer_ms == 0 {
                return Ok(Reply::new(greeting));
            }
            let name = event.name;
            Ok(Reply::new(greeting).after(move |d| {
                log::info!("deferred: saving the visit of {name} (takes {defer_ms} ms)");
                std::thread::sleep(Duration::from_millis(defer_ms).min(d.remaining()));
                let answered = d.answered_after().unwrap_or_default();
                log::info!(
                    "deferred: done {:.1} ms after the event; the caller had its answer after {:.1} ms",
                    d.elapsed().as_secs_f64() * 1e3,
                    answered.as_secs_f64() * 1e3
                );
            }))
        })
    })
}
