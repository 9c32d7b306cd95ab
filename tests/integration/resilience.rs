//! Deferred work that does not go well: retries inside the budget, hand-offs to the sink,
//! carry-over to the next answer, the bound on detached threads, and a deferred-work thread
//! that could not start (the contract in `coda_lambda::Deferred`'s module; `docs/runtime-api.md`
//! §7). Waits are on channels and the emulator's conditions, never on sleeps.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coda_emulator::{Emulator, Invoke};
use coda_lambda::{Context, Deferred, DeferredOutcome, Diagnostic, HandOff, IfUnfinished};
use serde_json::{Value, json};

use crate::support::{LIMIT, serve_with};

/// A sink that sends every hand-off to the test.
fn sink() -> (
    impl FnMut(&HandOff) + Send + 'static,
    mpsc::Receiver<HandOff>,
) {
    let (tx, rx) = mpsc::channel();
    (move |h: &HandOff| tx.send(h.clone()).unwrap(), rx)
}

/// A named write that fails twice and asks for three attempts runs on the third: one closure,
/// `ran`, three attempts counted, each failed attempt logged with the request id.
#[test]
fn retries_until_success() {
    let out = coda_emulator::testing::invoke(
        |_: Value, ctx: &mut Context| {
            let mut failures = 2;
            ctx.deferred("audit-write")
                .attempts(3)
                .backoff(Duration::from_millis(5))
                .after(move |_| {
                    if failures > 0 {
                        failures -= 1;
                        return Err("store unavailable");
                    }
                    Ok(())
                });
            Ok::<_, Diagnostic>("ok")
        },
        json!({}),
    );
    let d = out.deferred();
    assert_eq!((d.ran, d.failed, d.attempts, d.handed_off), (1, 0, 3, 0));
    let logs = out.logs().join("\n");
    assert!(
        logs.contains("audit-write attempt 1 of 3 failed: store unavailable"),
        "{logs}"
    );
    assert!(logs.contains("audit-write attempt 2 of 3 failed"), "{logs}");
    assert!(logs.contains("ran on attempt 3 of 3"), "{logs}");
}

/// Retries exhausted: the last error is the outcome, and the sink gets the job with its name,
/// outcome and attempts.
#[test]
fn exhausted_retries_reach_the_sink() {
    let (sink, handed) = sink();
    let served = serve_with(
        Emulator::builder(),
        |r| r.on_unfinished(sink),
        |_: Value, ctx: &mut Context| {
            let mut n = 0;
            ctx.deferred("audit-write")
                .attempts(3)
                .backoff(Duration::from_millis(1))
                .after(move |_| {
                    n += 1;
                    Err::<(), _>(format!("refusal {n}"))
                });
            Ok::<_, Diagnostic>("ok")
        },
    );
    let pending = served
        .emulator
        .invoke(Invoke::new("{}").request_id("exhausted-1"));
    pending.finished(LIMIT).unwrap();
    let report = served.report();
    assert_eq!(
        (
            report.deferred.failed,
            report.deferred.attempts,
            report.deferred.handed_off
        ),
        (1, 3, 1)
    );
    let h = handed.recv_timeout(LIMIT).unwrap();
    assert_eq!(
        (h.request_id.as_str(), h.name.as_str(), h.attempts),
        ("exhausted-1", "audit-write", 3)
    );
    assert_eq!(h.outcome, DeferredOutcome::Failed("refusal 3".into()));
    served.shutdown();
}

/// Retries stop when the budget cannot hold another attempt: two attempts of five, the hand-off
/// saying why, and the invocation ends before its deadline.
#[test]
fn retries_are_cut_by_the_budget() {
    let (sink, handed) = sink();
    let served = serve_with(
        Emulator::builder(),
        |r| {
            r.deferred_margin(Duration::from_millis(100))
                .on_unfinished(sink)
        },
        |_: Value, ctx: &mut Context| {
            ctx.deferred("flush")
                .attempts(5)
                .backoff(Duration::from_millis(300))
                .after(|_| Err::<(), _>("down"));
            Ok::<_, Diagnostic>("ok")
        },
    );
    // Budget: 600 ms - 100 ms margin. Attempt 1 at ~0 ms; the 300 ms pause fits; attempt 2 at
    // ~300 ms; a 600 ms pause does not.
    let pending = served
        .emulator
        .invoke(Invoke::new("{}").deadline_in(Duration::from_millis(600)));
    let finished = pending.finished(LIMIT).unwrap();
    assert_eq!(finished.ending, coda_emulator::Ending::Completed);
    let h = handed.recv_timeout(LIMIT).unwrap();
    assert_eq!(h.attempts, 2, "{h}");
    assert!(
        h.note
            .as_deref()
            .unwrap_or_default()
            .contains("retries cut by the budget after 2 of 5"),
        "{h}"
    );
    served.shutdown();
}

