//! The emulator's invoke front (`EmulatorBuilder::front`), called with a real HTTP client
//! (ureq) while Coda's real loop serves a handler: the Invoke API as the AWS CLI and SDKs call
//! it (`docs/runtime-api.md` §8.1: the invoke endpoint of AWS's emulator), InvokeWithResponseStream
//! with its event-stream framing, and the Function URL (payload format 2.0 in, Lambda's
//! response mapping out, streamed HTTP-integration answers as in §5.3).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use coda_emulator::Emulator;
use coda_lambda::{Context, Diagnostic, Handler, Reply};
use serde_json::{Value, json};

use crate::support::{LIMIT, Served, serve_with};

/// The Function URL event fixture (a real Lambda event, from `lambda_http`'s test data).
const URL_EVENT_FIXTURE: &str = include_str!("../data/lambda_function_url_request.json");

/// Serves `handler` with a front on a free loopback port.
fn serve_front<H, M>(handler: H) -> Served
where
    H: Handler<M> + Send + 'static,
    M: 'static,
{
    serve_with(
        Emulator::builder().front(SocketAddr::from(([127, 0, 0, 1], 0))),
        |r| r,
        handler,
    )
}

/// An HTTP client that reports every status as a response and never waits past the limit.
fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(LIMIT))
        .build()
        .new_agent()
}

fn front(served: &Served) -> SocketAddr {
    served.emulator.front_addr().expect("a front was asked for")
}

fn url(served: &Served, path: &str) -> String {
    format!("http://{}{path}", front(served))
}

fn invoke_url(served: &Served, name: &str) -> String {
    url(served, &format!("/2015-03-31/functions/{name}/invocations"))
}

fn stream_url(served: &Served, name: &str) -> String {
    url(
        served,
        &format!("/2021-11-15/functions/{name}/response-streaming-invocations"),
    )
}

