//! HTTP/1.1 as the proxy needs it, on any byte stream: request and response heads read with
//! `httparse` and written again with every header as it came (names in their own case), and
//! bodies copied from one side to the other as they arrive — a `Content-Length` body piece
//! by piece, a chunked one chunk by chunk with the same chunk boundaries and its trailers,
//! a close-delimited one to the end.
//!
//! The copy never waits for more input while it holds output: whatever it read is written
//! before it reads again, so a chunk reaches the other side as soon as it arrived (streamed
//! responses keep their timing, `docs/runtime-api.md` §5). Each piece of a body and the raw
//! trailer block are also handed to a tap, which keeps the event and the answer for the
//! command.

use std::fmt;
use std::io::{self, Read, Write};

/// Longest head (request line or status line, and headers) accepted.
const MAX_HEAD: usize = 64 * 1024;
/// Most header fields accepted in a head or in trailers.
const MAX_HEADERS: usize = 100;
/// Longest chunk-size line accepted.
const MAX_CHUNK_LINE: usize = 4096;
/// The read buffer's size (it grows for a head that needs more).
const READ_SIZE: usize = 64 * 1024;
/// Output held back before it is written even though more input is already there.
const WRITE_BATCH: usize = 64 * 1024;

/// A byte stream with a read buffer: what the proxy reads heads and bodies from.
#[derive(Debug)]
pub struct Reader<S> {
    /// The stream.
    stream: S,
    /// The buffer; `pos..end` holds the bytes read and not consumed yet.
    buf: Vec<u8>,
    /// Where the unconsumed bytes start.
    pos: usize,
    /// Where they end.
    end: usize,
}

impl<S: Read> Reader<S> {
    /// Wraps `stream`.
    pub fn new(stream: S) -> Reader<S> {
        Reader {
            stream,
            buf: Vec::new(),
            pos: 0,
            end: 0,
        }
    }

    /// The bytes read and not consumed yet.
    fn available(&self) -> &[u8] {
        self.buf.get(self.pos..self.end).unwrap_or_default()
    }

    /// Marks `n` available bytes as consumed.
    fn consume(&mut self, n: usize) {
        self.pos = (self.pos + n).min(self.end);
    }

    /// Whether bytes are read and not consumed yet (a client that sent more than one
    /// request at once, or a server that sent more than its answer).
    pub fn has_buffered(&self) -> bool {
        self.pos < self.end
    }

    /// Reads more bytes after those available (blocking); `Ok(0)` at the end of the stream.
    /// The buffer is zeroed only when it grows, not at each read.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos == self.end {
            self.pos = 0;
            self.end = 0;
        } else if self.buf.len() - self.end < READ_SIZE / 4 && self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.pos = 0;
        }
        if self.buf.len() - self.end < READ_SIZE / 4 {
            self.buf.resize(self.end + READ_SIZE, 0);
        }
        loop {
            let target = self.buf.get_mut(self.end..).unwrap_or_default();
            match self.stream.read(target) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
                Ok(n) => {
                    self.end += n;
                    return Ok(n);
                }
            }
        }
    }

    /// The stream itself (to write to it, or to look at it).
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream itself, mutably.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}

/// A request head: the request line and the headers as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestHead {
    /// The method.
    pub method: String,
    /// The request target, as sent.
    pub target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The headers, names in their own case, values as sent.
    pub headers: Headers,
}

/// A response head: the status line and the headers as sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResponseHead {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub version: u8,
    /// The status code.
    pub status: u16,
    /// The reason phrase, as sent.
    pub reason: String,
    /// The headers, names in their own case, values as sent.
    pub headers: Headers,
}

/// Header fields in the order and case they were sent.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, Vec<u8>)>);

impl Headers {
    /// The first value of `name` (any case), trimmed, when it is text.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// Every value of `name` (any case), as text.
    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = String> + 'a {
        self.0
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| String::from_utf8_lossy(v).trim().to_ascii_lowercase())
    }

    /// Removes every field named `name` (any case).
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }

    /// Whether a `Connection` field holds the token `token` (any case).
    fn connection_has(&self, token: &str) -> bool {
        self.all("connection")
            .any(|v| v.split(',').any(|t| t.trim() == token))
    }

    /// Appends the fields as `Name: value` lines.
    fn write_to(&self, out: &mut Vec<u8>) {
        for (name, value) in &self.0 {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value);
            out.extend_from_slice(b"\r\n");
        }
    }

    /// Reads `httparse`'s fields.
    fn from_parsed(fields: &[httparse::Header<'_>]) -> Headers {
        Headers(
            fields
                .iter()
                .map(|h| (h.name.to_owned(), h.value.to_vec()))
                .collect(),
        )
    }
}

