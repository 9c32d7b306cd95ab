//! [`Conn`]: one client connection, reading request heads and bodies through the sans-IO
//! [`crate::wire`] parser and writing responses. With the accept loop, the only code of the
//! emulator that touches a socket.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::limits::ConnPolicy;
use crate::wire::{self, ChunkDecoder, Framing, HeadParser, RequestHead, WireError};

/// Bodies beyond their limit are read and dropped up to this many bytes, so the client still
/// gets a status (a 413) instead of a reset; past it the connection is closed.
const DISCARD_CAP: usize = 64 * 1024 * 1024;

/// What to do with the connection after a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    /// Serve the next request on it.
    KeepAlive,
    /// Close it.
    Close,
}

/// One client connection.
pub(crate) struct Conn {
    /// The socket.
    stream: TcpStream,
    /// Bytes read from the socket; those before `pos` are consumed.
    buf: Vec<u8>,
    /// Where the unconsumed bytes of `buf` start.
    pos: usize,
    /// The port's idle, head and body timeouts.
    policy: ConnPolicy,
    /// The read timeout the socket has now (set only when it changes).
    read_timeout: Option<Duration>,
}

/// Why reading a request failed.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The connection failed or closed.
    Io(io::Error),
    /// The bytes are not an acceptable request; answer with its status.
    Wire(WireError),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> ReadError {
        ReadError::Io(e)
    }
}

impl From<WireError> for ReadError {
    fn from(e: WireError) -> ReadError {
        ReadError::Wire(e)
    }
}

/// A request body as read.
#[derive(Debug, Default)]
pub(crate) struct BodyRead {
    /// Total body bytes received.
    pub(crate) len: usize,
    /// Whether the body was longer than the limit (the sink saw only the first `limit` bytes).
    pub(crate) over_limit: bool,
    /// Trailers of a chunked body (names lowercase).
    pub(crate) trailers: Vec<(String, Vec<u8>)>,
}

impl Conn {
    /// Wraps an accepted stream, served under its port's `policy`.
    pub(crate) fn new(stream: TcpStream, policy: ConnPolicy) -> Conn {
        Conn {
            stream,
            buf: Vec::with_capacity(8192),
            pos: 0,
            policy,
            read_timeout: None,
        }
    }

    /// Reads more bytes into the buffer, waiting at most `timeout` for them (`None`: without
    /// a bound); `Ok(0)` at end of stream, an error of kind `WouldBlock` or `TimedOut` when
    /// the time ran out.
    fn fill_within(&mut self, timeout: Option<Duration>) -> io::Result<usize> {
        if timeout != self.read_timeout {
            self.stream.set_read_timeout(timeout)?;
            self.read_timeout = timeout;
        }
        self.fill()
    }

    /// Reads more body bytes, within the port's body timeout (408 when it runs out).
    fn fill_body(&mut self) -> Result<usize, ReadError> {
        match self.fill_within(self.policy.body) {
            Err(e) if timed_out(&e) => Err(ReadError::Wire(WireError::new(
                408,
                "RequestTimeout",
                format!(
                    "no request body bytes for {} ms",
                    self.policy.body.unwrap_or_default().as_millis()
                ),
            ))),
            other => Ok(other?),
        }
    }

