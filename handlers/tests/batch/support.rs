//! Test helpers: fixtures, SQS events built from bodies, and invocations through the loop.

use std::sync::{Arc, Mutex};

use coda_emulator::Invoke;
use coda_emulator::testing::{self, Outcome};
use coda_lambda::Handler;
use serde_json::{Value, json};

/// A fixture's bytes (`handlers/tests/data/<name>`).
pub fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// A fixture as JSON.
pub fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).expect("fixtures are JSON")
}

/// One SQS message record with `id` and `body` (and a `MessageGroupId` when `group` is set).
pub fn message(id: &str, body: &str, group: Option<&str>) -> Value {
    let mut attributes = json!({"ApproximateReceiveCount": "1", "SentTimestamp": "1520621625029"});
    if let Some(group) = group {
        attributes["MessageGroupId"] = json!(group);
    }
    json!({
        "messageId": id,
        "receiptHandle": format!("handle-{id}"),
        "body": body,
        "attributes": attributes,
        "messageAttributes": {},
        "md5OfBody": "0",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:queue.fifo",
        "awsRegion": "us-east-1"
    })
}

/// An SQS event of `records`.
pub fn event(records: Vec<Value>) -> Value {
    json!({ "Records": records })
}

/// An SQS event of jobs `(message id, "do" action)`, bodies `{"id": <n>, "do": <action>}`.
pub fn jobs(list: &[(&str, &str)]) -> Value {
    event(
        list.iter()
            .enumerate()
            .map(|(n, (id, action))| {
                message(id, &json!({"id": n + 1, "do": action}).to_string(), None)
            })
            .collect(),
    )
}

/// The item identifiers of an answer's `batchItemFailures`.
pub fn failed_ids(answer: &Value) -> Vec<String> {
    answer["batchItemFailures"]
        .as_array()
        .unwrap_or_else(|| panic!("not a batch response: {answer}"))
        .iter()
        .map(|f| f["itemIdentifier"].as_str().expect("a string").to_owned())
        .collect()
}

/// Runs `handler` on `event` through the loop.
pub fn invoke<H: Handler<M>, M>(handler: H, event: &Value) -> Outcome {
    testing::invoke_with(handler, Invoke::json(event))
}

/// A list shared between a handler, its deferred work and the test.
#[derive(Clone, Default)]
pub struct Seen(Arc<Mutex<Vec<String>>>);

impl Seen {
    pub fn push(&self, item: impl Into<String>) {
        self.0.lock().unwrap().push(item.into());
    }

    pub fn list(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
}

/// Whether some log line contains every one of `parts`.
pub fn logged(outcome: &Outcome, parts: &[&str]) -> bool {
    outcome
        .logs()
        .iter()
        .any(|line| parts.iter().all(|p| line.contains(p)))
}
