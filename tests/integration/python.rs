//! The emulator driven by a Runtime API client nobody here wrote: AWS's official Python
//! runtime interface client, `awslambdaric` (the version `scripts/test` installs), running
//! the handler `tests/python/echo.py` as `python -m awslambdaric echo.handler`, supervised by
//! the emulator like any function process.
//!
//! What awslambdaric does on the wire, as these tests pin it down: it echoes
//! `Lambda-Runtime-Invocation-Id`, posts handler exceptions to `/error` as
//! `{"errorMessage", "errorType", "requestId", "stackTrace"}` with **no**
//! `Lambda-Runtime-Function-Error-Type` header (so the emulator records `Runtime.Unknown`, as
//! RAPID does for a missing header) and a `Lambda-Runtime-Function-XRay-Error-Cause` header,
//! and posts init failures to `/init/error` with the header set (`Runtime.ImportModuleError`).
//! JSON events are decoded and encoded again by `simplejson`, so a JSON answer is byte for
//! byte the event only when the event is already in simplejson's form (`", "` and `": "`
//! separators, ASCII). And it needs a `Content-Type` on every `/next` reply: without one,
//! awslambdaric 4.2.2 crashes (SIGSEGV), so the emulator always sends one.
//!
//! The tests need `CODA_TEST_PYTHON` (a Python with awslambdaric): `bash scripts/test` sets it.
//! Without it they fail, saying so; they never skip.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use coda_emulator::{
    Answer, Emulator, EmulatorBuilder, Ending, FunctionCommand, Invoke, ReadyError, Supervisor,
};
use serde_json::{Value, json};

use crate::support::{LIMIT, now_ms};

/// The folder holding `echo.py`, put on the function's `PYTHONPATH`.
const HANDLERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python");

/// The Python interpreter that has awslambdaric, from `CODA_TEST_PYTHON`.
fn python() -> OsString {
    let Some(python) = std::env::var_os("CODA_TEST_PYTHON") else {
        panic!(
            "CODA_TEST_PYTHON is not set: these tests run AWS's Python runtime client \
             (awslambdaric). Run the tests with `bash scripts/test`, which installs it into \
             .venv and sets CODA_TEST_PYTHON=<repo>/.venv/bin/python"
        );
    };
    assert!(
        Path::new(&python).exists(),
        "CODA_TEST_PYTHON={} does not exist: run the tests with `bash scripts/test`, which \
         creates .venv with awslambdaric",
        python.to_string_lossy()
    );
    python
}

/// `python -m awslambdaric <handler>`, with the handlers folder importable.
fn awslambdaric(handler: &str) -> FunctionCommand {
    FunctionCommand::new(python())
        .args(["-m", "awslambdaric", handler])
        .env("PYTHONPATH", HANDLERS)
        // Keep the source folder free of __pycache__.
        .env("PYTHONDONTWRITEBYTECODE", "1")
}

/// An emulator with the echo handler running under awslambdaric, ready for events.
struct Echo {
    // Dropped first: the process is killed before the emulator shuts down.
    supervisor: Supervisor,
    emulator: Emulator,
}

impl Echo {
    /// Starts the emulator from `builder` and the handler, and waits until it asked for its
    /// first event.
    fn start(builder: EmulatorBuilder) -> Echo {
        let emulator = builder.start().expect("the emulator binds 127.0.0.1:0");
        let supervisor = emulator
            .supervise(awslambdaric("echo.handler"))
            .expect("the supervisor thread starts");
        if let Err(e) = supervisor.wait_ready(LIMIT) {
            panic!("awslambdaric did not become ready: {e}");
        }
        Echo {
            supervisor,
            emulator,
        }
    }

    /// Sends `invoke` and returns its answer once the invocation has ended (the client
    /// asked for its next event), checking that it ended that way.
    fn call(&self, invoke: Invoke) -> (Answer, Vec<String>) {
        let pending = self.emulator.invoke(invoke);
        let answer = pending.answer(LIMIT).expect("awslambdaric answers");
        let finished = pending.finished(LIMIT).expect("the invocation ends");
        assert_eq!(finished.ending, Ending::Completed, "{:?}", finished.logs);
        (answer, finished.logs)
    }
}

