//! The `coda` command run as a user runs it: the built binary (`CARGO_BIN_EXE_coda`) in a
//! child process, judged by its exit status, its standard output and its standard error.
//!
//! The function is the workspace's `hello` example (`examples/hello.rs`), the README's own
//! function. Cargo gives this test binary the path of `coda` only, so [`hello`] builds `hello`
//! once with `cargo build -p coda-examples --bin hello` (through the `CARGO` that runs the
//! tests; nearly free when it is already built) and takes its path from cargo's JSON output,
//! which is right whatever the target directory, profile or target triple.
//!
//! No sleeps: every wait is on a child's output or exit, bounded by [`LIMIT`].

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

/// The limit for any wait on a `coda` process; reaching it means the test failed.
const LIMIT: Duration = Duration::from_secs(30);

/// The limit for building `hello` (a cold build compiles the runtime's dependencies).
const BUILD_LIMIT: Duration = Duration::from_secs(600);

/// The `coda` command.
fn coda() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coda"))
}

/// The `hello` example's executable, built once for all tests.
fn hello() -> &'static Path {
    static HELLO: OnceLock<PathBuf> = OnceLock::new();
    HELLO.get_or_init(|| build_example("hello"))
}

/// The `shutdown` example's executable (a shutdown hook that logs `shutdown hook ran`).
fn shutdown_example() -> &'static Path {
    static SHUTDOWN: OnceLock<PathBuf> = OnceLock::new();
    SHUTDOWN.get_or_init(|| build_example("shutdown"))
}

/// Runs `cargo build -p coda-examples --bin <name>` and returns the executable cargo reports.
fn build_example(name: &str) -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "-p",
            "coda-examples",
            "--bin",
            name,
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    let built = finish(command, BUILD_LIMIT);
    assert_eq!(
        built.code,
        Some(0),
        "building the {name} example failed:\n{}",
        built.stderr
    );
    built
        .stdout
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter(|line| line.contains(&format!(r#""name":"{name}""#)))
        .find_map(|line| json_string(line, "executable"))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("cargo reported no {name} executable:\n{}", built.stdout))
}

/// The string value of `"key":"..."` in one line of cargo's JSON output (paths only need the
/// `\\`, `\"` and `\/` escapes; anything else gives `None`).
fn json_string(line: &str, key: &str) -> Option<String> {
    let start = line.find(&format!(r#""{key}":""#))? + key.len() + 4;
    let mut value = String::new();
    let mut chars = line.get(start..)?.chars();
    loop {
        match chars.next()? {
            '"' => return Some(value),
            '\\' => match chars.next()? {
                c @ ('\\' | '"' | '/') => value.push(c),
                _ => return None,
            },
            c => value.push(c),
        }
    }
}

/// What a finished process left.
#[derive(Debug)]
struct Finished {
    /// The exit code (`None` when killed by a signal).
    code: Option<i32>,
    /// Standard output, whole.
    stdout: String,
    /// Standard error, whole.
    stderr: String,
}

impl Finished {
    /// The lines of standard error.
    fn stderr_lines(&self) -> Vec<&str> {
        self.stderr.lines().collect()
    }

    /// Checks that nothing panicked, in `coda` or the function.
    fn assert_no_panic(&self) {
        assert!(
            !self.stderr.contains("panicked") && !self.stdout.contains("panicked"),
            "a panic: {self:#?}"
        );
    }
}

/// Reads a pipe to its end on a thread.
fn read_all<R: Read + Send + 'static>(mut pipe: R) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        let _ = tx.send(String::from_utf8_lossy(&bytes).into_owned());
    });
    rx
}

/// Runs `command` with no input until it closes its output and exits, within `limit`; kills
/// it and fails the test when it takes longer.
fn finish(mut command: Command, limit: Duration) -> Finished {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command starts");
    let deadline = Instant::now() + limit;
    let stdout = read_all(child.stdout.take().expect("piped stdout"));
    let stderr = read_all(child.stderr.take().expect("piped stderr"));
    let mut collect = |rx: Receiver<String>| {
        let left = deadline.saturating_duration_since(Instant::now());
        rx.recv_timeout(left).unwrap_or_else(|_| {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {limit:?}");
        })
    };
    let stdout = collect(stdout);
    let stderr = collect(stderr);
    // Both pipes closed: the process has exited (or is exiting).
    let status = child.wait().expect("wait on the child");
    Finished {
        code: status.code(),
        stdout,
        stderr,
    }
}

/// Runs `coda` with `args` to its end.
fn run_coda<I, S>(args: I) -> Finished
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = coda();
    command.args(args);
    finish(command, LIMIT)
}

/// `coda` arguments: `before`, then `--` and the `hello` example.
fn with_hello(before: &[&str]) -> Vec<OsString> {
    let mut args: Vec<OsString> = before.iter().map(OsString::from).collect();
    args.push("--".into());
    args.push(hello().into());
    args
}

/// Checks a usage error: exit status 2, nothing on stdout, and exactly one line on stderr,
/// `coda: …`, that contains `needle` and points at `--help`.
fn assert_usage_error(finished: &Finished, needle: &str) {
    assert_eq!(finished.code, Some(2), "{finished:#?}");
    assert_eq!(finished.stdout, "", "{finished:#?}");
    let lines = finished.stderr_lines();
    assert_eq!(lines.len(), 1, "one line: {finished:#?}");
    assert!(lines[0].starts_with("coda: "), "{}", lines[0]);
    assert!(lines[0].contains(needle), "`{needle}` in {}", lines[0]);
    assert!(lines[0].contains("coda --help"), "{}", lines[0]);
    finished.assert_no_panic();
}

