//! The metrics only an answer-first runtime can report, and their names: what the caller
//! waited (`TimeToAnswer`, the answer's acceptance by the Runtime API: Lambda's
//! `ResponseSent`), cold starts, errors — known in a deferred closure — and, once all
//! deferred work has ended (an [`coda_lambda::InvocationReport`]), how that work ended and
//! how long it took.

use std::time::Duration;

use coda_lambda::InvocationReport;

use super::error::MetricsError;
use super::set::MetricSet;
use super::unit::{Resolution, Unit};

/// `1` for an invocation that was the process's first, else `0` (Count).
pub const COLD_START: &str = "ColdStart";
/// From the event's arrival to the answer's acceptance: what the caller waited
/// (Milliseconds).
pub const TIME_TO_ANSWER: &str = "TimeToAnswer";
/// `1` for an invocation whose caller received an error, else `0` (Count).
pub const ERRORS: &str = "Errors";
/// From the event's arrival to the end of deferred work (Milliseconds).
pub const INVOCATION_DURATION: &str = "InvocationDuration";
/// From the answer to the end of deferred work: what the invocation lasted past the
/// caller's wait (Milliseconds).
pub const DEFERRED_DURATION: &str = "DeferredDuration";
/// Deferred closures that ran to success (Count).
pub const DEFERRED_RAN: &str = "DeferredRan";
/// Deferred closures that returned an error on their last attempt (Count).
pub const DEFERRED_FAILED: &str = "DeferredFailed";
/// Deferred closures that panicked (Count).
pub const DEFERRED_PANICKED: &str = "DeferredPanicked";
/// Deferred closures that never started: the budget was spent (Count).
pub const DEFERRED_SKIPPED: &str = "DeferredSkipped";
/// Deferred closures detached at the budget (Count).
pub const DEFERRED_OVERRAN: &str = "DeferredOverran";

/// What is known of an invocation at its answer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AtAnswer {
    pub(crate) cold_start: bool,
    pub(crate) answered_after: Option<Duration>,
    pub(crate) failed: bool,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn count(n: usize) -> f64 {
    n as f64
}

/// Adds the metrics known at the answer to `set`.
pub(crate) fn at_answer(set: &mut MetricSet, at: AtAnswer) -> Result<(), MetricsError> {
    let std = Resolution::Standard;
    set.metric(COLD_START, count(at.cold_start as usize), Unit::Count, std)?;
    if let Some(after) = at.answered_after {
        set.metric(TIME_TO_ANSWER, ms(after), Unit::Milliseconds, std)?;
    }
    set.metric(ERRORS, count(at.failed as usize), Unit::Count, std)?;
    Ok(())
}

/// Adds the metrics known once deferred work has ended to `set`.
pub(crate) fn at_end(set: &mut MetricSet, report: &InvocationReport) -> Result<(), MetricsError> {
    let std = Resolution::Standard;
    let d = &report.deferred;
    set.metric(
        INVOCATION_DURATION,
        ms(report.finished_after),
        Unit::Milliseconds,
        std,
    )?
    .metric(
        DEFERRED_DURATION,
        ms(d.answer_to_done),
        Unit::Milliseconds,
        std,
    )?
    .metric(DEFERRED_RAN, count(d.ran), Unit::Count, std)?
    .metric(DEFERRED_FAILED, count(d.failed), Unit::Count, std)?
    .metric(DEFERRED_PANICKED, count(d.panicked), Unit::Count, std)?
    .metric(DEFERRED_SKIPPED, count(d.skipped), Unit::Count, std)?
    .metric(DEFERRED_OVERRAN, count(d.overran), Unit::Count, std)?;
    Ok(())
}
