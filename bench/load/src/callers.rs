//! The callers: C threads, each with a ureq agent of its own (one kept-alive connection),
//! in a closed loop on the Invoke API; every answer checked.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::options::{Check, Options};
use crate::process;

/// How long one invocation may keep meeting 429s before it is lost.
const THROTTLE_LIMIT: Duration = Duration::from_secs(60);

/// Connection errors and statuses other than 200 and 429 one invocation may meet before it
/// is lost.
const MAX_FAILURES: u32 = 3;

/// The pause after a connection error or an unexpected status.
const FAILURE_PAUSE: Duration = Duration::from_millis(10);

/// Examples of what went wrong kept for the report.
const MAX_EXAMPLES: usize = 5;

/// What one caller (or all, merged) counted.
#[derive(Default)]
pub struct Tally {
    /// Invocations answered 200 whose answer passed the check.
    pub answered: u64,
    /// Invocations answered 200 whose answer did not pass it.
    pub mismatched: u64,
    /// Invocations without a 200 after the retries.
    pub lost: u64,
    /// 429s met (each retried).
    pub throttled: u64,
    /// Connection errors met (each retried).
    pub connection_errors: u64,
    /// Statuses other than 200 and 429 met, by status.
    pub other_statuses: BTreeMap<u16, u64>,
    /// Requests sent (every attempt).
    pub requests: u64,
    /// Caller latency of every answered invocation, µs: first send -> body read.
    pub latencies_us: Vec<u64>,
    /// The request ids answered (the `trace` check).
    pub request_ids: Vec<String>,
    /// What went wrong, a few examples.
    pub examples: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.answered += other.answered;
        self.mismatched += other.mismatched;
        self.lost += other.lost;
        self.throttled += other.throttled;
        self.connection_errors += other.connection_errors;
        for (status, n) in other.other_statuses {
            *self.other_statuses.entry(status).or_default() += n;
        }
        self.requests += other.requests;
        self.latencies_us.extend(other.latencies_us);
        self.request_ids.extend(other.request_ids);
        for e in other.examples {
            if self.examples.len() < MAX_EXAMPLES {
                self.examples.push(e);
            }
        }
    }

    fn example(&mut self, what: String) {
        if self.examples.len() < MAX_EXAMPLES {
            self.examples.push(what);
        }
    }
}

/// One memory sample (`--sample-every`).
pub struct Sample {
    /// Measured invocations done when it was taken.
    pub count: u64,
    pub function_vmhwm_kb: Option<u64>,
    pub function_vmrss_kb: Option<u64>,
    pub coda_vmrss_kb: Option<u64>,
    /// Since the start of the measured phase.
    pub elapsed_s: f64,
}

/// Figures read at the edges of the measured phase.
pub struct Edge {
    pub at: Instant,
    pub coda_ticks: Option<u64>,
    pub function_ticks: Option<u64>,
    pub function_pid: Option<u32>,
}

impl Edge {
    fn read(coda_pid: u32) -> Edge {
        let function_pid = process::first_child(coda_pid);
        Edge {
            at: Instant::now(),
            coda_ticks: process::cpu_ticks(coda_pid),
            function_ticks: function_pid.and_then(process::cpu_ticks),
            function_pid,
        }
    }
}

/// What a whole run gives.
pub struct Outcome {
    pub measured: Tally,
    pub warm_up: Tally,
    pub check: Check,
    pub start: Edge,
    pub end: Edge,
    pub samples: Vec<Sample>,
}

/// The state the callers share.
struct Shared<'a> {
    options: &'a Options,
    url: &'a str,
    coda_pid: u32,
    /// The check, once decided (`auto`: from the first answer).
    check: OnceLock<Check>,
    /// Measured invocations done, over all callers.
    done: AtomicU64,
    /// The start of the measured phase.
    start: OnceLock<Instant>,
    samples: Mutex<Vec<Sample>>,
    /// Per-run salt of the trace ids.
    seed: u64,
}

