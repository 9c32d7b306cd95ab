//! sqs-batch: an SQS consumer with partial failures. Each message body is a job
//! `{"id": …, "do": "ok" | "fail" | "panic"}`: `ok` succeeds, `fail` returns an error, `panic`
//! panics; a body that is no such job fails to decode. The answer lists every failed message
//! in `batchItemFailures`; the others are done. With `SQS_FIFO=1` the first failure stops the
//! batch and every later message is reported failed too (a FIFO queue's order is kept); with
//! `SQS_FIFO=group`, only the later messages of the failed one's `MessageGroupId`.
//!
//!     cargo build -p coda-bootstrap -p coda-examples
//!     target/debug/coda run --invoke @handlers/tests/data/example-sqs-event.json -- target/debug/sqs-batch
//!
//! After the answer, each successful job writes a `done` line and the batch one line for the
//! failures it acknowledges (a dashboard would be called there).

use coda_handlers::batch::{Batch, Order, Record, RecordHandler, Sqs};
use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;

/// One job, the body of one message.
#[derive(Deserialize)]
pub(crate) struct Job {
    id: serde_json::Value,
    #[serde(rename = "do")]
    action: Action,
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Action {
    Ok,
    Fail,
    Panic,
}

fn main() {
    let order = order(std::env::var("SQS_FIFO").ok().as_deref());
    coda_lambda::start(move || Ok(app(order)))
}

/// The ordering `SQS_FIFO` asks for: `1` (or `true`) the short-circuit, `group` per message
/// group, anything else none.
pub(crate) fn order(fifo: Option<&str>) -> Order {
    match fifo.map(str::trim) {
        Some("1") | Some("true") => Order::StopAtFirstFailure,
        Some("group") => Order::PerGroup,
        _ => Order::Independent,
    }
}

/// The function. (`pub(crate)`: coda-handlers' tests compile this file as a module and drive
/// this handler.)
pub(crate) fn app(order: Order) -> Batch<Sqs, impl RecordHandler<Sqs, Job>, Job> {
    Batch::sqs(
        |job: Job, record: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
            match job.action {
                Action::Ok => {
                    let (id, message) = (job.id, record.id().to_owned());
                    record.after_success(move |_| log::info!("job {id} done (message {message})"));
                    Ok(())
                }
                Action::Fail => Err(Diagnostic::new(
                    "Function.JobFailed",
                    format!("job {} asked to fail", job.id),
                )),
                Action::Panic => panic!("job {} asked to panic", job.id),
            }
        },
    )
    .order(order)
    .on_outcome(|outcome, ctx| {
        let failed: Vec<String> = outcome.failures().iter().map(|f| f.id.clone()).collect();
        let records = outcome.records();
        ctx.after(move |d| {
            log::info!(
                "acknowledged {} of {records} failed in {}: {failed:?}",
                failed.len(),
                d.request_id()
            )
        });
    })
}
