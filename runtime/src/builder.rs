//! [`DeferredBuilder`]: deferred work with a name, retries and a policy for when it cannot
//! finish, registered on a [`crate::Context`].

use std::borrow::Cow;
use std::cell::RefCell;
use std::time::Duration;

use crate::deferred::{Deferred, DeferredResult, IfUnfinished};
use crate::task::{Plan, Task, When};
use crate::work::Work;

/// Deferred work with a name, retries and a policy for when it cannot finish, registered on
/// the [`crate::Context`] by `after`, `after_success` or `after_error`
/// ([`crate::Context::deferred`]).
///
/// The closure is `FnMut`, since it may run more than once: retried after an `Err` (never
/// after a panic), with a pause that doubles each time, while the budget can hold another
/// attempt. Make the work idempotent: an attempt that timed out on the other side may have
/// happened.
///
/// ```
/// # fn demo(ctx: &coda_lambda::Context) {
/// use std::time::Duration;
/// use coda_lambda::IfUnfinished;
///
/// ctx.deferred("audit-write")
///     .attempts(3)
///     .backoff(Duration::from_millis(20))
///     .if_unfinished(IfUnfinished::CarryOver)
///     .after(|d| -> Result<(), std::io::Error> {
///         log::info!("writing the audit record of {}", d.request_id());
///         Ok(())
///     });
/// # }
/// ```
#[must_use = "deferred work is registered by `after`, `after_success` or `after_error`"]
pub struct DeferredBuilder<'a> {
    work: &'a RefCell<Work>,
    plan: Plan,
}

impl<'a> DeferredBuilder<'a> {
    pub(crate) fn new(work: &'a RefCell<Work>, name: Cow<'static, str>) -> DeferredBuilder<'a> {
        DeferredBuilder {
            work,
            plan: Plan {
                name,
                attempts: 1,
                backoff: Plan::DEFAULT_BACKOFF,
                if_unfinished: IfUnfinished::HandOff,
            },
        }
    }

    /// Up to `attempts` runs in all (at least 1, the default): a closure that returns `Err`
    /// runs again after a pause, as long as the budget can hold another attempt.
    pub fn attempts(mut self, attempts: u32) -> Self {
        self.plan.attempts = attempts.max(1);
        self
    }

    /// The pause before the second attempt (default 50 ms); it doubles for each one after.
    pub fn backoff(mut self, first: Duration) -> Self {
        self.plan.backoff = first;
        self
    }

    /// What happens if the work cannot finish (default [`IfUnfinished::HandOff`]).
    pub fn if_unfinished(mut self, policy: IfUnfinished) -> Self {
        self.plan.if_unfinished = policy;
        self
    }

    /// Registers `f` to run after the invocation is answered, whether it succeeded or failed.
    pub fn after<F, R>(self, f: F)
    where
        F: FnMut(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.register(When::Always, f);
    }

    /// Registers `f` to run after a successful answer only.
    pub fn after_success<F, R>(self, f: F)
    where
        F: FnMut(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.register(When::Success, f);
    }

    /// Registers `f` to run only after the invocation failed.
    pub fn after_error<F, R>(self, f: F)
    where
        F: FnMut(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.register(When::Error, f);
    }

    fn register<F, R>(self, when: When, f: F)
    where
        F: FnMut(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.work
            .borrow_mut()
            .push(Task::planned(when, self.plan, f));
    }
}
