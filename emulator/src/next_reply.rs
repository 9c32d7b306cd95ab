//! [`NextReply`]: a scripted answer to one `/next` call, for testing how a runtime copes.

/// A scripted answer to one `/next` call, for testing how a runtime copes
/// ([`Emulator::script_next`](crate::Emulator::script_next)).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NextReply {
    /// Answer with this status and body (§2.4, §9 #4).
    Status {
        /// The status code.
        status: u16,
        /// The body.
        body: Vec<u8>,
    },
    /// Answer 200 with this body but no request id (§9 #5).
    WithoutRequestId(Vec<u8>),
    /// Close the connection without answering (§9 #3).
    Close,
}
