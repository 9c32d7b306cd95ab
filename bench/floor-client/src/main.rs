//! floor-client: the smallest synchronous echo loop on the Lambda Runtime API, and the floor
//! of `bench/run.sh`: what its driver and this machine allow a runtime to reach.
//!
//! One TCP connection (`TCP_NODELAY`) kept for the whole run; `GET /next`, then the event's
//! bytes posted back unchanged to `/response`, then the acknowledgment read and dropped. No
//! JSON, no headers beyond `Host` and `Content-Length`, no `/error`, no logging, no
//! dependencies; the request heads are prepared once and every reply is read into one buffer
//! that is never zeroed again. It is not a runtime: any surprise (a status other than 200, a
//! closed connection, a malformed head) ends it with exit status 1, which is how the driver
//! ends a run.
//!
//! `AWS_LAMBDA_RUNTIME_API` must be `host:port` (the driver's form; no path prefix).

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::ops::Range;
use std::process::ExitCode;

/// The header that names the invocation, lowercase.
const REQUEST_ID: &[u8] = b"lambda-runtime-aws-request-id";
/// The inbox's first size; it doubles when a reply does not fit.
const INBOX_BYTES: usize = 16 * 1024;

fn main() -> ExitCode {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("floor-client: AWS_LAMBDA_RUNTIME_API is not set");
        return ExitCode::from(2);
    };
    let Ok(mut socket) = TcpStream::connect(&api) else {
        return ExitCode::FAILURE;
    };
    let _ = socket.set_nodelay(true);
    let next = format!("GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: {api}\r\n\r\n");
    let post_start = b"POST /2018-06-01/runtime/invocation/";
    let post_middle = format!("/response HTTP/1.1\r\nHost: {api}\r\nContent-Length: ");
    let mut inbox = Inbox::new();
    let mut post = Vec::with_capacity(1024);
    loop {
        if socket.write_all(next.as_bytes()).is_err() {
            return ExitCode::FAILURE;
        }
        let event = match inbox.reply(&mut socket) {
            Some(event) if event.status == 200 => event,
            _ => return ExitCode::FAILURE,
        };
        let body = &inbox.bytes[event.body];
        post.clear();
        post.extend_from_slice(post_start);
        post.extend_from_slice(&inbox.bytes[event.request_id]);
        post.extend_from_slice(post_middle.as_bytes());
        push_decimal(&mut post, body.len());
        post.extend_from_slice(b"\r\n\r\n");
        post.extend_from_slice(body);
        if socket.write_all(&post).is_err() || inbox.reply(&mut socket).is_none() {
            return ExitCode::FAILURE;
        }
    }
}

/// Appends `n` in decimal.
fn push_decimal(out: &mut Vec<u8>, n: usize) {
    if n >= 10 {
        push_decimal(out, n / 10);
    }
    out.push(b'0' + (n % 10) as u8);
}

/// Bytes read from the connection: the current reply and whatever followed it.
struct Inbox {
    /// The buffer, zeroed once; `start..end` holds bytes not yet used.
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

/// One HTTP response, its parts as ranges of [`Inbox::bytes`].
struct Reply {
    status: u16,
    request_id: Range<usize>,
    body: Range<usize>,
}

impl Inbox {
    fn new() -> Inbox {
        Inbox {
            bytes: vec![0; INBOX_BYTES],
            start: 0,
            end: 0,
        }
    }

    /// Reads the next response: status line and headers line by line, then a
    /// `Content-Length` body. `None` when the connection ends or the head is malformed.
    fn reply(&mut self, socket: &mut TcpStream) -> Option<Reply> {
        if self.start == self.end {
            (self.start, self.end) = (0, 0);
        }
        let mut status = None;
        let mut length = 0;
        let mut request_id = 0..0;
        let mut line_start = self.start;
        loop {
            let Some(newline) = self.bytes[line_start..self.end]
                .iter()
                .position(|&b| b == b'\n')
            else {
                self.fill(socket)?;
                continue;
            };
            let mut line = line_start..line_start + newline;
            line_start = line.end + 1;
            if line.end > line.start && self.bytes[line.end - 1] == b'\r' {
                line.end -= 1;
            }
            let text = &self.bytes[line.clone()];
            if text.is_empty() {
                break;
            }
            if status.is_none() {
                // `HTTP/1.1 200 OK`
                status = Some(decimal(text.get(9..12)?)? as u16);
            } else if let Some(colon) = text.iter().position(|&b| b == b':') {
                let name = &text[..colon];
                let skip = text[colon + 1..].iter().take_while(|&&b| b == b' ').count();
                let value = line.start + colon + 1 + skip..line.end;
                if name.eq_ignore_ascii_case(b"content-length") {
                    length = decimal(&self.bytes[value])?;
                } else if name.eq_ignore_ascii_case(REQUEST_ID) {
                    request_id = value;
                }
            }
        }
        let body = line_start..line_start + length;
        while self.end < body.end {
            self.fill(socket)?;
        }
        self.start = body.end;
        Some(Reply {
            status: status?,
            request_id,
            body,
        })
    }

    /// Appends what the socket has (growing the buffer when full); `None` at the end of the
    /// connection or on an error.
    fn fill(&mut self, socket: &mut TcpStream) -> Option<()> {
        if self.end == self.bytes.len() {
            self.bytes.resize(self.bytes.len() * 2, 0);
        }
        match socket.read(&mut self.bytes[self.end..]) {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                self.end += n;
                Some(())
            }
        }
    }
}

/// The number written in ASCII digits, with trailing spaces allowed; `None` for anything else.
fn decimal(digits: &[u8]) -> Option<usize> {
    let digits = digits.trim_ascii_end();
    if digits.is_empty() {
        return None;
    }
    let mut n = 0usize;
    for &b in digits {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n.checked_mul(10)?.checked_add(usize::from(b - b'0'))?;
    }
    Some(n)
}
