//! The figures of one run, and their two forms: one JSON line on stdout (the field names of
//! the external kit's `fake-runtime-api`, which `bench/run.sh` reads) and a readable report.

use std::time::Duration;

use serde_json::{Value, json};

use super::function::Ended;

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Figures {
    /// The run's label.
    pub label: String,
    /// Events asked for.
    pub invocations: usize,
    /// Answers posted to `/response`.
    pub responses: usize,
    /// Answers posted to `/error` (or refused by the emulator).
    pub errors: usize,
    /// Responses that were not the event, byte for byte.
    pub echo_mismatches: usize,
    /// From just before the process was started to its first `GET /next`.
    pub spawn_to_first_next: Option<Duration>,
    /// From the first `GET /next` to the end of the last answer.
    pub first_next_to_last_answer: Option<Duration>,
    /// The process's peak resident memory, read after its last answer while it was alive.
    pub peak_rss_kb: Option<u64>,
    /// How the process ended.
    pub ended: Option<Ended>,
}

impl Figures {
    /// Answers of any kind.
    pub fn answered(&self) -> usize {
        self.responses + self.errors
    }

    /// Answers per second between the first `/next` and the last answer.
    pub fn invocations_per_s(&self) -> Option<f64> {
        let time = self.first_next_to_last_answer?.as_secs_f64();
        (time > 0.0).then(|| self.answered() as f64 / time)
    }

    /// The figures as one line of JSON. `connections` is `null`: the emulator does not count
    /// them.
    pub fn json_line(&self) -> String {
        let ended = self.ended.as_ref();
        json!({
            "label": self.label,
            "instrument": "coda-emulator",
            "invocations": self.invocations,
            "responses": self.responses,
            "errors": self.errors,
            "echo_mismatches": self.echo_mismatches,
            "connections": Value::Null,
            "spawn_to_first_next_ms": self.spawn_to_first_next.map(|d| round(millis(d), 3)),
            "first_next_to_last_reply_s": self.first_next_to_last_answer.map(|d| round(d.as_secs_f64(), 4)),
            "invocations_per_s": self.invocations_per_s().map(|r| round(r, 1)),
            "child_vmhwm_kb": self.peak_rss_kb,
            "child_exit": ended.map(|e| e.how.as_str()),
            "killed": ended.is_some_and(|e| e.killed),
        })
        .to_string()
    }

    /// The figures for a reader, one per line.
    pub fn report(&self) -> String {
        let or_none = |v: Option<String>| v.unwrap_or_else(|| "-".into());
        let ended = self
            .ended
            .as_ref()
            .map(|e| format!("{}{}", e.how, if e.killed { " (killed)" } else { "" }));
        [
            format!("bench-driver report {}", self.label),
            format!("  invocations asked      : {}", self.invocations),
            format!("  /response posts        : {}", self.responses),
            format!("  /error posts           : {}", self.errors),
            format!("  echo mismatches        : {}", self.echo_mismatches),
            format!(
                "  spawn -> first /next   : {} ms",
                or_none(
                    self.spawn_to_first_next
                        .map(|d| format!("{:.3}", millis(d)))
                )
            ),
            format!(
                "  invocations per second : {}",
                or_none(self.invocations_per_s().map(|r| format!("{r:.1}")))
            ),
            format!(
                "  peak RSS (VmHWM)       : {} kB",
                or_none(self.peak_rss_kb.map(|kb| kb.to_string()))
            ),
            format!("  function ended         : {}", or_none(ended)),
        ]
        .join("\n")
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn round(value: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (value * scale).round() / scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_line_has_the_fields_run_sh_reads() {
        let figures = Figures {
            label: "a \"quoted\" label".into(),
            invocations: 4,
            responses: 3,
            errors: 1,
            echo_mismatches: 2,
            spawn_to_first_next: Some(Duration::from_micros(1_234_567)),
            first_next_to_last_answer: Some(Duration::from_millis(500)),
            peak_rss_kb: Some(2048),
            ended: Some(Ended {
                how: "exit status: 1".into(),
                killed: false,
            }),
        };
        let line: Value = serde_json::from_str(&figures.json_line()).unwrap();
        assert_eq!(line["label"], "a \"quoted\" label");
        assert_eq!(line["responses"], 3);
        assert_eq!(line["echo_mismatches"], 2);
        assert_eq!(line["spawn_to_first_next_ms"], 1234.567);
        assert_eq!(line["invocations_per_s"], 8.0);
        assert_eq!(line["child_vmhwm_kb"], 2048);
        assert_eq!(line["child_exit"], "exit status: 1");
        assert_eq!(line["killed"], false);
        assert!(line["connections"].is_null());
        assert!(!figures.json_line().contains('\n'));
    }

    #[test]
    fn a_run_that_never_started_has_no_rate() {
        let figures = Figures {
            invocations: 10,
            ..Figures::default()
        };
        let line: Value = serde_json::from_str(&figures.json_line()).unwrap();
        assert!(line["invocations_per_s"].is_null());
        assert!(line["spawn_to_first_next_ms"].is_null());
        assert!(figures.report().contains("invocations per second : -"));
    }
}
