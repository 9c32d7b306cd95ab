//! Every request fixture (real events, from `lambda_http`'s and `aws_lambda_events`' test
//! data, copied into `tests/data/`) through the real loop: the request the handler gets,
//! field by field. All nine go through one loop (`coda_emulator::testing::run`).

use coda_handlers::http::{Origin, RequestContext};
use serde_json::json;

use crate::support::{Seen, fixture, fixture_json, pairs, see_all};

const FIXTURES: [&str; 9] = [
    "example-apigw-request.json",
    "example-apigw-request-multi-value-parameters.json",
    "apigw_proxy_request.json",
    "apigw_v2_proxy_request.json",
    "example-apigw-v2-request-jwt-authorizer.json",
    "example-apigw-v2-request-no-authorizer.json",
    "lambda_function_url_request.json",
    "alb_request.json",
    "example-alb-lambda-target-request-headers-only.json",
];

/// Every fixture decodes, the handler runs once for each, and each is answered 200 in the
/// shape of its source; then each request is checked field by field below.
#[test]
fn every_fixture_field_by_field() {
    let (seen, outcomes) = see_all(FIXTURES.iter().map(|f| fixture(f)).collect(), true);
    assert_eq!(seen.len(), FIXTURES.len());
    for (name, outcome) in FIXTURES.iter().zip(&outcomes) {
        let answer = outcome.json();
        assert_eq!(answer["statusCode"], 200, "{name}: {answer}");
        assert_eq!(answer["body"], "ok", "{name}");
    }
    for (name, seen) in FIXTURES.iter().zip(&seen) {
        // The request context reaches the handler exactly as sent.
        assert_eq!(
            seen.context_json.as_ref(),
            Some(&fixture_json(name)["requestContext"]),
            "{name}"
        );
        assert!(seen.context.is_some(), "{name}: the typed context decodes");
    }
    apigw_rest(&seen[0]);
    apigw_rest_multi_value(&seen[1]);
    apigw_rest_proxy(&seen[2]);
    apigw_http_proxy(&seen[3]);
    apigw_http_jwt(&seen[4]);
    apigw_http_no_authorizer(&seen[5]);
    function_url(&seen[6]);
    alb(&seen[7]);
    alb_headers_only(&seen[8]);
}

/// `example-apigw-request.json`: REST API, POST, stage `testStage` prefixed, JSON body.
fn apigw_rest(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::ApiGatewayV1));
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.uri,
        "https://gy415nuibc.execute-api.us-east-1.amazonaws.com/testStage/hello/world?name=me"
    );
    assert_eq!(seen.path, "/testStage/hello/world");
    assert_eq!(seen.raw_path, "/hello/world");
    assert_eq!(seen.stage.as_deref(), Some("testStage"));
    assert_eq!(seen.query, pairs(&[("name", "me")]));
    assert_eq!(seen.headers.len(), 19, "{:?}", seen.headers);
    assert_eq!(seen.header("accept"), ["*/*"]);
    assert_eq!(seen.header("accept-encoding"), ["gzip, deflate"]);
    assert_eq!(seen.header("cache-control"), ["no-cache"]);
    assert_eq!(seen.header("content-type"), ["application/json"]);
    assert_eq!(seen.header("headername"), ["headerValue"]);
    assert_eq!(
        seen.header("host"),
        ["gy415nuibc.execute-api.us-east-1.amazonaws.com"]
    );
    assert_eq!(
        seen.header("x-forwarded-for"),
        ["54.240.196.186, 54.182.214.83"]
    );
    assert_eq!(seen.header("x-forwarded-proto"), ["https"]);
    assert_eq!(seen.header("user-agent"), ["PostmanRuntime/2.4.5"]);
    assert_eq!(seen.body, b"{\r\n\t\"a\": 1\r\n}");
    assert!(!seen.body_is_binary);
    assert_eq!(seen.path_parameters, pairs(&[("proxy", "hello/world")]));
    assert_eq!(
        seen.stage_variables,
        pairs(&[("stageVariableName", "stageVariableValue")])
    );
    assert_eq!(
        seen.authorizer,
        Some(json!({"principalId": "admin", "clientId": 1, "clientName": "Exata"}))
    );
    let Some(RequestContext::ApiGatewayV1(context)) = &seen.context else {
        panic!("a REST API context: {:?}", seen.context);
    };
    assert_eq!(context.account_id.as_deref(), Some("12345678912"));
    assert_eq!(context.stage.as_deref(), Some("testStage"));
    assert_eq!(context.resource_path.as_deref(), Some("/{proxy+}"));
    assert_eq!(context.http_method, http::Method::POST);
    assert_eq!(context.request_time_epoch, 1_589_522_469_693);
    assert_eq!(
        context.identity.source_ip.as_deref(),
        Some("192.168.196.186")
    );
    assert_eq!(context.identity.api_key.as_deref(), Some("theApiKey"));
    assert_eq!(context.authorizer.fields["principalId"], "admin");
}

