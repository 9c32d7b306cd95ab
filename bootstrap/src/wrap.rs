//! `coda wrap [--after-response CMD] [--after-error CMD] [--files] [--shell PATH]
//! [--margin MS] -- <runtime command...>`: any runtime (Python, Node, Java, a container
//! image, a custom runtime) behind a Runtime API proxy that runs a command after each
//! invocation's answer and holds the runtime's next `/next` until the command has ended —
//! the caller has its answer at once, the command runs inside the invocation, as deferred
//! work does in Coda's own runtime. A drop-in for aws-lambda-post-runner: its variables
//! work unchanged ([`config`]), as the entry command of a custom runtime or container image
//! and as the `AWS_LAMBDA_EXEC_WRAPPER` script of a layer (`coda package --layer`).
//!
//! What happens, top down:
//! 1. the termination signals are blocked (they are taken by a thread of their own), the
//!    settings read, the proxy bound to a free port on 127.0.0.1 ([`proxy`]);
//! 2. the runtime starts as a child with `AWS_LAMBDA_RUNTIME_API` pointing at the proxy,
//!    through `coda __launch` (it dies with coda wrap, even of `SIGKILL`), in a process
//!    group of its own;
//! 3. a termination signal to coda wrap goes on to the runtime's group as `SIGTERM` (a
//!    second one as `SIGKILL`);
//! 4. when the runtime exits, the commands still running are killed and coda wrap exits
//!    with the runtime's status (128 + the signal when a signal ended it): on Lambda the
//!    sandbox is then started again.

mod config;
mod error;
mod gate;
mod http;
mod invocations;
mod log;
mod proxy;
mod runner;
mod spawner;
mod upstream;

use std::ffi::OsString;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus};
use std::sync::{Arc, Mutex};

use coda_emulator::os;

use crate::cli::WrapArgs;

pub use error::WrapError;

use gate::Gate;
use invocations::Files;
use log::Log;
use proxy::Proxy;
use runner::Runner;
use spawner::Spawner;
use upstream::Upstream;

/// Runs `coda wrap`; returns the exit status to end with (the runtime's).
pub fn run(args: &WrapArgs) -> Result<u8, WrapError> {
    // Before any thread exists, so that every thread inherits the mask.
    os::block_termination_signals().map_err(WrapError::Signals)?;
    let settings = config::settings(
        args,
        |key| std::env::var(key).ok(),
        |path| {
            std::fs::metadata(path).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 != 0
            })
        },
    )
    .map_err(WrapError::Settings)?;
    let log = settings.log;
    for warning in &settings.warnings {
        log.warn(None, format_args!("{warning}"));
    }
    let (program, program_args) = args.command.split_first().ok_or(WrapError::NoCommand)?;

    let listener =
        TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).map_err(WrapError::Listen)?;
    let proxy_addr = listener.local_addr().map_err(WrapError::Listen)?;
    let files = match settings.files {
        true => Some(Files::create().map_err(WrapError::Files)?),
        false => None,
    };
    let files_dir = files.as_ref().map(|f| f.dir().to_path_buf());
    let launcher = std::env::current_exe().ok();
    let runner = Arc::new(Runner::new(
        settings.shell.clone(),
        settings.margin,
        log,
        launcher.clone(),
        Spawner::start().map_err(WrapError::Thread)?,
    ));
    let proxy = Arc::new(Proxy::new(
        Upstream::new(&settings.runtime_api),
        Gate::new(settings.concurrency <= 1),
        runner.clone(),
        settings.after_response.clone(),
        settings.after_error.clone(),
        files,
        log,
    ));
    proxy.serve(listener).map_err(WrapError::Thread)?;

    let mut child = runtime_command(program, program_args, launcher.as_deref(), proxy_addr)
        .spawn()
        .map_err(|source| WrapError::Start {
            program: program.clone(),
            source,
        })?;
    let pid = child.id();
    log.debug(
        None,
        format_args!(
            "the runtime runs as process {pid}, its Runtime API is {proxy_addr}, in front of {}",
            settings.runtime_api
        ),
    );
    let signals = Arc::new(Mutex::new(Signals::default()));
    forward_signals(pid, signals.clone(), log).map_err(WrapError::Thread)?;

    // Not reaped yet: its group id cannot be reused while the signal thread may use it.
    let _ = os::wait_exited_unreaped(pid);
    let forwarded = {
        let mut signals = signals.lock().unwrap_or_else(|p| p.into_inner());
        signals.gone = true;
        signals.forwarded
    };
    let status = child.wait().map_err(WrapError::Wait)?;
    runner.kill_all();
    if let Some(dir) = files_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    let code = exit_code(status);
    // Ended on a signal passed on: expected. Ended by itself: Lambda starts a new sandbox.
    let level = if forwarded > 0 {
        log::Level::Info
    } else {
        log::Level::Warn
    };
    log.line(
        level,
        None,
        format_args!("the runtime exited ({status}): coda wrap exits with status {code}"),
    );
    Ok(code)
}

