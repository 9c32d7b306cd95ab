//! A function binary for child-process tests. `CODA_FIXTURE` picks the behaviour:
//!
//! - `echo` (default): returns the event; logs one line at each level.
//! - `init-error`: init fails with an `io::Error`.
//! - `init-panic`: init panics.
//! - `trace-env`: returns the value of `_X_AMZN_TRACE_ID` (or null).
//! - `env`: returns the function settings the runtime read from the environment.
//! - `lifecycle`: returns `{"pid", "cold"}`; the event can ask it to hang (`"hang": true`,
//!   never answers), exit (`"exit": <code>`), or defer work that waits for a signal
//!   (`"signal": "host:port"`: a deferred closure connects there and waits for one byte).
//! - `environ`: returns the whole process environment as a JSON object.
//! - `deferred-log`: returns the event; a deferred closure then logs `deferred line`, the last
//!   line the process writes before it asks for its next event.
//! - `leak`: returns `{"pid"}`; with `"spin": true` it first starts a thread that is never
//!   joined and spins forever (work that leaks past `/next`).

use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};

fn main() {
    let mode = std::env::var("CODA_FIXTURE").unwrap_or_else(|_| "echo".into());
    match mode.as_str() {
        "init-error" => coda_lambda::start(|| {
            let settings = std::fs::read_to_string("/nonexistent-coda-fixture/settings.toml")?;
            log::info!("read {} bytes of settings", settings.len());
            Ok(echo)
        }),
        "init-panic" => coda_lambda::start(|| {
            if std::env::var_os("CODA_FIXTURE").is_some() {
                panic!("init exploded");
            }
            Ok(echo)
        }),
        "trace-env" => coda_lambda::start(|| {
            Ok(|_: Value, _: &mut Context| Ok(json!(std::env::var("_X_AMZN_TRACE_ID").ok())))
        }),
        "env" => coda_lambda::start(|| {
            Ok(|_: Value, ctx: &mut Context| {
                let f = ctx.function();
                Ok(json!({
                    "name": f.name, "version": f.version, "memory": f.memory_mb,
                    "log_group": f.log_group, "log_stream": f.log_stream,
                    "arn": ctx.invoked_function_arn(), "cold": ctx.is_cold_start(),
                }))
            })
        }),
        "lifecycle" => coda_lambda::start(|| Ok(lifecycle)),
        "environ" => coda_lambda::start(|| {
            Ok(|_: Value, _: &mut Context| {
                let env: serde_json::Map<String, Value> = std::env::vars()
                    .map(|(k, v)| (k, Value::String(v)))
                    .collect();
                Ok(Value::Object(env))
            })
        }),
        "deferred-log" => coda_lambda::start(|| {
            Ok(|event: Value, _: &mut Context| {
                Ok(coda_lambda::Reply::new(event).after(|_| log::info!("deferred line")))
            })
        }),
        "leak" => coda_lambda::start(|| {
            Ok(|event: Value, _: &mut Context| {
                if event["spin"] == true {
                    std::thread::Builder::new()
                        .name("leaked-spin".into())
                        .spawn(|| {
                            let mut n: u64 = 0;
                            loop {
                                n = std::hint::black_box(n.wrapping_add(1));
                            }
                        })
                        .map_err(|e| Diagnostic::new("Function.Spawn", e.to_string()))?;
                }
                Ok(json!({"pid": std::process::id()}))
            })
        }),
        _ => coda_lambda::start(|| Ok(echo)),
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

/// See the module docs: hangs, exits or defers work as the event asks.
fn lifecycle(event: Value, ctx: &mut Context) -> Result<coda_lambda::Reply, Diagnostic> {
    if event["hang"] == true {
        loop {
            std::thread::park();
        }
    }
    if let Some(code) = event["exit"].as_i64() {
        std::process::exit(code as i32);
    }
    let reply =
        coda_lambda::Reply::new(json!({"pid": std::process::id(), "cold": ctx.is_cold_start()}));
    Ok(match event["signal"].as_str() {
        Some(addr) => {
            let addr = addr.to_owned();
            reply.after(move |_| -> std::io::Result<()> {
                use std::io::Read;
                let mut stream = std::net::TcpStream::connect(addr)?;
                let mut byte = [0u8; 1];
                stream.read_exact(&mut byte)?;
                log::info!("deferred work released");
                Ok(())
            })
        }
        None => reply,
    })
}
