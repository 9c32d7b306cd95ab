//! Sans-IO HTTP/1.1 for the emulator's server side: request heads parsed with `httparse`,
//! body framing (length or chunked, with trailers), and response bytes. No sockets here:
//! everything works on byte slices and is unit-tested on them.

use std::fmt;

use crate::chunk_size::ChunkSizeLine;
use crate::field_block::{BlockCaps, BlockError, BlockScan};
use crate::limits::{
    MAX_HEAD_BYTES, MAX_HEADERS, MAX_REQUEST_LINE, MAX_TRAILER_BYTES, MAX_TRAILERS,
};

/// The caps of a request head.
const HEAD_CAPS: BlockCaps = BlockCaps {
    max_bytes: MAX_HEAD_BYTES,
    max_fields: MAX_HEADERS,
    first_line: Some(MAX_REQUEST_LINE),
};

/// The caps of a chunked body's trailer section.
const TRAILER_CAPS: BlockCaps = BlockCaps {
    max_bytes: MAX_TRAILER_BYTES,
    max_fields: MAX_TRAILERS,
    first_line: None,
};

/// A parsed request line and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RequestHead {
    /// The method, as sent.
    pub(crate) method: String,
    /// The request target as sent (path and query, still percent-encoded).
    pub(crate) target: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) version: u8,
    /// Header names lowercased, values as sent.
    pub(crate) headers: Vec<(String, Vec<u8>)>,
}

impl RequestHead {
    /// The first value of header `name` (lowercase), as text.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .and_then(|(_, v)| std::str::from_utf8(v).ok())
            .map(str::trim)
    }

    /// The path part of the target, without the query.
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// Whether the client wants the connection kept open after this request.
    pub(crate) fn keep_alive(&self) -> bool {
        let connection = self.header("connection").map(str::to_ascii_lowercase);
        match self.version {
            0 => connection.as_deref() == Some("keep-alive"),
            _ => connection.as_deref() != Some("close"),
        }
    }
}

/// How a request body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// A `Content-Length` body (0 when there is neither header).
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A request the server cannot accept, with the status to answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WireError {
    /// The status to answer with.
    pub(crate) status: u16,
    /// The Runtime-API-style error type of the body.
    pub(crate) error_type: &'static str,
    /// What is wrong.
    pub(crate) message: String,
}

impl WireError {
    /// An error with this status, type and message.
    pub(crate) fn new(
        status: u16,
        error_type: &'static str,
        message: impl Into<String>,
    ) -> WireError {
        WireError {
            status,
            error_type,
            message: message.into(),
        }
    }

    /// A 400 `InvalidRequest`.
    fn bad(message: impl Into<String>) -> WireError {
        WireError::new(400, "InvalidRequest", message)
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status, self.error_type, self.message)
    }
}

/// Parses a request head from the start of `buf`: `Ok(None)` when more bytes are needed,
/// otherwise the head and the number of bytes it took (empty lines before the request line
/// included). The same as a fresh [`HeadParser`]; the entry point of the request parser's
/// fuzz target (the server itself keeps a [`HeadParser`] per head).
#[allow(dead_code)]
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, WireError> {
    HeadParser::default().parse(buf)
}

/// A request head read as it arrives: the scan for its end keeps its place between calls,
/// so a head sent a byte at a time is scanned once, and the caps (request line, head size,
/// field count; [`crate::limits`]) are met at the same byte however it was split.
#[derive(Clone, Debug, Default)]
pub(crate) struct HeadParser {
    /// How far the head has been scanned.
    scan: BlockScan,
}

