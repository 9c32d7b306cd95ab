//! `http-echo` (the example, compiled in as a module) behind the emulator's Function URL
//! front — the front `coda run` serves — called with a real HTTP client: the front's
//! payload-2.0 events and the adapter agree on the request, and every response case comes
//! back byte for byte, buffered and in `RESPONSE_STREAM` mode.

use std::io::Read;
use std::net::SocketAddr;
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use coda_emulator::Emulator;
use coda_handlers::http::{Adapter, Body, HttpHandler, Request, Response};
use coda_lambda::{Context, Diagnostic, Runtime};
use serde_json::{Value, json};

use crate::http_echo_example::echo;
use crate::support::unbase64;

/// The limit of any wait; reaching it fails the test.
const LIMIT: Duration = Duration::from_secs(20);

/// A handler served by the real loop on a thread, behind an emulator with a front.
struct Served {
    emulator: Emulator,
    thread: Option<JoinHandle<coda_lambda::Error>>,
}

impl Served {
    fn start<H: HttpHandler + Send + 'static>(adapter: Adapter<H>) -> Served {
        coda_emulator::testing::init_logger();
        let emulator = Emulator::builder()
            .front(SocketAddr::from(([127, 0, 0, 1], 0)))
            .start()
            .expect("the emulator binds 127.0.0.1");
        let runtime = Runtime::new(emulator.config()).publish_trace_id(false);
        let thread = std::thread::spawn(move || runtime.run(adapter));
        Served {
            emulator,
            thread: Some(thread),
        }
    }

    fn url(&self, path: &str) -> String {
        format!(
            "http://{}{path}",
            self.emulator.front_addr().expect("a front")
        )
    }

    /// Stops the emulator and waits for the loop to end on its own.
    fn stop(mut self) {
        self.emulator
            .wait_parked(LIMIT)
            .expect("the runtime parks on /next");
        self.emulator.shutdown();
        let thread = self.thread.take().expect("the loop thread");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(thread.join().is_ok());
        });
        assert_eq!(
            rx.recv_timeout(LIMIT),
            Ok(true),
            "the loop ends without panicking"
        );
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .timeout_global(Some(LIMIT))
        .build()
        .new_agent()
}

fn body(response: &mut http::Response<ureq::Body>) -> Vec<u8> {
    response.body_mut().read_to_vec().expect("a complete body")
}

