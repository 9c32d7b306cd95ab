//! The HTTP event as it arrives: one borrowed view over the fields of every HTTP source
//! (API Gateway payload 1.0 and 2.0, ALB, Function URL), read in a single pass, and the rule
//! that tells the sources apart.
//!
//! Objects are read into ordered pair lists, never hash maps, so header and query order
//! survive; strings are borrowed from the payload when they hold no escapes. Of the request
//! context only the few fields the request needs are read now ([`ContextProbe`]); the
//! payload itself is kept, and the typed context is decoded from it when a handler asks.
//! The payload's UTF-8 is checked once, up front, rather than string by string.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::error::AdapterError;
use super::origin::Origin;

/// A JSON string (or an integer or boolean, read as its text), borrowed when it has no
/// escapes. (Not a float: no source sends one, and float formatting would cost ~13 kB of
/// every function's binary.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl Str<'_> {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Str<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(StrVisitor(std::marker::PhantomData))
    }
}

struct StrVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for StrVisitor<'a> {
    type Value = Str<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(v.to_string())))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Str<'a>, E> {
        Ok(Str(Cow::Owned(v.to_string())))
    }
}

/// A JSON object of strings as (name, value) pairs in order; `null` is empty and `null`
/// values are left out.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Pairs<'a>(pub(crate) Vec<(Str<'a>, Str<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for Pairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct PairsVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for PairsVisitor<'a> {
            type Value = Pairs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_unit<E>(self) -> Result<Pairs<'a>, E> {
                Ok(Pairs::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pairs<'a>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((name, value)) = map.next_entry::<Str<'a>, Option<Str<'a>>>()? {
                    if let Some(value) = value {
                        pairs.push((name, value));
                    }
                }
                Ok(Pairs(pairs))
            }
        }
        deserializer.deserialize_any(PairsVisitor(std::marker::PhantomData))
    }
}

/// A JSON array of strings (`null` entries left out); a lone string or `null` is accepted too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Values<'a>(pub(crate) Vec<Str<'a>>);

impl<'de: 'a, 'a> Deserialize<'de> for Values<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValuesVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for ValuesVisitor<'a> {
            type Value = Values<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_unit<E>(self) -> Result<Values<'a>, E> {
                Ok(Values::default())
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Values<'a>, E> {
                Ok(Values(vec![Str(Cow::Borrowed(v))]))
            }
            fn visit_str<E>(self, v: &str) -> Result<Values<'a>, E> {
                Ok(Values(vec![Str(Cow::Owned(v.to_owned()))]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Values<'a>, A::Error> {
                let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(2));
                while let Some(value) = seq.next_element::<Option<Str<'a>>>()? {
                    values.extend(value);
                }
                Ok(Values(values))
            }
        }
        deserializer.deserialize_any(ValuesVisitor(std::marker::PhantomData))
    }
}

/// A JSON object of string arrays as (name, values) pairs in order; `null` is empty.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct MultiPairs<'a>(pub(crate) Vec<(Str<'a>, Values<'a>)>);

impl<'de: 'a, 'a> Deserialize<'de> for MultiPairs<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MultiVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for MultiVisitor<'a> {
            type Value = MultiPairs<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string arrays")
            }
            fn visit_unit<E>(self) -> Result<MultiPairs<'a>, E> {
                Ok(MultiPairs::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<MultiPairs<'a>, A::Error> {
                let mut pairs = Vec::with_capacity(map.size_hint().unwrap_or(8));
                while let Some((name, values)) = map.next_entry::<Str<'a>, Values<'a>>()? {
                    pairs.push((name, values));
                }
                Ok(MultiPairs(pairs))
            }
        }
        deserializer.deserialize_any(MultiVisitor(std::marker::PhantomData))
    }
}

