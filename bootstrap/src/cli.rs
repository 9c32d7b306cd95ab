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
           [--handler H] [--env K=V]... [--pass-env NAME]... [--log-format text|json]
           [--function-version V] [--alias NAME[=VERSION]]... [--no-freeze]
           [--idle-timeout S] [--listen IP] [--faults SPEC] [--invoke JSON]
           -- <command...>
      Start the Lambda emulator and run <command> as the function, with
      Lambda's environment and nothing else from this shell unless passed
      with --pass-env (a name, or a prefix and `*`) or set with --env.
      Invocations arrive on 127.0.0.1:P (default 9000; 0: any free port):
      the Invoke API path /2015-03-31/functions/NAME/invocations (what
      `coda invoke`, the AWS CLI and SDKs use) and a Function URL for any
      other path. The function is restarted after a timeout (default 3 s)
      or a crash, and frozen while it waits for an event, as on Lambda
      (--no-freeze: not). --handler sets _HANDLER (else this shell's
      _HANDLER passes). --alias declares an alias (of --function-version,
      or of VERSION) that callers may name as a qualifier. Ctrl-C, SIGTERM,
      and --idle-timeout S seconds without an invocation shut the function
      down as Lambda does: SIGTERM when it registered an extension (its
      shutdown hooks run), SIGKILL 500 ms later or at once without one; after
      an idle shutdown the next invocation starts it again. With --invoke,
      send that one event, print the answer as soon as it is posted, wait
      for the invocation to end, and exit. --listen IP binds both ports on
      IP instead of 127.0.0.1 (e.g. 0.0.0.0 for a container's port mapping;
      warned about: the emulator has no authentication, see SECURITY.md).
      --faults SPEC injects Runtime API faults, to see how the function copes
      (each is printed as `coda: fault injected: …`): a comma-separated list
      of KEY=FAULT[@WHEN], FAULT one of next=500|403|204|cut|reset|close,
      response=400|403|410|413|500|reset|close|slow:BYTES/MS,
      headers=upper|mixed|empty|non-utf8, id=duplicate, deadline=past; WHEN
      is N, N-M, N-, every (the default) or every:K, counting from 1 the
      events handed out (next, headers, deadline), the /response and /error
      posts (response) or the invocations queued (id). Example:
      --faults 'next=500@3,response=413@2-4,deadline=past@every:5'.
      Write `--` before the command.
  coda invoke [--data JSON | --data-file F] [--name NAME] [--qualifier Q]
              [--url U] [--tail]
      Invoke the function served by `coda run` (default URL
      http://127.0.0.1:9000, name `function`); print the payload, the
      function error type if any, and with --tail the log tail.
  coda package <binary> [-o|--output <file.zip>] [--force]
               [--allow-library SONAME]...
      Check that <binary> can run on Lambda's provided.al2023 runtime (a
      64-bit x86_64 or arm64 Linux executable needing at most glibc 2.34
      and no shared library beyond glibc's and libgcc_s, unless allowed
      with --allow-library, e.g. one a layer ships in /opt/lib) and write
      the deployable zip: one entry, `bootstrap`, mode 0755. The zip goes
      to ./<binary name>.zip unless -o says otherwise; an existing zip is
      replaced only with --force. A debug build is packaged with a warning.
  coda package --layer [<coda binary>] [-o|--output <file.zip>] [--force]
      Write the zip of a Lambda layer that runs any runtime under
      `coda wrap`: bin/coda (this coda, or the one given, checked as above)
      and entry.sh; set AWS_LAMBDA_EXEC_WRAPPER=/opt/entry.sh on the
      function. The zip goes to ./coda-layer.zip unless -o says otherwise.
  coda wrap [--after-response CMD] [--after-error CMD] [--files]
            [--shell PATH] [--margin MS] [--] <runtime command...>
      Run <runtime command> (any Lambda runtime) behind a Runtime API proxy
      and run CMD (with $SHELL -c) after each invocation's answer: the
      caller has the answer at once, the runtime's next /next waits until
      CMD ends or the deadline minus MS (default 500) ms passes, when CMD
      is killed. CMD gets CODA_REQUEST_ID, CODA_DEADLINE_MS,
      CODA_REMAINING_MS, CODA_BUDGET_MS, CODA_OUTCOME (response|error),
      CODA_ERROR_TYPE, CODA_FUNCTION_ARN and, with --files, CODA_EVENT_FILE
      and CODA_ANSWER_FILE. aws-lambda-post-runner's variables work too:
      AWS_LAMBDA_POST_RUNNER_COMMAND, _MODE (AfterResponse,AfterError),
      _SHELL, _LOG_LEVEL, _FILES=1; CODA_WRAP_MARGIN_MS sets the margin.
      Exits with the runtime's status.
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
    /// Write the zip of a layer that runs any runtime under `coda wrap`.
    PackageLayer(LayerArgs),
    /// Run a runtime behind the Runtime API proxy that runs a command after each answer.
    Wrap(WrapArgs),
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
    /// Host variables passed through (names, or prefixes ending in `*`).
    pub pass_env: Vec<String>,
    /// `_HANDLER`.
    pub handler: Option<String>,
    /// JSON logs (`--log-format json`, or `--env AWS_LAMBDA_LOG_FORMAT=JSON`).
    pub json_logs: bool,
    /// The version the function runs as.
    pub function_version: Option<String>,
    /// Aliases, with the version each points at when given.
    pub aliases: Vec<(String, Option<String>)>,
    /// Whether the function is frozen while it waits for an event.
    pub freeze: bool,
    /// How long the function may be idle before it is shut down as Lambda retires an idle
    /// sandbox (`None`: never).
    pub idle_timeout: Option<std::time::Duration>,
    /// One event to send, then exit.
    pub invoke: Option<String>,
    /// The IP address both ports are bound on (default `127.0.0.1`).
    pub listen: std::net::IpAddr,
    /// Runtime API faults to inject (`--faults SPEC`).
    pub faults: Option<coda_emulator::Faults>,
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
    /// The version or alias to invoke.
    pub qualifier: Option<String>,
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
    /// Replace an existing zip.
    pub force: bool,
    /// Libraries the runtime is known to provide (a layer's, say).
    pub allow_libraries: Vec<String>,
}

