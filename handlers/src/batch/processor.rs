//! [`Batch`]: a [`RecordHandler`] as a Coda [`Handler`] — the event's records decoded one by
//! one, the handler called for each with failures isolated, and the partial-failure answer.
//! The only module that sequences a batch invocation.

use std::collections::HashMap;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};

use coda_lambda::{Bytes, Context, Diagnostic, Handler, Reply};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::decode::Decode;
use super::error::BatchError;
use super::handler::RecordHandler;
use super::outcome::{BatchOutcome, Failure, FailureReason};
use super::policy::{AllFailed, Order};
use super::record::Record;
use super::source::Source;

/// A hook that sees each batch's outcome before the answer.
type OutcomeHook = Box<dyn FnMut(&BatchOutcome, &mut Context) + Send>;

/// Serves a [`RecordHandler`] as a Lambda function for batches from source `S`: calls it for
/// each record, decoded as `T`, and answers `{"batchItemFailures": [...]}` with the item
/// identifier of every record that failed.
///
/// ```
/// # #[cfg(feature = "sqs")] {
/// use coda_handlers::batch::{Batch, Record, Sqs};
/// use coda_lambda::{Context, Diagnostic};
/// use serde_json::json;
///
/// #[derive(serde::Deserialize)]
/// struct Job { id: u32, ok: bool }
///
/// let batch = Batch::sqs(|job: Job, record: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
///     record.after_success(move |_| log::info!("job {} done", job.id));
///     if job.ok { Ok(()) } else { Err(format!("job {} refused", job.id).into()) }
/// });
/// let event = json!({"Records": [
///     {"messageId": "m-1", "body": "{\"id\": 1, \"ok\": true}"},
///     {"messageId": "m-2", "body": "{\"id\": 2, \"ok\": false}"},
///     {"messageId": "m-3", "body": "not json"},
/// ]});
/// let out = coda_emulator::testing::invoke(batch, event);
/// assert_eq!(out.json(), json!({"batchItemFailures": [
///     {"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"}
/// ]}));
/// # }
/// ```
pub struct Batch<S: Source, H, T> {
    handler: H,
    order: Order,
    all_failed: AllFailed,
    on_outcome: Option<OutcomeHook>,
    marker: PhantomData<fn() -> (S, T)>,
}

#[cfg(feature = "sqs")]
impl<H, T> Batch<super::Sqs, H, T>
where
    H: RecordHandler<super::Sqs, T>,
    T: Decode<super::Sqs>,
{
    /// A batch of SQS messages, each handled by `handler` with its body decoded as `T`.
    pub fn sqs(handler: H) -> Self {
        Batch::new(handler)
    }

    /// For FIFO queues: the first failure stops the batch, and that message and every later
    /// one are reported failed, so the queue redelivers them in order; with `per_group`, only
    /// the later messages of the failed message's group are (`Order::PerGroup`).
    pub fn fifo(self, per_group: bool) -> Self {
        self.order(if per_group {
            Order::PerGroup
        } else {
            Order::StopAtFirstFailure
        })
    }
}

#[cfg(feature = "kinesis")]
impl<H, T> Batch<super::Kinesis, H, T>
where
    H: RecordHandler<super::Kinesis, T>,
    T: Decode<super::Kinesis>,
{
    /// A batch of Kinesis records, each handled by `handler` with its data decoded as `T`.
    pub fn kinesis(handler: H) -> Self {
        Batch::new(handler)
    }
}

#[cfg(feature = "dynamodb")]
impl<H, T> Batch<super::DynamoDb, H, T>
where
    H: RecordHandler<super::DynamoDb, T>,
    T: Decode<super::DynamoDb>,
{
    /// A batch of DynamoDB Streams records, each handled by `handler` with its images decoded
    /// as `T` (`NewImage<Item>`, `Change<Item>`…).
    pub fn dynamodb(handler: H) -> Self {
        Batch::new(handler)
    }
}

