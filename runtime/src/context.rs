//! [`Context`]: what a handler knows about its invocation, and where it registers work for
//! later.

use std::cell::RefCell;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::Diagnostic;
use crate::builder::DeferredBuilder;
use crate::config::FunctionConfig;
use crate::deferred::{Deferred, DeferredResult};
use crate::detached::Detached;
use crate::identity::{ClientContext, CognitoIdentity};
use crate::invocation::Invocation;
use crate::task::{Task, When};
use crate::work::Work;

/// The invocation a handler serves: ids, deadline, identity, function settings, and the
/// place to register deferred and spawned work.
///
/// Work is registered through `&self`, so handlers taking `&Context` can register it too.
///
/// ```
/// # fn demo(ctx: &coda_lambda::Context) {
/// log::info!("{} has {:?} left", ctx.request_id(), ctx.remaining());
/// // Runs after the answer is delivered, success or error.
/// ctx.after(|d| log::info!("finished {} after {:?}", d.request_id(), d.elapsed()));
/// // Runs only after an error answer.
/// ctx.after_error(|d| log::warn!("{} failed", d.request_id()));
/// // Starts now on its own thread; joined before the next event is polled.
/// ctx.spawn(|_d| -> Result<(), std::io::Error> { Ok(()) });
/// # }
/// ```
pub struct Context {
    request_id: Arc<str>,
    deadline_ms: Option<u64>,
    deadline_at: Option<Instant>,
    received_at: Instant,
    function_arn: String,
    trace_id: Option<String>,
    client_context_raw: Option<String>,
    client_context: Option<ClientContext>,
    identity_raw: Option<String>,
    identity: Option<CognitoIdentity>,
    tenant_id: Option<String>,
    invocation_id: Option<String>,
    content_type: Option<String>,
    function: Arc<FunctionConfig>,
    cold_start: bool,
    margin: Duration,
    detached: Arc<Detached>,
    worker: usize,
    pub(crate) work: RefCell<Work>,
}

impl Context {
    pub(crate) fn new(
        invocation: Invocation,
        function: Arc<FunctionConfig>,
        cold_start: bool,
        margin: Duration,
        detached: Arc<Detached>,
        worker: usize,
    ) -> Context {
        let received_at = Instant::now();
        let deadline_at = invocation.deadline_ms.map(|ms| {
            let deadline = UNIX_EPOCH + Duration::from_millis(ms);
            match deadline.duration_since(SystemTime::now()) {
                Ok(left) => received_at + left,
                Err(_) => received_at,
            }
        });
        let client_context = parse_json(
            invocation.client_context.as_deref(),
            "Lambda-Runtime-Client-Context",
        );
        let identity = parse_json(
            invocation.cognito_identity.as_deref(),
            "Lambda-Runtime-Cognito-Identity",
        );
        Context {
            request_id: invocation.request_id,
            deadline_ms: invocation.deadline_ms,
            deadline_at,
            received_at,
            function_arn: invocation.function_arn,
            trace_id: invocation.trace_id,
            client_context_raw: invocation.client_context,
            client_context,
            identity_raw: invocation.cognito_identity,
            identity,
            tenant_id: invocation.tenant_id,
            invocation_id: invocation.invocation_id,
            content_type: invocation.content_type,
            function,
            cold_start,
            margin,
            detached,
            worker,
            work: RefCell::new(Work::default()),
        }
    }

    /// The request id (`Lambda-Runtime-Aws-Request-Id`). Not unique across retries: see
    /// [`Context::invocation_id`].
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    pub(crate) fn request_id_arc(&self) -> &Arc<str> {
        &self.request_id
    }

    /// The deadline as Unix epoch milliseconds, when the Runtime API sent a valid one.
    pub fn deadline_ms(&self) -> Option<u64> {
        self.deadline_ms
    }

    /// The deadline as wall-clock time, when the Runtime API sent a valid one.
    pub fn deadline(&self) -> Option<SystemTime> {
        self.deadline_ms
            .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
    }

    /// Time left until the deadline: zero once it has passed, `Duration::MAX` when the
    /// Runtime API sent no usable deadline (some local emulators, `docs/runtime-api.md` §9 #6).
    pub fn remaining(&self) -> Duration {
        match self.deadline_at {
            Some(at) => at.saturating_duration_since(Instant::now()),
            None => Duration::MAX,
        }
    }

    /// The ARN the function was invoked with (may carry a version or alias; empty when the
    /// Runtime API sent none).
    pub fn invoked_function_arn(&self) -> &str {
        &self.function_arn
    }

    /// The X-Ray trace header (`Root=…;Parent=…;Sampled=…`), when tracing is active.
    pub fn trace_id(&self) -> Option<&str> {
        self.trace_id.as_deref()
    }

    /// The mobile SDK client context, when one was sent and is valid JSON.
    pub fn client_context(&self) -> Option<&ClientContext> {
        self.client_context.as_ref()
    }

