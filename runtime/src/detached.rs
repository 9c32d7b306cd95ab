//! The bound on detached work, and the [`Ticket`] that decides, without a race, whether a
//! closure the loop stopped waiting for had started.
//!
//! A closure still running when the budget is spent keeps its thread (Rust threads cannot be
//! killed safely), so every detachment costs a thread until the closure ends. [`Detached`]
//! counts those threads; at the limit the runtime starts no new deferred or spawned work
//! (it is skipped, with the reason, and handed off or carried over) until some end; the sink
//! may use one thread more, so the hand-off of the closure that reached the limit still gets
//! through. A thread the loop gave up on leaves the count itself when its closure ends.

use std::sync::atomic::{AtomicU8, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// How many detached closures are still running, which ones, and how many may be.
#[derive(Debug)]
pub(crate) struct Detached {
    running: AtomicUsize,
    limit: usize,
    /// The detached closures still running: a key, and what the closure is ("deferred work
    /// NAME of request ID"), for the shutdown report.
    which: Mutex<Vec<(u64, String)>>,
    keys: AtomicU64,
}

impl Detached {
    pub(crate) fn new(limit: usize) -> Arc<Detached> {
        Arc::new(Detached {
            running: AtomicUsize::new(0),
            limit,
            which: Mutex::new(Vec::new()),
            keys: AtomicU64::new(1),
        })
    }

    fn which(&self) -> MutexGuard<'_, Vec<(u64, String)>> {
        self.which.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// What the detached closures still running are.
    #[cfg_attr(not(feature = "shutdown"), allow(dead_code))] // the shutdown report reads it
    pub(crate) fn still_running(&self) -> Vec<String> {
        self.which().iter().map(|(_, what)| what.clone()).collect()
    }

    /// Why no more work may start, when the limit is reached.
    pub(crate) fn full(&self) -> Option<String> {
        let running = self.running.load(Ordering::SeqCst);
        (running >= self.limit).then(|| {
            format!(
                "{running} detached closures are still running (the limit, Runtime::max_detached): \
                 no new work starts until some end"
            )
        })
    }

    /// Why the sink may not be called now: one more thread than the limit is allowed for it,
    /// so the hand-off of the closure that reached the limit still gets through.
    pub(crate) fn full_for_sink(&self) -> Option<String> {
        let running = self.running.load(Ordering::SeqCst);
        (running > self.limit).then(|| {
            format!("{running} detached closures are still running, over the limit: the sink is not called")
        })
    }

    /// Detached closures still running.
    #[cfg(test)]
    pub(crate) fn running(&self) -> usize {
        self.running.load(Ordering::SeqCst)
    }

    fn add(&self, what: &str) -> u64 {
        let key = self.keys.fetch_add(1, Ordering::SeqCst);
        self.which().push((key, what.to_owned()));
        self.running.fetch_add(1, Ordering::SeqCst);
        key
    }

    fn remove(&self, key: u64) {
        self.which().retain(|(k, _)| *k != key);
        self.running.fetch_sub(1, Ordering::SeqCst);
    }
}

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const DONE: u8 = 2;
const ABANDONED: u8 = 3;
const DETACHED: u8 = 4;

/// One closure's progress, shared by the loop (which waits for it) and the thread that runs
/// it. Each side moves it with one compare-and-swap, so exactly one of them decides whether
/// the closure was never started, finished in time, or detached.
#[derive(Clone, Debug)]
pub(crate) struct Ticket {
    state: Arc<AtomicU8>,
    detached: Arc<Detached>,
    /// What the closure is, for the list of detached ones.
    what: Arc<str>,
    /// Its key in that list once detached.
    key: Arc<AtomicU64>,
}

/// What the loop learns when it stops waiting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GaveUp {
    /// The closure had not started (the thread never got to it): it never will.
    NotStarted,
    /// It was running: it is detached and counted until it ends.
    Detached,
    /// It had just finished: its result is on its way.
    Finished,
}

impl Ticket {
    /// A ticket for a closure (`what` it is, for the shutdown report) queued on a thread.
    pub(crate) fn queued(detached: &Arc<Detached>, what: &str) -> Ticket {
        Ticket {
            state: Arc::new(AtomicU8::new(QUEUED)),
            detached: detached.clone(),
            what: Arc::from(what),
            key: Arc::new(AtomicU64::new(0)),
        }
    }

    /// A ticket for a closure whose thread starts it at once.
    pub(crate) fn running(detached: &Arc<Detached>, what: &str) -> Ticket {
        let ticket = Ticket::queued(detached, what);
        ticket.state.store(RUNNING, Ordering::SeqCst);
        ticket
    }

    /// The running thread: may it start? `false` when the loop already gave up on it.
    pub(crate) fn start(&self) -> bool {
        self.swap(QUEUED, RUNNING) || self.state.load(Ordering::SeqCst) == RUNNING
    }

    /// The running thread: the closure ended. `false` when the loop had detached it (the
    /// outcome is then the thread's to report), which also takes it out of the count.
    pub(crate) fn finish(&self) -> bool {
        if self.swap(RUNNING, DONE) || self.swap(QUEUED, DONE) {
            return true;
        }
        if self.state.load(Ordering::SeqCst) == DETACHED {
            self.detached.remove(self.key.load(Ordering::SeqCst));
        }
        false
    }

    /// The loop: it stops waiting for this closure.
    pub(crate) fn give_up(&self) -> GaveUp {
        if self.swap(QUEUED, ABANDONED) {
            GaveUp::NotStarted
        } else if self.swap(RUNNING, DETACHED) {
            let key = self.detached.add(&self.what);
            self.key.store(key, Ordering::SeqCst);
            GaveUp::Detached
        } else {
            GaveUp::Finished
        }
    }

    fn swap(&self, from: u8, to: u8) -> bool {
        self.state
            .compare_exchange(from, to, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each interleaving of the two sides ends in exactly one verdict, and the count of
    /// detached closures follows the threads that are really still running.
    #[test]
    fn one_verdict_per_closure() {
        let bound = Detached::new(2);
        // Given up before its thread started it: never starts.
        let t = Ticket::queued(&bound, "t");
        assert_eq!(t.give_up(), GaveUp::NotStarted);
        assert!(!t.start());
        // Given up while running: detached, counted until it ends.
        let t = Ticket::queued(&bound, "t");
        assert!(t.start());
        assert_eq!(t.give_up(), GaveUp::Detached);
        assert_eq!(bound.running(), 1);
        assert_eq!(bound.still_running(), ["t"]);
        assert!(!t.finish());
        assert!(bound.still_running().is_empty());
        assert_eq!(bound.running(), 0);
        // Finished just before the loop gave up: its result counts.
        let t = Ticket::running(&bound, "t");
        assert!(t.finish());
        assert_eq!(t.give_up(), GaveUp::Finished);
        assert_eq!(bound.running(), 0);
    }

    /// At the limit, the bound says why nothing more starts.
    #[test]
    fn the_limit() {
        let bound = Detached::new(1);
        assert!(bound.full().is_none());
        let t = Ticket::running(&bound, "t");
        t.give_up();
        assert!(
            bound
                .full()
                .unwrap()
                .contains("1 detached closures are still running")
        );
        t.finish();
        assert!(bound.full().is_none());
    }
}
