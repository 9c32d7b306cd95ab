//! extension-flush: an internal extension that flushes a queue after every invocation, next to
//! the same job done as deferred work.
//!
//! The handler queues one audit record per invocation twice over: in a queue that the
//! internal extension `audit-flush` empties, and as a deferred closure.
//!
//! - **The extension** runs on a thread of its own. It hears of each invocation from the
//!   Extensions API, waits until the runtime has answered it, flushes the queue, and only then
//!   asks for its next event — and Lambda does not end the invocation before it does (the
//!   end-of-invocation barrier): the caller has the answer, but the invocation lasts (and is
//!   billed) until the flush returns, bounded only by the function timeout. It costs a thread
//!   and a round trip to the Extensions API per invocation, and makes Lambda send SIGTERM at
//!   shutdown, when it flushes once more.
//! - **The deferred closure** runs on the runtime's deferred-work thread after the answer,
//!   within the budget (the deadline minus a margin), isolated, counted, retried if asked, and
//!   handed off if it cannot finish; the invocation ends when deferred work does. It costs no
//!   thread of its own and no round trip.
//!
//! Both cost the caller nothing: the answer is posted before either runs. Choose the
//! extension when the work must hold the invocation open whatever the runtime does (a
//! telemetry buffer shared by several libraries); choose deferred work otherwise.
//!
//! ```sh
//! cargo build -p coda-bootstrap -p coda-examples
//! target/debug/coda run -- target/debug/extension-flush
//! target/debug/coda invoke --data '{"order": "o-1"}' --tail
//! ```

use std::sync::{Arc, Mutex};

use coda_lambda::{Context, Diagnostic, ExtensionEvent};
use serde_json::{Value, json};

fn main() {
    let queue: Arc<Mutex<Vec<String>>> = Arc::default();
    let flushed = queue.clone();
    coda_lambda::start_with(
        move |runtime| {
            runtime.extension("audit-flush", move |event| {
                let records =
                    std::mem::take(&mut *flushed.lock().unwrap_or_else(|e| e.into_inner()));
                match event {
                    ExtensionEvent::Invoke(invoke) => log::info!(
                        "extension: flushed {} record(s) after {}",
                        records.len(),
                        invoke.request_id
                    ),
                    ExtensionEvent::Shutdown(_) => {
                        log::info!("extension: flushed {} record(s) at shutdown", records.len())
                    }
                    _ => {}
                }
            })
        },
        move || {
            Ok(move |event: Value, ctx: &mut Context| {
                let record = format!("{} at {}", event["order"], ctx.request_id());
                queue
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(record.clone());
                ctx.after(move |_| log::info!("deferred: wrote {record}"));
                Ok::<_, Diagnostic>(json!({"queued": true}))
            })
        },
    )
}
