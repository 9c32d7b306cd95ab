//! Checks for the fuzz targets in `fuzz/` and for the stable test that replays their corpora
//! (`tests/fuzz_corpora`): pure functions, no I/O, no threads, that panic when a property
//! does not hold. Behind the `fuzzing` feature, off by default; not a stable API.
//!
//! - [`next_headers`]: the headers of a `/next` answer into an invocation and a [`Context`]
//!   (`docs/runtime-api.md` §2.2, §9 #5–#7).
//! - [`error_body`]: a [`Diagnostic`] into the `/error` body and the error-type header (§4.1).

use std::sync::Arc;
use std::time::Duration;

use crate::context::Context;
use crate::detached::Detached;
use crate::invocation::Invocation;
use crate::protocol;
use crate::{Diagnostic, FunctionConfig};

/// Deadlines at or above this are epoch milliseconds; below, a duration (as `invocation`
/// reads them, §2.2).
const PLAUSIBLE_EPOCH_MS: u64 = 1_000_000_000_000;

/// Splits a fuzz input into header pairs: one `name:value` per `\n`-ended line, the name
/// lowercased (as the client's header map hands them over), the value raw bytes. A line
/// without `:` is skipped.
pub fn header_pairs(data: &[u8]) -> Vec<(String, &[u8])> {
    data.split(|&b| b == b'\n')
        .filter_map(|line| {
            let colon = line.iter().position(|&b| b == b':')?;
            let name = String::from_utf8_lossy(&line[..colon]).to_ascii_lowercase();
            Some((name, &line[colon + 1..]))
        })
        .collect()
}

/// The value the runtime should keep for header `name`: the last one sent, as trimmed text
/// (lossy for non-UTF-8 bytes).
fn last_value(pairs: &[(String, &[u8])], name: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .and_then(|(_, v)| std::str::from_utf8(v).ok())
        .map(|v| v.trim().to_owned())
}

/// The last value of header `name`, read as best it can be (the request id: an event must
/// still be answerable when its id is not UTF-8).
fn last_value_lossy(pairs: &[(String, &[u8])], name: &str) -> Option<String> {
    pairs
        .iter()
        .rev()
        .find(|(n, _)| n == name)
        .map(|(_, v)| String::from_utf8_lossy(v).trim().to_owned())
}

/// An optional header as the runtime should keep it: absent when empty (§9 #6).
fn optional(pairs: &[(String, &[u8])], name: &str) -> Option<String> {
    last_value(pairs, name).filter(|v| !v.is_empty())
}

