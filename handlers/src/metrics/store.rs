//! [`Store`]: the metrics of each invocation under way, by request id, until they are
//! flushed; and those recorded outside any invocation (at init, or after an invocation's
//! flush), which go out with the next flush.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use super::set::MetricSet;

/// How many flushed request ids are remembered, so that a metric recorded after its
/// invocation's flush is kept for the next one rather than for an invocation that is over.
const CLOSED_KEPT: usize = 64;

/// One invocation's metrics.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    pub(crate) set: MetricSet,
    /// The metrics known at the answer were written (by the deferred flush).
    pub(crate) answer_written: bool,
}

/// Every invocation's metrics.
#[derive(Debug, Default)]
pub(crate) struct Store {
    open: HashMap<Arc<str>, Pending>,
    loose: MetricSet,
    closed: VecDeque<Arc<str>>,
}

impl Store {
    /// The set metrics recorded now go to: the invocation `id`'s while it is open, else the
    /// loose set.
    pub(crate) fn current(&mut self, id: Option<Arc<str>>) -> &mut MetricSet {
        match id {
            Some(id) if !self.closed.contains(&id) => &mut self.open.entry(id).or_default().set,
            _ => &mut self.loose,
        }
    }

    /// Takes invocation `id`'s metrics; with `keep_open`, the invocation stays open (marked
    /// as having had its answer metrics written) for a later, final take.
    pub(crate) fn take(&mut self, id: &str, keep_open: bool) -> Pending {
        let pending = self.open.remove(id).unwrap_or_default();
        let id: Arc<str> = Arc::from(id);
        if keep_open {
            self.open.insert(
                id,
                Pending {
                    set: MetricSet::default(),
                    answer_written: true,
                },
            );
        } else {
            if self.closed.len() == CLOSED_KEPT {
                self.closed.pop_front();
            }
            self.closed.push_back(id);
        }
        pending
    }

    /// Takes the loose metrics.
    pub(crate) fn take_loose(&mut self) -> MetricSet {
        std::mem::take(&mut self.loose)
    }
}
