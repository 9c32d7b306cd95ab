//! The emulator's shared state: queued events, invocations in flight, extensions, the
//! function process, and the one condition variable every waiter sleeps on. The records it
//! holds are defined below it ([`Slot`], [`Extension`], [`Settings`], …); this module owns
//! only how they are kept and waited on.
//!
//! Lock order: the global [`State`] mutex first, then a slot's progress mutex. Every change
//! is made with the global lock held and followed by `notify_all`, so a waiter that checks
//! its condition under the global lock cannot miss an update.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::extension::Extension;
use crate::freeze::Freeze;
use crate::init_error::InitErrorRecord;
use crate::next_reply::NextReply;
use crate::settings::Settings;
use crate::slot::{Progress, Slot};
use crate::wait_error::WaitError;

/// How many timed-out invocations are remembered, to answer their late posts with 410.
const TIMED_OUT_MEMORY: usize = 256;
/// How many finished invocations late output lines can still be attributed to.
const RECENTLY_FINISHED: usize = 32;

/// What `/next` hands out next.
#[derive(Debug)]
pub(crate) enum Queued {
    /// An invocation.
    Invocation(Arc<Slot>),
    /// A scripted reply.
    Scripted(NextReply),
}

/// The function process, as far as the state needs to know.
#[derive(Debug, Default)]
pub(crate) struct ProcessInfo {
    /// Increases with each start; 0 when no process is supervised.
    pub(crate) generation: u64,
    /// The current process id, while one runs.
    pub(crate) pid: Option<u32>,
    /// When the current process was started.
    pub(crate) started_at: Option<Instant>,
    /// When the current runtime first called `/next`: the end of its init.
    pub(crate) initialized_at: Option<Instant>,
    /// Whether the next invocation handed out is the current process's first (cold start).
    pub(crate) cold_pending: bool,
    /// Whether a process is running.
    pub(crate) running: bool,
    /// Set by a timeout: the supervisor must kill and restart the process.
    pub(crate) restart_requested: bool,
    /// Set when the supervisor is stopped: kill the process and stop.
    pub(crate) stop_requested: bool,
    /// How the last process ended, for messages.
    pub(crate) last_exit: Option<String>,
    /// Output pipes of the current process still open.
    pub(crate) open_pipes: u8,
    /// How the current process ended (`exit status: 1`) and whether it succeeded, once it
    /// has.
    pub(crate) exit: Option<(String, bool)>,
    /// The largest memory sample of the current process's tree so far, in kB.
    pub(crate) peak_kb: Option<u64>,
    /// Whether the current process's group is stopped (frozen while it waits in `/next`).
    pub(crate) frozen: bool,
    /// The current process's last freeze.
    pub(crate) last_freeze: Option<Freeze>,
}

/// Everything behind the global lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// What `/next` hands out next, in order.
    pub(crate) queue: VecDeque<Queued>,
    /// Invocations handed out and not finished, oldest first.
    pub(crate) in_flight: Vec<Arc<Slot>>,
    /// Invocations that ended by timeout, newest last (their late posts get 410).
    pub(crate) timed_out: VecDeque<Arc<Slot>>,
    /// The last invocations that ended, newest last: output that names one of them after its
    /// end (the process wrote it just before `/next`, the pipe delivered it just after) is
    /// still theirs.
    pub(crate) recently_finished: VecDeque<Arc<Slot>>,
    /// When the function process last wrote a line.
    pub(crate) last_output_at: Option<Instant>,
    /// `/next` calls waiting for an event now.
    pub(crate) parked_next: usize,
    /// `/next` calls received so far.
    pub(crate) next_calls: usize,
    /// `/response` and `/error` posts received so far.
    pub(crate) answer_posts: usize,
    /// What the runtime posted to `/init/error`, if anything.
    pub(crate) init_error: Option<InitErrorRecord>,
    /// The current function process's registered extensions, in registration order.
    pub(crate) extensions: Vec<Extension>,
    /// The id the next registered extension gets (never reused, across processes).
    pub(crate) next_extension_id: u64,
    /// When an invocation was last handed out or ended: what "idle since" counts from.
    pub(crate) last_activity: Option<Instant>,
    /// The function process.
    pub(crate) process: ProcessInfo,
    /// Set once: the emulator is shutting down.
    pub(crate) shutdown: bool,
    /// Whether the warning about a runtime that polls fewer `/next` than the concurrency
    /// allows has been printed.
    pub(crate) warned_polls: bool,
}

