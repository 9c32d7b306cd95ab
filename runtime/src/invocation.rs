//! [`Invocation`]: what `GET /next` returned, read leniently (`docs/runtime-api.md` §2.2, §9).
//!
//! Header problems never stop the loop: a missing or invalid deadline means "no deadline",
//! a missing ARN is empty, empty optional headers are absent (§2.2, §9 #6–#7). What was
//! wrong is kept in `warnings` so the loop can log it against the request id.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::protocol;

/// Deadlines below this (2001-09-09 in epoch milliseconds) cannot be Lambda's, which are
/// always "now + timeout": such a value is a duration, as some local emulators send.
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

/// One event handed out by `/next`.
#[derive(Debug, Default)]
pub(crate) struct Invocation {
    pub(crate) request_id: Arc<str>,
    pub(crate) deadline_ms: Option<u64>,
    pub(crate) function_arn: String,
    pub(crate) trace_id: Option<String>,
    pub(crate) client_context: Option<String>,
    pub(crate) cognito_identity: Option<String>,
    pub(crate) tenant_id: Option<String>,
    pub(crate) invocation_id: Option<String>,
    pub(crate) content_type: Option<String>,
    pub(crate) warnings: Vec<String>,
    /// Differences from Lambda that were tolerated (logged at debug level).
    pub(crate) notes: Vec<String>,
}

/// A header value as trimmed text, borrowed when it is UTF-8 (always, in practice).
fn text(raw: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(raw) {
        Ok(text) => Cow::Borrowed(text.trim()),
        Err(_) => Cow::Owned(String::from_utf8_lossy(raw).trim().to_owned()),
    }
}

/// Whether `name` is a `/next` header the runtime reads.
fn is_known(name: &str) -> bool {
    matches!(
        name,
        protocol::DEADLINE_MS
            | protocol::FUNCTION_ARN
            | protocol::TRACE_ID
            | protocol::CLIENT_CONTEXT
            | protocol::COGNITO_IDENTITY
            | protocol::TENANT_ID
            | protocol::INVOCATION_ID
            | "content-type"
    )
}