/// The runtime's command: `coda __launch <pid> -- <program> <args…>` when coda's own path
/// is known, with the proxy as its Runtime API, in a process group of its own.
fn runtime_command(
    program: &OsString,
    program_args: &[OsString],
    launcher: Option<&std::path::Path>,
    proxy: SocketAddr,
) -> Command {
    let mut command = match launcher {
        Some(coda) => {
            let mut c = Command::new(coda);
            c.arg(crate::launch::COMMAND)
                .arg(std::process::id().to_string())
                .arg("--")
                .arg(program);
            c
        }
        // Without its own path, coda wrap starts the runtime directly: it then inherits the
        // blocked termination signals and outlives a SIGKILLed coda wrap.
        None => Command::new(program),
    };
    command
        .args(program_args)
        .env("AWS_LAMBDA_RUNTIME_API", proxy.to_string())
        .process_group(0);
    command
}

/// What the signal thread and the main thread share about the runtime's process.
#[derive(Debug, Default)]
struct Signals {
    /// The runtime has exited: its group may no longer be signalled.
    gone: bool,
    /// How many signals were passed on.
    forwarded: u32,
}

/// Starts the thread that passes termination signals on to the runtime's process group:
/// the first as `SIGTERM`, any later one as `SIGKILL`.
fn forward_signals(pid: u32, shared: Arc<Mutex<Signals>>, log: Log) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("coda-wrap-signals".into())
        .spawn(move || {
            while let Ok(signal) = os::wait_for_termination() {
                let mut shared = shared.lock().unwrap_or_else(|p| p.into_inner());
                if shared.gone {
                    continue;
                }
                shared.forwarded += 1;
                if shared.forwarded == 1 {
                    log.info(
                        None,
                        format_args!(
                            "{}: passing it on to the runtime (process {pid}) as SIGTERM",
                            signal.name()
                        ),
                    );
                    let _ = os::terminate_group(pid);
                } else {
                    log.info(
                        None,
                        format_args!(
                            "{} again: killing the runtime (process {pid})",
                            signal.name()
                        ),
                    );
                    let _ = os::kill_group(pid);
                }
            }
        })
        .map(drop)
}

/// The status to exit with for the runtime's `status`: its code, or 128 + the signal that
/// ended it, as a shell reports it.
fn exit_code(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(code), _) => u8::try_from(code & 0xff).unwrap_or(1),
        (None, Some(signal)) => u8::try_from(128 + (signal & 0x7f)).unwrap_or(1),
        (None, None) => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A code is kept; a signal is 128 + its number.
    #[test]
    fn exit_codes() {
        assert_eq!(exit_code(ExitStatus::from_raw(0)), 0);
        assert_eq!(exit_code(ExitStatus::from_raw(7 << 8)), 7);
        assert_eq!(exit_code(ExitStatus::from_raw(15)), 143);
        assert_eq!(exit_code(ExitStatus::from_raw(9)), 137);
    }
}
