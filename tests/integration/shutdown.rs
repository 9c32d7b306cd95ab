//! Graceful shutdown and internal extensions (`docs/runtime-api.md` §7.4–§7.5): the
//! end-of-invocation barrier an extension holds, and SIGTERM delivered to a child function
//! that runs its hook and reports the deferred work still pending.

use std::process::Command;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coda_emulator::{Emulator, Ending, Invoke};
use coda_lambda::{Context, Diagnostic, ExtensionEvent};
use serde_json::{Value, json};

use crate::support::{LIMIT, fixture, serve_with, spawn_function, wait_exit};

/// An internal extension hears of the invocation once it is answered, and the invocation does
/// not end until its callback returns: the caller has the answer, the runtime has asked for
/// its next event, and still the invocation is open until the extension is released.
#[test]
fn an_extension_holds_the_invocation_open() {
    let (heard_tx, heard) = mpsc::channel::<String>();
    let (release, released) = mpsc::channel::<()>();
    let released = Arc::new(Mutex::new(released));
    let served = serve_with(
        Emulator::builder(),
        move |r| {
            r.extension("flush", move |event| {
                if let ExtensionEvent::Invoke(invoke) = event {
                    heard_tx.send(invoke.request_id.clone()).unwrap();
                    let _ = released.lock().unwrap().recv_timeout(LIMIT);
                }
            })
        },
        |_: Value, _: &mut Context| Ok::<_, Diagnostic>("answered"),
    );
    let pending = served
        .emulator
        .invoke(Invoke::new("{}").request_id("held-1"));
    assert_eq!(pending.answer(LIMIT).unwrap().payload, br#""answered""#);
    assert_eq!(heard.recv_timeout(LIMIT).unwrap(), "held-1");
    // The runtime is done (it asked for its next event) while the extension holds on.
    served.emulator.wait_next_calls(2, LIMIT).unwrap();
    assert!(
        pending.finished(Duration::ZERO).is_err(),
        "the invocation must wait for the extension"
    );
    release.send(()).unwrap();
    let finished = pending.finished(LIMIT).unwrap();
    assert_eq!(finished.ending, Ending::Completed);
    served.shutdown();
}

/// SIGTERM to a function with a shutdown hook (it registered a do-nothing extension, so
/// Lambda would send one): the work carried over to an answer that will not come runs, the
/// hook runs, the detached closure still running is reported dropped with its request id, and
/// the process exits 0.
#[cfg(unix)]
#[test]
fn sigterm_runs_the_hooks_and_reports_pending_work() {
    let emulator = Emulator::start().unwrap();
    let child = spawn_function(fixture(), &emulator, &[("CODA_FIXTURE", "shutdown")]);
    let pid = child.id();
    // A closure that never returns, detached at its budget (300 ms - 100 ms margin) …
    emulator
        .invoke(
            Invoke::json(&json!({"block": true}))
                .request_id("blocked-1")
                .deadline_in(Duration::from_millis(300)),
        )
        .finished(LIMIT)
        .unwrap();
    // … and work whose budget is spent before its turn, carried over to the next answer.
    emulator
        .invoke(
            Invoke::json(&json!({"carry": true}))
                .request_id("carried-1")
                .deadline_in(Duration::from_millis(50)),
        )
        .finished(LIMIT)
        .unwrap();
    emulator.wait_parked(LIMIT).unwrap();
    let status = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exited = wait_exit(child);
    let err = &exited.stderr;
    assert!(exited.status.success(), "exit 0 after the hooks: {err}");
    assert!(err.contains("SIGTERM: shutting down"), "{err}");
    assert!(err.contains("carried-write ran"), "{err}");
    assert!(
        err.contains("shutdown: carried work carried-write of request carried-1: ran"),
        "{err}"
    );
    assert!(err.contains("shutdown hook ran"), "{err}");
    assert!(
        err.contains("shutdown: deferred work stuck of request blocked-1 was still running (detached): dropped"),
        "{err}"
    );
    let hook = err.find("shutdown hook ran").unwrap();
    let carried = err.find("carried-write ran").unwrap();
    assert!(carried < hook, "carried work first, then the hooks: {err}");
}
