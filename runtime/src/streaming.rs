//! Streamed responses (`docs/runtime-api.md` §5): a chunked `POST /response` on a connection of
//! its own, written as the handler produces bytes, with real HTTP trailers for an error
//! raised mid-stream.
//!
//! ureq cannot send trailers, so this module speaks HTTP/1.1 on a `TcpStream` itself (the
//! request side is simple: a head, chunks, a last chunk with trailers; the answer is parsed
//! with `httparse`). The connection is opened on the first write, so a handler that fails
//! before writing anything is reported through `/error` like a buffered one (§5.2); it has
//! `TCP_NODELAY` set, so small chunks leave at once; and it is closed after the answer, as
//! the Lambda documentation asks (§5.1).

use std::io::{self, Read, Write};
use std::net::TcpStream;

use crate::Diagnostic;
use crate::protocol;

type WriteFn = Box<dyn FnOnce(&mut ResponseStream) -> Result<(), Diagnostic>>;

/// The body of a streamed `Reply`: an optional HTTP-integration prelude and the writer.
pub(crate) struct StreamBody {
    pub(crate) prelude: Option<Vec<u8>>,
    pub(crate) write: WriteFn,
}

impl StreamBody {
    /// A body that `f` writes, after `prelude` (the HTTP-integration head) when there is one.
    pub(crate) fn new<F, E>(prelude: Option<Vec<u8>>, f: F) -> StreamBody
    where
        F: FnOnce(&mut ResponseStream) -> Result<(), E> + 'static,
        E: Into<Diagnostic>,
    {
        StreamBody {
            prelude,
            write: Box::new(move |out| f(out).map_err(Into::into)),
        }
    }
}

/// The HTTP-integration prelude of a streamed HTTP response (§5.3): the status, headers and
/// cookies of `head` as JSON — exactly the headers the head has, none added — then the 8-NUL
/// separator ([`protocol::HTTP_PRELUDE_SEPARATOR`]). JSON text holds no raw bytes, so a
/// header value that is not UTF-8 travels with U+FFFD in place of the bytes it cannot carry.
pub(crate) fn http_prelude(head: &http::Response<()>) -> Vec<u8> {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (name, value) in head.headers() {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::SET_COOKIE {
            cookies.push(serde_json::Value::String(value));
        } else if let Some(serde_json::Value::String(existing)) = headers.get_mut(name.as_str()) {
            existing.push_str(", ");
            existing.push_str(&value);
        } else {
            headers.insert(name.as_str().to_owned(), serde_json::Value::String(value));
        }
    }
    let prelude = serde_json::json!({
        "statusCode": head.status().as_u16(),
        "headers": headers,
        "cookies": cookies,
    });
    // A `Value` of strings and numbers always serializes; JSON text escapes control
    // characters, so the prelude never holds a NUL itself.
    let mut prelude = serde_json::to_vec(&prelude).unwrap_or_default();
    prelude.extend_from_slice(&protocol::HTTP_PRELUDE_SEPARATOR);
    prelude
}

/// Where a streamed handler writes its body. Each `write` is sent as one HTTP chunk.
pub struct ResponseStream {
    target: Target,
    socket: Option<TcpStream>,
    prelude: Option<Vec<u8>>,
    written: u64,
    scratch: Vec<u8>,
}

/// Where and how the stream's request goes.
pub(crate) struct Target {
    pub(crate) authority: String,
    pub(crate) path: String,
    pub(crate) content_type: String,
    pub(crate) invocation_id: Option<String>,
}

/// How a stream ended, for the loop.
pub(crate) enum StreamEnd {
    /// The handler failed before writing: report it through `/error`.
    FailedBeforeStart(Diagnostic),
    /// The stream was sent; the Runtime API answered `status` with `body`. `error` is the
    /// handler's error when it failed mid-stream (sent as trailers).
    Sent {
        status: u16,
        body: Vec<u8>,
        error: Option<Diagnostic>,
    },
}

impl ResponseStream {
    pub(crate) fn new(target: Target, prelude: Option<Vec<u8>>) -> ResponseStream {
        ResponseStream {
            target,
            socket: None,
            prelude,
            written: 0,
            scratch: Vec::new(),
        }
    }

