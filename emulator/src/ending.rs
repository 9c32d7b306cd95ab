//! [`Ending`]: how an invocation ended.

/// How an invocation ended.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Ending {
    /// The runtime (and every extension subscribed to INVOKE) asked for its next event; in
    /// Managed Instances mode, the answer arrived.
    #[default]
    Completed,
    /// The deadline passed first; the caller got Lambda's timeout error if it had no answer.
    TimedOut,
    /// The function process exited first (`Runtime.ExitError`).
    ProcessExited,
    /// Turned away at once, never handed to the runtime: no idle execution environment took
    /// it (Managed Instances mode, 429), the queue of `Event` invocations was full (429), or
    /// its `/next` head could not be sent (400: see [`crate::Invoke`]).
    Rejected,
}
