//! [`Adapter`]: an [`HttpHandler`] as a Coda [`Handler`] — event in, request to the handler,
//! its response out in the shape the event's source expects. The only module that sequences
//! an HTTP invocation.

use std::sync::Arc;

use coda_lambda::{Bytes, Context, Diagnostic, Handler, Reply};
use http::StatusCode;

use super::error::AdapterError;
use super::handler::HttpHandler;
use super::request::Request;
use super::response::{IntoResponse, message};
use super::{event, source, stage, stream};

/// Serves an [`HttpHandler`] as a Lambda function: decodes the event of whichever HTTP source
/// sent it, calls the handler with an `http::Request`, and answers in that source's response
/// shape (or as a stream, see [`Adapter::response_stream`]).
///
/// An event that is no HTTP event fails the invocation with `Runtime.UnmarshalError` and one
/// message naming the sources expected and the keys the event lacks. A request whose base64
/// body does not decode is answered `400 Bad Request` (and logged) without calling the
/// handler. A handler error fails the invocation, as for any Coda handler.
///
/// ```
/// # #[cfg(any(feature = "apigw_v2", feature = "function_url"))] {
/// use coda_handlers::http::{Adapter, Request, RequestExt};
/// use coda_lambda::{Context, Diagnostic};
///
/// let adapter = Adapter::new(|req: Request, ctx: &mut Context| {
///     ctx.after(|d| log::info!("logged after the answer: {}", d.request_id()));
///     Ok::<_, Diagnostic>(format!("hello from {}", req.uri().path()))
/// });
/// let event = serde_json::json!({
///     "version": "2.0",
///     "rawPath": "/hi",
///     "rawQueryString": "",
///     "requestContext": {"http": {"method": "GET"}, "domainName": "example.com"},
/// });
/// let out = coda_emulator::testing::invoke(adapter, event);
/// assert_eq!(out.json()["statusCode"], 200);
/// assert_eq!(out.json()["body"], "hello from /hi");
/// # }
/// ```
pub struct Adapter<H> {
    handler: H,
    stage_in_path: bool,
    response_stream: bool,
}

impl<H: HttpHandler> Adapter<H> {
    /// The adapter for `handler`: buffered answers, the stage rule as
    /// `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` says (read now).
    pub fn new(handler: H) -> Adapter<H> {
        Adapter {
            handler,
            stage_in_path: stage::stage_in_path_from_env(),
            response_stream: false,
        }
    }

    /// Whether an API Gateway stage is part of the request path (see the stage rule in the
    /// module doc); overrides `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH`.
    pub fn stage_in_path(mut self, keep: bool) -> Adapter<H> {
        self.stage_in_path = keep;
        self
    }

    /// Answers as an HTTP-integration stream, as a Function URL in `RESPONSE_STREAM` invoke
    /// mode (or API Gateway response streaming) requires: the status and headers first
    /// (`Set-Cookie` as cookies), then the body, written as it is produced when it is a
    /// [`super::Body::stream`]. Use it exactly when the function's URL is in that mode.
    pub fn response_stream(mut self, stream: bool) -> Adapter<H> {
        self.response_stream = stream;
        self
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.handler
    }
}

impl<H: HttpHandler> Handler for Adapter<H> {
    type Event = Bytes;
    type Output = Reply;
    type Error = Diagnostic;

    fn call(&mut self, event: Bytes, ctx: &mut Context) -> Result<Reply, Diagnostic> {
        let payload = Arc::new(event.into_vec());
        let decoded = event::decode(&payload).map_err(|e| e.to_diagnostic())?;
        let (format, request) = source::request(decoded, &payload, self.stage_in_path);
        let response = match request {
            Ok(request) => self
                .handler
                .call(request, ctx)
                .map_err(Into::into)?
                .into_response(),
            Err(error @ AdapterError::InvalidBase64 { .. }) => {
                log_bad_request(&error);
                message(
                    StatusCode::BAD_REQUEST,
                    "the request body is not valid base64",
                )
            }
            Err(error) => return Err(error.to_diagnostic()),
        };
        let (head, body) = response.into_parts();
        if self.response_stream {
            return Ok(stream::reply(head, body));
        }
        let bytes = match body.into_parts() {
            Ok(bytes) => bytes,
            Err(write) => stream::collect(write)?,
        };
        Ok(Reply::bytes(source::response(format, &head, &bytes)).content_type("application/json"))
    }
}

/// One warning line for a request answered 400: the error and its causes.
fn log_bad_request(error: &AdapterError) {
    let mut line = format!("answered 400 Bad Request: {error}");
    let mut cause = std::error::Error::source(error);
    while let Some(e) = cause {
        line.push_str(": ");
        line.push_str(&e.to_string());
        cause = e.source();
    }
    log::warn!("{line}");
}

impl<H> std::fmt::Debug for Adapter<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Adapter")
            .field("stage_in_path", &self.stage_in_path)
            .field("response_stream", &self.response_stream)
            .finish_non_exhaustive()
    }
}

/// The request the adapter would hand its handler for the event `payload` (with the stage
/// rule as `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` says): for unit tests of handlers on real
/// events, without a runtime.
///
/// ```
/// # #[cfg(feature = "alb")] {
/// use coda_handlers::http::{Origin, RequestExt, request_from_event};
///
/// let event = br#"{"httpMethod": "GET", "path": "/", "requestContext": {"elb": {}},
///                  "headers": {"host": "lb.example.com"}, "queryStringParameters": {"q": "a%20b"}}"#;
/// let request = request_from_event(event).unwrap();
/// assert_eq!(request.origin(), Some(Origin::Alb));
/// assert_eq!(request.uri(), "https://lb.example.com/?q=a%20b");
/// assert_eq!(request.query_param("q").as_deref(), Some("a b"));
/// # }
/// ```
pub fn request_from_event(payload: &[u8]) -> Result<Request, AdapterError> {
    let payload = Arc::new(payload.to_vec());
    let decoded = event::decode(&payload)?;
    source::request(decoded, &payload, stage::stage_in_path_from_env()).1
}

/// Runs an HTTP function: `coda_lambda::start` with the handler `init` builds, wrapped in an
/// [`Adapter`] (buffered answers; build the `Adapter` yourself for streaming or the stage
/// setting). Never returns.
///
/// ```no_run
/// use coda_handlers::http::{Request, RequestExt};
/// use coda_lambda::{Context, Diagnostic};
///
/// fn main() {
///     coda_handlers::http::start(|| {
///         Ok(|req: Request, _ctx: &mut Context| {
///             let name = req.query_param("name").unwrap_or("world".into()).into_owned();
///             Ok::<_, Diagnostic>(format!("Hello, {name}!"))
///         })
///     })
/// }
/// ```
pub fn start<I, H>(init: I) -> !
where
    I: FnOnce() -> Result<H, Diagnostic>,
    H: HttpHandler,
{
    coda_lambda::start(|| init().map(Adapter::new))
}