/// How a body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// No body at all (a response to `HEAD`, a 1xx, 204 or 304).
    Empty,
    /// `Content-Length` bytes.
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Up to the end of the stream (a response with neither header).
    ToEnd,
}

/// Bytes that are not HTTP the proxy can pass on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Malformed(pub String);

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Malformed {}

/// Why reading or copying failed, and on which side.
#[derive(Debug)]
pub enum CopyError {
    /// Reading the source failed, or it ended early.
    Read(io::Error),
    /// Writing the destination failed.
    Write(io::Error),
    /// The source sent something that is not HTTP.
    Malformed(Malformed),
}

impl fmt::Display for CopyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CopyError::Read(e) => write!(f, "reading failed: {e}"),
            CopyError::Write(e) => write!(f, "writing failed: {e}"),
            CopyError::Malformed(e) => write!(f, "not HTTP: {e}"),
        }
    }
}

/// A malformed-input error.
fn malformed(message: impl Into<String>) -> CopyError {
    CopyError::Malformed(Malformed(message.into()))
}

/// An end of stream where more bytes were due.
fn truncated(what: &str) -> CopyError {
    CopyError::Read(io::Error::new(
        io::ErrorKind::UnexpectedEof,
        format!("the connection closed in the middle of {what}"),
    ))
}

impl<S: Read> Reader<S> {
    /// Reads the next request head; `Ok(None)` when the stream ended before one began.
    pub fn read_request(&mut self) -> Result<Option<RequestHead>, CopyError> {
        loop {
            let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut request = httparse::Request::new(&mut fields);
            match request.parse(self.available()) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = RequestHead {
                        method: request.method.unwrap_or_default().to_owned(),
                        target: request.path.unwrap_or_default().to_owned(),
                        version: request.version.unwrap_or(1),
                        headers: Headers::from_parsed(request.headers),
                    };
                    self.consume(len);
                    return Ok(Some(head));
                }
                Ok(httparse::Status::Partial) if self.available().len() > MAX_HEAD => {
                    return Err(malformed("a request head over 64 KiB"));
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => return Err(malformed(format!("a malformed request head: {e}"))),
            }
            if self.fill().map_err(CopyError::Read)? == 0 {
                return if self.available().is_empty() {
                    Ok(None)
                } else {
                    Err(truncated("a request head"))
                };
            }
        }
    }

    /// Reads the next response head.
    pub fn read_response(&mut self) -> Result<ResponseHead, CopyError> {
        loop {
            let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut response = httparse::Response::new(&mut fields);
            match response.parse(self.available()) {
                Ok(httparse::Status::Complete(len)) => {
                    let head = ResponseHead {
                        version: response.version.unwrap_or(1),
                        status: response.code.unwrap_or(0),
                        reason: response.reason.unwrap_or_default().to_owned(),
                        headers: Headers::from_parsed(response.headers),
                    };
                    self.consume(len);
                    return Ok(head);
                }
                Ok(httparse::Status::Partial) if self.available().len() > MAX_HEAD => {
                    return Err(malformed("a response head over 64 KiB"));
                }
                Ok(httparse::Status::Partial) => {}
                Err(e) => return Err(malformed(format!("a malformed response head: {e}"))),
            }
            if self.fill().map_err(CopyError::Read)? == 0 {
                return Err(truncated("a response head"));
            }
        }
    }
}

impl RequestHead {
    /// The path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// Whether the client asks for the connection to be closed after this request.
    pub fn wants_close(&self) -> bool {
        match self.version {
            0 => !self.headers.connection_has("keep-alive"),
            _ => self.headers.connection_has("close"),
        }
    }

    /// How the body is framed (RFC 9112 §6).
    pub fn framing(&self) -> Result<Framing, Malformed> {
        match body_framing(&self.headers)? {
            Some(framing) => Ok(framing),
            None => Ok(Framing::Empty),
        }
    }

    /// The head's bytes, with `target` as the request target.
    pub fn to_bytes(&self, target: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(target.as_bytes());
        out.extend_from_slice(if self.version == 0 {
            b" HTTP/1.0\r\n"
        } else {
            b" HTTP/1.1\r\n"
        });
        self.headers.write_to(&mut out);
        out.extend_from_slice(b"\r\n");
        out
    }
}

