//! What callers may send, and what a load leaves behind: Coda's real loop against the real
//! emulator in-process, callers through the invoke front over raw TCP.
//!
//! - a caller's client context, trace id or tenant id cannot kill the function: a
//!   pretty-printed client context reaches the runtime as one line; what cannot go into a
//!   `/next` head, or is over Lambda's limits, is refused with 400 (the library path too);
//! - many callers each get their own answer (waiters are woken per invocation);
//! - the events and answers of invocations that ended are not kept;
//! - the queue of `Event` invocations is bounded, with Lambda's throttling answer.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread::JoinHandle;
use std::time::Duration;

use base64::Engine as _;
use coda_emulator::{Emulator, EmulatorBuilder, Ending, Invoke};
use coda_lambda::{Context, Diagnostic, Runtime};
use serde_json::{Value, json};

#[path = "support/response.rs"]
mod response;
use response::Response;

/// How long any wait may take before the test fails.
const LIMIT: Duration = Duration::from_secs(20);

/// The Invoke API path of the default function.
const INVOKE: &str = "/2015-03-31/functions/function/invocations";

/// An emulator with its front, and Coda's loop serving it on a thread.
struct Served {
    emulator: Emulator,
    front: SocketAddr,
    thread: Option<JoinHandle<coda_lambda::Error>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        self.emulator.shutdown();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The handler: what the runtime saw of the invocation's context, and the event.
fn context_echo(event: Value, ctx: &mut Context) -> Result<Value, Diagnostic> {
    Ok(json!({
        "event": event,
        "client_context_raw": ctx.client_context_raw(),
        "custom": ctx.client_context().map(|c| c.custom.clone()),
        "trace": ctx.trace_id(),
        "tenant": ctx.tenant_id(),
    }))
}

/// Serves `context_echo` on an emulator built from `builder`, with a front.
fn serve(builder: EmulatorBuilder) -> Served {
    let emulator = builder
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .expect("the emulator binds loopback");
    let front = emulator.front_addr().expect("a front was asked for");
    let runtime = Runtime::new(emulator.config()).publish_trace_id(false);
    let thread = std::thread::spawn(move || runtime.run(context_echo));
    Served {
        emulator,
        front,
        thread: Some(thread),
    }
}

/// Sends one request with `headers` (raw bytes allowed) and `body` to `addr`, and reads the
/// whole response (the connection is closed after it).
fn request(addr: SocketAddr, path: &str, headers: &[(&str, &[u8])], body: &[u8]) -> Response {
    let mut stream = TcpStream::connect(addr).expect("the front accepts");
    stream.set_read_timeout(Some(LIMIT)).expect("a timeout");
    let mut out =
        format!("POST {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    stream.write_all(&out).expect("the request is sent");
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw);
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("a response head: {:?}", String::from_utf8_lossy(&raw)));
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
        .collect();
    Response {
        status,
        headers,
        body: raw[end + 4..].to_vec(),
    }
}

/// An Invoke API call with `headers` and the event `{"n": n}`.
fn invoke(front: SocketAddr, headers: &[(&str, &[u8])], n: u64) -> Response {
    request(
        front,
        INVOKE,
        headers,
        json!({ "n": n }).to_string().as_bytes(),
    )
}

/// The function still serves: a plain invocation is answered with its own event.
fn still_serves(served: &Served) {
    let response = invoke(served.front, &[], 7);
    assert_eq!(response.status, 200, "{response:?}");
    assert_eq!(response.json()["event"], json!({"n": 7}), "{response:?}");
}

fn b64(text: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .encode(text)
        .into_bytes()
}

