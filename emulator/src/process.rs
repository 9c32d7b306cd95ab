//! The function process: started with the Lambda environment, its output forwarded and
//! attributed to invocations, and restarted as Lambda would (`docs/runtime-api.md` §7.2 #5, §4.2):
//! after a timeout it is killed and started again (re-init); when it exits on its own, the
//! invocation it was serving fails with `Runtime.ExitError` and a new process starts when
//! the next invocation arrives.
//!
//! The process is known to have exited when both its output pipes close; the supervisor
//! thread then reaps it. This keeps the `Child` in one thread, which can also kill it, with no
//! polling. The command should run the function itself (or `exec` it, as `cargo run` does):
//! a wrapper that forks would keep the pipes open.

use std::ffi::OsString;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::function_command::FunctionCommand;
use crate::lifecycle;
use crate::ready_error::ReadyError;
use crate::state::{Queued, Shared};

/// A supervised function process. Dropping it kills the process.
#[derive(Debug)]
pub struct Supervisor {
    /// The state the process is recorded in.
    shared: Arc<Shared>,
    /// The supervisor thread, joined when supervision stops.
    thread: Option<JoinHandle<()>>,
    /// Why the program could not be started, for `wait_ready`.
    spawn_error: Arc<std::sync::Mutex<Option<io::Error>>>,
    /// The program, for messages.
    program: OsString,
}

impl Supervisor {
    /// Starts supervising `command` with `env` (the Lambda environment) on its own thread.
    pub(crate) fn start(
        shared: Arc<Shared>,
        env: Vec<(String, String)>,
        command: FunctionCommand,
    ) -> io::Result<Supervisor> {
        let spawn_error = Arc::new(std::sync::Mutex::new(None));
        let errors = spawn_error.clone();
        let program = command.program.clone();
        let supervised = shared.clone();
        let thread = std::thread::Builder::new()
            .name("coda-emulator-supervisor".into())
            .spawn(move || supervise(&supervised, &command, &env, &errors))?;
        Ok(Supervisor {
            shared,
            thread: Some(thread),
            spawn_error,
            program,
        })
    }

    /// Waits until the current process asked for its first event; returns how long its init
    /// took. Fails when it exits first or cannot be started.
    pub fn wait_ready(&self, limit: Duration) -> Result<Duration, ReadyError> {
        let result = self.shared.wait(limit, |state| {
            if let Some(error) = self
                .spawn_error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take()
            {
                return Some(Err(ReadyError::Spawn {
                    program: self.program.clone(),
                    source: error,
                }));
            }
            let p = &state.process;
            if p.generation == 0 {
                return None;
            }
            if let (Some(started), Some(ready)) = (p.started_at, p.initialized_at) {
                return Some(Ok(ready.saturating_duration_since(started)));
            }
            if !p.running {
                let init_error = state.init_error.as_ref().map(|r| {
                    (
                        r.function_error.clone(),
                        String::from_utf8_lossy(&r.body).into_owned(),
                    )
                });
                let how = p.last_exit.clone().unwrap_or_else(|| "exited".into());
                return Some(Err(ReadyError::Exited { how, init_error }));
            }
            None
        });
        match result {
            Ok(ready) => ready,
            Err(e) => Err(ReadyError::Wait(e)),
        }
    }

    /// The current process id, while one runs.
    pub fn pid(&self) -> Option<u32> {
        self.shared.read(|s| s.process.pid)
    }

    /// How many processes were started so far (1 + restarts).
    pub fn starts(&self) -> u64 {
        self.shared.read(|s| s.process.generation)
    }

