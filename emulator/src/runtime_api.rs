//! The Runtime API endpoints on the emulator's side (`docs/runtime-api.md` §2–§4): `/next` hands
//! out events and ends the previous invocation, `/response` and `/error` record answers with
//! RAPID's status codes, `/init/error` records an init failure. The port's dispatch is
//! `runtime_port`; the Extensions API shares the port.

use std::io;
use std::sync::{Arc, MutexGuard};

use crate::answer::Answer;
use crate::conn::{Conn, Flow};
use crate::error_type::recorded_error_type;
use crate::fault_injection;
use crate::freeze::{self, Freeze};
use crate::init_error::InitErrorRecord;
use crate::lifecycle;
use crate::next_reply::NextReply;
use crate::os;
use crate::slot::Slot;
use crate::state::{Queued, Shared, State};
use crate::wire::RequestHead;
use coda_lambda::protocol::{self, MAX_BUFFERED_RESPONSE};

/// Largest streamed response accepted (§5.5: 200 MB).
const MAX_STREAMED_RESPONSE: usize = 200 * 1024 * 1024;
/// Largest `/error` body accepted (§4.1: LMI rejects over 1 MiB).
const MAX_ERROR_BODY: usize = 1024 * 1024;

/// `POST /response` for request `id`.
pub(crate) fn response(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
    id: &str,
) -> io::Result<Flow> {
    answer(shared, conn, head, id, Kind::Response)
}

/// `POST /error` for request `id`.
pub(crate) fn error(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
    id: &str,
) -> io::Result<Flow> {
    answer(shared, conn, head, id, Kind::Error)
}

/// `GET /next`: ends the previous invocation, then waits for an event (§2, §7.1).
pub(crate) fn next(shared: &Arc<Shared>, conn: &mut Conn, head: &RequestHead) -> io::Result<Flow> {
    if let Err(e) = conn.skip_body(head) {
        return conn.fail_read(e);
    }
    let concurrent = shared.settings.concurrency > 1;
    // Everything the process wrote before it asked belongs to the invocation this call
    // ends: read it before END is written (`output`).
    shared.drain_output();
    let item = {
        let mut state = shared.lock();
        state.next_calls += 1;
        state
            .process
            .initialized_at
            .get_or_insert_with(std::time::Instant::now);
        let again = if concurrent {
            None
        } else {
            end_previous(shared, &mut state)
        };
        let item = match again {
            Some(slot) => Some(Queued::Invocation(slot)),
            None => {
                state.parked_next += 1;
                shared.notify_general();
                let mut tried_freeze = false;
                let item = loop {
                    if state.shutdown {
                        break None;
                    }
                    if !conn.peer_alive() {
                        // The function process that asked is gone: hand nothing to it, and
                        // pass on the wake-up it may have taken for a queued event.
                        state.parked_next -= 1;
                        if !state.queue.is_empty() {
                            shared.pass_next();
                        }
                        shared.notify_general();
                        return Ok(Flow::Close);
                    }
                    if state.extensions_ready()
                        && let Some(item) = state.queue.pop_front()
                    {
                        break Some(item);
                    }
                    if !tried_freeze && may_freeze(shared, &state) {
                        tried_freeze = true;
                        state = freeze(shared, state);
                        continue;
                    }
                    state = shared.wait_next(state);
                };
                state.parked_next -= 1;
                thaw(&mut state);
                if let Some(Queued::Invocation(slot)) = &item {
                    lifecycle::deliver(shared, &mut state, slot);
                }
                item
            }
        };
        // The event to write: the invocation keeps it until it ends (a timeout meanwhile
        // releases the invocation's copy, not this one).
        let event = match &item {
            Some(Queued::Invocation(slot)) => state.slot(slot).event.clone(),
            _ => None,
        };
        (item, event)
    };
    shared.notify_general();
    let (item, event) = item;
    match item {
        None => conn.respond_error(
            500,
            "InternalServerError",
            "the emulator is shutting down",
            Flow::Close,
        ),
        // The event, with the faults that hit it (`fault_injection`).
        Some(Queued::Invocation(slot)) => {
            let event = event.unwrap_or_default();
            fault_injection::write_next(shared, conn, &slot, &event[..])
        }
        Some(Queued::Scripted(NextReply::Status { status, body })) => conn.respond(
            status,
            &[("Content-Type", "application/json")],
            &body,
            Flow::KeepAlive,
        ),
        Some(Queued::Scripted(NextReply::WithoutRequestId(body))) => conn.respond(
            200,
            &[
                ("Content-Type", "application/json"),
                (protocol::DEADLINE_MS, "0"),
            ],
            &body,
            Flow::KeepAlive,
        ),
        Some(Queued::Scripted(NextReply::Close)) => Ok(Flow::Close),
    }
}

