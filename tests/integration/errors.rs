//! What handler failures become (`docs/runtime-api.md` §4.1): the `/error` body, its readable
//! `errorType`, the `Lambda-Runtime-Function-Error-Type` header, and the loop going on.

use coda_emulator::Invoke;
use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;

use crate::support::{LIMIT, serve};

#[derive(Debug)]
struct OrderRejected {
    cents: u64,
}

impl std::fmt::Display for OrderRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "order of {} cents is over the limit", self.cents)
    }
}

impl std::error::Error for OrderRejected {}

/// Fails in the way the event names.
fn failing(event: Value, _: &mut Context) -> Result<Value, Diagnostic> {
    match event["fail"].as_str().unwrap_or_default() {
        "custom" => Err(OrderRejected { cents: 20_000 })?,
        "io" => Err(std::io::Error::other("disk full"))?,
        "str" => Err("plain message")?,
        "boxed" => Err(Box::<dyn std::error::Error + Send + Sync>::from(
            "boxed message",
        ))?,
        "chosen" => Err(Diagnostic::new("Function.PaymentDeclined", "card expired"))?,
        "parse" => {
            let n: u32 = "x".parse()?;
            Ok(json!(n))
        }
        "panic" => panic!("handler bug: index out of range"),
        _ => Ok(event),
    }
}

/// Posts the event and returns (recorded type, header as sent, body).
fn fail(served: &crate::support::Served, how: &str) -> (String, String, Value) {
    let answer = served
        .emulator
        .invoke(Invoke::json(&json!({"fail": how})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/vnd.aws.lambda.error+json")
    );
    (
        answer.function_error.clone().expect("an error"),
        answer.error_type_header.clone().unwrap_or_default(),
        answer.json().expect("a JSON error body"),
    )
}

/// §4.1: each kind of error gets a readable `errorType` (a type name, never with a leading
/// `&`), a header Lambda keeps (`Function.X`), Lambda's three body keys, and the cause chain.
#[test]
fn handler_errors_have_readable_types() {
    let served = serve(failing);
    let cases = [
        (
            "custom",
            "OrderRejected",
            "Function.OrderRejected",
            "order of 20000 cents is over the limit",
        ),
        ("io", "io::Error", "Function.IoError", "disk full"),
        ("str", "str", "Function.Unhandled", "plain message"),
        (
            "boxed",
            "Box<dyn Error + Send + Sync>",
            "Function.Unhandled",
            "boxed message",
        ),
        (
            "chosen",
            "Function.PaymentDeclined",
            "Function.PaymentDeclined",
            "card expired",
        ),
        (
            "parse",
            "ParseIntError",
            "Function.ParseIntError",
            "invalid digit found in string",
        ),
    ];
    for (how, error_type, header, message) in cases {
        let (recorded, sent, body) = fail(&served, how);
        assert_eq!(body["errorType"], error_type, "{how}");
        assert!(!body["errorType"].as_str().unwrap().starts_with('&'));
        assert_eq!(body["errorMessage"], message, "{how}");
        assert!(body["stackTrace"].is_array(), "{how}");
        assert_eq!(
            (sent.as_str(), recorded.as_str()),
            (header, header),
            "{how}"
        );
    }
    served.shutdown();
}

/// §9 #16: a panic is caught and reported as `Runtime.HandlerPanic`; the loop goes on.
#[test]
fn panics_are_reported_and_the_loop_continues() {
    let served = serve(failing);
    let (recorded, _, body) = fail(&served, "panic");
    assert_eq!(recorded, "Runtime.HandlerPanic");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("index out of range"),
        "{body}"
    );
    let after = served
        .emulator
        .invoke(Invoke::json(&json!({"ok": 1})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(after.json(), Some(json!({"ok": 1})));
    served.shutdown();
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Order {
    id: String,
    items: Vec<Item>,
}

#[derive(Deserialize, Debug)]
#[allow(dead_code)]
struct Item {
    sku: String,
    cents: u64,
}

/// §9 #10–#11: an event that does not decode is `Runtime.UnmarshalError`, with the JSON path
/// in the message, and the handler is not called; an empty event says so.
#[test]
fn undecodable_events_are_unmarshal_errors() {
    let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = calls.clone();
    let served = serve(move |order: Order, _: &mut Context| {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok::<_, Diagnostic>(order.id)
    });
    let bad =
        json!({"id": "o-1", "items": [{"sku": "a", "cents": 1}, {"sku": "b", "cents": "two"}]});
    let answer = served
        .emulator
        .invoke(Invoke::json(&bad))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(
        answer.function_error.as_deref(),
        Some("Runtime.UnmarshalError")
    );
    let d = answer.diagnostic().unwrap();
    assert_eq!(d.error_type(), "Runtime.UnmarshalError");
    assert!(d.message().contains("items[1].cents"), "{}", d.message());
    assert!(d.message().contains("Order"), "{}", d.message());
    let empty = served
        .emulator
        .invoke(Invoke::new(""))
        .answer(LIMIT)
        .unwrap();
    assert!(empty.diagnostic().unwrap().message().contains("empty"));
    let ok = served
        .emulator
        .invoke(Invoke::json(&json!({"id": "o-2", "items": []})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(ok.payload, br#""o-2""#);
    assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
    served.shutdown();
}

#[derive(serde::Serialize)]
struct Totals {
    totals: HashMap<Vec<i32>, i32>,
}

/// §4.1: output that cannot be serialized is `Runtime.MarshalError` naming where.
#[test]
fn unencodable_output_is_a_marshal_error() {
    let served = serve(|_: Value, _: &mut Context| {
        let totals = HashMap::from([(vec![1, 2], 3)]);
        Ok::<_, Diagnostic>(Totals { totals })
    });
    let answer = served
        .emulator
        .invoke(Invoke::new("{}"))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(
        answer.function_error.as_deref(),
        Some("Runtime.MarshalError")
    );
    assert!(answer.diagnostic().unwrap().message().contains("totals"));
    served.shutdown();
}
