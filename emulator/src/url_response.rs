//! A Function URL invocation's answer, mapped back to an HTTP response as Lambda does:
//!
//! - a JSON object with `statusCode`: its status, `headers`, `cookies` (one `Set-Cookie`
//!   each) and `body` (base64-decoded when `isBase64Encoded`);
//! - any other payload: 200, `application/json`, the payload as the body (the inference rule
//!   of function URLs);
//! - a function error (or a malformed answer): 502 with a JSON body;
//! - an HTTP-integration stream (`application/vnd.awslambda.http-integration-response`: a
//!   JSON prelude, 8 NUL bytes, the body): the prelude's status, headers and cookies, then
//!   the body sent to the client as it arrives; other streams: 200 with the stream's content
//!   type. An error after the head went out cuts the response short (no last chunk, the
//!   connection closed), the only signal left once the status is sent.

use std::io;

use serde_json::{Map, Value};

use crate::answer::Answer;
use crate::answer_stream::{AnswerStream, Piece, wait_limit};
use crate::conn::{Conn, Flow};
use crate::pending::PendingInvocation;
use crate::streamed_response::Streamed;
use crate::wait_error::WaitError;
use crate::wire::{self, RequestHead, reason};
use coda_lambda::protocol::{self, HTTP_INTEGRATION_CONTENT_TYPE};

/// The longest HTTP-integration prelude accepted before its 8 NUL bytes.
const MAX_PRELUDE: usize = 1024 * 1024;

/// A status and headers (`Set-Cookie` ones included), checked safe to send.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Head {
    /// The status.
    pub(crate) status: u16,
    /// Headers in order, one `Set-Cookie` per cookie.
    pub(crate) headers: Vec<(String, String)>,
}

/// A complete response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Response {
    /// The status and headers.
    pub(crate) head: Head,
    /// The body.
    pub(crate) body: Vec<u8>,
}

impl Response {
    /// An error response of the front: `{"Message": …}`.
    fn error(status: u16, message: &str) -> Response {
        Response {
            head: Head {
                status,
                headers: vec![("Content-Type".into(), "application/json".into())],
            },
            body: serde_json::to_vec(&serde_json::json!({ "Message": message }))
                .unwrap_or_default(),
        }
    }

    /// The 502 a function error or a malformed answer gets.
    fn bad_gateway() -> Response {
        Response::error(502, "Internal Server Error")
    }
}

/// Waits for the answer of `pending` and sends it as the response to `request`.
pub(crate) fn respond(
    conn: &mut Conn,
    request: &RequestHead,
    pending: PendingInvocation,
) -> io::Result<Flow> {
    let request_id = pending.request_id().to_owned();
    let first = match pending.read_stream(0, wait_limit(&pending)) {
        Ok(read) => read,
        Err(e) => return write(conn, request, &wait_failed(e), &request_id),
    };
    match &first.done {
        Some(answer) if !answer.streamed => write(conn, request, &buffered(answer), &request_id),
        _ => streamed(
            conn,
            request,
            AnswerStream::new(pending, first),
            &request_id,
        ),
    }
}

/// Sends an error response of the front.
pub(crate) fn error(
    conn: &mut Conn,
    request: &RequestHead,
    status: u16,
    message: &str,
    flow: Flow,
) -> io::Result<Flow> {
    write(conn, request, &Response::error(status, message), "")?;
    Ok(flow)
}

/// The response for a wait that ended without an answer.
fn wait_failed(error: WaitError) -> Response {
    match error {
        WaitError::Shutdown => Response::error(503, "Service Unavailable"),
        WaitError::TimedOut => Response::error(504, "Gateway Timeout"),
    }
}

/// The response for a complete, buffered answer.
pub(crate) fn buffered(answer: &Answer) -> Response {
    if answer.function_error.is_some() {
        return Response::bad_gateway();
    }
    if is_http_integration(answer.content_type.as_deref()) {
        return split_prelude(&answer.payload)
            .and_then(|(prelude, body)| {
                Some(Response {
                    head: head_of(&prelude)?,
                    body: body.to_vec(),
                })
            })
            .unwrap_or_else(Response::bad_gateway);
    }
    match serde_json::from_slice::<Value>(&answer.payload) {
        Ok(Value::Object(object)) if object.contains_key("statusCode") => {
            structured(&object).unwrap_or_else(Response::bad_gateway)
        }
        _ => Response {
            head: Head {
                status: 200,
                headers: vec![("Content-Type".into(), "application/json".into())],
            },
            body: answer.payload.clone(),
        },
    }
}

/// Whether `content_type` (parameters aside) is the HTTP-integration stream format.
fn is_http_integration(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case(HTTP_INTEGRATION_CONTENT_TYPE)
        })
}

/// A `{statusCode, headers, cookies, body, isBase64Encoded}` answer; `None` when malformed.
fn structured(object: &Map<String, Value>) -> Option<Response> {
    let head = head_of(object)?;
    let body = match object.get("body") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::String(text)) if object.get("isBase64Encoded") == Some(&Value::Bool(true)) => {
            crate::b64::decode(text)?
        }
        Some(Value::String(text)) => text.clone().into_bytes(),
        Some(other) => serde_json::to_vec(other).ok()?,
    };
    Some(Response { head, body })
}

