//! The faults of one emulator as they are used: the calls counted so far per key, the last
//! request id queued (for `id=duplicate`), and what was injected ([`Injected`],
//! [`crate::Emulator::faults_injected`]). The settings hold it; `fault_injection` and the
//! queue ask it which faults hit the call at hand.

use std::fmt;
use std::sync::Mutex;

use crate::faults::{Counted, Fault, Faults};

/// One fault that was injected, and the call it hit.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Injected {
    /// The fault.
    pub fault: Fault,
    /// The call it hit, counted from 1 as its key counts ([`Faults`]).
    pub call: u64,
    /// The request id of the invocation it hit, when there is one.
    pub request_id: Option<String>,
}

impl fmt::Display for Injected {
    /// `next=500 (call 3, request 8f0c…)`: the line `coda run` prints for it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (call {}", self.fault, self.call)?;
        if let Some(id) = &self.request_id {
            write!(f, ", request {id}")?;
        }
        f.write_str(")")
    }
}

/// The counters and the record behind one lock.
#[derive(Debug, Default)]
struct Counts {
    /// Events handed out by `/next`.
    events: u64,
    /// Posts to `/response` and `/error`.
    answers: u64,
    /// Invocations queued.
    queued: u64,
    /// The request id of the last invocation queued.
    last_id: Option<String>,
    /// What was injected, in order.
    injected: Vec<Injected>,
}

/// An emulator's faults and how far their counts got.
#[derive(Debug, Default)]
pub(crate) struct FaultRecord {
    /// The faults asked for.
    faults: Faults,
    /// The counts and what was injected.
    counts: Mutex<Counts>,
}

impl FaultRecord {
    /// A record of `faults`, nothing counted yet.
    pub(crate) fn new(faults: Faults) -> FaultRecord {
        FaultRecord {
            faults,
            counts: Mutex::default(),
        }
    }

    /// Whether any fault is set.
    pub(crate) fn any(&self) -> bool {
        !self.faults.is_empty()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Counts one call of `counted` and returns the faults that hit it, recorded as injected.
    pub(crate) fn hit(&self, counted: Counted, request_id: Option<&str>) -> (u64, Vec<Fault>) {
        if !self.faults.counts(counted) {
            return (0, Vec::new());
        }
        let mut counts = self.lock();
        let n = match counted {
            Counted::Events => &mut counts.events,
            Counted::Answers => &mut counts.answers,
            Counted::Queued => &mut counts.queued,
        };
        *n += 1;
        let n = *n;
        let hits: Vec<Fault> = self.faults.hitting(counted, n).collect();
        for fault in &hits {
            counts.injected.push(Injected {
                fault: *fault,
                call: n,
                request_id: request_id.map(str::to_owned),
            });
        }
        (n, hits)
    }

    /// The request id a newly queued invocation gets: its own, or under `id=duplicate` the
    /// one of the invocation queued before it (when there was one).
    pub(crate) fn queued_id(&self, own: String) -> String {
        if !self.faults.counts(Counted::Queued) {
            return own;
        }
        let previous = self.lock().last_id.clone();
        let (_, hits) = self.hit(Counted::Queued, previous.as_deref());
        let id = match previous {
            Some(previous) if hits.contains(&Fault::DuplicateId) => previous,
            _ => {
                // Nothing to duplicate yet: the fault recorded has no effect; say so.
                let mut counts = self.lock();
                if hits.contains(&Fault::DuplicateId) {
                    counts.injected.pop();
                }
                own
            }
        };
        self.lock().last_id = Some(id.clone());
        id
    }

    /// What was injected so far, in order.
    pub(crate) fn injected(&self) -> Vec<Injected> {
        self.lock().injected.clone()
    }
}
