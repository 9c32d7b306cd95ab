//! [`Work`]: what one invocation registered — deferred closures in order, and spawned threads —
//! and how it is finished within the budget after the answer (the contract is in
//! [`crate::deferred`]).

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

use crate::deferred::{Deferred, DeferredOutcome, DeferredSummary};
use crate::task::{Task, report_late, run_isolated};
use crate::worker::Worker;

/// The work an invocation registered.
#[derive(Default)]
pub(crate) struct Work {
    tasks: Vec<Task>,
    spawned: usize,
    spawn_results: Option<(Sender<DeferredOutcome>, Receiver<DeferredOutcome>)>,
}

impl Work {
    pub(crate) fn push(&mut self, task: Task) {
        self.tasks.push(task);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.spawned == 0
    }

    /// Starts `task` now on its own thread; its outcome is collected by [`Work::finish`].
    pub(crate) fn spawn(&mut self, task: Task, deferred: Deferred) {
        let (tx, _) = self.spawn_results.get_or_insert_with(mpsc::channel);
        let tx = tx.clone();
        let label = task.label;
        let started = std::thread::Builder::new()
            .name("coda-spawn".into())
            .spawn(move || {
                crate::logging::set_request_id(Some(deferred.request_id.clone()));
                let outcome = run_isolated(task.run, &deferred);
                if tx.send(outcome.clone()).is_err() {
                    report_late(&deferred, label, &outcome);
                }
            });
        self.spawned += 1;
        if let Err(e) = started {
            log::error!("could not start a thread for spawned work {label}: {e}");
            if let Some((tx, _)) = &self.spawn_results {
                let _ = tx.send(DeferredOutcome::Failed(format!("thread not started: {e}")));
            }
        }
    }

    /// Runs the deferred closures that apply to the answer and joins spawned work, within
    /// `deferred`'s budget.
    pub(crate) fn finish(
        mut self,
        deferred: Deferred,
        worker: &mut Option<Worker>,
    ) -> DeferredSummary {
        let mut summary = DeferredSummary::default();
        let deferred = Arc::new(deferred);
        let tasks: Vec<Task> = std::mem::take(&mut self.tasks)
            .into_iter()
            .filter(|task| {
                let applies = task.when.applies(deferred.error());
                if !applies {
                    log::debug!(
                        "deferred work ({}) registered for the other result: not run",
                        task.label
                    );
                }
                applies
            })
            .collect();
        let total = tasks.len();
        for (index, task) in tasks.into_iter().enumerate() {
            let outcome = if deferred.budget_spent() {
                DeferredOutcome::Skipped
            } else {
                let w = worker.get_or_insert_with(Worker::start);
                let outcome = w.run(task.run, deferred.clone(), task.label);
                if outcome == DeferredOutcome::Overran {
                    // That thread is busy with the overrunning closure; the next closure
                    // (in a later invocation) gets a fresh one.
                    *worker = None;
                }
                outcome
            };
            log_outcome(
                &deferred,
                "deferred",
                index + 1,
                total,
                task.label,
                &outcome,
            );
            summary.count(&outcome);
        }
        self.join_spawned(&deferred, &mut summary);
        if summary.total() > 0 {
            if summary.all_ran() {
                log::debug!("deferred work: {summary}");
            } else {
                log::warn!("deferred work: {summary}");
            }
        }
        summary
    }

    fn join_spawned(&mut self, deferred: &Deferred, summary: &mut DeferredSummary) {
        let Some((tx, rx)) = self.spawn_results.take() else {
            return;
        };
        drop(tx);
        let total = self.spawned;
        for index in 0..total {
            let received = match deferred.budget_end {
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
                        summary.count(&DeferredOutcome::Overran);
                    }
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    DeferredOutcome::Failed("the spawned thread ended without a result".into())
                }
            };
            log_outcome(deferred, "spawned", index + 1, total, "", &outcome);
            summary.count(&outcome);
        }
    }
}

fn log_outcome(
    deferred: &Deferred,
    kind: &str,
    n: usize,
    total: usize,
    label: &str,
    outcome: &DeferredOutcome,
) {
    let label = if label.is_empty() {
        String::new()
    } else {
        format!(" ({label})")
    };
    match outcome {
        DeferredOutcome::Ran => log::debug!("{kind} work {n}/{total}{label} ran"),
        DeferredOutcome::Failed(e) => log::error!("{kind} work {n}/{total}{label} failed: {e}"),
        DeferredOutcome::Panicked(m) => {
            log::error!("{kind} work {n}/{total}{label} panicked: {m}")
        }
        DeferredOutcome::Skipped => log::warn!(
            "{kind} work {n}/{total}{label} skipped: the budget (deadline minus margin) was spent \
             ({} ms after the event arrived)",
            deferred.elapsed().as_millis()
        ),
        DeferredOutcome::Overran => log::warn!(
            "{kind} work {n}/{total}{label} overran the budget and was detached; the invocation \
             ends now; the closure freezes with the environment and may resume in a later invocation"
        ),
    }
}