/// Every top-level field any HTTP source sends that the request needs. Absent and `null`
/// fields are empty.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct RawEvent<'a> {
    #[serde(borrow, default)]
    pub(crate) version: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) http_method: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) path: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) raw_path: Option<Str<'a>>,
    #[cfg(any(feature = "apigw_v2", feature = "function_url"))]
    #[serde(borrow, default)]
    pub(crate) raw_query_string: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) headers: Pairs<'a>,
    /// `None` when absent or `null`: an ALB target group in single-value mode. (Read only
    /// for the sources that send it; other builds skip it.)
    #[cfg(any(feature = "apigw_v1", feature = "alb"))]
    #[serde(borrow, default)]
    pub(crate) multi_value_headers: Option<MultiPairs<'a>>,
    #[serde(borrow, default)]
    pub(crate) query_string_parameters: Pairs<'a>,
    #[cfg(any(feature = "apigw_v1", feature = "alb"))]
    #[serde(borrow, default)]
    pub(crate) multi_value_query_string_parameters: MultiPairs<'a>,
    #[cfg(any(feature = "apigw_v2", feature = "function_url"))]
    #[serde(borrow, default)]
    pub(crate) cookies: Option<Values<'a>>,
    #[serde(borrow, default)]
    pub(crate) path_parameters: Pairs<'a>,
    #[serde(borrow, default)]
    pub(crate) stage_variables: Pairs<'a>,
    #[serde(borrow, default)]
    pub(crate) body: Option<Str<'a>>,
    #[serde(default)]
    pub(crate) is_base64_encoded: Option<bool>,
    #[serde(borrow, default)]
    pub(crate) request_context: Option<ContextProbe<'a>>,
}

/// The request-context fields the request itself needs (the rest stays raw).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContextProbe<'a> {
    #[cfg(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url"))]
    #[serde(borrow, default)]
    pub(crate) stage: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) domain_name: Option<Str<'a>>,
    #[serde(borrow, default)]
    pub(crate) http: Option<HttpProbe<'a>>,
    #[serde(default)]
    pub(crate) elb: Option<IgnoredAny>,
}

/// `requestContext.http` of payload 2.0.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct HttpProbe<'a> {
    #[cfg(any(feature = "apigw_v2", feature = "function_url"))]
    #[serde(borrow, default)]
    pub(crate) method: Option<Str<'a>>,
    #[cfg(any(feature = "apigw_v2", feature = "function_url"))]
    #[serde(borrow, default)]
    pub(crate) path: Option<Str<'a>>,
    #[serde(skip)]
    _borrows: std::marker::PhantomData<&'a ()>,
}

/// A decoded event: its origin, its fields and the probed request context.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub(crate) origin: Origin,
    pub(crate) event: RawEvent<'a>,
    /// Whether the event has a `requestContext` (taken out of `event` into `context`).
    pub(crate) has_context: bool,
    #[cfg_attr(
        not(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url")),
        allow(dead_code)
    )]
    pub(crate) context: ContextProbe<'a>,
}

/// Which of the keys that tell the sources apart an event has.
#[derive(Clone, Copy, Debug, Default)]
struct Shape {
    version_2: bool,
    http_method: bool,
    path: bool,
    raw_path: bool,
    request_context: bool,
    elb: bool,
    http: bool,
    lambda_url: bool,
}

/// The keys each source family is recognised by, for the "unknown event" message.
const V1_KEYS: [&str; 3] = ["httpMethod", "path", "requestContext"];
const V2_KEYS: [&str; 3] = ["version", "rawPath", "requestContext.http"];
const ALB_KEYS: [&str; 3] = ["httpMethod", "path", "requestContext.elb"];

impl Shape {
    /// The origin by the rule documented in the module `http`: payload 2.0 by `version` (or
    /// by `rawPath` with `requestContext.http`), a Function URL when its domain is a
    /// `lambda-url` one; otherwise `httpMethod` makes it an ALB event when the context has
    /// `elb` and an API Gateway REST event when not.
    fn origin(self) -> Option<Origin> {
        if self.version_2 || (self.raw_path && self.http && !self.http_method) {
            Some(if self.lambda_url {
                Origin::FunctionUrl
            } else {
                Origin::ApiGatewayV2
            })
        } else if self.http_method {
            Some(if self.elb {
                Origin::Alb
            } else {
                Origin::ApiGatewayV1
            })
        } else {
            None
        }
    }

