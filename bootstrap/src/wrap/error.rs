//! [`WrapError`]: why `coda wrap` could not start the runtime, or could not see it end.
//! Each message names what failed and what to do; the cause is the `source()`.

use std::ffi::OsString;
use std::fmt;
use std::io;

use super::config::SettingsError;

/// Why `coda wrap` stopped before the runtime could serve, or lost track of it.
#[derive(Debug)]
#[non_exhaustive]
pub enum WrapError {
    /// The termination signals could not be set up.
    Signals(io::Error),
    /// A setting cannot be used (the source says which and why).
    Settings(SettingsError),
    /// No runtime command was given (the parser prevents this).
    NoCommand,
    /// The proxy could not listen on 127.0.0.1.
    Listen(io::Error),
    /// The directory for the event and answer files could not be made.
    Files(io::Error),
    /// A thread could not be started.
    Thread(io::Error),
    /// The runtime could not be started.
    Start {
        /// The runtime's program.
        program: OsString,
        /// The error.
        source: io::Error,
    },
    /// Waiting for the runtime's exit failed.
    Wait(io::Error),
}

impl fmt::Display for WrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Signals(_) => f.write_str(
                "coda wrap cannot set up the signal handling that passes termination signals on to the runtime",
            ),
            Self::Settings(_) => f.write_str("coda wrap cannot start with these settings"),
            Self::NoCommand => f.write_str("coda wrap needs the runtime's command after `--`"),
            Self::Listen(_) => {
                f.write_str("coda wrap cannot listen on 127.0.0.1 for the runtime's Runtime API calls")
            }
            Self::Files(_) => f.write_str(
                "coda wrap cannot create the directory for the event and answer files in the temporary directory (set TMPDIR, or run without --files)",
            ),
            Self::Thread(_) => f.write_str("coda wrap cannot start one of its threads"),
            Self::Start { program, .. } => write!(
                f,
                "coda wrap cannot start the runtime {}",
                program.to_string_lossy()
            ),
            Self::Wait(_) => f.write_str("coda wrap lost track of the runtime's process"),
        }
    }
}

impl std::error::Error for WrapError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Signals(e)
            | Self::Listen(e)
            | Self::Files(e)
            | Self::Thread(e)
            | Self::Wait(e)
            | Self::Start { source: e, .. } => Some(e),
            Self::Settings(e) => Some(e),
            Self::NoCommand => None,
        }
    }
}