/// The answer's body as JSON.
fn body(answer: &Answer) -> Value {
    answer.json().unwrap_or_else(|| {
        panic!(
            "not JSON: {}",
            String::from_utf8_lossy(&answer.payload).into_owned()
        )
    })
}

/// A JSON event comes back byte for byte (in the form simplejson writes), as
/// `application/json` with a 202 from the emulator, and the same process serves a second
/// event: the `/next` reply (with its `Content-Type`) and the `/response` post of a client we
/// did not write both work, the invocation id is echoed, and only the first REPORT line
/// carries the init duration.
#[test]
fn json_event_echoes_byte_for_byte_twice_on_one_process() {
    let echo = Echo::start(Emulator::builder().function_name("py-echo"));
    let event = r#"{"name": "World", "n": [1, 2.5, true, null], "nested": {"s": "a\"b"}}"#;
    let (answer, logs) = echo.call(Invoke::new(event).invocation_id("py-inv-1"));
    assert_eq!(String::from_utf8_lossy(&answer.payload), event);
    assert_eq!(answer.payload, event.as_bytes());
    assert_eq!(answer.function_error, None);
    assert_eq!(answer.status, 202);
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        answer.header("lambda-runtime-invocation-id"),
        Some("py-inv-1")
    );
    assert!(
        answer
            .header("user-agent")
            .is_some_and(|ua| ua.starts_with("aws-lambda-python/")),
        "{:?}",
        answer.headers
    );
    let report = logs.iter().find(|l| l.starts_with("REPORT")).unwrap();
    assert!(report.contains("Init Duration"), "{report}");

    // Compact JSON comes back as the same value, in simplejson's spacing.
    let (answer, logs) = echo.call(Invoke::new(r#"{"second":[1,2]}"#).request_id("py-req-2"));
    assert_eq!(body(&answer), json!({"second": [1, 2]}));
    assert_eq!(answer.payload, br#"{"second": [1, 2]}"#);
    let report = logs.iter().find(|l| l.starts_with("REPORT")).unwrap();
    assert!(report.contains("RequestId: py-req-2"), "{report}");
    assert!(!report.contains("Init Duration"), "warm: {report}");
    assert_eq!(echo.supervisor.starts(), 1, "one process served both");
}

/// An event whose `Content-Type` is not JSON reaches the handler as raw bytes and its answer
/// (bytes, which awslambdaric sends as `application/unknown`) comes back identical: all 256
/// byte values, then 1 MB, through the emulator's `/next` and `/response` unchanged.
#[test]
fn raw_bytes_round_trip_unchanged() {
    let echo = Echo::start(Emulator::builder());
    let all: Vec<u8> = (0..=255).collect();
    let (answer, _) = echo.call(Invoke::new(all.clone()).content_type("application/octet-stream"));
    assert_eq!(answer.payload, all);
    assert_eq!(answer.content_type.as_deref(), Some("application/unknown"));

    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let (answer, _) = echo.call(Invoke::new(big.clone()).content_type("application/octet-stream"));
    assert_eq!(answer.payload.len(), big.len());
    assert!(answer.payload == big, "1 MB came back changed");
}

/// A handler exception becomes the caller's error answer: awslambdaric posts to `/error` a
/// JSON body with `errorType` (the exception class), `errorMessage`, the request id and the
/// stack trace, with no `Lambda-Runtime-Function-Error-Type` header, so the emulator records
/// `Runtime.Unknown` (RAPID's type for a missing header); the process goes on serving.
#[test]
fn handler_exception_is_an_error_answer() {
    let echo = Echo::start(Emulator::builder());
    let pending = echo
        .emulator
        .invoke(Invoke::json(&json!({"fail": "the cake is a lie"})));
    let answer = pending.answer(LIMIT).expect("awslambdaric answers");
    assert_eq!(answer.function_error.as_deref(), Some("Runtime.Unknown"));
    assert_eq!(answer.error_type_header, None, "{:?}", answer.headers);
    assert!(answer.is_error());
    assert_eq!(answer.status, 202);
    let error = body(&answer);
    assert_eq!(error["errorType"], "EchoFailure", "{error}");
    assert_eq!(error["errorMessage"], "the cake is a lie", "{error}");
    assert_eq!(error["requestId"], pending.request_id(), "{error}");
    let trace = error["stackTrace"].as_array().expect("a stackTrace array");
    assert!(
        trace
            .iter()
            .any(|frame| frame.as_str().is_some_and(|f| f.contains("echo.py"))),
        "{error}"
    );
    let cause = answer
        .header("lambda-runtime-function-xray-error-cause")
        .expect("an X-Ray error cause header");
    assert!(cause.contains("EchoFailure"), "{cause}");
    let diagnostic = answer.diagnostic().expect("the body reads as a Diagnostic");
    assert_eq!(diagnostic.error_type(), "EchoFailure");
    assert_eq!(diagnostic.message(), "the cake is a lie");
    let finished = pending.finished(LIMIT).expect("the invocation ends");
    assert_eq!(finished.ending, Ending::Completed);

    let (answer, _) = echo.call(Invoke::json(&json!({"after": "error"})));
    assert_eq!(body(&answer), json!({"after": "error"}));
    assert_eq!(
        echo.supervisor.starts(),
        1,
        "the process survived the error"
    );
}

/// An event that is not JSON (but says it is) is awslambdaric's own
/// `Runtime.UnmarshalError`, in the body (the header is absent, as for every `/error`).
#[test]
fn undecodable_event_is_unmarshal_error() {
    let echo = Echo::start(Emulator::builder());
    let (answer, _) = echo.call(Invoke::new("not json"));
    assert_eq!(answer.function_error.as_deref(), Some("Runtime.Unknown"));
    let error = body(&answer);
    assert_eq!(error["errorType"], "Runtime.UnmarshalError", "{error}");
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("Unable to unmarshal input")),
        "{error}"
    );
}

