//! Fault injection (`coda_emulator::Faults`): for each fault, the runtime's behaviour that
//! `docs/runtime-api.md` §11 states, proven with the real loop against the real emulator —
//! deferred work included. The handler registers three named closures per invocation
//! (`always`, `on-success`, `on-error`; `carry`, carried over, when the event asks), and
//! every test accounts for each one: it ran (the ledger), was handed off (the sink), or did
//! not apply (the other result's closure, which the contract does not count).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use coda_emulator::{Emulator, Fault, Invoke};
use coda_lambda::{
    ApiError, Context, Deferred, DeferredOutcome, Delivery, Diagnostic, Error, HandOff,
    IfUnfinished, Operation,
};
use serde_json::{Value, json};

use crate::support::{LIMIT, Served, chain, serve_with};

/// What the deferred closures did: `(name, request id)` of each that ran, and the hand-offs.
#[derive(Clone, Default)]
struct Ledger {
    ran: Arc<Mutex<Vec<(String, String)>>>,
    handed: Arc<Mutex<Vec<HandOff>>>,
}

impl Ledger {
    fn ran(&self) -> Vec<String> {
        self.ran
            .lock()
            .unwrap()
            .iter()
            .map(|(n, _)| n.clone())
            .collect()
    }

    fn handed(&self) -> Vec<(String, DeferredOutcome)> {
        let handed = self.handed.lock().unwrap();
        handed
            .iter()
            .map(|h| (h.name.clone(), h.outcome.clone()))
            .collect()
    }

    fn clear(&self) {
        self.ran.lock().unwrap().clear();
        self.handed.lock().unwrap().clear();
    }
}

/// Serves the ledger's handler under `spec`.
fn serve_faults(spec: &str) -> (Served, Ledger) {
    let ledger = Ledger::default();
    let sink = ledger.clone();
    let ran = ledger.ran.clone();
    let faults = spec.parse().expect("a valid spec");
    let served = serve_with(
        Emulator::builder().faults(faults),
        move |runtime| {
            runtime
                .deferred_margin(Duration::from_millis(100))
                .on_unfinished(move |h| sink.handed.lock().unwrap().push(h.clone()))
        },
        move |event: Value, ctx: &mut Context| {
            for (name, kind) in [("always", 0), ("on-success", 1), ("on-error", 2)] {
                let ran = ran.clone();
                let record = move |d: &Deferred| {
                    ran.lock()
                        .unwrap()
                        .push((name.to_owned(), d.request_id().to_owned()));
                };
                let builder = ctx.deferred(name);
                match kind {
                    0 => builder.after(record),
                    1 => builder.after_success(record),
                    _ => builder.after_error(record),
                }
            }
            if event["carry"] == true {
                let ran = ran.clone();
                ctx.deferred("carry")
                    .if_unfinished(IfUnfinished::CarryOver)
                    .after(move |d: &Deferred| {
                        ran.lock()
                            .unwrap()
                            .push(("carry".into(), d.request_id().to_owned()));
                    });
            }
            Ok::<_, Diagnostic>(json!({
                "event": event,
                "request_id": ctx.request_id(),
                "deadline_ms": ctx.deadline_ms(),
                "remaining_ms": ctx.remaining().as_millis() as u64,
                "arn": ctx.invoked_function_arn(),
                "trace_id": ctx.trace_id(),
                "client_context": ctx.client_context_raw(),
                "identity": ctx.identity_raw(),
            }))
        },
    );
    (served, ledger)
}

/// Invokes `event`, waits for its end, returns what the handler saw.
fn invoke_ok(served: &Served, invoke: Invoke) -> Value {
    let pending = served.emulator.invoke(invoke);
    let answer = pending.answer(LIMIT).expect("an answer");
    pending.finished(LIMIT).expect("the invocation ends");
    answer.json().expect("a JSON answer")
}

/// The faults injected, as the spec writes them.
fn injected(served: &Served) -> Vec<String> {
    served
        .emulator
        .faults_injected()
        .iter()
        .map(|i| format!("{}@{}", i.fault, i.call))
        .collect()
}

/// One invocation that succeeds, its two closures ran: the loop still serves.
fn still_serving(served: &Served, ledger: &Ledger) {
    ledger.clear();
    let seen = invoke_ok(served, Invoke::json(&json!({"still": "serving"})));
    assert_eq!(seen["event"], json!({"still": "serving"}));
    let report = served.report();
    assert_eq!(report.delivery, Delivery::Accepted);
    assert_eq!(ledger.ran(), ["always", "on-success"]);
}