/// The arguments of `coda package --layer`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerArgs {
    /// The `coda` binary to put in the layer; `None` for this one.
    pub coda: Option<PathBuf>,
    /// Where to write the zip; `None` for `./coda-layer.zip`.
    pub output: Option<PathBuf>,
    /// Replace an existing zip.
    pub force: bool,
    /// Libraries the runtime is known to provide.
    pub allow_libraries: Vec<String>,
}

/// The arguments of `coda wrap`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrapArgs {
    /// The command after a response (over `AWS_LAMBDA_POST_RUNNER_COMMAND`).
    pub after_response: Option<String>,
    /// The command after an error.
    pub after_error: Option<String>,
    /// Give the command the event and the answer as files.
    pub files: bool,
    /// The shell the command runs in.
    pub shell: Option<PathBuf>,
    /// How long before the deadline the command is stopped.
    pub margin: Option<std::time::Duration>,
    /// The runtime's command.
    pub command: Vec<OsString>,
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
            Some("wrap") => parse_wrap(&mut args),
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
    let mut force = false;
    let mut allow_libraries = Vec::new();
    let mut layer = false;
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag, inline) if flag == "-h" || flag == "--help" => {
                no_value(&flag, inline)?;
                return Ok(Command::Help);
            }
            Arg::Flag(flag, inline) if flag == "--layer" => {
                no_value(&flag, inline)?;
                layer = true;
            }
            Arg::Flag(flag, inline) if flag == "-o" || flag == "--output" => {
                if output.is_some() {
                    return Err(UsageError::new(format!("`{flag}` given twice")));
                }
                output = Some(PathBuf::from(args.value(&flag, inline)?));
            }
            Arg::Flag(flag, inline) if flag == "--force" || flag == "-f" => {
                no_value(&flag, inline)?;
                force = true;
            }
            Arg::Flag(flag, inline) if flag == "--allow-library" => {
                let value = args.value(&flag, inline)?;
                allow_libraries.push(text(&flag, value)?);
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
    if layer {
        return Ok(Command::PackageLayer(LayerArgs {
            coda: binary,
            output,
            force,
            allow_libraries,
        }));
    }
    let binary = binary
        .ok_or_else(|| UsageError::new("`coda package` needs the path of the binary to package"))?;
    Ok(Command::Package(PackageArgs {
        binary,
        output,
        force,
        allow_libraries,
    }))
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
    "--idle-timeout",
    "--memory",
    "-m",
    "--concurrency",
    "-c",
    "--name",
    "-n",
    "--env",
    "-e",
    "--pass-env",
    "--handler",
    "--log-format",
    "--function-version",
    "--alias",
    "--invoke",
    "-i",
    "--listen",
    "--faults",
];