fn all(response: &http::Response<ureq::Body>, name: &str) -> Vec<String> {
    response
        .headers()
        .get_all(name)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The description `http-echo` gives of a GET with a query (order and repeats kept, an
/// escape inside), repeated headers and cookies, as the front turns it into a payload 2.0
/// event: the origin, the full URI, headers sorted by name, no body.
#[test]
fn http_echo_describes_the_request() {
    let served = Served::start(Adapter::new(echo));
    let mut response = agent()
        .get(served.url("/some/path?b=2&a=1&b=%203"))
        .header("X-Demo", "1")
        .header("X-Multi", "one")
        .header("X-Multi", "two")
        .header("Cookie", "c1=v1; c2=v2")
        .header("User-Agent", "front-test")
        .call()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(all(&response, "content-type"), ["application/json"]);
    let description: Value = serde_json::from_slice(&body(&mut response)).unwrap();
    let host = served.emulator.front_addr().unwrap().to_string();
    assert_eq!(description["origin"], "function_url");
    assert_eq!(description["method"], "GET");
    assert_eq!(
        description["uri"],
        format!("http://{host}/some/path?b=2&a=1&b=%203")
    );
    assert_eq!(description["path"], "/some/path");
    assert_eq!(description["raw_path"], "/some/path");
    assert_eq!(
        description["query"],
        json!([["b", "2"], ["a", "1"], ["b", " 3"]])
    );
    let headers = description["headers"].as_array().unwrap();
    let names: Vec<&str> = headers.iter().map(|h| h[0].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted, "headers are sorted by name");
    let value = |name: &str| -> Vec<&Value> {
        headers
            .iter()
            .filter(|h| h[0] == name)
            .map(|h| &h[1])
            .collect()
    };
    assert_eq!(value("cookie"), [&json!("c1=v1; c2=v2")]);
    assert_eq!(value("x-demo"), [&json!("1")]);
    assert_eq!(value("x-multi"), [&json!("one,two")]);
    assert_eq!(value("host"), [&json!(host)]);
    assert_eq!(value("user-agent"), [&json!("front-test")]);
    assert_eq!(value("x-forwarded-proto"), [&json!("http")]);
    assert_eq!(description["body_base64"], Value::Null);
    assert_eq!(description["path_parameters"], json!({}));
    assert_eq!(description["stage_variables"], json!({}));
    served.stop();
}

/// Request bodies reach the handler byte for byte, binary (base64 in the event) or text.
#[test]
fn http_echo_sees_request_bodies() {
    let served = Served::start(Adapter::new(echo));
    let binary: Vec<u8> = (0..=255u8).collect();
    for (content_type, sent) in [
        ("application/octet-stream", binary.clone()),
        ("application/json", br#"{"a":1}"#.to_vec()),
        ("text/plain", vec![0xFF, 0xFE]),
    ] {
        let mut response = agent()
            .post(served.url("/upload"))
            .header("content-type", content_type)
            .send(&sent[..])
            .unwrap();
        let description: Value = serde_json::from_slice(&body(&mut response)).unwrap();
        assert_eq!(description["method"], "POST");
        assert_eq!(
            unbase64(description["body_base64"].as_str().unwrap()),
            sent,
            "{content_type}"
        );
    }
    served.stop();
}

/// Response cases `a`–`f` over real HTTP, as the client sees them, buffered or streamed
/// (`streamed`): the same headers either way, none added.
fn check_cases(served: &Served) {
    let none: Vec<String> = Vec::new();
    let agent = agent();
    let get = |case: &str| {
        agent
            .get(served.url(&format!("/x/__case/{case}")))
            .call()
            .unwrap()
    };

    let mut a = get("a");
    assert_eq!(a.status(), 201);
    assert_eq!(all(&a, "content-type"), ["application/json"]);
    assert_eq!(all(&a, "x-custom"), ["1"]);
    assert_eq!(
        all(&a, "set-cookie"),
        ["session=abc; Path=/; HttpOnly", "theme=dark; Max-Age=3600"]
    );
    assert_eq!(body(&mut a), br#"{"ok":true,"n":1}"#);

    let mut b = get("b");
    assert_eq!(
        (b.status().as_u16(), all(&b, "content-type")),
        (200, vec!["image/png".into()])
    );
    assert_eq!(body(&mut b), [0x89, 0x50, 0x4E, 0x47]);

    let mut c = get("c");
    assert_eq!(c.status(), 204);
    assert_eq!(all(&c, "content-type"), none);
    assert!(body(&mut c).is_empty());

    let mut d = get("d");
    assert_eq!(all(&d, "content-type"), ["text/html; charset=utf-8"]);
    assert_eq!(all(&d, "content-encoding"), ["gzip"]);
    let gzip = body(&mut d);
    assert_eq!(&gzip[..2], [0x1f, 0x8b]);
    assert_eq!(gzip.len(), 22);

    let mut e = get("e");
    assert_eq!(e.status(), 200);
    assert_eq!(all(&e, "x-multi"), ["a, b"]);
    assert_eq!(all(&e, "content-type"), none);
    assert_eq!(body(&mut e), [0x41, 0xFF, 0x42]);

    let mut f = get("f");
    assert_eq!(all(&f, "content-type"), ["text/plain"]);
    assert_eq!(body(&mut f), [0xEF, 0xBB, 0xBF, 0x68, 0x69]);
}

/// Buffered answers (the Function URL's `BUFFERED` mode).
#[test]
fn http_echo_response_cases_buffered() {
    let served = Served::start(Adapter::new(echo));
    check_cases(&served);
    served.stop();
}

/// The same answers as HTTP-integration streams (`RESPONSE_STREAM` mode), as `http-echo`
/// sends them with `HTTP_ECHO_INVOKE_MODE=RESPONSE_STREAM`.
#[test]
fn http_echo_response_cases_streamed() {
    let served = Served::start(Adapter::new(echo).response_stream(true));
    check_cases(&served);
    let mut described = agent().get(served.url("/p?q=1")).call().unwrap();
    assert_eq!(
        all(&described, "transfer-encoding"),
        ["chunked"],
        "the answer was streamed"
    );
    let description: Value = serde_json::from_slice(&body(&mut described)).unwrap();
    assert_eq!(description["query"], json!([["q", "1"]]));
    served.stop();
}

/// A `Body::stream` reaches the client write by write: the client reads the first piece
/// before the handler is allowed to write the second.
#[test]
fn streamed_bodies_arrive_as_written() {
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let go_rx: Arc<Mutex<Receiver<()>>> = Arc::new(Mutex::new(go_rx));
    let handler = move |_: Request, _: &mut Context| {
        let go = go_rx.clone();
        let response = Response::builder()
            .status(200)
            .header("content-type", "text/plain")
            .header("set-cookie", "s=1")
            .body(Body::stream(move |out| -> Result<(), Diagnostic> {
                out.write_all(b"first;")?;
                out.flush()?;
                let gate = go
                    .lock()
                    .map_err(|_| Diagnostic::new("Function.Gate", "poisoned"))?;
                gate.recv_timeout(LIMIT)
                    .map_err(|_| Diagnostic::new("Function.NoGo", "the test never said go"))?;
                out.write_all(b"second")?;
                Ok(())
            }))?;
        Ok::<_, Diagnostic>(response)
    };
    let served = Served::start(Adapter::new(handler).response_stream(true));
    let response = agent().get(served.url("/stream")).call().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(all(&response, "content-type"), ["text/plain"]);
    assert_eq!(all(&response, "set-cookie"), ["s=1"]);
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
    served.stop();
}

/// Without streaming, a `Body::stream` is collected and sent as one buffered body.
#[test]
fn streamed_bodies_are_buffered_when_not_streaming() {
    let handler = |_: Request, _: &mut Context| {
        Ok::<_, Diagnostic>(Response::new(Body::stream(|out| -> std::io::Result<()> {
            out.write_all(b"one ")?;
            out.write_all(b"two")
        })))
    };
    let served = Served::start(Adapter::new(handler));
    let mut response = agent().get(served.url("/")).call().unwrap();
    assert!(all(&response, "transfer-encoding").is_empty());
    assert_eq!(body(&mut response), b"one two");
    served.stop();
}
