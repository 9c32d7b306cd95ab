//! `coda wrap` as Lambda and `coda run` run it: the built `coda` binary is the function
//! process, supervised by the emulator (`coda_emulator::Supervisor`, what `coda run` uses),
//! and the runtime behind it is one nobody here wrote — AWS's Python runtime client
//! (`awslambdaric`, from `CODA_TEST_PYTHON`, which `bash scripts/test` sets) running
//! `tests/python/echo.py` — or Coda's own `echo`, `echo-stream` and `concurrent` examples, or
//! the small streaming runtime in `tests/wrap-runtimes/stream_runtime.py`.
//!
//! No sleeps: waits are the emulator's (`answer`, `finished`, `read_stream`, `next_calls`),
//! a child's output or exit, or a FIFO the command (or the runtime) blocks on until the test
//! writes to it; each is bounded by [`LIMIT`]. The one `sleep` is the command of the Proof's
//! "1 s command", whose second is then measured to lie after the caller's answer.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use coda_emulator::{
    Answer, Emulator, EmulatorBuilder, Ending, Finished, FunctionCommand, Invoke,
    PendingInvocation, Supervisor,
};
use serde_json::{Value, json};

/// The `coda` command under test.
const CODA: &str = env!("CARGO_BIN_EXE_coda");
/// The limit for any wait; reaching it means the test failed.
const LIMIT: Duration = Duration::from_secs(30);
/// `echo.py`, the Python handler the integration tests use too.
const PY_HANDLERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/python");
/// The runtimes written for these tests.
const RUNTIMES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/wrap-runtimes");

/// The Python that has awslambdaric.
fn python() -> OsString {
    let python = std::env::var_os("CODA_TEST_PYTHON").unwrap_or_else(|| {
        panic!(
            "CODA_TEST_PYTHON is not set: these tests run AWS's Python runtime client; run them with `bash scripts/test`"
        )
    });
    assert!(
        Path::new(&python).exists(),
        "CODA_TEST_PYTHON={} does not exist: run the tests with `bash scripts/test`",
        python.to_string_lossy()
    );
    python
}

/// `python -m awslambdaric echo.handler`.
fn awslambdaric() -> Vec<OsString> {
    vec![
        python(),
        "-m".into(),
        "awslambdaric".into(),
        "echo.handler".into(),
    ]
}

/// The workspace examples the tests run behind `coda wrap`, built once.
struct Examples {
    /// `examples/echo.rs`.
    echo: PathBuf,
    /// `examples/echo-stream.rs`.
    echo_stream: PathBuf,
    /// `examples/concurrent.rs`.
    concurrent: PathBuf,
}

/// Builds the examples with the cargo that runs the tests, and takes their paths from its
/// JSON output.
fn examples() -> &'static Examples {
    static EXAMPLES: OnceLock<Examples> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .args(["build", "-p", "coda-examples", "--message-format=json"])
            .args([
                "--bin",
                "echo",
                "--bin",
                "echo-stream",
                "--bin",
                "concurrent",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("cargo runs");
        assert!(
            output.status.success(),
            "building the examples failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let find = |name: &str| {
            stdout
                .lines()
                .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
                .filter(|l| l.contains(&format!(r#""name":"{name}""#)))
                .find_map(|l| {
                    let value: Value = serde_json::from_str(l).ok()?;
                    value["executable"].as_str().map(PathBuf::from)
                })
                .unwrap_or_else(|| panic!("cargo reported no {name} executable"))
        };
        Examples {
            echo: find("echo"),
            echo_stream: find("echo-stream"),
            concurrent: find("concurrent"),
        }
    })
}

/// A fresh, empty directory for one test.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("coda-wrap-tests")
        .join(test);
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Makes a FIFO at `path`.
fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

/// Opens the FIFO at `path` for writing: returns once a reader has it open.
fn open_fifo(path: &Path) -> fs::File {
    fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("the FIFO opens")
}

/// Now in Unix epoch milliseconds.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// An emulator whose function is `coda wrap <options> -- <runtime>`.
struct Wrapped {
    // Dropped first: the process is killed before the emulator shuts down.
    /// The function process: `coda wrap`.
    supervisor: Supervisor,
    /// The emulator.
    emulator: Emulator,
}

impl Wrapped {
    /// Starts `coda wrap <options> -- <runtime>` under an emulator from `builder`, with `env`
    /// added to Lambda's environment (the Python handlers importable), and waits until the
    /// runtime asked for its first event.
    fn start(
        builder: EmulatorBuilder,
        options: &[&str],
        env: &[(&str, &str)],
        runtime: &[OsString],
    ) -> Wrapped {
        let emulator = builder.start().expect("the emulator starts");
        let mut command = FunctionCommand::new(CODA)
            .arg("wrap")
            .args(options.iter().copied())
            .arg("--")
            .args(runtime.iter().cloned())
            .env("PYTHONPATH", PY_HANDLERS)
            .env("PYTHONDONTWRITEBYTECODE", "1");
        for (key, value) in env {
            command = command.env(key, value);
        }
        let supervisor = emulator.supervise(command).expect("the supervisor starts");
        if let Err(e) = supervisor.wait_ready(LIMIT) {
            panic!("the wrapped runtime did not become ready: {e}");
        }
        Wrapped {
            supervisor,
            emulator,
        }
    }

    /// Invokes `invoke` and waits for its answer and its end, with its settled log lines.
    fn call(&self, invoke: Invoke) -> (PendingInvocation, Answer, Finished, Vec<String>) {
        let pending = self.emulator.invoke(invoke);
        let answer = pending.answer(LIMIT).expect("an answer");
        let finished = pending.finished(LIMIT).expect("the invocation ends");
        let logs = pending.settled_logs(LIMIT).expect("the logs settle");
        (pending, answer, finished, logs)
    }
}

/// The log lines that contain `needle`.
fn with<'a>(logs: &'a [String], needle: &str) -> Vec<&'a String> {
    logs.iter().filter(|l| l.contains(needle)).collect()
}

