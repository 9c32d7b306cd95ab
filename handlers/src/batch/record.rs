//! [`Record`]: one record of a batch as its handler sees it — the source's record type, its
//! item identifier and place in the batch — and the deferred work that depends on how this
//! record ends.

use std::cell::RefCell;
use std::fmt;
use std::ops::Deref;

use coda_lambda::{Deferred, DeferredResult};

use super::source::Source;

/// A deferred closure of one record, its result as text.
pub(crate) type Work = Box<dyn FnOnce(&Deferred) -> Result<(), String> + Send>;

/// Deferred work of one record, kept until the record's result is known.
pub(crate) struct RecordWork {
    pub(crate) on_success: bool,
    pub(crate) work: Work,
}

/// One record of a batch: the record as `aws_lambda_events` decodes it (the `Deref` target:
/// `record.message_id`, `record.kinesis.partition_key`, `record.change.keys`…), its item
/// identifier, and deferred work scoped to its result.
pub struct Record<S: Source> {
    message: S::Message,
    id: String,
    index: usize,
    of: usize,
    pub(crate) work: RefCell<Vec<RecordWork>>,
}

impl<S: Source> Record<S> {
    pub(crate) fn new(message: S::Message, id: String, index: usize, of: usize) -> Record<S> {
        Record {
            message,
            id,
            index,
            of,
            work: RefCell::new(Vec::new()),
        }
    }

    /// The item identifier reported when the record fails: the SQS `messageId`, the Kinesis
    /// or DynamoDB Streams sequence number.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The record's place in the batch, from 0.
    pub fn index(&self) -> usize {
        self.index
    }

    /// How many records the batch has.
    pub fn batch_len(&self) -> usize {
        self.of
    }

    /// The record as `aws_lambda_events` decodes it.
    pub fn message(&self) -> &S::Message {
        &self.message
    }

    /// Registers `f` to run after the invocation's answer, only if this record succeeded and
    /// the answer was delivered: the source will not send it again. For work that must follow
    /// the record's processing but never delay the batch's answer (a confirmation, an
    /// audit line, a cache fill).
    pub fn after_success<F, R>(&self, f: F)
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.push(true, f);
    }

    /// Registers `f` to run after the invocation's answer, only if this record failed (an
    /// error, a panic, or a FIFO record left unprocessed after it): the source will send it
    /// again.
    pub fn after_failure<F, R>(&self, f: F)
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.push(false, f);
    }

    fn push<F, R>(&self, on_success: bool, f: F)
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.work.borrow_mut().push(RecordWork {
            on_success,
            work: Box::new(move |d| f(d).into_result()),
        });
    }
}

impl<S: Source> Deref for Record<S> {
    type Target = S::Message;

    fn deref(&self) -> &S::Message {
        &self.message
    }
}

impl<S: Source> fmt::Debug for Record<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Record")
            .field("source", &S::NAME)
            .field("id", &self.id)
            .field("index", &self.index)
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}
