//! One registered closure ([`Task`]): when it applies, its [`Plan`] (name, attempts, backoff,
//! what happens if it cannot finish), and how its attempts run isolated — a panic caught, an
//! `Err` kept as text — into a [`Finished`].

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::deferred::{Deferred, DeferredOutcome, DeferredResult, IfUnfinished};

/// Which answers a registered closure applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum When {
    /// After any answer (`after`).
    Always,
    /// After a response the Runtime API accepted (`after_success`).
    Success,
    /// After an error answer, or a refused response (`after_error`).
    Error,
}

impl When {
    /// Whether a closure registered for `self` runs after an answer that failed with `error`.
    pub(crate) fn applies(self, error: Option<&crate::Diagnostic>) -> bool {
        match self {
            When::Always => true,
            When::Success => error.is_none(),
            When::Error => error.is_some(),
        }
    }
}

/// A registered closure's settings.
#[derive(Clone, Debug)]
pub(crate) struct Plan {
    /// The name in log lines and hand-offs.
    pub(crate) name: Cow<'static, str>,
    /// Attempts in all, at least 1.
    pub(crate) attempts: u32,
    /// The pause before the second attempt; doubled for each one after.
    pub(crate) backoff: Duration,
    pub(crate) if_unfinished: IfUnfinished,
}

impl Plan {
    /// The pause before the second attempt when none is set.
    pub(crate) const DEFAULT_BACKOFF: Duration = Duration::from_millis(50);

    /// One attempt, named after the closure's type, handed off if it cannot finish.
    fn single(name: &'static str) -> Plan {
        Plan {
            name: Cow::Borrowed(name),
            attempts: 1,
            backoff: Plan::DEFAULT_BACKOFF,
            if_unfinished: IfUnfinished::HandOff,
        }
    }
}

/// A closure, boxed, with its result reduced to text.
pub(crate) type TaskFn = Box<dyn FnMut(&Deferred) -> Result<(), String> + Send>;

/// A registered closure.
pub(crate) struct Task {
    pub(crate) when: When,
    pub(crate) plan: Plan,
    pub(crate) run: TaskFn,
    /// The request id of the invocation it was carried over from, if it was (it is carried
    /// at most once).
    pub(crate) carried_from: Option<std::sync::Arc<str>>,
}

/// How a task's attempts ended on the thread that ran them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Finished {
    pub(crate) outcome: DeferredOutcome,
    pub(crate) attempts: u32,
    /// Set when retries stopped because the budget could not hold another attempt.
    pub(crate) note: Option<String>,
    pub(crate) run_time: Duration,
}

impl Task {
    /// A closure that runs once (`Context::after`, `Reply::after`, `Context::spawn`).
    pub(crate) fn once<F, R>(when: When, f: F) -> Task
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        let mut f = Some(f);
        Task {
            when,
            plan: Plan::single(std::any::type_name::<F>()),
            run: Box::new(move |d| match f.take() {
                Some(f) => f(d).into_result(),
                // A single-attempt plan never calls it twice.
                None => Err("this closure has already run".to_owned()),
            }),
            carried_from: None,
        }
    }

    /// A closure with a plan of its own (`Context::deferred`): it may run more than once.
    pub(crate) fn planned<F, R>(when: When, plan: Plan, mut f: F) -> Task
    where
        F: FnMut(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        Task {
            when,
            plan,
            run: Box::new(move |d| f(d).into_result()),
            carried_from: None,
        }
    }

    /// Runs the attempts the plan allows: again after an `Err` (after the backoff), while the
    /// budget can hold another attempt as long as the last one took; never after a panic.
    pub(crate) fn run_attempts(&mut self, deferred: &Deferred) -> Finished {
        let started = Instant::now();
        let name = &self.plan.name;
        let most = self.plan.attempts.max(1);
        let mut pause = self.plan.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let began = Instant::now();
            let outcome = match catch_unwind(AssertUnwindSafe(|| (self.run)(deferred))) {
                Ok(Ok(())) => DeferredOutcome::Ran,
                Ok(Err(message)) => DeferredOutcome::Failed(message),
                Err(payload) => DeferredOutcome::Panicked(crate::panic::message(payload.as_ref())),
            };
            let finished = |outcome, note| Finished {
                outcome,
                attempts: attempt,
                note,
                run_time: started.elapsed(),
            };
            let DeferredOutcome::Failed(error) = &outcome else {
                if attempt > 1 && outcome == DeferredOutcome::Ran {
                    log::info!("deferred work {name} ran on attempt {attempt} of {most}");
                }
                return finished(outcome, None);
            };
            if attempt >= most {
                return finished(outcome, None);
            }
            let needed = pause + began.elapsed();
            let left = deferred.remaining();
            if left <= needed {
                let note = format!(
                    "retries cut by the budget after {attempt} of {most} attempts: {} ms left, another needs about {} ms",
                    left.as_millis(),
                    needed.as_millis()
                );
                log::warn!(
                    "deferred work {name} attempt {attempt} of {most} failed: {error}; {note}"
                );
                return finished(outcome, Some(note));
            }
            log::warn!(
                "deferred work {name} attempt {attempt} of {most} failed: {error}; next attempt in {} ms",
                pause.as_millis()
            );
            // A backoff, not a synchronisation: the pause between two attempts.
            std::thread::sleep(pause);
            pause = pause.saturating_mul(2);
        }
    }
}

