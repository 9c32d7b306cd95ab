//! Test helpers: the fixtures, a handler that records what it was given, and invocations
//! through the real loop.

use std::cell::RefCell;
use std::rc::Rc;

use coda_emulator::Invoke;
use coda_emulator::testing::{self, Outcome};
use coda_handlers::http::{Adapter, Body, Origin, Request, RequestContext, RequestExt, Response};
use coda_lambda::{Context, Diagnostic};
use serde_json::Value;

/// A fixture's bytes (`handlers/tests/data/<name>`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixtures are JSON")
}

/// Everything a handler saw of one request, owned.
#[derive(Debug, Clone)]
pub struct Seen {
    pub origin: Option<Origin>,
    pub method: String,
    pub uri: String,
    pub path: String,
    pub raw_path: String,
    pub stage: Option<String>,
    pub query: Vec<(String, String)>,
    /// Every header in the map's order (names lowercase, each name's values in order).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub body_is_binary: bool,
    pub path_parameters: Vec<(String, String)>,
    pub stage_variables: Vec<(String, String)>,
    pub context: Option<RequestContext>,
    pub context_json: Option<Value>,
    pub authorizer: Option<Value>,
}

impl Seen {
    pub fn of(request: &Request) -> Seen {
        let pairs = |p: &coda_handlers::http::Params| {
            p.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect::<Vec<_>>()
        };
        Seen {
            origin: request.origin(),
            method: request.method().to_string(),
            uri: request.uri().to_string(),
            path: request.uri().path().to_owned(),
            raw_path: request.raw_http_path().to_owned(),
            stage: request.stage().map(str::to_owned),
            query: request
                .query_pairs()
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            headers: request
                .headers()
                .iter()
                .map(|(n, v)| (n.as_str().to_owned(), v.to_str().unwrap().to_owned()))
                .collect(),
            body: request.body().as_bytes().to_vec(),
            body_is_binary: request.body().is_binary(),
            path_parameters: pairs(request.path_parameters()),
            stage_variables: pairs(request.stage_variables()),
            context: request.request_context().cloned(),
            context_json: request
                .request_context_json()
                .map(|j| serde_json::from_str(j).unwrap()),
            authorizer: request.authorizer().cloned(),
        }
    }

    /// Every value of header `name`.
    pub fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Owned (name, value) pairs from string pairs.
pub fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Runs `payloads` through one loop with an adapter (stage kept in paths) whose handler
/// records each request and answers `200 ok`; returns what it saw and the outcomes.
pub fn see_all(payloads: Vec<Vec<u8>>, stage_in_path: bool) -> (Vec<Seen>, Vec<Outcome>) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let sink = seen.clone();
    let adapter = Adapter::new(move |request: Request, _: &mut Context| {
        sink.borrow_mut().push(Seen::of(&request));
        Ok::<_, Diagnostic>(Response::new(Body::from("ok")))
    })
    .stage_in_path(stage_in_path);
    let outcomes = testing::run(adapter, payloads.into_iter().map(Invoke::new).collect());
    let seen = seen.borrow().clone();
    (seen, outcomes)
}

/// One payload through the loop: what the handler saw (asserting it was called once).
pub fn see(payload: impl Into<Vec<u8>>) -> Seen {
    let (mut seen, outcomes) = see_all(vec![payload.into()], true);
    assert_eq!(
        seen.len(),
        1,
        "the handler ran once: {:?}",
        outcomes[0].payload()
    );
    assert_eq!(outcomes[0].json()["statusCode"], 200);
    seen.remove(0)
}

/// Answers `event` with `handler` through the loop (buffered answers).
pub fn answer<F>(handler: F, event: Vec<u8>) -> Outcome
where
    F: FnMut(Request, &mut Context) -> Result<Response<Body>, Diagnostic>,
{
    testing::invoke_with(Adapter::new(handler), Invoke::new(event))
}

/// A payload 2.0 (API Gateway HTTP API) event for `method path?query` with `headers`.
pub fn v2_event(method: &str, raw_path: &str, query: &str, headers: Value) -> Value {
    serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.execute-api.us-east-1.amazonaws.com",
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1",
                     "sourceIp": "1.2.3.4", "userAgent": "test"},
            "requestId": "r-1",
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390u64
        },
        "isBase64Encoded": false
    })
}

/// The same request as an API Gateway REST (payload 1.0) event.
pub fn v1_event(method: &str, path: &str, stage: &str) -> Value {
    serde_json::json!({
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "api.execute-api.us-east-1.amazonaws.com"},
        "multiValueHeaders": {"Host": ["api.execute-api.us-east-1.amazonaws.com"]},
        "queryStringParameters": null,
        "multiValueQueryStringParameters": null,
        "pathParameters": null,
        "stageVariables": null,
        "requestContext": {"stage": stage, "httpMethod": method, "path": format!("/{stage}{path}")},
        "body": null,
        "isBase64Encoded": false
    })
}

/// JSON bytes.
pub fn bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// Decodes standard base64.
pub fn unbase64(text: &str) -> Vec<u8> {
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).expect("base64")
}
