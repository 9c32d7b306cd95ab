//! The Runtime API proxy: the runtime's `AWS_LAMBDA_RUNTIME_API` points here, and every
//! request goes on to the real Runtime API unchanged — method, target, headers in their own
//! case, the body as it arrives (a streamed `/response` chunk by chunk with its trailers,
//! `docs/runtime-api.md` §5) — and every answer comes back the same way. `/init/error`, the
//! Extensions API and anything else pass through like the rest.
//!
//! On the way it watches three things:
//! - a `/next` answered 200: the invocation handed out (request id, deadline, ARN) and, with
//!   `--files`, its event;
//! - a `/response` or `/error` the Runtime API accepted: once the runtime has that answer,
//!   the command for it starts ([`super::runner`]);
//! - the runtime's next `/next`: it waits until the command has ended ([`super::gate`]).
//!
//! One thread per connection from the runtime; connections upstream are kept and shared
//! ([`super::upstream`]). Two things are not passed on as they came: `Expect: 100-continue`
//! is answered here and left out upstream (the body follows at once either way), and a
//! connection that carried a streamed body is not kept, as §5.1 asks.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use coda_lambda::protocol;

use super::gate::{ConnId, Gate};
use super::http::{self, CopyError, Framing, Piece, Reader, RequestHead};
use super::invocations::{Deadline, Files, Invocation, Invocations, Tee};
use super::log::Log;
use super::runner::{Job, Outcome, Runner};
use super::upstream::Upstream;

/// How long the accept loop pauses after a failed accept.
const ACCEPT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(10);
/// How much of an `/error` body is kept to read its `errorType` from.
const ERROR_BODY_KEPT: usize = 64 * 1024;

/// What the proxy needs: where to forward, what to run, where to report.
#[derive(Debug)]
pub struct Proxy {
    /// The real Runtime API.
    upstream: Upstream,
    /// The `/next` holds.
    gate: Arc<Gate>,
    /// The invocations handed out.
    invocations: Invocations,
    /// The command runner.
    runner: Arc<Runner>,
    /// The command after a response.
    after_response: Option<String>,
    /// The command after an error.
    after_error: Option<String>,
    /// The event and answer files, with `--files`.
    files: Option<Files>,
    /// Where lines go.
    log: Log,
    /// The number of the next connection.
    next_conn: AtomicU64,
}

/// Which Runtime API request this is.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Route {
    /// `GET …/invocation/next`.
    Next,
    /// `POST …/invocation/{id}/response` or `…/error`.
    Answer {
        /// The request id, unescaped.
        id: String,
        /// Whether it is `/error`.
        error: bool,
    },
    /// Anything else (`/init/error`, the Extensions API, …): passed through.
    Other,
}

impl Route {
    /// The route of a request for `path`.
    fn of(method: &str, path: &str) -> Route {
        if path == protocol::NEXT_PATH && method.eq_ignore_ascii_case("GET") {
            return Route::Next;
        }
        if method.eq_ignore_ascii_case("POST")
            && let Some(rest) = path.strip_prefix(protocol::INVOCATION_PREFIX)
        {
            for (suffix, error) in [("/response", false), ("/error", true)] {
                if let Some(id) = rest.strip_suffix(suffix)
                    && !id.is_empty()
                    && !id.contains('/')
                {
                    return Route::Answer {
                        id: protocol::unescape_path_segment(id),
                        error,
                    };
                }
            }
        }
        Route::Other
    }
}

/// Whether a connection serves another request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    /// Read the next request on it.
    KeepAlive,
    /// Close it.
    Close,
}

/// What the proxy learned from an answer's request body as it passed.
#[derive(Debug, Default)]
struct AnswerSeen {
    /// The answer file being written.
    tee: Option<Tee>,
    /// The start of an `/error` body.
    error_body: Vec<u8>,
    /// Whether the body is an `/error`'s.
    keep_error_body: bool,
    /// `Lambda-Runtime-Function-Error-Type` of a streamed body's trailers.
    trailer_error_type: Option<String>,
}

impl AnswerSeen {
    /// Looks at one piece of the body.
    fn see(&mut self, piece: Piece<'_>) {
        match piece {
            Piece::Data(data) => {
                if let Some(tee) = &mut self.tee {
                    tee.write(data);
                }
                if self.keep_error_body {
                    let room = ERROR_BODY_KEPT.saturating_sub(self.error_body.len());
                    self.error_body
                        .extend_from_slice(data.get(..data.len().min(room)).unwrap_or_default());
                }
            }
            Piece::Trailers(block) => {
                self.trailer_error_type =
                    http::trailer(block, protocol::FUNCTION_ERROR_TYPE).filter(|t| !t.is_empty());
            }
        }
    }
}

