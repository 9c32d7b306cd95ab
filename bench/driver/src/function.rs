//! The function process: started with the Lambda environment, its output passed to this
//! process's stderr (stdout carries only the figures), its peak memory read while it is
//! alive, and its end: the exit it makes on its own, or a kill.
//!
//! The process is known to have exited when both its output pipes have closed (the threads
//! that pass them on say so over a channel), so waiting for the exit needs no polling.
//!
//! Why not [`coda_emulator::Supervisor`]: a supervised process makes the emulator read
//! `/proc/<pid>/status` for every invocation (the REPORT line's memory), on the `/next` path
//! and under its lock, which would be part of every figure here; the supervisor also kills
//! the process when stopped, where callgrind needs it to exit on its own, and it does not say
//! how the process ended.

use std::ffi::OsString;
use std::io::{self, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// A running function process.
pub struct Function {
    child: Child,
    /// One message per output pipe that closed.
    closed: Receiver<()>,
    open_pipes: usize,
}

/// How the process ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ended {
    /// As `std` says it: `exit status: 1`, `signal: 9 (SIGKILL)`.
    pub how: String,
    /// Whether the driver killed it.
    pub killed: bool,
}

impl Function {
    /// Starts `command` with the environment of this process, less any Lambda variables of
    /// the caller's, plus `lambda_env`.
    pub fn start(command: &[OsString], lambda_env: &[(String, String)]) -> io::Result<Function> {
        let (program, args) = command
            .split_first()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "no program"))?;
        let mut process = Command::new(program);
        for (key, _) in std::env::vars_os() {
            let name = key.to_string_lossy();
            if name.starts_with("AWS_LAMBDA_") || name == "_X_AMZN_TRACE_ID" || name == "_HANDLER" {
                process.env_remove(&key);
            }
        }
        let mut child = process
            .args(args)
            .envs(lambda_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (tx, closed) = mpsc::channel();
        let mut open_pipes = 0;
        if let Some(out) = child.stdout.take() {
            open_pipes += pass_on(out, tx.clone());
        }
        if let Some(err) = child.stderr.take() {
            open_pipes += pass_on(err, tx);
        }
        Ok(Function {
            child,
            closed,
            open_pipes,
        })
    }

    /// Whether the process has exited (both its output pipes closed); does not wait.
    pub fn has_exited(&mut self) -> bool {
        while self.closed.try_recv().is_ok() {
            self.open_pipes = self.open_pipes.saturating_sub(1);
        }
        self.open_pipes == 0
    }

    /// Its peak resident memory so far (`VmHWM`), in kB; `None` once it has exited.
    pub fn peak_rss_kb(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }

    /// Waits up to `limit` for the process to exit on its own, then kills it.
    pub fn end(mut self, limit: Duration) -> Ended {
        let until = Instant::now() + limit;
        while !self.has_exited() {
            let left = until.saturating_duration_since(Instant::now());
            match self.closed.recv_timeout(left) {
                Ok(()) => self.open_pipes = self.open_pipes.saturating_sub(1),
                Err(RecvTimeoutError::Timeout) => return self.kill(),
                // Both senders gone: both pipes closed.
                Err(RecvTimeoutError::Disconnected) => self.open_pipes = 0,
            }
        }
        match self.child.wait() {
            Ok(status) => Ended {
                how: status.to_string(),
                killed: false,
            },
            Err(e) => Ended {
                how: format!("unknown ({e})"),
                killed: false,
            },
        }
    }

    /// Kills the process now.
    pub fn kill(mut self) -> Ended {
        let _ = self.child.kill();
        let how = match self.child.wait() {
            Ok(status) => status.to_string(),
            Err(e) => format!("unknown ({e})"),
        };
        Ended { how, killed: true }
    }
}

impl Drop for Function {
    /// A run that stops early leaves no process behind (harmless after [`Function::end`]:
    /// the process is reaped by then).
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Copies `pipe` to this process's stderr on a thread of its own, then says it closed; 1 when
/// the thread started, else 0 (the pipe is dropped: the process sees it closed).
fn pass_on(mut pipe: impl Read + Send + 'static, closed: Sender<()>) -> usize {
    let started = std::thread::Builder::new()
        .name("function-output".into())
        .spawn(move || {
            let _ = io::copy(&mut pipe, &mut io::stderr());
            let _ = closed.send(());
        });
    usize::from(started.is_ok())
}