/// Each kind of job that cannot finish reaches the sink: failed, panicked, overran (detached at
/// the budget) and skipped (its turn came after the budget was spent); a dropped one is only
/// counted. The margin is wide (600 ms, so the sinks have 300 ms after the budget): on a
/// loaded machine a new deferred-work thread can take tens of milliseconds to start, and a
/// sink that cannot start in time is logged instead of called.
#[test]
fn every_kind_of_unfinished_job_reaches_the_sink() {
    let (sink, handed) = sink();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let served = serve_with(
        Emulator::builder(),
        |r| {
            r.deferred_margin(Duration::from_millis(600))
                .on_unfinished(sink)
        },
        move |_: Value, ctx: &mut Context| {
            ctx.deferred("fails")
                .after(|_| Err::<(), _>("cache write failed"));
            ctx.deferred("panics")
                .after(|_| -> () { panic!("flush exploded") });
            let release = release_rx.clone();
            ctx.deferred("blocks").after(move |_| {
                let _ = release.lock().unwrap().recv_timeout(LIMIT);
            });
            ctx.deferred("too-late").after(|_| ());
            ctx.deferred("dropped")
                .if_unfinished(IfUnfinished::Drop)
                .after(|_| ());
            Ok::<_, Diagnostic>("ok")
        },
    );
    served
        .emulator
        .invoke(Invoke::new("{}").deadline_in(Duration::from_millis(2000)))
        .finished(LIMIT)
        .unwrap();
    let report = served.report();
    let d = report.deferred;
    assert_eq!(
        (d.failed, d.panicked, d.overran, d.skipped, d.handed_off),
        (1, 1, 1, 2, 4)
    );
    let got: Vec<(String, &'static str)> = (0..4)
        .map(|_| handed.recv_timeout(LIMIT).unwrap())
        .map(|h| (h.name, h.outcome.name()))
        .collect();
    assert_eq!(
        got,
        [
            ("fails".to_owned(), "failed"),
            ("panics".to_owned(), "panicked"),
            ("blocks".to_owned(), "overran"),
            ("too-late".to_owned(), "skipped"),
        ]
    );
    assert!(
        handed.try_recv().is_err(),
        "the dropped job is not handed off"
    );
    release_tx.send(()).unwrap();
    served.shutdown();
}

/// A panicking sink is isolated: the hand-off is still logged, and the loop and the next
/// invocation go on.
#[test]
fn a_panicking_sink_is_isolated() {
    let out = coda_emulator::testing::Harness::new()
        .runtime(|r| r.on_unfinished(|_| panic!("the sink broke")))
        .run(
            |_: Value, ctx: &mut Context| {
                ctx.deferred("fails").after(|_| Err::<(), _>("nope"));
                Ok::<_, Diagnostic>("ok")
            },
            vec![Invoke::new("{}"), Invoke::new("{}")],
        );
    assert_eq!(out.len(), 2);
    for outcome in &out {
        assert_eq!(outcome.json(), json!("ok"));
        let logs = outcome.logs().join("\n");
        assert!(logs.contains("the sink panicked: the sink broke"), "{logs}");
        assert!(
            logs.contains(r#""name":"fails""#),
            "the hand-off is logged: {logs}"
        );
    }
}

/// Work marked to carry over that never started (the budget was spent) runs after the next
/// invocation's answer, in the same process, and is counted there.
#[test]
fn carried_work_runs_after_the_next_answer() {
    let (ran_tx, ran_rx) = mpsc::channel::<String>();
    let ran_tx = Arc::new(Mutex::new(ran_tx));
    let (seen_tx, seen_rx) = mpsc::channel::<()>();
    let seen_rx = Arc::new(Mutex::new(seen_rx));
    let served = serve_with(
        Emulator::builder(),
        |r| r.deferred_margin(Duration::from_millis(500)),
        move |event: Value, ctx: &mut Context| {
            if event["carry"] == true {
                let ran = ran_tx.clone();
                let seen = seen_rx.clone();
                ctx.deferred("carried-write")
                    .if_unfinished(IfUnfinished::CarryOver)
                    .after(move |d: &Deferred| {
                        // It runs only once the test saw the next invocation's answer.
                        seen.lock()
                            .unwrap()
                            .recv_timeout(LIMIT)
                            .map_err(|_| "never seen")?;
                        ran.lock().unwrap().send(d.request_id().to_owned()).unwrap();
                        Ok::<_, &str>(())
                    });
            }
            Ok::<_, Diagnostic>(ctx.request_id().to_owned())
        },
    );
    // Deadline 300 ms, margin 500 ms: the budget is spent before the work's turn.
    served
        .emulator
        .invoke(
            Invoke::json(&json!({"carry": true}))
                .request_id("first")
                .deadline_in(Duration::from_millis(300)),
        )
        .finished(LIMIT)
        .unwrap();
    let first = served.report();
    assert_eq!((first.deferred.carried, first.deferred.skipped), (1, 0));
    let second = served.emulator.invoke(
        Invoke::new("{}")
            .request_id("second")
            .deadline_in(Duration::from_secs(10)),
    );
    assert_eq!(second.answer(LIMIT).unwrap().payload, br#""second""#);
    seen_tx.send(()).unwrap();
    assert_eq!(
        ran_rx.recv_timeout(LIMIT).unwrap(),
        "first",
        "it keeps its own request id"
    );
    second.finished(LIMIT).unwrap();
    let report = served.report();
    assert_eq!((report.deferred.ran, report.deferred.carried), (1, 0));
    served.shutdown();
}

/// At the detached-work limit no new work starts: it is skipped with the reason and handed
/// off, the invocation ends at once, and work starts again once a detached closure ends.
#[test]
fn the_detached_work_bound() {
    let (sink, handed) = sink();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let (ended_tx, ended_rx) = mpsc::channel::<()>();
    let served = serve_with(
        Emulator::builder(),
        |r| {
            r.deferred_margin(Duration::from_millis(100))
                .max_detached(1)
                .on_unfinished(sink)
        },
        move |event: Value, ctx: &mut Context| {
            if event["block"] == true {
                let release = release_rx.clone();
                let ended = ended_tx.clone();
                ctx.deferred("stuck").after(move |_| {
                    let _ = release.lock().unwrap().recv_timeout(LIMIT);
                    let _ = ended.send(());
                });
            } else {
                ctx.deferred("quick").after(|_| ());
            }
            Ok::<_, Diagnostic>("ok")
        },
    );
    let invoke = |event: Value| {
        served
            .emulator
            .invoke(Invoke::json(&event).deadline_in(Duration::from_millis(400)))
            .finished(LIMIT)
            .unwrap();
        served.report()
    };
    let stuck = invoke(json!({"block": true}));
    assert_eq!(stuck.deferred.overran, 1);
    assert_eq!(handed.recv_timeout(LIMIT).unwrap().name, "stuck");
    // The limit (1) is reached: the next closure is not started.
    let refused = invoke(json!({}));
    assert_eq!((refused.deferred.skipped, refused.deferred.ran), (1, 0));
    let h = handed.recv_timeout(LIMIT).unwrap();
    assert_eq!((h.name.as_str(), h.outcome.name()), ("quick", "skipped"));
    assert!(
        h.note
            .as_deref()
            .unwrap_or_default()
            .contains("1 detached closures are still running"),
        "{h}"
    );
    // The stuck closure ends: work starts again. Its thread leaves the count as the closure
    // returns, just after the signal above, so invoke until work runs (each a real round
    // trip; bounded).
    release_tx.send(()).unwrap();
    ended_rx.recv_timeout(LIMIT).unwrap();
    let ran = (0..100).any(|_| invoke(json!({})).deferred.ran == 1);
    assert!(
        ran,
        "work never started again after the detached closure ended"
    );
    served.shutdown();
}

/// A deferred-work thread that cannot be started (the address space is exhausted) is not a
/// state of the process: the closure that needed it is skipped with the reason and logged, and
/// once memory is free again the next invocation's deferred work runs.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_worker_start_is_retried_at_the_next_need() {
    use coda_emulator::FunctionCommand;
    // Room for the process as it is, not for thread stacks once the hog has the rest.
    const LIMIT_KB: u64 = 400 * 1024;
    let emulator = Emulator::start().unwrap();
    let fixture = env!("CARGO_BIN_EXE_coda-fixture");
    let command = FunctionCommand::new("/bin/sh")
        .arg("-c")
        .arg(format!("ulimit -v {LIMIT_KB} && exec \"$0\""))
        .arg(fixture)
        .env("CODA_FIXTURE", "address-hog")
        .env("CODA_FIXTURE_VM_LIMIT_KB", LIMIT_KB.to_string());
    let function = emulator.supervise(command).unwrap();
    function
        .wait_ready(LIMIT)
        .expect("the fixture starts under the limit");

    let hogged = emulator.invoke(Invoke::json(&json!({"hog": true})));
    let answer = hogged.answer(LIMIT).unwrap();
    assert!(!answer.is_error(), "{:?}", answer.json());
    let logs = hogged.settled_logs(LIMIT).unwrap().join("\n");
    assert!(
        logs.contains("could not start the deferred-work thread"),
        "{logs}"
    );
    assert!(logs.contains("1 skipped"), "{logs}");
    assert!(!logs.contains("deferred work ran"), "{logs}");

    let freed = emulator.invoke(Invoke::json(&json!({"hog": false})));
    freed.answer(LIMIT).unwrap();
    let logs = freed.settled_logs(LIMIT).unwrap().join("\n");
    assert!(logs.contains("deferred work ran"), "{logs}");
    function.stop();
}
