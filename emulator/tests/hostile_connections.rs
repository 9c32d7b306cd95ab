//! Hostile and careless connections against a real in-process emulator, over raw TCP: the
//! caps of a request (request line, head, trailers), chunked framing however it arrives,
//! the connection caps, and the head, idle and body timeouts (short ones, set through the
//! builder). Every read has a guard timeout so a regression fails instead of hanging.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use coda_emulator::{Emulator, Invoke};

#[path = "support/response.rs"]
mod response;
use response::Response;

/// How long any single read may block before the test fails (a guard, not a wait).
const GUARD: Duration = Duration::from_secs(10);

/// A short timeout for the builder's head, idle and body settings.
const SHORT: Duration = Duration::from_millis(200);

/// A connection with the guard timeout.
fn connect(addr: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to the emulator");
    stream.set_read_timeout(Some(GUARD)).expect("read timeout");
    stream.set_nodelay(true).expect("nodelay");
    stream
}

/// Reads one response (head and `Content-Length` body).
fn read_response(stream: &mut TcpStream) -> Response {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        match stream.read(&mut byte) {
            Ok(1) => buf.push(byte[0]),
            other => panic!(
                "no complete response head: {other:?} after {:?}",
                String::from_utf8_lossy(&buf)
            ),
        }
    }
    let mut fields = [httparse::EMPTY_HEADER; 32];
    let mut response = httparse::Response::new(&mut fields);
    response.parse(&buf).expect("a valid response head");
    let status = response.code.expect("a status");
    let headers: Vec<(String, String)> = response
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_ascii_lowercase(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect();
    let length: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).expect("the response body");
    Response {
        status,
        headers,
        body,
    }
}

/// Whether the server has closed `stream` (end of stream or reset, before the guard).
fn closed(stream: &mut TcpStream) -> bool {
    let mut probe = [0u8; 64];
    match stream.read(&mut probe) {
        Ok(0) => true,
        Ok(n) => panic!(
            "unexpected bytes: {:?}",
            String::from_utf8_lossy(&probe[..n])
        ),
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
    }
}

/// Sends `raw` and reads the response.
fn exchange(stream: &mut TcpStream, raw: &[u8]) -> Response {
    stream.write_all(raw).expect("send the request");
    read_response(stream)
}

/// A request the Runtime API port answers at once (404, connection kept).
const UNKNOWN: &[u8] = b"GET /2018-06-01/nothing HTTP/1.1\r\nHost: x\r\n\r\n";