/// The handler's context comes from the emulator's `/next` headers and the Lambda
/// environment: the request id, the remaining time from `Lambda-Runtime-Deadline-Ms` (read
/// as epoch milliseconds), the invoked ARN, the function name and memory size.
#[test]
fn context_sees_request_id_deadline_and_function() {
    let echo = Echo::start(
        Emulator::builder()
            .function_name("py-context")
            .memory_mb(256),
    );
    let deadline = now_ms() + 2_500;
    let (answer, _) = echo.call(
        Invoke::json(&json!({"context": true}))
            .request_id("py-req-ctx")
            .deadline_ms(deadline),
    );
    let seen = body(&answer);
    assert_eq!(seen["requestId"], "py-req-ctx", "{seen}");
    let remaining = seen["remainingMs"].as_u64().expect("a number");
    assert!(remaining > 0 && remaining <= 2_500, "{seen}");
    assert_eq!(
        seen["invokedFunctionArn"], "arn:aws:lambda:us-east-1:123456789012:function:py-context",
        "{seen}"
    );
    assert_eq!(seen["functionName"], "py-context", "{seen}");
    assert_eq!(seen["memoryLimitInMb"], "256", "{seen}");
}

/// A handler that never returns is timed out by the emulator (`Sandbox.Timedout` to the
/// caller), the process is killed, and a fresh one (awslambdaric's second cold start) serves
/// the next event.
#[test]
fn hang_times_out_and_a_new_process_serves() {
    let echo = Echo::start(Emulator::builder().timeout(Duration::from_secs(1)));
    let pending = echo.emulator.invoke(Invoke::json(&json!({"hang": true})));
    let answer = pending.answer(LIMIT).expect("the timeout answer");
    assert_eq!(answer.function_error.as_deref(), Some("Sandbox.Timedout"));
    assert!(
        String::from_utf8_lossy(&answer.payload).contains("Task timed out after 1.00 seconds"),
        "{}",
        String::from_utf8_lossy(&answer.payload)
    );
    let finished = pending.finished(LIMIT).expect("the invocation ends");
    assert_eq!(finished.ending, Ending::TimedOut);

    // The restarted process asks for its first event: then the next one gets a full second.
    let calls = echo.emulator.next_calls();
    echo.emulator
        .wait_next_calls(calls + 1, LIMIT)
        .expect("the restarted process asks for an event");
    let (answer, logs) = echo.call(Invoke::json(&json!({"after": "timeout"})));
    assert_eq!(body(&answer), json!({"after": "timeout"}));
    assert_eq!(echo.supervisor.starts(), 2);
    let report = logs.iter().find(|l| l.starts_with("REPORT")).unwrap();
    assert!(report.contains("Init Duration"), "a cold start: {report}");
}

