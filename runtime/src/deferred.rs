//! Deferred work: closures that run after the invocation is answered, before `/next`.
//!
//! The contract (each sentence has a test in `tests/`):
//!
//! - Work runs after the Runtime API accepted the answer (`/response` or `/error`), in
//!   registration order, on the runtime's deferred-work thread.
//! - Each closure is isolated: a panic is caught, an `Err` is logged; neither stops the
//!   closures after it, and neither changes the answer already delivered.
//! - Work is bounded by the budget: the invocation deadline minus the safety margin
//!   ([`crate::Runtime::deferred_margin`]). A closure that cannot start before the budget
//!   is spent is skipped. A closure still running when the budget is spent is *detached*: the
//!   runtime stops waiting, logs it, and calls `/next`, so an overrun never turns an answered
//!   invocation into a Lambda timeout. The detached thread freezes with the environment and
//!   may resume in a later invocation (`runtime-api.md` §9 #22); when it ends, its outcome is
//!   logged with its own request id.
//! - Spawned work ([`crate::Context::spawn`]) starts at once on its own thread and is joined,
//!   within the same budget, before `/next`.
//! - Nothing is lost silently: each closure ends as ran, failed, panicked, skipped or overran,
//!   logged with the request id and counted in the [`DeferredSummary`].

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

use crate::job::{InvocationResult, Job};
use crate::worker::Worker;

/// What deferred and spawned closures may return: `()` or any `Result` whose error displays.
pub trait TaskResult {
    /// `Ok(())` when the work succeeded, the error text otherwise.
    fn into_task_result(self) -> Result<(), String>;
}

impl TaskResult for () {
    fn into_task_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: fmt::Display> TaskResult for Result<T, E> {
    fn into_task_result(self) -> Result<(), String> {
        self.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// When a registered closure applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    Always,
    Success,
    Failure,
}

impl When {
    fn applies(self, result: &InvocationResult) -> bool {
        matches!(
            (self, result),
            (When::Always, _)
                | (When::Success, InvocationResult::Succeeded)
                | (When::Failure, InvocationResult::Failed(_))
        )
    }
}

pub(crate) type TaskFn = Box<dyn FnOnce(&Job) -> Result<(), String> + Send>;

/// A registered closure.
pub(crate) struct Task {
    pub(crate) when: When,
    pub(crate) label: &'static str,
    pub(crate) run: TaskFn,
}

impl Task {
    pub(crate) fn new<F, R>(when: When, f: F) -> Task
    where
        F: FnOnce(&Job) -> R + Send + 'static,
        R: TaskResult,
    {
        Task {
            when,
            label: std::any::type_name::<F>(),
            run: Box::new(move |job| f(job).into_task_result()),
        }
    }
}

/// How one closure ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskOutcome {
    /// It returned `()` or `Ok`.
    Ran,
    /// It returned `Err`; the text of the error.
    Failed(String),
    /// It panicked; the panic message.
    Panicked(String),
    /// It never started.
    Skipped(SkipReason),
    /// It was still running when the budget was spent and was detached.
    Overran,
}

/// Why a closure did not start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SkipReason {
    /// The budget was spent before its turn came.
    BudgetSpent,
    /// It was registered for success only and the invocation failed, or for failure only and
    /// the invocation succeeded.
    NotApplicable,
}

/// Counts of how an invocation's deferred and spawned closures ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeferredSummary {
    /// Closures that returned `()` or `Ok`.
    pub ran: usize,
    /// Closures that returned `Err`.
    pub failed: usize,
    /// Closures that panicked.
    pub panicked: usize,
    /// Closures that never started (budget spent, or registered for the other result).
    pub skipped: usize,
    /// Closures detached when the budget was spent.
    pub overran: usize,
}

impl DeferredSummary {
    /// Total closures counted.
    pub fn total(&self) -> usize {
        self.ran + self.failed + self.panicked + self.skipped + self.overran
    }

    fn count(&mut self, outcome: &TaskOutcome) {
        match outcome {
            TaskOutcome::Ran => self.ran += 1,
            TaskOutcome::Failed(_) => self.failed += 1,
            TaskOutcome::Panicked(_) => self.panicked += 1,
            TaskOutcome::Skipped(_) => self.skipped += 1,
            TaskOutcome::Overran => self.overran += 1,
        }
    }
}

impl fmt::Display for DeferredSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ran, {} failed, {} panicked, {} skipped, {} overran",
            self.ran, self.failed, self.panicked, self.skipped, self.overran
        )
    }
}

/// Runs `task` with panics caught: the outcome of one closure.
pub(crate) fn run_isolated(run: TaskFn, job: &Job) -> TaskOutcome {
    match catch_unwind(AssertUnwindSafe(|| run(job))) {
        Ok(Ok(())) => TaskOutcome::Ran,
        Ok(Err(message)) => TaskOutcome::Failed(message),
        Err(payload) => TaskOutcome::Panicked(panic_message(payload.as_ref())),
    }
}

/// The text of a panic payload (`&str` or `String`; anything else is described).
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// The work an invocation registered: deferred closures in order, and spawned threads.
#[derive(Default)]
pub(crate) struct Work {
    tasks: Vec<Task>,
    spawned: usize,
    spawn_results: Option<(Sender<TaskOutcome>, Receiver<TaskOutcome>)>,
}

