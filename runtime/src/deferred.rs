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
//!   skipped, overran or carried over, logged with the request id and counted in the
//!   [`DeferredSummary`]. A closure registered for the other result (`after_success` on a
//!   failed invocation, `after_error` on a successful one) does not apply: it is not run and
//!   not counted. *Skipped* means it never started — the budget was spent before its turn
//!   (wherever the time went, a frozen process included) or too many detached closures are
//!   still running ([`crate::Runtime::max_detached`]).
//! - Work registered through [`crate::Context::deferred`] can have a name, up to N
//!   [attempts](crate::DeferredBuilder::attempts) with backoff (retried on `Err`, never after a
//!   panic; attempts stop when the budget cannot hold another; idempotency is the closure's
//!   job), and a choice of what happens when it cannot finish ([`IfUnfinished`]).
//! - What cannot finish — failed, panicked, skipped, overran — is handed off: to the sink set
//!   with [`crate::Runtime::on_unfinished`], which gets a [`HandOff`] on the deferred-work
//!   thread (isolated and bounded like the work itself), or, without a sink, as one
//!   structured log line each. Work marked [`IfUnfinished::CarryOver`] that never started
//!   runs instead after the next invocation's answer, in the same sandbox (once; if it cannot
//!   run then either, it is handed off).

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
    /// It never started, and was marked to carry over: it runs after the next invocation's
    /// answer ([`IfUnfinished::CarryOver`]).
    CarriedOver,
}

impl DeferredOutcome {
    /// The outcome's name in log lines and hand-offs: `ran`, `failed`, `panicked`, `skipped`,
    /// `overran`, `carried over`.
    pub fn name(&self) -> &'static str {
        match self {
            DeferredOutcome::Ran => "ran",
            DeferredOutcome::Failed(_) => "failed",
            DeferredOutcome::Panicked(_) => "panicked",
            DeferredOutcome::Skipped => "skipped",
            DeferredOutcome::Overran => "overran",
            DeferredOutcome::CarriedOver => "carried over",
        }
    }

    /// The error or panic message, for `Failed` and `Panicked`.
    pub fn error(&self) -> Option<&str> {
        match self {
            DeferredOutcome::Failed(e) | DeferredOutcome::Panicked(e) => Some(e),
            _ => None,
        }
    }
}

/// What happens to deferred work that cannot finish (set per closure with
/// [`crate::DeferredBuilder::if_unfinished`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum IfUnfinished {
    /// Hand it off: to the sink ([`crate::Runtime::on_unfinished`]), or as one structured
    /// log line when there is none. The default.
    #[default]
    HandOff,
    /// If it never started (skipped), run it after the next invocation's answer in the same
    /// sandbox, once; handed off if it cannot run then either. Work that started and failed,
    /// panicked or overran is handed off.
    CarryOver,
    /// Count it and log it, nothing more.
    Drop,
}

/// Deferred work that could not finish, as the sink receives it
/// ([`crate::Runtime::on_unfinished`]). Its `Display` is one JSON object, the line logged for
/// it when there is no sink.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct HandOff {
    /// The request id of the invocation that registered the work.
    pub request_id: String,
    /// Its name ([`crate::Context::deferred`]), or the closure's type name.
    pub name: String,
    /// How it ended: `Failed`, `Panicked`, `Skipped` or `Overran`.
    pub outcome: DeferredOutcome,
    /// The attempts it made (0 when it never started).
    pub attempts: u32,
    /// Why, when the outcome alone does not say: `retries cut by the budget`, `the budget was
    /// spent before it started`, `16 detached closures are still running`…
    pub note: Option<String>,
}

impl fmt::Display for HandOff {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let line = serde_json::json!({
            "requestId": self.request_id,
            "name": self.name,
            "outcome": self.outcome.name(),
            "attempts": self.attempts,
            "error": self.outcome.error(),
            "note": self.note,
        });
        write!(f, "{line}")
    }
}

/// How an invocation's deferred and spawned closures ended: counts by outcome, the attempts
/// they made, what was handed off, and the time they took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeferredSummary {
    /// Closures that returned `()` or `Ok` (on some attempt).
    pub ran: usize,
    /// Closures that returned `Err` on their last attempt.
    pub failed: usize,
    /// Closures that panicked.
    pub panicked: usize,
    /// Closures that never started: the budget was spent before their turn, or too many
    /// detached closures were still running.
    pub skipped: usize,
    /// Closures detached when the budget was spent.
    pub overran: usize,
    /// Closures that never started and run after the next invocation's answer instead.
    pub carried: usize,
    /// Attempts made, retries included.
    pub attempts: usize,
    /// Closures handed off (to the sink, or as a log line) because they could not finish.
    pub handed_off: usize,
    /// Time spent running closures (the sum over closures, waits for detached ones included).
    pub run_time: Duration,
    /// From the answer's acceptance to the end of deferred work: how much longer the
    /// invocation lasted than the caller waited.
    pub answer_to_done: Duration,
}

impl DeferredSummary {
    /// Every closure counted (each has exactly one outcome).
    pub fn total(&self) -> usize {
        self.ran + self.failed + self.panicked + self.skipped + self.overran + self.carried
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
            DeferredOutcome::CarriedOver => self.carried += 1,
        }
    }
}

impl fmt::Display for DeferredSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ran, {} failed, {} panicked, {} skipped, {} overran",
            self.ran, self.failed, self.panicked, self.skipped, self.overran
        )?;
        if self.carried > 0 {
            write!(f, ", {} carried over", self.carried)?;
        }
        if self.handed_off > 0 {
            write!(f, ", {} handed off", self.handed_off)?;
        }
        if self.attempts > self.total() {
            write!(f, "; {} attempts", self.attempts)?;
        }
        Ok(())
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
            DeferredOutcome::CarriedOver,
        ] {
            s.count(&outcome);
        }
        assert_eq!(
            (s.ran, s.failed, s.panicked, s.skipped, s.overran),
            (2, 1, 1, 1, 1)
        );
        assert_eq!((s.carried, s.total()), (1, 7));
        assert!(!s.all_ran());
        assert_eq!(
            s.to_string(),
            "2 ran, 1 failed, 1 panicked, 1 skipped, 1 overran, 1 carried over"
        );
    }

    /// A hand-off's line is one JSON object with everything the sink gets.
    #[test]
    fn hand_off_lines() {
        let h = HandOff {
            request_id: "r-1".into(),
            name: "audit-write".into(),
            outcome: DeferredOutcome::Failed("disk \"full\"".into()),
            attempts: 3,
            note: None,
        };
        let v: serde_json::Value = serde_json::from_str(&h.to_string()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"requestId": "r-1", "name": "audit-write", "outcome": "failed",
                "attempts": 3, "error": "disk \"full\"", "note": null})
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
