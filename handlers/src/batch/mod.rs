//! Queue and stream consumers with partial failures: SQS, Kinesis and DynamoDB Streams
//! batches, one record at a time.
//!
//! A [`Batch`] calls a record handler for each record of the event, decoded into the
//! handler's type, and answers `{"batchItemFailures": [{"itemIdentifier": …}]}` with the
//! SQS `messageId` or the stream sequence number of every record that failed. An `Err` or a
//! panic fails that record only; the others go on.
//!
//! ```no_run
//! # #[cfg(feature = "sqs")] {
//! use coda_handlers::batch::{Batch, Record, Sqs};
//! use coda_lambda::{Context, Diagnostic};
//!
//! #[derive(serde::Deserialize)]
//! struct Order { id: String, cents: u64 }
//!
//! coda_lambda::start(|| {
//!     Ok(Batch::sqs(|order: Order, record: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
//!         if order.cents == 0 {
//!             return Err(format!("order {} is empty", order.id).into());
//!         }
//!         // Runs after the answer, only if this record succeeded.
//!         record.after_success(move |_| log::info!("order {} booked", order.id));
//!         Ok(())
//!     }))
//! })
//! # }
//! ```
//!
//! # `ReportBatchItemFailures`
//!
//! Lambda reads `batchItemFailures` only when the event source mapping lists
//! `ReportBatchItemFailures` in its `FunctionResponseTypes`
//! (`aws lambda update-event-source-mapping --uuid … --function-response-types ReportBatchItemFailures`).
//! Without it, Lambda ignores the answer: a successful invocation deletes (SQS) or
//! checkpoints past (streams) the **whole** batch, failed records included, and only a failed
//! invocation retries it — every record again. With it, an SQS queue makes only the reported
//! messages visible again (each counts toward the queue's `maxReceiveCount` and dead-letter
//! queue), and a stream restarts from the lowest reported sequence number (records after it
//! are delivered again: make stream handlers idempotent).
//!
//! # Failures
//!
//! | what happens | the record | logged |
//! | --- | --- | --- |
//! | the handler returns `Err` | failed ([`FailureReason::Error`]) | an error line with its id and the error |
//! | the handler panics | failed ([`FailureReason::Panicked`]); the others go on | an error line with its id and the panic message |
//! | it does not decode into the handler's type ([`Decode`]) | failed ([`FailureReason::Undecodable`]); the handler is not called | an error line with its id and why |
//! | it is not a record of the source (a field of the wrong type) | failed, as undecodable | the same |
//! | an earlier record it is ordered after failed ([`Order`]) | failed ([`FailureReason::NotProcessed`]) | one warning for the batch |
//! | it has no item identifier at all | the **invocation** fails before any record is processed ([`BatchError::NoItemIdentifier`]): it could not be reported on its own, and leaving it out would delete it | the error |
//!
//! When every record of a non-empty batch failed, the invocation fails as a whole by default
//! (`Function.BatchProcessingError`, each record's error in the stack trace), as Powertools'
//! batch processor does, so the mapping's retry and dead-letter settings apply; choose
//! [`AllFailed::Report`] to answer normally with every record listed instead. An event that
//! is not a batch at all (no `Records` array) fails with `Runtime.UnmarshalError`.
//!
//! # Order: FIFO queues and streams
//!
//! [`Order::StopAtFirstFailure`] (for an SQS FIFO queue: [`Batch::fifo`]`(false)`) stops at
//! the first failure and reports that record and every later one, unprocessed, so the queue
//! delivers them again in order. [`Order::PerGroup`] (`fifo(true)`) stops only the later
//! records of the failed record's group — the `MessageGroupId`, a Kinesis `partitionKey`, a
//! DynamoDB item's `Keys` — and lets other groups go on.
//!
//! # Decoding
//!
//! The record handler's first argument says how a record is decoded ([`Decode`]):
//!
//! | type | SQS | Kinesis | DynamoDB Streams |
//! | --- | --- | --- | --- |
//! | any `T: Deserialize` | the body as JSON | the data (base64-decoded) as JSON | — |
//! | [`Text`] | the body | the data as UTF-8 | — |
//! | [`Binary`] | — | the data | — |
//! | `NewImage<T>`, `OldImage<T>`, `Keys<T>` | — | — | that image, attribute values decoded into `T` |
//! | `Change<T>` | — | — | both images, each optional |
//! | [`Ignore`] | nothing | nothing | nothing |
//!
//! The second argument, a [`Record`], is the record as `aws_lambda_events` has it (its
//! `Deref` target: `record.attributes`, `record.kinesis.partition_key`, `record.change.keys`)
//! with its item identifier.
//!
//! # Deferred work
//!
//! As in any Coda handler, `ctx.after(…)` registers work that runs after the answer. A
//! record adds two scoped to its own result: [`Record::after_success`] runs only if the
//! record succeeded (the source will not send it again), [`Record::after_failure`] only if it
//! failed. For the batch as a whole, [`Batch::on_outcome`] sees every record's result before
//! the answer and can register deferred work for it (say, report the failures to a
//! dashboard after the answer).

mod decode;
mod error;
mod handler;
mod outcome;
mod policy;
mod processor;
mod record;
mod source;

pub use decode::{Binary, Decode, DecodeError, Ignore, Text};
#[cfg(feature = "dynamodb")]
pub use decode::{Change, Keys, NewImage, OldImage};
pub use error::BatchError;
pub use handler::RecordHandler;
pub use outcome::{BatchOutcome, BatchResponse, Failure, FailureReason, ItemFailure};
pub use policy::{AllFailed, Order};
pub use processor::Batch;
pub use record::Record;
#[cfg(feature = "dynamodb")]
pub use source::DynamoDb;
#[cfg(feature = "kinesis")]
pub use source::Kinesis;
pub use source::Source;
#[cfg(feature = "sqs")]
pub use source::Sqs;