/// Whether one of the lines contains `needle`.
fn has(logs: &[String], needle: &str) -> bool {
    !with(logs, needle).is_empty()
}

/// The lines `coda wrap` wrote for the invocation `id`, from its log stream.
fn wrap_lines<'a>(logs: &'a [String], id: &str) -> Vec<&'a String> {
    logs.iter()
        .filter(|l| l.contains("coda wrap: ") && l.contains(id))
        .collect()
}

/// Proof: the command runs after the caller's answer — a 1 s command leaves the caller's
/// latency alone. The whole second of `sleep 1` lies between the answer and the end of the
/// invocation (were the command run before the answer, as aws-lambda-post-runner holds the
/// runtime's `/response`, the answer would come after it), and the result line carries the
/// request id.
#[test]
fn the_caller_has_its_answer_before_a_one_second_command() {
    let wrapped = Wrapped::start(
        Emulator::builder(),
        &["--after-response", "sleep 1"],
        &[],
        &awslambdaric(),
    );
    let (pending, answer, finished, logs) = wrapped.call(Invoke::json(&json!({"a": 1})));
    assert_eq!(answer.json(), Some(json!({"a": 1})));
    assert_eq!(finished.ending, Ending::Completed, "{logs:#?}");
    let answered = finished.answered_after.expect("answered");
    assert!(
        finished.finished_after >= answered + Duration::from_secs(1),
        "the command's second after the answer: answered after {answered:?}, ended after {:?}",
        finished.finished_after
    );
    // The result line names the command's duration: at least its second (no upper bound:
    // a loaded machine may take longer to start `sh`).
    const RESULT: &str = "the after-response command exited with status 0 after ";
    let lines = wrap_lines(&logs, pending.request_id());
    let took: f64 = lines
        .iter()
        .find_map(|l| l.split(RESULT).nth(1))
        .and_then(|rest| rest.strip_suffix(" ms"))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("no result line with a duration: {logs:#?}"));
    assert!(took >= 1000.0, "the command took {took} ms: {logs:#?}");
}

/// The runtime's next `/next` waits for the command: while the command blocks (on a FIFO
/// the test holds), the caller has its answer, the invocation has not ended and the
/// emulator has seen no new `/next`; once the command ends, both happen. Coda's own `echo`
/// behind the wrapper.
#[test]
fn the_next_event_waits_for_the_command() {
    let dir = scratch("next-waits");
    let gate = dir.join("gate");
    mkfifo(&gate);
    let command = format!("read line < '{}'", gate.display());
    let wrapped = Wrapped::start(
        Emulator::builder().timeout(LIMIT),
        &["--after-response", &command],
        &[],
        &[examples().echo.clone().into()],
    );
    let calls = wrapped.emulator.next_calls();
    let pending = wrapped.emulator.invoke(Invoke::json(&json!({"x": 1})));
    let answer = pending.answer(LIMIT).expect("the answer");
    assert_eq!(answer.json(), Some(json!({"x": 1})));
    // Returns once the command has the FIFO open: it is running, waiting for a line.
    let mut writer = open_fifo(&gate);
    assert!(
        pending.finished(Duration::ZERO).is_err(),
        "the invocation goes on while the command runs"
    );
    assert_eq!(
        wrapped.emulator.next_calls(),
        calls,
        "the runtime's /next is held"
    );
    writeln!(writer, "go").unwrap();
    drop(writer);
    let finished = pending.finished(LIMIT).expect("the invocation ends");
    assert_eq!(finished.ending, Ending::Completed);
    assert_eq!(wrapped.emulator.next_calls(), calls + 1);
}

/// One configuration of the modes test: flags, variables, and whether the command runs
/// after a response and after an error.
type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], bool, bool);

