//! [`Work`]: what one invocation registered — deferred closures in order, and spawned threads —
//! and how it is finished after the answer: within the budget, every closure's outcome counted,
//! what cannot finish handed off or carried over (the contract is in [`crate::deferred`]).

use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::deferred::{Deferred, DeferredOutcome, DeferredSummary, HandOff, IfUnfinished};
use crate::detached::{Detached, GaveUp, Ticket};
use crate::sandbox::Sandbox;
use crate::task::{Finished, Plan, Task, report_late};
use crate::worker::{Ran, Worker};

/// The sink for work that cannot finish ([`crate::Runtime::on_unfinished`]), shared with the
/// threads that call it.
pub(crate) type Sink = Arc<Mutex<Box<dyn FnMut(&HandOff) + Send>>>;

/// What the loop keeps from one invocation's deferred work to the next.
pub(crate) struct Carry<'a> {
    /// The deferred-work thread, when one is running and free.
    pub(crate) worker: &'a mut Option<Worker>,
    pub(crate) detached: &'a Arc<Detached>,
    pub(crate) sink: Option<&'a Sink>,
    /// Where work carried over waits: in, from an earlier invocation (it runs first); out,
    /// for the next.
    pub(crate) sandbox: &'a Sandbox,
    /// The safety margin: a sink may use half of it past the budget.
    pub(crate) margin: Duration,
}

/// The deferred facts a task runs under: carried work keeps its own request id, with this
/// invocation's budget.
fn own_deferred(task: &Task, deferred: &Arc<Deferred>) -> Arc<Deferred> {
    match &task.carried_from {
        Some(origin) => Arc::new(Deferred {
            request_id: origin.clone(),
            ..(**deferred).clone()
        }),
        None => deferred.clone(),
    }
}

/// Hands each of `hand_offs` to the sink (or its log line), counting them in `summary`.
fn hand_over_all(
    hand_offs: Vec<HandOff>,
    deferred: &Arc<Deferred>,
    carry: &mut Carry<'_>,
    summary: &mut DeferredSummary,
) {
    for hand_off in hand_offs {
        summary.handed_off += 1;
        hand_over(hand_off, deferred, carry);
    }
}

/// A spawned closure's result: its index among the invocation's spawns, and how it ended.
type SpawnResult = (usize, Finished);

/// The work an invocation registered.
#[derive(Default)]
pub(crate) struct Work {
    tasks: Vec<Task>,
    spawned: Vec<Spawned>,
    spawn_results: Option<(Sender<SpawnResult>, Receiver<SpawnResult>)>,
}

/// One `Context::spawn`, as the loop follows it.
struct Spawned {
    plan: Plan,
    /// `None` when it was never started (the reason is in `refused`).
    ticket: Option<Ticket>,
    refused: Option<String>,
}

/// How one closure ended, as the loop saw it.
enum Ended {
    Finished(Finished),
    /// Never started: why, and the task when it can still be carried over.
    NotStarted(Option<Task>, String),
    /// Detached at the budget, after `waited`.
    Detached(Duration),
}

impl Work {
    pub(crate) fn push(&mut self, task: Task) {
        self.tasks.push(task);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.tasks.is_empty() && self.spawned.is_empty()
    }

    /// Starts `task` now on its own thread; its outcome is collected by [`Work::finish`]. At
    /// the detached-work limit, or when no thread can be started, it does not start.
    pub(crate) fn spawn(&mut self, mut task: Task, deferred: Deferred, detached: &Arc<Detached>) {
        let index = self.spawned.len();
        if let Some(reason) = detached.full() {
            log::warn!("spawned work {} not started: {reason}", task.plan.name);
            self.spawned.push(Spawned {
                plan: task.plan,
                ticket: None,
                refused: Some(reason),
            });
            return;
        }
        let (tx, _) = self.spawn_results.get_or_insert_with(mpsc::channel);
        let tx = tx.clone();
        let what = format!(
            "spawned work {} of request {}",
            task.plan.name,
            deferred.request_id()
        );
        let ticket = Ticket::running(detached, &what);
        let thread_ticket = ticket.clone();
        let plan = task.plan.clone();
        let started = std::thread::Builder::new()
            .name("coda-spawn".into())
            .spawn(move || {
                crate::logging::set_request_id(Some(deferred.request_id.clone()));
                let finished = task.run_attempts(&deferred);
                if thread_ticket.finish() {
                    let _ = tx.send((index, finished));
                } else {
                    report_late(&deferred, &task.plan.name, &finished.outcome);
                }
            });
        let spawned = match started {
            Ok(_) => Spawned {
                plan,
                ticket: Some(ticket),
                refused: None,
            },
            Err(e) => {
                let reason = format!("could not start a thread for it: {e}");
                log::error!("spawned work {} not started: {reason}", plan.name);
                Spawned {
                    plan,
                    ticket: None,
                    refused: Some(reason),
                }
            }
        };
        self.spawned.push(spawned);
    }

