//! [`AdapterError`]: why an event could not become an `http::Request`.

use std::error::Error as StdError;
use std::fmt;

use super::origin::Origin;

/// Why the HTTP adapter could not turn an event into a request.
///
/// All but [`AdapterError::InvalidBase64`] fail the invocation (`Runtime.UnmarshalError`, the
/// handler is not called); an undecodable base64 body is the client's fault and is answered
/// with `400 Bad Request` in the shape of the event's source, with a log line.
#[derive(Debug)]
#[non_exhaustive]
pub enum AdapterError {
    /// The payload is not JSON at all (or is empty).
    NotJson {
        /// The JSON parser's error.
        source: serde_json::Error,
    },
    /// The payload is JSON but not an object.
    NotAnObject {
        /// What it is instead: `array`, `string`, `number`, `boolean` or `null`.
        found: &'static str,
    },
    /// The payload is a JSON object with none of the keys that identify an HTTP source.
    UnknownEvent {
        /// For each source family this build accepts: its name and the keys the event lacks.
        missing: Vec<(&'static str, Vec<&'static str>)>,
        /// The event's top-level keys (the first twelve).
        keys: Vec<String>,
    },
    /// The event comes from a source whose feature is off in this build.
    SourceNotEnabled {
        /// The source the event comes from.
        origin: Origin,
    },
    /// The event is from `origin` but one of its fields has the wrong type.
    Decode {
        /// The source the event comes from.
        origin: Origin,
        /// Where in the event the field is, such as `multiValueHeaders.accept[0]` (empty
        /// when it could not be told).
        path: String,
        /// The JSON decoder's error.
        source: serde_json::Error,
    },
    /// A field the request cannot be built without is missing.
    MissingField {
        /// The source the event comes from.
        origin: Origin,
        /// The field, such as `requestContext.http.method`.
        field: &'static str,
    },
    /// The HTTP method is not a valid method token.
    InvalidMethod {
        /// The source the event comes from.
        origin: Origin,
        /// The method as the event gave it.
        method: String,
    },
    /// `isBase64Encoded` is true but the body is not base64.
    InvalidBase64 {
        /// The source the event comes from.
        origin: Origin,
        /// The base64 decoder's error.
        source: base64::DecodeError,
    },
}

impl fmt::Display for AdapterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AdapterError::NotJson { .. } => f.write_str(
                "the event is not JSON: an HTTP function expects the JSON event of API \
                 Gateway, an ALB target group or a Function URL",
            ),
            AdapterError::NotAnObject { found } => write!(
                f,
                "the event is a JSON {found}, not an object: an HTTP function expects the \
                 event of API Gateway, an ALB target group or a Function URL"
            ),
            AdapterError::UnknownEvent { missing, keys } => {
                f.write_str("the event is not an HTTP request this function accepts (")?;
                for (i, (source, keys)) in missing.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{source}: no ")?;
                    write_keys(f, keys)?;
                }
                f.write_str("); ")?;
                if keys.is_empty() {
                    f.write_str("the event has no keys")?;
                } else {
                    f.write_str("its keys are ")?;
                    write_keys(f, keys)?;
                }
                f.write_str(
                    ": invoke the function through one of these sources, or give this event \
                     a handler of its own",
                )
            }
            AdapterError::SourceNotEnabled { origin } => write!(
                f,
                "the event comes from a source this build leaves out ({origin}): enable the \
                 `{}` feature of coda-handlers",
                origin.as_str()
            ),
            AdapterError::Decode { origin, path, .. } if path.is_empty() => write!(
                f,
                "could not decode the {origin} event: a field does not have the type the \
                 source sends"
            ),
            AdapterError::Decode { origin, path, .. } => write!(
                f,
                "could not decode the {origin} event at `{path}`: that field does not have \
                 the type the source sends"
            ),
            AdapterError::MissingField { origin, field } => write!(
                f,
                "the {origin} event has no `{field}`: the request cannot be built without it"
            ),
            AdapterError::InvalidMethod { origin, method } => write!(
                f,
                "the {origin} event's method {method:?} is not a valid HTTP method"
            ),
            AdapterError::InvalidBase64 { origin, .. } => write!(
                f,
                "the {origin} request body is marked isBase64Encoded but is not valid base64"
            ),
        }
    }
}

fn write_keys<S: AsRef<str>>(f: &mut fmt::Formatter<'_>, keys: &[S]) -> fmt::Result {
    for (i, key) in keys.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "`{}`", key.as_ref())?;
    }
    Ok(())
}

impl StdError for AdapterError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            AdapterError::NotJson { source } | AdapterError::Decode { source, .. } => Some(source),
            AdapterError::InvalidBase64 { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl AdapterError {
    /// The `/error` report of this error: `Runtime.UnmarshalError` (the event did not fit, as
    /// for any undecodable event), the message, and the cause chain as the stack trace.
    pub fn to_diagnostic(&self) -> coda_lambda::Diagnostic {
        let mut chain = Vec::new();
        let mut cause = StdError::source(self);
        while let Some(e) = cause {
            chain.push(format!("caused by: {e}"));
            cause = e.source();
        }
        coda_lambda::Diagnostic::new("Runtime.UnmarshalError", self.to_string())
            .with_stack_trace(chain)
    }
}