impl<S, H, T> Batch<S, H, T>
where
    S: Source,
    H: RecordHandler<S, T>,
    T: Decode<S>,
{
    /// A batch from source `S` (see also [`Batch::sqs`], [`Batch::kinesis`],
    /// [`Batch::dynamodb`]): records independent, an all-failed batch failing the invocation.
    pub fn new(handler: H) -> Self {
        Batch {
            handler,
            order: Order::default(),
            all_failed: AllFailed::default(),
            on_outcome: None,
            marker: PhantomData,
        }
    }

    /// Whether a failure stops the records after it (default [`Order::Independent`]).
    pub fn order(mut self, order: Order) -> Self {
        self.order = order;
        self
    }

    /// What happens when every record failed (default [`AllFailed::FailInvocation`]).
    pub fn when_all_fail(mut self, policy: AllFailed) -> Self {
        self.all_failed = policy;
        self
    }

    /// Calls `hook` with each batch's outcome after its records, before the answer: the place
    /// to register deferred work for the batch as a whole (`ctx.after(…)`, for example to
    /// report the failures to a dashboard after the answer).
    pub fn on_outcome(
        mut self,
        hook: impl FnMut(&BatchOutcome, &mut Context) + Send + 'static,
    ) -> Self {
        self.on_outcome = Some(Box::new(hook));
        self
    }

    /// The record handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }

    /// Processes the batch in `payload`: every record, in order, as the settings say. The
    /// invocation's answer is [`BatchOutcome::response`] (or [`BatchOutcome::all_failed_error`]).
    pub fn process(
        &mut self,
        payload: &[u8],
        ctx: &mut Context,
    ) -> Result<BatchOutcome, BatchError> {
        let records = records::<S>(payload)?;
        let total = records.len();
        let prepared = records
            .iter()
            .enumerate()
            .map(|(index, raw)| prepare::<S>(index, raw))
            .collect::<Result<Vec<_>, _>>()?;
        let groups: Vec<Option<String>> = match self.order {
            Order::PerGroup => records.iter().map(|raw| group::<S>(raw)).collect(),
            _ => Vec::new(),
        };
        let mut failures = Vec::new();
        let mut first_failure: Option<String> = None;
        let mut failed_groups: HashMap<Option<String>, String> = HashMap::new();
        let mut not_processed = 0;
        for (index, prepared) in prepared.into_iter().enumerate() {
            let blocker = match self.order {
                Order::Independent => None,
                Order::StopAtFirstFailure => first_failure.clone(),
                Order::PerGroup => failed_groups.get(&groups[index]).cloned(),
            };
            let (id, reason) = match (blocker, prepared) {
                (Some(after), prepared) => {
                    not_processed += 1;
                    (prepared.id, Some(FailureReason::NotProcessed { after }))
                }
                (
                    None,
                    Prepared {
                        id,
                        message: Err(e),
                    },
                ) => (id, Some(FailureReason::Undecodable(e))),
                (None, Prepared { id, message: Ok(m) }) => {
                    let reason = self.run_one(m, &id, index, total, ctx);
                    (id, reason)
                }
            };
            let Some(reason) = reason else { continue };
            log_failure(S::NAME, &id, index, total, &reason);
            if !matches!(reason, FailureReason::NotProcessed { .. }) {
                first_failure.get_or_insert_with(|| id.clone());
                if let Some(group) = groups.get(index) {
                    failed_groups
                        .entry(group.clone())
                        .or_insert_with(|| id.clone());
                }
            }
            failures.push(Failure { id, index, reason });
        }
        if not_processed > 0 {
            log::warn!(
                "{not_processed} of {total} {} records not processed: an earlier record they \
                 are ordered after failed ({:?}); reported failed, to be delivered again in order",
                S::NAME,
                self.order
            );
        }
        Ok(BatchOutcome {
            source: S::NAME,
            records: total,
            failures,
        })
    }

    /// Decodes and handles one record; `None` when it succeeded. Its deferred work is
    /// registered for its result.
    fn run_one(
        &mut self,
        message: S::Message,
        id: &str,
        index: usize,
        total: usize,
        ctx: &mut Context,
    ) -> Option<FailureReason> {
        let data = match T::decode(&message) {
            Ok(data) => data,
            Err(e) => return Some(FailureReason::Undecodable(chain(&e))),
        };
        let record = Record::<S>::new(message, id.to_owned(), index, total);
        let handler = &mut self.handler;
        let result = catch_unwind(AssertUnwindSafe(|| handler.call(data, &record, ctx)));
        let reason = match result {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(FailureReason::Error(e.into())),
            Err(payload) => Some(FailureReason::Panicked(panic_message(payload.as_ref()))),
        };
        let succeeded = reason.is_none();
        for work in record.work.into_inner() {
            if work.on_success != succeeded {
                continue;
            }
            let mut once = Some(work.work);
            let run = move |d: &coda_lambda::Deferred| match once.take() {
                Some(f) => f(d),
                None => Ok(()),
            };
            let name = if succeeded {
                format!("{} record {id} after_success", S::NAME)
            } else {
                format!("{} record {id} after_failure", S::NAME)
            };
            let builder = ctx.deferred(name);
            if succeeded {
                builder.after_success(run);
            } else {
                builder.after(run);
            }
        }
        reason
    }
}

