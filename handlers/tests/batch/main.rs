//! The batch processor's tests: real SQS, Kinesis and DynamoDB Streams events through Coda's
//! real loop against the real emulator (`coda_emulator::testing`). One test binary.

/// The `sqs-batch` example, compiled in as a module so the tests drive its handler.
#[allow(dead_code)]
#[path = "../../../examples/sqs-batch.rs"]
mod sqs_batch_example;

/// Per-record and per-batch deferred work: what runs after the answer, for which records.
mod deferred;
/// `sqs-batch`: jobs that succeed, fail, panic or do not decode; `SQS_FIFO`.
mod example;
/// FIFO order: the short-circuit and per-group mode.
mod fifo;
/// Every fixture, field by field, and the response fixture.
mod fixtures;
/// SQS batches with mixed outcomes, the all-failed policy, events that are no batch.
mod sqs;
/// Kinesis and DynamoDB Streams records: decoding, failures, item identifiers.
mod streams;
/// Helpers: fixtures, events, recording handlers.
mod support;
