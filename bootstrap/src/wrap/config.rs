//! `coda wrap`'s settings, read once at start: the command line over the variables of
//! aws-lambda-post-runner, so that a function configured for the post-runner works unchanged.
//!
//! | setting | command line | variable | default |
//! | --- | --- | --- | --- |
//! | command after a response | `--after-response CMD` | `AWS_LAMBDA_POST_RUNNER_COMMAND` with `AfterResponse` in `AWS_LAMBDA_POST_RUNNER_MODE` | none |
//! | command after an error | `--after-error CMD` | `AWS_LAMBDA_POST_RUNNER_COMMAND` with `AfterError` in the mode | none |
//! | which answers run the variable's command | | `AWS_LAMBDA_POST_RUNNER_MODE`: `AfterResponse`, `AfterError`, comma-separated, any case and spacing | both |
//! | the shell that runs commands (`SHELL -c CMD`) | `--shell PATH` | `AWS_LAMBDA_POST_RUNNER_SHELL` | `/bin/bash`, else `/bin/sh` |
//! | event and answer files | `--files` | `AWS_LAMBDA_POST_RUNNER_FILES=1` | off |
//! | how long before the deadline a command is stopped | `--margin MS` | `CODA_WRAP_MARGIN_MS` | 500 |
//! | coda wrap's own lines | | `AWS_LAMBDA_POST_RUNNER_LOG_LEVEL` | `info` |
//!
//! A flag replaces the variables for its own answer only. An unknown mode, a `FILES` value
//! that is not a yes or a no, or a margin that is not a number is an error at start, said in
//! one line; a log level that names no level is a warning. The Runtime API comes from
//! `AWS_LAMBDA_RUNTIME_API`, and whether invocations run concurrently (Managed Instances) from
//! `AWS_LAMBDA_MAX_CONCURRENCY`, as for any runtime.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use coda_emulator::LogFormat;

use super::log::{self, Level, Log};
use crate::cli::WrapArgs;

/// The command: the post-runner's name for it.
pub const COMMAND_VAR: &str = "AWS_LAMBDA_POST_RUNNER_COMMAND";
/// Which answers run it.
pub const MODE_VAR: &str = "AWS_LAMBDA_POST_RUNNER_MODE";
/// The shell.
pub const SHELL_VAR: &str = "AWS_LAMBDA_POST_RUNNER_SHELL";
/// The log level of coda wrap's own lines.
pub const LOG_LEVEL_VAR: &str = "AWS_LAMBDA_POST_RUNNER_LOG_LEVEL";
/// Event and answer files for the command.
pub const FILES_VAR: &str = "AWS_LAMBDA_POST_RUNNER_FILES";
/// The margin before the deadline, in milliseconds.
pub const MARGIN_VAR: &str = "CODA_WRAP_MARGIN_MS";

/// How long before the deadline a command still running is stopped, unless set.
pub const DEFAULT_MARGIN: Duration = Duration::from_millis(500);
/// The post-runner's shell.
const BASH: &str = "/bin/bash";
/// The shell every Lambda image has.
const SH: &str = "/bin/sh";

/// What `coda wrap` runs and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// The command after an answer the Runtime API accepted as a response.
    pub after_response: Option<String>,
    /// The command after an error (`/error`, an error trailer, a response too large).
    pub after_error: Option<String>,
    /// The shell commands run in (`SHELL -c CMD`).
    pub shell: PathBuf,
    /// Whether commands get the event and the answer as files.
    pub files: bool,
    /// How long before the deadline a command still running is stopped.
    pub margin: Duration,
    /// Where coda wrap's own lines go.
    pub log: Log,
    /// `AWS_LAMBDA_MAX_CONCURRENCY` (1 unless above 1).
    pub concurrency: usize,
    /// The real Runtime API: `http://host:port[/prefix]`.
    pub runtime_api: String,
    /// What was odd but usable, to log at start.
    pub warnings: Vec<String>,
}

