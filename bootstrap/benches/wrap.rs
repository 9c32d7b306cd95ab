//! What `coda wrap` costs an invocation, for `bench/wrap.sh` (see BENCHMARKS.md).
//!
//! AWS's Python runtime client (`python -m awslambdaric echo.handler`, the Python from
//! `CODA_TEST_PYTHON`) serves the same event in four ways, each against an emulator of its
//! own, with [`Emulator::function_env`] as its whole environment:
//!
//! - `direct`: the runtime alone;
//! - `wrapped`: `coda wrap -- <runtime>` with no command: the proxy's hop only;
//! - `wrapped+true`: `coda wrap --after-response true -- <runtime>`: the hop, plus starting
//!   and waiting for a command that does nothing (`/bin/bash -c true`, the default shell,
//!   through `coda __launch`);
//! - `wrapped+true(sh)`: the same with `--shell /bin/sh`.
//!
//! The invocations go one at a time, round-robin over the four in a rotating order, each
//! queued only once the previous one ended, so each meets a runtime parked on `/next`. Per
//! subject, one `key=value` line: p50 and p99 of the caller's latency (`Answer::latency`,
//! queue → answer) and of the whole invocation (`finished_after`, queue → the runtime's next
//! `/next`). Every answer is checked to be the event. Only `cargo bench` runs it (cargo
//! passes `--bench`); under `cargo test --all-targets` it prints a note and exits.
//!
//!     CODA_TEST_PYTHON=.venv/bin/python cargo bench -q -p coda-bootstrap --bench wrap -- --invocations 1000

use std::ffi::OsString;
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use coda_emulator::{Emulator, Invoke};

/// The event, in the form awslambdaric's encoder writes it back.
const EVENT: &[u8] = br#"{"command": "echo", "id": 42, "items": [1, 2, 3]}"#;
/// The `coda` built with the bench profile.
const CODA: &str = env!("CARGO_BIN_EXE_coda");
/// `echo.py`.
const HANDLERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python");
/// Invocations per subject before measuring.
const WARM_UP: usize = 50;
/// How long any single wait may take before the run is declared broken.
const LIMIT: Duration = Duration::from_secs(30);

/// The result of a step.
type Result<T> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("wrap: a benchmark; run it with `bash bench/wrap.sh` (see BENCHMARKS.md)");
        return ExitCode::SUCCESS;
    }
    let invocations = match args
        .iter()
        .position(|a| a == "--invocations")
        .and_then(|i| args.get(i + 1))
        .map(|n| n.parse::<usize>())
    {
        None => 1000,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("wrap bench: --invocations takes a positive number");
            return ExitCode::FAILURE;
        }
    };
    match measure(invocations) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wrap bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// One way of running the runtime, with its own emulator; killed when dropped.
struct Subject {
    /// Its name in the output.
    label: &'static str,
    /// Its emulator.
    emulator: Emulator,
    /// The process the emulator serves.
    child: Child,
    /// (caller's latency, whole invocation) per measured invocation.
    samples: Vec<(Duration, Duration)>,
}

impl Subject {
    /// Starts `wrapper` (empty: none) in front of the runtime and warms it up.
    fn start(label: &'static str, wrapper: &[&str]) -> Result<Subject> {
        let python = std::env::var_os("CODA_TEST_PYTHON")
            .ok_or("CODA_TEST_PYTHON is not set (bench/wrap.sh sets it)")?;
        let emulator = Emulator::start().map_err(|e| format!("emulator: {e}"))?;
        let runtime: [OsString; 4] = [
            python,
            "-m".into(),
            "awslambdaric".into(),
            "echo.handler".into(),
        ];
        let mut command = match wrapper {
            [] => Command::new(&runtime[0]),
            _ => {
                let mut c = Command::new(CODA);
                c.args(wrapper).arg("--").arg(&runtime[0]);
                c
            }
        };
        command
            .args(&runtime[1..])
            .env_clear()
            .envs(emulator.function_env())
            .env("PYTHONPATH", HANDLERS)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let child = command.spawn().map_err(|e| format!("{label}: {e}"))?;
        let subject = Subject {
            label,
            emulator,
            child,
            samples: Vec::new(),
        };
        subject
            .emulator
            .wait_parked(LIMIT)
            .map_err(|e| format!("{label}: first /next: {e}"))?;
        for _ in 0..WARM_UP {
            subject.invoke_one()?;
        }
        Ok(subject)
    }

    /// One invocation on an idle runtime: (caller's latency, whole invocation).
    fn invoke_one(&self) -> Result<(Duration, Duration)> {
        let pending = self.emulator.invoke(Invoke::new(EVENT));
        let answer = pending
            .answer(LIMIT)
            .map_err(|e| format!("{}: {e}", self.label))?;
        if answer.payload != EVENT {
            return Err(format!(
                "{}: the answer is not the event: {}",
                self.label,
                String::from_utf8_lossy(&answer.payload)
            ));
        }
        let finished = pending
            .finished(LIMIT)
            .map_err(|e| format!("{}: {e}", self.label))?;
        Ok((answer.latency, finished.finished_after))
    }
}

impl Drop for Subject {
    fn drop(&mut self) {
        self.emulator.shutdown();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs the subjects round-robin and prints their figures.
fn measure(invocations: usize) -> Result<()> {
    let mut subjects = [
        Subject::start("direct", &[])?,
        Subject::start("wrapped", &["wrap"])?,
        Subject::start("wrapped+true", &["wrap", "--after-response", "true"])?,
        Subject::start(
            "wrapped+true(sh)",
            &["wrap", "--shell", "/bin/sh", "--after-response", "true"],
        )?,
    ];
    for i in 0..invocations {
        for k in 0..subjects.len() {
            let which = (i + k) % subjects.len();
            let sample = subjects[which].invoke_one()?;
            subjects[which].samples.push(sample);
        }
    }
    let direct = figures(&subjects[0].samples);
    for subject in &subjects {
        let f = figures(&subject.samples);
        println!(
            "label={} n={} answer_p50_us={:.1} answer_p99_us={:.1} finished_p50_us={:.1} finished_p99_us={:.1} answer_p50_delta_us={:.1} finished_p50_delta_us={:.1}",
            subject.label,
            subject.samples.len(),
            f[0],
            f[1],
            f[2],
            f[3],
            f[0] - direct[0],
            f[2] - direct[2],
        );
    }
    Ok(())
}

/// p50 and p99 of the caller's latency, then of the whole invocation, in µs.
fn figures(samples: &[(Duration, Duration)]) -> [f64; 4] {
    let mut answers: Vec<f64> = samples.iter().map(|s| micros(s.0)).collect();
    let mut ends: Vec<f64> = samples.iter().map(|s| micros(s.1)).collect();
    [
        percentile(&mut answers, 50.0),
        percentile(&mut answers, 99.0),
        percentile(&mut ends, 50.0),
        percentile(&mut ends, 99.0),
    ]
}

/// A duration in microseconds.
fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The nearest-rank percentile `p` of `values`.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}
