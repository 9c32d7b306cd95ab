//! The supervised function process as a Lambda sandbox (issue 15): its environment (Lambda's,
//! and nothing of the host's unless passed), `_HANDLER`, "Max Memory Used" of the whole
//! process tree, init failures answered and retried, log lines in order before `END`, JSON
//! platform records, and the freeze while the runtime waits in `/next`. Every test runs a
//! real function process under `Emulator::supervise`: the fixture binary, or AWS's Python
//! runtime client (`CODA_TEST_PYTHON`, set by `scripts/test`) started through a
//! provided.al2023-style `bootstrap.sh`.

use std::collections::BTreeSet;
use std::path::Path;

use coda_emulator::{Emulator, EmulatorBuilder, FunctionCommand, Invoke, LogFormat, Supervisor};
use serde_json::{Value, json};

use crate::support::LIMIT;

/// The fixture binary's path.
const FIXTURE: &str = env!("CARGO_BIN_EXE_coda-fixture");
/// The folder of the Python handlers and `bootstrap.sh`.
const HANDLERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/python");

/// The Python with awslambdaric (`scripts/test` sets `CODA_TEST_PYTHON`).
fn python() -> String {
    std::env::var("CODA_TEST_PYTHON").unwrap_or_else(|_| {
        panic!(
            "CODA_TEST_PYTHON is not set: run the tests with `bash scripts/test`, which installs \
             AWS's Python runtime client into .venv and sets it"
        )
    })
}

/// An emulator and its supervised function, ready for events.
struct Sandbox {
    // Dropped first: the process group is killed before the emulator shuts down.
    supervisor: Supervisor,
    emulator: Emulator,
}

impl Sandbox {
    /// Starts `command` under an emulator from `builder` and waits for its first `/next`.
    fn start(builder: EmulatorBuilder, command: FunctionCommand) -> Sandbox {
        let emulator = builder.start().expect("the emulator binds 127.0.0.1:0");
        let supervisor = emulator
            .supervise(command)
            .expect("the supervisor thread starts");
        if let Err(e) = supervisor.wait_ready(LIMIT) {
            panic!("the function did not become ready: {e}");
        }
        Sandbox {
            supervisor,
            emulator,
        }
    }

    /// The fixture in `mode`.
    fn fixture(builder: EmulatorBuilder, mode: &str) -> Sandbox {
        Sandbox::start(
            builder,
            FunctionCommand::new(FIXTURE).env("CODA_FIXTURE", mode),
        )
    }

    /// Sends `invoke`; returns its answer as JSON and its log lines once it has ended.
    fn call(&self, invoke: Invoke) -> (Value, Vec<String>) {
        let pending = self.emulator.invoke(invoke);
        let answer = pending.answer(LIMIT).expect("an answer");
        let finished = pending.finished(LIMIT).expect("the invocation ends");
        let json = answer.json().unwrap_or_else(|| {
            panic!(
                "not JSON: {}",
                String::from_utf8_lossy(&answer.payload).into_owned()
            )
        });
        (json, finished.logs)
    }
}

/// `bootstrap.sh` running awslambdaric with `_HANDLER`, the handlers importable.
fn python_bootstrap() -> FunctionCommand {
    FunctionCommand::new(format!("{HANDLERS}/bootstrap.sh"))
        .arg(python())
        .env("PYTHONPATH", HANDLERS)
        .env("PYTHONDONTWRITEBYTECODE", "1")
}

/// The variable names of an environment answered as a JSON object.
fn names(env: &Value) -> BTreeSet<String> {
    env.as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect()
}

