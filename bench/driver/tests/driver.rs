//! The driver against real function processes: `bench-driver-test-function`
//! (`src/bin/test-function.rs`) as an echo, a function that answers something else, or a
//! process that exits before asking for an event.

use std::process::Command;

use serde_json::{Value, json};

/// Runs the driver with `args` on this binary as a function of `role`: (exit code, figures).
fn drive(role: &str, args: &[&str]) -> (Option<i32>, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_bench-driver"))
        .args(args)
        .arg("--quiet")
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_bench-driver-test-function"))
        .env("BENCH_DRIVER_TEST_ROLE", role)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line of figures on stdout: {stdout}");
    (
        output.status.code(),
        serde_json::from_str(lines[0]).unwrap(),
    )
}

#[test]
fn every_event_is_served_and_every_answer_checked() {
    let (code, figures) = drive("echo", &["-n", "25", "--label", "echo"]);
    assert_eq!(code, Some(0), "{figures}");
    assert_eq!(figures["label"], "echo");
    assert_eq!(figures["invocations"], 25);
    assert_eq!(figures["responses"], 25);
    assert_eq!(figures["errors"], 0);
    assert_eq!(figures["echo_mismatches"], 0);
    assert!(figures["invocations_per_s"].as_f64().unwrap() > 0.0);
    assert!(figures["spawn_to_first_next_ms"].as_f64().unwrap() > 0.0);
    assert!(figures["child_vmhwm_kb"].as_u64().unwrap() > 0);
    // The closed connection after the last event ends a Coda function with an error exit.
    assert_eq!(figures["child_exit"], "exit status: 1");
    assert_eq!(figures["killed"], false);
}

#[test]
fn an_answer_that_is_not_the_event_is_counted_as_a_mismatch() {
    let (code, figures) = drive("other", &["-n", "5", "--trace-id", "fixed"]);
    assert_eq!(code, Some(0), "{figures}");
    assert_eq!(figures["responses"], 5);
    assert_eq!(figures["echo_mismatches"], 5);

    let (_, unchecked) = drive("other", &["-n", "5", "--no-check-echo"]);
    assert_eq!(unchecked["echo_mismatches"], 0);
    // The event the function is given is the one asked for.
    let (_, own) = drive("echo", &["-n", "3", "--event", r#"{"own":[1,2]}"#]);
    assert_eq!(
        (own["responses"].clone(), own["echo_mismatches"].clone()),
        (json!(3), json!(0))
    );
}

#[test]
fn a_function_that_exits_before_its_first_event_fails_the_run() {
    let (code, figures) = drive("exit", &["-n", "5"]);
    assert_eq!(code, Some(1));
    assert_eq!(figures["responses"], 0);
    assert!(figures["spawn_to_first_next_ms"].is_null());
    assert!(figures["invocations_per_s"].is_null());
    assert_eq!(figures["child_exit"], "exit status: 3");
}

#[test]
fn the_function_is_ended_as_asked() {
    let (code, killed) = drive("echo", &["-n", "2", "--end", "kill"]);
    assert_eq!(code, Some(0));
    assert_eq!(killed["killed"], true);
    assert!(killed["child_exit"].as_str().unwrap().contains("signal: 9"));

    let (_, refused) = drive("echo", &["-n", "2", "--end", "error"]);
    assert_eq!(refused["killed"], false);
    assert_eq!(refused["child_exit"], "exit status: 1");
}
