//! The `sqs-batch` example: jobs that succeed, fail, panic or do not decode, and `SQS_FIFO`.

use coda_handlers::batch::Order;

use crate::sqs_batch_example::{app, order};
use crate::support::{event, failed_ids, invoke, jobs, logged, message};

/// Mixed jobs: the failed, panicked and undecodable ones are reported; the successful ones
/// and the batch write their lines after the answer.
#[test]
fn sqs_batch_reports_failures() {
    let mut records = jobs(&[
        ("m-1", "ok"),
        ("m-2", "fail"),
        ("m-3", "panic"),
        ("m-4", "ok"),
    ])["Records"]
        .as_array()
        .unwrap()
        .clone();
    records.push(message("m-5", r#"{"id": 5, "do": "dance"}"#, None));
    let out = invoke(app(Order::Independent), &event(records));
    assert_eq!(failed_ids(&out.json()), ["m-2", "m-3", "m-5"]);
    assert!(logged(&out, &["job 1 done (message m-1)"]));
    assert!(logged(&out, &["job 4 done (message m-4)"]));
    assert!(logged(
        &out,
        &["acknowledged 3 of 5 failed", "[\"m-2\", \"m-3\", \"m-5\"]"]
    ));
    assert!(logged(&out, &["m-3", "panicked: job 3 asked to panic"]));
    assert!(logged(
        &out,
        &["SQS record m-2 (2 of 5) failed: Function.JobFailed: job 2 asked to fail"]
    ));
    assert!(logged(&out, &["m-5", "unknown variant `dance`"]));
    assert!(out.answered_before_deferred_finished());
}

/// `SQS_FIFO=1`: the short-circuit; `SQS_FIFO=group`: per message group.
#[test]
fn sqs_fifo_variable() {
    assert_eq!(order(Some("1")), Order::StopAtFirstFailure);
    assert_eq!(order(Some("group")), Order::PerGroup);
    assert_eq!(order(None), Order::Independent);
    assert_eq!(order(Some("0")), Order::Independent);
    let batch = jobs(&[("m-1", "ok"), ("m-2", "fail"), ("m-3", "ok")]);
    let out = invoke(app(order(Some("1"))), &batch);
    assert_eq!(failed_ids(&out.json()), ["m-2", "m-3"]);
    assert!(!logged(&out, &["job 3 done"]));
    let out = invoke(app(order(None)), &batch);
    assert_eq!(failed_ids(&out.json()), ["m-2"]);
    // Every job failed: the invocation fails as a whole.
    let out = invoke(
        app(order(None)),
        &jobs(&[("m-1", "fail"), ("m-2", "panic")]),
    );
    assert_eq!(
        out.error().unwrap().error_type(),
        "Function.BatchProcessingError"
    );
}
