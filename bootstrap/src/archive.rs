//! Writing a zip archive by hand: a local file header and data per entry,
//! a central directory, and the end-of-central-directory record (PKWARE
//! APPNOTE 6.3, without zip64, encryption or data descriptors).
//!
//! The output is deterministic: every entry carries the fixed DOS timestamp
//! 1980-01-01 00:00 and no extra fields, so the same input gives the same
//! bytes. Entries are marked as made on Unix, with their permission bits in
//! the high half of the external attributes, which is where `unzip` and AWS
//! Lambda read the mode from. Data is deflated with `miniz_oxide`, or
//! stored when deflate would not make it smaller.

use std::fmt;

/// Signature of a local file header.
const LOCAL_HEADER_SIG: u32 = 0x0403_4b50;
/// Signature of a central directory file header.
const CENTRAL_HEADER_SIG: u32 = 0x0201_4b50;
/// Signature of the end-of-central-directory record.
const END_SIG: u32 = 0x0605_4b50;
/// "Version made by": host system 3 (Unix) in the high byte, spec 2.0.
const MADE_BY_UNIX: u16 = (3 << 8) | 20;
/// Version needed to extract a deflated entry (2.0).
const NEEDS_DEFLATE: u16 = 20;
/// Version needed to extract a stored entry (1.0).
const NEEDS_STORE: u16 = 10;
/// Compression method: stored.
const METHOD_STORE: u16 = 0;
/// Compression method: deflate.
const METHOD_DEFLATE: u16 = 8;
/// General purpose flag: the name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
/// DOS time 00:00:00.
const DOS_TIME: u16 = 0;
/// DOS date 1980-01-01: (year - 1980) << 9 | month << 5 | day.
const DOS_DATE: u16 = (1 << 5) | 1;
/// File type bits of a regular file (`S_IFREG`).
const S_IFREG: u32 = 0o100_000;
/// File type bits of a directory (`S_IFDIR`).
const S_IFDIR: u32 = 0o040_000;
/// The mask of the file type bits (`S_IFMT`).
const S_IFMT: u32 = 0o170_000;
/// The MS-DOS attribute of a directory, in the low byte of the external attributes.
const DOS_DIRECTORY: u32 = 0x10;
/// miniz_oxide compression level: 9 is the best of the standard levels.
const DEFLATE_LEVEL: u8 = 9;
/// The largest size or offset a 32-bit field can hold (0xFFFF_FFFF itself
/// means "see the zip64 record", which this writer does not produce).
const MAX_U32_FIELD: u64 = 0xFFFF_FFFE;

/// One file to put in the archive.
#[derive(Debug, Clone, Copy)]
pub struct Entry<'a> {
    /// The name inside the archive, e.g. `bootstrap`.
    pub name: &'a str,
    /// The Unix permission bits, e.g. `0o755`: a regular file; with the file type bits of a
    /// directory (`0o040_755`), a directory entry (its name ends in `/`, it has no data).
    pub mode: u32,
    /// The file's contents.
    pub data: &'a [u8],
}

/// The archive would exceed a limit of the zip format without zip64.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TooLarge {
    /// What exceeded the limit, e.g. "entry size".
    pub what: &'static str,
    /// Its value.
    pub value: u64,
    /// The largest value allowed.
    pub limit: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the {} ({}) exceeds the zip format's limit of {} without zip64",
            self.what, self.value, self.limit
        )
    }
}

impl std::error::Error for TooLarge {}

