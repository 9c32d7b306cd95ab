//! The emulator's shared state: queued events, invocations in flight, their progress, and
//! the one condition variable every waiter sleeps on.
//!
//! Lock order: the global [`State`] mutex first, then a slot's progress mutex. Every change
//! is made with the global lock held and followed by `notify_all`, so a waiter that checks
//! its condition under the global lock cannot miss an update.

use std::collections::VecDeque;
use std::net::TcpStream;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::invoke::{Answer, WaitError};
use super::{EmulatorConfig, InitErrorRecord, NextReply};

/// One invocation's fixed facts.
#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) request_id: String,
    pub(crate) invocation_id: Option<String>,
    pub(crate) queued_at: Instant,
    pub(crate) payload: Vec<u8>,
    /// The `/next` headers, final.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) answer_status: Option<u16>,
    pub(crate) drop_answer: bool,
    progress: Mutex<Progress>,
}

impl Slot {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        request_id: String,
        invocation_id: Option<String>,
        payload: Vec<u8>,
        headers: Vec<(String, String)>,
        answer_status: Option<u16>,
        drop_answer: bool,
        queued_at: Instant,
    ) -> Slot {
        Slot {
            request_id,
            invocation_id,
            queued_at,
            payload,
            headers,
            answer_status,
            drop_answer,
            progress: Mutex::new(Progress::default()),
        }
    }
}

/// How far an invocation got.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    pub(crate) delivered_at: Option<Instant>,
    pub(crate) answer: Option<Answer>,
    pub(crate) finished_at: Option<Instant>,
}

/// What `/next` hands out next.
#[derive(Debug)]
pub(crate) enum Queued {
    Invocation(Arc<Slot>),
    Scripted(NextReply),
}

/// Everything behind the global lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) queue: VecDeque<Queued>,
    /// Invocations handed out and not finished, oldest first.
    pub(crate) in_flight: Vec<Arc<Slot>>,
    /// `/next` calls waiting for an event now.
    pub(crate) parked_next: usize,
    /// `/next` calls received so far.
    pub(crate) next_calls: usize,
    /// `/response` and `/error` posts received so far (for any id).
    pub(crate) answer_posts: usize,
    pub(crate) init_error: Option<InitErrorRecord>,
    pub(crate) shutdown: bool,
}

impl State {
    /// The progress of `slot` (locks its mutex; the global lock is already held).
    pub(crate) fn slot<'a>(&self, slot: &'a Slot) -> MutexGuard<'a, Progress> {
        slot.progress.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// State shared by the server threads and the caller's handles.
#[derive(Debug)]
pub(crate) struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    pub(crate) config: EmulatorConfig,
    connections: Mutex<Vec<(u64, TcpStream)>>,
}

impl Shared {
    pub(crate) fn new(config: EmulatorConfig) -> Shared {
        Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
            config,
            connections: Mutex::new(Vec::new()),
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

    /// Waits on the condition variable with the lock held by the caller (for `/next`).
    pub(crate) fn wait_guard<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
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