/// `example-apigw-request-multi-value-parameters.json`: the multi-value header and query
/// keep every value, the single-value copies add none.
fn apigw_rest_multi_value(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::ApiGatewayV1));
    assert_eq!(seen.header("headername"), ["headerValue", "headerValue2"]);
    assert_eq!(seen.headers.len(), 20);
    assert_eq!(seen.query, pairs(&[("name", "me"), ("name", "me2")]));
    assert_eq!(
        seen.uri,
        "https://gy415nuibc.execute-api.us-east-1.amazonaws.com/testStage/hello/world?name=me&name=me2"
    );
}

/// `apigw_proxy_request.json`: REST API, GET, single-value headers only, no body.
fn apigw_rest_proxy(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::ApiGatewayV1));
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.uri,
        "https://wt6mne2s9k.execute-api.us-west-2.amazonaws.com/test/hello?name=me"
    );
    assert_eq!(seen.raw_path, "/hello");
    assert_eq!(seen.headers.len(), 17);
    assert_eq!(seen.header("cloudfront-viewer-country"), ["US"]);
    assert_eq!(
        seen.header("x-forwarded-for"),
        ["192.168.100.1, 192.168.1.1"]
    );
    assert!(seen.body.is_empty());
    assert_eq!(seen.path_parameters, pairs(&[("proxy", "hello")]));
    assert_eq!(
        seen.stage_variables,
        pairs(&[("stageVarName", "stageVarValue")])
    );
    assert_eq!(seen.authorizer, None);
    let Some(RequestContext::ApiGatewayV1(context)) = &seen.context else {
        panic!("a REST API context: {:?}", seen.context);
    };
    assert_eq!(
        context.request_id.as_deref(),
        Some("41b45ea3-70b5-11e6-b7bd-69b5aaebc7d9")
    );
    assert_eq!(context.apiid.as_deref(), Some("wt6mne2s9k"));
}

/// `apigw_v2_proxy_request.json`: HTTP API, POST, no `host` header (the domain name is the
/// host), the `cookies` array as the `cookie` header, JWT claims.
fn apigw_http_proxy(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::ApiGatewayV2));
    assert_eq!(seen.method, "POST");
    assert_eq!(
        seen.uri,
        "https://id.execute-api.us-east-1.amazonaws.com/my/path?parameter1=value1&parameter1=value2&parameter2=value"
    );
    assert_eq!(seen.path, "/my/path");
    assert_eq!(seen.raw_path, "/my/path");
    assert_eq!(seen.stage.as_deref(), Some("$default"));
    assert_eq!(
        seen.query,
        pairs(&[
            ("parameter1", "value1"),
            ("parameter1", "value2"),
            ("parameter2", "value")
        ])
    );
    assert_eq!(
        seen.headers,
        pairs(&[
            ("header1", "value1"),
            ("header2", "value2"),
            ("cookie", "cookie1=value1; cookie2=value2")
        ])
    );
    assert_eq!(seen.body, b"Hello from Lambda");
    assert_eq!(seen.path_parameters, pairs(&[("parameter1", "value1")]));
    assert_eq!(
        seen.stage_variables,
        pairs(&[("stageVariable1", "value1"), ("stageVariable2", "value2")])
    );
    assert_eq!(
        seen.authorizer.as_ref().map(|a| &a["jwt"]["claims"]),
        Some(&json!({"claim1": "value1", "claim2": "value2"}))
    );
    let Some(RequestContext::ApiGatewayV2(context)) = &seen.context else {
        panic!("an HTTP API context: {:?}", seen.context);
    };
    let jwt = context
        .authorizer
        .as_ref()
        .and_then(|a| a.jwt.as_ref())
        .expect("a JWT authorizer");
    assert_eq!(jwt.claims["claim2"], "value2");
    assert_eq!(
        jwt.scopes.as_deref(),
        Some(&["scope1".to_owned(), "scope2".to_owned()][..])
    );
    assert_eq!(context.http.source_ip.as_deref(), Some("IP"));
    assert_eq!(context.time_epoch, 1_583_348_638_390);
}

