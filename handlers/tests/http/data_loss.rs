//! Where `lambda_http` loses data, Coda must not: one test per case, each through the real
//! loop and emulator. (Events whose key order matters are written as raw JSON: `json!` sorts
//! keys.)

use coda_handlers::http::{Body, Request, Response};
use coda_lambda::{Context, Diagnostic};
use serde_json::Value;

use crate::support::{answer, bytes, pairs, see, see_all, unbase64, v1_event, v2_event};

/// An ALB event (single-value headers unless `multi` is given).
fn alb_event(headers: &str, multi: Option<&str>) -> Vec<u8> {
    let multi = multi.map_or(String::new(), |m| format!(r#""multiValueHeaders": {m},"#));
    format!(
        r#"{{"requestContext": {{"elb": {{"targetGroupArn": "arn:tg"}}}}, "httpMethod": "GET",
            "path": "/", "headers": {headers}, {multi} "isBase64Encoded": false}}"#
    )
    .into_bytes()
}

/// A response body without a content type that is not UTF-8 goes out as base64, byte for
/// byte, from every source (not as text with U+FFFD).
#[test]
fn binary_without_content_type_is_base64() {
    let events = [
        bytes(&v2_event("GET", "/", "", serde_json::json!({}))),
        bytes(&v1_event("GET", "/", "prod")),
        alb_event("{}", None),
    ];
    for event in events {
        let out = answer(
            |_: Request, _: &mut Context| {
                Ok::<_, Diagnostic>(Response::new(Body::from(vec![0x41, 0xFF, 0x42])))
            },
            event,
        );
        let json = out.json();
        assert_eq!(json["isBase64Encoded"], true, "{json}");
        assert_eq!(unbase64(json["body"].as_str().unwrap()), [0x41, 0xFF, 0x42]);
        assert!(!json.to_string().contains('\u{FFFD}'));
    }
}

