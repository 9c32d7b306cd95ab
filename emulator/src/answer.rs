//! [`Answer`]: what the runtime posted for an invocation (or what the emulator answered for
//! it), as the caller receives it.

use std::time::Duration;

use coda_lambda::Diagnostic;
use coda_lambda::protocol::FUNCTION_ERROR_BODY;

/// What the runtime posted for an invocation.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Answer {
    /// The payload the caller receives: the response body, or the error JSON.
    pub payload: Vec<u8>,
    /// The `Content-Type` the runtime sent.
    pub content_type: Option<String>,
    /// For a failed invocation, the error type as Lambda records it: the
    /// `Lambda-Runtime-Function-Error-Type` header when it is in `Runtime.X` / `Function.X`
    /// form, else `Runtime.Unknown` (or `Function.Unknown`) (§4.1); for a refused response,
    /// Lambda's type for the refusal.
    pub function_error: Option<String>,
    /// The error-type header exactly as the runtime sent it (header or stream trailer).
    pub error_type_header: Option<String>,
    /// The X-Ray error cause the runtime attached to an error (§4.3): the
    /// `Lambda-Runtime-Function-XRay-Error-Cause` header, or the `errorCause` of an
    /// error-cause body, which is removed from the payload as RAPID does.
    pub error_cause: Option<String>,
    /// Whether the response was streamed (`Lambda-Runtime-Function-Response-Mode: streaming`).
    pub streamed: bool,
    /// The status the emulator answered the runtime with (202 unless refused or injected).
    pub status: u16,
    /// The request headers the runtime sent with its answer (names lowercase).
    pub headers: Vec<(String, String)>,
    /// Trailers of a streamed answer (names lowercase).
    pub trailers: Vec<(String, String)>,
    /// Time from queueing the invocation to the end of the answer's body.
    pub latency: Duration,
}

impl Answer {
    /// The payload as JSON, when it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.payload).ok()
    }

    /// The error body as a [`Diagnostic`], for failed invocations.
    pub fn diagnostic(&self) -> Option<Diagnostic> {
        self.function_error.as_ref()?;
        Diagnostic::from_json(&self.payload)
    }

    /// A request header the runtime sent with its answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the invocation failed (an error was posted or the answer was refused).
    pub fn is_error(&self) -> bool {
        self.function_error.is_some()
    }

    /// The text of a failed answer's error: the `errorMessage` of its error JSON (the body of
    /// an `/error` post, or the base64 error-body trailer of a stream), else the body as text.
    pub(crate) fn error_message(&self) -> Option<String> {
        self.function_error.as_ref()?;
        let trailer = self
            .trailers
            .iter()
            .find(|(n, _)| n == FUNCTION_ERROR_BODY)
            .and_then(|(_, v)| crate::b64::decode(v));
        let body: &[u8] = match &trailer {
            Some(decoded) => decoded,
            None if self.streamed => return None,
            None => &self.payload,
        };
        let json: Option<serde_json::Value> = serde_json::from_slice(body).ok();
        match json.as_ref().and_then(|j| j.get("errorMessage")) {
            Some(serde_json::Value::String(message)) => Some(message.clone()),
            _ => Some(String::from_utf8_lossy(body).into_owned()).filter(|s| !s.is_empty()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(payload: &[u8], streamed: bool, error: Option<&str>) -> Answer {
        Answer {
            payload: payload.to_vec(),
            content_type: None,
            function_error: error.map(str::to_owned),
            error_type_header: None,
            error_cause: None,
            streamed,
            status: 202,
            headers: Vec::new(),
            trailers: Vec::new(),
            latency: Duration::ZERO,
        }
    }

    /// Error text comes from the error JSON, the stream's error trailer, or the raw body.
    #[test]
    fn error_messages() {
        assert_eq!(answer(b"ok", false, None).error_message(), None);
        let posted = answer(
            br#"{"errorType":"Function.X","errorMessage":"boom"}"#,
            false,
            Some("Function.X"),
        );
        assert_eq!(posted.error_message().as_deref(), Some("boom"));
        let mut streamed = answer(b"partial", true, Some("Function.Y"));
        assert_eq!(streamed.error_message(), None);
        streamed.trailers.push((
            FUNCTION_ERROR_BODY.into(),
            crate::b64::encode(br#"{"errorMessage":"mid-stream"}"#),
        ));
        assert_eq!(streamed.error_message().as_deref(), Some("mid-stream"));
        let raw = answer(b"not json", false, Some("Function.Z"));
        assert_eq!(raw.error_message().as_deref(), Some("not json"));
    }
}
