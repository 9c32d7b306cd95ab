//! Logging: [`env_logger`] with a format of Coda's that writes Lambda's own line formats
//! (`docs/runtime-api.md` §7.9), and the request id of the invocation a thread serves.
//!
//! [`crate::start`] and [`crate::Runtime::run`] install this logger unless the program
//! installed one first, so no path drops log lines. Install it yourself with [`init`], or
//! start from [`builder`] to change it (another target, more filters) before installing it.
//!
//! - **Format**: `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`, any case; Text by default).
//!   JSON lines are `{"timestamp","level","message","requestId"}`, the schema Lambda parses
//!   for OS-only runtimes (`requestId` left out outside an invocation); Text lines are
//!   `timestamp<TAB>requestId<TAB>LEVEL<TAB>message` (`-` outside an invocation), the layout
//!   of Lambda's managed runtimes.
//! - **Level**: `AWS_LAMBDA_LOG_LEVEL` (`TRACE`…`FATAL`, any case) sets the default level,
//!   INFO when it is absent. `RUST_LOG` directives refine it per module
//!   (`RUST_LOG=my_fn=debug,coda_lambda=warn`). When both give a default level (`RUST_LOG=debug`
//!   and `AWS_LAMBDA_LOG_LEVEL=WARN`), `AWS_LAMBDA_LOG_LEVEL` wins: it is the function's
//!   logging configuration on Lambda. The HTTP client's own lines (`ureq` targets) show from
//!   WARN up unless the default level is TRACE or `RUST_LOG` names them.
//! - **Extra keys** on JSON lines: [`persist_key`] (every line from now on) and [`append_key`]
//!   (the current invocation's lines, on every thread, until it ends), as Powertools' logger
//!   has them.
//! - **Output**: stderr, one `write` per line, so concurrent threads never interleave inside
//!   a line.
//!
//! ```
//! // A logger of your own that also carries the request id:
//! let id = coda_lambda::logging::request_id(); // None outside an invocation
//! assert!(id.is_none());
//! ```

use std::fmt::{self, Write as _};
use std::io::{self, Write};
use std::time::SystemTime;

use log::{Level, LevelFilter};

pub(crate) use crate::log_context::set_request_id;
pub use crate::log_context::{append_key, persist_key, remove_key, request_id};
use crate::timestamp::Rfc3339;

/// The line format, from `AWS_LAMBDA_LOG_FORMAT`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// `timestamp<TAB>requestId<TAB>LEVEL<TAB>message`.
    Text,
    /// `{"timestamp","level","message","requestId"}` per line.
    Json,
}

