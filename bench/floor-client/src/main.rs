//! floor-client: the smallest synchronous echo loop on the Lambda Runtime API, and the floor
//! of `bench/run.sh`: what its driver and this machine allow a runtime to reach.
//!
//! One TCP connection (`TCP_NODELAY`) kept for the whole run; `GET /next`, then the event's
//! bytes posted back unchanged to `/response`, then the acknowledgment read and dropped. No
//! JSON, no headers beyond `Host` and `Content-Length`, no `/error`, no logging, no
//! dependencies. It is not a runtime: any surprise (a status other than 200, a closed
//! connection) ends it with exit status 1, which is how the driver ends a run.
//!
//! `AWS_LAMBDA_RUNTIME_API` must be `host:port` (the driver's form; no path prefix).

#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::ops::Range;
use std::process::ExitCode;

/// The Runtime API's path for the next event.
const NEXT: &str = "/2018-06-01/runtime/invocation/next";
/// The header that names the invocation.
const REQUEST_ID: &str = "lambda-runtime-aws-request-id";

fn main() -> ExitCode {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        eprintln!("floor-client: AWS_LAMBDA_RUNTIME_API is not set");
        return ExitCode::from(2);
    };
    let Ok(mut socket) = TcpStream::connect(&api) else {
        return ExitCode::FAILURE;
    };
    let _ = socket.set_nodelay(true);
    let next = format!("GET {NEXT} HTTP/1.1\r\nHost: {api}\r\n\r\n");
    let mut inbox = Inbox::default();
    let mut post = Vec::new();
    loop {
        if socket.write_all(next.as_bytes()).is_err() {
            return ExitCode::FAILURE;
        }
        let Some(event) = inbox.reply(&mut socket) else {
            return ExitCode::FAILURE;
        };
        if event.status != 200 {
            return ExitCode::FAILURE;
        }
        let id = &inbox.bytes[event.request_id.clone()];
        let body = &inbox.bytes[event.body.clone()];
        post.clear();
        post.extend_from_slice(b"POST /2018-06-01/runtime/invocation/");
        post.extend_from_slice(id);
        post.extend_from_slice(b"/response HTTP/1.1\r\nHost: ");
        post.extend_from_slice(api.as_bytes());
        let _ = write!(post, "\r\nContent-Length: {}\r\n\r\n", body.len());
        post.extend_from_slice(body);
        if socket.write_all(&post).is_err() || inbox.reply(&mut socket).is_none() {
            return ExitCode::FAILURE;
        }
    }
}

/// Bytes read from the connection: the current reply and whatever followed it.
#[derive(Default)]
struct Inbox {
    bytes: Vec<u8>,
    /// Bytes of `bytes` that belong to replies already returned.
    used: usize,
}

/// One HTTP response, its parts as ranges of [`Inbox::bytes`].
struct Reply {
    status: u16,
    request_id: Range<usize>,
    body: Range<usize>,
}

impl Inbox {
    /// Reads the next response: head, then a `Content-Length` body. `None` when the
    /// connection ends or the head cannot be read.
    fn reply(&mut self, socket: &mut TcpStream) -> Option<Reply> {
        self.bytes.drain(..self.used);
        self.used = 0;
        let head_end = loop {
            if let Some(at) = self.bytes.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
            self.fill(socket)?;
        };
        let head = std::str::from_utf8(&self.bytes[..head_end]).ok()?;
        let mut lines = head.split("\r\n");
        let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
        let mut length = 0;
        let mut request_id = 0..0;
        let mut offset = head.find("\r\n")? + 2;
        for line in lines {
            if let Some((name, value)) = line.split_once(':') {
                let start = offset + name.len() + 1 + (value.len() - value.trim_start().len());
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().ok()?;
                } else if name.eq_ignore_ascii_case(REQUEST_ID) {
                    request_id = start..start + value.len();
                }
            }
            offset += line.len() + 2;
        }
        let body = head_end..head_end + length;
        while self.bytes.len() < body.end {
            self.fill(socket)?;
        }
        self.used = body.end;
        Some(Reply {
            status,
            request_id,
            body,
        })
    }

    /// Appends what the socket has; `None` at the end of the connection or on an error.
    fn fill(&mut self, socket: &mut TcpStream) -> Option<()> {
        let mut chunk = [0; 4096];
        match socket.read(&mut chunk) {
            Ok(0) | Err(_) => None,
            Ok(n) => {
                self.bytes.extend_from_slice(&chunk[..n]);
                Some(())
            }
        }
    }
}
