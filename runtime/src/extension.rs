//! Internal extensions (`docs/runtime-api.md` §7.4–§7.5): registered on the Extensions API
//! before the runtime's first `/next`, each with its event loop on a thread of its own.
//!
//! An extension subscribed to INVOKE gets each invocation's event when the runtime does; its
//! callback runs once the runtime has answered that invocation (so a callback that flushes
//! what the handler queued finds it queued), and the invocation does not end until the
//! callback returns and the thread asks for its next event — Lambda's end-of-invocation
//! barrier. SHUTDOWN cannot be subscribed to by internal extensions; with the `shutdown`
//! feature the runtime delivers it from SIGTERM instead.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::client::{ApiError, Operation};
use crate::config::Endpoint;
use crate::protocol;
use crate::sandbox::Sandbox;

/// What an internal extension is told ([`crate::Runtime::extension`]).
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum ExtensionEvent {
    /// An invocation was answered; the invocation ends once the callback returns.
    Invoke(InvokeEvent),
    /// The sandbox is shutting down (from SIGTERM, with the `shutdown` feature).
    Shutdown(Shutdown),
}

/// An INVOKE event: the invocation an extension hears about.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct InvokeEvent {
    /// The invocation's request id.
    pub request_id: String,
    /// Its deadline, Unix epoch milliseconds (0 when the Extensions API sent none).
    pub deadline_ms: u64,
    /// The ARN it was invoked with.
    pub invoked_function_arn: String,
    /// Its X-Ray trace header, when tracing is active.
    pub trace_id: Option<String>,
}

impl InvokeEvent {
    fn from_json(event: &serde_json::Value) -> InvokeEvent {
        let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_owned();
        InvokeEvent {
            request_id: text(&event["requestId"]),
            deadline_ms: event["deadlineMs"].as_u64().unwrap_or(0),
            invoked_function_arn: text(&event["invokedFunctionArn"]),
            trace_id: event["tracing"]["value"]
                .as_str()
                .filter(|v| !v.is_empty())
                .map(str::to_owned),
        }
    }

    /// The deadline as an `Instant`, when there is one.
    fn deadline(&self) -> Option<Instant> {
        let at = UNIX_EPOCH + Duration::from_millis(self.deadline_ms);
        (self.deadline_ms > 0).then(|| {
            let left = at.duration_since(SystemTime::now()).unwrap_or_default();
            Instant::now() + left
        })
    }
}

/// What shutdown hooks and extensions get when the sandbox shuts down: the time left.
#[derive(Clone, Debug)]
pub struct Shutdown {
    pub(crate) deadline: Instant,
}

impl Shutdown {
    /// Time left before the process ends, zero once it is spent.
    pub fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }
}

/// An extension's callback, shared by its event loop and the shutdown.
pub(crate) type Callback = Arc<Mutex<Box<dyn FnMut(&ExtensionEvent) + Send>>>;

/// A registered extension's connection to the Extensions API.
pub(crate) struct Registration {
    agent: ureq::Agent,
    next_url: String,
    identifier: String,
    name: String,
}

impl Registration {
    /// `POST /extension/register` for `name`, subscribed to `events`.
    pub(crate) fn register(
        endpoint: &Endpoint,
        name: &str,
        events: &[&str],
    ) -> Result<Registration, ApiError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .timeout_global(None)
            .max_idle_age(Duration::from_secs(24 * 3600))
            .build()
            .into();
        let base = endpoint.base_url();
        let operation = || Operation::ExtensionRegister(name.to_owned());
        let body = serde_json::json!({ "events": events }).to_string();
        let sent = agent
            .post(format!("{base}{}", protocol::EXTENSION_REGISTER_PATH))
            .header(protocol::EXTENSION_NAME, name)
            .header("content-type", "application/json")
            .send(body.as_bytes());
        let (response, _) = answered(sent, operation)?;
        let identifier = response
            .headers()
            .get(protocol::EXTENSION_IDENTIFIER)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| ApiError::Status {
                operation: operation(),
                status: response.status().as_u16(),
                body: "the answer has no Lambda-Extension-Identifier header".into(),
            })?;
        Ok(Registration {
            agent,
            next_url: format!("{base}{}", protocol::EXTENSION_NEXT_PATH),
            identifier,
            name: name.to_owned(),
        })
    }

    /// `GET /extension/event/next`: blocks until the extension's next event.
    fn next(&self) -> Result<serde_json::Value, ApiError> {
        let sent = self
            .agent
            .get(&self.next_url)
            .header(protocol::EXTENSION_IDENTIFIER, &self.identifier)
            .call();
        let (_, text) = answered(sent, || Operation::ExtensionNext(self.name.clone()))?;
        Ok(serde_json::from_str(&text).unwrap_or(serde_json::Value::Null))
    }
}

