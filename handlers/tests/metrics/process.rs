//! The `metrics` example as a real process behind the emulator: its EMF lines on its own
//! stdout (one JSON object per line, each arriving after its invocation's answer), and its
//! JSON log lines on stderr with the persistent `service` key and each invocation's own
//! `item` key. The child is this test binary running `child_runs_the_example`.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use coda_emulator::{Emulator, Invoke, NextReply};
use serde_json::{Value, json};

use crate::support::{check, names};

const LIMIT: Duration = Duration::from_secs(60);
const CHILD: &str = "CODA_METRICS_EXAMPLE_CHILD";

#[test]
fn example_process_writes_emf_on_stdout_and_keys_on_json_logs() {
    let emulator = Emulator::builder().start().expect("emulator");
    let first = emulator.invoke(Invoke::json(&json!({"item": "book", "cents": 1250})));
    let second = emulator.invoke(Invoke::json(&json!({"item": "pen", "cents": 300})));
    emulator.script_next(NextReply::Status {
        status: 500,
        body: b"end of test".to_vec(),
    });
    let mut child = Command::new(std::env::current_exe().expect("the test binary"))
        .args([
            "--exact",
            "process::child_runs_the_example",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .envs(emulator.function_env())
        .env(CHILD, "1")
        .env("AWS_LAMBDA_LOG_FORMAT", "JSON")
        .env("POWERTOOLS_METRICS_NAMESPACE", "ShopTest")
        .env("POWERTOOLS_SERVICE_NAME", "orders")
        .env_remove("METRICS_FLUSH")
        .env_remove("RUST_LOG")
        .env_remove("AWS_LAMBDA_LOG_LEVEL")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child starts");
    let stdout = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .map(|line| (Instant::now(), line))
            .collect::<Vec<_>>()
    });
    let mut stderr = child.stderr.take().unwrap();
    let logs = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let answers = [
        first.answer(LIMIT).expect("first"),
        second.answer(LIMIT).expect("second"),
    ];
    first.finished(LIMIT).expect("first ends");
    second.finished(LIMIT).expect("second ends");
    let _ = child.wait();
    let lines = lines.join().unwrap();
    let logs = logs.join().unwrap();
    assert_eq!(
        answers[0].json(),
        Some(json!({"accepted": true, "item": "book"})),
        "{logs}"
    );

    // The child's test harness writes on stdout too ("test … " ahead of the first line).
    let emf: Vec<(Instant, Value)> = lines
        .iter()
        .filter_map(|(at, l)| l.find("{\"_aws\"").map(|i| (*at, check(&l[i..]))))
        .collect();
    assert_eq!(
        emf.len(),
        6,
        "three objects per invocation: {lines:?}\n{logs}"
    );
    for (pending, answer, item) in [(&first, &answers[0], "book"), (&second, &answers[1], "pen")] {
        let answered_at = pending.queued_at() + answer.latency;
        let own: Vec<&(Instant, Value)> = emf
            .iter()
            .filter(|(_, d)| d["requestId"] == pending.request_id())
            .collect();
        assert_eq!(own.len(), 3);
        for (at, _) in &own {
            assert!(*at > answered_at, "read after the answer");
        }
        assert_eq!(
            names(&own[0].1),
            ["OrdersPlaced", "OrderValue", "ReceiptsSent"]
        );
        assert_eq!(
            own[0].1["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "ShopTest"
        );
        assert_eq!(
            (own[0].1["service"].as_str(), own[0].1["item"].as_str()),
            (Some("orders"), Some(item))
        );
        assert_eq!(names(&own[1].1)[0], "ColdStart");
        assert_eq!(names(&own[2].1)[0], "InvocationDuration");
    }

    let json_lines: Vec<Value> = logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!json_lines.is_empty(), "{logs}");
    for line in &json_lines {
        assert_eq!(
            line["service"], "orders",
            "the persistent key on every line: {line}"
        );
    }
    for (pending, item, other) in [(&first, "book", "pen"), (&second, "pen", "book")] {
        let own: Vec<&Value> = json_lines
            .iter()
            .filter(|l| l["requestId"] == pending.request_id())
            .collect();
        let receipt = own
            .iter()
            .find(|l| l["message"] == format!("receipt for {item} sent"))
            .unwrap_or_else(|| panic!("the deferred line of {item}: {logs}"));
        assert_eq!(
            receipt["item"], item,
            "the appended key, on a deferred thread's line"
        );
        assert!(own.iter().all(|l| l["item"] != other));
    }
    assert!(
        json_lines
            .iter()
            .filter(|l| l.get("requestId").is_none())
            .all(|l| l.get("item").is_none()),
        "appended keys end with their invocation"
    );
}

/// The child half of the test above: runs the example's `main` against the emulator named in
/// its environment (it returns at once when not started by that test).
#[test]
#[ignore = "the child process of example_process_writes_emf_on_stdout_and_keys_on_json_logs"]
fn child_runs_the_example() {
    if std::env::var_os(CHILD).is_some() {
        crate::metrics_example::main();
    }
}
