//! Fresh ids for the emulator: request ids (UUID v4 form) and X-Ray trace ids. Randomness
//! comes from std's per-process random hash keys, not a dependency: the ids need to be
//! unique, not unpredictable.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// Makes successive ids differ within the process, even when the clock has not moved.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// 64 bits that differ on every call.
pub(crate) fn random_u64() -> u64 {
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.finish()
}

/// A UUID v4 string such as `8476a536-e9f4-41e8-9739-2dfe598c3fcd`.
pub(crate) fn request_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        (b >> 48) & 0x3fff | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// An X-Ray trace header such as `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=…;Sampled=0`.
pub(crate) fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    format!(
        "Root=1-{:08x}-{:08x}{:016x};Parent={:016x};Sampled=0",
        secs & 0xffff_ffff,
        random_u64() & 0xffff_ffff,
        random_u64(),
        random_u64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Ids have the documented shapes and do not repeat.
    #[test]
    fn ids_are_unique_and_well_formed() {
        let ids: HashSet<String> = (0..1000).map(|_| request_id()).collect();
        assert_eq!(ids.len(), 1000);
        for id in ids.iter().take(20) {
            let parts: Vec<&str> = id.split('-').collect();
            assert_eq!(
                parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
                [8, 4, 4, 4, 12],
                "{id}"
            );
            assert!(parts[2].starts_with('4'));
        }
        let t = trace_id();
        assert!(t.starts_with("Root=1-") && t.ends_with(";Sampled=0"), "{t}");
        assert_eq!(
            t.split(';').next().unwrap().len(),
            "Root=1-".len() + 8 + 1 + 24
        );
    }
}
