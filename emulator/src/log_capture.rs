//! Log lines kept for tests: the target of the logger `testing::init_logger`
//! installs. A line that carries a watched request id is kept for whoever watches it (an
//! `testing::Outcome`); every other line goes through `eprint!`, which the Rust test
//! harness captures, so a passing test run prints nothing and a failing test shows its lines.

use std::io::{self, Write};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

type Lines = Arc<Mutex<Vec<String>>>;

/// How many watches exist (a fast path for lines when nothing is watched).
static ACTIVE: AtomicUsize = AtomicUsize::new(0);
/// Watched request ids and the lines kept for each.
static WATCHES: Mutex<Vec<(Arc<str>, Lines)>> = Mutex::new(Vec::new());

fn watches() -> MutexGuard<'static, Vec<(Arc<str>, Lines)>> {
    WATCHES.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lines carrying `request_id` are kept until the watch is dropped.
pub(crate) struct Watch {
    id: Arc<str>,
    lines: Lines,
}

impl Watch {
    pub(crate) fn new(request_id: &str) -> Watch {
        let id: Arc<str> = Arc::from(request_id);
        let lines = Lines::default();
        watches().push((id.clone(), lines.clone()));
        ACTIVE.fetch_add(1, Ordering::SeqCst);
        Watch { id, lines }
    }

    /// The lines kept so far, without their newlines.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        watches().retain(|(id, lines)| !(Arc::ptr_eq(lines, &self.lines) && *id == self.id));
        ACTIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The logger's target: keeps watched lines, hands the rest to the test harness's capture.
pub(crate) struct Target;

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let line = String::from_utf8_lossy(buf);
        if !keep(&line) {
            eprint!("{line}");
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Keeps a copy of `line` for whoever watches the current thread's request id.
fn keep(line: &str) -> bool {
    if ACTIVE.load(Ordering::SeqCst) == 0 {
        return false;
    }
    let Some(id) = coda_lambda::logging::request_id() else {
        return false;
    };
    let mut kept = false;
    for (watched, lines) in watches().iter() {
        if **watched == *id {
            let text = line.trim_end_matches(['\n', '\r']).to_owned();
            lines.lock().unwrap_or_else(|e| e.into_inner()).push(text);
            kept = true;
        }
    }
    kept
}