    /// Reads more bytes into the buffer; `Ok(0)` at end of stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + 16 * 1024, 0);
        let n = loop {
            match self.stream.read(&mut self.buf[start..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buf.truncate(start + n.as_ref().copied().unwrap_or(0));
        n
    }

    /// Reads the next request head; `Ok(None)` when the client closed between requests, or
    /// stayed idle longer than the port's idle timeout. Once a head's first byte is in, the
    /// rest must come within the port's head timeout (else 408).
    pub(crate) fn read_head(&mut self) -> Result<Option<RequestHead>, ReadError> {
        let mut parser = HeadParser::default();
        let mut started: Option<Instant> = None;
        loop {
            if self.pos < self.buf.len() {
                if let Some((head, used)) = parser.parse(&self.buf[self.pos..])? {
                    self.pos += used;
                    if head
                        .header("expect")
                        .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
                    {
                        self.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                    }
                    return Ok(Some(head));
                }
                started.get_or_insert_with(Instant::now);
            }
            let timeout = match started {
                None => self.policy.idle,
                Some(at) => match self.policy.head.checked_sub(at.elapsed()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Err(self.head_timeout()),
                },
            };
            match self.fill_within(timeout) {
                Ok(0) if self.pos == self.buf.len() => return Ok(None),
                Ok(0) => {
                    return Err(ReadError::Wire(WireError::new(
                        400,
                        "InvalidRequest",
                        "connection closed mid-request",
                    )));
                }
                Ok(_) => {}
                Err(e) if timed_out(&e) && started.is_none() => return Ok(None),
                Err(e) if timed_out(&e) => return Err(self.head_timeout()),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// The 408 of a head that took longer than the head timeout.
    fn head_timeout(&self) -> ReadError {
        ReadError::Wire(WireError::new(
            408,
            "RequestTimeout",
            format!(
                "request head not complete within {} ms",
                self.policy.head.as_millis()
            ),
        ))
    }

    /// Reads the body of `head`, handing each piece to `sink` while the total stays within
    /// `limit`; the rest is read and dropped (up to a cap) and flagged as `over_limit`.
    pub(crate) fn read_body(
        &mut self,
        head: &RequestHead,
        limit: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<BodyRead, ReadError> {
        let mut read = BodyRead::default();
        let mut deliver = |piece: &[u8], read: &mut BodyRead| {
            let room = limit.saturating_sub(read.len);
            if piece.len() > room {
                read.over_limit = true;
            }
            if room > 0 {
                sink(&piece[..piece.len().min(room)]);
            }
            read.len += piece.len();
        };
        match wire::framing(head)? {
            Framing::Length(length) => {
                if length > DISCARD_CAP.max(limit) {
                    return Err(ReadError::Wire(WireError::new(
                        413,
                        "RequestEntityTooLarge",
                        format!("body of {length} bytes is over the {limit}-byte limit"),
                    )));
                }
                let mut left = length;
                while left > 0 {
                    if self.pos == self.buf.len() && self.fill_body()? == 0 {
                        return Err(ReadError::Wire(WireError::new(
                            400,
                            "TruncatedHTTPRequest",
                            "HTTP request detected as truncated",
                        )));
                    }
                    let take = left.min(self.buf.len() - self.pos);
                    let piece = self.buf[self.pos..self.pos + take].to_vec();
                    self.pos += take;
                    left -= take;
                    deliver(&piece, &mut read);
                }
            }
            Framing::Chunked => {
                let mut decoder = ChunkDecoder::default();
                let mut out = Vec::new();
                loop {
                    let used = decoder.decode(&self.buf[self.pos..], &mut out)?;
                    self.pos += used;
                    if !out.is_empty() {
                        deliver(&out, &mut read);
                        out.clear();
                    }
                    if decoder.is_done() {
                        break;
                    }
                    if read.len > DISCARD_CAP.max(limit) {
                        return Err(ReadError::Wire(WireError::new(
                            413,
                            "RequestEntityTooLarge",
                            "body too large",
                        )));
                    }
                    if self.fill_body()? == 0 {
                        return Err(ReadError::Wire(WireError::new(
                            400,
                            "TruncatedHTTPRequest",
                            "HTTP request detected as truncated",
                        )));
                    }
                }
                read.trailers = std::mem::take(&mut decoder.trailers);
            }
        }
        Ok(read)
    }

    /// Reads and drops the body of `head` (bounded).
    pub(crate) fn skip_body(&mut self, head: &RequestHead) -> Result<(), ReadError> {
        self.read_body(head, 0, &mut |_| {}).map(|_| ())
    }

    /// Whether the client is still connected: a non-blocking peek sees no end of stream.
    /// (Used before handing an event to a parked `/next` whose process may have died.)
    pub(crate) fn peer_alive(&self) -> bool {
        if self.pos < self.buf.len() {
            return true;
        }
        if self.stream.set_nonblocking(true).is_err() {
            return true;
        }
        let mut probe = [0u8; 1];
        let alive = match self.stream.peek(&mut probe) {
            Ok(0) => false,
            Ok(_) => true,
            Err(e) => {
                e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::Interrupted
            }
        };
        let _ = self.stream.set_nonblocking(false);
        alive
    }

    /// The client's address.
    pub(crate) fn peer_addr(&self) -> Option<std::net::SocketAddr> {
        self.stream.peer_addr().ok()
    }

    /// Writes `bytes` as they are.
    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes)
    }

    /// Writes a complete response.
    pub(crate) fn respond(
        &mut self,
        status: u16,
        headers: &[(&str, &str)],
        body: &[u8],
        flow: Flow,
    ) -> io::Result<Flow> {
        self.write_all(&wire::response(
            status,
            headers,
            body,
            flow == Flow::KeepAlive,
        ))?;
        Ok(flow)
    }

    /// Writes a Runtime-API-style JSON error.
    pub(crate) fn respond_error(
        &mut self,
        status: u16,
        error_type: &str,
        message: &str,
        flow: Flow,
    ) -> io::Result<Flow> {
        let body = wire::error_body(error_type, message);
        self.respond(status, &[("Content-Type", "application/json")], &body, flow)
    }

    /// Answers a request whose body could not be read: nothing more for a broken connection,
    /// a Runtime-API-style JSON error (then close) for a malformed body.
    pub(crate) fn fail_read(&mut self, error: ReadError) -> io::Result<Flow> {
        match error {
            ReadError::Io(_) => Ok(Flow::Close),
            ReadError::Wire(e) => {
                self.respond_error(e.status, e.error_type, &e.message, Flow::Close)
            }
        }
    }
}

/// Whether a read error is a read timeout running out (`WouldBlock` on Unix, `TimedOut` on
/// Windows).
fn timed_out(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