impl Proxy {
    /// A proxy to `upstream` that runs `after_response` / `after_error` through `runner`.
    pub fn new(
        upstream: Upstream,
        gate: Arc<Gate>,
        runner: Arc<Runner>,
        after_response: Option<String>,
        after_error: Option<String>,
        files: Option<Files>,
        log: Log,
    ) -> Proxy {
        Proxy {
            upstream,
            gate,
            invocations: Invocations::default(),
            runner,
            after_response,
            after_error,
            files,
            log,
            next_conn: AtomicU64::new(1),
        }
    }

    /// Serves `listener` on a thread of its own, each connection on a thread of its own.
    pub fn serve(self: &Arc<Self>, listener: TcpListener) -> std::io::Result<()> {
        let proxy = self.clone();
        std::thread::Builder::new()
            .name("coda-wrap-accept".into())
            .spawn(move || {
                for stream in listener.incoming() {
                    let stream = match stream {
                        Ok(stream) => stream,
                        Err(e) => {
                            // Out of file descriptors, most often: wait a little rather than
                            // spin, as the connections that hold them close.
                            proxy
                                .log
                                .debug(None, format_args!("accepting a connection failed: {e}"));
                            std::thread::sleep(ACCEPT_BACKOFF);
                            continue;
                        }
                    };
                    let conn = proxy.next_conn.fetch_add(1, Ordering::Relaxed);
                    let serving = proxy.clone();
                    let started = std::thread::Builder::new()
                        .name("coda-wrap-conn".into())
                        .spawn(move || serving.connection(conn, stream));
                    if let Err(e) = started {
                        proxy.log.error(
                            None,
                            format_args!("cannot start a thread for a Runtime API connection: {e}"),
                        );
                    }
                }
            })
            .map(drop)
    }

    /// Serves one connection from the runtime until it closes.
    fn connection(&self, conn: ConnId, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let mut down = Reader::new(stream);
        let mut served_next = false;
        loop {
            let head = match down.read_request() {
                Ok(Some(head)) => head,
                Ok(None) => break,
                Err(CopyError::Malformed(e)) => {
                    self.log.warn(
                        None,
                        format_args!("the runtime sent a request that is not HTTP ({e}): closing its connection"),
                    );
                    let body = error_json("InvalidRequest", &e.to_string());
                    let _ =
                        down.get_mut()
                            .write_all(&http::own_response(400, "Bad Request", &body));
                    break;
                }
                Err(_) => break,
            };
            if self.exchange(conn, &mut down, head, &mut served_next) == Flow::Close {
                break;
            }
        }
        self.gate.closed(conn);
    }

