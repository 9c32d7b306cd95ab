//! Where the faults of [`crate::Faults`] fire: the `/next` answer that hands out an event
//! (statuses, a cut or reset body, a silent close, odd header names and values, a past
//! deadline) and the answer to a `/response` or `/error` post (statuses, a reset, a silent
//! close, a slow read of its body). Each injection is recorded (`fault_record`) and announced
//! as `coda: fault injected: …` when the emulator prints its reports. What a runtime should do
//! about each fault is `docs/runtime-api.md` §11.

use std::io::{self, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::conn::{Conn, Flow};
use crate::fault_record::Injected;
use crate::faults::{Counted, Fault};
use crate::settings::Reports;
use crate::slot::Slot;
use crate::state::Shared;
use crate::wire;
use coda_lambda::protocol;

/// Writes the `/next` answer that hands out `slot`'s event, with the faults that hit this
/// event (none: the event as it is).
pub(crate) fn write_next(
    shared: &Shared,
    conn: &mut Conn,
    slot: &Slot,
    event: &[u8],
) -> io::Result<Flow> {
    let record = &shared.settings.faults;
    let (call, faults) = if record.any() {
        record.hit(Counted::Events, Some(&slot.request_id))
    } else {
        (0, Vec::new())
    };
    if faults.is_empty() {
        let headers: Vec<(&str, &str)> = slot
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        return conn.respond(200, &headers, event, Flow::KeepAlive);
    }
    for fault in &faults {
        announce(shared.settings.reports, call, *fault, &slot.request_id);
    }
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> = slot
        .headers
        .iter()
        .map(|(n, v)| (n.clone().into_bytes(), v.clone().into_bytes()))
        .collect();
    for fault in &faults {
        damage_headers(*fault, &mut headers);
    }
    let payload = event;
    let transport = faults.iter().copied().find(|f| {
        matches!(
            f,
            Fault::NextStatus(_) | Fault::NextCut | Fault::NextReset | Fault::NextClose
        )
    });
    match transport {
        Some(Fault::NextStatus(status)) => {
            let body = match status {
                204 => Vec::new(),
                _ => {
                    let (error_type, message) = rapid_error(status);
                    wire::error_body(error_type, message)
                }
            };
            conn.respond(
                status,
                &[("Content-Type", "application/json")],
                &body,
                Flow::KeepAlive,
            )
        }
        Some(fault @ (Fault::NextCut | Fault::NextReset)) => {
            // The head promises the whole body (at least one byte); half of it is sent.
            let declared = payload.len().max(1);
            conn.write_all(&head(&headers, declared))?;
            conn.write_all(&payload[..payload.len() / 2])?;
            if fault == Fault::NextReset {
                conn.reset();
            }
            Ok(Flow::Close)
        }
        Some(Fault::NextClose) => {
            conn.write_all(&head(&headers, payload.len()))?;
            conn.write_all(payload)?;
            // Written as for keep-alive; the close comes without warning.
            Ok(Flow::Close)
        }
        _ => {
            conn.write_all(&head(&headers, payload.len()))?;
            conn.write_all(payload)?;
            Ok(Flow::KeepAlive)
        }
    }
}

/// The faults that hit one post to `/response` or `/error`.
#[derive(Debug, Default)]
pub(crate) struct AnswerFaults {
    /// Answer with this status instead.
    pub(crate) status: Option<u16>,
    /// Reset the connection halfway through the answer's status line.
    pub(crate) reset: bool,
    /// Close the connection silently after the answer.
    pub(crate) close: bool,
    /// Read the body at this pace.
    pub(crate) pace: Option<Pace>,
}

/// Counts one post to `/response` or `/error` for request `id` and returns the faults that
/// hit it.
pub(crate) fn on_answer(shared: &Shared, id: &str) -> AnswerFaults {
    let mut hit = AnswerFaults::default();
    let record = &shared.settings.faults;
    if !record.any() {
        return hit;
    }
    let (call, faults) = record.hit(Counted::Answers, Some(id));
    for fault in faults {
        announce(shared.settings.reports, call, fault, id);
        match fault {
            Fault::ResponseStatus(status) => hit.status = Some(status),
            Fault::ResponseReset => hit.reset = true,
            Fault::ResponseClose => hit.close = true,
            Fault::SlowRead { bytes, every } => hit.pace = Some(Pace { bytes, every }),
            _ => {}
        }
    }
    hit
}

/// The answer for `response=reset`: half a status line, then a reset.
pub(crate) fn reset_answer(conn: &mut Conn) -> io::Result<Flow> {
    conn.write_all(b"HTTP/1.1 2")?;
    conn.reset();
    Ok(Flow::Close)
}

/// A slow reader's pace: `bytes` per `every`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    /// Bytes per interval.
    bytes: usize,
    /// The interval.
    every: Duration,
}

