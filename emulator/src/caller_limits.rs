//! What a caller may send that the emulator copies into a `/next` head: Lambda's limits on
//! the client context, the tenant id and the trace header, the bytes a header value can
//! carry, and the size of the whole head, which must fit the runtime's head buffer
//! (`docs/runtime-api.md` §2.2). Shared by `queue` (every invocation, the library's too) and
//! `invoke_api` (the caller's headers, refused with Lambda's answers).

use crate::wire;

/// Largest `X-Amz-Client-Context`, in bytes of base64: "Up to 3,583 bytes of base64-encoded
/// data about the invoking client" (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>).
pub(crate) const MAX_CLIENT_CONTEXT: usize = 3583;

/// Longest `X-Amz-Tenant-Id`: "Length Constraints: Minimum length of 1. Maximum length of
/// 256", pattern `[a-zA-Z0-9\._:\/=+\-@ ]+`
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html>).
pub(crate) const MAX_TENANT_ID: usize = 256;

/// Longest X-Ray trace header taken from a caller. The Invoke API documents none; Lambda's
/// `TraceHeader.XAmznTraceId` allows "Maximum length of 8192"
/// (<https://docs.aws.amazon.com/lambda/latest/api/API_TraceHeader.html>), the one documented
/// bound of a trace header Lambda carries, so the emulator takes that.
pub(crate) const MAX_TRACE_ID: usize = 8192;

/// Largest `/next` response head the emulator writes: Coda's runtime reads heads into a
/// 16 KiB buffer and refuses one of 16 KiB or more (`runtime/src/client.rs`, `INPUT_BUFFER`,
/// `max_response_header_size(INPUT_BUFFER - 1)`). Lambda's own heads are a few kB.
pub(crate) const MAX_NEXT_HEAD: usize = 16 * 1024 - 1;

/// Whether `value` is a tenant id Lambda accepts: 1 to 256 of `[a-zA-Z0-9._:/=+\-@ ]`.
pub(crate) fn tenant_id_ok(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_TENANT_ID
        && value.bytes().all(|b| {
            b.is_ascii_alphanumeric()
                || matches!(
                    b,
                    b'.' | b'_' | b':' | b'/' | b'=' | b'+' | b'-' | b'@' | b' '
                )
        })
}

/// Whether `value` is a trace header the emulator takes from a caller: at most
/// [`MAX_TRACE_ID`] bytes of printable ASCII (space included).
pub(crate) fn trace_id_ok(value: &str) -> bool {
    value.len() <= MAX_TRACE_ID && value.bytes().all(|b| (b' '..=b'~').contains(&b))
}

/// Whether `value` can be a header value in a `/next` head: no control bytes (CR, LF, NUL
/// and the others, DEL included) except the horizontal tab. CR or LF would end the header
/// early and turn the rest into headers or a body; the runtime's parser refuses the other
/// controls. Bytes above ASCII pass: they are the "odd value" case the runtime reads as an
/// absent header with a warning (`docs/runtime-api.md` §9).
pub(crate) fn header_value_ok(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || (b >= b' ' && b != 0x7f))
}

/// Why an invocation's `/next` headers cannot be sent, as a message for the caller; with
/// `large_head`, a head over [`MAX_NEXT_HEAD`] is let through (fault injection).
pub(crate) fn next_head_problem(
    headers: &[(String, String)],
    payload_len: usize,
    large_head: bool,
) -> Option<String> {
    for (name, value) in headers {
        if !wire::header_name_ok(name) {
            return Some(format!(
                "the /next header name {name:?} is not an HTTP token: it cannot be sent to the runtime"
            ));
        }
        if !header_value_ok(value) {
            return Some(format!(
                "the value of the /next header {name} holds a control byte (CR, LF, NUL or another): it cannot be sent to the runtime"
            ));
        }
    }
    let len = next_head_len(headers, payload_len);
    (len > MAX_NEXT_HEAD && !large_head).then(|| {
        format!(
            "the /next head of this invocation would be {len} bytes, over the {MAX_NEXT_HEAD} bytes a runtime's head buffer takes (a 16 KiB buffer): send smaller headers (client context, trace id, tenant id)"
        )
    })
}

/// The size of the `/next` head the emulator writes for `headers` and a body of
/// `payload_len` bytes (`wire::response`, status 200, kept alive).
pub(crate) fn next_head_len(headers: &[(String, String)], payload_len: usize) -> usize {
    let pairs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    // The head with an empty body says `Content-Length: 0`: one digit, where the real
    // length has as many as it has.
    let digits = payload_len.to_string().len();
    wire::response(200, &pairs, &[], true).len() - 1 + digits
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tenant ids follow Lambda's pattern and length.
    #[test]
    fn tenant_ids() {
        assert!(tenant_id_ok("tenant-a"));
        assert!(tenant_id_ok("a.b_c:d/e=f+g-h@i j"));
        assert!(tenant_id_ok(&"t".repeat(256)));
        assert!(!tenant_id_ok(&"t".repeat(257)));
        assert!(!tenant_id_ok(""));
        assert!(!tenant_id_ok("a\r\nb"));
        assert!(!tenant_id_ok("é"));
        assert!(!tenant_id_ok("a;b"));
    }

    /// Trace headers are printable ASCII up to 8,192 bytes.
    #[test]
    fn trace_ids() {
        assert!(trace_id_ok(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
        ));
        assert!(trace_id_ok(&"x".repeat(MAX_TRACE_ID)));
        assert!(!trace_id_ok(&"x".repeat(MAX_TRACE_ID + 1)));
        assert!(!trace_id_ok("Root=1\r\nX: y"));
        assert!(!trace_id_ok("Root=\u{7f}"));
        assert!(!trace_id_ok("Root=é"));
    }

    /// Control bytes cannot go in a head; tabs, empty values and non-ASCII can.
    #[test]
    fn header_values() {
        assert!(header_value_ok(""));
        assert!(header_value_ok("a\tb"));
        assert!(header_value_ok("é"));
        for bad in ["a\rb", "a\nb", "a\0b", "a\u{1}b", "a\u{7f}b"] {
            assert!(!header_value_ok(bad), "{bad:?}");
        }
    }

    /// The head length is what `wire::response` writes, and the limit is checked on it.
    #[test]
    fn head_lengths() {
        let headers = vec![("a".to_owned(), "b".to_owned())];
        let written = wire::response(200, &[("a", "b")], &[0; 12345], true);
        let head = written.len() - 12345;
        assert_eq!(next_head_len(&headers, 12345), head);
        assert_eq!(next_head_problem(&headers, 12345, false), None);
        let big = vec![("x".to_owned(), "v".repeat(MAX_NEXT_HEAD))];
        assert!(
            next_head_problem(&big, 2, false)
                .unwrap()
                .contains("16 KiB")
        );
        assert_eq!(next_head_problem(&big, 2, true), None);
        let split = vec![("x".to_owned(), "a\r\nb: c".to_owned())];
        assert!(
            next_head_problem(&split, 2, true)
                .unwrap()
                .contains("control byte")
        );
        let name = vec![("x y".to_owned(), "v".to_owned())];
        assert!(
            next_head_problem(&name, 2, false)
                .unwrap()
                .contains("HTTP token")
        );
    }
}