/// Proof: error mode, with both modes and each alone. A success and an error go through
/// each configuration; the command that runs says which answer it followed. The mode is
/// read as people write it (any case, spaces); the flags name their own answer.
#[test]
fn modes_choose_which_answers_run_the_command() {
    let command = "echo ran-$CODA_OUTCOME";
    let cases: [Case<'_>; 5] = [
        (
            &[],
            &[
                ("AWS_LAMBDA_POST_RUNNER_COMMAND", command),
                ("AWS_LAMBDA_POST_RUNNER_MODE", "AfterResponse"),
            ],
            true,
            false,
        ),
        (
            &[],
            &[
                ("AWS_LAMBDA_POST_RUNNER_COMMAND", command),
                ("AWS_LAMBDA_POST_RUNNER_MODE", " afterError "),
            ],
            false,
            true,
        ),
        (
            &[],
            &[
                ("AWS_LAMBDA_POST_RUNNER_COMMAND", command),
                ("AWS_LAMBDA_POST_RUNNER_MODE", "AfterResponse, AfterError"),
            ],
            true,
            true,
        ),
        (
            &[],
            &[("AWS_LAMBDA_POST_RUNNER_COMMAND", command)],
            true,
            true,
        ),
        (&["--after-error", command], &[], false, true),
    ];
    for (options, env, after_response, after_error) in cases {
        let wrapped = Wrapped::start(Emulator::builder(), options, env, &awslambdaric());
        let (_, answer, finished, logs) = wrapped.call(Invoke::json(&json!({"ok": 1})));
        assert_eq!(answer.function_error, None);
        assert_eq!(finished.ending, Ending::Completed);
        assert_eq!(
            has(&logs, "after-response command output: ran-response"),
            after_response,
            "{options:?} {env:?}: {logs:#?}"
        );
        let (_, answer, finished, logs) = wrapped.call(Invoke::json(&json!({"fail": "no"})));
        assert!(answer.is_error());
        assert_eq!(finished.ending, Ending::Completed);
        assert_eq!(
            has(&logs, "after-error command output: ran-error"),
            after_error,
            "{options:?} {env:?}: {logs:#?}"
        );
        assert!(!has(&logs, "ran-response"), "{logs:#?}");
    }
    // Each flag runs its own command, over the variable for its answer only.
    let wrapped = Wrapped::start(
        Emulator::builder(),
        &["--after-error", "echo flag-error"],
        &[("AWS_LAMBDA_POST_RUNNER_COMMAND", "echo variable")],
        &awslambdaric(),
    );
    let (_, _, _, logs) = wrapped.call(Invoke::json(&json!({"ok": 1})));
    assert!(has(&logs, "output: variable"), "{logs:#?}");
    let (_, _, _, logs) = wrapped.call(Invoke::json(&json!({"fail": "no"})));
    assert!(
        has(&logs, "output: flag-error") && !has(&logs, "output: variable"),
        "{logs:#?}"
    );
}

/// Reads `KEY=VALUE` lines (the output of `env`).
fn env_file(path: &Path) -> Vec<(String, String)> {
    fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The value of `key` in `env`.
fn var<'a>(env: &'a [(String, String)], key: &str) -> Option<&'a str> {
    env.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

/// Proof: the command sees the invocation's variables and, with `--files`, the event and
/// answer files: the request id, deadline and ARN the runtime was handed, the time left,
/// the outcome, the error type after an error (the `errorType` awslambdaric posts, since it
/// sends no error-type header), and files holding the event and the answer byte for byte,
/// removed once the command has ended. The runtime's own headers (the invocation id it
/// echoes, its X-Ray cause) reach the Runtime API unchanged.
#[test]
fn the_command_sees_the_invocation() {
    let dir = scratch("sees");
    let command = r#"out="$WRAP_OUT/$CODA_REQUEST_ID"; mkdir "$out"; env > "$out/env"; cp "$CODA_EVENT_FILE" "$out/event"; cp "$CODA_ANSWER_FILE" "$out/answer""#;
    let out = dir.to_string_lossy().into_owned();
    let wrapped = Wrapped::start(
        Emulator::builder().timeout(LIMIT),
        &[
            "--files",
            "--after-response",
            command,
            "--after-error",
            command,
        ],
        &[("WRAP_OUT", &out)],
        &awslambdaric(),
    );

    let deadline = now_ms() + 20_000;
    let event = br#"{"context": true}"#;
    let (pending, answer, finished, logs) = wrapped.call(
        Invoke::new(&event[..])
            .request_id("req-sees-1")
            .deadline_ms(deadline)
            .invocation_id("inv-sees-1"),
    );
    assert_eq!(finished.ending, Ending::Completed, "{logs:#?}");
    assert_eq!(
        answer.header("lambda-runtime-invocation-id"),
        Some("inv-sees-1")
    );
    let seen = answer.json().expect("the context as JSON");
    let env = env_file(&dir.join("req-sees-1/env"));
    assert_eq!(var(&env, "CODA_REQUEST_ID"), Some(pending.request_id()));
    assert_eq!(seen["requestId"], pending.request_id());
    assert_eq!(
        var(&env, "CODA_DEADLINE_MS"),
        Some(deadline.to_string().as_str())
    );
    assert_eq!(
        var(&env, "CODA_FUNCTION_ARN"),
        seen["invokedFunctionArn"].as_str(),
        "{env:?}"
    );
    assert!(var(&env, "CODA_FUNCTION_ARN").is_some_and(|a| a.starts_with("arn:aws:lambda:")));
    let remaining: u64 = var(&env, "CODA_REMAINING_MS").unwrap().parse().unwrap();
    let budget: u64 = var(&env, "CODA_BUDGET_MS").unwrap().parse().unwrap();
    assert!(remaining <= 20_000 && remaining > 0, "{remaining}");
    assert!(
        budget < remaining,
        "the budget keeps the margin: {budget} < {remaining}"
    );
    assert_eq!(var(&env, "CODA_OUTCOME"), Some("response"));
    assert_eq!(var(&env, "CODA_ERROR_TYPE"), None);
    assert_eq!(fs::read(dir.join("req-sees-1/event")).unwrap(), event);
    assert_eq!(
        fs::read(dir.join("req-sees-1/answer")).unwrap(),
        answer.payload
    );
    let event_file = PathBuf::from(var(&env, "CODA_EVENT_FILE").unwrap());
    let answer_file = PathBuf::from(var(&env, "CODA_ANSWER_FILE").unwrap());
    assert!(
        !event_file.exists() && !answer_file.exists(),
        "the files are removed once the command ended"
    );

    let (_, answer, _, logs) =
        wrapped.call(Invoke::json(&json!({"fail": "the cake is a lie"})).request_id("req-sees-2"));
    assert!(answer.is_error(), "{logs:#?}");
    assert!(
        answer
            .header("lambda-runtime-function-xray-error-cause")
            .is_some()
    );
    let env = env_file(&dir.join("req-sees-2/env"));
    assert_eq!(var(&env, "CODA_OUTCOME"), Some("error"));
    assert_eq!(var(&env, "CODA_ERROR_TYPE"), Some("EchoFailure"));
    assert_eq!(
        fs::read(dir.join("req-sees-2/answer")).unwrap(),
        answer.payload
    );
    assert_eq!(
        fs::read(dir.join("req-sees-2/event")).unwrap(),
        br#"{"fail":"the cake is a lie"}"#
    );
}

