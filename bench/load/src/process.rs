//! The `coda run` process: started, waited on until its function is ready, its output
//! drained for as long as it runs; and what `/proc` says about it and its function.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::options::Options;

/// How long `coda run` may take to say its function is ready and where it listens.
const READY_LIMIT: Duration = Duration::from_secs(60);

/// The lines of coda's stderr kept for an error message.
const TAIL_LINES: usize = 20;

/// A running `coda run`.
pub struct Coda {
    child: Child,
    /// The Invoke API URL of the function.
    pub url: String,
    /// The last lines of coda's stderr.
    tail: Arc<Mutex<VecDeque<String>>>,
}

impl Coda {
    /// Starts `coda run --port 0 [--concurrency N] -- FUNCTION ARGS` and waits for its
    /// "function ready" line and its banner (`coda: invoke: … http://IP:PORT/…`).
    pub fn start(options: &Options) -> Result<Coda, String> {
        let mut command = Command::new(&options.coda);
        command.args(["run", "--port", "0"]);
        if let Some(n) = options.concurrency {
            command.args(["--concurrency", &n.to_string()]);
        }
        command
            .arg("--")
            .args(&options.command)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", options.coda.display()))?;
        let sink = |log: &Option<std::path::PathBuf>| -> Result<Box<dyn Write + Send>, String> {
            Ok(match log {
                Some(path) => Box::new(
                    File::options()
                        .create(true)
                        .append(true)
                        .open(path)
                        .map_err(|e| format!("cannot open {}: {e}", path.display()))?,
                ),
                None => Box::new(io::sink()),
            })
        };
        let (stdout, stderr) = match (child.stdout.take(), child.stderr.take()) {
            (Some(out), Some(err)) => (out, err),
            _ => return Err("coda's output pipes are missing".into()),
        };
        let mut out_sink = sink(&options.log)?;
        std::thread::Builder::new()
            .name("coda-stdout".into())
            .spawn(move || {
                let _ = io::copy(&mut BufReader::new(stdout), &mut out_sink);
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let tail = Arc::new(Mutex::new(VecDeque::with_capacity(TAIL_LINES)));
        let (lines_tx, lines) = mpsc::channel();
        let mut err_sink = sink(&options.log)?;
        let kept = tail.clone();
        std::thread::Builder::new()
            .name("coda-stderr".into())
            .spawn(move || {
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    let _ = writeln!(err_sink, "{line}");
                    if let Ok(mut tail) = kept.lock() {
                        if tail.len() == TAIL_LINES {
                            tail.pop_front();
                        }
                        tail.push_back(line.clone());
                    }
                    // Nobody listens once the function is ready: the line is only drained.
                    let _ = lines_tx.send(line);
                }
            })
            .map_err(|e| format!("cannot start a thread: {e}"))?;
        let mut coda = Coda {
            child,
            url: String::new(),
            tail,
        };
        let deadline = Instant::now() + READY_LIMIT;
        let mut ready = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    if line.starts_with("coda: function ready") {
                        ready = true;
                    } else if line.contains("the function failed to initialize") {
                        return Err(coda.failure("the function failed to initialize"));
                    } else if line.starts_with("coda: invoke:")
                        && let Some(front) = front_address(&line)
                    {
                        coda.url =
                            format!("http://{front}/2015-03-31/functions/function/invocations");
                    }
                    if ready && !coda.url.is_empty() {
                        return Ok(coda);
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    return Err(coda.failure(&format!(
                        "coda did not say its function was ready within {} s",
                        READY_LIMIT.as_secs()
                    )));
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let status = coda.child.wait().map(|s| s.to_string());
                    return Err(coda.failure(&format!(
                        "coda ended before its function was ready ({})",
                        status.unwrap_or_else(|e| e.to_string())
                    )));
                }
            }
        }
    }

    /// `message`, with the last lines coda wrote to stderr.
    pub fn failure(&self, message: &str) -> String {
        let tail = self
            .tail
            .lock()
            .map(|t| t.iter().cloned().collect::<Vec<_>>().join("\n  "))
            .unwrap_or_default();
        format!("{message}; coda's last lines:\n  {tail}")
    }

    /// Coda's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether coda is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Kills coda (its function dies with it: coda starts it with a parent-death signal) and
    /// waits for it.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Coda {
    fn drop(&mut self) {
        self.stop();
    }
}

/// `IP:PORT` from the banner line's last `http://IP:PORT/…`.
fn front_address(line: &str) -> Option<&str> {
    let start = line.rfind("http://")? + "http://".len();
    let rest = &line[start..];
    let end = rest.find('/')?;
    Some(&rest[..end]).filter(|a| a.contains(':'))
}

/// The clock ticks per second of `/proc/<pid>/stat`'s utime and stime: `getconf CLK_TCK`,
/// else 100 (the value on every Linux architecture this runs on; `sysconf` needs `unsafe`
/// or a crate).
pub fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// utime + stime of process `pid` (all its threads), in clock ticks.
pub fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: count after the last `)`.
    let after = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    // Field 3 (state) is fields[0]: utime (14) and stime (15) are fields[11] and [12].
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `kB` field of `/proc/<pid>/status` (`VmHWM`, `VmRSS`).
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status
        .lines()
        .find(|l| l.split(':').next() == Some(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The first child of process `pid`, from `/proc/<pid>/task/*/children`: under `coda run`,
/// the function (started through `coda __launch`, which `exec`s it).
pub fn first_child(pid: u32) -> Option<u32> {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).ok()?;
    let mut children: Vec<u32> = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect();
    children.sort_unstable();
    children.first().copied()
}

/// Whether `path` names a file (for a clear message before starting coda).
pub fn exists(path: &Path) -> bool {
    path.is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_is_read_from_the_banner() {
        let line = "coda: invoke: coda invoke --url http://127.0.0.1:4321 --data '{}'  |  curl -H 'content-type: application/json' -d '{}' http://127.0.0.1:4321/2015-03-31/functions/function/invocations";
        assert_eq!(front_address(line), Some("127.0.0.1:4321"));
        assert_eq!(front_address("coda: invoke: nothing"), None);
    }

    #[test]
    fn own_figures_are_read() {
        let me = std::process::id();
        assert!(cpu_ticks(me).is_some());
        assert!(status_kb(me, "VmHWM").unwrap() > 0);
        assert!(clock_ticks() > 0);
    }
}