impl ResponseHead {
    /// Whether the server closes the connection after this response.
    pub fn closes(&self) -> bool {
        match self.version {
            0 => !self.headers.connection_has("keep-alive"),
            _ => self.headers.connection_has("close"),
        }
    }

    /// An interim response (`100 Continue` and the other 1xx but `101`).
    pub fn is_interim(&self) -> bool {
        (100..200).contains(&self.status) && self.status != 101
    }

    /// How the body is framed, for a response to a request with `method`.
    pub fn framing(&self, method: &str) -> Result<Framing, Malformed> {
        if method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&self.status)
            || self.status == 204
            || self.status == 304
        {
            return Ok(Framing::Empty);
        }
        Ok(body_framing(&self.headers)?.unwrap_or(Framing::ToEnd))
    }

    /// The head's bytes, as they came.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        let version = if self.version == 0 { "1.0" } else { "1.1" };
        out.extend_from_slice(format!("HTTP/{version} {} ", self.status).as_bytes());
        out.extend_from_slice(self.reason.as_bytes());
        out.extend_from_slice(b"\r\n");
        self.headers.write_to(&mut out);
        out.extend_from_slice(b"\r\n");
        out
    }
}

/// The framing the headers declare: chunked when that is the only coding, else the one
/// `Content-Length`; `None` when there is neither.
fn body_framing(headers: &Headers) -> Result<Option<Framing>, Malformed> {
    let codings: Vec<String> = headers.all("transfer-encoding").collect();
    let lengths: Vec<String> = headers.all("content-length").collect();
    if !codings.is_empty() {
        if !lengths.is_empty() {
            return Err(Malformed(
                "both Transfer-Encoding and Content-Length".into(),
            ));
        }
        let joined = codings.join(",");
        return if joined == "chunked" {
            Ok(Some(Framing::Chunked))
        } else {
            Err(Malformed(format!("the transfer coding {joined:?}")))
        };
    }
    match lengths.as_slice() {
        [] => Ok(None),
        [one] => one
            .parse::<u64>()
            .ok()
            .filter(|_| one.bytes().all(|b| b.is_ascii_digit()))
            .map(|n| Some(Framing::Length(n)))
            .ok_or_else(|| Malformed(format!("Content-Length {one:?}"))),
        _ => Err(Malformed("more than one Content-Length".into())),
    }
}

/// What a copy shows its tap.
#[derive(Debug, PartialEq, Eq)]
pub enum Piece<'a> {
    /// Body bytes, in order.
    Data(&'a [u8]),
    /// The trailer section of a chunked body, raw (`Name: value` lines and the final CRLF).
    Trailers(&'a [u8]),
}

/// Output waiting to be written, so that a head and the first body bytes, or a chunk's
/// framing and its data, leave in one write.
struct Out<'w, W: Write> {
    /// Where it goes.
    writer: &'w mut W,
    /// What is held.
    pending: Vec<u8>,
}

impl<W: Write> Out<'_, W> {
    /// Holds `bytes`; writes everything once enough is held.
    fn push(&mut self, bytes: &[u8]) -> Result<(), CopyError> {
        self.pending.extend_from_slice(bytes);
        if self.pending.len() >= WRITE_BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes what is held.
    fn flush(&mut self) -> Result<(), CopyError> {
        if !self.pending.is_empty() {
            self.writer
                .write_all(&self.pending)
                .map_err(CopyError::Write)?;
            self.pending.clear();
        }
        Ok(())
    }
}

