//! The command line: a small hand-written parser (no dependency) that turns
//! the arguments into a [`Command`].
//!
//! Flags may come before or after positional arguments; a flag's value is
//! given as `--flag VALUE`, `--flag=VALUE` or `-f VALUE`; `--` ends the flags
//! (everything after it is positional, which `coda run -- <command...>` will
//! rely on).

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// The help text, printed by `coda --help` and `coda help`.
pub const USAGE: &str = "\
coda: the Coda command for AWS Lambda functions written with the coda runtime

usage:
  coda run [--port P] [--timeout S] [--memory MB] [--concurrency N] [--name NAME]
           [--env K=V]... [--invoke JSON] -- <command...>
      Start the Lambda emulator and run <command> as the function, with the
      Lambda environment set. Invocations arrive on 127.0.0.1:P (default
      9000): the Invoke API path /2015-03-31/functions/NAME/invocations
      (what `coda invoke`, the AWS CLI and SDKs use) and a Function URL for
      any other path. The function is restarted after a timeout (default
      3 s) or a crash. With --invoke, send that one event, print the answer
      as soon as it is posted, wait for the invocation to end, and exit.
  coda invoke [--data JSON | --data-file F] [--name NAME] [--url U] [--tail]
      Invoke the function served by `coda run` (default URL
      http://127.0.0.1:9000, name `function`); print the payload, the
      function error type if any, and with --tail the log tail.
  coda package <binary> [-o|--output <file.zip>]
      Check that <binary> can run on Lambda's provided.al2023 runtime (a
      64-bit x86_64 or arm64 Linux executable needing at most glibc 2.34)
      and write the deployable zip: one entry, `bootstrap`, mode 0755.
      The zip goes to ./<binary name>.zip unless -o says otherwise.
  coda help | --help | -h
      Print this help.
  coda --version | -V
      Print the version.
";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print the help text.
    Help,
    /// Print `coda <version>`.
    Version,
    /// Check a binary and write its deployable zip.
    Package(PackageArgs),
    /// Run a function under the emulator.
    Run(RunArgs),
    /// Invoke a function served by `coda run`.
    Invoke(InvokeArgs),
}

/// The arguments of `coda run`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunArgs {
    /// The port of the invoke front (Invoke API and Function URL); `None` for the default
    /// (9000), or no front at all with `--invoke`.
    pub port: Option<u16>,
    /// The function timeout.
    pub timeout: std::time::Duration,
    /// The memory size reported to the function, in MB.
    pub memory_mb: u32,
    /// `AWS_LAMBDA_MAX_CONCURRENCY` (Managed Instances mode when above 1).
    pub concurrency: usize,
    /// The function name.
    pub name: String,
    /// Extra environment variables for the function.
    pub env: Vec<(String, String)>,
    /// One event to send, then exit.
    pub invoke: Option<String>,
    /// The command that runs the function.
    pub command: Vec<OsString>,
}

/// The arguments of `coda invoke`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvokeArgs {
    /// The event, inline.
    pub data: Option<String>,
    /// The event, from a file.
    pub data_file: Option<PathBuf>,
    /// The function name.
    pub name: String,
    /// The base URL of `coda run`'s front.
    pub url: String,
    /// Ask for the log tail.
    pub tail: bool,
}

/// The arguments of `coda package`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageArgs {
    /// The compiled binary to package.
    pub binary: PathBuf,
    /// Where to write the zip; `None` for `./<binary stem>.zip`.
    pub output: Option<PathBuf>,
}

/// A mistake on the command line; the process exits with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// What is wrong, e.g. "unknown command `pakage`".
    message: String,
}

impl UsageError {
    /// An error with the given message.
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (run `coda --help` for usage)", self.message)
    }
}

impl std::error::Error for UsageError {}

/// One command-line argument, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    /// A flag such as `-o` or `--output`, with the value given after `=`.
    Flag(String, Option<OsString>),
    /// Anything else (including everything after `--`, and `-` alone).
    Positional(OsString),
}

