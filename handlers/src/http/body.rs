//! [`Body`]: the body of requests and responses, and the rule that sends a response body as
//! text or as base64.
//!
//! **Requests.** A body the source marked `isBase64Encoded` is decoded to its bytes
//! ([`Body::is_binary`]); any other body is the text the source sent. No body, `null` or `""`
//! is [`Body::empty`].
//!
//! **Responses.** Each source's JSON carries the body as a string, so a body goes out either
//! as text or as base64 with `isBase64Encoded: true`. It goes out as **text** only when all of
//! these hold, and as **base64** otherwise:
//!
//! 1. it is valid UTF-8;
//! 2. it has no `Content-Encoding` other than `identity` (a gzip of text is binary);
//! 3. it has no `Content-Type`, or a textual one: `text/*`, `application/json`,
//!    `application/xml`, `application/javascript`, `application/ecmascript`,
//!    `application/x-www-form-urlencoded`, `application/graphql`, `application/yaml`,
//!    `application/x-ndjson`, or any `+json`, `+xml` or `+yaml` type (parameters such as
//!    `charset` are ignored, case does not matter).
//!
//! So no byte is ever replaced: a body without a content type that is not UTF-8 goes out as
//! base64 (where `lambda_http` sends it as text with U+FFFD in place of the invalid bytes).
//! API Gateway REST APIs decode base64 bodies only for the media types listed in the API's
//! `binaryMediaTypes`: list the binary types a function answers with there.

use std::fmt;
use std::io::Write;
use std::sync::Mutex;

use coda_lambda::Diagnostic;
use http::HeaderMap;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};

/// What a streamed body's writer is.
pub(crate) type WriteFn = Box<dyn FnOnce(&mut dyn Write) -> Result<(), Diagnostic> + Send>;

/// A request or response body: nothing, text, bytes, or (responses only) a stream written
/// while the caller receives it.
///
/// ```
/// use coda_handlers::http::Body;
///
/// let text = Body::from("hello");
/// assert_eq!(text.as_str(), Some("hello"));
/// let bytes = Body::from(vec![0x89, b'P', b'N', b'G']);
/// assert!(bytes.is_binary());
/// assert_eq!(bytes.as_bytes(), b"\x89PNG");
/// assert!(Body::empty().is_empty());
/// ```
#[derive(Default)]
pub struct Body(Inner);

#[derive(Default)]
enum Inner {
    #[default]
    Empty,
    Text(String),
    Binary(Vec<u8>),
    /// Behind a mutex so that a body (and a request holding one) is `Sync`.
    Stream(Mutex<Option<WriteFn>>),
}

impl Body {
    /// No body.
    pub const fn empty() -> Body {
        Body(Inner::Empty)
    }

    /// A streamed response body: `f` writes it, and with [`super::Adapter::response_stream`]
    /// each write reaches the caller as it happens (Function URLs in `RESPONSE_STREAM` mode).
    /// Without streaming, the writes are collected and sent as one buffered body.
    ///
    /// ```
    /// use std::io::Write;
    /// use coda_handlers::http::{Body, Response};
    ///
    /// let response = Response::builder()
    ///     .header("content-type", "text/plain")
    ///     .body(Body::stream(|out| -> std::io::Result<()> {
    ///         for i in 0..3 {
    ///             writeln!(out, "line {i}")?;
    ///         }
    ///         Ok(())
    ///     }))
    ///     .unwrap();
    /// assert!(response.body().is_stream());
    /// ```
    pub fn stream<F, E>(f: F) -> Body
    where
        F: FnOnce(&mut dyn Write) -> Result<(), E> + Send + 'static,
        E: Into<Diagnostic>,
    {
        let write: WriteFn = Box::new(move |out| f(out).map_err(Into::into));
        Body(Inner::Stream(Mutex::new(Some(write))))
    }

    /// The bytes (empty for no body and for a stream).
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Inner::Text(text) => text.as_bytes(),
            Inner::Binary(bytes) => bytes,
            Inner::Empty | Inner::Stream(_) => &[],
        }
    }

    /// The body as text, when it is valid UTF-8 (`Some("")` for no body).
    pub fn as_str(&self) -> Option<&str> {
        match &self.0 {
            Inner::Text(text) => Some(text),
            Inner::Binary(bytes) => std::str::from_utf8(bytes).ok(),
            Inner::Empty => Some(""),
            Inner::Stream(_) => None,
        }
    }

    /// The body's bytes, taken (empty for a stream).
    pub fn into_bytes(self) -> Vec<u8> {
        match self.0 {
            Inner::Text(text) => text.into_bytes(),
            Inner::Binary(bytes) => bytes,
            Inner::Empty | Inner::Stream(_) => Vec::new(),
        }
    }

    /// Parses the body as JSON.
    pub fn json<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_slice(self.as_bytes())
    }

    /// The length in bytes (0 for a stream).
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether there are no bytes (and no stream).
    pub fn is_empty(&self) -> bool {
        !self.is_stream() && self.as_bytes().is_empty()
    }

    /// Whether the body was made from bytes: a request body the source sent base64-encoded,
    /// or a response body built from a `Vec<u8>` or `&[u8]`. (For responses this does not
    /// decide text or base64: the rule in this module does.)
    pub fn is_binary(&self) -> bool {
        matches!(self.0, Inner::Binary(_))
    }

    /// Whether this is a streamed body ([`Body::stream`]).
    pub fn is_stream(&self) -> bool {
        matches!(self.0, Inner::Stream(_))
    }

    /// The body's bytes, or its writer when it is a stream.
    pub(crate) fn into_parts(self) -> Result<Vec<u8>, WriteFn> {
        match self.0 {
            Inner::Stream(write) => {
                let write = write.into_inner().unwrap_or_else(|e| e.into_inner());
                match write {
                    Some(write) => Err(write),
                    None => Ok(Vec::new()),
                }
            }
            other => Ok(Body(other).into_bytes()),
        }
    }
}

