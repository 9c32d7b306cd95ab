//! Managed Instances throughput under Coda's embedded emulator, for `bench/concurrent.sh` (see
//! BENCHMARKS.md).
//!
//! Starts an emulator in concurrency mode N (`EmulatorBuilder::concurrency`: N parked `/next`
//! calls at most, an invocation turned away with 429 when none is idle), runs one function
//! binary as a child process with [`Emulator::function_env`] as its whole environment (which
//! carries `AWS_LAMBDA_MAX_CONCURRENCY` = N when N > 1), waits for its N first `/next` calls,
//! and drives it with N callers in a closed loop: every caller queues `{"sleep_ms": S}`, waits
//! for the answer, and queues the next one. A warm-up round of W invocations per caller comes
//! first; then M invocations per caller are measured:
//!
//!     cargo bench -q -p coda-examples --bench concurrent -- --concurrency 4 target/release/concurrent
//!
//! Flags: `--concurrency N` [1], `--per-caller M` [100], `--warm-up W` [5], `--sleep-ms S`
//! [20], `--on-busy wait|retry` [wait], `--label L` [the binary's name], `--log FILE` (the
//! function's stdout and stderr, appended; default: read and dropped), `--exit-wait-ms MS`
//! (after the run, how long the function may take to exit on its own before it is killed,
//! for a profiler that writes at exit; default 0).
//!
//! Busy policy (`--on-busy`): a worker that has just answered is not idle until its next `/next`
//! arrives, so a caller that queues at once can meet no idle `/next` and a 429.
//! - `wait` (default): a caller queues only once a `/next` is sure to be idle for it. Every
//!   caller takes a ticket t (0, 1, 2, … over the whole run) and waits until the emulator has
//!   seen t + 1 `/next` calls ([`Emulator::wait_next_calls`]). Every invocation accepted
//!   before it holds a smaller ticket or waited for more calls still, so more calls have
//!   arrived than invocations were accepted: one of them is parked and free, and no 429 can
//!   happen (a 429 seen anyway is counted, its ticket handed back, and the invocation queued
//!   again).
//! - `retry`: a caller queues at once and, on a 429, yields and queues again; the 429s say how
//!   often a caller that does not wait meets the window between an answer and the next `/next`.
//!
//! One `key=value` line on stdout: the rate (measured invocations / the time from the start of
//! the measured round to its last answer), p50 and p99 of the caller's latency (queue ->
//! answer, [`coda_emulator::Answer::latency`]) and its mean, the mean time a caller waited for an idle
//! `/next`, the 429 count and how many invocations met at least one, how many distinct
//! workers answered, the function's peak RSS (`VmHWM`), RSS, anonymous RSS (`RssAnon`: heap
//! and stacks, without the pages of the binary and libraries) and thread count after the
//! measured round, and the CPU time of the function and of this process (emulator and
//! callers) per measured invocation (from `/proc/<pid>/task/*/schedstat`). Every answer is
//! checked: status 202 (the emulator took the runtime's answer), no function error, and the
//! request id it names is its own. Only `cargo bench` runs it (cargo passes `--bench`); under
//! `cargo test --all-targets` it prints a note and exits.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use coda_emulator::{Emulator, Invoke};
use serde_json::{Value, json};

/// How long any single wait may take before the run is declared broken.
const LIMIT: Duration = Duration::from_secs(30);

type Result<T> = std::result::Result<T, String>;

/// What a caller does when no `/next` is idle for its invocation.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnBusy {
    /// Queue only once a `/next` is sure to be idle.
    Wait,
    /// Queue at once, and again after each 429.
    Retry,
}