/// Checks an operational failure: a non-zero exit and exactly one line on stderr, `coda: …`,
/// holding each of `levels` exactly once and in that order (the error, then its causes, as
/// `main` prints the chain); returns that line.
fn assert_one_error<'a>(finished: &'a Finished, levels: &[&str]) -> &'a str {
    assert!(
        !matches!(finished.code, Some(0) | None),
        "a non-zero exit: {finished:#?}"
    );
    let lines = finished.stderr_lines();
    assert_eq!(lines.len(), 1, "one line: {finished:#?}");
    let line = lines[0];
    assert!(line.starts_with("coda: "), "{finished:#?}");
    let mut at = 0;
    for level in levels {
        assert_eq!(line.matches(level).count(), 1, "`{level}` once in {line}");
        let found = line.find(level).unwrap_or_default();
        assert!(
            found >= at,
            "`{level}` after the levels before it in {line}"
        );
        at = found + level.len();
    }
    finished.assert_no_panic();
    line
}

/// A port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// `coda --version` and `coda -V` print `coda <version>` on stdout and exit 0; the usage text
/// lists the flag.
#[test]
fn version_prints_the_version() {
    for flag in ["--version", "-V"] {
        let finished = run_coda([flag]);
        assert_eq!(finished.code, Some(0), "{finished:#?}");
        assert_eq!(
            finished.stdout,
            format!("coda {}\n", env!("CARGO_PKG_VERSION")),
            "{flag}"
        );
        assert_eq!(finished.stderr, "", "{flag}");
    }
    assert!(run_coda(["--help"]).stdout.contains("coda --version | -V"));
    assert_usage_error(&run_coda(["--version=2"]), "`--version` takes no value");
}

/// `coda --help` prints the usage on stdout and exits 0.
#[test]
fn help_prints_usage() {
    let finished = run_coda(["--help"]);
    assert_eq!(finished.code, Some(0), "{finished:#?}");
    assert!(finished.stdout.contains("coda run"), "{}", finished.stdout);
    assert!(
        finished.stdout.contains("coda invoke"),
        "{}",
        finished.stdout
    );
    assert_eq!(finished.stderr, "");
}