/// Proof: the deadline kill, with the next invocation served normally. A command still
/// running at the deadline minus the margin gets SIGTERM (its trap runs) and the runtime's
/// `/next` goes through before the deadline: the invocation completes (no timeout, so no
/// sandbox reset: the same process serves the next event, whose command is quick).
#[test]
fn a_command_is_stopped_at_the_deadline_margin() {
    let command = r#"if grep -q slow "$CODA_EVENT_FILE"; then trap 'echo got SIGTERM; exit 3' TERM; sleep 30 & wait; else echo quick; fi"#;
    let wrapped = Wrapped::start(
        Emulator::builder().timeout(LIMIT),
        &["--files", "--margin", "500", "--after-response", command],
        &[],
        &awslambdaric(),
    );
    let (pending, answer, finished, logs) =
        wrapped.call(Invoke::json(&json!({"slow": true})).deadline_in(Duration::from_secs(2)));
    assert_eq!(answer.json(), Some(json!({"slow": true})));
    assert_eq!(finished.ending, Ending::Completed, "{logs:#?}");
    let lines = wrap_lines(&logs, pending.request_id());
    assert!(
        lines.iter().any(|l| l.contains("was still running after")
            && l.contains("stopping it (SIGTERM to its process group")),
        "{logs:#?}"
    );
    assert!(has(&logs, "output: got SIGTERM"), "{logs:#?}");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("was stopped at the deadline margin: it exited with status 3")),
        "{logs:#?}"
    );

    let (_, answer, finished, logs) = wrapped.call(Invoke::json(&json!({"next": 1})));
    assert_eq!(answer.json(), Some(json!({"next": 1})));
    assert_eq!(finished.ending, Ending::Completed);
    assert!(has(&logs, "output: quick"), "{logs:#?}");
    assert_eq!(wrapped.supervisor.starts(), 1, "the sandbox was not reset");
}

/// Proof: a spawn failure. A shell that does not exist is logged with the request id as a
/// command that could not start; the invocation completes, and so does the next: no crash,
/// no hang.
#[test]
fn a_command_that_cannot_start_is_reported() {
    let wrapped = Wrapped::start(
        Emulator::builder(),
        &[],
        &[
            ("AWS_LAMBDA_POST_RUNNER_COMMAND", "echo never"),
            ("AWS_LAMBDA_POST_RUNNER_SHELL", "/nonexistent/bash"),
        ],
        &awslambdaric(),
    );
    for round in 0..2 {
        let (pending, answer, finished, logs) = wrapped.call(Invoke::json(&json!({"r": round})));
        assert_eq!(answer.json(), Some(json!({"r": round})));
        assert_eq!(finished.ending, Ending::Completed);
        let lines = wrap_lines(&logs, pending.request_id());
        assert!(
            lines.iter().any(|l| l.contains("ERROR")
                && l.contains("the after-response command could not start: the shell /nonexistent/bash cannot be run")),
            "{logs:#?}"
        );
    }
    assert_eq!(wrapped.supervisor.starts(), 1);
}

/// Proof: a child crash. The runtime's exit ends `coda wrap` with the runtime's status, so
/// the emulator sees the function exit (`Runtime.ExitError`, as Lambda reports it) and
/// starts it again for the next event.
#[test]
fn the_runtime_exiting_ends_the_wrapper() {
    let wrapped = Wrapped::start(
        Emulator::builder(),
        &["--after-response", "echo after"],
        &[],
        &awslambdaric(),
    );
    let (_, answer, finished, logs) = wrapped.call(Invoke::json(&json!({"exit": 3})));
    assert_eq!(finished.ending, Ending::ProcessExited, "{logs:#?}");
    assert_eq!(answer.function_error.as_deref(), Some("Runtime.ExitError"));
    assert!(
        has(
            &logs,
            "the runtime exited (exit status: 3): coda wrap exits with status 3"
        ),
        "{logs:#?}"
    );
    let (_, answer, finished, _) = wrapped.call(Invoke::json(&json!({"again": 1})));
    assert_eq!(answer.json(), Some(json!({"again": 1})));
    assert_eq!(finished.ending, Ending::Completed);
    assert_eq!(wrapped.supervisor.starts(), 2);
}