/// Row 1 (a): a pretty-printed client context (`json.dumps(indent=2)`) used to put line
/// breaks into the `/next` head; it reaches the runtime as compact JSON on one line, its
/// meaning unchanged, and the function goes on serving.
#[test]
fn client_context_pretty_printed_reaches_the_runtime_on_one_line() {
    let served = serve(Emulator::builder());
    let pretty = "{\n  \"custom\": {\n    \"user\": \"ana\",\n    \"city\": \"Málaga\"\n  },\n  \"env\": {\n    \"locale\": \"es\"\n  }\n}";
    let response = invoke(served.front, &[("X-Amz-Client-Context", &b64(pretty))], 1);
    assert_eq!(response.status, 200, "{response:?}");
    let seen = response.json();
    let raw = seen["client_context_raw"].as_str().expect("the raw header");
    assert!(!raw.contains('\n') && raw.is_ascii(), "{raw:?}");
    assert_eq!(
        serde_json::from_str::<Value>(raw).ok(),
        serde_json::from_str::<Value>(pretty).ok()
    );
    assert_eq!(seen["custom"], json!({"user": "ana", "city": "Málaga"}));
    still_serves(&served);
}

/// Row 1 (b): a client context over Lambda's 3,583 bytes of base64 is refused with 400
/// before anything reaches the runtime (a 17 KB one used to overflow its head buffer).
#[test]
fn client_context_over_3583_bytes_is_refused_with_400() {
    let served = serve(Emulator::builder());
    let at_limit = format!("{{\"custom\":{{\"k\":\"{}\"}}}}", "x".repeat(2660));
    let encoded = b64(&at_limit);
    assert!(encoded.len() <= 3583, "{}", encoded.len());
    let response = invoke(served.front, &[("X-Amz-Client-Context", &encoded)], 1);
    assert_eq!(response.status, 200, "{response:?}");
    let posts = served.emulator.answer_posts();
    for size in [3700, 17 * 1024] {
        let big = format!("{{\"custom\":{{\"k\":\"{}\"}}}}", "x".repeat(size));
        let response = invoke(served.front, &[("X-Amz-Client-Context", &b64(&big))], 1);
        assert_eq!(response.status, 400, "{response:?}");
        assert_eq!(
            response.header("x-amzn-ErrorType"),
            Some("InvalidRequestContentException")
        );
        let message = response.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(message.contains("3583"), "{message}");
    }
    assert_eq!(
        served.emulator.answer_posts(),
        posts,
        "nothing reached the runtime"
    );
    still_serves(&served);
}

/// Row 1 (c): a trace header that cannot go into the `/next` head (non-ASCII bytes) or is
/// over the 8,192 bytes of Lambda's trace header (a 20 KB one used to overflow the runtime's
/// head buffer) is refused with 400; a normal one reaches the runtime.
#[test]
fn trace_id_unsendable_or_over_8192_bytes_is_refused_with_400() {
    let served = serve(Emulator::builder());
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let response = invoke(served.front, &[("X-Amzn-Trace-Id", trace.as_bytes())], 1);
    assert_eq!(response.json()["trace"], json!(trace), "{response:?}");
    let long = format!("Root={}", "1".repeat(20 * 1024));
    // (A DEL or another control byte is refused earlier, by the request parser: 400.)
    let del = invoke(served.front, &[("X-Amzn-Trace-Id", b"Root=\x7f")], 1);
    assert_eq!(del.status, 400, "{del:?}");
    for bad in ["Root=é".as_bytes(), long.as_bytes()] {
        let response = invoke(served.front, &[("X-Amzn-Trace-Id", bad)], 1);
        assert_eq!(response.status, 400, "{response:?}");
        assert_eq!(
            response.header("x-amzn-ErrorType"),
            Some("InvalidRequestContentException"),
            "{response:?}"
        );
    }
    // The Function URL copies the trace header into the `/next` head too.
    let url = request(
        served.front,
        "/hello",
        &[("X-Amzn-Trace-Id", "Root=é".as_bytes())],
        b"",
    );
    assert_eq!(url.status, 400, "{url:?}");
    still_serves(&served);
}

