//! [`Extension`]: a registered extension as the state keeps it, and the events it is sent
//! (INVOKE for an invocation, SHUTDOWN when the emulator stops; `docs/runtime-api.md` §7.5).

use std::collections::VecDeque;

use crate::slot::Slot;
use coda_lambda::protocol;

/// A registered extension.
#[derive(Debug)]
pub(crate) struct Extension {
    /// The emulator's number for it (1, 2, …), in registration order.
    pub(crate) id: u64,
    /// The `Lambda-Extension-Identifier` it was given.
    pub(crate) identifier: String,
    /// Subscribed to INVOKE events.
    pub(crate) invoke: bool,
    /// Subscribed to SHUTDOWN events.
    pub(crate) shutdown: bool,
    /// Has asked for its first event (init done).
    pub(crate) ready: bool,
    /// Events not yet handed out, oldest first.
    pub(crate) events: VecDeque<Vec<u8>>,
    /// What it posted to `init/error` or `exit/error`, if anything.
    pub(crate) errors: Vec<(String, String)>,
}

/// The INVOKE event body for `slot`.
pub(crate) fn invoke_event(slot: &Slot) -> Vec<u8> {
    let header = |name: &str| {
        slot.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let deadline: u64 = header(protocol::DEADLINE_MS)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let event = serde_json::json!({
        "eventType": "INVOKE",
        "deadlineMs": deadline,
        "requestId": slot.request_id,
        "invokedFunctionArn": header(protocol::FUNCTION_ARN).unwrap_or_default(),
        "tracing": {"type": "X-Amzn-Trace-Id", "value": header(protocol::TRACE_ID).unwrap_or_default()},
    });
    serde_json::to_vec(&event).unwrap_or_default()
}

/// The SHUTDOWN event body.
pub(crate) fn shutdown_event(reason: &str) -> Vec<u8> {
    let deadline = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as u64
        + 2_000;
    let event = serde_json::json!({"eventType": "SHUTDOWN", "shutdownReason": reason, "deadlineMs": deadline});
    serde_json::to_vec(&event).unwrap_or_default()
}
