//! The Lambda Invoke API on the front port, as the AWS CLI and SDKs call it with an endpoint
//! override (and as the AWS Runtime Interface Emulator serves it, with the name `function`):
//!
//! - `POST /2015-03-31/functions/{name}/invocations` (Invoke): `RequestResponse` waits for
//!   the answer, `Event` answers 202 at once, `DryRun` 204; `X-Amz-Log-Type: Tail` adds the
//!   base64 log tail.
//! - `POST /2021-11-15/functions/{name}/response-streaming-invocations`
//!   (InvokeWithResponseStream): the answer in AWS event-stream framing
//!   ([`crate::eventstream`]), each piece sent as it arrives.
//!
//! Errors have the shape AWS SDKs parse: the `x-amzn-ErrorType` header and a JSON body with
//! `Type` and `message`.

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::time::Duration;

use crate::answer_stream::{AnswerStream, Piece, wait_limit};
use crate::caller_limits;
use crate::conn::{Conn, Flow, ReadError};
use crate::eventstream::{self, InvokeComplete};
use crate::function_ref::FunctionRef;
use crate::ids;
use crate::invoke::Invoke;
use crate::pending::PendingInvocation;
use crate::queue::enqueue;
use crate::state::Shared;
use crate::streamed_response::Streamed;
use crate::wait_error::WaitError;
use crate::wire::{self, RequestHead};
use coda_lambda::protocol::unescape_path_segment;

/// Largest payload of a synchronous invocation (Lambda's 6 MB quota).
pub(crate) const MAX_SYNC_PAYLOAD: usize = 6 * 1024 * 1024;
/// Largest payload of an `Event` invocation: Lambda's asynchronous quota, raised from 256 KB
/// to 1 MB in October 2025.
pub(crate) const MAX_EVENT_PAYLOAD: usize = 1024 * 1024;
/// How much of the log the `Tail` log type returns (Lambda: the last 4 KB).
const LOG_TAIL_BYTES: usize = 4096;

/// The path prefix of `Invoke`.
const INVOKE_PREFIX: &str = "/2015-03-31/functions/";
/// The path suffix of `Invoke`.
const INVOKE_SUFFIX: &str = "/invocations";
/// The path prefix of `InvokeWithResponseStream`.
const STREAM_PREFIX: &str = "/2021-11-15/functions/";
/// The path suffix of `InvokeWithResponseStream`.
const STREAM_SUFFIX: &str = "/response-streaming-invocations";

/// Which Invoke API operation a path is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operation {
    /// `Invoke`: the answer as the body.
    Invoke,
    /// `InvokeWithResponseStream`: the answer as an event stream.
    Stream,
}

/// An Invoke API request line: the operation, the function as named in the path, and whether
/// the method is the one the operation takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Route {
    /// Which operation.
    pub(crate) operation: Operation,
    /// The `{name}` path segment, percent-decoded.
    pub(crate) function: String,
    /// Whether the method is `POST`, the only one either operation takes.
    pub(crate) post: bool,
}

impl Route {
    /// The Invoke API route of `method` and `path`, or `None` for any other path (which the
    /// front serves as a Function URL).
    pub(crate) fn of(method: &str, path: &str) -> Option<Route> {
        let (operation, name) = if let Some(rest) = path.strip_prefix(INVOKE_PREFIX) {
            (Operation::Invoke, rest.strip_suffix(INVOKE_SUFFIX)?)
        } else if let Some(rest) = path.strip_prefix(STREAM_PREFIX) {
            (Operation::Stream, rest.strip_suffix(STREAM_SUFFIX)?)
        } else {
            return None;
        };
        if name.is_empty() || name.contains('/') {
            return None;
        }
        Some(Route {
            operation,
            function: unescape_path_segment(name),
            post: method == "POST",
        })
    }
}

/// `X-Amz-Invocation-Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InvocationType {
    /// Wait for the answer and return it.
    RequestResponse,
    /// Queue the event and answer 202 at once.
    Event,
    /// Check the request and answer 204, invoking nothing.
    DryRun,
}

/// An Invoke API error, answered in the shape AWS SDKs parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The HTTP status.
    status: u16,
    /// The `x-amzn-ErrorType` (`ResourceNotFoundException`, …).
    error_type: &'static str,
    /// The `message` of the body.
    message: String,
}

