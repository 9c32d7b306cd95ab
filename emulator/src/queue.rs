//! Queueing an invocation: the [`Slot`] an [`Invoke`] becomes (its `/next` headers with
//! Lambda's defaults, its deadline), and the turn-aways: a `/next` head that cannot be sent
//! (400), a full queue of `Event` invocations (429), and in Managed Instances mode no idle
//! `/next` (429). Shared by `Emulator::invoke` and the invoke front.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::caller_limits;
use crate::ending::Ending;
use crate::ids;
use crate::invoke::{DeadlineSpec, Invoke};
use crate::lifecycle;
use crate::pending::PendingInvocation;
use crate::settings::Settings;
use crate::slot::{Slot, SlotSpec};
use crate::state::{Queued, Shared};
use coda_lambda::protocol;

/// Queues an invocation on `shared`, for `Emulator::invoke` and the invoke front alike. It is
/// turned away at once, ending [`Ending::Rejected`] with an answer of the emulator's:
///
/// - 400 `InvalidRequestContentException` when its `/next` head cannot be sent (a header
///   name that is not a token, a control byte in a value, a head over the runtime's
///   buffer: `caller_limits`), so that no caller can break the runtime's connection;
/// - 429 `TooManyRequestsException` for an `Event` invocation when the queue of events
///   accepted and not ended is full (`Settings::max_queued_events`, `max_queued_event_bytes`);
/// - in Managed Instances mode, 429 when no `/next` is idle.
pub(crate) fn enqueue(shared: &Arc<Shared>, invoke: Invoke) -> PendingInvocation {
    let large_head = invoke.large_head;
    let slot = Arc::new(slot(&shared.settings, invoke));
    let refused = caller_limits::next_head_problem(&slot.headers, slot.payload_len, large_head);
    let concurrent = shared.settings.concurrency > 1;
    shared.change(|state| {
        if let Some(message) = refused {
            let mut answer =
                lifecycle::synthetic_answer(&slot, "InvalidRequestContentException", &message);
            answer.status = 400;
            state.slot(&slot).answer = Some(answer);
            lifecycle::finish(shared, state, &slot, Ending::Rejected);
            return;
        }
        if slot.asynchronous
            && let Some(message) = events_full(&shared.settings, state.events, slot.payload_len)
        {
            let mut answer =
                lifecycle::synthetic_answer(&slot, "TooManyRequestsException", &message);
            answer.status = 429;
            state.slot(&slot).answer = Some(answer);
            lifecycle::finish(shared, state, &slot, Ending::Rejected);
            return;
        }
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
            if slot.asynchronous {
                state.events.0 += 1;
                state.events.1 += slot.payload_len;
            }
            shared.enqueue(state, slot.clone());
        }
    });
    PendingInvocation {
        shared: shared.clone(),
        slot,
    }
}

/// Why one more `Event` invocation of `len` bytes does not fit beside `events` (count,
/// bytes) accepted and not ended, if it does not.
fn events_full(settings: &Settings, events: (usize, usize), len: usize) -> Option<String> {
    let (count, bytes) = events;
    let (max_count, max_bytes) = (settings.max_queued_events, settings.max_queued_event_bytes);
    (count >= max_count || bytes.saturating_add(len) > max_bytes).then(|| {
        format!(
            "Rate Exceeded. The emulator's queue of Event invocations is full: {count} accepted and not ended ({bytes} bytes) of at most {max_count} events and {max_bytes} bytes (EmulatorBuilder::max_queued_events, max_queued_event_bytes)"
        )
    })
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
        asynchronous: invoke.asynchronous,
        headers,
        version,
        answer_status: invoke.answer_status,
        drop_answer: invoke.drop_answer,
        queued_at,
        deadline: queued_at + left,
    })
}
