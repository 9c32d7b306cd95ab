//! The Lambda logger: the `log` facade written in Lambda's own formats (`runtime-api.md` §7.9).
//!
//! `AWS_LAMBDA_LOG_FORMAT` picks the format (`JSON` or `Text`, any case; Text by default) and
//! `AWS_LAMBDA_LOG_LEVEL` the level (`TRACE`…`FATAL`, INFO by default; `RUST_LOG` with a plain
//! level name is honoured when the Lambda variable is absent).
//!
//! - JSON: one object per line, `{"timestamp","level","message","requestId"}` — the schema
//!   Lambda parses for OS-only runtimes (`requestId` is left out outside an invocation).
//! - Text: `timestamp<TAB>requestId<TAB>LEVEL<TAB>message`, the layout of Lambda's managed
//!   runtimes (`-` outside an invocation).
//!
//! Lines go to stderr in one `write` each, so concurrent threads never interleave inside a
//! line. The request id comes from a thread-local the loop (and the deferred-work threads)
//! set for the invocation they serve. Logs of the HTTP client (`ureq` targets) only show at
//! `TRACE`: at `DEBUG` they would add several lines per invocation.

use std::cell::RefCell;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use log::{Level, LevelFilter, Log, Metadata, Record};

use crate::timestamp::write_rfc3339;

/// The line format, from `AWS_LAMBDA_LOG_FORMAT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// `timestamp<TAB>requestId<TAB>LEVEL<TAB>message`.
    Text,
    /// `{"timestamp","level","message","requestId"}` per line.
    Json,
}

