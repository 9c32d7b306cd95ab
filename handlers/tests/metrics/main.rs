//! The metrics writer's tests: EMF objects parsed back and checked against the format's
//! rules, flushes through Coda's real loop against the real emulator, the `metrics` example
//! as a process writing to its real stdout, and the logger's extra keys.

/// The `metrics` example, compiled in as a module so the tests drive its handler (and, in a
/// child process, its `main`).
#[allow(dead_code)]
#[path = "../../../examples/metrics.rs"]
mod metrics_example;

/// The answer arrives before the metrics line is written.
mod answer_first;
/// `MetricSet`: the format, the 100-metric and 100-value splits, every validation error.
mod emf;
/// The deferred flush and the observer through the loop: what each writes, errors and panics
/// included.
mod flush;
/// The `metrics` example as a process: EMF lines on its stdout, JSON log lines with
/// persistent and appended keys on its stderr.
mod process;
/// The EMF rules as a checker, and a capturing output.
mod support;
