//! The `/error` body and error-type header of a `Diagnostic`: valid JSON that round-trips, a
//! canonical header value. See `coda_lambda::fuzzing::error_body`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coda_lambda::fuzzing::error_body(data);
});