/// `example-apigw-v2-request-jwt-authorizer.json`: GET, bare cookies, a client certificate.
fn apigw_http_jwt(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::ApiGatewayV2));
    assert_eq!(seen.method, "GET");
    assert_eq!(seen.header("cookie"), ["cookie1; cookie2"]);
    assert_eq!(seen.body, b"{\r\n\t\"a\": 1\r\n}");
    assert_eq!(seen.path_parameters, pairs(&[("proxy", "hello/world")]));
    let Some(RequestContext::ApiGatewayV2(context)) = &seen.context else {
        panic!("an HTTP API context: {:?}", seen.context);
    };
    let cert = &context
        .authentication
        .as_ref()
        .expect("mTLS authentication")
        .client_cert;
    let cert = cert.as_ref().expect("a client certificate");
    assert_eq!(cert.serial_number.as_deref(), Some("1"));
    assert_eq!(
        cert.validity.not_before.as_deref(),
        Some("Aug 29 00:28:21 2020 GMT")
    );
}

/// `example-apigw-v2-request-no-authorizer.json`: GET `/`, the `host` header, no body.
fn apigw_http_no_authorizer(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::ApiGatewayV2));
    assert_eq!(
        seen.uri,
        "https://aaaaaaaaaa.execute-api.us-west-2.amazonaws.com/"
    );
    assert!(seen.query.is_empty());
    assert_eq!(seen.headers.len(), 8);
    assert_eq!(seen.header("content-length"), ["0"]);
    assert_eq!(
        seen.header("x-amzn-trace-id"),
        ["Root=1-5e9f0c65-1de4d666d4dd26aced652b6c"]
    );
    assert!(seen.body.is_empty());
    assert_eq!(seen.authorizer, None);
    assert!(seen.path_parameters.is_empty() && seen.stage_variables.is_empty());
}

/// `lambda_function_url_request.json`: a Function URL (by its `lambda-url` domain); the
/// `cookie` header and the `cookies` array hold the same cookie, which is not doubled.
fn function_url(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::FunctionUrl));
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.uri,
        "https://id.lambda-url.eu-west-2.on.aws/my/path?parameter1=value1&parameter1=value2&parameter2=value"
    );
    assert_eq!(seen.header("cookie"), ["test=hi"]);
    assert_eq!(seen.headers.len(), 10);
    assert_eq!(seen.header("x-amzn-tls-version"), ["TLSv1.2"]);
    assert_eq!(seen.header("user-agent"), ["curl/7.68.0"]);
    let Some(RequestContext::FunctionUrl(context)) = &seen.context else {
        panic!("a Function URL context: {:?}", seen.context);
    };
    assert_eq!(context.domain_prefix.as_deref(), Some("id"));
    assert_eq!(context.request_id.as_deref(), Some("MIZRNhJtIAMEMDw="));
    assert_eq!(context.time_epoch, 1_673_437_534_837);
    assert_eq!(context.http.source_ip.as_deref(), Some("65.78.31.245"));
}

