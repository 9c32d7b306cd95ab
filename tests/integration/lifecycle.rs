//! The emulator's lifecycle as on Lambda (`docs/runtime-api.md` §7, §4.2, §6): the caller's answer
//! at `/response` time, timeouts (caller gets the timeout error, the process restarts, a late
//! answer gets 410), crashes (`Runtime.ExitError`, restart), init failures, Managed Instances
//! concurrency, and the START / END / REPORT lines.

use std::io::Write;
use std::net::TcpListener;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use coda_emulator::{Emulator, Ending, FunctionCommand, Invoke, ReadyError, Supervisor};
use coda_lambda::{Context, Delivery, Diagnostic, Runtime};
use serde_json::{Value, json};

use crate::support::{LIMIT, serve_with};

fn lifecycle_fixture(emulator: &Emulator) -> Supervisor {
    let command =
        FunctionCommand::new(env!("CARGO_BIN_EXE_coda-fixture")).env("CODA_FIXTURE", "lifecycle");
    let supervisor = emulator.supervise(command).expect("supervisor starts");
    supervisor
        .wait_ready(LIMIT)
        .expect("the fixture initializes");
    supervisor
}

/// §7.1: with a real function process, the caller has the answer while the process's deferred
/// work is still running (it waits for a signal only the test sends), and the invocation ends
/// only after that work. REPORT splits the two times.
#[test]
fn caller_is_answered_while_deferred_work_runs() {
    let emulator = Emulator::builder()
        .timeout(Duration::from_secs(30))
        .start()
        .unwrap();
    let _function = lifecycle_fixture(&emulator);
    let signal = TcpListener::bind("127.0.0.1:0").unwrap();
    let pending = emulator.invoke(Invoke::json(
        &json!({"signal": signal.local_addr().unwrap().to_string()}),
    ));
    let answer = pending
        .answer(LIMIT)
        .expect("the answer arrives before deferred work ends");
    assert_eq!(answer.json().unwrap()["cold"], true);
    // The deferred closure is now connected and waiting: the invocation cannot have ended.
    let (mut waiting, _) = signal.accept().unwrap();
    assert_eq!(
        emulator.next_calls(),
        1,
        "no /next while deferred work waits"
    );
    waiting.write_all(b"!").unwrap();
    let finished = pending.finished(LIMIT).unwrap();
    assert_eq!(finished.ending, Ending::Completed);
    assert!(finished.finished_after > answer.latency);
    let report = finished
        .logs
        .iter()
        .find(|l| l.starts_with("REPORT"))
        .expect("a REPORT line");
    for field in [
        "Duration:",
        "Response Sent:",
        "Billed Duration:",
        "Memory Size: 128 MB",
        "Max Memory Used:",
        "Init Duration:",
    ] {
        assert!(report.contains(field), "{field} missing in {report}");
    }
    assert!(
        finished
            .logs
            .first()
            .unwrap()
            .starts_with("START RequestId:")
    );
    // The line the deferred work wrote just before `/next`, attributed by its request id.
    let logs = pending.settled_logs(LIMIT).unwrap();
    assert!(
        logs.iter().any(|l| l.contains("deferred work released")),
        "{logs:?}"
    );
}

/// §7.2 #5: an invocation that has not reached `/next` by its deadline is a timeout: the caller
/// gets Lambda's timeout error, the process is killed and started again (re-init: the next
/// invocation is a cold start in a new process).
#[test]
fn timeout_restarts_the_process() {
    let emulator = Emulator::builder()
        .timeout(Duration::from_millis(700))
        .start()
        .unwrap();
    let function = lifecycle_fixture(&emulator);
    let first_pid = emulator
        .invoke(Invoke::json(&json!({})))
        .answer(LIMIT)
        .unwrap()
        .json()
        .unwrap()["pid"]
        .clone();
    let hung = emulator.invoke(Invoke::json(&json!({"hang": true})));
    let answer = hung.answer(LIMIT).unwrap();
    assert_eq!(answer.function_error.as_deref(), Some("Sandbox.Timedout"));
    assert!(String::from_utf8_lossy(&answer.payload).contains("Task timed out after 0.70 seconds"));
    let finished = hung.finished(LIMIT).unwrap();
    assert_eq!(finished.ending, Ending::TimedOut);
    assert!(finished.logs.last().unwrap().contains("Status: timeout"));
    let after = emulator
        .invoke(Invoke::json(&json!({})))
        .answer(LIMIT)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(after["cold"], true, "re-initialized");
    assert_ne!(after["pid"], first_pid, "a new process");
    assert_eq!(function.starts(), 2);
}

