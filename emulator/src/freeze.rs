//! The freeze (`docs/runtime-api.md` §7.1, §7.2 #7): Lambda freezes the execution
//! environment once the runtime calls `/next` and nothing is left of the invocation, and
//! thaws it when it hands out the next event. Work that leaked past `/next` (a detached
//! thread, an unjoined spawn, a thread the handler started) stalls there and resumes, if
//! ever, inside a later invocation. The emulator does the same to a supervised process when
//! asked ([`crate::EmulatorBuilder::freeze`]): `SIGSTOP` to its process group while its
//! `/next` waits, `SIGCONT` before the event is written.
//!
//! Before stopping the group it looks for work still running: threads of the process tree
//! that `/proc` shows runnable (`R`), and that are still runnable and used CPU over a short
//! second look ([`WINDOW`], only taken when the first look finds one, so an idle function is
//! frozen at once). Those are named in the freeze's record and in a warning. Work that is
//! waiting (on a timer, on I/O) when `/next` is called is frozen just the same, but cannot be
//! told apart from an idle thread.

use std::fs;
use std::time::Duration;

use crate::memory;

/// The time between two looks at runnable threads.
pub(crate) const WINDOW: Duration = Duration::from_millis(2);
/// How many more looks a runnable thread must stay runnable through to count as running.
pub(crate) const LOOKS: u32 = 5;

/// A freeze of the function process, as recorded ([`crate::Supervisor::wait_frozen`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Freeze {
    /// The invocation whose end was followed by the freeze (`None`: after init).
    pub after: Option<String>,
    /// Threads that were still running when the process was frozen, as
    /// `pid/tid (name), N ms of CPU in 10 ms`: work that leaked past `/next`.
    pub busy_threads: Vec<String>,
}

/// One thread as `/proc` shows it.
#[derive(Clone, Debug)]
struct ThreadSample {
    /// `pid/tid`.
    id: String,
    /// Its name (`comm`).
    name: String,
    /// Runnable (`R`) when looked at.
    runnable: bool,
    /// Time spent on a CPU, in nanoseconds (`schedstat`).
    cpu_ns: u64,
}

/// The threads of `leader`'s process tree that are running: runnable at a first look and
/// at every one of [`LOOKS`] more, [`WINDOW`] apart. A thread that was only on its way to
/// blocking (or waiting for a CPU on a busy machine before it blocks) drops out at the
/// first look that finds it asleep; work that runs stays runnable throughout. The CPU time
/// each used meanwhile is reported.
pub(crate) fn busy_threads(leader: u32) -> Vec<String> {
    let first = threads(leader);
    let mut candidates: Vec<ThreadSample> = first.into_iter().filter(|t| t.runnable).collect();
    let mut last = Vec::new();
    for _ in 0..LOOKS {
        if candidates.is_empty() {
            return Vec::new();
        }
        std::thread::sleep(WINDOW);
        last = threads(leader);
        candidates.retain(|c| last.iter().any(|t| t.id == c.id && t.runnable));
    }
    candidates
        .iter()
        .map(|c| {
            let now = last.iter().find(|t| t.id == c.id).unwrap_or(c);
            format!(
                "{} ({}), {:.1} ms of CPU in {} ms",
                c.id,
                now.name,
                now.cpu_ns.saturating_sub(c.cpu_ns) as f64 / 1e6,
                WINDOW.as_millis() * u128::from(LOOKS)
            )
        })
        .collect()
}

/// Every thread of `leader`'s process tree.
fn threads(leader: u32) -> Vec<ThreadSample> {
    let mut found = Vec::new();
    for pid in memory::tree(leader) {
        let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
            continue;
        };
        for task in tasks.flatten() {
            let dir = task.path();
            let Ok(stat) = fs::read_to_string(dir.join("stat")) else {
                continue;
            };
            // The state follows the name, which is in parentheses and may hold anything.
            let state = stat
                .rsplit_once(") ")
                .and_then(|(_, rest)| rest.chars().next());
            let cpu_ns = fs::read_to_string(dir.join("schedstat"))
                .ok()
                .and_then(|s| s.split_whitespace().next()?.parse().ok())
                .unwrap_or(0);
            let name = fs::read_to_string(dir.join("comm")).unwrap_or_default();
            found.push(ThreadSample {
                id: format!("{pid}/{}", task.file_name().to_string_lossy()),
                name: name.trim().to_owned(),
                runnable: state == Some('R'),
                cpu_ns,
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    /// A process that only waits has no busy thread; one that spins has.
    #[test]
    fn idle_and_spinning_processes() {
        use std::io::{Read, Write};
        use std::process::Stdio;
        // `cat` past its start-up: it has copied a byte, and waits on its input again.
        let mut idle = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        idle.stdin.as_mut().unwrap().write_all(b"x").unwrap();
        let mut byte = [0u8; 1];
        idle.stdout.as_mut().unwrap().read_exact(&mut byte).unwrap();
        assert!(busy_threads(idle.id()).is_empty());
        idle.kill().unwrap();
        idle.wait().unwrap();
        let mut spinning = Command::new("sh")
            .args(["-c", "while :; do :; done"])
            .spawn()
            .unwrap();
        // A spinning shell is runnable whenever it is looked at; the first look may still
        // catch it starting, so look until it is seen (bounded).
        let busy = (0..50)
            .map(|_| busy_threads(spinning.id()))
            .find(|b| !b.is_empty())
            .unwrap_or_default();
        spinning.kill().unwrap();
        spinning.wait().unwrap();
        assert_eq!(busy.len(), 1, "{busy:?}");
        assert!(busy[0].contains("(sh), "), "{busy:?}");
    }
}