/// `alb_request.json`: an ALB event (by `requestContext.elb`), single-value headers.
fn alb(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::Alb));
    assert_eq!(seen.method, "GET");
    assert_eq!(
        seen.uri,
        "https://lambda-846800462-us-east-2.elb.amazonaws.com/?myKey=val2"
    );
    assert_eq!(seen.raw_path, "/");
    assert_eq!(seen.stage, None);
    assert_eq!(seen.query, pairs(&[("myKey", "val2")]));
    assert_eq!(seen.headers.len(), 10);
    assert_eq!(seen.header("cookie"), ["cookies"]);
    assert_eq!(seen.header("content-type"), ["text/plain"]);
    assert_eq!(seen.body, b"request_body");
    let Some(RequestContext::Alb(context)) = &seen.context else {
        panic!("an ALB context: {:?}", seen.context);
    };
    assert_eq!(
        context.elb.target_group_arn.as_deref(),
        Some(
            "arn:aws:elasticloadbalancing:region:123456789012:targetgroup/my-target-group/6d0ecf831eec9f09"
        )
    );
}

/// `example-alb-lambda-target-request-headers-only.json`: `x-forwarded-proto: http` makes
/// the scheme `http`.
fn alb_headers_only(seen: &Seen) {
    assert_eq!(seen.origin, Some(Origin::Alb));
    assert_eq!(
        seen.uri,
        "http://lambda-test-alb-1334523864.us-east-1.elb.amazonaws.com/?key=hello"
    );
    assert_eq!(seen.header("x-myheader"), ["123"]);
    assert_eq!(seen.header("connection"), ["keep-alive"]);
    assert!(seen.body.is_empty());
}

/// With the stage left out, the REST fixtures' paths are their resource paths.
#[test]
fn stage_left_out() {
    let (seen, _) = see_all(
        vec![
            fixture("example-apigw-request.json"),
            fixture("apigw_proxy_request.json"),
        ],
        false,
    );
    assert_eq!(seen[0].path, "/hello/world");
    assert_eq!(seen[1].path, "/hello");
    assert_eq!(
        seen[1].uri,
        "https://wt6mne2s9k.execute-api.us-west-2.amazonaws.com/hello?name=me"
    );
}

/// An ALB target group in multi-value mode sends only `multiValueHeaders` and
/// `multiValueQueryStringParameters`: the host, the scheme, every header value and the query
/// (as the client encoded it) are still found.
#[test]
fn alb_multi_value_mode() {
    let event = br#"{"requestContext": {"elb": {"targetGroupArn": "arn:tg"}}, "httpMethod": "GET",
        "path": "/a%20b", "isBase64Encoded": false, "body": "",
        "multiValueQueryStringParameters": {"q": ["x%20y", "2"], "e": [""]},
        "multiValueHeaders": {"host": ["lb.example.com"], "x-forwarded-proto": ["http"],
                              "accept": ["text/html", "application/json"]}}"#;
    let seen = crate::support::see(event.to_vec());
    assert_eq!(seen.origin, Some(Origin::Alb));
    assert_eq!(seen.uri, "http://lb.example.com/a%20b?q=x%20y&q=2&e=");
    assert_eq!(seen.header("accept"), ["text/html", "application/json"]);
    assert_eq!(seen.query, pairs(&[("q", "x y"), ("q", "2"), ("e", "")]));
    assert!(seen.body.is_empty());
}

/// A body marked `isBase64Encoded` reaches the handler decoded, byte for byte, from every
/// source; a text body is the text.
#[test]
fn base64_bodies_are_decoded() {
    let bytes: Vec<u8> = vec![0x00, 0x9F, 0x92, 0x96, 0xFF];
    let encoded = "AJ+Slv8=";
    let mut events = Vec::new();
    for name in [
        "example-apigw-request.json",
        "apigw_v2_proxy_request.json",
        "alb_request.json",
        "lambda_function_url_request.json",
    ] {
        let mut event = fixture_json(name);
        event["body"] = encoded.into();
        event["isBase64Encoded"] = true.into();
        events.push(crate::support::bytes(&event));
    }
    let (seen, _) = see_all(events, true);
    assert_eq!(seen.len(), 4);
    for seen in &seen {
        assert_eq!(seen.body, bytes, "{:?}", seen.origin);
        assert!(seen.body_is_binary);
    }
}
