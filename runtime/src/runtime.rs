//! [`Runtime`] and [`start`]: configuration, init, and the entry point of a function binary.

use std::io::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::client::{Client, Delivery};
#[cfg(feature = "shutdown")]
use crate::extension::Shutdown;
use crate::extension::{Callback, ExtensionEvent};
use crate::logging::{self, LogFormat};
use crate::run::{InvocationReport, Seat, Settings, serve};
use crate::sandbox::Sandbox;
use crate::{Config, ConfigError, Diagnostic, Error, HandOff, Handler};

/// A configured runtime: where the Runtime API is and how deferred work is bounded.
///
/// [`start`] covers the common case; `Runtime` is for tests, local tools and settings. Like
/// `start`, it installs the Lambda logger ([`crate::logging`]) when it starts serving, unless
/// the program installed a logger first.
///
/// ```no_run
/// use std::time::Duration;
/// use coda_lambda::{Context, Diagnostic, Runtime};
///
/// let error = Runtime::from_env()
///     .expect("not running under a Runtime API")
///     .deferred_margin(Duration::from_millis(250))
///     .run(|event: serde_json::Value, _ctx: &mut Context| Ok::<_, Diagnostic>(event));
/// eprintln!("stopped: {error}");
/// ```
pub struct Runtime {
    settings: Settings,
    lifecycle: Lifecycle,
}

/// What the runtime sets up before its first `/next`: internal extensions and shutdown hooks.
#[derive(Default)]
struct Lifecycle {
    extensions: Vec<(String, Callback)>,
    #[cfg(feature = "shutdown")]
    hooks: Vec<crate::shutdown::Hook>,
    #[cfg(feature = "shutdown")]
    budget: Option<Duration>,
}

impl Runtime {
    /// The safety margin between the end of deferred work and the invocation deadline when
    /// none is set: 100 ms.
    pub const DEFAULT_DEFERRED_MARGIN: Duration = Duration::from_millis(100);

    /// How many detached closures may still be running before the runtime starts no new
    /// deferred or spawned work, when none is set: 16.
    pub const DEFAULT_MAX_DETACHED: usize = 16;

