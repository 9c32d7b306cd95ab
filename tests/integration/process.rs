//! Behaviour that needs a separate process: exit codes, `/init/error`, log output on stderr,
//! and the process environment (`_X_AMZN_TRACE_ID`, Lambda variables). The function is the
//! fixture binary (`tests/src/bin/fixture.rs`); the emulator runs in the test.

use coda_emulator::{Emulator, Invoke};
use serde_json::{Value, json};

use crate::support::{Exited, LIMIT, fixture, spawn_function, wait_exit};

/// §9 #1: without `AWS_LAMBDA_RUNTIME_API` the function prints one line and exits 1.
#[test]
fn missing_runtime_api_is_one_line_and_exit_1() {
    let child = fixture()
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let exited = wait_exit(child);
    assert_eq!(exited.status.code(), Some(1));
    let lines: Vec<&str> = exited.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{:?}", exited.stderr);
    assert!(
        lines[0].contains("AWS_LAMBDA_RUNTIME_API is not set"),
        "{}",
        lines[0]
    );
    assert!(!exited.stderr.contains("panicked"));
}

/// §4.2: an init error is posted to `/init/error` with its type, then the process exits 1
/// with a clear message; no `/next` is called.
#[test]
fn init_error_is_reported_then_exit_1() {
    let emulator = Emulator::start().unwrap();
    let child = spawn_function(fixture(), &emulator, &[("CODA_FIXTURE", "init-error")]);
    let record = emulator.init_error(LIMIT).expect("an /init/error post");
    let exited = wait_exit(child);
    assert_eq!(exited.status.code(), Some(1));
    assert_eq!(record.status, 202);
    assert_eq!(record.function_error, "Function.IoError");
    let body: Value = serde_json::from_slice(&record.body).unwrap();
    assert_eq!(body["errorType"], "io::Error");
    assert!(
        body["errorMessage"]
            .as_str()
            .unwrap()
            .contains("No such file"),
        "{body}"
    );
    assert!(exited.stderr.contains("init failed"), "{}", exited.stderr);
    assert_eq!(emulator.next_calls(), 0);
}

/// §4.2: a panicking init is reported as `Runtime.InitPanic` and the process exits 1.
#[test]
fn init_panic_is_reported_then_exit_1() {
    let emulator = Emulator::start().unwrap();
    let child = spawn_function(fixture(), &emulator, &[("CODA_FIXTURE", "init-panic")]);
    let record = emulator.init_error(LIMIT).expect("an /init/error post");
    let exited = wait_exit(child);
    assert_eq!(exited.status.code(), Some(1));
    assert_eq!(record.function_error, "Runtime.InitPanic");
    assert!(String::from_utf8_lossy(&record.body).contains("init exploded"));
}

/// Serves `invokes` to the fixture in `mode`, then shuts down; returns answers and output.
fn serve_fixture(
    mode: &str,
    env: &[(&str, &str)],
    invokes: Vec<Invoke>,
) -> (Vec<coda_emulator::Answer>, Exited) {
    let mut emulator = Emulator::start().unwrap();
    let mut all_env = vec![("CODA_FIXTURE", mode)];
    all_env.extend_from_slice(env);
    let child = spawn_function(fixture(), &emulator, &all_env);
    let answers = invokes
        .into_iter()
        .map(|i| emulator.invoke(i).answer(LIMIT).expect("an answer"))
        .collect();
    emulator
        .wait_parked(LIMIT)
        .expect("the function parks on /next");
    emulator.shutdown();
    (answers, wait_exit(child))
}

