//! [`Output`]: where EMF lines go — stdout, one write per line, as Lambda expects (it sends
//! stdout to CloudWatch Logs, which extracts the metrics) — or a sink of the program's.

use std::io::{self, Write};
use std::sync::{Arc, Mutex};

/// A sink for EMF lines (without their newline).
pub(crate) type Sink = Arc<Mutex<Box<dyn FnMut(&str) + Send>>>;

/// Where the lines go.
#[derive(Clone, Default)]
pub(crate) enum Output {
    /// Standard output, each line in one write.
    #[default]
    Stdout,
    /// A function of the program's.
    Sink(Sink),
}

impl Output {
    /// Writes `line` and its newline.
    pub(crate) fn write(&self, line: &str) -> io::Result<()> {
        match self {
            Output::Stdout => {
                let mut buffer = Vec::with_capacity(line.len() + 1);
                buffer.extend_from_slice(line.as_bytes());
                buffer.push(b'\n');
                let mut out = io::stdout().lock();
                out.write_all(&buffer)?;
                out.flush()
            }
            Output::Sink(sink) => {
                let mut sink = sink.lock().unwrap_or_else(|e| e.into_inner());
                sink(line);
                Ok(())
            }
        }
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Stdout => f.write_str("Stdout"),
            Output::Sink(_) => f.write_str("Sink"),
        }
    }
}
