//! The embedded emulator: a real HTTP/1.1 Lambda Runtime API server on `127.0.0.1`, built on
//! `std::net` and `httparse`.
//!
//! It hands events to a runtime, records what the runtime posts with RAPID's status codes,
//! and lets a caller get the answer **at `/response` time** ([`PendingInvocation::answer`])
//! while also being able to wait for the invocation's end, the runtime's next `/next`
//! ([`PendingInvocation::finished`]).
//!
//! ```
//! use std::time::Duration;
//! use coda_emulator::{Emulator, Invoke};
//! use coda_lambda::{Config, Context, Diagnostic, Runtime};
//!
//! let emulator = Emulator::start().unwrap();
//! let runtime = Runtime::new(Config::for_runtime_api(&emulator.runtime_api()).unwrap());
//! let serving = std::thread::spawn(move || {
//!     runtime.run(|n: u64, _ctx: &mut Context| Ok::<_, Diagnostic>(n * 2))
//! });
//! let pending = emulator.invoke(Invoke::new("21"));
//! assert_eq!(pending.answer(Duration::from_secs(10)).unwrap().payload, b"42");
//! pending.finished(Duration::from_secs(10)).unwrap(); // the runtime is parked on /next
//! drop(emulator); // shuts down: the parked /next gets a 500 and the loop returns
//! let stopped = serving.join().unwrap();
//! assert!(stopped.to_string().contains("status 500"));
//! ```
//!
//! Modules: `wire` (sans-IO HTTP parsing), `route` (which endpoint), `state` (queue,
//! invocations, one condition variable), `server` (sockets), `runtime_api` (the Runtime API
//! endpoints), `extensions` (the Extensions API), `lifecycle` (delivery, end barrier,
//! timeouts, exits, REPORT lines), `timer` (the deadline watcher), `process` (the supervised
//! function process), `front` (the invoke front: routing, streamed responses), `invoke_api`
//! (the Lambda Invoke API on the front), `function_ref` (function names and ARNs),
//! `eventstream` (the AWS event-stream framing of streaming invokes, checksummed with
//! [`crate::crc32`]),
//! `function_url` (requests as Function URL events), `url_response` (answers as Function URL
//! responses), `invoke` (the caller's side), `ids` (fresh request and trace ids).

mod answer;
mod answer_stream;
mod b64;
mod conn;
#[doc(hidden)]
pub mod crc32;
mod ending;
mod error_type;
mod eventstream;
mod extension;
mod extensions_api;
mod front;
mod function_ref;
mod function_url;
mod ids;
mod init_error;
mod invoke;
mod invoke_api;
mod lifecycle;
mod next_reply;
mod pending;
mod process;
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

use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub use answer::Answer;
pub use ending::Ending;
pub use init_error::InitErrorRecord;
pub use invoke::Invoke;
pub use next_reply::NextReply;
pub use pending::{Finished, PendingInvocation, StreamRead};
pub use process::{FunctionCommand, ReadyError, Supervisor};
pub use settings::Reports;
pub use wait_error::WaitError;

use coda_lambda::protocol;
use invoke::DeadlineSpec;
use settings::Settings;
use slot::{Slot, SlotSpec};
use state::{Queued, Shared};

/// Builds an [`Emulator`] with settings other than the defaults.
#[derive(Clone, Debug)]
pub struct EmulatorBuilder {
    config: Settings,
    bind: SocketAddr,
    front: Option<SocketAddr>,
}

