//! The operating-system calls that `std` does not offer without `unsafe`, in one place: the
//! signals `coda run` sends to the function's process group (stop, continue, terminate, kill),
//! the termination signals it waits for, the parent-death signal of the function process,
//! and the pipe polling that keeps the function's output in order. Everything goes through
//! the `nix` crate (safe wrappers; this crate stays `forbid(unsafe_code)`), and nothing else
//! in the workspace calls `nix` (`coda-bootstrap` uses this module).
//!
//! Every function works on a process **group**: the supervisor starts the function as the
//! leader of a group of its own, so a wrapper script and everything it starts are signalled
//! together, as a sandbox is frozen or torn down as a whole.

use std::io;
use std::os::fd::AsFd;

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, OFlag, fcntl};
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::{SigSet, Signal, killpg};
use nix::unistd::Pid;

/// A termination signal `coda` handles: it ends the function's process group, then exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// `SIGINT` (Ctrl-C).
    Interrupt,
    /// `SIGTERM` (`kill`, `timeout`, IDE stop buttons, CI, process managers).
    Terminate,
    /// `SIGHUP` (the terminal closed).
    Hangup,
}

impl Termination {
    /// The signal's name, `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Termination::Interrupt => "SIGINT",
            Termination::Terminate => "SIGTERM",
            Termination::Hangup => "SIGHUP",
        }
    }

    /// The exit status a shell reports for a process ended by this signal (128 + its number).
    pub fn exit_status(self) -> u8 {
        128 + match self {
            Termination::Interrupt => 2,
            Termination::Terminate => 15,
            Termination::Hangup => 1,
        }
    }
}

/// The set of termination signals.
fn termination_set() -> SigSet {
    let mut set = SigSet::empty();
    set.add(Signal::SIGINT);
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGHUP);
    set
}

/// Blocks `SIGINT`, `SIGTERM` and `SIGHUP` in the calling thread, and so in every thread it
/// starts afterwards: call it first in `main`, then take them with [`wait_for_termination`].
/// Child processes inherit the mask (`std` does not reset it), so a program started from
/// such a process must call [`unblock_termination_signals`] before it `exec`s.
pub fn block_termination_signals() -> io::Result<()> {
    termination_set().thread_block().map_err(io::Error::from)
}

/// Unblocks `SIGINT`, `SIGTERM` and `SIGHUP` in the calling thread (and, across `exec`, in the
/// program it becomes): a function must receive the termination signals `coda` sends it.
pub fn unblock_termination_signals() -> io::Result<()> {
    termination_set().thread_unblock().map_err(io::Error::from)
}

/// Waits until one of the blocked termination signals arrives, and returns which.
pub fn wait_for_termination() -> io::Result<Termination> {
    loop {
        match termination_set().wait() {
            Ok(Signal::SIGINT) => return Ok(Termination::Interrupt),
            Ok(Signal::SIGTERM) => return Ok(Termination::Terminate),
            Ok(Signal::SIGHUP) => return Ok(Termination::Hangup),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// Sends `signal` to the process group led by `leader`. A group that is already gone is
/// not an error: there is nothing left to signal.
fn signal_group(leader: u32, signal: Signal) -> io::Result<()> {
    let pid = i32::try_from(leader)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "process id out of range"))?;
    match killpg(Pid::from_raw(pid), signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(io::Error::from(e)),
    }
}

/// Stops every process of the group (`SIGSTOP`): the freeze.
pub fn stop_group(leader: u32) -> io::Result<()> {
    signal_group(leader, Signal::SIGSTOP)
}

/// Resumes every process of the group (`SIGCONT`): the thaw.
pub fn continue_group(leader: u32) -> io::Result<()> {
    signal_group(leader, Signal::SIGCONT)
}

/// Asks every process of the group to end (`SIGTERM`, then `SIGCONT` so that a frozen
/// group can act on it).
pub fn terminate_group(leader: u32) -> io::Result<()> {
    signal_group(leader, Signal::SIGTERM)?;
    continue_group(leader)
}

/// Kills every process of the group (`SIGKILL`, which also ends stopped processes).
pub fn kill_group(leader: u32) -> io::Result<()> {
    signal_group(leader, Signal::SIGKILL)
}

/// Makes the calling process die (`SIGKILL`) when the thread that started it ends, and
/// checks that its parent is still `parent` (if the parent died before the call, the
/// signal would never come: that is an error). The setting survives `exec`, so a launcher
/// calls this and then becomes the function.
pub fn die_with_parent(parent: u32) -> io::Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
    let now = nix::unistd::getppid().as_raw();
    if u32::try_from(now).ok() != Some(parent) {
        return Err(io::Error::other(format!(
            "the parent process {parent} is gone (the parent is now {now})"
        )));
    }
    Ok(())
}

