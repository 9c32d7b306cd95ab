//! The invocations `/next` handed out and not answered yet, as the proxy saw them pass: the
//! request id, the deadline, the invoked ARN, the connection that received it, and — with
//! `--files` — the file the event was written to. The command of an invocation gets these
//! facts; the runtime never has to tell.
//!
//! The files live in a directory of this process's own under the temporary directory, one
//! pair per invocation (`<n>.event`, `<n>.answer`), removed once the command has ended and
//! all together when coda wrap exits.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::gate::ConnId;

/// Deadlines below this (2001-09-09 in epoch milliseconds) cannot be Lambda's: cargo-lambda
/// sends its timeout (`600000`) instead, read as a duration from now, as the runtime does.
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

/// An invocation's deadline: `Lambda-Runtime-Deadline-Ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// Unix epoch milliseconds.
    pub epoch_ms: u64,
    /// The same moment on this process's clock.
    pub at: Instant,
}

impl Deadline {
    /// Reads the header's value; `None` when it is not a number.
    pub fn parse(value: &str) -> Option<Deadline> {
        let ms = value.trim().parse::<u64>().ok()?;
        let now = Instant::now();
        let now_ms = epoch_ms_now();
        if ms < PLAUSIBLE_EPOCH_MS {
            return Some(Deadline {
                epoch_ms: now_ms.saturating_add(ms),
                at: now + Duration::from_millis(ms),
            });
        }
        let left = Duration::from_millis(ms.saturating_sub(now_ms));
        Some(Deadline {
            epoch_ms: ms,
            at: now + left,
        })
    }

    /// The time left before it.
    pub fn remaining(&self) -> Duration {
        self.at.saturating_duration_since(Instant::now())
    }
}

/// Now in Unix epoch milliseconds.
fn epoch_ms_now() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
}

/// One invocation handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Deadline-Ms`, when valid.
    pub deadline: Option<Deadline>,
    /// `Lambda-Runtime-Invoked-Function-Arn`.
    pub arn: Option<String>,
    /// The connection whose `/next` received it.
    pub conn: ConnId,
    /// Its number among the invocations this process saw (names its files).
    pub number: u64,
    /// The event's file, with `--files`.
    pub event_file: Option<PathBuf>,
}

/// The invocations handed out and not answered yet, by request id.
#[derive(Debug, Default)]
pub struct Invocations {
    /// By request id.
    by_id: Mutex<HashMap<String, Invocation>>,
    /// The number of the next invocation.
    next: AtomicU64,
}

