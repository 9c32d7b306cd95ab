//! [`Emulator`]: a running emulator. It binds its ports, starts the threads that serve them and
//! watch deadlines, queues invocations, reports what the runtime did, supervises the
//! function process, and shuts everything down when dropped.

use std::error::Error;
use std::fmt;
use std::io;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::extension::shutdown_event;
use crate::function_command::FunctionCommand;
use crate::init_error::InitErrorRecord;
use crate::invoke::Invoke;
use crate::next_reply::NextReply;
use crate::pending::PendingInvocation;
use crate::process::Supervisor;
use crate::queue::enqueue;
use crate::settings::Settings;
use crate::state::{Queued, Shared};
use crate::wait_error::WaitError;
use crate::{front, runtime_port, server, timer};

/// A running emulator: the Runtime API on its own port (give [`Emulator::runtime_api`] to the
/// runtime as `AWS_LAMBDA_RUNTIME_API`), the invoke front when one was asked for, the
/// invocations queued with [`Emulator::invoke`], and the function process when it
/// [supervises](Emulator::supervise) one. Dropping it shuts it down.
#[derive(Debug)]
pub struct Emulator {
    /// The state every thread and handle shares.
    shared: Arc<Shared>,
    /// The Runtime API's bound address.
    addr: SocketAddr,
    /// The invoke front's bound address, when it is served.
    front_addr: Option<SocketAddr>,
    /// The accept loops and the deadline watcher, joined at shutdown.
    threads: Vec<JoinHandle<()>>,
}