impl ApiError {
    fn new(status: u16, error_type: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            error_type,
            message: message.into(),
        }
    }

    fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "InvalidParameterValueException", message)
    }

    fn too_large(limit: usize, operation: &str) -> ApiError {
        ApiError::new(
            413,
            "RequestEntityTooLargeException",
            format!("Request must be smaller than {limit} bytes for the {operation} operation"),
        )
    }

    /// Writes the error: `x-amzn-ErrorType` and `{"Type","message"}` (`Type` is `User` for
    /// the caller's mistakes, `Service` for the emulator's).
    fn respond(&self, conn: &mut Conn, request_id: &str, flow: Flow) -> io::Result<Flow> {
        let kind = if self.status >= 500 {
            "Service"
        } else {
            "User"
        };
        let body = serde_json::json!({"Type": kind, "message": self.message});
        let mut headers = vec![
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", self.error_type),
            ("x-amzn-RequestId", request_id),
        ];
        if self.status == 405 {
            headers.push(("Allow", "POST"));
        }
        conn.respond(
            self.status,
            &headers,
            &serde_json::to_vec(&body).unwrap_or_default(),
            flow,
        )
    }
}

/// What an invoke request asks for, from its path, query and headers.
#[derive(Debug)]
struct Call {
    kind: InvocationType,
    tail: bool,
    invoke: Invoke,
}

impl Call {
    fn parse(shared: &Shared, head: &RequestHead, route: &Route) -> Result<Call, ApiError> {
        let config = &shared.settings;
        let function = FunctionRef::parse(&route.function);
        let named_arn = |qualifier: Option<&str>| {
            format!(
                "arn:aws:lambda:{}:{}:function:{}{}",
                config.region,
                config.account_id,
                function.as_ref().map_or("", |f| f.name.as_str()),
                qualifier.map(|q| format!(":{q}")).unwrap_or_default()
            )
        };
        let not_found = |named: String| {
            ApiError::new(
                404,
                "ResourceNotFoundException",
                format!("Function not found: {named}"),
            )
        };
        // Lambda names the function by its full ARN; what does not parse, as given.
        let Some(function_ref) = function.clone() else {
            return Err(not_found(route.function.clone()));
        };
        if function_ref.name != config.function_name {
            return Err(not_found(named_arn(function_ref.qualifier.as_deref())));
        }
        let query_qualifier = query_value(&head.target, "Qualifier");
        if let (Some(named), Some(query)) = (&function_ref.qualifier, &query_qualifier)
            && named != query
        {
            return Err(ApiError::invalid(
                "The derived qualifier from the function name does not match the specified qualifier.",
            ));
        }
        // A version or alias that does not exist is a 404, as on Lambda; one that does runs
        // as its version, and the runtime sees the qualified ARN.
        let qualified = match function_ref.qualifier.or(query_qualifier) {
            None => None,
            Some(qualifier) => match config.resolve_qualifier(&qualifier) {
                Some(version) => Some((qualifier.clone(), version.to_owned())),
                None => return Err(not_found(named_arn(Some(&qualifier)))),
            },
        };
        let header = |name: &str| head.header(name).filter(|v| !v.is_empty());
        let kind = match (header("x-amz-invocation-type"), route.operation) {
            (None | Some("RequestResponse"), _) => InvocationType::RequestResponse,
            (Some("Event"), Operation::Invoke) => InvocationType::Event,
            (Some("DryRun"), _) => InvocationType::DryRun,
            (Some(other), _) => {
                let valid = match route.operation {
                    Operation::Invoke => "RequestResponse, Event, DryRun",
                    Operation::Stream => "RequestResponse, DryRun",
                };
                return Err(ApiError::invalid(format!(
                    "invalid X-Amz-Invocation-Type {other:?}: use one of {valid}"
                )));
            }
        };
        let tail = match header("x-amz-log-type") {
            None | Some("None") => false,
            Some("Tail") => true,
            Some(other) => {
                return Err(ApiError::invalid(format!(
                    "invalid X-Amz-Log-Type {other:?}: use None or Tail"
                )));
            }
        };
        let mut invoke = Invoke::new(Vec::new());
        invoke.qualified = qualified;
        invoke.asynchronous = kind == InvocationType::Event;
        // What goes from the caller's headers into the `/next` head is checked against
        // Lambda's limits first (`caller_limits`): a value with a line break in it would
        // break the runtime's connection.
        if let Some(encoded) = header("x-amz-client-context") {
            invoke = invoke.client_context(client_context(encoded)?);
        }
        if let Some(tenant) = header("x-amz-tenant-id") {
            if !caller_limits::tenant_id_ok(tenant) {
                return Err(invalid_tenant(tenant));
            }
            invoke = invoke.tenant_id(tenant);
        }
        if let Some(trace) = header("x-amzn-trace-id") {
            if !caller_limits::trace_id_ok(trace) {
                return Err(invalid_trace(trace));
            }
            invoke = invoke.trace_id(trace);
        }
        // The classic service hands the runtime every Invoke API event as
        // `application/json`, whatever the caller sent; Managed Instances pass the caller's
        // type on (`docs/runtime-api.md` §8.3).
        if config.concurrency > 1
            && let Some(content_type) = header("content-type")
        {
            invoke = invoke.content_type(content_type);
        }
        Ok(Call { kind, tail, invoke })
    }

