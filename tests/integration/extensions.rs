//! The Extensions API on the emulator (`docs/runtime-api.md` §7.5): an in-process extension
//! registers, receives INVOKE events, and holds each invocation open until it asks for its next
//! event (the end-of-invocation barrier); SHUTDOWN on the way out; registration rules.

use std::sync::mpsc;
use std::thread;

use coda_emulator::{Emulator, Invoke};
use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};

use crate::support::LIMIT;

/// A minimal internal extension: a ureq agent talking to the emulator's Extensions API.
struct Extension {
    agent: ureq::Agent,
    base: String,
    id: String,
}

impl Extension {
    fn register(emulator: &Emulator, events: &[&str]) -> Result<Extension, (u16, String)> {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let base = format!("http://{}/2020-01-01/extension", emulator.addr());
        let mut response = agent
            .post(&format!("{base}/register"))
            .header("Lambda-Extension-Name", "test-extension")
            .send(json!({ "events": events }).to_string())
            .expect("register request");
        let status = response.status().as_u16();
        let id = response
            .headers()
            .get("lambda-extension-identifier")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.body_mut().read_to_string().unwrap_or_default();
        match (status, id) {
            (200, Some(id)) => {
                let registered: Value = serde_json::from_str(&body).unwrap();
                assert_eq!(registered["functionName"], "function");
                Ok(Extension { agent, base, id })
            }
            _ => Err((status, body)),
        }
    }

    /// `GET /event/next`: blocks until the next event.
    fn next(&self) -> Value {
        let mut response = self
            .agent
            .get(&format!("{}/event/next", self.base))
            .header("Lambda-Extension-Identifier", &self.id)
            .call()
            .expect("event/next");
        assert_eq!(response.status().as_u16(), 200);
        assert!(
            response
                .headers()
                .contains_key("lambda-extension-event-identifier")
        );
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap()
    }
}

/// §7.2 #2: the extension gets an INVOKE event with the request id at the same time as the
/// runtime, and the invocation ends only when the runtime *and* the extension have asked for
/// their next event — the caller has the answer long before.
#[test]
fn invocation_ends_when_runtime_and_extension_are_done() {
    // Extensions register before the runtime starts (its first /next closes registration).
    let emulator = Emulator::start().unwrap();
    let extension =
        Extension::register(&emulator, &["INVOKE"]).expect("registers before init ends");
    let (events_tx, events_rx) = mpsc::channel();
    let (go_tx, go_rx) = mpsc::channel::<()>();
    let ext = thread::spawn(move || {
        // The first next ends the extension's init; the INVOKE arrives on it.
        let event = extension.next();
        events_tx.send(event).unwrap();
        go_rx.recv_timeout(LIMIT).unwrap();
        // Asking for the next event completes the invocation; it then waits for SHUTDOWN.
        let shutdown = extension.next();
        events_tx.send(shutdown).unwrap();
    });
    let runtime = coda_lambda::Runtime::new(emulator.config()).publish_trace_id(false);
    let loop_thread =
        thread::spawn(move || runtime.run(|e: Value, _: &mut Context| Ok::<_, Diagnostic>(e)));

    let pending = emulator.invoke(Invoke::json(&json!({"x": 1})).request_id("ext-req-1"));
    let invoke_event = events_rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(invoke_event["eventType"], "INVOKE");
    assert_eq!(invoke_event["requestId"], "ext-req-1");
    assert!(invoke_event["deadlineMs"].as_u64().unwrap() > 0);
    assert_eq!(pending.answer(LIMIT).unwrap().json(), Some(json!({"x": 1})));
    // The runtime has asked for its next event; the extension has not: still open.
    emulator.wait_next_calls(2, LIMIT).unwrap();
    assert!(
        pending.finished(std::time::Duration::ZERO).is_err(),
        "the barrier holds"
    );
    go_tx.send(()).unwrap();
    let finished = pending.finished(LIMIT).unwrap();
    assert!(finished.finished_after >= finished.answered_after.unwrap());
    drop(emulator);
    let _ = loop_thread.join();
    let _ = ext.join();
}

/// §7.4–§7.5: an extension subscribed to SHUTDOWN hears it when the emulator stops;
/// registration closes at the runtime's first `/next`; unknown identifiers are refused.
#[test]
fn shutdown_events_and_registration_rules() {
    let mut emulator = Emulator::start().unwrap();
    let extension = Extension::register(&emulator, &["SHUTDOWN"]).unwrap();
    let (tx, rx) = mpsc::channel();
    let ext = thread::spawn(move || tx.send(extension.next()).unwrap());
    let runtime = coda_lambda::Runtime::new(emulator.config()).publish_trace_id(false);
    let loop_thread =
        thread::spawn(move || runtime.run(|e: Value, _: &mut Context| Ok::<_, Diagnostic>(e)));
    emulator.wait_parked(LIMIT).unwrap();

    let late = Extension::register(&emulator, &["INVOKE"])
        .err()
        .expect("registration is closed");
    assert_eq!(late.0, 403, "{}", late.1);
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent();
    let unknown = agent
        .get(&format!(
            "http://{}/2020-01-01/extension/event/next",
            emulator.addr()
        ))
        .header("Lambda-Extension-Identifier", "not-registered")
        .call()
        .unwrap();
    assert_eq!(unknown.status().as_u16(), 403);

    // Not subscribed to INVOKE: invocations do not wait for it.
    let answer = emulator
        .invoke(Invoke::json(&json!(1)))
        .finished(LIMIT)
        .unwrap();
    assert!(answer.answer.is_some());
    emulator.shutdown();
    let event = rx.recv_timeout(LIMIT).unwrap();
    assert_eq!(event["eventType"], "SHUTDOWN");
    assert!(event["shutdownReason"].is_string());
    let _ = loop_thread.join();
    let _ = ext.join();
}
