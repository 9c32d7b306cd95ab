//! [`IntoResponse`]: what an HTTP handler may return, and [`Json`] for JSON answers.

use http::StatusCode;
use http::header::{CONTENT_TYPE, HeaderValue};
use serde::Serialize;

use super::body::Body;

/// The response type handlers return (the `http` crate's, re-exported).
pub use http::Response;

/// What an HTTP handler may return: anything that becomes a `Response<Body>`.
///
/// Implemented for `Response<B>` with any `B: Into<Body>` (`Body`, `String`, `&str`,
/// `Vec<u8>`, `()`), for bodies alone (`String`, `&'static str`, `Vec<u8>`, `Body`: status
/// 200, no headers), for [`Json`], for a [`StatusCode`] alone (an empty body), and for
/// `(StatusCode, T)` with any `T: IntoResponse` (the status replaces `T`'s).
///
/// ```
/// use coda_handlers::http::{IntoResponse, Json, StatusCode};
///
/// let created = (StatusCode::CREATED, Json(serde_json::json!({"id": 7}))).into_response();
/// assert_eq!(created.status(), 201);
/// assert_eq!(created.headers()["content-type"], "application/json");
/// assert_eq!(created.body().as_str(), Some(r#"{"id":7}"#));
/// ```
pub trait IntoResponse {
    /// The response.
    fn into_response(self) -> Response<Body>;
}

impl<B: Into<Body>> IntoResponse for Response<B> {
    fn into_response(self) -> Response<Body> {
        self.map(Into::into)
    }
}

impl IntoResponse for Body {
    fn into_response(self) -> Response<Body> {
        Response::new(self)
    }
}

impl IntoResponse for String {
    fn into_response(self) -> Response<Body> {
        Response::new(Body::from(self))
    }
}

impl IntoResponse for &'static str {
    fn into_response(self) -> Response<Body> {
        Response::new(Body::from(self))
    }
}

impl IntoResponse for Vec<u8> {
    fn into_response(self) -> Response<Body> {
        Response::new(Body::from(self))
    }
}

impl IntoResponse for StatusCode {
    fn into_response(self) -> Response<Body> {
        let mut response = Response::new(Body::empty());
        *response.status_mut() = self;
        response
    }
}

impl<T: IntoResponse> IntoResponse for (StatusCode, T) {
    fn into_response(self) -> Response<Body> {
        let mut response = self.1.into_response();
        *response.status_mut() = self.0;
        response
    }
}

/// A JSON response: the value serialized, `content-type: application/json`, status 200.
/// A value that cannot be serialized (a map with non-string keys) answers 500 and logs why.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Json<T>(pub T);

impl<T: Serialize> IntoResponse for Json<T> {
    fn into_response(self) -> Response<Body> {
        match serde_json::to_vec(&self.0) {
            Ok(bytes) => {
                let mut response = Response::new(Body::from(bytes));
                response
                    .headers_mut()
                    .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                response
            }
            Err(e) => {
                log::error!("could not serialize the JSON response: {e}");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}

impl IntoResponse for serde_json::Value {
    fn into_response(self) -> Response<Body> {
        Json(self).into_response()
    }
}

/// A `{"message": …}` JSON answer with `status`, the shape API Gateway's own errors have.
pub(crate) fn message(status: StatusCode, message: &str) -> Response<Body> {
    #[derive(Serialize)]
    struct Message<'a> {
        message: &'a str,
    }
    (status, Json(Message { message })).into_response()
}