    /// The payload limit for this invocation type.
    fn limit(&self) -> (usize, &'static str) {
        match self.kind {
            InvocationType::Event => (MAX_EVENT_PAYLOAD, "InvokeAsync"),
            _ => (MAX_SYNC_PAYLOAD, "InvokeFunction"),
        }
    }
}

/// Decodes `X-Amz-Client-Context`: at most 3,583 bytes of base64 of a JSON object, passed
/// to the runtime as compact JSON text (`Lambda-Runtime-Client-Context`): one line, its keys
/// and numbers as the caller wrote them, with non-ASCII characters escaped, so that a
/// pretty-printed context (`json.dumps(indent=2)`) cannot put line breaks in the `/next`
/// head.
fn client_context(encoded: &str) -> Result<String, ApiError> {
    if encoded.len() > caller_limits::MAX_CLIENT_CONTEXT {
        // Lambda documents the limit (API_Invoke: "Up to 3,583 bytes of base64-encoded
        // data") but not its answer to a bigger one; no source for the exact type and
        // message was found, so this is the documented type for "a request header is
        // invalid" (InvalidRequestContentException, 400) with a message that says the limit.
        return Err(ApiError::new(
            400,
            "InvalidRequestContentException",
            format!(
                "X-Amz-Client-Context is {} bytes: Lambda takes up to {} bytes of base64-encoded client context",
                encoded.len(),
                caller_limits::MAX_CLIENT_CONTEXT
            ),
        ));
    }
    let invalid = || ApiError::invalid("X-Amz-Client-Context must be a base64-encoded JSON object");
    let decoded = crate::b64::decode(encoded).ok_or_else(invalid)?;
    let text = String::from_utf8(decoded).map_err(|_| invalid())?;
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(serde_json::Value::Object(_)) => Ok(compact_json(&text)),
        _ => Err(invalid()),
    }
}

/// `text`, valid JSON, on one line of ASCII: the whitespace between tokens left out, and
/// characters past ASCII (and DEL) inside strings escaped as `\uXXXX`. Keys keep their
/// order and numbers their spelling (a parse and re-serialisation would sort the keys).
fn compact_json(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_string = false;
    let mut escaped = false;
    for c in text.chars() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            if c.is_ascii() && c != '\u{7f}' {
                out.push(c);
            } else {
                let mut units = [0u16; 2];
                for unit in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        } else if !matches!(c, ' ' | '\t' | '\n' | '\r') {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// A tenant id outside Lambda's constraints, refused as AWS refuses a parameter that fails
/// its model's constraints (`ValidationException`, "1 validation error detected: …";
/// constraints from <https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>).
fn invalid_tenant(tenant: &str) -> ApiError {
    let constraint = if tenant.len() > caller_limits::MAX_TENANT_ID {
        format!(
            "Member must have length less than or equal to {}",
            caller_limits::MAX_TENANT_ID
        )
    } else {
        "Member must satisfy regular expression pattern: [a-zA-Z0-9\\._:\\/=+\\-@ ]+".to_owned()
    };
    ApiError::new(
        400,
        "ValidationException",
        format!(
            "1 validation error detected: Value at 'tenantId' failed to satisfy constraint: {constraint}"
        ),
    )
}

/// A trace header the runtime could not be handed (a control byte, non-ASCII, or longer
/// than Lambda's documented trace header): Lambda's type for "a request header is invalid".
fn invalid_trace(trace: &str) -> ApiError {
    let printable = trace.bytes().all(|b| (b' '..=b'~').contains(&b));
    ApiError::new(
        400,
        "InvalidRequestContentException",
        format!(
            "X-Amzn-Trace-Id must be at most {} bytes of printable ASCII (this one is {} bytes{})",
            caller_limits::MAX_TRACE_ID,
            trace.len(),
            if printable {
                ""
            } else {
                ", with bytes outside printable ASCII"
            }
        ),
    )
}

/// The first value of `key` in the query of `target`, percent-decoded.
fn query_value(target: &str, key: &str) -> Option<String> {
    let (_, query) = target.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (unescape_path_segment(k) == key).then(|| unescape_path_segment(v))
    })
}

