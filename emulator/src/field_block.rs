//! [`BlockScan`]: finds the end of a block of CRLF-ended lines closed by an empty line (a
//! request head, or the trailer section of a chunked body), incrementally and under caps.
//!
//! The scan keeps its place, so bytes arriving one at a time cost O(n) in all, and its
//! outcome depends only on the bytes, never on how they were split: every cap is checked at
//! the byte where it is first exceeded, in the order of the bytes. Lines must end with CRLF;
//! a bare LF is refused everywhere (RFC 9112 §2.2 lets a recipient choose; one rule for
//! heads, chunk lines and trailers leaves no two parsers disagreeing about a line's end).

/// The caps of one kind of block.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BlockCaps {
    /// Most bytes in the whole block, its closing empty line included.
    pub(crate) max_bytes: usize,
    /// Most non-empty lines after the first line (`first_line` set) or in all.
    pub(crate) max_fields: usize,
    /// When set, the block starts with a line that is not a field (a request line), at most
    /// this many bytes before its LF; empty lines before it are skipped (RFC 9112 §2.2).
    pub(crate) first_line: Option<usize>,
}

/// Why a block was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlockError {
    /// The first line is longer than its cap.
    FirstLineTooLong,
    /// The block is longer than its cap.
    TooLarge,
    /// More fields than the cap.
    TooManyFields,
    /// A line ended with LF alone.
    BareLf,
}

/// Where a scan of one block has got to.
#[derive(Clone, Debug, Default)]
pub(crate) struct BlockScan {
    /// Bytes of the block already scanned.
    scanned: usize,
    /// Where the current line starts.
    line_start: usize,
    /// Non-empty lines ended so far.
    lines: usize,
}

impl BlockScan {
    /// Scans `block` (the block's bytes so far, from its first byte; each call passes the
    /// same bytes plus any new ones) from where the last call stopped: `Ok(Some(len))` when
    /// the closing empty line ends at `len`.
    pub(crate) fn scan(
        &mut self,
        block: &[u8],
        caps: &BlockCaps,
    ) -> Result<Option<usize>, BlockError> {
        loop {
            let rest = block.get(self.scanned..).unwrap_or_default();
            let Some(at) = rest.iter().position(|&b| b == b'\n') else {
                self.scanned = block.len();
                return self.overflow(block.len(), caps).map_or(Ok(None), Err);
            };
            let lf = self.scanned + at;
            // The bytes before the LF are checked as if they had arrived without it.
            if let Some(error) = self.overflow(lf, caps) {
                return Err(error);
            }
            if lf + 1 > caps.max_bytes {
                return Err(BlockError::TooLarge);
            }
            if lf == self.line_start || block[lf - 1] != b'\r' {
                return Err(BlockError::BareLf);
            }
            self.scanned = lf + 1;
            let empty = lf - 1 == self.line_start;
            self.line_start = self.scanned;
            if empty {
                if caps.first_line.is_some() && self.lines == 0 {
                    continue;
                }
                return Ok(Some(self.scanned));
            }
            self.lines += 1;
            let fields = self.lines - usize::from(caps.first_line.is_some());
            if fields > caps.max_fields {
                return Err(BlockError::TooManyFields);
            }
        }
    }

    /// The cap that `len` bytes without a further LF exceed first, if any.
    fn overflow(&self, len: usize, caps: &BlockCaps) -> Option<BlockError> {
        let mut first: Option<(usize, BlockError)> = None;
        if let Some(cap) = caps.first_line.filter(|_| self.lines == 0) {
            // Exceeded at the byte that makes the line cap + 1 bytes long.
            let at = self.line_start + cap + 1;
            if len >= at {
                first = Some((at, BlockError::FirstLineTooLong));
            }
        }
        let at = caps.max_bytes + 1;
        if len >= at && first.is_none_or(|(f, _)| at < f) {
            first = Some((at, BlockError::TooLarge));
        }
        first.map(|(_, e)| e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAPS: BlockCaps = BlockCaps {
        max_bytes: 64,
        max_fields: 3,
        first_line: Some(16),
    };

    /// The outcome of scanning `raw` fed in pieces of `step` bytes.
    fn stepwise(raw: &[u8], step: usize, caps: &BlockCaps) -> Result<Option<usize>, BlockError> {
        let mut scan = BlockScan::default();
        let mut end = 0;
        loop {
            end = (end + step).min(raw.len());
            match scan.scan(&raw[..end], caps)? {
                Some(len) => return Ok(Some(len)),
                None if end == raw.len() => return Ok(None),
                None => {}
            }
        }
    }

    /// Every cap and the CRLF rule, the same outcome for every piece size.
    #[test]
    fn caps_hold_however_the_bytes_arrive() {
        let long_first = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(20));
        let cases: Vec<(Vec<u8>, Result<Option<usize>, BlockError>)> = vec![
            (b"GET / HTTP/1.1\r\nA: b\r\n\r\nX".to_vec(), Ok(Some(24))),
            (b"\r\n\r\nGET / HTTP/1.1\r\n\r\n".to_vec(), Ok(Some(22))),
            (b"GET / HTTP/1.1\r\nA: b\r\n".to_vec(), Ok(None)),
            (
                b"GET / HTTP/1.1\nA: b\r\n\r\n".to_vec(),
                Err(BlockError::BareLf),
            ),
            (
                b"GET / HTTP/1.1\r\nA: b\n\r\n".to_vec(),
                Err(BlockError::BareLf),
            ),
            (long_first.into_bytes(), Err(BlockError::FirstLineTooLong)),
            (
                b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n".to_vec(),
                Err(BlockError::TooManyFields),
            ),
            (
                format!("GET / HTTP/1.1\r\nA: {}\r\n\r\n", "v".repeat(60)).into_bytes(),
                Err(BlockError::TooLarge),
            ),
            (vec![b'x'; 200], Err(BlockError::FirstLineTooLong)),
        ];
        for (raw, expected) in cases {
            for step in 1..=raw.len() {
                assert_eq!(
                    stepwise(&raw, step, &CAPS),
                    expected,
                    "{:?} in pieces of {step}",
                    String::from_utf8_lossy(&raw)
                );
            }
        }
    }

    /// A block without a first line (trailers) may be empty, and counts every line.
    #[test]
    fn trailer_blocks() {
        let caps = BlockCaps {
            max_bytes: 64,
            max_fields: 1,
            first_line: None,
        };
        assert_eq!(BlockScan::default().scan(b"\r\nX", &caps), Ok(Some(2)));
        assert_eq!(
            BlockScan::default().scan(b"A: 1\r\n\r\n", &caps),
            Ok(Some(8))
        );
        assert_eq!(
            BlockScan::default().scan(b"A: 1\r\nB: 2\r\n\r\n", &caps),
            Err(BlockError::TooManyFields)
        );
        assert_eq!(
            BlockScan::default().scan(&[b'a'; 65], &caps),
            Err(BlockError::TooLarge)
        );
    }
}
