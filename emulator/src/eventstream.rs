//! The AWS event-stream framing (`application/vnd.amazon.eventstream`) that
//! `InvokeWithResponseStream` answers with, and the two events Lambda sends in it.
//!
//! A message is a 12-byte prelude (total length, headers length, both big-endian `u32`, then
//! the CRC-32 of those 8 bytes), the headers, the payload, and the CRC-32 of everything
//! before it. Each header is a 1-byte name length, the name, a 1-byte value type and the
//! value; the only type used here is 7 (string: a big-endian `u16` length, then UTF-8).
//!
//! Lambda's events are `:message-type` `event` messages: `PayloadChunk`, whose payload is the
//! raw bytes of a piece of the response (`application/octet-stream`), and one final
//! `InvokeComplete`, whose payload is JSON with `ErrorCode`, `ErrorDetails` and `LogResult`
//! when they apply.

use crate::crc32::{Crc32, checksum};

/// Largest payload put in one `PayloadChunk` (the format allows 24 MB; smaller messages let
/// a client see progress).
pub(crate) const MAX_CHUNK: usize = 1024 * 1024;

/// The header value type for strings.
const STRING_TYPE: u8 = 7;

/// Encodes one message with string headers.
///
/// Header names are cut to 255 bytes and values to 32 767 bytes, the format's limits (the
/// emulator's own headers are far shorter).
pub(crate) fn message(headers: &[(&str, &str)], payload: &[u8]) -> Vec<u8> {
    let mut encoded_headers = Vec::new();
    for (name, value) in headers {
        let name = &name.as_bytes()[..name.len().min(255)];
        let value = &value.as_bytes()[..value.len().min(32_767)];
        encoded_headers.push(name.len() as u8);
        encoded_headers.extend_from_slice(name);
        encoded_headers.push(STRING_TYPE);
        encoded_headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        encoded_headers.extend_from_slice(value);
    }
    let total = 12 + encoded_headers.len() + payload.len() + 4;
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(encoded_headers.len() as u32).to_be_bytes());
    let prelude_crc = checksum(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&encoded_headers);
    out.extend_from_slice(payload);
    let mut crc = Crc32::new();
    crc.update(&out);
    out.extend_from_slice(&crc.value().to_be_bytes());
    out
}

/// A `PayloadChunk` event carrying `bytes` (at most [`MAX_CHUNK`] of them, by convention).
pub(crate) fn payload_chunk(bytes: &[u8]) -> Vec<u8> {
    message(
        &[
            (":event-type", "PayloadChunk"),
            (":content-type", "application/octet-stream"),
            (":message-type", "event"),
        ],
        bytes,
    )
}

/// The fields of the final `InvokeComplete` event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct InvokeComplete {
    /// The function error's type, when the invocation failed.
    pub(crate) error_code: Option<String>,
    /// What the error said.
    pub(crate) error_details: Option<String>,
    /// Base64 of the log tail, when `X-Amz-Log-Type: Tail` asked for it.
    pub(crate) log_result: Option<String>,
}

impl InvokeComplete {
    /// The `InvokeComplete` event message.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut fields = serde_json::Map::new();
        for (name, value) in [
            ("ErrorCode", &self.error_code),
            ("ErrorDetails", &self.error_details),
            ("LogResult", &self.log_result),
        ] {
            if let Some(value) = value {
                fields.insert(name.into(), value.clone().into());
            }
        }
        let payload = serde_json::to_vec(&fields).unwrap_or_default();
        message(
            &[
                (":event-type", "InvokeComplete"),
                (":content-type", "application/json"),
                (":message-type", "event"),
            ],
            &payload,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A decoded message, for checking the encoder.
    struct Decoded {
        headers: Vec<(String, String)>,
        payload: Vec<u8>,
    }

    /// Decodes one message, checking both CRCs; returns it and the bytes it took.
    fn decode(bytes: &[u8]) -> (Decoded, usize) {
        let u32_at = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
        let total = u32_at(0) as usize;
        let headers_len = u32_at(4) as usize;
        assert_eq!(u32_at(8), checksum(&bytes[..8]), "prelude CRC");
        assert_eq!(
            u32_at(total - 4),
            checksum(&bytes[..total - 4]),
            "message CRC"
        );
        let mut headers = Vec::new();
        let mut at = 12;
        while at < 12 + headers_len {
            let name_len = usize::from(bytes[at]);
            let name = String::from_utf8(bytes[at + 1..at + 1 + name_len].to_vec()).unwrap();
            at += 1 + name_len;
            assert_eq!(bytes[at], STRING_TYPE);
            let value_len = usize::from(u16::from_be_bytes([bytes[at + 1], bytes[at + 2]]));
            let value = String::from_utf8(bytes[at + 3..at + 3 + value_len].to_vec()).unwrap();
            at += 3 + value_len;
            headers.push((name, value));
        }
        let payload = bytes[12 + headers_len..total - 4].to_vec();
        (Decoded { headers, payload }, total)
    }

    /// The empty message matches the published test vector of the format
    /// (awslabs/aws-c-event-stream `empty_message`).
    #[test]
    fn empty_message_vector() {
        assert_eq!(
            message(&[], b""),
            [
                0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00, 0x05, 0xc2, 0x48, 0xeb, 0x7d, 0x98,
                0xc8, 0xff
            ]
        );
    }

    /// A `PayloadChunk` carries its bytes untouched, with Lambda's event headers.
    #[test]
    fn payload_chunks_round_trip() {
        let bytes: Vec<u8> = (0..=255u8).collect();
        let encoded = payload_chunk(&bytes);
        let (decoded, used) = decode(&encoded);
        assert_eq!(used, encoded.len());
        assert_eq!(decoded.payload, bytes);
        assert_eq!(
            decoded.headers,
            [
                (":event-type".into(), "PayloadChunk".into()),
                (":content-type".into(), "application/octet-stream".into()),
                (":message-type".into(), "event".into()),
            ]
        );
    }

    /// `InvokeComplete` has only the fields that apply, as JSON.
    #[test]
    fn invoke_complete_fields() {
        let (ok, _) = decode(&InvokeComplete::default().encode());
        assert_eq!(ok.payload, b"{}");
        assert_eq!(ok.headers[0].1, "InvokeComplete");
        let failed = InvokeComplete {
            error_code: Some("Function.Broke".into()),
            error_details: Some("it broke".into()),
            log_result: Some("U1RBUlQ=".into()),
        };
        let (decoded, _) = decode(&failed.encode());
        let json: serde_json::Value = serde_json::from_slice(&decoded.payload).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "ErrorCode": "Function.Broke",
                "ErrorDetails": "it broke",
                "LogResult": "U1RBUlQ="
            })
        );
    }
}
