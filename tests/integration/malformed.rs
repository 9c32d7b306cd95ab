//! Malformed and out-of-order requests on the emulator's Runtime API port get a 4xx with a
//! JSON error (never a panic, never a hung connection), and RAPID's answers to a runtime that
//! breaks the protocol (§3.3, §4.1): unknown id 400, second answer 403, bad mode 400.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use coda_emulator::{Emulator, Invoke};
use serde_json::Value;

use crate::support::LIMIT;

/// Sends raw bytes, reads until the server closes, and returns the status and the JSON body.
/// Requests that the server would keep alive carry `Connection: close`.
fn raw(addr: SocketAddr, request: &[u8]) -> (u16, Value) {
    exchange(addr, request, false)
}

/// Like [`raw`], then closes the sending side: the request ends early.
fn raw_truncated(addr: SocketAddr, request: &[u8]) -> (u16, Value) {
    exchange(addr, request, true)
}

fn exchange(addr: SocketAddr, request: &[u8], close_sending: bool) -> (u16, Value) {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.write_all(request).unwrap();
    if close_sending {
        let _ = stream.shutdown(std::net::Shutdown::Write);
    }
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let text = String::from_utf8_lossy(&buf).into_owned();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = text.split("\r\n\r\n").nth(1).unwrap_or_default();
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

/// Garbage, oversized heads, bad framing: 4xx with `{"errorType","errorMessage"}`.
#[test]
fn malformed_requests_get_4xx_json() {
    let emulator = Emulator::start().unwrap();
    let addr = emulator.addr();
    let many_headers: String = (0..80).map(|i| format!("X-H{i}: v\r\n")).collect();
    let huge = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(70 * 1024)
    );
    let long_line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70 * 1024));
    let cases: Vec<(&str, Vec<u8>, u16)> = vec![
        ("garbage", b"THIS IS NOT HTTP\r\n\r\n".to_vec(), 400),
        ("bad header line", b"GET / HTTP/1.1\r\nNoColonHere\r\n\r\n".to_vec(), 400),
        ("too many headers", format!("GET / HTTP/1.1\r\n{many_headers}\r\n").into_bytes(), 431),
        ("head too large", huge.into_bytes(), 431),
        ("request line too long", long_line.into_bytes(), 414),
        (
            "bad content-length",
            b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: ten\r\n\r\n".to_vec(),
            400,
        ),
        (
            "both length and chunked",
            b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
                .to_vec(),
            400,
        ),
        (
            "bad chunk",
            b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            400,
        ),
        ("unknown path", b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(), 404),
        (
            "wrong method",
            b"DELETE /2018-06-01/runtime/invocation/next HTTP/1.1\r\nConnection: close\r\n\r\n".to_vec(),
            405,
        ),
    ];
    for (name, request, expected) in cases {
        let (status, body) = raw(addr, &request);
        assert_eq!(status, expected, "{name}");
        assert!(
            body["errorType"].is_string() && body["errorMessage"].is_string(),
            "{name}: {body}"
        );
    }
    let (status, body) = raw_truncated(
        addr,
        b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 100\r\n\r\nshort",
    );
    assert_eq!(
        (status, body["errorType"].as_str()),
        (400, Some("TruncatedHTTPRequest"))
    );
    // The server still serves after all that.
    let (status, _) = raw(addr, b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert_eq!(status, 404);
}

/// §3.3: an answer for an id not in flight is 400; a second answer is 403; a bad response
/// mode is 400 — what RAPID answers a runtime that breaks the protocol.
#[test]
fn protocol_violations_get_rapid_statuses() {
    let emulator = Emulator::start().unwrap();
    let addr = emulator.addr();
    let pending = emulator.invoke(Invoke::new("{}").request_id("raw-1"));
    let (status, _) = raw(
        addr,
        b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(status, 200);
    let post = |path: &str, extra: &str| {
        let request = format!(
            "POST {path} HTTP/1.1\r\nContent-Length: 2\r\n{extra}Connection: close\r\n\r\n{{}}"
        );
        raw(addr, request.as_bytes())
    };
    let (status, body) = post("/2018-06-01/runtime/invocation/unknown-id/response", "");
    assert_eq!(
        (status, body["errorType"].as_str()),
        (400, Some("InvalidRequestID"))
    );
    let (status, body) = post(
        "/2018-06-01/runtime/invocation/raw-1/response",
        "Lambda-Runtime-Function-Response-Mode: sideways\r\n",
    );
    assert_eq!(
        (status, body["errorType"].as_str()),
        (400, Some("InvalidFunctionResponseMode"))
    );
    let (status, _) = post("/2018-06-01/runtime/invocation/raw-1/response", "");
    assert_eq!(status, 202);
    assert_eq!(pending.answer(LIMIT).unwrap().payload, b"{}");
    let (status, body) = post("/2018-06-01/runtime/invocation/raw-1/error", "");
    assert_eq!(
        (status, body["errorType"].as_str()),
        (403, Some("InvalidStateTransition"))
    );
    // After the first /next, /init/error is refused too.
    let (status, _) = post("/2018-06-01/runtime/init/error", "");
    assert_eq!(status, 403);
}

/// §4.1 / §4.3: an error posted with the error-cause content type has its `errorCause` taken
/// out of the body the caller sees and kept as the X-Ray cause; the cause header is kept too.
#[test]
fn error_cause_is_separated_from_the_body() {
    let emulator = Emulator::start().unwrap();
    let addr = emulator.addr();
    let cause = r#"{"working_directory":"/var/task","paths":[],"exceptions":[{"message":"boom","type":"Boom"}]}"#;
    for (id, content_type, extra) in [
        (
            "cause-body",
            "application/vnd.aws.lambda.error.cause+json",
            String::new(),
        ),
        (
            "cause-header",
            "application/json",
            format!("Lambda-Runtime-Function-XRay-Error-Cause: {cause}\r\n"),
        ),
    ] {
        let pending = emulator.invoke(Invoke::new("{}").request_id(id));
        let (status, _) = raw(
            addr,
            b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nConnection: close\r\n\r\n",
        );
        assert_eq!(status, 200);
        let body = format!(
            r#"{{"errorMessage":"boom","errorType":"Boom","stackTrace":[],"errorCause":{cause}}}"#
        );
        let request = format!(
            "POST /2018-06-01/runtime/invocation/{id}/error HTTP/1.1\r\nContent-Type: {content_type}\r\n\
             Lambda-Runtime-Function-Error-Type: Function.Boom\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        assert_eq!(raw(addr, request.as_bytes()).0, 202);
        let answer = pending.answer(LIMIT).unwrap();
        let recorded: Value = serde_json::from_str(answer.error_cause.as_deref().unwrap()).unwrap();
        assert_eq!(recorded["exceptions"][0]["type"], "Boom", "{id}");
        let seen = answer.json().unwrap();
        assert_eq!(seen["errorType"], "Boom", "{id}");
        assert_eq!(
            seen.get("errorCause").is_none(),
            id == "cause-body",
            "{id}: {seen}"
        );
    }
}