/// Waits until the child process `pid` has exited, without reaping it: until it is reaped,
/// its process id (and so its group's id) cannot be reused, so the rest of its group can
/// still be signalled safely.
pub fn wait_exited_unreaped(pid: u32) -> io::Result<()> {
    use nix::sys::wait::{Id, WaitPidFlag, waitid};
    let pid = i32::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "process id out of range"))?;
    loop {
        match waitid(
            Id::Pid(Pid::from_raw(pid)),
            WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT,
        ) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// Waits until the child process `pid` of this process is stopped (by `SIGSTOP`), without
/// consuming the report: the kernel's own notice that a freeze took hold.
pub fn wait_stopped(pid: u32) -> io::Result<()> {
    use nix::sys::wait::{Id, WaitPidFlag, WaitStatus, waitid};
    let pid = i32::try_from(pid)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "process id out of range"))?;
    loop {
        match waitid(
            Id::Pid(Pid::from_raw(pid)),
            WaitPidFlag::WSTOPPED | WaitPidFlag::WNOWAIT,
        ) {
            Ok(WaitStatus::Stopped(..)) => return Ok(()),
            Ok(other) => {
                return Err(io::Error::other(format!(
                    "process {pid} did not stop: {other:?}"
                )));
            }
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

/// Makes reads from `fd` return `WouldBlock` instead of waiting (for the read end of a pipe
/// the emulator drains on demand).
pub fn set_nonblocking(fd: impl AsFd) -> io::Result<()> {
    let flags = fcntl(fd.as_fd(), FcntlArg::F_GETFL).map_err(io::Error::from)?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    fcntl(fd.as_fd(), FcntlArg::F_SETFL(flags))
        .map(|_| ())
        .map_err(io::Error::from)
}

/// Waits until `fd` has bytes to read, or its writers are gone.
pub fn wait_readable(fd: impl AsFd) -> io::Result<()> {
    loop {
        let mut fds = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Ok(_) => return Ok(()),
            Err(Errno::EINTR) => continue,
            Err(e) => return Err(io::Error::from(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::process::{Command, Stdio};

    /// A stopped group is reported stopped (`waitpid` with `WUNTRACED`, the kernel's own
    /// signal), a continued one continued, a killed one gone; signalling a group that no
    /// longer exists is not an error.
    #[test]
    fn stop_continue_kill_a_group() {
        use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
        use std::os::unix::process::CommandExt;
        let mut child = Command::new("sleep")
            .arg("30")
            .process_group(0)
            .spawn()
            .unwrap();
        let pid = child.id();
        let raw = Pid::from_raw(pid as i32);
        stop_group(pid).unwrap();
        assert_eq!(
            waitpid(raw, Some(WaitPidFlag::WUNTRACED)).unwrap(),
            WaitStatus::Stopped(raw, Signal::SIGSTOP)
        );
        continue_group(pid).unwrap();
        assert_eq!(
            waitpid(raw, Some(WaitPidFlag::WCONTINUED)).unwrap(),
            WaitStatus::Continued(raw)
        );
        kill_group(pid).unwrap();
        let status = child.wait().unwrap();
        assert!(!status.success());
        kill_group(pid).unwrap();
    }

    /// A non-blocking pipe reads `WouldBlock` when empty, and `wait_readable` returns once a
    /// byte arrives.
    #[test]
    fn nonblocking_pipes() {
        let mut child = Command::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = child.stdout.take().unwrap();
        set_nonblocking(&out).unwrap();
        let mut buf = [0u8; 8];
        let empty = out.read(&mut buf).unwrap_err();
        assert_eq!(empty.kind(), io::ErrorKind::WouldBlock);
        child.stdin.as_mut().unwrap().write_all(b"x").unwrap();
        wait_readable(&out).unwrap();
        assert_eq!(out.read(&mut buf).unwrap(), 1);
        drop(child.stdin.take());
        wait_readable(&out).unwrap();
        assert_eq!(out.read(&mut buf).unwrap(), 0, "end of stream");
        child.wait().unwrap();
    }
}

/// Whether `error` says the process (`EMFILE`) or the system (`ENFILE`) is out of file
/// descriptors, as `accept` fails at the open-files limit.
pub fn out_of_descriptors(error: &io::Error) -> bool {
    matches!(
        error.raw_os_error(),
        Some(code) if code == Errno::EMFILE as i32 || code == Errno::ENFILE as i32
    )
}

/// This process's soft limit on open files (`ulimit -n`), when it has one.
pub fn open_files_limit() -> Option<u64> {
    use nix::sys::resource::{RLIM_INFINITY, Resource, getrlimit};
    getrlimit(Resource::RLIMIT_NOFILE)
        .ok()
        .map(|(soft, _)| soft)
        .filter(|&soft| soft != RLIM_INFINITY)
}
