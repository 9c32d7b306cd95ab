//! The `http-api` example (compiled in as a module): its routes through the adapter and the
//! real loop, in one process so the store carries over, with its deferred audit lines.

use coda_emulator::Invoke;
use coda_emulator::testing;
use coda_handlers::http::Adapter;
use serde_json::{Value, json};

use crate::http_api_example::app;
use crate::support::{bytes, unbase64, v2_event};

fn request(method: &str, path: &str, body: Option<&str>) -> Invoke {
    let mut event = v2_event(
        method,
        path,
        "",
        json!({"content-type": "application/json"}),
    );
    if let Some(body) = body {
        event["body"] = body.into();
    }
    Invoke::new(bytes(&event))
}

fn body_json(answer: &Value) -> Value {
    serde_json::from_str(answer["body"].as_str().unwrap()).unwrap()
}

/// Create, read, list, the binary avatar, bad input, delete, 404 and 405 — each answered
/// in API Gateway's shape, each followed by its audit line after the answer.
#[test]
fn the_api() {
    let outcomes = testing::run(
        Adapter::new(app()),
        vec![
            request("POST", "/users", Some(r#"{"name": "Ada"}"#)),
            request("GET", "/users/1", None),
            request("GET", "/users/1/avatar.png", None),
            request("GET", "/users", None),
            request("POST", "/users", Some("{not json")),
            request("DELETE", "/users/1", None),
            request("GET", "/users/1", None),
            request("PUT", "/users", None),
        ],
    );
    let answers: Vec<Value> = outcomes.iter().map(|o| o.json()).collect();
    let statuses: Vec<u64> = answers
        .iter()
        .map(|a| a["statusCode"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [201, 200, 200, 200, 400, 204, 404, 405]);
    assert_eq!(body_json(&answers[0]), json!({"id": 1, "name": "Ada"}));
    assert_eq!(answers[0]["headers"]["content-type"], "application/json");
    assert_eq!(body_json(&answers[1]), json!({"id": 1, "name": "Ada"}));
    let avatar = &answers[2];
    assert_eq!(avatar["headers"]["content-type"], "image/png");
    assert_eq!(avatar["isBase64Encoded"], true);
    let png = unbase64(avatar["body"].as_str().unwrap());
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(png.len(), 67);
    assert_eq!(body_json(&answers[3]), json!([{"id": 1, "name": "Ada"}]));
    assert!(
        body_json(&answers[4])["message"]
            .as_str()
            .unwrap()
            .starts_with("expected")
    );
    assert_eq!(answers[5]["body"], "");
    assert_eq!(answers[7]["headers"]["allow"], "GET, HEAD, POST");
    let lines = [
        "audit POST /users -> 201",
        "audit GET /users/1 -> 200",
        "audit GET /users/1/avatar.png -> 200",
        "audit GET /users -> 200",
        "audit POST /users -> 400",
        "audit DELETE /users/1 -> 204",
        "audit GET /users/1 -> 404",
        "audit PUT /users -> 405",
    ];
    for (outcome, line) in outcomes.iter().zip(lines) {
        assert_eq!(outcome.deferred().ran, 1);
        assert!(outcome.answered_before_deferred_finished());
        assert!(
            outcome.logs().iter().any(|l| l.contains(line)),
            "{line}: {:?}",
            outcome.logs()
        );
    }
}
