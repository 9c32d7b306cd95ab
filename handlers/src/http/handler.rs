//! [`HttpHandler`]: a function from an `http::Request` and its invocation's `Context` to a
//! response.

use coda_lambda::{Context, Diagnostic};

use super::request::Request;
use super::response::IntoResponse;

/// An HTTP function: called once per request with the request and the invocation's
/// [`Context`] (for its ids, deadline, and deferred work with `ctx.after`).
///
/// Closures and functions `FnMut(Request, &mut Context) -> Result<R, E>` with
/// `R: IntoResponse` and `E: Into<Diagnostic>` are handlers already; so is a
/// [`super::Router`]. An `Err` fails the invocation as any Coda handler error does (API
/// Gateway and Function URLs answer 502 for it); to answer an error status, return it as a
/// response.
///
/// ```
/// use coda_handlers::http::{HttpHandler, Request, Response, Body};
/// use coda_lambda::{Context, Diagnostic};
///
/// struct Hits(u64);
///
/// impl HttpHandler for Hits {
///     type Output = Response<Body>;
///     type Error = Diagnostic;
///
///     fn call(&mut self, _req: Request, _ctx: &mut Context) -> Result<Response<Body>, Diagnostic> {
///         self.0 += 1;
///         Ok(Response::new(Body::from(format!("hit {}", self.0))))
///     }
/// }
/// ```
pub trait HttpHandler {
    /// What a successful call returns.
    type Output: IntoResponse;
    /// The error type: anything that converts into a [`Diagnostic`].
    type Error: Into<Diagnostic>;

    /// Handles one request.
    fn call(&mut self, request: Request, ctx: &mut Context) -> Result<Self::Output, Self::Error>;
}

impl<F, R, E> HttpHandler for F
where
    F: FnMut(Request, &mut Context) -> Result<R, E>,
    R: IntoResponse,
    E: Into<Diagnostic>,
{
    type Output = R;
    type Error = E;

    fn call(&mut self, request: Request, ctx: &mut Context) -> Result<R, E> {
        self(request, ctx)
    }
}
