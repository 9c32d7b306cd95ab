//! Deferred work's vocabulary: [`Deferred`] (what each closure knows), [`DeferredOutcome`]
//! (how one ended), [`DeferredSummary`] (how an invocation's closures ended) and
//! [`DeferredResult`] (what a closure may return).
//!
//! The contract (each sentence has a test in `tests/`):
//!
//! - Deferred closures ([`crate::Context::after`], [`crate::Reply::after`] and their
//!   `_success` / `_error` forms) run after the Runtime API accepted the answer (`/response`
//!   or `/error`), in registration order (work registered on the `Context` first, then the
//!   `Reply`'s), on the runtime's deferred-work thread.
//! - Each closure is isolated: a panic is caught, an `Err` is logged; neither stops the
//!   closures after it, and neither changes the answer already delivered.
//! - Work is bounded by the budget: the invocation deadline minus the safety margin
//!   ([`crate::Runtime::deferred_margin`]). A closure that cannot start before the budget is
//!   spent is skipped. A closure still running when the budget is spent is *detached*: the
//!   runtime stops waiting, logs it, and calls `/next`, so an overrun never turns an answered
//!   invocation into a Lambda timeout. The detached thread freezes with the environment and
//!   may resume in a later invocation (`docs/runtime-api.md` §9 #22); when it ends, its
//!   outcome is logged with its own request id.
//! - Spawned work ([`crate::Context::spawn`]) starts at once on its own thread and is joined,
//!   within the same budget, before `/next`.
//! - Nothing is lost silently: each closure that applies ends as ran, failed, panicked,
//!   skipped or overran, logged with the request id and counted in the [`DeferredSummary`].
//!   A closure registered for the other result (`after_success` on a failed invocation,
//!   `after_error` on a successful one) does not apply: it is not run and not counted.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Diagnostic;

/// What a deferred or spawned closure knows about its invocation and its time budget.
///
/// The budget is the invocation deadline minus the runtime's safety margin: work should stop
/// when [`Deferred::budget_spent`] says so. When the Runtime API sent no deadline, the budget
/// is unlimited and [`Deferred::remaining`] is `Duration::MAX`.
///
/// ```
/// # fn demo(ctx: &coda_lambda::Context) {
/// ctx.after(|d| {
///     log::info!("{} answered after {:?}", d.request_id(), d.answered_after());
///     if let Some(error) = d.error() {
///         log::warn!("it failed: {error}");
///     }
/// });
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Deferred {
    pub(crate) request_id: Arc<str>,
    pub(crate) started: Instant,
    pub(crate) answered_at: Option<Instant>,
    pub(crate) budget_end: Option<Instant>,
    pub(crate) error: Option<Diagnostic>,
}

impl Deferred {
    /// The invocation's request id.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// Time left in the budget, zero once it is spent (`Duration::MAX` without a deadline).
    pub fn remaining(&self) -> Duration {
        match self.budget_end {
            Some(end) => end.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        }
    }

    /// Whether the budget is spent: past this point the runtime stops waiting for the work.
    pub fn budget_spent(&self) -> bool {
        self.budget_end.is_some_and(|end| Instant::now() >= end)
    }

    /// Time since the invocation's event arrived from `/next`.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// How long after the event's arrival the Runtime API accepted the answer: the caller's
    /// wait. `None` for spawned work, which starts before the answer.
    pub fn answered_after(&self) -> Option<Duration> {
        self.answered_at
            .map(|at| at.saturating_duration_since(self.started))
    }

    /// The error the caller received, when the invocation failed: the handler's error, or
    /// the Runtime API's refusal of the response (for example a response over 6 MB). `None`
    /// after a success, and for spawned work, which starts before the answer.
    pub fn error(&self) -> Option<&Diagnostic> {
        self.error.as_ref()
    }
}

/// What deferred and spawned closures may return: `()` or any `Result` whose error displays.
#[diagnostic::on_unimplemented(
    message = "a deferred closure must return `()` or a `Result<_, E>` whose `E` implements `Display`, not `{Self}`",
    label = "the closure given here returns `{Self}`",
    note = "a closure that only panics has the type `!` in edition 2024: give it a return type, `|_| -> () {{ panic!(\"…\") }}`"
)]
pub trait DeferredResult {
    /// `Ok(())` when the work succeeded, the error text otherwise.
    fn into_result(self) -> Result<(), String>;
}

impl DeferredResult for () {
    fn into_result(self) -> Result<(), String> {
        Ok(())
    }
}

impl<T, E: fmt::Display> DeferredResult for Result<T, E> {
    fn into_result(self) -> Result<(), String> {
        self.map(|_| ()).map_err(|e| e.to_string())
    }
}

/// How one deferred or spawned closure ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeferredOutcome {
    /// It returned `()` or `Ok`.
    Ran,
    /// It returned `Err`; the text of the error.
    Failed(String),
    /// It panicked; the panic message.
    Panicked(String),
    /// It never started: the budget was spent before its turn came.
    Skipped,
    /// It was still running when the budget was spent and was detached.
    Overran,
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
    /// Closures that never started because the budget was spent.
    pub skipped: usize,
    /// Closures detached when the budget was spent.
    pub overran: usize,
}

impl DeferredSummary {
    /// Every closure counted.
    pub fn total(&self) -> usize {
        self.ran + self.failed + self.panicked + self.skipped + self.overran
    }

    /// Whether every closure counted ran to success.
    pub fn all_ran(&self) -> bool {
        self.ran == self.total()
    }

    pub(crate) fn count(&mut self, outcome: &DeferredOutcome) {
        match outcome {
            DeferredOutcome::Ran => self.ran += 1,
            DeferredOutcome::Failed(_) => self.failed += 1,
            DeferredOutcome::Panicked(_) => self.panicked += 1,
            DeferredOutcome::Skipped => self.skipped += 1,
            DeferredOutcome::Overran => self.overran += 1,
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every outcome lands in its own counter; `all_ran` is true only when nothing else did.
    #[test]
    fn summary_counts() {
        let mut s = DeferredSummary::default();
        assert!(s.all_ran());
        for outcome in [
            DeferredOutcome::Ran,
            DeferredOutcome::Failed("e".into()),
            DeferredOutcome::Panicked("p".into()),
            DeferredOutcome::Skipped,
            DeferredOutcome::Overran,
            DeferredOutcome::Ran,
        ] {
            s.count(&outcome);
        }
        assert_eq!(
            (s.ran, s.failed, s.panicked, s.skipped, s.overran),
            (2, 1, 1, 1, 1)
        );
        assert_eq!(s.total(), 6);
        assert!(!s.all_ran());
        assert_eq!(
            s.to_string(),
            "2 ran, 1 failed, 1 panicked, 1 skipped, 1 overran"
        );
    }

    /// `()` is success; a `Result` keeps its error's text.
    #[test]
    fn results() {
        assert_eq!(().into_result(), Ok(()));
        assert_eq!(Ok::<u8, String>(1).into_result(), Ok(()));
        assert_eq!(
            Err::<(), _>(std::io::Error::other("disk")).into_result(),
            Err("disk".to_owned())
        );
    }
}
