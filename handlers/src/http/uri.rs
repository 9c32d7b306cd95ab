//! The request URI: percent-encoding kept as the source sent it (only bytes a URI cannot hold
//! are escaped), query components encoded and decoded, and the query read in order.

use std::borrow::Cow;

use http::Uri;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// Byte classes, looked up rather than searched (this runs on every byte of every path).
const PATH: u8 = 1;
const QUERY: u8 = 2;
const UNRESERVED: u8 = 4;

const CLASSES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        let unreserved = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~');
        // RFC 3986 `pchar` and `/`, except `%` (handled apart).
        let path = unreserved
            || matches!(
                c,
                b'!' | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
            );
        let mut class = 0;
        if path {
            class |= PATH | QUERY;
        }
        // Query characters: `pchar`, `/` and `?`.
        if c == b'?' {
            class |= QUERY;
        }
        if unreserved {
            class |= UNRESERVED;
        }
        table[b] = class;
        b += 1;
    }
    table
};

fn path_byte(b: u8) -> bool {
    CLASSES[usize::from(b)] & PATH != 0
}

#[cfg(any(feature = "apigw_v2", feature = "function_url", feature = "alb"))]
fn query_byte(b: u8) -> bool {
    CLASSES[usize::from(b)] & QUERY != 0
}

#[cfg(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url"))]
fn unreserved(b: u8) -> bool {
    CLASSES[usize::from(b)] & UNRESERVED != 0
}

fn is_escape(bytes: &[u8], at: usize) -> bool {
    bytes.len() > at + 2 && bytes[at + 1].is_ascii_hexdigit() && bytes[at + 2].is_ascii_hexdigit()
}

fn push_escaped(out: &mut String, b: u8) {
    out.push('%');
    out.push(char::from(HEX[usize::from(b >> 4)]));
    out.push(char::from(HEX[usize::from(b & 15)]));
}

/// `text` with every byte that may not appear in a URI escaped; escapes already there
/// (`%` and two hex digits) are kept as they are, a lone `%` becomes `%25`.
fn escape_with(text: &str, keep: fn(u8) -> bool) -> Cow<'_, str> {
    let bytes = text.as_bytes();
    let clean = |i: usize, b: u8| keep(b) || (b == b'%' && is_escape(bytes, i));
    if bytes.iter().enumerate().all(|(i, &b)| clean(i, b)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, &b) in bytes.iter().enumerate() {
        if clean(i, b) {
            out.push(char::from(b));
        } else {
            push_escaped(&mut out, b);
        }
    }
    Cow::Owned(out)
}

/// A path as the source sent it, made valid for a URI.
pub(crate) fn escape_path(path: &str) -> Cow<'_, str> {
    escape_with(path, path_byte)
}

/// A query string as the source sent it, made valid for a URI.
#[cfg(any(feature = "apigw_v2", feature = "function_url", feature = "alb"))]
pub(crate) fn escape_query(query: &str) -> Cow<'_, str> {
    escape_with(query, query_byte)
}

/// Appends `text` as a query component: everything but unreserved characters escaped (so
/// `+`, `&`, `=` and spaces survive a decode).
#[cfg(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url"))]
pub(crate) fn encode_component(text: &str, out: &mut String) {
    for &b in text.as_bytes() {
        if unreserved(b) {
            out.push(char::from(b));
        } else {
            push_escaped(out, b);
        }
    }
}