    /// Runs the work carried over from the last invocation, then the deferred closures that
    /// apply to the answer, joins spawned work, hands off what could not finish, and counts
    /// it all.
    pub(crate) fn finish(mut self, deferred: Deferred, carry: &mut Carry<'_>) -> DeferredSummary {
        let mut summary = DeferredSummary::default();
        let mut hand_offs = Vec::new();
        let deferred = Arc::new(deferred);
        let carried_in = std::mem::take(&mut *carry.sandbox.carried());
        let own = std::mem::take(&mut self.tasks).into_iter().filter(|task| {
            let applies = task.when.applies(deferred.error());
            if !applies {
                log::debug!(
                    "deferred work {} registered for the other result: not run",
                    task.plan.name
                );
            }
            applies
        });
        let tasks: Vec<Task> = carried_in.into_iter().chain(own).collect();
        let total = tasks.len();
        for (index, task) in tasks.into_iter().enumerate() {
            let plan = task.plan.clone();
            let own = own_deferred(&task, &deferred);
            let carried = task.carried_from.is_some();
            let ended = run_one(task, &own, carry);
            let label = format!("deferred work {}/{total} {}", index + 1, plan.name);
            settle(
                &label,
                &plan,
                carried,
                ended,
                &own,
                carry,
                &mut summary,
                &mut hand_offs,
            );
        }
        self.join_spawned(&deferred, carry, &mut summary, &mut hand_offs);
        hand_over_all(hand_offs, &deferred, carry, &mut summary);
        summary.answer_to_done = deferred
            .answered_at
            .map(|at| at.elapsed())
            .unwrap_or_default();
        if summary.total() > 0 {
            if summary.all_ran() {
                log::debug!("deferred work: {summary}");
            } else {
                log::warn!("deferred work: {summary}");
            }
        }
        summary
    }

    /// The Runtime API failed and the loop stops (`docs/runtime-api.md` §11): no closure
    /// starts, and none is lost silently. Each one registered (for either result: whether
    /// the answer got through is unknown) and each carried over from earlier is counted as
    /// skipped and handed off with `why`; spawned work still running is detached (overran),
    /// what already finished keeps its outcome.
    pub(crate) fn abandon(
        mut self,
        deferred: Deferred,
        carry: &mut Carry<'_>,
        why: &str,
    ) -> DeferredSummary {
        let mut summary = DeferredSummary::default();
        let mut hand_offs = Vec::new();
        // Nothing may start: the budget is over now.
        let deferred = Arc::new(Deferred {
            budget_end: Some(Instant::now()),
            ..deferred
        });
        let carried_in = std::mem::take(&mut *carry.sandbox.carried());
        let tasks: Vec<Task> = carried_in
            .into_iter()
            .chain(std::mem::take(&mut self.tasks))
            .collect();
        let total = tasks.len();
        for (index, task) in tasks.into_iter().enumerate() {
            let own = own_deferred(&task, &deferred);
            let label = format!("deferred work {}/{total} {}", index + 1, task.plan.name);
            let ended = Ended::NotStarted(None, why.to_owned());
            settle(
                &label,
                &task.plan,
                true,
                ended,
                &own,
                carry,
                &mut summary,
                &mut hand_offs,
            );
        }
        self.join_spawned(&deferred, carry, &mut summary, &mut hand_offs);
        hand_over_all(hand_offs, &deferred, carry, &mut summary);
        if summary.total() > 0 {
            log::warn!("deferred work: {summary}");
        }
        summary
    }