impl Work {
    pub(crate) fn push(&mut self, task: Task) {
        self.tasks.push(task);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.spawned == 0
    }

    /// Starts `task` now on its own thread; its outcome is collected by [`Work::finish`].
    pub(crate) fn spawn(&mut self, task: Task, job: Job) {
        let (tx, _) = self.spawn_results.get_or_insert_with(mpsc::channel);
        let tx = tx.clone();
        let label = task.label;
        let started = std::thread::Builder::new()
            .name("coda-spawn".into())
            .spawn(move || {
                crate::logger::set_request_id(Some(job.request_id.clone()));
                let outcome = run_isolated(task.run, &job);
                if tx.send(outcome.clone()).is_err() {
                    report_late(&job, label, &outcome);
                }
            });
        self.spawned += 1;
        if let Err(e) = started {
            log::error!("could not start a thread for spawned work {label}: {e}");
            if let Some((tx, _)) = &self.spawn_results {
                let _ = tx.send(TaskOutcome::Failed(format!("thread not started: {e}")));
            }
        }
    }

    /// Runs the deferred closures and joins spawned work, within `job`'s budget.
    pub(crate) fn finish(mut self, job: Job, worker: &mut Option<Worker>) -> DeferredSummary {
        let mut summary = DeferredSummary::default();
        let mut budget_skips = 0;
        let job = Arc::new(job);
        let result = job.result.clone().unwrap_or(InvocationResult::Succeeded);
        let total = self.tasks.len();
        for (index, task) in std::mem::take(&mut self.tasks).into_iter().enumerate() {
            let outcome = if !task.when.applies(&result) {
                TaskOutcome::Skipped(SkipReason::NotApplicable)
            } else if job.budget_spent() {
                budget_skips += 1;
                TaskOutcome::Skipped(SkipReason::BudgetSpent)
            } else {
                let w = worker.get_or_insert_with(Worker::start);
                let outcome = w.run(task.run, job.clone(), task.label);
                if outcome == TaskOutcome::Overran {
                    // That thread is busy with the overrunning closure; the next closure
                    // (in a later invocation) gets a fresh one.
                    *worker = None;
                }
                outcome
            };
            log_outcome(&job, "deferred", index + 1, total, task.label, &outcome);
            summary.count(&outcome);
        }
        self.join_spawned(&job, &mut summary);
        if summary.total() > 0 {
            if summary.ran + summary.skipped == summary.total() && budget_skips == 0 {
                log::debug!("deferred work: {summary}");
            } else {
                log::warn!("deferred work: {summary}");
            }
        }
        summary
    }

    fn join_spawned(&mut self, job: &Job, summary: &mut DeferredSummary) {
        let Some((tx, rx)) = self.spawn_results.take() else {
            return;
        };
        drop(tx);
        let total = self.spawned;
        for index in 0..total {
            let received = match job.budget_end {
                Some(end) => rx.recv_timeout(end.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let outcome = match received {
                Ok(outcome) => outcome,
                Err(RecvTimeoutError::Timeout) => {
                    let left = total - index;
                    log::warn!(
                        "{left} spawned task(s) still running when the deferred budget was spent: \
                         detached; they freeze with the environment and may resume in a later invocation"
                    );
                    for _ in 0..left {
                        summary.count(&TaskOutcome::Overran);
                    }
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    TaskOutcome::Failed("the spawned thread ended without a result".into())
                }
            };
            log_outcome(job, "spawned", index + 1, total, "", &outcome);
            summary.count(&outcome);
        }
    }
}

fn log_outcome(job: &Job, kind: &str, n: usize, total: usize, label: &str, outcome: &TaskOutcome) {
    let label = if label.is_empty() {
        String::new()
    } else {
        format!(" ({label})")
    };
    match outcome {
        TaskOutcome::Ran => log::debug!("{kind} work {n}/{total}{label} ran"),
        TaskOutcome::Failed(e) => log::error!("{kind} work {n}/{total}{label} failed: {e}"),
        TaskOutcome::Panicked(m) => log::error!("{kind} work {n}/{total}{label} panicked: {m}"),
        TaskOutcome::Skipped(SkipReason::NotApplicable) => {
            log::debug!("{kind} work {n}/{total}{label} skipped: registered for the other result")
        }
        TaskOutcome::Skipped(SkipReason::BudgetSpent) => log::warn!(
            "{kind} work {n}/{total}{label} skipped: the budget (deadline minus margin) was spent \
             ({} ms after the event arrived)",
            job.elapsed().as_millis()
        ),
        TaskOutcome::Overran => log::warn!(
            "{kind} work {n}/{total}{label} overran the budget and was detached; the invocation \
             ends now; the closure freezes with the environment and may resume in a later invocation"
        ),
    }
}

/// Logs the outcome of detached work that finished after its invocation ended.
pub(crate) fn report_late(job: &Job, label: &str, outcome: &TaskOutcome) {
    let id = job.request_id();
    match outcome {
        TaskOutcome::Ran => {
            log::warn!("detached work of request {id} ({label}) finished late: ran")
        }
        other => log::error!("detached work of request {id} ({label}) finished late: {other:?}"),
    }
}
