//! The one thread that starts the commands, through `coda __launch` ([`crate::launch`]).
//!
//! The launcher makes the kernel kill its process when the *thread* that started it ends
//! (the parent-death signal), unblocks the termination signals coda wrap blocks for itself,
//! and becomes the command. The thread that starts them must therefore live as long as
//! coda wrap: a connection's thread, which ends with its connection, would take the
//! commands it started with it.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc;

/// A command to start, and where its process goes.
type Request = (Command, mpsc::Sender<io::Result<Child>>);

/// The handle of the thread that starts processes.
#[derive(Debug)]
pub struct Spawner {
    /// Requests to the thread.
    requests: mpsc::Sender<Request>,
}

impl Spawner {
    /// Starts the thread.
    pub fn start() -> io::Result<Spawner> {
        let (requests, incoming) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("coda-wrap-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let child = command.spawn();
                    // Dropped here, before the reply: the parent's copies of the command's
                    // pipe ends close, so the reader sees the end when the command ends.
                    drop(command);
                    let _ = reply.send(child);
                }
            })?;
        Ok(Spawner { requests })
    }

    /// Starts `command` on the spawner's thread.
    pub fn spawn(&self, command: Command) -> io::Result<Child> {
        let (reply, child) = mpsc::channel();
        let gone = || io::Error::other("the thread that starts commands has stopped");
        self.requests.send((command, reply)).map_err(|_| gone())?;
        child.recv().map_err(|_| gone())?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Processes start on the spawner's thread and are handed back; a program that does not
    /// exist is the spawn's error.
    #[test]
    fn spawns() {
        let spawner = Spawner::start().unwrap();
        let mut child = spawner.spawn(Command::new("true")).unwrap();
        assert!(child.wait().unwrap().success());
        let missing = spawner
            .spawn(Command::new("/nonexistent/program"))
            .unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
