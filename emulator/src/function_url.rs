//! A Function URL on the front port: every request that is not an Invoke API call becomes a
//! payload format 2.0 event, as Lambda builds it for a function URL (the same schema as API
//! Gateway HTTP APIs): `rawPath` and `rawQueryString` as sent, `cookies` apart from the
//! headers, header names lowercased with repeated values comma-joined, decoded query
//! parameters, a `requestContext`, and the body as text or base64. [`crate::url_response`]
//! maps the function's answer back to an HTTP response.

use std::fmt::Write as _;
use std::io;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value, json};

use crate::caller_limits;
use crate::conn::{Conn, Flow, ReadError};
use crate::invoke::Invoke;
use crate::queue::enqueue;
use crate::state::Shared;
use crate::wire::RequestHead;
use crate::{ids, url_response};
use coda_lambda::protocol::unescape_path_segment;

/// Largest request body accepted (Lambda's 6 MB invocation payload quota).
pub(crate) const MAX_REQUEST_BODY: usize = 6 * 1024 * 1024;

/// What the event says besides the request itself.
#[derive(Clone, Debug)]
pub(crate) struct Origin<'a> {
    /// The account id in `requestContext.accountId`.
    pub(crate) account_id: &'a str,
    /// The region in the URL's domain name.
    pub(crate) region: &'a str,
    /// The function name, which with the account and region makes the URL id.
    pub(crate) function_name: &'a str,
    /// The client's address.
    pub(crate) source_ip: &'a str,
    /// The invocation's request id (also `requestContext.requestId`).
    pub(crate) request_id: &'a str,
    /// The request time (`requestContext.time`, `timeEpoch`).
    pub(crate) now: SystemTime,
}

/// Serves one request as a Function URL invocation.
pub(crate) fn handle(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
) -> io::Result<Flow> {
    let mut body = Vec::new();
    match conn.read_body(head, MAX_REQUEST_BODY, &mut |piece| {
        body.extend_from_slice(piece)
    }) {
        Ok(read) if read.over_limit => {
            return url_response::error(
                conn,
                head,
                413,
                "Request Entity Too Large",
                Flow::KeepAlive,
            );
        }
        Ok(_) => {}
        Err(ReadError::Io(_)) => return Ok(Flow::Close),
        Err(ReadError::Wire(e)) => {
            return url_response::error(conn, head, e.status, &e.message, Flow::Close);
        }
    }
    let request_id = ids::request_id();
    let source_ip = source_ip(conn);
    let config = &shared.settings;
    let origin = Origin {
        account_id: &config.account_id,
        region: &config.region,
        function_name: &config.function_name,
        source_ip: &source_ip,
        request_id: &request_id,
        now: SystemTime::now(),
    };
    let mut invoke = Invoke::json(&event(head, &body, &origin)).request_id(&request_id);
    // The request's headers go into the event (JSON, escaped), not into the `/next` head;
    // only the trace header is copied there, so only it is checked (`caller_limits`).
    if let Some(trace) = head.header("x-amzn-trace-id").filter(|v| !v.is_empty()) {
        if !caller_limits::trace_id_ok(trace) {
            let message = format!(
                "X-Amzn-Trace-Id must be at most {} bytes of printable ASCII",
                caller_limits::MAX_TRACE_ID
            );
            return url_response::error(conn, head, 400, &message, Flow::KeepAlive);
        }
        invoke = invoke.trace_id(trace);
    }
    let pending = enqueue(shared, invoke);
    url_response::respond(conn, head, pending)
}

/// The address the Function URL event reports as `sourceIp`.
pub(crate) fn source_ip(conn: &Conn) -> String {
    conn.peer_addr()
        .map_or_else(|| "127.0.0.1".to_owned(), |addr| addr.ip().to_string())
}

