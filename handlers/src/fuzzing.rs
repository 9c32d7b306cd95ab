//! Checks for the `http_event` fuzz target in `fuzz/` and for the stable test that replays
//! its corpus (`tests/fuzz_corpora`): pure functions, no I/O, no threads, that panic when a
//! property does not hold. Behind the `fuzzing` feature, off by default; not a stable API.

use crate::http::{Request, RequestExt, request_from_event};

/// What a decoded request says, every accessor read, as comparable text.
fn describe(request: &Request) -> String {
    format!(
        "{} {} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
        request.method(),
        request.uri(),
        request.version(),
        request.headers(),
        request.body().as_bytes(),
        request.origin(),
        request.raw_http_path(),
        request.stage(),
        request.query_pairs(),
        request.path_parameters().iter().collect::<Vec<_>>(),
        request.stage_variables().iter().collect::<Vec<_>>(),
    )
}

/// An event payload through the HTTP adapter's decoding ([`request_from_event`]: API
/// Gateway v1 and v2, ALB, Function URL). Panics unless: a payload that is not JSON is
/// refused; the same payload decodes the same way twice; every query pair read back is
/// found by name, every path parameter and stage variable too; the request context and
/// authorizer can be read; a refusal converts to a diagnostic with a canonical error type.
pub fn http_event(data: &[u8]) {
    let first = request_from_event(data);
    let is_json = serde_json::from_slice::<serde::de::IgnoredAny>(data).is_ok();
    match &first {
        Err(error) => {
            let diagnostic = error.to_diagnostic();
            let header = diagnostic.header_value();
            assert!(
                coda_lambda::protocol::is_canonical_error_type(&header),
                "error type {header:?} of {error}"
            );
            assert!(!error.to_string().is_empty());
        }
        Ok(request) => {
            assert!(is_json, "a payload that is not JSON was decoded");
            for (name, _) in request.query_pairs() {
                assert!(request.query_param(&name).is_some(), "query {name:?}");
            }
            for (name, _) in request.path_parameters().iter() {
                assert!(
                    request.path_param(name).is_some(),
                    "path parameter {name:?}"
                );
            }
            for (name, _) in request.stage_variables().iter() {
                assert!(
                    request.stage_variables().get(name).is_some(),
                    "stage variable"
                );
            }
            let _ = request.request_context();
            let _ = request.request_context_json();
            let _ = request.authorizer();
        }
    }
    let second = request_from_event(data);
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(describe(a), describe(b), "decoded twice"),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "refused twice"),
        _ => panic!("decoded once, refused once"),
    }
}
