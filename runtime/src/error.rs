//! [`Error`]: why the runtime stopped. Every variant ends the process when it comes out of
//! [`crate::start`]; each says what happened and what to check.

use std::fmt;

use crate::{ApiError, ConfigError, Diagnostic};

/// Why [`crate::Runtime`] stopped serving.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The environment is not a usable Lambda environment.
    Config(ConfigError),
    /// The Runtime API failed in a way the loop cannot continue after (5xx, transport
    /// failure, non-200 `/next`, an event without a request id).
    Api(ApiError),
    /// Initialization failed; the error was posted to `/init/error` (unless `report` says
    /// that failed too).
    Init {
        /// What init returned or how it panicked.
        diagnostic: Diagnostic,
        /// The failure to report it, if posting to `/init/error` failed.
        report: Option<ApiError>,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            // The configuration error is this layer's whole story.
            Error::Config(e) => e.fmt(f),
            Error::Api(_) => f.write_str("runtime API failure"),
            Error::Init {
                diagnostic,
                report: None,
            } => write!(f, "init failed (reported to /init/error): {diagnostic}"),
            Error::Init {
                diagnostic,
                report: Some(_),
            } => write!(
                f,
                "init failed: {diagnostic}; reporting it to /init/error failed"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Config(e) => e.source(),
            Error::Api(e) => Some(e),
            Error::Init { report, .. } => report.as_ref().map(|e| e as _),
        }
    }
}

impl From<ConfigError> for Error {
    fn from(e: ConfigError) -> Error {
        Error::Config(e)
    }
}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Api(e)
    }
}
