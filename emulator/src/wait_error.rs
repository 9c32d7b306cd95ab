//! [`WaitError`]: why a wait on the emulator ended without what it waited for.

use std::fmt;

/// Why waiting on the emulator (a [`PendingInvocation`](crate::PendingInvocation), a
/// [`Supervisor`](crate::Supervisor), an [`Emulator`](crate::Emulator) wait) ended without
/// what was asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitError {
    /// The wait's time limit passed.
    TimedOut,
    /// The emulator was shut down.
    Shutdown,
}

impl fmt::Display for WaitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitError::TimedOut => f.write_str("timed out waiting for the runtime"),
            WaitError::Shutdown => f.write_str("the emulator was shut down"),
        }
    }
}

impl std::error::Error for WaitError {}