/// A handler that ends the process mid-invocation is `Runtime.ExitError` to the caller, with
/// the exit status; the next event starts a new process, which answers it.
#[test]
fn exit_is_runtime_exit_error_and_a_new_process_serves() {
    let echo = Echo::start(Emulator::builder());
    let pending = echo.emulator.invoke(Invoke::json(&json!({"exit": 3})));
    let answer = pending.answer(LIMIT).expect("the exit answer");
    assert_eq!(answer.function_error.as_deref(), Some("Runtime.ExitError"));
    let error = body(&answer);
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("exit status: 3")),
        "{error}"
    );
    let finished = pending.finished(LIMIT).expect("the invocation ends");
    assert_eq!(finished.ending, Ending::ProcessExited);

    let (answer, _) = echo.call(Invoke::json(&json!({"after": "exit"})));
    assert_eq!(body(&answer), json!({"after": "exit"}));
    assert_eq!(echo.supervisor.starts(), 2);
}

/// The known trap, pinned: awslambdaric 4.2.2 dies of SIGSEGV (in its C extension) on a
/// `/next` reply without `Content-Type`, which is why the emulator always sends one. The
/// emulator reports the crash to the caller as `Runtime.ExitError` naming the signal, and a
/// new process serves the next event (sent with the default `Content-Type`).
#[test]
fn event_without_content_type_crashes_awslambdaric() {
    let echo = Echo::start(Emulator::builder());
    let pending = echo
        .emulator
        .invoke(Invoke::new(r#"{"a": 1}"#).without_header("content-type"));
    let finished = pending.finished(LIMIT).expect("the invocation ends");
    assert_eq!(
        finished.ending,
        Ending::ProcessExited,
        "{:?}",
        finished.logs
    );
    let answer = finished.answer.expect("the exit answer");
    assert_eq!(answer.function_error.as_deref(), Some("Runtime.ExitError"));
    let error = body(&answer);
    assert!(
        error["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("SIGSEGV")),
        "{error}"
    );

    let (answer, _) = echo.call(Invoke::new(r#"{"a": 1}"#));
    assert_eq!(answer.payload, br#"{"a": 1}"#);
    assert_eq!(echo.supervisor.starts(), 2);
}

/// A handler that cannot be imported is awslambdaric's init failure: it posts
/// `/init/error` with `Lambda-Runtime-Function-Error-Type: Runtime.ImportModuleError` and
/// exits 1, and the supervisor reports both instead of hanging.
#[test]
fn missing_handler_module_is_an_init_error() {
    let emulator = Emulator::start().expect("the emulator binds 127.0.0.1:0");
    let supervisor = emulator
        .supervise(awslambdaric("no_such_module.handler"))
        .expect("the supervisor thread starts");
    match supervisor.wait_ready(LIMIT) {
        Err(ReadyError::Exited {
            how,
            init_error: Some((kind, body)),
        }) => {
            assert_eq!(how, "exit status: 1");
            assert_eq!(kind, "Runtime.ImportModuleError");
            assert!(body.contains("no_such_module"), "{body}");
        }
        other => panic!("expected an init failure, got {other:?}"),
    }
    let record = emulator.init_error(LIMIT).expect("an /init/error post");
    assert_eq!(record.status, 202);
    assert_eq!(
        record.error_type_header.as_deref(),
        Some("Runtime.ImportModuleError")
    );
    let error: Value = serde_json::from_slice(&record.body).expect("a JSON body");
    assert_eq!(error["errorType"], "Runtime.ImportModuleError", "{error}");
    assert_eq!(emulator.next_calls(), 0);
}

/// The echo handler under awslambdaric with the invoke front on a free port.
fn echo_with_front() -> Echo {
    Echo::start(Emulator::builder().front(std::net::SocketAddr::from(([127, 0, 0, 1], 0))))
}

/// A raw HTTP/1.1 POST to the front's Invoke API: status, lowercase headers, body.
fn post_invoke(
    echo: &Echo,
    content_type: Option<&str>,
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    use std::io::{Read, Write};
    let front = echo.emulator.front_addr().expect("a front");
    let mut stream = std::net::TcpStream::connect(front).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    let mut request = format!(
        "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: {front}\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if let Some(content_type) = content_type {
        request.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(": "))
        .map(|(n, v)| (n.to_ascii_lowercase(), v.to_owned()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

/// The value of header `name` (lowercase).
fn header_of<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// Issue 15 row 1: the caller's `Content-Type` does not reach `/next`. curl's default
/// (`application/x-www-form-urlencoded`) made awslambdaric hand the handler a string, so a
/// handler that raises on `{"fail": …}` answered 200 with the event echoed; now the event
/// arrives as `application/json`, is a dict, the handler raises, and the caller gets
/// `X-Amz-Function-Error: Unhandled` with the error, as on Lambda.
#[test]
fn invoke_api_events_are_json_whatever_the_caller_sent() {
    let echo = echo_with_front();
    for content_type in [
        Some("application/x-www-form-urlencoded"),
        Some("text/plain"),
        None,
    ] {
        let (status, headers, body) = post_invoke(&echo, content_type, br#"{"fail":"boom"}"#);
        assert_eq!(status, 200, "{content_type:?}");
        assert_eq!(
            header_of(&headers, "x-amz-function-error"),
            Some("Unhandled"),
            "{content_type:?}: {}",
            String::from_utf8_lossy(&body)
        );
        let error: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(error["errorType"], "EchoFailure", "{error}");
        assert_eq!(error["errorMessage"], "boom", "{error}");
    }
}

/// Issue 15 row 2: a payload that is not JSON is refused by the Invoke API with Lambda's 400
/// `InvalidRequestContentException` (in the `x-amzn-ErrorType` header and the body SDKs
/// parse), and never reaches the function; an empty payload is the event `{}`, as on Lambda.
/// (Raw events stay possible through `Emulator::invoke`: `raw_bytes_round_trip_unchanged`.)
#[test]
fn invoke_api_refuses_payloads_that_are_not_json() {
    let echo = echo_with_front();
    let calls = echo.emulator.next_calls();
    for payload in [&b"hello"[..], b"{\"a\":", b"\xff\xfe"] {
        let (status, headers, body) = post_invoke(&echo, Some("application/octet-stream"), payload);
        assert_eq!(status, 400, "{payload:?}");
        assert_eq!(
            header_of(&headers, "x-amzn-errortype"),
            Some("InvalidRequestContentException")
        );
        let error: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Could not parse request body into json")),
            "{error}"
        );
    }
    assert_eq!(
        echo.emulator.next_calls(),
        calls,
        "nothing reached the function"
    );
    let (status, _, body) = post_invoke(&echo, None, b"");
    assert_eq!(status, 200);
    assert_eq!(body, b"{}", "an empty payload is the event {{}}");
}
