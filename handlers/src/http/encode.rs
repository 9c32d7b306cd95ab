//! What every source's response JSON is made of: header values as JSON strings, the body as
//! text or base64 (by the rule in `body`), and header maps serialized without allocating a
//! tree.

use std::borrow::Cow;

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::body::as_text;

/// A header value as text: UTF-8 when it is, else each byte as its ISO-8859-1 character
/// (HTTP's historical charset), so no byte is dropped.
pub(crate) fn value_str(value: &HeaderValue) -> Cow<'_, str> {
    match std::str::from_utf8(value.as_bytes()) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(value.as_bytes().iter().map(|&b| char::from(b)).collect()),
    }
}

/// A response body as the JSON wants it: the text, or base64.
pub(crate) struct EncodedBody<'a> {
    text: Cow<'a, str>,
    base64: bool,
}

impl<'a> EncodedBody<'a> {
    /// Encodes `bytes` by the text-or-base64 rule, looking at `headers`.
    pub(crate) fn new(headers: &HeaderMap, bytes: &'a [u8]) -> EncodedBody<'a> {
        match as_text(headers, bytes) {
            Some(text) => EncodedBody {
                text: Cow::Borrowed(text),
                base64: false,
            },
            None => EncodedBody {
                text: Cow::Owned(base64::engine::general_purpose::STANDARD.encode(bytes)),
                base64: true,
            },
        }
    }

    /// The string for `body`.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The value for `isBase64Encoded`.
    pub(crate) fn is_base64(&self) -> bool {
        self.base64
    }
}

/// Each header name once with its values joined by `", "` (RFC 9110 §5.3), `Set-Cookie`
/// left out (it travels apart, as `cookies` or multi-value headers).
#[cfg(any(feature = "apigw_v2", feature = "function_url"))]
pub(crate) struct JoinedHeaders<'a>(pub(crate) &'a HeaderMap);

#[cfg(any(feature = "apigw_v2", feature = "function_url"))]
impl Serialize for JoinedHeaders<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for name in self.0.keys().filter(|n| *n != http::header::SET_COOKIE) {
            map.serialize_entry(name.as_str(), &joined(self.0, name))?;
        }
        map.end()
    }
}

/// The values of `name` joined by `", "` (borrowed when there is one).
#[cfg(any(feature = "apigw_v2", feature = "function_url", feature = "alb"))]
pub(crate) fn joined<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Cow<'a, str> {
    let mut values = headers.get_all(name).iter();
    let first = values.next().map(value_str).unwrap_or_default();
    match values.next() {
        None => first,
        Some(second) => {
            let mut out = first.into_owned();
            for value in std::iter::once(second).chain(values) {
                out.push_str(", ");
                out.push_str(&value_str(value));
            }
            Cow::Owned(out)
        }
    }
}

/// Each header name once with its first value (the single-value map that goes beside a
/// multi-value one).
#[cfg(feature = "apigw_v1")]
pub(crate) struct FirstHeaders<'a>(pub(crate) &'a HeaderMap);

#[cfg(feature = "apigw_v1")]
impl Serialize for FirstHeaders<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for name in self.0.keys() {
            if let Some(value) = self.0.get(name) {
                map.serialize_entry(name.as_str(), &value_str(value))?;
            }
        }
        map.end()
    }
}

/// Each header name once with every value in order.
#[cfg(any(feature = "apigw_v1", feature = "alb"))]
pub(crate) struct MultiHeaders<'a>(pub(crate) &'a HeaderMap);

#[cfg(any(feature = "apigw_v1", feature = "alb"))]
impl Serialize for MultiHeaders<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for name in self.0.keys() {
            map.serialize_entry(name.as_str(), &Values(self.0, name))?;
        }
        map.end()
    }
}

/// Every value of one header, as a JSON array.
#[cfg(any(feature = "apigw_v1", feature = "alb"))]
pub(crate) struct Values<'a>(pub(crate) &'a HeaderMap, pub(crate) &'a HeaderName);

#[cfg(any(feature = "apigw_v1", feature = "alb"))]
impl Serialize for Values<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = serializer.serialize_seq(None)?;
        for value in self.0.get_all(self.1) {
            seq.serialize_element(&value_str(value))?;
        }
        seq.end()
    }
}

/// Serializes a response object; a `Serialize` of strings and numbers into a `Vec` cannot
/// fail, so a failure (an internal bug) is an empty payload the front answers with 502.
pub(crate) fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    if serde_json::to_writer(&mut out, value).is_err() {
        log::error!("could not serialize the HTTP response (a bug in coda-handlers)");
        out.clear();
    }
    out
}
