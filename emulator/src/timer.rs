//! The deadline watcher: one thread that sleeps on its own condition variable until the
//! earliest invocation deadline, then times out whatever has not ended (`docs/runtime-api.md`
//! §7.2 #5). Queueing an event with an earlier deadline than the one it sleeps until wakes it
//! (`Shared::enqueue`), so a new, earlier deadline is never missed; other changes do not.

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use crate::lifecycle;
use crate::slot::Slot;
use crate::state::{Shared, State};

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
        let next = open_slots(&state).map(|s| s.deadline).min();
        state = shared.wait_deadline(state, next);
    }
}

/// Invocations that can still time out: queued or in flight, not finished.
fn open_slots(state: &State) -> impl Iterator<Item = Arc<Slot>> + '_ {
    state
        .open_slots()
        .filter(move |slot| state.slot(slot).finished_at.is_none())
        .cloned()
}
