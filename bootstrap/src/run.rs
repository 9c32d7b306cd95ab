//! `coda run`: the emulator and the function process, wired for a person at a terminal.
//!
//! The emulator prints Lambda's START / END / REPORT lines; the function's output passes
//! through; `coda` itself writes its own lines to stderr prefixed with `coda:`. With
//! `--invoke`, the answer is printed to stdout the moment the function posts it, and the
//! closing line shows how much later the invocation ended — the time deferred work took
//! without the caller waiting for it.

use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

use coda_emulator::{Emulator, FunctionCommand, Invoke, Reports};

use crate::cli::RunArgs;
use crate::error::RunError;

/// The front port when none is given.
const DEFAULT_PORT: u16 = 9000;

/// Runs `coda run`. Returns `Ok(true)` when the one `--invoke` invocation failed (exit 1).
pub fn run(args: &RunArgs) -> Result<bool, RunError> {
    let port = match (&args.invoke, args.port) {
        (_, Some(port)) => Some(port),
        (None, None) => Some(DEFAULT_PORT),
        (Some(_), None) => None,
    };
    let mut builder = Emulator::builder()
        .function_name(&args.name)
        .timeout(args.timeout)
        .memory_mb(args.memory_mb)
        .concurrency(args.concurrency)
        .reports(Reports::Stdout);
    if let Some(port) = port {
        builder = builder.front(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    let emulator = builder
        .start()
        .map_err(|source| RunError::Listen { port, source })?;
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(RunError::NoCommand);
    };
    let mut command = FunctionCommand::new(program).args(program_args);
    for (key, value) in &args.env {
        command = command.env(key, value);
    }
    let supervisor = emulator.supervise(command).map_err(RunError::Supervise)?;
    let init = supervisor
        .wait_ready(Duration::MAX)
        .map_err(RunError::Function)?;
    say(format_args!("function ready, init took {:.1} ms", ms(init)));

    let Some(data) = &args.invoke else {
        if let Some(front) = emulator.front_addr() {
            say(format_args!(
                "invoke: coda invoke --data '{{}}'  |  curl -d '{{}}' http://{front}/2015-03-31/functions/{}/invocations",
                args.name
            ));
            say(format_args!(
                "Function URL: curl http://{front}/any/path?x=1   (Ctrl-C stops)"
            ));
        }
        loop {
            // Serving happens on the emulator's threads; this one only waits for Ctrl-C.
            std::thread::park();
        }
    };

    let pending = emulator.invoke(Invoke::new(data.as_bytes()));
    let answer = pending.answer(Duration::MAX).map_err(RunError::Wait)?;
    {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&answer.payload);
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }
    if let Some(error) = &answer.function_error {
        say(format_args!("the invocation failed: {error}"));
    }
    let finished = pending.finished(Duration::MAX).map_err(RunError::Wait)?;
    let answered = finished.answered_after.unwrap_or(finished.finished_after);
    say(format_args!(
        "the caller had its answer after {:.1} ms; the invocation ended after {:.1} ms ({:.1} ms of work after the answer)",
        ms(answered),
        ms(finished.finished_after),
        ms(finished.finished_after.saturating_sub(answered))
    ));
    supervisor.stop();
    Ok(answer.function_error.is_some())
}

/// One line of `coda`'s own on stderr.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "coda: {line}");
}

/// A duration in milliseconds, for display.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
