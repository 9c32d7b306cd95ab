//! The Runtime API client: one ureq agent, one keep-alive connection, one method per endpoint
//! (`docs/runtime-api.md` §2–§4).
//!
//! Policy, decided here and nowhere else (§3.3, §9):
//! - `/next`: no timeout (the call blocks until an event arrives and the process may be
//!   frozen meanwhile, §0); anything but 200 is fatal; an event without a request id is fatal
//!   (it cannot be answered, and asking again would be served the same event, §9 #5).
//! - The first `/next` retries a refused connection briefly (§9 #2); later transport errors
//!   are fatal (§9 #3).
//! - `/response` and `/error`: 2xx is delivered, 4xx is logged and the loop goes on (400 unknown
//!   id, 403 already answered, 410 timed out, 413 too large), 5xx or a transport error is fatal.

use std::fmt;
use std::io::Read;
use std::time::Duration;

use crate::Diagnostic;
use ureq::http::HeaderValue;
use ureq::http::header::{CONTENT_TYPE, HOST, HeaderName, USER_AGENT};

/// The invocation id header as a ready `HeaderName` (no parse per request).
const INVOCATION_ID: HeaderName = HeaderName::from_static(protocol::INVOCATION_ID);

/// The Runtime API address, resolved once.
mod resolver {
    use std::net::ToSocketAddrs;

    use ureq::config::Config;
    use ureq::http::Uri;
    use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
    use ureq::unversioned::transport::NextTimeout;

    /// ureq resolves the host of every request, pooled connection or not; the Runtime API's
    /// address does not change, so it is resolved once (`host:port` is most often an IP
    /// address) and reused. If it cannot be resolved up front, every call resolves as usual.
    #[derive(Debug)]
    pub(super) struct Once {
        addrs: Option<ResolvedSocketAddrs>,
        fallback: DefaultResolver,
    }

    impl Once {
        pub(super) fn new(authority: &str) -> Once {
            let fallback = DefaultResolver::default();
            let mut addrs = fallback.empty();
            for addr in authority.to_socket_addrs().into_iter().flatten().take(16) {
                addrs.push(addr);
            }
            Once {
                addrs: (!addrs.is_empty()).then_some(addrs),
                fallback,
            }
        }
    }

    impl Resolver for Once {
        fn resolve(
            &self,
            uri: &Uri,
            config: &Config,
            timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            match &self.addrs {
                Some(addrs) => Ok(addrs.clone()),
                None => self.fallback.resolve(uri, config, timeout),
            }
        }
    }
}
use crate::config::Endpoint;
use crate::invocation::Invocation;
use crate::protocol;
use crate::streaming::{ResponseStream, StreamBody, StreamEnd, Target};

/// Largest event read from `/next`: Lambda's own limit is 6 MiB + 100 bytes (§2.2); this
/// leaves room for emulators that are less strict without letting a broken one exhaust memory.
const MAX_EVENT_BYTES: u64 = 16 * 1024 * 1024;
/// The client's input buffer: an answer's head must fit in it. Lambda's `/next` heads are a
/// few kB (a client context is at most 3,583 bytes); 16 KiB leaves room for emulators.
const INPUT_BUFFER: usize = 16 * 1024;
/// Delays between attempts when the first `/next` finds nothing listening (§9 #2).
const FIRST_CONNECT_BACKOFF: [Duration; 4] = [
    Duration::from_millis(10),
    Duration::from_millis(50),
    Duration::from_millis(100),
    Duration::from_millis(250),
];

/// The Runtime API endpoints, one agent and the URLs it needs, built once.
pub(crate) struct Client {
    agent: ureq::Agent,
    authority: String,
    /// `/next`'s URI, parsed once: each call clones it (a reference count).
    next_uri: ureq::http::Uri,
    /// The `Host` header, made once: without it ureq formats `host:port` on every request.
    host: HeaderValue,
    invocation_url: String,
    path_prefix: String,
    init_error_url: String,
    connected: bool,
    url: String,
}

/// The ids an answer is addressed with.
pub(crate) struct Addressee<'a> {
    pub(crate) request_id: &'a str,
    pub(crate) invocation_id: Option<&'a str>,
}

