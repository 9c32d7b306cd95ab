//! [`ReadyError`]: why a supervised function process did not become ready.

use std::error::Error;
use std::ffi::OsString;
use std::fmt;
use std::io;

use crate::wait_error::WaitError;

/// Why the function did not become ready.
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
            ReadyError::Spawn { program, source } => {
                write!(f, "cannot start {}: {source}", program.to_string_lossy())
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
            ReadyError::Wait(e) => write!(f, "the function did not become ready: {e}"),
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
