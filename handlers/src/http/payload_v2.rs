//! Payload format 2.0, both directions: API Gateway HTTP APIs and Function URLs (one schema;
//! they differ in the origin reported and in the stage, which a Function URL never has).
//!
//! In: `requestContext.http.method`, `rawPath` (with the stage of a named HTTP API stage: see
//! the stage rule), `rawQueryString` as sent, `headers` (API Gateway has joined repeated ones
//! with commas already), `cookies` merged into one `cookie` header with any `cookie` header
//! the event also has (a Function URL sends both, with the same cookies: none is repeated),
//! `body` and `isBase64Encoded`. Out: `statusCode`, `headers` with repeated names joined by
//! `", "` (RFC 9110; `lambda_http` keeps only the first), every `Set-Cookie` in `cookies`,
//! `body`, `isBase64Encoded`.

use http::HeaderMap;
use http::header::{COOKIE, HeaderValue, SET_COOKIE};
use std::sync::Arc;

use http::response::Parts;
use serde::Serialize;

use super::context::RawContext;
use super::encode::{EncodedBody, JoinedHeaders, to_json, value_str};
use super::error::AdapterError;
use super::event::{Decoded, Str, Values};
use super::ext::EventInfo;
use super::request::{self, Request};
use super::{stage, uri};

/// The request of a payload 2.0 event.
pub(crate) fn request(
    decoded: Decoded<'_>,
    payload: &Arc<Vec<u8>>,
    stage_in_path: bool,
) -> Result<Request, AdapterError> {
    let Decoded {
        origin,
        event,
        has_context,
        context,
    } = decoded;
    let http = context.http.as_ref();
    let method = request::method(
        origin,
        http.and_then(|h| h.method.as_ref()),
        "requestContext.http.method",
    )?;
    let mut headers = request::headers(&event.headers, None);
    if let Some(cookies) = &event.cookies {
        merge_cookies(&mut headers, cookies);
    }
    let raw_path = event
        .raw_path
        .as_ref()
        .or_else(|| http.and_then(|h| h.path.as_ref()))
        .map_or("/", Str::as_str);
    let stage = context.stage.as_ref().map(Str::as_str);
    let path = stage::uri_path(origin, raw_path, stage, stage_in_path);
    let query = match &event.raw_query_string {
        Some(raw) => uri::escape_query(raw.as_str()).into_owned(),
        // Hand-written events may have only the decoded parameters.
        None => {
            let mut query = String::new();
            for (name, value) in &event.query_string_parameters.0 {
                if !query.is_empty() {
                    query.push('&');
                }
                uri::encode_component(name.as_str(), &mut query);
                query.push('=');
                uri::encode_component(value.as_str(), &mut query);
            }
            query
        }
    };
    let uri = request::uri(
        &headers,
        context.domain_name.as_ref(),
        &uri::escape_path(&path),
        &query,
    );
    let body = request::body(origin, event.body, event.is_base64_encoded)?;
    let info = EventInfo {
        origin,
        raw_path: raw_path.to_owned(),
        stage: stage.map(str::to_owned),
        path_parameters: request::params(&event.path_parameters),
        stage_variables: request::params(&event.stage_variables),
        context: has_context.then(|| RawContext::new(origin, payload.clone())),
    };
    Ok(request::assemble(method, uri, headers, body, info))
}

/// Replaces the `cookie` headers by one holding their cookies, then each cookie of
/// `cookies` that is not among them, joined by `"; "`.
fn merge_cookies(headers: &mut HeaderMap, cookies: &Values<'_>) {
    if cookies.0.is_empty() {
        return;
    }
    let existing: Vec<String> = headers
        .get_all(COOKIE)
        .iter()
        .flat_map(|v| {
            value_str(v)
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut merged = existing.join("; ");
    for cookie in &cookies.0 {
        let cookie = cookie.as_str().trim();
        if cookie.is_empty() || existing.iter().any(|c| c == cookie) {
            continue;
        }
        if HeaderValue::from_str(cookie).is_err() {
            log::warn!("left out request cookie {cookie:?}: not a valid header value");
            continue;
        }
        if !merged.is_empty() {
            merged.push_str("; ");
        }
        merged.push_str(cookie);
    }
    if let Ok(value) = HeaderValue::from_str(&merged) {
        headers.insert(COOKIE, value);
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    status_code: u16,
    headers: JoinedHeaders<'a>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cookies: Vec<std::borrow::Cow<'a, str>>,
    body: &'a str,
    is_base64_encoded: bool,
}

/// The response JSON of payload format 2.0.
pub(crate) fn response(head: &Parts, body: &[u8]) -> Vec<u8> {
    let body = EncodedBody::new(&head.headers, body);
    to_json(&Answer {
        status_code: head.status.as_u16(),
        headers: JoinedHeaders(&head.headers),
        cookies: head
            .headers
            .get_all(SET_COOKIE)
            .iter()
            .map(value_str)
            .collect(),
        body: body.text(),
        is_base64_encoded: body.is_base64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;

    /// Header and array cookies merge into one header, none repeated, order kept.
    #[test]
    fn cookies_merge() {
        let cookies =
            |list: &[&'static str]| Values(list.iter().map(|c| Str(Cow::Borrowed(*c))).collect());
        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("a=1; b=2"));
        merge_cookies(&mut headers, &cookies(&["b=2", "c=3"]));
        assert_eq!(headers.get_all(COOKIE).iter().count(), 1);
        assert_eq!(headers[COOKIE], "a=1; b=2; c=3");

        let mut headers = HeaderMap::new();
        merge_cookies(&mut headers, &cookies(&["x=1", "y=2"]));
        assert_eq!(headers[COOKIE], "x=1; y=2");

        let mut headers = HeaderMap::new();
        headers.append(COOKIE, HeaderValue::from_static("kept=as; sent=1"));
        merge_cookies(&mut headers, &cookies(&[]));
        assert_eq!(headers[COOKIE], "kept=as; sent=1");
    }
}
