//! The accept loop: one thread per listener, one thread per connection, each request handed
//! to the listener's [`Handler`] (the Runtime API port's or the invoke front's dispatch).
//!
//! Each listener serves at most its [`ConnPolicy::max_connections`] at once; one more is
//! answered `503` from the accept thread itself (no thread started for it) and closed. A
//! failed accept (out of file descriptors, most often) is logged once, then retried after a
//! pause that doubles up to a second, so the loop neither spins nor goes quiet.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::thread::JoinHandle;

use crate::conn::{Conn, Flow, ReadError};
use crate::limits::{ACCEPT_BACKOFF_FIRST, ACCEPT_BACKOFF_MAX, ConnPolicy, REFUSAL_WRITE_TIMEOUT};
use crate::state::Shared;
use crate::wire::{self, RequestHead};

/// A request handler for one listener.
pub(crate) type Handler = fn(&Arc<Shared>, &mut Conn, RequestHead) -> io::Result<Flow>;

/// Numbers connections, so shutdown can close the ones still open.
static CONNECTION_IDS: AtomicU64 = AtomicU64::new(1);

/// What one listener serves, for its accept loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Listener {
    /// The port's name in log lines ("Runtime API", "invoke front").
    pub(crate) name: &'static str,
    /// The dispatch of its requests.
    pub(crate) handler: Handler,
    /// Its caps and timeouts.
    pub(crate) policy: ConnPolicy,
}

/// Accepts connections on `listener` until shutdown, serving each on its own thread.
pub(crate) fn spawn_listener(
    listener: TcpListener,
    shared: Arc<Shared>,
    serves: Listener,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("coda-emulator-accept".into())
        .spawn(move || accept_loop(&listener, &shared, serves))
}

/// The accept loop of one listener.
fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>, serves: Listener) {
    let open = Arc::new(AtomicUsize::new(0));
    let mut refused = 0u64;
    let mut failures = 0u64;
    let mut pause = ACCEPT_BACKOFF_FIRST;
    loop {
        let accepted = listener.accept();
        if shared.read(|s| s.shutdown) {
            break;
        }
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                if failures == 0 {
                    warn(shared, &accept_failure(serves.name, &e));
                }
                failures += 1;
                std::thread::sleep(pause);
                pause = (pause * 2).min(ACCEPT_BACKOFF_MAX);
                continue;
            }
        };
        if failures > 0 {
            warn(
                shared,
                &format!(
                    "the emulator's {} port accepts connections again (after {failures} failed \
                     accepts)",
                    serves.name
                ),
            );
            failures = 0;
            pause = ACCEPT_BACKOFF_FIRST;
        }
        let cap = serves.policy.max_connections;
        if open.load(Ordering::Acquire) >= cap {
            if refused == 0 {
                warn(
                    shared,
                    &format!(
                        "the emulator's {} port has {cap} connections open, its cap; new ones \
                         are answered 503 until one closes (raise the cap with \
                         EmulatorBuilder::{})",
                        serves.name,
                        cap_setting(serves.name),
                    ),
                );
            }
            refused += 1;
            refuse(stream, serves.name, cap);
            continue;
        }
        if refused > 0 {
            warn(
                shared,
                &format!(
                    "the emulator's {} port serves new connections again ({refused} refused at \
                     its cap of {cap})",
                    serves.name
                ),
            );
            refused = 0;
        }
        open.fetch_add(1, Ordering::AcqRel);
        let guard = OpenGuard(open.clone());
        let for_thread = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("coda-emulator-conn".into())
            .spawn(move || {
                let _guard = guard;
                serve_connection(stream, &for_thread, serves);
            });
        if let Err(e) = spawned {
            warn(
                shared,
                &format!("the emulator could not start a connection thread: {e}"),
            );
        }
    }
}

/// Says `text` in the log and where the emulator's reports go (`coda run`: standard error).
fn warn(shared: &Shared, text: &str) {
    log::warn!("emulator: {text}");
    shared.settings.reports.warn(text);
}