/// The payload format 2.0 event for a request.
pub(crate) fn event(head: &RequestHead, body: &[u8], origin: &Origin<'_>) -> Value {
    let target = origin_form(&head.target);
    let (raw_path, raw_query) = target.split_once('?').unwrap_or((&target, ""));
    let url_id = url_id(origin);
    let domain = format!("{url_id}.lambda-url.{}.on.aws", origin.region);
    let epoch_ms = origin
        .now
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64;
    let protocol = if head.version == 0 {
        "HTTP/1.0"
    } else {
        "HTTP/1.1"
    };
    let mut event = json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers(head, origin.source_ip),
        "requestContext": {
            "accountId": origin.account_id,
            "apiId": url_id,
            "domainName": domain,
            "domainPrefix": url_id,
            "http": {
                "method": head.method,
                "path": raw_path,
                "protocol": protocol,
                "sourceIp": origin.source_ip,
                "userAgent": head.header("user-agent").unwrap_or_default(),
            },
            "requestId": origin.request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": clf_time(epoch_ms / 1000),
            "timeEpoch": epoch_ms,
        },
        "isBase64Encoded": false,
    });
    let cookies = cookies(head);
    if !cookies.is_empty() {
        event["cookies"] = json!(cookies);
    }
    if let Some(parameters) = query_parameters(raw_query) {
        event["queryStringParameters"] = Value::Object(parameters);
    }
    if !body.is_empty() {
        let text = is_text(head.header("content-type"))
            .then(|| std::str::from_utf8(body).ok())
            .flatten();
        match text {
            Some(text) => event["body"] = text.into(),
            None => {
                event["body"] = crate::b64::encode(body).into();
                event["isBase64Encoded"] = true.into();
            }
        }
    }
    event
}

/// The request target in origin form: an absolute-form target (`http://host/p?q`) loses its
/// scheme and authority.
fn origin_form(target: &str) -> String {
    let Some(rest) = target
        .strip_prefix("http://")
        .or_else(|| target.strip_prefix("https://"))
    else {
        return target.to_owned();
    };
    match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => rest[at..].to_owned(),
        Some(at) => format!("/{}", &rest[at..]),
        None => "/".to_owned(),
    }
}

/// Header names (lowercase already) to values, repeated values comma-joined; no `cookie`
/// (cookies travel in `cookies`). `x-forwarded-for` and `x-forwarded-proto` are added as the
/// Function URL's front end adds them, unless the client sent them.
fn headers(head: &RequestHead, source_ip: &str) -> Map<String, Value> {
    let mut map: Map<String, Value> = Map::new();
    for (name, value) in head.headers.iter().filter(|(n, _)| n != "cookie") {
        let value = String::from_utf8_lossy(value).trim().to_owned();
        match map.get_mut(name) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                map.insert(name.clone(), value.into());
            }
        }
    }
    map.entry("x-forwarded-for")
        .or_insert_with(|| source_ip.into());
    map.entry("x-forwarded-proto")
        .or_insert_with(|| "http".into());
    map
}

/// Every cookie of every `Cookie` header, in order.
fn cookies(head: &RequestHead) -> Vec<String> {
    head.headers
        .iter()
        .filter(|(n, _)| n == "cookie")
        .flat_map(|(_, v)| {
            String::from_utf8_lossy(v)
                .split(';')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Decoded query parameters, repeated keys comma-joined; `None` for an empty query.
fn query_parameters(raw: &str) -> Option<Map<String, Value>> {
    let mut map: Map<String, Value> = Map::new();
    for pair in raw.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let (key, value) = (decode_component(key), decode_component(value));
        match map.get_mut(&key) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&value);
            }
            _ => {
                map.insert(key, value.into());
            }
        }
    }
    (!map.is_empty()).then_some(map)
}

/// A query component decoded: `+` is a space, then `%XX` escapes.
fn decode_component(text: &str) -> String {
    unescape_path_segment(&text.replace('+', " "))
}

/// Whether a body of `content_type` travels as text rather than base64.
pub(crate) fn is_text(content_type: Option<&str>) -> bool {
    let Some(content_type) = content_type else {
        return false;
    };
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media.starts_with("text/")
        || media.ends_with("+json")
        || media.ends_with("+xml")
        || matches!(
            media.as_str(),
            "application/json"
                | "application/xml"
                | "application/javascript"
                | "application/x-www-form-urlencoded"
        )
}

