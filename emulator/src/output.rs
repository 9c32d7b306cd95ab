//! The function process's output pipes: read as the process writes (one thread per pipe),
//! passed through to this process's stdout or stderr when the emulator prints its reports,
//! and attributed to invocations; and drained on demand when the runtime calls `/next`.
//!
//! Why on demand: a runtime writes its last lines of an invocation, then calls `/next`. The
//! bytes are in the pipe before the request reaches the emulator, but a reader thread may
//! not have read them yet, so END and REPORT could be printed (and the log tail cut) before
//! them. Before `/next` ends an invocation it drains every pipe ([`crate::state::Shared::
//! drain_output`]): whatever the process wrote before it asked is read and attributed first.
//! The read end is non-blocking and each pipe's reader sits behind one lock, so the thread
//! and the drain never split a read between them; the thread waits with `poll`, holding no
//! lock.

use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use crate::lifecycle;
use crate::os;
use crate::state::{OutputSource, Shared};

/// Which of this process's streams the pipe is passed through to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// One output pipe of the function process.
#[derive(Debug)]
pub(crate) struct OutputPipe {
    /// The pipe's read end, non-blocking; read only with `reader` locked.
    pipe: File,
    /// The line being assembled; its lock is held for every read of `pipe`.
    reader: Mutex<Reader>,
    /// The process generation that writes it.
    generation: u64,
    /// Where its lines are passed through to, when they are.
    forward: Option<Stream>,
}

/// The bytes of a line not yet complete, and whether the pipe has ended.
#[derive(Debug)]
struct Reader {
    /// Bytes after the last newline.
    partial: Vec<u8>,
    /// Set at end of stream (every writer closed it).
    closed: bool,
}

impl OutputPipe {
    /// Starts reading `pipe` of the process of `generation` on its own thread, and registers
    /// it for draining. If the thread cannot start, the pipe is still drained at `/next`.
    pub(crate) fn start(
        shared: &Arc<Shared>,
        generation: u64,
        pipe: impl Into<OwnedFd>,
        stream: Stream,
    ) -> io::Result<()> {
        let pipe = File::from(pipe.into());
        os::set_nonblocking(&pipe)?;
        let forward = shared.settings.reports.forwards_output().then_some(stream);
        let this = Arc::new(OutputPipe {
            pipe,
            reader: Mutex::new(Reader {
                partial: Vec::new(),
                closed: false,
            }),
            generation,
            forward,
        });
        shared.register_output(this.clone());
        let reading = shared.clone();
        std::thread::Builder::new()
            .name("coda-emulator-output".into())
            .spawn(move || this.pump(&reading))?;
        Ok(())
    }

    /// Reads the pipe as data arrives, until its end.
    fn pump(&self, shared: &Shared) {
        while !self.lock().closed {
            // The wait holds no lock: a drain may read in the meantime.
            let failed = os::wait_readable(&self.pipe).is_err();
            self.read(shared, failed);
            if failed {
                break;
            }
        }
        shared.update(|s| {
            if s.process.generation == self.generation {
                s.process.open_pipes = s.process.open_pipes.saturating_sub(1);
            }
        });
    }

    /// Reads what the pipe holds now and attributes its complete lines (and, with `flush`,
    /// the incomplete one too).
    fn read(&self, shared: &Shared, flush: bool) {
        let mut reader = self.lock();
        let mut lines: Vec<Vec<u8>> = Vec::new();
        let mut buf = [0u8; 16 * 1024];
        while !reader.closed {
            match (&self.pipe).read(&mut buf) {
                Ok(0) => reader.closed = true,
                Ok(n) => {
                    let mut rest = &buf[..n];
                    while let Some(at) = rest.iter().position(|&b| b == b'\n') {
                        let mut line = std::mem::take(&mut reader.partial);
                        line.extend_from_slice(&rest[..=at]);
                        lines.push(line);
                        rest = &rest[at + 1..];
                    }
                    reader.partial.extend_from_slice(rest);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => reader.closed = true,
            }
        }
        if (flush || reader.closed) && !reader.partial.is_empty() {
            lines.push(std::mem::take(&mut reader.partial));
        }
        if lines.is_empty() {
            return;
        }
        if let Some(stream) = self.forward {
            // A closed stdout (`coda run … | head`) must not stop the draining.
            let _ = match stream {
                Stream::Stdout => write_lines(&mut io::stdout().lock(), &lines),
                Stream::Stderr => write_lines(&mut io::stderr().lock(), &lines),
            };
        }
        shared.update(|s| {
            for line in &lines {
                let text = String::from_utf8_lossy(line);
                lifecycle::append_log(s, text.trim_end_matches(['\n', '\r']));
            }
        });
    }

    /// The reader, even after a panic elsewhere.
    fn lock(&self) -> std::sync::MutexGuard<'_, Reader> {
        self.reader.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl OutputSource for OutputPipe {
    fn drain(&self, shared: &Shared) {
        self.read(shared, true);
    }

    fn closed(&self) -> bool {
        self.lock().closed
    }
}

/// Writes `lines` as they came (each with its newline, the last perhaps without).
fn write_lines(out: &mut impl Write, lines: &[Vec<u8>]) -> io::Result<()> {
    for line in lines {
        out.write_all(line)?;
    }
    out.flush()
}
