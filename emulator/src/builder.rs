//! [`EmulatorBuilder`]: the emulated function's settings and the addresses to serve on, then
//! [`EmulatorBuilder::start`]. [`Emulator::start`] is the builder with its defaults.

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use crate::emulator::Emulator;
use crate::settings::{Reports, Settings};

/// Builds an [`Emulator`] with settings other than the defaults.
///
/// ```
/// use std::net::SocketAddr;
/// use std::time::Duration;
///
/// let emulator = coda_emulator::Emulator::builder()
///     .function_name("orders")
///     .timeout(Duration::from_secs(10))
///     .front(SocketAddr::from(([127, 0, 0, 1], 0)))
///     .start()?;
/// assert_eq!(emulator.function_name(), "orders");
/// assert!(emulator.front_addr().is_some());
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct EmulatorBuilder {
    /// The function's settings.
    settings: Settings,
    /// The Runtime API address.
    bind: SocketAddr,
    /// The invoke front's address, when it is to be served.
    front: Option<SocketAddr>,
}

impl Emulator {
    /// Starts an emulator on `127.0.0.1` at a free port, with default settings.
    pub fn start() -> io::Result<Emulator> {
        Emulator::builder().start()
    }

    /// A builder for other settings.
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder {
            settings: Settings::default(),
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            front: None,
        }
    }
}

impl EmulatorBuilder {
    /// The function name (default `function`, as the AWS emulator uses).
    pub fn function_name(mut self, name: impl Into<String>) -> Self {
        self.settings.function_name = name.into();
        self
    }