/// Takes the queued invocation with a raw `GET /next`: its request id.
fn next(stream: &mut TcpStream) -> String {
    let response = exchange(
        stream,
        b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert_eq!(response.status, 200, "{response:?}");
    response
        .header("lambda-runtime-aws-request-id")
        .expect("a request id")
        .to_owned()
}

/// The head of a chunked `/response` for `id`.
fn chunked_response_head(id: &str) -> String {
    format!(
        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
         Transfer-Encoding: chunked\r\n\r\n"
    )
}

/// Row: a chunked trailer line that never ends is refused with 431 once it passes the
/// trailer cap (16 KiB), and the connection closed; the emulator stays up.
#[test]
fn chunked_trailer_line_that_never_ends_gets_431() {
    let emulator = Emulator::start().unwrap();
    let pending = emulator.invoke(Invoke::new("{}"));
    let mut runtime = connect(emulator.addr());
    let id = next(&mut runtime);
    runtime
        .write_all(format!("{}2\r\nok\r\n0\r\nX-Endless: ", chunked_response_head(&id)).as_bytes())
        .unwrap();
    // 64 KiB of a trailer line that never ends, in small pieces, then read the answer.
    let piece = [b'a'; 256];
    for _ in 0..256 {
        if runtime.write_all(&piece).is_err() {
            break;
        }
    }
    let response = read_response(&mut runtime);
    assert_eq!(response.status, 431, "{response:?}");
    assert_eq!(response.json()["errorType"], "RequestHeaderFieldsTooLarge");
    assert!(
        response.json()["errorMessage"]
            .as_str()
            .is_some_and(|m| m.contains("trailer")),
        "{response:?}"
    );
    assert!(closed(&mut runtime));
    // The invocation was not answered by the refused post; a proper one still is.
    let mut again = connect(emulator.addr());
    let ok = format!("{}2\r\nok\r\n0\r\n\r\n", chunked_response_head(&id));
    assert_eq!(exchange(&mut again, ok.as_bytes()).status, 202);
    assert_eq!(pending.answer(GUARD).unwrap().payload, b"ok");
}

/// Row: chunk-size parsing does not depend on how the bytes arrive: a 1,500-byte chunk
/// extension sent in 100-byte segments is accepted as it is whole.
#[test]
fn chunk_extension_in_small_segments_is_accepted_as_whole() {
    let emulator = Emulator::start().unwrap();
    for segment in [usize::MAX, 100, 7] {
        let pending = emulator.invoke(Invoke::new("{}"));
        let mut runtime = connect(emulator.addr());
        let id = next(&mut runtime);
        let raw = format!(
            "{}5;{}\r\nhello\r\n0\r\n\r\n",
            chunked_response_head(&id),
            "e".repeat(1500)
        );
        for piece in raw.as_bytes().chunks(segment.min(raw.len())) {
            runtime.write_all(piece).unwrap();
            runtime.flush().unwrap();
        }
        let response = read_response(&mut runtime);
        assert_eq!(response.status, 202, "segments of {segment}: {response:?}");
        assert_eq!(pending.answer(GUARD).unwrap().payload, b"hello");
        drop(runtime);
    }
}

/// Row: an empty chunk size line, or `;x` (an extension without a size), is not the last
/// chunk: 400, and the invocation is not answered with the data before it.
#[test]
fn empty_or_sizeless_chunk_line_gets_400() {
    let emulator = Emulator::start().unwrap();
    for last in ["\r\n", ";x\r\n\r\n", "5\n"] {
        let _pending = emulator.invoke(Invoke::new("{}"));
        let mut runtime = connect(emulator.addr());
        let id = next(&mut runtime);
        let raw = format!("{}5\r\nhello\r\n{last}", chunked_response_head(&id));
        let response = exchange(&mut runtime, raw.as_bytes());
        assert_eq!(response.status, 400, "{last:?}: {response:?}");
        assert_eq!(response.json()["errorType"], "InvalidRequest");
        assert!(closed(&mut runtime));
        // The refused post did not answer it: a proper answer still can.
        let mut again = connect(emulator.addr());
        let ok = format!("{}2\r\nok\r\n0\r\n\r\n", chunked_response_head(&id));
        assert_eq!(exchange(&mut again, ok.as_bytes()).status, 202, "{last:?}");
    }
}

/// Row: the caps on a request: a request line over 8 KiB is a 414, more than 64 header
/// fields or a head over 64 KiB a 431, on both ports; each closes the connection.
#[test]
fn oversized_requests_get_414_or_431() {
    let emulator = Emulator::builder()
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    let line = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "u".repeat(8 * 1024));
    let fields = format!(
        "GET / HTTP/1.1\r\n{}\r\n",
        (0..65).map(|i| format!("X-{i}: v\r\n")).collect::<String>()
    );
    let head = format!("GET / HTTP/1.1\r\nX-Big: {}\r\n\r\n", "b".repeat(64 * 1024));
    for addr in [emulator.addr(), emulator.front_addr().unwrap()] {
        for (raw, status, error_type) in [
            (&line, 414, "RequestURITooLong"),
            (&fields, 431, "RequestHeaderFieldsTooLarge"),
            (&head, 431, "RequestHeaderFieldsTooLarge"),
        ] {
            let mut stream = connect(addr);
            let response = exchange(&mut stream, raw.as_bytes());
            assert_eq!(response.status, status, "{addr}: {response:?}");
            assert_eq!(response.json()["errorType"], error_type);
            assert_eq!(response.header("connection"), Some("close"));
            assert!(closed(&mut stream));
        }
    }
    // What fits is still served: 64 fields, a long (but not too long) line.
    let mut stream = connect(emulator.addr());
    let fits = format!(
        "GET /{} HTTP/1.1\r\n{}\r\n",
        "u".repeat(4096),
        (0..64).map(|i| format!("X-{i}: v\r\n")).collect::<String>()
    );
    assert_eq!(exchange(&mut stream, fits.as_bytes()).status, 404);
}

/// Row: connections over a listener's cap get a 503 with a JSON body and are closed, from
/// the accept loop; once one closes, new connections are served again.
#[test]
fn connections_over_the_cap_get_503() {
    const CAP: usize = 4;
    let emulator = Emulator::builder()
        .max_runtime_connections(CAP)
        .start()
        .unwrap();
    // CAP connections, each served once (so each is counted before the next connects).
    let mut held: Vec<TcpStream> = (0..CAP)
        .map(|_| {
            let mut stream = connect(emulator.addr());
            assert_eq!(exchange(&mut stream, UNKNOWN).status, 404);
            stream
        })
        .collect();
    for _ in 0..2 {
        let mut over = connect(emulator.addr());
        let response = read_response(&mut over);
        assert_eq!(response.status, 503, "{response:?}");
        assert_eq!(response.json()["errorType"], "ServiceUnavailable");
        assert_eq!(response.header("connection"), Some("close"));
        assert!(closed(&mut over));
    }
    // The held ones are still served.
    assert_eq!(exchange(&mut held[0], UNKNOWN).status, 404);
    // One closes; a new connection is served once the server has seen it go.
    drop(held.pop());
    let deadline = Instant::now() + GUARD;
    loop {
        let mut stream = connect(emulator.addr());
        stream.write_all(UNKNOWN).unwrap();
        let response = read_response(&mut stream);
        if response.status == 404 {
            break;
        }
        assert_eq!(response.status, 503);
        assert!(Instant::now() < deadline, "never served again");
        std::thread::yield_now();
    }
}