/// The status (200 when absent), headers and cookies of an answer object or prelude; `None`
/// when the status is invalid or the headers or cookies have the wrong shape. Header names or
/// values that cannot be sent, and framing headers, are left out.
fn head_of(object: &Map<String, Value>) -> Option<Head> {
    let status = match object.get("statusCode") {
        None => 200,
        Some(Value::Number(n)) => u16::try_from(n.as_u64()?).ok()?,
        Some(Value::String(s)) => s.trim().parse().ok()?,
        Some(_) => return None,
    };
    if !(200..=599).contains(&status) {
        return None;
    }
    let mut headers = Vec::new();
    match object.get("headers") {
        None | Some(Value::Null) => {}
        Some(Value::Object(map)) => {
            for (name, value) in map {
                let value = match value {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    Value::Null => continue,
                    _ => return None,
                };
                let framing = ["content-length", "transfer-encoding", "connection"]
                    .iter()
                    .any(|f| name.eq_ignore_ascii_case(f));
                if !framing && wire::header_name_ok(name) && wire::header_value_ok(&value) {
                    headers.push((name.clone(), value));
                }
            }
        }
        Some(_) => return None,
    }
    match object.get("cookies") {
        None | Some(Value::Null) => {}
        Some(Value::Array(cookies)) => {
            for cookie in cookies {
                let cookie = cookie.as_str()?;
                if wire::header_value_ok(cookie) {
                    headers.push(("Set-Cookie".into(), cookie.to_owned()));
                }
            }
        }
        Some(_) => return None,
    }
    Some(Head { status, headers })
}

/// Splits an HTTP-integration body at its 8 NUL bytes: the JSON prelude object and the rest.
fn split_prelude(bytes: &[u8]) -> Option<(Map<String, Value>, &[u8])> {
    let separator = &protocol::HTTP_PRELUDE_SEPARATOR;
    let at = bytes
        .windows(separator.len())
        .position(|w| w == separator)?;
    match serde_json::from_slice(&bytes[..at]) {
        Ok(Value::Object(prelude)) => Some((prelude, &bytes[at + separator.len()..])),
        _ => None,
    }
}

/// Sends a streamed answer: the head as soon as it is known (after the prelude for an
/// HTTP-integration stream), then each piece as it arrives.
fn streamed(
    conn: &mut Conn,
    request: &RequestHead,
    mut answer: AnswerStream,
    request_id: &str,
) -> io::Result<Flow> {
    let content_type = answer.content_type().map(str::to_owned);
    let (head, first_body) = if is_http_integration(content_type.as_deref()) {
        match read_prelude(&mut answer) {
            Ok(found) => found,
            Err(response) => return write(conn, request, &response, request_id),
        }
    } else {
        let content_type = content_type
            .filter(|v| wire::header_value_ok(v))
            .unwrap_or_else(|| "application/octet-stream".into());
        let head = Head {
            status: 200,
            headers: vec![("Content-Type".into(), content_type)],
        };
        (head, Vec::new())
    };
    if matches!(head.status, 204 | 304) {
        // No body may follow these statuses: let the stream end, then send the head alone.
        while let Piece::Bytes(_) = answer.next_piece() {}
        let response = Response {
            head,
            body: Vec::new(),
        };
        return write(conn, request, &response, request_id);
    }
    let mut headers: Vec<(&str, &str)> = head
        .headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    headers.push(("x-amzn-RequestId", request_id));
    let out = Streamed::start(conn, request, head.status, &headers)?;
    out.send(conn, &first_body)?;
    loop {
        match answer.next_piece() {
            Piece::Bytes(bytes) => out.send(conn, &bytes)?,
            Piece::End(answer) if answer.function_error.is_none() => return out.finish(conn),
            Piece::End(_) | Piece::Failed(_) => return Ok(out.abort()),
        }
    }
}

/// Reads an HTTP-integration stream up to the end of its prelude: the head and the body
/// bytes that came with it, or the response to send instead when the stream failed or ended
/// first (nothing has been sent yet then, so the client gets a proper 502).
fn read_prelude(answer: &mut AnswerStream) -> Result<(Head, Vec<u8>), Response> {
    let mut buffer = Vec::new();
    loop {
        match answer.next_piece() {
            Piece::Bytes(bytes) => {
                buffer.extend_from_slice(&bytes);
                if let Some((prelude, rest)) = split_prelude(&buffer) {
                    let head = head_of(&prelude).ok_or_else(Response::bad_gateway)?;
                    return Ok((head, rest.to_vec()));
                }
                let separator = &protocol::HTTP_PRELUDE_SEPARATOR;
                if buffer.windows(separator.len()).any(|w| w == separator)
                    || buffer.len() > MAX_PRELUDE
                {
                    return Err(Response::bad_gateway());
                }
            }
            Piece::End(_) => return Err(Response::bad_gateway()),
            Piece::Failed(e) => return Err(wait_failed(e)),
        }
    }
}

