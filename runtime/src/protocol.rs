//! The Runtime API's vocabulary, shared by the runtime's client, the emulator
//! (`coda-emulator`) and the HTTP adapters (`coda-handlers`): header names and paths
//! (`docs/runtime-api.md` §2–§5), size limits, the error-type rule RAPID applies (§4.1), the
//! HTTP-integration content type and separator of streamed HTTP responses (§5.3), the user
//! agent, and how a request id becomes a path segment (§9 #8).
//!
//! One set of definitions for every side of the protocol, so they cannot disagree about the
//! wire format. Header names are lowercase: HTTP header names are case-insensitive (§0) and
//! the `http` crate stores them lowercase.
//!
//! ```
//! use coda_lambda::protocol;
//!
//! let mut path = String::from(protocol::INVOCATION_PREFIX);
//! protocol::escape_path_segment("8476a536-e9f4-11e8-9739-2dfe598c3fcd", &mut path);
//! path.push_str("/response");
//! assert_eq!(path, "/2018-06-01/runtime/invocation/8476a536-e9f4-11e8-9739-2dfe598c3fcd/response");
//! assert!(protocol::is_canonical_error_type("Function.OrderRejected"));
//! ```

/// The Runtime API version prefix of every runtime endpoint (§0).
pub const API_VERSION: &str = "/2018-06-01";
/// `GET` path that blocks until the next event (§2).
pub const NEXT_PATH: &str = "/2018-06-01/runtime/invocation/next";
/// Prefix of the per-invocation `/response` and `/error` paths (§3, §4.1).
pub const INVOCATION_PREFIX: &str = "/2018-06-01/runtime/invocation/";
/// `POST` path for initialization errors (§4.2).
pub const INIT_ERROR_PATH: &str = "/2018-06-01/runtime/init/error";

/// `POST` path that registers an extension (§7.5).
pub const EXTENSION_REGISTER_PATH: &str = "/2020-01-01/extension/register";
/// `GET` path that blocks until an extension's next event (§7.5).
pub const EXTENSION_NEXT_PATH: &str = "/2020-01-01/extension/event/next";
/// The name an extension registers under (§7.5).
pub const EXTENSION_NAME: &str = "lambda-extension-name";
/// The identifier the Extensions API gives a registered extension (§7.5).
pub const EXTENSION_IDENTIFIER: &str = "lambda-extension-identifier";

/// Request id of the invocation; the path key of `/response` and `/error` (§2.2).
pub const REQUEST_ID: &str = "lambda-runtime-aws-request-id";
/// Deadline as Unix epoch milliseconds (§2.2).
pub const DEADLINE_MS: &str = "lambda-runtime-deadline-ms";
/// ARN of the function as invoked (§2.2).
pub const FUNCTION_ARN: &str = "lambda-runtime-invoked-function-arn";
/// X-Ray tracing header value (§2.2, §2.3).
pub const TRACE_ID: &str = "lambda-runtime-trace-id";
/// Mobile SDK client context, JSON (§2.2).
pub const CLIENT_CONTEXT: &str = "lambda-runtime-client-context";
/// Cognito identity, JSON (§2.2).
pub const COGNITO_IDENTITY: &str = "lambda-runtime-cognito-identity";
/// Tenant id for functions with tenant isolation (§2.2).
pub const TENANT_ID: &str = "lambda-runtime-aws-tenant-id";
/// Per-attempt nonce to echo on `/response` and `/error` (§2.2, §9 #9).
pub const INVOCATION_ID: &str = "lambda-runtime-invocation-id";
/// Error type header on `/error` and `/init/error` (§4.1).
pub const FUNCTION_ERROR_TYPE: &str = "lambda-runtime-function-error-type";
/// Error body trailer of a streamed response that failed mid-stream (§5.2).
pub const FUNCTION_ERROR_BODY: &str = "lambda-runtime-function-error-body";
/// Response mode header; `streaming` for streamed responses (§3.1, §5.1).
pub const RESPONSE_MODE: &str = "lambda-runtime-function-response-mode";
/// X-Ray error cause document header on `/error` (§4.1, §4.3).
pub const XRAY_ERROR_CAUSE: &str = "lambda-runtime-function-xray-error-cause";