/// Row: a slow-loris head (its first bytes, then nothing) gets a 408 once the head timeout
/// passes, and its connection is closed, on either port.
#[test]
fn slow_loris_head_gets_408() {
    let emulator = Emulator::builder()
        .head_timeout(SHORT)
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    for addr in [emulator.addr(), emulator.front_addr().unwrap()] {
        let mut stream = connect(addr);
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow:")
            .unwrap();
        let response = read_response(&mut stream);
        assert_eq!(response.status, 408, "{addr}: {response:?}");
        assert_eq!(response.json()["errorType"], "RequestTimeout");
        assert!(closed(&mut stream));
    }
}

/// Row: a slow body on the invoke front (some bytes, then a pause longer than the body
/// timeout) gets a 408.
#[test]
fn stalled_front_body_gets_408() {
    let emulator = Emulator::builder()
        .body_timeout(SHORT)
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    let mut stream = connect(emulator.front_addr().unwrap());
    stream
        .write_all(
            b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n\
              Content-Length: 10\r\n\r\n{\"a\"",
        )
        .unwrap();
    let response = read_response(&mut stream);
    assert_eq!(response.status, 408, "{response:?}");
    assert!(closed(&mut stream));
}

/// Row: an idle kept connection to the invoke front is closed silently after the idle
/// timeout, while a kept connection to the Runtime API port, idle for longer, still serves.
#[test]
fn idle_front_connection_closes_but_runtime_connection_stays() {
    let emulator = Emulator::builder()
        .idle_timeout(SHORT)
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    let mut runtime = connect(emulator.addr());
    assert_eq!(exchange(&mut runtime, UNKNOWN).status, 404);
    let mut front = connect(emulator.front_addr().unwrap());
    let unknown_function =
        b"POST /2015-03-31/functions/nope/invocations HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}";
    assert_eq!(exchange(&mut front, unknown_function).status, 404);
    // The front closes its idle connection without a word (the read sees the end)...
    assert!(closed(&mut front));
    // ...and the Runtime API connection, idle for at least as long, is still served.
    assert_eq!(exchange(&mut runtime, UNKNOWN).status, 404);
}

/// Row: a caller that stops reading its answer is a slow connection too. The front's writes
/// wait at most the body timeout; then the connection, and its place under the cap, are
/// freed. With the front capped at one connection, a caller that never reads a 6 MB answer
/// (more than the socket buffers hold) would keep every other caller at 503 for good.
#[test]
fn a_caller_that_stops_reading_is_let_go() {
    let emulator = Emulator::builder()
        .body_timeout(SHORT)
        .max_front_connections(1)
        .front(SocketAddr::from(([127, 0, 0, 1], 0)))
        .start()
        .unwrap();
    let front = emulator.front_addr().unwrap();
    let mut stalled = connect(front);
    stalled
        .write_all(
            b"POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n\
              Content-Length: 2\r\n\r\n{}",
        )
        .unwrap();
    // The runtime's side, raw: the event, then an answer of 6 MB (the buffered limit).
    let mut runtime = connect(emulator.addr());
    let id = next(&mut runtime);
    let body = format!("\"{}\"", "a".repeat(6 * 1024 * 1024 - 2));
    let post = format!(
        "POST /2018-06-01/runtime/invocation/{id}/response HTTP/1.1\r\nHost: x\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    assert_eq!(exchange(&mut runtime, post.as_bytes()).status, 202);
    // The stalled caller holds the one place until its write times out; then a new caller
    // is served (a 404 for an unknown function, rather than the cap's 503).
    let deadline = Instant::now() + GUARD;
    loop {
        let mut stream = connect(front);
        stream
            .write_all(
                b"POST /2015-03-31/functions/nope/invocations HTTP/1.1\r\nHost: x\r\n\
                  Content-Length: 2\r\n\r\n{}",
            )
            .unwrap();
        let response = read_response(&mut stream);
        if response.status == 404 {
            break;
        }
        assert_eq!(response.status, 503, "{response:?}");
        assert!(
            Instant::now() < deadline,
            "the stalled caller kept its place"
        );
        std::thread::yield_now();
    }
    // What the stalled caller gets is its answer's start, then the end of the connection.
    let mut got = Vec::new();
    let _ = stalled.read_to_end(&mut got);
    assert!(
        got.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        &got[..got.len().min(64)]
    );
    assert!(
        got.len() < body.len(),
        "the whole answer went out: {} bytes",
        got.len()
    );
}
