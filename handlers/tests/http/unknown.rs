//! Events that are no HTTP events fail the invocation with one clear error: the sources
//! expected and the keys the event lacks, never serde's "did not match any variant of
//! untagged enum". The handler is never called.

use coda_emulator::Invoke;
use coda_emulator::testing;
use coda_handlers::http::{Adapter, AdapterError, Request, request_from_event};
use coda_lambda::{Context, Diagnostic};

fn never_called() -> Adapter<impl FnMut(Request, &mut Context) -> Result<&'static str, Diagnostic>>
{
    Adapter::new(
        |_: Request, _: &mut Context| -> Result<&'static str, Diagnostic> {
            panic!("the handler must not be called")
        },
    )
}

/// The error posted for each payload, through one loop.
fn errors(payloads: &[&[u8]]) -> Vec<Diagnostic> {
    testing::run(
        never_called(),
        payloads.iter().map(|p| Invoke::new(*p)).collect(),
    )
    .iter()
    .map(|o| o.error().expect("the invocation failed"))
    .collect()
}

/// An SQS event, an S3 event and an empty object: `Runtime.UnmarshalError` naming every
/// source and the keys each lacks, and the event's own keys.
#[test]
fn other_events_name_sources_and_missing_keys() {
    let sqs = br#"{"Records": [{"messageId": "1", "body": "hi", "eventSource": "aws:sqs"}]}"#;
    let eventbridge = br#"{"version": "0", "id": "x", "detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}"#;
    let errors = errors(&[sqs, eventbridge, b"{}"]);
    for error in &errors {
        assert_eq!(error.error_type(), "Runtime.UnmarshalError");
        let message = error.message();
        for expected in [
            "API Gateway REST API (payload 1.0): no `httpMethod`, `path`, `requestContext`",
            "API Gateway HTTP API or Function URL (payload 2.0): no `version`, `rawPath`, `requestContext.http`",
            "ALB target group: no `httpMethod`, `path`, `requestContext.elb`",
        ] {
            assert!(message.contains(expected), "{message}");
        }
        assert!(!message.contains("untagged"), "{message}");
        assert!(!message.contains("variant"), "{message}");
    }
    assert!(
        errors[0].message().contains("its keys are `Records`"),
        "{}",
        errors[0].message()
    );
    assert!(
        errors[1].message().contains("`detail-type`"),
        "{}",
        errors[1].message()
    );
    assert!(errors[2].message().contains("the event has no keys"));
}

/// Only the keys really missing are named: an event with `path` and a `requestContext` but
/// no method.
#[test]
fn only_missing_keys_are_named() {
    let event = br#"{"path": "/x", "requestContext": {"stage": "prod"}}"#;
    let message = errors(&[event]).remove(0).message().to_owned();
    assert!(
        message.contains("API Gateway REST API (payload 1.0): no `httpMethod`;"),
        "{message}"
    );
    assert!(
        message.contains("ALB target group: no `httpMethod`, `requestContext.elb`"),
        "{message}"
    );
}

/// Not JSON, not an object, a field of the wrong type, a payload 2.0 event without its
/// method: each a clear message; the cause (the JSON decoder's words) goes to the stack
/// trace, not the message.
#[test]
fn malformed_events() {
    let errors = errors(&[
        b"not json",
        b"[1, 2]",
        br#"{"version": "2.0", "rawPath": "/", "requestContext": {"http": {"method": "GET"}}, "headers": {"a": ["x"]}}"#,
        br#"{"version": "2.0", "rawPath": "/", "requestContext": {"http": {}}}"#,
        br#"{"httpMethod": "GE T", "path": "/", "requestContext": {}}"#,
    ]);
    assert!(
        errors[0].message().starts_with("the event is not JSON"),
        "{}",
        errors[0].message()
    );
    assert!(
        errors[0].stack_trace()[0].starts_with("caused by: expected"),
        "{:?}",
        errors[0].stack_trace()
    );
    assert!(
        errors[1]
            .message()
            .starts_with("the event is a JSON array, not an object")
    );
    assert_eq!(
        errors[2].message(),
        "could not decode the API Gateway HTTP API (payload 2.0) event at `headers.a`: that \
         field does not have the type the source sends"
    );
    assert!(
        errors[2].stack_trace()[0].contains("invalid type"),
        "{:?}",
        errors[2].stack_trace()
    );
    assert_eq!(
        errors[3].message(),
        "the API Gateway HTTP API (payload 2.0) event has no `requestContext.http.method`: the \
         request cannot be built without it"
    );
    assert!(
        errors[4]
            .message()
            .contains("\"GE T\" is not a valid HTTP method")
    );
}

/// The same errors from `request_from_event`, as matchable variants.
#[test]
fn errors_are_matchable() {
    assert!(matches!(
        request_from_event(b""),
        Err(AdapterError::NotJson { .. })
    ));
    assert!(matches!(
        request_from_event(b"{\"Records\": []}"),
        Err(AdapterError::UnknownEvent { keys, .. }) if keys == ["Records"]
    ));
    // Lenient where it costs nothing: a number where a string is expected is its text.
    let lenient = request_from_event(
        br#"{"httpMethod": "GET", "path": 5, "requestContext": {"elb": {"targetGroupArn": 1}}}"#,
    );
    assert_eq!(lenient.unwrap().uri(), "/5");
    assert!(matches!(
        request_from_event(br#"{"httpMethod": "GET", "body": "@", "isBase64Encoded": true}"#),
        Err(AdapterError::InvalidBase64 { .. })
    ));
}