/// Base64 of the last 4 KB of `logs`, one line each (`X-Amz-Log-Result`, `LogResult`).
pub(crate) fn log_tail(logs: &[String]) -> String {
    let mut text = String::new();
    for line in logs {
        text.push_str(line);
        text.push('\n');
    }
    let mut start = text.len().saturating_sub(LOG_TAIL_BYTES);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    crate::b64::encode(&text.as_bytes()[start..])
}

/// Serves an Invoke API request.
pub(crate) fn handle(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
    route: Route,
) -> io::Result<Flow> {
    let request_id = ids::request_id();
    let refuse = |conn: &mut Conn, error: ApiError| match conn.skip_body(head) {
        Ok(()) => error.respond(conn, &request_id, Flow::KeepAlive),
        Err(e) => read_failed(conn, e, &request_id),
    };
    if !route.post {
        let message = format!("{} is not allowed here: use POST", head.method);
        return refuse(
            conn,
            ApiError::new(405, "MethodNotAllowedException", message),
        );
    }
    let call = match Call::parse(shared, head, &route) {
        Ok(call) => call,
        Err(error) => return refuse(conn, error),
    };
    let (limit, operation) = call.limit();
    let mut payload = Vec::new();
    match conn.read_body(head, limit, &mut |piece| payload.extend_from_slice(piece)) {
        Ok(body) if body.over_limit => {
            return ApiError::too_large(limit, operation).respond(
                conn,
                &request_id,
                Flow::KeepAlive,
            );
        }
        Ok(_) => {}
        Err(e) => return read_failed(conn, e, &request_id),
    }
    // The Invoke API takes JSON only: anything else is refused before it is queued (raw
    // events remain possible through `Emulator::invoke`). An empty payload is the event `{}`,
    // as on Lambda.
    if payload.is_empty() {
        payload = b"{}".to_vec();
    } else if let Err(e) = serde_json::from_slice::<serde::de::IgnoredAny>(&payload) {
        let error = ApiError::new(
            400,
            "InvalidRequestContentException",
            format!(
                "Could not parse request body into json: Could not parse payload into json: {e}"
            ),
        );
        return error.respond(conn, &request_id, Flow::KeepAlive);
    }
    if call.kind == InvocationType::DryRun {
        let head = format!("HTTP/1.1 204 No Content\r\nx-amzn-RequestId: {request_id}\r\n\r\n");
        conn.write_all(head.as_bytes())?;
        return Ok(Flow::KeepAlive);
    }
    let mut invoke = call.invoke;
    invoke.payload = payload;
    let pending = enqueue(shared, invoke.request_id(request_id.clone()));
    // Turned away when queued (`queue::enqueue`): throttled, or a `/next` head that cannot
    // be sent.
    if let Ok(answer) = pending.answer(Duration::ZERO) {
        let message = answer.error_message().unwrap_or_default();
        match answer.status {
            429 => return throttled(conn, &request_id, &message),
            400 => {
                let error = ApiError::new(400, "InvalidRequestContentException", message);
                return error.respond(conn, &request_id, Flow::KeepAlive);
            }
            _ => {}
        }
    }
    match (call.kind, route.operation) {
        (InvocationType::Event, _) => conn.respond(
            202,
            &[("x-amzn-RequestId", &request_id)],
            b"",
            Flow::KeepAlive,
        ),
        (_, Operation::Invoke) => buffered(conn, &pending, call.tail),
        (_, Operation::Stream) => streamed(conn, head, pending, call.tail),
    }
}

