//! [`AnswerStream`]: a runtime's answer read piece by piece as it arrives, as the invoke front
//! relays it, and [`wait_limit`], how long the front waits for it.

use std::time::{Duration, Instant};

use crate::answer::Answer;
use crate::pending::{PendingInvocation, StreamRead};
use crate::wait_error::WaitError;

/// How long past an invocation's deadline the front still waits for its answer. The
/// emulator answers for the runtime at the deadline (Lambda's timeout error), so this only
/// guards against a hung connection.
const WAIT_GRACE: Duration = Duration::from_secs(30);

/// How long to wait for anything from `pending`: until its deadline plus a grace.
pub(crate) fn wait_limit(pending: &PendingInvocation) -> Duration {
    pending
        .slot
        .deadline
        .saturating_duration_since(Instant::now())
        .saturating_add(WAIT_GRACE)
}

/// One step of reading an answer as it arrives.
#[derive(Debug)]
pub(crate) enum Piece {
    /// New body bytes.
    Bytes(Vec<u8>),
    /// The answer is complete; every byte of its body has been handed out before.
    End(Box<Answer>),
    /// The wait failed (the emulator shut down, or the runtime never answered).
    Failed(WaitError),
}

/// A runtime's answer, read piece by piece with [`PendingInvocation::read_stream`].
///
/// The body handed out is what the runtime streamed. When the emulator answered for the
/// runtime instead (a timeout, a process exit, a refused oversize stream), that answer's
/// error body is not handed out as body bytes: the [`Piece::End`] answer carries the error.
#[derive(Debug)]
pub(crate) struct AnswerStream {
    /// The invocation whose answer is read.
    pending: PendingInvocation,
    /// The content type the runtime declared.
    content_type: Option<String>,
    /// Body bytes handed out so far.
    offset: usize,
    /// The read made before the stream was built, handed out first.
    first: Option<StreamRead>,
    /// The complete answer, once its last bytes were handed out.
    end: Option<Answer>,
}

impl AnswerStream {
    /// Reads the answer of `pending`, starting with `first`, a read at offset 0.
    pub(crate) fn new(pending: PendingInvocation, first: StreamRead) -> AnswerStream {
        AnswerStream {
            pending,
            content_type: first.content_type.clone(),
            offset: 0,
            first: Some(first),
            end: None,
        }
    }

    /// The content type the runtime declared for its answer.
    pub(crate) fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The next piece, waiting for it if need be.
    pub(crate) fn next_piece(&mut self) -> Piece {
        if let Some(answer) = self.end.take() {
            return Piece::End(Box::new(answer));
        }
        let read = match self.first.take() {
            Some(read) => read,
            None => match self
                .pending
                .read_stream(self.offset, wait_limit(&self.pending))
            {
                Ok(read) => read,
                Err(e) => return Piece::Failed(e),
            },
        };
        match read.done {
            None => {
                self.offset += read.bytes.len();
                Piece::Bytes(read.bytes)
            }
            Some(answer) => {
                let rest = body_after(&answer, self.offset).to_vec();
                if rest.is_empty() {
                    return Piece::End(Box::new(answer));
                }
                self.offset += rest.len();
                self.end = Some(answer);
                Piece::Bytes(rest)
            }
        }
    }
}

/// The body bytes of a complete `answer` past `offset`: none when the emulator replaced the
/// runtime's body with an error of its own (a synthetic answer, or a stream refused as too
/// large: status 413 to the runtime).
fn body_after(answer: &Answer, offset: usize) -> &[u8] {
    let replaced = answer.status == 413 || (!answer.streamed && answer.function_error.is_some());
    if replaced {
        return &[];
    }
    answer.payload.get(offset..).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(payload: &[u8], streamed: bool, error: Option<&str>, status: u16) -> Answer {
        Answer {
            payload: payload.to_vec(),
            content_type: None,
            function_error: error.map(str::to_owned),
            error_type_header: None,
            error_cause: None,
            streamed,
            status,
            headers: Vec::new(),
            trailers: Vec::new(),
            latency: Duration::ZERO,
        }
    }

    /// A streamed body continues where the reader was; an answer the emulator made up (or a
    /// refused stream) hands out no body bytes.
    #[test]
    fn body_after_offsets() {
        assert_eq!(body_after(&answer(b"abcdef", true, None, 202), 4), b"ef");
        assert_eq!(
            body_after(&answer(b"abc", true, Some("Function.X"), 202), 1),
            b"bc"
        );
        assert_eq!(body_after(&answer(b"{}", false, None, 202), 0), b"{}");
        assert_eq!(body_after(&answer(b"abc", true, None, 202), 9), b"");
        let timeout = answer(
            b"{\"errorType\":\"Sandbox.Timedout\"}",
            false,
            Some("T"),
            200,
        );
        assert_eq!(body_after(&timeout, 3), b"");
        assert_eq!(body_after(&answer(b"x", true, Some("F"), 413), 0), b"");
    }
}
