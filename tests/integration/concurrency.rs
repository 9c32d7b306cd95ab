//! Lambda Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` > 1, `docs/runtime-api.md` §6):
//! N workers in one process, each with its own connection and loop. Batches are sent only
//! when every worker is parked on `/next` (the emulator counts `/next` calls), since in this
//! mode Lambda turns an invocation away when no worker is idle; the invocations of a batch
//! wait for each other in the handler (a barrier), so each is on a worker of its own.

use coda_emulator::{Emulator, Invoke, NextReply, PendingInvocation};
use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};
use std::collections::HashSet;
use std::sync::{Arc, Barrier};

use crate::support::{LIMIT, fixture, serve_concurrent, spawn_function, wait_exit};

const WORKERS: usize = 4;

/// Sends one batch of `events` once `parked` `/next` calls have arrived in all.
fn batch(emulator: &Emulator, parked: usize, events: &[Value]) -> Vec<PendingInvocation> {
    emulator
        .wait_next_calls(parked, LIMIT)
        .expect("the workers park on /next");
    events
        .iter()
        .map(|event| emulator.invoke(Invoke::json(event)))
        .collect()
}

/// Four workers serve interleaved invocations in a child process: each answer is its own
/// invocation's (request id, trace id), the four of a batch are served by four different
/// workers at once, the process environment is never touched (`_X_AMZN_TRACE_ID` stays
/// unset), and every JSON log line carries the request id of the invocation it was written
/// for.
#[test]
fn four_workers_without_cross_talk() {
    let emulator = Emulator::builder().concurrency(WORKERS).start().unwrap();
    let child = spawn_function(
        fixture(),
        &emulator,
        &[
            ("CODA_FIXTURE", "concurrent"),
            ("AWS_LAMBDA_LOG_FORMAT", "JSON"),
        ],
    );
    let mut seen = Vec::new();
    for round in 0..5 {
        let events = vec![json!({"round": round, "meet": WORKERS}); WORKERS];
        let pending = batch(&emulator, WORKERS * (round + 1), &events);
        let mut workers = HashSet::new();
        for p in &pending {
            let answer = p.answer(LIMIT).unwrap();
            let body = answer.json().unwrap();
            assert_eq!(body["request_id"], p.request_id(), "{body}");
            assert!(
                body["trace_id"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Root=")),
                "{body}"
            );
            assert_eq!(
                body["env_trace_id"],
                Value::Null,
                "the environment is never touched"
            );
            workers.insert(body["worker"].as_u64().unwrap());
            seen.push(p.request_id().to_owned());
        }
        assert_eq!(
            workers.len(),
            WORKERS,
            "a batch of {WORKERS} is served by {WORKERS} workers"
        );
    }
    emulator.wait_next_calls(WORKERS * 6, LIMIT).unwrap();
    drop(emulator);
    let exited = wait_exit(child);
    assert!(!exited.status.success(), "no worker left: a non-zero exit");
    let mut handled = 0;
    for line in exited.stderr.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let message = v["message"].as_str().unwrap_or_default();
        if let Some(id) = message.strip_prefix("handling ") {
            assert_eq!(
                v["requestId"], id,
                "a line written for {id} carries its id: {line}"
            );
            handled += 1;
        }
    }
    assert_eq!(handled, seen.len(), "{}", exited.stderr);
}

/// A handler that panics in one worker reports `Runtime.HandlerPanic`; that worker and the
/// others go on serving.
#[test]
fn a_panic_in_one_worker() {
    let meet = Arc::new(Barrier::new(WORKERS));
    let served = serve_concurrent(
        Emulator::builder().concurrency(WORKERS),
        move |event: Value, ctx: &mut Context| -> Result<Value, Diagnostic> {
            meet.wait();
            if event["panic"] == true {
                panic!("worker bug");
            }
            Ok(json!(ctx.worker()))
        },
    );
    let first = batch(
        &served.emulator,
        WORKERS,
        &[json!({"panic": true}), json!({}), json!({}), json!({})],
    );
    let answers: Vec<_> = first.iter().map(|p| p.answer(LIMIT).unwrap()).collect();
    assert_eq!(
        answers[0].function_error.as_deref(),
        Some("Runtime.HandlerPanic")
    );
    assert!(answers[1..].iter().all(|a| !a.is_error()));
    let second = batch(&served.emulator, WORKERS * 2, &vec![json!({}); WORKERS]);
    let workers: HashSet<u64> = second
        .iter()
        .map(|p| p.answer(LIMIT).unwrap().json().unwrap().as_u64().unwrap())
        .collect();
    assert_eq!(
        workers.len(),
        WORKERS,
        "every worker, the one that panicked too, serves"
    );
}

/// A worker whose connection fails (its `/next` is closed without an answer) is logged and
/// connects again after a pause while the others serve; then all of them serve again.
#[test]
fn a_failing_connection_in_one_worker() {
    let meet = Arc::new(Barrier::new(WORKERS));
    let served = serve_concurrent(
        Emulator::builder().concurrency(WORKERS),
        move |_: Value, ctx: &mut Context| {
            meet.wait();
            Ok::<_, Diagnostic>(json!(ctx.worker()))
        },
    );
    served.emulator.wait_next_calls(WORKERS, LIMIT).unwrap();
    served.emulator.script_next(NextReply::Close);
    // The closed worker comes back with a new connection: one more /next than the workers.
    served.emulator.wait_next_calls(WORKERS + 1, LIMIT).unwrap();
    let pending = batch(&served.emulator, WORKERS + 1, &vec![json!({}); WORKERS]);
    let workers: HashSet<u64> = pending
        .iter()
        .map(|p| p.answer(LIMIT).unwrap().json().unwrap().as_u64().unwrap())
        .collect();
    assert_eq!(workers.len(), WORKERS);
}

/// With a concurrency of 1, `run_concurrent` serves on the calling thread, one at a time.
#[test]
fn one_worker_is_the_plain_loop() {
    let served = serve_concurrent(Emulator::builder(), |_: Value, ctx: &mut Context| {
        Ok::<_, Diagnostic>(json!(ctx.worker()))
    });
    let pending = served.emulator.invoke(Invoke::new("{}"));
    assert_eq!(pending.answer(LIMIT).unwrap().payload, b"0");
    served.shutdown();
}