/// A stable 32-character id for the function's URL (`<url-id>.lambda-url.<region>.on.aws`).
fn url_id(origin: &Origin<'_>) -> String {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let fnv = |seed: u64| {
        let mut hash = 0xcbf2_9ce4_8422_2325u64 ^ seed;
        for part in [origin.account_id, origin.region, origin.function_name] {
            for &b in part.as_bytes().iter().chain(b":") {
                hash ^= u64::from(b);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        hash
    };
    let (a, b) = (fnv(1), fnv(2));
    (0..32)
        .map(|i| {
            let word = if i < 16 { a } else { b };
            ALPHABET[((word >> ((i % 16) * 4)) & 31) as usize] as char
        })
        .collect()
}

/// `dd/Mon/yyyy:HH:mm:ss +0000`, the time format of `requestContext.time`.
fn clf_time(epoch_secs: u64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day) = crate::calendar::civil_from_days((epoch_secs / 86_400) as i64);
    let rem = epoch_secs % 86_400;
    let mut out = String::with_capacity(26);
    // Writing to a String cannot fail.
    let _ = write!(
        out,
        "{day:02}/{}/{year:04}:{:02}:{:02}:{:02} +0000",
        MONTHS[(month as usize + 11) % 12],
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::parse_head;
    use std::time::Duration;

    fn head(raw: &str) -> RequestHead {
        parse_head(raw.as_bytes()).unwrap().unwrap().0
    }

    fn origin(now_ms: u64) -> Origin<'static> {
        Origin {
            account_id: "123456789012",
            region: "eu-west-2",
            function_name: "function",
            source_ip: "127.0.0.1",
            request_id: "req-1",
            now: UNIX_EPOCH + Duration::from_millis(now_ms),
        }
    }

    /// A GET with a repeated query key, cookies and repeated headers becomes the documented
    /// event shape.
    #[test]
    fn get_event() {
        let request = head(
            "GET /my/path?parameter1=value1&parameter1=value2&parameter2=a%20b+c HTTP/1.1\r\n\
             Host: 127.0.0.1:9000\r\nUser-Agent: curl/8\r\nCookie: test=hi; other=1\r\n\
             X-Multi: a\r\nX-Multi: b\r\n\r\n",
        );
        let event = event(&request, b"", &origin(1_673_437_534_837));
        assert_eq!(event["rawPath"], "/my/path");
        assert_eq!(
            event["rawQueryString"],
            "parameter1=value1&parameter1=value2&parameter2=a%20b+c"
        );
        assert_eq!(
            event["queryStringParameters"],
            json!({"parameter1": "value1,value2", "parameter2": "a b c"})
        );
        assert_eq!(event["cookies"], json!(["test=hi", "other=1"]));
        assert_eq!(event["headers"]["x-multi"], "a,b");
        assert_eq!(event["headers"]["host"], "127.0.0.1:9000");
        assert!(event["headers"].get("cookie").is_none());
        let context = &event["requestContext"];
        assert_eq!(context["http"]["method"], "GET");
        assert_eq!(context["http"]["userAgent"], "curl/8");
        assert_eq!(context["time"], "11/Jan/2023:11:45:34 +0000");
        assert_eq!(context["timeEpoch"], 1_673_437_534_837u64);
        let domain = context["domainName"].as_str().unwrap();
        let prefix = context["domainPrefix"].as_str().unwrap();
        assert_eq!(prefix.len(), 32);
        assert_eq!(domain, format!("{prefix}.lambda-url.eu-west-2.on.aws"));
        assert!(event.get("body").is_none());
        assert_eq!(event["isBase64Encoded"], false);
    }

    /// Text bodies travel as text, others (and text that is not UTF-8) as base64.
    #[test]
    fn bodies() {
        let post = |content_type: &str, body: &[u8]| {
            let raw = format!(
                "POST / HTTP/1.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                body.len()
            );
            event(&head(&raw), body, &origin(0))
        };
        let text = post("application/json; charset=utf-8", b"{\"a\":1}");
        assert_eq!(
            (&text["body"], &text["isBase64Encoded"]),
            (&json!("{\"a\":1}"), &json!(false))
        );
        let binary = post("image/png", &[0, 159, 146, 150]);
        assert_eq!(binary["body"], "AJ+Slg==");
        assert_eq!(binary["isBase64Encoded"], true);
        let not_utf8 = post("text/plain", &[0xff, 0xfe]);
        assert_eq!(not_utf8["isBase64Encoded"], true);
        for media in [
            "text/html",
            "application/vnd.api+json",
            "application/atom+xml",
            "application/x-www-form-urlencoded",
            "APPLICATION/XML",
        ] {
            assert!(is_text(Some(media)), "{media}");
        }
        assert!(!is_text(None));
        assert!(!is_text(Some("application/octet-stream")));
    }

    /// Absolute-form targets lose their scheme and authority.
    #[test]
    fn absolute_targets() {
        assert_eq!(origin_form("http://h:1/a?b=1"), "/a?b=1");
        assert_eq!(origin_form("http://h:1?b=1"), "/?b=1");
        assert_eq!(origin_form("https://h"), "/");
        assert_eq!(origin_form("/plain"), "/plain");
    }

    /// The request time format, on known instants.
    #[test]
    fn request_times() {
        assert_eq!(clf_time(0), "01/Jan/1970:00:00:00 +0000");
        assert_eq!(clf_time(951_782_400), "29/Feb/2000:00:00:00 +0000");
        assert_eq!(clf_time(1_583_348_638), "04/Mar/2020:19:03:58 +0000");
    }
}