/// Writes a complete response: `Content-Length` framing, no body for `HEAD`, 204 or 304.
fn write(
    conn: &mut Conn,
    request: &RequestHead,
    response: &Response,
    request_id: &str,
) -> io::Result<Flow> {
    let status = response.head.status;
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in &response.head.headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if !request_id.is_empty() {
        out.push_str(&format!("x-amzn-RequestId: {request_id}\r\n"));
    }
    let bodiless_status = matches!(status, 204 | 304);
    if !bodiless_status {
        out.push_str(&format!("Content-Length: {}\r\n", response.body.len()));
    }
    if !request.keep_alive() {
        out.push_str("Connection: close\r\n");
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    if !bodiless_status && request.method != "HEAD" {
        bytes.extend_from_slice(&response.body);
    }
    conn.write_all(&bytes)?;
    Ok(Flow::KeepAlive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn answer(payload: &[u8], content_type: Option<&str>, error: Option<&str>) -> Answer {
        Answer {
            payload: payload.to_vec(),
            content_type: content_type.map(str::to_owned),
            function_error: error.map(str::to_owned),
            error_type_header: None,
            error_cause: None,
            streamed: false,
            status: 202,
            headers: Vec::new(),
            trailers: Vec::new(),
            latency: Duration::ZERO,
        }
    }

    fn header<'a>(response: &'a Response, name: &str) -> Vec<&'a str> {
        response
            .head
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A structured answer sets status, headers and cookies; its body may be base64.
    #[test]
    fn structured_answers() {
        let payload = serde_json::json!({
            "statusCode": 201,
            "headers": {"Content-Type": "image/png", "X-Count": 3, "Content-Length": "9"},
            "cookies": ["a=1; Path=/", "b=2"],
            "body": crate::b64::encode([0, 1, 2, 255]),
            "isBase64Encoded": true,
        });
        let response = buffered(&answer(payload.to_string().as_bytes(), None, None));
        assert_eq!(response.head.status, 201);
        assert_eq!(header(&response, "content-type"), ["image/png"]);
        assert_eq!(header(&response, "x-count"), ["3"]);
        assert!(header(&response, "content-length").is_empty());
        assert_eq!(header(&response, "set-cookie"), ["a=1; Path=/", "b=2"]);
        assert_eq!(response.body, [0, 1, 2, 255]);
    }

    /// Anything else that succeeded is a 200 JSON body, as sent.
    #[test]
    fn inferred_answers() {
        for payload in [
            &b"\"Hello, world!\""[..],
            b"{\"message\":\"hi\"}",
            b"[1,2]",
            b"plain",
        ] {
            let response = buffered(&answer(payload, Some("text/plain"), None));
            assert_eq!(response.head.status, 200);
            assert_eq!(header(&response, "content-type"), ["application/json"]);
            assert_eq!(response.body, payload);
        }
    }

    /// Function errors and malformed structured answers are 502s.
    #[test]
    fn bad_gateways() {
        let failed = buffered(&answer(b"{\"errorType\":\"X\"}", None, Some("Function.X")));
        assert_eq!(failed.head.status, 502);
        for bad in [
            r#"{"statusCode": "abc"}"#,
            r#"{"statusCode": 99}"#,
            r#"{"statusCode": 200, "headers": ["x"]}"#,
            r#"{"statusCode": 200, "cookies": [1]}"#,
            r#"{"statusCode": 200, "body": "!!", "isBase64Encoded": true}"#,
        ] {
            assert_eq!(
                buffered(&answer(bad.as_bytes(), None, None)).head.status,
                502,
                "{bad}"
            );
        }
    }

    /// Header names and values that would split the response are dropped.
    #[test]
    fn unsafe_headers_are_dropped() {
        let payload = serde_json::json!({
            "statusCode": 200,
            "headers": {"X-Ok": "1", "X-Bad": "a\r\nInjected: 1", "Bad Name": "v"},
            "cookies": ["ok=1", "bad=1\r\nX: y"],
        });
        let response = buffered(&answer(payload.to_string().as_bytes(), None, None));
        assert_eq!(
            response.head.headers,
            [
                ("X-Ok".to_owned(), "1".to_owned()),
                ("Set-Cookie".to_owned(), "ok=1".to_owned())
            ]
        );
    }

    /// A buffered HTTP-integration answer is split at its prelude.
    #[test]
    fn buffered_http_integration() {
        let mut payload = br#"{"statusCode":418,"headers":{"x-a":"b"},"cookies":["c=d"]}"#.to_vec();
        payload.extend_from_slice(&[0; 8]);
        payload.extend_from_slice(b"teapot");
        let response = buffered(&answer(&payload, Some(HTTP_INTEGRATION_CONTENT_TYPE), None));
        assert_eq!(response.head.status, 418);
        assert_eq!(header(&response, "x-a"), ["b"]);
        assert_eq!(header(&response, "set-cookie"), ["c=d"]);
        assert_eq!(response.body, b"teapot");
        let no_prelude = buffered(&answer(b"{}", Some(HTTP_INTEGRATION_CONTENT_TYPE), None));
        assert_eq!(no_prelude.head.status, 502);
    }
}