/// The arguments not yet consumed, and whether `--` has been seen.
#[derive(Debug)]
struct Args {
    /// The remaining raw arguments.
    rest: std::vec::IntoIter<OsString>,
    /// Set once `--` has been seen: no more flags.
    only_positional: bool,
}

impl Args {
    /// Wraps the raw arguments (without the program name).
    fn new(args: impl IntoIterator<Item = OsString>) -> Self {
        Self {
            rest: args.into_iter().collect::<Vec<_>>().into_iter(),
            only_positional: false,
        }
    }

    /// The next argument, classified as a flag or a positional argument.
    fn next(&mut self) -> Option<Arg> {
        let raw = self.rest.next()?;
        if self.only_positional {
            return Some(Arg::Positional(raw));
        }
        if raw == "--" {
            self.only_positional = true;
            return self.next();
        }
        let text = raw.to_string_lossy();
        if !text.starts_with('-') || text == "-" {
            return Some(Arg::Positional(raw));
        }
        if text.starts_with("--")
            && let Some((name, value)) = text.split_once('=')
        {
            // Lossy for non-UTF-8 values; `--flag VALUE` keeps raw bytes.
            return Some(Arg::Flag(name.to_owned(), Some(value.into())));
        }
        Some(Arg::Flag(text.into_owned(), None))
    }

    /// The value of `flag`: the part after `=` if there was one, else the
    /// next argument.
    fn value(&mut self, flag: &str, inline: Option<OsString>) -> Result<OsString, UsageError> {
        if let Some(value) = inline {
            return Ok(value);
        }
        match self.rest.next() {
            Some(value) if !self.only_positional && value == "--" => {
                Err(UsageError::new(format!("`{flag}` needs a value")))
            }
            Some(value) => Ok(value),
            None => Err(UsageError::new(format!("`{flag}` needs a value"))),
        }
    }
}

/// Rejects a value given to a flag that takes none (`--help=x`).
fn no_value(flag: &str, inline: Option<OsString>) -> Result<(), UsageError> {
    match inline {
        None => Ok(()),
        Some(_) => Err(UsageError::new(format!("`{flag}` takes no value"))),
    }
}

/// Parses the arguments that follow the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut args = Args::new(args);
    match args.next() {
        None => Err(UsageError::new("missing command")),
        Some(Arg::Flag(flag, inline)) if flag == "-h" || flag == "--help" => {
            no_value(&flag, inline)?;
            Ok(Command::Help)
        }
        Some(Arg::Flag(flag, inline)) if flag == "-V" || flag == "--version" => {
            no_value(&flag, inline)?;
            Ok(Command::Version)
        }
        Some(Arg::Flag(flag, _)) => Err(UsageError::new(format!("unknown option `{flag}`"))),
        Some(Arg::Positional(command)) => match command.to_str() {
            // Any topic after `help` gets the same text.
            Some("help") => Ok(Command::Help),
            Some("package") => parse_package(&mut args),
            Some("run") => parse_run(&mut args),
            Some("invoke") => parse_invoke(&mut args),
            _ => Err(UsageError::new(format!(
                "unknown command `{}`",
                command.to_string_lossy()
            ))),
        },
    }
}

/// Parses the arguments of `coda package`.
fn parse_package(args: &mut Args) -> Result<Command, UsageError> {
    let mut binary = None;
    let mut output = None;
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag, inline) if flag == "-h" || flag == "--help" => {
                no_value(&flag, inline)?;
                return Ok(Command::Help);
            }
            Arg::Flag(flag, inline) if flag == "-o" || flag == "--output" => {
                if output.is_some() {
                    return Err(UsageError::new(format!("`{flag}` given twice")));
                }
                output = Some(PathBuf::from(args.value(&flag, inline)?));
            }
            Arg::Flag(flag, _) => {
                return Err(UsageError::new(format!(
                    "unknown option `{flag}` for `coda package`"
                )));
            }
            Arg::Positional(path) if binary.is_none() => binary = Some(PathBuf::from(path)),
            Arg::Positional(extra) => {
                return Err(UsageError::new(format!(
                    "unexpected argument `{}`: `coda package` takes one binary",
                    extra.to_string_lossy()
                )));
            }
        }
    }
    let binary = binary
        .ok_or_else(|| UsageError::new("`coda package` needs the path of the binary to package"))?;
    Ok(Command::Package(PackageArgs { binary, output }))
}

