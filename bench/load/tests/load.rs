//! bench-load against the real `coda run` and the workspace's `echo` example.
//!
//! Cargo gives this test the path of `bench-load` only, so [`built`] builds `coda` and `echo`
//! with `cargo build -p coda-bootstrap --bin coda -p coda-examples --bin echo` (through the
//! `CARGO` that runs the tests; nearly free when they are built already) and takes their
//! paths from cargo's JSON output, as `bootstrap/tests/cli.rs` does.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// `(coda, echo)`, built with the cargo that runs the tests.
fn built() -> (PathBuf, PathBuf) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--message-format=json"])
        .args(["-p", "coda-bootstrap", "--bin", "coda"])
        .args(["-p", "coda-examples", "--bin", "echo"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building coda and echo failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let find = |name: &str| {
        stdout
            .lines()
            .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
            .filter_map(|l| serde_json::from_str::<Value>(l).ok())
            .filter(|v| v["target"]["name"] == name)
            .find_map(|v| v["executable"].as_str().map(PathBuf::from))
            .unwrap_or_else(|| panic!("cargo reported no {name} executable"))
    };
    (find("coda"), find("echo"))
}

#[test]
fn two_callers_get_every_echo_back() {
    let (coda, echo) = built();
    let output = Command::new(env!("CARGO_BIN_EXE_bench-load"))
        .arg("--coda")
        .arg(&coda)
        .args(["--callers", "2", "--invocations", "100", "--warm-up", "10"])
        .args(["--sample-every", "50", "--payload-bytes", "128", "--"])
        .arg(&echo)
        .output()
        .expect("bench-load runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line of figures on stdout: {stdout}");
    let f: Value = serde_json::from_str(lines[0]).expect("the figures are JSON");
    assert_eq!(f["check"], "echo");
    assert_eq!(f["answered"], 100, "{f}");
    assert_eq!(f["lost"], 0);
    assert_eq!(f["mismatched"], 0);
    assert_eq!(f["payload_bytes"], 128);
    assert!(f["invocations_per_s"].as_f64().is_some_and(|r| r > 0.0));
    assert!(f["latency_p99_us"].as_u64().is_some_and(|p| p > 0));
    assert!(f["function_vmhwm_kb"].as_u64().is_some_and(|k| k > 0));
    assert!(f["coda_vmrss_kb"].as_u64().is_some_and(|k| k > 0));
    assert_eq!(f["samples"].as_array().map(Vec::len), Some(2), "{f}");
    assert!(
        stderr.contains("answered 100, mismatched 0, lost 0"),
        "{stderr}"
    );
}