    /// Passes one request on and its answer back; starts the command after an accepted
    /// answer.
    fn exchange(
        &self,
        conn: ConnId,
        down: &mut Reader<TcpStream>,
        mut head: RequestHead,
        served_next: &mut bool,
    ) -> Flow {
        let route = Route::of(&head.method, head.path());
        if route == Route::Next {
            if self.gate.before_next(conn, !*served_next) {
                self.log.debug(
                    None,
                    format_args!("the command has ended: letting the runtime's /next through"),
                );
            }
            for stale in self.invocations.take_stale(conn) {
                if let Some(file) = stale.event_file {
                    let _ = std::fs::remove_file(file);
                }
            }
        }
        let framing = match head.framing() {
            Ok(framing) => framing,
            Err(e) => {
                return self.refuse(down, 400, "Bad Request", "InvalidRequest", &e.to_string());
            }
        };
        if head
            .headers
            .get("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            head.headers.remove("expect");
            if down
                .get_mut()
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .is_err()
            {
                return Flow::Close;
            }
        }

        let mut seen = AnswerSeen::default();
        if let Route::Answer { id, error } = &route {
            seen.keep_error_body = *error;
            if let (Some(files), Some(invocation)) = (&self.files, self.invocations.get(id)) {
                seen.tee = Some(Tee::create(files.answer(invocation.number)));
            }
        }
        let request = head.to_bytes(&self.upstream.target(&head.target));
        // A kept connection the Runtime API closed just as it was taken fails before any
        // answer: a request without a body goes again, once, on a new connection.
        let mut fresh_only = false;
        let (mut up, response) = loop {
            let (mut up, reused) = match self.upstream.take(fresh_only) {
                Ok((up, opened)) => {
                    if let Some(n) = opened {
                        self.log.debug(
                            None,
                            format_args!(
                                "opened connection {n} to the Runtime API at {}",
                                self.upstream.authority()
                            ),
                        );
                    }
                    (up, opened.is_none())
                }
                Err(e) => {
                    let message = format!(
                        "cannot reach the Runtime API at {}: {e}",
                        self.upstream.authority()
                    );
                    self.log.error(None, format_args!("{message}"));
                    return self.refuse(down, 502, "Bad Gateway", "Runtime.ProxyError", &message);
                }
            };
            let retry = reused && framing == Framing::Empty && !fresh_only;
            match http::forward(&request, framing, down, up.get_mut(), &mut |p| seen.see(p)) {
                Ok(()) => {}
                Err(CopyError::Write(_)) if retry => {
                    fresh_only = true;
                    continue;
                }
                Err(CopyError::Write(e)) => {
                    let message = format!(
                        "the connection to the Runtime API at {} failed while passing on {} {}: {e}",
                        self.upstream.authority(),
                        head.method,
                        head.path()
                    );
                    self.log.error(None, format_args!("{message}"));
                    return self.refuse(down, 502, "Bad Gateway", "Runtime.ProxyError", &message);
                }
                Err(e) => {
                    // The runtime's request broke off: the Runtime API gets it cut short too
                    // (the connection is dropped), as it would have without the proxy.
                    self.log.debug(
                        None,
                        format_args!(
                            "the runtime's {} {} broke off: {e}",
                            head.method,
                            head.path()
                        ),
                    );
                    return Flow::Close;
                }
            }
            match read_final(&mut up) {
                Ok(response) => break (up, response),
                Err(CopyError::Read(_)) if retry => fresh_only = true,
                Err(e) => {
                    let message = format!(
                        "the Runtime API at {} did not answer {} {}: {e}",
                        self.upstream.authority(),
                        head.method,
                        head.path()
                    );
                    self.log.error(None, format_args!("{message}"));
                    return self.refuse(down, 502, "Bad Gateway", "Runtime.ProxyError", &message);
                }
            }
        };
        let response_framing = match response.framing(&head.method) {
            Ok(framing) => framing,
            Err(e) => {
                let message = format!("the Runtime API answered with framing it cannot have: {e}");
                self.log.error(None, format_args!("{message}"));
                return self.refuse(down, 502, "Bad Gateway", "Runtime.ProxyError", &message);
            }
        };

        // What the answer means, decided before the runtime has it: a hold on its /next
        // must exist before it can send one.
        let mut event = None;
        let mut job = None;
        match &route {
            Route::Next if response.status == 200 => {
                event = self.handed_out(conn, &response.headers);
                *served_next = true;
            }
            Route::Answer { id, error } => {
                job = self.answered(id, *error, &head, response.status, seen);
            }
            _ => {}
        }
        let mut event_tee = event
            .as_ref()
            .and_then(|(_, file)| file.clone())
            .map(Tee::create);
        let copied = http::forward(
            &response.to_bytes(),
            response_framing,
            &mut up,
            down.get_mut(),
            &mut |piece| {
                if let (Some(tee), Piece::Data(data)) = (&mut event_tee, piece) {
                    tee.write(data);
                }
            },
        );
        if let (Some((id, _)), Some(tee)) = (event, event_tee) {
            self.event_written(&id, tee);
        }
        let reusable = copied.is_ok()
            && !response.closes()
            && !head.wants_close()
            && response_framing != Framing::ToEnd
            && framing != Framing::Chunked
            && !up.has_buffered();
        if reusable {
            self.upstream.give_back(up);
        }
        if let Some(job) = job {
            self.runner.start(job);
        }
        match copied {
            Ok(())
                if !response.closes()
                    && !head.wants_close()
                    && response_framing != Framing::ToEnd =>
            {
                Flow::KeepAlive
            }
            _ => Flow::Close,
        }
    }

    /// Records the invocation a `/next` answer hands out (before the runtime has it);
    /// returns its request id and the path its event is to be written to.
    fn handed_out(
        &self,
        conn: ConnId,
        headers: &http::Headers,
    ) -> Option<(String, Option<std::path::PathBuf>)> {
        let Some(request_id) = headers
            .get(protocol::REQUEST_ID)
            .filter(|id| !id.is_empty())
        else {
            self.log.warn(
                None,
                format_args!("the Runtime API handed out an event without a request id: no command can run for it"),
            );
            return None;
        };
        let number = self.invocations.number();
        let event_file = self.files.as_ref().map(|files| files.event(number));
        let invocation = Invocation {
            request_id: request_id.to_owned(),
            deadline: headers.get(protocol::DEADLINE_MS).and_then(Deadline::parse),
            arn: headers
                .get(protocol::FUNCTION_ARN)
                .filter(|a| !a.is_empty())
                .map(str::to_owned),
            conn,
            number,
            event_file: event_file.clone(),
        };
        if invocation.deadline.is_none() {
            self.log.warn(
                Some(request_id),
                format_args!("the invocation has no valid Lambda-Runtime-Deadline-Ms: its command will not be bounded"),
            );
        }
        if let Some(old) = self.invocations.insert(invocation)
            && let Some(file) = old.event_file
            && Some(&file) != event_file.as_ref()
        {
            let _ = std::fs::remove_file(file);
        }
        Some((request_id.to_owned(), event_file))
    }

