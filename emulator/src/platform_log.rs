//! The lines Lambda itself writes to a function's log stream, in the function's log format:
//! `START`, `END`, `REPORT` and `INIT_REPORT` as text, or with `AWS_LAMBDA_LOG_FORMAT=JSON`
//! the JSON `platform.*` records Lambda writes instead. At the default system log level
//! (INFO) those are `platform.start` and `platform.report` for an invocation (`END`'s
//! counterpart, `platform.runtimeDone`, is a DEBUG record) and `platform.initReport` for a
//! failed init (docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs-log-level.html).
//!
//! `Response Sent` in the text `REPORT` is this emulator's own addition: when the caller
//! had its answer, which deferred work makes earlier than the end of the invocation.

use std::time::{Duration, SystemTime};

use coda_lambda::logging::LogFormat;
use serde_json::{Map, Value, json};

use crate::calendar;

/// The figures of one invocation's report.
#[derive(Clone, Debug)]
pub(crate) struct Report<'a> {
    /// The request id.
    pub(crate) request_id: &'a str,
    /// From delivery to the end.
    pub(crate) duration: Duration,
    /// From delivery to the caller having the answer, when it had one.
    pub(crate) response_sent: Option<Duration>,
    /// The configured memory.
    pub(crate) memory_mb: u32,
    /// The process tree's peak so far, in kB.
    pub(crate) max_memory_kb: Option<u64>,
    /// The init duration, on a cold start.
    pub(crate) init: Option<Duration>,
    /// `Status` and `Error Type` when the invocation did not end normally.
    pub(crate) status: Option<(&'a str, Option<&'a str>)>,
}

/// `START RequestId: … Version: …`, or `platform.start`.
pub(crate) fn start(format: LogFormat, request_id: &str, version: &str) -> String {
    match format {
        LogFormat::Text => format!("START RequestId: {request_id} Version: {version}"),
        LogFormat::Json => record(
            "platform.start",
            json!({"requestId": request_id, "version": version}),
        ),
    }
}

/// `END RequestId: …`; nothing in JSON (its record is a DEBUG one).
pub(crate) fn end(format: LogFormat, request_id: &str) -> Option<String> {
    match format {
        LogFormat::Text => Some(format!("END RequestId: {request_id}")),
        LogFormat::Json => None,
    }
}

/// `REPORT RequestId: …`, or `platform.report`.
pub(crate) fn report(format: LogFormat, report: &Report<'_>) -> String {
    let duration = ms(report.duration);
    let billed = report.duration.as_millis()
        + u128::from(!report.duration.subsec_nanos().is_multiple_of(1_000_000));
    let max_mb = report.max_memory_kb.map(|kb| kb.div_ceil(1024));
    match format {
        LogFormat::Text => {
            let mut line = format!(
                "REPORT RequestId: {}\tDuration: {duration:.2} ms",
                report.request_id
            );
            if let Some(sent) = report.response_sent {
                line.push_str(&format!("\tResponse Sent: {:.2} ms", ms(sent)));
            }
            line.push_str(&format!(
                "\tBilled Duration: {billed} ms\tMemory Size: {} MB",
                report.memory_mb
            ));
            if let Some(mb) = max_mb {
                line.push_str(&format!("\tMax Memory Used: {mb} MB"));
            }
            if let Some(init) = report.init {
                line.push_str(&format!("\tInit Duration: {:.2} ms", ms(init)));
            }
            if let Some((status, error_type)) = report.status {
                line.push_str(&format!("\tStatus: {status}"));
                if let Some(error_type) = error_type {
                    line.push_str(&format!("\tError Type: {error_type}"));
                }
            }
            line
        }
        LogFormat::Json => {
            let mut metrics = Map::new();
            metrics.insert("durationMs".into(), round2(duration));
            metrics.insert("billedDurationMs".into(), json!(billed as u64));
            metrics.insert("memorySizeMB".into(), json!(report.memory_mb));
            if let Some(mb) = max_mb {
                metrics.insert("maxMemoryUsedMB".into(), json!(mb));
            }
            if let Some(init) = report.init {
                metrics.insert("initDurationMs".into(), round2(ms(init)));
            }
            let (status, error_type) = report.status.unwrap_or(("success", None));
            let mut record_value = json!({
                "requestId": report.request_id,
                "metrics": Value::Object(metrics),
                "status": status,
            });
            if let Some(error_type) = error_type {
                record_value["errorType"] = json!(error_type);
            }
            record("platform.report", record_value)
        }
    }
}

