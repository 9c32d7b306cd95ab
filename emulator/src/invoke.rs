//! The caller's side of one invocation: [`Invoke`] describes it, [`PendingInvocation`]
//! waits for its answer and its end, [`Answer`] is what the runtime posted.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::state::{Shared, Slot};
use coda_lambda::Diagnostic;

/// One event to hand to the runtime, with every `/next` header settable.
///
/// Unset headers get Lambda's defaults: a fresh request id, a deadline of now + the
/// function timeout, the function's ARN, a fresh trace id, `application/json`.
///
/// ```
/// use coda_emulator::Invoke;
/// let invoke = Invoke::json(&serde_json::json!({"name": "World"}))
///     .request_id("req-1")
///     .tenant_id("tenant-a")
///     .without_header("lambda-runtime-trace-id");
/// # let _ = invoke;
/// ```
#[derive(Clone, Debug, Default)]
pub struct Invoke {
    pub(crate) payload: Vec<u8>,
    pub(crate) request_id: Option<String>,
    pub(crate) deadline: Option<DeadlineSpec>,
    pub(crate) headers: Vec<(String, Option<String>)>,
    pub(crate) answer_status: Option<u16>,
    pub(crate) drop_answer: bool,
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum DeadlineSpec {
    In(Duration),
    AtMs(u64),
}

impl Invoke {
    /// An invocation with `payload` as the event, byte for byte.
    pub fn new(payload: impl Into<Vec<u8>>) -> Invoke {
        Invoke {
            payload: payload.into(),
            ..Invoke::default()
        }
    }

    /// An invocation with `value` serialized as the event.
    pub fn json(value: &serde_json::Value) -> Invoke {
        Invoke::new(serde_json::to_vec(value).unwrap_or_default())
    }

    /// Sets the request id (ids may repeat across invocations, as on Lambda).
    pub fn request_id(mut self, id: impl Into<String>) -> Invoke {
        self.request_id = Some(id.into());
        self
    }

    /// Sets the deadline to `after` from when the invocation is queued.
    pub fn deadline_in(mut self, after: Duration) -> Invoke {
        self.deadline = Some(DeadlineSpec::In(after));
        self
    }

    /// Sets the deadline to an absolute Unix epoch millisecond value.
    pub fn deadline_ms(mut self, epoch_ms: u64) -> Invoke {
        self.deadline = Some(DeadlineSpec::AtMs(epoch_ms));
        self
    }

    /// Sets the `Lambda-Runtime-Invocation-Id` header, which the runtime must echo.
    pub fn invocation_id(self, id: impl Into<String>) -> Invoke {
        self.header(coda_lambda::protocol::INVOCATION_ID, id)
    }

    /// Sets the `Lambda-Runtime-Trace-Id` header.
    pub fn trace_id(self, id: impl Into<String>) -> Invoke {
        self.header(coda_lambda::protocol::TRACE_ID, id)
    }

    /// Sets the `Lambda-Runtime-Client-Context` header (JSON text, sent as given).
    pub fn client_context(self, json: impl Into<String>) -> Invoke {
        self.header(coda_lambda::protocol::CLIENT_CONTEXT, json)
    }

    /// Sets the `Lambda-Runtime-Cognito-Identity` header (JSON text, sent as given).
    pub fn cognito_identity(self, json: impl Into<String>) -> Invoke {
        self.header(coda_lambda::protocol::COGNITO_IDENTITY, json)
    }

    /// Sets the `Lambda-Runtime-Aws-Tenant-Id` header.
    pub fn tenant_id(self, id: impl Into<String>) -> Invoke {
        self.header(coda_lambda::protocol::TENANT_ID, id)
    }

    /// Sets the event's `Content-Type`.
    pub fn content_type(self, value: impl Into<String>) -> Invoke {
        self.header("content-type", value)
    }