/// §11 #1 (§2.4, §9 #4): `/next` answered 500, 403 or 204 is fatal: the loop stops with the
/// call, the status and the body; work carried over from the invocation before (here: its
/// deadline had passed, §11 #15) never runs and is handed off, not lost.
#[test]
fn next_statuses_stop_the_loop_and_hand_off_carried_work() {
    for status in [500, 403, 204] {
        let (mut served, ledger) = serve_faults(&format!("deadline=past@1,next={status}@2"));
        let seen = invoke_ok(&served, Invoke::json(&json!({"carry": true})));
        assert_eq!(seen["remaining_ms"], 0);
        let report = served.report();
        assert_eq!(report.deferred.carried, 1, "{:?}", report.deferred);
        served.emulator.invoke(Invoke::json(&json!({"n": 2})));
        let error = served.stopped();
        assert!(
            matches!(&error, Error::Api(ApiError::Status { operation: Operation::Next, status: s, .. }) if *s == status),
            "{error:?}"
        );
        let text = chain(&error);
        assert!(
            text.contains(&format!(
                "GET /2018-06-01/runtime/invocation/next: status {status}"
            )),
            "{text}"
        );
        if status == 500 {
            assert!(text.contains("InternalServerError"), "{text}");
        }
        let handed = ledger.handed();
        assert!(
            handed.contains(&("carry".into(), DeferredOutcome::Skipped)),
            "{handed:?}"
        );
        let carry = ledger
            .handed
            .lock()
            .unwrap()
            .iter()
            .find(|h| h.name == "carry")
            .cloned();
        let note = carry.and_then(|h| h.note).unwrap_or_default();
        assert!(
            note.contains("the loop stopped before it could run"),
            "{note}"
        );
        assert!(!ledger.ran().contains(&"carry".to_owned()));
        assert_eq!(
            injected(&served),
            ["deadline=past@1".to_owned(), format!("next={status}@2")]
        );
    }
}

/// §11 #2–#3 (§9 #3): a `/next` body cut short, or reset halfway, is a transport failure:
/// the event cannot be read, the loop stops (no second `/next`: the event would come back).
#[test]
fn a_cut_or_reset_next_body_stops_the_loop() {
    for fault in ["cut", "reset"] {
        let (mut served, _) = serve_faults(&format!("next={fault}@1"));
        served
            .emulator
            .invoke(Invoke::json(&json!({"padding": "x".repeat(4096)})));
        let error = served.stopped();
        assert!(
            matches!(
                &error,
                Error::Api(ApiError::Transport {
                    operation: Operation::Next,
                    ..
                })
            ),
            "{fault}: {error:?}"
        );
        assert!(
            chain(&error).starts_with(
                "the Runtime API failed: GET /2018-06-01/runtime/invocation/next did not complete"
            ) || chain(&error).contains("GET /2018-06-01/runtime/invocation/next did not complete"),
            "{fault}: {}",
            chain(&error)
        );
        assert_eq!(served.emulator.next_calls(), 1, "{fault}: no second /next");
    }
}

/// §11 #4 (§3.3, §9 #12–#14): 400, 403, 410 and 413 on `/response` are logged and the loop
/// goes on. The invocation counts as failed (the caller did not get the answer), so `always`
/// and `on-error` run; `on-success` does not apply. No `/error` is posted after them.
#[test]
fn client_errors_on_the_response_are_survived() {
    for status in [400, 403, 410, 413] {
        let (served, ledger) = serve_faults(&format!("response={status}@1"));
        let pending = served.emulator.invoke(Invoke::json(&json!({"n": 1})));
        let answer = pending.answer(LIMIT).unwrap();
        assert_eq!(answer.status, status);
        if status == 413 {
            assert_eq!(
                answer.function_error.as_deref(),
                Some("Function.ResponseSizeTooLarge")
            );
        }
        pending.finished(LIMIT).unwrap();
        let report = served.report();
        assert!(
            matches!(&report.delivery, Delivery::Rejected { status: s, .. } if *s == status),
            "{status}: {:?}",
            report.delivery
        );
        assert!(report.error.is_some());
        assert_eq!(ledger.ran(), ["always", "on-error"], "{status}");
        assert_eq!(report.deferred.ran, 2);
        assert!(ledger.handed().is_empty());
        assert_eq!(
            served.emulator.answer_posts(),
            1,
            "{status}: no /error after it"
        );
        still_serving(&served, &ledger);
        served.shutdown();
    }
}

