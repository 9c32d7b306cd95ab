//! Test a handler through the real loop against an in-process [`Emulator`], in a few lines.
//!
//! The handler runs on the calling thread, in Coda's real loop, talking real HTTP to an
//! emulator on `127.0.0.1`; the events are queued first and a final scripted `/next` ends the
//! loop, so nothing needs to be `Send` and nothing waits on a timer. The invocation's log
//! lines are kept in the [`Outcome`] rather than printed: [`init_logger`] is called first,
//! which installs Coda's logger unless another logger is installed (then
//! [`Outcome::logs`] stays empty).
//!
//! ```
//! use coda_lambda::{Context, Diagnostic, Reply};
//! use serde_json::json;
//!
//! let handler = |order: serde_json::Value, ctx: &mut Context| -> Result<Reply, Diagnostic> {
//!     ctx.after(|d| log::info!("audited {}", d.request_id()));
//!     let accepted = order["cents"].as_u64() < Some(10_000);
//!     Ok(Reply::new(json!({"accepted": accepted})).after_success(|_| Ok::<_, std::io::Error>(())))
//! };
//! let out = coda_emulator::testing::invoke(handler, json!({"id": "o-1", "cents": 500}));
//! assert_eq!(out.json()["accepted"], true);
//! assert_eq!(out.deferred().ran, 2);
//! assert!(out.answered_before_deferred_finished());
//! assert!(out.logs().iter().any(|line| line.contains("audited")));
//! ```

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::log_capture::{self, Watch};
use crate::{Answer, Emulator, EmulatorBuilder, Finished, Invoke, NextReply, PendingInvocation};
use coda_lambda::{DeferredSummary, Diagnostic, Handler, InvocationReport, Runtime};

/// How long a test waits for the runtime before giving up (the loop itself never waits on
/// this: it is only a guard against a hung handler).
const WAIT: Duration = Duration::from_secs(60);

/// Installs Coda's logger ([`coda_lambda::logging`]) for tests, unless a logger is installed
/// already; `true` when this call installed it.
///
/// Lines written for an invocation run through this module are kept in its [`Outcome`];
/// every other line goes through `eprint!`, which the Rust test harness captures: a passing
/// test prints nothing, a failing one shows its lines. [`invoke`] and [`run`] call it; call it
/// yourself in tests that run the loop another way.
pub fn init_logger() -> bool {
    coda_lambda::logging::builder()
        .target(env_logger::Target::Pipe(Box::new(log_capture::Target)))
        .try_init()
        .is_ok()
}

/// Runs `handler` on one JSON event and returns what happened.
pub fn invoke<H: Handler<M>, M>(handler: H, event: serde_json::Value) -> Outcome {
    invoke_with(handler, Invoke::json(&event))
}

/// Runs `handler` on one invocation described by `invoke` (any payload, any headers).
pub fn invoke_with<H: Handler<M>, M>(handler: H, invoke: Invoke) -> Outcome {
    let mut outcomes = run(handler, vec![invoke]);
    outcomes
        .pop()
        .unwrap_or_else(|| unreachable!("run returns one outcome per invocation"))
}

/// Runs `handler` on several invocations in order, in one process of the loop (so state the
/// handler keeps, and the cold-start flag, carry over), and returns one outcome each.
pub fn run<H: Handler<M>, M>(handler: H, invokes: Vec<Invoke>) -> Vec<Outcome> {
    Harness::new().run(handler, invokes)
}

/// Settings for [`run`]: the emulator and the runtime.
pub struct Harness {
    emulator: EmulatorBuilder,
    margin: Option<Duration>,
    runtime: Option<Box<dyn FnOnce(Runtime) -> Runtime>>,
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness")
            .field("emulator", &self.emulator)
            .field("margin", &self.margin)
            .field("runtime", &self.runtime.as_ref().map(|_| "configured"))
            .finish()
    }
}

impl Default for Harness {
    fn default() -> Self {
        Harness::new()
    }
}

impl Harness {
    /// Default emulator (3 s timeout) and runtime settings.
    pub fn new() -> Harness {
        Harness {
            emulator: Emulator::builder(),
            margin: None,
            runtime: None,
        }
    }

    /// Configures the emulator (timeout, memory, name…).
    pub fn emulator(mut self, f: impl FnOnce(EmulatorBuilder) -> EmulatorBuilder) -> Harness {
        self.emulator = f(self.emulator);
        self
    }

    /// Sets the runtime's deferred-work safety margin.
    pub fn deferred_margin(mut self, margin: Duration) -> Harness {
        self.margin = Some(margin);
        self
    }

