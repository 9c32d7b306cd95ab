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

    /// The address to bind (default `127.0.0.1:0`: loopback, any free port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
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