    /// The event has passed: when its file could not be written whole, the command does not
    /// get it.
    fn event_written(&self, request_id: &str, tee: Tee) {
        if let Err((path, e)) = tee.finish() {
            self.log.warn(
                Some(request_id),
                format_args!(
                    "cannot write the event to {}: {e}; the command gets no CODA_EVENT_FILE",
                    path.display()
                ),
            );
            self.invocations.forget_event_file(request_id);
        }
    }

    /// The command to run for an answer the Runtime API answered with `status`, holding
    /// the runtime's next `/next`; `None` when nothing runs.
    fn answered(
        &self,
        id: &str,
        error: bool,
        head: &RequestHead,
        status: u16,
        seen: AnswerSeen,
    ) -> Option<Job> {
        let accepted = (200..300).contains(&status);
        let outcome = match (error, accepted, status) {
            (false, true, _) => match seen.trailer_error_type.clone() {
                Some(kind) => Outcome::Error(kind),
                None => Outcome::Response,
            },
            // Lambda fails the invocation itself (§3.2): the caller gets this error.
            (false, false, 413) => Outcome::Error("Function.ResponseSizeTooLarge".into()),
            (true, true, _) => Outcome::Error(error_type(head, &seen.error_body)),
            _ => {
                self.log.debug(
                    Some(id),
                    format_args!(
                        "the Runtime API answered {status} to the runtime's {}: no command runs",
                        if error { "/error" } else { "/response" }
                    ),
                );
                discard(seen.tee);
                return None;
            }
        };
        let answer_file = match seen.tee.map(Tee::finish) {
            Some(Ok(path)) => Some(path),
            Some(Err((path, e))) => {
                self.log.warn(
                    Some(id),
                    format_args!(
                        "cannot write the answer to {}: {e}; the command gets no CODA_ANSWER_FILE",
                        path.display()
                    ),
                );
                None
            }
            None => None,
        };
        let command = match &outcome {
            Outcome::Response => self.after_response.clone(),
            Outcome::Error(_) => self.after_error.clone(),
        };
        let invocation = self.invocations.take(id);
        let (Some(command), Some(invocation)) = (command, invocation.clone()) else {
            let files = [answer_file, invocation.and_then(|i| i.event_file)];
            for file in files.into_iter().flatten() {
                let _ = std::fs::remove_file(file);
            }
            return None;
        };
        let ticket = self.gate.hold(invocation.conn);
        Some(Job {
            invocation,
            outcome,
            command,
            answer_file,
            ticket,
        })
    }

    /// Answers the runtime with an error of the proxy's own and closes the connection.
    fn refuse(
        &self,
        down: &mut Reader<TcpStream>,
        status: u16,
        reason: &str,
        error_type: &str,
        message: &str,
    ) -> Flow {
        let body = error_json(error_type, message);
        let _ = down
            .get_mut()
            .write_all(&http::own_response(status, reason, &body));
        Flow::Close
    }
}

/// Reads the final answer to a request: interim answers (`100 Continue`, which the proxy
/// gave the runtime itself) stay here.
fn read_final(up: &mut Reader<TcpStream>) -> Result<http::ResponseHead, CopyError> {
    loop {
        let response = up.read_response()?;
        if !response.is_interim() {
            return Ok(response);
        }
    }
}

/// Removes a tee's file.
fn discard(tee: Option<Tee>) {
    if let Some(Ok(path) | Err((path, _))) = tee.map(Tee::finish) {
        let _ = std::fs::remove_file(path);
    }
}

/// The error type of an `/error`: its `Lambda-Runtime-Function-Error-Type` header, else the
/// `errorType` of its body (awslambdaric sends no header, `docs/runtime-api.md` §4.1), else
/// `Runtime.Unknown`, as Lambda records a missing type.
fn error_type(head: &RequestHead, body: &[u8]) -> String {
    if let Some(kind) = head
        .headers
        .get(protocol::FUNCTION_ERROR_TYPE)
        .filter(|t| !t.is_empty())
    {
        return kind.to_owned();
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("errorType")?.as_str().map(str::to_owned))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| "Runtime.Unknown".to_owned())
}

