//! [`ChunkSizeLine`]: the size line of one chunk (RFC 9112 §7.1:
//! `chunk-size [ chunk-ext ] CRLF`), parsed a byte at a time so that the outcome never
//! depends on how the bytes arrive. At least one hex digit is required (an empty line or
//! `;x` is not the last chunk), at most [`MAX_CHUNK_SIZE_DIGITS`]; the extension is capped
//! at [`MAX_CHUNK_EXTENSION`] bytes and its contents otherwise ignored (§7.1.1 lets a
//! recipient ignore extensions it does not understand); the line ends with CRLF (a bare LF
//! is refused, as everywhere in [`crate::field_block`]).

use std::fmt;

use crate::limits::{MAX_CHUNK_EXTENSION, MAX_CHUNK_SIZE_DIGITS};

/// Why a chunk size line was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ChunkSizeError {
    /// The line does not start with a hex digit.
    NoDigits,
    /// More hex digits than [`MAX_CHUNK_SIZE_DIGITS`].
    TooManyDigits,
    /// A byte that cannot follow the size.
    AfterSize(u8),
    /// An extension longer than [`MAX_CHUNK_EXTENSION`].
    ExtensionTooLong,
    /// A control byte in the extension.
    ExtensionByte(u8),
    /// The line ended with LF alone.
    BareLf,
    /// A CR not followed by LF.
    CrWithoutLf,
}

impl fmt::Display for ChunkSizeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChunkSizeError::NoDigits => write!(f, "chunk size line without a hex size"),
            ChunkSizeError::TooManyDigits => {
                write!(
                    f,
                    "chunk size of more than {MAX_CHUNK_SIZE_DIGITS} hex digits"
                )
            }
            ChunkSizeError::AfterSize(b) => write!(f, "byte 0x{b:02x} after the chunk size"),
            ChunkSizeError::ExtensionTooLong => {
                write!(f, "chunk extension over {MAX_CHUNK_EXTENSION} bytes")
            }
            ChunkSizeError::ExtensionByte(b) => write!(f, "byte 0x{b:02x} in a chunk extension"),
            ChunkSizeError::BareLf => write!(f, "chunk size line ended by a bare LF, not CRLF"),
            ChunkSizeError::CrWithoutLf => write!(f, "chunk size line: CR not followed by LF"),
        }
    }
}

/// Where the line has got to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Part {
    /// In the hex digits.
    #[default]
    Size,
    /// In whitespace after the size, before `;` or the end of the line.
    Space,
    /// In an extension.
    Extension,
    /// After the CR.
    Cr,
}

/// One chunk size line, parsed as it arrives.
#[derive(Clone, Debug, Default)]
pub(crate) struct ChunkSizeLine {
    /// Where the line has got to.
    part: Part,
    /// The size so far.
    size: u64,
    /// Hex digits so far.
    digits: usize,
    /// Bytes after the size so far (whitespace and extensions).
    extension: usize,
}

impl ChunkSizeLine {
    /// Reads from `input` up to the end of the line: the bytes used and, when the line is
    /// complete, the chunk size.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<u64>), ChunkSizeError> {
        for (i, &b) in input.iter().enumerate() {
            if self.part == Part::Cr {
                return if b == b'\n' {
                    Ok((i + 1, Some(self.size)))
                } else {
                    Err(ChunkSizeError::CrWithoutLf)
                };
            }
            if b == b'\n' {
                return Err(if self.digits == 0 {
                    ChunkSizeError::NoDigits
                } else {
                    ChunkSizeError::BareLf
                });
            }
            if self.part == Part::Size {
                if let Some(d) = (b as char).to_digit(16) {
                    self.digits += 1;
                    if self.digits > MAX_CHUNK_SIZE_DIGITS {
                        return Err(ChunkSizeError::TooManyDigits);
                    }
                    self.size = self.size << 4 | u64::from(d);
                    continue;
                }
                if self.digits == 0 {
                    return Err(ChunkSizeError::NoDigits);
                }
            }
            if b == b'\r' {
                self.part = Part::Cr;
                continue;
            }
            self.extension += 1;
            if self.extension > MAX_CHUNK_EXTENSION {
                return Err(ChunkSizeError::ExtensionTooLong);
            }
            self.part = match (self.part, b) {
                (Part::Size | Part::Space, b' ' | b'\t') => Part::Space,
                (Part::Size | Part::Space, b';') => Part::Extension,
                (Part::Size | Part::Space, other) => return Err(ChunkSizeError::AfterSize(other)),
                (_, b) if b != b'\t' && (b < 0x20 || b == 0x7f) => {
                    return Err(ChunkSizeError::ExtensionByte(b));
                }
                (part, _) => part,
            };
        }
        Ok((input.len(), None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The outcome of `raw` fed whole and a byte at a time.
    fn parse(raw: &[u8]) -> Result<(usize, Option<u64>), ChunkSizeError> {
        let whole = ChunkSizeLine::default().feed(raw);
        let mut line = ChunkSizeLine::default();
        let mut bytewise = Ok((raw.len(), None));
        for (i, b) in raw.iter().enumerate() {
            match line.feed(std::slice::from_ref(b)) {
                Ok((_, None)) => {}
                Ok((_, Some(size))) => {
                    bytewise = Ok((i + 1, Some(size)));
                    break;
                }
                Err(e) => {
                    bytewise = Err(e);
                    break;
                }
            }
        }
        assert_eq!(whole, bytewise, "{:?}", String::from_utf8_lossy(raw));
        whole
    }

    /// Sizes, extensions, and every refusal, the same whole or byte by byte.
    #[test]
    fn size_lines() {
        assert_eq!(parse(b"1a\r\nrest"), Ok((4, Some(26))));
        assert_eq!(parse(b"0\r\n"), Ok((3, Some(0))));
        assert_eq!(parse(b"FF;name=\"v\"; x\r\n"), Ok((16, Some(255))));
        assert_eq!(parse(b"5 ;x\r\n"), Ok((6, Some(5))));
        assert_eq!(parse(b"5 \r\n"), Ok((4, Some(5))));
        assert_eq!(parse(b"5"), Ok((1, None)));
        assert_eq!(parse(b"\r\n"), Err(ChunkSizeError::NoDigits));
        assert_eq!(parse(b";x\r\n"), Err(ChunkSizeError::NoDigits));
        assert_eq!(parse(b"\n"), Err(ChunkSizeError::NoDigits));
        assert_eq!(parse(b"5\n"), Err(ChunkSizeError::BareLf));
        assert_eq!(parse(b"5\rx"), Err(ChunkSizeError::CrWithoutLf));
        assert_eq!(parse(b"5x\r\n"), Err(ChunkSizeError::AfterSize(b'x')));
        assert_eq!(parse(b"5;a\0\r\n"), Err(ChunkSizeError::ExtensionByte(0)));
        assert_eq!(
            parse(b"00000000000000001\r\n"),
            Err(ChunkSizeError::TooManyDigits)
        );
        assert_eq!(parse(b"ffffffffffffffff\r\n"), Ok((18, Some(u64::MAX))));
        let long = format!("5;{}\r\n", "e".repeat(MAX_CHUNK_EXTENSION));
        assert_eq!(
            parse(long.as_bytes()),
            Err(ChunkSizeError::ExtensionTooLong)
        );
        let fits = format!("5;{}\r\n", "e".repeat(MAX_CHUNK_EXTENSION - 1));
        assert_eq!(parse(fits.as_bytes()), Ok((fits.len(), Some(5))));
    }
}