/// Runs the warm-up and the measured phase.
pub fn run(options: &Options, url: &str, coda_pid: u32) -> Result<Outcome, String> {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0x5eed);
    let shared = Shared {
        options,
        url,
        coda_pid,
        check: OnceLock::new(),
        done: AtomicU64::new(0),
        start: OnceLock::new(),
        samples: Mutex::new(Vec::new()),
        seed: splitmix(seed ^ u64::from(coda_pid)),
    };
    if options.check != Check::Auto {
        let _ = shared.check.set(options.check);
    }
    let c = options.callers as u64;
    let share = |total: u64, i: u64| total / c + u64::from(i < total % c);
    // The callers and this thread: once all callers have warmed up, and once this thread
    // has read the start figures.
    let warmed = Barrier::new(options.callers + 1);
    let go = Barrier::new(options.callers + 1);
    let (tallies, start, end) = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..c)
            .map(|i| {
                let (shared, warmed, go) = (&shared, &warmed, &go);
                std::thread::Builder::new()
                    .name(format!("caller-{i}"))
                    .spawn_scoped(scope, move || {
                        caller(
                            shared,
                            i,
                            share(options.warm_up, i),
                            share(options.invocations, i),
                            warmed,
                            go,
                        )
                    })
            })
            .collect();
        // A caller that could not start would leave the barriers waiting: give up at once
        // (coda is left to the caller of this program: its pid is printed).
        if let Some(Err(e)) = handles.iter().find(|h| h.is_err()) {
            eprintln!("bench-load: cannot start a caller thread ({e}); coda is pid {coda_pid}");
            std::process::exit(2);
        }
        warmed.wait();
        let start = Edge::read(coda_pid);
        let _ = shared.start.set(start.at);
        go.wait();
        let tallies: Vec<_> = handles
            .into_iter()
            .flatten()
            .map(|h| h.join().map_err(|_| "a caller panicked".to_owned()))
            .collect();
        (tallies, start, Edge::read(coda_pid))
    });
    let mut measured = Tally::default();
    let mut warm_up = Tally::default();
    for t in tallies {
        let (w, m) = t?;
        warm_up.merge(w);
        measured.merge(m);
    }
    let mut samples = shared.samples.into_inner().map_err(|_| "poisoned")?;
    samples.sort_by_key(|s| s.count);
    Ok(Outcome {
        measured,
        warm_up,
        check: shared.check.get().copied().unwrap_or(Check::Echo),
        start,
        end,
        samples,
    })
}

/// One caller: its share of the warm-up, the barriers, its share of the measured phase.
fn caller(
    shared: &Shared<'_>,
    caller: u64,
    warm_up: u64,
    measured: u64,
    warmed: &Barrier,
    go: &Barrier,
) -> (Tally, Tally) {
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .max_idle_connections(1)
        .max_idle_connections_per_host(1)
        .no_delay(true)
        .timeout_global(Some(Duration::from_secs(120)))
        .build();
    let agent = ureq::Agent::new_with_config(config);
    let mut seq = 0;
    let mut warm = Tally::default();
    for _ in 0..warm_up {
        invoke(shared, &agent, caller, seq, &mut warm, false);
        seq += 1;
    }
    warmed.wait();
    go.wait();
    let mut tally = Tally::default();
    tally.latencies_us.reserve(measured as usize);
    for _ in 0..measured {
        invoke(shared, &agent, caller, seq, &mut tally, true);
        seq += 1;
    }
    (warm, tally)
}

