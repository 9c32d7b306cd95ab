//! How invocations move from handed-out to finished (`docs/runtime-api.md` §7): delivery (START),
//! the end barrier (the runtime *and* every INVOKE extension asked for their next event),
//! timeouts, process exits, and the START / END / REPORT lines with their timings.
//!
//! Every function here runs with the global state lock held.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::ending::Ending;
use crate::extension::invoke_event;
use crate::memory;
use crate::platform_log::{self, Report};
use crate::slot::{Slot, StreamProgress};
use crate::state::{Queued, Shared, State};
use crate::wire::error_body;

/// The caller's answer when the deadline passed first (what Lambda returns).
fn timeout_answer(slot: &Slot, timeout: Duration) -> Answer {
    let message = format!(
        "RequestId: {} Error: Task timed out after {:.2} seconds",
        slot.request_id,
        timeout.as_secs_f64()
    );
    synthetic_answer(slot, "Sandbox.Timedout", &message)
}

/// An answer the emulator makes up on the runtime's behalf.
pub(crate) fn synthetic_answer(slot: &Slot, error_type: &str, message: &str) -> Answer {
    Answer {
        payload: error_body(error_type, message),
        content_type: Some("application/json".into()),
        function_error: Some(error_type.to_owned()),
        error_type_header: None,
        error_cause: None,
        streamed: false,
        status: 200,
        headers: Vec::new(),
        trailers: Vec::new(),
        latency: slot.queued_at.elapsed(),
    }
}

/// Hands `slot` to the runtime: START line, INVOKE events for extensions, cold-start facts.
pub(crate) fn deliver(shared: &Shared, state: &mut State, slot: &Arc<Slot>) {
    let now = Instant::now();
    state.last_activity = Some(now);
    let init_duration = match (
        state.process.cold_pending,
        state.process.started_at,
        state.process.initialized_at,
    ) {
        (true, Some(started), Some(ready)) => Some(ready.saturating_duration_since(started)),
        _ => None,
    };
    state.process.cold_pending = false;
    let event = invoke_event(slot);
    let mut waiting = Vec::new();
    for extension in state.extensions.iter_mut().filter(|e| e.invoke) {
        extension.events.push_back(event.clone());
        waiting.push(extension.id);
    }
    let start = platform_log::start(shared.settings.log_format, &slot.request_id, &slot.version);
    let mut progress = state.slot(slot);
    if progress.delivered_at.is_none() {
        progress.delivered_at = Some(now);
        progress.init_duration = init_duration;
        progress.waiting_extensions = waiting;
        progress.logs.push(start.clone());
        drop(progress);
        shared.settings.reports.print(&start);
    }
    if !state.in_flight.iter().any(|s| Arc::ptr_eq(s, slot)) {
        state.in_flight.push(slot.clone());
    }
}

/// The runtime asked for its next event after `slot` (or, in Managed Instances mode, answered
/// it): the runtime's part of the end barrier.
pub(crate) fn runtime_done(shared: &Shared, state: &mut State, slot: &Arc<Slot>) {
    let ready = {
        let mut progress = state.slot(slot);
        progress.runtime_done_at.get_or_insert_with(Instant::now);
        progress.waiting_extensions.is_empty()
    };
    if ready {
        finish(shared, state, slot, Ending::Completed);
    }
}

/// Extension `id` asked for its next event: its part of the barrier for every invocation.
pub(crate) fn extension_done(shared: &Shared, state: &mut State, id: u64) {
    let slots: Vec<Arc<Slot>> = state.in_flight.clone();
    for slot in slots {
        let ready = {
            let mut progress = state.slot(&slot);
            let before = progress.waiting_extensions.len();
            progress.waiting_extensions.retain(|e| *e != id);
            before != progress.waiting_extensions.len()
                && progress.waiting_extensions.is_empty()
                && progress.runtime_done_at.is_some()
        };
        if ready {
            finish(shared, state, &slot, Ending::Completed);
        }
    }
}

/// Ends `slot`: END and REPORT lines, out of the in-flight list.
pub(crate) fn finish(shared: &Shared, state: &mut State, slot: &Arc<Slot>, ending: Ending) {
    let now = Instant::now();
    state.last_activity = Some(now);
    if ending != Ending::Rejected
        && let Some(sample) = state.process.pid.and_then(memory::sample_kb)
    {
        let peak = state.process.peak_kb.get_or_insert(0);
        *peak = (*peak).max(sample);
    }
    let memory_kb = state.process.peak_kb;
    state.in_flight.retain(|s| !Arc::ptr_eq(s, slot));
    if state.slot(slot).finished_at.is_some() {
        return;
    }
    state.remember_finished(slot);
    if slot.asynchronous {
        state.events.0 = state.events.0.saturating_sub(1);
        state.events.1 = state.events.1.saturating_sub(slot.payload_len);
    }
    let mut progress = state.slot(slot);
    progress.finished_at = Some(now);
    progress.ending = ending;
    // Nothing reads the event once the invocation has ended: only the caller's answer and
    // logs are kept, for as long as the caller holds its handle.
    progress.event = None;
    if ending == Ending::Rejected {
        return;
    }
    let start = progress.delivered_at.unwrap_or(slot.queued_at);
    let duration = now.saturating_duration_since(start);
    let answered = progress
        .answer
        .as_ref()
        .filter(|_| ending == Ending::Completed || progress.runtime_done_at.is_some())
        .map(|a| (slot.queued_at + a.latency).saturating_duration_since(start));
    let status = match ending {
        Ending::TimedOut => Some(("timeout", None)),
        Ending::ProcessExited => Some(("error", Some("Runtime.ExitError"))),
        _ => None,
    };
    let format = shared.settings.log_format;
    let end = platform_log::end(format, &slot.request_id);
    let report = platform_log::report(
        format,
        &Report {
            request_id: &slot.request_id,
            duration,
            response_sent: answered,
            memory_mb: shared.settings.memory_mb,
            max_memory_kb: memory_kb,
            init: progress.init_duration,
            status,
        },
    );
    progress.logs.extend(end.clone());
    progress.logs.push(report.clone());
    drop(progress);
    if let Some(end) = &end {
        shared.settings.reports.print(end);
    }
    shared.settings.reports.print(&report);
}