    /// Body bytes written so far (not counting an HTTP-integration prelude).
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// Opens the connection and sends the request head (and the prelude) if not done yet.
    fn start(&mut self) -> io::Result<&mut TcpStream> {
        if self.socket.is_none() {
            let socket = TcpStream::connect(&self.target.authority)?;
            socket.set_nodelay(true)?;
            let mut head = format!(
                "POST {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: {}\r\nContent-Type: {}\r\n\
                 {}: streaming\r\nTransfer-Encoding: chunked\r\nTrailer: {}, {}\r\n",
                self.target.path,
                self.target.authority,
                protocol::USER_AGENT,
                self.target.content_type,
                protocol::RESPONSE_MODE,
                protocol::FUNCTION_ERROR_TYPE,
                protocol::FUNCTION_ERROR_BODY,
            );
            if let Some(id) = &self.target.invocation_id {
                head.push_str(&format!("{}: {id}\r\n", protocol::INVOCATION_ID));
            }
            head.push_str("\r\n");
            self.scratch.clear();
            self.scratch.extend_from_slice(head.as_bytes());
            if let Some(prelude) = self.prelude.take() {
                push_chunk(&mut self.scratch, &prelude);
            }
            let mut socket = socket;
            socket.write_all(&self.scratch)?;
            self.socket = Some(socket);
        }
        self.socket
            .as_mut()
            .ok_or_else(|| io::Error::other("stream not started"))
    }

    /// Ends the stream (with error trailers when `error` is set) and reads the answer.
    pub(crate) fn finish(mut self, error: Option<Diagnostic>) -> io::Result<StreamEnd> {
        if self.socket.is_none()
            && let Some(error) = error
        {
            return Ok(StreamEnd::FailedBeforeStart(error));
        }
        self.start()?;
        let mut tail = b"0\r\n".to_vec();
        if let Some(error) = &error {
            tail.extend_from_slice(
                format!(
                    "{}: {}\r\n{}: {}\r\n",
                    protocol::FUNCTION_ERROR_TYPE,
                    error.header_value(),
                    protocol::FUNCTION_ERROR_BODY,
                    base64::Engine::encode(
                        &base64::engine::general_purpose::STANDARD,
                        error.to_json()
                    )
                )
                .as_bytes(),
            );
        }
        tail.extend_from_slice(b"\r\n");
        let socket = self
            .socket
            .as_mut()
            .ok_or_else(|| io::Error::other("stream not started"))?;
        socket.write_all(&tail)?;
        let (status, body) = read_answer(socket)?;
        Ok(StreamEnd::Sent {
            status,
            body,
            error,
        })
    }
}

impl Write for ResponseStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.start()?;
        let mut frame = std::mem::take(&mut self.scratch);
        frame.clear();
        push_chunk(&mut frame, buf);
        let result = match self.socket.as_mut() {
            Some(socket) => socket.write_all(&frame),
            None => Err(io::Error::other("stream not started")),
        };
        self.scratch = frame;
        result?;
        self.written += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.socket.as_mut() {
            Some(socket) => socket.flush(),
            None => Ok(()),
        }
    }
}

impl std::fmt::Debug for ResponseStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseStream")
            .field("started", &self.socket.is_some())
            .field("written", &self.written)
            .finish()
    }
}

fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Reads the Runtime API's answer to the streamed request: status and (length-delimited) body.
fn read_answer(socket: &mut TcpStream) -> io::Result<(u16, Vec<u8>)> {
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 512];
    loop {
        let n = socket.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed before the answer",
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
        let mut header_slots = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut header_slots);
        match response.parse(&buf) {
            Ok(httparse::Status::Complete(head_len)) => {
                let status = response.code.unwrap_or(0);
                let length = response
                    .headers
                    .iter()
                    .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                    .and_then(|h| {
                        std::str::from_utf8(h.value)
                            .ok()?
                            .trim()
                            .parse::<usize>()
                            .ok()
                    })
                    .unwrap_or(0)
                    .min(1024 * 1024);
                let mut body = buf.split_off(head_len);
                while body.len() < length {
                    let n = socket.read(&mut chunk)?;
                    if n == 0 {
                        break;
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                body.truncate(length);
                return Ok((status, body));
            }
            Ok(httparse::Status::Partial) if buf.len() < 64 * 1024 => continue,
            Ok(httparse::Status::Partial) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "answer head over 64 KiB",
                ));
            }
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
}