struct Options {
    concurrency: usize,
    per_caller: usize,
    warm_up: usize,
    sleep_ms: u64,
    on_busy: OnBusy,
    label: Option<String>,
    log: Option<PathBuf>,
    exit_wait: Duration,
    binary: PathBuf,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("concurrent: a benchmark; run it with `cargo bench` (see BENCHMARKS.md)");
        return ExitCode::SUCCESS;
    }
    match parse(&args).and_then(|options| measure(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("concurrent bench: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage: concurrent [--concurrency N] [--per-caller M] [--warm-up W] \
[--sleep-ms S] [--on-busy wait|retry] [--label L] [--log FILE] [--exit-wait-ms MS] BINARY";

fn parse(args: &[String]) -> Result<Options> {
    let mut options = Options {
        concurrency: 1,
        per_caller: 100,
        warm_up: 5,
        sleep_ms: 20,
        on_busy: OnBusy::Wait,
        label: None,
        log: None,
        exit_wait: Duration::ZERO,
        binary: PathBuf::new(),
    };
    let mut binaries = Vec::new();
    let mut args = args.iter().filter(|a| *a != "--bench");
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--concurrency" => options.concurrency = number(value()?)?,
            "--per-caller" => options.per_caller = number(value()?)?,
            "--warm-up" => options.warm_up = number(value()?)?,
            "--sleep-ms" => options.sleep_ms = number(value()?)? as u64,
            "--on-busy" => {
                options.on_busy = match value()?.as_str() {
                    "wait" => OnBusy::Wait,
                    "retry" => OnBusy::Retry,
                    other => return Err(format!("--on-busy: wait or retry, not {other}")),
                }
            }
            "--label" => options.label = Some(value()?.clone()),
            "--log" => options.log = Some(PathBuf::from(value()?)),
            "--exit-wait-ms" => options.exit_wait = Duration::from_millis(number(value()?)? as u64),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}; {USAGE}")),
            _ => binaries.push(PathBuf::from(arg)),
        }
    }
    match binaries.as_slice() {
        [binary] if options.concurrency > 0 && options.per_caller > 0 => {
            options.binary = binary.clone();
            Ok(options)
        }
        _ => Err(USAGE.into()),
    }
}

fn number(text: &str) -> Result<usize> {
    text.parse().map_err(|_| format!("not a number: {text}"))
}

/// The function process serving the emulator; killed when dropped.
struct Function {
    child: Child,
    /// One message per output pipe that reached its end (the process has exited when both
    /// have).
    closed: Receiver<()>,
    open_pipes: usize,
}

impl Function {
    /// Starts `binary` with the emulator's Lambda environment as its whole environment; its
    /// stdout and stderr are copied to `log` (default: read and dropped) by a thread each.
    fn start(binary: &Path, emulator: &Emulator, log: Option<&Path>) -> Result<Function> {
        let mut child = Command::new(binary)
            .env_clear()
            .envs(emulator.function_env())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("{}: {e}", binary.display()))?;
        let sink = || -> Result<Box<dyn Write + Send>> {
            match log {
                Some(path) => File::options()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map(|f| Box::new(f) as Box<dyn Write + Send>)
                    .map_err(|e| format!("{}: {e}", path.display())),
                None => Ok(Box::new(io::sink())),
            }
        };
        let (tx, closed) = mpsc::channel();
        let mut open_pipes = 0;
        if let Some(out) = child.stdout.take() {
            open_pipes += copy(out, sink()?, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            open_pipes += copy(err, sink()?, tx);
        }
        Ok(Function {
            child,
            closed,
            open_pipes,
        })
    }

    /// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`, `RssAnon`) or a count (`Threads`).
    fn status(&self, field: &str) -> Option<u64> {
        proc_status(&format!("/proc/{}/status", self.child.id()), field)
    }

    /// Waits up to `limit` for the process to exit on its own (both its pipes closed); then
    /// it is killed when dropped.
    fn wait_exit(&mut self, limit: Duration) {
        let until = Instant::now() + limit;
        while self.open_pipes > 0 {
            let left = until.saturating_duration_since(Instant::now());
            match self.closed.recv_timeout(left) {
                Ok(()) => self.open_pipes -= 1,
                Err(RecvTimeoutError::Timeout) => return,
                Err(RecvTimeoutError::Disconnected) => self.open_pipes = 0,
            }
        }
    }
}

