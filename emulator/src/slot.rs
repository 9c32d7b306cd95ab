//! [`Slot`]: one invocation's fixed facts (request id, payload, `/next` headers, deadline,
//! fault injection) and its [`Progress`] (delivered, answered, ended, its log lines).

use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::ending::Ending;

/// One invocation's fixed facts.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) request_id: String,
    pub(crate) invocation_id: Option<String>,
    pub(crate) queued_at: Instant,
    /// When the caller stops waiting: the function timeout after queueing.
    pub(crate) deadline: Instant,
    pub(crate) payload: Vec<u8>,
    /// The `/next` headers, final.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) answer_status: Option<u16>,
    pub(crate) drop_answer: bool,
    progress: Mutex<Progress>,
}

/// The parts of a [`Slot`] given at creation.
pub(crate) struct SlotSpec {
    pub(crate) request_id: String,
    pub(crate) invocation_id: Option<String>,
    pub(crate) payload: Vec<u8>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) answer_status: Option<u16>,
    pub(crate) drop_answer: bool,
    pub(crate) queued_at: Instant,
    pub(crate) deadline: Instant,
}

impl Slot {
    /// A slot with no progress yet.
    pub(crate) fn new(spec: SlotSpec) -> Slot {
        Slot {
            request_id: spec.request_id,
            invocation_id: spec.invocation_id,
            queued_at: spec.queued_at,
            deadline: spec.deadline,
            payload: spec.payload,
            headers: spec.headers,
            answer_status: spec.answer_status,
            drop_answer: spec.drop_answer,
            progress: Mutex::new(Progress::default()),
        }
    }

    /// Locks the progress. Lock order: the global state lock first, so every caller goes
    /// through `State::slot`, which can only be reached with that lock held.
    pub(crate) fn lock_progress(&self) -> MutexGuard<'_, Progress> {
        self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// How far an invocation got.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub(crate) delivered_at: Option<Instant>,
    /// Streamed bytes received so far, while a streamed answer is arriving.
    pub(crate) stream: Option<StreamProgress>,
    pub(crate) answer: Option<Answer>,
    /// When the runtime asked for its next event after this one.
    pub(crate) runtime_done_at: Option<Instant>,
    /// Extensions subscribed to INVOKE that have not asked for their next event yet.
    pub(crate) waiting_extensions: Vec<u64>,
    pub(crate) finished_at: Option<Instant>,
    pub(crate) ending: Ending,
    /// Log lines of this invocation (function output, START/END/REPORT).
    pub(crate) logs: Vec<String>,
    /// Init duration, for the first invocation of a function process.
    pub(crate) init_duration: Option<Duration>,
}

/// A streamed answer as it arrives.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamProgress {
    pub(crate) content_type: Option<String>,
    pub(crate) bytes: Vec<u8>,
}
