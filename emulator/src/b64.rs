//! Base64 as the emulator reads and writes it (the `base64` crate, already in ureq's graph):
//! standard alphabet, padding written, padding optional when read (API Gateway and the AWS
//! SDKs send it; hand-made test events often do not).

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_PAD_INDIFFERENT};

/// Standard, padded base64.
pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64 with or without padding; `None` when it is not base64.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    STANDARD_PAD_INDIFFERENT.decode(text.trim()).ok()
}