/// The flags of `coda run` that take no value.
const RUN_SWITCHES: &[&str] = &["--no-freeze"];

/// The flags of `coda invoke` that take a value.
const INVOKE_FLAGS: &[&str] = &[
    "--data",
    "-d",
    "--data-file",
    "-f",
    "--name",
    "-n",
    "--qualifier",
    "-q",
    "--url",
    "-u",
];

/// Parses the arguments of `coda run`.
fn parse_run(args: &mut Args) -> Result<Command, UsageError> {
    let mut run = RunArgs {
        port: None,
        timeout: std::time::Duration::from_secs(3),
        idle_timeout: None,
        memory_mb: 128,
        concurrency: 1,
        name: "function".into(),
        env: Vec::new(),
        pass_env: Vec::new(),
        handler: None,
        json_logs: false,
        function_version: None,
        aliases: Vec::new(),
        freeze: true,
        invoke: None,
        listen: std::net::IpAddr::from([127, 0, 0, 1]),
        faults: None,
        command: Vec::new(),
    };
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag, inline) if flag == "-h" || flag == "--help" => {
                no_value(&flag, inline)?;
                return Ok(Command::Help);
            }
            Arg::Flag(flag, inline) if flag == "--no-freeze" => {
                no_value(&flag, inline)?;
                run.freeze = false;
            }
            Arg::Flag(flag, _) if !RUN_FLAGS.contains(&flag.as_str()) => {
                return Err(UsageError::new(format!(
                    "unknown option `{flag}` for `coda run`"
                )));
            }
            Arg::Flag(flag, inline) => {
                let value = args.value(&flag, inline)?;
                match flag.as_str() {
                    "--port" | "-p" => run.port = Some(port(&flag, value)?),
                    "--timeout" | "-t" => {
                        let seconds: f64 = number(&flag, value)?;
                        if !(seconds > 0.0 && seconds <= 900.0) {
                            return Err(UsageError::new(
                                "`--timeout` is in seconds, above 0 and at most 900 (Lambda's limit)",
                            ));
                        }
                        run.timeout = std::time::Duration::from_secs_f64(seconds);
                    }
                    "--idle-timeout" => {
                        let seconds: f64 = number(&flag, value)?;
                        if !(seconds > 0.0 && seconds.is_finite()) {
                            return Err(UsageError::new("`--idle-timeout` is in seconds, above 0"));
                        }
                        run.idle_timeout = Some(std::time::Duration::from_secs_f64(seconds));
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
                        if key == "AWS_LAMBDA_LOG_FORMAT" {
                            run.json_logs = val.trim().eq_ignore_ascii_case("json");
                        }
                        run.env.push((key.to_owned(), val.to_owned()));
                    }
                    "--pass-env" => {
                        let name = text(&flag, value)?;
                        if name.is_empty() || name.contains('=') {
                            return Err(UsageError::new(format!(
                                "`--pass-env` takes a variable name (or a prefix and `*`), not `{name}`: set a value with --env KEY=VALUE"
                            )));
                        }
                        run.pass_env.push(name);
                    }
                    "--handler" => run.handler = Some(text(&flag, value)?),
                    "--log-format" => {
                        let format = text(&flag, value)?;
                        run.json_logs = match format.to_ascii_lowercase().as_str() {
                            "json" => true,
                            "text" => false,
                            _ => {
                                return Err(UsageError::new(format!(
                                    "`--log-format` is `text` or `json`, not `{format}`"
                                )));
                            }
                        };
                    }
                    "--function-version" => {
                        let version = text(&flag, value)?;
                        if !is_version(&version) {
                            return Err(UsageError::new(format!(
                                "`--function-version` is `$LATEST` or a version number, not `{version}`"
                            )));
                        }
                        run.function_version = Some(version);
                    }
                    "--alias" => {
                        let spec = text(&flag, value)?;
                        let (name, version) = match spec.split_once('=') {
                            Some((name, version)) => (name.to_owned(), Some(version.to_owned())),
                            None => (spec.clone(), None),
                        };
                        if !is_alias_name(&name)
                            || version.as_deref().is_some_and(|v| !is_version(v))
                        {
                            return Err(UsageError::new(format!(
                                "`--alias` takes NAME or NAME=VERSION (a name of letters, digits, `-` and `_`, not only digits; a version number or `$LATEST`), not `{spec}`"
                            )));
                        }
                        run.aliases.push((name, version));
                    }
                    "--invoke" | "-i" => run.invoke = Some(text(&flag, value)?),
                    "--listen" => {
                        let ip = text(&flag, value)?;
                        run.listen = ip.parse().map_err(|_| {
                            UsageError::new(format!(
                                "`--listen` takes an IP address to bind (127.0.0.1, 0.0.0.0, ::1), not `{ip}`"
                            ))
                        })?;
                    }
                    "--faults" => {
                        let spec = text(&flag, value)?;
                        let faults = spec
                            .parse()
                            .map_err(|e| UsageError::new(format!("`--faults`: {e}")))?;
                        run.faults = Some(faults);
                    }
                    _ => {
                        return Err(UsageError::new(format!(
                            "unknown option `{flag}` for `coda run`"
                        )));
                    }
                }
            }
            Arg::Positional(word) => {
                let after_separator = args.only_positional;
                run.command.push(word);
                // Everything after the program belongs to it.
                run.command.extend(args.rest.by_ref());
                if !after_separator {
                    refuse_swallowed_flags(&run.command)?;
                }
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

/// A base URL for `coda invoke`: `http://host:port`, without a trailing `/`. A URL without
/// its scheme, or with `https`, is refused here rather than blamed on the server.
fn base_url(flag: &str, url: String) -> Result<String, UsageError> {
    if let Some(rest) = url.strip_prefix("http://") {
        let rest = rest.trim_end_matches('/');
        if rest.is_empty() {
            return Err(UsageError::new(format!(
                "`{flag}` needs a host and port after http://, e.g. http://127.0.0.1:9000"
            )));
        }
        return Ok(format!("http://{rest}"));
    }
    if url.starts_with("https://") {
        return Err(UsageError::new(format!(
            "`{flag}` is `{url}`, but `coda run` serves plain HTTP: use http://…"
        )));
    }
    Err(UsageError::new(format!(
        "`{flag}` needs a URL with its scheme, e.g. http://{}, not `{url}`",
        url.trim_end_matches('/')
    )))
}

/// Refuses a command given without `--` that holds one of `coda run`'s own options after the
/// program (`coda run target/debug/fn --invoke '{}'`): those would go to the function, and
/// `coda run` would serve forever instead of invoking once.
fn refuse_swallowed_flags(command: &[OsString]) -> Result<(), UsageError> {
    let program = command
        .first()
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_default();
    for arg in command.iter().skip(1) {
        let text = arg.to_string_lossy();
        let name = text.split_once('=').map_or(&*text, |(name, _)| name);
        if RUN_FLAGS.contains(&name) || RUN_SWITCHES.contains(&name) {
            return Err(UsageError::new(format!(
                "`{name}` comes after the function's command `{program}`, so it would be the function's argument, not coda's: put coda's options first and `--` before the command (`coda run {name} … -- {program}`), or write `--` before the command to pass it to the function"
            )));
        }
    }
    Ok(())
}

/// A port number (0: any free port), told apart from something that is not a number.
fn port(flag: &str, value: OsString) -> Result<u16, UsageError> {
    let wide: u64 = number(flag, value.clone())?;
    u16::try_from(wide).map_err(|_| {
        UsageError::new(format!(
            "`{flag}` is a port from 0 to 65535 (0: any free port), not `{wide}`"
        ))
    })
}

/// `$LATEST` or a version number (digits, not starting with 0).
fn is_version(text: &str) -> bool {
    text == "$LATEST"
        || (!text.is_empty() && !text.starts_with('0') && text.bytes().all(|b| b.is_ascii_digit()))
}

/// A name Lambda accepts for an alias: letters, digits, `-` and `_`, not only digits.
fn is_alias_name(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        && !text.bytes().all(|b| b.is_ascii_digit())
}

/// The flags of `coda wrap` that take a value.
const WRAP_FLAGS: &[&str] = &["--after-response", "--after-error", "--shell", "--margin"];

/// Parses the arguments of `coda wrap`: its options, then the runtime's command (after
/// `--`, or from the first word that is not an option on).
fn parse_wrap(args: &mut Args) -> Result<Command, UsageError> {
    let mut wrap = WrapArgs {
        after_response: None,
        after_error: None,
        files: false,
        shell: None,
        margin: None,
        command: Vec::new(),
    };
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag, inline) if flag == "-h" || flag == "--help" => {
                no_value(&flag, inline)?;
                return Ok(Command::Help);
            }
            Arg::Flag(flag, inline) if flag == "--files" => {
                no_value(&flag, inline)?;
                wrap.files = true;
            }
            Arg::Flag(flag, inline) if WRAP_FLAGS.contains(&flag.as_str()) => {
                let value = args.value(&flag, inline)?;
                match flag.as_str() {
                    "--after-response" => wrap.after_response = Some(text(&flag, value)?),
                    "--after-error" => wrap.after_error = Some(text(&flag, value)?),
                    "--shell" => wrap.shell = Some(PathBuf::from(value)),
                    _ => {
                        let ms: u64 = number(&flag, value)?;
                        wrap.margin = Some(std::time::Duration::from_millis(ms));
                    }
                }
            }
            Arg::Flag(flag, _) => {
                return Err(UsageError::new(format!(
                    "unknown option `{flag}` for `coda wrap` (write `--` before the runtime's command to pass it options)"
                )));
            }
            Arg::Positional(word) => {
                let after_separator = args.only_positional;
                wrap.command.push(word);
                wrap.command.extend(args.rest.by_ref());
                if !after_separator {
                    let program = word_text(wrap.command.first());
                    for arg in wrap.command.iter().skip(1) {
                        let text = arg.to_string_lossy();
                        let name = text.split_once('=').map_or(&*text, |(name, _)| name);
                        if WRAP_FLAGS.contains(&name) || name == "--files" {
                            return Err(UsageError::new(format!(
                                "`{name}` comes after the runtime's command `{program}`, so it would be the runtime's argument, not coda's: put coda's options first and `--` before the command (`coda wrap {name} … -- {program}`)"
                            )));
                        }
                    }
                }
            }
        }
    }
    if wrap.command.is_empty() {
        return Err(UsageError::new(
            "`coda wrap` needs the runtime's command after `--`, e.g. `coda wrap --after-response 'echo done' -- python3 -m awslambdaric app.handler`",
        ));
    }
    Ok(Command::Wrap(wrap))
}

