//! [`ReadyError`]: why a supervised function process did not become ready.

use std::error::Error;
use std::ffi::OsString;
use std::fmt;
use std::io;

use crate::wait_error::WaitError;

/// Why the function did not become ready ([`Supervisor::wait_ready`](crate::Supervisor::wait_ready)).
///
/// `Display` says what failed; the cause, when there is one (the operating system's error, the
/// wait's end), is the `source()`.
#[derive(Debug)]
#[non_exhaustive]
pub enum ReadyError {
    /// The program could not be started (not found, not executable).
    Spawn {
        /// The program.
        program: OsString,
        /// The error from the operating system.
        source: io::Error,
    },
    /// The process exited before asking for its first event.
    Exited {
        /// How it exited (`exit status: 1`).
        how: String,
        /// What it posted to `/init/error`, if anything: `(error type, body)`.
        init_error: Option<(String, String)>,
    },
    /// Waiting ended first.
    Wait(WaitError),
}

impl fmt::Display for ReadyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadyError::Spawn { program, .. } => {
                write!(f, "cannot start {}", program.to_string_lossy())
            }
            ReadyError::Exited {
                how,
                init_error: Some((kind, body)),
            } => {
                write!(
                    f,
                    "the function failed to initialize ({kind}: {body}) and exited ({how})"
                )
            }
            ReadyError::Exited {
                how,
                init_error: None,
            } => {
                write!(
                    f,
                    "the function exited before asking for its first event ({how})"
                )
            }
            ReadyError::Wait(_) => f.write_str("the function did not become ready"),
        }
    }
}

impl Error for ReadyError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            ReadyError::Spawn { source, .. } => Some(source),
            ReadyError::Wait(e) => Some(e),
            ReadyError::Exited { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each message once: walking the chain the way a printer does repeats nothing.
    fn chain(error: &dyn Error) -> String {
        let mut text = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        text
    }

    /// The spawn and wait causes are sources, not part of the message.
    #[test]
    fn causes_are_sources() {
        let spawn = ReadyError::Spawn {
            program: "/nonexistent/fn".into(),
            source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
        };
        assert_eq!(spawn.to_string(), "cannot start /nonexistent/fn");
        assert_eq!(chain(&spawn), "cannot start /nonexistent/fn: no such file");
        let wait = ReadyError::Wait(WaitError::TimedOut);
        assert_eq!(
            chain(&wait),
            "the function did not become ready: timed out waiting for the runtime"
        );
        let exited = ReadyError::Exited {
            how: "exit status: 1".into(),
            init_error: Some(("Runtime.ConfigError".into(), "no TABLE".into())),
        };
        assert!(exited.source().is_none());
        assert_eq!(
            exited.to_string(),
            "the function failed to initialize (Runtime.ConfigError: no TABLE) and exited (exit status: 1)"
        );
    }
}