impl<S, H, T> Handler for Batch<S, H, T>
where
    S: Source,
    H: RecordHandler<S, T>,
    T: Decode<S>,
{
    type Event = Bytes;
    type Output = Reply;
    type Error = Diagnostic;

    fn call(&mut self, event: Bytes, ctx: &mut Context) -> Result<Reply, Diagnostic> {
        let outcome = self.process(&event, ctx).map_err(|e| e.to_diagnostic())?;
        if let Some(hook) = self.on_outcome.as_mut() {
            hook(&outcome, ctx);
        }
        if outcome.all_failed() && self.all_failed == AllFailed::FailInvocation {
            return Err(outcome.all_failed_error());
        }
        if !outcome.failures.is_empty() {
            log::info!(
                "{} batch: {} of {} records failed, reported in batchItemFailures",
                S::NAME,
                outcome.failures.len(),
                outcome.records
            );
        }
        Ok(Reply::json(&outcome.response()))
    }
}

impl<S: Source, H, T> std::fmt::Debug for Batch<S, H, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("source", &S::NAME)
            .field("order", &self.order)
            .field("all_failed", &self.all_failed)
            .finish_non_exhaustive()
    }
}

/// The event's shape: the records, each kept as its JSON text until it is decoded alone.
#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(rename = "Records", borrow)]
    records: Vec<&'a RawValue>,
}

fn records<S: Source>(payload: &[u8]) -> Result<Vec<&RawValue>, BatchError> {
    match serde_json::from_slice::<Envelope<'_>>(payload) {
        Ok(envelope) => Ok(envelope.records),
        Err(_) => Err(match serde_json::from_slice::<Value>(payload) {
            Err(source) => BatchError::NotJson {
                source_name: S::NAME,
                source,
            },
            Ok(value) => BatchError::NoRecords {
                source_name: S::NAME,
                keys: value
                    .as_object()
                    .map(|o| o.keys().take(12).cloned().collect())
                    .unwrap_or_default(),
            },
        }),
    }
}

/// A record with its item identifier, decoded as the source's record type or not.
struct Prepared<M> {
    id: String,
    message: Result<M, String>,
}

/// Decodes one record and finds its item identifier; a record without one fails the batch.
fn prepare<S: Source>(index: usize, raw: &RawValue) -> Result<Prepared<S::Message>, BatchError> {
    match serde_json::from_str::<S::Message>(raw.get()) {
        Ok(message) => match S::id(&message).filter(|id| !id.is_empty()) {
            Some(id) => Ok(Prepared {
                id: id.to_owned(),
                message: Ok(message),
            }),
            None => Err(no_id::<S>(index, raw)),
        },
        Err(e) => {
            let value: Option<Value> = serde_json::from_str(raw.get()).ok();
            let id = value
                .as_ref()
                .and_then(|v| v.pointer(S::ID_POINTER))
                .and_then(Value::as_str)
                .filter(|id| !id.is_empty());
            match id {
                Some(id) => Ok(Prepared {
                    id: id.to_owned(),
                    message: Err(format!(
                        "the record is not a well-formed {} record: {e}",
                        S::NAME
                    )),
                }),
                None => Err(no_id::<S>(index, raw)),
            }
        }
    }
}

fn no_id<S: Source>(index: usize, raw: &RawValue) -> BatchError {
    let value: Option<Value> = serde_json::from_str(raw.get()).ok();
    BatchError::NoItemIdentifier {
        source_name: S::NAME,
        index,
        field: S::ID_POINTER,
        event_source: value
            .as_ref()
            .and_then(|v| v.get("eventSource").or_else(|| v.get("EventSource")))
            .and_then(Value::as_str)
            .map(str::to_owned),
    }
}

/// The record's ordering group, as text (`None`: the record has none; such records are one
/// group).
fn group<S: Source>(raw: &RawValue) -> Option<String> {
    let value: Value = serde_json::from_str(raw.get()).ok()?;
    match value.pointer(S::GROUP_POINTER)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn log_failure(source: &str, id: &str, index: usize, total: usize, reason: &FailureReason) {
    let at = format!("{source} record {id} ({} of {total})", index + 1);
    match reason {
        FailureReason::Error(d) => log::error!("{at} failed: {d}"),
        FailureReason::Panicked(m) => log::error!("{at} failed: the record handler panicked: {m}"),
        FailureReason::Undecodable(e) => log::error!(
            "{at} failed: it does not decode, so the record handler was not called: {e}"
        ),
        FailureReason::NotProcessed { after } => {
            log::debug!("{at} not processed: record {after} failed before it")
        }
    }
}

/// An error and its causes, `: `-separated.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}

/// The text of a panic payload (`&str` or `String`; anything else is described).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic with a non-string payload".to_owned()
    }
}
