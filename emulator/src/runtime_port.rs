//! The Runtime API port's dispatch: each request, routed by [`Route`], goes to a Runtime API
//! endpoint ([`crate::runtime_api`]) or an Extensions API endpoint ([`crate::extensions_api`]);
//! a known path with the wrong method gets a 405, anything else a 404.

use std::io;
use std::sync::Arc;

use crate::conn::{Conn, Flow};
use crate::route::Route;
use crate::state::Shared;
use crate::wire::{self, RequestHead};
use crate::{extensions_api, runtime_api};

/// Serves one request on the Runtime API port.
pub(crate) fn handle(shared: &Arc<Shared>, conn: &mut Conn, head: RequestHead) -> io::Result<Flow> {
    match Route::of(&head.method, head.path(), &shared.settings.path_prefix) {
        Route::Next => runtime_api::next(shared, conn, &head),
        Route::Response(id) => runtime_api::response(shared, conn, &head, &id),
        Route::Error(id) => runtime_api::error(shared, conn, &head, &id),
        Route::InitError => runtime_api::init_error(shared, conn, &head),
        Route::ExtensionRegister => extensions_api::register(shared, conn, &head),
        Route::ExtensionNext => extensions_api::next(shared, conn, &head),
        Route::ExtensionInitError => extensions_api::error(shared, conn, &head, "init"),
        Route::ExtensionExitError => extensions_api::error(shared, conn, &head, "exit"),
        Route::WrongMethod(allowed) => {
            if let Err(e) = conn.skip_body(&head) {
                return conn.fail_read(e);
            }
            let body = wire::error_body("MethodNotAllowed", &format!("use {allowed}"));
            conn.respond(
                405,
                &[("Allow", allowed), ("Content-Type", "application/json")],
                &body,
                Flow::KeepAlive,
            )
        }
        Route::Unknown => {
            if let Err(e) = conn.skip_body(&head) {
                return conn.fail_read(e);
            }
            let message = format!("no Runtime API endpoint {} {}", head.method, head.path());
            conn.respond_error(404, "NotFound", &message, Flow::KeepAlive)
        }
    }
}
