//! The Extensions API, enough for in-process (internal) extensions (`docs/runtime-api.md` §7.5):
//! `register`, `event/next` with INVOKE and SHUTDOWN events, and the init/exit error posts.
//! An extension subscribed to INVOKE holds each invocation open until it asks for its next
//! event (the end barrier lives in [`crate::lifecycle`]).

use std::collections::VecDeque;
use std::io;
use std::sync::Arc;

use crate::conn::{Conn, Flow};
use crate::extension::{Extension, shutdown_event};
use crate::lifecycle;
use crate::state::Shared;
use crate::wire::RequestHead;

/// Header naming the extension on `register`.
const NAME: &str = "lambda-extension-name";
/// Header carrying the identifier the emulator assigned.
const IDENTIFIER: &str = "lambda-extension-identifier";
/// Header carrying the error type on init/exit errors.
const ERROR_TYPE: &str = "lambda-extension-function-error-type";
/// Most extensions Lambda allows (§7.4).
const MAX_EXTENSIONS: usize = 10;

/// `POST /2020-01-01/extension/register`.
pub(crate) fn register(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
) -> io::Result<Flow> {
    let mut body = Vec::new();
    if let Err(e) = conn.read_body(head, 64 * 1024, &mut |p| body.extend_from_slice(p)) {
        return conn.fail_read(e);
    }
    let Some(name) = head
        .header(NAME)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
    else {
        return conn.respond_error(
            400,
            "InvalidRequest",
            "missing Lambda-Extension-Name header",
            Flow::KeepAlive,
        );
    };
    let events: Vec<String> = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(v) => match v.get("events").and_then(|e| e.as_array()) {
            Some(list) => list
                .iter()
                .filter_map(|e| e.as_str())
                .map(str::to_ascii_uppercase)
                .collect(),
            None => Vec::new(),
        },
        Err(_) if body.is_empty() => Vec::new(),
        Err(e) => {
            return conn.respond_error(
                400,
                "InvalidRequest",
                &format!("body is not JSON: {e}"),
                Flow::KeepAlive,
            );
        }
    };
    if let Some(bad) = events.iter().find(|e| *e != "INVOKE" && *e != "SHUTDOWN") {
        return conn.respond_error(
            400,
            "InvalidRequest",
            &format!("unknown event type {bad:?}"),
            Flow::KeepAlive,
        );
    }
    enum Outcome {
        Registered(String),
        Closed,
        Full,
    }
    let outcome = shared.update(|state| {
        // The init phase of the current process: before its runtime's first `/next`.
        if state.process.initialized_at.is_some() {
            return Outcome::Closed;
        }
        if state.extensions.len() >= MAX_EXTENSIONS {
            return Outcome::Full;
        }
        state.next_extension_id += 1;
        let id = state.next_extension_id;
        log::debug!("emulator: extension {name:?} registered for {events:?}");
        let identifier = crate::ids::request_id();
        state.extensions.push(Extension {
            id,
            identifier: identifier.clone(),
            invoke: events.iter().any(|e| e == "INVOKE"),
            shutdown: events.iter().any(|e| e == "SHUTDOWN"),
            ready: false,
            events: VecDeque::new(),
            errors: Vec::new(),
        });
        Outcome::Registered(identifier)
    });
    match outcome {
        Outcome::Registered(identifier) => {
            let c = &shared.settings;
            let body = serde_json::json!({
                "functionName": c.function_name,
                "functionVersion": c.version,
                "handler": c.function_name,
            });
            let body = serde_json::to_vec(&body).unwrap_or_default();
            conn.respond(
                200,
                &[
                    ("Content-Type", "application/json"),
                    ("Lambda-Extension-Identifier", &identifier),
                ],
                &body,
                Flow::KeepAlive,
            )
        }
        Outcome::Closed => conn.respond_error(
            403,
            "InvalidStateTransition",
            "extensions must register before the runtime's first /next",
            Flow::KeepAlive,
        ),
        Outcome::Full => conn.respond_error(
            400,
            "TooManyExtensions",
            "at most 10 extensions",
            Flow::KeepAlive,
        ),
    }
}

/// `GET /2020-01-01/extension/event/next`: blocks until an event for this extension.
pub(crate) fn next(shared: &Arc<Shared>, conn: &mut Conn, head: &RequestHead) -> io::Result<Flow> {
    if let Err(e) = conn.skip_body(head) {
        return conn.fail_read(e);
    }
    let identifier = head.header(IDENTIFIER).unwrap_or_default().to_owned();
    let mut state = shared.lock();
    let Some(id) = state
        .extensions
        .iter()
        .find(|e| e.identifier == identifier)
        .map(|e| e.id)
    else {
        drop(state);
        return conn.respond_error(
            403,
            "Extension.UnknownExtensionIdentifier",
            "missing or unknown Lambda-Extension-Identifier",
            Flow::KeepAlive,
        );
    };
    if let Some(extension) = state.extensions.iter_mut().find(|e| e.id == id) {
        extension.ready = true;
    }
    lifecycle::extension_done(shared, &mut state, id);
    shared.notify();
    let event = loop {
        let Some(extension) = state.extensions.iter_mut().find(|e| e.id == id) else {
            // Its process is gone (the registry is the current process's): nothing will come.
            break None;
        };
        if let Some(event) = extension.events.pop_front() {
            break Some(event);
        }
        if state.shutdown {
            break None;
        }
        state = shared.wait_guard(state);
    };
    drop(state);
    let event = event.unwrap_or_else(|| shutdown_event("spindown"));
    let event_id = crate::ids::request_id();
    conn.respond(
        200,
        &[
            ("Content-Type", "application/json"),
            ("Lambda-Extension-Event-Identifier", &event_id),
        ],
        &event,
        Flow::KeepAlive,
    )
}

/// `POST /2020-01-01/extension/init/error` and `/exit/error`: recorded, 202.
pub(crate) fn error(
    shared: &Arc<Shared>,
    conn: &mut Conn,
    head: &RequestHead,
    kind: &str,
) -> io::Result<Flow> {
    let mut body = Vec::new();
    if let Err(e) = conn.read_body(head, 1024 * 1024, &mut |p| body.extend_from_slice(p)) {
        return conn.fail_read(e);
    }
    let identifier = head.header(IDENTIFIER).unwrap_or_default().to_owned();
    let error_type = head.header(ERROR_TYPE).unwrap_or_default().to_owned();
    let known = shared.update(|state| {
        let extension = state
            .extensions
            .iter_mut()
            .find(|e| e.identifier == identifier);
        if let Some(extension) = extension {
            extension.errors.push((kind.to_owned(), error_type));
            true
        } else {
            false
        }
    });
    if !known {
        return conn.respond_error(
            403,
            "Extension.UnknownExtensionIdentifier",
            "missing or unknown Lambda-Extension-Identifier",
            Flow::KeepAlive,
        );
    }
    conn.respond(
        202,
        &[("Content-Type", "application/json")],
        br#"{"status":"OK"}"#,
        Flow::KeepAlive,
    )
}
