//! The parts every source builds its `http::Request` from: method, headers (single- and
//! multi-value merged without losing or repeating a value), scheme and host, body, and the
//! event's extras in the request's extensions.

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use http::header::{HOST, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};

use super::body::Body;
use super::error::AdapterError;
use super::event::{MultiPairs, Pairs, Str};
use super::ext::{EventInfo, Info};
use super::origin::Origin;
use super::params::Params;
use super::uri;

/// Standard base64, padded or not (API Gateway pads; hand-written events sometimes do not).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The request type handlers receive.
pub type Request = http::Request<Body>;

/// The method of the event, from `field`.
pub(crate) fn method(
    origin: Origin,
    raw: Option<&Str<'_>>,
    field: &'static str,
) -> Result<Method, AdapterError> {
    let raw = raw.ok_or(AdapterError::MissingField { origin, field })?;
    let text = raw.as_str().trim();
    // Sources send upper case; a hand-written event may not.
    let parsed = if text.bytes().any(|b| b.is_ascii_lowercase()) {
        Method::from_bytes(text.to_ascii_uppercase().as_bytes())
    } else {
        Method::from_bytes(text.as_bytes())
    };
    parsed.map_err(|_| AdapterError::InvalidMethod {
        origin,
        method: raw.as_str().to_owned(),
    })
}

/// One header, or `None` (and a warning) when its name or value cannot be an HTTP header.
fn header(name: &str, value: &str) -> Option<(HeaderName, HeaderValue)> {
    match (
        HeaderName::from_bytes(name.as_bytes()),
        HeaderValue::from_str(value),
    ) {
        (Ok(name), Ok(value)) => Some((name, value)),
        _ => {
            log::warn!("left out request header {name:?}: not a valid HTTP header");
            None
        }
    }
}

/// The headers of `single` (one value per name) and `multi` (every value per name): all of
/// `multi`'s values in order, then each single value that `multi` does not already hold for
/// that name. A name in both therefore keeps every value, none twice.
pub(crate) fn headers(single: &Pairs<'_>, multi: Option<&MultiPairs<'_>>) -> HeaderMap {
    let mut map = HeaderMap::with_capacity(single.0.len().max(multi.map_or(0, |m| m.0.len())));
    for (name, values) in multi.map_or(&[][..], |m| &m.0[..]) {
        for value in &values.0 {
            if let Some((name, value)) = header(name.as_str(), value.as_str()) {
                map.append(name, value);
            }
        }
    }
    let merge = multi.is_some_and(|m| !m.0.is_empty());
    for (name, value) in &single.0 {
        if let Some((name, value)) = header(name.as_str(), value.as_str()) {
            if merge && map.get_all(&name).iter().any(|v| v == value) {
                continue;
            }
            map.append(name, value);
        }
    }
    map
}

/// Query (name, value) pairs merged by the same rule as [`headers`], in the event's order.
#[cfg(any(feature = "apigw_v1", feature = "alb"))]
pub(crate) fn query<'a>(
    single: &'a Pairs<'a>,
    multi: &'a MultiPairs<'a>,
) -> Vec<(&'a str, &'a str)> {
    let mut pairs: Vec<(&str, &str)> = Vec::new();
    for (name, values) in &multi.0 {
        pairs.extend(values.0.iter().map(|v| (name.as_str(), v.as_str())));
    }
    let merge = !multi.0.is_empty();
    for (name, value) in &single.0 {
        let (name, value) = (name.as_str(), value.as_str());
        if !(merge && pairs.contains(&(name, value))) {
            pairs.push((name, value));
        }
    }
    pairs
}

/// `x-forwarded-proto` when it is `http` or `https` (any case), else `https`.
pub(crate) fn scheme(headers: &HeaderMap) -> &'static str {
    match headers
        .get("x-forwarded-proto")
        .map(|v| v.as_bytes().trim_ascii())
    {
        Some(proto) if proto.eq_ignore_ascii_case(b"http") => "http",
        _ => "https",
    }
}

/// The `host` header, else the request context's `domainName`.
pub(crate) fn authority<'a>(
    headers: &'a HeaderMap,
    domain: Option<&'a Str<'a>>,
) -> Option<&'a str> {
    headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|h| !h.is_empty())
        .or_else(|| domain.map(Str::as_str))
}

/// The full URI for `path` and `query` (both escaped already).
pub(crate) fn uri(headers: &HeaderMap, domain: Option<&Str<'_>>, path: &str, query: &str) -> Uri {
    uri::build(scheme(headers), authority(headers, domain), path, query)
}

