//! [`Invoke`]: one event to hand to the runtime, with every `/next` header settable and the
//! emulator's fault injection for its answer.

use std::time::Duration;

/// One event to hand to the runtime, with every `/next` header settable.
///
/// Unset headers get Lambda's defaults: a fresh request id, a deadline of now + the
/// function timeout, the function's ARN, a fresh trace id, `application/json`.
///
/// Any header value goes, odd ones included (empty, invalid JSON, a deadline that is not a
/// number, non-ASCII), except what cannot be written in an HTTP head at all: an invocation
/// with a header name that is not an HTTP token, a control byte (CR, LF, NUL, …) in a value,
/// or a `/next` head over the 16 KiB a runtime's head buffer takes (unless
/// [`Invoke::allow_large_head`]) is not handed to the runtime. It ends at once ([`crate::Ending::Rejected`]) with an answer of status 400 and
/// `{"errorType":"InvalidRequestContentException","errorMessage":…}` saying why.
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
    /// The event, byte for byte.
    pub(crate) payload: Vec<u8>,
    /// The request id asked for (else a fresh one).
    pub(crate) request_id: Option<String>,
    /// The deadline asked for (else the function timeout).
    pub(crate) deadline: Option<DeadlineSpec>,
    /// `/next` headers set (`Some`) or left out (`None`), names lowercase.
    pub(crate) headers: Vec<(String, Option<String>)>,
    /// A status to answer the runtime's post with instead of 202.
    pub(crate) answer_status: Option<u16>,
    /// Close the connection instead of answering the runtime's post.
    pub(crate) drop_answer: bool,
    /// The qualifier the function was invoked with, resolved: `(qualifier, version)`.
    pub(crate) qualified: Option<(String, String)>,
    /// An `Event` (asynchronous) invocation of the Invoke API, counted in the bounded queue.
    pub(crate) asynchronous: bool,
    /// Hand it out even when its `/next` head is over the runtime's head buffer.
    pub(crate) large_head: bool,
}

/// The deadline an [`Invoke`] asked for.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DeadlineSpec {
    /// This long after queueing.
    In(Duration),
    /// At this Unix epoch millisecond.
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
    /// the default. A value with a control byte, or a head grown over 16 KiB, makes the
    /// invocation end at once with a 400 answer instead of reaching the runtime (see
    /// [`Invoke`]).
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

    /// Fault injection: hand this invocation to the runtime even when its `/next` head is
    /// over the 16 KiB a runtime's head buffer takes (to see how a runtime meets one), instead
    /// of ending it with a 400. A control byte in a header value is still refused: that head
    /// could not be written at all.
    pub fn allow_large_head(mut self) -> Invoke {
        self.large_head = true;
        self
    }

    /// Fault injection: close the connection instead of answering the runtime's `/response`
    /// or `/error` for this invocation (a transport failure on the runtime's side).
    pub fn drop_answer(mut self) -> Invoke {
        self.drop_answer = true;
        self
    }
}