/// Row 1 (c): a tenant id outside Lambda's constraints (1 to 256 of `[a-zA-Z0-9._:/=+\-@ ]`)
/// is refused with 400 `ValidationException`; a valid one reaches the runtime.
#[test]
fn tenant_id_outside_lambdas_pattern_is_refused_with_400() {
    let served = serve(Emulator::builder());
    let good = "tenant-a/b@c.d:e";
    let response = invoke(served.front, &[("X-Amz-Tenant-Id", good.as_bytes())], 1);
    assert_eq!(response.json()["tenant"], json!(good), "{response:?}");
    let long = "t".repeat(257);
    for bad in ["a;b".as_bytes(), "é".as_bytes(), b"a\x01b", long.as_bytes()] {
        let response = invoke(served.front, &[("X-Amz-Tenant-Id", bad)], 1);
        assert_eq!(response.status, 400, "{bad:?}: {response:?}");
    }
    let response = invoke(served.front, &[("X-Amz-Tenant-Id", long.as_bytes())], 1);
    assert_eq!(
        response.header("x-amzn-ErrorType"),
        Some("ValidationException")
    );
    let message = response.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        message.contains("tenantId") && message.contains("256"),
        "{message}"
    );
    still_serves(&served);
}

/// Row 1 (d): through the library, a header value with a line break (a pretty-printed
/// client context, a trace id with CR LF) or a NUL ends at once with a 400 answer and
/// `Ending::Rejected`; the runtime never sees it and goes on serving.
#[test]
fn library_invoke_with_a_control_byte_ends_at_once_with_400() {
    let served = serve(Emulator::builder());
    let bad = [
        Invoke::new("{}").client_context("{\n  \"custom\": {}\n}"),
        Invoke::new("{}").trace_id("Root=1\r\nx-injected: 1"),
        Invoke::new("{}").tenant_id("a\0b"),
        Invoke::new("{}").header("x bad name", "v"),
    ];
    for invoke in bad {
        let pending = served.emulator.invoke(invoke);
        let answer = pending.answer(Duration::ZERO).expect("answered at once");
        assert_eq!(answer.status, 400);
        assert_eq!(
            answer.function_error.as_deref(),
            Some("InvalidRequestContentException")
        );
        let finished = pending.finished(Duration::ZERO).expect("ended at once");
        assert_eq!(finished.ending, Ending::Rejected);
    }
    assert_eq!(served.emulator.answer_posts(), 0);
    // Odd but sendable values still reach the runtime (the fault-injection cases).
    let odd = served
        .emulator
        .invoke(Invoke::new("{}").client_context("").trace_id("é"));
    assert_eq!(odd.answer(LIMIT).expect("answered").status, 202);
    still_serves(&served);
}

/// Row 1 (d): the whole `/next` head must fit the runtime's 16 KiB head buffer: a head of
/// exactly 16,383 bytes is served by Coda's runtime, one byte more is refused with 400.
#[test]
fn library_invoke_whose_head_is_over_16_kib_ends_with_400() {
    let served = serve(Emulator::builder());
    let padded = |n: usize| Invoke::new("{}").header("x-padding", "p".repeat(n));
    let refused = served.emulator.invoke(padded(20 * 1024));
    let answer = refused.answer(Duration::ZERO).expect("answered at once");
    assert_eq!(answer.status, 400);
    let body: Value = serde_json::from_slice(&answer.payload).unwrap_or_default();
    let message = body["errorMessage"].as_str().unwrap_or_default().to_owned();
    // "… would be N bytes, over the 16383 bytes …": find the padding that makes 16,383.
    let size: usize = message
        .split_whitespace()
        .skip_while(|w| *w != "be")
        .nth(1)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("the size in {message:?}"));
    assert!(message.contains("16383"), "{message}");
    let exact = 20 * 1024 - (size - 16383);
    // Request ids are fixed so that each head has the same length as the measured one.
    let fits = served
        .emulator
        .invoke(padded(exact).request_id(refused.request_id()));
    let answer = fits
        .answer(LIMIT)
        .expect("the runtime answers a head of 16,383 bytes");
    assert_eq!(answer.status, 202, "{answer:?}");
    let over = served
        .emulator
        .invoke(padded(exact + 1).request_id(refused.request_id()));
    assert_eq!(over.answer(Duration::ZERO).map(|a| a.status), Ok(400));
    still_serves(&served);
}