    /// Configures the runtime further (a sink for unfinished work, the detached-work limit…),
    /// as `coda_lambda::start_with`'s first argument does in the function.
    ///
    /// ```
    /// use coda_emulator::testing::Harness;
    /// use coda_lambda::{Context, Diagnostic};
    ///
    /// let outcomes = Harness::new()
    ///     .runtime(|r| r.on_unfinished(|job| log::warn!("sink: {job}")))
    ///     .run(
    ///         |_: serde_json::Value, ctx: &mut Context| {
    ///             ctx.deferred("write").after(|_| Err::<(), _>("refused"));
    ///             Ok::<_, Diagnostic>("ok")
    ///         },
    ///         vec![coda_emulator::Invoke::new("{}")],
    ///     );
    /// assert!(outcomes[0].logs().iter().any(|l| l.contains("sink: ")));
    /// ```
    pub fn runtime(mut self, f: impl FnOnce(Runtime) -> Runtime + 'static) -> Harness {
        self.runtime = Some(Box::new(f));
        self
    }

    /// Runs `handler` on `invokes` in order; one [`Outcome`] each.
    ///
    /// # Panics
    /// When the emulator cannot bind a loopback port, or the runtime stops before answering
    /// every invocation (the panic message says why): this is a test helper.
    pub fn run<H: Handler<M>, M>(self, handler: H, invokes: Vec<Invoke>) -> Vec<Outcome> {
        init_logger();
        let emulator = match self.emulator.start() {
            Ok(emulator) => emulator,
            Err(e) => panic!("coda_emulator::testing: cannot start the emulator on 127.0.0.1: {e}"),
        };
        let pending: Vec<PendingInvocation> =
            invokes.into_iter().map(|i| emulator.invoke(i)).collect();
        emulator.script_next(NextReply::Status {
            status: 500,
            body: b"end of test".to_vec(),
        });
        let watches: Vec<Watch> = pending.iter().map(|p| Watch::new(p.request_id())).collect();
        let reports = Arc::new(Mutex::new(Vec::new()));
        let sink = reports.clone();
        let mut runtime = Runtime::new(emulator.config())
            .publish_trace_id(false)
            .on_invocation(move |report| {
                sink.lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(report.clone())
            });
        if let Some(margin) = self.margin {
            runtime = runtime.deferred_margin(margin);
        }
        if let Some(configure) = self.runtime {
            runtime = configure(runtime);
        }
        let stopped = runtime.run(handler);
        let reports = std::mem::take(&mut *reports.lock().unwrap_or_else(|e| e.into_inner()));
        let mut outcomes = Vec::new();
        for (pending, watch) in pending.iter().zip(watches) {
            let (answer, finished) = match (pending.answer(WAIT), pending.finished(WAIT)) {
                (Ok(answer), Ok(finished)) => (answer, finished),
                (a, f) => panic!(
                    "coda_emulator::testing: invocation {} did not complete ({:?} / {:?}); the runtime stopped with: {stopped}",
                    pending.request_id(),
                    a.err(),
                    f.err()
                ),
            };
            let report = reports
                .iter()
                .find(|r| r.request_id == pending.request_id())
                .cloned();
            outcomes.push(Outcome {
                queued_at: pending.queued_at(),
                answer,
                finished,
                report,
                logs: watch.lines(),
            });
        }
        outcomes
    }
}

/// What one invocation did: the answer the caller got, when, the deferred-work summary and
/// the log lines written for it.
#[derive(Debug, Clone)]
pub struct Outcome {
    queued_at: Instant,
    answer: Answer,
    finished: Finished,
    report: Option<InvocationReport>,
    logs: Vec<String>,
}

impl Outcome {
    /// The answer as the caller received it.
    pub fn answer(&self) -> &Answer {
        &self.answer
    }

    /// The payload the caller received (response body or error JSON).
    pub fn payload(&self) -> &[u8] {
        &self.answer.payload
    }

    /// The payload as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        self.answer.json().unwrap_or(serde_json::Value::Null)
    }

    /// The error the caller received, for failed invocations.
    pub fn error(&self) -> Option<Diagnostic> {
        self.answer.diagnostic()
    }

    /// How deferred and spawned work ended.
    pub fn deferred(&self) -> DeferredSummary {
        self.report.as_ref().map(|r| r.deferred).unwrap_or_default()
    }

    /// The runtime's report of the invocation.
    pub fn report(&self) -> Option<&InvocationReport> {
        self.report.as_ref()
    }

    /// The log lines written with this invocation's request id, formatted.
    pub fn logs(&self) -> &[String] {
        &self.logs
    }

    /// Time from queueing to the caller having the answer.
    pub fn answered_after(&self) -> Duration {
        self.answer.latency
    }

    /// Time from queueing to the end of the invocation (the runtime's next `/next`).
    pub fn finished_after(&self) -> Duration {
        self.finished.finished_after
    }

    /// Whether the caller had its answer before the deferred work finished: there was
    /// deferred work, and the emulator recorded the answer before the runtime's clock says the
    /// work ended.
    pub fn answered_before_deferred_finished(&self) -> bool {
        let Some(report) = &self.report else {
            return false;
        };
        let answered = self.queued_at + self.answer.latency;
        let deferred_done = report.received_at + report.finished_after;
        report.deferred.total() > 0 && answered < deferred_done
    }
}
