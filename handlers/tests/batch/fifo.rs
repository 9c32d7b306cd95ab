//! FIFO order: the first failure stops the batch, or only its message group.

use coda_handlers::batch::{Batch, Order, Record, Sqs};
use coda_lambda::{Context, Diagnostic};
use serde_json::Value;

use crate::support::{Seen, event, failed_ids, invoke, logged, message};

/// A handler that fails bodies `"fail"` and records every call.
fn handler(calls: Seen) -> impl FnMut(Value, &Record<Sqs>, &mut Context) -> Result<(), Diagnostic> {
    move |body: Value, record: &Record<Sqs>, _: &mut Context| {
        calls.push(record.id());
        match body.as_str() {
            Some("fail") => Err("failed".into()),
            _ => Ok(()),
        }
    }
}

fn batch(list: &[(&str, &str, Option<&str>)]) -> Value {
    event(
        list.iter()
            .map(|(id, body, group)| message(id, &Value::from(*body).to_string(), *group))
            .collect(),
    )
}

/// The short-circuit: the records after the first failure are not processed and are reported
/// failed with it, in order; a warning counts them.
#[test]
fn stop_at_first_failure() {
    let calls = Seen::default();
    let fifo = Batch::sqs(handler(calls.clone())).fifo(false);
    let event = batch(&[
        ("1", "ok", Some("a")),
        ("2", "fail", Some("a")),
        ("3", "ok", Some("b")),
        ("4", "ok", Some("a")),
    ]);
    let out = invoke(fifo, &event);
    assert_eq!(failed_ids(&out.json()), ["2", "3", "4"]);
    assert_eq!(calls.list(), ["1", "2"]);
    assert!(
        logged(
            &out,
            &["2 of 4 SQS records not processed", "StopAtFirstFailure"]
        ),
        "{:?}",
        out.logs()
    );

    // Independent records (the default) all run.
    let calls = Seen::default();
    let out = invoke(Batch::sqs(handler(calls.clone())), &event);
    assert_eq!(failed_ids(&out.json()), ["2"]);
    assert_eq!(calls.list(), ["1", "2", "3", "4"]);
}

/// A record that does not decode stops the batch too; the first record failing makes every
/// record failed, and the invocation fails as a whole.
#[test]
fn undecodable_record_stops_the_batch() {
    let calls = Seen::default();
    let mut bad = message("2", "{", Some("a"));
    bad["body"] = Value::from("{not json");
    let event = event(vec![
        message("1", "\"ok\"", Some("a")),
        bad,
        message("3", "\"ok\"", Some("a")),
    ]);
    let out = invoke(
        Batch::sqs(handler(calls.clone())).order(Order::StopAtFirstFailure),
        &event,
    );
    assert_eq!(failed_ids(&out.json()), ["2", "3"]);
    assert_eq!(calls.list(), ["1"]);

    let calls = Seen::default();
    let all = batch(&[("1", "fail", Some("a")), ("2", "ok", Some("a"))]);
    let out = invoke(Batch::sqs(handler(calls.clone())).fifo(false), &all);
    assert_eq!(
        out.error().expect("all failed").error_type(),
        "Function.BatchProcessingError"
    );
    assert_eq!(calls.list(), ["1"]);
}

/// Per group: a failure stops the later records of its `MessageGroupId` only; other groups
/// go on, and a group that failed later stops from there.
#[test]
fn per_message_group() {
    let calls = Seen::default();
    let fifo = Batch::sqs(handler(calls.clone())).fifo(true);
    let event = batch(&[
        ("a1", "ok", Some("A")),
        ("a2", "fail", Some("A")),
        ("b1", "ok", Some("B")),
        ("a3", "ok", Some("A")),
        ("b2", "fail", Some("B")),
        ("b3", "ok", Some("B")),
        ("c1", "ok", Some("C")),
        ("x1", "ok", None),
    ]);
    let out = invoke(fifo, &event);
    assert_eq!(failed_ids(&out.json()), ["a2", "a3", "b2", "b3"]);
    assert_eq!(calls.list(), ["a1", "a2", "b1", "b2", "c1", "x1"]);
    assert!(logged(
        &out,
        &["2 of 8 SQS records not processed", "PerGroup"]
    ));
}
