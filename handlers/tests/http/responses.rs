//! Each source's response shape, through the real loop: against the response fixtures
//! (`example-apigw-response.json`, `example-alb-lambda-target-response.json`) and for the
//! cases they do not show (empty bodies, binary bodies, the ALB's two header modes).

use coda_handlers::http::{Body, Request, Response, StatusCode};
use coda_lambda::{Context, Diagnostic};
use serde_json::{Map, Value, json};

use crate::support::{answer, bytes, fixture, fixture_json, unbase64, v1_event, v2_event};

/// The keys of a JSON object, sorted.
fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

/// An object's keys lowercased (header names are case-insensitive; `http` lowercases them).
fn lowercase_keys(value: &Value) -> Value {
    let map: Map<String, Value> = value
        .as_object()
        .expect("an object")
        .iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
        .collect();
    Value::Object(map)
}

/// A REST API answer has the fixture's shape and, for the fixture's headers, its exact
/// `headers` and `multiValueHeaders` (names lowercased), plus `isBase64Encoded`.
#[test]
fn apigw_rest_response_matches_the_fixture() {
    let expected = fixture_json("example-apigw-response.json");
    let headers = expected["headers"].clone();
    let out = answer(
        move |_: Request, _: &mut Context| {
            let mut builder = Response::builder().status(200);
            for (name, value) in headers.as_object().unwrap() {
                builder = builder.header(name.as_str(), value.as_str().unwrap());
            }
            Ok::<_, Diagnostic>(builder.body(Body::from("Hello World"))?)
        },
        fixture("example-apigw-request.json"),
    );
    let json = out.json();
    let mut expected_keys = keys(&expected);
    expected_keys.push("isBase64Encoded".into());
    expected_keys.sort();
    assert_eq!(keys(&json), expected_keys);
    assert_eq!(json["statusCode"], expected["statusCode"]);
    assert_eq!(json["body"], expected["body"]);
    assert_eq!(json["isBase64Encoded"], false);
    assert_eq!(json["headers"], lowercase_keys(&expected["headers"]));
    assert_eq!(
        json["multiValueHeaders"],
        lowercase_keys(&expected["multiValueHeaders"])
    );
}

/// The fixture's ALB answer (`Content-Type` and two `Set-Cookie`): in multi-value mode its
/// exact `multiValueHeaders`; in single-value mode a `headers` map of strings; both with
/// `statusDescription` "200 OK" and the fixture's other keys.
#[test]
fn alb_response_matches_the_fixture() {
    let expected = fixture_json("example-alb-lambda-target-response.json");
    let multi = expected["multiValueHeaders"].clone();
    let handler = move |_: Request, _: &mut Context| {
        let mut builder = Response::builder();
        for (name, values) in multi.as_object().unwrap() {
            for value in values.as_array().unwrap() {
                builder = builder.header(name.as_str(), value.as_str().unwrap());
            }
        }
        Ok::<_, Diagnostic>(builder.body(Body::from("Hello from Lambda"))?)
    };
    // The same request in multi-value mode: its headers as multiValueHeaders.
    let mut multi_request = fixture_json("alb_request.json");
    let as_lists: Map<String, Value> = multi_request["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), json!([v])))
        .collect();
    multi_request["multiValueHeaders"] = Value::Object(as_lists);
    multi_request.as_object_mut().unwrap().remove("headers");
    let out = answer(handler.clone(), bytes(&multi_request));
    let json = out.json();
    for key in keys(&json) {
        assert!(expected.get(&key).is_some(), "{key} is not in the fixture");
    }
    assert_eq!(json["statusCode"], expected["statusCode"]);
    assert_eq!(json["statusDescription"], expected["statusDescription"]);
    assert_eq!(json["body"], expected["body"]);
    assert_eq!(json["isBase64Encoded"], expected["isBase64Encoded"]);
    assert_eq!(
        json["multiValueHeaders"],
        lowercase_keys(&expected["multiValueHeaders"])
    );
    assert!(json.get("headers").is_none());

    let single = answer(handler, fixture("alb_request.json")).json();
    assert!(single.get("multiValueHeaders").is_none());
    assert_eq!(single["statusDescription"], "200 OK");
    assert_eq!(
        single["headers"]["content-type"],
        expected["headers"]["Content-Type"]
    );
    assert_eq!(
        single["headers"]["set-cookie"],
        expected["multiValueHeaders"]["Set-cookie"][0]
    );
}

/// Payload 2.0 answers: `statusCode`, joined `headers`, `cookies`, `body`, `isBase64Encoded`
/// and nothing else; `cookies` is left out when there are none.
#[test]
fn payload_v2_response_shape() {
    let out = answer(
        |_: Request, _: &mut Context| {
            Ok::<_, Diagnostic>(
                Response::builder()
                    .status(StatusCode::ACCEPTED)
                    .header("content-type", "text/plain")
                    .header("set-cookie", "a=1")
                    .body(Body::from("accepted"))?,
            )
        },
        fixture("apigw_v2_proxy_request.json"),
    );
    let json = out.json();
    assert_eq!(
        json,
        json!({
            "statusCode": 202,
            "headers": {"content-type": "text/plain"},
            "cookies": ["a=1"],
            "body": "accepted",
            "isBase64Encoded": false,
        })
    );
    let bare = answer(
        |_: Request, _: &mut Context| Ok::<_, Diagnostic>(Response::new(Body::from("x"))),
        fixture("lambda_function_url_request.json"),
    );
    assert_eq!(
        keys(&bare.json()),
        ["body", "headers", "isBase64Encoded", "statusCode"]
    );
}

/// An empty body is `"body": ""`, not base64, from every source; a binary content type is
/// base64 even when the bytes are ASCII.
#[test]
fn empty_and_binary_bodies() {
    let events = [
        bytes(&v2_event("GET", "/", "", json!({}))),
        bytes(&v1_event("GET", "/", "prod")),
        fixture("alb_request.json"),
    ];
    for event in &events {
        let empty = answer(
            |_: Request, _: &mut Context| Ok::<_, Diagnostic>(Response::new(Body::empty())),
            event.clone(),
        )
        .json();
        assert_eq!(
            (&empty["body"], &empty["isBase64Encoded"]),
            (&json!(""), &json!(false))
        );
        let no_content = answer(
            |_: Request, _: &mut Context| {
                let mut response = Response::new(Body::empty());
                *response.status_mut() = StatusCode::NO_CONTENT;
                Ok::<_, Diagnostic>(response)
            },
            event.clone(),
        )
        .json();
        assert_eq!(no_content["statusCode"], 204);
        assert_eq!(no_content["body"], "");
        let binary = answer(
            |_: Request, _: &mut Context| {
                Ok::<_, Diagnostic>(
                    Response::builder()
                        .header("content-type", "application/octet-stream")
                        .body(Body::from("plain ascii"))?,
                )
            },
            event.clone(),
        )
        .json();
        assert_eq!(binary["isBase64Encoded"], true);
        assert_eq!(unbase64(binary["body"].as_str().unwrap()), b"plain ascii");
    }
}

/// A handler's error fails the invocation with its own error type (API Gateway answers 502),
/// after which the loop serves the next request.
#[test]
fn handler_errors_fail_the_invocation() {
    let out = answer(
        |_: Request, _: &mut Context| -> Result<Response<Body>, Diagnostic> {
            Err(Diagnostic::new("Function.Broken", "the database is down"))
        },
        fixture("apigw_v2_proxy_request.json"),
    );
    let error = out.error().expect("an error");
    assert_eq!(error.error_type(), "Function.Broken");
    assert_eq!(error.message(), "the database is down");
}