impl HeadParser {
    /// Parses the head at the start of `buf` (the same bytes as the last call plus any
    /// new ones): `Ok(None)` when more bytes are needed, otherwise the head and its length.
    /// Start a new parser for the next head.
    pub(crate) fn parse(&mut self, buf: &[u8]) -> Result<Option<(RequestHead, usize)>, WireError> {
        let Some(len) = self.scan.scan(buf, &HEAD_CAPS).map_err(head_error)? else {
            return Ok(None);
        };
        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut slots);
        match request.parse(&buf[..len]) {
            Ok(httparse::Status::Complete(_)) => Ok(Some((
                RequestHead {
                    method: request.method.unwrap_or_default().to_owned(),
                    target: request.path.unwrap_or_default().to_owned(),
                    version: request.version.unwrap_or(1),
                    headers: request
                        .headers
                        .iter()
                        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                        .collect(),
                },
                len,
            ))),
            Ok(httparse::Status::Partial) => {
                Err(WireError::bad("malformed HTTP request: incomplete head"))
            }
            Err(e) => Err(WireError::bad(format!("malformed HTTP request: {e}"))),
        }
    }
}

/// The answer to a head the scan refused.
fn head_error(error: BlockError) -> WireError {
    match error {
        BlockError::FirstLineTooLong => WireError::new(
            414,
            "RequestURITooLong",
            format!("request line over {MAX_REQUEST_LINE} bytes"),
        ),
        BlockError::TooLarge => WireError::new(
            431,
            "RequestHeaderFieldsTooLarge",
            format!("request head over {} KiB", MAX_HEAD_BYTES / 1024),
        ),
        BlockError::TooManyFields => WireError::new(
            431,
            "RequestHeaderFieldsTooLarge",
            format!("more than {MAX_HEADERS} header fields"),
        ),
        BlockError::BareLf => WireError::bad(
            "malformed HTTP request: a line ended by a bare LF (HTTP/1.1 lines end with CRLF)",
        ),
    }
}

/// The answer to a trailer section the scan refused.
fn trailer_error(error: BlockError) -> WireError {
    match error {
        BlockError::TooLarge | BlockError::FirstLineTooLong => WireError::new(
            431,
            "RequestHeaderFieldsTooLarge",
            format!(
                "chunked trailer section over {} KiB",
                MAX_TRAILER_BYTES / 1024
            ),
        ),
        BlockError::TooManyFields => WireError::new(
            431,
            "RequestHeaderFieldsTooLarge",
            format!("more than {MAX_TRAILERS} trailer fields"),
        ),
        BlockError::BareLf => WireError::bad(
            "invalid trailers: a line ended by a bare LF (HTTP/1.1 lines end with CRLF)",
        ),
    }
}

/// How the body of `head` is framed (RFC 9112 §6): chunked wins only when it is the sole
/// coding; a request with both headers, several lengths or a bad length is refused.
pub(crate) fn framing(head: &RequestHead) -> Result<Framing, WireError> {
    let encodings: Vec<&[u8]> = head
        .headers
        .iter()
        .filter(|(n, _)| n == "transfer-encoding")
        .map(|(_, v)| v.as_slice())
        .collect();
    let lengths: Vec<&[u8]> = head
        .headers
        .iter()
        .filter(|(n, _)| n == "content-length")
        .map(|(_, v)| v.as_slice())
        .collect();
    if !encodings.is_empty() {
        if !lengths.is_empty() {
            return Err(WireError::bad("both Transfer-Encoding and Content-Length"));
        }
        let joined = encodings
            .iter()
            .map(|v| String::from_utf8_lossy(v).trim().to_ascii_lowercase())
            .collect::<Vec<_>>()
            .join(",");
        return if joined == "chunked" {
            Ok(Framing::Chunked)
        } else {
            Err(WireError::new(
                501,
                "NotImplemented",
                format!("unsupported transfer coding {joined:?}"),
            ))
        };
    }
    match lengths.as_slice() {
        [] => Ok(Framing::Length(0)),
        [one] => std::str::from_utf8(one)
            .ok()
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|v| v.parse::<usize>().ok())
            .map(Framing::Length)
            .ok_or_else(|| WireError::bad("invalid Content-Length")),
        _ => Err(WireError::bad("more than one Content-Length")),
    }
}

