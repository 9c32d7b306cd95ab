//! The invoke front: one port that serves the Lambda Invoke API ([`super::invoke_api`]) and
//! turns every other request into a Function URL event ([`super::function_url`]).
//!
//! Also the pieces both halves share: [`Streamed`], a response whose body leaves as it is
//! produced, and [`AnswerStream`], a runtime's answer read piece by piece as it arrives.
//! The front binds only the address its builder was given (`coda run` uses `127.0.0.1`).

use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::state::Shared;
use super::wire::{RequestHead, reason};
use super::{function_url, invoke_api};
use crate::answer::Answer;
use crate::conn::{Conn, Flow};
use crate::pending::{PendingInvocation, StreamRead};
use crate::wait_error::WaitError;

/// How long past an invocation's deadline the front still waits for its answer. The
/// emulator answers for the runtime at the deadline (Lambda's timeout error), so this only
/// guards against a hung connection.
const WAIT_GRACE: Duration = Duration::from_secs(30);

/// Serves one request on the front port.
pub(crate) fn handle(shared: &Arc<Shared>, conn: &mut Conn, head: RequestHead) -> io::Result<Flow> {
    match invoke_api::Route::of(&head.method, head.path()) {
        Some(route) => invoke_api::handle(shared, conn, &head, route),
        None => function_url::handle(shared, conn, &head),
    }
}

/// How long to wait for anything from `pending`: until its deadline plus a grace.
pub(crate) fn wait_limit(pending: &PendingInvocation) -> Duration {
    pending
        .slot
        .deadline
        .saturating_duration_since(Instant::now())
        .saturating_add(WAIT_GRACE)
}

/// The address the Function URL event reports as `sourceIp`.
pub(crate) fn source_ip(conn: &Conn) -> String {
    conn.peer_addr()
        .map_or_else(|| "127.0.0.1".to_owned(), |addr| addr.ip().to_string())
}

/// Whether `value` can go in a response header as is (no CR, LF or NUL: no response
/// splitting by what a function returns).
pub(crate) fn header_value_ok(value: &str) -> bool {
    !value.bytes().any(|b| matches!(b, b'\r' | b'\n' | 0))
}

/// Whether `name` is an HTTP token (RFC 9110 §5.6.2), so it can be a header name.
pub(crate) fn header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'!' | b'#'
                        | b'$'
                        | b'%'
                        | b'&'
                        | b'\''
                        | b'*'
                        | b'+'
                        | b'-'
                        | b'.'
                        | b'^'
                        | b'_'
                        | b'`'
                        | b'|'
                        | b'~'
                )
        })
}

/// A response whose body is sent piece by piece as it arrives: chunked transfer encoding for
/// HTTP/1.1 clients; for HTTP/1.0 clients, the raw bytes with the end marked by closing the
/// connection. A `HEAD` request gets the head only.
#[derive(Debug)]
pub(crate) struct Streamed {
    chunked: bool,
    head_only: bool,
}