/// A setting `coda wrap` cannot start with.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SettingsError {
    /// `AWS_LAMBDA_POST_RUNNER_MODE` holds a word that is no mode.
    UnknownMode {
        /// The whole value.
        value: String,
        /// The word.
        token: String,
    },
    /// `AWS_LAMBDA_POST_RUNNER_FILES` is neither a yes nor a no.
    Files {
        /// The value.
        value: String,
    },
    /// `CODA_WRAP_MARGIN_MS` is not a number of milliseconds.
    Margin {
        /// The value.
        value: String,
    },
    /// `AWS_LAMBDA_RUNTIME_API` is missing or unusable (the runtime's own reading of it).
    RuntimeApi(coda_lambda::ConfigError),
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownMode { value, token } => write!(
                f,
                "{MODE_VAR} is `{value}`, and `{token}` is not a mode: use AfterResponse, AfterError, or both separated by a comma"
            ),
            Self::Files { value } => write!(
                f,
                "{FILES_VAR} is `{value}`: use 1 (or true, yes, on) for the event and answer files, 0 (or false, no, off) for none"
            ),
            Self::Margin { value } => write!(
                f,
                "{MARGIN_VAR} is `{value}`: give the margin before the deadline in milliseconds, e.g. 500"
            ),
            // The runtime's own message names the variable and the fix.
            Self::RuntimeApi(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for SettingsError {}

/// Which answers run the post-runner's command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modes {
    /// `AfterResponse`.
    pub after_response: bool,
    /// `AfterError`.
    pub after_error: bool,
}

/// Reads `AWS_LAMBDA_POST_RUNNER_MODE`: modes separated by commas (or spaces), any case,
/// with or without `-` and `_` (`after-error`); an empty value is the default, both.
pub fn parse_modes(value: &str) -> Result<Modes, SettingsError> {
    let mut modes = Modes {
        after_response: false,
        after_error: false,
    };
    let mut any = false;
    for token in value.split(|c: char| c == ',' || c.is_whitespace()) {
        let word: String = token
            .chars()
            .filter(|c| *c != '-' && *c != '_')
            .collect::<String>()
            .to_ascii_lowercase();
        match word.as_str() {
            "" => continue,
            "afterresponse" => modes.after_response = true,
            "aftererror" => modes.after_error = true,
            _ => {
                return Err(SettingsError::UnknownMode {
                    value: value.to_owned(),
                    token: token.to_owned(),
                });
            }
        }
        any = true;
    }
    if !any {
        return Ok(Modes {
            after_response: true,
            after_error: true,
        });
    }
    Ok(modes)
}

/// Reads a yes or a no.
fn parse_switch(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "" | "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// The settings from the command line and the variables `lookup` gives; `runnable` says
/// whether a path is a program that can run (for the shell's fallback).
pub fn settings(
    args: &WrapArgs,
    lookup: impl Fn(&str) -> Option<String>,
    runnable: impl Fn(&Path) -> bool,
) -> Result<Settings, SettingsError> {
    let mut warnings = Vec::new();
    let present = |key: &str| lookup(key).filter(|v| !v.trim().is_empty());

    let command = present(COMMAND_VAR);
    let modes = match lookup(MODE_VAR) {
        Some(value) => parse_modes(&value)?,
        None => parse_modes("")?,
    };
    let from_var = |on: bool| command.clone().filter(|_| on);
    let after_response = args
        .after_response
        .clone()
        .or_else(|| from_var(modes.after_response));
    let after_error = args
        .after_error
        .clone()
        .or_else(|| from_var(modes.after_error));
    if after_response.is_none() && after_error.is_none() {
        warnings.push(match &command {
            Some(_) => format!(
                "{MODE_VAR} names no answer the command runs after: only forwarding the Runtime API"
            ),
            None => format!(
                "no command to run: set {COMMAND_VAR} (or give --after-response / --after-error); only forwarding the Runtime API"
            ),
        });
    }

    let shell = match args
        .shell
        .clone()
        .or_else(|| present(SHELL_VAR).map(PathBuf::from))
    {
        Some(shell) => {
            if !runnable(&shell) {
                warnings.push(format!(
                    "the shell {} cannot be run: every command will fail to start",
                    shell.display()
                ));
            }
            shell
        }
        None if runnable(Path::new(BASH)) => PathBuf::from(BASH),
        None => PathBuf::from(SH),
    };

    let files = match (args.files, lookup(FILES_VAR)) {
        (true, _) | (false, None) => args.files,
        (false, Some(value)) => parse_switch(&value).ok_or(SettingsError::Files {
            value: value.clone(),
        })?,
    };

    let margin = match (args.margin, lookup(MARGIN_VAR)) {
        (Some(margin), _) => margin,
        (None, None) => DEFAULT_MARGIN,
        (None, Some(value)) => value
            .trim()
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| SettingsError::Margin {
                value: value.clone(),
            })?,
    };

    let level = match lookup(LOG_LEVEL_VAR) {
        None => Some(Level::Info),
        Some(value) => log::parse_level(&value).unwrap_or_else(|| {
            warnings.push(format!(
                "{LOG_LEVEL_VAR} is `{value}`, which names no level (off, error, warn, info, debug, trace): using info"
            ));
            Some(Level::Info)
        }),
    };
    let api = coda_lambda::Config::from_lookup(&lookup).map_err(SettingsError::RuntimeApi)?;
    Ok(Settings {
        after_response,
        after_error,
        shell,
        files,
        margin,
        log: Log::new(log_format(&lookup), level),
        concurrency: api.max_concurrency(),
        runtime_api: api.runtime_api(),
        warnings,
    })
}