/// Where a chunked body has got to.
#[derive(Clone, Debug)]
enum ChunkState {
    /// In a chunk size line.
    Size(ChunkSizeLine),
    /// In a chunk's data, this many bytes still to come.
    Data(u64),
    /// After a chunk's data, expecting its CR.
    DataCr,
    /// After a chunk's data and CR, expecting its LF.
    DataLf,
    /// In the trailer section (after the last chunk's size line).
    Trailers,
    /// After the trailer section's empty line.
    Done,
}

impl Default for ChunkState {
    fn default() -> Self {
        ChunkState::Size(ChunkSizeLine::default())
    }
}

/// Incremental decoder of a chunked body (RFC 9112 §7.1): feed it bytes, it appends the data
/// and, at the end, collects the trailers. Every byte is looked at once; the outcome (data,
/// trailers, or the error) depends only on the bytes, never on how they were split.
#[derive(Debug, Default)]
pub(crate) struct ChunkDecoder {
    /// Where the body has got to.
    state: ChunkState,
    /// The trailer section so far (at most [`MAX_TRAILER_BYTES`] + 1 bytes).
    trailer_block: Vec<u8>,
    /// How far the trailer section has been scanned.
    trailer_scan: BlockScan,
    /// The trailers, once the body is complete (names lowercase).
    pub(crate) trailers: Vec<(String, Vec<u8>)>,
}

impl ChunkDecoder {
    /// Whether the whole body, trailers included, has been decoded.
    pub(crate) fn is_done(&self) -> bool {
        matches!(self.state, ChunkState::Done)
    }

    /// Decodes as much of `input` as possible, appending data to `out`. Returns the bytes
    /// consumed: all of `input` until the body ends, then only up to its end (the rest is
    /// the next request's).
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, WireError> {
        let mut pos = 0;
        while pos < input.len() {
            let rest = &input[pos..];
            match &mut self.state {
                ChunkState::Size(line) => {
                    let (used, size) = line
                        .feed(rest)
                        .map_err(|e| WireError::bad(format!("invalid chunk size line: {e}")))?;
                    pos += used;
                    match size {
                        Some(0) => self.state = ChunkState::Trailers,
                        Some(size) => self.state = ChunkState::Data(size),
                        None => {}
                    }
                }
                ChunkState::Data(left) => {
                    let take = usize::try_from(*left).unwrap_or(usize::MAX).min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    pos += take;
                    *left -= take as u64;
                    if *left == 0 {
                        self.state = ChunkState::DataCr;
                    }
                }
                ChunkState::DataCr | ChunkState::DataLf => {
                    let expected = if matches!(self.state, ChunkState::DataCr) {
                        b'\r'
                    } else {
                        b'\n'
                    };
                    if rest[0] != expected {
                        return Err(WireError::bad("chunk data not followed by CRLF"));
                    }
                    pos += 1;
                    self.state = if expected == b'\r' {
                        ChunkState::DataLf
                    } else {
                        ChunkState::default()
                    };
                }
                ChunkState::Trailers => {
                    let before = self.trailer_block.len();
                    let room = (MAX_TRAILER_BYTES + 1).saturating_sub(before);
                    self.trailer_block
                        .extend_from_slice(&rest[..rest.len().min(room)]);
                    match self
                        .trailer_scan
                        .scan(&self.trailer_block, &TRAILER_CAPS)
                        .map_err(trailer_error)?
                    {
                        None => pos += self.trailer_block.len() - before,
                        Some(len) => {
                            pos += len - before;
                            self.trailer_block.truncate(len);
                            self.trailers = parse_trailers(&self.trailer_block)?;
                            self.trailer_block = Vec::new();
                            self.state = ChunkState::Done;
                        }
                    }
                }
                ChunkState::Done => break,
            }
        }
        Ok(pos)
    }
}

/// The fields of a complete trailer section (its closing empty line included).
fn parse_trailers(block: &[u8]) -> Result<Vec<(String, Vec<u8>)>, WireError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_TRAILERS];
    match httparse::parse_headers(block, &mut slots) {
        Ok(httparse::Status::Complete((_, fields))) => Ok(fields
            .iter()
            .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
            .collect()),
        Ok(httparse::Status::Partial) => Err(WireError::bad("invalid trailers: incomplete")),
        Err(e) => Err(WireError::bad(format!("invalid trailers: {e}"))),
    }
}

