//! bench-load: a closed-loop load caller for `coda run` (`bench/soak.sh`, `bench/load.sh`).
//!
//! Starts `coda run --port 0 [--concurrency N] -- FUNCTION ARGS`, reads its stderr until the
//! function is ready and the banner names the Invoke API's port, drains coda's output from
//! then on (to `--log FILE`, else dropped), and drives the Invoke API with C caller threads,
//! each with a ureq agent of its own (one kept-alive connection): W warm-up invocations (not
//! counted), then I measured ones, split evenly among the callers:
//!
//!     bench-load --coda target/release/coda --callers 8 --invocations 100000 \
//!       --sample-every 10000 -- target/release/echo
//!     {"label":"echo","callers":8,"answered":100000,"lost":0,"mismatched":0,...}
//!
//! Every event is unique (`{"caller":c,"pad":"x…","seq":s}`, padded to `--payload-bytes`)
//! and carries a new `X-Amzn-Trace-Id`. The check (`--check`, default from the first
//! answer's shape): `echo`, the answer is the event byte for byte; `trace` (the `concurrent`
//! example's `{"request_id","trace_id","worker",…}`), the answer's trace id has the Root
//! sent and no request id comes twice. Counted: answered, mismatched, lost (no 200 after the
//! retries), 429s (retried after `--retry-pause-us`), connection errors and other statuses
//! (retried up to 3 times).
//!
//! The figures (measured phase only): invocations/s, the caller's latency p50/p99/max (first
//! send -> body read), the CPU time (utime + stime of `/proc/<pid>/stat`) of `coda` and of
//! the function (coda's child) per invocation, and their VmHWM and VmRSS at the end;
//! `--sample-every K` adds a memory sample every K measured invocations. The report goes to
//! stderr, one JSON line of figures to stdout. Exit status: 0 when nothing was lost or
//! mismatched, 1 otherwise, 2 when the run could not take place. Coda is killed at the end
//! (its function dies with it).
//!
//! Modules: `options` (the command line), `process` (coda and `/proc`), `callers` (the
//! load and the checks).

#![forbid(unsafe_code)]

mod callers;
mod options;
mod process;

use std::collections::HashSet;
use std::process::ExitCode;

use serde_json::{Value, json};

use callers::{Edge, Outcome};
use options::{Options, USAGE};
use process::Coda;