/// `INIT_REPORT Init Duration: … Phase: init Status: error Error Type: …`, or
/// `platform.initReport`.
pub(crate) fn init_failed(
    format: LogFormat,
    initialization: &str,
    duration: Duration,
    error_type: &str,
) -> String {
    match format {
        LogFormat::Text => format!(
            "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\tError Type: {error_type}",
            ms(duration)
        ),
        LogFormat::Json => record(
            "platform.initReport",
            json!({
                "initializationType": initialization,
                "phase": "init",
                "status": "error",
                "errorType": error_type,
                "metrics": {"durationMs": round2(ms(duration))},
            }),
        ),
    }
}

/// One JSON platform record, stamped now.
fn record(kind: &str, record: Value) -> String {
    json!({
        "time": calendar::rfc3339_ms(SystemTime::now()),
        "type": kind,
        "record": record,
    })
    .to_string()
}

/// Milliseconds with two decimals, as a JSON number.
fn round2(value: f64) -> Value {
    json!((value * 100.0).round() / 100.0)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(status: Option<(&'static str, Option<&'static str>)>) -> Report<'static> {
        Report {
            request_id: "r-1",
            duration: Duration::from_micros(201_660),
            response_sent: Some(Duration::from_micros(470)),
            memory_mb: 128,
            max_memory_kb: Some(3 * 1024 + 1),
            init: Some(Duration::from_micros(61_300)),
            status,
        }
    }

    /// The text lines, as Lambda writes them (plus Response Sent).
    #[test]
    fn text_lines() {
        assert_eq!(
            start(LogFormat::Text, "r-1", "$LATEST"),
            "START RequestId: r-1 Version: $LATEST"
        );
        assert_eq!(
            end(LogFormat::Text, "r-1").as_deref(),
            Some("END RequestId: r-1")
        );
        assert_eq!(
            report(LogFormat::Text, &sample(Some(("timeout", None)))),
            "REPORT RequestId: r-1\tDuration: 201.66 ms\tResponse Sent: 0.47 ms\tBilled Duration: 202 ms\tMemory Size: 128 MB\tMax Memory Used: 4 MB\tInit Duration: 61.30 ms\tStatus: timeout"
        );
        assert_eq!(
            init_failed(
                LogFormat::Text,
                "on-demand",
                Duration::from_millis(12),
                "Runtime.ExitError"
            ),
            "INIT_REPORT Init Duration: 12.00 ms\tPhase: init\tStatus: error\tError Type: Runtime.ExitError"
        );
    }

    /// The JSON records: `platform.start`, no END, `platform.report` with Lambda's metric
    /// names and status, `platform.initReport`.
    #[test]
    fn json_records() {
        let start: Value = serde_json::from_str(&start(LogFormat::Json, "r-1", "3")).unwrap();
        assert_eq!(start["type"], "platform.start");
        assert_eq!(start["record"], json!({"requestId": "r-1", "version": "3"}));
        assert!(start["time"].as_str().unwrap().ends_with('Z'));
        assert_eq!(end(LogFormat::Json, "r-1"), None);
        let report: Value = serde_json::from_str(&report(
            LogFormat::Json,
            &sample(Some(("error", Some("Runtime.ExitError")))),
        ))
        .unwrap();
        assert_eq!(report["type"], "platform.report");
        assert_eq!(
            report["record"],
            json!({
                "requestId": "r-1",
                "metrics": {
                    "durationMs": 201.66, "billedDurationMs": 202, "memorySizeMB": 128,
                    "maxMemoryUsedMB": 4, "initDurationMs": 61.3,
                },
                "status": "error",
                "errorType": "Runtime.ExitError",
            })
        );
        let init: Value = serde_json::from_str(&init_failed(
            LogFormat::Json,
            "on-demand",
            Duration::from_millis(5),
            "Runtime.ImportModuleError",
        ))
        .unwrap();
        assert_eq!(init["type"], "platform.initReport");
        assert_eq!(init["record"]["errorType"], "Runtime.ImportModuleError");
        assert_eq!(init["record"]["metrics"]["durationMs"], 5.0);
    }
}