/// What the Runtime API said to an answer that it did not refuse as fatal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// 2xx: the caller has (or is receiving) the answer.
    Accepted,
    /// 4xx: the Runtime API refused the answer; the loop logs it and goes on.
    Rejected {
        /// The status code.
        status: u16,
        /// The body the Runtime API sent (usually `{"errorType","errorMessage"}`).
        body: String,
    },
}

impl Client {
    pub(crate) fn new(endpoint: &Endpoint) -> Client {
        let config = ureq::Agent::config_builder()
            // Buffers for one small request head and one response head at a time: ureq's
            // 128 KiB defaults only cost memory here (bodies stream through them).
            .input_buffer_size(INPUT_BUFFER)
            .output_buffer_size(16 * 1024)
            // A head must fit the input buffer; one that does not is refused with its size
            // (ureq's default limit is larger than the buffer, which made an oversized head
            // look like a disconnection).
            .max_response_header_size(INPUT_BUFFER - 1)
            .http_status_as_error(false)
            // The Runtime API is on loopback: never through a proxy from the environment.
            .proxy(None)
            // The User-Agent goes with each request as a ready header (below) rather than
            // rebuilt from the config's string every time; `Accept: */*` would be one more
            // header to build, send and parse per request for nothing.
            .user_agent(ureq::config::AutoHeaderValue::None)
            .accept(ureq::config::AutoHeaderValue::None)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            // The environment can stay frozen for hours between invocations; keep the one
            // connection rather than reconnecting after 15 s idle (ureq's default).
            .max_idle_age(Duration::from_secs(24 * 3600))
            .no_delay(true)
            .timeout_global(None)
            .build();
        let base = endpoint.base_url();
        let next_url = format!("{base}{}", protocol::NEXT_PATH);
        let agent = ureq::Agent::with_parts(
            config,
            ureq::unversioned::transport::DefaultConnector::default(),
            resolver::Once::new(&endpoint.authority),
        );
        Client {
            agent,
            authority: endpoint.authority.clone(),
            // The endpoint was validated as host:port and a path prefix, so this parses; an
            // unparsable one would fail each call with a transport error naming it.
            next_uri: next_url.parse().unwrap_or_default(),
            host: HeaderValue::from_str(&endpoint.authority)
                .unwrap_or_else(|_| HeaderValue::from_static("localhost")),
            invocation_url: format!("{base}{}", protocol::INVOCATION_PREFIX),
            path_prefix: format!("{}{}", endpoint.prefix, protocol::INVOCATION_PREFIX),
            init_error_url: format!("{base}{}", protocol::INIT_ERROR_PATH),
            connected: false,
            url: String::with_capacity(base.len() + 96),
        }
    }

