//! coda-handlers' HTTP event decoding (API Gateway v1 / v2, ALB, Function URL JSON into an
//! `http::Request`): no panic, consistent accessors. See `coda_handlers::fuzzing::http_event`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coda_handlers::fuzzing::http_event(data);
});