    fn has(self, key: &str) -> bool {
        match key {
            "httpMethod" => self.http_method,
            "path" => self.path,
            "version" => self.version_2,
            "rawPath" => self.raw_path,
            "requestContext" => self.request_context,
            "requestContext.http" => self.http,
            "requestContext.elb" => self.elb,
            _ => false,
        }
    }

    /// For each enabled source family: its name and the keys this event lacks.
    fn missing(self) -> Vec<(&'static str, Vec<&'static str>)> {
        let v2_name = match (
            Origin::ApiGatewayV2.is_enabled(),
            Origin::FunctionUrl.is_enabled(),
        ) {
            (true, true) => Some("API Gateway HTTP API or Function URL (payload 2.0)"),
            (true, false) => Some("API Gateway HTTP API (payload 2.0)"),
            (false, true) => Some("Function URL (payload 2.0)"),
            (false, false) => None,
        };
        let families = [
            Origin::ApiGatewayV1
                .is_enabled()
                .then_some(("API Gateway REST API (payload 1.0)", &V1_KEYS)),
            v2_name.map(|name| (name, &V2_KEYS)),
            Origin::Alb
                .is_enabled()
                .then_some(("ALB target group", &ALB_KEYS)),
        ];
        families
            .into_iter()
            .flatten()
            .map(|(name, keys)| {
                (
                    name,
                    keys.iter().copied().filter(|k| !self.has(k)).collect(),
                )
            })
            .collect()
    }
}

/// The shape of a decoded event.
fn shape(event: &RawEvent<'_>, has_context: bool, context: &ContextProbe<'_>) -> Shape {
    Shape {
        version_2: event.version.as_ref().is_some_and(|v| v.as_str() == "2.0"),
        http_method: event.http_method.is_some(),
        path: event.path.is_some(),
        raw_path: event.raw_path.is_some(),
        request_context: has_context,
        elb: context.elb.is_some(),
        http: context.http.is_some(),
        lambda_url: context
            .domain_name
            .as_ref()
            .is_some_and(|d| d.as_str().contains(".lambda-url.")),
    }
}

/// The shape of an event that did not decode, read from its generic JSON.
fn shape_of_value(map: &serde_json::Map<String, serde_json::Value>) -> Shape {
    let present = |key: &str| map.get(key).is_some_and(|v| !v.is_null());
    let context = map.get("requestContext").and_then(|c| c.as_object());
    let in_context = |key: &str| context.is_some_and(|c| c.get(key).is_some_and(|v| !v.is_null()));
    Shape {
        version_2: map.get("version").and_then(|v| v.as_str()) == Some("2.0"),
        http_method: present("httpMethod"),
        path: present("path"),
        raw_path: present("rawPath"),
        request_context: present("requestContext"),
        elb: in_context("elb"),
        http: in_context("http"),
        lambda_url: context
            .and_then(|c| c.get("domainName"))
            .and_then(|d| d.as_str())
            .is_some_and(|d| d.contains(".lambda-url.")),
    }
}

/// Picks the enabled origin for a detected one: payload 2.0 events serve either 2.0 source
/// (the schema and the response shape are the same), the others only their own.
fn enabled(origin: Origin) -> Result<Origin, AdapterError> {
    if origin.is_enabled() {
        return Ok(origin);
    }
    let twin = match origin {
        Origin::ApiGatewayV2 => Some(Origin::FunctionUrl),
        Origin::FunctionUrl => Some(Origin::ApiGatewayV2),
        _ => None,
    };
    match twin {
        Some(twin) if twin.is_enabled() => Ok(twin),
        _ => Err(AdapterError::SourceNotEnabled { origin }),
    }
}

/// Decodes `payload` as an HTTP event of an enabled source.
pub(crate) fn decode(payload: &[u8]) -> Result<Decoded<'_>, AdapterError> {
    // A derived struct also accepts an array (fields by position): only objects are events.
    if payload.trim_ascii_start().first() != Some(&b'{') {
        return Err(diagnose(payload));
    }
    // One UTF-8 check for the whole payload; then strings are not checked one by one.
    let mut event: RawEvent<'_> = match parse(payload) {
        Ok(event) => event,
        Err(_) => return Err(diagnose(payload)),
    };
    let has_context = event.request_context.is_some();
    let context = event.request_context.take().unwrap_or_default();
    let shape = shape(&event, has_context, &context);
    let Some(origin) = shape.origin() else {
        return Err(unknown(payload, shape));
    };
    let origin = enabled(origin)?;
    Ok(Decoded {
        origin,
        event,
        has_context,
        context,
    })
}

