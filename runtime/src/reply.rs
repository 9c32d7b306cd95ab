//! [`Reply`]: what a handler answers — the response body plus work to run after it.

use std::borrow::Cow;

use serde::Serialize;

use crate::deferred::{Deferred, DeferredResult};
use crate::diagnostic::readable_type_name;
use crate::streaming::{ResponseStream, StreamBody, http_prelude};
use crate::task::{Task, When};
use crate::{Bytes, Diagnostic, protocol};

/// A response with its content type and the work to run once it is delivered.
///
/// Handlers may return any `Serialize` value; a `Reply` is needed only to attach deferred
/// work, answer raw bytes or text, or set the content type.
///
/// ```
/// use coda_lambda::Reply;
///
/// let reply = Reply::new(serde_json::json!({"ok": true}))
///     .after(|d| log::info!("answered {} {:?} ago", d.request_id(), d.elapsed()))
///     .after_success(|_| Ok::<_, std::io::Error>(()));
/// let raw = Reply::bytes(vec![0x89, b'P', b'N', b'G']).content_type("image/png");
/// # let _ = (reply, raw);
/// ```
pub struct Reply {
    pub(crate) body: Body,
    pub(crate) content_type: Option<Cow<'static, str>>,
    pub(crate) tasks: Vec<Task>,
}

pub(crate) enum Body {
    /// Serialized JSON, or why the value could not be serialized.
    Json(Result<Vec<u8>, Diagnostic>),
    /// Raw bytes.
    Raw(Vec<u8>),
    /// A streamed body.
    Stream(StreamBody),
}

impl Reply {
    /// A JSON response of `value`. A value that cannot be serialized (a map with non-string
    /// keys, a failing `Serialize`) makes the invocation fail with `Runtime.MarshalError`.
    pub fn new<T: Serialize>(value: T) -> Reply {
        Reply::json(&value)
    }

    /// A JSON response of `*value`.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Reply {
        let mut out = Vec::with_capacity(128);
        let body = match serde_json::to_writer(&mut out, value) {
            Ok(()) => Ok(out),
            Err(_) => Err(marshal_error(value)),
        };
        Reply::with_body(Body::Json(body))
    }

    /// A raw response (`application/octet-stream` unless [`Reply::content_type`] says otherwise).
    pub fn bytes(body: impl Into<Vec<u8>>) -> Reply {
        Reply::with_body(Body::Raw(body.into())).content_type("application/octet-stream")
    }

    /// A text response (`text/plain; charset=utf-8` unless set otherwise).
    pub fn text(body: impl Into<String>) -> Reply {
        Reply::with_body(Body::Raw(body.into().into_bytes()))
            .content_type("text/plain; charset=utf-8")
    }

    pub(crate) fn with_body(body: Body) -> Reply {
        Reply {
            body,
            content_type: None,
            tasks: Vec::new(),
        }
    }

    /// Sets the `Content-Type` sent with the response.
    pub fn content_type(mut self, content_type: impl Into<Cow<'static, str>>) -> Reply {
        self.content_type = Some(content_type.into());
        self
    }

    /// Registers `f` to run after the answer, whether it succeeded or failed (the same as
    /// [`crate::Context::after`]). Runs after work registered on the `Context` during the
    /// call, in registration order.
    pub fn after<F, R>(self, f: F) -> Reply
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.register(When::Always, f)
    }

    /// Registers `f` to run only after this response was accepted by the Runtime API (the
    /// same as [`crate::Context::after_success`]).
    pub fn after_success<F, R>(self, f: F) -> Reply
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.register(When::Success, f)
    }

    /// Registers `f` to run only if this response could not be delivered as a success: it
    /// could not be encoded, its stream failed, or the Runtime API refused it (the same as
    /// [`crate::Context::after_error`]).
    pub fn after_error<F, R>(self, f: F) -> Reply
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.register(When::Error, f)
    }

    fn register<F, R>(mut self, when: When, f: F) -> Reply
    where
        F: FnOnce(&Deferred) -> R + Send + 'static,
        R: DeferredResult,
    {
        self.tasks.push(Task::once(when, f));
        self
    }

    /// A streamed response: `f` writes the body through a [`ResponseStream`], and each write
    /// reaches the caller as it happens (`application/octet-stream` unless set otherwise).
    ///
    /// An `Err` before the first byte is reported like any handler error; after it, the
    /// stream ends with Lambda's error trailers and the caller sees the error
    /// (`docs/runtime-api.md` §5.2).
    ///
    /// ```
    /// use std::io::Write;
    /// let reply = coda_lambda::Reply::stream(|out| -> std::io::Result<()> {
    ///     for i in 0..3 {
    ///         writeln!(out, "line {i}")?;
    ///     }
    ///     Ok(())
    /// });
    /// # let _ = reply;
    /// ```
    pub fn stream<F, E>(f: F) -> Reply
    where
        F: FnOnce(&mut ResponseStream) -> Result<(), E> + 'static,
        E: Into<Diagnostic>,
    {
        Reply::with_body(Body::Stream(StreamBody::new(None, f)))
            .content_type("application/octet-stream")
    }

    /// A streamed HTTP response for Function URLs and API Gateway in streaming mode
    /// (`docs/runtime-api.md` §5.3): `head` gives the status and headers (`Set-Cookie`
    /// headers travel as `cookies`), then `f` writes the body.
    ///
    /// ```
    /// use std::io::Write;
    /// let head = http::Response::builder()
    ///     .status(200)
    ///     .header("content-type", "text/html")
    ///     .body(())
    ///     .unwrap();
    /// let reply = coda_lambda::Reply::stream_http(head, |out| out.write_all(b"<h1>hi</h1>"));
    /// # let _ = reply;
    /// ```
    pub fn stream_http<F, E>(head: http::Response<()>, f: F) -> Reply
    where
        F: FnOnce(&mut ResponseStream) -> Result<(), E> + 'static,
        E: Into<Diagnostic>,
    {
        Reply::with_body(Body::Stream(StreamBody::new(Some(http_prelude(&head)), f)))
            .content_type(protocol::HTTP_INTEGRATION_CONTENT_TYPE)
    }
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let body = match &self.body {
            Body::Json(Ok(b)) | Body::Raw(b) => format!("{} bytes", b.len()),
            Body::Json(Err(d)) => format!("unserializable: {d}"),
            Body::Stream(_) => "stream".to_owned(),
        };
        f.debug_struct("Reply")
            .field("body", &body)
            .field("content_type", &self.content_type)
            .field("deferred", &self.tasks.len())
            .finish()
    }
}

