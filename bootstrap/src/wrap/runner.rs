//! One command after one answer: started once the runtime has the Runtime API's answer to
//! its `/response` or `/error`, with the invocation in its environment, bounded by the
//! invocation's deadline minus the margin, and reported with the request id — its output
//! line by line as it comes, then its exit status and duration. The runtime's next `/next`
//! waits for it ([`super::gate`]): the [`Ticket`] is dropped when the command has ended,
//! was killed, or could not start.
//!
//! The command runs as `SHELL -c COMMAND` through `coda __launch` (on the spawner's
//! thread), in a process group of its own: past the bound the group gets `SIGTERM`, then
//! `SIGKILL` [`KILL_GRACE`] later, and when the command's shell exits whatever it left
//! running in its group is killed too, so nothing it started runs into the next invocation.
//!
//! Its environment is coda wrap's (the function's) plus:
//!
//! | variable | value |
//! | --- | --- |
//! | `CODA_REQUEST_ID` | the request id |
//! | `CODA_DEADLINE_MS` | the invocation's deadline, Unix epoch milliseconds |
//! | `CODA_REMAINING_MS` | milliseconds left before the deadline when the command started |
//! | `CODA_BUDGET_MS` | milliseconds the command may run before it is stopped (the remaining time less the margin) |
//! | `CODA_OUTCOME` | `response` or `error` |
//! | `CODA_ERROR_TYPE` | after an error: the error type the runtime gave |
//! | `CODA_FUNCTION_ARN` | the invoked function ARN (with the qualifier the caller used) |
//! | `CODA_EVENT_FILE`, `CODA_ANSWER_FILE` | with `--files`: files holding the event and the answer's body, as they passed |

use std::collections::HashSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use coda_emulator::os;

use super::gate::Ticket;
use super::invocations::Invocation;
use super::log::Log;
use super::spawner::Spawner;

/// How long a command has between `SIGTERM` and `SIGKILL` once it overran.
pub const KILL_GRACE: Duration = Duration::from_millis(100);
/// How long the runner waits for a killed command to be reaped, and for the last output
/// of an ended one, before it lets the `/next` through anyway.
const LAST_WAIT: Duration = Duration::from_millis(500);
/// The longest output line kept whole (longer ones are cut, and say so).
const MAX_LINE: usize = 16 * 1024;

/// How an invocation was answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A response the Runtime API accepted.
    Response,
    /// An error: `/error`, an error trailer on a streamed response, or a response refused
    /// as too large; with the error type.
    Error(String),
}

impl Outcome {
    /// `response` or `error`, as `CODA_OUTCOME` says it.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Response => "response",
            Outcome::Error(_) => "error",
        }
    }

    /// The command's name in log lines.
    fn label(&self) -> &'static str {
        match self {
            Outcome::Response => "after-response command",
            Outcome::Error(_) => "after-error command",
        }
    }
}

/// A command to run for an answered invocation.
#[derive(Debug)]
pub struct Job {
    /// The invocation.
    pub invocation: Invocation,
    /// How it was answered.
    pub outcome: Outcome,
    /// The shell command.
    pub command: String,
    /// The answer's file, with `--files`.
    pub answer_file: Option<PathBuf>,
    /// The hold on the runtime's next `/next`.
    pub ticket: Ticket,
}

/// What every command shares: how to start it, how long it may run, where to report.
#[derive(Debug)]
pub struct Runner {
    /// The shell.
    shell: PathBuf,
    /// How long before the deadline a command is stopped.
    margin: Duration,
    /// Where lines go.
    log: Log,
    /// `coda` itself, for `coda __launch`, when its path is known.
    launcher: Option<PathBuf>,
    /// The thread that starts processes.
    spawner: Spawner,
    /// The process groups of the commands running now.
    running: Mutex<HashSet<u32>>,
}

/// A command's exit, as its waiter thread saw it.
#[derive(Debug, Default)]
struct Exit {
    /// The status, once it has exited and was reaped.
    status: Mutex<Option<std::io::Result<ExitStatus>>>,
    /// Notified when `status` is set.
    done: Condvar,
}

impl Runner {
    /// A runner of commands in `shell`, stopped `margin` before the deadline.
    pub fn new(
        shell: PathBuf,
        margin: Duration,
        log: Log,
        launcher: Option<PathBuf>,
        spawner: Spawner,
    ) -> Runner {
        Runner {
            shell,
            margin,
            log,
            launcher,
            spawner,
            running: Mutex::new(HashSet::new()),
        }
    }

