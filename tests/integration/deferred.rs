//! Deferred and spawned work (the contract in `coda_lambda::deferred`; `docs/runtime-api.md` §7).
//! Ordering and timing are proven with channels: a closure that must run after the answer
//! blocks until the test has seen the answer, so a runtime that ran it first would deadlock
//! and fail the test's bounded wait.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coda_emulator::{Emulator, Ending, Invoke};
use coda_lambda::{Context, Deferred, Diagnostic, Reply};
use serde_json::{Value, json};

use crate::support::{LIMIT, serve, serve_with};

/// §7.1: the caller gets the answer while deferred work is still running — the closure waits
/// for the test to see the answer — and the invocation ends (next `/next`) only after it.
#[test]
fn answer_arrives_before_deferred_work_runs() {
    let (seen_tx, seen_rx) = mpsc::channel::<()>();
    let seen_rx = Arc::new(Mutex::new(seen_rx));
    let done_at = Arc::new(Mutex::new(None));
    let done = done_at.clone();
    let served = serve(move |_: Value, _: &mut Context| {
        let seen = seen_rx.clone();
        let done = done.clone();
        Ok::<_, Diagnostic>(Reply::new("answered").after(move |_| {
            seen.lock()
                .unwrap()
                .recv_timeout(LIMIT)
                .map_err(|_| "the answer was never seen")?;
            *done.lock().unwrap() = Some(Instant::now());
            Ok::<_, &str>(())
        }))
    });
    let pending = served.emulator.invoke(Invoke::new("{}"));
    let answer = pending
        .answer(LIMIT)
        .expect("answer while deferred work waits");
    assert_eq!(answer.payload, br#""answered""#);
    assert_eq!(
        served.emulator.next_calls(),
        1,
        "no /next while deferred work runs"
    );
    seen_tx.send(()).unwrap();
    let finished = pending.finished(LIMIT).unwrap();
    let report = served.report();
    assert_eq!(report.deferred.ran, 1);
    let done = done_at.lock().unwrap().expect("closure finished");
    assert!(
        pending.queued_at() + finished.finished_after >= done,
        "/next came after the closure ended"
    );
    served.shutdown();
}

/// Deferred closures run in registration order: context work first (in the order
/// registered, whatever its kind), then the reply's; each exactly once.
#[test]
fn deferred_work_runs_in_registration_order() {
    let order = Arc::new(Mutex::new(Vec::new()));
    let log = order.clone();
    let served = serve(move |_: Value, ctx: &mut Context| {
        let push = |n: u32| {
            let log = log.clone();
            move |_: &Deferred| log.lock().unwrap().push(n)
        };
        ctx.after(push(1));
        ctx.after_success(push(2));
        ctx.after(push(3));
        Ok::<_, Diagnostic>(Reply::new(()).after(push(4)).after_success(push(5)))
    });
    served
        .emulator
        .invoke(Invoke::new("{}"))
        .finished(LIMIT)
        .unwrap();
    assert_eq!(*order.lock().unwrap(), [1, 2, 3, 4, 5]);
    assert_eq!(served.report().deferred.ran, 5);
    served.shutdown();
}

/// A panicking or failing closure neither stops the closures after it nor changes the
/// delivered answer; each outcome is counted.
#[test]
fn deferred_failures_are_isolated() {
    let ran_last = Arc::new(AtomicUsize::new(0));
    let last = ran_last.clone();
    let served = serve(move |_: Value, ctx: &mut Context| {
        ctx.after(|_| Ok::<_, std::io::Error>(()));
        ctx.after(|_| Err::<(), _>(std::io::Error::other("cache write failed")));
        ctx.after(|_| -> Result<(), &str> { panic!("metrics flush exploded") });
        let last = last.clone();
        ctx.after(move |_| {
            last.fetch_add(1, Ordering::SeqCst);
        });
        Ok::<_, Diagnostic>("fine")
    });
    let pending = served.emulator.invoke(Invoke::new("{}"));
    let answer = pending.answer(LIMIT).unwrap();
    assert_eq!((answer.status, answer.is_error()), (202, false));
    pending.finished(LIMIT).unwrap();
    let report = served.report();
    assert_eq!(report.error, None);
    let d = report.deferred;
    assert_eq!(
        (d.ran, d.failed, d.panicked, d.skipped, d.overran),
        (2, 1, 1, 0, 0)
    );
    assert_eq!(ran_last.load(Ordering::SeqCst), 1);
    // The loop and the deferred thread survive: the next invocation works too.
    assert_eq!(
        served
            .emulator
            .invoke(Invoke::new("{}"))
            .answer(LIMIT)
            .unwrap()
            .payload,
        br#""fine""#
    );
    served.shutdown();
}

/// Work that cannot start before the budget (deadline − margin) is spent is skipped, counted,
/// and the loop polls `/next` at once.
#[test]
fn work_past_the_budget_is_skipped() {
    let ran = Arc::new(AtomicUsize::new(0));
    let count = ran.clone();
    let served = serve_with(
        Emulator::builder(),
        |r| r.deferred_margin(Duration::from_millis(500)),
        move |_: Value, ctx: &mut Context| {
            let count = count.clone();
            ctx.after(move |job| {
                count.fetch_add(1, Ordering::SeqCst);
                assert!(!job.budget_spent());
            });
            Ok::<_, Diagnostic>(ctx.remaining().as_millis() as u64)
        },
    );
    // Deadline 200 ms away, margin 500 ms: the budget is spent before the work's turn.
    let pending = served
        .emulator
        .invoke(Invoke::new("{}").deadline_in(Duration::from_millis(200)));
    pending.finished(LIMIT).unwrap();
    let report = served.report();
    assert_eq!((report.deferred.skipped, report.deferred.ran), (1, 0));
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    served.shutdown();
}

/// A closure that overruns the budget is detached: the invocation ends before its deadline
/// (no Lambda timeout), later closures are skipped, and the detached closure can still end.
#[test]
fn overrunning_work_is_detached_before_the_deadline() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(Some(release_rx)));
    let (ended_tx, ended_rx) = mpsc::channel::<()>();
    let ended_tx = Arc::new(Mutex::new(Some(ended_tx)));
    let served = serve_with(
        Emulator::builder(),
        |r| r.deferred_margin(Duration::from_millis(300)),
        move |_: Value, ctx: &mut Context| {
            // Only the first invocation registers work; the second shows the loop goes on.
            let (Some(release), Some(ended)) = (
                release_rx.lock().unwrap().take(),
                ended_tx.lock().unwrap().take(),
            ) else {
                return Ok::<_, Diagnostic>("ok");
            };
            ctx.after(move |job| {
                // Blocks far past the budget until the test releases it.
                let _ = release.recv_timeout(LIMIT);
                assert!(job.budget_spent());
                let _ = ended.send(());
            });
            ctx.after(|_| -> Result<(), &str> { panic!("must be skipped: the budget is spent") });
            Ok("ok")
        },
    );
    let pending = served
        .emulator
        .invoke(Invoke::new("{}").deadline_in(Duration::from_millis(1000)));
    assert_eq!(pending.answer(LIMIT).unwrap().payload, br#""ok""#);
    let finished = pending.finished(LIMIT).unwrap();
    let report = served.report();
    assert_eq!(
        (
            report.deferred.overran,
            report.deferred.skipped,
            report.deferred.ran
        ),
        (1, 1, 0)
    );
    // The emulator enforces the deadline: had the runtime not called /next in time, this
    // would be a timeout.
    assert_eq!(
        finished.ending,
        Ending::Completed,
        "ended after {:?}",
        finished.finished_after
    );
    // The next invocation is served by a fresh deferred thread while the old one is stuck.
    assert_eq!(
        served
            .emulator
            .invoke(Invoke::new("{}"))
            .answer(LIMIT)
            .unwrap()
            .payload,
        br#""ok""#
    );
    release_tx.send(()).unwrap();
    ended_rx
        .recv_timeout(LIMIT)
        .expect("the detached closure ends once released");
    served.shutdown();
}

