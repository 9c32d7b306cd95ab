//! Managed Instances (`AWS_LAMBDA_MAX_CONCURRENCY` = N > 1, `docs/runtime-api.md` §6): N
//! workers in one process, each a std thread with its own connection, its own `/next` loop
//! ([`crate::run::serve`]) and its own deferred-work thread, sharing the [`Sandbox`].
//!
//! A worker's invocation is answered, its deferred work runs, and only then does that worker
//! ask for another event: deferred work occupies its slot. A worker whose loop stops (a
//! transport failure, a refused `/next`) logs it and starts again on a new connection after a
//! pause that grows with each failure in a row; after [`BACKOFF`]'s last pause it gives up.
//! The process ends only when no worker is left.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::client::Client;
use crate::run::{Seat, Settings, serve};
use crate::sandbox::Sandbox;
use crate::{ApiError, Diagnostic, Error, Handler};

/// The pauses before a failed worker starts again, one per failure in a row; past the last,
/// the worker ends. A served invocation resets the count.
const BACKOFF: [Duration; 5] = [
    Duration::from_millis(10),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
    Duration::from_millis(500),
];

/// Runs `n` workers, each with the handler `factory` builds for it, until none is left;
/// returns why the last one stopped.
pub(crate) fn serve_workers<F, H, M>(
    settings: Arc<Settings>,
    sandbox: Arc<Sandbox>,
    n: usize,
    factory: Arc<F>,
) -> Error
where
    F: Fn(usize) -> H + Send + Sync + 'static,
    H: Handler<M>,
    M: 'static,
{
    log::info!("serving up to {n} invocations at once, one worker thread each");
    let cold_start = Arc::new(AtomicBool::new(true));
    let (ended_tx, ended) = mpsc::channel::<(usize, Result<ApiError, String>)>();
    let mut started = 0;
    for index in 0..n {
        let (settings, sandbox, factory, cold_start, ended_tx) = (
            settings.clone(),
            sandbox.clone(),
            factory.clone(),
            cold_start.clone(),
            ended_tx.clone(),
        );
        let spawned = std::thread::Builder::new()
            .name(format!("coda-worker-{index}"))
            .spawn(move || {
                let result = match catch_unwind(AssertUnwindSafe(|| factory(index))) {
                    Ok(mut handler) => {
                        Ok(work(index, &settings, &sandbox, &cold_start, &mut handler))
                    }
                    Err(payload) => Err(crate::panic::message(payload.as_ref())),
                };
                let _ = ended_tx.send((index, result));
            });
        match spawned {
            Ok(_) => started += 1,
            Err(e) => log::error!("worker {index} could not be started: {e}"),
        }
    }
    drop(ended_tx);
    let mut last_error = None;
    let mut panic = None;
    for left in (0..started).rev() {
        let Ok((index, result)) = ended.recv() else {
            break;
        };
        match result {
            Ok(error) => {
                log::error!(
                    "worker {index} stopped ({left} left): {}",
                    crate::error::chain(&error)
                );
                last_error = Some(error);
            }
            Err(message) => {
                log::error!(
                    "worker {index} stopped ({left} left): its handler factory panicked: {message}"
                );
                panic = Some(message);
            }
        }
    }
    match (last_error, panic) {
        (Some(error), _) => Error::Api(error),
        (None, message) => Error::Init {
            diagnostic: Diagnostic::new(
                "Runtime.InitPanic",
                format!(
                    "no worker could build its handler: {}",
                    message.unwrap_or_else(|| "no worker thread could be started".into())
                ),
            ),
            report: None,
        },
    }
}

/// One worker: serves until its loop stops, then starts again on a new connection after a
/// pause, until a run of failures outlasts [`BACKOFF`].
fn work<H: Handler<M>, M>(
    index: usize,
    settings: &Settings,
    sandbox: &Sandbox,
    cold_start: &AtomicBool,
    handler: &mut H,
) -> ApiError {
    let mut failures = 0;
    loop {
        let mut client = Client::new(&settings.config.endpoint);
        let mut seat = Seat {
            sandbox,
            index,
            publish_trace_id: false,
            served: 0,
            cold_start,
        };
        let error = serve(settings, &mut seat, &mut client, handler);
        if seat.served > 0 {
            failures = 0;
        }
        let Some(pause) = BACKOFF.get(failures) else {
            return error;
        };
        failures += 1;
        log::warn!(
            "worker {index}: {}; connecting again in {} ms (failure {failures} in a row)",
            crate::error::chain(&error),
            pause.as_millis()
        );
        // A backoff between reconnections, not a synchronisation.
        std::thread::sleep(*pause);
    }
}