/// Row 2: many callers at once each get their own answer and end, with one runtime loop:
/// each caller waits on its own invocation (a missed wake-up would hang a caller here).
#[test]
fn many_callers_each_get_their_own_answer() {
    const CALLERS: u64 = 64;
    const EACH: u64 = 20;
    let served = serve(Emulator::builder().timeout(LIMIT));
    std::thread::scope(|scope| {
        for caller in 0..CALLERS {
            let emulator = &served.emulator;
            scope.spawn(move || {
                for i in 0..EACH {
                    let n = caller * 1000 + i;
                    let pending = emulator.invoke(Invoke::json(&json!({ "n": n })));
                    let answer = pending.answer(LIMIT).expect("an answer");
                    let seen: Value = serde_json::from_slice(&answer.payload).unwrap_or_default();
                    assert_eq!(seen["event"], json!({ "n": n }));
                    let finished = pending.finished(LIMIT).expect("an end");
                    assert_eq!(finished.ending, Ending::Completed);
                }
            });
        }
    });
    assert_eq!(served.emulator.answer_posts() as u64, CALLERS * EACH);
}

/// Row 2, Managed Instances: 4 `/next` loops, 16 callers (each retrying a 429 when no loop is
/// idle, as a client would): every answer is the caller's own, none lost.
#[test]
fn many_callers_on_four_workers_each_get_their_own_answer() {
    const CALLERS: u64 = 16;
    const EACH: u64 = 20;
    let emulator = Emulator::builder()
        .concurrency(4)
        .timeout(LIMIT)
        .start()
        .expect("the emulator binds loopback");
    let runtime = Runtime::new(emulator.config()).publish_trace_id(false);
    let thread = std::thread::spawn(move || runtime.run_concurrent(context_echo));
    emulator.wait_parked(LIMIT).expect("a worker polls");
    std::thread::scope(|scope| {
        for caller in 0..CALLERS {
            let emulator = &emulator;
            scope.spawn(move || {
                for i in 0..EACH {
                    let n = caller * 1000 + i;
                    let end = std::time::Instant::now() + LIMIT;
                    let answer = loop {
                        let pending = emulator.invoke(Invoke::json(&json!({ "n": n })));
                        let answer = pending.answer(LIMIT).expect("an answer");
                        if answer.status != 429 {
                            break answer;
                        }
                        assert!(std::time::Instant::now() < end, "throttled until the limit");
                        std::thread::yield_now();
                    };
                    let seen: Value = serde_json::from_slice(&answer.payload).unwrap_or_default();
                    assert_eq!(seen["event"], json!({ "n": n }));
                }
            });
        }
    });
    assert_eq!(emulator.answer_posts() as u64, CALLERS * EACH);
    // Workers whose connection fails reconnect with a backoff for a while: the test does not
    // wait for them to give up.
    drop(emulator);
    drop(thread);
}

/// Row 3: large invocations that time out in the queue (no runtime polls) keep nothing once
/// they have ended and their callers have let go: the events are released at the end, the
/// timeout answers with the callers' handles (300 × 6 MB used to stay referenced: 1.55 GB).
#[test]
fn memory_of_timed_out_invokes_is_released_after_they_end() {
    const MB: usize = 1024 * 1024;
    let emulator = Emulator::start().expect("the emulator binds loopback");
    let pending: Vec<_> = (0..20)
        .map(|_| emulator.invoke(Invoke::new(vec![b'x'; MB]).deadline_in(Duration::from_secs(1))))
        .collect();
    assert!(
        emulator.held_bytes() >= 20 * MB,
        "{}",
        emulator.held_bytes()
    );
    for p in &pending {
        let finished = p.finished(LIMIT).expect("timed out");
        assert_eq!(finished.ending, Ending::TimedOut);
    }
    // The callers still hold their handles: only the small timeout answers are left.
    assert!(
        emulator.held_bytes() < 20 * 1024,
        "{}",
        emulator.held_bytes()
    );
    drop(pending);
    assert_eq!(emulator.held_bytes(), 0);
}