/// §7.2 #6 / §9 #13: an answer that arrives after the timeout gets 410; the runtime logs it and
/// goes on (in-process, where nothing can be killed).
#[test]
fn late_answer_after_timeout_gets_410() {
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release = Arc::new(Mutex::new(Some(release_rx)));
    let served = serve_with(
        Emulator::builder().timeout(Duration::from_millis(1000)),
        |r| r,
        move |event: Value, _: &mut Context| {
            if event["slow"] == true
                && let Some(release) = release.lock().unwrap().take()
            {
                let _ = release.recv_timeout(LIMIT);
            }
            Ok::<_, Diagnostic>(event)
        },
    );
    let slow = served.emulator.invoke(Invoke::json(&json!({"slow": true})));
    let answer = slow.answer(LIMIT).unwrap();
    assert_eq!(answer.function_error.as_deref(), Some("Sandbox.Timedout"));
    assert_eq!(slow.finished(LIMIT).unwrap().ending, Ending::TimedOut);
    release_tx.send(()).unwrap();
    let report = served.report();
    assert!(
        matches!(report.delivery, Delivery::Rejected { status: 410, .. }),
        "{:?}",
        report.delivery
    );
    let next = served
        .emulator
        .invoke(Invoke::json(&json!({"after": 1})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(next.json(), Some(json!({"after": 1})));
    served.shutdown();
}

/// §4.2 / §9 #16: a process that exits while serving fails its invocation with
/// `Runtime.ExitError` naming the exit status; the next invocation starts a new process.
#[test]
fn crash_is_runtime_exit_error_then_restart() {
    let emulator = Emulator::start().unwrap();
    let function = lifecycle_fixture(&emulator);
    let crashed = emulator.invoke(Invoke::json(&json!({"exit": 3})));
    let answer = crashed.answer(LIMIT).unwrap();
    assert_eq!(answer.function_error.as_deref(), Some("Runtime.ExitError"));
    let message = answer.json().unwrap()["errorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("Runtime exited with error: exit status: 3"),
        "{message}"
    );
    assert_eq!(
        crashed.finished(LIMIT).unwrap().ending,
        Ending::ProcessExited
    );
    let after = emulator
        .invoke(Invoke::json(&json!({})))
        .answer(LIMIT)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(after["cold"], true);
    assert_eq!(function.starts(), 2);
}

/// §4.2: a function whose init fails is not ready (the error says what it posted), and an
/// invocation sent to it gets that init error.
#[test]
fn init_failure_reaches_the_caller() {
    let emulator = Emulator::start().unwrap();
    let command =
        FunctionCommand::new(env!("CARGO_BIN_EXE_coda-fixture")).env("CODA_FIXTURE", "init-error");
    let function = emulator.supervise(command).unwrap();
    match function.wait_ready(LIMIT) {
        Err(ReadyError::Exited {
            init_error: Some((kind, body)),
            ..
        }) => {
            assert_eq!(kind, "Function.IoError");
            assert!(body.contains("No such file"), "{body}");
        }
        other => panic!("expected an init failure, got {other:?}"),
    }
    let answer = emulator
        .invoke(Invoke::json(&json!({})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(answer.function_error.as_deref(), Some("Function.IoError"));
}

/// A program that cannot be started is a clear error, not a hang.
#[test]
fn missing_program_is_a_spawn_error() {
    let emulator = Emulator::start().unwrap();
    let function = emulator
        .supervise(FunctionCommand::new("/nonexistent/coda-function"))
        .unwrap();
    let error = function.wait_ready(LIMIT).unwrap_err();
    assert!(matches!(error, ReadyError::Spawn { .. }), "{error:?}");
    assert!(error.to_string().contains("/nonexistent/coda-function"));
}

/// §6.1: Managed Instances mode: as many parked `/next` as workers; an invocation goes to an
/// idle one, is turned away (429) when none is idle, and ends when answered.
#[test]
fn concurrency_mode_dispatches_and_rejects() {
    let emulator = Emulator::builder().concurrency(2).start().unwrap();
    let (started_tx, started_rx) = mpsc::channel::<String>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Arc::new(Mutex::new(release_rx));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let started = started_tx.clone();
        let release = release_rx.clone();
        let runtime = Runtime::new(emulator.config()).publish_trace_id(false);
        workers.push(std::thread::spawn(move || {
            runtime.run(move |event: Value, ctx: &mut Context| {
                started.send(ctx.request_id().to_owned()).unwrap();
                let _ = release.lock().unwrap().recv_timeout(LIMIT);
                Ok::<_, Diagnostic>(event)
            })
        }));
    }
    emulator.wait_parked(LIMIT).unwrap();
    // Wait until both workers are parked on /next.
    emulator.wait_next_calls(2, LIMIT).unwrap();
    let a = emulator.invoke(Invoke::json(&json!("a")));
    let b = emulator.invoke(Invoke::json(&json!("b")));
    let mut busy = vec![
        started_rx.recv_timeout(LIMIT).unwrap(),
        started_rx.recv_timeout(LIMIT).unwrap(),
    ];
    busy.sort();
    let mut expected = vec![a.request_id().to_owned(), b.request_id().to_owned()];
    expected.sort();
    assert_eq!(busy, expected, "both in flight at once");
    let rejected = emulator
        .invoke(Invoke::json(&json!("c")))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(
        (rejected.status, rejected.function_error.as_deref()),
        (429, Some("TooManyRequestsException"))
    );
    release_tx.send(()).unwrap();
    release_tx.send(()).unwrap();
    assert_eq!(a.answer(LIMIT).unwrap().payload, br#""a""#);
    assert_eq!(b.answer(LIMIT).unwrap().payload, br#""b""#);
    assert_eq!(a.finished(LIMIT).unwrap().ending, Ending::Completed);
    drop(emulator);
    for worker in workers {
        let _ = worker.join();
    }
}