/// Parses a number flag value.
fn number<T: std::str::FromStr>(flag: &str, value: OsString) -> Result<T, UsageError> {
    value
        .to_str()
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| {
            UsageError::new(format!(
                "`{flag}` needs a number, not `{}`",
                value.to_string_lossy()
            ))
        })
}

/// A flag value as UTF-8 text.
fn text(flag: &str, value: OsString) -> Result<String, UsageError> {
    value.into_string().map_err(|v| {
        UsageError::new(format!(
            "`{flag}` value `{}` is not UTF-8",
            v.to_string_lossy()
        ))
    })
}

/// The flags of `coda run` that take a value.
const RUN_FLAGS: &[&str] = &[
    "--port",
    "-p",
    "--timeout",
    "-t",
    "--memory",
    "-m",
    "--concurrency",
    "-c",
    "--name",
    "-n",
    "--env",
    "-e",
    "--invoke",
    "-i",
];

/// The flags of `coda invoke` that take a value.
const INVOKE_FLAGS: &[&str] = &[
    "--data",
    "-d",
    "--data-file",
    "-f",
    "--name",
    "-n",
    "--url",
    "-u",
];

/// Parses the arguments of `coda run`.
fn parse_run(args: &mut Args) -> Result<Command, UsageError> {
    let mut run = RunArgs {
        port: None,
        timeout: std::time::Duration::from_secs(3),
        memory_mb: 128,
        concurrency: 1,
        name: "function".into(),
        env: Vec::new(),
        invoke: None,
        command: Vec::new(),
    };
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag, inline) if flag == "-h" || flag == "--help" => {
                no_value(&flag, inline)?;
                return Ok(Command::Help);
            }
            Arg::Flag(flag, _) if !RUN_FLAGS.contains(&flag.as_str()) => {
                return Err(UsageError::new(format!(
                    "unknown option `{flag}` for `coda run`"
                )));
            }
            Arg::Flag(flag, inline) => {
                let value = args.value(&flag, inline)?;
                match flag.as_str() {
                    "--port" | "-p" => run.port = Some(number(&flag, value)?),
                    "--timeout" | "-t" => {
                        let seconds: f64 = number(&flag, value)?;
                        if !(seconds > 0.0 && seconds <= 900.0) {
                            return Err(UsageError::new(
                                "`--timeout` is in seconds, above 0 and at most 900 (Lambda's limit)",
                            ));
                        }
                        run.timeout = std::time::Duration::from_secs_f64(seconds);
                    }
                    "--memory" | "-m" => {
                        run.memory_mb = number(&flag, value)?;
                        if !(128..=10_240).contains(&run.memory_mb) {
                            return Err(UsageError::new(
                                "`--memory` is in MB, from 128 to 10240 (Lambda's range)",
                            ));
                        }
                    }
                    "--concurrency" | "-c" => {
                        run.concurrency = number(&flag, value)?;
                        if run.concurrency == 0 {
                            return Err(UsageError::new("`--concurrency` must be at least 1"));
                        }
                    }
                    "--name" | "-n" => run.name = text(&flag, value)?,
                    "--env" | "-e" => {
                        let pair = text(&flag, value)?;
                        let Some((key, val)) = pair.split_once('=').filter(|(k, _)| !k.is_empty())
                        else {
                            return Err(UsageError::new(format!(
                                "`{flag}` needs KEY=VALUE, not `{pair}`"
                            )));
                        };
                        run.env.push((key.to_owned(), val.to_owned()));
                    }
                    "--invoke" | "-i" => run.invoke = Some(text(&flag, value)?),
                    _ => {
                        return Err(UsageError::new(format!(
                            "unknown option `{flag}` for `coda run`"
                        )));
                    }
                }
            }
            Arg::Positional(word) => {
                run.command.push(word);
                // Everything after the program belongs to it.
                run.command.extend(args.rest.by_ref());
            }
        }
    }
    if run.command.is_empty() {
        return Err(UsageError::new(
            "`coda run` needs the function's command after `--`, e.g. `coda run -- target/debug/hello`",
        ));
    }
    Ok(Command::Run(run))
}

