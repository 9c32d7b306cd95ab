//! What holds a runtime's `/next` back while the command of its last invocation runs: on
//! Lambda the invocation ends, and the sandbox may freeze, once the runtime has asked for
//! its next event (`docs/runtime-api.md` §7.1, §7.2 #2), so the command has to end first.
//!
//! A hold is taken before the runtime is given the Runtime API's answer to its `/response`
//! (so that no `/next` can slip past it) and released when the command has ended, been
//! killed, or could not start — when its [`Ticket`] is dropped, whatever the path.
//!
//! Which `/next` waits:
//! - **one invocation at a time** (`AWS_LAMBDA_MAX_CONCURRENCY` ≤ 1): every `/next` waits
//!   for every hold (there is at most one), on whatever connection the runtime sends it —
//!   a streamed response comes on a connection of its own, some clients open a new one per
//!   request;
//! - **Managed Instances**: a `/next` waits only for the hold of the invocation that was
//!   handed out on its own connection (each worker polls on its own), so the other workers
//!   go on. A hold whose connection has closed is taken over by the first `/next` on a new
//!   connection, so a worker that reconnects is still held.

use std::collections::BTreeMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

/// A downstream connection (from the runtime to the proxy), numbered from 1.
pub type ConnId = u64;

/// The holds, and the condition variable `/next` waits on.
#[derive(Debug)]
pub struct Gate {
    /// Whether every `/next` waits for every hold.
    sequential: bool,
    /// Holds by ticket number: the connection whose `/next` each holds, if still open.
    holds: Mutex<Holds>,
    /// Notified when a hold is released.
    released: Condvar,
}

/// The holds and the next ticket number.
#[derive(Debug, Default)]
struct Holds {
    /// Ticket number → the connection held (`None` once it closed).
    by_ticket: BTreeMap<u64, Option<ConnId>>,
    /// The number of the next ticket.
    next: u64,
    /// How many `/next` are waiting now.
    waiting: usize,
}

/// A hold on a connection's next `/next`; released when dropped.
#[derive(Debug)]
pub struct Ticket {
    /// The gate it holds.
    gate: Arc<Gate>,
    /// Its number.
    number: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        self.gate.lock().by_ticket.remove(&self.number);
        self.gate.released.notify_all();
    }
}

impl Gate {
    /// A gate for a runtime that serves one invocation at a time (`sequential`) or several.
    pub fn new(sequential: bool) -> Arc<Gate> {
        Arc::new(Gate {
            sequential,
            holds: Mutex::new(Holds::default()),
            released: Condvar::new(),
        })
    }

    /// The holds, even after a panic elsewhere (they stay consistent: each change is one
    /// map operation).
    fn lock(&self) -> MutexGuard<'_, Holds> {
        self.holds.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Holds the next `/next` of connection `owner` until the ticket is dropped.
    pub fn hold(self: &Arc<Self>, owner: ConnId) -> Ticket {
        let mut holds = self.lock();
        let number = holds.next;
        holds.next += 1;
        holds.by_ticket.insert(number, Some(owner));
        Ticket {
            gate: self.clone(),
            number,
        }
    }

    /// Waits until a `/next` on `conn` may go through; `fresh` says that no invocation was
    /// handed out on this connection yet. Returns whether it had to wait.
    pub fn before_next(&self, conn: ConnId, fresh: bool) -> bool {
        let mut holds = self.lock();
        if !self.sequential && fresh {
            let orphan = holds.by_ticket.values_mut().find(|owner| owner.is_none());
            if let Some(owner) = orphan {
                *owner = Some(conn);
            }
        }
        let mut waited = false;
        loop {
            let blocked = if self.sequential {
                !holds.by_ticket.is_empty()
            } else {
                holds.by_ticket.values().any(|owner| *owner == Some(conn))
            };
            if !blocked {
                return waited;
            }
            waited = true;
            holds.waiting += 1;
            self.released.notify_all();
            holds = self.released.wait(holds).unwrap_or_else(|p| p.into_inner());
            holds.waiting -= 1;
        }
    }

    /// Connection `conn` closed: its holds wait for a `/next` on a new connection.
    pub fn closed(&self, conn: ConnId) {
        for owner in self.lock().by_ticket.values_mut() {
            if *owner == Some(conn) {
                *owner = None;
            }
        }
    }
}

#[cfg(test)]
impl Gate {
    /// Waits until `n` `/next` are held.
    fn wait_for_waiters(&self, n: usize) {
        let mut holds = self.lock();
        while holds.waiting < n {
            holds = self.released.wait(holds).unwrap_or_else(|p| p.into_inner());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    /// Runs `before_next` on a thread; the receiver gets whether it waited once it returns.
    fn next_on(gate: &Arc<Gate>, conn: ConnId, fresh: bool) -> mpsc::Receiver<bool> {
        let (tx, rx) = mpsc::channel();
        let gate = gate.clone();
        std::thread::spawn(move || {
            let _ = tx.send(gate.before_next(conn, fresh));
        });
        rx
    }

    /// One at a time: a `/next` on any connection waits for the hold, and goes once it is
    /// released.
    #[test]
    fn sequential_holds_every_next() {
        let gate = Gate::new(true);
        assert!(!gate.before_next(1, true), "nothing held: no wait");
        let ticket = gate.hold(1);
        let other = next_on(&gate, 2, true);
        let same = next_on(&gate, 1, false);
        gate.wait_for_waiters(2);
        assert!(other.try_recv().is_err() && same.try_recv().is_err());
        drop(ticket);
        assert_eq!(other.recv_timeout(Duration::from_secs(10)), Ok(true));
        assert_eq!(same.recv_timeout(Duration::from_secs(10)), Ok(true));
    }

    /// Managed Instances: only the holder's own connection waits; a hold whose connection
    /// closed is taken over by a fresh connection, not by one that already served.
    #[test]
    fn concurrent_holds_only_their_own() {
        let gate = Gate::new(false);
        let a = gate.hold(1);
        assert!(!gate.before_next(2, false), "another worker goes on");
        let waiting = next_on(&gate, 1, false);
        gate.wait_for_waiters(1);
        drop(a);
        assert_eq!(waiting.recv_timeout(Duration::from_secs(10)), Ok(true));

        let b = gate.hold(3);
        gate.closed(3);
        assert!(
            !gate.before_next(4, false),
            "a connection that served is not the orphan's"
        );
        let adopter = next_on(&gate, 5, true);
        // The adopter is held until the orphaned hold ends.
        gate.wait_for_waiters(1);
        drop(b);
        assert_eq!(adopter.recv_timeout(Duration::from_secs(10)), Ok(true));
    }
}