fn main() -> ExitCode {
    let options = match options::parse(std::env::args_os().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("bench-load: {e}");
            return ExitCode::from(2);
        }
    };
    if !process::exists(&options.coda) {
        eprintln!(
            "bench-load: no coda binary at {} (build it: cargo build --release -p coda-bootstrap)",
            options.coda.display()
        );
        return ExitCode::from(2);
    }
    let mut coda = match Coda::start(&options) {
        Ok(coda) => coda,
        Err(e) => {
            eprintln!("bench-load: {e}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "bench-load: {}: coda (pid {}) serves {}; {} callers, {} warm-up + {} measured invocations",
        options.label,
        coda.pid(),
        coda.url,
        options.callers,
        options.warm_up,
        options.invocations
    );
    let outcome = callers::run(&options, &coda.url, coda.pid());
    let end_memory = Memory::read(coda.pid());
    let still_running = coda.running();
    let outcome = match outcome {
        Ok(outcome) => outcome,
        Err(e) => {
            eprintln!("bench-load: {}", coda.failure(&e));
            return ExitCode::from(2);
        }
    };
    if !still_running {
        eprintln!(
            "bench-load: {}",
            coda.failure("coda was no longer running at the end")
        );
    }
    coda.stop();
    let figures = figures(&options, &outcome, &end_memory);
    report(&options, &outcome, &figures);
    println!("{figures}");
    let measured = &outcome.measured;
    let failed = measured.lost
        + measured.mismatched
        + outcome.warm_up.lost
        + outcome.warm_up.mismatched
        + figures["duplicate_request_ids"].as_u64().unwrap_or(0);
    if failed == 0 && still_running {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Memory figures at the end of the measured phase.
struct Memory {
    function_vmhwm_kb: Option<u64>,
    function_vmrss_kb: Option<u64>,
    coda_vmhwm_kb: Option<u64>,
    coda_vmrss_kb: Option<u64>,
}

impl Memory {
    fn read(coda: u32) -> Memory {
        let function = process::first_child(coda);
        Memory {
            function_vmhwm_kb: function.and_then(|p| process::status_kb(p, "VmHWM")),
            function_vmrss_kb: function.and_then(|p| process::status_kb(p, "VmRSS")),
            coda_vmhwm_kb: process::status_kb(coda, "VmHWM"),
            coda_vmrss_kb: process::status_kb(coda, "VmRSS"),
        }
    }
}

/// CPU µs per measured invocation between two readings of clock ticks.
fn per_invocation(start: Option<u64>, end: Option<u64>, ticks: u64, count: u64) -> Option<f64> {
    let used = end?.checked_sub(start?)?;
    (count > 0).then(|| used as f64 * 1e6 / ticks as f64 / count as f64)
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Rounded to 0.1 for the JSON.
fn tenth(v: Option<f64>) -> Value {
    v.map_or(Value::Null, |v| json!((v * 10.0).round() / 10.0))
}

fn figures(options: &Options, outcome: &Outcome, memory: &Memory) -> Value {
    let m = &outcome.measured;
    let ticks = process::clock_ticks();
    let (start, end): (&Edge, &Edge) = (&outcome.start, &outcome.end);
    let seconds = end.at.duration_since(start.at).as_secs_f64();
    let mut latencies = m.latencies_us.clone();
    latencies.sort_unstable();
    let done = m.answered + m.mismatched + m.lost;
    let same_function = start.function_pid.is_some() && start.function_pid == end.function_pid;
    let function_cpu = if same_function {
        per_invocation(start.function_ticks, end.function_ticks, ticks, done)
    } else {
        None
    };
    let distinct: HashSet<&str> = m.request_ids.iter().map(String::as_str).collect();
    let duplicates = m.request_ids.len() - distinct.len();
    let samples: Vec<Value> = outcome
        .samples
        .iter()
        .map(|s| {
            json!({
                "count": s.count,
                "function_vmhwm_kb": s.function_vmhwm_kb,
                "function_vmrss_kb": s.function_vmrss_kb,
                "coda_vmrss_kb": s.coda_vmrss_kb,
                "elapsed_s": (s.elapsed_s * 1000.0).round() / 1000.0,
            })
        })
        .collect();
    let statuses: serde_json::Map<String, Value> = m
        .other_statuses
        .iter()
        .map(|(s, n)| (s.to_string(), json!(n)))
        .collect();
    json!({
        "label": options.label,
        "callers": options.callers,
        "retry_pause_us": options.retry_pause.as_micros() as u64,
        "retry_cap_us": options.retry_cap.as_micros() as u64,
        "concurrency": options.concurrency,
        "invocations": options.invocations,
        "warm_up": options.warm_up,
        "payload_bytes": options.payload_bytes,
        "check": outcome.check.name(),
        "answered": m.answered,
        "mismatched": m.mismatched,
        "lost": m.lost,
        "rejected_429": m.throttled,
        "connection_errors": m.connection_errors,
        "other_statuses": statuses,
        "requests": m.requests,
        "duplicate_request_ids": duplicates,
        "warm_up_lost": outcome.warm_up.lost,
        "warm_up_mismatched": outcome.warm_up.mismatched,
        "warm_up_rejected_429": outcome.warm_up.throttled,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "invocations_per_s": tenth((seconds > 0.0).then(|| done as f64 / seconds)),
        "latency_p50_us": percentile(&latencies, 50.0),
        "latency_p99_us": percentile(&latencies, 99.0),
        "latency_max_us": latencies.last(),
        "clk_tck": ticks,
        "coda_cpu_us_per_inv": tenth(per_invocation(start.coda_ticks, end.coda_ticks, ticks, done)),
        "coda_cpu_us_per_request": tenth(per_invocation(start.coda_ticks, end.coda_ticks, ticks, m.requests)),
        "function_cpu_us_per_inv": tenth(function_cpu),
        "function_pid_start": start.function_pid,
        "function_pid_end": end.function_pid,
        "function_vmhwm_kb": memory.function_vmhwm_kb,
        "function_vmrss_kb": memory.function_vmrss_kb,
        "coda_vmhwm_kb": memory.coda_vmhwm_kb,
        "coda_vmrss_kb": memory.coda_vmrss_kb,
        "samples": samples,
    })
}

/// The human report, on stderr.
fn report(options: &Options, outcome: &Outcome, f: &Value) {
    let m = &outcome.measured;
    let s = |k: &str| match &f[k] {
        Value::Null => "n/a".to_owned(),
        v => v.to_string(),
    };
    eprintln!(
        "bench-load: {}: {} callers, {} invocations in {} s: {} inv/s (check: {})",
        options.label,
        options.callers,
        options.invocations,
        s("seconds"),
        s("invocations_per_s"),
        outcome.check.name()
    );
    eprintln!(
        "  answered {}, mismatched {}, lost {}, 429s {}, connection errors {}, other statuses {}, duplicate request ids {}",
        m.answered,
        m.mismatched,
        m.lost,
        m.throttled,
        m.connection_errors,
        f["other_statuses"],
        s("duplicate_request_ids")
    );
    eprintln!(
        "  latency p50 {} us, p99 {} us, max {} us",
        s("latency_p50_us"),
        s("latency_p99_us"),
        s("latency_max_us")
    );
    eprintln!(
        "  CPU per invocation: coda {} us, function {} us (CLK_TCK {})",
        s("coda_cpu_us_per_inv"),
        s("function_cpu_us_per_inv"),
        s("clk_tck")
    );
    eprintln!(
        "  memory at the end: function VmHWM {} kB VmRSS {} kB; coda VmHWM {} kB VmRSS {} kB",
        s("function_vmhwm_kb"),
        s("function_vmrss_kb"),
        s("coda_vmhwm_kb"),
        s("coda_vmrss_kb")
    );
    if f["function_pid_start"] != f["function_pid_end"] {
        eprintln!(
            "  the function's pid changed during the run ({} -> {}): it was restarted",
            s("function_pid_start"),
            s("function_pid_end")
        );
    }
    let w = &outcome.warm_up;
    if w.lost + w.mismatched > 0 {
        eprintln!("  warm-up: {} lost, {} mismatched", w.lost, w.mismatched);
    }
    for e in w.examples.iter().chain(&m.examples) {
        eprintln!("  {e}");
    }
}
