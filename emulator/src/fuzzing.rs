//! Checks for the `wire_requests` fuzz target in `fuzz/` and for the stable test that
//! replays its corpus (`tests/fuzz_corpora`): pure functions over byte slices, no sockets,
//! no threads, that panic when a property does not hold. Behind the `fuzzing` feature, off
//! by default; not a stable API.
//!
//! The bytes are read as a connection reads them (`conn`): request heads with
//! `wire::parse_head`, bodies as `wire::framing` says, chunked ones through
//! `wire::ChunkDecoder`, several requests one after the other (keep-alive), until the bytes
//! end or a request is refused. The outcome must not depend on how the bytes arrive: the
//! input whole, and split into segments at points derived from the input, must give the same
//! heads, body data, trailers and refusal status.

use crate::wire::{self, ChunkDecoder, Framing, RequestHead};

/// One request read off the bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Request {
    /// Method, target, version and headers, as parsed.
    pub head: String,
    /// The body's data (chunked bodies decoded).
    pub data: Vec<u8>,
    /// The trailers of a chunked body, names lowercased.
    pub trailers: Vec<(String, Vec<u8>)>,
}

/// How reading the bytes ended.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The bytes ended between requests.
    Clean,
    /// The bytes ended inside a request.
    Incomplete,
    /// A request was refused with this status and error type.
    Refused(u16, &'static str),
}

/// What a connection made of the bytes.
#[derive(Debug, PartialEq, Eq)]
pub struct Outcome {
    /// The requests read in full.
    pub requests: Vec<Request>,
    /// How it ended.
    pub end: End,
}

/// The bytes of a connection, handed over one segment at a time (as `read` returns them).
struct Segments<'a> {
    data: &'a [u8],
    cuts: std::vec::IntoIter<usize>,
    /// Bytes handed over so far.
    at: usize,
}

impl Segments<'_> {
    /// Hands over the next segment into `buf`; false when the bytes are spent.
    fn fill(&mut self, buf: &mut Vec<u8>) -> bool {
        if self.at == self.data.len() {
            return false;
        }
        let end = self
            .cuts
            .next()
            .unwrap_or(self.data.len())
            .min(self.data.len());
        let end = end.max(self.at + 1);
        buf.extend_from_slice(&self.data[self.at..end]);
        self.at = end;
        true
    }
}

/// Reads `data`, delivered in segments ending at `cuts` (increasing offsets), as a
/// connection reads it.
pub fn read_connection(data: &[u8], cuts: Vec<usize>) -> Outcome {
    let mut segments = Segments {
        data,
        cuts: cuts.into_iter(),
        at: 0,
    };
    let mut buf = Vec::new();
    let mut pos = 0;
    let mut requests = Vec::new();
    let refused = |e: wire::WireError| End::Refused(e.status, e.error_type);
    loop {
        // The head.
        let head = loop {
            match wire::parse_head(&buf[pos..]) {
                Err(e) => {
                    return Outcome {
                        requests,
                        end: refused(e),
                    };
                }
                Ok(Some((head, used))) => {
                    pos += used;
                    break head;
                }
                Ok(None) => {
                    if !segments.fill(&mut buf) {
                        let end = if pos == buf.len() {
                            End::Clean
                        } else {
                            End::Incomplete
                        };
                        return Outcome { requests, end };
                    }
                }
            }
        };
        let mut request = Request {
            head: describe(&head),
            data: Vec::new(),
            trailers: Vec::new(),
        };
        match wire::framing(&head) {
            Err(e) => {
                return Outcome {
                    requests,
                    end: refused(e),
                };
            }
            Ok(Framing::Length(length)) => {
                let mut left = length;
                while left > 0 {
                    if pos == buf.len() && !segments.fill(&mut buf) {
                        return Outcome {
                            requests,
                            end: End::Incomplete,
                        };
                    }
                    let take = left.min(buf.len() - pos);
                    request.data.extend_from_slice(&buf[pos..pos + take]);
                    pos += take;
                    left -= take;
                }
            }
            Ok(Framing::Chunked) => {
                let mut decoder = ChunkDecoder::default();
                loop {
                    match decoder.decode(&buf[pos..], &mut request.data) {
                        Err(e) => {
                            return Outcome {
                                requests,
                                end: refused(e),
                            };
                        }
                        Ok(used) => pos += used,
                    }
                    if decoder.is_done() {
                        break;
                    }
                    if !segments.fill(&mut buf) {
                        return Outcome {
                            requests,
                            end: End::Incomplete,
                        };
                    }
                }
                request.trailers = std::mem::take(&mut decoder.trailers);
            }
        }
        requests.push(request);
    }
}

/// A head as comparable text, reading every accessor the server uses.
fn describe(head: &RequestHead) -> String {
    format!(
        "{} {} {} {:?} {:?} {:?} {:?}",
        head.method,
        head.target,
        head.version,
        head.path(),
        head.keep_alive(),
        head.header("host"),
        head.headers
    )
}

/// Segment ends derived from `data`: a small xorshift generator seeded with the input's
/// FNV-1a hash gives segment lengths of 1 to `longest` bytes.
pub fn cuts_from(data: &[u8], longest: usize) -> Vec<usize> {
    let mut state = data.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) | 1;
    let mut cuts = Vec::new();
    let mut at = 0;
    while at < data.len() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        at += 1 + (state % longest.max(1) as u64) as usize;
        cuts.push(at);
    }
    cuts
}

/// The property of the `wire_requests` target: `data` read whole, then in segments derived
/// from it (up to 7 bytes, up to 300 bytes, and one byte at a time for short inputs). Without
/// `segmentation`, only the absence of panics is checked (the split readings still run).
/// Returns the whole reading's outcome.
pub fn wire_requests(data: &[u8], segmentation: bool) -> Outcome {
    let whole = read_connection(data, Vec::new());
    let mut splits = vec![cuts_from(data, 7), cuts_from(data, 300)];
    if data.len() <= 512 {
        splits.push((1..data.len()).collect());
    }
    for cuts in splits {
        let split = read_connection(data, cuts.clone());
        if segmentation {
            assert_eq!(whole, split, "whole and split at {cuts:?} differ");
        }
    }
    whole
}
