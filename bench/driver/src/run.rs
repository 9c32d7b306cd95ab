//! One run: an emulator, the function process against it, N events served one at a time
//! (a few queued ahead, so that each `/next` finds its event waiting, as on a busy
//! function), every answer checked, then the function ended.
//!
//! The times come from the emulator where it records them: each answer's end is its
//! invocation's queue time plus [`coda_emulator::Answer::latency`]. The first `/next` is the
//! moment this thread sees the emulator count it, so the start figure includes one wake-up
//! of this thread (a few microseconds to a few tens).

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use coda_emulator::{Emulator, Invoke, NextReply, PendingInvocation, WaitError};

use super::figures::Figures;
use super::function::{Ended, Function};
use super::options::{End, Options, TraceIds};

/// The function timeout the emulator is given: long enough for any run under valgrind (the
/// deadline each event carries is this far ahead, as with the kit's fake).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(900);
/// How often a wait that sees nothing looks whether the process exited meanwhile.
const EXIT_CHECK: Duration = Duration::from_millis(50);
/// The trace id of `--trace-id fixed`.
const FIXED_TRACE_ID: &str =
    "Root=1-00000000-000000000000000000000001;Parent=0000000000000001;Sampled=0";

/// Why a run could not take place at all.
#[derive(Debug)]
pub enum RunError {
    /// The emulator could not listen.
    Emulator(io::Error),
    /// The function process could not be started.
    Start {
        /// The program.
        program: String,
        /// Why.
        source: io::Error,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::Emulator(_) => f.write_str("cannot start the emulator"),
            RunError::Start { program, .. } => write!(f, "cannot start the function {program}"),
        }
    }
}

impl std::error::Error for RunError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RunError::Emulator(source) | RunError::Start { source, .. } => Some(source),
        }
    }
}

/// Runs the function as `options` say and returns what was measured. A function that
/// fails (exits early, answers wrongly, never answers) gives figures that show it.
pub fn run(options: &Options) -> Result<Figures, RunError> {
    let emulator = Emulator::builder()
        .timeout(FUNCTION_TIMEOUT)
        .trace_ids(options.trace_ids == TraceIds::Unique)
        .start()
        .map_err(RunError::Emulator)?;
    let until = Instant::now() + options.overall_timeout;
    let mut figures = Figures {
        label: options.label.clone(),
        invocations: options.invocations,
        ..Figures::default()
    };
    let mut events = Events {
        emulator: &emulator,
        options,
        queued: 0,
        pending: VecDeque::new(),
    };
    // Queued before the process starts: its first `/next` gets an event at once.
    events.top_up();
    let spawned_at = Instant::now();
    let mut function =
        Function::start(&options.command, &emulator.function_env()).map_err(|source| {
            RunError::Start {
                program: options.command[0].to_string_lossy().into_owned(),
                source,
            }
        })?;

    let first_next = wait(&mut function, until, |limit| {
        emulator.wait_next_calls(1, limit)
    })
    .map(|()| Instant::now());
    figures.spawn_to_first_next = first_next.map(|at| at - spawned_at);
    let mut last_answer = None;
    if first_next.is_some() {
        while let Some(pending) = events.pending.pop_front() {
            let Some(answer) = wait(&mut function, until, |limit| pending.answer(limit)) else {
                break;
            };
            last_answer = Some(pending.queued_at() + answer.latency);
            if answer.is_error() {
                figures.errors += 1;
            } else {
                figures.responses += 1;
                if options.check_echo && answer.payload != options.event {
                    figures.echo_mismatches += 1;
                }
            }
            events.top_up();
        }
    }
    if let (Some(first), Some(last)) = (first_next, last_answer) {
        figures.first_next_to_last_answer = Some(last.saturating_duration_since(first));
    }
    let (peak_rss_kb, ended) = end(&emulator, function, options, until);
    figures.peak_rss_kb = peak_rss_kb;
    figures.ended = Some(ended);
    Ok(figures)
}

/// The events of a run: queued up to the window ahead of the one being served.
struct Events<'a> {
    emulator: &'a Emulator,
    options: &'a Options,
    queued: usize,
    pending: VecDeque<PendingInvocation>,
}

impl Events<'_> {
    /// Queues events until `window` are waiting or all have been queued.
    fn top_up(&mut self) {
        while self.pending.len() < self.options.window && self.queued < self.options.invocations {
            let mut invoke = Invoke::new(self.options.event.clone());
            if self.options.trace_ids == TraceIds::Fixed {
                invoke = invoke.trace_id(FIXED_TRACE_ID);
            }
            self.pending.push_back(self.emulator.invoke(invoke));
            self.queued += 1;
        }
    }
}

/// Waits with `wait_for` until it succeeds; `None` when the process exits first, the
/// emulator shuts down or the run's time is up.
fn wait<T>(
    function: &mut Function,
    until: Instant,
    mut wait_for: impl FnMut(Duration) -> Result<T, WaitError>,
) -> Option<T> {
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match wait_for(left.min(EXIT_CHECK)) {
            Ok(value) => return Some(value),
            Err(WaitError::TimedOut) if !left.is_zero() && !function.has_exited() => continue,
            Err(_) => return None,
        }
    }
}

/// Reads the process's peak memory once it asked for its next event (at once for `kill`),
/// then ends it as `options` say.
fn end(
    emulator: &Emulator,
    mut function: Function,
    options: &Options,
    until: Instant,
) -> (Option<u64>, Ended) {
    let reply = match options.end {
        End::Kill => None,
        End::Close => Some(NextReply::Close),
        End::Error => Some(NextReply::Status {
            status: 500,
            body: br#"{"errorType":"Bench.Done","errorMessage":"no more events"}"#.to_vec(),
        }),
    };
    match reply {
        None => (function.peak_rss_kb(), function.kill()),
        Some(reply) => {
            // Parked on `/next`: idle and still alive (a process that exited is not waited for).
            let _ = wait(&mut function, until, |limit| emulator.wait_parked(limit));
            let peak_rss_kb = function.peak_rss_kb();
            emulator.script_next(reply);
            (peak_rss_kb, function.end(options.exit_timeout))
        }
    }
}
