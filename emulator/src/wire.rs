//! Sans-IO HTTP/1.1 for the emulator's server side: request heads parsed with `httparse`,
//! body framing (length or chunked, with trailers), and response bytes. No sockets here:
//! everything works on byte slices and is unit-tested on them.

use std::fmt;

/// Longest request head accepted (request line and headers).
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header fields accepted in a head or in trailers.
pub(crate) const MAX_HEADERS: usize = 64;

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
/// otherwise the head and the number of bytes it took.
pub(crate) fn parse_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, WireError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut slots);
    match request.parse(buf) {
        Ok(httparse::Status::Partial) => {
            if buf.len() > MAX_HEAD_BYTES {
                Err(WireError::new(
                    431,
                    "RequestHeaderFieldsTooLarge",
                    "request head over 64 KiB",
                ))
            } else {
                Ok(None)
            }
        }
        Ok(httparse::Status::Complete(len)) => {
            if len > MAX_HEAD_BYTES {
                return Err(WireError::new(
                    431,
                    "RequestHeaderFieldsTooLarge",
                    "request head over 64 KiB",
                ));
            }
            let head = RequestHead {
                method: request.method.unwrap_or_default().to_owned(),
                target: request.path.unwrap_or_default().to_owned(),
                version: request.version.unwrap_or(1),
                headers: request
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                    .collect(),
            };
            Ok(Some((head, len)))
        }
        Err(httparse::Error::TooManyHeaders) => Err(WireError::new(
            431,
            "RequestHeaderFieldsTooLarge",
            format!("more than {MAX_HEADERS} header fields"),
        )),
        Err(e) => Err(WireError::bad(format!("malformed HTTP request: {e}"))),
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

/// Incremental decoder of a chunked body: feed it bytes, it appends the data and, at the
/// end, collects the trailers.
#[derive(Debug, Default)]
pub(crate) struct ChunkDecoder {
    /// Data bytes still expected in the current chunk (plus its CRLF once 0).
    remaining: usize,
    in_data: bool,
    done: bool,
    pub(crate) trailers: Vec<(String, Vec<u8>)>,
}

impl ChunkDecoder {
    pub(crate) fn is_done(&self) -> bool {
        self.done
    }

    /// Decodes as much of `input` as possible, appending data to `out`. Returns the bytes
    /// consumed; fewer than `input.len()` means the rest is an incomplete piece.
    pub(crate) fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, WireError> {
        let mut pos = 0;
        while !self.done && pos < input.len() {
            let rest = &input[pos..];
            if self.in_data {
                if self.remaining > 0 {
                    let take = self.remaining.min(rest.len());
                    out.extend_from_slice(&rest[..take]);
                    self.remaining -= take;
                    pos += take;
                    continue;
                }
                let crlf_so_far = rest.len().min(2);
                if rest[..crlf_so_far] != b"\r\n"[..crlf_so_far] {
                    return Err(WireError::bad("chunk data not followed by CRLF"));
                }
                if crlf_so_far < 2 {
                    break;
                }
                pos += 2;
                self.in_data = false;
                continue;
            }
            match httparse::parse_chunk_size(rest) {
                Ok(httparse::Status::Partial) => {
                    if rest.len() > 1024 {
                        return Err(WireError::bad("chunk size line too long"));
                    }
                    break;
                }
                Err(_) => return Err(WireError::bad("invalid chunk size line")),
                Ok(httparse::Status::Complete((used, size))) => {
                    let size =
                        usize::try_from(size).map_err(|_| WireError::bad("chunk too large"))?;
                    if size == 0 {
                        let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
                        match httparse::parse_headers(&rest[used..], &mut slots) {
                            Ok(httparse::Status::Partial) => break,
                            Ok(httparse::Status::Complete((tlen, trailers))) => {
                                self.trailers = trailers
                                    .iter()
                                    .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                                    .collect();
                                pos += used + tlen;
                                self.done = true;
                            }
                            Err(e) => return Err(WireError::bad(format!("invalid trailers: {e}"))),
                        }
                    } else {
                        pos += used;
                        self.remaining = size;
                        self.in_data = true;
                    }
                }
            }
        }
        Ok(pos)
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
        let long = format!("GET /{} HTTP/1.1\r\n", "a".repeat(MAX_HEAD_BYTES + 10));
        assert_eq!(parse_head(long.as_bytes()).unwrap_err().status, 431);
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
