//! `coda run`: the emulator and the function process, wired for a person at a terminal.
//!
//! The emulator prints Lambda's START / END / REPORT lines; the function's output passes
//! through; `coda` itself writes its own lines to stderr prefixed with `coda:`. With
//! `--invoke`, the answer is printed to stdout the moment the function posts it, and the
//! closing line shows how much later the invocation ended — the time deferred work took
//! without the caller waiting for it.
//!
//! The function ends with `coda`, whatever ends `coda`, and it is shut down as Lambda shuts a
//! sandbox down (`Supervisor::retire`): `SIGTERM` to a function that registered an extension
//! (its shutdown hooks run), `SIGKILL` after [`SHUTDOWN_BUDGET`] — or at once, without an
//! extension, since Lambda sends no `SIGTERM` then. `SIGINT`, `SIGTERM` and `SIGHUP` are taken
//! by a thread of their own, which does that and exits with the signal's status; `--invoke`
//! does it once the invocation has ended; `--idle-timeout` does it when the function has
//! been idle that long, and the next invocation starts it again. The function is started
//! through `coda __launch` ([`crate::launch`]), which makes the kernel kill it when `coda`
//! dies, even of `SIGKILL`.

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use coda_emulator::os;
use coda_emulator::{
    Emulator, FunctionCommand, Invoke, LogFormat, ReadyError, Reports, Retirement, Supervisor,
};

use crate::cli::RunArgs;
use crate::error::RunError;

/// The front port when none is given.
pub const DEFAULT_PORT: u16 = 9000;

/// The shutdown phase Lambda gives a function with internal extensions (`docs/runtime-api.md`
/// §7.4): from `SIGTERM` to `SIGKILL`.
const SHUTDOWN_BUDGET: Duration = Duration::from_millis(500);

/// Runs `coda run`. Returns `Ok(true)` when the one `--invoke` invocation failed (exit 1).
pub fn run(args: &RunArgs) -> Result<bool, RunError> {
    // Before any thread exists, so that every thread inherits the mask and the signals
    // wait for the thread that handles them.
    os::block_termination_signals().map_err(RunError::Signals)?;
    let event = match &args.invoke {
        Some(data) => Some(event(data)?),
        None => None,
    };
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
        .freeze(args.freeze)
        .reports(Reports::Stdout)
        .bind(SocketAddr::new(args.listen, 0));
    if args.json_logs {
        builder = builder.log_format(LogFormat::Json);
    }
    if let Some(handler) = &args.handler {
        builder = builder.handler(handler);
    }
    if let Some(faults) = &args.faults {
        builder = builder.faults(faults.clone());
    }
    let version = args.function_version.as_deref().unwrap_or("$LATEST");
    builder = builder.version(version);
    for (alias, target) in &args.aliases {
        builder = builder.alias(alias, target.as_deref().unwrap_or(version));
    }
    if let Some(port) = port {
        builder = builder.front(SocketAddr::new(args.listen, port));
    }
    let emulator = builder
        .start()
        .map_err(|source| RunError::Listen { port, source })?;
    let supervisor = Arc::new(
        emulator
            .supervise(function_command(args)?)
            .map_err(RunError::Supervise)?,
    );
    handle_signals(supervisor.clone()).map_err(RunError::Signals)?;
    if let Some(idle) = args.idle_timeout {
        retire_when_idle(supervisor.clone(), idle).map_err(RunError::Signals)?;
    }

    match supervisor.wait_ready(Duration::MAX) {
        Ok(init) => say(format_args!("function ready, init took {:.1} ms", ms(init))),
        Err(ReadyError::Exited { init_error, .. }) => {
            if event.is_some() {
                // As on Lambda, the event that found init failing gets its error.
                return Ok(init_failed_answer(init_error));
            }
            say(format_args!(
                "the function failed to initialize (its output and INIT_REPORT above); serving anyway: each invocation starts it again, as Lambda retries init"
            ));
        }
        Err(e) => return Err(RunError::Function(e)),
    }

    let Some(event) = event else {
        if let Some(front) = emulator.front_addr() {
            banner(args, front);
        }
        loop {
            // Serving happens on the emulator's threads; this one only waits for a signal,
            // which the signal thread handles.
            std::thread::park();
        }
    };

    let pending = emulator.invoke(Invoke::new(event));
    let answer = pending.answer(Duration::MAX).map_err(RunError::Wait)?;
    print_answer(&answer.payload);
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
    // A function without an extension is simply killed: nothing to say after `--invoke`.
    let retirement = supervisor.terminate(SHUTDOWN_BUDGET);
    if retirement != (Retirement::Killed { after_term: false }) {
        report_retirement(retirement);
    }
    Ok(answer.function_error.is_some())
}

