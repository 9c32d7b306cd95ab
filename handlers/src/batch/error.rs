//! [`BatchError`]: why an event could not be processed as a batch at all. (A record that
//! fails is not an error of the batch: it is reported in `batchItemFailures`.)

use std::error::Error as StdError;
use std::fmt;

/// Why an event could not be processed as a batch of records. Each fails the invocation
/// (`Runtime.UnmarshalError`) before any record handler is called, so the batch is retried
/// whole and no record is processed twice.
#[derive(Debug)]
#[non_exhaustive]
pub enum BatchError {
    /// The payload is not JSON.
    NotJson {
        /// The source the function expects: `SQS`, `Kinesis`, `DynamoDB Streams`.
        source_name: &'static str,
        /// The JSON parser's error.
        source: serde_json::Error,
    },
    /// The payload is JSON but has no `Records` array.
    NoRecords {
        /// The source the function expects.
        source_name: &'static str,
        /// The event's top-level keys (the first twelve; empty when it is not an object).
        keys: Vec<String>,
    },
    /// A record has no item identifier, so it could not be reported failed on its own.
    NoItemIdentifier {
        /// The source the function expects.
        source_name: &'static str,
        /// The record's place in the batch, from 0.
        index: usize,
        /// Where the identifier should be (a JSON pointer such as `/messageId`).
        field: &'static str,
        /// The record's `eventSource`, when it has one.
        event_source: Option<String>,
    },
}

impl fmt::Display for BatchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchError::NotJson { source_name, .. } => write!(
                f,
                "the event is not JSON: this function expects the event of {source_name}, \
                 `{{\"Records\": [...]}}`"
            ),
            BatchError::NoRecords { source_name, keys } => {
                write!(
                    f,
                    "the event has no `Records` array, so it is no batch of {source_name}"
                )?;
                if !keys.is_empty() {
                    f.write_str(" (its keys are ")?;
                    for (i, key) in keys.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "`{key}`")?;
                    }
                    f.write_str(")")?;
                }
                f.write_str(": invoke the function through its event source mapping")
            }
            BatchError::NoItemIdentifier {
                source_name,
                index,
                field,
                event_source,
            } => {
                write!(
                    f,
                    "record {index} of the {source_name} batch has no item identifier at \
                     `{field}`: it could not be reported failed on its own, so the whole batch \
                     fails before any record is processed"
                )?;
                match event_source {
                    Some(es) => write!(f, "; its eventSource is {es:?}"),
                    None => f.write_str("; it has no eventSource"),
                }?;
                write!(f, ": check that the function is fed by {source_name}")
            }
        }
    }
}

impl StdError for BatchError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            BatchError::NotJson { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl BatchError {
    /// The `/error` report: `Runtime.UnmarshalError` (the event did not fit), the message, and
    /// the cause chain as the stack trace.
    pub fn to_diagnostic(&self) -> coda_lambda::Diagnostic {
        let mut chain = Vec::new();
        let mut cause = StdError::source(self);
        while let Some(e) = cause {
            chain.push(format!("caused by: {e}"));
            cause = e.source();
        }
        coda_lambda::Diagnostic::new("Runtime.UnmarshalError", self.to_string())
            .with_stack_trace(chain)
    }
}
