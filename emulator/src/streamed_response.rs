//! [`Streamed`]: a response whose body leaves as it is produced (chunked for HTTP/1.1
//! clients, close-delimited for HTTP/1.0), as the invoke front sends streamed answers.

use std::io;

use crate::conn::{Conn, Flow};
use crate::wire::{RequestHead, reason};

/// A response whose body is sent piece by piece as it arrives: chunked transfer encoding for
/// HTTP/1.1 clients; for HTTP/1.0 clients, the raw bytes with the end marked by closing the
/// connection. A `HEAD` request gets the head only.
#[derive(Debug)]
pub(crate) struct Streamed {
    /// Chunked transfer encoding (HTTP/1.1) rather than a close-delimited body.
    chunked: bool,
    /// A `HEAD` request: the head only.
    head_only: bool,
}

impl Streamed {
    /// Writes the status line and `headers` (which must not include framing headers).
    pub(crate) fn start(
        conn: &mut Conn,
        request: &RequestHead,
        status: u16,
        headers: &[(&str, &str)],
    ) -> io::Result<Streamed> {
        let chunked = request.version >= 1;
        let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        for (name, value) in headers {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(value);
            out.push_str("\r\n");
        }
        if chunked {
            out.push_str("Transfer-Encoding: chunked\r\n");
        } else {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        conn.write_all(out.as_bytes())?;
        Ok(Streamed {
            chunked,
            head_only: request.method == "HEAD",
        })
    }

    /// Sends `bytes` now (an empty piece sends nothing: it would end a chunked body).
    pub(crate) fn send(&self, conn: &mut Conn, bytes: &[u8]) -> io::Result<()> {
        if bytes.is_empty() || self.head_only {
            return Ok(());
        }
        if !self.chunked {
            return conn.write_all(bytes);
        }
        let mut piece = Vec::with_capacity(bytes.len() + 16);
        piece.extend_from_slice(format!("{:x}\r\n", bytes.len()).as_bytes());
        piece.extend_from_slice(bytes);
        piece.extend_from_slice(b"\r\n");
        conn.write_all(&piece)
    }

    /// Ends the body normally: the last chunk (the connection may be reused), or the close
    /// that delimits an HTTP/1.0 body.
    pub(crate) fn finish(self, conn: &mut Conn) -> io::Result<Flow> {
        if !self.chunked {
            return Ok(Flow::Close);
        }
        if !self.head_only {
            conn.write_all(b"0\r\n\r\n")?;
        }
        Ok(Flow::KeepAlive)
    }

    /// Ends the body abnormally: no last chunk, and the connection is closed, so a client
    /// reading a chunked body sees it cut short (an HTTP/1.0 client cannot tell).
    pub(crate) fn abort(self) -> Flow {
        Flow::Close
    }
}
