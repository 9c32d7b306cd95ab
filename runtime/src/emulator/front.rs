//! The invoke front: the Lambda Invoke API and a Function URL on one port (filled in by the
//! front's own change; until then every request gets 501).

use std::io;
use std::sync::Arc;

use super::runtime_api::fail_read;
use super::server::{Conn, Flow};
use super::state::Shared;
use super::wire::RequestHead;

/// Serves one request on the front port.
pub(crate) fn handle(
    _shared: &Arc<Shared>,
    conn: &mut Conn,
    head: RequestHead,
) -> io::Result<Flow> {
    if let Err(e) = conn.skip_body(&head) {
        return fail_read(conn, e);
    }
    conn.respond_error(
        501,
        "NotImplemented",
        "the invoke front is not implemented yet",
        Flow::KeepAlive,
    )
}