/// Issue 15 row 4: the function's environment is Lambda's — exactly these variables, with
/// `LAMBDA_TASK_ROOT`, `LAMBDA_RUNTIME_DIR`, `TZ`, Lambda's `PATH` — plus what the command
/// sets; none of the test process's own variables (`HOME`, `PATH`, cargo's `CARGO_*`,
/// `CODA_TEST_PYTHON`) leak in, and a host variable reaches it only when passed by name or
/// by prefix.
#[test]
fn the_environment_is_lambdas_and_nothing_of_the_host() {
    for leaky in ["CARGO_MANIFEST_DIR", "CARGO_PKG_NAME"] {
        assert!(std::env::var_os(leaky).is_some(), "cargo sets {leaky}");
    }
    let sandbox = Sandbox::fixture(Emulator::builder().function_name("env-fn"), "environ");
    let (env, _) = sandbox.call(Invoke::new("{}"));
    let expected: BTreeSet<String> = [
        "AWS_LAMBDA_RUNTIME_API",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
        "LANG",
        "PATH",
        "LD_LIBRARY_PATH",
        "CODA_FIXTURE",
        // Set by the runtime itself for each invocation (docs/runtime-api.md §2.3).
        "_X_AMZN_TRACE_ID",
    ]
    .map(String::from)
    .into();
    assert_eq!(names(&env), expected, "{env:#}");
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(env["LAMBDA_TASK_ROOT"], cwd.to_string_lossy().as_ref());
    assert_eq!(env["TZ"], ":UTC");
    assert_eq!(
        env["PATH"],
        "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin"
    );
    assert_eq!(env["AWS_LAMBDA_FUNCTION_NAME"], "env-fn");
    let stream = env["AWS_LAMBDA_LOG_STREAM_NAME"].as_str().unwrap();
    assert!(
        stream.contains("/[$LATEST]") && stream.len() == 10 + 10 + 32,
        "{stream}"
    );

    let passed = Sandbox::fixture_passing(&["CARGO_PKG_*", "HOME"]);
    let (env, _) = passed.call(Invoke::new("{}"));
    assert_eq!(env["CARGO_PKG_NAME"], "coda-tests");
    assert!(env.get("CARGO_MANIFEST_DIR").is_none(), "{env:#}");
    assert_eq!(
        env.get("HOME").and_then(Value::as_str),
        std::env::var("HOME").ok().as_deref()
    );
    let other_stream = env["AWS_LAMBDA_LOG_STREAM_NAME"].as_str().unwrap();
    assert_ne!(
        other_stream, stream,
        "each execution environment has its own log stream"
    );
}

impl Sandbox {
    /// The `environ` fixture with host variables passed through.
    fn fixture_passing(patterns: &[&str]) -> Sandbox {
        let mut command = FunctionCommand::new(FIXTURE).env("CODA_FIXTURE", "environ");
        for pattern in patterns {
            command = command.pass_env(*pattern);
        }
        Sandbox::start(Emulator::builder(), command)
    }
}

/// Issue 15 row 3: the handler set on the emulator reaches the function as `_HANDLER`, and
/// AWS's Python runtime client, started by a provided.al2023-style bootstrap script that
/// reads `$_HANDLER` (as AWS's Node client reads it, `docs/runtime-api.md` §1), loads that
/// handler and serves.
#[test]
fn the_handler_reaches_the_python_client_as_handler() {
    let sandbox = Sandbox::start(
        Emulator::builder().handler("echo.handler"),
        python_bootstrap(),
    );
    let (answer, _) = sandbox.call(Invoke::json(&json!({"environ": true})));
    assert_eq!(answer["environ"]["_HANDLER"], "echo.handler", "{answer:#}");
    assert_eq!(answer["argv"][1], "echo.handler", "{answer:#}");
}

