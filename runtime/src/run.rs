//! The invoke loop: next → decode → call → answer → deferred work → next. The only module
//! that sequences the protocol; which failures end it is decided by [`crate::client`]'s
//! status policy and the one `match` on each call's result below.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

use crate::client::{Addressee, Client, Delivery, StreamFailure};
use crate::config::Config;
use crate::deferred::DeferredSummary;
use crate::handler::FromEvent;
use crate::reply::Body;
use crate::sandbox::Sandbox;
use crate::trace_env::TraceEnv;
use crate::work::{Carry, Sink};
use crate::worker::Worker;
use crate::{ApiError, Context, Diagnostic, Handler, IntoReply, Reply, logging};

/// What happened in one invocation, for [`crate::Runtime::on_invocation`] observers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct InvocationReport {
    /// The request id.
    pub request_id: String,
    /// When the event arrived from `/next`; the durations below count from here.
    pub received_at: std::time::Instant,
    /// Whether it was the first invocation of this process (a cold start).
    pub cold_start: bool,
    /// The error the caller received, when the invocation failed (`None`: the response was
    /// accepted).
    pub error: Option<Diagnostic>,
    /// What the Runtime API said to the answer.
    pub delivery: Delivery,
    /// From the event's arrival to the answer's acceptance: what the caller waited for.
    pub answered_after: Duration,
    /// From the event's arrival to the end of deferred work: the invocation's duration.
    pub finished_after: Duration,
    /// How deferred and spawned work ended.
    pub deferred: DeferredSummary,
}

pub(crate) type Observer = Box<dyn FnMut(&InvocationReport) + Send>;

/// Loop settings taken from the [`crate::Runtime`], shared by every worker.
pub(crate) struct Settings {
    pub(crate) config: Config,
    pub(crate) margin: Duration,
    pub(crate) publish_trace_id: bool,
    /// Called after each invocation, in registration order.
    pub(crate) observers: Vec<std::sync::Mutex<Observer>>,
    /// Where deferred work that cannot finish goes; logged when `None`.
    pub(crate) sink: Option<Sink>,
    /// How many detached closures may run before new work is not started.
    pub(crate) max_detached: usize,
}

/// One loop's place among the process's loops.
pub(crate) struct Seat<'a> {
    pub(crate) sandbox: &'a Sandbox,
    /// The worker's index (0 for the single loop).
    pub(crate) index: usize,
    /// Whether it may publish `_X_AMZN_TRACE_ID` (the single loop only).
    pub(crate) publish_trace_id: bool,
    /// Invocations served so far (the worker's retry policy reads it).
    pub(crate) served: u64,
    /// Whether the next invocation is this process's first.
    pub(crate) cold_start: &'a std::sync::atomic::AtomicBool,
}

/// Serves events until the Runtime API fails; returns why it stopped.
pub(crate) fn serve<H: Handler<M>, M>(
    settings: &Settings,
    seat: &mut Seat<'_>,
    client: &mut Client,
    handler: &mut H,
) -> ApiError {
    let mut payload = Vec::with_capacity(16 * 1024);
    let mut trace_env = seat.publish_trace_id.then(TraceEnv::new);
    let mut worker: Option<Worker> = None;
    let sandbox = seat.sandbox;
    loop {
        let mut invocation = match client.next(&mut payload) {
            Ok(invocation) => invocation,
            Err(e) => {
                // Work carried over to run after this answer never will: hand it off.
                if !sandbox.carried().is_empty() {
                    let why = format!("the loop stopped before it could run: {e}");
                    let deferred = crate::deferred::Deferred {
                        request_id: std::sync::Arc::from("(none)"),
                        started: Instant::now(),
                        answered_at: None,
                        budget_end: None,
                        error: None,
                    };
                    let mut carry = carry(&mut worker, sandbox, settings);
                    crate::work::Work::default().abandon(deferred, &mut carry, &why);
                }
                return e;
            }
        };
        let warnings = std::mem::take(&mut invocation.warnings);
        let notes = std::mem::take(&mut invocation.notes);
        seat.served += 1;
        let id = invocation.request_id.clone();
        sandbox.began(&id);
        let cold_start = seat
            .cold_start
            .swap(false, std::sync::atomic::Ordering::SeqCst);
        let mut ctx = Context::new(
            invocation,
            settings.config.function.clone(),
            cold_start,
            settings.margin,
            sandbox.detached.clone(),
            seat.index,
        );
        logging::set_request_id(Some(ctx.request_id_arc().clone()));
        for warning in warnings {
            log::warn!("{warning}");
        }
        for note in notes {
            log::debug!("{note}");
        }
        if let Some(env) = trace_env.as_mut() {
            env.publish(ctx.trace_id());
        }

        let answer = call(handler, &mut payload, &mut ctx);
        let mut work = ctx.work.take();
        let to = Addressee {
            request_id: ctx.request_id(),
            invocation_id: ctx.invocation_id(),
        };
        let sent = match answer {
            Ok(reply) => {
                for task in reply.tasks {
                    work.push(task);
                }
                send(client, &to, reply.body, reply.content_type.as_deref())
            }
            Err(error) => post_error(client, &to, error),
        };
        let (delivery, error) = match sent {
            Ok(sent) => sent,
            Err(fatal) => {
                // The loop stops: the closures registered never run, and each is handed off
                // rather than lost (`docs/runtime-api.md` §11).
                let why = format!("the loop stopped before it could run: {fatal}");
                let mut carry = carry(&mut worker, sandbox, settings);
                work.abandon(ctx.deferred_for(None, None), &mut carry, &why);
                sandbox.ended(&id);
                return fatal;
            }
        };
        let answered_at = Instant::now();
        let answered_after = answered_at.saturating_duration_since(ctx.received_at());
        sandbox.answered(&id);

        let deferred = if work.is_empty() && sandbox.carried().is_empty() {
            DeferredSummary::default()
        } else {
            let mut carry = carry(&mut worker, sandbox, settings);
            work.finish(
                ctx.deferred_for(error.clone(), Some(answered_at)),
                &mut carry,
            )
        };
        if !settings.observers.is_empty() {
            let report = InvocationReport {
                request_id: ctx.request_id().to_owned(),
                received_at: ctx.received_at(),
                cold_start: ctx.is_cold_start(),
                error,
                delivery,
                answered_after,
                finished_after: ctx.received_at().elapsed(),
                deferred,
            };
            for observer in &settings.observers {
                let mut observe = observer.lock().unwrap_or_else(|e| e.into_inner());
                observe(&report);
            }
        }
        sandbox.ended(&id);
        crate::log_context::forget(&id);
        logging::set_request_id(None);
    }
}