/// The `/next` headers of `data` (see [`header_pairs`]) into an invocation and a
/// [`Context`]. Panics unless: there is an invocation exactly when a non-empty request id
/// was sent, and then the request id, ARN, trace id, client context, identity, tenant id,
/// invocation id and content type read back are the values sent (trimmed, last one wins),
/// the deadline is the one sent when it is an epoch time and absent when it is not a
/// number, every problem left a warning, and nothing of the context panics when read.
pub fn next_headers(data: &[u8]) {
    let pairs = header_pairs(data);
    let read = Invocation::from_headers(pairs.iter().map(|(n, v)| (n.as_str(), *v)));
    let sent_id = last_value_lossy(&pairs, protocol::REQUEST_ID).filter(|v| !v.is_empty());
    let Some(invocation) = read else {
        assert!(
            sent_id.is_none(),
            "request id {sent_id:?} sent but no invocation"
        );
        return;
    };
    let sent_id = sent_id.unwrap_or_else(|| panic!("an invocation without a request id"));
    assert_eq!(&*invocation.request_id, sent_id, "request id");

    let deadline = last_value(&pairs, protocol::DEADLINE_MS);
    let arn = last_value(&pairs, protocol::FUNCTION_ARN).unwrap_or_default();
    let deadline_warned = invocation
        .warnings
        .iter()
        .any(|w| w.contains("Lambda-Runtime-Deadline-Ms"));
    let arn_warned = invocation
        .warnings
        .iter()
        .any(|w| w.contains("Lambda-Runtime-Invoked-Function-Arn"));
    assert_eq!(arn_warned, arn.is_empty(), "ARN warning for {arn:?}");

    let ctx = Context::new(
        invocation,
        Arc::new(FunctionConfig::default()),
        true,
        Duration::ZERO,
        Detached::new(1),
        0,
    );
    assert_eq!(ctx.request_id(), sent_id);
    assert_eq!(ctx.invoked_function_arn(), arn);
    let fields: [(&str, Option<&str>); 6] = [
        (protocol::TRACE_ID, ctx.trace_id()),
        (protocol::CLIENT_CONTEXT, ctx.client_context_raw()),
        (protocol::COGNITO_IDENTITY, ctx.identity_raw()),
        (protocol::TENANT_ID, ctx.tenant_id()),
        (protocol::INVOCATION_ID, ctx.invocation_id()),
        ("content-type", ctx.content_type()),
    ];
    for (name, got) in fields {
        assert_eq!(got.map(str::to_owned), optional(&pairs, name), "{name}");
    }
    match deadline.as_deref().map(str::parse::<u64>) {
        None => {
            assert!(deadline_warned, "no deadline header and no warning");
            assert_eq!(ctx.deadline_ms(), None);
        }
        Some(Err(_)) => {
            assert!(
                deadline_warned,
                "invalid deadline {deadline:?} and no warning"
            );
            assert_eq!(ctx.deadline_ms(), None);
        }
        Some(Ok(ms)) if ms >= PLAUSIBLE_EPOCH_MS => {
            assert!(!deadline_warned);
            assert_eq!(ctx.deadline_ms(), Some(ms));
        }
        Some(Ok(ms)) => {
            // A duration from now: read as now + ms, so at least ms.
            let got = ctx.deadline_ms();
            assert!(
                got.is_some_and(|d| d >= ms),
                "relative deadline {ms} read as {got:?}"
            );
        }
    }
    // Reading never panics, whatever was sent.
    let _ = ctx.deadline();
    let _ = ctx.remaining();
    if ctx.client_context().is_some() {
        assert!(ctx.client_context_raw().is_some());
    }
    if ctx.identity().is_some() {
        assert!(ctx.identity_raw().is_some());
    }
}

/// Splits a fuzz input into a diagnostic's parts: NUL-separated, the error type first, then
/// the message, then stack-trace lines (lossy UTF-8).
pub fn diagnostic_parts(data: &[u8]) -> Vec<String> {
    data.split(|&b| b == 0)
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

/// A [`Diagnostic`] built from `data` (see [`diagnostic_parts`]) into its `/error` body and
/// error-type header. Panics unless the body is valid JSON holding exactly the type,
/// message and stack trace (which [`Diagnostic::from_json`] reads back to an equal
/// diagnostic), and the header value is in RAPID's `Runtime.X` / `Function.X` form (so it
/// has no CR, LF or NUL and is ASCII) and no longer than the type plus `Function.`.
pub fn error_body(data: &[u8]) {
    let mut parts = diagnostic_parts(data).into_iter();
    let error_type = parts.next().unwrap_or_default();
    let message = parts.next().unwrap_or_default();
    let stack: Vec<String> = parts.collect();
    let diagnostic =
        Diagnostic::new(error_type.clone(), message.clone()).with_stack_trace(stack.clone());

    let body = diagnostic.to_json();
    let value: serde_json::Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("the /error body is not JSON ({e}): {body:?}"));
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("the /error body is not an object"));
    assert_eq!(object.len(), 3, "keys of {value}");
    assert_eq!(object["errorType"].as_str(), Some(error_type.as_str()));
    // Long messages are cut at a character boundary, never changed otherwise.
    let kept = object["errorMessage"].as_str().unwrap_or_default();
    assert!(message.starts_with(kept), "message changed");
    assert_eq!(kept, diagnostic.message());
    let lines: Vec<&str> = object["stackTrace"]
        .as_array()
        .map(|a| a.iter().filter_map(|l| l.as_str()).collect())
        .unwrap_or_default();
    let expected: Vec<&str> = stack.iter().take(64).map(String::as_str).collect();
    assert_eq!(lines, expected, "stackTrace");
    let back = Diagnostic::from_json(&body);
    assert!(back.as_ref() == Some(&diagnostic), "round trip: {back:?}");

    let header = diagnostic.header_value();
    assert!(
        protocol::is_canonical_error_type(&header),
        "error-type header {header:?} for type {error_type:?}"
    );
    assert!(header.len() <= error_type.len().max(9) + "Function.".len());
}
