//! The Runtime API client: one ureq agent, one keep-alive connection, one method per endpoint
//! (`runtime-api.md` §2–§4).
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
use crate::config::Endpoint;
use crate::headers;
use crate::invocation::Invocation;
use crate::streaming::{ResponseStream, StreamBody, StreamEnd, Target};

/// Largest event read from `/next`: Lambda's own limit is 6 MiB + 100 bytes (§2.2); this
/// leaves room for emulators that are less strict without letting a broken one exhaust memory.
const MAX_EVENT_BYTES: u64 = 16 * 1024 * 1024;
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
    next_url: String,
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
            .http_status_as_error(false)
            // The Runtime API is on loopback: never through a proxy from the environment.
            .proxy(None)
            .user_agent(crate::USER_AGENT)
            .max_idle_connections(1)
            .max_idle_connections_per_host(1)
            // The environment can stay frozen for hours between invocations; keep the one
            // connection rather than reconnecting after 15 s idle (ureq's default).
            .max_idle_age(Duration::from_secs(24 * 3600))
            .no_delay(true)
            .timeout_global(None)
            .build();
        let base = endpoint.base_url();
        Client {
            agent: config.new_agent(),
            authority: endpoint.authority.clone(),
            next_url: format!("{base}{}", headers::NEXT_PATH),
            invocation_url: format!("{base}{}", headers::INVOCATION_PREFIX),
            path_prefix: format!("{}{}", endpoint.prefix, headers::INVOCATION_PREFIX),
            init_error_url: format!("{base}{}", headers::INIT_ERROR_PATH),
            connected: false,
            url: String::with_capacity(base.len() + 96),
        }
    }

    /// `GET /next`: the next event and its payload (§2).
    pub(crate) fn next(&mut self, payload: &mut Vec<u8>) -> Result<Invocation, ApiError> {
        let mut attempt = 0;
        let mut response = loop {
            match self.agent.get(&self.next_url).call() {
                Ok(response) => break response,
                Err(e)
                    if !self.connected
                        && is_refused(&e)
                        && attempt < FIRST_CONNECT_BACKOFF.len() =>
                {
                    std::thread::sleep(FIRST_CONNECT_BACKOFF[attempt]);
                    attempt += 1;
                }
                Err(e) => return Err(ApiError::transport(Operation::Next, e)),
            }
        };
        self.connected = true;
        let status = response.status().as_u16();
        payload.clear();
        let read = response
            .body_mut()
            .with_config()
            .limit(MAX_EVENT_BYTES)
            .reader()
            .read_to_end(payload);
        if let Err(e) = read {
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
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", content_type);
        if let Some(id) = to.invocation_id {
            request = request.header(headers::INVOCATION_ID, id);
        }
        let result = request.send(body);
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
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", headers::ERROR_CONTENT_TYPE)
            .header(headers::FUNCTION_ERROR_TYPE, error.header_value().as_ref());
        if let Some(id) = to.invocation_id {
            request = request.header(headers::INVOCATION_ID, id);
        }
        let result = request.send(&error.to_json()[..]);
        deliver(result, || Operation::Error(to.request_id.to_owned()))
    }

    /// `POST /init/error` (§4.2).
    pub(crate) fn init_error(&mut self, error: &Diagnostic) -> Result<Delivery, ApiError> {
        let result = self
            .agent
            .post(&self.init_error_url)
            .header("content-type", headers::ERROR_CONTENT_TYPE)
            .header(headers::FUNCTION_ERROR_TYPE, error.header_value().as_ref())
            .send(&error.to_json()[..]);
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
        headers::escape_path_segment(to.request_id, &mut path);
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
            Err(payload) => Some(crate::run::panic_diagnostic(payload.as_ref())),
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
        headers::escape_path_segment(request_id, &mut self.url);
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

fn deliver(
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    operation: impl Fn() -> Operation,
) -> Result<Delivery, ApiError> {
    let mut response = result.map_err(|e| ApiError::transport(operation(), e))?;
    let status = response.status().as_u16();
    // Read the (small) answer to the end so the connection goes back to the pool.
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    classify(status, body, operation)
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
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operation::Next => write!(f, "GET {}", headers::NEXT_PATH),
            Operation::Response(id) => {
                write!(f, "POST {}{id}/response", headers::INVOCATION_PREFIX)
            }
            Operation::Error(id) => write!(f, "POST {}{id}/error", headers::INVOCATION_PREFIX),
            Operation::InitError => write!(f, "POST {}", headers::INIT_ERROR_PATH),
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
}

impl ApiError {
    fn transport(operation: Operation, error: ureq::Error) -> ApiError {
        ApiError::Transport {
            operation,
            source: Box::new(error),
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
            ApiError::Transport { operation, source } => write!(f, "{operation}: {source}"),
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