/// `coda wrap` with a Runtime API address (nothing needs to listen: these runtimes never
/// call it), its output piped.
fn wrap_directly(runtime: &[&OsStr]) -> std::process::Child {
    Command::new(CODA)
        .arg("wrap")
        .arg("--")
        .args(runtime)
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("coda wrap starts")
}

/// Waits (bounded) for `child` to exit and returns its code.
fn exit_code(mut child: std::process::Child) -> Option<i32> {
    let (tx, rx) = std::sync::mpsc::channel();
    let pid = child.id();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait().map(|s| s.code()));
    });
    match rx.recv_timeout(LIMIT) {
        Ok(code) => code.unwrap(),
        Err(_) => {
            signal(pid, "KILL");
            panic!("coda wrap did not exit");
        }
    }
}

/// Sends `signal` (a name such as `TERM`) to process `pid`.
fn signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// The wrapper's status is the runtime's; a termination signal to the wrapper reaches the
/// runtime (whose handler runs and chooses the status); a SIGKILLed wrapper takes the
/// runtime with it (its end of the output pipe closes).
#[test]
fn the_wrapper_ends_with_the_runtime_and_passes_signals_on() {
    let wrapper = wrap_directly(&[OsStr::new("sh"), OsStr::new("-c"), OsStr::new("exit 7")]);
    assert_eq!(exit_code(wrapper), Some(7));

    let dir = scratch("signals");
    let mark = dir.join("term");
    let script = "import signal, sys\n\
                  def term(*_):\n    open(sys.argv[1], 'w').write('term')\n    sys.exit(5)\n\
                  signal.signal(signal.SIGTERM, term)\n\
                  print('ready', flush=True)\n\
                  signal.pause()\n";
    let python = python();
    let mut wrapper = wrap_directly(&[
        python.as_os_str(),
        OsStr::new("-c"),
        OsStr::new(script),
        mark.as_os_str(),
    ]);
    let mut out = BufReader::new(wrapper.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    signal(wrapper.id(), "TERM");
    assert_eq!(exit_code(wrapper), Some(5));
    assert_eq!(fs::read_to_string(&mark).unwrap(), "term");

    let mut wrapper = wrap_directly(&[
        python.as_os_str(),
        OsStr::new("-c"),
        OsStr::new("import signal; print('ready', flush=True); signal.pause()"),
    ]);
    let mut out = BufReader::new(wrapper.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, "ready\n");
    signal(wrapper.id(), "KILL");
    let _ = exit_code(wrapper);
    // The runtime held the other end of the pipe: it ends once the runtime is gone.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut rest = Vec::new();
        let _ = tx.send(out.read_to_end(&mut rest).map(|_| rest));
    });
    let rest = rx
        .recv_timeout(LIMIT)
        .expect("the runtime died with the wrapper");
    assert!(rest.unwrap().is_empty());
}

/// `/init/error` passes through untouched: awslambdaric's report of a handler it cannot
/// import reaches the emulator with its header and body, and the wrapper exits with the
/// runtime.
#[test]
fn init_errors_pass_through() {
    let emulator = Emulator::builder().start().unwrap();
    let supervisor = emulator
        .supervise(
            FunctionCommand::new(CODA)
                .args(["wrap", "--after-error", "echo never", "--"])
                .arg(python())
                .args(["-m", "awslambdaric", "no_such_module.handler"])
                .env("PYTHONDONTWRITEBYTECODE", "1"),
        )
        .unwrap();
    let record = emulator.init_error(LIMIT).expect("an init error");
    assert_eq!(
        record.error_type_header.as_deref(),
        Some("Runtime.ImportModuleError")
    );
    assert_eq!(record.function_error, "Runtime.ImportModuleError");
    let body: Value = serde_json::from_slice(&record.body).unwrap();
    assert_eq!(body["errorType"], "Runtime.ImportModuleError");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("no_such_module")
    );
    assert!(
        supervisor.wait_ready(LIMIT).is_err(),
        "the function failed its init"
    );
}

