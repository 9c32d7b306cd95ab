//! The runtime's `/next` headers into an invocation and a `Context`: no panic, the values
//! sent read back. See `coda_lambda::fuzzing::next_headers`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coda_lambda::fuzzing::next_headers(data);
});