    /// A runtime configured from the process environment (`AWS_LAMBDA_RUNTIME_API` and the
    /// other Lambda variables; `CODA_DEFERRED_MARGIN_MS` sets the deferred-work margin).
    pub fn from_env() -> Result<Runtime, ConfigError> {
        let mut runtime = Runtime::new(Config::from_env()?);
        if let Some(ms) = std::env::var("CODA_DEFERRED_MARGIN_MS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
        {
            runtime = runtime.deferred_margin(Duration::from_millis(ms));
        }
        Ok(runtime)
    }

    /// A runtime for the given configuration.
    pub fn new(config: Config) -> Runtime {
        Runtime {
            settings: Settings {
                config,
                margin: Runtime::DEFAULT_DEFERRED_MARGIN,
                publish_trace_id: true,
                observers: Vec::new(),
                sink: None,
                max_detached: Runtime::DEFAULT_MAX_DETACHED,
            },
            lifecycle: Lifecycle::default(),
        }
    }

    /// The safety margin: deferred work is bounded by the deadline minus this margin
    /// (default [`Runtime::DEFAULT_DEFERRED_MARGIN`]), leaving time to call `/next` before Lambda's
    /// timeout.
    pub fn deferred_margin(mut self, margin: Duration) -> Runtime {
        self.settings.margin = margin;
        self
    }

    /// Whether to publish each invocation's trace id as `_X_AMZN_TRACE_ID` for AWS SDKs
    /// (default on; never done when `AWS_LAMBDA_MAX_CONCURRENCY` > 1). Memory stays flat
    /// either way: see the README's note on `_X_AMZN_TRACE_ID`.
    pub fn publish_trace_id(mut self, publish: bool) -> Runtime {
        self.settings.publish_trace_id = publish;
        self
    }

    /// The sink for deferred work that cannot finish: called with a [`HandOff`] for each
    /// closure that failed, panicked, was skipped or overran (unless it was marked
    /// [`crate::IfUnfinished::Drop`], or carried over), so it can be put on a queue or a table
    /// from inside the same invocation. It runs on the deferred-work thread after the
    /// invocation's work, isolated (a panic is caught and logged with the hand-off) and
    /// bounded by the budget plus half the margin (past that it is detached, and the
    /// hand-off is logged). Without a sink, each hand-off is logged as one JSON line.
    ///
    /// ```no_run
    /// coda_lambda::start_with(
    ///     |runtime| runtime.on_unfinished(|job| log::warn!("sink: {job}")),
    ///     || Ok(|event: serde_json::Value, _ctx: &mut coda_lambda::Context| {
    ///         Ok::<_, coda_lambda::Diagnostic>(event)
    ///     }),
    /// )
    /// ```
    pub fn on_unfinished(mut self, sink: impl FnMut(&HandOff) + Send + 'static) -> Runtime {
        self.settings.sink = Some(Arc::new(Mutex::new(Box::new(sink))));
        self
    }

    /// How many detached closures — still running after their budget, each holding a thread
    /// — may exist before the runtime starts no new deferred or spawned work (default
    /// [`Runtime::DEFAULT_MAX_DETACHED`]). At the limit, new work is skipped with the reason
    /// and handed off (or carried over), until detached closures end. See ARCHITECTURE.md.
    pub fn max_detached(mut self, limit: usize) -> Runtime {
        self.settings.max_detached = limit;
        self
    }

    /// Registers an internal extension named `name` (`docs/runtime-api.md` §7.5) before the
    /// first `/next`; `f` runs on a thread of its own. It gets each
    /// [`ExtensionEvent::Invoke`] once the runtime has answered that invocation, and the
    /// invocation does not end until `f` returns (Lambda's end-of-invocation barrier): the
    /// caller has its answer, but the sandbox is not frozen, and the function is billed, until
    /// then. With the `shutdown` feature, `f` also gets [`ExtensionEvent::Shutdown`] on
    /// SIGTERM. Use it when the work must hold the invocation open whatever the runtime's
    /// deferred-work budget says; deferred work ([`crate::Context::after`]) is the lighter way
    /// to work after the answer. A registration the Extensions API refuses is logged and the
    /// function serves without it.
    pub fn extension(
        mut self,
        name: impl Into<String>,
        f: impl FnMut(&ExtensionEvent) + Send + 'static,
    ) -> Runtime {
        self.lifecycle
            .extensions
            .push((name.into(), Arc::new(Mutex::new(Box::new(f)))));
        self
    }

    /// Registers a hook that runs when the sandbox shuts down (feature `shutdown`).
    ///
    /// Lambda sends SIGTERM only to functions with a registered extension; with a hook, the
    /// runtime registers a do-nothing internal extension before its first `/next`, so it
    /// gets the SIGTERM, about 500 ms before Lambda's SIGKILL. Then, within the shutdown
    /// budget ([`Runtime::shutdown_budget`]), it runs the deferred work carried over to an
    /// answer that will not come, tells the extensions, runs the hooks in registration order
    /// (each isolated), logs the deferred work still running as dropped (with its request
    /// id), and ends the process with status 0.
    #[cfg(feature = "shutdown")]
    pub fn on_shutdown(mut self, hook: impl FnOnce(&Shutdown) + Send + 'static) -> Runtime {
        self.lifecycle.hooks.push(Box::new(hook));
        self
    }

    /// How long the shutdown may take from SIGTERM (feature `shutdown`; default
    /// [`Runtime::DEFAULT_SHUTDOWN_BUDGET`]): Lambda allows 500 ms with internal extensions
    /// only, 300 ms for the runtime with an external one.
    #[cfg(feature = "shutdown")]
    pub fn shutdown_budget(mut self, budget: Duration) -> Runtime {
        self.lifecycle.budget = Some(budget);
        self
    }

    /// The shutdown budget when none is set: 400 ms of Lambda's 500.
    #[cfg(feature = "shutdown")]
    pub const DEFAULT_SHUTDOWN_BUDGET: Duration = Duration::from_millis(400);

    /// Calls `observer` after each invocation with its [`InvocationReport`] — after its
    /// deferred work, before the next `/next`, on the thread that served it. Each call adds
    /// an observer; they are called in the order they were added.
    pub fn on_invocation(
        mut self,
        observer: impl FnMut(&InvocationReport) + Send + 'static,
    ) -> Runtime {
        self.settings.observers.push(Mutex::new(Box::new(observer)));
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.settings.config
    }

    /// Serves events with `handler`, one at a time, until the Runtime API fails; returns why
    /// it stopped.
    pub fn run<H: Handler<M>, M>(self, mut handler: H) -> Error {
        logging::init();
        let mut client = Client::new(&self.settings.config.endpoint);
        self.serve_one_at_a_time(&mut client, &mut handler)
    }

    /// Runs `init` once, then serves events with the handler it built, one at a time. An
    /// init error or panic is posted to `/init/error` and returned (`docs/runtime-api.md`
    /// §4.2).
    pub fn start<I, H, M>(self, init: I) -> Error
    where
        I: FnOnce() -> Result<H, Diagnostic>,
        H: Handler<M>,
    {
        logging::init();
        let mut client = Client::new(&self.settings.config.endpoint);
        match initialize(&mut client, init) {
            Ok(mut handler) => self.serve_one_at_a_time(&mut client, &mut handler),
            Err(error) => *error,
        }
    }

    /// Serves up to `AWS_LAMBDA_MAX_CONCURRENCY` invocations at once (Lambda Managed
    /// Instances, `docs/runtime-api.md` §6), each worker with a clone of `handler`; with a
    /// concurrency of 1, serves one at a time on this thread, as [`Runtime::run`] does.
    ///
    /// Each worker is a std thread with its own connection and `/next` loop; its deferred work
    /// runs before it takes the next event, so deferred work occupies its slot. The process
    /// environment is never touched (`_X_AMZN_TRACE_ID` is not published: read the trace id
    /// from [`crate::Context::trace_id`] and hand it to AWS SDKs yourself). A worker whose
    /// handler panics reports the error and goes on; one whose connection fails is logged
    /// and starts again after a pause; this returns only when no worker is left.
    pub fn run_concurrent<H, M>(self, handler: H) -> Error
    where
        H: Handler<M> + Clone + Send + 'static,
        M: 'static,
    {
        let shared = Mutex::new(handler);
        self.run_concurrent_with(move |_| shared.lock().unwrap_or_else(|e| e.into_inner()).clone())
    }

    /// [`Runtime::run_concurrent`] with a handler built by `factory` for each worker, on
    /// that worker's thread (its argument is the worker's index): the handler need not be
    /// `Send` or `Clone`, and each worker can have state of its own (a connection).
    pub fn run_concurrent_with<F, H, M>(self, factory: F) -> Error
    where
        F: Fn(usize) -> H + Send + Sync + 'static,
        H: Handler<M>,
        M: 'static,
    {
        logging::init();
        self.log_config_warnings();
        let n = self.settings.config.max_concurrency;
        if n <= 1 {
            let mut handler = factory(0);
            let mut client = Client::new(&self.settings.config.endpoint);
            return self.serve_one_at_a_time(&mut client, &mut handler);
        }
        let sandbox = Arc::new(Sandbox::new(self.settings.max_detached));
        prepare(self.lifecycle, &self.settings, &sandbox);
        crate::concurrent::serve_workers(Arc::new(self.settings), sandbox, n, Arc::new(factory))
    }

    /// Runs `init` once, then serves up to `AWS_LAMBDA_MAX_CONCURRENCY` invocations at once
    /// with clones of the handler it built ([`Runtime::run_concurrent`]).
    pub fn start_concurrent<I, H, M>(self, init: I) -> Error
    where
        I: FnOnce() -> Result<H, Diagnostic>,
        H: Handler<M> + Clone + Send + 'static,
        M: 'static,
    {
        logging::init();
        let mut client = Client::new(&self.settings.config.endpoint);
        match initialize(&mut client, init) {
            Ok(handler) => self.run_concurrent(handler),
            Err(error) => *error,
        }
    }

    /// The single loop, on this thread.
    fn serve_one_at_a_time<H: Handler<M>, M>(self, client: &mut Client, handler: &mut H) -> Error {
        self.log_config_warnings();
        let n = self.settings.config.max_concurrency;
        if n > 1 {
            log::warn!(
                "AWS_LAMBDA_MAX_CONCURRENCY={n} asks for {n} invocations at once, but this function \
                 serves one at a time (a Clone + Send handler with coda_lambda::start_concurrent \
                 serves {n}); _X_AMZN_TRACE_ID is left alone"
            );
        }
        let sandbox = Arc::new(Sandbox::new(self.settings.max_detached));
        prepare(self.lifecycle, &self.settings, &sandbox);
        let cold_start = std::sync::atomic::AtomicBool::new(true);
        let mut seat = Seat {
            sandbox: &sandbox,
            index: 0,
            publish_trace_id: self.settings.publish_trace_id && n == 1,
            served: 0,
            cold_start: &cold_start,
        };
        Error::Api(serve(&self.settings, &mut seat, client, handler))
    }

    fn log_config_warnings(&self) {
        for warning in &self.settings.config.warnings {
            log::warn!("{warning}");
        }
    }
}

/// Registers the extensions, and with shutdown hooks the do-nothing extension and the SIGTERM
/// watch, before the first `/next`. What fails is logged; the function serves without it.
fn prepare(lifecycle: Lifecycle, settings: &Settings, sandbox: &Arc<Sandbox>) {
    #[cfg(feature = "shutdown")]
    let watched = !lifecycle.hooks.is_empty() || !lifecycle.extensions.is_empty();
    #[cfg(not(feature = "shutdown"))]
    let watched = false;
    if lifecycle.extensions.is_empty() && !watched {
        return;
    }
    sandbox.follow();
    let endpoint = &settings.config.endpoint;
    let mut registered = Vec::new();
    for (name, callback) in lifecycle.extensions {
        match crate::extension::start(endpoint, &name, callback.clone(), sandbox) {
            Ok(()) => registered.push((name, callback)),
            Err(e) => log::error!(
                "extension {name} is not running: {}",
                crate::error::chain(&e)
            ),
        }
    }
    #[cfg(feature = "shutdown")]
    {
        if registered.is_empty()
            && let Err(e) = crate::extension::start_placeholder(endpoint, "coda-lambda-shutdown")
        {
            log::error!(
                "shutdown hooks will not run: Lambda sends SIGTERM only to functions with an \
                 extension, and registering one failed: {}",
                crate::error::chain(&e)
            );
            return;
        }
        let plan = crate::shutdown::Plan {
            hooks: lifecycle.hooks,
            extensions: registered,
            budget: lifecycle.budget.unwrap_or(Runtime::DEFAULT_SHUTDOWN_BUDGET),
        };
        if let Err(e) = crate::shutdown::watch(plan, sandbox.clone()) {
            log::error!("shutdown hooks will not run: SIGTERM cannot be caught: {e}");
        }
    }
    #[cfg(not(feature = "shutdown"))]
    drop(registered);
}

/// Runs `init` with panics caught; a failure is posted to `/init/error` and returned.
fn initialize<I, H>(client: &mut Client, init: I) -> Result<H, Box<Error>>
where
    I: FnOnce() -> Result<H, Diagnostic>,
{
    let built = match catch_unwind(AssertUnwindSafe(init)) {
        Ok(built) => built,
        Err(payload) => Err(crate::panic::init_panic(payload.as_ref())),
    };
    built.map_err(|diagnostic| {
        log::error!("init failed: {diagnostic}");
        let report = match client.init_error(&diagnostic) {
            Ok(Delivery::Accepted) => None,
            Ok(Delivery::Rejected { status, body }) => {
                log::warn!("/init/error refused with status {status}: {body}");
                None
            }
            Err(e) => Some(e),
        };
        Box::new(Error::Init { diagnostic, report })
    })
}

/// Runs a Lambda function: installs the Lambda logger ([`crate::logging`], unless a logger
/// is installed already), reads the environment, runs `init` once, then serves events
/// forever with the handler `init` returned.
///
/// Never returns. On a fatal error — missing `AWS_LAMBDA_RUNTIME_API`, a failed init (posted
/// to `/init/error` first), a Runtime API failure — it prints one line to stderr (the error
/// and each of its causes once, in the function's log format) and exits with status 1.
///
/// ```no_run
/// use coda_lambda::{Context, Reply};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Deserialize)]
/// struct Order { id: String, cents: u64 }
///
/// #[derive(Serialize)]
/// struct Receipt { id: String, accepted: bool }
///
/// fn main() {
///     coda_lambda::start(|| {
///         let limit: u64 = std::env::var("LIMIT_CENTS").unwrap_or("10000".into()).parse()?;
///         Ok(move |order: Order, ctx: &mut Context| {
///             ctx.after(|d| log::info!("done in {:?}", d.elapsed()));
///             let receipt = Receipt { accepted: order.cents < limit, id: order.id };
///             Ok(Reply::new(receipt).after_success(|d| log::info!("{} answered", d.request_id())))
///         })
///     })
/// }
/// ```
pub fn start<I, H, M>(init: I) -> !
where
    I: FnOnce() -> Result<H, Diagnostic>,
    H: Handler<M>,
{
    start_with(|runtime| runtime, init)
}

/// [`start`] with settings: `configure` gets the [`Runtime`] read from the environment and
/// returns it changed (a sink for unfinished work, the margin, an observer…). Never returns;
/// fatal errors are printed and end the process with status 1, as with `start`.
///
/// ```no_run
/// use std::time::Duration;
/// use coda_lambda::{Context, Diagnostic};
///
/// fn main() {
///     coda_lambda::start_with(
///         |runtime| {
///             runtime
///                 .deferred_margin(Duration::from_millis(200))
///                 .on_unfinished(|job| log::warn!("sink: {job}"))
///         },
///         || Ok(|event: serde_json::Value, _ctx: &mut Context| Ok::<_, Diagnostic>(event)),
///     )
/// }
/// ```
pub fn start_with<C, I, H, M>(configure: C, init: I) -> !
where
    C: FnOnce(Runtime) -> Runtime,
    I: FnOnce() -> Result<H, Diagnostic>,
    H: Handler<M>,
{
    logging::init();
    let error = match Runtime::from_env() {
        Ok(runtime) => configure(runtime).start(init),
        Err(e) => Error::Config(e),
    };
    exit_with(&error)
}

/// Runs a Managed Instances function: [`start`], but serving up to
/// `AWS_LAMBDA_MAX_CONCURRENCY` invocations at once with clones of the handler `init` built
/// (see [`Runtime::run_concurrent`]); with a concurrency of 1, the same as `start`.
///
/// ```no_run
/// use coda_lambda::{Context, Diagnostic};
///
/// fn main() {
///     coda_lambda::start_concurrent(|| {
///         Ok(|event: serde_json::Value, ctx: &mut Context| {
///             log::info!("worker {} serves {}", ctx.worker(), ctx.request_id());
///             Ok::<_, Diagnostic>(event)
///         })
///     })
/// }
/// ```
pub fn start_concurrent<I, H, M>(init: I) -> !
where
    I: FnOnce() -> Result<H, Diagnostic>,
    H: Handler<M> + Clone + Send + 'static,
    M: 'static,
{
    start_concurrent_with(|runtime| runtime, init)
}

/// [`start_concurrent`] with settings, as [`start_with`] is to [`start`].
pub fn start_concurrent_with<C, I, H, M>(configure: C, init: I) -> !
where
    C: FnOnce(Runtime) -> Runtime,
    I: FnOnce() -> Result<H, Diagnostic>,
    H: Handler<M> + Clone + Send + 'static,
    M: 'static,
{
    logging::init();
    let error = match Runtime::from_env() {
        Ok(runtime) => configure(runtime).start_concurrent(init),
        Err(e) => Error::Config(e),
    };
    exit_with(&error)
}

/// Prints why the runtime stopped — one line, the error and each cause once, in the
/// function's log format — and ends the process with status 1.
fn exit_with(error: &Error) -> ! {
    let message = format!("coda-lambda: {}", crate::error::chain(error));
    // One line, in the format Lambda parses: JSON when the function logs JSON, the bare
    // message otherwise (it reads best at a terminal).
    let mut stderr = std::io::stderr().lock();
    let _ = match LogFormat::from_env() {
        LogFormat::Json => logging::write_line(
            &mut stderr,
            LogFormat::Json,
            std::time::SystemTime::now(),
            log::Level::Error,
            &format_args!("{message}"),
            None,
        ),
        LogFormat::Text => writeln!(stderr, "{message}"),
    };
    drop(stderr);
    std::process::exit(1)
}