/// Counts a connection as open until dropped (also when its thread could not start: the
/// closure, and the guard with it, is dropped then).
struct OpenGuard(Arc<AtomicUsize>);

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The builder setting of a port's connection cap, for the log line.
fn cap_setting(port: &str) -> &'static str {
    if port == RUNTIME_PORT {
        "max_runtime_connections"
    } else {
        "max_front_connections"
    }
}

/// The Runtime API port's name in log lines.
pub(crate) const RUNTIME_PORT: &str = "Runtime API";
/// The invoke front's name in log lines.
pub(crate) const FRONT_PORT: &str = "invoke front";

/// The log line of a failed accept: what failed and, when the process is out of file
/// descriptors, its limit and how to raise it.
fn accept_failure(port: &str, error: &io::Error) -> String {
    if crate::os::out_of_descriptors(error) {
        let limit = crate::os::open_files_limit()
            .map(|n| format!(" (the limit is {n})"))
            .unwrap_or_default();
        format!(
            "the emulator's {port} port cannot accept connections: {error}; this process has \
             as many files open as it may{limit}. Close idle connections, or raise the limit \
             (`ulimit -n 4096` in the shell that starts it). Retrying with a pause of up to 1 s"
        )
    } else {
        format!(
            "the emulator's {port} port cannot accept connections: {error}. Retrying with a \
             pause of up to 1 s"
        )
    }
}

/// Answers a connection over the cap with a 503 and closes it, without blocking the accept
/// loop for more than [`REFUSAL_WRITE_TIMEOUT`].
fn refuse(mut stream: TcpStream, port: &str, cap: usize) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(REFUSAL_WRITE_TIMEOUT));
    let body = wire::error_body(
        "ServiceUnavailable",
        &format!(
            "the emulator's {port} port serves at most {cap} connections at once; try again \
             when one closes"
        ),
    );
    let response = wire::response(
        503,
        &[("Content-Type", "application/json"), ("Retry-After", "1")],
        &body,
        false,
    );
    let _ = stream.write_all(&response);
    // Drop what the client already sent, so closing does not reset the connection before
    // it reads the answer.
    let _ = stream.shutdown(std::net::Shutdown::Write);
    if stream.set_nonblocking(true).is_ok() {
        let mut sink = [0u8; 4096];
        for _ in 0..16 {
            match stream.read(&mut sink) {
                Ok(n) if n > 0 => {}
                _ => break,
            }
        }
    }
}

/// Serves requests on one connection until either side ends it.
fn serve_connection(stream: TcpStream, shared: &Arc<Shared>, serves: Listener) {
    let _ = stream.set_nodelay(true);
    // A client that stops reading its answer (the socket's send buffer full) for as long as
    // a body may pause is gone: the write fails and the connection, and its place under the
    // cap, are freed. The Runtime API port has no body timeout (a frozen runtime reads
    // nothing), so its writes wait.
    if let Some(pause) = serves.policy.body {
        let _ = stream.set_write_timeout(Some(pause));
    }
    let id = CONNECTION_IDS.fetch_add(1, Ordering::Relaxed);
    shared.track(id, &stream);
    let mut conn = Conn::new(stream, serves.policy);
    loop {
        let head = match conn.read_head() {
            Ok(Some(head)) => head,
            Ok(None) => break,
            Err(ReadError::Io(e)) => {
                log::debug!("emulator: connection ended: {e}");
                break;
            }
            Err(ReadError::Wire(e)) => {
                let _ = conn.respond_error(e.status, e.error_type, &e.message, Flow::Close);
                break;
            }
        };
        let keep_alive = head.keep_alive();
        match (serves.handler)(shared, &mut conn, head) {
            Ok(Flow::KeepAlive) if keep_alive => continue,
            _ => break,
        }
    }
    shared.untrack(id);
}
