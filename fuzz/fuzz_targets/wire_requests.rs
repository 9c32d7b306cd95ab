//! The emulator's HTTP request parsing (`wire::parse_head`, `wire::framing`,
//! `wire::ChunkDecoder`): no panic, and the same outcome whole and split into segments
//! (feature `segmentation`, on by default). See `coda_emulator::fuzzing::wire_requests`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    coda_emulator::fuzzing::wire_requests(data, cfg!(feature = "segmentation"));
});