/// The deadline of `slot` passed before it ended.
pub(crate) fn time_out(shared: &Shared, state: &mut State, slot: &Arc<Slot>) {
    let concurrent = shared.settings.concurrency > 1;
    let was_delivered = {
        let mut progress = state.slot(slot);
        if progress.finished_at.is_some() {
            return;
        }
        if progress.answer.is_none() {
            progress.stream = None;
            progress.answer = Some(timeout_answer(slot, shared.settings.timeout));
        }
        progress.delivered_at.is_some()
    };
    state
        .queue
        .retain(|q| !matches!(q, Queued::Invocation(s) if Arc::ptr_eq(s, slot)));
    finish(shared, state, slot, Ending::TimedOut);
    state.remember_timed_out(slot);
    // Lambda resets the environment; Managed Instances only report the timeout (§6.1, §7.2).
    if was_delivered && !concurrent && state.process.generation > 0 {
        state.process.restart_requested = true;
    }
}

/// The function process of `generation` exited with `how` ("exit status 1").
pub(crate) fn process_exited(
    shared: &Shared,
    state: &mut State,
    generation: u64,
    how: &str,
    success: bool,
) {
    if state.process.generation != generation {
        return;
    }
    let never_initialized = state.process.initialized_at.is_none();
    let mut init_line = None;
    if never_initialized && !state.shutdown && !state.process.stop_requested {
        // Lambda's line for a failed init, once, in the function's log format.
        let error_type = state
            .init_error
            .as_ref()
            .map_or("Runtime.ExitError", |r| r.function_error.as_str());
        let initialization = if shared.settings.concurrency > 1 {
            "lambda-managed-instances"
        } else {
            "on-demand"
        };
        let took = state
            .process
            .started_at
            .map(|at| at.elapsed())
            .unwrap_or_default();
        let line =
            platform_log::init_failed(shared.settings.log_format, initialization, took, error_type);
        shared.settings.reports.print(&line);
        init_line = Some(line);
    }
    state.process.running = false;
    state.process.pid = None;
    state.process.last_exit = Some(how.to_owned());
    let message_tail = if success {
        "Runtime exited without providing a reason".to_owned()
    } else {
        format!("Runtime exited with error: {how}")
    };
    for slot in state.in_flight.clone() {
        {
            let mut progress = state.slot(&slot);
            if progress.answer.is_none() {
                progress.stream = None;
                let message = format!("RequestId: {} Error: {message_tail}", slot.request_id);
                progress.answer = Some(synthetic_answer(&slot, "Runtime.ExitError", &message));
            }
        }
        finish(shared, state, &slot, Ending::ProcessExited);
    }
    // A process that died in init fails the invocation that was waiting for it (§4.2).
    if never_initialized {
        let failed = state.queue.iter().find_map(|q| match q {
            Queued::Invocation(slot) => Some(slot.clone()),
            _ => None,
        });
        if let Some(slot) = failed {
            let answer = match state.init_error.take() {
                Some(record) => Answer {
                    payload: record.body,
                    function_error: Some(record.function_error),
                    error_type_header: record.error_type_header,
                    ..synthetic_answer(&slot, "Runtime.ExitError", "")
                },
                None => synthetic_answer(
                    &slot,
                    "Runtime.ExitError",
                    &format!("RequestId: {} Error: {message_tail}", slot.request_id),
                ),
            };
            {
                let mut progress = state.slot(&slot);
                progress.answer = Some(answer);
                progress.logs.extend(init_line);
            }
            state
                .queue
                .retain(|q| !matches!(q, Queued::Invocation(s) if Arc::ptr_eq(s, &slot)));
            finish(shared, state, &slot, Ending::ProcessExited);
        }
    }
}

/// Attributes a line of function output to the invocations in flight.
///
/// A line that names a recently finished invocation's request id belongs to it, even after
/// its end: a process writes its last lines just before `/next`, and the pipe may deliver
/// them just after. Other lines go to the invocations in flight.
pub(crate) fn append_log(state: &mut State, line: &str) {
    state.last_output_at = Some(Instant::now());
    let late = state
        .recently_finished
        .iter()
        .rev()
        .find(|finished| line.contains(finished.request_id.as_str()))
        .map(|finished| finished.slot.upgrade());
    if let Some(slot) = late {
        // Its caller may have let it go: then nobody reads the line, but it is still not
        // another invocation's.
        if let Some(slot) = slot {
            state.slot(&slot).logs.push(line.to_owned());
        }
        return;
    }
    for slot in state.in_flight.clone() {
        let mut progress = state.slot(&slot);
        if progress.finished_at.is_none() {
            progress.logs.push(line.to_owned());
        }
    }
}

/// Starts (or continues) a streamed answer's bytes.
pub(crate) fn stream_bytes(
    state: &mut State,
    slot: &Slot,
    content_type: Option<&str>,
    piece: &[u8],
) {
    let mut progress = state.slot(slot);
    if progress.answer.is_some() {
        return;
    }
    let stream = progress.stream.get_or_insert_with(|| StreamProgress {
        content_type: content_type.map(str::to_owned),
        bytes: Vec::new(),
    });
    stream.bytes.extend_from_slice(piece);
}
