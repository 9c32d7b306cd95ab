//! The batch processor's choices: what happens when every record failed ([`AllFailed`]), and
//! whether a failure stops the records after it ([`Order`]).

/// What the invocation answers when every record of a non-empty batch failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AllFailed {
    /// Fail the invocation (`Function.BatchProcessingError`, every record's error in the
    /// stack trace), as Powertools does: the event source mapping's retry, bisect and
    /// dead-letter settings then apply to the batch as a whole. The default.
    #[default]
    FailInvocation,
    /// Answer normally, with every record in `batchItemFailures`.
    Report,
}

/// Whether a failed record stops the records after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Order {
    /// Every record is processed, whatever happened to the others. The default, for standard
    /// queues and for streams.
    #[default]
    Independent,
    /// The first failure stops the batch: that record and every later one are reported failed
    /// (the later ones without being processed), so a FIFO queue redelivers them in order.
    StopAtFirstFailure,
    /// A failure stops the later records of the same group only — the SQS `MessageGroupId`,
    /// the Kinesis `partitionKey`, the DynamoDB item's `Keys` — and records of other groups go
    /// on. For FIFO queues whose groups are independent.
    PerGroup,
}