    /// `GET /next`: the next event and its payload (§2).
    pub(crate) fn next(&mut self, payload: &mut Vec<u8>) -> Result<Invocation, ApiError> {
        let mut attempt = 0;
        let mut resent = false;
        let mut response = loop {
            let request = self
                .agent
                .get(self.next_uri.clone())
                .header(HOST, self.host.clone())
                .header(USER_AGENT, HeaderValue::from_static(protocol::USER_AGENT));
            match request.call() {
                Ok(response) => break response,
                Err(e)
                    if !self.connected
                        && is_refused(&e)
                        && attempt < FIRST_CONNECT_BACKOFF.len() =>
                {
                    std::thread::sleep(FIRST_CONNECT_BACKOFF[attempt]);
                    attempt += 1;
                }
                Err(e) if self.connected && !resent && is_stale_connection(&e) => {
                    log::debug!(
                        "GET /next: the kept connection was closed ({e}): sending it again"
                    );
                    resent = true;
                }
                Err(e) => return Err(ApiError::transport(Operation::Next, e)),
            }
        };
        self.connected = true;
        let status = response.status().as_u16();
        if let Err(e) = read_body(response.body_mut(), payload) {
            return Err(ApiError::transport(Operation::Next, ureq::Error::Io(e)));
        }
        if status != 200 {
            return Err(ApiError::Status {
                operation: Operation::Next,
                status,
                body: String::from_utf8_lossy(payload).into_owned(),
            });
        }
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_bytes()));
        Invocation::from_headers(headers).ok_or(ApiError::MissingRequestId)
    }

    /// `POST /invocation/{id}/response` with a buffered body (§3).
    pub(crate) fn respond(
        &mut self,
        to: &Addressee<'_>,
        body: &[u8],
        content_type: &str,
    ) -> Result<Delivery, ApiError> {
        self.set_invocation_url(to.request_id, "/response");
        let content_type = content_type_value(content_type);
        let result = resend_once_if_stale("/response", || {
            let mut request = self
                .agent
                .post(&self.url)
                .header(HOST, self.host.clone())
                .header(USER_AGENT, HeaderValue::from_static(protocol::USER_AGENT))
                .header(CONTENT_TYPE, content_type.clone());
            if let Some(id) = to.invocation_id {
                request = request.header(INVOCATION_ID, id);
            }
            request.send(body)
        });
        let operation = || Operation::Response(to.request_id.to_owned());
        deliver(result, operation)
    }

    /// `POST /invocation/{id}/error` (§4.1).
    pub(crate) fn fail(
        &mut self,
        to: &Addressee<'_>,
        error: &Diagnostic,
    ) -> Result<Delivery, ApiError> {
        self.set_invocation_url(to.request_id, "/error");
        let body = error.to_json();
        let result = resend_once_if_stale("/error", || {
            let mut request = self
                .agent
                .post(&self.url)
                .header(HOST, self.host.clone())
                .header(USER_AGENT, HeaderValue::from_static(protocol::USER_AGENT))
                .header(CONTENT_TYPE, protocol::ERROR_CONTENT_TYPE)
                .header(protocol::FUNCTION_ERROR_TYPE, error.header_value().as_ref());
            if let Some(id) = to.invocation_id {
                request = request.header(INVOCATION_ID, id);
            }
            request.send(&body[..])
        });
        deliver(result, || Operation::Error(to.request_id.to_owned()))
    }

    /// `POST /init/error` (§4.2).
    pub(crate) fn init_error(&mut self, error: &Diagnostic) -> Result<Delivery, ApiError> {
        let body = error.to_json();
        let result = resend_once_if_stale("/init/error", || {
            self.agent
                .post(&self.init_error_url)
                .header(HOST, self.host.clone())
                .header(USER_AGENT, HeaderValue::from_static(protocol::USER_AGENT))
                .header(CONTENT_TYPE, protocol::ERROR_CONTENT_TYPE)
                .header(protocol::FUNCTION_ERROR_TYPE, error.header_value().as_ref())
                .send(&body[..])
        });
        deliver(result, || Operation::InitError)
    }

    /// A streamed `POST /invocation/{id}/response` on its own connection (§5).
    pub(crate) fn stream(
        &mut self,
        to: &Addressee<'_>,
        content_type: &str,
        body: StreamBody,
    ) -> Result<(Delivery, Option<Diagnostic>), StreamFailure> {
        let mut path = self.path_prefix.clone();
        protocol::escape_path_segment(to.request_id, &mut path);
        path.push_str("/response");
        let target = Target {
            authority: self.authority.clone(),
            path,
            content_type: content_type.to_owned(),
            invocation_id: to.invocation_id.map(str::to_owned),
        };
        let mut stream = ResponseStream::new(target, body.prelude);
        let outcome =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (body.write)(&mut stream)));
        let error = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(e)) => Some(e),
            Err(payload) => Some(crate::panic::handler_panic(payload.as_ref())),
        };
        let operation = || Operation::Response(to.request_id.to_owned());
        match stream.finish(error) {
            Ok(StreamEnd::FailedBeforeStart(error)) => Err(StreamFailure::BeforeStart(error)),
            Ok(StreamEnd::Sent {
                status,
                body,
                error,
            }) => {
                let body = String::from_utf8_lossy(&body).into_owned();
                classify(status, body, operation)
                    .map(|d| (d, error))
                    .map_err(StreamFailure::Api)
            }
            Err(e) => Err(StreamFailure::Api(ApiError::Transport {
                operation: operation(),
                source: Box::new(e),
            })),
        }
    }

    fn set_invocation_url(&mut self, request_id: &str, endpoint: &str) {
        self.url.clear();
        self.url.push_str(&self.invocation_url);
        protocol::escape_path_segment(request_id, &mut self.url);
        self.url.push_str(endpoint);
    }
}

/// Why a streamed response did not end in a [`Delivery`].
pub(crate) enum StreamFailure {
    /// The handler failed before writing a byte: report it through `/error`.
    BeforeStart(Diagnostic),
    /// The Runtime API failed.
    Api(ApiError),
}