impl LogFormat {
    /// Parses `AWS_LAMBDA_LOG_FORMAT` case-insensitively; anything but `json` is Text.
    pub fn parse(value: Option<&str>) -> LogFormat {
        match value {
            Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// Parses a Lambda log level name (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`, any
/// case; also `WARNING` and `OFF`). `FATAL` maps to `ERROR`: `log` has no level above it.
pub fn parse_level(value: &str) -> Option<LevelFilter> {
    let v = value.trim();
    let level = |name: &str| v.eq_ignore_ascii_case(name);
    Some(if level("trace") {
        LevelFilter::Trace
    } else if level("debug") {
        LevelFilter::Debug
    } else if level("info") {
        LevelFilter::Info
    } else if level("warn") || level("warning") {
        LevelFilter::Warn
    } else if level("error") || level("fatal") {
        LevelFilter::Error
    } else if level("off") {
        LevelFilter::Off
    } else {
        return None;
    })
}

/// A `log::Log` that writes Lambda's formats to stderr.
#[derive(Debug)]
pub struct LambdaLogger {
    format: LogFormat,
    level: LevelFilter,
}

impl LambdaLogger {
    /// A logger with the given format and level.
    pub fn new(format: LogFormat, level: LevelFilter) -> LambdaLogger {
        LambdaLogger { format, level }
    }

    /// A logger configured from `AWS_LAMBDA_LOG_FORMAT`, `AWS_LAMBDA_LOG_LEVEL` and `RUST_LOG`.
    pub fn from_env() -> LambdaLogger {
        let var = |k: &str| std::env::var(k).ok();
        let level = var("AWS_LAMBDA_LOG_LEVEL")
            .as_deref()
            .and_then(parse_level)
            .or_else(|| var("RUST_LOG").as_deref().and_then(parse_level))
            .unwrap_or(LevelFilter::Info);
        LambdaLogger::new(
            LogFormat::parse(var("AWS_LAMBDA_LOG_FORMAT").as_deref()),
            level,
        )
    }

    /// The line format.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Installs this logger as the `log` facade's logger and sets the maximum level.
    /// Returns `false` (and changes nothing) when a logger is already installed.
    pub fn install(self) -> bool {
        let level = self.level;
        if log::set_boxed_logger(Box::new(self)).is_ok() {
            log::set_max_level(level);
            true
        } else {
            false
        }
    }

    /// Formats one line (without the newline) into `out`.
    pub fn format_line(
        &self,
        level: Level,
        message: &str,
        request_id: Option<&str>,
        out: &mut String,
    ) {
        format_line(
            self.format,
            SystemTime::now(),
            level,
            message,
            request_id,
            out,
        );
    }
}

impl Log for LambdaLogger {
    fn enabled(&self, metadata: &Metadata<'_>) -> bool {
        let quiet_target = metadata.target().starts_with("ureq");
        metadata.level() <= self.level && (!quiet_target || self.level == LevelFilter::Trace)
    }

    fn log(&self, record: &Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let message = record.args().to_string();
        let mut line = String::with_capacity(message.len() + 96);
        with_request_id(|id| self.format_line(record.level(), &message, id, &mut line));
        if captures::offer(&line) {
            // A `coda_emulator::testing` run keeps the line for its outcome instead of printing it.
            return;
        }
        line.push('\n');
        // A failed write to stderr has nowhere to be reported.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARN",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

pub(crate) fn format_line(
    format: LogFormat,
    now: SystemTime,
    level: Level,
    message: &str,
    request_id: Option<&str>,
    out: &mut String,
) {
    match format {
        LogFormat::Json => {
            out.push_str("{\"timestamp\":\"");
            write_rfc3339(now, out);
            out.push_str("\",\"level\":\"");
            out.push_str(level_name(level));
            out.push_str("\",\"message\":");
            push_json_string(message, out);
            if let Some(id) = request_id {
                out.push_str(",\"requestId\":");
                push_json_string(id, out);
            }
            out.push('}');
        }
        LogFormat::Text => {
            write_rfc3339(now, out);
            out.push('\t');
            out.push_str(request_id.unwrap_or("-"));
            out.push('\t');
            out.push_str(level_name(level));
            out.push('\t');
            out.push_str(message);
        }
    }
}

fn push_json_string(s: &str, out: &mut String) {
    // Serializing a &str to JSON cannot fail.
    out.push_str(&serde_json::to_string(s).unwrap_or_default());
}

thread_local! {
    static REQUEST_ID: RefCell<Option<Arc<str>>> = const { RefCell::new(None) };
}

/// Sets (or clears) the request id log lines from this thread carry.
pub(crate) fn set_request_id(id: Option<Arc<str>>) {
    REQUEST_ID.with(|cell| *cell.borrow_mut() = id);
}

fn with_request_id<R>(f: impl FnOnce(Option<&str>) -> R) -> R {
    REQUEST_ID.with(|cell| f(cell.borrow().as_deref()))
}

/// Copies of log lines for in-process tests (`coda_emulator::testing`): lines that carry a watched
/// request id are kept for whoever watches it.
pub mod captures {
    use super::*;

    static ACTIVE: AtomicUsize = AtomicUsize::new(0);
    type Lines = Arc<Mutex<Vec<String>>>;
    static WATCHES: Mutex<Vec<(Arc<str>, Lines)>> = Mutex::new(Vec::new());

    /// Lines carrying `request_id` are copied into the returned buffer until the watch is dropped.
    pub struct Watch {
        id: Arc<str>,
        lines: Arc<Mutex<Vec<String>>>,
    }

    impl Watch {
        pub fn new(id: &str) -> Watch {
            let id: Arc<str> = Arc::from(id);
            let lines = Arc::new(Mutex::new(Vec::new()));
            let mut watches = WATCHES.lock().unwrap_or_else(|e| e.into_inner());
            watches.push((id.clone(), lines.clone()));
            ACTIVE.fetch_add(1, Ordering::SeqCst);
            Watch { id, lines }
        }

        pub fn lines(&self) -> Vec<String> {
            self.lines.lock().unwrap_or_else(|e| e.into_inner()).clone()
        }
    }

    impl Drop for Watch {
        fn drop(&mut self) {
            let mut watches = WATCHES.lock().unwrap_or_else(|e| e.into_inner());
            watches.retain(|(id, lines)| !(Arc::ptr_eq(lines, &self.lines) && *id == self.id));
            ACTIVE.fetch_sub(1, Ordering::SeqCst);
        }
    }

    /// Keeps a copy of `line` for whoever watches the current request id; `true` when kept.
    pub(crate) fn offer(line: &str) -> bool {
        if ACTIVE.load(Ordering::Relaxed) == 0 {
            return false;
        }
        with_request_id(|id| {
            let Some(id) = id else { return false };
            let watches = WATCHES.lock().unwrap_or_else(|e| e.into_inner());
            let mut kept = false;
            for (watched, lines) in watches.iter() {
                if **watched == *id {
                    lines
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(line.to_owned());
                    kept = true;
                }
            }
            kept
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn line(format: LogFormat, message: &str, id: Option<&str>) -> String {
        let mut out = String::new();
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        format_line(format, now, Level::Warn, message, id, &mut out);
        out
    }

    /// §7.9: JSON lines carry Lambda's keys, RFC 3339 time, and escape the message.
    #[test]
    fn json_lines() {
        let l = line(LogFormat::Json, "say \"hi\"\n", Some("req-1"));
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "timestamp": "2023-11-14T22:13:20.123Z",
                "level": "WARN",
                "message": "say \"hi\"\n",
                "requestId": "req-1"
            })
        );
        let v: serde_json::Value = serde_json::from_str(&line(LogFormat::Json, "m", None)).unwrap();
        assert!(v.get("requestId").is_none());
    }

    /// Text lines follow the managed runtimes' tab-separated layout.
    #[test]
    fn text_lines() {
        assert_eq!(
            line(LogFormat::Text, "m", Some("r")),
            "2023-11-14T22:13:20.123Z\tr\tWARN\tm"
        );
        assert_eq!(
            line(LogFormat::Text, "m", None),
            "2023-11-14T22:13:20.123Z\t-\tWARN\tm"
        );
    }

    /// Format and level names are case-insensitive; unknown levels are rejected, not guessed.
    #[test]
    fn parsing() {
        assert_eq!(LogFormat::parse(Some("JSON")), LogFormat::Json);
        assert_eq!(LogFormat::parse(Some("json")), LogFormat::Json);
        assert_eq!(LogFormat::parse(Some("Text")), LogFormat::Text);
        assert_eq!(LogFormat::parse(None), LogFormat::Text);
        assert_eq!(parse_level("fatal"), Some(LevelFilter::Error));
        assert_eq!(parse_level("Debug"), Some(LevelFilter::Debug));
        assert_eq!(parse_level("verbose"), None);
    }

    /// The HTTP client's chatter is hidden unless the level is TRACE.
    #[test]
    fn ureq_targets_only_at_trace() {
        let meta = |target| {
            Metadata::builder()
                .level(Level::Debug)
                .target(target)
                .build()
        };
        let debug = LambdaLogger::new(LogFormat::Text, LevelFilter::Debug);
        assert!(debug.enabled(&meta("my_app")));
        assert!(!debug.enabled(&meta("ureq::pool")));
        let trace = LambdaLogger::new(LogFormat::Text, LevelFilter::Trace);
        assert!(trace.enabled(&meta("ureq::pool")));
    }
}