/// The first value of a response header.
fn header(response: &http::Response<ureq::Body>, name: &str) -> Option<String> {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn body(response: &mut http::Response<ureq::Body>) -> Vec<u8> {
    response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .expect("a complete body")
}

fn json_body(response: &mut http::Response<ureq::Body>) -> Value {
    serde_json::from_slice(&body(response)).expect("a JSON body")
}

/// Invoke API handler: echoes the event, or fails, reports its context, or streams.
fn invoked(event: Value, ctx: &mut Context) -> Result<Reply, Diagnostic> {
    let how = event["how"].as_str().unwrap_or_default().to_owned();
    match how.as_str() {
        "fail" => Err(Diagnostic::new("Function.Boom", "it went boom")),
        "context" => Ok(Reply::json(&json!({
            "client_context": ctx.client_context_raw(),
            "tenant": ctx.tenant_id(),
            "trace": ctx.trace_id(),
            "content_type": ctx.content_type(),
        }))),
        "stream" | "stream-fail" => Ok(Reply::stream(move |out| -> Result<(), Diagnostic> {
            for i in 0..3 {
                writeln!(out, "chunk {i}")?;
            }
            if how == "stream-fail" {
                return Err(Diagnostic::new(
                    "Function.StreamBroke",
                    "failed after three chunks",
                ));
            }
            Ok(())
        })),
        _ => Ok(Reply::json(&json!({ "echo": event }))),
    }
}

/// Invoke: the payload reaches the handler and its answer comes back with 200,
/// `X-Amz-Executed-Version`, the runtime's content type and the request id; the function may
/// be named by name, full ARN (percent-encoded, as SDKs send it) or partial ARN.
#[test]
fn invoke_round_trip() {
    let served = serve_front(invoked);
    let agent = agent();
    for name in [
        "function",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Afunction",
        "123456789012:function:function:$LATEST",
    ] {
        let mut response = agent
            .post(invoke_url(&served, name))
            .header("content-type", "application/json")
            .send(r#"{"name":"World"}"#)
            .unwrap();
        assert_eq!(response.status(), 200, "{name}");
        assert_eq!(
            header(&response, "x-amz-executed-version").as_deref(),
            Some("$LATEST")
        );
        assert_eq!(
            header(&response, "content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(header(&response, "x-amz-function-error"), None);
        let request_id = header(&response, "x-amzn-requestid").expect("a request id");
        assert_eq!(json_body(&mut response), json!({"echo": {"name": "World"}}));
        assert_eq!(served.report().request_id, request_id);
    }
    served.shutdown();
}

/// A function error is a 200 with `X-Amz-Function-Error: Unhandled` and the error JSON as
/// the payload, as Lambda answers.
#[test]
fn function_errors_set_the_header() {
    let served = serve_front(invoked);
    let mut response = agent()
        .post(invoke_url(&served, "function"))
        .send(r#"{"how":"fail"}"#)
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-amz-function-error").as_deref(),
        Some("Unhandled")
    );
    let error = json_body(&mut response);
    assert_eq!(error["errorType"], "Function.Boom");
    assert_eq!(error["errorMessage"], "it went boom");
    served.shutdown();
}

/// `X-Amz-Log-Type: Tail`: `X-Amz-Log-Result` is base64 of the invocation's log lines, from
/// START to REPORT, with its request id.
#[test]
fn tail_returns_the_log() {
    let served = serve_front(invoked);
    let mut response = agent()
        .post(invoke_url(&served, "function"))
        .header("x-amz-log-type", "Tail")
        .send("{}")
        .unwrap();
    assert_eq!(response.status(), 200);
    let request_id = header(&response, "x-amzn-requestid").unwrap();
    let tail = header(&response, "x-amz-log-result").expect("a log result");
    let text = String::from_utf8(crate::support::base64_decode(&tail)).unwrap();
    assert!(
        text.contains(&format!("START RequestId: {request_id} Version: $LATEST")),
        "{text}"
    );
    assert!(
        text.contains(&format!("END RequestId: {request_id}")),
        "{text}"
    );
    assert!(
        text.contains(&format!("REPORT RequestId: {request_id}\tDuration:")),
        "{text}"
    );
    assert_eq!(json_body(&mut response), json!({"echo": {}}));
    served.shutdown();
}

/// `X-Amz-Invocation-Type: Event`: 202 with an empty body at once, and the function still
/// runs the event; `DryRun`: 204 and nothing runs; an unknown type: 400.
#[test]
fn event_and_dry_run_invocations() {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let served = serve_front(move |event: Value, _: &mut Context| {
        let _ = tx.lock().unwrap().send(event.clone());
        Ok::<_, Diagnostic>(event)
    });
    let agent = agent();
    let mut dry = agent
        .post(invoke_url(&served, "function"))
        .header("x-amz-invocation-type", "DryRun")
        .send(r#"{"run":"dry"}"#)
        .unwrap();
    assert_eq!(dry.status(), 204);
    assert!(body(&mut dry).is_empty());
    let mut bad = agent
        .post(invoke_url(&served, "function"))
        .header("x-amz-invocation-type", "Sometimes")
        .send("{}")
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(
        header(&bad, "x-amzn-errortype").as_deref(),
        Some("InvalidParameterValueException")
    );
    assert!(json_body(&mut bad)["message"].is_string());
    let mut queued = agent
        .post(invoke_url(&served, "function"))
        .header("x-amz-invocation-type", "Event")
        .send(r#"{"run":"later"}"#)
        .unwrap();
    assert_eq!(queued.status(), 202);
    assert!(body(&mut queued).is_empty());
    let request_id = header(&queued, "x-amzn-requestid").unwrap();
    // The dry run never reached the handler: the first event it sees is the queued one.
    assert_eq!(rx.recv_timeout(LIMIT).unwrap(), json!({"run": "later"}));
    assert_eq!(served.report().request_id, request_id);
    served.shutdown();
}

/// A name that is not the emulated function is a 404 in AWS's error shape (the
/// `x-amzn-ErrorType` header and a JSON `message`, what botocore and the SDKs read); another
/// method on the invoke path is a 405.
#[test]
fn unknown_functions_and_methods() {
    let served = serve_front(invoked);
    let agent = agent();
    for name in [
        "other",
        "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aother",
    ] {
        let mut response = agent.post(invoke_url(&served, name)).send("{}").unwrap();
        assert_eq!(response.status(), 404, "{name}");
        assert_eq!(
            header(&response, "x-amzn-errortype").as_deref(),
            Some("ResourceNotFoundException")
        );
        let error = json_body(&mut response);
        assert_eq!(error["Type"], "User");
        assert_eq!(
            error["message"],
            "Function not found: arn:aws:lambda:us-east-1:123456789012:function:other"
        );
    }
    let mut wrong = agent.get(invoke_url(&served, "function")).call().unwrap();
    assert_eq!(wrong.status(), 405);
    assert_eq!(header(&wrong, "allow").as_deref(), Some("POST"));
    assert!(json_body(&mut wrong)["message"].is_string());
    served.shutdown();
}

/// Payloads over the limits (6 MB synchronous; the `Event` limit, checked with a payload over
/// even its newer 1 MB value) are refused with 413 `RequestEntityTooLargeException` before
/// anything is queued; the connection and the emulator carry on.
#[test]
fn oversize_payloads_are_413() {
    let served = serve_front(invoked);
    let agent = agent();
    let mut big = vec![b' '; 6 * 1024 * 1024 + 1];
    big[0] = b'1';
    let mut response = agent
        .post(invoke_url(&served, "function"))
        .send(&big[..])
        .unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        header(&response, "x-amzn-errortype").as_deref(),
        Some("RequestEntityTooLargeException")
    );
    assert!(
        json_body(&mut response)["message"]
            .as_str()
            .unwrap()
            .contains("6291456 bytes")
    );
    let event_sized = vec![b' '; 1024 * 1024 + 1];
    let response = agent
        .post(invoke_url(&served, "function"))
        .header("x-amz-invocation-type", "Event")
        .send(&event_sized[..])
        .unwrap();
    assert_eq!(response.status(), 413);
    let mut fine = agent
        .post(invoke_url(&served, "function"))
        .send("7")
        .unwrap();
    assert_eq!(fine.status(), 200);
    let request_id = header(&fine, "x-amzn-requestid").unwrap();
    assert_eq!(json_body(&mut fine), json!({"echo": 7}));
    // The refused payloads never became invocations.
    assert_eq!(served.report().request_id, request_id);
    served.shutdown();
}

/// `X-Amz-Client-Context` (base64 JSON), `X-Amz-Tenant-Id` and `X-Amzn-Trace-Id` reach the
/// handler's `Context`; the caller's `Content-Type` does not: an Invoke API event reaches the
/// runtime as `application/json`, as on Lambda (`docs/runtime-api.md` §8.3). A client
/// context that is not base64 is a 400.
#[test]
fn caller_headers_reach_the_context() {
    let served = serve_front(invoked);
    let agent = agent();
    let client_context = r#"{"custom":{"k":"v"},"env":{"platform":"test"}}"#;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    let mut response = agent
        .post(invoke_url(&served, "function"))
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "x-amz-client-context",
            crate::support::base64_encode(client_context.as_bytes()),
        )
        .header("x-amz-tenant-id", "tenant-a")
        .header("x-amzn-trace-id", trace)
        .send(r#"{"how":"context"}"#)
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        json_body(&mut response),
        json!({
            "client_context": client_context,
            "tenant": "tenant-a",
            "trace": trace,
            "content_type": "application/json",
        })
    );
    let mut bad = agent
        .post(invoke_url(&served, "function"))
        .header("x-amz-client-context", "not base64!")
        .send(r#"{"how":"context"}"#)
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(json_body(&mut bad)["message"].is_string());
    served.shutdown();
}

/// The Managed Instances rejection (no idle execution environment) is a 429
/// `TooManyRequestsException`.
#[test]
fn managed_instances_rejection_is_429() {
    let emulator = Emulator::builder()
        .concurrency(2)
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    // No runtime is running, so no `/next` is parked: every invocation is turned away.
    let mut response = agent()
        .post(format!(
            "http://{}/2015-03-31/functions/function/invocations",
            emulator.front_addr().unwrap()
        ))
        .send("{}")
        .unwrap();
    assert_eq!(response.status(), 429);
    assert_eq!(
        header(&response, "x-amzn-errortype").as_deref(),
        Some("TooManyRequestsException")
    );
    assert!(json_body(&mut response)["message"].is_string());
}

/// One decoded event-stream message.
struct Message {
    headers: Vec<(String, String)>,
    payload: Vec<u8>,
}

impl Message {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// CRC-32 (IEEE), bit by bit: independent of the emulator's table-driven one.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Decodes a whole event stream (the AWS format: prelude with CRC, string headers, payload,
/// message CRC), checking every length and checksum.
fn decode_event_stream(mut bytes: &[u8]) -> Vec<Message> {
    let be32 = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    let mut messages = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 16, "truncated message");
        let total = be32(&bytes[0..]) as usize;
        let headers_len = be32(&bytes[4..]) as usize;
        assert_eq!(be32(&bytes[8..]), crc32(&bytes[..8]), "prelude CRC");
        assert!(total >= 16 + headers_len && total <= bytes.len(), "lengths");
        assert_eq!(
            be32(&bytes[total - 4..]),
            crc32(&bytes[..total - 4]),
            "message CRC"
        );
        let mut headers = Vec::new();
        let mut h = &bytes[12..12 + headers_len];
        while !h.is_empty() {
            let name_len = usize::from(h[0]);
            let name = String::from_utf8(h[1..1 + name_len].to_vec()).unwrap();
            assert_eq!(h[1 + name_len], 7, "string header");
            let at = 2 + name_len;
            let value_len = usize::from(u16::from_be_bytes([h[at], h[at + 1]]));
            let value = String::from_utf8(h[at + 2..at + 2 + value_len].to_vec()).unwrap();
            headers.push((name, value));
            h = &h[at + 2 + value_len..];
        }
        messages.push(Message {
            headers,
            payload: bytes[12 + headers_len..total - 4].to_vec(),
        });
        bytes = &bytes[total..];
    }
    messages
}

/// The payload chunks joined, and the `InvokeComplete` payload (which must come last, once).
fn split_events(messages: &[Message]) -> (Vec<u8>, Value) {
    let (last, chunks) = messages.split_last().expect("at least InvokeComplete");
    assert_eq!(last.header(":event-type"), Some("InvokeComplete"));
    assert_eq!(last.header(":message-type"), Some("event"));
    let mut body = Vec::new();
    for chunk in chunks {
        assert_eq!(chunk.header(":event-type"), Some("PayloadChunk"));
        assert_eq!(chunk.header(":message-type"), Some("event"));
        body.extend_from_slice(&chunk.payload);
    }
    (body, serde_json::from_slice(&last.payload).unwrap())
}

/// InvokeWithResponseStream: an `application/vnd.amazon.eventstream` body, chunked, whose
/// `PayloadChunk` events (CRCs checked) carry the streamed body and end with
/// `InvokeComplete`; `Tail` puts the log in `LogResult`.
#[test]
fn streaming_invoke_event_stream() {
    let served = serve_front(invoked);
    let mut response = agent()
        .post(stream_url(&served, "function"))
        .header("x-amz-log-type", "Tail")
        .send(r#"{"how":"stream"}"#)
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/vnd.amazon.eventstream")
    );
    assert_eq!(
        header(&response, "transfer-encoding").as_deref(),
        Some("chunked")
    );
    assert_eq!(
        header(&response, "x-amz-executed-version").as_deref(),
        Some("$LATEST")
    );
    let messages = decode_event_stream(&body(&mut response));
    let (streamed, complete) = split_events(&messages);
    assert_eq!(streamed, b"chunk 0\nchunk 1\nchunk 2\n");
    assert!(complete.get("ErrorCode").is_none(), "{complete}");
    let log = crate::support::base64_decode(complete["LogResult"].as_str().unwrap());
    let log = String::from_utf8(log).unwrap();
    assert!(
        log.contains("START RequestId") && log.contains("REPORT RequestId"),
        "{log}"
    );
    // A buffered answer through the streaming API is one chunk.
    let mut buffered = agent()
        .post(stream_url(&served, "function"))
        .send(r#"{"n":1}"#)
        .unwrap();
    let (payload, complete) = split_events(&decode_event_stream(&body(&mut buffered)));
    assert_eq!(
        serde_json::from_slice::<Value>(&payload).unwrap(),
        json!({"echo": {"n": 1}})
    );
    assert_eq!(complete, json!({}));
    served.shutdown();
}

/// A streaming invoke whose function fails mid-stream: the chunks sent before the error,
/// then `InvokeComplete` with the error type as `ErrorCode` and its message as
/// `ErrorDetails`.
#[test]
fn streaming_invoke_mid_stream_error() {
    let served = serve_front(invoked);
    let mut response = agent()
        .post(stream_url(&served, "function"))
        .send(r#"{"how":"stream-fail"}"#)
        .unwrap();
    assert_eq!(response.status(), 200);
    let (streamed, complete) = split_events(&decode_event_stream(&body(&mut response)));
    assert_eq!(streamed, b"chunk 0\nchunk 1\nchunk 2\n");
    assert_eq!(complete["ErrorCode"], "Function.StreamBroke");
    assert_eq!(complete["ErrorDetails"], "failed after three chunks");
    served.shutdown();
}

/// Function URL handler: answers by path.
fn url_handler(event: Value, _: &mut Context) -> Result<Reply, Diagnostic> {
    let path = event["rawPath"].as_str().unwrap_or_default().to_owned();
    match path.as_str() {
        "/structured" => Ok(Reply::json(&json!({
            "statusCode": 201,
            "headers": {"Content-Type": "image/png", "X-Custom": "yes"},
            "cookies": ["session=abc; Path=/; HttpOnly", "theme=dark"],
            "body": crate::support::base64_encode([0, 1, 2, 254, 255]),
            "isBase64Encoded": true,
        }))),
        "/plain" => Ok(Reply::json("Hello, world!")),
        "/fail" => Err(Diagnostic::new("Function.Boom", "it went boom")),
        "/stream-fail" => {
            let head = http::Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(())
                .map_err(|e| Diagnostic::new("Function.Head", e.to_string()))?;
            Ok(Reply::stream_http(head, |out| -> Result<(), Diagnostic> {
                out.write_all(b"partial ")?;
                Err(Diagnostic::new("Function.StreamBroke", "broke mid-stream"))
            }))
        }
        // Any other path: the event itself, as a plain payload (so 200 JSON, inferred).
        _ => Ok(Reply::json(&event)),
    }
}

/// The sorted keys of a JSON object.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// A GET with a query and cookies becomes a payload format 2.0 event shaped like a real
/// Function URL event (the fixture's keys), with rawPath, rawQueryString, decoded and
/// comma-joined queryStringParameters, cookies apart from the lowercased headers, and the
/// method; a plain answer comes back as 200 `application/json`.
#[test]
fn function_url_get_event() {
    let served = serve_front(url_handler);
    let mut response = agent()
        .get(url(
            &served,
            "/my/path?parameter1=value1&parameter1=value2&parameter2=a%20b",
        ))
        .header("Cookie", "test=hi; other=2")
        .header("X-Multi", "one")
        .header("X-Multi", "two")
        .header("User-Agent", "front-test/1")
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("application/json")
    );
    let event = json_body(&mut response);
    let fixture: Value = serde_json::from_str(URL_EVENT_FIXTURE).unwrap();
    for key in keys(&fixture) {
        assert!(event.get(&key).is_some(), "missing {key} in {event}");
    }
    assert_eq!(
        keys(&event["requestContext"]),
        keys(&fixture["requestContext"])
    );
    assert_eq!(
        keys(&event["requestContext"]["http"]),
        keys(&fixture["requestContext"]["http"])
    );
    assert_eq!(event["version"], "2.0");
    assert_eq!(event["rawPath"], "/my/path");
    assert_eq!(
        event["rawQueryString"],
        "parameter1=value1&parameter1=value2&parameter2=a%20b"
    );
    assert_eq!(
        event["queryStringParameters"],
        json!({"parameter1": "value1,value2", "parameter2": "a b"})
    );
    assert_eq!(event["cookies"], json!(["test=hi", "other=2"]));
    assert_eq!(event["headers"]["x-multi"], "one,two");
    assert_eq!(event["headers"]["user-agent"], "front-test/1");
    assert!(event["headers"].get("cookie").is_none());
    let http = &event["requestContext"]["http"];
    assert_eq!(http["method"], "GET");
    assert_eq!(http["path"], "/my/path");
    assert_eq!(http["userAgent"], "front-test/1");
    assert_eq!(event["requestContext"]["stage"], "$default");
    assert_eq!(event["isBase64Encoded"], false);
    assert!(event.get("body").is_none());
    served.shutdown();
}

/// A POST with a binary body arrives base64-encoded with `isBase64Encoded`; a JSON body
/// arrives as text.
#[test]
fn function_url_post_bodies() {
    let served = serve_front(url_handler);
    let agent = agent();
    let binary: Vec<u8> = (0..=255u8).collect();
    let mut response = agent
        .post(url(&served, "/upload"))
        .header("content-type", "application/octet-stream")
        .send(&binary[..])
        .unwrap();
    let event = json_body(&mut response);
    assert_eq!(event["requestContext"]["http"]["method"], "POST");
    assert_eq!(event["isBase64Encoded"], true);
    assert_eq!(
        crate::support::base64_decode(event["body"].as_str().unwrap()),
        binary
    );
    let mut response = agent
        .post(url(&served, "/json"))
        .header("content-type", "application/json")
        .send(r#"{"a":1}"#)
        .unwrap();
    let event = json_body(&mut response);
    assert_eq!(
        (&event["body"], &event["isBase64Encoded"]),
        (&json!(r#"{"a":1}"#), &json!(false))
    );
    served.shutdown();
}

/// Response mapping: `statusCode`, `headers`, each cookie as its own `Set-Cookie`, and a
/// base64 body decoded byte for byte; a plain string payload is a 200 JSON body as sent; a
/// function error is a 502 with a JSON body.
#[test]
fn function_url_response_mapping() {
    let served = serve_front(url_handler);
    let agent = agent();
    let mut structured = agent.get(url(&served, "/structured")).call().unwrap();
    assert_eq!(structured.status(), 201);
    assert_eq!(
        header(&structured, "content-type").as_deref(),
        Some("image/png")
    );
    assert_eq!(header(&structured, "x-custom").as_deref(), Some("yes"));
    let cookies: Vec<&str> = structured
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies, ["session=abc; Path=/; HttpOnly", "theme=dark"]);
    assert_eq!(body(&mut structured), [0, 1, 2, 254, 255]);

    let mut plain = agent.get(url(&served, "/plain")).call().unwrap();
    assert_eq!(plain.status(), 200);
    assert_eq!(
        header(&plain, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(body(&mut plain), br#""Hello, world!""#);

    let mut failed = agent.get(url(&served, "/fail")).call().unwrap();
    assert_eq!(failed.status(), 502);
    assert_eq!(
        header(&failed, "content-type").as_deref(),
        Some("application/json")
    );
    assert_eq!(
        json_body(&mut failed),
        json!({"Message": "Internal Server Error"})
    );
    served.shutdown();
}

/// A streamed HTTP-integration answer: the client gets the prelude's status, headers and
/// cookies, then the body chunk by chunk as the function writes it — the first chunk is read
/// before the function is allowed to write the second.
#[test]
fn function_url_streamed_response() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx: Arc<Mutex<Receiver<()>>> = Arc::new(Mutex::new(go_rx));
    let served = serve_front(move |_: Value, _: &mut Context| {
        let go = go_rx.clone();
        let head = http::Response::builder()
            .status(202)
            .header("content-type", "text/plain")
            .header("x-stream", "1")
            .header("set-cookie", "a=1")
            .header("set-cookie", "b=2")
            .body(())
            .map_err(|e| Diagnostic::new("Function.Head", e.to_string()))?;
        Ok::<_, Diagnostic>(Reply::stream_http(
            head,
            move |out| -> Result<(), Diagnostic> {
                out.write_all(b"first;")?;
                go.lock()
                    .unwrap()
                    .recv_timeout(LIMIT)
                    .map_err(|_| Diagnostic::new("Function.NoGo", "the test never said go"))?;
                out.write_all(b"second")?;
                Ok(())
            },
        ))
    });
    let response = agent().get(url(&served, "/stream")).call().unwrap();
    assert_eq!(response.status(), 202);
    assert_eq!(
        header(&response, "content-type").as_deref(),
        Some("text/plain")
    );
    assert_eq!(header(&response, "x-stream").as_deref(), Some("1"));
    assert_eq!(
        header(&response, "transfer-encoding").as_deref(),
        Some("chunked")
    );
    let cookies: Vec<&str> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    assert_eq!(cookies, ["a=1", "b=2"]);
    let mut reader = response.into_body().into_reader();
    let mut received = Vec::new();
    let mut buf = [0u8; 64];
    while received.len() < b"first;".len() {
        let n = reader.read(&mut buf).unwrap();
        assert!(n > 0, "the body ended early");
        received.extend_from_slice(&buf[..n]);
    }
    assert_eq!(received, b"first;");
    go_tx.send(()).unwrap();
    reader.read_to_end(&mut received).unwrap();
    assert_eq!(received, b"first;second");
    served.shutdown();
}

/// A streamed answer that fails after its head went out: the status (from the prelude) and
/// the bytes before the error arrive, then the body ends abnormally (no last chunk, the
/// connection closed), so the client sees an error rather than a complete response.
#[test]
fn function_url_stream_mid_error_ends_abnormally() {
    let served = serve_front(url_handler);
    let response = agent().get(url(&served, "/stream-fail")).call().unwrap();
    assert_eq!(response.status(), 200);
    let mut reader = response.into_body().into_reader();
    let mut received = Vec::new();
    let mut buf = [0u8; 64];
    let ended = loop {
        match reader.read(&mut buf) {
            Ok(0) => break Ok(()),
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) => break Err(e),
        }
    };
    assert_eq!(received, b"partial ");
    assert!(ended.is_err(), "the body must not end normally");
    served.shutdown();
}

/// Sends raw bytes to the front and reads until the server closes: status line, headers and
/// body of the answer.
fn raw_exchange(served: &Served, request: &[u8]) -> (String, Vec<u8>) {
    let mut stream = TcpStream::connect(front(served)).unwrap();
    stream.set_read_timeout(Some(LIMIT)).unwrap();
    stream.write_all(request).unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    (
        String::from_utf8_lossy(&raw[..split]).into_owned(),
        raw[split + 4..].to_vec(),
    )
}

/// Malformed requests on the front get a 4xx with a JSON error and the connection closed:
/// a garbage request line, and a bad `Content-Length` on the invoke path (answered in AWS's
/// error shape).
#[test]
fn malformed_requests_get_json_errors() {
    let served = serve_front(url_handler);
    let (head, body) = raw_exchange(&served, b"GARBAGE\r\n\r\n");
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json")
    );
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert!(error["errorMessage"].is_string(), "{error}");

    let (head, body) = raw_exchange(
        &served,
        b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: ten\r\n\r\n",
    );
    assert!(head.starts_with("HTTP/1.1 400 "), "{head}");
    assert!(
        head.to_ascii_lowercase().contains("x-amzn-errortype: "),
        "{head}"
    );
    let error: Value = serde_json::from_slice(&body).unwrap();
    assert!(error["message"].is_string(), "{error}");
    served.shutdown();
}

/// Issue 15 row 6: qualifiers and aliases. With version 3 declared and alias `prod` for it,
/// the Invoke API accepts `$LATEST`, `3` and `prod` (in the name or as `?Qualifier=`), runs
/// the function as the version they name (`X-Amz-Executed-Version`, the START line), and
/// hands the runtime the invoked ARN with the qualifier the caller used, so a handler can
/// read its stage from the alias; a version or alias that does not exist is a 404
/// `ResourceNotFoundException` naming the qualified ARN, as on Lambda; streaming invokes too.
#[test]
fn qualifiers_and_aliases() {
    // Named `orders`: with the default name `function`, `function:prod` is the partial ARN
    // of a function named `prod`, as Lambda's FunctionName pattern reads it.
    let served = serve_with(
        Emulator::builder()
            .function_name("orders")
            .front(SocketAddr::from(([127, 0, 0, 1], 0)))
            .version("3")
            .alias("prod", "3")
            .alias("canary", "$LATEST"),
        |r| r,
        |_: Value, ctx: &mut Context| {
            Ok::<_, Diagnostic>(json!({ "arn": ctx.invoked_function_arn() }))
        },
    );
    let agent = agent();
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:orders";
    for (path, version, invoked) in [
        ("orders", "3", arn.to_owned()),
        ("orders:prod", "3", format!("{arn}:prod")),
        ("orders?Qualifier=prod", "3", format!("{arn}:prod")),
        ("orders:3", "3", format!("{arn}:3")),
        ("orders:$LATEST", "$LATEST", format!("{arn}:$LATEST")),
        (
            "orders?Qualifier=%24LATEST",
            "$LATEST",
            format!("{arn}:$LATEST"),
        ),
        ("orders:canary", "$LATEST", format!("{arn}:canary")),
        (
            "arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders%3Aprod",
            "3",
            format!("{arn}:prod"),
        ),
    ] {
        let (name, query) = path.split_once('?').unwrap_or((path, ""));
        let mut url = invoke_url(&served, name);
        if !query.is_empty() {
            url = format!("{url}?{query}");
        }
        let mut response = agent.post(&url).send("{}").unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            header(&response, "x-amz-executed-version").as_deref(),
            Some(version),
            "{path}"
        );
        assert_eq!(
            json_body(&mut response),
            json!({ "arn": invoked }),
            "{path}"
        );
        served.report();
    }
    for missing in ["orders:staging", "orders:7"] {
        let mut response = agent.post(invoke_url(&served, missing)).send("{}").unwrap();
        assert_eq!(response.status(), 404, "{missing}");
        assert_eq!(
            header(&response, "x-amzn-errortype").as_deref(),
            Some("ResourceNotFoundException")
        );
        let qualifier = missing.split(':').nth(1).unwrap();
        assert_eq!(
            json_body(&mut response)["message"],
            format!("Function not found: {arn}:{qualifier}")
        );
    }
    let mut streamed = agent
        .post(format!("{}?Qualifier=prod", stream_url(&served, "orders")))
        .send("{}")
        .unwrap();
    assert_eq!(streamed.status(), 200);
    assert_eq!(
        header(&streamed, "x-amz-executed-version").as_deref(),
        Some("3")
    );
    let (bytes, _) = split_events(&decode_event_stream(&body(&mut streamed)));
    assert_eq!(
        serde_json::from_slice::<Value>(&bytes).unwrap(),
        json!({ "arn": format!("{arn}:prod") })
    );
    served.shutdown();
}

/// The START lines of invocations name the version they ran as.
#[test]
fn start_lines_name_the_executed_version() {
    let emulator = Emulator::builder()
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .alias("live", "5")
        .start()
        .unwrap();
    let runtime = coda_lambda::Runtime::new(emulator.config()).publish_trace_id(false);
    std::thread::spawn(move || runtime.run(|v: Value, _: &mut Context| Ok::<_, Diagnostic>(v)));
    let front = emulator.front_addr().unwrap();
    let response = agent()
        .post(format!(
            "http://{front}/2015-03-31/functions/function/invocations?Qualifier=live"
        ))
        .send("{}")
        .unwrap();
    assert_eq!(
        header(&response, "x-amz-executed-version").as_deref(),
        Some("5")
    );
    emulator.wait_parked(LIMIT).unwrap();
}

/// Issue 15 row 11: the Function URL front sends the registered reason phrase of any status
/// the function chooses (`201 Created`, `418 I'm a teapot`), and an empty one for a code no
/// registry names, never a made-up word.
#[test]
fn function_url_reason_phrases() {
    let served = serve_front(|event: Value, _: &mut Context| {
        let status: u16 = event["rawPath"].as_str().unwrap_or("/200")[1..]
            .parse()
            .unwrap_or(200);
        Ok::<_, Diagnostic>(json!({"statusCode": status, "body": "x"}))
    });
    for (path, line) in [
        ("/201", "HTTP/1.1 201 Created"),
        ("/418", "HTTP/1.1 418 I'm a teapot"),
        ("/451", "HTTP/1.1 451 Unavailable For Legal Reasons"),
        ("/299", "HTTP/1.1 299 "),
    ] {
        let (head, _) = raw_exchange(
            &served,
            format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes(),
        );
        assert_eq!(head.lines().next().unwrap(), line, "{path}");
    }
    served.shutdown();
}

/// Reads a `/next` answer on `stream` (a raw runtime): its request id.
fn raw_next(stream: &mut TcpStream) -> String {
    stream
        .write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    // The head, then a body of Content-Length bytes.
    while !raw.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).unwrap();
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).unwrap();
    head.lines()
        .find_map(|l| l.strip_prefix("lambda-runtime-aws-request-id: "))
        .expect("a request id")
        .trim()
        .to_owned()
}

/// Issue 15 row 11: a streamed Function URL response whose runtime connection breaks
/// mid-stream (as a runtime that aborts its chunked body does) ends so that the client can
/// tell: the raw bytes the client reads are the head, the chunk that arrived, and then the
/// connection closes — no terminating `0\r\n\r\n` chunk. The invocation is answered as
/// `Runtime.TruncatedResponse` and is not handed out again: the runtime's next `/next`
/// waits for a new event.
#[test]
fn a_stream_cut_short_never_ends_cleanly() {
    let emulator = Emulator::builder()
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    let runtime_api = emulator.addr();
    let front = emulator.front_addr().unwrap();
    let runtime = std::thread::spawn(move || {
        let mut next = TcpStream::connect(runtime_api).unwrap();
        let id = raw_next(&mut next);
        let mut post = TcpStream::connect(runtime_api).unwrap();
        post.write_all(
            format!(
                "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
                 Lambda-Runtime-Function-Response-Mode: streaming\r\n\
                 Content-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
            )
            .as_bytes(),
        )
        .unwrap();
        // The runtime dies mid-stream: the connection closes without the last chunk.
        drop(post);
        next
    });
    let mut client = TcpStream::connect(front).unwrap();
    client.set_read_timeout(Some(LIMIT)).unwrap();
    client
        .write_all(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut raw = Vec::new();
    client
        .read_to_end(&mut raw)
        .expect("the server closes the connection");
    let text = String::from_utf8_lossy(&raw).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text:?}");
    assert!(
        text.contains("transfer-encoding: chunked\r\n")
            || text.contains("Transfer-Encoding: chunked\r\n"),
        "{text:?}"
    );
    assert!(
        text.ends_with("\r\n\r\n5\r\nhello\r\n"),
        "cut after the chunk: {text:?}"
    );
    assert!(!text.contains("0\r\n\r\n"), "no last chunk: {text:?}");
    // The same runtime connection asks again: the truncated invocation is not handed out
    // twice, so the call parks.
    let mut next = runtime.join().unwrap();
    next.write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    emulator
        .wait_parked(LIMIT)
        .expect("the next /next waits for a new event");
}

/// Issue 15 row 11: in Managed Instances mode (`--concurrency 4`) with a runtime that polls
/// `/next` once (Coda's, which is sequential), a second concurrent caller is turned away with
/// 429 whose message says what happened: the concurrency allowed, the one `/next` out, and
/// how to have invocations queue instead.
#[test]
fn a_429_says_the_runtime_polls_once() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let release = Arc::new(Mutex::new(release_rx));
    let started = Arc::new(Mutex::new(started_tx));
    let served = serve_with(
        Emulator::builder()
            .concurrency(4)
            .front(SocketAddr::from(([127, 0, 0, 1], 0))),
        |r| r,
        move |_: Value, _: &mut Context| {
            let _ = started.lock().unwrap().send(());
            let _ = release.lock().unwrap().recv_timeout(LIMIT);
            Ok::<_, Diagnostic>(json!("done"))
        },
    );
    served.emulator.wait_parked(LIMIT).unwrap();
    let url = invoke_url(&served, "function");
    let first = std::thread::spawn({
        let url = url.clone();
        move || agent().post(&url).send("{}").unwrap().status()
    });
    // The first invocation holds the runtime's one `/next`.
    started_rx
        .recv_timeout(LIMIT)
        .expect("the first invocation runs");
    let mut second = agent().post(&url).send("{}").unwrap();
    assert_eq!(second.status(), 429);
    let message = json_body(&mut second)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    release_tx.send(()).unwrap();
    assert_eq!(first.join().unwrap(), 200);
    for part in [
        "allows 4 invocations at once",
        "only 1 /next call(s) out",
        "a runtime that polls /next once serves one invocation at a time",
        "without --concurrency",
    ] {
        assert!(message.contains(part), "{part:?} in {message}");
    }
    served.shutdown();
}