impl Drop for Function {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies `pipe` to `sink` on a thread of its own, then says it closed; 1 when the thread
/// started, else 0 (the pipe is dropped: the process sees it closed).
fn copy(
    mut pipe: impl Read + Send + 'static,
    mut sink: Box<dyn Write + Send>,
    closed: Sender<()>,
) -> usize {
    let started = std::thread::Builder::new()
        .name("function-output".into())
        .spawn(move || {
            let _ = io::copy(&mut pipe, &mut sink);
            let _ = closed.send(());
        });
    usize::from(started.is_ok())
}

fn proc_status(path: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The time on CPU of every thread of process `pid` (or `self`), summed: the first field of
/// each `/proc/<pid>/task/<tid>/schedstat`, in nanoseconds.
fn cpu_ns(pid: &str) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The state the callers share.
struct Callers<'a> {
    emulator: &'a Emulator,
    options: &'a Options,
    event: Value,
    /// Invocations still to be made in this round.
    jobs: AtomicUsize,
    /// Tickets taken over the whole run (the `wait` policy).
    tickets: AtomicUsize,
    /// Tickets of invocations turned away anyway: they took no `/next`.
    returned: AtomicUsize,
    rejected: AtomicUsize,
    /// Invocations turned away at least once.
    busy: AtomicUsize,
    samples: Mutex<Vec<Sample>>,
    workers: Mutex<BTreeSet<String>>,
}

/// One answered invocation.
struct Sample {
    /// Queue -> answer.
    latency: Duration,
    /// Waiting for an idle `/next` before queueing.
    gate: Duration,
    /// When it was answered.
    at: Instant,
}

impl Callers<'_> {
    /// Runs one round of `jobs` invocations with the options' N callers; returns the samples.
    fn round(&self, jobs: usize) -> Result<Vec<Sample>> {
        self.jobs.store(jobs, Ordering::SeqCst);
        std::thread::scope(|scope| {
            let callers: Vec<_> = (0..self.options.concurrency)
                .map(|_| scope.spawn(|| self.call()))
                .collect();
            callers
                .into_iter()
                .map(|c| c.join().map_err(|_| "a caller panicked".to_owned())?)
                .collect::<Result<Vec<()>>>()
        })?;
        Ok(std::mem::take(
            &mut *self.samples.lock().map_err(|_| "poisoned")?,
        ))
    }

    /// One caller: invocations until the round's jobs are taken.
    fn call(&self) -> Result<()> {
        let take = |j: usize| j.checked_sub(1);
        while self
            .jobs
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, take)
            .is_ok()
        {
            let sample = self.invoke_one()?;
            self.samples.lock().map_err(|_| "poisoned")?.push(sample);
        }
        Ok(())
    }

    /// One invocation, queued again after each 429.
    fn invoke_one(&self) -> Result<Sample> {
        let start = Instant::now();
        let mut turned_away = false;
        loop {
            let ticket = self.tickets.fetch_add(1, Ordering::SeqCst);
            if self.options.on_busy == OnBusy::Wait {
                let seen = ticket + 1 - self.returned.load(Ordering::SeqCst);
                self.emulator
                    .wait_next_calls(seen, LIMIT)
                    .map_err(|e| format!("waiting for /next call {seen}: {e}"))?;
            }
            let gate = start.elapsed();
            let pending = self.emulator.invoke(Invoke::json(&self.event));
            let answer = pending.answer(LIMIT).map_err(|e| e.to_string())?;
            if answer.status == 429 {
                self.rejected.fetch_add(1, Ordering::SeqCst);
                self.returned.fetch_add(1, Ordering::SeqCst);
                if !turned_away {
                    turned_away = true;
                    self.busy.fetch_add(1, Ordering::SeqCst);
                }
                std::thread::yield_now();
                continue;
            }
            let at = Instant::now();
            let body = answer.json();
            let request_id = body.as_ref().and_then(|b| b["request_id"].as_str());
            if answer.status != 202 || answer.is_error() || request_id != Some(pending.request_id())
            {
                return Err(format!(
                    "invocation {} answered {} {:?}: {}",
                    pending.request_id(),
                    answer.status,
                    answer.function_error,
                    String::from_utf8_lossy(&answer.payload)
                ));
            }
            let worker = body.map(|b| b["worker"].to_string()).unwrap_or_default();
            self.workers.lock().map_err(|_| "poisoned")?.insert(worker);
            return Ok(Sample {
                latency: answer.latency,
                gate,
                at,
            });
        }
    }
}