impl Pace {
    /// Waits as long as reading `n` bytes takes at this pace (the fault is the wait).
    pub(crate) fn after(&self, n: usize) {
        let intervals = n.div_ceil(self.bytes.max(1)) as u32;
        std::thread::sleep(self.every.saturating_mul(intervals));
    }
}

/// Changes the event's headers as `fault` says (header faults only).
fn damage_headers(fault: Fault, headers: &mut Vec<(Vec<u8>, Vec<u8>)>) {
    let mut set = |name: &str, value: &dyn Fn(Option<&[u8]>) -> Vec<u8>| match headers
        .iter_mut()
        .find(|(n, _)| n == name.as_bytes())
    {
        Some((_, v)) => *v = value(Some(v)),
        None => headers.push((name.as_bytes().to_vec(), value(None))),
    };
    match fault {
        Fault::EmptyHeaders => {
            for name in [
                protocol::DEADLINE_MS,
                protocol::FUNCTION_ARN,
                protocol::TRACE_ID,
                protocol::CLIENT_CONTEXT,
                protocol::COGNITO_IDENTITY,
                protocol::TENANT_ID,
                protocol::INVOCATION_ID,
            ] {
                set(name, &|_| Vec::new());
            }
        }
        Fault::NonUtf8Headers => {
            for name in [
                protocol::TRACE_ID,
                protocol::CLIENT_CONTEXT,
                protocol::COGNITO_IDENTITY,
                protocol::FUNCTION_ARN,
            ] {
                set(name, &|old| {
                    let mut value = old.map(<[u8]>::to_vec).unwrap_or_default();
                    value.extend_from_slice(&[0xFF, 0xFE]);
                    value
                });
            }
        }
        Fault::DeadlinePast => {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_millis() as u64;
            let past = now.saturating_sub(1000).to_string().into_bytes();
            set(protocol::DEADLINE_MS, &|_| past.clone());
        }
        Fault::UpperCaseHeaders => {
            for (name, _) in headers.iter_mut() {
                name.make_ascii_uppercase();
            }
        }
        Fault::MixedCaseHeaders => {
            for (name, _) in headers.iter_mut() {
                for (i, b) in name.iter_mut().enumerate() {
                    *b = if i % 2 == 0 {
                        b.to_ascii_lowercase()
                    } else {
                        b.to_ascii_uppercase()
                    };
                }
            }
        }
        _ => {}
    }
}

/// A `200 OK` head with `headers` as bytes and a `Content-Length` of `length`, for keep-alive.
fn head(headers: &[(Vec<u8>, Vec<u8>)], length: usize) -> Vec<u8> {
    let mut out = b"HTTP/1.1 200 OK\r\n".to_vec();
    for (name, value) in headers {
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("Content-Length: {length}\r\n\r\n").as_bytes());
    out
}

/// RAPID's error body for an injected `/next` status (`docs/runtime-api.md` §2.4).
fn rapid_error(status: u16) -> (&'static str, &'static str) {
    match status {
        403 => (
            "InvalidStateTransition",
            "State transition from Ready to Running failed",
        ),
        _ => ("InternalServerError", "Internal Server Error"),
    }
}

/// Logs one injection, and prints `coda: fault injected: …` when reports are printed.
fn announce(reports: Reports, call: u64, fault: Fault, request_id: &str) {
    let injected = Injected {
        fault,
        call,
        request_id: Some(request_id.to_owned()),
    };
    log::info!("fault injected: {injected}");
    if reports != Reports::Off {
        let _ = writeln!(io::stderr().lock(), "coda: fault injected: {injected}");
    }
}
