//! The command line: what to run, how many events, which event, and how to end the run.
//! The flags are those of the external kit's `fake-runtime-api` that `bench/run.sh` uses,
//! with the same meanings, so the script can drive either.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The kit's default event: its keys sorted, so a `serde_json::Value` round trip returns it
/// byte for byte.
pub const DEFAULT_EVENT: &[u8] =
    br#"{"command":"echo","id":42,"items":[1,2,3],"nested":{"a":"b","c":true}}"#;

/// The usage text.
pub const USAGE: &str = "\
usage: bench-driver [-n N] [--event JSON | --event-file FILE] [--no-check-echo]
                    [--trace-id unique|fixed|none] [--end close|error|kill]
                    [--exit-timeout-ms MS] [--timeout-s S] [--window W] [--label TEXT]
                    [--quiet] -- COMMAND [ARGS...]";

/// The `Lambda-Runtime-Trace-Id` each event carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceIds {
    /// A new one per event, as on AWS (the emulator's own).
    Unique,
    /// The same one on every event.
    Fixed,
    /// None at all.
    None,
}

/// How the function is ended once it answered every event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum End {
    /// Its next `/next` finds the connection closed (a runtime then exits on its own).
    Close,
    /// Its next `/next` gets a 500.
    Error,
    /// It is killed right after its last answer.
    Kill,
}

/// What one run does.
#[derive(Clone, Debug)]
pub struct Options {
    /// Events to serve.
    pub invocations: usize,
    /// The event's bytes.
    pub event: Vec<u8>,
    /// Whether every response must be the event, byte for byte.
    pub check_echo: bool,
    /// The trace ids the events carry.
    pub trace_ids: TraceIds,
    /// How the function is ended.
    pub end: End,
    /// How long the function may take to exit after the end before it is killed.
    pub exit_timeout: Duration,
    /// How long the whole run may take.
    pub overall_timeout: Duration,
    /// Events queued ahead of the one the function is serving.
    pub window: usize,
    /// A label repeated in the figures.
    pub label: String,
    /// Whether to leave out the report on stderr.
    pub quiet: bool,
    /// The function's program and arguments.
    pub command: Vec<OsString>,
}

/// A command line that cannot be used.
#[derive(Debug)]
pub enum UsageError {
    /// A flag without its value.
    MissingValue(String),
    /// A value that is not one the flag takes.
    BadValue {
        /// The flag.
        flag: String,
        /// The value given.
        value: String,
    },
    /// A flag this program does not have.
    UnknownFlag(String),
    /// No command after `--`.
    NoCommand,
    /// `-n 0`.
    NoInvocations,
    /// `--event-file` could not be read.
    EventFile {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UsageError::MissingValue(flag) => write!(f, "{flag} needs a value"),
            UsageError::BadValue { flag, value } => write!(f, "{flag} does not take {value:?}"),
            UsageError::UnknownFlag(flag) => write!(f, "unknown flag {flag}"),
            UsageError::NoCommand => f.write_str("no function command: put it after --"),
            UsageError::NoInvocations => f.write_str("-n must be at least 1"),
            UsageError::EventFile { path, .. } => {
                write!(f, "cannot read the event file {}", path.display())
            }
        }
    }
}

impl std::error::Error for UsageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            UsageError::EventFile { source, .. } => Some(source),
            _ => None,
        }
    }
}