    /// Kills the process and stops supervising.
    pub fn stop(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        self.shared.update(|s| s.process.stop_requested = true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_now();
    }
}

fn supervise(
    shared: &Arc<Shared>,
    command: &FunctionCommand,
    env: &[(String, String)],
    spawn_error: &std::sync::Mutex<Option<io::Error>>,
) {
    loop {
        // The new generation is recorded before the process exists, so that its first `/next`
        // (which may come before `spawn` even returns) counts for it.
        let generation = shared.update(|s| {
            let p = &mut s.process;
            p.generation += 1;
            p.pid = None;
            p.started_at = Some(Instant::now());
            p.initialized_at = None;
            p.cold_pending = true;
            p.running = true;
            p.restart_requested = false;
            p.open_pipes = 2;
            s.init_error = None;
            p.generation
        });
        let mut child = match spawn(command, env) {
            Ok(child) => child,
            Err(e) => {
                *spawn_error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                shared.update(|s| {
                    s.process.running = false;
                    s.process.last_exit = Some("not started".into());
                });
                return;
            }
        };
        let pid = child.id();
        shared.update(|s| {
            if s.process.generation == generation {
                s.process.pid = Some(pid);
            }
        });
        pump(shared, generation, child.stdout.take(), io::stdout);
        pump(shared, generation, child.stderr.take(), io::stderr);

        // Wait for the process to end, or for a reason to end it.
        let reason = shared.wait(Duration::MAX, |s| {
            if s.shutdown || s.process.stop_requested {
                Some(Reason::Stop)
            } else if s.process.restart_requested {
                Some(Reason::Restart)
            } else if s.process.open_pipes == 0 {
                Some(Reason::Exited)
            } else {
                None
            }
        });
        let reason = reason.unwrap_or(Reason::Stop);
        if reason != Reason::Exited {
            let _ = child.kill();
        }
        let status = child.wait();
        let (how, success) = match &status {
            Ok(s) if reason == Reason::Restart => (format!("killed after a timeout ({s})"), false),
            Ok(s) => (s.to_string(), s.success()),
            Err(e) => (format!("unknown exit: {e}"), false),
        };
        shared.update(|s| lifecycle::process_exited(shared, s, generation, &how, success));
        match reason {
            Reason::Stop => return,
            Reason::Restart => continue,
            Reason::Exited => {
                // Start again when there is work (not in a loop if init keeps failing).
                let again = shared.wait(Duration::MAX, |s| {
                    if s.shutdown || s.process.stop_requested {
                        Some(false)
                    } else {
                        s.queue
                            .iter()
                            .any(|q| matches!(q, Queued::Invocation(_)))
                            .then_some(true)
                    }
                });
                if again != Ok(true) {
                    return;
                }
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    Stop,
    Restart,
    Exited,
}

fn spawn(command: &FunctionCommand, env: &[(String, String)]) -> io::Result<Child> {
    let mut process = Command::new(&command.program);
    // Lambda variables inherited from the caller's shell would describe another environment.
    for (key, _) in std::env::vars_os() {
        let key_text = key.to_string_lossy();
        if key_text.starts_with("AWS_LAMBDA_")
            || key_text == "_X_AMZN_TRACE_ID"
            || key_text == "_HANDLER"
        {
            process.env_remove(&key);
        }
    }
    process
        .args(&command.args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Reads a pipe of the process line by line, attributing lines to invocations and passing
/// them on to `out` when the reports are printed;
/// counts the pipe closed when it ends.
fn pump<R, W>(shared: &Arc<Shared>, generation: u64, pipe: Option<R>, out: fn() -> W)
where
    R: Read + Send + 'static,
    W: Write + 'static,
{
    let forward = shared.settings.reports.forwards_output();
    let shared = shared.clone();
    let on_failure = shared.clone();
    let started = std::thread::Builder::new()
        .name("coda-emulator-output".into())
        .spawn(move || {
            if let Some(pipe) = pipe {
                let mut reader = BufReader::new(pipe);
                let mut line = Vec::new();
                while let Ok(n) = reader.read_until(b'\n', &mut line) {
                    if n == 0 {
                        break;
                    }
                    if forward {
                        // A closed stdout (`coda run … | head`) must not stop the draining.
                        let _ = out().write_all(&line);
                    }
                    let text = String::from_utf8_lossy(&line);
                    shared
                        .update(|s| lifecycle::append_log(s, text.trim_end_matches(['\n', '\r'])));
                    line.clear();
                }
            }
            shared.update(|s| {
                if s.process.generation == generation {
                    s.process.open_pipes = s.process.open_pipes.saturating_sub(1);
                }
            });
        });
    if started.is_err() {
        on_failure.update(|s| s.process.open_pipes = s.process.open_pipes.saturating_sub(1));
    }
}
