//! Deferred work of a batch: per record, scoped to the record's result, and per batch, with
//! the outcome — all of it after the answer.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use coda_emulator::{Emulator, Invoke, NextReply};
use coda_handlers::batch::{Batch, Record, Sqs};
use coda_lambda::{Context, Diagnostic, Runtime};
use serde_json::Value;

use crate::support::{Seen, failed_ids, invoke, jobs};

/// Each record registers work for success and for failure: after the answer, the successful
/// records' success work runs and the failed records' failure work (a panicking record's
/// too, registered before it panicked), nothing else; `ctx.after` work runs either way, and
/// a record's scoped work follows the work it registered on the context.
#[test]
fn record_work_follows_the_record_result() {
    let ran = Seen::default();
    let sink = ran.clone();
    let handler =
        move |job: Value, record: &Record<Sqs>, ctx: &mut Context| -> Result<(), Diagnostic> {
            let id = record.id().to_owned();
            let (s, f, a) = (sink.clone(), sink.clone(), sink.clone());
            let (i1, i2, i3) = (id.clone(), id.clone(), id.clone());
            record.after_success(move |d| {
                s.push(format!(
                    "success {i1} answered={}",
                    d.answered_after().is_some()
                ))
            });
            record.after_failure(move |d| {
                f.push(format!("failure {i2} error={}", d.error().is_some()))
            });
            ctx.after(move |_| a.push(format!("always {i3}")));
            match job["do"].as_str() {
                Some("ok") => Ok(()),
                Some("fail") => Err("no".into()),
                _ => panic!("boom"),
            }
        };
    let out = invoke(
        Batch::sqs(handler),
        &jobs(&[("r1", "ok"), ("r2", "fail"), ("r3", "panic")]),
    );
    assert_eq!(failed_ids(&out.json()), ["r2", "r3"]);
    assert!(out.answered_before_deferred_finished());
    assert_eq!(
        ran.list(),
        [
            "always r1",
            "success r1 answered=true",
            "always r2",
            "failure r2 error=false",
            "always r3",
            "failure r3 error=false",
        ]
    );
    assert_eq!(out.deferred().ran, 6);
}

/// When every record failed the invocation fails, and the records' failure work still runs
/// after the error answer (it sees the error); their success work does not.
#[test]
fn failure_work_runs_after_an_all_failed_error() {
    let ran = Seen::default();
    let sink = ran.clone();
    let handler =
        move |_: Value, record: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
            let (s, f, id) = (sink.clone(), sink.clone(), record.id().to_owned());
            let id2 = id.clone();
            record.after_success(move |_| s.push(format!("success {id}")));
            record.after_failure(move |d| {
                f.push(format!(
                    "failure {id2} {}",
                    d.error()
                        .map(|e| e.error_type().to_owned())
                        .unwrap_or_default()
                ))
            });
            Err("no".into())
        };
    let out = invoke(Batch::sqs(handler), &jobs(&[("r1", "x"), ("r2", "x")]));
    assert!(out.error().is_some());
    assert_eq!(
        ran.list(),
        [
            "failure r1 Function.BatchProcessingError",
            "failure r2 Function.BatchProcessingError"
        ]
    );
}

/// The batch's outcome hook registers work for the whole batch, and the caller has the
/// answer before it runs: the closure waits until the test has seen the answer (a runtime
/// that ran it first would never answer, and the test's bounded wait would fail).
#[test]
fn batch_work_runs_after_the_answer() {
    let (seen_tx, seen_rx) = mpsc::channel::<()>();
    let seen_rx = Arc::new(Mutex::new(seen_rx));
    let acked = Seen::default();
    let sink = acked.clone();
    let batch = Batch::sqs(
        |job: Value, _: &Record<Sqs>, _: &mut Context| -> Result<(), Diagnostic> {
            if job["do"] == "ok" {
                Ok(())
            } else {
                Err("no".into())
            }
        },
    )
    .on_outcome(move |outcome, ctx| {
        let ids: Vec<String> = outcome.failures().iter().map(|f| f.id.clone()).collect();
        let (rx, sink) = (seen_rx.clone(), sink.clone());
        let (records, succeeded) = (outcome.records(), outcome.succeeded());
        ctx.after(move |_| -> Result<(), String> {
            rx.lock()
                .unwrap()
                .recv_timeout(std::time::Duration::from_secs(30))
                .map_err(|e| e.to_string())?;
            sink.push(format!("acked {ids:?} of {records}, {succeeded} ok"));
            Ok(())
        });
    });
    coda_emulator::testing::init_logger();
    let emulator = Emulator::builder().start().expect("emulator");
    let pending = emulator.invoke(Invoke::json(&jobs(&[
        ("a", "ok"),
        ("b", "fail"),
        ("c", "fail"),
    ])));
    emulator.script_next(NextReply::Status {
        status: 500,
        body: b"end".to_vec(),
    });
    let config = emulator.config();
    let runtime =
        std::thread::spawn(move || Runtime::new(config).publish_trace_id(false).run(batch));
    let answer = pending
        .answer(std::time::Duration::from_secs(30))
        .expect("answered while the work waits");
    assert_eq!(failed_ids(&answer.json().unwrap()), ["b", "c"]);
    assert!(acked.list().is_empty(), "the batch work has not run yet");
    seen_tx.send(()).unwrap();
    pending
        .finished(std::time::Duration::from_secs(30))
        .expect("finished");
    assert_eq!(acked.list(), [r#"acked ["b", "c"] of 3, 1 ok"#]);
    let _ = runtime.join();
}
