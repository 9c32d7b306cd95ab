//! The lines `coda wrap` writes about itself and the commands it runs: one line per event, on
//! stderr (the function's log stream), in Lambda's format for the function
//! (`AWS_LAMBDA_LOG_FORMAT`: Text `timestamp<TAB>requestId<TAB>LEVEL<TAB>message`, or a JSON
//! object with `timestamp`, `level`, `message` and `requestId`), each carrying the request id
//! of the invocation it is about, filtered by `AWS_LAMBDA_POST_RUNNER_LOG_LEVEL`.
//!
//! Each line is written with one `write` while stderr is locked, so lines from concurrent
//! invocations never interleave.

use std::fmt;
use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coda_emulator::LogFormat;

/// How important a line is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// Something failed: a command that could not start or was killed.
    Error,
    /// Something the user should look at: a command that failed.
    Warn,
    /// What happened: each command's result and output.
    Info,
    /// How requests pass through.
    Debug,
    /// Everything.
    Trace,
}

impl Level {
    /// The name Lambda's formats use.
    fn name(self) -> &'static str {
        match self {
            Level::Error => "ERROR",
            Level::Warn => "WARN",
            Level::Info => "INFO",
            Level::Debug => "DEBUG",
            Level::Trace => "TRACE",
        }
    }
}

/// Reads a log level: `off`, `error`, `warn` (`warning`), `info`, `debug`, `trace`, any case;
/// an env_logger directive (`aws_lambda_post_runner=debug`, what the post-runner took) gives
/// its level. `Some(None)` is `off`; `None` is a value that names no level.
pub fn parse_level(value: &str) -> Option<Option<Level>> {
    let level = value
        .rsplit([',', '='])
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    Some(match level.as_str() {
        "off" | "none" => None,
        "error" | "fatal" => Some(Level::Error),
        "warn" | "warning" => Some(Level::Warn),
        "info" => Some(Level::Info),
        "debug" => Some(Level::Debug),
        "trace" => Some(Level::Trace),
        _ => return None,
    })
}

/// Where and how lines are written: the format and the most detailed level shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Log {
    /// Text or JSON.
    format: LogFormat,
    /// The most detailed level written; `None` writes nothing.
    max: Option<Level>,
}

impl Log {
    /// A log in `format` showing lines up to `max`.
    pub fn new(format: LogFormat, max: Option<Level>) -> Log {
        Log { format, max }
    }

    /// Whether lines of `level` are written.
    pub fn enabled(self, level: Level) -> bool {
        self.max.is_some_and(|max| level <= max)
    }

    /// Writes one line about the invocation `request_id` (or none) at `level`.
    pub fn line(self, level: Level, request_id: Option<&str>, message: fmt::Arguments<'_>) {
        if !self.enabled(level) {
            return;
        }
        let line = format_line(self.format, SystemTime::now(), level, request_id, message);
        // If stderr is gone there is nowhere left to report to.
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }

    /// [`Log::line`] at `Error`.
    pub fn error(self, request_id: Option<&str>, message: fmt::Arguments<'_>) {
        self.line(Level::Error, request_id, message);
    }

    /// [`Log::line`] at `Warn`.
    pub fn warn(self, request_id: Option<&str>, message: fmt::Arguments<'_>) {
        self.line(Level::Warn, request_id, message);
    }

    /// [`Log::line`] at `Info`.
    pub fn info(self, request_id: Option<&str>, message: fmt::Arguments<'_>) {
        self.line(Level::Info, request_id, message);
    }

    /// [`Log::line`] at `Debug`.
    pub fn debug(self, request_id: Option<&str>, message: fmt::Arguments<'_>) {
        self.line(Level::Debug, request_id, message);
    }
}

/// One line, newline included: the message prefixed with `coda wrap: `.
fn format_line(
    format: LogFormat,
    now: SystemTime,
    level: Level,
    request_id: Option<&str>,
    message: fmt::Arguments<'_>,
) -> String {
    let time = rfc3339(now);
    let message = format!("coda wrap: {message}");
    match format {
        LogFormat::Json => {
            let mut object = serde_json::Map::new();
            object.insert("timestamp".into(), time.into());
            object.insert("level".into(), level.name().into());
            object.insert("message".into(), message.into());
            if let Some(id) = request_id {
                object.insert("requestId".into(), id.into());
            }
            // A map of strings always serializes.
            let mut line = serde_json::Value::Object(object).to_string();
            line.push('\n');
            line
        }
        LogFormat::Text => {
            // One line per record: a message's own newlines would split it.
            let message = message.replace(['\r', '\n'], " ");
            format!(
                "{time}\t{}\t{}\t{message}\n",
                request_id.unwrap_or("-"),
                level.name()
            )
        }
    }
}

/// `now` as RFC 3339 in UTC with milliseconds: `2026-12-02T06:00:00.101Z`.
fn rfc3339(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let secs = since.as_secs();
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rest = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60,
        since.subsec_millis()
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Levels read as the post-runner's users write them, any case, also as an env_logger
    /// directive; anything else is no level.
    #[test]
    fn levels() {
        assert_eq!(parse_level("debug"), Some(Some(Level::Debug)));
        assert_eq!(parse_level(" WARN "), Some(Some(Level::Warn)));
        assert_eq!(parse_level("Warning"), Some(Some(Level::Warn)));
        assert_eq!(
            parse_level("aws_lambda_post_runner=trace"),
            Some(Some(Level::Trace))
        );
        assert_eq!(parse_level("off"), Some(None));
        assert_eq!(parse_level("loud"), None);
        let log = Log::new(LogFormat::Text, Some(Level::Info));
        assert!(log.enabled(Level::Error) && log.enabled(Level::Info));
        assert!(!log.enabled(Level::Debug));
        assert!(!Log::new(LogFormat::Text, None).enabled(Level::Error));
    }

    /// Text lines are Lambda's layout with the request id; JSON lines are objects with
    /// `requestId`, which is left out outside an invocation.
    #[test]
    fn line_formats() {
        let at = UNIX_EPOCH + Duration::from_millis(1_764_655_200_101);
        let text = format_line(
            LogFormat::Text,
            at,
            Level::Info,
            Some("id-1"),
            format_args!("a\nb"),
        );
        assert_eq!(
            text,
            "2025-12-02T06:00:00.101Z\tid-1\tINFO\tcoda wrap: a b\n"
        );
        let json = format_line(
            LogFormat::Json,
            at,
            Level::Warn,
            Some("id-2"),
            format_args!("x"),
        );
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["requestId"], "id-2");
        assert_eq!(value["level"], "WARN");
        assert_eq!(value["message"], "coda wrap: x");
        assert_eq!(value["timestamp"], "2025-12-02T06:00:00.101Z");
        let bare = format_line(LogFormat::Json, at, Level::Info, None, format_args!("x"));
        assert!(!bare.contains("requestId"), "{bare}");
    }

    /// Dates across leap years and centuries.
    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
    }
}
