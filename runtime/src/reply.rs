//! [`Reply`]: what a handler answers — the response body plus work to run after it.

use std::borrow::Cow;

use serde::Serialize;

use crate::deferred::{Task, TaskResult, When};
use crate::diagnostic::readable_type_name;
use crate::{Diagnostic, Job};

/// A response with its content type and the work to run once it is delivered.
///
/// Handlers may return any `Serialize` value; a `Reply` is needed only to attach deferred
/// work, answer raw bytes or text, or set the content type.
///
/// ```
/// use coda_lambda::Reply;
///
/// let reply = Reply::new(serde_json::json!({"ok": true}))
///     .after(|job| log::info!("answered {} {:?} ago", job.request_id(), job.elapsed()));
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
    Stream(crate::streaming::StreamBody),
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

    /// Registers `f` to run after this response was delivered (success only). Runs after
    /// work registered on the [`crate::Context`] during the call, in registration order.
    pub fn after<F, R>(mut self, f: F) -> Reply
    where
        F: FnOnce(&Job) -> R + Send + 'static,
        R: TaskResult,
    {
        self.tasks.push(Task::new(When::Success, f));
        self
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
/// Implemented for every `Serialize` type (a JSON response) and for `Reply` itself.
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
