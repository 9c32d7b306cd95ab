//! The accept loop: one thread per listener, one thread per connection, each request handed
//! to the listener's [`Handler`] (the Runtime API port's or the invoke front's dispatch).

use std::io;
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread::JoinHandle;

use crate::conn::{Conn, Flow, ReadError};
use crate::state::Shared;
use crate::wire::RequestHead;

/// A request handler for one listener.
pub(crate) type Handler = fn(&Arc<Shared>, &mut Conn, RequestHead) -> io::Result<Flow>;

/// Numbers connections, so shutdown can close the ones still open.
static CONNECTION_IDS: AtomicU64 = AtomicU64::new(1);

/// Accepts connections on `listener` until shutdown, serving each on its own thread.
pub(crate) fn spawn_listener(
    listener: TcpListener,
    shared: Arc<Shared>,
    handler: Handler,
) -> io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name("coda-emulator-accept".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if shared.read(|s| s.shutdown) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                let spawned = std::thread::Builder::new()
                    .name("coda-emulator-conn".into())
                    .spawn(move || serve_connection(stream, &shared, handler));
                if let Err(e) = spawned {
                    log::error!("emulator: could not start a connection thread: {e}");
                }
            }
        })
}

/// Serves requests on one connection until either side ends it.
fn serve_connection(stream: TcpStream, shared: &Arc<Shared>, handler: Handler) {
    let _ = stream.set_nodelay(true);
    let id = CONNECTION_IDS.fetch_add(1, Ordering::Relaxed);
    shared.track(id, &stream);
    let mut conn = Conn::new(stream);
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
        match handler(shared, &mut conn, head) {
            Ok(Flow::KeepAlive) if keep_alive => continue,
            _ => break,
        }
    }
    shared.untrack(id);
}