/// README "Quick start": `coda run --invoke '{"name":"World"}' -- hello` prints the greeting
/// on stdout before Lambda's `REPORT` line (the answer the moment it is posted, the report
/// when the deferred work has ended), the function's deferred log lines and `coda`'s timing
/// line on stderr, and exits 0.
#[test]
fn run_invoke_prints_greeting_report_and_timing() {
    let finished = run_coda(with_hello(&["run", "--invoke", r#"{"name":"World"}"#]));
    assert_eq!(finished.code, Some(0), "{finished:#?}");
    let stdout: Vec<&str> = finished.stdout.lines().collect();
    let greeting = stdout
        .iter()
        .position(|l| *l == r#"{"message":"Hello, World!"}"#)
        .unwrap_or_else(|| panic!("the greeting on stdout: {finished:#?}"));
    let report = stdout
        .iter()
        .position(|l| l.starts_with("REPORT RequestId: "))
        .unwrap_or_else(|| panic!("a REPORT line on stdout: {finished:#?}"));
    assert!(
        greeting < report,
        "the answer before the report: {stdout:#?}"
    );
    for field in [
        "Duration: ",
        "Response Sent: ",
        "Billed Duration: ",
        "Init Duration: ",
    ] {
        assert!(
            stdout[report].contains(field),
            "{field} in {}",
            stdout[report]
        );
    }
    assert!(
        stdout.iter().any(|l| l.starts_with("START RequestId: ")),
        "{stdout:#?}"
    );
    assert!(
        finished.stderr.contains("deferred: done"),
        "the deferred work ran: {}",
        finished.stderr
    );
    let timing = finished
        .stderr_lines()
        .into_iter()
        .find(|l| l.starts_with("coda: the caller had its answer after "))
        .unwrap_or_else(|| panic!("the timing line on stderr: {finished:#?}"));
    assert!(timing.contains("the invocation ended after"), "{timing}");
    finished.assert_no_panic();
}

/// An event `hello` cannot decode is the function's `Runtime.UnmarshalError`: the error body
/// on stdout, `coda: the invocation failed: Runtime.UnmarshalError` on stderr, exit 1.
#[test]
fn run_invoke_function_error_exits_1() {
    let finished = run_coda(with_hello(&["run", "--invoke", r#"{"name": 5}"#]));
    assert_eq!(finished.code, Some(1), "{finished:#?}");
    assert!(
        finished
            .stdout
            .contains(r#""errorType":"Runtime.UnmarshalError""#),
        "{}",
        finished.stdout
    );
    assert!(
        finished
            .stderr_lines()
            .contains(&"coda: the invocation failed: Runtime.UnmarshalError"),
        "{}",
        finished.stderr
    );
    finished.assert_no_panic();
}

/// Row 2 of issue 15: an `--invoke` event that is not JSON is refused before anything runs,
/// as Lambda's Invoke API refuses it (`InvalidRequestContentException`): one line naming the
/// reason and the way to test raw bytes, then the parser's error; exit 1, nothing on stdout.
#[test]
fn run_invoke_refuses_an_event_that_is_not_json() {
    let finished = run_coda(with_hello(&["run", "--invoke", "not json"]));
    assert_eq!(finished.stdout, "", "{finished:#?}");
    assert_one_error(
        &finished,
        &[
            "coda: the `--invoke` event is not JSON, and Lambda's Invoke API takes only JSON",
            "coda_emulator::Invoke",
            "expected ident at line 1 column 2",
        ],
    );
}

/// `coda run` without the function's command is a usage error: exit 2, one line.
#[test]
fn run_without_command_is_a_usage_error() {
    assert_usage_error(&run_coda(["run"]), "needs the function's command");
    assert_usage_error(
        &run_coda(["run", "--invoke", "{}"]),
        "needs the function's command",
    );
}

/// A port that is not a number is a usage error naming the value: exit 2, one line.
#[test]
fn run_port_not_a_number_is_a_usage_error() {
    let finished = run_coda(["run", "--port", "notanumber", "--", "/bin/true"]);
    assert_usage_error(&finished, "`--port` needs a number, not `notanumber`");
}

/// An unknown option is a usage error naming it: exit 2, one line. (Followed by a value, the
/// message says "unknown option"; directly before `--` the parser currently takes `--` for
/// its missing value and says "needs a value", which still names the option.)
#[test]
fn run_unknown_option_is_a_usage_error() {
    assert_usage_error(
        &run_coda(["run", "--frobnicate", "1", "--", "/bin/true"]),
        "unknown option `--frobnicate`",
    );
    assert_usage_error(
        &run_coda(["run", "--frobnicate", "--", "/bin/true"]),
        "`--frobnicate`",
    );
    assert_usage_error(&run_coda(["--frobnicate"]), "unknown option `--frobnicate`");
}

/// A function binary that does not exist is one clear error: what `coda run` could not do and
/// what to check, then the emulator's error naming the program, then the OS error; exit 1,
/// no panic, nothing on stdout.
#[test]
fn run_missing_binary_is_a_clear_error() {
    let finished = run_coda(["run", "--invoke", "{}", "--", "/nonexistent/fn"]);
    assert_eq!(finished.code, Some(1), "{finished:#?}");
    assert_eq!(finished.stdout, "", "{finished:#?}");
    let line = assert_one_error(
        &finished,
        &[
            "coda: the function did not get ready (check the command after `--`",
            "): cannot start /nonexistent/fn",
        ],
    );
    // The OS error follows the emulator's message. (`coda_emulator::ReadyError` is changing so
    // that its message no longer embeds this cause as well; once it has, this belongs in the
    // exactly-once levels above.)
    let after = line
        .split("cannot start /nonexistent/fn")
        .nth(1)
        .unwrap_or_default();
    assert!(after.starts_with(": No such file"), "{line}");
}

/// A busy invoke port is one clear error naming the port and the way out (`--port`),
/// non-zero exit, before any function starts (nothing on stdout: no START line).
#[test]
fn run_busy_port_names_the_port() {
    let busy = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let port = busy.local_addr().expect("local address").port();
    let finished = run_coda(with_hello(&["run", "--port", &port.to_string()]));
    assert_one_error(
        &finished,
        &[
            &format!("coda: the emulator cannot use port {port} (pick another with --port;"),
            "Address already in use",
        ],
    );
    assert_eq!(finished.stdout, "", "{finished:#?}");
    drop(busy);
}

/// `coda invoke` with nothing listening is one clear error naming the URL and asking whether
/// `coda run` is running, then the OS error itself (not the HTTP client's copy of it),
/// non-zero exit.
#[test]
fn invoke_with_nothing_listening_is_a_clear_error() {
    let url = format!("http://127.0.0.1:{}", closed_port());
    let finished = run_coda(["invoke", "--url", &url, "--data", "{}"]);
    assert_eq!(finished.stdout, "", "{finished:#?}");
    let line = assert_one_error(
        &finished,
        &[
            &format!("coda: no answer from {url}/2015-03-31/functions/function/invocations"),
            " (is `coda run` running there?): ",
            "Connection refused",
        ],
    );
    assert!(!line.contains("io: "), "{line}");
}

/// An event file that cannot be read is one line naming the file, then the OS error.
#[test]
fn invoke_missing_data_file_is_a_clear_error() {
    let missing =
        std::env::temp_dir().join(format!("coda-cli-{}-no-event.json", std::process::id()));
    let finished = run_coda([
        OsStr::new("invoke"),
        OsStr::new("--data-file"),
        missing.as_os_str(),
    ]);
    assert_eq!(finished.code, Some(1), "{finished:#?}");
    assert_eq!(finished.stdout, "", "{finished:#?}");
    assert_one_error(
        &finished,
        &[
            &format!("coda: cannot read the event file {}: ", missing.display()),
            "No such file or directory",
        ],
    );
}

/// A `coda run` serving its invoke front; killed (and reaped) when dropped, so a failing test
/// leaves no server behind.
struct Server {
    /// The `coda run` process.
    child: Child,
    /// Its stderr lines as they come.
    stderr: Receiver<String>,
    /// Its stdout, whole, once it has closed.
    stdout: Option<Receiver<String>>,
    /// Every stderr line seen so far.
    seen: Vec<String>,
}

impl Server {
    /// Starts `coda run --port 0 -- <command>`: the front on any free port, whose address
    /// `coda` prints.
    fn start(command: &[&OsStr]) -> Server {
        Server::start_with(coda(), command)
    }

    /// Like [`Server::start`], in a process group of its own, as a shell starts a foreground
    /// job: Ctrl-C signals the whole group.
    fn start_as_job(command: &[&OsStr]) -> Server {
        use std::os::unix::process::CommandExt;
        let mut coda = coda();
        coda.process_group(0);
        Server::start_with(coda, command)
    }

    fn start_with(coda: Command, command: &[&OsStr]) -> Server {
        Server::start_full(coda, &[], command, &[])
    }

    /// Starts `coda run --port 0 <options> -- <command>` with `env` added to its own
    /// environment.
    fn start_full(
        mut coda: Command,
        options: &[&str],
        command: &[&OsStr],
        env: &[(&str, &str)],
    ) -> Server {
        let mut child = coda
            .args(["run", "--port", "0"])
            .args(options)
            .arg("--")
            .args(command)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("coda starts");
        let stderr = lines(child.stderr.take().expect("piped stderr"));
        let stdout = read_all(child.stdout.take().expect("piped stdout"));
        Server {
            child,
            stderr,
            stdout: Some(stdout),
            seen: Vec::new(),
        }
    }

    /// Waits for a stderr line for which `pick` gives a value.
    fn wait_line<T>(&mut self, what: &str, pick: impl Fn(&str) -> Option<T>) -> T {
        let deadline = Instant::now() + LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    let found = pick(&line);
                    self.seen.push(line);
                    if let Some(found) = found {
                        return found;
                    }
                }
                Err(_) => panic!(
                    "no {what} from `coda run` within {LIMIT:?}: {:#?}",
                    self.seen
                ),
            }
        }
    }

    /// Waits for "function ready", then for the front's address in the line that follows.
    fn ready(&mut self) -> SocketAddr {
        self.wait_line("\"function ready\"", |l| {
            l.starts_with("coda: function ready").then_some(())
        });
        self.wait_line("front address", front_addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Sends the lines of `pipe` one by one.
fn lines(pipe: ChildStderr) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// The `127.0.0.1:P` of the first `http://127.0.0.1:P/` URL in `line`.
fn front_addr(line: &str) -> Option<SocketAddr> {
    let rest = &line[line.find("http://127.0.0.1:")? + "http://".len()..];
    rest.split(|c: char| c == '/' || c.is_whitespace())
        .next()?
        .parse()
        .ok()
}

/// Makes a named pipe and reports when every process that opened it for writing has closed
/// it: the function is run as `sh -c 'exec "$0" 9>"$1"' <fn> <fifo>` (the shell opens the
/// pipe, then becomes the function, which keeps descriptor 9 open until it exits), so an
/// end-of-file on the read side means the function process is gone, without polling.
struct ExitWitness {
    /// Where the pipe is.
    path: PathBuf,
    /// Receives `()` at end-of-file.
    gone: Receiver<()>,
}

impl ExitWitness {
    /// Makes the pipe and starts waiting on its read side.
    fn new(name: &str) -> ExitWitness {
        let path = std::env::temp_dir().join(format!("coda-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let made = Command::new("mkfifo")
            .arg(&path)
            .status()
            .expect("mkfifo runs");
        assert!(made.success(), "mkfifo {}", path.display());
        let (tx, gone) = mpsc::channel();
        let reader = path.clone();
        std::thread::spawn(move || {
            // Opening blocks until the function's shell opens the write side.
            if let Ok(mut pipe) = File::open(&reader) {
                let mut sink = Vec::new();
                let _ = pipe.read_to_end(&mut sink);
                let _ = tx.send(());
            }
        });
        ExitWitness { path, gone }
    }

    /// Checks that the function still holds the pipe (so the witness can tell).
    fn assert_running(&self) {
        assert!(
            matches!(self.gone.try_recv(), Err(mpsc::TryRecvError::Empty)),
            "the function process is already gone"
        );
    }

    /// The function command that holds the pipe open while `function` runs.
    fn command<'a>(&'a self, function: &'a Path) -> [&'a OsStr; 5] {
        [
            "sh".as_ref(),
            "-c".as_ref(),
            r#"exec "$0" 9>"$1""#.as_ref(),
            function.as_os_str(),
            self.path.as_os_str(),
        ]
    }
}

impl Drop for ExitWitness {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Invokes the front at `front` with `coda invoke`.
fn invoke(front: SocketAddr, extra: &[&str]) -> Finished {
    let url = format!("http://{front}");
    let mut args = vec!["invoke", "--url", &url, "--data", r#"{"name":"X"}"#];
    args.extend_from_slice(extra);
    run_coda(args)
}

/// README "Local development": `coda run -- hello` serves the Invoke API on its port;
/// `coda invoke` prints the greeting, and with `--tail` also the log tail (the handler's own
/// line). Killing `coda run` closes the port and leaves no function process behind: `hello`
/// notices its Runtime API is gone and exits. (Exercises the invoke front, `front.rs`.)
#[test]
fn run_serves_coda_invoke_and_leaves_nothing_behind() {
    let witness = ExitWitness::new("front");
    let mut server = Server::start(&witness.command(hello()));
    let front = server.ready();

    let plain = invoke(front, &[]);
    assert_eq!(plain.code, Some(0), "{plain:#?}\n{:#?}", server.seen);
    assert_eq!(
        plain.stdout.trim_end(),
        r#"{"message":"Hello, X!"}"#,
        "{plain:#?}"
    );
    plain.assert_no_panic();

    let tailed = invoke(front, &["--tail"]);
    assert_eq!(tailed.code, Some(0), "{tailed:#?}");
    assert_eq!(
        tailed.stdout.trim_end(),
        r#"{"message":"Hello, X!"}"#,
        "{tailed:#?}"
    );
    assert!(tailed.stderr.contains("coda: log tail:"), "{tailed:#?}");
    assert!(tailed.stderr.contains("greeting X"), "{tailed:#?}");
    assert!(tailed.stderr.contains("REPORT RequestId: "), "{tailed:#?}");
    tailed.assert_no_panic();

    witness.assert_running();
    // Kill `coda run` (no chance to clean up) and reap it.
    server.child.kill().expect("kill coda run");
    let status = server.child.wait().expect("reap coda run");
    assert!(!status.success());
    let stdout = server.stdout.take().expect("stdout reader");
    stdout
        .recv_timeout(LIMIT)
        .expect("coda's stdout closes with it");
    assert_nothing_left(front, &witness);
}

/// After `coda run` is gone: its port refuses connections and its function process has exited.
fn assert_nothing_left(front: SocketAddr, witness: &ExitWitness) {
    assert!(
        TcpStream::connect(front).is_err(),
        "the front port {front} still accepts connections"
    );
    witness
        .gone
        .recv_timeout(LIMIT)
        .expect("the function process exits once `coda run` is gone");
}

/// The same check without the front: `coda run` killed while its function waits for an event
/// leaves no function process behind, and its port closes. (Independent of `front.rs`.)
#[test]
fn killed_run_leaves_no_function_behind() {
    let witness = ExitWitness::new("idle");
    let mut server = Server::start(&witness.command(hello()));
    let front = server.ready();
    witness.assert_running();
    server.child.kill().expect("kill coda run");
    server.child.wait().expect("reap coda run");
    assert_nothing_left(front, &witness);
}

/// Ctrl-C at a terminal sends SIGINT to the foreground job's process group: `coda run` and its
/// function both stop, the port closes, nothing is left running.
#[test]
fn ctrl_c_stops_run_and_function() {
    let witness = ExitWitness::new("ctrl-c");
    let mut server = Server::start_as_job(&witness.command(hello()));
    let front = server.ready();
    witness.assert_running();
    let group = server.child.id().to_string();
    let sent = Command::new("kill")
        .args(["-INT", "--", &format!("-{group}")])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = server.child.wait().expect("reap coda run");
    assert!(!status.success(), "{status}");
    witness
        .gone
        .recv_timeout(LIMIT)
        .expect("the function process stops with the job");
    assert!(
        TcpStream::connect(front).is_err(),
        "the front port {front} still accepts connections"
    );
}

impl ExitWitness {
    /// A function command that outlives a lost Runtime API, as the official Rust runtime in
    /// concurrent mode does by retrying `/next` forever: a shell holds the pipe, runs
    /// `function` (which exits when `coda run` is gone), then becomes `sleep 600`, still
    /// holding it. Only something that ends the function's whole process group (or kills the
    /// shell when `coda` dies) makes the witness see the end.
    fn surviving_command<'a>(&'a self, function: &'a Path) -> [&'a OsStr; 5] {
        [
            "sh".as_ref(),
            "-c".as_ref(),
            r#"exec 9>"$1"; "$0"; exec sleep 600"#.as_ref(),
            function.as_os_str(),
            self.path.as_os_str(),
        ]
    }
}

/// Sends `signal` (`TERM`, `HUP`, `INT`) to process `pid` alone (not its group).
fn signal(pid: u32, signal: &str) {
    let sent = Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success(), "kill -{signal} {pid}");
}

/// Issue 15 row 5: SIGTERM, SIGHUP or SIGINT sent to `coda run` alone (as `timeout`, an IDE's
/// stop button, CI or a process manager send it) ends the function with it, even a function
/// that would outlive a lost Runtime API: `coda` says so on one line, terminates the
/// function's process group and exits with the signal's status (128 + its number).
#[test]
fn a_termination_signal_to_run_ends_the_function() {
    for (name, status) in [("TERM", 143), ("HUP", 129), ("INT", 130)] {
        let witness = ExitWitness::new(&format!("signal-{name}"));
        let mut server = Server::start(&witness.surviving_command(hello()));
        let front = server.ready();
        witness.assert_running();
        signal(server.child.id(), name);
        let exited = server.child.wait().expect("reap coda run");
        assert_eq!(exited.code(), Some(status), "SIG{name}: {exited}");
        witness
            .gone
            .recv_timeout(LIMIT)
            .unwrap_or_else(|_| panic!("SIG{name}: the function outlived coda run"));
        let said = server.wait_line("the signal line", |l| {
            l.starts_with("coda: SIG").then(|| l.to_owned())
        });
        assert_eq!(said, format!("coda: SIG{name}: shutting the function down"));
        assert!(TcpStream::connect(front).is_err(), "the port closed");
    }
}

/// Issue 15 row 5: even `SIGKILL`, which no handler sees, takes the function down with
/// `coda run`: the function was started through `coda __launch`, which asked the kernel to
/// kill it when its parent dies. (With `--no-freeze`: a wrapper's child that is frozen when
/// `coda` is SIGKILLed is not reached by the parent-death signal, and can stay stopped; see
/// the README's "Stopping".)
#[test]
fn a_sigkilled_run_still_ends_the_function() {
    let witness = ExitWitness::new("sigkill");
    let mut server = Server::start_full(
        coda(),
        &["--no-freeze"],
        &witness.surviving_command(hello()),
        &[],
    );
    let front = server.ready();
    witness.assert_running();
    server.child.kill().expect("SIGKILL coda run");
    server.child.wait().expect("reap coda run");
    witness
        .gone
        .recv_timeout(LIMIT)
        .expect("the function dies with coda run");
    assert!(TcpStream::connect(front).is_err(), "the port closed");
}

/// Issue 15 row 8: a function whose init fails does not end `coda run`. Its failure is
/// printed once per attempt in one shape each (the function's own line and Lambda's
/// `INIT_REPORT`), `coda` adds one line (without repeating the error), keeps serving, and
/// each invocation starts the function again and gets the failure as its answer
/// (`Runtime.ExitError`, exit 1 from `coda invoke`).
#[test]
fn an_init_failure_keeps_run_serving() {
    let script: &OsStr = r#"echo "init: no settings file" >&2; exit 3"#.as_ref();
    let mut server = Server::start(&["sh".as_ref(), "-c".as_ref(), script]);
    server.wait_line("the init failure line", |l| {
        l.starts_with("coda: the function failed to initialize")
            .then_some(())
    });
    let front = server.wait_line("front address", front_addr);
    for _ in 0..2 {
        let invoked = invoke(front, &[]);
        assert_eq!(invoked.code, Some(1), "{invoked:#?}");
        assert!(invoked.stdout.contains("Runtime.ExitError"), "{invoked:#?}");
        assert!(
            invoked.stderr.contains("coda: function error: Unhandled"),
            "{invoked:#?}"
        );
    }
    signal(server.child.id(), "TERM");
    server.child.wait().expect("reap coda run");
    let stdout = server
        .stdout
        .take()
        .expect("stdout reader")
        .recv_timeout(LIMIT)
        .expect("stdout closes");
    while let Ok(line) = server.stderr.recv_timeout(LIMIT) {
        server.seen.push(line);
    }
    let count =
        |lines: &[String], needle: &str| lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(
        count(&server.seen, "init: no settings file"),
        3,
        "{:#?}",
        server.seen
    );
    assert_eq!(
        count(&server.seen, "coda: the function failed to initialize"),
        1
    );
    assert_eq!(
        count(&server.seen, "did not get ready"),
        0,
        "{:#?}",
        server.seen
    );
    let init_reports: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("INIT_REPORT Init Duration: "))
        .collect();
    assert_eq!(init_reports.len(), 3, "{stdout}");
    assert!(
        init_reports
            .iter()
            .all(|l| l.ends_with("Phase: init\tStatus: error\tError Type: Runtime.ExitError")),
        "{stdout}"
    );
}

/// Issue 15 row 11: the banner's `coda invoke` hint carries `--url` for a port other than
/// 9000 and `--name` for a name other than `function`, and the hint works as printed.
#[test]
fn the_banner_hint_works_as_printed() {
    let mut server = Server::start_full(coda(), &["--name", "orders"], &[hello().as_os_str()], &[]);
    server.wait_line("ready", |l| {
        l.starts_with("coda: function ready").then_some(())
    });
    let hint = server.wait_line("the invoke hint", |l| {
        l.strip_prefix("coda: invoke: ")
            .and_then(|rest| rest.split(" --data ").next())
            .map(str::to_owned)
    });
    let front = front_addr(&hint).expect("the front's address in the hint");
    assert_eq!(
        hint,
        format!("coda invoke --url http://{front} --name orders")
    );
    let mut args: Vec<&str> = hint.split(' ').skip(1).collect();
    args.extend(["--data", r#"{"name":"Hint"}"#]);
    let invoked = run_coda(args);
    assert_eq!(invoked.code, Some(0), "{invoked:#?}");
    assert_eq!(invoked.stdout.trim_end(), r#"{"message":"Hello, Hint!"}"#);
}

/// Issue 15 row 11: the traps of the command line are usage errors that say what to do:
/// coda's options after the command without `--` (which used to serve forever), a port out
/// of range (which used to say "needs a number"), a URL without its scheme (which used to
/// blame the server).
#[test]
fn command_line_traps_are_named() {
    let program = hello().to_string_lossy().into_owned();
    assert_usage_error(
        &run_coda(["run", &program, "--invoke", "{}"]),
        &format!("`--invoke` comes after the function's command `{program}`"),
    );
    assert_usage_error(
        &run_coda(["run", "--port", "80000", "--", &program]),
        "`--port` is a port from 0 to 65535 (0: any free port), not `80000`",
    );
    assert_usage_error(
        &run_coda(["invoke", "--url", "127.0.0.1:9100"]),
        "`--url` needs a URL with its scheme, e.g. http://127.0.0.1:9100",
    );
}

/// The lines of a file `env` wrote, as `NAME=value` pairs.
fn env_file(path: &Path) -> Vec<(String, String)> {
    std::fs::read_to_string(path)
        .expect("the env file")
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Issue 15 rows 3 and 4 through `coda run`: the function's environment is Lambda's plus what
/// is passed on purpose. `coda run`'s own `HOME`, `RUST_BACKTRACE`, a secret and its
/// `AWS_LAMBDA_FUNCTION_NAME` stay out; `--pass-env` passes a host variable, `--env` sets
/// one; an inherited `_HANDLER` reaches the function, and `--handler` overrides it.
#[test]
fn run_gives_lambdas_environment_plus_what_is_passed() {
    let dir = std::env::temp_dir().join(format!("coda-cli-{}-env", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let host = [
        ("HOME", "/home/somebody"),
        ("RUST_BACKTRACE", "1"),
        ("CODA_SECRET_TOKEN", "s3cret"),
        ("CODA_PASSED", "yes"),
        ("AWS_LAMBDA_FUNCTION_NAME", "the-outer-function"),
        ("_HANDLER", "inherited.handler"),
    ];
    for (case, options, handler) in [
        (
            "inherited",
            &["--pass-env", "CODA_PASSED", "--env", "SET_HERE=1"][..],
            "inherited.handler",
        ),
        (
            "explicit",
            &["--handler", "explicit.handler"][..],
            "explicit.handler",
        ),
    ] {
        let file = dir.join(case);
        let _ = std::fs::remove_file(&file);
        let script: &OsStr = r#"env > "$1"; exec "$0""#.as_ref();
        let mut server = Server::start_full(
            coda(),
            options,
            &[
                "sh".as_ref(),
                "-c".as_ref(),
                script,
                hello().as_os_str(),
                file.as_os_str(),
            ],
            &host,
        );
        server.ready();
        let env = env_file(&file);

        let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("_HANDLER"), Some(handler), "{case}: {env:#?}");
        assert_eq!(get("AWS_LAMBDA_FUNCTION_NAME"), Some("function"), "{case}");
        assert_eq!(get("TZ"), Some(":UTC"), "{case}");
        assert_eq!(
            get("PATH"),
            Some("/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"),
            "{case}"
        );
        assert!(get("LAMBDA_TASK_ROOT").is_some(), "{case}");
        for leaked in ["HOME", "RUST_BACKTRACE", "CODA_SECRET_TOKEN"] {
            assert_eq!(get(leaked), None, "{case}: {leaked} leaked: {env:#?}");
        }
        if case == "inherited" {
            assert_eq!(get("CODA_PASSED"), Some("yes"));
            assert_eq!(get("SET_HERE"), Some("1"));
        } else {
            assert_eq!(get("CODA_PASSED"), None);
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 15 row 9 through `coda run`: with `--log-format json` (or
/// `--env AWS_LAMBDA_LOG_FORMAT=JSON`) the platform lines on stdout are Lambda's JSON
/// records, `platform.start` then `platform.report`, with no text START/END/REPORT, and the
/// function's own lines (stderr) are JSON too.
#[test]
fn run_with_json_logs_prints_json_platform_records() {
    for options in [
        &["--log-format", "json"][..],
        &["--env", "AWS_LAMBDA_LOG_FORMAT=JSON"],
    ] {
        let mut args = vec!["run"];
        args.extend_from_slice(options);
        args.extend([
            "--env",
            "HELLO_DEFER_MS=1",
            "--invoke",
            r#"{"name":"World"}"#,
        ]);
        let finished = run_coda(with_hello(&args));
        assert_eq!(finished.code, Some(0), "{finished:#?}");
        let types: Vec<String> = finished
            .stdout
            .lines()
            .filter(|l| l.starts_with("{\"record\"") || l.contains("\"type\":\"platform."))
            .filter_map(|l| {
                let at = l.find("\"type\":\"")? + 8;
                Some(l[at..].split('"').next()?.to_owned())
            })
            .collect();
        assert_eq!(
            types,
            ["platform.start", "platform.report"],
            "{options:?}: {finished:#?}"
        );
        assert!(!finished.stdout.contains("END RequestId"), "{finished:#?}");
        assert!(
            finished
                .stderr
                .lines()
                .any(|l| l.starts_with('{')
                    && l.contains("\"message\":\"cold start: greeting World\"")),
            "{finished:#?}"
        );
    }
}

/// Issue 15 row 9 in the terminal: the deferred work's last line, written just before the
/// function asks for its next event, is printed before END and REPORT (stdout and stderr
/// merged into one pipe, as a terminal shows them), run after run.
#[test]
fn run_prints_the_last_lines_before_end() {
    for _ in 0..5 {
        let mut command = Command::new("sh");
        command
            .args(["-c", r#""$0" "$@" 2>&1"#])
            .arg(env!("CARGO_BIN_EXE_coda"))
            .args([
                "run",
                "--env",
                "HELLO_DEFER_MS=1",
                "--invoke",
                r#"{"name":"Order"}"#,
                "--",
            ])
            .arg(hello());
        let finished = finish(command, LIMIT);
        assert_eq!(finished.code, Some(0), "{finished:#?}");
        let lines: Vec<&str> = finished.stdout.lines().collect();
        let done = lines.iter().position(|l| l.contains("deferred: done"));
        let end = lines.iter().position(|l| l.starts_with("END RequestId"));
        match (done, end) {
            (Some(done), Some(end)) if done < end => {}
            _ => panic!("the deferred line before END: {lines:#?}"),
        }
    }
}

/// The Python with AWS's runtime client (`scripts/test` sets `CODA_TEST_PYTHON`).
fn python() -> String {
    std::env::var("CODA_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("CODA_TEST_PYTHON is not set: run the tests with `bash scripts/test`")
    })
}

/// Issue 15 row 10 through `coda run`: the freeze is on by default; a handler (AWS's Python
/// client) that leaves a spinning thread behind gets a warning naming its invocation when
/// the function is frozen after it.
#[test]
fn run_warns_about_work_that_outlives_its_invocation() {
    let handlers = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python");
    let python = python();
    let pythonpath = format!("PYTHONPATH={handlers}");
    let mut server = Server::start_full(
        coda(),
        &["--env", &pythonpath, "--env", "PYTHONDONTWRITEBYTECODE=1"],
        &[
            python.as_ref(),
            "-m".as_ref(),
            "awslambdaric".as_ref(),
            "echo.handler".as_ref(),
        ],
        &[],
    );
    let front = server.ready();
    let url = format!("http://{front}");
    let invoked = run_coda([
        "invoke",
        "--url",
        &url,
        "--data",
        r#"{"spin": true}"#,
        "--tail",
    ]);
    assert_eq!(invoked.code, Some(0), "{invoked:#?}");
    let request_id = invoked
        .stderr
        .lines()
        .find_map(|l| l.strip_prefix("START RequestId: "))
        .and_then(|rest| rest.split(' ').next())
        .expect("the request id in the tail")
        .to_owned();
    let warning = server.wait_line("the freeze warning", |l| {
        l.starts_with("coda: warning: work of invocation ")
            .then(|| l.to_owned())
    });
    assert!(
        warning.starts_with(&format!(
            "coda: warning: work of invocation {request_id} was still running when the function called /next ("
        )),
        "{warning}"
    );
    assert!(warning.contains("--no-freeze"), "{warning}");
    // The frozen function is thawed by the next event and answers it.
    let again = run_coda(["invoke", "--url", &url, "--data", r#"{"again": 1}"#]);
    assert_eq!(again.stdout.trim_end(), r#"{"again": 1}"#, "{again:#?}");
}

/// Issue 10: Lambda sends SIGTERM only to a function that registered an extension; one that
/// did not is killed at once. A function that would handle SIGTERM (a shell trap) but
/// registered no extension never sees it, and `coda` says why.
#[test]
fn a_function_without_an_extension_is_killed_without_sigterm() {
    let file = std::env::temp_dir().join(format!("coda-cli-{}-trap", std::process::id()));
    let _ = std::fs::remove_file(&file);
    let script: &OsStr = r#"trap 'echo handled > "$1"; exit 0' TERM; "$0" & wait"#.as_ref();
    let mut server = Server::start(&[
        "sh".as_ref(),
        "-c".as_ref(),
        script,
        hello().as_os_str(),
        file.as_os_str(),
    ]);
    server.ready();
    signal(server.child.id(), "TERM");
    let exited = server.child.wait().expect("reap coda run");
    assert_eq!(exited.code(), Some(143), "{exited}");
    server.wait_line("the kill line", |l| {
        l.contains("registered no extension: killed without SIGTERM")
            .then_some(())
    });
    assert!(!file.exists(), "the function got no SIGTERM");
}

/// Issue 10: a function with a shutdown hook (it registered a do-nothing extension) gets
/// SIGTERM when `coda run` is stopped, its hook's line shows, it exits within the budget, and
/// `coda` says so.
#[test]
fn a_function_with_a_shutdown_hook_gets_sigterm() {
    let mut server = Server::start(&[shutdown_example().as_os_str()]);
    let front = server.ready();
    let answered = invoke(front, &[]);
    assert_eq!(answered.code, Some(0), "{answered:#?}");
    signal(server.child.id(), "TERM");
    let exited = server.child.wait().expect("reap coda run");
    assert_eq!(exited.code(), Some(143), "{exited}");
    server.wait_line("the hook's line", |l| {
        l.contains("shutdown hook ran").then_some(())
    });
    server.wait_line("the exit line", |l| {
        l.contains("the function exited").then_some(())
    });
}

/// Issue 10: `--idle-timeout` shuts an idle function down as Lambda retires an idle sandbox
/// (its hook runs), and the next invocation starts it again (a cold start).
#[test]
fn an_idle_function_is_shut_down_and_started_again() {
    let coda = coda();
    let mut server = Server::start_full(
        coda,
        &["--idle-timeout", "0.3"],
        &[shutdown_example().as_os_str()],
        &[],
    );
    let front = server.ready();
    server.wait_line("the idle line", |l| {
        l.starts_with("coda: idle for 0.3 s").then_some(())
    });
    server.wait_line("the hook's line", |l| {
        l.contains("shutdown hook ran").then_some(())
    });
    let answered = invoke(front, &["--tail"]);
    assert_eq!(answered.code, Some(0), "{answered:#?}");
    assert!(
        answered.stderr.contains("Init Duration"),
        "a new process, a cold start: {answered:#?}"
    );
}

/// `coda run --faults`: `next=500@1` answers the function's first `/next` with a 500. The
/// function (Coda's runtime) ends with one clear line naming the call and the status and
/// exits 1 (`docs/runtime-api.md` §11 #1); `coda` prints `coda: fault injected: …` so the
/// user sees why, and the `--invoke` event, lost with the process, fails as on Lambda.
#[test]
fn run_faults_shows_the_fault_and_its_effect() {
    let finished = run_coda(with_hello(&[
        "run",
        "--faults",
        "next=500@1",
        "--invoke",
        r#"{"name":"World"}"#,
    ]));
    assert_eq!(finished.code, Some(1), "{finished:#?}");
    let lines = finished.stderr_lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("coda: fault injected: next=500 (call 1, request ")),
        "{finished:#?}"
    );
    let fatal: Vec<&&str> = lines
        .iter()
        .filter(|l| l.contains("GET /2018-06-01/runtime/invocation/next: status 500"))
        .collect();
    assert_eq!(fatal.len(), 1, "one line from the function: {finished:#?}");
    assert!(
        finished.stdout.contains("Runtime.ExitError"),
        "{finished:#?}"
    );
    finished.assert_no_panic();
}

/// A bad `--faults` spec is a usage error naming the entry and what is valid.
#[test]
fn run_faults_refuses_a_bad_spec() {
    assert_usage_error(
        &run_coda(with_hello(&["run", "--faults", "next=cut@1,body=slow"])),
        "`--faults`: fault `body=slow`: unknown key `body`: the keys are next, response, headers, id and deadline",
    );
}