/// Row 3, through the front: synchronous callers whose invocations timed out in the queue
/// leave nothing behind once their connections are answered.
#[test]
fn memory_of_timed_out_front_invokes_is_released() {
    let emulator = Emulator::builder()
        .timeout(Duration::from_millis(100))
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .expect("the emulator binds loopback");
    let front = emulator.front_addr().expect("a front");
    let event = format!("\"{}\"", "x".repeat(2 * 1024 * 1024));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let event = &event;
            scope.spawn(move || {
                let response = request(front, INVOKE, &[], event.as_bytes());
                assert_eq!(response.status, 200, "{:?}", response.headers);
                assert_eq!(response.header("X-Amz-Function-Error"), Some("Unhandled"));
            });
        }
    });
    assert_eq!(emulator.held_bytes(), 0);
}

/// Row 4: `Event` invocations beyond the queue's bound (by count, then by bytes) are
/// throttled with Lambda's answer: 429, `x-amzn-ErrorType: TooManyRequestsException`, a
/// body with `Type`, `Reason` and `message`; once the events have run, new ones are taken.
#[test]
fn event_invokes_over_the_bound_are_throttled_with_429() {
    let emulator = Emulator::builder()
        .max_queued_events(3)
        .max_queued_event_bytes(10_000)
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .expect("the emulator binds loopback");
    let front = emulator.front_addr().expect("a front");
    let event = |n: u64| {
        let body = json!({ "n": n }).to_string();
        request(
            front,
            INVOKE,
            &[("X-Amz-Invocation-Type", b"Event")],
            body.as_bytes(),
        )
    };
    for n in 0..3 {
        assert_eq!(event(n).status, 202);
    }
    let throttled = event(3);
    assert_eq!(throttled.status, 429, "{throttled:?}");
    assert_eq!(
        throttled.header("x-amzn-ErrorType"),
        Some("TooManyRequestsException")
    );
    let body = throttled.json();
    assert_eq!(body["Type"], json!("User"));
    assert_eq!(body["Reason"], json!("ConcurrentInvocationLimitExceeded"));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Rate Exceeded.") && m.contains("at most 3 events")),
        "{body}"
    );
    // Synchronous invocations are not counted against it.
    let sync = emulator.invoke(Invoke::new("{}"));
    assert!(sync.answer(Duration::ZERO).is_err(), "queued, not refused");
    // The events run; once they have ended (the runtime's fifth `/next` ends the fourth
    // invocation), the queue takes new ones again.
    let runtime = Runtime::new(emulator.config()).publish_trace_id(false);
    let thread = std::thread::spawn(move || runtime.run(context_echo));
    sync.finished(LIMIT).expect("the sync invocation runs");
    emulator
        .wait_next_calls(5, LIMIT)
        .expect("every event ended");
    assert_eq!(event(4).status, 202);
    drop(emulator);
    let _ = thread.join();
}

/// Row 4, by bytes: an `Event` that would take the queue over its byte bound is throttled.
#[test]
fn event_invokes_over_the_byte_bound_are_throttled_with_429() {
    let emulator = Emulator::builder()
        .max_queued_event_bytes(10_000)
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .expect("the emulator binds loopback");
    let front = emulator.front_addr().expect("a front");
    let body = json!({ "big": "y".repeat(6_000) }).to_string();
    let event = || {
        request(
            front,
            INVOKE,
            &[("X-Amz-Invocation-Type", b"Event")],
            body.as_bytes(),
        )
    };
    assert_eq!(event().status, 202);
    let throttled = event();
    assert_eq!(throttled.status, 429, "{throttled:?}");
    let message = throttled.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("10000 bytes"), "{message}");
}