impl Emulator {
    /// Binds the Runtime API (and the front, when asked for) and starts the threads that
    /// serve them and watch deadlines.
    pub(crate) fn serve(
        settings: Settings,
        bind: SocketAddr,
        front: Option<SocketAddr>,
    ) -> io::Result<Emulator> {
        let listener = TcpListener::bind(bind)?;
        let addr = listener.local_addr()?;
        let front = match front {
            Some(front) => Some(TcpListener::bind(front).map_err(|source| {
                let kind = source.kind();
                io::Error::new(
                    kind,
                    ListenError {
                        addr: front,
                        source,
                    },
                )
            })?),
            None => None,
        };
        let front_addr = front.as_ref().map(TcpListener::local_addr).transpose()?;
        for bound in std::iter::once(addr).chain(front_addr) {
            if !bound.ip().is_loopback() {
                let text = format!(
                    "the emulator listens on {bound}, beyond this machine: it is a development \
                     tool with no authentication and no TLS; anyone who can reach it can invoke \
                     the function and answer as its runtime (SECURITY.md)"
                );
                log::warn!("emulator: {text}");
                settings.reports.warn(&text);
            }
        }
        let listeners = settings.listeners;
        let shared = Arc::new(Shared::new(settings));
        let mut threads = vec![server::spawn_listener(
            listener,
            shared.clone(),
            server::Listener {
                name: server::RUNTIME_PORT,
                handler: runtime_port::handle,
                policy: listeners.runtime,
            },
        )?];
        threads.push(timer::spawn(shared.clone())?);
        if let Some(front) = front {
            threads.push(server::spawn_listener(
                front,
                shared.clone(),
                server::Listener {
                    name: server::FRONT_PORT,
                    handler: front::handle,
                    policy: listeners.front,
                },
            )?);
        }
        Ok(Emulator {
            shared,
            addr,
            front_addr,
            threads,
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The bound address of the invoke front, when one was asked for.
    pub fn front_addr(&self) -> Option<SocketAddr> {
        self.front_addr
    }

    /// The emulated function's name.
    pub fn function_name(&self) -> &str {
        &self.shared.settings.function_name
    }

    /// The value for `AWS_LAMBDA_RUNTIME_API`: `host:port`, or `http://host:port/prefix` when
    /// a path prefix is set.
    pub fn runtime_api(&self) -> String {
        match self.shared.settings.path_prefix.as_str() {
            "" => self.addr.to_string(),
            prefix => format!("http://{}{prefix}", self.addr),
        }
    }

    /// The Lambda environment of a function process of this emulator (`docs/runtime-api.md`
    /// §1): the Runtime API address, the function's name, version, memory size, log group
    /// and a new log stream (each call is a new execution environment), the region,
    /// `LAMBDA_TASK_ROOT` and `LAMBDA_RUNTIME_DIR` (the current directory, where the code is
    /// locally), `TZ`, `LANG`, Lambda's `PATH` and `LD_LIBRARY_PATH`, and when set
    /// `_HANDLER`, `AWS_LAMBDA_LOG_FORMAT` and `AWS_LAMBDA_MAX_CONCURRENCY`. A supervised
    /// process gets exactly this, plus what its [`FunctionCommand`] adds.
    pub fn function_env(&self) -> Vec<(String, String)> {
        let task_root = std::env::current_dir().unwrap_or_else(|_| "/".into());
        crate::environment::lambda_env(&self.shared.settings, self.runtime_api(), &task_root)
    }

    /// A runtime [`coda_lambda::Config`] for this emulator, with its function settings.
    pub fn config(&self) -> coda_lambda::Config {
        let env = self.function_env();
        let lookup = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        // The emulator's own address always parses.
        coda_lambda::Config::from_lookup(lookup)
            .unwrap_or_else(|_| unreachable!("emulator address is valid"))
    }

    /// Queues an invocation; the runtime receives it on its next `/next`.
    pub fn invoke(&self, invoke: Invoke) -> PendingInvocation {
        enqueue(&self.shared, invoke)
    }

    /// Queues a scripted reply for a coming `/next` call (in order with invocations).
    pub fn script_next(&self, reply: NextReply) {
        self.shared
            .update(|state| state.queue.push_back(Queued::Scripted(reply)));
    }

    /// `/next` calls received so far.
    pub fn next_calls(&self) -> usize {
        self.shared.read(|s| s.next_calls)
    }

    /// `/response` and `/error` posts received so far, for any request id.
    pub fn answer_posts(&self) -> usize {
        self.shared.read(|s| s.answer_posts)
    }

    /// Waits until at least `n` `/next` calls have arrived.
    pub fn wait_next_calls(&self, n: usize, limit: Duration) -> Result<(), WaitError> {
        self.shared
            .wait(limit, |s| (s.next_calls >= n).then_some(()))
    }

    /// Waits until a `/next` call is parked waiting for an event (the runtime is idle).
    pub fn wait_parked(&self, limit: Duration) -> Result<(), WaitError> {
        self.shared.wait(limit, |s| {
            (s.parked_next > 0 && s.queue.is_empty()).then_some(())
        })
    }

    /// Waits for a post to `/init/error`.
    pub fn init_error(&self, limit: Duration) -> Result<InitErrorRecord, WaitError> {
        self.shared.wait(limit, |s| s.init_error.clone())
    }

    /// Starts `command` as this emulator's function process, with the Lambda environment
    /// ([`Emulator::function_env`]) plus the command's own variables, and keeps it running:
    /// restarted after a timeout, started again for the next invocation after an exit.
    /// Its stdout and stderr are kept as invocation logs, and passed through to this
    /// process's when the emulator prints its reports ([`crate::EmulatorBuilder::reports`]).
    pub fn supervise(&self, command: FunctionCommand) -> io::Result<Supervisor> {
        Supervisor::start(self.shared.clone(), self.runtime_api(), command)
    }

    /// Stops serving: parked `/next` calls get a 500, connections close.
    pub fn shutdown(&mut self) {
        if self.shared.read(|s| s.shutdown) {
            return;
        }
        // Extensions subscribed to SHUTDOWN hear about it first (§7.4).
        self.shared.update(|state| {
            for extension in state.extensions.iter_mut().filter(|e| e.shutdown) {
                extension.events.push_back(shutdown_event("spindown"));
            }
        });
        self.shared.shut_down();
        // Wake the accept loops so they see the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(front) = self.front_addr {
            let _ = TcpStream::connect(front);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// The invoke front's address could not be bound (kept inside the `io::Error`, which keeps the
/// operating system's [`io::ErrorKind`]).
#[derive(Debug)]
struct ListenError {
    /// The address asked for.
    addr: SocketAddr,
    /// The operating system's error.
    source: io::Error,
}

impl fmt::Display for ListenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot listen on {} for invocations", self.addr)
    }
}

impl Error for ListenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A busy front port is an `AddrInUse` error that names the address once, with the
    /// operating system's error as its source.
    #[test]
    fn busy_front_names_the_address() {
        let busy = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = busy.local_addr().unwrap();
        let error = Emulator::builder().front(addr).start().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::AddrInUse);
        assert_eq!(
            error.to_string(),
            format!("cannot listen on {addr} for invocations")
        );
        let source = error.source().expect("the operating system's error");
        assert!(source.downcast_ref::<io::Error>().is_some(), "{source:?}");
        assert!(!error.to_string().contains(&source.to_string()));
    }
}