    fn join_spawned(
        &mut self,
        deferred: &Arc<Deferred>,
        carry: &mut Carry<'_>,
        summary: &mut DeferredSummary,
        hand_offs: &mut Vec<HandOff>,
    ) {
        let spawned = std::mem::take(&mut self.spawned);
        let total = spawned.len();
        let mut results: Vec<Option<Ended>> = spawned
            .iter()
            .map(|s| {
                s.refused
                    .as_ref()
                    .map(|reason| Ended::NotStarted(None, reason.clone()))
            })
            .collect();
        if let Some((tx, rx)) = self.spawn_results.take() {
            drop(tx);
            let began = Instant::now();
            while results.iter().any(Option::is_none) {
                let received = match deferred.budget_end {
                    Some(end) => rx.recv_timeout(end.saturating_duration_since(Instant::now())),
                    None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
                match received {
                    Ok((index, finished)) => results[index] = Some(Ended::Finished(finished)),
                    Err(_) => break,
                }
            }
            // What is still missing was running when the budget was spent.
            for (index, result) in results.iter_mut().enumerate() {
                if result.is_some() {
                    continue;
                }
                let verdict = spawned[index].ticket.as_ref().map(Ticket::give_up);
                *result = Some(match verdict {
                    Some(GaveUp::Detached) => Ended::Detached(began.elapsed()),
                    // Finished just now: its result is in the channel.
                    _ => match rx.try_recv() {
                        Ok((i, finished)) if i == index => Ended::Finished(finished),
                        _ => Ended::Finished(Finished {
                            outcome: DeferredOutcome::Failed(
                                "the spawned thread ended without a result".into(),
                            ),
                            attempts: 1,
                            note: None,
                            run_time: began.elapsed(),
                        }),
                    },
                });
            }
        }
        for (index, (spawn, ended)) in spawned.iter().zip(results).enumerate() {
            if let Some(ended) = ended {
                let label = format!("spawned work {}/{total} {}", index + 1, spawn.plan.name);
                settle(
                    &label,
                    &spawn.plan,
                    true,
                    ended,
                    deferred,
                    carry,
                    summary,
                    hand_offs,
                );
            }
        }
    }
}

/// Runs one deferred closure on the worker, unless it cannot start.
fn run_one(task: Task, deferred: &Arc<Deferred>, carry: &mut Carry<'_>) -> Ended {
    if let Some(reason) = carry.detached.full() {
        return Ended::NotStarted(Some(task), reason);
    }
    if deferred.budget_spent() {
        return Ended::NotStarted(Some(task), budget_spent(deferred));
    }
    let worker = match carry.worker {
        Some(worker) => worker,
        None => match Worker::start() {
            Ok(worker) => carry.worker.insert(worker),
            Err(e) => {
                // Not a state of the process: the next closure tries to start one again.
                let reason = format!("could not start the deferred-work thread: {e}");
                return Ended::NotStarted(Some(task), reason);
            }
        },
    };
    match worker.run(task, deferred.clone(), deferred.budget_end, carry.detached) {
        Ran::Finished(finished) => Ended::Finished(finished),
        Ran::NotStarted(task) => Ended::NotStarted(task, budget_spent(deferred)),
        Ran::Detached { waited } => {
            // That thread is busy with the overrunning closure; the next closure gets a
            // fresh one.
            *carry.worker = None;
            Ended::Detached(waited)
        }
    }
}

fn budget_spent(deferred: &Deferred) -> String {
    format!(
        "the budget (deadline minus margin) was spent before it started ({} ms after the event arrived)",
        deferred.elapsed().as_millis()
    )
}

/// Counts and logs how one closure ended, and decides what becomes of it if it did not
/// finish: carried over (it never started and asked for it, once), handed off, or dropped.
#[allow(clippy::too_many_arguments)] // one call site per kind of work; a struct would only rename them
fn settle(
    label: &str,
    plan: &Plan,
    carried: bool,
    ended: Ended,
    deferred: &Deferred,
    carry: &mut Carry<'_>,
    summary: &mut DeferredSummary,
    hand_offs: &mut Vec<HandOff>,
) {
    let (outcome, attempts, note) = match ended {
        Ended::Finished(finished) => {
            summary.run_time += finished.run_time;
            (finished.outcome, finished.attempts, finished.note)
        }
        Ended::Detached(waited) => {
            summary.run_time += waited;
            (DeferredOutcome::Overran, 1, None)
        }
        Ended::NotStarted(task, reason) => match task {
            Some(mut task) if plan.if_unfinished == IfUnfinished::CarryOver && !carried => {
                log::warn!(
                    "{label} not started ({reason}): carried over to run after the next answer"
                );
                task.carried_from = Some(deferred.request_id.clone());
                carry.sandbox.carried().push(task);
                summary.count(&DeferredOutcome::CarriedOver);
                return;
            }
            _ => (DeferredOutcome::Skipped, 0, Some(reason)),
        },
    };
    summary.count(&outcome);
    summary.attempts += attempts as usize;
    log_outcome(label, &outcome, note.as_deref());
    let unfinished = !matches!(outcome, DeferredOutcome::Ran);
    if unfinished && plan.if_unfinished != IfUnfinished::Drop {
        hand_offs.push(HandOff {
            request_id: deferred.request_id().to_owned(),
            name: plan.name.to_string(),
            outcome,
            attempts,
            note,
        });
    }
}

fn log_outcome(label: &str, outcome: &DeferredOutcome, note: Option<&str>) {
    let note = note.map(|n| format!(" ({n})")).unwrap_or_default();
    match outcome {
        DeferredOutcome::Ran => log::debug!("{label} ran"),
        DeferredOutcome::Failed(e) => log::error!("{label} failed: {e}{note}"),
        DeferredOutcome::Panicked(m) => log::error!("{label} panicked: {m}"),
        DeferredOutcome::Skipped => log::warn!("{label} skipped{note}"),
        DeferredOutcome::Overran => log::warn!(
            "{label} overran the budget and was detached; the invocation ends now; the closure \
             freezes with the environment and may resume in a later invocation"
        ),
        DeferredOutcome::CarriedOver => log::warn!("{label} carried over{note}"),
    }
}

/// Gives one hand-off to the sink — on the deferred-work thread, isolated, bounded by the
/// budget plus half the margin — or, without a sink (or when the sink fails), logs it as one
/// structured line. Either way it is never lost silently.
fn hand_over(hand_off: HandOff, deferred: &Arc<Deferred>, carry: &mut Carry<'_>) {
    let Some(sink) = carry.sink else {
        log::error!("deferred work unfinished: {hand_off}");
        return;
    };
    let until = deferred
        .budget_end
        .map(|end| end + carry.margin / 2)
        .map(|end| Instant::now().max(end));
    let failure = if let Some(reason) = carry.detached.full_for_sink() {
        Some(reason)
    } else {
        let worker = match carry.worker {
            Some(worker) => Ok(worker),
            None => Worker::start().map(|w| carry.worker.insert(w)),
        };
        match worker {
            Err(e) => Some(format!("could not start the deferred-work thread: {e}")),
            Ok(worker) => {
                let sink = sink.clone();
                let given = hand_off.clone();
                let task = Task::once(crate::task::When::Always, move |_: &Deferred| {
                    let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
                    sink(&given);
                });
                match worker.run(task, deferred.clone(), until, carry.detached) {
                    Ran::Finished(Finished {
                        outcome: DeferredOutcome::Ran,
                        ..
                    }) => None,
                    Ran::Finished(finished) => Some(format!(
                        "the sink {}: {}",
                        finished.outcome.name(),
                        finished.outcome.error().unwrap_or_default()
                    )),
                    Ran::NotStarted(_) => Some("no time was left to call the sink".into()),
                    Ran::Detached { .. } => {
                        *carry.worker = None;
                        Some("the sink did not return in time and was detached".into())
                    }
                }
            }
        }
    };
    if let Some(failure) = failure {
        log::error!("deferred work unfinished ({failure}): {hand_off}");
    }
}