impl Invocation {
    /// Reads the headers of a `/next` answer. `None` when there is no usable request id
    /// (§9 #5): such an event cannot be answered.
    pub(crate) fn from_headers<'a>(
        headers: impl Iterator<Item = (&'a str, &'a [u8])>,
    ) -> Option<Invocation> {
        let mut inv = Invocation::default();
        let mut request_id = None;
        let mut deadline = None;
        for (name, raw) in headers {
            // A value that is not UTF-8 cannot be Lambda's (its values are ASCII): any header
            // but the request id is read as absent, with a warning naming it (§11 #12); sent
            // twice, the last copy wins, so it also clears what an earlier copy set. The
            // request id is kept as best it can be read, so the event can still be answered.
            let absent = name != protocol::REQUEST_ID && std::str::from_utf8(raw).is_err();
            if absent && is_known(name) {
                inv.warnings.push(format!(
                    "the {name} header is not UTF-8 ({} bytes): treated as absent",
                    raw.len()
                ));
            }
            let value = if absent { Cow::Borrowed("") } else { text(raw) };
            let optional = || Some(value.clone().into_owned()).filter(|v| !v.is_empty());
            match name {
                protocol::REQUEST_ID => request_id = Some(value.clone()).filter(|v| !v.is_empty()),
                protocol::DEADLINE_MS => deadline = (!absent).then(|| value.clone()),
                protocol::FUNCTION_ARN => inv.function_arn = value.clone().into_owned(),
                protocol::TRACE_ID => inv.trace_id = optional(),
                protocol::CLIENT_CONTEXT => inv.client_context = optional(),
                protocol::COGNITO_IDENTITY => inv.cognito_identity = optional(),
                protocol::TENANT_ID => inv.tenant_id = optional(),
                protocol::INVOCATION_ID => inv.invocation_id = optional(),
                "content-type" => inv.content_type = optional(),
                _ => {}
            }
        }
        inv.request_id = Arc::from(&*request_id?);
        match deadline.as_deref() {
            None => inv
                .warnings
                .push("no Lambda-Runtime-Deadline-Ms header: no deadline".into()),
            Some(text) => match text.parse::<u64>() {
                Ok(ms) if ms < PLAUSIBLE_EPOCH_MS => {
                    // cargo-lambda 1.x sends the timeout itself (600000 for 10 minutes), not
                    // an epoch time: read it as a duration from now rather than as 1970.
                    let now = SystemTime::now()
                        .duration_since(UNIX_EPOCH)
                        .unwrap_or_default();
                    inv.deadline_ms = Some(now.as_millis() as u64 + ms);
                    inv.notes.push(format!(
                        "Lambda-Runtime-Deadline-Ms {ms} is not an epoch time (cargo-lambda sends \
                         the timeout itself): read as {ms} ms from now"
                    ));
                }
                Ok(ms) => inv.deadline_ms = Some(ms),
                Err(_) => inv.warnings.push(format!(
                    "ignoring invalid Lambda-Runtime-Deadline-Ms {text:?}: no deadline"
                )),
            },
        }
        if inv.function_arn.is_empty() {
            inv.warnings
                .push("no Lambda-Runtime-Invoked-Function-Arn header".into());
        }
        Some(inv)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Option<Invocation> {
        Invocation::from_headers(pairs.iter().map(|(k, v)| (*k, v.as_bytes())))
    }

    /// §2.2: every header lands in its field.
    #[test]
    fn reads_every_header() {
        let inv = parse(&[
            (protocol::REQUEST_ID, "r-1"),
            (protocol::DEADLINE_MS, "1700000000000"),
            (
                protocol::FUNCTION_ARN,
                "arn:aws:lambda:us-east-1:1:function:f",
            ),
            (protocol::TRACE_ID, "Root=1-a;Sampled=1"),
            (protocol::CLIENT_CONTEXT, "{}"),
            (protocol::COGNITO_IDENTITY, "{}"),
            (protocol::TENANT_ID, "t-1"),
            (protocol::INVOCATION_ID, "i-1"),
            ("content-type", "application/json"),
        ])
        .unwrap();
        assert_eq!(&*inv.request_id, "r-1");
        assert_eq!(inv.deadline_ms, Some(1_700_000_000_000));
        assert_eq!(inv.trace_id.as_deref(), Some("Root=1-a;Sampled=1"));
        assert_eq!(inv.tenant_id.as_deref(), Some("t-1"));
        assert_eq!(inv.invocation_id.as_deref(), Some("i-1"));
        assert!(inv.warnings.is_empty());
    }

    /// A deadline that cannot be an epoch time (cargo-lambda's "600000") is a duration.
    #[test]
    fn relative_deadlines_from_local_emulators() {
        let inv = parse(&[
            (protocol::REQUEST_ID, "r"),
            (protocol::DEADLINE_MS, "600000"),
        ])
        .unwrap();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        let deadline = inv.deadline_ms.unwrap();
        assert!(
            deadline >= now + 590_000 && deadline <= now + 600_000,
            "{deadline} vs {now}"
        );
        assert_eq!(inv.notes.len(), 1, "{:?}", inv.notes);
    }

    /// §9 #5–#7: no request id cannot be answered; empty is absent; a bad deadline is none.
    #[test]
    fn lenient_reading() {
        assert!(parse(&[(protocol::DEADLINE_MS, "1")]).is_none());
        assert!(parse(&[(protocol::REQUEST_ID, "  ")]).is_none());
        let inv = parse(&[
            (protocol::REQUEST_ID, "r"),
            (protocol::DEADLINE_MS, "soon"),
            (protocol::TRACE_ID, ""),
            (protocol::CLIENT_CONTEXT, ""),
            (protocol::COGNITO_IDENTITY, ""),
        ])
        .unwrap();
        assert_eq!(inv.deadline_ms, None);
        assert_eq!(
            (inv.trace_id, inv.client_context, inv.cognito_identity),
            (None, None, None)
        );
        assert_eq!(inv.warnings.len(), 2, "{:?}", inv.warnings);
    }

    /// §11 #12: a value that is not UTF-8 is absent, with a warning naming the header; the
    /// request id is still read.
    #[test]
    fn values_that_are_not_utf8_are_absent() {
        let headers: [(&str, &[u8]); 4] = [
            (protocol::REQUEST_ID, b"r-\xff"),
            (protocol::DEADLINE_MS, b"1700000000000"),
            (protocol::TRACE_ID, b"Root=1-a\xff\xfe"),
            (protocol::CLIENT_CONTEXT, b"{\xff}"),
        ];
        let inv = Invocation::from_headers(headers.into_iter()).unwrap();
        assert_eq!(&*inv.request_id, "r-\u{fffd}");
        assert_eq!((inv.trace_id, inv.client_context), (None, None));
        assert_eq!(inv.deadline_ms, Some(1_700_000_000_000));
        let warnings = inv.warnings.join("; ");
        assert!(
            warnings.contains(
                "the lambda-runtime-trace-id header is not UTF-8 (10 bytes): treated as absent"
            ) && warnings.contains("lambda-runtime-client-context"),
            "{warnings}"
        );
    }

    /// Sent twice, the last copy wins, also when it is the one that is not UTF-8: the field
    /// is then absent, not the earlier copy's value (found by the `next_headers` fuzz target).
    #[test]
    fn a_last_copy_that_is_not_utf8_clears_the_field() {
        let headers: [(&str, &[u8]); 7] = [
            (protocol::REQUEST_ID, b"r-1"),
            (protocol::DEADLINE_MS, b"1700000000000"),
            (protocol::DEADLINE_MS, b"17\xff"),
            (protocol::TRACE_ID, b"Root=1-a"),
            (protocol::TRACE_ID, b"Root=1-\x80"),
            (protocol::CLIENT_CONTEXT, b"{\xff}"),
            (protocol::CLIENT_CONTEXT, b"{}"),
        ];
        let inv = Invocation::from_headers(headers.into_iter()).unwrap();
        assert_eq!(inv.trace_id, None);
        assert_eq!(inv.deadline_ms, None);
        assert_eq!(
            inv.client_context.as_deref(),
            Some("{}"),
            "a valid last copy stays"
        );
    }
}
