//! SQS batches through the real loop: mixed outcomes (ok, error, panic, undecodable, not a
//! message), the all-failed policy, and events that are no batch.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use coda_emulator::Invoke;
use coda_emulator::testing;
use coda_handlers::batch::{AllFailed, Batch, Record, Sqs};
use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;
use serde_json::json;

use crate::support::{Seen, event, failed_ids, invoke, jobs, logged, message};

#[derive(Deserialize)]
struct Job {
    id: u32,
    #[serde(rename = "do")]
    action: String,
}

/// A handler that succeeds on `ok`, fails on `fail`, panics on `panic`, recording each call.
fn jobs_handler(
    calls: Seen,
) -> impl FnMut(Job, &Record<Sqs>, &mut Context) -> Result<(), Diagnostic> {
    move |job: Job, record: &Record<Sqs>, _: &mut Context| {
        calls.push(format!("{} {}", record.id(), job.id));
        match job.action.as_str() {
            "ok" => Ok(()),
            "fail" => Err(Diagnostic::new(
                "Function.JobFailed",
                format!("job {} failed", job.id),
            )),
            _ => panic!("job {} panicked", job.id),
        }
    }
}

/// Ok, error, panic, a body that is not a job, a record whose fields have the wrong types:
/// each failure is that record's only, in the batch's order; the handler runs for every
/// record that decodes, the ones after a panic included; each failure has a log line naming
/// its id; and the loop serves the next batch.
#[test]
fn mixed_outcomes_fail_only_their_records() {
    let calls = Seen::default();
    let mut broken = message("m-6", "{}", None);
    broken["attributes"] = json!(42);
    let batch = event(vec![
        message("m-1", r#"{"id": 1, "do": "ok"}"#, None),
        message("m-2", r#"{"id": 2, "do": "fail"}"#, None),
        message("m-3", r#"{"id": 3, "do": "panic"}"#, None),
        message("m-4", r#"{"id": 4, "do": "ok"}"#, None),
        message("m-5", r#"{"id": "five"}"#, None),
        broken,
        message("m-7", r#"{"id": 7, "do": "ok"}"#, None),
    ]);
    let outcomes = testing::run(
        Batch::sqs(jobs_handler(calls.clone())),
        vec![
            Invoke::json(&batch),
            Invoke::json(&jobs(&[("n-1", "fail"), ("n-2", "ok")])),
        ],
    );
    let out = &outcomes[0];
    assert_eq!(failed_ids(&out.json()), ["m-2", "m-3", "m-5", "m-6"]);
    assert_eq!(
        calls.list()[..5],
        ["m-1 1", "m-2 2", "m-3 3", "m-4 4", "m-7 7"]
    );
    assert!(logged(
        out,
        &[
            "SQS record m-2 (2 of 7) failed",
            "Function.JobFailed: job 2 failed"
        ]
    ));
    assert!(logged(
        out,
        &["SQS record m-3 (3 of 7) failed", "panicked: job 3 panicked"]
    ));
    assert!(logged(
        out,
        &[
            "SQS record m-5 (5 of 7) failed",
            "does not decode",
            "not JSON of type",
            "Job",
            "invalid type: string \"five\""
        ]
    ));
    assert!(logged(
        out,
        &["SQS record m-6 (6 of 7)", "not a well-formed SQS record"]
    ));
    assert!(logged(
        out,
        &["4 of 7 records failed, reported in batchItemFailures"]
    ));
    // The next invocation, in the same loop.
    assert_eq!(failed_ids(&outcomes[1].json()), ["n-1"]);
    assert_eq!(calls.list().len(), 7);
}

/// By default a batch whose every record failed fails the invocation, with each record's
/// error in the stack trace; `AllFailed::Report` answers them all instead. One success is
/// enough for a normal answer.
#[test]
fn all_failed_policy() {
    let all_fail = jobs(&[("a", "fail"), ("b", "panic"), ("c", "fail")]);
    let out = invoke(Batch::sqs(jobs_handler(Seen::default())), &all_fail);
    let error = out.error().expect("the invocation fails");
    assert_eq!(error.error_type(), "Function.BatchProcessingError");
    assert_eq!(
        error.message(),
        "all 3 records of the SQS batch failed: the invocation fails so that the event source \
         mapping retries the batch (its retry and dead-letter settings apply); each record's \
         error is below"
    );
    assert_eq!(
        error.stack_trace(),
        [
            "record a: Function.JobFailed: job 1 failed",
            "record b: the record handler panicked: job 2 panicked",
            "record c: Function.JobFailed: job 3 failed",
        ]
    );
    assert_eq!(
        out.answer().error_type_header.as_deref(),
        Some("Function.BatchProcessingError")
    );

    let report = Batch::sqs(jobs_handler(Seen::default())).when_all_fail(AllFailed::Report);
    let out = invoke(report, &all_fail);
    assert_eq!(failed_ids(&out.json()), ["a", "b", "c"]);

    let one_ok = jobs(&[("a", "fail"), ("b", "ok")]);
    let out = invoke(Batch::sqs(jobs_handler(Seen::default())), &one_ok);
    assert_eq!(failed_ids(&out.json()), ["a"]);
}

/// An empty batch is answered with no failures (and is not "all failed").
#[test]
fn empty_batch() {
    let out = invoke(Batch::sqs(jobs_handler(Seen::default())), &event(vec![]));
    assert_eq!(out.json(), json!({"batchItemFailures": []}));
}

/// Events that are no batch fail the invocation as `Runtime.UnmarshalError` with one message
/// saying what was expected.
#[test]
fn events_that_are_no_batch() {
    let cases = [
        (
            Invoke::new("not json"),
            "the event is not JSON: this function expects the event of SQS, `{\"Records\": [...]}`",
        ),
        (
            Invoke::json(&json!({"httpMethod": "GET", "path": "/"})),
            "the event has no `Records` array, so it is no batch of SQS (its keys are `httpMethod`, `path`): invoke the function through its event source mapping",
        ),
        (
            Invoke::json(&json!({"Records": {"messageId": "m"}})),
            "the event has no `Records` array, so it is no batch of SQS (its keys are `Records`): invoke the function through its event source mapping",
        ),
        (
            Invoke::json(&json!([1, 2])),
            "the event has no `Records` array, so it is no batch of SQS: invoke the function through its event source mapping",
        ),
    ];
    for (invoke, message) in cases {
        let out = testing::invoke_with(Batch::sqs(jobs_handler(Seen::default())), invoke);
        let error = out.error().expect("fails");
        assert_eq!(error.error_type(), "Runtime.UnmarshalError");
        assert_eq!(error.message(), message);
    }
}

/// A record without an item identifier (here a Kinesis record sent to an SQS function) could
/// not be reported alone: the invocation fails before any record is processed, so none is
/// processed twice when the batch comes back.
#[test]
fn record_without_an_item_identifier_fails_the_batch_before_processing() {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let handler =
        move |_: serde_json::Value, _: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(())
        };
    let batch = event(vec![
        message("m-1", "{}", None),
        json!({"eventSource": "aws:kinesis", "kinesis": {"sequenceNumber": "1", "data": ""}}),
    ]);
    let out = invoke(Batch::sqs(handler), &batch);
    let error = out.error().expect("fails");
    assert_eq!(error.error_type(), "Runtime.UnmarshalError");
    assert_eq!(
        error.message(),
        "record 1 of the SQS batch has no item identifier at `/messageId`: it could not be \
         reported failed on its own, so the whole batch fails before any record is processed; \
         its eventSource is \"aws:kinesis\": check that the function is fed by SQS"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0);
}