/// Decodes the event and calls the handler, with panics caught (§9 #16).
/// What finishing (or abandoning) an invocation's deferred work needs from the loop.
fn carry<'a>(
    worker: &'a mut Option<Worker>,
    sandbox: &'a Sandbox,
    settings: &'a Settings,
) -> Carry<'a> {
    Carry {
        worker,
        detached: &sandbox.detached,
        sink: settings.sink.as_ref(),
        sandbox,
        margin: settings.margin,
    }
}

fn call<H: Handler<M>, M>(
    handler: &mut H,
    payload: &mut Vec<u8>,
    ctx: &mut Context,
) -> Result<Reply, Diagnostic> {
    let event = H::Event::from_event(payload)?;
    match catch_unwind(AssertUnwindSafe(|| {
        handler.call(event, ctx).map(IntoReply::into_reply)
    })) {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(error)) => Err(error.into()),
        Err(payload) => Err(crate::panic::handler_panic(payload.as_ref())),
    }
}

/// What the Runtime API said to the answer, and the error the caller received if any.
type Sent = Result<(Delivery, Option<Diagnostic>), ApiError>;

fn send(client: &mut Client, to: &Addressee<'_>, body: Body, content_type: Option<&str>) -> Sent {
    let delivered = |delivery: Delivery| {
        let error = match &delivery {
            Delivery::Accepted => None,
            Delivery::Rejected { status, body } => Some(rejection(*status, body)),
        };
        log_rejection(to.request_id, &delivery, "response");
        (delivery, error)
    };
    match body {
        Body::Json(Ok(bytes)) => client
            .respond(to, &bytes, content_type.unwrap_or("application/json"))
            .map(delivered),
        Body::Raw(bytes) => client
            .respond(
                to,
                &bytes,
                content_type.unwrap_or("application/octet-stream"),
            )
            .map(delivered),
        Body::Json(Err(error)) => post_error(client, to, error),
        Body::Stream(stream) => {
            match client.stream(
                to,
                content_type.unwrap_or("application/octet-stream"),
                stream,
            ) {
                Ok((delivery, None)) => Ok(delivered(delivery)),
                Ok((delivery, Some(error))) => {
                    log::error!("streamed response failed mid-stream, sent as trailers: {error}");
                    log_rejection(to.request_id, &delivery, "response");
                    Ok((delivery, Some(error)))
                }
                Err(StreamFailure::BeforeStart(error)) => post_error(client, to, error),
                Err(StreamFailure::Api(e)) => Err(e),
            }
        }
    }
}

fn post_error(client: &mut Client, to: &Addressee<'_>, error: Diagnostic) -> Sent {
    log::error!("invocation failed: {error}");
    let delivery = client.fail(to, &error)?;
    log_rejection(to.request_id, &delivery, "error");
    Ok((delivery, Some(error)))
}

/// What the caller receives when the Runtime API refused an answer.
fn rejection(status: u16, body: &str) -> Diagnostic {
    match status {
        413 => Diagnostic::new(
            "Function.ResponseSizeTooLarge",
            "the response is over Lambda's 6 MB limit",
        ),
        410 => Diagnostic::new(
            "Sandbox.Timedout",
            "the invocation timed out before its answer arrived",
        ),
        _ => Diagnostic::new(
            "Runtime.AnswerRejected",
            format!("the Runtime API refused the answer ({status}): {body}"),
        ),
    }
}

fn log_rejection(request_id: &str, delivery: &Delivery, what: &str) {
    let Delivery::Rejected { status, body } = delivery else {
        return;
    };
    let why = match status {
        400 => "the Runtime API does not know this request id",
        403 => "the invocation was already answered",
        410 => "the invocation timed out before the answer arrived",
        413 => {
            "the answer is over the size limit; the caller receives Function.ResponseSizeTooLarge (no /error is posted)"
        }
        _ => "the Runtime API refused it",
    };
    log::warn!(
        "{what} for {request_id} refused with status {status}: {why}; continuing ({})",
        body.trim()
    );
}