/// Proof: streaming pass-through, with chunk timing preserved. A runtime that streams three
/// chunks, each produced only once the test has seen the previous one reach the caller
/// (through a FIFO the runtime reads between chunks), then error trailers: every chunk
/// arrives while the runtime is still blocked before the next, the trailers reach the
/// Runtime API, and the after-error command gets the trailer's error type. Coda's own
/// `echo-stream` (which streams on a connection of its own, then polls `/next` on another)
/// is held until its command ends too.
#[test]
fn streamed_answers_pass_chunk_by_chunk_with_trailers() {
    let dir = scratch("stream");
    let gate = dir.join("gate");
    mkfifo(&gate);
    let runtime = vec![python(), format!("{RUNTIMES}/stream_runtime.py").into()];
    let wrapped = Wrapped::start(
        Emulator::builder().timeout(LIMIT),
        &[
            "--files",
            "--after-error",
            "echo type=$CODA_ERROR_TYPE; cat \"$CODA_ANSWER_FILE\"; echo",
        ],
        &[],
        &runtime,
    );
    let chunks = ["first|", "second|", "third"];
    let pending = wrapped.emulator.invoke(Invoke::json(&json!({
        "chunks": chunks,
        "gate": gate,
        "error": "Function.MidStream",
    })));
    let mut seen = 0;
    let mut writer = None;
    for (i, chunk) in chunks.iter().enumerate() {
        let expected: String = chunks[..=i].concat();
        let mut got = Vec::new();
        while got.len() < expected.len() {
            let read = pending.read_stream(got.len(), LIMIT).expect("a piece");
            // Only the last chunk may come with the end of the stream.
            assert!(
                read.done.is_none() || i + 1 == chunks.len(),
                "chunk {i} ({chunk}) arrived with the end of the stream, not before it"
            );
            got.extend_from_slice(&read.bytes);
        }
        assert_eq!(String::from_utf8_lossy(&got), expected);
        seen += 1;
        if i + 1 < chunks.len() {
            // The runtime produces the next chunk only now.
            let w = writer.get_or_insert_with(|| open_fifo(&gate));
            writeln!(w, "next").unwrap();
        }
    }
    assert_eq!(seen, 3);
    drop(writer);
    let answer = pending.answer(LIMIT).unwrap();
    assert!(answer.streamed);
    assert_eq!(answer.function_error.as_deref(), Some("Function.MidStream"));
    assert_eq!(
        answer
            .trailers
            .iter()
            .find(|(n, _)| n == "lambda-runtime-function-error-type")
            .map(|(_, v)| v.as_str()),
        Some("Function.MidStream")
    );
    assert!(
        answer
            .trailers
            .iter()
            .any(|(n, _)| n == "lambda-runtime-function-error-body")
    );
    let finished = pending.finished(LIMIT).unwrap();
    assert_eq!(finished.ending, Ending::Completed);
    let logs = pending.settled_logs(LIMIT).unwrap();
    assert!(
        has(&logs, "after-error command output: type=Function.MidStream"),
        "{logs:#?}"
    );
    assert!(
        has(&logs, "after-error command output: first|second|third"),
        "{logs:#?}"
    );

    // Coda's echo-stream: the stream on its own connection, /next on the kept one.
    let dir = scratch("echo-stream");
    let hold = dir.join("hold");
    mkfifo(&hold);
    let command = format!("read line < '{}'", hold.display());
    let wrapped = Wrapped::start(
        Emulator::builder().timeout(LIMIT),
        &["--after-response", &command],
        &[],
        &[examples().echo_stream.clone().into()],
    );
    let calls = wrapped.emulator.next_calls();
    let pending = wrapped
        .emulator
        .invoke(Invoke::json(&json!({"streamed": [1, 2]})));
    let answer = pending.answer(LIMIT).unwrap();
    assert!(answer.streamed);
    assert_eq!(answer.json(), Some(json!({"streamed": [1, 2]})));
    let mut writer = open_fifo(&hold);
    assert!(pending.finished(Duration::ZERO).is_err());
    assert_eq!(
        wrapped.emulator.next_calls(),
        calls,
        "/next on the other connection is held"
    );
    writeln!(writer, "go").unwrap();
    drop(writer);
    assert_eq!(pending.finished(LIMIT).unwrap().ending, Ending::Completed);
}

/// Managed Instances: with `AWS_LAMBDA_MAX_CONCURRENCY=2` each invocation's command holds
/// only its own worker's `/next`. While one command blocks, the other worker answers two
/// more invocations (their commands run and end), and the emulator sees the blocked
/// worker's `/next` only once its command has ended. Coda's `concurrent` example: two
/// workers, each with its own connection.
#[test]
fn managed_instances_hold_only_their_own_next() {
    let dir = scratch("concurrent");
    let gate = dir.join("gate");
    mkfifo(&gate);
    let command = format!(
        "if grep -q hold \"$CODA_EVENT_FILE\"; then read line < '{}'; fi; echo done",
        gate.display()
    );
    let wrapped = Wrapped::start(
        Emulator::builder().concurrency(2).timeout(LIMIT),
        &["--files", "--after-response", &command],
        &[],
        &[examples().concurrent.clone().into()],
    );
    wrapped
        .emulator
        .wait_next_calls(2, LIMIT)
        .expect("two workers poll");
    let held = wrapped
        .emulator
        .invoke(Invoke::json(&json!({"hold": true})));
    let held_answer = held.answer(LIMIT).unwrap();
    let held_worker = held_answer.json().unwrap()["worker"].clone();
    // The held command is running (it has the FIFO open) before the others are sent.
    let mut writer = open_fifo(&gate);
    let mut workers = Vec::new();
    for n in 0..2 {
        if n > 0 {
            // The other worker's /next, once its previous command ended.
            wrapped
                .emulator
                .wait_next_calls(2 + n, LIMIT)
                .expect("the other worker polls again");
        }
        let (_, answer, finished, logs) = wrapped.call(Invoke::json(&json!({"n": n})));
        assert_eq!(finished.ending, Ending::Completed, "{logs:#?}");
        assert!(answer.function_error.is_none(), "{logs:#?}");
        workers.push(answer.json().unwrap()["worker"].clone());
    }
    wrapped.emulator.wait_next_calls(4, LIMIT).unwrap();
    assert!(
        workers.iter().all(|w| *w != held_worker),
        "{workers:?} vs {held_worker}"
    );
    assert_eq!(
        wrapped.emulator.next_calls(),
        4,
        "the held worker has not asked for its next event"
    );
    writeln!(writer, "go").unwrap();
    drop(writer);
    wrapped
        .emulator
        .wait_next_calls(5, LIMIT)
        .expect("the held worker polls once its command ended");
}