fn marshal_error<T: Serialize + ?Sized>(value: &T) -> Diagnostic {
    let type_name = readable_type_name(std::any::type_name::<T>());
    let mut sink = serde_json::Serializer::new(std::io::sink());
    let message = match serde_path_to_error::serialize(value, &mut sink) {
        Err(e) if e.path().to_string() != "." => {
            format!(
                "could not encode the response {type_name} as JSON: at `{}`: {}",
                e.path(),
                e.inner()
            )
        }
        Err(e) => format!(
            "could not encode the response {type_name} as JSON: {}",
            e.inner()
        ),
        Ok(()) => format!("could not encode the response {type_name} as JSON"),
    };
    Diagnostic::new("Runtime.MarshalError", message)
}

/// What a handler's successful result turns into: a [`Reply`].
///
/// Implemented for every `Serialize` type (a JSON response), for [`Bytes`] (the bytes as
/// they are, `application/octet-stream`) and for `Reply` itself.
pub trait IntoReply {
    /// The reply to send.
    fn into_reply(self) -> Reply;
}

impl<T: Serialize> IntoReply for T {
    fn into_reply(self) -> Reply {
        Reply::json(&self)
    }
}

impl IntoReply for Reply {
    fn into_reply(self) -> Reply {
        self
    }
}

impl IntoReply for Bytes {
    fn into_reply(self) -> Reply {
        Reply::bytes(self.into_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// Unserializable output is a `Runtime.MarshalError` naming where it failed.
    #[test]
    fn marshal_errors_name_the_path() {
        let mut bad = HashMap::new();
        bad.insert((1, 2), "tuple keys are not JSON");
        let reply = Reply::new(serde_json::json!({"ok": 1}));
        assert!(matches!(reply.body, Body::Json(Ok(_))));
        #[derive(Serialize)]
        struct Out {
            inner: HashMap<(i32, i32), &'static str>,
        }
        let reply = Out { inner: bad }.into_reply();
        match reply.body {
            Body::Json(Err(d)) => {
                assert_eq!(d.error_type(), "Runtime.MarshalError");
                assert!(d.message().contains("inner"), "{}", d.message());
            }
            _ => panic!("expected a marshal error"),
        }
    }
}