/// The event of invocation `seq` of `caller`: keys in sorted order (what a
/// `serde_json::Value` round trip writes), padded to the options' size.
fn payload(options: &Options, caller: u64, seq: u64) -> String {
    let sleep = options
        .sleep_ms
        .map(|ms| format!(r#","sleep_ms":{ms}"#))
        .unwrap_or_default();
    let bare = format!(r#"{{"caller":{caller},"pad":"","seq":{seq}{sleep}}}"#);
    let pad = "x".repeat(options.payload_bytes.saturating_sub(bare.len()));
    format!(r#"{{"caller":{caller},"pad":"{pad}","seq":{seq}{sleep}}}"#)
}

/// SplitMix64: a bijection of u64, so distinct inputs give distinct ids.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A new X-Amzn-Trace-Id, and its Root: `Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=0`,
/// the 24 hex digits the caller's number and a bijection of the sequence number.
fn trace_header(seed: u64, caller: u64, seq: u64) -> (String, String) {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let unique = splitmix(seed.wrapping_add(seq));
    let root = format!("1-{:08x}-{:08x}{unique:016x}", secs as u32, caller as u32);
    let parent = splitmix(unique ^ seed);
    (format!("Root={root};Parent={parent:016x};Sampled=0"), root)
}

/// The pause before retrying the `throttles`-th 429 of one invocation: drawn at random (from
/// `state`, a splitmix sequence) up to `retry_pause × 2^(throttles-1)`, bounded by `retry_cap`
/// ("full jitter", as AWS SDKs back off from throttling).
fn backoff(options: &Options, throttles: u32, state: &mut u64) -> Duration {
    let base = options.retry_pause.as_micros() as u64;
    if base == 0 {
        return Duration::ZERO;
    }
    let cap = options.retry_cap.as_micros() as u64;
    let bound = base
        .saturating_mul(1u64 << throttles.saturating_sub(1).min(30))
        .min(cap);
    if bound == base && cap == base {
        return options.retry_pause;
    }
    *state = splitmix(*state);
    Duration::from_micros(*state % (bound + 1))
}

/// The `Root=` value of a trace header.
fn root_of(header: &str) -> Option<&str> {
    header
        .split(';')
        .find_map(|part| part.trim().strip_prefix("Root="))
}

/// One invocation, retried as the module says, counted in `tally`.
fn invoke(
    shared: &Shared<'_>,
    agent: &ureq::Agent,
    caller: u64,
    seq: u64,
    tally: &mut Tally,
    measured: bool,
) {
    let body = payload(shared.options, caller, seq);
    let (trace, root) = trace_header(shared.seed, caller, seq);
    let first = Instant::now();
    let mut failures = 0;
    let mut throttles = 0u32;
    let mut jitter = splitmix(shared.seed ^ caller.rotate_left(32) ^ seq);
    let answer = loop {
        tally.requests += 1;
        let sent = agent
            .post(shared.url)
            .header("Content-Type", "application/json")
            .header("X-Amzn-Trace-Id", &trace)
            .send(body.as_bytes());
        let problem = match sent {
            Ok(mut response) => {
                let status = response.status().as_u16();
                match (status, response.body_mut().read_to_vec()) {
                    (200, Ok(answer)) => break Some(answer),
                    (429, Ok(_)) => {
                        tally.throttled += 1;
                        if first.elapsed() > THROTTLE_LIMIT {
                            tally.example(format!(
                                "caller {caller} seq {seq}: still 429 after {} s",
                                THROTTLE_LIMIT.as_secs()
                            ));
                            break None;
                        }
                        throttles += 1;
                        let pause = backoff(shared.options, throttles, &mut jitter);
                        if pause.is_zero() {
                            std::thread::yield_now();
                        } else {
                            std::thread::sleep(pause);
                        }
                        continue;
                    }
                    (_, Ok(answer)) => {
                        *tally.other_statuses.entry(status).or_default() += 1;
                        format!("status {status}: {}", String::from_utf8_lossy(&answer))
                    }
                    (_, Err(e)) => {
                        tally.connection_errors += 1;
                        format!("reading the answer: {e}")
                    }
                }
            }
            Err(e) => {
                tally.connection_errors += 1;
                format!("{e}")
            }
        };
        failures += 1;
        if failures > MAX_FAILURES {
            tally.example(format!("caller {caller} seq {seq}: lost: {problem}"));
            break None;
        }
        std::thread::sleep(FAILURE_PAUSE);
    };
    let latency = first.elapsed();
    match answer {
        None => tally.lost += 1,
        Some(answer) => {
            let check = *shared.check.get_or_init(|| decide(&answer));
            let verdict = match check {
                Check::Trace => check_trace(&answer, &root, tally),
                _ => check_echo(&answer, &body),
            };
            match verdict {
                Ok(()) => tally.answered += 1,
                Err(why) => {
                    tally.mismatched += 1;
                    tally.example(format!("caller {caller} seq {seq}: mismatch: {why}"));
                }
            }
            tally.latencies_us.push(latency.as_micros() as u64);
        }
    }
    if measured {
        let done = shared.done.fetch_add(1, Ordering::SeqCst) + 1;
        let every = shared.options.sample_every;
        if every > 0 && done.is_multiple_of(every) {
            sample(shared, done);
        }
    }
}

/// `auto`: `trace` for an object with `request_id` and `trace_id`, else `echo`.
fn decide(answer: &[u8]) -> Check {
    match serde_json::from_slice::<Value>(answer) {
        Ok(Value::Object(o)) if o.contains_key("request_id") && o.contains_key("trace_id") => {
            Check::Trace
        }
        _ => Check::Echo,
    }
}

fn check_echo(answer: &[u8], sent: &str) -> Result<(), String> {
    if answer == sent.as_bytes() {
        Ok(())
    } else {
        Err(format!(
            "sent {sent}, answered {}",
            String::from_utf8_lossy(answer)
        ))
    }
}

fn check_trace(answer: &[u8], root: &str, tally: &mut Tally) -> Result<(), String> {
    let text = || String::from_utf8_lossy(answer).into_owned();
    let value: Value =
        serde_json::from_slice(answer).map_err(|e| format!("not JSON ({e}): {}", text()))?;
    let got = value["trace_id"].as_str().and_then(root_of);
    if got != Some(root) {
        return Err(format!("sent Root={root}, answered {}", text()));
    }
    let id = value["request_id"]
        .as_str()
        .ok_or_else(|| format!("no request_id: {}", text()))?;
    tally.request_ids.push(id.to_owned());
    Ok(())
}

/// Takes one memory sample and prints it.
fn sample(shared: &Shared<'_>, count: u64) {
    let function = process::first_child(shared.coda_pid);
    let s = Sample {
        count,
        function_vmhwm_kb: function.and_then(|p| process::status_kb(p, "VmHWM")),
        function_vmrss_kb: function.and_then(|p| process::status_kb(p, "VmRSS")),
        coda_vmrss_kb: process::status_kb(shared.coda_pid, "VmRSS"),
        elapsed_s: shared
            .start
            .get()
            .map_or(0.0, |s| s.elapsed().as_secs_f64()),
    };
    let show = |v: Option<u64>| v.map_or("n/a".to_owned(), |v| v.to_string());
    eprintln!(
        "bench-load: sample: {count} invocations, function VmHWM {} kB VmRSS {} kB, coda VmRSS {} kB, {:.1} s",
        show(s.function_vmhwm_kb),
        show(s.function_vmrss_kb),
        show(s.coda_vmrss_kb),
        s.elapsed_s
    );
    if let Ok(mut samples) = shared.samples.lock() {
        samples.push(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter_or_stays_fixed() {
        let parse = |extra: &[&str]| {
            let mut args = vec!["--coda", "c", "--invocations", "1"];
            args.extend_from_slice(extra);
            args.extend_from_slice(&["--", "f"]);
            crate::options::parse(args.into_iter().map(Into::into))
                .unwrap()
                .unwrap()
        };
        let exponential = parse(&["--retry-pause-us", "1000", "--retry-cap-us", "8000"]);
        let mut state = 1;
        for throttles in 1..=10u32 {
            let bound = (1000u64 << (throttles - 1).min(3)).min(8000);
            let pauses: Vec<Duration> = (0..200)
                .map(|_| backoff(&exponential, throttles, &mut state))
                .collect();
            assert!(pauses.iter().all(|p| p.as_micros() as u64 <= bound));
            assert!(pauses.iter().any(|p| p.as_micros() as u64 > bound / 2));
            assert!(pauses.iter().any(|p| (p.as_micros() as u64) < bound / 2));
        }
        let fixed = parse(&["--retry-pause-us", "500", "--retry-cap-us", "500"]);
        for throttles in 1..=5 {
            assert_eq!(
                backoff(&fixed, throttles, &mut state),
                Duration::from_micros(500)
            );
        }
        let yielding = parse(&["--retry-pause-us", "0"]);
        assert_eq!(backoff(&yielding, 3, &mut state), Duration::ZERO);
    }

    #[test]
    fn trace_headers_are_new_and_well_formed() {
        let (a, root_a) = trace_header(7, 1, 0);
        let (b, root_b) = trace_header(7, 1, 1);
        assert_ne!(root_a, root_b);
        assert_eq!(root_of(&a), Some(root_a.as_str()));
        assert_eq!(root_of(&b), Some(root_b.as_str()));
        let root = root_a.split('-').collect::<Vec<_>>();
        assert_eq!((root[0], root[1].len(), root[2].len()), ("1", 8, 24));
        assert!(a.ends_with(";Sampled=0"));
        assert_eq!(a.split(";Parent=").nth(1).unwrap().len(), 16 + 10);
    }

    #[test]
    fn payloads_have_the_size_asked() {
        let o = crate::options::parse(
            [
                "--coda",
                "c",
                "--invocations",
                "1",
                "--payload-bytes",
                "100",
            ]
            .iter()
            .map(std::ffi::OsString::from)
            .chain(["--", "f"].iter().map(std::ffi::OsString::from)),
        )
        .unwrap()
        .unwrap();
        let p = payload(&o, 3, 12);
        assert_eq!(p.len(), 100);
        let v: Value = serde_json::from_str(&p).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), p);
    }
}