impl Options {
    /// Parses the arguments after the program name; `Ok(None)` for `--help`.
    pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, UsageError> {
        let mut options = Options {
            invocations: 1,
            event: DEFAULT_EVENT.to_vec(),
            check_echo: true,
            trace_ids: TraceIds::Unique,
            end: End::Error,
            exit_timeout: Duration::from_secs(5),
            overall_timeout: Duration::from_secs(600),
            window: 4,
            label: String::new(),
            quiet: false,
            command: Vec::new(),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let flag = arg.to_string_lossy().into_owned();
            let mut value = || {
                args.next()
                    .map(|v| v.to_string_lossy().into_owned())
                    .ok_or_else(|| UsageError::MissingValue(flag.clone()))
            };
            match flag.as_str() {
                "-n" | "--invocations" => options.invocations = number(&flag, value()?)?,
                "--event" => options.event = value()?.into_bytes(),
                "--event-file" => {
                    let path = PathBuf::from(value()?);
                    options.event = std::fs::read(&path)
                        .map_err(|source| UsageError::EventFile { path, source })?;
                }
                "--no-check-echo" => options.check_echo = false,
                "--trace-id" => {
                    options.trace_ids = match value()?.as_str() {
                        "unique" => TraceIds::Unique,
                        "fixed" => TraceIds::Fixed,
                        "none" => TraceIds::None,
                        other => return Err(bad(&flag, other)),
                    }
                }
                "--end" => {
                    options.end = match value()?.as_str() {
                        "close" => End::Close,
                        "error" => End::Error,
                        "kill" => End::Kill,
                        other => return Err(bad(&flag, other)),
                    }
                }
                "--exit-timeout-ms" => {
                    options.exit_timeout = Duration::from_millis(number(&flag, value()?)?)
                }
                "--timeout-s" => {
                    options.overall_timeout = Duration::from_secs(number(&flag, value()?)?)
                }
                "--window" => options.window = number::<usize>(&flag, value()?)?.max(1),
                "--label" => options.label = value()?,
                "--quiet" => options.quiet = true,
                "-h" | "--help" => return Ok(None),
                "--" => {
                    options.command = args.by_ref().collect();
                    break;
                }
                _ => return Err(UsageError::UnknownFlag(flag)),
            }
        }
        if options.command.is_empty() {
            return Err(UsageError::NoCommand);
        }
        if options.invocations == 0 {
            return Err(UsageError::NoInvocations);
        }
        Ok(Some(options))
    }
}

fn number<T: std::str::FromStr>(flag: &str, value: String) -> Result<T, UsageError> {
    value.parse().map_err(|_| bad(flag, &value))
}

fn bad(flag: &str, value: &str) -> UsageError {
    UsageError::BadValue {
        flag: flag.to_owned(),
        value: value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Options>, UsageError> {
        Options::parse(args.iter().map(OsString::from))
    }

    #[test]
    fn the_kit_flags_run_sh_uses_are_understood() {
        let options = parse(&[
            "-n",
            "1000",
            "--trace-id",
            "fixed",
            "--exit-timeout-ms",
            "300000",
            "--label",
            "cpu",
            "--quiet",
            "--",
            "valgrind",
            "--tool=callgrind",
            "./echo",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(options.invocations, 1000);
        assert_eq!(options.trace_ids, TraceIds::Fixed);
        assert_eq!(options.exit_timeout, Duration::from_secs(300));
        assert_eq!(options.label, "cpu");
        assert!(options.quiet && options.check_echo);
        assert_eq!(options.event, DEFAULT_EVENT);
        // Everything after `--` is the command, flags included.
        assert_eq!(options.command, ["valgrind", "--tool=callgrind", "./echo"]);
    }

    #[test]
    fn a_bad_command_line_says_what_is_wrong() {
        let message = |args: &[&str]| parse(args).unwrap_err().to_string();
        assert_eq!(message(&["-n"]), "-n needs a value");
        assert_eq!(message(&["-n", "x", "--", "f"]), "-n does not take \"x\"");
        assert_eq!(
            message(&["--end", "later", "--", "f"]),
            "--end does not take \"later\""
        );
        assert_eq!(message(&["--fast", "--", "f"]), "unknown flag --fast");
        assert_eq!(
            message(&["-n", "3"]),
            "no function command: put it after --"
        );
        assert_eq!(message(&["-n", "0", "--", "f"]), "-n must be at least 1");
        assert!(parse(&["--help"]).unwrap().is_none());
    }
}