impl From<String> for Body {
    fn from(text: String) -> Body {
        if text.is_empty() {
            Body::empty()
        } else {
            Body(Inner::Text(text))
        }
    }
}

impl From<&str> for Body {
    fn from(text: &str) -> Body {
        Body::from(text.to_owned())
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Body {
        if bytes.is_empty() {
            Body::empty()
        } else {
            Body(Inner::Binary(bytes))
        }
    }
}

impl From<&[u8]> for Body {
    fn from(bytes: &[u8]) -> Body {
        Body::from(bytes.to_vec())
    }
}

impl From<()> for Body {
    fn from(_: ()) -> Body {
        Body::empty()
    }
}

impl PartialEq for Body {
    /// Bodies are equal when their bytes are (text or binary alike); a stream equals nothing.
    fn eq(&self, other: &Body) -> bool {
        !self.is_stream() && !other.is_stream() && self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Inner::Empty => f.write_str("Body::Empty"),
            Inner::Text(text) => write!(f, "Body::Text({text:?})"),
            Inner::Binary(bytes) => write!(f, "Body::Binary({} bytes)", bytes.len()),
            Inner::Stream(_) => f.write_str("Body::Stream"),
        }
    }
}

/// The response body as text, when the rule of this module sends it as text; `None` means
/// base64.
pub(crate) fn as_text<'a>(headers: &HeaderMap, bytes: &'a [u8]) -> Option<&'a str> {
    let encoded = headers
        .get(CONTENT_ENCODING)
        .is_some_and(|v| !v.as_bytes().trim_ascii().eq_ignore_ascii_case(b"identity"));
    if encoded {
        return None;
    }
    let textual = match headers.get(CONTENT_TYPE) {
        None => true,
        Some(value) => is_text_media(value.as_bytes()),
    };
    if textual {
        std::str::from_utf8(bytes).ok()
    } else {
        None
    }
}

/// Whether a `Content-Type` value names a textual media type (rule 3 of the module doc).
pub fn is_text_media(content_type: &[u8]) -> bool {
    let media = content_type
        .split(|&b| b == b';')
        .next()
        .unwrap_or_default()
        .trim_ascii();
    let Ok(media) = std::str::from_utf8(media) else {
        return false;
    };
    let media = media.to_ascii_lowercase();
    media.starts_with("text/")
        || [
            "application/json",
            "application/xml",
            "application/javascript",
            "application/ecmascript",
            "application/x-www-form-urlencoded",
            "application/graphql",
            "application/yaml",
            "application/x-ndjson",
        ]
        .contains(&media.as_str())
        || media.ends_with("+json")
        || media.ends_with("+xml")
        || media.ends_with("+yaml")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, http::HeaderValue::from_static(value));
        }
        map
    }

    /// Each clause of the rule, on the response cases of `http-echo`.
    #[test]
    fn text_or_base64() {
        let none = headers(&[]);
        assert_eq!(as_text(&none, b"{\"ok\":true}"), Some("{\"ok\":true}"));
        assert_eq!(as_text(&none, &[0x41, 0xFF, 0x42]), None);
        let png = headers(&[("content-type", "image/png")]);
        assert_eq!(as_text(&png, b"ascii"), None);
        let gzip = headers(&[
            ("content-type", "text/html; charset=utf-8"),
            ("content-encoding", "gzip"),
        ]);
        assert_eq!(as_text(&gzip, b"hi"), None);
        let identity = headers(&[
            ("content-type", "text/html"),
            ("content-encoding", "identity"),
        ]);
        assert_eq!(as_text(&identity, b"hi"), Some("hi"));
        let plain = headers(&[("content-type", "text/plain")]);
        assert_eq!(
            as_text(&plain, &[0xEF, 0xBB, 0xBF, b'h', b'i']),
            Some("\u{FEFF}hi")
        );
        assert_eq!(as_text(&plain, &[0xFF]), None);
        for media in [
            "TEXT/CSV",
            "application/json; charset=utf-8",
            "application/problem+json",
            "image/svg+xml",
            "application/x-www-form-urlencoded",
        ] {
            assert!(is_text_media(media.as_bytes()), "{media}");
        }
        for media in [
            "application/octet-stream",
            "image/png",
            "application/jsonx",
            "",
        ] {
            assert!(!is_text_media(media.as_bytes()), "{media}");
        }
    }

    /// Bodies compare by bytes, streams never; empty text and bytes are the empty body.
    #[test]
    fn bodies() {
        assert_eq!(Body::from("ab"), Body::from(b"ab".to_vec()));
        assert_eq!(Body::from(""), Body::empty());
        assert!(!Body::from(Vec::new()).is_binary());
        let stream = Body::stream(|_| Ok::<_, std::io::Error>(()));
        assert_ne!(stream, Body::empty());
        assert!(!stream.is_empty());
        assert_eq!(
            Body::from("{\"a\":1}").json::<serde_json::Value>().unwrap()["a"],
            1
        );
    }
}