/// Decodes a query component: `+` is a space, `%XX` a byte. Bytes that are not UTF-8 after
/// decoding become U+FFFD (the exact bytes stay in the URI).
pub(crate) fn decode_component(text: &str) -> Cow<'_, str> {
    if !text.bytes().any(|b| b == b'%' || b == b'+') {
        return Cow::Borrowed(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if is_escape(bytes, i) => {
                let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as u8;
                out.push((hex(bytes[i + 1]) << 4) | hex(bytes[i + 2]));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    match String::from_utf8(out) {
        Ok(text) => Cow::Owned(text),
        Err(e) => Cow::Owned(String::from_utf8_lossy(e.as_bytes()).into_owned()),
    }
}

/// The (name, value) pairs of a query string, decoded, in order. Empty pieces (`a=1&&b=2`)
/// are skipped; a piece without `=` has an empty value.
///
/// ```
/// let pairs: Vec<_> = coda_handlers::http::query_pairs("b=2&a=1+1&b=%C3%A9&flag").collect();
/// assert_eq!(pairs, [("b".into(), "2".into()), ("a".into(), "1 1".into()),
///                    ("b".into(), "é".into()), ("flag".into(), "".into())]);
/// ```
pub fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter(|p| !p.is_empty()).map(|piece| {
        let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
        (decode_component(name), decode_component(value))
    })
}

/// Decodes a path segment: `%XX` escapes only (`+` is a plus in a path).
pub(crate) fn decode_segment(segment: &str) -> Cow<'_, str> {
    if !segment.contains('%') {
        return Cow::Borrowed(segment);
    }
    let escaped = segment.replace('+', "%2B");
    Cow::Owned(decode_component(&escaped).into_owned())
}

/// The request URI: `scheme://authority/path?query` when the authority is valid, else the
/// path and query alone. `path` and `query` must be escaped already.
pub(crate) fn build(scheme: &str, authority: Option<&str>, path: &str, query: &str) -> Uri {
    let authority = authority.filter(|a| !a.is_empty());
    let mut text = String::with_capacity(
        scheme.len() + 3 + authority.map_or(0, str::len) + path.len() + query.len() + 2,
    );
    if let Some(authority) = authority {
        text.push_str(scheme);
        text.push_str("://");
        text.push_str(authority);
    }
    if !path.starts_with('/') {
        text.push('/');
    }
    text.push_str(path);
    if !query.is_empty() {
        text.push('?');
        text.push_str(query);
    }
    match Uri::try_from(text) {
        Ok(uri) => uri,
        // The path and query are escaped, so only the authority can have made it fail.
        Err(_) if authority.is_some() => build(scheme, None, path, query),
        Err(_) => Uri::from_static("/"),
    }
}

#[cfg(all(test, any(feature = "apigw_v2", feature = "function_url")))]
mod tests {
    use super::*;

    /// Escapes the source sent are kept; bytes a URI cannot hold are escaped.
    #[test]
    fn paths_keep_their_escapes() {
        assert!(matches!(escape_path("/a%20b/c"), Cow::Borrowed("/a%20b/c")));
        assert_eq!(escape_path("/a b/é"), "/a%20b/%C3%A9");
        assert_eq!(escape_path("/100%"), "/100%25");
        assert_eq!(escape_path("/{x}"), "/%7Bx%7D");
        assert_eq!(escape_query("a=1&b=%2F?/"), "a=1&b=%2F?/");
        assert_eq!(escape_query("a=b c#"), "a=b%20c%23");
    }

    /// Components round-trip through encode and decode, `+` and `&` included.
    #[test]
    fn components_round_trip() {
        for text in ["a b", "1+1=2", "x&y", "é/ü", "%41", ""] {
            let mut encoded = String::new();
            encode_component(text, &mut encoded);
            assert_eq!(decode_component(&encoded), text, "{encoded}");
        }
        assert_eq!(decode_component("%FF"), "\u{FFFD}");
        assert_eq!(decode_component("100%"), "100%");
        assert_eq!(decode_segment("a+b%20c"), "a+b c");
    }

    /// The URI has scheme and authority when the host is valid, the path alone when not.
    #[test]
    fn uris() {
        assert_eq!(
            build("https", Some("example.com"), "/a", "b=1").to_string(),
            "https://example.com/a?b=1"
        );
        assert_eq!(build("http", Some("bad host"), "/a", "").to_string(), "/a");
        assert_eq!(build("https", None, "", "").to_string(), "/");
        assert_eq!(
            build("https", Some("h:8080"), "x", "").to_string(),
            "https://h:8080/x"
        );
    }
}
