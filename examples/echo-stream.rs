//! echo-stream: the echo answered as a streamed response (`Reply::stream`), the serialized
//! event written in one write: one chunk on a chunked `POST /response` of its own.
//!
//! The benchmarks compare its rate with the buffered `echo` (see BENCHMARKS.md). Run it
//! under the benchmark's driver (`bench/driver`, on coda-emulator, which de-chunks the body);
//! the driver checks it byte for byte:
//!
//! ```sh
//! cargo build -q --release -p coda-examples --bin echo-stream && cargo run -q --release -p coda-bench-driver -- -n 1000 -- target/release/echo-stream
//! ```

use std::io::Write;

use coda_lambda::{Context, Diagnostic, Reply};

fn main() {
    coda_lambda::start(|| {
        Ok(|event: serde_json::Value, _ctx: &mut Context| {
            let body = serde_json::to_vec(&event)?;
            let reply = Reply::stream(move |out| out.write_all(&body));
            Ok::<_, Diagnostic>(reply.content_type("application/json"))
        })
    })
}
