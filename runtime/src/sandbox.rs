//! [`Sandbox`]: what every loop of one function process shares — the bound on detached
//! threads, and the deferred work carried over to the next answer (whichever worker gives it).

use std::sync::{Arc, Mutex, MutexGuard};

use crate::detached::Detached;
use crate::task::Task;

/// The process-wide state of the loops (one, or one per Managed Instances worker).
pub(crate) struct Sandbox {
    pub(crate) detached: Arc<Detached>,
    /// Deferred work carried over: it runs after the next answer.
    carried: Mutex<Vec<Task>>,
}

impl Sandbox {
    pub(crate) fn new(max_detached: usize) -> Sandbox {
        Sandbox {
            detached: Detached::new(max_detached),
            carried: Mutex::new(Vec::new()),
        }
    }

    /// The work carried over (to take, or to add to).
    pub(crate) fn carried(&self) -> MutexGuard<'_, Vec<Task>> {
        self.carried.lock().unwrap_or_else(|e| e.into_inner())
    }
}
