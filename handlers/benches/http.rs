//! The HTTP benchmark's driver (`bench/http.sh`, BENCHMARKS.md): runs a function command —
//! typically `valgrind --tool=callgrind … <echo>` — as a child process with
//! `Emulator::function_env()` as its environment, invokes it N times with one HTTP event,
//! one invocation at a time, checks every answer (status 200, the event's body echoed), then
//! shuts the emulator down and waits for the function to exit (so callgrind writes its
//! counts):
//!
//!     cargo bench -p coda-handlers --bench http -- --invocations 1000 --event EVENT.json -- COMMAND…
//!
//! Prints one line, `invocations=N answered=N`. Only `cargo bench` runs it (cargo passes
//! `--bench`); under `cargo test --all-targets` it prints a note and exits.

use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use coda_emulator::{Emulator, Invoke};
use serde_json::Value;

/// The limit of any one wait (valgrind makes a function ~50× slower, its start much more).
const LIMIT: Duration = Duration::from_secs(300);

type Result<T> = std::result::Result<T, String>;

struct Options {
    invocations: usize,
    event: PathBuf,
    command: Vec<String>,
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("http: a benchmark driver; bench/http.sh runs it (see BENCHMARKS.md)");
        return ExitCode::SUCCESS;
    }
    match parse(&args).and_then(|options| drive(&options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("http bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn parse(args: &[String]) -> Result<Options> {
    let usage = "usage: http --invocations N --event FILE -- COMMAND [ARGS…]";
    let split = args.iter().position(|a| a == "--").ok_or(usage)?;
    let (flags, command) = (&args[..split], &args[split + 1..]);
    let mut options = Options {
        invocations: 1000,
        event: PathBuf::new(),
        command: command.to_vec(),
    };
    let mut flags = flags.iter().filter(|a| *a != "--bench");
    while let Some(flag) = flags.next() {
        let mut value = || flags.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--invocations" => {
                let text = value()?;
                options.invocations = text.parse().map_err(|_| format!("not a number: {text}"))?;
            }
            "--event" => options.event = PathBuf::from(value()?),
            other => return Err(format!("unknown option {other}; {usage}")),
        }
    }
    if options.command.is_empty() || options.event.as_os_str().is_empty() {
        return Err(usage.into());
    }
    Ok(options)
}

fn drive(options: &Options) -> Result<()> {
    let event =
        std::fs::read(&options.event).map_err(|e| format!("{}: {e}", options.event.display()))?;
    let parsed: Value = serde_json::from_slice(&event).map_err(|e| format!("the event: {e}"))?;
    let expected_body = parsed["body"].clone();
    let mut emulator = Emulator::builder()
        .timeout(LIMIT)
        .start()
        .map_err(|e| format!("emulator: {e}"))?;
    let mut command = Command::new(&options.command[0]);
    command
        .args(&options.command[1..])
        .env_clear()
        .envs(emulator.function_env())
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    if let Some(path) = std::env::var_os("PATH") {
        command.env("PATH", path);
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("{}: {e}", options.command[0]))?;
    let result = invoke_all(&emulator, &event, &expected_body, options.invocations);
    emulator.shutdown();
    let exited = wait_exit(&mut child);
    let answered = result?;
    exited?;
    println!("invocations={} answered={answered}", options.invocations);
    Ok(())
}

/// Invokes `n` times, one at a time; the number of correct answers.
fn invoke_all(emulator: &Emulator, event: &[u8], body: &Value, n: usize) -> Result<usize> {
    emulator
        .wait_parked(LIMIT)
        .map_err(|e| format!("the function never polled /next: {e}"))?;
    for i in 0..n {
        let pending = emulator.invoke(Invoke::new(event));
        let answer = pending
            .answer(LIMIT)
            .map_err(|e| format!("invocation {i}: {e}"))?;
        let json = answer.json().unwrap_or(Value::Null);
        if json["statusCode"] != 200 || json["body"] != *body {
            return Err(format!("invocation {i}: unexpected answer {json}"));
        }
        pending
            .finished(LIMIT)
            .map_err(|e| format!("invocation {i} never finished: {e}"))?;
    }
    Ok(n)
}

/// Waits (bounded) for the function to exit on its own after the emulator's shutdown.
fn wait_exit(child: &mut Child) -> Result<()> {
    let (tx, rx) = mpsc::channel();
    let pid = child.id();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let _ = tx.send(child.wait());
        });
        match rx.recv_timeout(LIMIT) {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("waiting for the function: {e}")),
            Err(_) => {
                // Unblocks the waiting thread; the run is reported as failed.
                let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
                Err(format!("the function (pid {pid}) did not exit: killed"))
            }
        }
    })
}
