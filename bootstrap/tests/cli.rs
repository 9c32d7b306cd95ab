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
    HELLO.get_or_init(build_hello)
}

/// Runs `cargo build -p coda-examples --bin hello` and returns the executable cargo reports.
fn build_hello() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args([
            "build",
            "-p",
            "coda-examples",
            "--bin",
            "hello",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    let built = finish(command, BUILD_LIMIT);
    assert_eq!(
        built.code,
        Some(0),
        "building the hello example failed:\n{}",
        built.stderr
    );
    built
        .stdout
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter(|line| line.contains(r#""name":"hello""#))
        .find_map(|line| json_string(line, "executable"))
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("cargo reported no hello executable:\n{}", built.stdout))
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

    fn start_with(mut coda: Command, command: &[&OsStr]) -> Server {
        let mut child = coda
            .args(["run", "--port", "0", "--"])
            .args(command)
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
    rest.split('/').next()?.parse().ok()
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
