//! Coda's integration tests: the real loop against the real emulator (in-process, or a
//! function binary in a child process), one test binary so there is one link step.
//!
//! Each module's doc says what belongs there; each test's doc says what it proves and cites
//! the section of `docs/runtime-api.md` (the project's protocol document) it checks.

/// Lambda Managed Instances: N workers in one process.
mod concurrency;
/// Deferred and spawned work: order, isolation, budget, overrun, joins, after-error.
mod deferred;
/// What handler failures become on `/error`: types, headers, bodies.
mod errors;
/// The Extensions API: INVOKE and SHUTDOWN events, the end-of-invocation barrier.
mod extensions;
/// Fault injection: each fault of `coda_emulator::Faults`, the runtime's behaviour, deferred
/// work accounted for (§11).
mod faults;
/// The emulator's invoke front: the Invoke API, streaming invokes and the Function URL.
mod front;
/// Missing, empty and invalid `/next` headers (§9 #5–#9).
mod headers;
/// The basic path: typed and raw handlers, context fields, ids, cold start.
mod invocation;
/// The emulator's lifecycle: answer timing, timeouts, crashes, restarts, concurrency, REPORT.
mod lifecycle;
/// Malformed requests and protocol violations on the Runtime API port.
mod malformed;
/// Behaviour that needs a separate process: init errors, exit codes, logs, environment.
mod process;
/// AWS's own Python runtime interface client (awslambdaric) against the emulator.
mod python;
/// Deferred work that does not go well: retries, hand-offs, carry-over, the detached bound.
mod resilience;
/// The supervised function process as a Lambda sandbox: environment, handler, process-tree
/// memory, init retries, log order, JSON platform records, the freeze (issue 15).
mod sandbox;
/// Graceful shutdown and internal extensions.
mod shutdown;
/// The Runtime API status policy: every row of §3.3 / §2.4 and the transport failures.
mod status_policy;
/// Streamed responses (§5).
mod streaming;
/// Helpers: serve a handler on a thread, spawn the fixture binary, wait with limits.
mod support;