/// Parses the arguments of `coda invoke`.
fn parse_invoke(args: &mut Args) -> Result<Command, UsageError> {
    let mut invoke = InvokeArgs {
        data: None,
        data_file: None,
        name: "function".into(),
        url: "http://127.0.0.1:9000".into(),
        tail: false,
    };
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag, inline) if flag == "-h" || flag == "--help" => {
                no_value(&flag, inline)?;
                return Ok(Command::Help);
            }
            Arg::Flag(flag, inline) if flag == "--tail" => {
                no_value(&flag, inline)?;
                invoke.tail = true;
            }
            Arg::Flag(flag, _) if !INVOKE_FLAGS.contains(&flag.as_str()) => {
                return Err(UsageError::new(format!(
                    "unknown option `{flag}` for `coda invoke`"
                )));
            }
            Arg::Flag(flag, inline) => {
                let value = args.value(&flag, inline)?;
                match flag.as_str() {
                    "--data" | "-d" => invoke.data = Some(text(&flag, value)?),
                    "--data-file" | "-f" => invoke.data_file = Some(PathBuf::from(value)),
                    "--name" | "-n" => invoke.name = text(&flag, value)?,
                    "--url" | "-u" => {
                        invoke.url = text(&flag, value)?.trim_end_matches('/').to_owned()
                    }
                    _ => {
                        return Err(UsageError::new(format!(
                            "unknown option `{flag}` for `coda invoke`"
                        )));
                    }
                }
            }
            Arg::Positional(extra) => {
                return Err(UsageError::new(format!(
                    "unexpected argument `{}`: give the event with --data or --data-file",
                    extra.to_string_lossy()
                )));
            }
        }
    }
    if invoke.data.is_some() && invoke.data_file.is_some() {
        return Err(UsageError::new("give --data or --data-file, not both"));
    }
    Ok(Command::Invoke(invoke))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a command line given as string slices.
    fn parse_strs(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    /// Builds the expected `package` command.
    fn package(binary: &str, output: Option<&str>) -> Command {
        Command::Package(PackageArgs {
            binary: binary.into(),
            output: output.map(PathBuf::from),
        })
    }

    /// `coda run` flags, then the command with its own flags untouched.
    #[test]
    fn run_forms() {
        let Ok(Command::Run(run)) = parse_strs(&[
            "run",
            "--port",
            "9100",
            "--timeout",
            "1.5",
            "--env",
            "A=b=c",
            "-e",
            "X=",
            "--",
            "cargo",
            "run",
            "--bin",
            "hello",
        ]) else {
            panic!("run parses")
        };
        assert_eq!(run.port, Some(9100));
        assert_eq!(run.timeout, std::time::Duration::from_millis(1500));
        assert_eq!(
            run.env,
            [
                ("A".to_owned(), "b=c".to_owned()),
                ("X".to_owned(), String::new())
            ]
        );
        assert_eq!(run.command, ["cargo", "run", "--bin", "hello"]);
        let Ok(Command::Run(run)) = parse_strs(&["run", "./fn", "--port", "1"]) else {
            panic!()
        };
        assert_eq!(
            (run.port, run.command.len()),
            (None, 3),
            "flags after the program are the program's"
        );
        for (args, message) in [
            (&["run"][..], "`coda run` needs the function's command"),
            (
                &["run", "--port", "x", "--", "f"],
                "`--port` needs a number",
            ),
            (
                &["run", "--timeout", "0", "--", "f"],
                "`--timeout` is in seconds",
            ),
            (&["run", "--memory", "64", "--", "f"], "`--memory` is in MB"),
            (
                &["run", "--env", "NOEQUALS", "--", "f"],
                "`--env` needs KEY=VALUE",
            ),
            (
                &["run", "--frobnicate", "1", "--", "f"],
                "unknown option `--frobnicate`",
            ),
        ] {
            let err = parse_strs(args).unwrap_err().to_string();
            assert!(err.contains(message), "{args:?}: {err}");
        }
    }

    /// `coda invoke` flags and their mistakes.
    #[test]
    fn invoke_forms() {
        let Ok(Command::Invoke(i)) =
            parse_strs(&["invoke", "--data", "{}", "--tail", "--url", "http://h:1/"])
        else {
            panic!()
        };
        assert_eq!(
            (i.data.as_deref(), i.tail, i.url.as_str(), i.name.as_str()),
            (Some("{}"), true, "http://h:1", "function")
        );
        assert!(
            parse_strs(&["invoke", "-d", "1", "-f", "x"])
                .unwrap_err()
                .to_string()
                .contains("not both")
        );
        assert!(
            parse_strs(&["invoke", "stray"])
                .unwrap_err()
                .to_string()
                .contains("unexpected argument")
        );
    }

    /// Every spelling of the output flag, before or after the binary.
    #[test]
    fn package_forms() {
        assert_eq!(parse_strs(&["package", "app"]), Ok(package("app", None)));
        for args in [
            &["package", "app", "-o", "x.zip"][..],
            &["package", "-o", "x.zip", "app"],
            &["package", "app", "--output", "x.zip"],
            &["package", "--output=x.zip", "app"],
        ] {
            assert_eq!(
                parse_strs(args),
                Ok(package("app", Some("x.zip"))),
                "{args:?}"
            );
        }
        assert_eq!(
            parse_strs(&["package", "--", "-weird-name"]),
            Ok(package("-weird-name", None))
        );
        assert_eq!(
            parse_strs(&["package", "-o", "-", "app"]),
            Ok(package("app", Some("-")))
        );
    }

    /// Help is reachable in every usual way.
    #[test]
    fn help_forms() {
        for args in [
            &["--help"][..],
            &["-h"],
            &["help"],
            &["help", "package"],
            &["package", "--help"],
            &["package", "app", "-h"],
        ] {
            assert_eq!(parse_strs(args), Ok(Command::Help), "{args:?}");
        }
    }

    /// `--version` and `-V` ask for the version, and take no value.
    #[test]
    fn version_forms() {
        for args in [&["--version"][..], &["-V"]] {
            assert_eq!(parse_strs(args), Ok(Command::Version), "{args:?}");
        }
        assert_eq!(
            parse_strs(&["--version=1"]).unwrap_err().message,
            "`--version` takes no value"
        );
        assert_eq!(
            parse_strs(&["-v"]).unwrap_err().message,
            "unknown option `-v`"
        );
    }

    /// Mistakes give one line naming the problem, with the usage hint.
    #[test]
    fn usage_errors() {
        let cases: [(&[&str], &str); 9] = [
            (&[], "missing command"),
            (&["pakage", "app"], "unknown command `pakage`"),
            (&["--verbose"], "unknown option `--verbose`"),
            (
                &["package"],
                "`coda package` needs the path of the binary to package",
            ),
            (&["package", "app", "-o"], "`-o` needs a value"),
            (
                &["package", "app", "--output", "--"],
                "`--output` needs a value",
            ),
            (
                &["package", "app", "--zip"],
                "unknown option `--zip` for `coda package`",
            ),
            (
                &["package", "a", "b"],
                "unexpected argument `b`: `coda package` takes one binary",
            ),
            (&["package", "a", "-o", "x", "-o", "y"], "`-o` given twice"),
        ];
        for (args, message) in cases {
            let err = parse_strs(args).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("{message} (run `coda --help` for usage)"),
                "{args:?}"
            );
            assert!(!err.to_string().contains('\n'));
        }
        assert_eq!(
            parse_strs(&["--help=yes"]).unwrap_err().message,
            "`--help` takes no value"
        );
    }
}