/// The error for an event with none of the sources' keys, listing the keys it has.
fn unknown(payload: &[u8], shape: Shape) -> AdapterError {
    let keys = match parse::<serde_json::Value>(payload) {
        Ok(serde_json::Value::Object(map)) => map.keys().take(12).cloned().collect(),
        _ => Vec::new(),
    };
    AdapterError::UnknownEvent {
        missing: shape.missing(),
        keys,
    }
}

/// Why a payload did not decode (the slow path: it is parsed again, generically, to say).
fn diagnose(payload: &[u8]) -> AdapterError {
    let value: serde_json::Value = match parse(payload) {
        Ok(value) => value,
        Err(source) => return AdapterError::NotJson { source },
    };
    let map = match &value {
        serde_json::Value::Object(map) if payload.trim_ascii_start().starts_with(b"{") => map,
        other => {
            return AdapterError::NotAnObject {
                found: json_kind(other),
            };
        }
    };
    let shape = shape_of_value(map);
    let Some(origin) = shape.origin() else {
        return unknown(payload, shape);
    };
    // The decoder's own error (the cause), and where in the event the misfit is.
    let source = match parse::<RawEvent<'_>>(payload) {
        Err(source) => source,
        Ok(_) => {
            return AdapterError::UnknownEvent {
                missing: shape.missing(),
                keys: map.keys().take(12).cloned().collect(),
            };
        }
    };
    AdapterError::Decode {
        origin,
        path: misfit(map).unwrap_or_default(),
        source,
    }
}

/// The path of the first field whose JSON type [`RawEvent`] cannot read, such as
/// `headers.accept` or `multiValueHeaders.accept[0]`.
fn misfit(map: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    use serde_json::Value;
    let scalar = |v: &Value| !matches!(v, Value::Array(_) | Value::Object(_));
    // Pairs: an object of scalars (or null).
    let pairs = |key: &str, v: &Value| -> Option<String> {
        match v {
            Value::Null => None,
            Value::Object(entries) => entries
                .iter()
                .find(|(_, v)| !scalar(v))
                .map(|(name, _)| format!("{key}.{name}")),
            _ => Some(key.to_owned()),
        }
    };
    // Values: an array of scalars, a lone scalar, or null.
    let values = |key: String, v: &Value| -> Option<String> {
        match v {
            Value::Array(items) => items
                .iter()
                .position(|v| !scalar(v))
                .map(|i| format!("{key}[{i}]")),
            Value::Object(_) => Some(key),
            _ => None,
        }
    };
    let multi = |key: &str, v: &Value| -> Option<String> {
        match v {
            Value::Null => None,
            Value::Object(entries) => entries
                .iter()
                .find_map(|(name, v)| values(format!("{key}.{name}"), v)),
            _ => Some(key.to_owned()),
        }
    };
    let mut scalars = vec!["version", "httpMethod", "path", "body"];
    if cfg!(any(feature = "apigw_v2", feature = "function_url")) {
        scalars.extend(["rawPath", "rawQueryString"]);
    }
    for key in scalars {
        if map.get(key).is_some_and(|v| !scalar(v)) {
            return Some(key.to_owned());
        }
    }
    if map
        .get("isBase64Encoded")
        .is_some_and(|v| !matches!(v, Value::Bool(_) | Value::Null))
    {
        return Some("isBase64Encoded".into());
    }
    for key in [
        "headers",
        "queryStringParameters",
        "pathParameters",
        "stageVariables",
    ] {
        if let Some(found) = map.get(key).and_then(|v| pairs(key, v)) {
            return Some(found);
        }
    }
    if cfg!(any(feature = "apigw_v1", feature = "alb")) {
        for key in ["multiValueHeaders", "multiValueQueryStringParameters"] {
            if let Some(found) = map.get(key).and_then(|v| multi(key, v)) {
                return Some(found);
            }
        }
    }
    if cfg!(any(feature = "apigw_v2", feature = "function_url"))
        && let Some(found) = map.get("cookies").and_then(|v| values("cookies".into(), v))
    {
        return Some(found);
    }
    let context = match map.get("requestContext") {
        None | Some(Value::Null) => return None,
        Some(Value::Object(context)) => context,
        Some(_) => return Some("requestContext".into()),
    };
    for key in ["stage", "domainName"] {
        if context.get(key).is_some_and(|v| !scalar(v)) {
            return Some(format!("requestContext.{key}"));
        }
    }
    match context.get("http") {
        None | Some(Value::Null) => None,
        Some(Value::Object(http)) => ["method", "path"]
            .into_iter()
            .find(|key| http.get(*key).is_some_and(|v| !scalar(v)))
            .map(|key| format!("requestContext.http.{key}")),
        Some(_) => Some("requestContext.http".into()),
    }
}

