//! The deferred-work thread: one long-lived thread runs deferred closures in order, so an
//! invocation with deferred work pays for two channel messages, not a thread start.
//!
//! The loop waits for each closure only until the budget is spent ([`Worker::run`]). Whether
//! the closure had started then is decided by its [`Ticket`]: not started means skipped (and
//! the thread will not start it); running means detached — the loop drops this worker and
//! starts a new one when it next needs one, and the old thread reports the late outcome and
//! ends. A worker whose thread could not be started is never kept: the closure that needed it
//! fails with the reason, and the next need tries again.

use std::io;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::Instant;

use crate::deferred::{Deferred, DeferredOutcome};
use crate::detached::{Detached, GaveUp, Ticket};
use crate::task::{Finished, Task, report_late};

/// A closure for the thread, with what it needs to know.
struct Order {
    task: Task,
    deferred: Arc<Deferred>,
    /// When the loop stops waiting (the budget's end, or a sink's grace).
    until: Option<Instant>,
    ticket: Ticket,
}

/// The thread's answer to an order.
enum Done {
    /// The closure ran its attempts.
    Ran(Finished),
    /// The time was up when the thread got to it: not started, handed back.
    NotStarted(Task),
}

/// What became of one closure sent to the worker.
pub(crate) enum Ran {
    /// It ran (to success, failure or panic).
    Finished(Finished),
    /// It never started; the task comes back when the thread handed it back in time.
    NotStarted(Option<Task>),
    /// It was still running when the time was up: detached (this worker is spent).
    Detached { waited: std::time::Duration },
}

pub(crate) struct Worker {
    orders: Sender<Order>,
    results: Receiver<Done>,
    /// The thread; dropping the handle leaves it running (a detached worker ends by itself).
    /// Only tests join it.
    #[cfg_attr(not(test), allow(dead_code))]
    thread: std::thread::JoinHandle<()>,
}

impl Worker {
    /// Starts the thread. An error (thread or memory limits) is the caller's to report.
    pub(crate) fn start() -> io::Result<Worker> {
        let (orders, inbox) = mpsc::channel::<Order>();
        let (outbox, results) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("coda-deferred".into())
            .spawn(move || {
                for mut order in inbox {
                    crate::logging::set_request_id(Some(order.deferred.request_id.clone()));
                    if !order.ticket.start() {
                        continue;
                    }
                    // The process may have been frozen between the loop's check and now:
                    // a closure whose time is up never starts.
                    if order.until.is_some_and(|until| Instant::now() >= until) {
                        if order.ticket.finish() {
                            let _ = outbox.send(Done::NotStarted(order.task));
                        }
                        continue;
                    }
                    let finished = order.task.run_attempts(&order.deferred);
                    if order.ticket.finish() {
                        let _ = outbox.send(Done::Ran(finished));
                    } else {
                        report_late(&order.deferred, &order.task.plan.name, &finished.outcome);
                    }
                    crate::logging::set_request_id(None);
                }
            })?;
        Ok(Worker {
            orders,
            results,
            thread,
        })
    }

    /// Runs `task` on the thread and waits for it until `until` (no limit when `None`).
    pub(crate) fn run(
        &mut self,
        task: Task,
        deferred: Arc<Deferred>,
        until: Option<Instant>,
        detached: &Arc<Detached>,
    ) -> Ran {
        let began = Instant::now();
        let what = format!(
            "deferred work {} of request {}",
            task.plan.name,
            deferred.request_id()
        );
        let ticket = Ticket::queued(detached, &what);
        let order = Order {
            task,
            deferred,
            until,
            ticket: ticket.clone(),
        };
        if let Err(mpsc::SendError(order)) = self.orders.send(order) {
            return Ran::Finished(thread_gone(&order.task));
        }
        let received = match until {
            Some(end) => self
                .results
                .recv_timeout(end.saturating_duration_since(Instant::now())),
            None => self
                .results
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        match received {
            Ok(done) => done.into(),
            Err(RecvTimeoutError::Timeout) => match ticket.give_up() {
                GaveUp::NotStarted => Ran::NotStarted(None),
                GaveUp::Detached => Ran::Detached {
                    waited: began.elapsed(),
                },
                // It finished as the wait ended: its result is already sent.
                GaveUp::Finished => match self.results.recv() {
                    Ok(done) => done.into(),
                    Err(_) => Ran::Finished(ended_unexpectedly()),
                },
            },
            Err(RecvTimeoutError::Disconnected) => Ran::Finished(ended_unexpectedly()),
        }
    }
}

impl From<Done> for Ran {
    fn from(done: Done) -> Ran {
        match done {
            Done::Ran(finished) => Ran::Finished(finished),
            Done::NotStarted(task) => Ran::NotStarted(Some(task)),
        }
    }
}

fn failed(message: String) -> Finished {
    Finished {
        outcome: DeferredOutcome::Failed(message),
        attempts: 0,
        note: None,
        run_time: std::time::Duration::ZERO,
    }
}

fn thread_gone(task: &Task) -> Finished {
    failed(format!(
        "the deferred-work thread had ended before {} was sent to it",
        task.plan.name
    ))
}

fn ended_unexpectedly() -> Finished {
    failed("the deferred-work thread ended unexpectedly".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::When;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::Duration;

    fn deferred() -> Arc<Deferred> {
        let now = Instant::now();
        Arc::new(Deferred {
            request_id: Arc::from("r"),
            started: now,
            answered_at: Some(now),
            budget_end: None,
            error: None,
        })
    }

    /// A closure whose time was up when the thread got to it — the process was frozen after
    /// the loop's check — never starts: it is skipped, not overran, and comes back whole.
    #[test]
    fn frozen_then_late_closures_are_not_started() {
        let detached = Detached::new(4);
        let mut worker = Worker::start().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let task = Task::once(When::Always, move |_: &Deferred| {
            flag.store(true, Ordering::SeqCst)
        });
        let past = Instant::now().checked_sub(Duration::from_millis(1));
        match worker.run(task, deferred(), past, &detached) {
            Ran::NotStarted(_) => {}
            Ran::Finished(f) => panic!("ran: {f:?}"),
            Ran::Detached { .. } => panic!("detached"),
        }
        assert!(!ran.load(Ordering::SeqCst));
        assert_eq!(detached.running(), 0);
        // The worker serves the next closure.
        let task = Task::once(When::Always, |_: &Deferred| ());
        assert!(matches!(
            worker.run(task, deferred(), None, &detached),
            Ran::Finished(Finished {
                outcome: DeferredOutcome::Ran,
                ..
            })
        ));
    }

    /// A closure still running when the time is up is detached and counted until it ends.
    #[test]
    fn overrunning_closures_are_detached_and_counted() {
        let detached = Detached::new(4);
        let mut worker = Worker::start().unwrap();
        let (release, wait) = mpsc::channel::<()>();
        let (ended, ended_rx) = mpsc::channel::<()>();
        let task = Task::once(When::Always, move |_: &Deferred| {
            let _ = wait.recv();
            let _ = ended.send(());
        });
        let soon = Instant::now() + Duration::from_millis(50);
        assert!(matches!(
            worker.run(task, deferred(), Some(soon), &detached),
            Ran::Detached { .. }
        ));
        assert_eq!(detached.running(), 1);
        release.send(()).unwrap();
        ended_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        // Without the loop's sender the thread ends once it has reported the late outcome.
        let Worker { orders, thread, .. } = worker;
        drop(orders);
        thread.join().unwrap();
        assert_eq!(detached.running(), 0);
    }
}