/// Whether the parked `/next` of a supervised process should freeze it: freezing is on,
/// one invocation at a time, and nothing is left to do (no invocation in flight, none
/// queued, no shutdown or stop coming).
fn may_freeze(shared: &Shared, state: &State) -> bool {
    let p = &state.process;
    shared.settings.freeze
        && shared.settings.concurrency == 1
        && p.pid.is_some()
        && !p.frozen
        && p.exit.is_none()
        && !p.stop_requested
        && !p.restart_requested
        && !state.shutdown
        && state.in_flight.is_empty()
        && !state
            .queue
            .iter()
            .any(|q| matches!(q, Queued::Invocation(_)))
}

/// Freezes the supervised process: looks for work still running (without the lock), then,
/// if nothing changed meanwhile, stops its process group and records the freeze, with a
/// warning naming the invocation whose work was still running.
fn freeze<'a>(shared: &'a Shared, state: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
    let (Some(pid), generation) = (state.process.pid, state.process.generation) else {
        return state;
    };
    drop(state);
    let busy = freeze::busy_threads(pid);
    let mut state = shared.lock();
    if state.process.generation != generation || !may_freeze(shared, &state) {
        return state;
    }
    if os::stop_group(pid).is_err() {
        return state;
    }
    let after = state
        .recently_finished
        .back()
        .map(|finished| finished.request_id.clone());
    if !busy.is_empty() {
        let whose = after
            .as_deref()
            .map_or_else(|| "init".to_owned(), |id| format!("invocation {id}"));
        shared.settings.reports.warn(&format!(
            "work of {whose} was still running when the function called /next ({}): the function is frozen now, as Lambda freezes it, and that work resumes only when the next event arrives, inside that invocation (run with --no-freeze to let it run on)",
            busy.join(", ")
        ));
    }
    state.process.frozen = true;
    state.process.last_freeze = Some(Freeze {
        after,
        busy_threads: busy,
    });
    shared.notify_general();
    state
}

/// Thaws the supervised process before `/next` answers, if it is frozen.
fn thaw(state: &mut State) {
    if state.process.frozen
        && let Some(pid) = state.process.pid
    {
        let _ = os::continue_group(pid);
        state.process.frozen = false;
    }
}

/// Single-concurrency rule: a `/next` is the runtime's end of every answered invocation in
/// flight. An invocation handed out but not answered is handed out again, as RAPID does (§2.5).
fn end_previous(shared: &Shared, state: &mut State) -> Option<Arc<Slot>> {
    let mut again = None;
    for slot in state.in_flight.clone() {
        let (answered, runtime_done) = {
            let progress = state.slot(&slot);
            (
                progress.answer.is_some(),
                progress.runtime_done_at.is_some(),
            )
        };
        if answered {
            if !runtime_done {
                lifecycle::runtime_done(shared, state, &slot);
            }
        } else if again.is_none() {
            again = Some(slot);
        }
    }
    again
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Response,
    Error,
}

/// Which invocation an answer is for.
enum Target {
    Slot(Arc<Slot>),
    Unknown,
    Stale,
    Answered,
}

fn target(state: &State, id: &str, invocation_id: Option<&str>) -> Target {
    let matches = |s: &&Arc<Slot>| {
        s.request_id == id
            && (invocation_id.is_none()
                || s.invocation_id.is_none()
                || s.invocation_id.as_deref() == invocation_id)
    };
    if let Some(slot) = state.in_flight.iter().find(matches) {
        return if state.slot(slot).answer.is_some() {
            Target::Answered
        } else {
            Target::Slot(Arc::clone(slot))
        };
    }
    if state.timed_out.iter().any(|timed_out| timed_out == id)
        || state.in_flight.iter().any(|s| s.request_id == id)
    {
        return Target::Stale;
    }
    Target::Unknown
}