/// A Runtime-API-style error body.
fn error_json(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::json!({"errorType": error_type, "errorMessage": message})
        .to_string()
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The routes the proxy watches; everything else passes through.
    #[test]
    fn routes() {
        assert_eq!(
            Route::of("GET", "/2018-06-01/runtime/invocation/next"),
            Route::Next
        );
        assert_eq!(
            Route::of("POST", "/2018-06-01/runtime/invocation/a%20b/response"),
            Route::Answer {
                id: "a b".into(),
                error: false
            }
        );
        assert_eq!(
            Route::of("POST", "/2018-06-01/runtime/invocation/id-1/error"),
            Route::Answer {
                id: "id-1".into(),
                error: true
            }
        );
        for (method, path) in [
            ("POST", "/2018-06-01/runtime/init/error"),
            ("POST", "/2018-06-01/runtime/invocation//response"),
            ("GET", "/2018-06-01/runtime/invocation/id-1/response"),
            ("POST", "/2020-01-01/extension/register"),
            ("POST", "/2018-06-01/runtime/invocation/next"),
        ] {
            assert_eq!(Route::of(method, path), Route::Other, "{method} {path}");
        }
    }

    /// A runtime's raw HTTP through the proxy to the real emulator: `/next` hands out the
    /// event with its headers; a `/response` sent with `Expect: 100-continue` gets its
    /// `100 Continue` from the proxy, the body then goes on, and the Runtime API sees the
    /// runtime's own headers (and no `Expect`); both requests share one kept connection
    /// upstream.
    #[test]
    fn raw_requests_pass_through() {
        use crate::wrap::log::{Level, Log};
        use coda_emulator::{Emulator, Invoke, LogFormat};
        use std::io::{BufRead, BufReader, Read};

        let emulator = Emulator::start().unwrap();
        let log = Log::new(LogFormat::Text, Some(Level::Error));
        let runner = Arc::new(Runner::new(
            "/bin/sh".into(),
            std::time::Duration::from_millis(100),
            log,
            None,
            super::super::spawner::Spawner::start().unwrap(),
        ));
        let proxy = Arc::new(Proxy::new(
            Upstream::new(&emulator.config().runtime_api()),
            Gate::new(true),
            runner,
            None,
            None,
            None,
            log,
        ));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        proxy.serve(listener).unwrap();

        let pending =
            emulator.invoke(Invoke::json(&serde_json::json!({"raw": 1})).request_id("raw-1"));
        let mut client = TcpStream::connect(addr).unwrap();
        client
            .write_all(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut reader = BufReader::new(client.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert!(
            head.to_ascii_lowercase()
                .contains("lambda-runtime-aws-request-id: raw-1"),
            "{head}"
        );
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        assert_eq!(body, br#"{"raw":1}"#);

        client
            .write_all(
                b"POST /2018-06-01/runtime/invocation/raw-1/response HTTP/1.1\r\nHost: x\r\nX-Runtime-Test: Kept As Sent\r\nContent-Type: application/json\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
            )
            .unwrap();
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "HTTP/1.1 100 Continue\r\n");
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "\r\n");
        client.write_all(b"done").unwrap();
        line.clear();
        reader.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 202"), "{line}");
        let answer = pending.answer(std::time::Duration::from_secs(10)).unwrap();
        assert_eq!(answer.payload, b"done");
        assert_eq!(answer.header("x-runtime-test"), Some("Kept As Sent"));
        assert_eq!(answer.header("expect"), None);
        assert_eq!(
            proxy.upstream.opened(),
            1,
            "one kept connection served both"
        );
    }

    /// The error type comes from the header, else the body, else is Lambda's unknown.
    #[test]
    fn error_types() {
        let head = |headers: Vec<(String, Vec<u8>)>| RequestHead {
            method: "POST".into(),
            target: "/".into(),
            version: 1,
            headers: http::Headers(headers),
        };
        let with_header = head(vec![(
            "Lambda-Runtime-Function-Error-Type".into(),
            b"Function.Declined".to_vec(),
        )]);
        assert_eq!(
            error_type(&with_header, b"{\"errorType\":\"X\"}"),
            "Function.Declined"
        );
        let bare = head(Vec::new());
        assert_eq!(
            error_type(
                &bare,
                br#"{"errorMessage":"boom","errorType":"EchoFailure"}"#
            ),
            "EchoFailure"
        );
        assert_eq!(error_type(&bare, b"not json"), "Runtime.Unknown");
    }
}
