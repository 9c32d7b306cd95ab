//! The Embedded Metric Format's rules as a checker of what was written, and an output that
//! keeps the lines.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use coda_handlers::metrics::{Metrics, MetricsBuilder};
use serde_json::Value;

/// The units the EMF schema accepts.
pub const UNITS: [&str; 27] = [
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// Parses one written line and checks it against the specification: a JSON object alone on
/// its line; `_aws` with an integer `Timestamp` (epoch milliseconds, within a day of now) and
/// a non-empty `CloudWatchMetrics` array of directives; each directive exactly `Namespace`
/// (1–255 characters), `Dimensions` (an array of dimension sets, each an array of at most 30
/// names whose root members are strings) and `Metrics` (at most 100 definitions, each `Name`,
/// a valid `Unit`, and `StorageResolution` 1 or 60 when present, nothing else); each metric's
/// root member a number or an array of at most 100 numbers. Returns the object.
pub fn check(line: &str) -> Value {
    assert!(!line.contains('\n'), "one line: {line:?}");
    let doc: Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    let root = doc.as_object().expect("the root is an object");
    let aws = root["_aws"].as_object().expect("`_aws` is an object");
    let timestamp = aws["Timestamp"].as_u64().expect("Timestamp is an integer");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(
        timestamp.abs_diff(now) < 86_400_000,
        "Timestamp {timestamp} is epoch milliseconds"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics is an array");
    assert!(!directives.is_empty());
    for directive in directives {
        let directive = directive.as_object().expect("a directive is an object");
        let keys: HashSet<&str> = directive.keys().map(String::as_str).collect();
        assert_eq!(
            keys,
            HashSet::from(["Namespace", "Dimensions", "Metrics"]),
            "{line}"
        );
        let namespace = directive["Namespace"]
            .as_str()
            .expect("Namespace is a string");
        assert!((1..=255).contains(&namespace.len()));
        let sets = directive["Dimensions"]
            .as_array()
            .expect("Dimensions is an array");
        assert!(!sets.is_empty(), "Dimensions has at least one set");
        for set in sets {
            let set = set.as_array().expect("a dimension set is an array");
            assert!(set.len() <= 30, "at most 30 dimensions: {line}");
            for name in set {
                let name = name.as_str().expect("a dimension name is a string");
                assert!(
                    root[name].is_string(),
                    "dimension {name} is a string member: {line}"
                );
            }
        }
        let metrics = directive["Metrics"]
            .as_array()
            .expect("Metrics is an array");
        assert!(
            metrics.len() <= 100,
            "at most 100 metrics per object: {}",
            metrics.len()
        );
        for definition in metrics {
            let definition = definition.as_object().expect("a definition is an object");
            for key in definition.keys() {
                assert!(
                    ["Name", "Unit", "StorageResolution"].contains(&key.as_str()),
                    "{key}"
                );
            }
            let name = definition["Name"].as_str().expect("Name is a string");
            assert!((1..=255).contains(&name.chars().count()));
            if let Some(unit) = definition.get("Unit") {
                assert!(
                    UNITS.contains(&unit.as_str().expect("Unit is a string")),
                    "{unit}"
                );
            }
            if let Some(r) = definition.get("StorageResolution") {
                assert!(r == 1 || r == 60, "StorageResolution {r}");
            }
            match &root[name] {
                Value::Number(_) => {}
                Value::Array(values) => {
                    assert!(values.len() <= 100, "at most 100 values: {name}");
                    assert!(values.iter().all(Value::is_number), "numbers: {name}");
                }
                other => panic!("metric {name} is {other}: {line}"),
            }
        }
    }
    doc
}

/// The metric names an object defines, in order.
pub fn names(doc: &Value) -> Vec<String> {
    doc["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["Name"].as_str().unwrap().to_owned())
        .collect()
}

/// The lines an output received.
#[derive(Clone, Default)]
pub struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    /// Every line so far, checked and parsed.
    pub fn docs(&self) -> Vec<Value> {
        self.0.lock().unwrap().iter().map(|l| check(l)).collect()
    }

    /// The settings with this as their output.
    pub fn metrics(&self, builder: MetricsBuilder) -> Metrics {
        let sink = self.0.clone();
        builder
            .output(move |line| sink.lock().unwrap().push(line.to_owned()))
            .build()
            .expect("valid settings")
    }
}
