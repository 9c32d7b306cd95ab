//! The command line: a small hand-written parser (`--flag VALUE` or `--flag=VALUE`; `--`
//! before the function's command).

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

/// The help text.
pub const USAGE: &str = "\
bench-load: a closed-loop load caller for `coda run`

usage:
  bench-load --coda PATH --callers C --invocations I [--concurrency N] [--warm-up W]
             [--sample-every K] [--payload-bytes B] [--sleep-ms MS] [--check auto|echo|trace]
             [--retry-pause-us US] [--retry-cap-us CAP] [--label L] [--log FILE] -- FUNCTION [ARGS...]

  Starts `PATH run --port 0 [--concurrency N] -- FUNCTION ARGS`, waits until the function is
  ready, and drives its Invoke API with C caller threads (one kept-alive connection each):
  W warm-up invocations [100], then I measured ones, split evenly among the callers. Each
  event is {\"caller\":c,\"pad\":\"x...\",\"seq\":s[,\"sleep_ms\":MS]} of B bytes [64], with an
  X-Amzn-Trace-Id of its own. Checks [auto: from the first answer's shape]: `echo`, the answer
  is the event byte for byte; `trace`, the answer's trace_id has the Root sent and every
  request_id is distinct. A 429 is retried as AWS SDKs retry a throttle: after a pause drawn
  at random up to US microseconds [50000], the bound doubling with each 429 of the invocation
  up to CAP [1000000] (exponential back-off with full jitter; CAP = US: a fixed pause; US = 0:
  a yield), for up to 60 s; a connection error or another status up to 3 times. Every K measured invocations [0: never]
  a line of memory figures. The report goes to stderr, one JSON line of figures to stdout;
  coda's own output goes to FILE [dropped]. Exit status: 0 when nothing was lost or
  mismatched, 1 otherwise, 2 when the run could not take place.
";

/// How answers are checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// Decided from the first answer: `trace` when it is an object with `request_id` and
    /// `trace_id`, else `echo`.
    Auto,
    /// The answer is the event, byte for byte.
    Echo,
    /// The answer names the trace Root sent, and a request id of its own.
    Trace,
}

impl Check {
    /// The name on the command line and in the figures.
    pub fn name(self) -> &'static str {
        match self {
            Check::Auto => "auto",
            Check::Echo => "echo",
            Check::Trace => "trace",
        }
    }
}

/// What the command line asked for.
#[derive(Debug)]
pub struct Options {
    /// The `coda` binary.
    pub coda: PathBuf,
    /// Caller threads.
    pub callers: usize,
    /// Measured invocations, over all callers.
    pub invocations: u64,
    /// `coda run --concurrency N`, when given.
    pub concurrency: Option<usize>,
    /// Warm-up invocations, over all callers, not counted.
    pub warm_up: u64,
    /// A memory sample every this many measured invocations (0: none).
    pub sample_every: u64,
    /// The size of each event.
    pub payload_bytes: usize,
    /// `"sleep_ms"` in the event, when given.
    pub sleep_ms: Option<u64>,
    /// How answers are checked.
    pub check: Check,
    /// The first bound of the pause before a 429 is retried (zero: a yield).
    pub retry_pause: Duration,
    /// The largest bound the pause doubles up to (equal to `retry_pause`: a fixed pause).
    pub retry_cap: Duration,
    /// The run's name in the figures.
    pub label: String,
    /// Where coda's stdout and stderr go (`None`: dropped).
    pub log: Option<PathBuf>,
    /// The function's command.
    pub command: Vec<OsString>,
}

