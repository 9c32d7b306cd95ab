//! A function binary for child-process tests. `CODA_FIXTURE` picks the behaviour:
//!
//! - `echo` (default): returns the event; logs one line at each level.
//! - `init-error`: init fails with an `io::Error`.
//! - `init-panic`: init panics.
//! - `trace-env`: returns the value of `_X_AMZN_TRACE_ID` (or null).
//! - `env`: returns the function settings the runtime read from the environment.

use coda::{Context, Diagnostic};
use serde_json::{Value, json};

fn main() {
    let mode = std::env::var("CODA_FIXTURE").unwrap_or_else(|_| "echo".into());
    match mode.as_str() {
        "init-error" => coda::start(|| {
            let settings = std::fs::read_to_string("/nonexistent-coda-fixture/settings.toml")?;
            log::info!("read {} bytes of settings", settings.len());
            Ok(echo)
        }),
        "init-panic" => coda::start(|| {
            if std::env::var_os("CODA_FIXTURE").is_some() {
                panic!("init exploded");
            }
            Ok(echo)
        }),
        "trace-env" => coda::start(|| {
            Ok(|_: Value, _: &mut Context| Ok(json!(std::env::var("_X_AMZN_TRACE_ID").ok())))
        }),
        "env" => coda::start(|| {
            Ok(|_: Value, ctx: &mut Context| {
                let f = ctx.function();
                Ok(json!({
                    "name": f.name, "version": f.version, "memory": f.memory_mb,
                    "log_group": f.log_group, "log_stream": f.log_stream,
                    "arn": ctx.invoked_function_arn(), "cold": ctx.is_cold_start(),
                }))
            })
        }),
        _ => coda::start(|| Ok(echo)),
    }
}

/// Returns the event; logs one line at each level.
fn echo(event: Value, _: &mut Context) -> Result<Value, Diagnostic> {
    log::error!("an error line");
    log::warn!("a warn line");
    log::info!("an info line with \"quotes\"");
    log::debug!("a debug line");
    Ok(event)
}
