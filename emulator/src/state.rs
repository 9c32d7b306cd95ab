//! The emulator's shared state: queued events, invocations in flight, extensions, the
//! function process, and the condition variables its waiters sleep on. The records it holds
//! are defined below it ([`Slot`], [`Extension`], [`Settings`], …); this module owns only how
//! they are kept and waited on.
//!
//! Lock order: the global [`State`] mutex first, then a slot's progress mutex. Every change
//! is made with the global lock held, and every waiter checks its condition under that lock,
//! so a notification sent after a change cannot be missed. Waiters are woken by what they
//! wait for, not all at once (a caller's wait costs nothing to other invocations):
//!
//! - a caller waits on its own slot's condition variable ([`Slot::changed`]); every change of
//!   a slot's progress goes through [`State::slot`]'s guard, which wakes that slot's waiters
//!   when it was written to;
//! - parked `/next` calls wait on `next_ready`: one is woken per queued event
//!   ([`Shared::enqueue`]), all of them by the rare changes that can matter to every one
//!   (extensions, the process, shutdown: [`Shared::update`], [`Shared::notify`]);
//! - the deadline watcher waits on `deadlines`, woken when an event with an earlier deadline
//!   than the one it sleeps until is queued;
//! - the rest (the supervisor, extensions, `Emulator::wait_*`, settled logs) wait on the
//!   general `changed`, woken by every change; there are a few of them, whatever the load.
//!
//! Shutdown wakes everyone: the three shared condition variables and every open slot's.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::extension::Extension;
use crate::freeze::Freeze;
use crate::init_error::InitErrorRecord;
use crate::next_reply::NextReply;
use crate::settings::Settings;
use crate::slot::{ProgressGuard, Slot};
use crate::wait_error::WaitError;

/// How many timed-out invocations are remembered, to answer their late posts with 410.
const TIMED_OUT_MEMORY: usize = 256;
/// How many finished invocations late output lines can still be attributed to.
const RECENTLY_FINISHED: usize = 32;