/// Lambda's throttling answer: 429, `x-amzn-ErrorType: TooManyRequestsException`, and a body
/// with `Type`, `Reason` and `message`, the fields Lambda's `TooManyRequestsException` has
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>; `retryAfterSeconds` is
/// optional and left out).
fn throttled(conn: &mut Conn, request_id: &str, message: &str) -> io::Result<Flow> {
    let message = if message.is_empty() {
        "Rate Exceeded."
    } else {
        message
    };
    let body = serde_json::json!({
        "Type": "User",
        "Reason": "ConcurrentInvocationLimitExceeded",
        "message": message,
    });
    conn.respond(
        429,
        &[
            ("Content-Type", "application/json"),
            ("x-amzn-ErrorType", "TooManyRequestsException"),
            ("x-amzn-RequestId", request_id),
        ],
        &serde_json::to_vec(&body).unwrap_or_default(),
        Flow::KeepAlive,
    )
}

/// Answers a request whose body could not be read.
fn read_failed(conn: &mut Conn, error: ReadError, request_id: &str) -> io::Result<Flow> {
    match error {
        ReadError::Io(_) => Ok(Flow::Close),
        ReadError::Wire(e) => {
            let error_type = match e.status {
                413 => "RequestEntityTooLargeException",
                _ => "InvalidRequestContentException",
            };
            ApiError::new(e.status, error_type, e.message).respond(conn, request_id, Flow::Close)
        }
    }
}

/// Answers a wait for the runtime that ended without its answer.
fn wait_failed(conn: &mut Conn, error: WaitError, request_id: &str) -> io::Result<Flow> {
    let error = match error {
        WaitError::Shutdown => ApiError::new(503, "ServiceException", "the emulator shut down"),
        WaitError::TimedOut => ApiError::new(
            500,
            "ServiceException",
            "no answer from the emulator past the invocation's deadline",
        ),
    };
    error.respond(conn, request_id, Flow::Close)
}

/// `Invoke` with `RequestResponse`: the answer as the body, once it has arrived (and, for
/// `Tail`, once the invocation has ended, so the log tail is complete).
fn buffered(conn: &mut Conn, pending: &PendingInvocation, tail: bool) -> io::Result<Flow> {
    let request_id = pending.request_id().to_owned();
    let limit = wait_limit(pending);
    let answer = match pending.answer(limit) {
        Ok(answer) => answer,
        Err(e) => return wait_failed(conn, e, &request_id),
    };
    let log_result = if tail {
        match pending.settled_logs(limit) {
            Ok(logs) => Some(log_tail(&logs)),
            Err(e) => return wait_failed(conn, e, &request_id),
        }
    } else {
        None
    };
    let content_type = answer
        .content_type
        .as_deref()
        .filter(|v| wire::header_value_ok(v))
        .unwrap_or("application/json");
    let mut headers = vec![
        ("Content-Type", content_type),
        ("X-Amz-Executed-Version", pending.slot.version.as_str()),
        ("x-amzn-RequestId", request_id.as_str()),
    ];
    if answer.function_error.is_some() {
        headers.push(("X-Amz-Function-Error", "Unhandled"));
    }
    if let Some(log_result) = &log_result {
        headers.push(("X-Amz-Log-Result", log_result));
    }
    conn.respond(200, &headers, &answer.payload, Flow::KeepAlive)
}