/// A header set twice on a payload 2.0 origin (API Gateway HTTP API, Function URL) is
/// comma-joined, not cut to its first value; `Set-Cookie` goes to `cookies`, each apart.
#[test]
fn repeated_headers_are_joined_on_payload_v2() {
    let mut url_event = v2_event("GET", "/", "", serde_json::json!({}));
    url_event["requestContext"]["domainName"] = "abc.lambda-url.eu-west-1.on.aws".into();
    for event in [v2_event("GET", "/", "", serde_json::json!({})), url_event] {
        let out = answer(
            |_: Request, _: &mut Context| {
                let response = Response::builder()
                    .header("x-multi", "a")
                    .header("x-multi", "b")
                    .header("cache-control", "no-cache")
                    .header("cache-control", "no-store")
                    .header("set-cookie", "a=1; Path=/")
                    .header("set-cookie", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT")
                    .body(Body::from("x"))?;
                Ok::<_, Diagnostic>(response)
            },
            bytes(&event),
        );
        let json = out.json();
        assert_eq!(json["headers"]["x-multi"], "a, b", "{json}");
        assert_eq!(json["headers"]["cache-control"], "no-cache, no-store");
        assert!(json["headers"].get("set-cookie").is_none());
        assert_eq!(
            json["cookies"],
            serde_json::json!(["a=1; Path=/", "b=2; Expires=Wed, 21 Oct 2026 07:28:00 GMT"])
        );
    }
}

/// On REST API and ALB events, a request header named in both `headers` and
/// `multiValueHeaders` keeps every value (once each), not only the single-value one.
#[test]
fn single_and_multi_value_request_headers_merge() {
    let mut v1 = v1_event("GET", "/", "prod");
    v1["headers"] = serde_json::json!({"X-Multi": "b", "X-Other": "solo", "Host": "h"});
    v1["multiValueHeaders"] = serde_json::json!({"x-multi": ["a", "b"], "Host": ["h"]});
    let mut v1_extra = v1.clone();
    v1_extra["headers"]["X-Multi"] = "c".into();
    let seen = [
        see(bytes(&v1)),
        see(bytes(&v1_extra)),
        see(alb_event(
            r#"{"x-multi": "b", "host": "lb"}"#,
            Some(r#"{"X-Multi": ["a", "b"], "host": ["lb"]}"#),
        )),
    ];
    assert_eq!(seen[0].header("x-multi"), ["a", "b"]);
    assert_eq!(seen[0].header("x-other"), ["solo"]);
    assert_eq!(seen[0].header("host"), ["h"]);
    assert_eq!(seen[1].header("x-multi"), ["a", "b", "c"]);
    assert_eq!(seen[2].header("x-multi"), ["a", "b"]);
    assert_eq!(seen[2].header("host"), ["lb"]);
}

/// A payload 2.0 request with both a `cookies` array and a `cookie` header keeps both.
#[test]
fn cookie_header_and_cookies_array_are_both_kept() {
    let mut event = v2_event("GET", "/", "", serde_json::json!({"cookie": "from=header"}));
    event["cookies"] = serde_json::json!(["from=array", "second=1"]);
    let seen = see(bytes(&event));
    assert_eq!(seen.header("cookie"), ["from=header; from=array; second=1"]);
}

/// A request whose base64 body does not decode is answered 400 in the source's shape, with
/// a log line naming the problem; the handler is not called, nothing panics, and the loop
/// serves the next event.
#[test]
fn bad_base64_is_a_400_and_a_log_line() {
    let mut v2 = v2_event("POST", "/", "", serde_json::json!({}));
    v2["body"] = "not base64!".into();
    v2["isBase64Encoded"] = true.into();
    let mut v1 = v1_event("POST", "/", "prod");
    v1["body"] = "%%%".into();
    v1["isBase64Encoded"] = true.into();
    let mut alb: Value = serde_json::from_slice(&alb_event("{}", Some("{}"))).unwrap();
    alb["body"] = "@@".into();
    alb["isBase64Encoded"] = true.into();
    let good = v2_event("GET", "/", "", serde_json::json!({}));
    let (seen, outcomes) = see_all(
        vec![bytes(&v2), bytes(&v1), bytes(&alb), bytes(&good)],
        true,
    );
    assert_eq!(seen.len(), 1, "only the good request reached the handler");
    for outcome in &outcomes[..3] {
        let json = outcome.json();
        assert_eq!(json["statusCode"], 400, "{json}");
        assert!(outcome.error().is_none());
        let body: Value = serde_json::from_str(json["body"].as_str().unwrap()).unwrap();
        assert!(body["message"].as_str().unwrap().contains("base64"));
        assert!(
            outcome
                .logs()
                .iter()
                .any(|l| l.contains("400") && l.contains("isBase64Encoded")),
            "{:?}",
            outcome.logs()
        );
    }
    assert_eq!(
        outcomes[1].json()["multiValueHeaders"]["content-type"][0],
        "application/json"
    );
    assert_eq!(outcomes[2].json()["statusDescription"], "400 Bad Request");
    assert!(outcomes[2].json().get("multiValueHeaders").is_some());
    assert_eq!(outcomes[3].json()["statusCode"], 200);
}

/// A path exactly equal to `/{stage}` is not doubled into `/{stage}/{stage}` (HTTP API
/// `rawPath`, and a REST path already carrying the stage); left out, it is `/`.
#[test]
fn stage_path_is_not_doubled() {
    let mut v2 = v2_event("GET", "/prod", "", serde_json::json!({"host": "h"}));
    v2["requestContext"]["stage"] = "prod".into();
    let v1 = v1_event("GET", "/prod", "prod");
    let (kept, _) = see_all(vec![bytes(&v2), bytes(&v1)], true);
    assert_eq!(kept[0].path, "/prod");
    assert_eq!(kept[0].uri, "https://h/prod");
    assert_eq!(kept[1].path, "/prod");
    let (left_out, _) = see_all(vec![bytes(&v2)], false);
    assert_eq!(left_out[0].path, "/");
    assert_eq!(left_out[0].raw_path, "/prod");
}

/// Query parameters keep their order: payload 2.0's `rawQueryString`, and a REST API's and an
/// ALB's parameter objects in the order the event lists them (repeated names in place).
#[test]
fn query_parameters_keep_their_order() {
    let expected = pairs(&[("z", "1"), ("a", "2"), ("a", "4"), ("m", "3 3")]);
    let v2 = v2_event("GET", "/", "z=1&a=2&a=4&m=3%203", serde_json::json!({}));
    let v1 = br#"{"httpMethod": "GET", "path": "/", "requestContext": {"stage": "$default"},
        "queryStringParameters": {"z": "1", "a": "4", "m": "3 3"},
        "multiValueQueryStringParameters": {"z": ["1"], "a": ["2", "4"], "m": ["3 3"]}}"#;
    let alb = br#"{"httpMethod": "GET", "path": "/", "requestContext": {"elb": {}},
        "queryStringParameters": {"z": "1", "a": "4", "m": "3%203"},
        "multiValueQueryStringParameters": {"z": ["1"], "a": ["2", "4"], "m": ["3%203"]}}"#;
    let (seen, _) = see_all(vec![bytes(&v2), v1.to_vec(), alb.to_vec()], true);
    for seen in &seen {
        assert_eq!(seen.query, expected, "{:?}: {}", seen.origin, seen.uri);
    }
    assert!(
        seen[0].uri.ends_with("/?z=1&a=2&a=4&m=3%203"),
        "{}",
        seen[0].uri
    );
    assert!(
        seen[1].uri.ends_with("/?z=1&a=2&a=4&m=3%203"),
        "{}",
        seen[1].uri
    );
    assert!(
        seen[2].uri.ends_with("/?z=1&a=2&a=4&m=3%203"),
        "{}",
        seen[2].uri
    );
}

/// Percent-encoding in paths and queries is kept as sent; a REST API's decoded values that
/// hold `&`, `=`, `+` or spaces come back intact.
#[test]
fn percent_encoding_is_kept() {
    let v2 = v2_event(
        "GET",
        "/a%2Fb/c%20d",
        "q=%26x%3Dy&plus=1%2B1&sp=a+b",
        serde_json::json!({"host": "h"}),
    );
    let v1 = br#"{"httpMethod": "GET", "path": "/files/a b", "requestContext": {},
        "multiValueQueryStringParameters": {"q": ["&x=y"], "plus": ["1+1"], "sp": ["a b"]}}"#;
    let (seen, _) = see_all(vec![bytes(&v2), v1.to_vec()], true);
    assert_eq!(
        seen[0].uri,
        "https://h/a%2Fb/c%20d?q=%26x%3Dy&plus=1%2B1&sp=a+b"
    );
    assert_eq!(seen[0].raw_path, "/a%2Fb/c%20d");
    let expected = pairs(&[("q", "&x=y"), ("plus", "1+1"), ("sp", "a b")]);
    assert_eq!(seen[0].query, expected);
    assert_eq!(seen[1].path, "/files/a%20b");
    assert_eq!(seen[1].query, expected);
}
