//! The caller's answer arrives before the metrics line is written: the output waits until
//! the test has seen the answer (a runtime that wrote the metrics first would never answer,
//! and the test's bounded wait would fail), and every line is written after the answer's
//! time as the emulator recorded it.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use coda_emulator::{Emulator, Invoke, NextReply};
use coda_handlers::metrics::{Metrics, Unit};
use coda_lambda::{Context, Diagnostic, Runtime};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(30);

#[test]
fn answer_before_the_metrics_line() {
    let (seen_tx, seen_rx) = mpsc::channel::<()>();
    let mut seen_rx = Some(seen_rx);
    let written: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
    let sink = written.clone();
    let metrics = Metrics::builder("Shop")
        .output(move |line| {
            if let Some(rx) = seen_rx.take() {
                // The first line waits for the test to have the answer.
                let _ = rx.recv_timeout(LIMIT);
            }
            sink.lock().unwrap().push((Instant::now(), line.to_owned()));
        })
        .build()
        .unwrap();
    let m = metrics.clone();
    let handler = metrics.handler(
        move |_: Value, _: &mut Context| -> Result<&str, Diagnostic> {
            m.add("Handled", 1.0, Unit::Count)?;
            Ok("answered")
        },
    );
    let observer = metrics.clone();
    coda_emulator::testing::init_logger();
    let emulator = Emulator::builder().start().expect("emulator");
    let pending = emulator.invoke(Invoke::new("{}"));
    emulator.script_next(NextReply::Status {
        status: 500,
        body: b"end".to_vec(),
    });
    let config = emulator.config();
    let runtime = std::thread::spawn(move || {
        let runtime = Runtime::new(config).publish_trace_id(false);
        observer.observe(runtime).run(handler)
    });
    let answer = pending
        .answer(LIMIT)
        .expect("the answer, while the metrics wait");
    assert_eq!(answer.payload, br#""answered""#);
    assert!(
        written.lock().unwrap().is_empty(),
        "no metrics line before the answer"
    );
    assert_eq!(emulator.next_calls(), 1, "the invocation is not over");
    seen_tx.send(()).unwrap();
    pending.finished(LIMIT).expect("finished");
    let answered_at = pending.queued_at() + answer.latency;
    let written = written.lock().unwrap();
    assert_eq!(written.len(), 3, "business, at the answer, at the end");
    for (at, line) in written.iter() {
        assert!(*at > answered_at, "written after the answer: {line}");
        crate::support::check(line);
    }
    let _ = runtime.join();
}