fn deliver(sent: Sent, operation: impl Fn() -> Operation) -> Result<Delivery, ApiError> {
    let mut response = sent
        .result
        .map_err(|e| ApiError::transport(operation(), e))?;
    let status = response.status().as_u16();
    if sent.resent && status == 403 {
        // The one other post for this invocation was ours: it got through (§11 #6).
        log::debug!(
            "{}: the post sent again was refused as already answered: the first was accepted",
            operation()
        );
        let _ = read_body(response.body_mut(), &mut Vec::new());
        return Ok(Delivery::Accepted);
    }
    // Read the (small) answer to the end so the connection goes back to the pool; keep its
    // text only when it explains a refusal.
    let mut body = Vec::new();
    if let Err(e) = read_body(response.body_mut(), &mut body) {
        return Err(ApiError::transport(operation(), ureq::Error::Io(e)));
    }
    let body = if (200..300).contains(&status) {
        String::new()
    } else {
        String::from_utf8_lossy(&body).into_owned()
    };
    classify(status, body, operation)
}

/// The `Content-Type` header value: the common ones without a copy.
fn content_type_value(content_type: &str) -> HeaderValue {
    match content_type {
        "application/json" => HeaderValue::from_static("application/json"),
        "application/octet-stream" => HeaderValue::from_static("application/octet-stream"),
        other => HeaderValue::from_str(other).unwrap_or_else(|_| {
            log::warn!(
                "content type {other:?} cannot be a header value: sent as application/octet-stream"
            );
            HeaderValue::from_static("application/octet-stream")
        }),
    }
}

/// Reads a whole body into `out` (cleared first). With a `Content-Length`, the buffer is sized
/// once and filled with `read_exact`: `read_to_end` would zero 16 KiB of spare capacity per
/// read call for a reader like ureq's, which cannot take uninitialised memory.
fn read_body(body: &mut ureq::Body, out: &mut Vec<u8>) -> std::io::Result<()> {
    out.clear();
    match body.content_length() {
        Some(length) if length <= MAX_EVENT_BYTES => {
            // The length is known and bounded: no limit layer needed around the reader.
            let mut reader = body.as_reader();
            out.resize(length as usize, 0);
            reader.read_exact(out)?;
            // One more read sees the end, which hands the connection back to the pool.
            let mut end = [0u8; 1];
            if reader.read(&mut end)? != 0 {
                return Err(std::io::Error::other("body longer than its Content-Length"));
            }
            Ok(())
        }
        _ => body
            .with_config()
            .limit(MAX_EVENT_BYTES)
            .reader()
            .read_to_end(out)
            .map(|_| ()),
    }
}

fn classify(
    status: u16,
    body: String,
    operation: impl Fn() -> Operation,
) -> Result<Delivery, ApiError> {
    match status {
        200..=299 => Ok(Delivery::Accepted),
        400..=499 => Ok(Delivery::Rejected { status, body }),
        _ => Err(ApiError::Status {
            operation: operation(),
            status,
            body,
        }),
    }
}

/// Sends a request, and once more on a new connection when the kept one turned out to be
/// closed by the server (`docs/runtime-api.md` §9 #3): the request did not get through.
///
/// The first post may have got through all the same (the connection broke while the answer
/// to it was on its way, `docs/runtime-api.md` §11 #6): then the Runtime API refuses the
/// second as already answered (403), and that 403 means the first was accepted.
fn resend_once_if_stale(
    what: &str,
    mut send: impl FnMut() -> Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Sent {
    match send() {
        Err(e) if is_stale_connection(&e) => {
            log::debug!("POST {what}: the kept connection was closed ({e}): sending it again");
            Sent {
                result: send(),
                resent: true,
            }
        }
        result => Sent {
            result,
            resent: false,
        },
    }
}

/// A post's result, and whether it was sent a second time.
struct Sent {
    /// The response, or why there was none.
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    /// Whether the first attempt failed on a closed kept connection and this is the second.
    resent: bool,
}

/// Whether a request failed because its kept-alive connection had been closed by the server:
/// a reset, a broken pipe, or the end of the stream before any answer.
fn is_stale_connection(error: &ureq::Error) -> bool {
    use std::io::ErrorKind;
    match error {
        ureq::Error::Io(e) => matches!(
            e.kind(),
            ErrorKind::ConnectionReset
                | ErrorKind::BrokenPipe
                | ErrorKind::UnexpectedEof
                | ErrorKind::ConnectionAborted
                | ErrorKind::NotConnected
        ),
        _ => false,
    }
}

fn is_refused(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Io(e) => e.kind() == std::io::ErrorKind::ConnectionRefused,
        ureq::Error::ConnectionFailed => true,
        _ => false,
    }
}