/// §11 #5 (§3.3, §9 #15): 500 on `/response` is fatal: the loop stops naming the call and
/// the status, and none of the invocation's closures runs — each of the three is handed off
/// as skipped, with the reason.
#[test]
fn a_500_on_the_response_stops_the_loop_and_hands_off_every_closure() {
    let (mut served, ledger) = serve_faults("response=500@1");
    served.emulator.invoke(Invoke::json(&json!({"n": 1})));
    let error = served.stopped();
    let text = chain(&error);
    assert!(text.contains("/response: status 500"), "{text}");
    assert!(ledger.ran().is_empty());
    let mut handed = ledger.handed();
    handed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        handed,
        [
            ("always".into(), DeferredOutcome::Skipped),
            ("on-error".into(), DeferredOutcome::Skipped),
            ("on-success".into(), DeferredOutcome::Skipped),
        ]
    );
    for h in ledger.handed.lock().unwrap().iter() {
        let note = h.note.as_deref().unwrap_or_default();
        assert!(note.contains("status 500"), "{note}");
    }
}

/// §11 #6: the answer to `/response` reset halfway through its status line. The runtime
/// sends the post again on a new connection (it cannot tell this from a stale kept one); the
/// emulator refuses it as already answered (403), which tells the runtime its first post got
/// through: delivered, the success closures run, the loop goes on.
#[test]
fn a_reset_answer_to_the_response_is_sent_again_and_counts_as_delivered() {
    let (served, ledger) = serve_faults("response=reset@1");
    let seen = invoke_ok(&served, Invoke::json(&json!({"n": 1})));
    assert_eq!(seen["event"], json!({"n": 1}));
    let report = served.report();
    assert_eq!(report.delivery, Delivery::Accepted);
    assert_eq!(ledger.ran(), ["always", "on-success"]);
    assert_eq!(served.emulator.answer_posts(), 2, "sent twice");
    assert_eq!(injected(&served), ["response=reset@1"]);
    still_serving(&served, &ledger);
    served.shutdown();
}

/// §11 #7 (§0: no client timeout): a Runtime API that reads the answer slowly is waited for;
/// the answer arrives whole and the closures run.
#[test]
fn a_slow_reader_is_waited_for() {
    let (served, ledger) = serve_faults("response=slow:8192/2ms@1");
    let big = "y".repeat(64 * 1024);
    let seen = invoke_ok(&served, Invoke::json(&json!({"big": big})));
    assert_eq!(seen["event"]["big"].as_str().map(str::len), Some(64 * 1024));
    assert_eq!(served.report().delivery, Delivery::Accepted);
    assert_eq!(ledger.ran(), ["always", "on-success"]);
    assert_eq!(injected(&served), ["response=slow:8192/2ms@1"]);
    served.shutdown();
}

/// §11 #8 (§9 #3): the kept connection closed silently after `/next` answered: the
/// `/response` meets a dead socket and is sent once more on a new connection; after
/// `/response` answered, the next `/next` is. Nothing is lost, nothing posted twice.
#[test]
fn a_silently_closed_kept_connection_is_reconnected_once() {
    for fault in ["next=close@1", "response=close@1"] {
        let (served, ledger) = serve_faults(fault);
        let seen = invoke_ok(&served, Invoke::json(&json!({"n": 1})));
        assert_eq!(seen["event"], json!({"n": 1}), "{fault}");
        assert_eq!(served.report().delivery, Delivery::Accepted, "{fault}");
        assert_eq!(ledger.ran(), ["always", "on-success"], "{fault}");
        still_serving(&served, &ledger);
        assert_eq!(served.emulator.answer_posts(), 2, "{fault}: one post each");
        assert_eq!(injected(&served), [fault]);
        served.shutdown();
    }
}

/// §11 #9 (§2.2, §9 #9): two invocations in a row with the same request id are two
/// invocations: each is answered (to the one in flight), each runs its own closures.
#[test]
fn duplicate_request_ids_are_two_invocations() {
    let (served, ledger) = serve_faults("id=duplicate@2");
    let first = invoke_ok(&served, Invoke::json(&json!({"n": 1})));
    let second = invoke_ok(&served, Invoke::json(&json!({"n": 2})));
    assert_eq!(first["request_id"], second["request_id"]);
    assert_eq!(
        (first["event"]["n"].clone(), second["event"]["n"].clone()),
        (json!(1), json!(2))
    );
    for _ in 0..2 {
        assert_eq!(served.report().delivery, Delivery::Accepted);
    }
    let ran = ledger.ran.lock().unwrap().clone();
    assert_eq!(ran.len(), 4, "{ran:?}");
    assert!(ran.iter().all(|(_, id)| json!(id) == first["request_id"]));
    assert_eq!(
        served.emulator.faults_injected()[0].fault,
        Fault::DuplicateId
    );
    served.shutdown();
}

