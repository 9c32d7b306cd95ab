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

/// `error` and each of its causes, once each, joined with `: `: the one printer of the
/// error chain (every `Display` in the crate says only its own layer).
pub(crate) fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Operation;

    /// A three-level chain prints each level once, outermost first.
    #[test]
    fn error_chain_prints_each_cause_once() {
        let error = Error::Api(ApiError::Transport {
            operation: Operation::Next,
            source: Box::new(std::io::Error::new(
                std::io::ErrorKind::ConnectionRefused,
                "connection refused",
            )),
        });
        let text = chain(&error);
        assert_eq!(
            text,
            "runtime API failure: GET /2018-06-01/runtime/invocation/next did not complete: connection refused"
        );
        for part in [
            "runtime API failure",
            "invocation/next",
            "connection refused",
        ] {
            assert_eq!(text.matches(part).count(), 1, "{part} in {text}");
        }
    }
}