impl EmulatorBuilder {
    /// The function name (default `function`, as the AWS emulator uses).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.config.function_name = name.into();
        self
    }

    /// The function timeout that sets each invocation's deadline (default 3 s, as on Lambda).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.config.timeout = timeout;
        self
    }

    /// The memory size reported to the function (default 128 MB).
    pub fn memory_mb(mut self, memory_mb: u32) -> Self {
        self.config.memory_mb = memory_mb;
        self
    }

    /// Serves the Runtime API under a path prefix, as cargo-lambda does
    /// (`http://127.0.0.1:P/.rt/<name>`); [`Emulator::runtime_api`] then gives the URL form.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.config.path_prefix = prefix.into().trim_end_matches('/').to_owned();
        self
    }

    /// Whether to send a fresh `Lambda-Runtime-Trace-Id` with each event (default on, as
    /// Lambda does).
    pub fn trace_ids(mut self, on: bool) -> Self {
        self.config.trace_ids = on;
        self
    }

    /// Managed Instances mode (`AWS_LAMBDA_MAX_CONCURRENCY` = `n` > 1): up to `n` parked
    /// `/next` calls, each invocation handed to an idle one and turned away when none is idle;
    /// invocations end when answered; timeouts are reported, not enforced (§6.1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.config.concurrency = n.max(1);
        self
    }

    /// The function version reported (default `$LATEST`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.config.version = version.into();
        self
    }

    /// Where START / END / REPORT lines are printed (default: not printed).
    pub fn reports(mut self, reports: Reports) -> Self {
        self.config.reports = reports;
        self
    }

    /// Also serve the invoke front at `addr`: the Lambda Invoke API
    /// (`POST /2015-03-31/functions/{name}/invocations`, streaming invokes) and a Function URL
    /// for every other request. Use port 0 for any free port ([`Emulator::front_addr`]).
    pub fn front(mut self, addr: SocketAddr) -> Self {
        self.front = Some(addr);
        self
    }

    /// The address to bind (default `127.0.0.1:0`: loopback, any free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Binds and starts serving.
    pub fn start(self) -> io::Result<Emulator> {
        let listener = TcpListener::bind(self.bind)?;
        let addr = listener.local_addr()?;
        let front = match self.front {
            Some(front) => Some(TcpListener::bind(front).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot listen on {front} for invocations: {e}"),
                )
            })?),
            None => None,
        };
        let front_addr = front.as_ref().map(TcpListener::local_addr).transpose()?;
        let shared = Arc::new(Shared::new(self.config));
        let mut threads = vec![server::spawn_listener(
            listener,
            shared.clone(),
            runtime_port::handle,
        )?];
        threads.push(timer::spawn(shared.clone())?);
        if let Some(front) = front {
            threads.push(server::spawn_listener(
                front,
                shared.clone(),
                front::handle,
            )?);
        }
        Ok(Emulator {
            shared,
            addr,
            front_addr,
            threads,
        })
    }
}