/// Proof: the post-runner's variables, including the tolerant mode parsing: a function
/// configured for aws-lambda-post-runner only (command, mode with odd spacing and case,
/// shell, files, log level) works unchanged; `debug` shows how requests pass (one
/// connection upstream for every request of the runtime), `error` hides the command's
/// lines; an unknown mode is one clear error at start, never a panic.
#[test]
fn the_post_runners_variables_work_unchanged() {
    let env = [
        (
            "AWS_LAMBDA_POST_RUNNER_COMMAND",
            "echo $0 saw $CODA_OUTCOME; test -f \"$CODA_EVENT_FILE\" && echo with-files",
        ),
        ("AWS_LAMBDA_POST_RUNNER_MODE", "afterresponse ,  AFTERERROR"),
        ("AWS_LAMBDA_POST_RUNNER_SHELL", "/bin/sh"),
        ("AWS_LAMBDA_POST_RUNNER_FILES", "1"),
        ("AWS_LAMBDA_POST_RUNNER_LOG_LEVEL", "debug"),
    ];
    let wrapped = Wrapped::start(Emulator::builder(), &[], &env, &awslambdaric());
    let mut all = Vec::new();
    for event in [json!({"ok": 1}), json!({"fail": "x"}), json!({"ok": 2})] {
        let (_, _, finished, logs) = wrapped.call(Invoke::json(&event));
        assert_eq!(finished.ending, Ending::Completed);
        all.extend(logs);
    }
    assert_eq!(
        with(&all, "output: /bin/sh saw response").len(),
        2,
        "{all:#?}"
    );
    assert_eq!(with(&all, "output: /bin/sh saw error").len(), 1, "{all:#?}");
    assert_eq!(with(&all, "output: with-files").len(), 3, "{all:#?}");
    assert!(
        has(&all, "DEBUG\tcoda wrap: the after-response command started"),
        "{all:#?}"
    );
    // awslambdaric's requests all went over the one connection opened at its first /next.
    assert!(!has(&all, "opened connection 2 "), "{all:#?}");

    let quiet = Wrapped::start(
        Emulator::builder(),
        &[],
        &[
            ("AWS_LAMBDA_POST_RUNNER_COMMAND", "echo hidden"),
            ("AWS_LAMBDA_POST_RUNNER_LOG_LEVEL", "error"),
        ],
        &awslambdaric(),
    );
    let (_, _, _, logs) = quiet.call(Invoke::json(&json!({"ok": 1})));
    assert!(!has(&logs, "coda wrap"), "{logs:#?}");

    let output = Command::new(CODA)
        .args(["wrap", "--", "true"])
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_LAMBDA_POST_RUNNER_COMMAND", "echo x")
        .env(
            "AWS_LAMBDA_POST_RUNNER_MODE",
            "AfterResponse, AfterEveryThing",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(
        stderr,
        "coda: coda wrap cannot start with these settings: AWS_LAMBDA_POST_RUNNER_MODE is `AfterResponse, AfterEveryThing`, and `AfterEveryThing` is not a mode: use AfterResponse, AfterError, or both separated by a comma\n"
    );
    let output = Command::new(CODA)
        .args(["wrap", "--", "true"])
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("AWS_LAMBDA_RUNTIME_API is not set"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A `/response` the Runtime API refuses as too large is the invocation's error on Lambda
/// (`Function.ResponseSizeTooLarge`, `docs/runtime-api.md` §3.2): the after-error command
/// runs for it; an answer refused for any other reason (here 410, a timed-out invocation)
/// runs nothing.
#[test]
fn refused_answers() {
    let wrapped = Wrapped::start(
        Emulator::builder(),
        &[
            "--after-error",
            "echo error=$CODA_ERROR_TYPE",
            "--after-response",
            "echo response",
        ],
        &[],
        &[examples().echo.clone().into()],
    );
    let (_, _, _, logs) = wrapped.call(Invoke::json(&json!({"big": 1})).answer_status(413));
    assert!(
        has(&logs, "output: error=Function.ResponseSizeTooLarge"),
        "{logs:#?}"
    );
    let (_, _, _, logs) = wrapped.call(Invoke::json(&json!({"late": 1})).answer_status(410));
    assert!(!has(&logs, "output:"), "{logs:#?}");
}

/// Proof: `coda package --layer` output, checked by unzipping it (Python's `zipfile`, which
/// checks CRCs): `bin/` and `bin/coda` (this coda, byte for byte, mode 0755) and `entry.sh`
/// (the repository's script, mode 0755); then the unzipped script runs a Python function
/// under the emulator as Lambda runs an `AWS_LAMBDA_EXEC_WRAPPER` (the runtime's command as
/// its arguments), and the post-runner's command runs after the answer.
#[test]
fn the_layer_zip_holds_coda_and_the_wrapper_script() {
    let dir = scratch("layer");
    let zip = dir.join("layer.zip");
    let output = Command::new(CODA)
        .args(["package", "--layer", "-o"])
        .arg(&zip)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("as bin/coda and the wrapper script entry.sh"),
        "{stdout}"
    );
    assert!(
        stdout.contains("AWS_LAMBDA_EXEC_WRAPPER=/opt/entry.sh"),
        "{stdout}"
    );
    let opt = dir.join("opt");
    let check = r#"
import os, sys, zipfile
zip_path, coda, script, opt = sys.argv[1:5]
with zipfile.ZipFile(zip_path) as z:
    assert z.testzip() is None, "bad CRC"
    infos = {i.filename: i for i in z.infolist()}
    assert sorted(infos) == ["bin/", "bin/coda", "entry.sh"], sorted(infos)
    assert infos["bin/"].is_dir()
    for name in ("bin/coda", "entry.sh"):
        assert infos[name].external_attr >> 16 == 0o100755, (name, oct(infos[name].external_attr >> 16))
    assert z.read("bin/coda") == open(coda, "rb").read(), "bin/coda is not this coda"
    assert z.read("entry.sh") == open(script, "rb").read(), "entry.sh is not the repository's"
    z.extractall(opt)
    for info in z.infolist():
        os.chmod(os.path.join(opt, info.filename), info.external_attr >> 16 & 0o7777)
print("ok")
"#;
    let checked = Command::new(python())
        .args(["-c", check])
        .arg(&zip)
        .arg(CODA)
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/layer/entry.sh"))
        .arg(&opt)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&checked.stdout),
        "ok\n",
        "{}",
        String::from_utf8_lossy(&checked.stderr)
    );

    let emulator = Emulator::builder().start().unwrap();
    let supervisor = emulator
        .supervise(
            FunctionCommand::new(opt.join("entry.sh"))
                .args(awslambdaric())
                .env("PYTHONPATH", PY_HANDLERS)
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .env("AWS_LAMBDA_EXEC_WRAPPER", opt.join("entry.sh"))
                .env(
                    "AWS_LAMBDA_POST_RUNNER_COMMAND",
                    "echo from-the-layer $CODA_OUTCOME",
                ),
        )
        .unwrap();
    supervisor
        .wait_ready(LIMIT)
        .expect("the layer's wrapper starts the runtime");
    let pending = emulator.invoke(Invoke::json(&json!({"layer": true})));
    assert_eq!(
        pending.answer(LIMIT).unwrap().json(),
        Some(json!({"layer": true}))
    );
    let logs = pending.settled_logs(LIMIT).unwrap();
    assert!(has(&logs, "output: from-the-layer response"), "{logs:#?}");
    drop(supervisor);
}

