//! The invoke front: one port that serves the Lambda Invoke API ([`crate::invoke_api`]) and
//! turns every other request into a Function URL event ([`crate::function_url`]). This module
//! is only that dispatch. The front binds only the address its builder was given (`coda run`
//! uses `127.0.0.1`).

use std::io;
use std::sync::Arc;

use crate::conn::{Conn, Flow};
use crate::state::Shared;
use crate::wire::RequestHead;
use crate::{function_url, invoke_api};

/// Serves one request on the front port.
pub(crate) fn handle(shared: &Arc<Shared>, conn: &mut Conn, head: RequestHead) -> io::Result<Flow> {
    match invoke_api::Route::of(&head.method, head.path()) {
        Some(route) => invoke_api::handle(shared, conn, &head, route),
        None => function_url::handle(shared, conn, &head),
    }
}