/// Issue 15 row 7: "Max Memory Used" counts the whole process tree. Python runs as a child of
/// `bootstrap.sh` (no `exec`); its handler holds 48 MB; the REPORT shows at least what
/// Python itself peaked at (its `ru_maxrss`) and at least the 48 MB, where the shell alone
/// is a few MB.
#[test]
fn max_memory_counts_the_whole_process_tree() {
    let sandbox = Sandbox::start(
        Emulator::builder().handler("echo.handler"),
        python_bootstrap(),
    );
    let leader = sandbox.supervisor.pid().expect("a running process");
    let (answer, logs) = sandbox.call(Invoke::json(&json!({"hold_mb": 48})));
    let python_pid = answer["pid"].as_u64().unwrap();
    assert_ne!(python_pid, u64::from(leader), "Python is the shell's child");
    let python_peak_kb = answer["maxrss_kb"].as_u64().unwrap();
    let report = logs.iter().find(|l| l.starts_with("REPORT")).unwrap();
    let used_mb: u64 = report
        .split("Max Memory Used: ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no Max Memory Used in {report}"));
    assert!(used_mb >= 48, "{report}");
    assert!(
        used_mb * 1024 >= python_peak_kb,
        "{report} vs Python's own {python_peak_kb} kB"
    );
}

/// Issue 15 row 8: an init failure does not end serving. The first process fails init
/// (awslambdaric cannot import the handler and posts `/init/error`); the next invocation
/// starts a new process, whose failure is that invocation's answer (the init error's type
/// and body, as the caller gets on Lambda), with Lambda's `INIT_REPORT … Status: error`
/// line once in its log; the one after that tries init again.
#[test]
fn an_init_failure_is_answered_and_init_is_retried() {
    let emulator = Emulator::builder().start().unwrap();
    let supervisor = emulator
        .supervise(
            FunctionCommand::new(python())
                .args(["-m", "awslambdaric", "no_such_module.handler"])
                .env("PYTHONPATH", HANDLERS)
                .env("PYTHONDONTWRITEBYTECODE", "1"),
        )
        .unwrap();
    assert!(supervisor.wait_ready(LIMIT).is_err(), "init fails");
    for attempt in 2..=3 {
        let pending = emulator.invoke(Invoke::new("{}"));
        let finished = pending.finished(LIMIT).expect("the invocation ends");
        let answer = finished.answer.expect("the init error as the answer");
        assert_eq!(
            answer.function_error.as_deref(),
            Some("Runtime.ImportModuleError")
        );
        let body = answer.json().unwrap();
        assert_eq!(body["errorType"], "Runtime.ImportModuleError", "{body}");
        let init_reports: Vec<&String> = finished
            .logs
            .iter()
            .filter(|l| l.starts_with("INIT_REPORT"))
            .collect();
        assert_eq!(init_reports.len(), 1, "{:#?}", finished.logs);
        assert!(
            init_reports[0]
                .contains("Phase: init\tStatus: error\tError Type: Runtime.ImportModuleError"),
            "{}",
            init_reports[0]
        );
        assert_eq!(supervisor.starts(), attempt, "a new process tried init");
    }
}

/// Issue 15 row 9: a line the function writes just before it asks for its next event (a
/// deferred closure's, after the answer) belongs to that invocation and comes before its END
/// line, every time (100 invocations): the emulator drains the output pipes before it ends
/// the invocation. (Before the fix, about 1 in 25 such lines came after END.)
#[test]
fn lines_written_before_next_come_before_end() {
    let sandbox = Sandbox::fixture(Emulator::builder(), "deferred-log");
    for i in 0..100 {
        let (_, logs) = sandbox.call(Invoke::json(&json!({ "i": i })));
        let line = logs.iter().position(|l| l.ends_with("deferred line"));
        let end = logs.iter().position(|l| l.starts_with("END RequestId"));
        match (line, end) {
            (Some(line), Some(end)) if line < end => {}
            _ => panic!("invocation {i}: the deferred line before END: {logs:#?}"),
        }
    }
}