fn measure(options: &Options) -> Result<()> {
    let n = options.concurrency;
    let mut emulator = Emulator::builder()
        .concurrency(n)
        .start()
        .map_err(|e| format!("emulator: {e}"))?;
    let label = options.label.clone().unwrap_or_else(|| {
        options
            .binary
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    let mut function = Function::start(&options.binary, &emulator, options.log.as_deref())?;
    emulator
        .wait_next_calls(n, LIMIT)
        .map_err(|e| format!("{label}: waiting for the {n} first /next calls: {e}"))?;
    let callers = Callers {
        emulator: &emulator,
        options,
        event: json!({ "sleep_ms": options.sleep_ms }),
        jobs: AtomicUsize::new(0),
        tickets: AtomicUsize::new(0),
        returned: AtomicUsize::new(0),
        rejected: AtomicUsize::new(0),
        busy: AtomicUsize::new(0),
        samples: Mutex::new(Vec::new()),
        workers: Mutex::new(BTreeSet::new()),
    };
    let failed = |e: String| format!("{label}: {e}");
    callers.round(n * options.warm_up).map_err(failed)?;
    let warm_rejected = callers.rejected.swap(0, Ordering::SeqCst);
    callers.busy.store(0, Ordering::SeqCst);
    callers.workers.lock().map_err(|_| "poisoned")?.clear();

    let pid = function.child.id().to_string();
    let (function_cpu, own_cpu) = (cpu_ns(&pid), cpu_ns("self"));
    let start = Instant::now();
    let samples = callers.round(n * options.per_caller).map_err(failed)?;
    let function_cpu = cpu_ns(&pid).saturating_sub(function_cpu);
    let own_cpu = cpu_ns("self").saturating_sub(own_cpu);
    let (peak, rss, anon, threads) = (
        function.status("VmHWM"),
        function.status("VmRSS"),
        function.status("RssAnon"),
        function.status("Threads"),
    );
    let end = samples.iter().map(|s| s.at).max().unwrap_or(start);
    let seconds = end.duration_since(start).as_secs_f64();
    let count = samples.len();
    let mut latencies: Vec<f64> = samples.iter().map(|s| micros(s.latency)).collect();
    let gate_mean = samples.iter().map(|s| micros(s.gate)).sum::<f64>() / count as f64;
    let latency_mean = latencies.iter().sum::<f64>() / count as f64;
    let show = |v: Option<u64>| v.map_or("n/a".to_owned(), |v| v.to_string());
    println!(
        "label={label} concurrency={n} on_busy={} sleep_ms={} invocations={count} seconds={seconds:.3} \
invocations_per_s={:.2} latency_p50_us={:.1} latency_p99_us={:.1} latency_mean_us={latency_mean:.1} gate_wait_mean_us={gate_mean:.1} \
rejected_429={} turned_away={} warm_up_rejected_429={warm_rejected} workers_seen={} peak_rss_kb={} rss_kb={} rss_anon_kb={} threads={} \
function_cpu_us_per_inv={:.1} bench_cpu_us_per_inv={:.1}",
        match options.on_busy {
            OnBusy::Wait => "wait",
            OnBusy::Retry => "retry",
        },
        options.sleep_ms,
        count as f64 / seconds,
        percentile(&mut latencies, 50.0),
        percentile(&mut latencies, 99.0),
        callers.rejected.load(Ordering::SeqCst),
        callers.busy.load(Ordering::SeqCst),
        callers.workers.lock().map_err(|_| "poisoned")?.len(),
        show(peak),
        show(rss),
        show(anon),
        show(threads),
        function_cpu as f64 / 1e3 / count as f64,
        own_cpu as f64 / 1e3 / count as f64,
    );
    // Parked `/next` calls get a 500; the process is killed at once, or after it had
    // `--exit-wait-ms` to end on its own (a profiler writes its figures at the exit).
    emulator.shutdown();
    function.wait_exit(options.exit_wait);
    drop(function);
    Ok(())
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// The nearest-rank percentile.
fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}
