//! The function process: started with Lambda's environment (and nothing else of the host's
//! unless asked for, [`crate::environment`]) as the leader of a process group of its own,
//! its output kept and attributed to invocations ([`crate::output`]), and restarted as
//! Lambda would (`docs/runtime-api.md` §7.2 #5, §4.2): after a timeout it is killed and
//! started again (re-init); when it exits on its own, the invocation it was serving fails
//! with `Runtime.ExitError` and a new process starts when the next invocation arrives.
//!
//! The group is the sandbox: killing, freezing and terminating act on the whole group, so a
//! wrapper script and what it starts go together, and when the leader (the runtime process)
//! exits, the rest of its group is killed too, as Lambda resets the whole environment. A
//! thread per process waits for the leader's exit without reaping it first, so the group's
//! id cannot be reused before the group is killed.

use std::ffi::OsString;
use std::io;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::environment;
use crate::extension::shutdown_event;
use crate::function_command::FunctionCommand;
use crate::lifecycle;
use crate::os;
use crate::output::{OutputPipe, Stream};
use crate::ready_error::ReadyError;
use crate::state::{Queued, Shared};

/// How long the supervisor waits for the output pipes to close after the process group is
/// gone (a process that left the group may hold them).
const PIPE_GRACE: Duration = Duration::from_secs(2);

/// How [`Supervisor::retire`] ended the function process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Retirement {
    /// It had registered an extension, got `SIGTERM` and exited within the budget, after this
    /// long.
    Exited {
        /// From `SIGTERM` to its exit.
        after: Duration,
    },
    /// It was killed: at once without an extension (`after_term` false), or when it outlasted
    /// the budget after `SIGTERM`.
    Killed {
        /// Whether `SIGTERM` came first.
        after_term: bool,
    },
    /// No function process was running.
    NotRunning,
}

/// A supervised function process. Dropping it kills the process group.
#[derive(Debug)]
pub struct Supervisor {
    /// The state the process is recorded in.
    shared: Arc<Shared>,
    /// The supervisor thread, joined when supervision stops.
    thread: Mutex<Option<JoinHandle<()>>>,
    /// Why the program could not be started, for `wait_ready`.
    spawn_error: Arc<Mutex<Option<io::Error>>>,
    /// The program, for messages.
    program: OsString,
}