    /// Sets any `/next` header to `value` exactly (even an empty or invalid one), replacing
    /// the default.
    pub fn header(mut self, name: &str, value: impl Into<String>) -> Invoke {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, Some(value.into())));
        self
    }

    /// Leaves a `/next` header out, including the ones Lambda always sends.
    pub fn without_header(mut self, name: &str) -> Invoke {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|(n, _)| *n != name);
        self.headers.push((name, None));
        self
    }

    /// Fault injection: answer the runtime's `/response` or `/error` for this invocation with
    /// `status` (and RAPID's body for it) instead of 202.
    pub fn answer_status(mut self, status: u16) -> Invoke {
        self.answer_status = Some(status);
        self
    }

    /// Fault injection: close the connection instead of answering the runtime's `/response`
    /// or `/error` for this invocation (a transport failure on the runtime's side).
    pub fn drop_answer(mut self) -> Invoke {
        self.drop_answer = true;
        self
    }
}

/// What the runtime posted for an invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// The payload the caller receives: the response body, or the error JSON.
    pub payload: Vec<u8>,
    /// The `Content-Type` the runtime sent.
    pub content_type: Option<String>,
    /// For a failed invocation, the error type as Lambda records it: the
    /// `Lambda-Runtime-Function-Error-Type` header when it is in `Runtime.X` / `Function.X`
    /// form, else `Runtime.Unknown` (or `Function.Unknown`) (§4.1); for a refused response,
    /// Lambda's type for the refusal.
    pub function_error: Option<String>,
    /// The error-type header exactly as the runtime sent it (header or stream trailer).
    pub error_type_header: Option<String>,
    /// The X-Ray error cause the runtime attached to an error (§4.3): the
    /// `Lambda-Runtime-Function-XRay-Error-Cause` header, or the `errorCause` of an
    /// error-cause body, which is removed from the payload as RAPID does.
    pub error_cause: Option<String>,
    /// Whether the response was streamed (`Lambda-Runtime-Function-Response-Mode: streaming`).
    pub streamed: bool,
    /// The status the emulator answered the runtime with (202 unless refused or injected).
    pub status: u16,
    /// The request headers the runtime sent with its answer (names lowercase).
    pub headers: Vec<(String, String)>,
    /// Trailers of a streamed answer (names lowercase).
    pub trailers: Vec<(String, String)>,
    /// Time from queueing the invocation to the end of the answer's body.
    pub latency: Duration,
}

impl Answer {
    /// The payload as JSON, when it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.payload).ok()
    }

    /// The error body as a [`Diagnostic`], for failed invocations.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        self.function_error.as_ref()?;
        Diagnostic::from_json(&self.payload)
    }

    /// A request header the runtime sent with its answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the invocation failed (an error was posted or the answer was refused).
    pub fn is_error(&self) -> bool {
        self.function_error.is_some()
    }
}

/// How an invocation ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ending {
    /// The runtime (and every extension subscribed to INVOKE) asked for its next event; in
    /// Managed Instances mode, the answer arrived.
    #[default]
    Completed,
    /// The deadline passed first; the caller got Lambda's timeout error if it had no answer.
    TimedOut,
    /// The function process exited first (`Runtime.ExitError`).
    ProcessExited,
    /// No idle execution environment took it (Managed Instances mode): turned away at once.
    Rejected,
}

/// The end of an invocation.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Finished {
    /// The answer: posted by the runtime, or made by the emulator for a timeout or exit.
    pub answer: Option<Answer>,
    /// Time from queueing to the end of the answer.
    pub answered_after: Option<Duration>,
    /// Time from queueing to the end (the runtime's next `/next`, the deadline, the exit).
    pub finished_after: Duration,
    /// How it ended.
    pub ending: Ending,
    /// Its log lines: START, the function's output while it ran, END, REPORT.
    pub logs: Vec<String>,
}

/// Bytes of an answer as they arrive ([`PendingInvocation::read_stream`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StreamRead {
    /// New bytes after the offset asked for (may be empty when `done` is set).
    pub bytes: Vec<u8>,
    /// The content type the runtime declared.
    pub content_type: Option<String>,
    /// The complete answer, once it has all arrived.
    pub done: Option<Answer>,
}