/// Logs the outcome of detached work that finished after its invocation ended.
pub(crate) fn report_late(deferred: &Deferred, name: &str, outcome: &DeferredOutcome) {
    let id = deferred.request_id();
    match outcome {
        DeferredOutcome::Ran => {
            log::warn!("detached work of request {id} ({name}) finished late: ran")
        }
        other => {
            log::error!("detached work of request {id} ({name}) finished late: {other:?}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn deferred(budget: Option<Duration>) -> Deferred {
        let now = Instant::now();
        Deferred {
            request_id: Arc::from("r"),
            started: now,
            answered_at: Some(now),
            budget_end: budget.map(|b| now + b),
            error: None,
        }
    }

    /// `after` always applies; `after_success` and `after_error` only to their own result.
    #[test]
    fn when_applies() {
        let error = crate::Diagnostic::new("Function.X", "x");
        assert!(When::Always.applies(None) && When::Always.applies(Some(&error)));
        assert!(When::Success.applies(None) && !When::Success.applies(Some(&error)));
        assert!(!When::Error.applies(None) && When::Error.applies(Some(&error)));
    }

    fn plan(attempts: u32) -> Plan {
        Plan {
            name: "t".into(),
            attempts,
            backoff: Duration::from_millis(1),
            if_unfinished: IfUnfinished::HandOff,
        }
    }

    /// A closure failing twice succeeds on its third attempt, each attempt counted.
    #[test]
    fn retries_until_success() {
        let mut calls = 0;
        let mut task = Task::planned(When::Always, plan(3), move |_: &Deferred| {
            calls += 1;
            if calls < 3 { Err("not yet") } else { Ok(()) }
        });
        let f = task.run_attempts(&deferred(None));
        assert_eq!(
            (f.outcome, f.attempts, f.note),
            (DeferredOutcome::Ran, 3, None)
        );
    }

    /// Attempts stop at the plan's number; the last error is the outcome's.
    #[test]
    fn retries_exhausted() {
        let mut n = 0;
        let mut task = Task::planned(When::Always, plan(2), move |_: &Deferred| {
            n += 1;
            Err::<(), _>(format!("failure {n}"))
        });
        let f = task.run_attempts(&deferred(None));
        assert_eq!(f.outcome, DeferredOutcome::Failed("failure 2".into()));
        assert_eq!(f.attempts, 2);
    }

    /// With no budget left for another attempt, retries stop and say why; panics are never
    /// retried.
    #[test]
    fn retries_cut_by_the_budget_and_panics_not_retried() {
        let mut task = Task::planned(When::Always, plan(5), |_: &Deferred| Err::<(), _>("down"));
        let f = task.run_attempts(&deferred(Some(Duration::ZERO)));
        assert_eq!(f.attempts, 1);
        assert!(
            f.note
                .unwrap()
                .contains("retries cut by the budget after 1 of 5")
        );

        let mut task = Task::planned(When::Always, plan(5), |_: &Deferred| -> () {
            panic!("bug")
        });
        let f = task.run_attempts(&deferred(None));
        assert_eq!(
            (f.outcome, f.attempts),
            (DeferredOutcome::Panicked("bug".into()), 1)
        );
    }

    /// A run-once closure runs once.
    #[test]
    fn once_runs_once() {
        let mut task = Task::once(When::Always, |_: &Deferred| Err::<(), _>("x"));
        let f = task.run_attempts(&deferred(None));
        assert_eq!(
            (f.outcome, f.attempts),
            (DeferredOutcome::Failed("x".into()), 1)
        );
    }
}