/// `POST /response` and `/error`: RAPID's checks and statuses (§3.3, §4.1).
fn answer(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
    id: &str,
    kind: Kind,
) -> io::Result<Flow> {
    let invocation_id = head
        .header(protocol::INVOCATION_ID)
        .filter(|v| !v.is_empty())
        .map(str::to_owned);
    let mode = head
        .header(protocol::RESPONSE_MODE)
        .filter(|v| !v.is_empty());
    let streamed = mode == Some("streaming");
    let target = shared.read(|state| target(state, id, invocation_id.as_deref()));
    // The faults that hit this post (`fault_injection`, `docs/runtime-api.md` §11).
    let faults = fault_injection::on_answer(shared, id);

    let limit = match (kind, streamed) {
        (Kind::Error, _) => MAX_ERROR_BODY,
        (Kind::Response, true) => MAX_STREAMED_RESPONSE,
        (Kind::Response, false) => MAX_BUFFERED_RESPONSE,
    };
    let content_type = head.header("content-type").map(str::to_owned);
    let mut payload = Vec::new();
    let live = match (&target, kind, streamed) {
        (Target::Slot(slot), Kind::Response, true) => Some(slot.clone()),
        _ => None,
    };
    let read = conn.read_body(head, limit, &mut |piece| {
        payload.extend_from_slice(piece);
        if let Some(pace) = &faults.pace {
            pace.after(piece.len());
        }
        if let Some(slot) = &live {
            shared.change(|state| {
                lifecycle::stream_bytes(state, slot, content_type.as_deref(), piece)
            });
        }
    });
    let body = match read {
        Ok(body) => body,
        Err(e) => {
            // A streamed response cut short (the runtime's connection broke, or its chunked
            // framing did) is RAPID's `Runtime.TruncatedResponse`: the caller's stream must
            // end in an error, and the event must not be handed out again.
            if let Some(slot) = &live {
                truncated(shared, slot, content_type.clone(), payload);
            }
            return conn.fail_read(e);
        }
    };
    shared.change(|state| state.answer_posts += 1);

    let slot = match target {
        Target::Slot(slot) => slot,
        Target::Unknown => {
            return conn.respond_error(
                400,
                "InvalidRequestID",
                "Invalid request ID",
                Flow::KeepAlive,
            );
        }
        Target::Stale => {
            return conn.respond_error(410, "InvokeTimeout", "Invoke timeout", Flow::KeepAlive);
        }
        Target::Answered => {
            let message = format!(
                "State transition from ResponseSent to {} failed",
                kind.name()
            );
            return conn.respond_error(403, "InvalidStateTransition", &message, Flow::KeepAlive);
        }
    };
    if kind == Kind::Response && mode.is_some() && !streamed {
        return conn.respond_error(
            400,
            "InvalidFunctionResponseMode",
            "Invalid function response mode",
            Flow::KeepAlive,
        );
    }

    let text = |v: &[u8]| String::from_utf8_lossy(v).trim().to_owned();
    let trailers: Vec<(String, String)> = body
        .trailers
        .iter()
        .map(|(n, v)| (n.clone(), text(v)))
        .collect();
    let trailer = |name: &str| {
        trailers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    };
    let error_header = match kind {
        Kind::Error => head
            .header(protocol::FUNCTION_ERROR_TYPE)
            .map(str::to_owned),
        Kind::Response => trailer(protocol::FUNCTION_ERROR_TYPE),
    };
    let mut status = 202;
    let mut function_error = match kind {
        Kind::Error => Some(recorded_error_type(error_header.as_deref())),
        Kind::Response => error_header
            .as_deref()
            .map(|h| recorded_error_type(Some(h))),
    };
    // An injected 413 is a payload RAPID found too large: the caller's error is the same.
    if body.over_limit || faults.status == Some(413) {
        status = 413;
        if kind == Kind::Response {
            function_error = Some("Function.ResponseSizeTooLarge".into());
            payload = crate::wire::error_body(
                "Function.ResponseSizeTooLarge",
                &format!(
                    "Response payload size exceeded maximum allowed payload size ({limit} bytes)."
                ),
            );
        }
    }
    if let Some(injected) = slot.answer_status.or(faults.status) {
        status = injected;
    }
    // §4.1, §4.3: the X-Ray cause comes in a header, or, with the error-cause content type, as
    // the body's `errorCause`, which RAPID takes out before the caller sees the body.
    let mut content_type = content_type;
    let mut error_cause = match kind {
        Kind::Error => head.header(protocol::XRAY_ERROR_CAUSE).map(str::to_owned),
        Kind::Response => None,
    };
    if kind == Kind::Error && content_type.as_deref() == Some(protocol::ERROR_CAUSE_CONTENT_TYPE) {
        if let Ok(serde_json::Value::Object(mut fields)) = serde_json::from_slice(&payload)
            && let Some(cause) = fields.remove("errorCause")
        {
            error_cause = Some(cause.to_string());
            payload = serde_json::to_vec(&fields).unwrap_or(payload);
        }
        content_type = Some("application/json".to_owned());
    }
    let recorded = Answer {
        payload,
        content_type,
        function_error,
        error_cause,
        error_type_header: error_header,
        streamed,
        status,
        headers: head
            .headers
            .iter()
            .map(|(n, v)| (n.clone(), text(v)))
            .collect(),
        trailers,
        latency: slot.queued_at.elapsed(),
    };
    let concurrent = shared.settings.concurrency > 1;
    let accepted = shared.change(|state| {
        // The deadline may have passed while the body arrived.
        if state.slot(&slot).finished_at.is_some() {
            return false;
        }
        state.slot(&slot).answer = Some(recorded);
        if concurrent {
            // Managed Instances: the invocation completes with its answer (§6.1).
            lifecycle::runtime_done(shared, state, &slot);
        }
        true
    });
    if !accepted {
        return conn.respond_error(410, "InvokeTimeout", "Invoke timeout", Flow::KeepAlive);
    }

    if slot.drop_answer {
        return Ok(Flow::Close);
    }
    if faults.reset {
        return fault_injection::reset_answer(conn);
    }
    let answered = match status {
        202 => conn.respond(
            202,
            &[("Content-Type", "application/json")],
            br#"{"status":"OK"}"#,
            Flow::KeepAlive,
        ),
        413 => conn.respond_error(
            413,
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({limit} bytes)."),
            Flow::KeepAlive,
        ),
        other => {
            let (error_type, message) = rapid_error(other);
            conn.respond_error(other, error_type, message, Flow::KeepAlive)
        }
    };
    // `response=close`: answered as for keep-alive, then closed without warning.
    answered.map(|flow| if faults.close { Flow::Close } else { flow })
}

