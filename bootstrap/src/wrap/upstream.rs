//! The real Runtime API, upstream of the proxy: where it is (`AWS_LAMBDA_RUNTIME_API`, also
//! in cargo-lambda's `http://host:port/prefix` form) and the connections kept open to it.
//!
//! A request takes an idle kept connection (one that the server has not closed meanwhile)
//! or opens one, and gives it back once its answer was read whole, unless either side asked
//! to close it. A runtime that sends one request at a time — every sequential runtime, and
//! also one that opens a new connection per request — is served over **one** kept connection
//! upstream; N concurrent long-polls (`/next` on Managed Instances, an extension's
//! `/event/next`) need N.

use std::io;
use std::net::TcpStream;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use super::http::Reader;

/// One connection to the real Runtime API, with its read buffer.
pub type Connection = Reader<TcpStream>;

/// Where the real Runtime API is, and the connections kept to it.
#[derive(Debug)]
pub struct Upstream {
    /// `host:port`.
    authority: String,
    /// A path prefix to put before every request target (empty on Lambda).
    prefix: String,
    /// Idle connections, the most recently used last.
    idle: Mutex<Vec<Connection>>,
    /// How many connections were opened so far.
    opened: AtomicU64,
}

impl Upstream {
    /// The Runtime API at `base` (`http://host:port[/prefix]`, as `coda_lambda::Config`
    /// gives it).
    pub fn new(base: &str) -> Upstream {
        let rest = base.strip_prefix("http://").unwrap_or(base);
        let (authority, prefix) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        Upstream {
            authority: authority.to_owned(),
            prefix: prefix.trim_end_matches('/').to_owned(),
            idle: Mutex::new(Vec::new()),
            opened: AtomicU64::new(0),
        }
    }

    /// `host:port` of the real Runtime API.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The request target to send upstream for the client's `target`.
    pub fn target(&self, target: &str) -> String {
        format!("{}{target}", self.prefix)
    }

    /// An idle kept connection that is still open (unless `fresh_only`), else a new one
    /// with its number among the connections opened so far (from 1).
    pub fn take(&self, fresh_only: bool) -> io::Result<(Connection, Option<u64>)> {
        if !fresh_only {
            // Closed by the server while idle: dropped, and the next one looked at.
            while let Some(connection) = self.pop_idle() {
                if still_open(connection.get_ref()) {
                    return Ok((connection, None));
                }
            }
        }
        let stream = TcpStream::connect(&self.authority)?;
        stream.set_nodelay(true)?;
        let number = self.opened.fetch_add(1, Ordering::Relaxed) + 1;
        Ok((Reader::new(stream), Some(number)))
    }

    /// The most recently used idle connection.
    fn pop_idle(&self) -> Option<Connection> {
        match self.idle.lock() {
            Ok(mut idle) => idle.pop(),
            Err(poisoned) => poisoned.into_inner().pop(),
        }
    }

    /// Keeps `connection` for the next request.
    pub fn give_back(&self, connection: Connection) {
        match self.idle.lock() {
            Ok(mut idle) => idle.push(connection),
            Err(poisoned) => poisoned.into_inner().push(connection),
        }
    }

    /// How many connections were opened so far.
    #[cfg(test)]
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    /// How many connections are kept idle now.
    #[cfg(test)]
    pub fn idle_count(&self) -> usize {
        self.idle.lock().map(|idle| idle.len()).unwrap_or(0)
    }
}

/// Whether the server has not closed `stream`: a non-blocking peek finds neither the end of
/// the stream nor bytes nobody asked for.
fn still_open(stream: &TcpStream) -> bool {
    if stream.set_nonblocking(true).is_err() {
        return false;
    }
    let mut probe = [0u8; 1];
    let open = matches!(stream.peek(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
    stream.set_nonblocking(false).is_ok() && open
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// The base URL splits into the authority and the prefix put before every target.
    #[test]
    fn endpoints() {
        let plain = Upstream::new("http://127.0.0.1:9001");
        assert_eq!(
            (plain.authority(), plain.target("/2018-06-01/x").as_str()),
            ("127.0.0.1:9001", "/2018-06-01/x")
        );
        let prefixed = Upstream::new("http://[::1]:9000/.rt/hello/");
        assert_eq!(
            (
                prefixed.authority(),
                prefixed.target("/2018-06-01/x").as_str()
            ),
            ("[::1]:9000", "/.rt/hello/2018-06-01/x")
        );
    }

    /// A kept connection is used again; one the server closed is dropped for a new one.
    #[test]
    fn kept_connections() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let upstream = Upstream::new(&format!("http://{}", listener.local_addr().unwrap()));
        let (first, number) = upstream.take(false).unwrap();
        assert_eq!(number, Some(1));
        let (server_side, _) = listener.accept().unwrap();
        let port = first.get_ref().local_addr().unwrap().port();
        upstream.give_back(first);
        let (again, number) = upstream.take(false).unwrap();
        assert_eq!(number, None, "kept, not opened");
        assert_eq!(
            again.get_ref().local_addr().unwrap().port(),
            port,
            "the same one"
        );
        let mut probe = again.get_ref().try_clone().unwrap();
        upstream.give_back(again);
        drop(server_side);
        // Once the end of the stream has arrived (a read on a clone sees it), the pool sees
        // it too.
        assert_eq!(std::io::Read::read(&mut probe, &mut [0u8; 1]).unwrap(), 0);
        let (fresh, number) = upstream.take(false).unwrap();
        assert_eq!(number, Some(2));
        assert_ne!(
            fresh.get_ref().local_addr().unwrap().port(),
            port,
            "a new one"
        );
        assert_eq!(upstream.idle_count(), 0);
        upstream.give_back(fresh);
        let (_, number) = upstream.take(true).unwrap();
        assert_eq!(number, Some(3), "a new one even with one kept");
    }
}
