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
    /// No idle execution environment took it (Managed Instances mode): turned away at once.
    Rejected,
}