/// §7.9: with `AWS_LAMBDA_LOG_FORMAT=JSON` every stderr line is a JSON object with Lambda's
/// keys, an RFC 3339 timestamp and the request id; `AWS_LAMBDA_LOG_LEVEL` filters.
#[test]
fn json_log_lines() {
    let (_, exited) = serve_fixture(
        "echo",
        &[
            ("AWS_LAMBDA_LOG_FORMAT", "json"),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
        ],
        vec![Invoke::new("{}").request_id("log-req-1")],
    );
    let lines: Vec<Value> = exited
        .stderr
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["requestId"] == "log-req-1")
        .collect();
    let levels: Vec<&str> = of_request
        .iter()
        .map(|l| l["level"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["ERROR", "WARN", "INFO", "DEBUG"],
        "{}",
        exited.stderr
    );
    assert_eq!(of_request[2]["message"], "an info line with \"quotes\"");
    for line in &lines {
        let ts = line["timestamp"].as_str().unwrap();
        assert!(
            ts.len() == 24 && ts.ends_with('Z') && &ts[10..11] == "T",
            "{ts}"
        );
        assert!(line["level"].is_string() && line["message"].is_string());
    }
    // The final fatal line (the emulator shut down) is JSON too.
    assert!(
        lines.last().unwrap()["message"]
            .as_str()
            .unwrap()
            .contains("status 500")
    );
    assert_eq!(exited.status.code(), Some(1));
}

/// §7.9: the default text format is `timestamp TAB requestId TAB LEVEL TAB message`, INFO and
/// up; `WARN` level drops INFO.
#[test]
fn text_log_lines_and_levels() {
    let (_, exited) = serve_fixture("echo", &[], vec![Invoke::new("{}").request_id("text-req")]);
    let fields: Vec<Vec<&str>> = exited
        .stderr
        .lines()
        .filter(|l| l.contains("text-req"))
        .map(|l| l.split('\t').collect())
        .collect();
    assert_eq!(fields.len(), 3, "{}", exited.stderr);
    assert!(
        fields
            .iter()
            .all(|f| f.len() == 4 && f[1] == "text-req" && f[0].ends_with('Z'))
    );
    assert_eq!(
        fields.iter().map(|f| f[2]).collect::<Vec<_>>(),
        ["ERROR", "WARN", "INFO"]
    );

    let (_, exited) = serve_fixture(
        "echo",
        &[("AWS_LAMBDA_LOG_LEVEL", "warn")],
        vec![Invoke::new("{}")],
    );
    assert!(
        exited.stderr.contains("a warn line") && !exited.stderr.contains("an info line"),
        "{}",
        exited.stderr
    );
}

/// §2.3 / §9 #21: the trace id is published as `_X_AMZN_TRACE_ID` for each invocation and
/// removed when an invocation has none.
#[test]
fn trace_id_is_published_and_cleared() {
    let (answers, _) = serve_fixture(
        "trace-env",
        &[],
        vec![
            Invoke::new("{}").trace_id("Root=1-aaaaaaaa-000000000000000000000001;Sampled=1"),
            Invoke::new("{}").without_header("lambda-runtime-trace-id"),
            Invoke::new("{}").trace_id("Root=1-bbbbbbbb-000000000000000000000002;Sampled=0"),
        ],
    );
    let values: Vec<Value> = answers.iter().map(|a| a.json().unwrap()).collect();
    assert_eq!(
        values,
        [
            json!("Root=1-aaaaaaaa-000000000000000000000001;Sampled=1"),
            Value::Null,
            json!("Root=1-bbbbbbbb-000000000000000000000002;Sampled=0")
        ]
    );
}

/// §1: the function settings come from the Lambda variables; the first invocation is cold.
#[test]
fn function_settings_from_the_environment() {
    let (answers, _) = serve_fixture("env", &[], vec![Invoke::new("{}"), Invoke::new("{}")]);
    let first = answers[0].json().unwrap();
    assert_eq!(first["name"], "function");
    assert_eq!(first["memory"], 128);
    assert_eq!(first["log_group"], "/aws/lambda/function");
    assert_eq!(first["cold"], true);
    assert_eq!(answers[1].json().unwrap()["cold"], false);
}