/// The format of coda wrap's lines: the function's `AWS_LAMBDA_LOG_FORMAT`, JSON by default
/// on Managed Instances (`docs/runtime-api.md` §6.1), as the runtime reads it.
fn log_format(lookup: &dyn Fn(&str) -> Option<String>) -> LogFormat {
    match lookup("AWS_LAMBDA_LOG_FORMAT") {
        Some(v) if v.trim().eq_ignore_ascii_case("json") => LogFormat::Json,
        Some(_) => LogFormat::Text,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// No flags, no command.
    fn no_args() -> WrapArgs {
        WrapArgs {
            after_response: None,
            after_error: None,
            files: false,
            shell: None,
            margin: None,
            command: vec!["rt".into()],
        }
    }

    /// The settings for `args` under the variables `vars` (plus a Runtime API), with `bash`
    /// present or not.
    fn read(args: &WrapArgs, vars: &[(&str, &str)], bash: bool) -> Result<Settings, String> {
        let mut env: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.entry("AWS_LAMBDA_RUNTIME_API".into())
            .or_insert_with(|| "127.0.0.1:9001".into());
        settings(
            args,
            |k| env.get(k).cloned(),
            |p| p == Path::new(SH) || (bash && p == Path::new(BASH)),
        )
        .map_err(|e| e.to_string())
    }

    /// The mode is read as people write it: any case, spaces around commas, dashes; unknown
    /// words are one clear error that names the word, never a panic.
    #[test]
    fn tolerant_modes() {
        let both = Modes {
            after_response: true,
            after_error: true,
        };
        for value in [
            "AfterResponse,AfterError",
            "AfterResponse, AfterError",
            " afterresponse ,AFTERERROR ",
            "after-response after_error",
            "AfterError,AfterResponse,",
            "",
            "  ",
        ] {
            assert_eq!(parse_modes(value), Ok(both), "{value:?}");
        }
        assert_eq!(
            parse_modes(" AfterError "),
            Ok(Modes {
                after_response: false,
                after_error: true
            })
        );
        assert_eq!(
            parse_modes("afterResponse"),
            Ok(Modes {
                after_response: true,
                after_error: false
            })
        );
        let error = parse_modes("AfterResponse, AfterEror").unwrap_err();
        assert_eq!(
            error.to_string(),
            "AWS_LAMBDA_POST_RUNNER_MODE is `AfterResponse, AfterEror`, and `AfterEror` is not a mode: use AfterResponse, AfterError, or both separated by a comma"
        );
    }

    /// The post-runner's variables alone configure everything.
    #[test]
    fn post_runner_variables() {
        let s = read(
            &no_args(),
            &[
                (COMMAND_VAR, "echo done"),
                (MODE_VAR, "AfterError"),
                (SHELL_VAR, "/bin/sh"),
                (LOG_LEVEL_VAR, "DEBUG"),
                (FILES_VAR, "1"),
            ],
            true,
        )
        .unwrap();
        assert_eq!(s.after_response, None);
        assert_eq!(s.after_error.as_deref(), Some("echo done"));
        assert_eq!(s.shell, Path::new("/bin/sh"));
        assert!(s.files);
        assert!(s.log.enabled(Level::Debug));
        assert_eq!(s.margin, DEFAULT_MARGIN);
        assert_eq!(s.runtime_api, "http://127.0.0.1:9001");
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);
        let default = read(&no_args(), &[(COMMAND_VAR, "x")], true).unwrap();
        assert_eq!(
            (
                default.after_response.as_deref(),
                default.after_error.as_deref()
            ),
            (Some("x"), Some("x")),
            "both modes by default"
        );
        assert_eq!(default.shell, Path::new(BASH));
        assert!(!default.log.enabled(Level::Debug) && default.log.enabled(Level::Info));
    }

    /// Without bash the default shell is sh; a shell that cannot run is a warning at start.
    #[test]
    fn shells() {
        let no_bash = read(&no_args(), &[(COMMAND_VAR, "x")], false).unwrap();
        assert_eq!(no_bash.shell, Path::new(SH));
        let missing = read(
            &no_args(),
            &[(COMMAND_VAR, "x"), (SHELL_VAR, "/nonexistent/sh")],
            true,
        )
        .unwrap();
        assert_eq!(missing.shell, Path::new("/nonexistent/sh"));
        assert!(
            missing.warnings[0].contains("cannot be run"),
            "{:?}",
            missing.warnings
        );
    }

    /// A flag replaces the variable for its own answer only; flags alone need no variable.
    #[test]
    fn flags_over_variables() {
        let args = WrapArgs {
            after_error: Some("on-error".into()),
            margin: Some(Duration::from_millis(250)),
            ..no_args()
        };
        let s = read(&args, &[(COMMAND_VAR, "from-var")], true).unwrap();
        assert_eq!(s.after_response.as_deref(), Some("from-var"));
        assert_eq!(s.after_error.as_deref(), Some("on-error"));
        assert_eq!(s.margin, Duration::from_millis(250));
        let alone = read(&args, &[], true).unwrap();
        assert_eq!(alone.after_response, None);
        assert!(alone.warnings.is_empty());
    }

    /// What cannot be used is refused at start with the variable's name; a missing Runtime
    /// API is the runtime's own message.
    #[test]
    fn refusals_and_warnings() {
        let cases = [
            (
                (FILES_VAR, "maybe"),
                "AWS_LAMBDA_POST_RUNNER_FILES is `maybe`",
            ),
            ((MARGIN_VAR, "half"), "CODA_WRAP_MARGIN_MS is `half`"),
            ((MODE_VAR, "Always"), "`Always` is not a mode"),
        ];
        for ((key, value), message) in cases {
            let error = read(&no_args(), &[(key, value)], true).unwrap_err();
            assert!(error.contains(message), "{error}");
        }
        let quiet = read(&no_args(), &[(LOG_LEVEL_VAR, "loud")], true).unwrap();
        assert!(quiet.warnings.iter().any(|w| w.contains("names no level")));
        assert!(
            quiet
                .warnings
                .iter()
                .any(|w| w.contains("no command to run"))
        );
        let mut env = HashMap::new();
        env.insert("AWS_LAMBDA_POST_RUNNER_COMMAND", "x");
        let missing = settings(&no_args(), |k| env.get(k).map(|v| v.to_string()), |_| true);
        assert!(matches!(missing, Err(SettingsError::RuntimeApi(_))));
        let json = read(&no_args(), &[("AWS_LAMBDA_MAX_CONCURRENCY", "4")], true).unwrap();
        assert_eq!(
            (json.concurrency, json.log),
            (4, Log::new(LogFormat::Json, Some(Level::Info)))
        );
    }
}
