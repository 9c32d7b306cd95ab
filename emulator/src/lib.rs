//! A local AWS Lambda Runtime API and invoke front, for running and testing functions on your
//! own machine.
//!
//! [`Emulator`] serves the Runtime API on `127.0.0.1` to any runtime (Coda's, AWS's runtime
//! interface clients, your own), hands it events, and records what it posts with the status
//! codes Lambda answers. A caller gets the answer **at `/response` time**
//! ([`PendingInvocation::answer`]) and can also wait for the invocation's end, the runtime's
//! next `/next` ([`PendingInvocation::finished`]), with Lambda's START / END / REPORT lines.
//! On request it also serves the Lambda Invoke API and a Function URL on a second port
//! ([`EmulatorBuilder::front`]), and runs the function as a supervised process, restarted as
//! Lambda would ([`Emulator::supervise`]).
//!
//! It is a development tool, not a production endpoint: it binds loopback by default, trusts
//! its callers, and keeps every invocation's logs in memory. It is built on `std::net` and
//! `httparse`, one thread per connection, with no async runtime.
//!
//! ```
//! use std::time::Duration;
//! use coda_emulator::{Emulator, Invoke};
//! use coda_lambda::{Config, Context, Diagnostic, Runtime};
//!
//! let emulator = Emulator::start()?;
//! let runtime = Runtime::new(Config::for_runtime_api(&emulator.runtime_api())?);
//! let serving = std::thread::spawn(move || {
//!     runtime.run(|n: u64, _ctx: &mut Context| Ok::<_, Diagnostic>(n * 2))
//! });
//! let pending = emulator.invoke(Invoke::new("21"));
//! assert_eq!(pending.answer(Duration::from_secs(10))?.payload, b"42");
//! pending.finished(Duration::from_secs(10))?; // the runtime is parked on /next
//! drop(emulator); // shuts down: the parked /next gets a 500 and the loop returns
//! let stopped = serving.join().expect("the loop does not panic");
//! let cause = std::error::Error::source(&stopped).expect("the Runtime API's answer");
//! assert!(cause.to_string().contains("status 500"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Testing a handler
//!
//! With `coda-emulator` as a dev-dependency, [`testing`] runs a handler through Coda's real
//! loop against an in-process emulator in one call:
//! `coda_emulator::testing::invoke(handler, serde_json::json!({...}))` returns an outcome
//! whose `json()` is the answer, with the deferred-work summary and the invocation's log
//! lines beside it.
//!
//! # Layout
//!
//! From the top down; each module uses only modules listed after it.
//!
//! - `testing`: a handler through the real loop against an in-process emulator, in one call.
//! - `builder`: [`EmulatorBuilder`], the function's settings and the addresses to serve on.
//! - `emulator`: [`Emulator`], the ports and threads, invocations in, what happened out.
//! - `process`: [`Supervisor`], the function process, its output kept, restarted as Lambda would.
//! - `function_command`: [`FunctionCommand`], the program, arguments and environment to run.
//! - `environment`: Lambda's variables for a function process, and which host ones pass.
//! - `ready_error`: [`ReadyError`], why a supervised function did not become ready.
//! - `runtime_port`: the Runtime API port's dispatch to the endpoints below.
//! - `runtime_api`: `/next`, `/response`, `/error` and `/init/error`, with RAPID's statuses.
//! - `extensions_api`: the Extensions API for in-process extensions.
//! - `fault_injection`: where the faults of [`Faults`] fire: `/next` answers, answers to posts.
//! - `output`: the function's output pipes, read as written and drained at `/next`.
//! - `front`: the invoke front's dispatch: Invoke API or Function URL.
//! - `invoke_api`: the Lambda Invoke API (`Invoke`, `InvokeWithResponseStream`).
//! - `function_url`: HTTP requests as Function URL events.
//! - `url_response`: answers as Function URL responses.
//! - `answer_stream`: an answer read piece by piece as it arrives; how long the front waits.
//! - `streamed_response`: a response body sent as it is produced.
//! - `eventstream`: the AWS event-stream framing of streaming invokes.
//! - `server`: the accept loop, one thread per connection.
//! - `conn`: one connection: request heads and bodies in, responses out.
//! - `timer`: the deadline watcher.
//! - `queue`: what an [`Invoke`] becomes when queued (headers, deadline, the 400 and 429
//!   turn-aways).
//! - `lifecycle`: delivery, the end barrier, timeouts, exits, START / END / REPORT lines.
//! - `pending`: [`PendingInvocation`], [`Finished`], [`StreamRead`]: the caller's waits.
//! - `platform_log`: START / END / REPORT / INIT_REPORT, or their JSON `platform.*` records.
//! - `state`: the shared state, its one lock, and who is woken by which change.
//! - `freeze`: the freeze of a process waiting in `/next`, and the work still running then.
//! - `memory`: "Max Memory Used" of the function's process tree, from `/proc`.
//! - `extension`: a registered extension and its INVOKE / SHUTDOWN events.
//! - `slot`: one invocation's fixed facts and its progress.
//! - `invoke`: [`Invoke`], one event with every `/next` header settable.
//! - `answer`: [`Answer`], what the runtime posted.
//! - `ending`: [`Ending`], how an invocation ended.
//! - `wait_error`: [`WaitError`], why a wait ended empty-handed.
//! - `next_reply`: [`NextReply`], a scripted answer to one `/next`.
//! - `init_error`: [`InitErrorRecord`], what was posted to `/init/error`.
//! - `settings`: the function's settings and [`Reports`].
//! - `caller_limits`: what a caller may send into a `/next` head (Lambda's limits, the
//!   runtime's head buffer).
//! - `fault_record`: the faults' counts per key and what was injected ([`Injected`]).
//! - `faults`: [`Faults`], [`Fault`], [`When`]: the faults to inject and their spec.
//! - `route`: which Runtime API endpoint a method and path are for.
//! - `wire`: sans-IO HTTP/1.1: heads, body framing, response bytes.
//! - `fuzzing` (feature `fuzzing`, hidden): the checks of the `fuzz/` targets over `wire`.
//! - `field_block`: the end of a request head or trailer section, found incrementally under caps.
//! - `chunk_size`: a chunk size line (RFC 9112 §7.1), a byte at a time.
//! - `limits`: the caps and timeouts of both ports (what `SECURITY.md` lists).
//! - `error_type`: the error type Lambda records for an error-type header.
//! - `function_ref`: function names, partial and full ARNs, qualifiers.
//! - `ids`: fresh request and trace ids.
//! - `log_capture`: log lines kept for `testing` (the target of its logger).
//! - `b64`: base64 as the emulator reads and writes it.
//! - `calendar`: civil dates and RFC 3339 timestamps for log stream names and JSON records.
//! - `crc32`: the CRC-32 of event-stream frames (shared with `coda-bootstrap`'s zip writer).
//! - `os`: signals to the function's process group, the parent-death signal, pipe polling
//!   (the calls `std` has no safe form of; shared with `coda-bootstrap`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub use answer::Answer;
pub use builder::EmulatorBuilder;
/// The function's log format ([`EmulatorBuilder::log_format`]): the runtime's own type.
pub use coda_lambda::logging::LogFormat;
pub use emulator::Emulator;
pub use ending::Ending;
pub use fault_record::Injected;
pub use faults::{Fault, FaultSpecError, Faults, When};
pub use freeze::Freeze;
pub use function_command::FunctionCommand;
pub use init_error::InitErrorRecord;
pub use invoke::Invoke;
pub use next_reply::NextReply;
pub use pending::{Finished, PendingInvocation, StreamRead};
pub use process::{Retirement, Supervisor};
pub use ready_error::ReadyError;
pub use settings::Reports;
pub use wait_error::WaitError;

mod answer;
mod answer_stream;
mod b64;
mod builder;
mod calendar;
mod caller_limits;
mod chunk_size;
mod conn;
#[doc(hidden)]
pub mod crc32;
mod emulator;
mod ending;
mod environment;
mod error_type;
mod eventstream;
mod extension;
mod extensions_api;
mod fault_injection;
mod fault_record;
mod faults;
mod field_block;
mod freeze;
mod front;
mod function_command;
mod function_ref;
mod function_url;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod ids;
mod init_error;
mod invoke;
mod invoke_api;
mod lifecycle;
mod limits;
mod log_capture;
mod memory;
mod next_reply;
#[doc(hidden)]
pub mod os;
mod output;
mod pending;
mod platform_log;
mod process;
mod queue;
mod ready_error;
mod route;
mod runtime_api;
mod runtime_port;
mod server;
mod settings;
mod slot;
mod state;
mod streamed_response;
pub mod testing;
mod timer;
mod url_response;
mod wait_error;
mod wire;