/// The body: base64-decoded when the source says so, else the text.
pub(crate) fn body(
    origin: Origin,
    raw: Option<Str<'_>>,
    is_base64: Option<bool>,
) -> Result<Body, AdapterError> {
    let Some(raw) = raw.filter(|b| !b.as_str().is_empty()) else {
        return Ok(Body::empty());
    };
    if is_base64 == Some(true) {
        BASE64
            .decode(raw.as_str().trim_ascii())
            .map(Body::from)
            .map_err(|source| AdapterError::InvalidBase64 { origin, source })
    } else {
        Ok(Body::from(raw.0.into_owned()))
    }
}

/// Owned parameters from event pairs.
pub(crate) fn params(pairs: &Pairs<'_>) -> Params {
    pairs
        .0
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The request, with the event's extras in its extensions.
pub(crate) fn assemble(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
    info: EventInfo,
) -> Request {
    let mut request = http::Request::new(body);
    *request.method_mut() = method;
    *request.uri_mut() = uri;
    *request.headers_mut() = headers;
    request
        .extensions_mut()
        .insert(Info(std::sync::Arc::new(info)));
    request
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::event::Values;
    use std::borrow::Cow;

    fn s(text: &'static str) -> Str<'static> {
        Str(Cow::Borrowed(text))
    }

    /// A name in both maps keeps every value once; names differing in case are one header;
    /// invalid headers are left out.
    #[test]
    fn header_merging() {
        let single = Pairs(vec![
            (s("HeaderName"), s("headerValue2")),
            (s("Extra"), s("x")),
            (s("bad name"), s("v")),
            (s("x-multi"), s("single-only")),
        ]);
        let multi = MultiPairs(vec![
            (
                s("headerName"),
                Values(vec![s("headerValue"), s("headerValue2")]),
            ),
            (s("x-multi"), Values(vec![s("a"), s("b")])),
        ]);
        let map = headers(&single, Some(&multi));
        let all = |name: &str| {
            map.get_all(name)
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(all("headername"), ["headerValue", "headerValue2"]);
        assert_eq!(all("x-multi"), ["a", "b", "single-only"]);
        assert_eq!(all("extra"), ["x"]);
        assert_eq!(map.len(), 6);
    }

    /// Query pairs merge the same way, in the event's order.
    #[cfg(any(feature = "apigw_v1", feature = "alb"))]
    #[test]
    fn query_merging() {
        let single = Pairs(vec![(s("name"), s("me2")), (s("z"), s("1"))]);
        let multi = MultiPairs(vec![
            (s("name"), Values(vec![s("me"), s("me2")])),
            (s("b"), Values(vec![s("2")])),
        ]);
        assert_eq!(
            query(&single, &multi),
            [("name", "me"), ("name", "me2"), ("b", "2"), ("z", "1")]
        );
    }

    /// Bodies: text as sent, base64 decoded (padded or not), bad base64 an error.
    #[test]
    fn bodies() {
        let origin = Origin::ApiGatewayV1;
        assert_eq!(body(origin, Some(s("hi")), None).unwrap(), Body::from("hi"));
        assert!(body(origin, Some(s("")), Some(true)).unwrap().is_empty());
        assert!(body(origin, None, Some(true)).unwrap().is_empty());
        let decoded = body(origin, Some(s("Qf9C")), Some(true)).unwrap();
        assert_eq!(decoded.as_bytes(), [0x41, 0xFF, 0x42]);
        assert!(decoded.is_binary());
        assert_eq!(
            body(origin, Some(s("aGk")), Some(true)).unwrap().as_bytes(),
            b"hi"
        );
        assert!(matches!(
            body(origin, Some(s("not base64!")), Some(true)),
            Err(AdapterError::InvalidBase64 { .. })
        ));
    }

    /// Methods in any case; a missing or invalid method is an error.
    #[test]
    fn methods() {
        let origin = Origin::Alb;
        assert_eq!(
            method(origin, Some(&s("post")), "httpMethod").unwrap(),
            Method::POST
        );
        assert!(matches!(
            method(origin, None, "httpMethod"),
            Err(AdapterError::MissingField {
                field: "httpMethod",
                ..
            })
        ));
        assert!(matches!(
            method(origin, Some(&s("GE T")), "httpMethod"),
            Err(AdapterError::InvalidMethod { .. })
        ));
    }
}
