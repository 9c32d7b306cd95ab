//! [`Job`]: what deferred and spawned work knows about its invocation and its time budget.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::Diagnostic;

/// How the invocation ended, as seen by work that runs after it was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvocationResult {
    /// The response was posted to `/response` and accepted.
    Succeeded,
    /// An error was posted to `/error`, or the Runtime API refused the response (for example
    /// 413 for a response over 6 MB: the caller then receives an error).
    Failed(Diagnostic),
}

/// The context handed to deferred closures ([`crate::Reply::after`], [`crate::Context::after`])
/// and spawned work ([`crate::Context::spawn`]).
///
/// The budget is the invocation deadline minus the runtime's safety margin: work should stop
/// when [`Job::budget_spent`] says so. When the Runtime API sent no deadline, the budget is
/// unlimited and [`Job::remaining`] is `Duration::MAX`.
#[derive(Clone, Debug)]
pub struct Job {
    pub(crate) request_id: Arc<str>,
    pub(crate) started: Instant,
    pub(crate) answered_at: Option<Instant>,
    pub(crate) budget_end: Option<Instant>,
    pub(crate) result: Option<InvocationResult>,
}

impl Job {
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

    /// How the invocation ended; `None` for spawned work, which starts before the end.
    pub fn result(&self) -> Option<&InvocationResult> {
        self.result.as_ref()
    }

    /// The error that was reported, when the invocation failed.
    pub fn error(&self) -> Option<&Diagnostic> {
        match &self.result {
            Some(InvocationResult::Failed(d)) => Some(d),
            _ => None,
        }
    }
}
