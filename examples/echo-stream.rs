//! echo-stream: the echo answered as a streamed response (`Reply::stream`), the serialized
//! event written in one write: one chunk on a chunked `POST /response` of its own.
//!
//! The benchmarks compare its rate with the buffered `echo` (see BENCHMARKS.md). Run it
//! against the measurement kit's fake Runtime API, which de-chunks the body and checks it
//! byte for byte (`bash bench/run.sh` builds the kit into /tmp/coda-bench/kit):
//!
//!     cargo build -q --release -p coda-examples --bin echo-stream && /tmp/coda-bench/kit/release/fake-runtime-api -n 1000 -- target/release/echo-stream

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
