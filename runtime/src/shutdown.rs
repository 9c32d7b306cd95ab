//! Graceful shutdown (`docs/runtime-api.md` §7.4), with the `shutdown` feature: Lambda sends
//! SIGTERM, to functions with at least one registered extension, before it ends the sandbox —
//! about 500 ms before SIGKILL when the extensions are internal. The runtime registers a
//! do-nothing internal extension for that ([`crate::extension::start_placeholder`]) unless a
//! user extension exists, catches SIGTERM on a thread of its own, and then, within the
//! shutdown budget: runs the work carried over to the next answer (there will be none), tells
//! the extensions, runs the hooks, reports what was still running (dropped, with request
//! ids), and ends the process with status 0.
//!
//! std cannot catch a signal without `unsafe`; signal-hook does it (a handler that writes to
//! a pipe, read by this module's thread).

use std::sync::Arc;
use std::time::{Duration, Instant};

use signal_hook::consts::SIGTERM;
use signal_hook::iterator::Signals;

use crate::deferred::{Deferred, DeferredOutcome};
use crate::detached::Detached;
use crate::extension::{self, Callback, ExtensionEvent, Shutdown};
use crate::sandbox::Sandbox;
use crate::task::{Task, When};
use crate::worker::{Ran, Worker};

/// A shutdown hook ([`crate::Runtime::on_shutdown`]).
pub(crate) type Hook = Box<dyn FnOnce(&Shutdown) + Send>;

/// What the shutdown has to do.
pub(crate) struct Plan {
    pub(crate) hooks: Vec<Hook>,
    pub(crate) extensions: Vec<(String, Callback)>,
    pub(crate) budget: Duration,
}

/// Catches SIGTERM from now on: on it, shuts down as the module docs say and exits.
pub(crate) fn watch(plan: Plan, sandbox: Arc<Sandbox>) -> std::io::Result<()> {
    let mut signals = Signals::new([SIGTERM])?;
    std::thread::Builder::new()
        .name("coda-shutdown".into())
        .spawn(move || {
            if signals.forever().next().is_some() {
                shut_down(plan, &sandbox);
                std::process::exit(0);
            }
        })?;
    Ok(())
}

fn shut_down(plan: Plan, sandbox: &Sandbox) {
    let started = Instant::now();
    let deadline = started + plan.budget;
    log::info!(
        "SIGTERM: shutting down within {} ms",
        plan.budget.as_millis()
    );
    let mut worker: Option<Worker> = None;
    let detached = Detached::new(usize::MAX);
    let carried_until = started + plan.budget / 2;
    for task in std::mem::take(&mut *sandbox.carried()) {
        let origin = task.carried_from.clone().unwrap_or_else(|| Arc::from("-"));
        let what = format!("carried work {} of request {origin}", task.plan.name);
        let deferred = Deferred {
            request_id: origin,
            started,
            answered_at: None,
            budget_end: Some(carried_until),
            error: None,
        };
        match run(&mut worker, task, deferred, carried_until, &detached) {
            Some(outcome) => log::warn!("shutdown: {what}: {}", outcome.name()),
            None => log::warn!("shutdown: {what}: dropped (no time left)"),
        }
    }
    let shutdown = Shutdown { deadline };
    for (name, callback) in plan.extensions {
        let event = ExtensionEvent::Shutdown(shutdown.clone());
        let task = Task::once(When::Always, move |_: &Deferred| {
            extension::call(&name, &callback, &event)
        });
        run(
            &mut worker,
            task,
            deferred_until(deadline),
            deadline,
            &detached,
        );
    }
    for hook in plan.hooks {
        let shutdown = shutdown.clone();
        let task = Task::once(When::Always, move |_: &Deferred| hook(&shutdown));
        if let Some(outcome) = run(
            &mut worker,
            task,
            deferred_until(deadline),
            deadline,
            &detached,
        ) && outcome != DeferredOutcome::Ran
        {
            log::error!(
                "shutdown: a hook {}: {}",
                outcome.name(),
                outcome.error().unwrap_or("")
            );
        }
    }
    for what in sandbox.detached.still_running() {
        log::warn!("shutdown: {what} was still running (detached): dropped");
    }
    for id in sandbox.in_flight() {
        log::warn!("shutdown: invocation {id} was still running: dropped");
    }
    log::info!("shutdown: done in {} ms", started.elapsed().as_millis());
}

fn deferred_until(deadline: Instant) -> Deferred {
    Deferred {
        request_id: Arc::from("-"),
        started: Instant::now(),
        answered_at: None,
        budget_end: Some(deadline),
        error: None,
    }
}

/// Runs `task` on the shutdown's worker until `until`; `None` when it could not start in
/// time (or no thread could be started), `Overran` when it was still running.
fn run(
    worker: &mut Option<Worker>,
    task: Task,
    deferred: Deferred,
    until: Instant,
    detached: &Arc<Detached>,
) -> Option<DeferredOutcome> {
    let w = match worker {
        Some(w) => w,
        None => match Worker::start() {
            Ok(w) => worker.insert(w),
            Err(e) => {
                log::error!("shutdown: no thread could be started: {e}");
                return None;
            }
        },
    };
    match w.run(task, Arc::new(deferred), Some(until), detached) {
        Ran::Finished(finished) => Some(finished.outcome),
        Ran::NotStarted(_) => None,
        Ran::Detached { .. } => {
            *worker = None;
            Some(DeferredOutcome::Overran)
        }
    }
}
