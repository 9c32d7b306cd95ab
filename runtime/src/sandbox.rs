//! [`Sandbox`]: what every loop of one function process shares — the bound on detached
//! threads, the deferred work carried over to the next answer (whichever worker gives it),
//! and, when extensions or shutdown hooks are registered, which invocations are in flight and
//! which were answered (what an extension waits for, what a shutdown reports).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Instant;

use crate::detached::Detached;
use crate::task::Task;

/// How many answered request ids are remembered for extensions that have yet to look.
const ANSWERED_MEMORY: usize = 256;

/// The process-wide state of the loops (one, or one per Managed Instances worker).
pub(crate) struct Sandbox {
    pub(crate) detached: Arc<Detached>,
    /// Deferred work carried over: it runs after the next answer.
    carried: Mutex<Vec<Task>>,
    /// Whether invocations are followed (extensions or shutdown hooks exist).
    followed: AtomicBool,
    invocations: Mutex<Invocations>,
    answered_changed: Condvar,
}

/// The invocations in flight, and the last ones answered.
#[derive(Default)]
struct Invocations {
    in_flight: Vec<Arc<str>>,
    answered: VecDeque<Arc<str>>,
}

impl Sandbox {
    pub(crate) fn new(max_detached: usize) -> Sandbox {
        Sandbox {
            detached: Detached::new(max_detached),
            carried: Mutex::new(Vec::new()),
            followed: AtomicBool::new(false),
            invocations: Mutex::new(Invocations::default()),
            answered_changed: Condvar::new(),
        }
    }

    /// Follows invocations from now on (an extension or a shutdown hook needs to).
    pub(crate) fn follow(&self) {
        self.followed.store(true, Ordering::SeqCst);
    }

    fn invocations(&self) -> MutexGuard<'_, Invocations> {
        self.invocations.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An invocation arrived.
    pub(crate) fn began(&self, id: &Arc<str>) {
        if self.followed.load(Ordering::Relaxed) {
            self.invocations().in_flight.push(id.clone());
        }
    }

    /// An invocation was answered: extensions waiting for it may go on.
    pub(crate) fn answered(&self, id: &Arc<str>) {
        if !self.followed.load(Ordering::Relaxed) {
            return;
        }
        let mut invocations = self.invocations();
        invocations.answered.push_back(id.clone());
        while invocations.answered.len() > ANSWERED_MEMORY {
            invocations.answered.pop_front();
        }
        drop(invocations);
        self.answered_changed.notify_all();
    }

    /// An invocation ended (its deferred work done).
    pub(crate) fn ended(&self, id: &Arc<str>) {
        if self.followed.load(Ordering::Relaxed) {
            let mut invocations = self.invocations();
            if let Some(at) = invocations
                .in_flight
                .iter()
                .position(|i| Arc::ptr_eq(i, id))
            {
                invocations.in_flight.swap_remove(at);
            }
        }
    }

    /// The request ids of the invocations in flight.
    #[cfg_attr(not(feature = "shutdown"), allow(dead_code))] // the shutdown report reads it
    pub(crate) fn in_flight(&self) -> Vec<Arc<str>> {
        self.invocations().in_flight.clone()
    }

    /// Waits until invocation `id` was answered, or `until` passes (no limit when `None`).
    /// `false` when the time ran out first.
    pub(crate) fn wait_answered(&self, id: &str, until: Option<Instant>) -> bool {
        let mut invocations = self.invocations();
        loop {
            if invocations.answered.iter().any(|a| &**a == id) {
                return true;
            }
            invocations = match until {
                None => self
                    .answered_changed
                    .wait(invocations)
                    .unwrap_or_else(|e| e.into_inner()),
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return false;
                    }
                    self.answered_changed
                        .wait_timeout(invocations, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }

    /// The work carried over (to take, or to add to).
    pub(crate) fn carried(&self) -> MutexGuard<'_, Vec<Task>> {
        self.carried.lock().unwrap_or_else(|e| e.into_inner())
    }
}