    /// Runs `job` on a thread of its own.
    pub fn start(self: &Arc<Self>, job: Job) {
        let runner = self.clone();
        let id = job.invocation.request_id.clone();
        let started = std::thread::Builder::new()
            .name("coda-wrap-command".into())
            .spawn(move || runner.run(job));
        if let Err(e) = started {
            // The job (and its ticket) was dropped with the closure: the /next goes on.
            self.log.error(
                Some(&id),
                format_args!(
                    "cannot start a thread for the command: {e}; the runtime goes on without it"
                ),
            );
        }
    }

    /// Kills every command still running (coda wrap is ending).
    pub fn kill_all(&self) {
        for group in self.lock_running().drain() {
            let _ = os::kill_group(group);
        }
    }

    /// The running groups, even after a panic elsewhere.
    fn lock_running(&self) -> std::sync::MutexGuard<'_, HashSet<u32>> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs one command to its end, or to its bound.
    fn run(self: Arc<Self>, job: Job) {
        let id = job.invocation.request_id.as_str();
        let label = job.outcome.label();
        let now = Instant::now();
        let deadline = job.invocation.deadline;
        let bound = deadline.map(|d| d.at.checked_sub(self.margin).unwrap_or(now));
        if let Some(bound) = bound
            && bound <= now
        {
            let left = deadline.map(|d| d.remaining()).unwrap_or_default();
            self.log.error(
                Some(id),
                format_args!(
                    "the {label} did not start: {:.0} ms were left before the deadline, within the margin of {:.0} ms",
                    ms(left),
                    ms(self.margin)
                ),
            );
            self.finish(job);
            return;
        }
        if let Err(e) = runnable(&self.shell) {
            self.log.error(
                Some(id),
                format_args!(
                    "the {label} could not start: the shell {} cannot be run ({e}); set AWS_LAMBDA_POST_RUNNER_SHELL or --shell to a shell that exists",
                    self.shell.display()
                ),
            );
            self.finish(job);
            return;
        }
        let (reader, writer) = match std::io::pipe() {
            Ok(pair) => pair,
            Err(e) => {
                self.log.error(
                    Some(id),
                    format_args!("the {label} could not start: no pipe for its output: {e}"),
                );
                self.finish(job);
                return;
            }
        };
        let command = match self.command(&job, bound, writer) {
            Ok(command) => command,
            Err(e) => {
                self.log.error(
                    Some(id),
                    format_args!("the {label} could not start: no pipe for its output: {e}"),
                );
                self.finish(job);
                return;
            }
        };
        let started = Instant::now();
        let mut child = match self.spawner.spawn(command) {
            Ok(child) => child,
            Err(e) => {
                self.log.error(
                    Some(id),
                    format_args!(
                        "the {label} could not start ({} -c …): {e}",
                        self.shell.display()
                    ),
                );
                self.finish(job);
                return;
            }
        };
        let pid = child.id();
        self.lock_running().insert(pid);
        self.log.debug(
            Some(id),
            format_args!("the {label} started (process {pid}): {}", job.command),
        );
        let output = self.read_output(reader, id, label);

        let exit = Arc::new(Exit::default());
        let waiter = {
            let exit = exit.clone();
            let runner = self.clone();
            std::thread::Builder::new()
                .name("coda-wrap-waiter".into())
                .spawn(move || {
                    // Not reaped yet: its group id cannot be reused while it is killed.
                    let _ = os::wait_exited_unreaped(pid);
                    let _ = os::kill_group(pid);
                    // No longer killed by `kill_all` once it is reaped (its id may be reused).
                    runner.lock_running().remove(&pid);
                    let status = child.wait();
                    *exit.status.lock().unwrap_or_else(|p| p.into_inner()) = Some(status);
                    exit.done.notify_all();
                })
        };
        if let Err(e) = waiter {
            self.log.error(
                Some(id),
                format_args!("cannot watch the {label} (process {pid}): {e}; stopping it"),
            );
            let _ = os::kill_group(pid);
            self.lock_running().remove(&pid);
            self.finish(job);
            return;
        }

        let mut status = wait_exit(&exit, bound);
        let mut stopped = false;
        if status.is_none() {
            stopped = true;
            let left = deadline.map(|d| d.remaining()).unwrap_or_default();
            self.log.error(
                Some(id),
                format_args!(
                    "the {label} was still running after {:.1} ms, {:.0} ms before the invocation's deadline: stopping it (SIGTERM to its process group, SIGKILL {:.0} ms later) so that the runtime can ask for its next event in time",
                    ms(started.elapsed()),
                    ms(left),
                    ms(KILL_GRACE)
                ),
            );
            let _ = os::terminate_group(pid);
            status = wait_exit(&exit, Some(Instant::now() + KILL_GRACE));
            if status.is_none() {
                let _ = os::kill_group(pid);
                status = wait_exit(&exit, Some(Instant::now() + LAST_WAIT));
            }
        }
        let took = started.elapsed();
        // Its last lines before its result.
        let _ = output.recv_timeout(LAST_WAIT);
        self.lock_running().remove(&pid);
        self.report(id, label, status, took, stopped);
        self.finish(job);
    }