/// §11 #10 (§0): header names in upper or alternating case are the same headers.
#[test]
fn odd_header_casing_is_read_the_same() {
    let (served, ledger) = serve_faults("headers=upper@1,headers=mixed@2");
    for n in 1..=2 {
        let seen = invoke_ok(
            &served,
            Invoke::json(&json!({"n": n}))
                .request_id(format!("req-{n}"))
                .client_context(r#"{"custom":{"k":"v"}}"#),
        );
        assert_eq!(seen["request_id"], format!("req-{n}"));
        assert!(seen["deadline_ms"].is_u64(), "{seen}");
        assert!(seen["arn"].as_str().unwrap().starts_with("arn:aws:lambda:"));
        assert!(seen["trace_id"].as_str().unwrap().starts_with("Root=1-"));
        assert_eq!(seen["client_context"], r#"{"custom":{"k":"v"}}"#);
        assert_eq!(served.report().delivery, Delivery::Accepted);
    }
    assert_eq!(
        ledger.ran(),
        ["always", "on-success", "always", "on-success"]
    );
    assert_eq!(injected(&served), ["headers=upper@1", "headers=mixed@2"]);
    served.shutdown();
}

/// §11 #11 (§2.2 "Empty values", §9 #6–#7): empty values are absent: no deadline (so an
/// unlimited budget: every closure runs), an empty ARN, no trace id, no client context.
#[test]
fn empty_header_values_are_absent() {
    let (served, ledger) = serve_faults("headers=empty@1");
    let seen = invoke_ok(
        &served,
        Invoke::json(&json!({"n": 1})).client_context(r#"{"custom":{}}"#),
    );
    assert_eq!(seen["deadline_ms"], Value::Null);
    assert_eq!(seen["arn"], "");
    assert_eq!(seen["trace_id"], Value::Null);
    assert_eq!(seen["client_context"], Value::Null);
    assert_eq!(served.report().delivery, Delivery::Accepted);
    assert_eq!(ledger.ran(), ["always", "on-success"]);
    served.shutdown();
}

/// §11 #12: values that are not UTF-8 are absent (with a warning naming the header); the
/// rest of the event is served as usual.
#[test]
fn header_values_that_are_not_utf8_are_absent() {
    let (served, ledger) = serve_faults("headers=non-utf8@1");
    let seen = invoke_ok(
        &served,
        Invoke::json(&json!({"n": 1}))
            .client_context("{}")
            .cognito_identity("{}"),
    );
    assert_eq!(seen["trace_id"], Value::Null);
    assert_eq!(seen["client_context"], Value::Null);
    assert_eq!(seen["identity"], Value::Null);
    assert_eq!(seen["arn"], "");
    assert!(seen["deadline_ms"].is_u64());
    assert_eq!(served.report().delivery, Delivery::Accepted);
    assert_eq!(ledger.ran(), ["always", "on-success"]);
    served.shutdown();
}

/// §11 #13 (§7.2): a deadline already past: the handler still runs (no time remaining) and
/// its answer is delivered; deferred closures cannot start within a spent budget, so they are
/// skipped and handed off (as log lines: the sink's time is spent too) — or, marked to carry
/// over, run after the next answer.
#[test]
fn a_deadline_already_past_skips_and_carries_deferred_work() {
    let (served, ledger) = serve_faults("deadline=past@1");
    let seen = invoke_ok(&served, Invoke::json(&json!({"carry": true})));
    assert_eq!(seen["remaining_ms"], 0);
    let report = served.report();
    assert_eq!(report.delivery, Delivery::Accepted);
    assert_eq!(
        (
            report.deferred.skipped,
            report.deferred.carried,
            report.deferred.ran
        ),
        (2, 1, 0),
        "{:?}",
        report.deferred
    );
    // Handed off: the sink's time is bounded by the same spent budget (plus half the
    // margin), so each goes out as one structured log line instead.
    assert_eq!(report.deferred.handed_off, 2);
    assert!(ledger.handed().is_empty());
    assert!(ledger.ran().is_empty());
    let first_id = seen["request_id"].as_str().unwrap().to_owned();
    ledger.ran.lock().unwrap().clear();
    invoke_ok(&served, Invoke::json(&json!({"n": 2})));
    let ran = ledger.ran.lock().unwrap().clone();
    assert_eq!(ran[0], ("carry".to_owned(), first_id), "{ran:?}");
    assert_eq!(served.report().deferred.ran, 3);
    served.shutdown();
}