/// Issue 15 row 9: with the JSON log format, the function gets `AWS_LAMBDA_LOG_FORMAT=JSON`
/// (its own lines are JSON) and the platform lines are Lambda's JSON records:
/// `platform.start` and `platform.report` (no text START/END/REPORT).
#[test]
fn json_log_format_gives_json_platform_records() {
    let sandbox = Sandbox::fixture(
        Emulator::builder().log_format(LogFormat::Json),
        "deferred-log",
    );
    let (_, logs) = sandbox.call(Invoke::new("{}").request_id("json-req"));
    let records: Vec<Value> = logs
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let types: Vec<&str> = records.iter().filter_map(|r| r["type"].as_str()).collect();
    assert_eq!(types, ["platform.start", "platform.report"], "{logs:#?}");
    assert_eq!(records[0]["record"]["requestId"], "json-req");
    let report = records.last().unwrap();
    assert_eq!(report["record"]["status"], "success");
    assert!(report["record"]["metrics"]["durationMs"].is_number());
    assert!(report["record"]["metrics"]["maxMemoryUsedMB"].is_number());
    let own = records
        .iter()
        .find(|r| r["message"] == "deferred line")
        .expect("the function's own line, as JSON");
    assert_eq!(own["requestId"], "json-req");
    assert!(!logs.iter().any(|l| l.starts_with("END ")));
}

/// The state letter of every thread of process `pid`, from `/proc`.
fn thread_states(pid: u32) -> Vec<char> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .unwrap()
        .flatten()
        .map(|task| {
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap();
            stat.rsplit_once(") ").unwrap().1.chars().next().unwrap()
        })
        .collect()
}

/// Issue 15 row 10: with the freeze on, once an invocation has ended and nothing is queued
/// the function's process is stopped (every thread `T`, the kernel reports it stopped);
/// the freeze names no busy thread after a clean invocation, and names the leaked thread
/// (not the one that called `/next`) and the invocation after one that left a spinning
/// thread behind; the next event thaws the process, which answers it.
#[test]
fn the_freeze_stops_leaked_work_until_the_next_event() {
    let sandbox = Sandbox::fixture(Emulator::builder().freeze(true), "leak");
    let pid = sandbox.supervisor.pid().unwrap();
    let (_, _) = sandbox.call(Invoke::new("{}").request_id("clean"));
    let freeze = sandbox.supervisor.wait_frozen(LIMIT).expect("a freeze");
    assert_eq!(freeze.after.as_deref(), Some("clean"));
    assert!(freeze.busy_threads.is_empty(), "{freeze:?}");
    coda_emulator::os::wait_stopped(pid).expect("the kernel reports the process stopped");
    assert!(
        thread_states(pid).iter().all(|s| *s == 'T'),
        "{:?}",
        thread_states(pid)
    );

    let (answer, _) = sandbox.call(Invoke::json(&json!({"spin": true})).request_id("leaky"));
    assert_eq!(answer["pid"], pid, "the same process, thawed, answered");
    let freeze = sandbox.supervisor.wait_frozen(LIMIT).expect("a freeze");
    assert_eq!(freeze.after.as_deref(), Some("leaky"));
    // The spinning thread is named `leaked-spin` once it has run; on a loaded machine it may
    // not have run yet, and still carry the process's name.
    assert!(
        !freeze.busy_threads.is_empty()
            && freeze
                .busy_threads
                .iter()
                .all(|t| t.starts_with(&format!("{pid}/"))
                    && !t.starts_with(&format!("{pid}/{pid} "))),
        "{freeze:?}"
    );
    coda_emulator::os::wait_stopped(pid).expect("stopped");
    assert!(
        thread_states(pid).iter().all(|s| *s == 'T'),
        "{:?}",
        thread_states(pid)
    );
    let (answer, _) = sandbox.call(Invoke::new("{}"));
    assert_eq!(answer["pid"], pid);
}

/// Issue 15 row 10: with the freeze off (the library's default), a process waiting in
/// `/next` is not stopped.
#[test]
fn without_the_freeze_the_process_runs_on() {
    let sandbox = Sandbox::fixture(Emulator::builder(), "leak");
    let pid = sandbox.supervisor.pid().unwrap();
    sandbox.call(Invoke::new("{}"));
    sandbox.emulator.wait_parked(LIMIT).unwrap();
    assert!(!sandbox.supervisor.is_frozen());
    assert!(
        thread_states(pid).iter().all(|s| *s != 'T'),
        "{:?}",
        thread_states(pid)
    );
    assert!(Path::new(&format!("/proc/{pid}")).exists());
}