/// The Runtime API call an [`ApiError`] happened in.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Operation {
    /// `GET /2018-06-01/runtime/invocation/next`.
    Next,
    /// `POST /2018-06-01/runtime/invocation/{id}/response`.
    Response(String),
    /// `POST /2018-06-01/runtime/invocation/{id}/error`.
    Error(String),
    /// `POST /2018-06-01/runtime/init/error`.
    InitError,
    /// `POST /2020-01-01/extension/register` for the named extension.
    ExtensionRegister(String),
    /// `GET /2020-01-01/extension/event/next` for the named extension.
    ExtensionNext(String),
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Next => write!(f, "GET {}", protocol::NEXT_PATH),
            Operation::Response(id) => {
                write!(f, "POST {}{id}/response", protocol::INVOCATION_PREFIX)
            }
            Operation::Error(id) => write!(f, "POST {}{id}/error", protocol::INVOCATION_PREFIX),
            Operation::InitError => write!(f, "POST {}", protocol::INIT_ERROR_PATH),
            Operation::ExtensionRegister(name) => {
                write!(f, "POST {} ({name})", protocol::EXTENSION_REGISTER_PATH)
            }
            Operation::ExtensionNext(name) => {
                write!(f, "GET {} ({name})", protocol::EXTENSION_NEXT_PATH)
            }
        }
    }
}

/// A Runtime API failure the loop cannot continue after.
#[derive(Debug)]
#[non_exhaustive]
pub enum ApiError {
    /// The request did not complete: connection refused or reset, malformed answer.
    Transport {
        /// The call that failed.
        operation: Operation,
        /// The underlying error (from the HTTP client; not part of Coda's API).
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// An unexpected status: anything but 200 from `/next`, or 5xx from an answer.
    Status {
        /// The call that failed.
        operation: Operation,
        /// The status code.
        status: u16,
        /// The body sent with it.
        body: String,
    },
    /// `/next` answered 200 without a `Lambda-Runtime-Aws-Request-Id`: the event cannot be
    /// answered, and polling again would be served the same event (§9 #5).
    MissingRequestId,
    /// An answer's head (status line and headers) is larger than the client reads: no Lambda
    /// event's headers are (a client context is at most 3,583 bytes).
    HeadTooLarge {
        /// The call that failed.
        operation: Operation,
        /// The limit, in bytes.
        limit: usize,
    },
}

impl ApiError {
    pub(crate) fn transport(operation: Operation, error: ureq::Error) -> ApiError {
        match error {
            ureq::Error::LargeResponseHeader(_, limit) => {
                ApiError::HeadTooLarge { operation, limit }
            }
            error => ApiError::Transport {
                operation,
                source: Box::new(error),
            },
        }
    }

    /// The HTTP status, for [`ApiError::Status`].
    pub fn status(&self) -> Option<u16> {
        match self {
            ApiError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Transport { operation, .. } => write!(f, "{operation} did not complete"),
            ApiError::Status {
                operation,
                status,
                body,
            } => {
                write!(f, "{operation}: status {status}")?;
                let body = body.trim();
                if !body.is_empty() {
                    write!(f, ": {}", body.chars().take(512).collect::<String>())?;
                }
                Ok(())
            }
            ApiError::MissingRequestId => write!(
                f,
                "{}: the event has no Lambda-Runtime-Aws-Request-Id header and cannot be answered",
                Operation::Next
            ),
            ApiError::HeadTooLarge { operation, limit } => write!(
                f,
                "{operation}: the answer's head is over {limit} bytes, larger than any Lambda \
                 event's headers (a client context is at most 3,583 bytes): the Runtime API \
                 sent headers Lambda would not"
            ),
        }
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ApiError::Transport { source, .. } => Some(source.as_ref()),
            _ => None,
        }
    }
}