/// Parses the arguments (without the program name); `Ok(None)` for `--help`.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Option<Options>, String> {
    let mut args = args.into_iter();
    let mut coda = None;
    let mut callers = 1;
    let mut invocations = None;
    let mut concurrency = None;
    let mut warm_up = 100;
    let mut sample_every = 0;
    let mut payload_bytes = 64;
    let mut sleep_ms = None;
    let mut check = Check::Auto;
    let mut retry_pause = Duration::from_millis(50);
    let mut retry_cap = Duration::from_secs(1);
    let mut label = None;
    let mut log = None;
    let mut command = Vec::new();
    while let Some(arg) = args.next() {
        let text = arg
            .to_str()
            .ok_or_else(|| format!("argument {arg:?} is not UTF-8"))?
            .to_owned();
        if text == "--" {
            command.extend(args.by_ref());
            break;
        }
        if text == "--help" || text == "-h" {
            return Ok(None);
        }
        let (flag, inline) = match text.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_owned(), Some(value.into())),
            _ => (text.clone(), None),
        };
        if !flag.starts_with("--") {
            return Err(format!(
                "unexpected argument `{text}`: write `--` before the function's command"
            ));
        }
        let mut value = || -> Result<String, String> {
            match inline.clone() {
                Some(v) => Ok(v),
                None => args
                    .next()
                    .and_then(|v| v.into_string().ok())
                    .ok_or_else(|| format!("`{flag}` needs a value")),
            }
        };
        match flag.as_str() {
            "--coda" => coda = Some(PathBuf::from(value()?)),
            "--callers" => callers = number(&flag, &value()?)?,
            "--invocations" => invocations = Some(number(&flag, &value()?)?),
            "--concurrency" => concurrency = Some(number(&flag, &value()?)?),
            "--warm-up" => warm_up = number(&flag, &value()?)?,
            "--sample-every" => sample_every = number(&flag, &value()?)?,
            "--payload-bytes" => payload_bytes = number(&flag, &value()?)?,
            "--sleep-ms" => sleep_ms = Some(number(&flag, &value()?)?),
            "--retry-pause-us" => retry_pause = Duration::from_micros(number(&flag, &value()?)?),
            "--retry-cap-us" => retry_cap = Duration::from_micros(number(&flag, &value()?)?),
            "--label" => label = Some(value()?),
            "--log" => log = Some(PathBuf::from(value()?)),
            "--check" => {
                check = match value()?.as_str() {
                    "auto" => Check::Auto,
                    "echo" => Check::Echo,
                    "trace" => Check::Trace,
                    other => return Err(format!("`--check {other}`: use auto, echo or trace")),
                }
            }
            _ => return Err(format!("unknown flag `{flag}` (see --help)")),
        }
    }
    let coda = coda.ok_or("`--coda PATH` is required")?;
    let invocations = invocations.ok_or("`--invocations I` is required")?;
    if callers == 0 {
        return Err("`--callers` must be at least 1".into());
    }
    if invocations == 0 {
        return Err("`--invocations` must be at least 1".into());
    }
    if concurrency == Some(0) {
        return Err("`--concurrency` must be at least 1".into());
    }
    if command.is_empty() {
        return Err("no function: write `-- FUNCTION [ARGS...]` last".into());
    }
    let label = label.unwrap_or_else(|| {
        PathBuf::from(&command[0])
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    Ok(Some(Options {
        coda,
        callers,
        invocations,
        concurrency,
        warm_up,
        sample_every,
        payload_bytes,
        sleep_ms,
        check,
        retry_pause,
        retry_cap: retry_cap.max(retry_pause),
        label,
        log,
        command,
    }))
}

/// A non-negative integer flag value.
fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("`{flag}` takes a non-negative integer, not `{value}`"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_strs(args: &[&str]) -> Result<Option<Options>, String> {
        parse(args.iter().map(OsString::from))
    }

    #[test]
    fn flags_and_command() {
        let o = parse_strs(&[
            "--coda=c",
            "--callers",
            "8",
            "--invocations",
            "10",
            "--check",
            "trace",
            "--",
            "fn",
            "--x",
        ])
        .unwrap()
        .unwrap();
        assert_eq!((o.callers, o.invocations, o.check), (8, 10, Check::Trace));
        assert_eq!(o.command, vec![OsString::from("fn"), OsString::from("--x")]);
        assert_eq!(o.label, "fn");
        assert_eq!(o.warm_up, 100);
    }

    #[test]
    fn mistakes_are_messages() {
        assert!(parse_strs(&["--coda", "c", "--", "f"]).is_err());
        assert!(parse_strs(&["--coda", "c", "--invocations", "x", "--", "f"]).is_err());
        assert!(parse_strs(&["--coda", "c", "--invocations", "1"]).is_err());
        assert!(parse_strs(&["--bogus"]).is_err());
        assert!(parse_strs(&["--help"]).unwrap().is_none());
    }
}