/// Content type of error bodies posted by the runtime (§4.1).
pub const ERROR_CONTENT_TYPE: &str = "application/vnd.aws.lambda.error+json";
/// Content type of an `/error` body that carries an `errorCause` (§4.1).
pub const ERROR_CAUSE_CONTENT_TYPE: &str = "application/vnd.aws.lambda.error.cause+json";
/// Content type of a streamed HTTP-integration response with its JSON prelude (§5.3).
pub const HTTP_INTEGRATION_CONTENT_TYPE: &str =
    "application/vnd.awslambda.http-integration-response";

/// The 8 NUL bytes between the JSON prelude and the body of a streamed HTTP-integration
/// response (§5.3).
pub const HTTP_PRELUDE_SEPARATOR: [u8; 8] = [0; 8];

/// The `User-Agent` Coda's runtime sends: `coda-lambda/<version>` (RAPID records the first
/// token, §0).
pub const USER_AGENT: &str = concat!("coda-lambda/", env!("CARGO_PKG_VERSION"));

/// Largest buffered response Lambda accepts: 6 MiB + 100 bytes (§3.2).
pub const MAX_BUFFERED_RESPONSE: usize = 6 * 1024 * 1024 + 100;

/// Whether `value` is in the `Runtime.X` / `Function.X` form RAPID keeps (§4.1, §9 #17):
/// the regular expression `(Runtime|Function)\.[A-Z][a-zA-Z]+` matched against the whole value.
pub fn is_canonical_error_type(value: &str) -> bool {
    let rest = match value.split_once('.') {
        Some(("Runtime" | "Function", rest)) => rest,
        _ => return false,
    };
    let mut chars = rest.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_uppercase())
        && rest.len() >= 2
        && chars.all(|c| c.is_ascii_alphabetic())
}

/// Percent-encodes a request id for use as one path segment (§9 #8).
///
/// The id is sent unchanged except for bytes that cannot appear in a path segment: controls,
/// space, non-ASCII, and `"#%<>?\^`{|}`. Over-escaping (for example `-` as `%2D`) makes RAPID
/// answer 400, so nothing else is touched. A `/` is left alone: RAPID cannot route it either
/// way, and escaping it would hide the id from a log search.
pub fn escape_path_segment(id: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    fn keep(b: u8) -> bool {
        b > b' '
            && b < 0x7f
            && !matches!(
                b,
                b'"' | b'#' | b'%' | b'<' | b'>' | b'?' | b'\\' | b'^' | b'`' | b'{' | b'|' | b'}'
            )
    }
    // Request ids are UUIDs in practice: copy them whole.
    if id.bytes().all(keep) {
        out.push_str(id);
        return;
    }
    for &b in id.as_bytes() {
        if keep(b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0xf)] as char);
        }
    }
}

/// Decodes `%XX` escapes in a path segment; invalid escapes are kept as they are.
pub fn unescape_path_segment(segment: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    }
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match (bytes.get(i), bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(b'%'), Some(&h), Some(&l)) => hex(h).zip(hex(l)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match decoded {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// §4.1 / §9 #17: only `Runtime.X` / `Function.X` with a capitalised alphabetic tail count.
    #[test]
    fn canonical_error_types() {
        for ok in ["Runtime.UnmarshalError", "Function.Rejected", "Runtime.Ab"] {
            assert!(is_canonical_error_type(ok), "{ok}");
        }
        for bad in [
            "Unhandled",
            "unhandled",
            "Runtime.",
            "Runtime.X",
            "Runtime.lower",
            "Function.Has Space",
            "Function.Num1",
            "Other.Thing",
            "",
        ] {
            assert!(!is_canonical_error_type(bad), "{bad}");
        }
    }

    /// §9 #8: ids are sent unchanged except for bytes illegal in a path segment.
    #[test]
    fn request_ids_are_escaped_minimally() {
        let mut out = String::new();
        escape_path_segment("8476a536-e9f4-11e8-9739-2dfe598c3fcd", &mut out);
        assert_eq!(out, "8476a536-e9f4-11e8-9739-2dfe598c3fcd");
        out.clear();
        escape_path_segment("a b%c?d#e/f~g:h@i", &mut out);
        assert_eq!(out, "a%20b%25c%3Fd%23e/f~g:h@i");
        out.clear();
        escape_path_segment("é", &mut out);
        assert_eq!(out, "%C3%A9");
        assert_eq!(
            unescape_path_segment("a%20b%25c%3Fd%23e/f~g"),
            "a b%c?d#e/f~g"
        );
        assert_eq!(unescape_path_segment("%C3%A9%zz%4"), "é%zz%4");
    }
}