/// Writes `head`, then copies a body framed as `framing` from `from` to `to`, showing every
/// piece to `tap`. Output is written before each read that would wait, and at the end.
pub fn forward<S: Read, W: Write>(
    head: &[u8],
    framing: Framing,
    from: &mut Reader<S>,
    to: &mut W,
    tap: &mut dyn FnMut(Piece<'_>),
) -> Result<(), CopyError> {
    let mut out = Out {
        writer: to,
        pending: head.to_vec(),
    };
    match framing {
        Framing::Empty => {}
        Framing::Length(length) => copy_length(length, from, &mut out, tap)?,
        Framing::Chunked => copy_chunked(from, &mut out, tap)?,
        Framing::ToEnd => loop {
            if from.available().is_empty() {
                out.flush()?;
                if from.fill().map_err(CopyError::Read)? == 0 {
                    break;
                }
            }
            let piece = from.available();
            tap(Piece::Data(piece));
            let n = piece.len();
            out.push(piece)?;
            from.consume(n);
        },
    }
    out.flush()
}

/// Copies exactly `length` body bytes.
fn copy_length<S: Read, W: Write>(
    length: u64,
    from: &mut Reader<S>,
    out: &mut Out<'_, W>,
    tap: &mut dyn FnMut(Piece<'_>),
) -> Result<(), CopyError> {
    let mut left = length;
    while left > 0 {
        if from.available().is_empty() {
            out.flush()?;
            if from.fill().map_err(CopyError::Read)? == 0 {
                return Err(truncated("a body"));
            }
        }
        let available = from.available();
        let take = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(available.len());
        let piece = available.get(..take).unwrap_or_default();
        tap(Piece::Data(piece));
        out.push(piece)?;
        from.consume(take);
        left -= take as u64;
    }
    Ok(())
}

/// Copies a chunked body, chunk by chunk, and its trailers.
fn copy_chunked<S: Read, W: Write>(
    from: &mut Reader<S>,
    out: &mut Out<'_, W>,
    tap: &mut dyn FnMut(Piece<'_>),
) -> Result<(), CopyError> {
    loop {
        let size = chunk_size(from, out)?;
        if size == 0 {
            return copy_trailers(from, out, tap);
        }
        out.push(format!("{size:x}\r\n").as_bytes())?;
        copy_length(size, from, out, tap)?;
        // The CRLF after the data.
        while from.available().len() < 2 {
            out.flush()?;
            if from.fill().map_err(CopyError::Read)? == 0 {
                return Err(truncated("a chunk"));
            }
        }
        if from.available().get(..2) != Some(b"\r\n") {
            return Err(malformed("chunk data not followed by CRLF"));
        }
        from.consume(2);
        out.push(b"\r\n")?;
    }
}

/// Reads a chunk-size line (extensions are dropped) and returns the size.
fn chunk_size<S: Read, W: Write>(
    from: &mut Reader<S>,
    out: &mut Out<'_, W>,
) -> Result<u64, CopyError> {
    loop {
        if let Some(end) = find_crlf(from.available()) {
            let line = from.available().get(..end).unwrap_or_default();
            let digits = line
                .split(|&b| b == b';')
                .next()
                .unwrap_or_default()
                .trim_ascii();
            let size = std::str::from_utf8(digits)
                .ok()
                .filter(|d| !d.is_empty() && d.len() <= 16)
                .and_then(|d| u64::from_str_radix(d, 16).ok())
                .ok_or_else(|| malformed("an invalid chunk-size line"))?;
            from.consume(end + 2);
            return Ok(size);
        }
        if from.available().len() > MAX_CHUNK_LINE {
            return Err(malformed("a chunk-size line over 4 KiB"));
        }
        out.flush()?;
        if from.fill().map_err(CopyError::Read)? == 0 {
            return Err(truncated("a chunked body"));
        }
    }
}

/// Copies the last chunk's trailer section, as it came.
fn copy_trailers<S: Read, W: Write>(
    from: &mut Reader<S>,
    out: &mut Out<'_, W>,
    tap: &mut dyn FnMut(Piece<'_>),
) -> Result<(), CopyError> {
    loop {
        let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
        match httparse::parse_headers(from.available(), &mut fields) {
            Ok(httparse::Status::Complete((len, _))) => {
                let block = from.available().get(..len).unwrap_or_default();
                tap(Piece::Trailers(block));
                out.push(b"0\r\n")?;
                out.push(block)?;
                from.consume(len);
                return Ok(());
            }
            Ok(httparse::Status::Partial) if from.available().len() > MAX_HEAD => {
                return Err(malformed("trailers over 64 KiB"));
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => return Err(malformed(format!("invalid trailers: {e}"))),
        }
        out.flush()?;
        if from.fill().map_err(CopyError::Read)? == 0 {
            return Err(truncated("the trailers"));
        }
    }
}

/// Where the first CRLF in `bytes` starts.
fn find_crlf(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\r\n")
}

/// The value of the trailer `name` (any case) in a raw trailer block.
pub fn trailer(block: &[u8], name: &str) -> Option<String> {
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(block, &mut fields) {
        Ok(httparse::Status::Complete((_, parsed))) => parsed
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned()),
        _ => None,
    }
}

/// A complete response of the proxy's own, with a JSON body.
pub fn own_response(status: u16, reason: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out its input a few bytes at a time, as a socket may.
    struct Trickle {
        /// The bytes left.
        data: Vec<u8>,
        /// At most this many per read.
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(self.data.len()).min(buf.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data.drain(..n);
            Ok(n)
        }
    }

    /// A reader over `bytes`, `step` bytes per read.
    fn reader(bytes: &[u8], step: usize) -> Reader<Trickle> {
        Reader::new(Trickle {
            data: bytes.to_vec(),
            step,
        })
    }

    /// Heads parse whatever the read sizes, keep header case and order, and are written
    /// back as they came.
    #[test]
    fn heads_round_trip() {
        let raw = b"POST /2018-06-01/runtime/invocation/a%20b/response HTTP/1.1\r\nHost: x\r\nLambda-Runtime-Invocation-Id: i-1\r\nContent-Length: 2\r\n\r\nok";
        for step in [1, 7, 4096] {
            let mut r = reader(raw, step);
            let head = r.read_request().unwrap().unwrap();
            assert_eq!(head.method, "POST");
            assert_eq!(head.path(), "/2018-06-01/runtime/invocation/a%20b/response");
            assert_eq!(
                head.headers.get("lambda-runtime-invocation-id"),
                Some("i-1")
            );
            assert_eq!(head.framing(), Ok(Framing::Length(2)));
            assert!(!head.wants_close());
            assert_eq!(
                head.to_bytes(&head.target),
                raw[..raw.len() - 2].to_vec(),
                "step {step}"
            );
        }
        let mut empty = reader(b"", 1);
        assert_eq!(empty.read_request().unwrap(), None);
        let mut cut = reader(b"GET / HTT", 3);
        assert!(matches!(cut.read_request(), Err(CopyError::Read(_))));
        let mut bad = reader(b"NOT HTTP AT ALL\r\n\r\n", 100);
        assert!(matches!(bad.read_request(), Err(CopyError::Malformed(_))));
    }

    /// A response head and its framing, for the statuses and methods that have no body.
    #[test]
    fn response_framing() {
        let mut r = reader(
            b"HTTP/1.1 202 Accepted\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n",
            5,
        );
        let head = r.read_response().unwrap();
        assert_eq!((head.status, head.reason.as_str()), (202, "Accepted"));
        assert_eq!(head.framing("POST"), Ok(Framing::Length(16)));
        assert_eq!(head.framing("HEAD"), Ok(Framing::Empty));
        assert!(!head.closes());
        let mut r = reader(b"HTTP/1.1 100 Continue\r\n\r\n", 100);
        assert!(r.read_response().unwrap().is_interim());
        let mut r = reader(b"HTTP/1.0 200 OK\r\n\r\n", 100);
        let old = r.read_response().unwrap();
        assert!(old.closes());
        assert_eq!(old.framing("GET"), Ok(Framing::ToEnd));
    }

    /// Invalid framing is refused, never guessed.
    #[test]
    fn bad_framing() {
        let head = |headers: &[(&str, &str)]| RequestHead {
            method: "POST".into(),
            target: "/".into(),
            version: 1,
            headers: Headers(
                headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), v.as_bytes().to_vec()))
                    .collect(),
            ),
        };
        assert!(head(&[("Content-Length", "-1")]).framing().is_err());
        assert!(
            head(&[("Content-Length", "1"), ("content-length", "2")])
                .framing()
                .is_err()
        );
        assert!(
            head(&[("Transfer-Encoding", "chunked"), ("Content-Length", "1")])
                .framing()
                .is_err()
        );
        assert!(head(&[("Transfer-Encoding", "gzip")]).framing().is_err());
        assert_eq!(
            head(&[("Transfer-Encoding", "Chunked")]).framing(),
            Ok(Framing::Chunked)
        );
        assert!(head(&[("Connection", "keep-alive, Close")]).wants_close());
    }

    /// A chunked body keeps its chunk boundaries and trailers; extensions are dropped; the
    /// tap sees the data and the raw trailer block; whatever follows the body stays unread.
    #[test]
    fn chunked_bodies_copy_with_trailers() {
        let body = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.X\r\nLambda-Runtime-Function-Error-Body: e30=\r\n\r\nNEXT";
        let expected = b"HEAD5\r\nhello\r\n7\r\n, world\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.X\r\nLambda-Runtime-Function-Error-Body: e30=\r\n\r\n";
        for step in [1, 3, 4096] {
            let mut from = reader(body, step);
            let mut to = Vec::new();
            let mut data = Vec::new();
            let mut trailers = Vec::new();
            forward(
                b"HEAD",
                Framing::Chunked,
                &mut from,
                &mut to,
                &mut |piece| match piece {
                    Piece::Data(d) => data.extend_from_slice(d),
                    Piece::Trailers(t) => trailers.extend_from_slice(t),
                },
            )
            .unwrap();
            assert_eq!(to, expected.to_vec(), "step {step}");
            assert_eq!(data, b"hello, world");
            assert_eq!(
                trailer(&trailers, "lambda-runtime-function-error-type").as_deref(),
                Some("Function.X")
            );
            let mut rest = Vec::new();
            while from.fill().unwrap() > 0 {}
            rest.extend_from_slice(from.available());
            assert_eq!(rest, b"NEXT");
        }
        let mut none = reader(b"0\r\n\r\n", 1);
        let mut to = Vec::new();
        forward(b"", Framing::Chunked, &mut none, &mut to, &mut |_| {}).unwrap();
        assert_eq!(to, b"0\r\n\r\n");
    }

    /// Broken chunked bodies are errors of the reading side.
    #[test]
    fn broken_chunked_bodies() {
        for (body, read) in [
            (&b"zz\r\n"[..], false),
            (b"1\r\nabc", false),
            (b"5\r\nhel", true),
            (b"5\r\nhello\r\n", true),
        ] {
            let mut from = reader(body, 2);
            let result = forward(
                b"",
                Framing::Chunked,
                &mut from,
                &mut Vec::new(),
                &mut |_| {},
            );
            match result {
                Err(CopyError::Read(_)) => assert!(read, "{body:?}"),
                Err(CopyError::Malformed(_)) => assert!(!read, "{body:?}"),
                other => panic!("{body:?}: {other:?}"),
            }
        }
    }

    /// A length body is copied exactly, the rest left for the next request; one that ends
    /// early is a read error.
    #[test]
    fn length_bodies() {
        let mut from = reader(b"abcdefNEXT", 4);
        let mut to = Vec::new();
        forward(b"H", Framing::Length(6), &mut from, &mut to, &mut |_| {}).unwrap();
        assert_eq!(to, b"Habcdef");
        let mut short = reader(b"abc", 4);
        assert!(matches!(
            forward(
                b"",
                Framing::Length(6),
                &mut short,
                &mut Vec::new(),
                &mut |_| {}
            ),
            Err(CopyError::Read(_))
        ));
        let mut to_end = reader(b"all of it", 2);
        let mut to = Vec::new();
        forward(b"", Framing::ToEnd, &mut to_end, &mut to, &mut |_| {}).unwrap();
        assert_eq!(to, b"all of it");
    }

    /// What is read is written before the copy waits for more: each piece of input reaches
    /// the output before the next read.
    #[test]
    fn writes_before_waiting() {
        /// Records, at each read, how many bytes the writer had received by then.
        struct Watch {
            /// The input, in the pieces one read returns.
            pieces: Vec<Vec<u8>>,
            /// Bytes written so far (shared with the writer).
            written: std::rc::Rc<std::cell::Cell<usize>>,
            /// `written` at each read.
            seen: Vec<usize>,
        }
        impl Read for Watch {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.seen.push(self.written.get());
                if self.pieces.is_empty() {
                    return Ok(0);
                }
                let piece = self.pieces.remove(0);
                buf[..piece.len()].copy_from_slice(&piece);
                Ok(piece.len())
            }
        }
        /// Counts bytes written.
        struct Count(std::rc::Rc<std::cell::Cell<usize>>);
        impl Write for Count {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.set(self.0.get() + buf.len());
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let written = std::rc::Rc::new(std::cell::Cell::new(0));
        let mut from = Reader::new(Watch {
            pieces: vec![
                b"3\r\none\r\n".to_vec(),
                b"3\r\ntwo\r\n".to_vec(),
                b"0\r\n\r\n".to_vec(),
            ],
            written: written.clone(),
            seen: Vec::new(),
        });
        forward(
            b"",
            Framing::Chunked,
            &mut from,
            &mut Count(written.clone()),
            &mut |_| {},
        )
        .unwrap();
        // Before the second read, the first chunk (8 bytes) was out; before the third, both.
        assert_eq!(from.get_ref().seen, [0, 8, 16]);
    }
}