impl State {
    /// The progress of `slot` (locks its mutex; the global lock is already held).
    pub(crate) fn slot<'a>(&self, slot: &'a Slot) -> MutexGuard<'a, Progress> {
        slot.lock_progress()
    }

    /// Whether the runtime may be handed an event: every registered extension is ready.
    pub(crate) fn extensions_ready(&self) -> bool {
        self.extensions.iter().all(|e| e.ready)
    }

    /// Remembers a finished slot for late output lines.
    pub(crate) fn remember_finished(&mut self, slot: Arc<Slot>) {
        self.recently_finished.push_back(slot);
        while self.recently_finished.len() > RECENTLY_FINISHED {
            self.recently_finished.pop_front();
        }
    }

    /// Remembers a timed-out slot so a late post to it gets 410.
    pub(crate) fn remember_timed_out(&mut self, slot: Arc<Slot>) {
        self.timed_out.push_back(slot);
        while self.timed_out.len() > TIMED_OUT_MEMORY {
            self.timed_out.pop_front();
        }
    }
}

/// Output of the function process that can be read on demand: its pipes (`output`).
/// Defined here so that the state can hold them without knowing how they are read.
pub(crate) trait OutputSource: Send + Sync + std::fmt::Debug {
    /// Reads what has been written so far and attributes it to invocations. Called without
    /// the state lock held.
    fn drain(&self, shared: &Shared);
    /// Whether every writer has closed it.
    fn closed(&self) -> bool;
}

/// State shared by the server threads and the caller's handles.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    /// The emulated function's settings.
    pub(crate) settings: Settings,
    connections: Mutex<Vec<(u64, TcpStream)>>,
    /// The function process's output pipes not yet closed.
    outputs: Mutex<Vec<Arc<dyn OutputSource>>>,
}

impl Shared {
    pub(crate) fn new(settings: Settings) -> Shared {
        Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            settings,
            connections: Mutex::new(Vec::new()),
            outputs: Mutex::new(Vec::new()),
        }
    }

    /// Registers an output pipe, to be drained by [`Shared::drain_output`].
    pub(crate) fn register_output(&self, output: Arc<dyn OutputSource>) {
        let mut outputs = self.outputs.lock().unwrap_or_else(|e| e.into_inner());
        outputs.retain(|o| !o.closed());
        outputs.push(output);
    }

    /// Reads and attributes everything the function process has written so far (call it
    /// without the state lock, before ending an invocation).
    pub(crate) fn drain_output(&self) {
        let outputs: Vec<Arc<dyn OutputSource>> = self
            .outputs
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        for output in outputs {
            output.drain(self);
        }
    }

    /// Runs `f` on the state under the lock and wakes every waiter afterwards.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.lock();
        let result = f(&mut state);
        drop(state);
        self.changed.notify_all();
        result
    }

    /// Reads the state under the lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Waits until `ready` returns `Some`, the emulator shuts down, or `limit` passes.
    pub(crate) fn wait<T>(
        &self,
        limit: Duration,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<T, WaitError> {
        let end = Instant::now().checked_add(limit);
        let mut state = self.lock();
        loop {
            if let Some(value) = ready(&mut state) {
                return Ok(value);
            }
            if state.shutdown {
                return Err(WaitError::Shutdown);
            }
            state = match end {
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(WaitError::TimedOut);
                    }
                    self.changed
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.changed.wait(state).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }

    /// Waits until `ready` returns `Some` or `limit` passes, also after shutdown (for the
    /// supervisor, which still has a process to see out).
    pub(crate) fn wait_through_shutdown<T>(
        &self,
        limit: Duration,
        mut ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<T, WaitError> {
        let end = Instant::now().checked_add(limit);
        let mut state = self.lock();
        loop {
            if let Some(value) = ready(&mut state) {
                return Ok(value);
            }
            state = match end {
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(WaitError::TimedOut);
                    }
                    self.wait_guard_timeout(state, left)
                }
                None => self.wait_guard(state),
            };
        }
    }

    /// Waits on the condition variable with the lock held by the caller.
    pub(crate) fn wait_guard<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// Waits on the condition variable for at most `limit`.
    pub(crate) fn wait_guard_timeout<'a>(
        &self,
        guard: MutexGuard<'a, State>,
        limit: Duration,
    ) -> MutexGuard<'a, State> {
        self.changed
            .wait_timeout(guard, limit)
            .unwrap_or_else(|e| e.into_inner())
            .0
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn notify(&self) {
        self.changed.notify_all();
    }

    /// Remembers an open connection so that shutdown can close it.
    pub(crate) fn track(&self, id: u64, stream: &TcpStream) {
        if let Ok(clone) = stream.try_clone() {
            self.connections
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push((id, clone));
        }
    }

    pub(crate) fn untrack(&self, id: u64) {
        self.connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|(i, _)| *i != id);
    }

    /// Marks the emulator shut down, wakes every waiter, and ends every connection's reading
    /// side: idle connections end at once, while a parked `/next` can still write its 500.
    pub(crate) fn shut_down(&self) {
        self.update(|state| state.shutdown = true);
        for (_, stream) in self
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain(..)
        {
            let _ = stream.shutdown(std::net::Shutdown::Read);
        }
    }
}
