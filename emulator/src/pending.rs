//! [`PendingInvocation`]: the caller's side of a queued invocation, waiting for its answer
//! (at `/response` time), its bytes as they stream in ([`StreamRead`]) and its end
//! ([`Finished`]).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::ending::Ending;
use crate::slot::Slot;
use crate::state::Shared;
use crate::wait_error::WaitError;

/// The end of an invocation.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Finished {
    /// The answer: posted by the runtime, or made by the emulator for a timeout or exit.
    pub answer: Option<Answer>,
    /// Time from queueing to the end of the answer.
    pub answered_after: Option<Duration>,
    /// Time from queueing to the end (the runtime's next `/next`, the deadline, the exit).
    pub finished_after: Duration,
    /// How it ended.
    pub ending: Ending,
    /// Its log lines: START, the function's output while it ran, END, REPORT.
    pub logs: Vec<String>,
}

/// Bytes of an answer as they arrive ([`PendingInvocation::read_stream`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct StreamRead {
    /// New bytes after the offset asked for (may be empty when `done` is set).
    pub bytes: Vec<u8>,
    /// The content type the runtime declared.
    pub content_type: Option<String>,
    /// The complete answer, once it has all arrived.
    pub done: Option<Answer>,
}

/// A queued invocation; wait for its answer (at `/response` time) and its end (`/next`).
#[derive(Clone, Debug)]
pub struct PendingInvocation {
    /// The state the invocation lives in.
    pub(crate) shared: Arc<Shared>,
    /// The invocation.
    pub(crate) slot: Arc<Slot>,
}

impl PendingInvocation {
    /// The request id the runtime sees.
    pub fn request_id(&self) -> &str {
        &self.slot.request_id
    }

    /// When the invocation was queued.
    pub fn queued_at(&self) -> Instant {
        self.slot.queued_at
    }

    /// Waits up to `limit` for the runtime's answer; returns as soon as the answer's body has
    /// arrived, whatever the runtime does next.
    pub fn answer(&self, limit: Duration) -> Result<Answer, WaitError> {
        self.shared.wait_slot(&self.slot, limit, |state| {
            state.slot(&self.slot).answer.clone()
        })
    }

    /// Waits up to `limit` for the invocation to end: the runtime asked for the next event
    /// (and every INVOKE extension did), or it timed out, or the process exited.
    pub fn finished(&self, limit: Duration) -> Result<Finished, WaitError> {
        self.shared.wait_slot(&self.slot, limit, |state| {
            let progress = state.slot(&self.slot);
            progress.finished_at.map(|at| Finished {
                answer: progress.answer.clone(),
                answered_after: progress.answer.as_ref().map(|a| a.latency),
                finished_after: at.saturating_duration_since(self.slot.queued_at),
                ending: progress.ending,
                logs: progress.logs.clone(),
            })
        })
    }

    /// Waits up to `limit` for bytes of the answer past `offset`, or for its end: a streamed
    /// answer arrives piece by piece, a buffered one all at once.
    pub fn read_stream(&self, offset: usize, limit: Duration) -> Result<StreamRead, WaitError> {
        self.shared.wait_slot(&self.slot, limit, |state| {
            let progress = state.slot(&self.slot);
            if let Some(answer) = &progress.answer {
                return Some(StreamRead {
                    bytes: answer.payload.get(offset..).unwrap_or_default().to_vec(),
                    content_type: answer.content_type.clone(),
                    done: Some(answer.clone()),
                });
            }
            let stream = progress.stream.as_ref()?;
            (stream.bytes.len() > offset).then(|| StreamRead {
                bytes: stream.bytes[offset..].to_vec(),
                content_type: stream.content_type.clone(),
                done: None,
            })
        })
    }

    /// The log lines of the invocation so far (function output, START/END/REPORT).
    pub fn logs(&self) -> Vec<String> {
        self.shared
            .read(|state| state.slot(&self.slot).logs.clone())
    }

    /// Waits up to `limit` for the invocation to end and for the function's output to go
    /// quiet, then returns its log lines: output written just before the process asked for
    /// its next event can reach the emulator's pipe reader just after.
    pub fn settled_logs(&self, limit: Duration) -> Result<Vec<String>, WaitError> {
        const QUIET: Duration = Duration::from_millis(25);
        let end = Instant::now() + limit;
        self.finished(limit)?;
        let mut state = self.shared.lock();
        loop {
            let now = Instant::now();
            let finished_at = state.slot(&self.slot).finished_at.unwrap_or(now);
            let last = state
                .last_output_at
                .map_or(finished_at, |at| at.max(finished_at));
            let quiet_since = now.saturating_duration_since(last);
            if quiet_since >= QUIET || now >= end {
                return Ok(state.slot(&self.slot).logs.clone());
            }
            state = self.shared.wait_guard_timeout(state, QUIET - quiet_since);
        }
    }
}