/// The reason phrase of `status`: the IANA HTTP status code registry's (RFC 9110 §15 and the
/// RFCs it cites, plus 418 from RFC 2324), or an empty phrase for a code it does not name,
/// which HTTP/1.1 allows (RFC 9112 §4: `reason-phrase` may be empty).
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        102 => "Processing",
        103 => "Early Hints",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        203 => "Non-Authoritative Information",
        204 => "No Content",
        205 => "Reset Content",
        206 => "Partial Content",
        207 => "Multi-Status",
        208 => "Already Reported",
        226 => "IM Used",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        305 => "Use Proxy",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        402 => "Payment Required",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        416 => "Range Not Satisfiable",
        417 => "Expectation Failed",
        418 => "I'm a teapot",
        421 => "Misdirected Request",
        422 => "Unprocessable Content",
        423 => "Locked",
        424 => "Failed Dependency",
        425 => "Too Early",
        426 => "Upgrade Required",
        428 => "Precondition Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        451 => "Unavailable For Legal Reasons",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => "",
    }
}

/// The bytes of a complete response with a `Content-Length` body.
pub(crate) fn response(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    keep_alive: bool,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(128 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {}\r\n", reason(status)).as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    if !keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// The JSON error body RAPID uses: `{"errorType","errorMessage"}`.
pub(crate) fn error_body(error_type: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({"errorType": error_type, "errorMessage": message}))
        .unwrap_or_default()
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

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> RequestHead {
        parse_head(raw.as_bytes()).unwrap().unwrap().0
    }

    /// Heads parse incrementally: a prefix is `None`, the whole head gives its length.
    #[test]
    fn heads_parse_incrementally() {
        let raw = "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\nUser-Agent: coda/0\r\n\r\nrest";
        for cut in 0..raw.len() - 4 {
            assert_eq!(
                parse_head(&raw.as_bytes()[..cut]).unwrap(),
                None,
                "cut at {cut}"
            );
        }
        let (h, len) = parse_head(raw.as_bytes()).unwrap().unwrap();
        assert_eq!(len, raw.len() - 4);
        assert_eq!(
            (h.method.as_str(), h.path()),
            ("GET", "/2018-06-01/runtime/invocation/next")
        );
        assert_eq!(h.header("user-agent"), Some("coda/0"));
        assert!(h.keep_alive());
    }

    /// Malformed or oversized heads are refused with a 4xx, never a panic.
    #[test]
    fn bad_heads() {
        assert_eq!(parse_head(b"GARBAGE\r\n\r\n").unwrap_err().status, 400);
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        let many: String = (0..70).map(|i| format!("X-{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(parse_head(raw.as_bytes()).unwrap_err().status, 431);
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_REQUEST_LINE));
        assert_eq!(parse_head(long.as_bytes()).unwrap_err().status, 414);
        let big = format!(
            "GET / HTTP/1.1\r\n{}",
            "X-Big: 0123456789abcdef\r\n".repeat(MAX_HEAD_BYTES / 20)
        );
        assert_eq!(parse_head(big.as_bytes()).unwrap_err().status, 431);
        let bare_lf = "GET / HTTP/1.1\nHost: x\n\n";
        assert_eq!(parse_head(bare_lf.as_bytes()).unwrap_err().status, 400);
    }

    /// RFC 9112 §6 framing rules.
    #[test]
    fn framing_rules() {
        let f = |raw: &str| framing(&head(raw));
        assert_eq!(f("POST / HTTP/1.1\r\n\r\n"), Ok(Framing::Length(0)));
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n"),
            Ok(Framing::Length(12))
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n"),
            Ok(Framing::Chunked)
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap_err()
                .status,
            400
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n")
                .unwrap_err()
                .status,
            501
        );
    }

    /// Chunked bodies decode byte by byte as well as whole, trailers included.
    #[test]
    fn chunked_bodies_with_trailers() {
        let raw = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nLambda-Runtime-Function-Error-Type: Function.X\r\n\r\nNEXT";
        let mut whole = ChunkDecoder::default();
        let mut out = Vec::new();
        let used = whole.decode(raw, &mut out).unwrap();
        assert_eq!(
            (out.as_slice(), used, whole.is_done()),
            (&b"hello, world"[..], raw.len() - 4, true)
        );
        assert_eq!(whole.trailers[0].0, "lambda-runtime-function-error-type");

        let mut bytewise = ChunkDecoder::default();
        let mut out = Vec::new();
        let mut pending = Vec::new();
        for &b in &raw[..raw.len() - 4] {
            pending.push(b);
            let used = bytewise.decode(&pending, &mut out).unwrap();
            pending.drain(..used);
        }
        assert!(bytewise.is_done());
        assert_eq!(out, b"hello, world");
        assert_eq!(bytewise.trailers, whole.trailers);

        let mut bad = ChunkDecoder::default();
        assert!(bad.decode(b"zz\r\n", &mut Vec::new()).is_err());
        let mut bad = ChunkDecoder::default();
        assert!(bad.decode(b"1\r\nab", &mut Vec::new()).is_err());
    }

    /// What a request (head, then a chunked body) comes to: the head's method and target
    /// and the bytes it took, the body's data and trailers, or the first error's status.
    #[derive(Debug, PartialEq)]
    enum Outcome {
        /// Parsed: head, head length, data, trailers, bytes of the body.
        Parsed(String, usize, Vec<u8>, Vec<(String, Vec<u8>)>, usize),
        /// More bytes needed.
        Incomplete,
        /// Refused with this status.
        Refused(u16),
    }

    /// Feeds `raw` in pieces ending at `cuts` (and at its end), as a connection would: a
    /// head parser over the growing buffer, then a chunk decoder re-fed what it left.
    fn feed(raw: &[u8], cuts: &[usize]) -> Outcome {
        let mut ends: Vec<usize> = cuts.iter().copied().filter(|&c| c < raw.len()).collect();
        ends.push(raw.len());
        let mut parser = HeadParser::default();
        let mut head: Option<(RequestHead, usize)> = None;
        let mut decoder = ChunkDecoder::default();
        let mut data = Vec::new();
        let mut pos = 0;
        for end in ends {
            let buf = &raw[..end];
            if head.is_none() {
                match parser.parse(buf) {
                    Ok(Some(parsed)) => {
                        pos = parsed.1;
                        head = Some(parsed);
                    }
                    Ok(None) => continue,
                    Err(e) => return Outcome::Refused(e.status),
                }
            }
            if pos < end {
                match decoder.decode(&buf[pos..], &mut data) {
                    Ok(used) => pos += used,
                    Err(e) => return Outcome::Refused(e.status),
                }
            }
            if decoder.is_done() {
                break;
            }
        }
        match head {
            Some((h, len)) if decoder.is_done() => Outcome::Parsed(
                format!("{} {}", h.method, h.target),
                len,
                data,
                decoder.trailers,
                pos - len,
            ),
            _ => Outcome::Incomplete,
        }
    }

    /// A small deterministic generator (xorshift), for split points.
    fn splits(seed: u64, len: usize, count: usize) -> Vec<usize> {
        let mut x = seed | 1;
        let mut cuts: Vec<usize> = (0..count)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % (len as u64 + 1)) as usize
            })
            .collect();
        cuts.sort_unstable();
        cuts
    }

    /// Segmentation independence: a request fed whole, a byte at a time, cut at every single
    /// point, or cut at many random points comes to the same outcome, for well-formed and
    /// hostile inputs alike.
    #[test]
    fn outcome_does_not_depend_on_segmentation() {
        let head = "POST /2018-06-01/runtime/invocation/abc/response HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        let with = |body: &str| format!("{head}{body}").into_bytes();
        let inputs: Vec<(Vec<u8>, Option<u16>)> = vec![
            (
                with("5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Error: e\r\n\r\nNEXT"),
                None,
            ),
            (with("0\r\n\r\n"), None),
            (
                with(&format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(1500))),
                None,
            ),
            (
                with(&format!("5;{}\r\nhello\r\n0\r\n\r\n", "e".repeat(5000))),
                Some(400),
            ),
            (with("\r\nhello\r\n0\r\n\r\n"), Some(400)),
            (with(";x\r\n\r\n"), Some(400)),
            (with("5\nhello\r\n0\r\n\r\n"), Some(400)),
            (with("5\r\nhelloXX0\r\n\r\n"), Some(400)),
            (
                with(&format!("0\r\nX-T: {}", "t".repeat(MAX_TRAILER_BYTES + 10))),
                Some(431),
            ),
            (
                with(&format!("0\r\n{}\r\n", "A: b\r\n".repeat(MAX_TRAILERS + 1))),
                Some(431),
            ),
            (with("0\r\nBad Trailer\r\n\r\n"), Some(400)),
            (
                format!("GET /{} HTTP/1.1\r\n\r\n", "u".repeat(MAX_REQUEST_LINE)).into_bytes(),
                Some(414),
            ),
            (
                format!(
                    "GET / HTTP/1.1\r\n{}\r\n",
                    "H: v\r\n".repeat(MAX_HEADERS + 1)
                )
                .into_bytes(),
                Some(431),
            ),
            (b"GET / HTTP/1.1\r\nHost: x\n\r\n".to_vec(), Some(400)),
        ];
        for (raw, refused) in inputs {
            let whole = feed(&raw, &[]);
            match refused {
                Some(status) => assert_eq!(whole, Outcome::Refused(status), "{raw:?}"),
                None => assert!(matches!(whole, Outcome::Parsed(..)), "{whole:?}"),
            }
            let bytewise: Vec<usize> = (1..raw.len()).collect();
            assert_eq!(feed(&raw, &bytewise), whole, "byte by byte");
            let step = (raw.len() / 300).max(1);
            for cut in (1..raw.len()).step_by(step) {
                assert_eq!(feed(&raw, &[cut]), whole, "cut at {cut}");
            }
            for seed in 1..40u64 {
                let cuts = splits(seed, raw.len(), 12);
                assert_eq!(feed(&raw, &cuts), whole, "cuts {cuts:?}");
            }
        }
    }

    /// A trailer line that never ends is refused once it passes the trailer cap, having
    /// been scanned once: the decoder keeps only the section, never more than the cap.
    #[test]
    fn endless_trailer_line_is_refused_at_the_cap() {
        let mut decoder = ChunkDecoder::default();
        let mut out = Vec::new();
        assert_eq!(decoder.decode(b"0\r\nX-Endless: ", &mut out), Ok(14));
        let mut fed = 14;
        let error = loop {
            match decoder.decode(b"a", &mut out) {
                Ok(1) => fed += 1,
                Ok(n) => panic!("took {n} of 1 byte"),
                Err(e) => break e,
            }
            assert!(decoder.trailer_block.len() <= MAX_TRAILER_BYTES + 1);
        };
        assert_eq!((error.status, fed), (431, 3 + MAX_TRAILER_BYTES));
    }

    /// Every registered code has its phrase; an unregistered one an empty phrase, never a
    /// made-up word.
    #[test]
    fn reason_phrases() {
        assert_eq!(reason(201), "Created");
        assert_eq!(reason(418), "I'm a teapot");
        assert_eq!(reason(451), "Unavailable For Legal Reasons");
        assert_eq!(reason(299), "");
        assert_eq!(reason(599), "");
    }

    /// Header names must be tokens; values must not split the response.
    #[test]
    fn safe_headers() {
        assert!(header_name_ok("X-Request_Id.1~"));
        for bad in ["", "Bad Name", "x:y", "é"] {
            assert!(!header_name_ok(bad), "{bad:?}");
        }
        assert!(header_value_ok("text/html; charset=utf-8"));
        for bad in ["a\r\nInjected: 1", "a\nb", "a\0b"] {
            assert!(!header_value_ok(bad), "{bad:?}");
        }
    }
}
