//! Application Load Balancer target groups, both directions, in either header mode.
//!
//! In: `httpMethod`, `path`, `headers` or (multi-value mode) `multiValueHeaders` — merged when
//! both come —, the query parameters as the client sent them (an ALB does not decode them, so
//! they go into the URI as they are), `body`, `isBase64Encoded`. Out: `statusCode`,
//! `statusDescription` (`"200 OK"`), `body`, `isBase64Encoded` and the headers in the request's
//! mode: `multiValueHeaders` with every value when the request came with
//! `multiValueHeaders`, else `headers` with repeated values joined by `", "` — except
//! `Set-Cookie`, which cannot be joined: single-value mode sends the first and logs a
//! warning (turn on multi-value headers on the target group to send them all).

use http::header::SET_COOKIE;
use std::sync::Arc;

use http::response::Parts;
use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use super::context::RawContext;
use super::encode::{EncodedBody, MultiHeaders, joined, to_json, value_str};
use super::error::AdapterError;
use super::event::{Decoded, Str};
use super::ext::EventInfo;
use super::origin::Origin;
use super::request::{self, Request};
use super::uri;

/// The request of an ALB event.
pub(crate) fn request(
    decoded: Decoded<'_>,
    payload: &Arc<Vec<u8>>,
) -> Result<Request, AdapterError> {
    let Decoded {
        origin,
        event,
        has_context,
        ..
    } = decoded;
    let method = request::method(origin, event.http_method.as_ref(), "httpMethod")?;
    let headers = request::headers(&event.headers, event.multi_value_headers.as_ref());
    let raw_path = event.path.as_ref().map_or("/", Str::as_str);
    let mut query = String::new();
    for (name, value) in request::query(
        &event.query_string_parameters,
        &event.multi_value_query_string_parameters,
    ) {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&uri::escape_query(name));
        query.push('=');
        query.push_str(&uri::escape_query(value));
    }
    let uri = request::uri(&headers, None, &uri::escape_path(raw_path), &query);
    let body = request::body(origin, event.body, event.is_base64_encoded)?;
    let info = EventInfo {
        origin,
        raw_path: raw_path.to_owned(),
        stage: None,
        path_parameters: request::params(&event.path_parameters),
        stage_variables: request::params(&event.stage_variables),
        context: has_context.then(|| RawContext::new(Origin::Alb, payload.clone())),
    };
    Ok(request::assemble(method, uri, headers, body, info))
}

/// Single-value mode's headers: joined values, the first `Set-Cookie`.
struct SingleHeaders<'a>(&'a http::HeaderMap);

impl Serialize for SingleHeaders<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for name in self.0.keys() {
            if name == SET_COOKIE {
                if let Some(first) = self.0.get(name) {
                    map.serialize_entry(name.as_str(), &value_str(first))?;
                }
            } else {
                map.serialize_entry(name.as_str(), &joined(self.0, name))?;
            }
        }
        map.end()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    status_code: u16,
    status_description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<SingleHeaders<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    multi_value_headers: Option<MultiHeaders<'a>>,
    body: &'a str,
    is_base64_encoded: bool,
}

/// The response JSON an ALB expects, in the request's header mode.
pub(crate) fn response(head: &Parts, body: &[u8], multi_value: bool) -> Vec<u8> {
    let cookies = head.headers.get_all(SET_COOKIE).iter().count();
    if !multi_value && cookies > 1 {
        log::warn!(
            "the ALB target group has multi-value headers off: only the first of {cookies} \
             Set-Cookie headers is sent (turn multi-value headers on to send them all)"
        );
    }
    let body = EncodedBody::new(&head.headers, body);
    let status = head.status;
    to_json(&Answer {
        status_code: status.as_u16(),
        status_description: match status.canonical_reason() {
            Some(reason) => format!("{} {reason}", status.as_u16()),
            None => status.as_u16().to_string(),
        },
        headers: (!multi_value).then_some(SingleHeaders(&head.headers)),
        multi_value_headers: multi_value.then_some(MultiHeaders(&head.headers)),
        body: body.text(),
        is_base64_encoded: body.is_base64(),
    })
}