/// Records a streamed answer that was cut short as `Runtime.TruncatedResponse`, with the
/// bytes that arrived.
fn truncated(shared: &Shared, slot: &Arc<Slot>, content_type: Option<String>, payload: Vec<u8>) {
    let concurrent = shared.settings.concurrency > 1;
    shared.change(|state| {
        let answered = {
            let mut progress = state.slot(slot);
            if progress.answer.is_some() || progress.finished_at.is_some() {
                true
            } else {
                progress.answer = Some(Answer {
                    payload,
                    content_type,
                    function_error: Some("Runtime.TruncatedResponse".into()),
                    error_type_header: None,
                    error_cause: None,
                    streamed: true,
                    status: 202,
                    headers: Vec::new(),
                    trailers: Vec::new(),
                    latency: slot.queued_at.elapsed(),
                });
                false
            }
        };
        state.answer_posts += 1;
        if !answered && concurrent {
            lifecycle::runtime_done(shared, state, slot);
        }
    });
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Response => "ResponseSent",
            Kind::Error => "ErrorSent",
        }
    }
}

/// RAPID's error body for an injected status.
fn rapid_error(status: u16) -> (&'static str, &'static str) {
    match status {
        400 => ("InvalidRequestID", "Invalid request ID"),
        403 => ("InvalidStateTransition", "State transition failed"),
        410 => ("InvokeTimeout", "Invoke timeout"),
        413 => (
            "RequestEntityTooLarge",
            "Exceeded maximum allowed payload size (6291556 bytes).",
        ),
        500 => ("InternalServerError", "Internal Server Error"),
        _ => ("ErrorResponse", "Injected status"),
    }
}

/// `POST /init/error` (§4.2): accepted before the first `/next`, 403 after.
pub(crate) fn init_error(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
) -> io::Result<Flow> {
    let mut body = Vec::new();
    if let Err(e) = conn.read_body(head, MAX_ERROR_BODY, &mut |piece| {
        body.extend_from_slice(piece)
    }) {
        return conn.fail_read(e);
    }
    let header = head
        .header(protocol::FUNCTION_ERROR_TYPE)
        .map(str::to_owned);
    let status = shared.update(|state| {
        let status = if state.process.initialized_at.is_some() {
            403
        } else {
            202
        };
        state.init_error = Some(InitErrorRecord {
            function_error: recorded_error_type(header.as_deref()),
            error_type_header: header,
            body,
            status,
        });
        status
    });
    if status == 202 {
        conn.respond(
            202,
            &[("Content-Type", "application/json")],
            br#"{"status":"OK"}"#,
            Flow::KeepAlive,
        )
    } else {
        conn.respond_error(
            403,
            "InvalidStateTransition",
            "State transition from Running to InitError failed",
            Flow::KeepAlive,
        )
    }
}
