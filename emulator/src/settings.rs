//! The emulated function's settings ([`Settings`], fixed when the emulator starts) and where
//! Lambda's START / END / REPORT lines go ([`Reports`]).

use std::io::{self, Write};
use std::time::Duration;

use coda_lambda::logging::LogFormat;

use crate::limits::Listeners;

/// The emulated function's settings, as the builder left them.
#[derive(Clone, Debug)]
pub(crate) struct Settings {
    /// `AWS_LAMBDA_FUNCTION_NAME`, and the name the invoke front answers to.
    pub(crate) function_name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`, in START lines and `X-Amz-Executed-Version`.
    pub(crate) version: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, in REPORT lines.
    pub(crate) memory_mb: u32,
    /// The function timeout: each invocation's deadline unless it sets its own.
    pub(crate) timeout: Duration,
    /// The region in ARNs, URLs and `AWS_REGION`.
    pub(crate) region: String,
    /// The account id in ARNs.
    pub(crate) account_id: String,
    /// A path the Runtime API is served under (empty: none).
    pub(crate) path_prefix: String,
    /// Whether each event gets a fresh trace id.
    pub(crate) trace_ids: bool,
    /// Parked `/next` calls allowed; above 1, Managed Instances mode.
    pub(crate) concurrency: usize,
    /// Where START / END / REPORT lines are printed.
    pub(crate) reports: Reports,
    /// `_HANDLER`, when set (else a `_HANDLER` of the host's environment passes through).
    pub(crate) handler: Option<String>,
    /// `AWS_LAMBDA_LOG_FORMAT`: also the format of the platform lines (text, or JSON
    /// `platform.*` records).
    pub(crate) log_format: LogFormat,
    /// Whether a supervised function process is frozen (stopped) while it waits in `/next`.
    pub(crate) freeze: bool,
    /// Declared aliases and the version each points at, in declaration order.
    pub(crate) aliases: Vec<(String, String)>,
    /// The connection caps and timeouts of the Runtime API port and the invoke front.
    pub(crate) listeners: Listeners,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            function_name: "function".into(),
            version: "$LATEST".into(),
            memory_mb: 128,
            timeout: Duration::from_secs(3),
            region: "us-east-1".into(),
            account_id: "123456789012".into(),
            path_prefix: String::new(),
            trace_ids: true,
            concurrency: 1,
            reports: Reports::Off,
            handler: None,
            log_format: LogFormat::Text,
            freeze: false,
            aliases: Vec::new(),
            listeners: Listeners::default(),
        }
    }
}

impl Settings {
    /// The version a qualifier names, as Lambda resolves it: `$LATEST`, the version the
    /// function runs as, a version an alias points at, or an alias; `None` for anything else
    /// (Lambda answers 404).
    pub(crate) fn resolve_qualifier(&self, qualifier: &str) -> Option<&str> {
        if qualifier == "$LATEST" {
            return Some("$LATEST");
        }
        if qualifier == self.version {
            return Some(&self.version);
        }
        if let Some((_, version)) = self.aliases.iter().find(|(alias, _)| alias == qualifier) {
            return Some(version);
        }
        self.aliases
            .iter()
            .find(|(_, version)| version == qualifier)
            .map(|(_, version)| version.as_str())
    }
}

/// Where the emulator prints the function's log stream: Lambda's START / END / REPORT lines,
/// and the supervised function process's own output.
///
/// Everything is kept in each invocation's logs either way ([`crate::Finished::logs`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reports {
    /// Nothing printed: the default, and what tests want (a passing run stays quiet).
    #[default]
    Off,
    /// START / END / REPORT to standard output, as Lambda writes them to the log stream; the
    /// function's stdout and stderr to this process's stdout and stderr.
    Stdout,
    /// START / END / REPORT to standard error; the function's output as with `Stdout`.
    Stderr,
}

impl Reports {
    /// Whether the supervised function's own output is passed through to this process's.
    pub(crate) fn forwards_output(self) -> bool {
        self != Reports::Off
    }

    /// Prints a warning of the emulator's own (`coda: warning: …`) to standard error, when
    /// reports are printed at all.
    pub(crate) fn warn(self, text: &str) {
        if self != Reports::Off {
            let _ = writeln!(io::stderr().lock(), "coda: warning: {text}");
        }
    }

    /// Prints `line` where these settings say (a closed stream is not an error here).
    pub(crate) fn print(self, line: &str) {
        let _ = match self {
            Reports::Off => Ok(()),
            Reports::Stdout => writeln!(io::stdout().lock(), "{line}"),
            Reports::Stderr => writeln!(io::stderr().lock(), "{line}"),
        };
    }
}