impl Streamed {
    /// Writes the status line and `headers` (which must not include framing headers).
    pub(crate) fn start(
        conn: &mut Conn,
        request: &RequestHead,
        status: u16,
        headers: &[(&str, &str)],
    ) -> io::Result<Streamed> {
        let chunked = request.version >= 1;
        let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        for (name, value) in headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        if chunked {
            out.push_str("Transfer-Encoding: chunked\r\n");
        } else {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        conn.write_all(out.as_bytes())?;
        Ok(Streamed {
            chunked,
            head_only: request.method == "HEAD",
        })
    }

    /// Sends `bytes` now (an empty piece sends nothing: it would end a chunked body).
    pub(crate) fn send(&self, conn: &mut Conn, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() || self.head_only {
            return Ok(());
        }
        if !self.chunked {
            return conn.write_all(bytes);
        }
        let mut piece = Vec::with_capacity(bytes.len() + 16);
        piece.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
        piece.extend_from_slice(bytes);
        piece.extend_from_slice(b"\r\n");
        conn.write_all(&piece)
    }

    /// Ends the body normally: the last chunk (the connection may be reused), or the close
    /// that delimits an HTTP/1.0 body.
    pub(crate) fn finish(self, conn: &mut Conn) -> io::Result<Flow> {
        if !self.chunked {
            return Ok(Flow::Close);
        }
        if !self.head_only {
            conn.write_all(b"0\r\n\r\n")?;
        }
        Ok(Flow::KeepAlive)
    }

    /// Ends the body abnormally: no last chunk, and the connection is closed, so a client
    /// reading a chunked body sees it cut short (an HTTP/1.0 client cannot tell).
    pub(crate) fn abort(self) -> Flow {
        Flow::Close
    }
}

/// One step of reading an answer as it arrives.
#[derive(Debug)]
pub(crate) enum Piece {
    /// New body bytes.
    Bytes(Vec<u8>),
    /// The answer is complete; every byte of its body has been handed out before.
    End(Box<Answer>),
    /// The wait failed (the emulator shut down, or the runtime never answered).
    Failed(WaitError),
}

/// A runtime's answer, read piece by piece with [`PendingInvocation::read_stream`].
///
/// The body handed out is what the runtime streamed. When the emulator answered for the
/// runtime instead (a timeout, a process exit, a refused oversize stream), that answer's
/// error body is not handed out as body bytes: the [`Piece::End`] answer carries the error.
#[derive(Debug)]
pub(crate) struct AnswerStream {
    pending: PendingInvocation,
    content_type: Option<String>,
    offset: usize,
    first: Option<StreamRead>,
    end: Option<Answer>,
}

impl AnswerStream {
    /// Reads the answer of `pending`, starting with `first`, a read at offset 0.
    pub(crate) fn new(pending: PendingInvocation, first: StreamRead) -> AnswerStream {
        AnswerStream {
            pending,
            content_type: first.content_type.clone(),
            offset: 0,
            first: Some(first),
            end: None,
        }
    }

    /// The content type the runtime declared for its answer.
    pub(crate) fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The next piece, waiting for it if need be.
    pub(crate) fn next_piece(&mut self) -> Piece {
        if let Some(answer) = self.end.take() {
            return Piece::End(Box::new(answer));
        }
        let read = match self.first.take() {
            Some(read) => read,
            None => match self
                .pending
                .read_stream(self.offset, wait_limit(&self.pending))
            {
                Ok(read) => read,
                Err(e) => return Piece::Failed(e),
            },
        };
        match read.done {
            None => {
                self.offset += read.bytes.len();
                Piece::Bytes(read.bytes)
            }
            Some(answer) => {
                let rest = body_after(&answer, self.offset).to_vec();
                if rest.is_empty() {
                    return Piece::End(Box::new(answer));
                }
                self.offset += rest.len();
                self.end = Some(answer);
                Piece::Bytes(rest)
            }
        }
    }
}

/// The body bytes of a complete `answer` past `offset`: none when the emulator replaced the
/// runtime's body with an error of its own (a synthetic answer, or a stream refused as too
/// large: status 413 to the runtime).
fn body_after(answer: &Answer, offset: usize) -> &[u8] {
    let replaced = answer.status == 413 || (!answer.streamed && answer.function_error.is_some());
    if replaced {
        return &[];
    }
    answer.payload.get(offset..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(payload: &[u8], streamed: bool, error: Option<&str>, status: u16) -> Answer {
        Answer {
            payload: payload.to_vec(),
            content_type: None,
            function_error: error.map(str::to_owned),
            error_type_header: None,
            error_cause: None,
            streamed,
            status,
            headers: Vec::new(),
            trailers: Vec::new(),
            latency: Duration::ZERO,
        }
    }

    /// A streamed body continues where the reader was; an answer the emulator made up (or a
    /// refused stream) hands out no body bytes.
    #[test]
    fn body_after_offsets() {
        assert_eq!(body_after(&answer(b"abcdef", true, None, 202), 4), b"ef");
        assert_eq!(
            body_after(&answer(b"abc", true, Some("Function.X"), 202), 1),
            b"bc"
        );
        assert_eq!(body_after(&answer(b"{}", false, None, 202), 0), b"{}");
        assert_eq!(body_after(&answer(b"abc", true, None, 202), 9), b"");
        let timeout = answer(
            b"{\"errorType\":\"Sandbox.Timedout\"}",
            false,
            Some("T"),
            200,
        );
        assert_eq!(body_after(&timeout, 3), b"");
        assert_eq!(body_after(&answer(b"x", true, Some("F"), 413), 0), b"");
    }
}
