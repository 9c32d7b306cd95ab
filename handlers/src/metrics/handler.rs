//! [`WithMetrics`]: a handler whose invocations flush their metrics in a deferred closure,
//! registered last, after whatever answer it gives.

use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use coda_lambda::{Context, Diagnostic, Handler, IntoReply, Reply};

use super::handle::Metrics;

/// A handler wrapped by [`Metrics::handler`]: each invocation's metrics are written by a
/// deferred closure — after the answer, whether the handler succeeded, failed or panicked —
/// registered after all of the handler's own deferred work, so metrics recorded by that work
/// are in it.
pub struct WithMetrics<H> {
    handler: H,
    metrics: Metrics,
}

impl Metrics {
    /// Wraps `handler` so that the invocation's metrics are flushed by a deferred closure,
    /// registered last, after any answer (success, error, panic): the caller never waits for
    /// them.
    pub fn handler<H>(&self, handler: H) -> WithMetrics<H> {
        WithMetrics {
            handler,
            metrics: self.clone(),
        }
    }
}

impl<H> WithMetrics<H> {
    /// The wrapped handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }
}

impl<H> std::fmt::Debug for WithMetrics<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithMetrics")
            .field("metrics", &self.metrics)
            .finish_non_exhaustive()
    }
}

/// Marks the wrapped form of a handler of form `M`; never named by users.
#[doc(hidden)]
pub struct Measured<M>(PhantomData<M>);

impl<H, M> Handler<Measured<M>> for WithMetrics<H>
where
    H: Handler<M>,
{
    type Event = H::Event;
    type Output = Reply;
    type Error = Diagnostic;

    fn call(&mut self, event: H::Event, ctx: &mut Context) -> Result<Reply, Diagnostic> {
        let metrics = self.metrics.clone();
        let cold_start = ctx.is_cold_start();
        let flush = move |d: &coda_lambda::Deferred| metrics.flush_at_answer(d, cold_start);
        let handler = &mut self.handler;
        match catch_unwind(AssertUnwindSafe(|| handler.call(event, ctx))) {
            // Last of the reply's work, which runs after the context's.
            Ok(Ok(output)) => Ok(output.into_reply().after(flush)),
            Ok(Err(error)) => {
                ctx.deferred("metrics flush").after(once(flush));
                Err(error.into())
            }
            Err(panic) => {
                ctx.deferred("metrics flush").after(once(flush));
                resume_unwind(panic)
            }
        }
    }
}

/// An `FnOnce` as the `FnMut` named deferred work takes (it runs once: one attempt).
fn once<F, R>(f: F) -> impl FnMut(&coda_lambda::Deferred) -> Result<(), String> + Send + 'static
where
    F: FnOnce(&coda_lambda::Deferred) -> Result<(), R> + Send + 'static,
    R: std::fmt::Display,
{
    let mut f = Some(f);
    move |d| match f.take() {
        Some(f) => f(d).map_err(|e| e.to_string()),
        None => Ok(()),
    }
}
