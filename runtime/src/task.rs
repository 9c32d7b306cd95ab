//! One registered closure ([`Task`]): when it applies, its label for logs, and how it runs
//! isolated (a panic caught, an `Err` kept as text) into a [`DeferredOutcome`].

use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::deferred::{Deferred, DeferredOutcome, DeferredResult};

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

/// A closure, boxed, with its result reduced to text.
pub(crate) type TaskFn = Box<dyn FnOnce(&Deferred) -> Result<(), String> + Send>;

/// A registered closure.
pub(crate) struct Task {
    pub(crate) when: When,
    /// The closure's type name, for log lines.
    pub(crate) label: &'static str,
    pub(crate) run: TaskFn,
}

impl Task {
    pub(crate) fn new<F, R>(when: When, f: F) -> Task
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        Task {
            when,
            label: std::any::type_name::<F>(),
            run: Box::new(move |d| f(d).into_result()),
        }
    }
}

/// Runs `run` with panics caught: the outcome of one closure.
pub(crate) fn run_isolated(run: TaskFn, deferred: &Deferred) -> DeferredOutcome {
    match catch_unwind(AssertUnwindSafe(|| run(deferred))) {
        Ok(Ok(())) => DeferredOutcome::Ran,
        Ok(Err(message)) => DeferredOutcome::Failed(message),
        Err(payload) => DeferredOutcome::Panicked(crate::panic::message(payload.as_ref())),
    }
}

/// Logs the outcome of detached work that finished after its invocation ended.
pub(crate) fn report_late(deferred: &Deferred, label: &str, outcome: &DeferredOutcome) {
    let id = deferred.request_id();
    match outcome {
        DeferredOutcome::Ran => {
            log::warn!("detached work of request {id} ({label}) finished late: ran")
        }
        other => {
            log::error!("detached work of request {id} ({label}) finished late: {other:?}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `after` always applies; `after_success` and `after_error` only to their own result.
    #[test]
    fn when_applies() {
        let error = crate::Diagnostic::new("Function.X", "x");
        assert!(When::Always.applies(None) && When::Always.applies(Some(&error)));
        assert!(When::Success.applies(None) && !When::Success.applies(Some(&error)));
        assert!(!When::Error.applies(None) && When::Error.applies(Some(&error)));
    }
}