impl Supervisor {
    /// Starts supervising `command` on its own thread; its Runtime API is `runtime_api`.
    pub(crate) fn start(
        shared: Arc<Shared>,
        runtime_api: String,
        command: FunctionCommand,
    ) -> io::Result<Supervisor> {
        let spawn_error = Arc::new(Mutex::new(None));
        let errors = spawn_error.clone();
        let program = command.program.clone();
        let supervised = shared.clone();
        let task_root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
        let thread = std::thread::Builder::new()
            .name("coda-emulator-supervisor".into())
            .spawn(move || {
                let launch = Launch {
                    command: &command,
                    runtime_api: &runtime_api,
                    task_root: &task_root,
                };
                supervise(&supervised, &launch, &errors)
            })?;
        Ok(Supervisor {
            shared,
            thread: Mutex::new(Some(thread)),
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

    /// The current process id (the leader of its process group), while one runs.
    pub fn pid(&self) -> Option<u32> {
        self.shared.read(|s| s.process.pid)
    }

    /// How many processes were started so far (1 + restarts).
    pub fn starts(&self) -> u64 {
        self.shared.read(|s| s.process.generation)
    }

    /// Whether the current process is frozen: stopped while it waits in `/next`
    /// ([`crate::EmulatorBuilder::freeze`]).
    pub fn is_frozen(&self) -> bool {
        self.shared.read(|s| s.process.frozen)
    }

    /// Waits until the current process is frozen ([`crate::EmulatorBuilder::freeze`]) and
    /// returns the freeze's record: after which invocation, and the work still running.
    pub fn wait_frozen(&self, limit: Duration) -> Result<crate::Freeze, crate::WaitError> {
        self.shared.wait(limit, |s| {
            s.process.last_freeze.clone().filter(|_| s.process.frozen)
        })
    }

    /// Retires the function process as Lambda retires a sandbox (`docs/runtime-api.md`
    /// §7.4). When it registered an extension, its extensions subscribed to SHUTDOWN get the
    /// event, its process group `SIGTERM` (resumed first if frozen), and what is left after
    /// `budget` (Lambda's is 500 ms with internal extensions) `SIGKILL`. Without an extension,
    /// `SIGKILL` at once: Lambda sends no `SIGTERM` then. Supervision goes on: the next
    /// invocation starts a new process (a cold start). Returns once the process has exited.
    pub fn retire(&self, budget: Duration) -> Retirement {
        let target = self.shared.update(|s| {
            let pid = s.process.pid?;
            let with_extension = !s.extensions.is_empty();
            if with_extension {
                for extension in s.extensions.iter_mut().filter(|e| e.shutdown) {
                    extension.events.push_back(shutdown_event("spindown"));
                }
            }
            Some((pid, s.process.generation, with_extension))
        });
        let Some((pid, generation, with_extension)) = target else {
            return Retirement::NotRunning;
        };
        let exited = |limit| {
            self.shared
                .wait_through_shutdown(limit, |s| {
                    (s.process.generation != generation || s.process.exit.is_some()).then_some(())
                })
                .is_ok()
        };
        let retirement = if with_extension {
            let began = Instant::now();
            let _ = os::terminate_group(pid);
            if exited(budget) {
                Retirement::Exited {
                    after: began.elapsed(),
                }
            } else {
                let _ = os::kill_group(pid);
                Retirement::Killed { after_term: true }
            }
        } else {
            let _ = os::kill_group(pid);
            Retirement::Killed { after_term: false }
        };
        exited(PIPE_GRACE.max(Duration::from_secs(5)));
        retirement
    }

    /// Ends the function as Lambda ends a sandbox ([`Supervisor::retire`]), then stops
    /// supervising. Returns once the process has exited.
    pub fn terminate(&self, budget: Duration) -> Retirement {
        let retirement = self.retire(budget);
        self.stop_now();
        retirement
    }

    /// Waits until the function has been idle — running, initialized, no invocation queued
    /// or in flight — for `idle` without a break; `false` when supervision or the emulator
    /// stopped first.
    pub fn wait_idle(&self, idle: Duration) -> bool {
        loop {
            let since = self.shared.wait(Duration::MAX, |s| {
                if s.process.stop_requested {
                    return Some(None);
                }
                let busy = !s.queue.is_empty() || !s.in_flight.is_empty();
                let ready = s.process.running && s.process.initialized_at.is_some();
                (!busy && ready).then(|| {
                    Some(
                        s.last_activity
                            .into_iter()
                            .chain(s.process.initialized_at)
                            .max()
                            .unwrap_or_else(Instant::now),
                    )
                })
            });
            let since = match since {
                Ok(Some(since)) => since,
                _ => return false,
            };
            let end = since + idle;
            let left = end.saturating_duration_since(Instant::now());
            // Quiet until `end` (any change wakes the wait): idle long enough.
            let changed = self.shared.wait(left, |s| {
                let busy = !s.queue.is_empty() || !s.in_flight.is_empty();
                (busy || s.process.stop_requested || s.last_activity.is_some_and(|a| a > since))
                    .then_some(())
            });
            if changed.is_err() && Instant::now() >= end {
                return !self.shared.read(|s| s.shutdown || s.process.stop_requested);
            }
        }
    }

    /// Kills the process group and stops supervising.
    pub fn stop(self) {
        self.stop_now();
    }

    fn stop_now(&self) {
        self.shared.update(|s| s.process.stop_requested = true);
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
    }
}

impl Drop for Supervisor {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// What starting the function process takes.
struct Launch<'a> {
    /// The command.
    command: &'a FunctionCommand,
    /// The Runtime API address for `AWS_LAMBDA_RUNTIME_API`.
    runtime_api: &'a str,
    /// `LAMBDA_TASK_ROOT`.
    task_root: &'a std::path::Path,
}

/// Why the supervisor stopped waiting on a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    /// Supervision stops (or the emulator shuts down).
    Stop,
    /// A timeout: kill and start again.
    Restart,
    /// The process exited on its own.
    Exited,
}

fn supervise(shared: &Arc<Shared>, launch: &Launch<'_>, spawn_error: &Mutex<Option<io::Error>>) {
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
            p.exit = None;
            p.peak_kb = None;
            p.frozen = false;
            p.last_freeze = None;
            s.init_error = None;
            // A new process registers its own extensions.
            s.extensions.clear();
            p.generation
        });
        let mut child = match spawn(shared, launch) {
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
        for (pipe, stream) in [
            (child.stdout.take().map(Into::into), Stream::Stdout),
            (child.stderr.take().map(Into::into), Stream::Stderr),
        ] {
            let started = pipe
                .map(|fd: std::os::fd::OwnedFd| OutputPipe::start(shared, generation, fd, stream));
            if !matches!(started, Some(Ok(()))) {
                shared.update(|s| s.process.open_pipes = s.process.open_pipes.saturating_sub(1));
            }
        }
        watch_exit(shared, generation, child);

        // Wait for the process to end, or for a reason to end it.
        let reason = shared
            .wait(Duration::MAX, |s| {
                if s.shutdown || s.process.stop_requested {
                    Some(Reason::Stop)
                } else if s.process.restart_requested {
                    Some(Reason::Restart)
                } else if s.process.exit.is_some() {
                    Some(Reason::Exited)
                } else {
                    None
                }
            })
            .unwrap_or(Reason::Stop);
        if reason != Reason::Exited {
            let _ = os::kill_group(pid);
        }
        let exit = shared
            .wait_through_shutdown(Duration::MAX, |s| s.process.exit.clone())
            .unwrap_or_else(|_| ("unknown exit".into(), false));
        // What the process wrote before it died is attributed before its exit is.
        let _ =
            shared.wait_through_shutdown(PIPE_GRACE, |s| (s.process.open_pipes == 0).then_some(()));
        let (how, success) = match reason {
            Reason::Restart => (format!("killed after a timeout ({})", exit.0), false),
            _ => exit,
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

/// Starts the function process: the command's program (found on the host's `PATH`) with
/// Lambda's environment plus what the command asks for, leading a process group of its own.
fn spawn(shared: &Shared, launch: &Launch<'_>) -> io::Result<Child> {
    let command = launch.command;
    let program = command.resolve()?;
    let mut process = Command::new(program);
    process
        .env_clear()
        .envs(environment::lambda_env(
            &shared.settings,
            launch.runtime_api.to_owned(),
            launch.task_root,
        ))
        .args(&command.args);
    for (name, value) in std::env::vars_os() {
        let name_text = name.to_string_lossy();
        if environment::is_reserved(&name_text) {
            continue;
        }
        let passed = command
            .pass
            .iter()
            .any(|pattern| environment::matches(pattern, &name));
        let handler = name_text == "_HANDLER" && shared.settings.handler.is_none();
        if passed || handler {
            process.env(&name, &value);
        }
    }
    process
        .envs(command.env.iter().map(|(k, v)| (k, v)))
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Waits for the process of `generation` to exit on its own thread: then kills the rest of
/// its group, reaps it and records how it ended. (If no thread can be started, the process
/// is killed and recorded at once.)
fn watch_exit(shared: &Arc<Shared>, generation: u64, child: Child) {
    let held = Arc::new(Mutex::new(Some(child)));
    let in_thread = held.clone();
    let recorder = shared.clone();
    let spawned = std::thread::Builder::new()
        .name("coda-emulator-reaper".into())
        .spawn(move || {
            let taken = in_thread.lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(child) = taken {
                reap(&recorder, generation, child, false);
            }
        });
    if spawned.is_err() {
        let taken = held.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(child) = taken {
            reap(shared, generation, child, true);
        }
    }
}

/// Waits for `child` to exit (killing its group first when `kill_now`), kills what is left
/// of its group, reaps it and records how it ended.
fn reap(shared: &Shared, generation: u64, mut child: Child, kill_now: bool) {
    let pid = child.id();
    if kill_now {
        let _ = os::kill_group(pid);
    }
    let _ = os::wait_exited_unreaped(pid);
    // The runtime process is gone: Lambda resets the sandbox, so its group goes too.
    let _ = os::kill_group(pid);
    let exit = match child.wait() {
        Ok(status) => (status.to_string(), status.success()),
        Err(e) => (format!("unknown exit: {e}"), false),
    };
    shared.update(|s| {
        if s.process.generation == generation {
            s.process.exit = Some(exit);
            s.process.frozen = false;
        }
    });
}