/// The `--invoke` event: JSON, as the Invoke API takes it (empty: `{}`).
fn event(data: &str) -> Result<Vec<u8>, RunError> {
    if data.trim().is_empty() {
        return Ok(b"{}".to_vec());
    }
    match serde_json::from_str::<serde::de::IgnoredAny>(data) {
        Ok(_) => Ok(data.as_bytes().to_vec()),
        Err(source) => Err(RunError::EventNotJson { source }),
    }
}

/// The function command: `coda __launch <pid> -- <program> <args…>`, so that the function
/// dies with this process, with the options' environment.
fn function_command(args: &RunArgs) -> Result<FunctionCommand, RunError> {
    let Some((program, program_args)) = args.command.split_first() else {
        return Err(RunError::NoCommand);
    };
    let resolved = FunctionCommand::new(program).resolve().map_err(|source| {
        RunError::Function(ReadyError::Spawn {
            program: program.clone(),
            source,
        })
    })?;
    let mut command = match std::env::current_exe() {
        Ok(coda) => FunctionCommand::new(coda)
            .arg(crate::launch::COMMAND)
            .arg(std::process::id().to_string())
            .arg("--")
            .arg(resolved)
            .args(program_args),
        // Without its own path, `coda` runs the function directly: it then outlives a
        // SIGKILLed `coda`, and inherits the blocked termination signals (it still ends
        // with `coda`, killed after the grace).
        Err(_) => FunctionCommand::new(resolved).args(program_args),
    };
    for name in &args.pass_env {
        command = command.pass_env(name);
    }
    for (key, value) in &args.env {
        command = command.env(key, value);
    }
    Ok(command)
}

/// Starts the thread that takes `SIGINT`, `SIGTERM` and `SIGHUP`: it terminates the
/// function's process group and exits with the signal's status.
fn handle_signals(supervisor: Arc<Supervisor>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("coda-signals".into())
        .spawn(move || {
            let Ok(signal) = os::wait_for_termination() else {
                return;
            };
            say(format_args!(
                "{}: shutting the function down",
                signal.name()
            ));
            report_retirement(supervisor.terminate(SHUTDOWN_BUDGET));
            let _ = std::io::stdout().flush();
            std::process::exit(i32::from(signal.exit_status()));
        })
        .map(drop)
}

/// Starts the thread that shuts the function down, as Lambda retires an idle sandbox, each
/// time it has been idle for `idle`; the next invocation starts it again.
fn retire_when_idle(supervisor: Arc<Supervisor>, idle: Duration) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("coda-idle".into())
        .spawn(move || {
            while supervisor.wait_idle(idle) {
                say(format_args!(
                    "idle for {:.1} s: shutting the function down (the next invocation starts it again)",
                    idle.as_secs_f64()
                ));
                report_retirement(supervisor.retire(SHUTDOWN_BUDGET));
            }
        })
        .map(drop)
}

/// One line on how the shutdown went.
fn report_retirement(retirement: Retirement) {
    match retirement {
        Retirement::Exited { after } => say(format_args!(
            "the function exited {:.1} ms after SIGTERM",
            ms(after)
        )),
        Retirement::Killed { after_term: true } => say(format_args!(
            "the function did not exit within {} ms of SIGTERM: killed",
            SHUTDOWN_BUDGET.as_millis()
        )),
        Retirement::Killed { after_term: false } => say(format_args!(
            "the function registered no extension: killed without SIGTERM, as Lambda does"
        )),
        _ => {}
    }
}

/// The lines that say how to invoke the function served at `front`, with the options the
/// function needs (`--url` for another port, `--name` for another name).
fn banner(args: &RunArgs, front: SocketAddr) {
    let mut coda_invoke = String::from("coda invoke");
    if front.port() != DEFAULT_PORT {
        coda_invoke.push_str(&format!(" --url http://{front}"));
    }
    if args.name != "function" {
        coda_invoke.push_str(&format!(" --name {}", args.name));
    }
    say(format_args!(
        "invoke: {coda_invoke} --data '{{}}'  |  curl -H 'content-type: application/json' -d '{{}}' http://{front}/2015-03-31/functions/{}/invocations",
        args.name
    ));
    say(format_args!(
        "Function URL: curl http://{front}/any/path?x=1   (Ctrl-C stops)"
    ));
}

/// Prints the answer to an event that found init failing, and says why it failed; returns
/// `true` (the invocation failed).
fn init_failed_answer(init_error: Option<(String, String)>) -> bool {
    let (kind, body) = init_error.unwrap_or_else(|| {
        (
            "Runtime.ExitError".into(),
            r#"{"errorType":"Runtime.ExitError","errorMessage":"the runtime exited during init"}"#
                .into(),
        )
    });
    print_answer(body.as_bytes());
    say(format_args!("the invocation failed: {kind} (in init)"));
    true
}

/// The answer on stdout, at once.
fn print_answer(payload: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(payload);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// One line of `coda`'s own on stderr.
fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stderr().lock(), "coda: {line}");
}

/// A duration in milliseconds, for display.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