/// `InvokeWithResponseStream`: a `PayloadChunk` event for each piece of the answer as it
/// arrives, then `InvokeComplete` with the error and log tail when they apply.
fn streamed(
    conn: &mut Conn,
    head: &RequestHead,
    pending: PendingInvocation,
    tail: bool,
) -> io::Result<Flow> {
    let request_id = pending.request_id().to_owned();
    let limit = wait_limit(&pending);
    let first = match pending.read_stream(0, limit) {
        Ok(read) => read,
        Err(e) => return wait_failed(conn, e, &request_id),
    };
    let out = Streamed::start(
        conn,
        head,
        200,
        &[
            ("Content-Type", "application/vnd.amazon.eventstream"),
            ("X-Amz-Executed-Version", pending.slot.version.as_str()),
            ("x-amzn-RequestId", request_id.as_str()),
        ],
    )?;
    let mut answer_stream = AnswerStream::new(pending.clone(), first);
    let answer = loop {
        match answer_stream.next_piece() {
            Piece::Bytes(bytes) => {
                for piece in bytes.chunks(eventstream::MAX_CHUNK) {
                    out.send(conn, &eventstream::payload_chunk(piece))?;
                }
            }
            Piece::End(answer) => break answer,
            // The stream cannot say more: end it abnormally.
            Piece::Failed(_) => return Ok(out.abort()),
        }
    };
    let log_result = if tail {
        match pending.settled_logs(limit) {
            Ok(logs) => Some(log_tail(&logs)),
            Err(_) => return Ok(out.abort()),
        }
    } else {
        None
    };
    let complete = InvokeComplete {
        error_code: answer.function_error.clone(),
        error_details: answer.error_message(),
        log_result,
    };
    out.send(conn, &complete.encode())?;
    out.finish(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both operations route on their paths, with the name decoded; other paths do not.
    #[test]
    fn routes() {
        let invoke = Route::of("POST", "/2015-03-31/functions/function/invocations").unwrap();
        assert_eq!(
            (invoke.operation, invoke.function.as_str(), invoke.post),
            (Operation::Invoke, "function", true)
        );
        let stream = Route::of(
            "GET",
            "/2021-11-15/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Af/response-streaming-invocations",
        )
        .unwrap();
        assert_eq!(stream.operation, Operation::Stream);
        assert_eq!(
            stream.function,
            "arn:aws:lambda:us-east-1:123456789012:function:f"
        );
        assert!(!stream.post);
        assert_eq!(
            Route::of("POST", "/2015-03-31/functions//invocations"),
            None
        );
        assert_eq!(
            Route::of("POST", "/2015-03-31/functions/a/b/invocations"),
            None
        );
        assert_eq!(Route::of("POST", "/2015-03-31/functions/f"), None);
        assert_eq!(Route::of("GET", "/hello"), None);
    }

    /// Client contexts must be base64 of a JSON object.
    #[test]
    fn client_contexts() {
        let encoded = crate::b64::encode(br#"{"custom":{"k":"v"}}"#);
        assert_eq!(client_context(&encoded).unwrap(), r#"{"custom":{"k":"v"}}"#);
        assert_eq!(client_context("not base64!").unwrap_err().status, 400);
        let not_object = crate::b64::encode(b"[1]");
        assert_eq!(client_context(&not_object).unwrap_err().status, 400);
    }

    /// A pretty-printed client context reaches the runtime on one line of ASCII, its keys in
    /// the caller's order; one over 3,583 bytes of base64 is refused with 400.
    #[test]
    fn client_contexts_compact() {
        let pretty = "{\n  \"z\": 1.50,\n  \"a\": {\"k\": \"v w\\\" \\n é 😀\"}\r\n}";
        let encoded = crate::b64::encode(pretty.as_bytes());
        let compact = client_context(&encoded).unwrap();
        assert_eq!(
            compact,
            r#"{"z":1.50,"a":{"k":"v w\" \n \u00e9 \ud83d\ude00"}}"#
        );
        let same: serde_json::Value = serde_json::from_str(&compact).unwrap();
        assert_eq!(
            same,
            serde_json::from_str::<serde_json::Value>(pretty).unwrap()
        );
        let big = crate::b64::encode(format!("{{\"k\":\"{}\"}}", "x".repeat(2700)).as_bytes());
        assert!(big.len() > caller_limits::MAX_CLIENT_CONTEXT);
        let error = client_context(&big).unwrap_err();
        assert_eq!(
            (error.status, error.error_type),
            (400, "InvalidRequestContentException")
        );
        assert!(error.message.contains("3583"), "{}", error.message);
    }

    /// The tail is the last 4 KB of the lines, cut on a character boundary.
    #[test]
    fn log_tails() {
        let short = log_tail(&["START x".into(), "END x".into()]);
        assert_eq!(
            crate::b64::decode(&short).unwrap(),
            b"START x\nEND x\n".to_vec()
        );
        let long: Vec<String> = (0..1000).map(|i| format!("é line {i}")).collect();
        let decoded = crate::b64::decode(&log_tail(&long)).unwrap();
        assert!(decoded.len() <= LOG_TAIL_BYTES && decoded.len() > LOG_TAIL_BYTES - 4);
        let text = String::from_utf8(decoded).unwrap();
        assert!(text.ends_with("é line 999\n"), "{text}");
    }

    /// Query values are found by key and decoded.
    #[test]
    fn query_values() {
        assert_eq!(
            query_value("/p?a=1&Qualifier=%24LATEST", "Qualifier").as_deref(),
            Some("$LATEST")
        );
        assert_eq!(query_value("/p?a=1", "Qualifier"), None);
        assert_eq!(query_value("/p", "Qualifier"), None);
    }
}