/// `ctx.spawn` work starts during the handler, runs concurrently with the answer, and is
/// joined before the next `/next` (the environment may freeze once it is called).
#[test]
fn spawned_work_is_joined_before_next() {
    let (started_tx, started_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let started_tx = Arc::new(Mutex::new(Some(started_tx)));
    let release_rx = Arc::new(Mutex::new(Some(release_rx)));
    let done_at = Arc::new(Mutex::new(None));
    let done = done_at.clone();
    let served = serve(move |_: Value, ctx: &mut Context| {
        let started = started_tx.lock().unwrap().take().unwrap();
        let release = release_rx.lock().unwrap().take().unwrap();
        let done = done.clone();
        ctx.spawn(move |job| {
            assert!(
                job.error().is_none() && job.answered_after().is_none(),
                "spawned work starts before the end"
            );
            started.send(()).unwrap();
            release.recv_timeout(LIMIT).map_err(|_| "never released")?;
            *done.lock().unwrap() = Some(Instant::now());
            Ok::<_, &str>(())
        });
        // The spawned thread runs while the handler is still running.
        Ok::<_, Diagnostic>("answered")
    });
    let pending = served.emulator.invoke(Invoke::new("{}"));
    started_rx
        .recv_timeout(LIMIT)
        .expect("spawned work started");
    assert_eq!(pending.answer(LIMIT).unwrap().payload, br#""answered""#);
    assert_eq!(
        served.emulator.next_calls(),
        1,
        "no /next while spawned work runs"
    );
    release_tx.send(()).unwrap();
    let finished = pending.finished(LIMIT).unwrap();
    let done = done_at.lock().unwrap().expect("spawned work ended");
    assert!(pending.queued_at() + finished.finished_after >= done);
    assert_eq!(served.report().deferred.ran, 1);
    served.shutdown();
}

/// Work registered for failure runs after an error was posted (and sees it); success-only work
/// does not apply then (not run, and not counted as skipped); work for both runs. The same
/// three words on the `Reply`.
#[test]
fn after_error_work_runs_only_after_failures() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let served = serve(move |event: Value, ctx: &mut Context| {
        let l = log.clone();
        ctx.after_error(move |job| {
            l.lock()
                .unwrap()
                .push(format!("error:{}", job.error().unwrap().error_type()))
        });
        let l = log.clone();
        ctx.after_success(move |_| l.lock().unwrap().push("success".to_owned()));
        let l = log.clone();
        ctx.after(move |job| {
            l.lock()
                .unwrap()
                .push(format!("always:{}", job.error().is_some()))
        });
        if event["fail"] == true {
            return Err(Diagnostic::new("Function.OrderRejected", "too big"));
        }
        let (a, b, c) = (log.clone(), log.clone(), log.clone());
        Ok(Reply::new("ok")
            .after(move |_| a.lock().unwrap().push("reply-always".to_owned()))
            .after_success(move |_| b.lock().unwrap().push("reply-success".to_owned()))
            .after_error(move |_| c.lock().unwrap().push("reply-error".to_owned())))
    });
    served
        .emulator
        .invoke(Invoke::json(&json!({"fail": true})))
        .finished(LIMIT)
        .unwrap();
    let failed = served.report();
    assert_eq!((failed.deferred.ran, failed.deferred.skipped), (2, 0));
    assert_eq!(failed.deferred.total(), 2);
    served
        .emulator
        .invoke(Invoke::json(&json!({})))
        .finished(LIMIT)
        .unwrap();
    let succeeded = served.report();
    assert_eq!((succeeded.deferred.ran, succeeded.deferred.skipped), (4, 0));
    assert!(succeeded.deferred.all_ran());
    assert_eq!(
        *seen.lock().unwrap(),
        [
            "error:Function.OrderRejected",
            "always:true",
            "success",
            "always:false",
            "reply-always",
            "reply-success"
        ]
    );
    served.shutdown();
}

/// Deferred work also runs after a refused answer (413: the caller gets an error), as failure.
#[test]
fn after_error_work_runs_when_the_answer_is_refused() {
    let served = serve(|_: Value, ctx: &mut Context| {
        ctx.after_error(|job| {
            assert_eq!(
                job.error().unwrap().error_type(),
                "Function.ResponseSizeTooLarge"
            )
        });
        Ok::<_, Diagnostic>(Reply::bytes(vec![
            b'x';
            coda_lambda::protocol::MAX_BUFFERED_RESPONSE
                + 1
        ]))
    });
    served
        .emulator
        .invoke(Invoke::new("{}"))
        .finished(LIMIT)
        .unwrap();
    let report = served.report();
    assert_eq!(
        report.error.map(|e| e.error_type().to_owned()).as_deref(),
        Some("Function.ResponseSizeTooLarge")
    );
    assert_eq!((report.deferred.ran, report.deferred.panicked), (1, 0));
    served.shutdown();
}

/// The deferred context reports the time left in the budget and the caller's wait.
#[test]
fn jobs_know_their_budget() {
    let (tx, rx) = mpsc::channel();
    let tx = Arc::new(Mutex::new(tx));
    let served = serve_with(
        Emulator::builder(),
        |r| r.deferred_margin(Duration::from_millis(1000)),
        move |_: Value, _: &mut Context| {
            let tx = tx.clone();
            Ok::<_, Diagnostic>(Reply::new(()).after(move |job| {
                let _ = tx.lock().unwrap().send((
                    job.remaining(),
                    job.answered_after(),
                    job.request_id().to_owned(),
                ));
            }))
        },
    );
    served.emulator.invoke(
        Invoke::new("{}")
            .request_id("budget-1")
            .deadline_in(Duration::from_secs(10)),
    );
    let (remaining, answered_after, id) = rx.recv_timeout(LIMIT).unwrap();
    assert!(
        remaining <= Duration::from_secs(9) && remaining > Duration::from_secs(5),
        "{remaining:?}"
    );
    assert!(answered_after.is_some());
    assert_eq!(id, "budget-1");
    served.shutdown();
}

/// `coda_emulator::testing` runs the real loop: the answer precedes the end of deferred work, and the
/// log lines of the invocation are returned.
#[test]
fn testing_entry_point_reports_deferred_work() {
    let out = coda_emulator::testing::invoke(
        |event: Value, ctx: &mut Context| {
            ctx.after(|job| log::info!("deferred for {}", job.request_id()));
            Ok::<_, Diagnostic>(event)
        },
        json!({"k": 1}),
    );
    assert_eq!(out.json(), json!({"k": 1}));
    assert_eq!(out.deferred().ran, 1);
    assert!(out.answered_before_deferred_finished());
    assert!(
        out.logs().iter().any(|l| l.contains("deferred for")),
        "{:?}",
        out.logs()
    );
}

/// Nothing is lost silently: each closure's outcome is logged with the invocation's request
/// id (the captured lines are exactly those carrying it), and the summary counts them.
#[test]
fn outcomes_are_logged_with_the_request_id() {
    let out = coda_emulator::testing::invoke(
        |_: Value, ctx: &mut Context| {
            ctx.after(|_| Err::<(), _>(std::io::Error::other("cache write failed")));
            ctx.after(|_| -> Result<(), &str> { panic!("flush exploded") });
            Ok::<_, Diagnostic>("ok")
        },
        json!({}),
    );
    let logs = out.logs().join("\n");
    assert!(logs.contains("failed: cache write failed"), "{logs}");
    assert!(logs.contains("panicked: flush exploded"), "{logs}");
    assert!(logs.contains("1 failed, 1 panicked"), "{logs}");
    let d = out.deferred();
    assert_eq!((d.failed, d.panicked, d.total()), (1, 1, 2));
}