/// Builds a zip archive holding `entries`, in order.
pub fn zip(entries: &[Entry<'_>]) -> Result<Vec<u8>, TooLarge> {
    let count = field16("number of entries", entries.len())?;
    let mut out = Vec::new();
    let mut central = Vec::new();
    for entry in entries {
        let offset = field32("archive size", out.len())?;
        let name_len = field16("name length", entry.name.len())?;
        let size = field32("entry size", entry.data.len())?;
        let crc = crc32(entry.data);
        let deflated = miniz_oxide::deflate::compress_to_vec(entry.data, DEFLATE_LEVEL);
        let (method, needs, body) = if deflated.len() < entry.data.len() {
            (METHOD_DEFLATE, NEEDS_DEFLATE, deflated.as_slice())
        } else {
            (METHOD_STORE, NEEDS_STORE, entry.data)
        };
        let compressed = field32("compressed entry size", body.len())?;
        let flags = if entry.name.is_ascii() { 0 } else { FLAG_UTF8 };

        // Fields shared by the local and central headers, from "version
        // needed" to "extra field length".
        let mut common = Vec::with_capacity(26);
        put16(&mut common, needs);
        put16(&mut common, flags);
        put16(&mut common, method);
        put16(&mut common, DOS_TIME);
        put16(&mut common, DOS_DATE);
        put32(&mut common, crc);
        put32(&mut common, compressed);
        put32(&mut common, size);
        put16(&mut common, name_len);
        put16(&mut common, 0); // extra field length

        put32(&mut out, LOCAL_HEADER_SIG);
        out.extend_from_slice(&common);
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(body);

        put32(&mut central, CENTRAL_HEADER_SIG);
        put16(&mut central, MADE_BY_UNIX);
        central.extend_from_slice(&common);
        put16(&mut central, 0); // comment length
        put16(&mut central, 0); // disk number start
        put16(&mut central, 0); // internal attributes
        put32(&mut central, external_attributes(entry.mode));
        put32(&mut central, offset);
        central.extend_from_slice(entry.name.as_bytes());
    }
    let central_offset = field32("archive size", out.len())?;
    let central_size = field32("central directory size", central.len())?;
    out.extend_from_slice(&central);

    put32(&mut out, END_SIG);
    put16(&mut out, 0); // this disk
    put16(&mut out, 0); // disk where the central directory starts
    put16(&mut out, count); // entries on this disk
    put16(&mut out, count); // entries in total
    put32(&mut out, central_size);
    put32(&mut out, central_offset);
    put16(&mut out, 0); // comment length
    Ok(out)
}

/// The external attributes of an entry of `mode`: the Unix mode in the high half (a regular
/// file unless the mode says directory), the MS-DOS directory flag for a directory.
fn external_attributes(mode: u32) -> u32 {
    if mode & S_IFMT == S_IFDIR {
        ((S_IFDIR | (mode & 0o7777)) << 16) | DOS_DIRECTORY
    } else {
        (S_IFREG | (mode & 0o7777)) << 16
    }
}

/// Converts a length to a 16-bit field, or says which limit it exceeds.
fn field16(what: &'static str, value: usize) -> Result<u16, TooLarge> {
    u16::try_from(value).map_err(|_| TooLarge {
        what,
        value: u64::try_from(value).unwrap_or(u64::MAX),
        limit: u64::from(u16::MAX),
    })
}

/// Converts a length to a 32-bit field, or says which limit it exceeds.
fn field32(what: &'static str, value: usize) -> Result<u32, TooLarge> {
    let value = u64::try_from(value).unwrap_or(u64::MAX);
    if value > MAX_U32_FIELD {
        return Err(TooLarge {
            what,
            value,
            limit: MAX_U32_FIELD,
        });
    }
    u32::try_from(value).map_err(|_| TooLarge {
        what,
        value,
        limit: MAX_U32_FIELD,
    })
}

/// Appends a little-endian `u16`.
fn put16(out: &mut Vec<u8>, value: u16) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// Appends a little-endian `u32`.
fn put32(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(&value.to_le_bytes());
}

/// The CRC-32 of `data`, as zip records it (the IEEE polynomial, shared with the runtime).
pub fn crc32(data: &[u8]) -> u32 {
    coda_emulator::crc32::checksum(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads a little-endian `u16` at `at`.
    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    /// Reads a little-endian `u32` at `at`.
    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    /// One entry gives a local header, data, one central header and the end
    /// record, with the fields the format and Lambda need.
    #[test]
    fn single_entry_structure() {
        let data = b"#!/bin/sh\necho hello\n".repeat(50);
        let zip = zip(&[Entry {
            name: "bootstrap",
            mode: 0o755,
            data: &data,
        }])
        .unwrap();

        // Local header.
        assert_eq!(u32_at(&zip, 0), LOCAL_HEADER_SIG);
        assert_eq!(u16_at(&zip, 8), METHOD_DEFLATE);
        assert_eq!(u16_at(&zip, 10), 0, "time");
        assert_eq!(u16_at(&zip, 12), 0x21, "date 1980-01-01");
        assert_eq!(u32_at(&zip, 14), crc32(&data));
        let compressed = u32_at(&zip, 18) as usize;
        assert_eq!(u32_at(&zip, 22) as usize, data.len());
        assert_eq!(u16_at(&zip, 26), 9);
        assert_eq!(u16_at(&zip, 28), 0, "no extra field");
        assert_eq!(&zip[30..39], b"bootstrap");
        let body = &zip[39..39 + compressed];
        assert_eq!(miniz_oxide::inflate::decompress_to_vec(body).unwrap(), data);

        // End record, then the central header it points at.
        let end = zip.len() - 22;
        assert_eq!(u32_at(&zip, end), END_SIG);
        assert_eq!(u16_at(&zip, end + 10), 1, "one entry");
        let cd_size = u32_at(&zip, end + 12) as usize;
        let cd = u32_at(&zip, end + 16) as usize;
        assert_eq!(cd, 39 + compressed);
        assert_eq!(cd + cd_size, end);
        assert_eq!(u32_at(&zip, cd), CENTRAL_HEADER_SIG);
        assert_eq!(u16_at(&zip, cd + 4), 0x0314, "made by Unix");
        assert_eq!(u16_at(&zip, cd + 30), 0, "no extra field");
        assert_eq!(u32_at(&zip, cd + 38) >> 16, 0o100_755);
        assert_eq!(u32_at(&zip, cd + 42), 0, "local header offset");
        assert_eq!(&zip[cd + 46..cd + 55], b"bootstrap");
    }

    /// The same input always gives the same bytes.
    #[test]
    fn deterministic() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let entry = [Entry {
            name: "bootstrap",
            mode: 0o755,
            data: &data,
        }];
        assert_eq!(zip(&entry).unwrap(), zip(&entry).unwrap());
    }

    /// Data that deflate cannot shrink is stored as is.
    #[test]
    fn incompressible_data_is_stored() {
        let data = [0x42u8];
        let zip = zip(&[Entry {
            name: "x",
            mode: 0o644,
            data: &data,
        }])
        .unwrap();
        assert_eq!(u16_at(&zip, 8), METHOD_STORE);
        assert_eq!(u16_at(&zip, 4), NEEDS_STORE);
        assert_eq!(&zip[31..32], &data);
    }

    /// Several entries get increasing local header offsets, and the end
    /// record counts them.
    #[test]
    fn several_entries() {
        let zip = zip(&[
            Entry {
                name: "a",
                mode: 0o644,
                data: b"first",
            },
            Entry {
                name: "b",
                mode: 0o755,
                data: b"second",
            },
        ])
        .unwrap();
        let end = zip.len() - 22;
        assert_eq!(u16_at(&zip, end + 8), 2);
        let cd = u32_at(&zip, end + 16) as usize;
        let second = cd + 46 + 1;
        assert_eq!(u32_at(&zip, second), CENTRAL_HEADER_SIG);
        let offset = u32_at(&zip, second + 42) as usize;
        assert_eq!(u32_at(&zip, offset), LOCAL_HEADER_SIG);
        assert_eq!(zip[offset + 30], b'b');
    }

    /// A directory entry is marked as one, on Unix and for MS-DOS readers; other entries
    /// are regular files whatever type bits their mode has.
    #[test]
    fn directory_entries() {
        assert_eq!(external_attributes(0o040_755), (0o040_755 << 16) | 0x10);
        assert_eq!(external_attributes(0o755), 0o100_755 << 16);
        assert_eq!(external_attributes(0o120_777), 0o100_777 << 16);
        let zip = zip(&[Entry {
            name: "bin/",
            mode: 0o040_755,
            data: &[],
        }])
        .unwrap();
        let end = zip.len() - 22;
        let cd = u32_at(&zip, end + 16) as usize;
        assert_eq!(u32_at(&zip, cd + 38), (0o040_755 << 16) | 0x10);
        assert_eq!(u16_at(&zip, 8), METHOD_STORE, "nothing to deflate");
    }

    /// Limits of the non-zip64 format are reported, not silently wrapped.
    #[test]
    fn limits_are_errors() {
        assert_eq!(field16("name length", 70_000).unwrap_err().limit, 65_535);
        assert!(field32("entry size", 0xFFFF_FFFE).is_ok());
        assert_eq!(
            field32("entry size", 0xFFFF_FFFF).unwrap_err().to_string(),
            "the entry size (4294967295) exceeds the zip format's limit of 4294967294 without zip64"
        );
    }
}