    /// `SHELL -c COMMAND` (through the launcher), in a group of its own, with the
    /// invocation's variables and its output into `writer`.
    fn command(
        &self,
        job: &Job,
        bound: Option<Instant>,
        writer: std::io::PipeWriter,
    ) -> std::io::Result<Command> {
        let mut command = match &self.launcher {
            Some(coda) => {
                let mut c = Command::new(coda);
                c.arg(crate::launch::COMMAND)
                    .arg(std::process::id().to_string())
                    .arg("--")
                    .arg(&self.shell);
                c
            }
            None => Command::new(&self.shell),
        };
        command
            .arg("-c")
            .arg(&job.command)
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(writer.try_clone()?)
            .stderr(writer);
        for (key, value) in variables(job, bound) {
            match value {
                Some(value) => command.env(key, value),
                None => command.env_remove(key),
            };
        }
        Ok(command)
    }

    /// Logs each line of the command's output as it comes; the receiver gets a message at
    /// the end of the output.
    fn read_output(
        &self,
        reader: std::io::PipeReader,
        id: &str,
        label: &'static str,
    ) -> std::sync::mpsc::Receiver<()> {
        let (done, end) = std::sync::mpsc::channel();
        let log = self.log;
        let owned = id.to_owned();
        let spawned = std::thread::Builder::new()
            .name("coda-wrap-output".into())
            .spawn(move || {
                let mut lines = BufReader::new(reader);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match read_line(&mut lines, &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let text = String::from_utf8_lossy(&line);
                            let text = text.trim_end_matches(['\n', '\r']);
                            log.info(Some(&owned), format_args!("{label} output: {text}"));
                        }
                    }
                }
                let _ = done.send(());
            });
        if spawned.is_err() {
            self.log.warn(
                Some(id),
                format_args!(
                    "cannot start the thread that reads the {label}'s output: its output is lost"
                ),
            );
        }
        end
    }

    /// The line that says how the command ended.
    fn report(
        &self,
        id: &str,
        label: &str,
        status: Option<std::io::Result<ExitStatus>>,
        took: Duration,
        stopped: bool,
    ) {
        let took = ms(took);
        match status {
            Some(Ok(status)) if stopped => self.log.error(
                Some(id),
                format_args!(
                    "the {label} was stopped at the deadline margin: {} after {took:.1} ms",
                    describe(status)
                ),
            ),
            Some(Ok(status)) if status.success() => self.log.info(
                Some(id),
                format_args!("the {label} exited with status 0 after {took:.1} ms"),
            ),
            Some(Ok(status)) => self.log.warn(
                Some(id),
                format_args!("the {label} failed: {} after {took:.1} ms", describe(status)),
            ),
            Some(Err(e)) => self.log.error(
                Some(id),
                format_args!("cannot learn how the {label} ended: {e}"),
            ),
            None => self.log.error(
                Some(id),
                format_args!(
                    "the {label} did not end {took:.1} ms after it was killed; letting the runtime go on"
                ),
            ),
        }
    }

    /// Removes the invocation's files and releases its `/next`.
    fn finish(&self, job: Job) {
        let Job {
            invocation,
            answer_file,
            ticket,
            ..
        } = job;
        for file in [invocation.event_file, answer_file].into_iter().flatten() {
            let _ = std::fs::remove_file(file);
        }
        drop(ticket);
    }
}

