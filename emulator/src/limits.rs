//! The caps and timeouts of the emulator's two HTTP ports, in one place: the sizes a request
//! may have (constants: the same on every port and in every test), and each port's
//! [`ConnPolicy`] (how many connections, how long a connection may stay idle or slow; builder
//! settings, so tests can use short ones). `SECURITY.md` lists every value with the status it
//! answers; keep the two in step.

use std::time::Duration;

/// Longest request line (method, target, version, and its CR), in bytes: beyond it, 414.
/// API Gateway's edge-optimized APIs cap the URL at 8,192 characters and answer
/// `414 Request URI too long` (<https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html>).
pub(crate) const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Longest request head (request line, header fields and the blank line), in bytes: beyond
/// it, 431.
pub(crate) const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Most header fields in a request head: beyond it, 431.
pub(crate) const MAX_HEADERS: usize = 64;
/// Longest trailer section of a chunked body (its fields and the blank line), in bytes:
/// beyond it, 431.
pub(crate) const MAX_TRAILER_BYTES: usize = 16 * 1024;
/// Most fields in the trailer section of a chunked body: beyond it, 431.
pub(crate) const MAX_TRAILERS: usize = 64;
/// Most hex digits in a chunk size (16: any `u64`, leading zeros included): beyond, 400.
pub(crate) const MAX_CHUNK_SIZE_DIGITS: usize = 16;
/// Longest chunk extension (everything after the size, before its CRLF), in bytes: beyond
/// it, 400.
pub(crate) const MAX_CHUNK_EXTENSION: usize = 4 * 1024;
/// How long the accept loop waits to hand a refused connection its 503 before closing it.
pub(crate) const REFUSAL_WRITE_TIMEOUT: Duration = Duration::from_millis(100);
/// The first pause of the accept loop after a failed accept (doubling on each failure).
pub(crate) const ACCEPT_BACKOFF_FIRST: Duration = Duration::from_millis(10);
/// The longest pause of the accept loop after failed accepts.
pub(crate) const ACCEPT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// How one port treats its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ConnPolicy {
    /// Connections served at once; one more is answered 503 and closed.
    pub(crate) max_connections: usize,
    /// How long a kept connection may wait for its next request before it is closed
    /// silently (`None`: as long as it likes).
    pub(crate) idle: Option<Duration>,
    /// How long a request head may take from its first byte to its blank line: beyond it,
    /// 408 and close.
    pub(crate) head: Duration,
    /// How long a request body may pause between two reads: beyond it, 408 and close
    /// (`None`: as long as it likes).
    pub(crate) body: Option<Duration>,
}

/// The policies of the emulator's two ports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Listeners {
    /// The Runtime API port. No idle or body timeout: a runtime's kept connection is idle
    /// for a whole handler run (up to 15 minutes) or while its process is frozen, and a
    /// streamed `/response` may pause for as long (`docs/runtime-api.md` §4). 128
    /// connections: a runtime uses one or two per worker, extensions one each.
    pub(crate) runtime: ConnPolicy,
    /// The invoke front. 256 connections (256 callers at once, the heaviest load the
    /// benchmarks drive); with the Runtime API's 128, and two descriptors per connection,
    /// the emulator stays under the common soft limit of 1,024 open files.
    pub(crate) front: ConnPolicy,
}

impl Default for Listeners {
    fn default() -> Self {
        Listeners {
            runtime: ConnPolicy {
                max_connections: 128,
                idle: None,
                head: Duration::from_secs(10),
                body: None,
            },
            front: ConnPolicy {
                max_connections: 256,
                idle: Some(Duration::from_secs(60)),
                head: Duration::from_secs(10),
                body: Some(Duration::from_secs(30)),
            },
        }
    }
}