/// An Extensions API answer, read to the end: a 200's head and body, or why it is not one.
fn answered(
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    operation: impl Fn() -> Operation,
) -> Result<(ureq::http::Response<ureq::Body>, String), ApiError> {
    let mut response = sent.map_err(|e| ApiError::transport(operation(), e))?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    if status != 200 {
        return Err(ApiError::Status {
            operation: operation(),
            status,
            body: text,
        });
    }
    Ok((response, text))
}

/// Registers `name` for INVOKE events and runs its loop on a thread of its own.
pub(crate) fn start(
    endpoint: &Endpoint,
    name: &str,
    callback: Callback,
    sandbox: &Arc<Sandbox>,
) -> Result<(), ApiError> {
    let registration = Registration::register(endpoint, name, &["INVOKE"])?;
    let sandbox = sandbox.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("coda-extension-{name}"))
        .spawn(move || serve(&registration, &callback, &sandbox));
    if let Err(e) = spawned {
        log::error!("extension {name}: its thread could not be started: {e}");
    }
    Ok(())
}

/// Registers a do-nothing extension (no events), so that Lambda sends SIGTERM before it
/// ends the sandbox, and parks a thread in its `/event/next` (which marks init as done).
#[cfg_attr(not(feature = "shutdown"), allow(dead_code))] // the shutdown report reads it
pub(crate) fn start_placeholder(endpoint: &Endpoint, name: &str) -> Result<(), ApiError> {
    let registration = Registration::register(endpoint, name, &[])?;
    let spawned = std::thread::Builder::new()
        .name("coda-shutdown-extension".into())
        .spawn(move || {
            // Nothing is ever sent to it; the call ends with the sandbox.
            let _ = registration.next();
        });
    if let Err(e) = spawned {
        log::error!("extension {name}: its thread could not be started: {e}");
    }
    Ok(())
}

/// The extension's event loop: each INVOKE is given to the callback once the runtime has
/// answered it; then the next event is asked for.
fn serve(registration: &Registration, callback: &Callback, sandbox: &Sandbox) {
    let name = &registration.name;
    loop {
        let event = match registration.next() {
            Ok(event) => event,
            Err(e) => {
                log::debug!("extension {name} stopped: {}", crate::error::chain(&e));
                return;
            }
        };
        match event["eventType"].as_str() {
            Some(kind) if kind.eq_ignore_ascii_case("INVOKE") => {
                let invoke = InvokeEvent::from_json(&event);
                sandbox.wait_answered(&invoke.request_id, invoke.deadline());
                crate::logging::set_request_id(Some(Arc::from(invoke.request_id.as_str())));
                call(name, callback, &ExtensionEvent::Invoke(invoke));
                crate::logging::set_request_id(None);
            }
            Some(kind) if kind.eq_ignore_ascii_case("SHUTDOWN") => return,
            other => log::debug!("extension {name}: ignoring event {other:?}"),
        }
    }
}

/// Calls an extension's callback with panics caught.
pub(crate) fn call(name: &str, callback: &Callback, event: &ExtensionEvent) {
    let mut callback = callback.lock().unwrap_or_else(|e| e.into_inner());
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| callback(event))) {
        log::error!(
            "extension {name} panicked: {}",
            crate::panic::message(payload.as_ref())
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The INVOKE body Lambda documents reads into its fields; a missing trace is `None`.
    #[test]
    fn invoke_events() {
        let event = serde_json::json!({
            "eventType": "INVOKE", "deadlineMs": 1_700_000_000_000u64, "requestId": "r-1",
            "invokedFunctionArn": "arn:aws:lambda:us-east-1:1:function:f",
            "tracing": {"type": "X-Amzn-Trace-Id", "value": "Root=1-a"}
        });
        let e = InvokeEvent::from_json(&event);
        assert_eq!(
            (e.request_id.as_str(), e.deadline_ms, e.trace_id.as_deref()),
            ("r-1", 1_700_000_000_000, Some("Root=1-a"))
        );
        let bare = InvokeEvent::from_json(&serde_json::json!({"requestId": "r-2"}));
        assert_eq!((bare.deadline_ms, bare.trace_id.as_deref()), (0, None));
        assert!(bare.deadline().is_none());
    }
}
