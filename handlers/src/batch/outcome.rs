//! [`BatchOutcome`]: how a batch's records ended — which failed and why ([`Failure`],
//! [`FailureReason`]) — and the partial-failure answer Lambda reads from it.

use std::fmt;

use coda_lambda::Diagnostic;
use serde::Serialize;

/// Why a record failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureReason {
    /// The record handler returned an error.
    Error(Diagnostic),
    /// The record handler panicked; the panic message.
    Panicked(String),
    /// The record did not decode into the handler's type (the handler was not called): the
    /// error and its causes.
    Undecodable(String),
    /// The record was not processed: an earlier record it is ordered after failed
    /// ([`super::Order`]); that record's item identifier.
    NotProcessed {
        /// The item identifier of the failed record that stopped this one.
        after: String,
    },
}

impl fmt::Display for FailureReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureReason::Error(d) => write!(f, "{d}"),
            FailureReason::Panicked(m) => write!(f, "the record handler panicked: {m}"),
            FailureReason::Undecodable(e) => write!(f, "{e}"),
            FailureReason::NotProcessed { after } => write!(
                f,
                "not processed: record {after}, which it is ordered after, failed"
            ),
        }
    }
}

/// One failed record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Failure {
    /// Its item identifier (what `batchItemFailures` reports).
    pub id: String,
    /// Its place in the batch, from 0.
    pub index: usize,
    /// Why it failed.
    pub reason: FailureReason,
}

/// How the records of one batch ended, in the batch's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchOutcome {
    pub(crate) source: &'static str,
    pub(crate) records: usize,
    pub(crate) failures: Vec<Failure>,
}

impl BatchOutcome {
    /// The source's name: `SQS`, `Kinesis`, `DynamoDB Streams`.
    pub fn source(&self) -> &'static str {
        self.source
    }

    /// How many records the batch had.
    pub fn records(&self) -> usize {
        self.records
    }

    /// How many succeeded.
    pub fn succeeded(&self) -> usize {
        self.records - self.failures.len()
    }

    /// The records that failed, in the batch's order.
    pub fn failures(&self) -> &[Failure] {
        &self.failures
    }

    /// Whether the batch had records and every one failed.
    pub fn all_failed(&self) -> bool {
        self.records > 0 && self.failures.len() == self.records
    }

    /// The partial-failure answer: `{"batchItemFailures": [{"itemIdentifier": …}, …]}`.
    pub fn response(&self) -> BatchResponse {
        BatchResponse {
            batch_item_failures: self
                .failures
                .iter()
                .map(|f| ItemFailure {
                    item_identifier: f.id.clone(),
                })
                .collect(),
        }
    }

    /// The error the invocation fails with under [`super::AllFailed::FailInvocation`]:
    /// `Function.BatchProcessingError`, each record's error a line of the stack trace.
    pub fn all_failed_error(&self) -> Diagnostic {
        Diagnostic::new(
            "Function.BatchProcessingError",
            format!(
                "all {} records of the {} batch failed: the invocation fails so that the \
                 event source mapping retries the batch (its retry and dead-letter settings \
                 apply); each record's error is below",
                self.records, self.source
            ),
        )
        .with_stack_trace(
            self.failures
                .iter()
                .map(|f| format!("record {}: {}", f.id, f.reason)),
        )
    }
}

/// The answer Lambda reads to retry only the failed records (with `ReportBatchItemFailures`
/// on the event source mapping): the same shape for SQS, Kinesis and DynamoDB Streams.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchResponse {
    /// The failed records, in the batch's order.
    pub batch_item_failures: Vec<ItemFailure>,
}

/// One entry of `batchItemFailures`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ItemFailure {
    /// The SQS `messageId`, or the stream record's sequence number.
    pub item_identifier: String,
}