/// The invocation's variables for the command: each set, or removed when it does not apply
/// (so that none is inherited from coda wrap's own environment).
fn variables(job: &Job, bound: Option<Instant>) -> Vec<(&'static str, Option<OsString>)> {
    let invocation = &job.invocation;
    let now = Instant::now();
    let text = |s: String| Some(OsString::from(s));
    vec![
        ("CODA_REQUEST_ID", text(invocation.request_id.clone())),
        (
            "CODA_DEADLINE_MS",
            invocation
                .deadline
                .and_then(|d| text(d.epoch_ms.to_string())),
        ),
        (
            "CODA_REMAINING_MS",
            invocation
                .deadline
                .and_then(|d| text(d.remaining().as_millis().to_string())),
        ),
        (
            "CODA_BUDGET_MS",
            bound.and_then(|b| text(b.saturating_duration_since(now).as_millis().to_string())),
        ),
        ("CODA_OUTCOME", text(job.outcome.word().to_owned())),
        (
            "CODA_ERROR_TYPE",
            match &job.outcome {
                Outcome::Error(kind) => text(kind.clone()),
                Outcome::Response => None,
            },
        ),
        ("CODA_FUNCTION_ARN", invocation.arn.clone().and_then(text)),
        (
            "CODA_EVENT_FILE",
            invocation.event_file.clone().map(OsString::from),
        ),
        (
            "CODA_ANSWER_FILE",
            job.answer_file.clone().map(OsString::from),
        ),
    ]
}

/// Waits for the command's exit until `until` (forever when `None`).
fn wait_exit(exit: &Exit, until: Option<Instant>) -> Option<std::io::Result<ExitStatus>> {
    let mut status = exit.status.lock().unwrap_or_else(|p| p.into_inner());
    loop {
        if let Some(status) = status.take() {
            return Some(status);
        }
        match until {
            None => status = exit.done.wait(status).unwrap_or_else(|p| p.into_inner()),
            Some(until) => {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return None;
                }
                status = exit
                    .done
                    .wait_timeout(status, left)
                    .unwrap_or_else(|p| p.into_inner())
                    .0;
            }
        }
    }
}

/// Reads one line (at most [`MAX_LINE`] bytes; the rest of a longer one is dropped).
fn read_line(reader: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut total = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(total);
        }
        let (piece, found) = match available.iter().position(|&b| b == b'\n') {
            Some(end) => (available.get(..=end).unwrap_or(available), true),
            None => (available, false),
        };
        let n = piece.len();
        let room = MAX_LINE.saturating_sub(line.len());
        line.extend_from_slice(piece.get(..n.min(room)).unwrap_or(piece));
        if n > room && !line.ends_with(b"[cut]") {
            line.extend_from_slice(b" [cut]");
        }
        reader.consume(n);
        total += n;
        if found {
            return Ok(total);
        }
    }
}

/// Whether `shell` is a file that can be run.
fn runnable(shell: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let metadata = std::fs::metadata(shell)?;
    if !metadata.is_file() || metadata.permissions().mode() & 0o111 == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "not an executable file",
        ));
    }
    Ok(())
}

/// "exited with status 3" or "was killed by signal 9 (SIGKILL)".
fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("it exited with status {code}"),
        (None, Some(signal)) => format!("it was killed by signal {signal}{}", signal_name(signal)),
        (None, None) => format!("it ended ({status})"),
    }
}

/// ` (SIGTERM)` for the signals a command is usually ended by.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    }
}

/// A duration in milliseconds, for display.
fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Long lines are cut, short ones kept, the end of input is 0.
    #[test]
    fn output_lines() {
        let long = vec![b'x'; MAX_LINE + 100];
        let mut input = Vec::new();
        input.extend_from_slice(b"one\n");
        input.extend_from_slice(&long);
        input.extend_from_slice(b"\nlast");
        let mut reader = BufReader::with_capacity(64, &input[..]);
        let mut line = Vec::new();
        assert_eq!(read_line(&mut reader, &mut line).unwrap(), 4);
        assert_eq!(line, b"one\n");
        line.clear();
        read_line(&mut reader, &mut line).unwrap();
        assert!(
            line.len() <= MAX_LINE + 6 && line.ends_with(b" [cut]"),
            "{}",
            line.len()
        );
        line.clear();
        read_line(&mut reader, &mut line).unwrap();
        assert_eq!(line, b"last");
        line.clear();
        assert_eq!(read_line(&mut reader, &mut line).unwrap(), 0);
    }

    /// How a status reads.
    #[test]
    fn statuses() {
        assert_eq!(
            describe(ExitStatus::from_raw(3 << 8)),
            "it exited with status 3"
        );
        assert_eq!(
            describe(ExitStatus::from_raw(9)),
            "it was killed by signal 9 (SIGKILL)"
        );
        assert!(runnable(Path::new("/bin/sh")).is_ok());
        assert!(runnable(Path::new("/nonexistent/sh")).is_err());
        assert!(runnable(Path::new("/")).is_err());
    }
}
