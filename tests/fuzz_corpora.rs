//! Every input of the fuzz targets' corpora (`fuzz/corpus/<target>/`, seeds and the crashes
//! found, kept as regressions) replayed through the check the target runs, on stable Rust:
//! the checks keep compiling and the seeds keep passing without nightly or cargo-fuzz.
//! `fuzz/run.sh` runs the targets themselves (its header says how).

use std::path::PathBuf;

/// The inputs of `target`'s corpus, sorted by name; at least one.
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.expect("a corpus entry").path();
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path.display().to_string(), bytes)
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{} is empty", dir.display());
    inputs
}

/// Runs `check` on every input of `target`'s corpus, naming the input that fails.
fn replay(target: &str, check: impl Fn(&[u8])) {
    for (name, bytes) in corpus(target) {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&bytes)));
        assert!(outcome.is_ok(), "{target}: {name} fails its check");
    }
}

/// `wire_requests`: whole and split readings agree (segmentation on).
#[test]
fn wire_requests() {
    replay("wire_requests", |bytes| {
        coda_emulator::fuzzing::wire_requests(bytes, true);
    });
}

/// `next_headers`: the values sent read back from the `Context`.
#[test]
fn next_headers() {
    replay("next_headers", coda_lambda::fuzzing::next_headers);
}

/// `http_event`: the HTTP adapters' decoding is consistent.
#[test]
fn http_event() {
    replay("http_event", coda_handlers::fuzzing::http_event);
}

/// `error_body`: the `/error` body round-trips, the header is canonical.
#[test]
fn error_body() {
    replay("error_body", coda_lambda::fuzzing::error_body);
}

/// The wire check reads what it should: a chunked request with trailers whole, the same
/// bytes cut short as incomplete, a broken head as refused.
#[test]
fn the_checks_see_what_they_check() {
    use coda_emulator::fuzzing::{End, read_connection, wire_requests};
    let request =
        b"POST /r HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n";
    let outcome = wire_requests(request, true);
    assert_eq!(outcome.end, End::Clean);
    assert_eq!(outcome.requests.len(), 1);
    assert_eq!(outcome.requests[0].data, b"abc");
    assert_eq!(
        outcome.requests[0].trailers,
        vec![("x-t".to_owned(), b"1".to_vec())]
    );
    // Cut short: incomplete, whole or split.
    let short = &request[..request.len() - 3];
    assert_eq!(read_connection(short, vec![5, 9]).end, End::Incomplete);
    let refused = read_connection(b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", vec![]);
    assert!(matches!(refused.end, End::Refused(400, _)), "{refused:?}");
}
