//! The deferred-work thread: one long-lived thread runs deferred closures in order, so an
//! invocation with deferred work pays for two channel messages, not a thread start.
//!
//! The loop waits for each closure's outcome only until the budget is spent. An overrunning
//! closure keeps its thread: the loop drops that worker and starts a new one when it next
//! needs one; the old thread reports the late outcome and ends.

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

use crate::deferred::{Deferred, DeferredOutcome};
use crate::task::{TaskFn, report_late, run_isolated};

type Order = (TaskFn, Arc<Deferred>, &'static str);

pub(crate) struct Worker {
    orders: Sender<Order>,
    outcomes: Receiver<DeferredOutcome>,
}

impl Worker {
    pub(crate) fn start() -> Worker {
        let (orders, inbox) = mpsc::channel::<Order>();
        let (outbox, outcomes) = mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("coda-deferred".into())
            .spawn(move || {
                for (run, deferred, label) in inbox {
                    crate::logging::set_request_id(Some(deferred.request_id.clone()));
                    let outcome = run_isolated(run, &deferred);
                    if outbox.send(outcome.clone()).is_err() {
                        report_late(&deferred, label, &outcome);
                    }
                    crate::logging::set_request_id(None);
                }
            });
        if let Err(e) = spawned {
            // Orders sent to a worker without a thread fail in `run` and are reported there.
            log::error!("could not start the deferred-work thread: {e}");
        }
        Worker { orders, outcomes }
    }

    /// Runs one closure and waits for it until the budget is spent.
    pub(crate) fn run(
        &mut self,
        run: TaskFn,
        deferred: Arc<Deferred>,
        label: &'static str,
    ) -> DeferredOutcome {
        let budget_end = deferred.budget_end;
        if self.orders.send((run, deferred, label)).is_err() {
            return DeferredOutcome::Failed("the deferred-work thread is not running".into());
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
            Err(RecvTimeoutError::Timeout) => DeferredOutcome::Overran,
            Err(RecvTimeoutError::Disconnected) => {
                DeferredOutcome::Failed("the deferred-work thread ended unexpectedly".into())
            }
        }
    }
}