    /// The client context header exactly as sent, even when it is not valid JSON.
    pub fn client_context_raw(&self) -> Option<&str> {
        self.client_context_raw.as_deref()
    }

    /// The Cognito identity, when one was sent and is valid JSON.
    pub fn identity(&self) -> Option<&CognitoIdentity> {
        self.identity.as_ref()
    }

    /// The Cognito identity header exactly as sent, even when it is not valid JSON.
    pub fn identity_raw(&self) -> Option<&str> {
        self.identity_raw.as_deref()
    }

    /// The tenant id, for functions with tenant isolation.
    pub fn tenant_id(&self) -> Option<&str> {
        self.tenant_id.as_deref()
    }

    /// The per-attempt invocation id, when the Runtime API sends one; echoed on the answer.
    pub fn invocation_id(&self) -> Option<&str> {
        self.invocation_id.as_deref()
    }

    /// The event's content type as the Runtime API declared it.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The function's settings from the environment.
    pub fn function(&self) -> &FunctionConfig {
        &self.function
    }

    /// Which worker serves this invocation: 0 for the single loop; `0..n` for the `n`
    /// workers of a Managed Instances function ([`crate::start_concurrent`]).
    pub fn worker(&self) -> usize {
        self.worker
    }

    /// Whether this is the first invocation this process serves.
    pub fn is_cold_start(&self) -> bool {
        self.cold_start
    }

    /// Registers `f` to run after the invocation is answered, whether it succeeded or failed
    /// (the same as [`crate::Reply::after`]). [`Deferred::error`] tells which.
    pub fn after<F, R>(&self, f: F)
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.work.borrow_mut().push(Task::once(When::Always, f));
    }

    /// Registers `f` to run after a successful answer only: the response was accepted by the
    /// Runtime API (the same as [`crate::Reply::after_success`]).
    pub fn after_success<F, R>(&self, f: F)
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.work.borrow_mut().push(Task::once(When::Success, f));
    }

    /// Registers `f` to run only after the invocation failed: an error was posted to
    /// `/error`, or the Runtime API refused the response (the same as
    /// [`crate::Reply::after_error`]). [`Deferred::error`] tells what failed.
    pub fn after_error<F, R>(&self, f: F)
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.work.borrow_mut().push(Task::once(When::Error, f));
    }

    /// Starts `f` now on its own thread. The runtime joins it (within the budget) before it
    /// polls for the next event, because the environment may freeze once it does.
    pub fn spawn<F, R>(&self, f: F)
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        let deferred = self.deferred_for(None, None);
        self.work
            .borrow_mut()
            .spawn(Task::once(When::Always, f), deferred, &self.detached);
    }

    /// Deferred work with a name (for logs and hand-offs), retries and a policy for when it
    /// cannot finish; register it with the builder's `after`, `after_success` or
    /// `after_error`.
    ///
    /// ```
    /// # fn demo(ctx: &coda_lambda::Context) {
    /// ctx.deferred("cache-fill")
    ///     .attempts(2)
    ///     .after_success(|_| Ok::<_, std::io::Error>(()));
    /// # }
    /// ```
    pub fn deferred(&self, name: impl Into<std::borrow::Cow<'static, str>>) -> DeferredBuilder<'_> {
        DeferredBuilder::new(&self.work, name.into())
    }

    /// What work of this invocation knows: the budget, and (after the answer) when it was
    /// accepted and whether it failed.
    pub(crate) fn deferred_for(
        &self,
        error: Option<Diagnostic>,
        answered_at: Option<Instant>,
    ) -> Deferred {
        Deferred {
            request_id: self.request_id.clone(),
            started: self.received_at,
            answered_at,
            budget_end: self
                .deadline_at
                .map(|at| at.checked_sub(self.margin).unwrap_or(self.received_at)),
            error,
        }
    }

    pub(crate) fn received_at(&self) -> Instant {
        self.received_at
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("request_id", &self.request_id)
            .field("deadline_ms", &self.deadline_ms)
            .field("invoked_function_arn", &self.function_arn)
            .field("trace_id", &self.trace_id)
            .field("tenant_id", &self.tenant_id)
            .field("invocation_id", &self.invocation_id)
            .field("cold_start", &self.cold_start)
            .finish_non_exhaustive()
    }
}

/// Parses an optional JSON header leniently: invalid JSON is logged and treated as absent
/// (`docs/runtime-api.md` §9 #7), never a failure of the invocation.
fn parse_json<T: serde::de::DeserializeOwned>(raw: Option<&str>, header: &str) -> Option<T> {
    let raw = raw?;
    match serde_json::from_str(raw) {
        Ok(value) => Some(value),
        Err(e) => {
            log::warn!("ignoring {header}: not valid JSON ({e})");
            None
        }
    }
}
