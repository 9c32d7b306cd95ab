//! [`Slot`]: one invocation's fixed facts (request id, `/next` headers, deadline, fault
//! injection) and its [`Progress`] (its event until it ends, delivered, answered, ended, its
//! log lines), with the condition variable its caller waits on.

use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::ending::Ending;

/// One invocation's fixed facts.
#[derive(Debug)]
pub(crate) struct Slot {
    /// The `Lambda-Runtime-Aws-Request-Id` handed out.
    pub(crate) request_id: String,
    /// The `Lambda-Runtime-Invocation-Id` handed out, which the runtime must echo.
    pub(crate) invocation_id: Option<String>,
    /// When it was queued: latencies count from here.
    pub(crate) queued_at: Instant,
    /// When the caller stops waiting: the function timeout after queueing.
    pub(crate) deadline: Instant,
    /// The size of the event, in bytes.
    pub(crate) payload_len: usize,
    /// Whether it is an `Event` (asynchronous) invocation, counted in the bounded queue.
    pub(crate) asynchronous: bool,
    /// The `/next` headers, final.
    pub(crate) headers: Vec<(String, String)>,
    /// The function version that runs it (START lines, `X-Amz-Executed-Version`).
    pub(crate) version: String,
    /// A status to answer the runtime's post with instead of 202 (fault injection).
    pub(crate) answer_status: Option<u16>,
    /// Close the connection instead of answering the runtime's post (fault injection).
    pub(crate) drop_answer: bool,
    /// How far it got, behind its own lock (taken after the global one).
    progress: Mutex<Progress>,
    /// What its caller waits on, with the global lock: woken by every change of its progress
    /// ([`ProgressGuard`]) and by shutdown.
    pub(crate) changed: Condvar,
}

/// The parts of a [`Slot`] given at creation.
pub(crate) struct SlotSpec {
    /// The request id.
    pub(crate) request_id: String,
    /// The invocation id, if one was set.
    pub(crate) invocation_id: Option<String>,
    /// The event.
    pub(crate) payload: Vec<u8>,
    /// Whether it is an `Event` (asynchronous) invocation.
    pub(crate) asynchronous: bool,
    /// The `/next` headers, final.
    pub(crate) headers: Vec<(String, String)>,
    /// The function version that runs it.
    pub(crate) version: String,
    /// A status to answer the runtime's post with.
    pub(crate) answer_status: Option<u16>,
    /// Close the connection instead of answering the runtime's post.
    pub(crate) drop_answer: bool,
    /// When it was queued.
    pub(crate) queued_at: Instant,
    /// When the caller stops waiting.
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
            payload_len: spec.payload.len(),
            asynchronous: spec.asynchronous,
            headers: spec.headers,
            version: spec.version,
            answer_status: spec.answer_status,
            drop_answer: spec.drop_answer,
            progress: Mutex::new(Progress {
                event: Some(Arc::new(spec.payload)),
                ..Progress::default()
            }),
            changed: Condvar::new(),
        }
    }

    /// Locks the progress. Lock order: the global state lock first, so every caller goes
    /// through `State::slot`, which can only be reached with that lock held.
    pub(crate) fn lock_progress(&self) -> ProgressGuard<'_> {
        ProgressGuard {
            slot: self,
            progress: self.progress.lock().unwrap_or_else(|e| e.into_inner()),
            written: false,
        }
    }

    /// The bytes of its event (until it ends), its answer and its streamed bytes so far.
    pub(crate) fn held_bytes(&self) -> usize {
        let progress = self.progress.lock().unwrap_or_else(|e| e.into_inner());
        progress.event.as_ref().map_or(0, |e| e.len())
            + progress.answer.as_ref().map_or(0, |a| a.payload.len())
            + progress.stream.as_ref().map_or(0, |s| s.bytes.len())
    }
}

/// A slot's locked progress. Reading it wakes nobody; writing to it (through `DerefMut`)
/// wakes the slot's waiters when the guard is dropped, so no change of an invocation's
/// progress can be made without its caller hearing of it.
#[derive(Debug)]
pub(crate) struct ProgressGuard<'a> {
    /// The slot, whose condition variable is notified.
    slot: &'a Slot,
    /// The progress, locked.
    progress: MutexGuard<'a, Progress>,
    /// Whether it was borrowed mutably.
    written: bool,
}

impl Deref for ProgressGuard<'_> {
    type Target = Progress;

    fn deref(&self) -> &Progress {
        &self.progress
    }
}

impl DerefMut for ProgressGuard<'_> {
    fn deref_mut(&mut self) -> &mut Progress {
        self.written = true;
        &mut self.progress
    }
}

impl Drop for ProgressGuard<'_> {
    fn drop(&mut self) {
        if self.written {
            self.slot.changed.notify_all();
        }
    }
}

/// How far an invocation got.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// The event, until the invocation ends (then released: a finished invocation keeps
    /// only what its caller may still read).
    pub(crate) event: Option<Arc<Vec<u8>>>,
    /// When a `/next` handed it out.
    pub(crate) delivered_at: Option<Instant>,
    /// Streamed bytes received so far, while a streamed answer is arriving.
    pub(crate) stream: Option<StreamProgress>,
    /// The answer, once its body has all arrived (or the emulator's, for a timeout or an exit).
    pub(crate) answer: Option<Answer>,
    /// When the runtime asked for its next event after this one.
    pub(crate) runtime_done_at: Option<Instant>,
    /// Extensions subscribed to INVOKE that have not asked for their next event yet.
    pub(crate) waiting_extensions: Vec<u64>,
    /// When it ended.
    pub(crate) finished_at: Option<Instant>,
    /// How it ended.
    pub(crate) ending: Ending,
    /// Log lines of this invocation (function output, START/END/REPORT).
    pub(crate) logs: Vec<String>,
    /// Init duration, for the first invocation of a function process.
    pub(crate) init_duration: Option<Duration>,
}

/// A streamed answer as it arrives.
#[derive(Clone, Debug, Default)]
pub(crate) struct StreamProgress {
    /// The content type the runtime declared.
    pub(crate) content_type: Option<String>,
    /// The bytes so far.
    pub(crate) bytes: Vec<u8>,
}
