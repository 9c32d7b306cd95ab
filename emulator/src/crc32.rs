//! CRC-32 (IEEE 802.3, the zlib / gzip / zip polynomial): the checksum of the AWS event-stream
//! framing the emulator's streaming invokes use, and of the zips `coda package` writes. A
//! 256-entry table built at compile time; small enough to keep rather than add a dependency.
//!
//! ```
//! assert_eq!(coda_emulator::crc32::checksum(b"123456789"), 0xCBF4_3926);
//! ```

/// The reflected polynomial 0x04C11DB7.
const POLYNOMIAL: u32 = 0xEDB8_8320;

/// The byte-at-a-time lookup table.
const TABLE: [u32; 256] = table();

const fn table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// A running CRC-32: feed bytes with [`Crc32::update`], read the value with
/// [`Crc32::value`].
#[derive(Clone, Copy, Debug)]
pub struct Crc32(u32);

impl Crc32 {
    /// A checksum of no bytes yet.
    pub fn new() -> Crc32 {
        Crc32(0xFFFF_FFFF)
    }

    /// Adds `bytes` to the checksum.
    pub fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = TABLE[usize::from((self.0 as u8) ^ b)] ^ (self.0 >> 8);
        }
    }

    /// The checksum of every byte added so far.
    pub fn value(self) -> u32 {
        !self.0
    }
}

impl Default for Crc32 {
    fn default() -> Crc32 {
        Crc32::new()
    }
}

/// The CRC-32 of `bytes`.
pub fn checksum(bytes: &[u8]) -> u32 {
    let mut crc = Crc32::new();
    crc.update(bytes);
    crc.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The standard check value ("123456789" → 0xCBF43926) and other known sums.
    #[test]
    fn known_values() {
        assert_eq!(checksum(b""), 0);
        assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
        assert_eq!(checksum(b"a"), 0xE8B7_BE43);
        assert_eq!(
            checksum(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }

    /// Feeding bytes in pieces gives the same sum as all at once.
    #[test]
    fn incremental_matches_whole() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut crc = Crc32::new();
        for piece in data.chunks(7) {
            crc.update(piece);
        }
        assert_eq!(crc.value(), checksum(&data));
    }
}
