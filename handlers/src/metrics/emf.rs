//! Writing a [`MetricSet`] as Embedded Metric Format objects: the `_aws` metadata with one
//! `CloudWatchMetrics` directive (namespace, dimension sets, metric definitions), then the
//! dimensions, metric values and properties as members of the root object; split so that no
//! object has more than 100 metrics, nor a metric more than 100 values.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::error::MetricsError;
use super::rules::{self, MAX_METRICS, MAX_VALUES};
use super::set::{Entry, MetricSet};
use super::unit::Resolution;

impl MetricSet {
    /// The Embedded Metric Format lines of this set under `namespace`: one JSON object each,
    /// at most 100 metrics and 100 values per metric in each, every object with all the
    /// dimensions and properties. Empty when no metric was recorded.
    pub fn to_emf(&self, namespace: &str) -> Result<Vec<String>, MetricsError> {
        rules::namespace(namespace)?;
        let at = self.timestamp.unwrap_or_else(SystemTime::now);
        let millis = at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Ok(render(namespace, self, millis))
    }
}

/// The lines of `set` (none when it has no metrics), each one JSON object.
fn render(namespace: &str, set: &MetricSet, timestamp_ms: u64) -> Vec<String> {
    // Round k holds each metric's values k*100 .. k*100+100; each round is cut into objects of
    // at most 100 metrics.
    let rounds = set
        .metrics
        .iter()
        .map(|e| e.values.len().div_ceil(MAX_VALUES))
        .max()
        .unwrap_or(0);
    let mut lines = Vec::new();
    for round in 0..rounds {
        let start = round * MAX_VALUES;
        let slices: Vec<(&Entry, &[f64])> = set
            .metrics
            .iter()
            .filter(|e| e.values.len() > start)
            .map(|e| (e, &e.values[start..e.values.len().min(start + MAX_VALUES)]))
            .collect();
        for chunk in slices.chunks(MAX_METRICS) {
            lines.push(object(namespace, set, timestamp_ms, chunk));
        }
    }
    lines
}

fn object(
    namespace: &str,
    set: &MetricSet,
    timestamp_ms: u64,
    metrics: &[(&Entry, &[f64])],
) -> String {
    let definitions: Vec<Value> = metrics
        .iter()
        .map(|(e, _)| {
            let mut definition = serde_json::json!({"Name": e.name, "Unit": e.unit.as_str()});
            if e.resolution == Resolution::High {
                definition["StorageResolution"] = Value::from(e.resolution.seconds());
            }
            definition
        })
        .collect();
    let dimensions: Vec<&[String]> = if set.sets.is_empty() {
        vec![&[]]
    } else {
        set.sets.iter().map(Vec::as_slice).collect()
    };
    let aws = serde_json::json!({
        "Timestamp": timestamp_ms,
        "CloudWatchMetrics": [{
            "Namespace": namespace,
            "Dimensions": dimensions,
            "Metrics": definitions,
        }],
    });
    let mut out = String::with_capacity(256);
    out.push_str("{\"_aws\":");
    out.push_str(&aws.to_string());
    let mut member = |key: &str, value: &Value| {
        out.push(',');
        out.push_str(&Value::from(key).to_string());
        out.push(':');
        out.push_str(&value.to_string());
    };
    for (name, value) in &set.dimensions {
        member(name, &Value::from(value.as_str()));
    }
    for (entry, values) in metrics {
        let value = match values {
            [one] => Value::from(*one),
            many => Value::from(many.to_vec()),
        };
        member(&entry.name, &value);
    }
    for (key, value) in &set.properties {
        member(key, value);
    }
    out.push('}');
    out
}
