//! The deferred-work thread: one long-lived thread runs deferred closures in order, so an
//! invocation with deferred work pays for two channel messages, not a thread start.
//!
//! The loop waits for each closure's outcome only until the budget is spent. An overrunning
//! closure keeps its thread: the loop drops that worker and starts a new one when it next
//! needs one; the old thread reports the late outcome and ends.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

use crate::deferred::{TaskFn, TaskOutcome, report_late, run_isolated};
use crate::job::Job;

type Order = (TaskFn, Arc<Job>, &'static str);

pub(crate) struct Worker {
    orders: Sender<Order>,
    outcomes: Receiver<TaskOutcome>,
}

impl Worker {
    pub(crate) fn start() -> Worker {
        let (orders, inbox) = mpsc::channel::<Order>();
        let (outbox, outcomes) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("coda-deferred".into())
            .spawn(move || {
                for (run, job, label) in inbox {
                    crate::logger::set_request_id(Some(job.request_id.clone()));
                    let outcome = run_isolated(run, &job);
                    if outbox.send(outcome.clone()).is_err() {
                        report_late(&job, label, &outcome);
                    }
                    crate::logger::set_request_id(None);
                }
            });
        if let Err(e) = spawned {
            // Orders sent to a worker without a thread fail in `run` and are reported there.
            log::error!("could not start the deferred-work thread: {e}");
        }
        Worker { orders, outcomes }
    }

    /// Runs one closure and waits for it until the budget is spent.
    pub(crate) fn run(&mut self, run: TaskFn, job: Arc<Job>, label: &'static str) -> TaskOutcome {
        let budget_end = job.budget_end;
        if self.orders.send((run, job, label)).is_err() {
            return TaskOutcome::Failed("the deferred-work thread is not running".into());
        }
        let received = match budget_end {
            Some(end) => self
                .outcomes
                .recv_timeout(end.saturating_duration_since(Instant::now())),
            None => self
                .outcomes
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(outcome) => outcome,
            Err(RecvTimeoutError::Timeout) => TaskOutcome::Overran,
            Err(RecvTimeoutError::Disconnected) => {
                TaskOutcome::Failed("the deferred-work thread ended unexpectedly".into())
            }
        }
    }
}