/// A running Runtime API server. Dropping it shuts it down.
#[derive(Debug)]
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    front_addr: Option<SocketAddr>,
    threads: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` at a free port, with default settings.
    pub fn start() -> io::Result<Emulator> {
        Emulator::builder().start()
    }

    /// A builder for other settings.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            config: Settings::default(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            front: None,
        }
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound address of the invoke front, when one was asked for.
    pub fn front_addr(&self) -> Option<SocketAddr> {
        self.front_addr
    }

    /// The emulated function's name.
    pub fn function_name(&self) -> &str {
        &self.shared.config.function_name
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `host:port`, or `http://host:port/prefix` when
    /// a path prefix is set.
    pub fn runtime_api(&self) -> String {
        match self.shared.config.path_prefix.as_str() {
            "" => self.addr.to_string(),
            prefix => format!("http://{}{prefix}", self.addr),
        }
    }

    /// The Lambda environment a function process needs to talk to this emulator.
    pub fn function_env(&self) -> Vec<(String, String)> {
        let c = &self.shared.config;
        let log_stream = "2026/01/01/[$LATEST]00000000000000000000000000000000";
        [
            ("AWS_LAMBDA_RUNTIME_API", self.runtime_api()),
            ("AWS_LAMBDA_FUNCTION_NAME", c.function_name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", c.version.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", c.memory_mb.to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", c.function_name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream.to_owned()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".to_owned()),
            ("AWS_REGION", c.region.clone()),
            ("AWS_DEFAULT_REGION", c.region.clone()),
            ("_HANDLER", c.function_name.clone()),
        ]
        .into_iter()
        .chain(
            (c.concurrency > 1).then(|| ("AWS_LAMBDA_MAX_CONCURRENCY", c.concurrency.to_string())),
        )
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }

    /// A runtime [`coda_lambda::Config`] for this emulator, with its function settings.
    pub fn config(&self) -> coda_lambda::Config {
        let env = self.function_env();
        let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        // The emulator's own address always parses.
        coda_lambda::Config::from_lookup(lookup)
            .unwrap_or_else(|_| unreachable!("emulator address is valid"))
    }

    /// Queues an invocation; the runtime receives it on its next `/next`.
    pub fn invoke(&self, invoke: Invoke) -> PendingInvocation {
        queue(&self.shared, invoke)
    }

    /// Queues a scripted reply for a coming `/next` call (in order with invocations).
    pub fn script_next(&self, reply: NextReply) {
        self.shared
            .update(|state| state.queue.push_back(Queued::Scripted(reply)));
    }

    /// `/next` calls received so far.
    pub fn next_calls(&self) -> usize {
        self.shared.read(|s| s.next_calls)
    }

    /// `/response` and `/error` posts received so far, for any request id.
    pub fn answer_posts(&self) -> usize {
        self.shared.read(|s| s.answer_posts)
    }

    /// Waits until at least `n` `/next` calls have arrived.
    pub fn wait_next_calls(&self, n: usize, limit: Duration) -> Result<(), WaitError> {
        self.shared
            .wait(limit, |s| (s.next_calls >= n).then_some(()))
    }

    /// Waits until a `/next` call is parked waiting for an event (the runtime is idle).
    pub fn wait_parked(&self, limit: Duration) -> Result<(), WaitError> {
        self.shared.wait(limit, |s| {
            (s.parked_next > 0 && s.queue.is_empty()).then_some(())
        })
    }

    /// Waits for a post to `/init/error`.
    pub fn init_error(&self, limit: Duration) -> Result<InitErrorRecord, WaitError> {
        self.shared.wait(limit, |s| s.init_error.clone())
    }

    /// Stops serving: parked `/next` calls get a 500, connections close.
    pub fn shutdown(&mut self) {
        if self.shared.read(|s| s.shutdown) {
            return;
        }
        // Extensions subscribed to SHUTDOWN hear about it first (§7.4).
        self.shared.update(|state| {
            for extension in state.extensions.iter_mut().filter(|e| e.shutdown) {
                extension
                    .events
                    .push_back(extension::shutdown_event("spindown"));
            }
        });
        self.shared.shut_down();
        // Wake the accept loops so they see the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(front) = self.front_addr {
            let _ = TcpStream::connect(front);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Queues an invocation on `shared` exactly as [`Emulator::invoke`] does (shared with the
/// invoke front): in Managed Instances mode it is turned away at once (429) when no `/next`
/// is idle.
pub(crate) fn queue(shared: &Arc<Shared>, invoke: Invoke) -> PendingInvocation {
    let slot = Arc::new(slot(&shared.config, invoke));
    let concurrent = shared.config.concurrency > 1;
    shared.update(|state| {
        let queued = state
            .queue
            .iter()
            .filter(|q| matches!(q, Queued::Invocation(_)))
            .count();
        if concurrent && state.parked_next <= queued {
            let message = format!(
                "no idle execution environment: all {} are busy",
                shared.config.concurrency
            );
            let mut answer =
                lifecycle::synthetic_answer(&slot, "TooManyRequestsException", &message);
            answer.status = 429;
            state.slot(&slot).answer = Some(answer);
            lifecycle::finish(shared, state, &slot, Ending::Rejected);
        } else {
            state.queue.push_back(Queued::Invocation(slot.clone()));
        }
    });
    PendingInvocation {
        shared: shared.clone(),
        slot,
    }
}

/// The slot of `invoke`: its `/next` headers with Lambda's defaults, and its deadline.
fn slot(c: &Settings, invoke: Invoke) -> Slot {
    let queued_at = Instant::now();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let deadline = match invoke.deadline {
        Some(DeadlineSpec::AtMs(ms)) => ms,
        Some(DeadlineSpec::In(d)) => now_ms + d.as_millis() as u64,
        None => now_ms + c.timeout.as_millis() as u64,
    };
    let request_id = invoke.request_id.clone().unwrap_or_else(ids::request_id);
    let mut headers: Vec<(String, String)> = vec![
        (protocol::REQUEST_ID.into(), request_id.clone()),
        (protocol::DEADLINE_MS.into(), deadline.to_string()),
        (
            protocol::FUNCTION_ARN.into(),
            format!(
                "arn:aws:lambda:{}:{}:function:{}",
                c.region, c.account_id, c.function_name
            ),
        ),
        ("content-type".into(), "application/json".into()),
    ];
    if c.trace_ids {
        headers.push((protocol::TRACE_ID.into(), ids::trace_id()));
    }
    for (name, value) in &invoke.headers {
        headers.retain(|(n, _)| n != name);
        if let Some(value) = value {
            headers.push((name.clone(), value.clone()));
        }
    }
    let invocation_id = headers
        .iter()
        .find(|(n, _)| n == protocol::INVOCATION_ID)
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty());
    let request_id = headers
        .iter()
        .find(|(n, _)| n == protocol::REQUEST_ID)
        .map(|(_, v)| v.clone())
        .unwrap_or(request_id);
    // The emulator enforces the deadline of the invocation (what `deadline_in` or
    // `deadline_ms` asked for, else the function timeout); a raw header override only
    // changes what the runtime is told.
    let left = Duration::from_millis(deadline.saturating_sub(now_ms));
    Slot::new(SlotSpec {
        request_id,
        invocation_id,
        payload: invoke.payload,
        headers,
        answer_status: invoke.answer_status,
        drop_answer: invoke.drop_answer,
        queued_at,
        deadline: queued_at + left,
    })
}