    /// The function timeout that sets each invocation's deadline (default 3 s, as on Lambda).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.settings.timeout = timeout;
        self
    }

    /// The memory size reported to the function (default 128 MB).
    pub fn memory_mb(mut self, memory_mb: u32) -> Self {
        self.settings.memory_mb = memory_mb;
        self
    }

    /// Serves the Runtime API under a path prefix, as cargo-lambda does
    /// (`http://127.0.0.1:P/.rt/<name>`); [`Emulator::runtime_api`] then gives the URL form.
    pub fn path_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.settings.path_prefix = prefix.into().trim_end_matches('/').to_owned();
        self
    }

    /// Whether to send a fresh `Lambda-Runtime-Trace-Id` with each event (default on, as
    /// Lambda does).
    pub fn trace_ids(mut self, on: bool) -> Self {
        self.settings.trace_ids = on;
        self
    }

    /// Managed Instances mode (`AWS_LAMBDA_MAX_CONCURRENCY` = `n` > 1): up to `n` parked
    /// `/next` calls, each invocation handed to an idle one and turned away when none is idle;
    /// invocations end when answered; timeouts are reported, not enforced (§6.1).
    pub fn concurrency(mut self, n: usize) -> Self {
        self.settings.concurrency = n.max(1);
        self
    }

    /// The version the function runs as (default `$LATEST`): `AWS_LAMBDA_FUNCTION_VERSION`,
    /// the version of unqualified invocations, and (when it is a number) a qualifier the
    /// Invoke API accepts.
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.settings.version = version.into();
        self
    }

    /// Declares alias `name` for `version` (`$LATEST` or a version number). The Invoke API
    /// then accepts it as a qualifier (`my-fn:prod`, `?Qualifier=prod`), runs the function
    /// as that version, and hands the runtime the qualified ARN
    /// (`arn:aws:lambda:…:function:my-fn:prod`), as Lambda does; a qualifier that is neither
    /// `$LATEST`, a declared version nor an alias is a 404, as on Lambda.
    pub fn alias(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.settings.aliases.push((name.into(), version.into()));
        self
    }

    /// `_HANDLER` for the function process (Lambda's Handler setting, which runtimes such
    /// as AWS's Node.js and Python clients read). Without it, a `_HANDLER` set in the
    /// environment the process is started from passes through.
    pub fn handler(mut self, handler: impl Into<String>) -> Self {
        self.settings.handler = Some(handler.into());
        self
    }

    /// The function's log format (default text): with JSON, `AWS_LAMBDA_LOG_FORMAT=JSON` is
    /// set for the function and the platform lines are Lambda's JSON `platform.*` records.
    pub fn log_format(mut self, format: coda_lambda::logging::LogFormat) -> Self {
        self.settings.log_format = format;
        self
    }

    /// Whether a supervised function process is frozen while it waits in `/next` (default
    /// off; `coda run` turns it on): its process group is stopped once an invocation has
    /// ended and nothing is queued, and resumed when the next event is handed out, as Lambda
    /// freezes the execution environment. Work that leaked past `/next` stalls, and a
    /// warning names the invocation whose work was still running
    /// ([`crate::Supervisor::wait_frozen`]). Not in Managed Instances mode.
    pub fn freeze(mut self, on: bool) -> Self {
        self.settings.freeze = on;
        self
    }

    /// Where START / END / REPORT lines are printed (default: not printed).
    pub fn reports(mut self, reports: Reports) -> Self {
        self.settings.reports = reports;
        self
    }

    /// Also serve the invoke front at `addr`: the Lambda Invoke API
    /// (`POST /2015-03-31/functions/{name}/invocations`, streaming invokes) and a Function URL
    /// for every other request. Use port 0 for any free port ([`Emulator::front_addr`]).
    pub fn front(mut self, addr: SocketAddr) -> Self {
        self.front = Some(addr);
        self
    }

    /// The address to bind (default `127.0.0.1:0`: loopback, any free port). An address
    /// other than loopback (for the Runtime API or the front) makes the emulator warn, in the
    /// log and where its reports go: it has no authentication and no TLS (`SECURITY.md`).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// The most connections the invoke front serves at once (default 256); one more is
    /// answered `503 ServiceUnavailable` and closed. See `SECURITY.md`.
    pub fn max_front_connections(mut self, n: usize) -> Self {
        self.settings.listeners.front.max_connections = n;
        self
    }

    /// The most connections the Runtime API port serves at once (default 128: a runtime
    /// uses one or two per worker, an extension one); one more is answered `503` and closed.
    pub fn max_runtime_connections(mut self, n: usize) -> Self {
        self.settings.listeners.runtime.max_connections = n;
        self
    }

    /// How long a request head may take on either port, from its first byte to its end
    /// (default 10 s); a slower one is answered `408 RequestTimeout` and its connection
    /// closed. A zero duration is taken as 1 ms.
    pub fn head_timeout(mut self, limit: Duration) -> Self {
        let limit = limit.max(Duration::from_millis(1));
        self.settings.listeners.front.head = limit;
        self.settings.listeners.runtime.head = limit;
        self
    }

    /// How long a kept connection to the invoke front may wait for its next request before
    /// it is closed without an answer (default 60 s). The Runtime API port has no idle
    /// timeout: a runtime's connection is idle for as long as its handler runs, or while
    /// its process is frozen.
    pub fn idle_timeout(mut self, limit: Duration) -> Self {
        self.settings.listeners.front.idle = Some(limit.max(Duration::from_millis(1)));
        self
    }

    /// How long a request body sent to the invoke front may pause between two reads
    /// (default 30 s); a longer pause is answered `408 RequestTimeout` and the connection
    /// closed. The same bound applies to one write of an answer: a caller that stops reading
    /// for longer is let go (its connection closed, its place under the connection cap
    /// freed). The Runtime API port has none: a streamed `/response` may pause for minutes.
    pub fn body_timeout(mut self, limit: Duration) -> Self {
        self.settings.listeners.front.body = Some(limit.max(Duration::from_millis(1)));
        self
    }

    /// The most `Event` invocations (Invoke API, `X-Amz-Invocation-Type: Event`) accepted
    /// and not ended (default 1,000); one more is throttled with Lambda's answer, 429
    /// `TooManyRequestsException`, instead of being kept in memory.
    pub fn max_queued_events(mut self, n: usize) -> Self {
        self.settings.max_queued_events = n;
        self
    }

    /// The most payload bytes of `Event` invocations accepted and not ended (default 256 MiB);
    /// an event that would go over it is throttled (429 `TooManyRequestsException`).
    pub fn max_queued_event_bytes(mut self, bytes: usize) -> Self {
        self.settings.max_queued_event_bytes = bytes;
        self
    }

    /// Faults to inject into the Runtime API's answers ([`crate::Faults`]: statuses, cut and
    /// reset connections, silent closes, a slow reader, odd headers, duplicate ids, a past
    /// deadline), to see how a runtime copes. Each injection is recorded
    /// ([`Emulator::faults_injected`]) and printed as `coda: fault injected: …` when reports
    /// are printed.
    pub fn faults(mut self, faults: crate::Faults) -> Self {
        self.settings.faults = std::sync::Arc::new(crate::fault_record::FaultRecord::new(faults));
        self
    }

    /// Binds and starts serving.
    ///
    /// # Errors
    /// The error of binding the Runtime API address; for the invoke front, an error that
    /// names the front's address, with the same [`io::ErrorKind`] and the operating system's
    /// error as its `source()`.
    pub fn start(self) -> io::Result<Emulator> {
        Emulator::serve(self.settings, self.bind, self.front)
    }
}
