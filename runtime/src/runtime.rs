//! [`Runtime`] and [`start`]: configuration, init, and the entry point of a function binary.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use crate::client::{Client, Delivery};
use crate::run::{InvocationReport, Settings, serve};
use crate::{Config, ConfigError, Diagnostic, Error, Handler, LambdaLogger, LogFormat};

/// Default safety margin between the end of deferred work and the invocation deadline.
pub const DEFAULT_DEFERRED_MARGIN: Duration = Duration::from_millis(100);

/// A configured runtime: where the Runtime API is and how deferred work is bounded.
///
/// [`start`] covers the common case; `Runtime` is for tests, local tools and settings.
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
}

impl Runtime {
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
                margin: DEFAULT_DEFERRED_MARGIN,
                publish_trace_id: true,
                observer: None,
            },
        }
    }

    /// The safety margin: deferred work is bounded by the deadline minus this margin
    /// (default [`DEFAULT_DEFERRED_MARGIN`]), leaving time to call `/next` before Lambda's
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

    /// Calls `observer` after each invocation with its [`InvocationReport`].
    pub fn on_invocation(
        mut self,
        observer: impl FnMut(&InvocationReport) + Send + 'static,
    ) -> Runtime {
        self.settings.observer = Some(Box::new(observer));
        self
    }

    /// The configuration in use.
    pub fn config(&self) -> &Config {
        &self.settings.config
    }

    /// Serves events with `handler` until the Runtime API fails; returns why it stopped.
    pub fn run<H: Handler<M>, M>(mut self, mut handler: H) -> Error {
        let mut client = Client::new(&self.settings.config.endpoint);
        self.warn_about_concurrency();
        Error::Api(serve(&mut self.settings, &mut client, &mut handler))
    }

    /// Runs `init` once, then serves events with the handler it built. An init error or
    /// panic is posted to `/init/error` and returned (`runtime-api.md` §4.2).
    pub fn start<I, H, M>(mut self, init: I) -> Error
    where
        I: FnOnce() -> Result<H, Diagnostic>,
        H: Handler<M>,
    {
        let mut client = Client::new(&self.settings.config.endpoint);
        let built = match catch_unwind(AssertUnwindSafe(init)) {
            Ok(built) => built,
            Err(payload) => {
                let message = crate::deferred::panic_message(payload.as_ref());
                Err(Diagnostic::new(
                    "Runtime.InitPanic",
                    format!("init panicked: {message}"),
                ))
            }
        };
        let mut handler = match built {
            Ok(handler) => handler,
            Err(diagnostic) => {
                log::error!("init failed: {diagnostic}");
                let report = match client.init_error(&diagnostic) {
                    Ok(Delivery::Accepted) => None,
                    Ok(Delivery::Rejected { status, body }) => {
                        log::warn!("/init/error refused with status {status}: {body}");
                        None
                    }
                    Err(e) => Some(e),
                };
                return Error::Init { diagnostic, report };
            }
        };
        self.warn_about_concurrency();
        Error::Api(serve(&mut self.settings, &mut client, &mut handler))
    }

    fn warn_about_concurrency(&self) {
        let n = self.settings.config.max_concurrency;
        if n > 1 {
            log::warn!(
                "AWS_LAMBDA_MAX_CONCURRENCY={n}, but this loop serves one invocation at a time; \
                 _X_AMZN_TRACE_ID is left alone"
            );
        }
    }
}

/// Runs a Lambda function: installs the Lambda logger, reads the environment, runs `init`
/// once, then serves events forever with the handler `init` returned.
///
/// Never returns. On a fatal error — missing `AWS_LAMBDA_RUNTIME_API`, a failed init (posted
/// to `/init/error` first), a Runtime API failure — it prints one line to stderr and exits
/// with status 1.
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
///             ctx.after(|job| log::info!("done in {:?}", job.elapsed()));
///             let receipt = Receipt { accepted: order.cents < limit, id: order.id };
///             Ok(Reply::new(receipt).after(|job| log::info!("{} answered", job.request_id())))
///         })
///     })
/// }
/// ```
pub fn start<I, H, M>(init: I) -> !
where
    I: FnOnce() -> Result<H, Diagnostic>,
    H: Handler<M>,
{
    let logger = LambdaLogger::from_env();
    let format = logger.format();
    logger.install();
    let error = match Runtime::from_env() {
        Ok(runtime) => runtime.start(init),
        Err(e) => Error::Config(e),
    };
    // One line, in the format Lambda parses: JSON when the function logs JSON.
    let message = format!("coda: {error}");
    match format {
        LogFormat::Json => {
            let mut line = String::new();
            LambdaLogger::new(format, log::LevelFilter::Error).format_line(
                log::Level::Error,
                &message,
                None,
                &mut line,
            );
            eprintln!("{line}");
        }
        LogFormat::Text => eprintln!("{message}"),
    }
    std::process::exit(1)
}
