//! Streamed HTTP answers (Function URLs in `RESPONSE_STREAM` mode, API Gateway response
//! streaming): the response's head goes out as the HTTP-integration prelude that
//! `coda_lambda::Reply::stream_http` writes, then the body as the handler writes it; and
//! the buffered fallback that collects a streamed body when streaming is off.

use std::io::Write;

use coda_lambda::{Diagnostic, Reply};
use http::response::Parts;

use super::body::{Body, WriteFn};

/// A streamed reply for a response: a buffered body is written in one piece, a
/// [`Body::stream`] as its writer produces it.
pub(crate) fn reply(head: Parts, body: Body) -> Reply {
    let head = http::Response::from_parts(head, ());
    match body.into_parts() {
        Ok(bytes) => Reply::stream_http(head, move |out| out.write_all(&bytes)),
        Err(write) => Reply::stream_http(head, move |out| write(out)),
    }
}

/// The bytes a streamed body's writer produces, for a buffered answer.
pub(crate) fn collect(write: WriteFn) -> Result<Vec<u8>, Diagnostic> {
    let mut bytes = Vec::new();
    write(&mut bytes)?;
    Ok(bytes)
}
