//! API Gateway REST APIs (Lambda proxy integration, payload format 1.0), both directions.
//!
//! In: `httpMethod`, `path` (without the stage: see the stage rule), `headers` and
//! `multiValueHeaders` merged, `queryStringParameters` and `multiValueQueryStringParameters`
//! merged (their values are decoded, so they are encoded again for the URI), `body` and
//! `isBase64Encoded`. Out: `statusCode`, `headers` (each name's first value) beside
//! `multiValueHeaders` (every value, `Set-Cookie` included: API Gateway merges the two,
//! keeping `multiValueHeaders`' values), `body`, `isBase64Encoded`.

use std::sync::Arc;

use http::response::Parts;
use serde::Serialize;

use super::encode::{EncodedBody, FirstHeaders, MultiHeaders, to_json};
use super::error::AdapterError;
use super::event::{Decoded, Str};
use super::ext::EventInfo;
use super::origin::Origin;
use super::request::{self, Request};
use super::{stage, uri};
use crate::http::context::RawContext;

/// The request of a REST API event.
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
    let method = request::method(origin, event.http_method.as_ref(), "httpMethod")?;
    let headers = request::headers(&event.headers, event.multi_value_headers.as_ref());
    let raw_path = event.path.as_ref().map_or("/", Str::as_str);
    let stage = context.stage.as_ref().map(Str::as_str);
    let path = stage::uri_path(origin, raw_path, stage, stage_in_path);
    let mut query = String::new();
    for (name, value) in request::query(
        &event.query_string_parameters,
        &event.multi_value_query_string_parameters,
    ) {
        if !query.is_empty() {
            query.push('&');
        }
        uri::encode_component(name, &mut query);
        query.push('=');
        uri::encode_component(value, &mut query);
    }
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
        context: has_context.then(|| RawContext::new(Origin::ApiGatewayV1, payload.clone())),
    };
    Ok(request::assemble(method, uri, headers, body, info))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Answer<'a> {
    status_code: u16,
    headers: FirstHeaders<'a>,
    multi_value_headers: MultiHeaders<'a>,
    body: &'a str,
    is_base64_encoded: bool,
}

/// The response JSON API Gateway expects from a REST API integration.
pub(crate) fn response(head: &Parts, body: &[u8]) -> Vec<u8> {
    let body = EncodedBody::new(&head.headers, body);
    to_json(&Answer {
        status_code: head.status.as_u16(),
        headers: FirstHeaders(&head.headers),
        multi_value_headers: MultiHeaders(&head.headers),
        body: body.text(),
        is_base64_encoded: body.is_base64(),
    })
}