/// A finished invocation, as the state remembers it for late output lines: its request id,
/// and its slot while a caller still holds it (the state does not keep its memory alive).
#[derive(Debug)]
pub(crate) struct Finished {
    /// The request id, which late lines are matched on.
    pub(crate) request_id: String,
    /// The slot, while a caller's handle keeps it.
    pub(crate) slot: Weak<Slot>,
}

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
    /// The request ids of invocations that ended by timeout, newest last (their late posts
    /// get 410). Only the ids: a timed-out event's payload and answer are not kept here.
    pub(crate) timed_out: VecDeque<String>,
    /// The last invocations that ended, newest last: output that names one of them after its
    /// end (the process wrote it just before `/next`, the pipe delivered it just after) is
    /// still theirs.
    pub(crate) recently_finished: VecDeque<Finished>,
    /// `Event` invocations accepted and not ended: how many, and their payload bytes (the
    /// bound of `Settings::max_queued_events` / `max_queued_event_bytes`).
    pub(crate) events: (usize, usize),
    /// When the deadline watcher looks next (`None`: it sleeps until woken): an event queued
    /// with an earlier deadline wakes it.
    pub(crate) timer_wakes_at: Option<Instant>,
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
    /// The progress of `slot` (locks its mutex; the global lock is already held). Writing
    /// through the guard wakes the slot's waiters when it is dropped.
    pub(crate) fn slot<'a>(&self, slot: &'a Slot) -> ProgressGuard<'a> {
        slot.lock_progress()
    }

    /// Whether the runtime may be handed an event: every registered extension is ready.
    pub(crate) fn extensions_ready(&self) -> bool {
        self.extensions.iter().all(|e| e.ready)
    }

    /// Remembers a finished slot for late output lines (its id, and the slot only while a
    /// caller holds it).
    pub(crate) fn remember_finished(&mut self, slot: &Arc<Slot>) {
        self.recently_finished.push_back(Finished {
            request_id: slot.request_id.clone(),
            slot: Arc::downgrade(slot),
        });
        while self.recently_finished.len() > RECENTLY_FINISHED {
            self.recently_finished.pop_front();
        }
    }

    /// Remembers a timed-out slot's id so a late post to it gets 410.
    pub(crate) fn remember_timed_out(&mut self, slot: &Slot) {
        self.timed_out.push_back(slot.request_id.clone());
        while self.timed_out.len() > TIMED_OUT_MEMORY {
            self.timed_out.pop_front();
        }
    }

    /// Every slot the state holds that is not finished: queued or in flight.
    pub(crate) fn open_slots(&self) -> impl Iterator<Item = &Arc<Slot>> + '_ {
        let queued = self.queue.iter().filter_map(|q| match q {
            Queued::Invocation(slot) => Some(slot),
            Queued::Scripted(_) => None,
        });
        queued.chain(self.in_flight.iter())
    }

    /// The bytes of events and answers the state still references: queued and in-flight
    /// invocations, and finished ones a caller still holds.
    pub(crate) fn held_bytes(&self) -> usize {
        let open: usize = self.open_slots().map(|s| s.held_bytes()).sum();
        let finished: usize = self
            .recently_finished
            .iter()
            .filter_map(|f| f.slot.upgrade())
            .map(|s| s.held_bytes())
            .sum();
        open + finished
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
    /// The general condition variable: every change wakes its (few) waiters.
    changed: Condvar,
    /// Parked `/next` calls: one woken per queued event, all by rare changes.
    next_ready: Condvar,
    /// The deadline watcher.
    deadlines: Condvar,
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
            next_ready: Condvar::new(),
            deadlines: Condvar::new(),
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

    /// Runs `f` on the state under the lock and wakes the general waiters and every parked
    /// `/next` afterwards (slots written to wake their own waiters): for the changes that can
    /// matter to any `/next` (extensions, the process, scripted replies).
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let result = self.change(f);
        self.next_ready.notify_all();
        result
    }

    /// Runs `f` on the state under the lock and wakes the general waiters afterwards (slots
    /// written to wake their own waiters): for changes of invocations and counters, which no
    /// parked `/next` waits for.
    pub(crate) fn change<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let mut state = self.lock();
        let result = f(&mut state);
        drop(state);
        self.changed.notify_all();
        result
    }

    /// Queues `slot` for `/next` (the global lock is held): one parked `/next` is woken for
    /// it, and the deadline watcher when this deadline comes before the one it sleeps until.
    pub(crate) fn enqueue(&self, state: &mut State, slot: Arc<Slot>) {
        let earlier = state.timer_wakes_at.is_none_or(|at| slot.deadline < at);
        if earlier {
            state.timer_wakes_at = Some(slot.deadline);
            self.deadlines.notify_one();
        }
        state.queue.push_back(Queued::Invocation(slot));
        self.next_ready.notify_one();
    }

    /// Reads the state under the lock.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.lock())
    }

    /// Waits until `ready` returns `Some`, the emulator shuts down, or `limit` passes (on the
    /// general condition variable).
    pub(crate) fn wait<T>(
        &self,
        limit: Duration,
        ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<T, WaitError> {
        self.wait_on(&self.changed, limit, ready)
    }

    /// Waits until `ready` returns `Some`, the emulator shuts down, or `limit` passes, woken
    /// only by changes of `slot` (and shutdown).
    pub(crate) fn wait_slot<T>(
        &self,
        slot: &Slot,
        limit: Duration,
        ready: impl FnMut(&mut State) -> Option<T>,
    ) -> Result<T, WaitError> {
        self.wait_on(&slot.changed, limit, ready)
    }

    /// Waits on `condvar` until `ready` returns `Some`, the emulator shuts down, or `limit`
    /// passes.
    fn wait_on<T>(
        &self,
        condvar: &Condvar,
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
                    condvar
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => condvar.wait(state).unwrap_or_else(|e| e.into_inner()),
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

    /// A parked `/next` waits for an event (or a change that matters to every `/next`).
    pub(crate) fn wait_next<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.next_ready
            .wait(guard)
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes one parked `/next`: for an event that a woken `/next` left in the queue.
    pub(crate) fn pass_next(&self) {
        self.next_ready.notify_one();
    }

    /// The deadline watcher waits until `until` (`None`: until woken), recording it so that
    /// an earlier deadline wakes it.
    pub(crate) fn wait_deadline<'a>(
        &self,
        mut guard: MutexGuard<'a, State>,
        until: Option<Instant>,
    ) -> MutexGuard<'a, State> {
        guard.timer_wakes_at = until;
        let guard = match until {
            Some(at) => {
                let left = at.saturating_duration_since(Instant::now());
                self.deadlines
                    .wait_timeout(guard, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => self
                .deadlines
                .wait(guard)
                .unwrap_or_else(|e| e.into_inner()),
        };
        let mut guard = guard;
        guard.timer_wakes_at = None;
        guard
    }

    /// Locks the state.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the general waiters and every parked `/next` (after a change made under a lock
    /// taken with [`Shared::lock`] that any of them may wait for).
    pub(crate) fn notify(&self) {
        self.changed.notify_all();
        self.next_ready.notify_all();
    }

    /// Wakes the general waiters only.
    pub(crate) fn notify_general(&self) {
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
        self.update(|state| {
            state.shutdown = true;
            for slot in state.open_slots() {
                slot.changed.notify_all();
            }
        });
        self.deadlines.notify_all();
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
