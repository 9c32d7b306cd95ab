//! Queueing an invocation: the [`Slot`] an [`Invoke`] becomes (its `/next` headers with
//! Lambda's defaults, its deadline), and in Managed Instances mode the turn-away (429) when no
//! `/next` is idle. Shared by `Emulator::invoke` and the invoke front.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::ending::Ending;
use crate::ids;
use crate::invoke::{DeadlineSpec, Invoke};
use crate::lifecycle;
use crate::pending::PendingInvocation;
use crate::settings::Settings;
use crate::slot::{Slot, SlotSpec};
use crate::state::{Queued, Shared};
use coda_lambda::protocol;

/// Queues an invocation on `shared`, for `Emulator::invoke` and the invoke front alike: in
/// Managed Instances mode it is turned away at once (429) when no `/next` is idle.
pub(crate) fn enqueue(shared: &Arc<Shared>, invoke: Invoke) -> PendingInvocation {
    let slot = Arc::new(slot(&shared.settings, invoke));
    let concurrent = shared.settings.concurrency > 1;
    shared.update(|state| {
        let queued = state
            .queue
            .iter()
            .filter(|q| matches!(q, Queued::Invocation(_)))
            .count();
        if concurrent && state.parked_next <= queued {
            let limit = shared.settings.concurrency;
            let polling = state.parked_next + state.in_flight.len();
            let message = if polling < limit {
                format!(
                    "no idle execution environment: Managed Instances mode allows {limit} invocations at once, but the function has only {polling} /next call(s) out (a runtime that polls /next once serves one invocation at a time); without Managed Instances mode (coda run without --concurrency) invocations wait their turn instead"
                )
            } else {
                format!("no idle execution environment: all {limit} are busy")
            };
            if polling < limit && !state.warned_polls {
                state.warned_polls = true;
                shared.settings.reports.warn(&format!(
                    "an invocation was turned away (429): --concurrency {limit} lets {limit} run at once, but the function polls /next only {polling} time(s) at a time; a runtime that polls once serves one invocation at a time: leave out --concurrency to have invocations queue"
                ));
            }
            let mut answer =
                lifecycle::synthetic_answer(&slot, "TooManyRequestsException", &message);
            answer.status = 429;
            state.slot(&slot).answer = Some(answer);
            lifecycle::finish(shared, state, &slot, Ending::Rejected);
        } else {
            state.queue.push_back(Queued::Invocation(slot.clone()));
        }
    });
    PendingInvocation {
        shared: shared.clone(),
        slot,
    }
}

/// The slot of `invoke`: its `/next` headers with Lambda's defaults, and its deadline.
fn slot(c: &Settings, invoke: Invoke) -> Slot {
    let queued_at = Instant::now();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let deadline = match invoke.deadline {
        Some(DeadlineSpec::AtMs(ms)) => ms,
        Some(DeadlineSpec::In(d)) => now_ms + d.as_millis() as u64,
        None => now_ms + c.timeout.as_millis() as u64,
    };
    let request_id = invoke.request_id.clone().unwrap_or_else(ids::request_id);
    // The invoked ARN carries the qualifier the caller used, as on Lambda.
    let (arn_suffix, version) = match &invoke.qualified {
        Some((qualifier, version)) => (format!(":{qualifier}"), version.clone()),
        None => (String::new(), c.version.clone()),
    };
    let mut headers: Vec<(String, String)> = vec![
        (protocol::REQUEST_ID.into(), request_id.clone()),
        (protocol::DEADLINE_MS.into(), deadline.to_string()),
        (
            protocol::FUNCTION_ARN.into(),
            format!(
                "arn:aws:lambda:{}:{}:function:{}{arn_suffix}",
                c.region, c.account_id, c.function_name
            ),
        ),
        ("content-type".into(), "application/json".into()),
    ];
    if c.trace_ids {
        headers.push((protocol::TRACE_ID.into(), ids::trace_id()));
    }
    for (name, value) in &invoke.headers {
        headers.retain(|(n, _)| n != name);
        if let Some(value) = value {
            headers.push((name.clone(), value.clone()));
        }
    }
    let invocation_id = headers
        .iter()
        .find(|(n, _)| n == protocol::INVOCATION_ID)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty());
    let request_id = headers
        .iter()
        .find(|(n, _)| n == protocol::REQUEST_ID)
        .map(|(_, v)| v.clone())
        .unwrap_or(request_id);
    // Fault injection (`id=duplicate`): the request id of the invocation queued before.
    let request_id = c.faults.queued_id(request_id);
    for (name, value) in headers.iter_mut() {
        if name == protocol::REQUEST_ID {
            value.clone_from(&request_id);
        }
    }
    // The emulator enforces the deadline of the invocation (what `deadline_in` or
    // `deadline_ms` asked for, else the function timeout); a raw header override only
    // changes what the runtime is told.
    let left = Duration::from_millis(deadline.saturating_sub(now_ms));
    Slot::new(SlotSpec {
        request_id,
        invocation_id,
        payload: invoke.payload,
        headers,
        version,
        answer_status: invoke.answer_status,
        drop_answer: invoke.drop_answer,
        queued_at,
        deadline: queued_at + left,
    })
}