/// An argument as text, for a message.
fn word_text(word: Option<&OsString>) -> String {
    word.map(|w| w.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Parses the arguments of `coda invoke`.
fn parse_invoke(args: &mut Args) -> Result<Command, UsageError> {
    let mut invoke = InvokeArgs {
        data: None,
        data_file: None,
        name: "function".into(),
        qualifier: None,
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
                    "--qualifier" | "-q" => invoke.qualifier = Some(text(&flag, value)?),
                    "--url" | "-u" => invoke.url = base_url(&flag, text(&flag, value)?)?,
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
            force: false,
            allow_libraries: Vec::new(),
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
        let Ok(Command::Run(run)) = parse_strs(&["run", "./fn", "--verbose", "x"]) else {
            panic!()
        };
        assert_eq!(
            (run.port, run.command.len()),
            (None, 3),
            "arguments after the program are the program's"
        );
        let Ok(Command::Run(run)) = parse_strs(&["run", "--", "./fn", "--port", "1"]) else {
            panic!()
        };
        assert_eq!(
            (run.port, run.command.len()),
            (None, 3),
            "after `--`, even coda's own flags are the program's"
        );
        assert_eq!(
            run.listen,
            std::net::IpAddr::from([127, 0, 0, 1]),
            "loopback by default"
        );
        let Ok(Command::Run(run)) = parse_strs(&["run", "--listen", "0.0.0.0", "--", "f"]) else {
            panic!()
        };
        assert_eq!(run.listen, std::net::IpAddr::from([0, 0, 0, 0]));
        let Ok(Command::Run(run)) = parse_strs(&["run", "--listen=::1", "--", "f"]) else {
            panic!()
        };
        assert!(run.listen.is_loopback() && run.listen.is_ipv6());
        assert_eq!(
            parse_strs(&["run", "--listen", "localhost", "--", "f"])
                .unwrap_err()
                .message,
            "`--listen` takes an IP address to bind (127.0.0.1, 0.0.0.0, ::1), not `localhost`"
        );
        let Ok(Command::Run(run)) = parse_strs(&[
            "run",
            "--handler",
            "index.handler",
            "--pass-env",
            "HOME",
            "--pass-env=AWS_*",
            "--log-format",
            "JSON",
            "--function-version",
            "3",
            "--alias",
            "prod",
            "--alias",
            "live=$LATEST",
            "--no-freeze",
            "--",
            "f",
        ]) else {
            panic!()
        };
        assert_eq!(run.handler.as_deref(), Some("index.handler"));
        assert_eq!(run.pass_env, ["HOME", "AWS_*"]);
        assert!(run.json_logs && !run.freeze);
        assert_eq!(run.function_version.as_deref(), Some("3"));
        assert_eq!(
            run.aliases,
            [
                ("prod".to_owned(), None),
                ("live".to_owned(), Some("$LATEST".to_owned()))
            ]
        );
        let Ok(Command::Run(env_json)) =
            parse_strs(&["run", "--env", "AWS_LAMBDA_LOG_FORMAT=json", "--", "f"])
        else {
            panic!()
        };
        assert!(
            env_json.json_logs,
            "--env AWS_LAMBDA_LOG_FORMAT=json means JSON reports too"
        );
        for (args, message) in [
            (&["run"][..], "`coda run` needs the function's command"),
            (
                &["run", "--port", "x", "--", "f"],
                "`--port` needs a number",
            ),
            (
                &["run", "--port", "80000", "--", "f"],
                "`--port` is a port from 0 to 65535 (0: any free port), not `80000`",
            ),
            (
                &["run", "target/debug/http", "--invoke", "{}"],
                "`--invoke` comes after the function's command `target/debug/http`",
            ),
            (
                &["run", "./fn", "--port=1"],
                "`--port` comes after the function's command `./fn`",
            ),
            (&["run", "./fn", "--no-freeze"], "`--no-freeze` comes after"),
            (
                &["run", "--log-format", "xml", "--", "f"],
                "`--log-format` is `text` or `json`",
            ),
            (
                &["run", "--alias", "123", "--", "f"],
                "`--alias` takes NAME or NAME=VERSION",
            ),
            (
                &["run", "--alias", "prod=latest", "--", "f"],
                "`--alias` takes NAME or NAME=VERSION",
            ),
            (
                &["run", "--function-version", "v2", "--", "f"],
                "`--function-version` is `$LATEST` or a version number",
            ),
            (
                &["run", "--pass-env", "A=b", "--", "f"],
                "`--pass-env` takes a variable name",
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

    /// `coda wrap` options, then the runtime's command with or without `--`; the command's
    /// own options stay its own.
    #[test]
    fn wrap_forms() {
        let Ok(Command::Wrap(w)) = parse_strs(&[
            "wrap",
            "--after-response",
            "echo ok",
            "--after-error=echo failed",
            "--files",
            "--shell",
            "/bin/sh",
            "--margin",
            "250",
            "--",
            "python3",
            "-m",
            "awslambdaric",
            "app.handler",
        ]) else {
            panic!("wrap parses")
        };
        assert_eq!(w.after_response.as_deref(), Some("echo ok"));
        assert_eq!(w.after_error.as_deref(), Some("echo failed"));
        assert!(w.files);
        assert_eq!(w.shell.as_deref(), Some(std::path::Path::new("/bin/sh")));
        assert_eq!(w.margin, Some(std::time::Duration::from_millis(250)));
        assert_eq!(w.command, ["python3", "-m", "awslambdaric", "app.handler"]);
        let Ok(Command::Wrap(bare)) = parse_strs(&["wrap", "node", "--inspect", "index.js"]) else {
            panic!("the post-runner's form: the command without `--`")
        };
        assert_eq!(bare.command, ["node", "--inspect", "index.js"]);
        assert_eq!(bare.after_response, None);
        let Ok(Command::Wrap(passed)) = parse_strs(&["wrap", "--", "rt", "--files"]) else {
            panic!()
        };
        assert_eq!(
            passed.command,
            ["rt", "--files"],
            "after `--` everything is the runtime's"
        );
        for (args, message) in [
            (&["wrap"][..], "`coda wrap` needs the runtime's command"),
            (
                &["wrap", "--files"],
                "`coda wrap` needs the runtime's command",
            ),
            (
                &["wrap", "--margin", "soon", "--", "rt"],
                "`--margin` needs a number",
            ),
            (&["wrap", "--after-error"], "`--after-error` needs a value"),
            (
                &["wrap", "--loud", "--", "rt"],
                "unknown option `--loud` for `coda wrap`",
            ),
            (
                &["wrap", "rt", "--files"],
                "`--files` comes after the runtime's command `rt`",
            ),
        ] {
            let err = parse_strs(args).unwrap_err().to_string();
            assert!(err.contains(message), "{args:?}: {err}");
        }
    }

    /// `coda package --layer`, with this coda or another, and an output.
    #[test]
    fn package_layer_forms() {
        assert_eq!(
            parse_strs(&["package", "--layer"]),
            Ok(Command::PackageLayer(LayerArgs {
                coda: None,
                output: None,
                force: false,
                allow_libraries: Vec::new(),
            }))
        );
        assert_eq!(
            parse_strs(&[
                "package",
                "--layer",
                "target/release/coda",
                "-o",
                "l.zip",
                "--force"
            ]),
            Ok(Command::PackageLayer(LayerArgs {
                coda: Some("target/release/coda".into()),
                output: Some("l.zip".into()),
                force: true,
                allow_libraries: Vec::new(),
            }))
        );
        assert!(
            parse_strs(&["package", "--layer=yes"])
                .unwrap_err()
                .to_string()
                .contains("`--layer` takes no value")
        );
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
        for (url, message) in [
            (
                "127.0.0.1:9100",
                "`--url` needs a URL with its scheme, e.g. http://127.0.0.1:9100",
            ),
            ("https://127.0.0.1:9100", "`coda run` serves plain HTTP"),
            ("http://", "needs a host and port after http://"),
        ] {
            let err = parse_strs(&["invoke", "--url", url])
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{url}: {err}");
        }
        let Ok(Command::Invoke(q)) = parse_strs(&["invoke", "--qualifier", "prod"]) else {
            panic!()
        };
        assert_eq!(q.qualifier.as_deref(), Some("prod"));
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

    /// `--faults SPEC` is read into `Faults`; a bad spec names the entry and what is valid.
    #[test]
    fn faults_forms() {
        let Ok(Command::Run(run)) = parse_strs(&[
            "run",
            "--faults",
            "next=500@3,response=slow:64/5",
            "--",
            "./fn",
        ]) else {
            panic!("parses");
        };
        assert_eq!(
            run.faults.map(|f| f.to_string()).as_deref(),
            Some("next=500@3,response=slow:64/5ms@every")
        );
        let error = parse_strs(&["run", "--faults", "next=501", "--", "./fn"]).unwrap_err();
        assert!(
            error.to_string().starts_with(
                "`--faults`: fault `next=501`: `next` takes 500, 403, 204, cut, reset or close"
            ),
            "{error}"
        );
        let error = parse_strs(&["run", "--faults=next=500@0", "--", "./fn"]).unwrap_err();
        assert!(
            error.to_string().contains("calls count from 1, not 0"),
            "{error}"
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