/// Bodies pass byte for byte both ways, large ones too: 1 MB of every byte value as the
/// event (raw, not JSON) and as the answer, and in the command's files.
#[test]
fn large_bodies_pass_unchanged() {
    let dir = scratch("large");
    let out = dir.to_string_lossy().into_owned();
    let command =
        r#"cp "$CODA_EVENT_FILE" "$WRAP_OUT/event"; cp "$CODA_ANSWER_FILE" "$WRAP_OUT/answer""#;
    let wrapped = Wrapped::start(
        Emulator::builder(),
        &["--files", "--after-response", command],
        &[("WRAP_OUT", &out)],
        &awslambdaric(),
    );
    let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let (_, answer, finished, _) =
        wrapped.call(Invoke::new(big.clone()).content_type("application/octet-stream"));
    assert_eq!(finished.ending, Ending::Completed);
    assert!(answer.payload == big, "the answer came back changed");
    assert!(
        fs::read(dir.join("event")).unwrap() == big,
        "the event file differs"
    );
    assert!(
        fs::read(dir.join("answer")).unwrap() == big,
        "the answer file differs"
    );
}

/// A request id the runtime has to escape in the path (`docs/runtime-api.md` §9 #8) is
/// matched to its invocation: the command gets the id as `/next` gave it.
#[test]
fn request_ids_are_matched_as_escaped() {
    let wrapped = Wrapped::start(
        Emulator::builder(),
        &["--after-response", "echo \"id=[$CODA_REQUEST_ID]\""],
        &[],
        &[examples().echo.clone().into()],
    );
    let (_, answer, _, logs) =
        wrapped.call(Invoke::json(&json!({"odd": 1})).request_id("odd id%41"));
    assert_eq!(answer.json(), Some(json!({"odd": 1})));
    assert!(has(&logs, "output: id=[odd id%41]"), "{logs:#?}");
}

/// Through the real `coda run`: `coda run --invoke … -- coda wrap … -- echo` prints the
/// answer, then (after the command) the command's line, the REPORT and the timing line;
/// `coda run`'s stop at the end reaches the wrapper and the runtime, and it exits 0.
#[test]
fn under_coda_run() {
    let output = Command::new(CODA)
        .args(["run", "--invoke", r#"{"via":"coda run"}"#, "--"])
        .arg(CODA)
        .args([
            "wrap",
            "--after-response",
            "echo command-ran-for $CODA_REQUEST_ID",
            "--",
        ])
        .arg(&examples().echo)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let answer = lines
        .iter()
        .position(|l| *l == r#"{"via":"coda run"}"#)
        .unwrap_or_else(|| panic!("the answer on stdout: {stdout}"));
    let report = lines
        .iter()
        .position(|l| l.starts_with("REPORT RequestId: "))
        .unwrap_or_else(|| panic!("a REPORT line: {stdout}"));
    assert!(answer < report, "{stdout}");
    let id = lines[report]
        .strip_prefix("REPORT RequestId: ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    assert!(
        stderr.contains(&format!(
            "after-response command output: command-ran-for {id}"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("coda: the caller had its answer after"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
