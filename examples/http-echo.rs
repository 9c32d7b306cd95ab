//! http-echo: an HTTP function that describes the request it received, behind any HTTP
//! source (API Gateway REST or HTTP API, ALB, Function URL).
//!
//! ```sh
//! cargo build -p coda-bootstrap -p coda-examples
//! target/debug/coda run -- target/debug/http-echo
//! curl -i 'http://127.0.0.1:9000/some/path?b=2&a=1' -H 'x-demo: 1'
//! ```
//!
//! It answers `200`, `application/json`:
//! `{"origin", "method", "uri", "path", "raw_path", "query": [[name, value], …] (request
//! order), "headers": [[name, value], …] (sorted by name, each name's values in order),
//! "body_base64" (null without a body), "path_parameters", "stage_variables"}`.
//!
//! A path ending in `/__case/<x>` answers response case `<x>` instead:
//! `a` 201 JSON with `x-custom` and two cookies; `b` a PNG signature; `c` 204 and nothing;
//! `d` gzip-encoded HTML; `e` bytes that are not UTF-8, no content type, `x-multi` twice;
//! `f` text with a byte-order mark.
//!
//! `HTTP_ECHO_INVOKE_MODE=RESPONSE_STREAM` answers as a stream, as a Function URL in that
//! invoke mode needs.

use base64::Engine as _;
use coda_handlers::http::{Adapter, Body, Request, RequestExt, Response, StatusCode};
use coda_lambda::{Context, Diagnostic};
use serde_json::{Map, Value, json};

fn main() {
    let stream = std::env::var("HTTP_ECHO_INVOKE_MODE").as_deref() == Ok("RESPONSE_STREAM");
    coda_lambda::start(|| Ok(Adapter::new(echo).response_stream(stream)))
}

/// The handler: a response case, or the description of the request. (`pub(crate)`: the
/// crate's tests compile this file as a module and drive this handler.)
pub(crate) fn echo(request: Request, _ctx: &mut Context) -> Result<Response<Body>, Diagnostic> {
    if let Some((_, case)) = request.uri().path().rsplit_once("/__case/")
        && let Some(response) = case_response(case)
    {
        return Ok(response?);
    }
    let description = describe(&request);
    let response = Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .body(Body::from(description.to_string()))?;
    Ok(response)
}

/// The JSON description of a request.
fn describe(request: &Request) -> Value {
    let query: Vec<Value> = request
        .query_pairs()
        .into_iter()
        .map(|(name, value)| json!([name, value]))
        .collect();
    let mut headers: Vec<(&str, String)> = request
        .headers()
        .iter()
        .map(|(name, value)| {
            let value = match value.to_str() {
                Ok(text) => text.to_owned(),
                Err(_) => String::from_utf8_lossy(value.as_bytes()).into_owned(),
            };
            (name.as_str(), value)
        })
        .collect();
    // Stable: each name's values keep their order.
    headers.sort_by(|a, b| a.0.cmp(b.0));
    let body = request.body();
    let body_base64 = if body.is_empty() {
        Value::Null
    } else {
        base64::engine::general_purpose::STANDARD
            .encode(body.as_bytes())
            .into()
    };
    let object = |params: &coda_handlers::http::Params| -> Value {
        let map: Map<String, Value> = params
            .iter()
            .map(|(name, value)| (name.to_owned(), Value::from(value)))
            .collect();
        Value::Object(map)
    };
    json!({
        "origin": request.origin().map(|o| o.as_str()),
        "method": request.method().as_str(),
        "uri": request.uri().to_string(),
        "path": request.uri().path(),
        "raw_path": request.raw_http_path(),
        "query": query,
        "headers": headers.iter().map(|(n, v)| json!([n, v])).collect::<Vec<_>>(),
        "body_base64": body_base64,
        "path_parameters": object(request.path_parameters()),
        "stage_variables": object(request.stage_variables()),
    })
}

/// Response case `case`, if it is one.
fn case_response(case: &str) -> Option<Result<Response<Body>, http::Error>> {
    let builder = Response::builder();
    Some(match case {
        "a" => builder
            .status(StatusCode::CREATED)
            .header("content-type", "application/json")
            .header("x-custom", "1")
            .header("set-cookie", "session=abc; Path=/; HttpOnly")
            .header("set-cookie", "theme=dark; Max-Age=3600")
            .body(Body::from(r#"{"ok":true,"n":1}"#)),
        "b" => builder
            .header("content-type", "image/png")
            .body(Body::from(vec![0x89, 0x50, 0x4E, 0x47])),
        "c" => builder.status(StatusCode::NO_CONTENT).body(Body::empty()),
        "d" => builder
            .header("content-type", "text/html; charset=utf-8")
            .header("content-encoding", "gzip")
            .body(Body::from(GZIP_OF_HI.to_vec())),
        "e" => builder
            .header("x-multi", "a")
            .header("x-multi", "b")
            .body(Body::from(vec![0x41, 0xFF, 0x42])),
        "f" => builder
            .header("content-type", "text/plain")
            .body(Body::from(vec![0xEF, 0xBB, 0xBF, 0x68, 0x69])),
        _ => return None,
    })
}

/// `hi` compressed with gzip (RFC 1952: header, one fixed-Huffman deflate block, CRC-32
/// `0xd8932aac` and length 2).
const GZIP_OF_HI: [u8; 22] = [
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xcb, 0xc8, 0x04, 0x00, 0xac, 0x2a,
    0x93, 0xd8, 0x02, 0x00, 0x00, 0x00,
];