/// Why waiting on a [`PendingInvocation`] ended without what was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// The wait's time limit passed.
    TimedOut,
    /// The emulator was shut down.
    Shutdown,
}

impl std::fmt::Display for WaitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WaitError::TimedOut => f.write_str("timed out waiting for the runtime"),
            WaitError::Shutdown => f.write_str("the emulator was shut down"),
        }
    }
}

impl std::error::Error for WaitError {}

/// A queued invocation; wait for its answer (at `/response` time) and its end (`/next`).
#[derive(Clone, Debug)]
pub struct PendingInvocation {
    pub(crate) shared: Arc<Shared>,
    pub(crate) slot: Arc<Slot>,
}

impl PendingInvocation {
    /// The request id the runtime sees.
    pub fn request_id(&self) -> &str {
        &self.slot.request_id
    }

    /// When the invocation was queued.
    pub fn queued_at(&self) -> Instant {
        self.slot.queued_at
    }

    /// Waits up to `limit` for the runtime's answer; returns as soon as the answer's body has
    /// arrived, whatever the runtime does next.
    pub fn answer(&self, limit: Duration) -> Result<Answer, WaitError> {
        self.shared
            .wait(limit, |state| state.slot(&self.slot).answer.clone())
    }

    /// Waits up to `limit` for the invocation to end: the runtime asked for the next event
    /// (and every INVOKE extension did), or it timed out, or the process exited.
    pub fn finished(&self, limit: Duration) -> Result<Finished, WaitError> {
        self.shared.wait(limit, |state| {
            let progress = state.slot(&self.slot);
            progress.finished_at.map(|at| Finished {
                answer: progress.answer.clone(),
                answered_after: progress.answer.as_ref().map(|a| a.latency),
                finished_after: at.saturating_duration_since(self.slot.queued_at),
                ending: progress.ending,
                logs: progress.logs.clone(),
            })
        })
    }

    /// Waits up to `limit` for bytes of the answer past `offset`, or for its end: a streamed
    /// answer arrives piece by piece, a buffered one all at once.
    pub fn read_stream(&self, offset: usize, limit: Duration) -> Result<StreamRead, WaitError> {
        self.shared.wait(limit, |state| {
            let progress = state.slot(&self.slot);
            if let Some(answer) = &progress.answer {
                return Some(StreamRead {
                    bytes: answer.payload.get(offset..).unwrap_or_default().to_vec(),
                    content_type: answer.content_type.clone(),
                    done: Some(answer.clone()),
                });
            }
            let stream = progress.stream.as_ref()?;
            (stream.bytes.len() > offset).then(|| StreamRead {
                bytes: stream.bytes[offset..].to_vec(),
                content_type: stream.content_type.clone(),
                done: None,
            })
        })
    }

    /// The log lines of the invocation so far (function output, START/END/REPORT).
    pub fn logs(&self) -> Vec<String> {
        self.shared
            .read(|state| state.slot(&self.slot).logs.clone())
    }

    /// Waits up to `limit` for the invocation to end and for the function's output to go
    /// quiet, then returns its log lines: output written just before the process asked for
    /// its next event can reach the emulator's pipe reader just after.
    pub fn settled_logs(&self, limit: Duration) -> Result<Vec<String>, WaitError> {
        const QUIET: Duration = Duration::from_millis(25);
        let end = Instant::now() + limit;
        self.finished(limit)?;
        let mut state = self.shared.lock();
        loop {
            let now = Instant::now();
            let finished_at = state.slot(&self.slot).finished_at.unwrap_or(now);
            let last = state
                .last_output_at
                .map_or(finished_at, |at| at.max(finished_at));
            let quiet_since = now.saturating_duration_since(last);
            if quiet_since >= QUIET || now >= end {
                return Ok(state.slot(&self.slot).logs.clone());
            }
            state = self.shared.wait_guard_timeout(state, QUIET - quiet_since);
        }
    }
}
