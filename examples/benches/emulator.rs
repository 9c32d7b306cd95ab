//! Caller-side figures under Coda's embedded emulator, for `bench/run.sh` (see BENCHMARKS.md).
//!
//! Runs two function binaries, each as a child process with [`Emulator::function_env`] as its
//! whole environment (plus `CODA_DEFER_MS` when set) against an emulator of its own, and
//! invokes them one invocation at a time, alternating A and B (B first every other time). Each
//! invocation is queued only once the previous one ended, so both always meet a runtime
//! parked on `/next` after the same idle gap:
//!
//!     cargo bench -q -p coda-examples --bench emulator -- --invocations 1000 target/release/echo target/release/echo-deferred
//!
//! Per function, one `key=value` line on stdout: p50 and p99 of the caller's latency
//! (`Answer::latency`, queue -> answer) and of the invocation's end (`finished_after`, queue ->
//! the runtime's next `/next`), and the one-at-a-time rate (invocations / the sum of their
//! ends). Every answer is checked to be the event byte for byte; `--raw FILE` also writes every
//! sample as CSV. Only `cargo bench` runs it (cargo passes `--bench`); under
//! `cargo test --all-targets` it prints a note and exits.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::Duration;

use coda_emulator::{Emulator, Invoke};

/// The kit's default event: keys sorted, so a `serde_json::Value` round trip returns it as is.
const EVENT: &[u8] = br#"{"command":"echo","id":42,"items":[1,2,3],"nested":{"a":"b","c":true}}"#;
/// Invocations per function before measuring (not recorded).
const WARM_UP: usize = 20;
/// How long any single wait may take before the run is declared broken.
const LIMIT: Duration = Duration::from_secs(30);

type Result<T> = std::result::Result<T, String>;

struct Options {
    invocations: usize,
    raw: Option<PathBuf>,
    binaries: Vec<PathBuf>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("emulator: a benchmark; run it with `cargo bench` (see BENCHMARKS.md)");
        return ExitCode::SUCCESS;
    }
    match parse(&args).and_then(|options| measure(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("emulator bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        invocations: 1000,
        raw: None,
        binaries: Vec::new(),
    };
    let mut args = args.iter().filter(|a| *a != "--bench");
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--invocations" => options.invocations = number(value()?)?,
            "--raw" => options.raw = Some(PathBuf::from(value()?)),
            _ => options.binaries.push(PathBuf::from(arg)),
        }
    }
    if options.binaries.len() != 2 || options.invocations == 0 {
        return Err("usage: emulator [--invocations N] [--raw FILE] BINARY_A BINARY_B".into());
    }
    Ok(options)
}

fn number(text: &str) -> Result<usize> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// A function process serving its own emulator; killed when dropped.
struct Function {
    label: String,
    emulator: Emulator,
    child: Child,
}

impl Function {
    fn start(binary: &Path) -> Result<Function> {
        let label = binary
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let emulator = Emulator::start().map_err(|e| format!("emulator: {e}"))?;
        let mut command = Command::new(binary);
        command
            .env_clear()
            .envs(emulator.function_env())
            .stdin(Stdio::null());
        if let Ok(ms) = std::env::var("CODA_DEFER_MS") {
            command.env("CODA_DEFER_MS", ms);
        }
        let child = command
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let function = Function {
            label,
            emulator,
            child,
        };
        function
            .emulator
            .wait_parked(LIMIT)
            .map_err(|e| format!("{}: first /next: {e}", function.label))?;
        for _ in 0..WARM_UP {
            function.invoke_one()?;
        }
        Ok(function)
    }

    /// One invocation on an idle runtime: (caller's latency, invocation's end).
    fn invoke_one(&self) -> Result<(Duration, Duration)> {
        let pending = self.emulator.invoke(Invoke::new(EVENT));
        let answer = pending.answer(LIMIT).map_err(|e| self.failed(e))?;
        self.check(&answer.payload)?;
        let finished = pending.finished(LIMIT).map_err(|e| self.failed(e))?;
        Ok((answer.latency, finished.finished_after))
    }

    fn check(&self, payload: &[u8]) -> Result<()> {
        if payload == EVENT {
            Ok(())
        } else {
            Err(format!(
                "{}: answer is not the event: {}",
                self.label,
                String::from_utf8_lossy(payload)
            ))
        }
    }

    fn failed(&self, e: impl std::fmt::Display) -> String {
        format!("{}: {e}", self.label)
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        // The measurements are done: stop the emulator and the function (which would exit on
        // its own after the 500 its parked /next gets) without waiting on a timer.
        self.emulator.shutdown();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn measure(options: &Options) -> Result<()> {
    let functions = [
        Function::start(&options.binaries[0])?,
        Function::start(&options.binaries[1])?,
    ];
    let mut raw = match &options.raw {
        Some(path) => {
            let file = File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let mut file = BufWriter::new(file);
            writeln!(file, "function,invocation,answer_us,finished_us")
                .map_err(|e| e.to_string())?;
            Some(file)
        }
        None => None,
    };
    let mut samples: [Vec<(Duration, Duration)>; 2] = Default::default();
    for i in 0..options.invocations {
        let order = if i % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let (answer, finished) = functions[which].invoke_one()?;
            samples[which].push((answer, finished));
            if let Some(raw) = raw.as_mut() {
                let label = &functions[which].label;
                let (answer, finished) = (micros(answer), micros(finished));
                writeln!(raw, "{label},{i},{answer:.1},{finished:.1}")
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    for (function, samples) in functions.iter().zip(samples) {
        let mut answers: Vec<f64> = samples.iter().map(|s| micros(s.0)).collect();
        let mut ends: Vec<f64> = samples.iter().map(|s| micros(s.1)).collect();
        let busy: f64 = ends.iter().sum::<f64>() / 1e6;
        println!(
            "label={} n={} answer_p50_us={:.1} answer_p99_us={:.1} finished_p50_us={:.1} finished_p99_us={:.1} invocations_per_s={:.1}",
            function.label,
            samples.len(),
            percentile(&mut answers, 50.0),
            percentile(&mut answers, 99.0),
            percentile(&mut ends, 50.0),
            percentile(&mut ends, 99.0),
            samples.len() as f64 / busy,
        );
    }
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The nearest-rank percentile (of an even count, the median is the lower middle value).
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}
