//! [`Source`]: what the batch processor needs to know of one event source — its record type
//! (from `aws_lambda_events`), a record's item identifier and its ordering group — and the
//! sources themselves, [`Sqs`], [`Kinesis`] and [`DynamoDb`], each behind its feature.

use serde::de::DeserializeOwned;

mod sealed {
    pub trait Sealed {}
}

/// An event source whose batches can report partial failures. Implemented by [`Sqs`],
/// [`Kinesis`] and [`DynamoDb`] only.
pub trait Source: sealed::Sealed + 'static {
    /// One record as `aws_lambda_events` decodes it.
    type Message: DeserializeOwned + std::fmt::Debug + 'static;
    /// The source's name in log lines and errors: `SQS`, `Kinesis`, `DynamoDB Streams`.
    const NAME: &'static str;
    /// The `eventSource` its records carry (`aws:sqs`, `aws:kinesis`, `aws:dynamodb`).
    const EVENT_SOURCE: &'static str;
    /// Where a record's item identifier is, as a JSON pointer into the record (read this way
    /// when the record does not decode as a [`Source::Message`]).
    const ID_POINTER: &'static str;
    /// Where a record's ordering group is, as a JSON pointer into the record (for
    /// [`super::Order::PerGroup`]).
    const GROUP_POINTER: &'static str;

    /// The record's item identifier: what Lambda expects in `batchItemFailures`. `None` (or
    /// empty) when the record has none.
    fn id(message: &Self::Message) -> Option<&str>;
}

/// Amazon SQS: records are messages, the item identifier is the `messageId`, the ordering
/// group (FIFO queues) is the `MessageGroupId` attribute.
#[cfg(feature = "sqs")]
#[derive(Debug, Clone, Copy)]
pub struct Sqs;

#[cfg(feature = "sqs")]
impl sealed::Sealed for Sqs {}

#[cfg(feature = "sqs")]
impl Source for Sqs {
    type Message = aws_lambda_events::sqs::SqsMessage;
    const NAME: &'static str = "SQS";
    const EVENT_SOURCE: &'static str = "aws:sqs";
    const ID_POINTER: &'static str = "/messageId";
    const GROUP_POINTER: &'static str = "/attributes/MessageGroupId";

    fn id(message: &Self::Message) -> Option<&str> {
        message.message_id.as_deref()
    }
}

/// Amazon Kinesis Data Streams: the item identifier is the record's `sequenceNumber`, the
/// ordering group its `partitionKey`.
#[cfg(feature = "kinesis")]
#[derive(Debug, Clone, Copy)]
pub struct Kinesis;

#[cfg(feature = "kinesis")]
impl sealed::Sealed for Kinesis {}

#[cfg(feature = "kinesis")]
impl Source for Kinesis {
    type Message = aws_lambda_events::kinesis::KinesisEventRecord;
    const NAME: &'static str = "Kinesis";
    const EVENT_SOURCE: &'static str = "aws:kinesis";
    const ID_POINTER: &'static str = "/kinesis/sequenceNumber";
    const GROUP_POINTER: &'static str = "/kinesis/partitionKey";

    fn id(message: &Self::Message) -> Option<&str> {
        Some(message.kinesis.sequence_number.as_str())
    }
}

/// Amazon DynamoDB Streams: the item identifier is the change's `SequenceNumber`, the ordering
/// group the item's `Keys`.
#[cfg(feature = "dynamodb")]
#[derive(Debug, Clone, Copy)]
pub struct DynamoDb;

#[cfg(feature = "dynamodb")]
impl sealed::Sealed for DynamoDb {}

#[cfg(feature = "dynamodb")]
impl Source for DynamoDb {
    type Message = aws_lambda_events::dynamodb::EventRecord;
    const NAME: &'static str = "DynamoDB Streams";
    const EVENT_SOURCE: &'static str = "aws:dynamodb";
    const ID_POINTER: &'static str = "/dynamodb/SequenceNumber";
    const GROUP_POINTER: &'static str = "/dynamodb/Keys";

    fn id(message: &Self::Message) -> Option<&str> {
        message.change.sequence_number.as_deref()
    }
}