/// Parses JSON text. Everything here reads through `serde_json::from_str` (one decoder
/// instance per type in the binary, not one per reader); bytes that are not UTF-8 are a
/// decoder error, as they would be for `from_slice`.
fn parse<'a, T: Deserialize<'a>>(payload: &'a [u8]) -> Result<T, serde_json::Error> {
    match std::str::from_utf8(payload) {
        Ok(text) => serde_json::from_str(text),
        Err(e) => Err(serde::de::Error::custom(format_args!(
            "the payload is not UTF-8: {e}"
        ))),
    }
}

fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[allow(dead_code)]
    fn path_of(event: &str) -> String {
        match decode(event.as_bytes()) {
            Err(AdapterError::Decode { path, .. }) => path,
            other => panic!("expected a decode error for {event}: {other:?}"),
        }
    }

    /// A field of the wrong type is named by its path in the event.
    #[cfg(all(feature = "apigw_v1", feature = "apigw_v2"))]
    #[test]
    fn misfits_are_located() {
        let v1 = r#"{"httpMethod": "GET", "path": "/", "requestContext": {}"#;
        let v2 =
            r#"{"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": "GET"}}"#;
        assert_eq!(
            path_of(&format!(r#"{v1}, "headers": {{"a": ["x"]}}}}"#)),
            "headers.a"
        );
        assert_eq!(path_of(&format!(r#"{v1}, "headers": 5}}"#)), "headers");
        assert_eq!(
            path_of(&format!(
                r#"{v1}, "multiValueHeaders": {{"accept": ["*/*", {{}}]}}}}"#
            )),
            "multiValueHeaders.accept[1]"
        );
        assert_eq!(
            path_of(&format!(r#"{v1}, "isBase64Encoded": "yes"}}"#)),
            "isBase64Encoded"
        );
        assert_eq!(path_of(&format!(r#"{v1}, "body": {{}}}}"#)), "body");
        assert_eq!(
            path_of(&format!(r#"{v2}, "cookies": ["a", ["b"]]}}"#)),
            "cookies[1]"
        );
        assert_eq!(
            path_of(
                r#"{"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": []}}}"#
            ),
            "requestContext.http.method"
        );
        assert_eq!(
            path_of(r#"{"httpMethod": "GET", "requestContext": {"stage": {}}}"#),
            "requestContext.stage"
        );
    }

    /// Lenient where it costs nothing: numbers and booleans are read as their text, `null`
    /// is empty, a lone string is a one-value list.
    #[cfg(feature = "apigw_v1")]
    #[test]
    fn lenient_values() {
        let event =
            br#"{"httpMethod": "GET", "path": null, "headers": {"n": 1, "b": true, "z": null},
            "multiValueHeaders": {"x": "lone", "y": null}, "requestContext": null}"#;
        let decoded = decode(event).unwrap();
        assert_eq!(decoded.origin, Origin::ApiGatewayV1);
        let headers: Vec<(&str, &str)> = decoded
            .event
            .headers
            .0
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(headers, [("n", "1"), ("b", "true")]);
        let multi = decoded.event.multi_value_headers.unwrap();
        assert_eq!(multi.0[0].1, Values(vec![Str(Cow::Borrowed("lone"))]));
        assert!(multi.0[1].1.0.is_empty());
        assert!(!decoded.has_context);
    }
}
