//! The deadline watcher: one thread that sleeps on the state's condition variable until the
//! earliest invocation deadline, then times out whatever has not ended (`docs/runtime-api.md`
//! §7.2 #5). It wakes on every state change, so a new, earlier deadline is never missed.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::lifecycle;
use crate::slot::Slot;
use crate::state::{Queued, Shared, State};

/// Starts the deadline watcher on its own thread.
pub(crate) fn spawn(shared: Arc<Shared>) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("coda-emulator-deadlines".into())
        .spawn(move || watch(&shared))
}

/// Times out every invocation past its deadline, sleeping until the next one is due.
fn watch(shared: &Shared) {
    let mut state = shared.lock();
    while !state.shutdown {
        let now = Instant::now();
        let due: Vec<Arc<Slot>> = open_slots(&state).filter(|s| s.deadline <= now).collect();
        if !due.is_empty() {
            for slot in due {
                lifecycle::time_out(shared, &mut state, &slot);
            }
            shared.notify();
            continue;
        }
        state = match open_slots(&state).map(|s| s.deadline).min() {
            Some(next) => shared.wait_guard_timeout(state, next.saturating_duration_since(now)),
            None => shared.wait_guard(state),
        };
    }
}

/// Invocations that can still time out: queued or in flight, not finished.
fn open_slots(state: &State) -> impl Iterator<Item = Arc<Slot>> + '_ {
    let queued = state.queue.iter().filter_map(|q| match q {
        Queued::Invocation(slot) => Some(slot.clone()),
        Queued::Scripted(_) => None,
    });
    queued
        .chain(state.in_flight.iter().cloned())
        .filter(move |slot| state.slot(slot).finished_at.is_none())
}