impl LogFormat {
    /// The format `AWS_LAMBDA_LOG_FORMAT` asks for: `JSON` (any case) or Text for anything
    /// else. Without a value it is Text, or JSON when `AWS_LAMBDA_MAX_CONCURRENCY` is above 1
    /// (Lambda Managed Instances log JSON: `docs/runtime-api.md` §6.1).
    pub fn from_env() -> LogFormat {
        LogFormat::from_lookup(|key| std::env::var(key).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> LogFormat {
        match lookup("AWS_LAMBDA_LOG_FORMAT") {
            Some(value) => LogFormat::parse(Some(&value)),
            None => {
                let concurrent = lookup("AWS_LAMBDA_MAX_CONCURRENCY")
                    .and_then(|v| v.trim().parse::<i64>().ok())
                    .is_some_and(|n| n > 1);
                if concurrent {
                    LogFormat::Json
                } else {
                    LogFormat::Text
                }
            }
        }
    }

    fn parse(value: Option<&str>) -> LogFormat {
        match value {
            Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
            _ => LogFormat::Text,
        }
    }
}

/// The Lambda logger as an [`env_logger::Builder`], configured from the environment
/// (see the module docs): call `.init()` on it, or change it first.
///
/// ```
/// let mut builder = coda_lambda::logging::builder();
/// builder.filter_module("chatty_dependency", log::LevelFilter::Error);
/// let _ = builder.try_init();
/// ```
pub fn builder() -> env_logger::Builder {
    builder_from(|key| std::env::var(key).ok())
}

/// Installs the Lambda logger ([`builder`]) unless a logger is installed already; `true`
/// when this call installed it.
pub fn init() -> bool {
    builder().try_init().is_ok()
}

fn builder_from(lookup: impl Fn(&str) -> Option<String>) -> env_logger::Builder {
    let format = LogFormat::from_lookup(&lookup);
    let lambda_level = lookup("AWS_LAMBDA_LOG_LEVEL")
        .as_deref()
        .and_then(parse_level);
    let rust_log = lookup("RUST_LOG").unwrap_or_default();
    let rust_log_level = rust_log
        .split(',')
        .filter(|d| !d.contains('='))
        .find_map(parse_level);
    let default = lambda_level.or(rust_log_level).unwrap_or(LevelFilter::Info);

    let mut builder = env_logger::Builder::new();
    builder.filter_level(LevelFilter::Info);
    if default != LevelFilter::Trace {
        builder.filter_module("ureq", LevelFilter::Warn);
    }
    builder.parse_filters(&rust_log);
    if let Some(level) = lambda_level {
        builder.filter_level(level);
    }
    builder
        .target(env_logger::Target::Stderr)
        .write_style(env_logger::WriteStyle::Never)
        .format(move |out, record| {
            let id = request_id();
            write_line(
                out,
                format,
                SystemTime::now(),
                record.level(),
                record.args(),
                id.as_deref(),
            )
        });
    builder
}

/// Parses a Lambda log level name (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`, any
/// case; also `WARNING` and `OFF`). `FATAL` maps to `ERROR`: `log` has no level above it.
fn parse_level(value: &str) -> Option<LevelFilter> {
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

fn level_name(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARN",
        Level::Info => "INFO",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

/// Writes one line, newline included, in `format`.
pub(crate) fn write_line(
    out: &mut impl Write,
    format: LogFormat,
    now: SystemTime,
    level: Level,
    message: &fmt::Arguments<'_>,
    request_id: Option<&str>,
) -> io::Result<()> {
    // The fixed parts are written as bytes: `write!` would run the formatting machinery for
    // each, once per line.
    let time = Rfc3339(now).to_bytes();
    match format {
        LogFormat::Text => {
            out.write_all(&time)?;
            out.write_all(b"\t")?;
            out.write_all(request_id.unwrap_or("-").as_bytes())?;
            out.write_all(b"\t")?;
            out.write_all(level_name(level).as_bytes())?;
            out.write_all(b"\t")?;
            match message.as_str() {
                Some(text) => out.write_all(text.as_bytes())?,
                None => out.write_fmt(*message)?,
            }
            out.write_all(b"\n")
        }
        LogFormat::Json => {
            out.write_all(b"{\"timestamp\":\"")?;
            out.write_all(&time)?;
            out.write_all(b"\",\"level\":\"")?;
            out.write_all(level_name(level).as_bytes())?;
            out.write_all(b"\",\"message\":\"")?;
            json_escaped(out, *message)?;
            if let Some(id) = request_id {
                out.write_all(b"\",\"requestId\":\"")?;
                json_escaped(out, format_args!("{id}"))?;
            }
            out.write_all(b"\"")?;
            crate::log_context::with_keys(request_id, |keys| {
                for (key, value) in keys {
                    // A key and a `Value` always serialize.
                    let key = serde_json::to_string(key).unwrap_or_default();
                    let value = serde_json::to_string(value).unwrap_or_default();
                    write!(out, ",{key}:{value}")?;
                }
                Ok::<_, io::Error>(())
            })?;
            out.write_all(b"}\n")
        }
    }
}

/// Writes `text` as the inside of a JSON string (quotes, backslashes and control characters
/// escaped), without building it as a `String` first.
fn json_escaped(out: &mut impl Write, text: fmt::Arguments<'_>) -> io::Result<()> {
    struct Escaper<'a, W: Write> {
        out: &'a mut W,
        error: Option<io::Error>,
    }
    impl<W: Write> fmt::Write for Escaper<'_, W> {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let mut plain = 0;
            for (i, b) in s.bytes().enumerate() {
                let escape: &[u8] = match b {
                    b'"' => b"\\\"",
                    b'\\' => b"\\\\",
                    b'\n' => b"\\n",
                    b'\r' => b"\\r",
                    b'\t' => b"\\t",
                    0x00..=0x1f => b"",
                    _ => continue,
                };
                let written = self.out.write_all(&s.as_bytes()[plain..i]).and_then(|()| {
                    if escape.is_empty() {
                        write!(self.out, "\\u{:04x}", b)
                    } else {
                        self.out.write_all(escape)
                    }
                });
                if let Err(e) = written {
                    self.error = Some(e);
                    return Err(fmt::Error);
                }
                plain = i + 1;
            }
            self.out.write_all(&s.as_bytes()[plain..]).map_err(|e| {
                self.error = Some(e);
                fmt::Error
            })
        }
    }
    let mut escaper = Escaper { out, error: None };
    match escaper.write_fmt(text) {
        Ok(()) => Ok(()),
        Err(_) => Err(escaper
            .error
            .unwrap_or_else(|| io::Error::other("a value's Display failed while logging"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, UNIX_EPOCH};

    use log::{Log, Metadata, Record};

    fn line(format: LogFormat, message: &str, id: Option<&str>) -> String {
        let mut out = Vec::new();
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        write_line(
            &mut out,
            format,
            now,
            Level::Warn,
            &format_args!("{message}"),
            id,
        )
        .unwrap();
        String::from_utf8(out).unwrap()
    }

    /// §7.9: JSON lines carry Lambda's keys, RFC 3339 time, and escape the message the way a
    /// JSON parser reads back.
    #[test]
    fn json_lines() {
        let tricky = "say \"hi\"\n\ttab \\ back \u{1} ctl é";
        let l = line(LogFormat::Json, tricky, Some("req-\"1\""));
        assert!(l.ends_with("}\n") && l.matches('\n').count() == 1, "{l:?}");
        let v: serde_json::Value = serde_json::from_str(&l).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "timestamp": "2023-11-14T22:13:20.123Z",
                "level": "WARN",
                "message": tricky,
                "requestId": "req-\"1\""
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
            "2023-11-14T22:13:20.123Z\tr\tWARN\tm\n"
        );
        assert_eq!(
            line(LogFormat::Text, "m", None),
            "2023-11-14T22:13:20.123Z\t-\tWARN\tm\n"
        );
    }

    /// Format and level names are case-insensitive; unknown levels are rejected, not guessed.
    #[test]
    fn parsing() {
        assert_eq!(LogFormat::parse(Some("JSON")), LogFormat::Json);
        assert_eq!(LogFormat::parse(Some(" json ")), LogFormat::Json);
        assert_eq!(LogFormat::parse(Some("Text")), LogFormat::Text);
        assert_eq!(LogFormat::parse(None), LogFormat::Text);
        let env = |format: Option<&'static str>, n: &'static str| {
            move |k: &str| match k {
                "AWS_LAMBDA_LOG_FORMAT" => format.map(str::to_owned),
                "AWS_LAMBDA_MAX_CONCURRENCY" => Some(n.to_owned()),
                _ => None,
            }
        };
        assert_eq!(LogFormat::from_lookup(env(None, "4")), LogFormat::Json);
        assert_eq!(LogFormat::from_lookup(env(None, "1")), LogFormat::Text);
        assert_eq!(
            LogFormat::from_lookup(env(Some("Text"), "4")),
            LogFormat::Text
        );
        assert_eq!(parse_level("fatal"), Some(LevelFilter::Error));
        assert_eq!(parse_level("Debug"), Some(LevelFilter::Debug));
        assert_eq!(parse_level("verbose"), None);
    }

    fn logger(vars: &[(&str, &str)]) -> env_logger::Logger {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        builder_from(|k| map.get(k).cloned()).build()
    }

    fn enabled(logger: &env_logger::Logger, target: &str, level: Level) -> bool {
        logger.enabled(&Metadata::builder().level(level).target(target).build())
    }

    /// `AWS_LAMBDA_LOG_LEVEL` is the default; `RUST_LOG` module directives refine it; a bare
    /// `RUST_LOG` level applies only when `AWS_LAMBDA_LOG_LEVEL` is absent.
    #[test]
    fn levels_from_both_variables() {
        let l = logger(&[]);
        assert!(enabled(&l, "my_fn", Level::Info) && !enabled(&l, "my_fn", Level::Debug));

        let l = logger(&[
            ("AWS_LAMBDA_LOG_LEVEL", "WARN"),
            ("RUST_LOG", "my_fn=debug,coda_lambda=error"),
        ]);
        assert!(enabled(&l, "my_fn::orders", Level::Debug));
        assert!(!enabled(&l, "other", Level::Info) && enabled(&l, "other", Level::Warn));
        assert!(!enabled(&l, "coda_lambda::run", Level::Warn));

        let l = logger(&[("AWS_LAMBDA_LOG_LEVEL", "warn"), ("RUST_LOG", "debug")]);
        assert!(
            !enabled(&l, "my_fn", Level::Info),
            "AWS_LAMBDA_LOG_LEVEL wins"
        );
        let l = logger(&[("RUST_LOG", "debug")]);
        assert!(enabled(&l, "my_fn", Level::Debug));
    }

    /// The HTTP client's chatter is hidden below WARN unless the level is TRACE or `RUST_LOG`
    /// asks for it.
    #[test]
    fn ureq_targets_are_quiet() {
        let l = logger(&[("AWS_LAMBDA_LOG_LEVEL", "debug")]);
        assert!(enabled(&l, "my_app", Level::Debug));
        assert!(!enabled(&l, "ureq::pool", Level::Debug));
        assert!(!enabled(&l, "ureq_proto::client", Level::Debug));
        assert!(enabled(&l, "ureq::pool", Level::Warn));
        let l = logger(&[("AWS_LAMBDA_LOG_LEVEL", "trace")]);
        assert!(enabled(&l, "ureq::pool", Level::Trace));
        let l = logger(&[("RUST_LOG", "ureq=debug")]);
        assert!(enabled(&l, "ureq::pool", Level::Debug));
    }

    /// Persistent keys go on every JSON line; an invocation's keys on its lines only, until it
    /// ends; Coda's own keys cannot be replaced.
    #[test]
    fn extra_keys_on_json_lines() {
        let json_line = |id: Option<&str>| -> serde_json::Value {
            let mut out = Vec::new();
            write_line(
                &mut out,
                LogFormat::Json,
                SystemTime::now(),
                Level::Info,
                &format_args!("m"),
                id,
            )
            .unwrap();
            serde_json::from_slice(&out).unwrap()
        };
        persist_key("service", "orders");
        persist_key("level", "nope");
        set_request_id(Some(Arc::from("keys-1")));
        append_key("orderId", "o-1");
        append_key("service", "orders-v2");
        set_request_id(None);
        let v = json_line(Some("keys-1"));
        assert_eq!(
            (v["service"].as_str(), v["orderId"].as_str()),
            (Some("orders-v2"), Some("o-1"))
        );
        assert_eq!(v["level"], "INFO");
        let other = json_line(Some("keys-2"));
        assert_eq!(
            (other["service"].as_str(), other.get("orderId")),
            (Some("orders"), None)
        );
        crate::log_context::forget("keys-1");
        assert!(json_line(Some("keys-1")).get("orderId").is_none());
        remove_key("service");
        assert!(json_line(None).get("service").is_none());
    }

    /// The installed format writes whole lines with the thread's request id.
    #[test]
    fn lines_through_env_logger() {
        #[derive(Clone, Default)]
        struct Sink(Arc<Mutex<Vec<u8>>>);
        impl Write for Sink {
            fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let sink = Sink::default();
        let logger = builder_from(|k| (k == "AWS_LAMBDA_LOG_FORMAT").then(|| "json".to_owned()))
            .target(env_logger::Target::Pipe(Box::new(sink.clone())))
            .build();
        set_request_id(Some(Arc::from("req-9")));
        logger.log(
            &Record::builder()
                .level(Level::Info)
                .target("my_fn")
                .args(format_args!("n = {}", 3))
                .build(),
        );
        set_request_id(None);
        let text = String::from_utf8(sink.0.lock().unwrap().clone()).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["message"], "n = 3");
        assert_eq!(v["requestId"], "req-9");
        assert_eq!(v["level"], "INFO");
        assert!(request_id().is_none());
    }
}