impl Invocations {
    /// The number for the invocation being handed out.
    pub fn number(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// Records an invocation handed out; returns the one it replaces (a request id can
    /// recur, `docs/runtime-api.md` §2.2).
    pub fn insert(&self, invocation: Invocation) -> Option<Invocation> {
        self.lock()
            .insert(invocation.request_id.clone(), invocation)
    }

    /// The invocation with `request_id`, left recorded.
    pub fn get(&self, request_id: &str) -> Option<Invocation> {
        self.lock().get(request_id).cloned()
    }

    /// Drops the event file of the invocation `request_id` (it could not be written).
    pub fn forget_event_file(&self, request_id: &str) {
        if let Some(invocation) = self.lock().get_mut(request_id) {
            invocation.event_file = None;
        }
    }

    /// The invocation with `request_id`, no longer recorded (it was answered).
    pub fn take(&self, request_id: &str) -> Option<Invocation> {
        self.lock().remove(request_id)
    }

    /// The invocations handed out on `conn` and never answered: a `/next` on `conn` means
    /// its worker is done with them (they timed out, or their answer was refused).
    pub fn take_stale(&self, conn: ConnId) -> Vec<Invocation> {
        let mut by_id = self.lock();
        let stale: Vec<String> = by_id
            .iter()
            .filter(|(_, i)| i.conn == conn)
            .map(|(id, _)| id.clone())
            .collect();
        stale.iter().filter_map(|id| by_id.remove(id)).collect()
    }

    /// The map, even after a panic elsewhere.
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Invocation>> {
        self.by_id.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where the event and answer files go.
#[derive(Debug)]
pub struct Files {
    /// The directory of this process's own.
    dir: PathBuf,
}

impl Files {
    /// Creates `coda-wrap-<pid>` in the temporary directory.
    pub fn create() -> io::Result<Files> {
        let dir = std::env::temp_dir().join(format!("coda-wrap-{}", std::process::id()));
        fs::create_dir_all(&dir)?;
        Ok(Files { dir })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The event file of invocation `number`.
    pub fn event(&self, number: u64) -> PathBuf {
        self.dir.join(format!("{number}.event"))
    }

    /// The answer file of invocation `number`.
    pub fn answer(&self, number: u64) -> PathBuf {
        self.dir.join(format!("{number}.answer"))
    }
}

/// A file written as bytes pass; a failed write stops it and is remembered, so the command
/// is not handed a file that lacks part of what it claims to hold.
#[derive(Debug)]
pub struct Tee {
    /// The path.
    path: PathBuf,
    /// The open file, until a write fails.
    file: Option<File>,
    /// The first error.
    error: Option<io::Error>,
}

impl Tee {
    /// Creates (or truncates) `path`.
    pub fn create(path: PathBuf) -> Tee {
        match File::create(&path) {
            Ok(file) => Tee {
                path,
                file: Some(file),
                error: None,
            },
            Err(error) => Tee {
                path,
                file: None,
                error: Some(error),
            },
        }
    }

    /// Appends `bytes`.
    pub fn write(&mut self, bytes: &[u8]) {
        if let Some(file) = &mut self.file
            && let Err(error) = file.write_all(bytes)
        {
            self.file = None;
            self.error = Some(error);
        }
    }

    /// The path, when every write went in; else the path (removed) and the error.
    pub fn finish(self) -> Result<PathBuf, (PathBuf, io::Error)> {
        match self.error {
            None => Ok(self.path),
            Some(error) => {
                let _ = fs::remove_file(&self.path);
                Err((self.path, error))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Epoch deadlines are kept; small values are durations from now (cargo-lambda);
    /// garbage is no deadline.
    #[test]
    fn deadlines() {
        let in_a_minute = epoch_ms_now() + 60_000;
        let d = Deadline::parse(&in_a_minute.to_string()).unwrap();
        assert_eq!(d.epoch_ms, in_a_minute);
        assert!(
            d.remaining() > Duration::from_secs(50) && d.remaining() <= Duration::from_secs(60)
        );
        let relative = Deadline::parse("600000").unwrap();
        assert!(relative.epoch_ms >= in_a_minute);
        assert!(relative.remaining() > Duration::from_secs(590));
        assert_eq!(Deadline::parse("soon"), None);
        let past = Deadline::parse(&(epoch_ms_now() - 5_000).to_string()).unwrap();
        assert_eq!(past.remaining(), Duration::ZERO);
    }

    /// Records come back by id once; a `/next` on a connection takes its unanswered ones.
    #[test]
    fn records() {
        let invocations = Invocations::default();
        let record = |id: &str, conn| Invocation {
            request_id: id.into(),
            deadline: None,
            arn: None,
            conn,
            number: invocations.number(),
            event_file: None,
        };
        assert_eq!(invocations.insert(record("a", 1)), None);
        invocations.insert(record("b", 2));
        assert_eq!(invocations.get("a").unwrap().conn, 1);
        assert_eq!(invocations.take("a").unwrap().number, 0);
        assert_eq!(invocations.take("a"), None);
        assert!(invocations.take_stale(1).is_empty());
        assert_eq!(invocations.take_stale(2)[0].request_id, "b");
    }

    /// A tee holds what passed; a file that could not be created is an error, not a file.
    #[test]
    fn tees() {
        let files = Files::create().unwrap();
        let mut tee = Tee::create(files.event(7));
        tee.write(b"{\"a\":");
        tee.write(b"1}");
        let path = tee.finish().unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"{\"a\":1}");
        let bad = Tee::create(files.dir().join("missing-dir").join("x"));
        assert!(bad.finish().is_err());
        fs::remove_dir_all(files.dir()).unwrap();
    }
}
