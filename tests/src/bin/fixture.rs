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
//! - `concurrent`: a Managed Instances function (`start_concurrent`): logs `handling <request
//!   id>`, waits until `meet` invocations of the same `round` are in the handler at once (so
//!   each is on a worker of its own), answers `{"request_id", "trace_id", "env_trace_id",
//!   "worker"}`.
//! - `shutdown`: a shutdown hook that logs `shutdown hook ran`; `{"block": true}` registers a
//!   deferred closure `stuck` that never returns (it is detached at the budget);
//!   `{"carry": true}` registers `carried-write`, carried over when its budget is spent.
//! - `address-hog`: run under `ulimit -v` (`CODA_FIXTURE_VM_LIMIT_KB`, the same limit): an
//!   event `{"hog": true}` reserves all the address space the limit leaves but 1 MiB, so no
//!   thread can be started; `{"hog": false}` releases it. Every event registers one deferred
//!   closure that logs `deferred work ran`.
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
        "concurrent" => coda_lambda::start_concurrent(|| {
            Ok(|event: Value, ctx: &mut Context| {
                log::info!("handling {}", ctx.request_id());
                meet(
                    event["round"].as_u64().unwrap_or(0),
                    event["meet"].as_u64().unwrap_or(1),
                );
                Ok::<_, Diagnostic>(json!({
                    "request_id": ctx.request_id(),
                    "trace_id": ctx.trace_id(),
                    "env_trace_id": std::env::var("_X_AMZN_TRACE_ID").ok(),
                    "worker": ctx.worker(),
                }))
            })
        }),
        "shutdown" => coda_lambda::start_with(
            |runtime| runtime.on_shutdown(|_| log::info!("shutdown hook ran")),
            || {
                Ok(|event: Value, ctx: &mut Context| {
                    if event["block"] == true {
                        ctx.deferred("stuck").after(|_| -> () {
                            loop {
                                std::thread::park();
                            }
                        });
                    }
                    if event["carry"] == true {
                        ctx.deferred("carried-write")
                            .if_unfinished(coda_lambda::IfUnfinished::CarryOver)
                            .after(|_| log::info!("carried-write ran"));
                    }
                    Ok::<_, Diagnostic>(json!("ok"))
                })
            },
        ),
        "address-hog" => coda_lambda::start(|| {
            let limit_kb: u64 = std::env::var("CODA_FIXTURE_VM_LIMIT_KB")?.parse()?;
            let mut hog: Vec<Vec<u8>> = Vec::new();
            Ok(move |event: Value, ctx: &mut Context| {
                if event["hog"] == true {
                    let used = vm_size_kb().ok_or("no VmSize in /proc/self/status")?;
                    let spare = limit_kb.saturating_sub(used + 1024) * 1024;
                    let mut block = Vec::new();
                    block.try_reserve_exact(spare as usize)?;
                    hog.push(block);
                } else {
                    hog.clear();
                }
                ctx.after(|_| log::info!("deferred work ran"));
                Ok::<_, Diagnostic>(json!({"vm_kb": vm_size_kb()}))
            })
        }),
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

/// Waits until `count` handlers of `round` have arrived (bounded: a test that sent fewer
/// fails on its answers, not here).
fn meet(round: u64, count: u64) {
    use std::collections::HashMap;
    use std::sync::{Condvar, Mutex};
    static ARRIVED: Mutex<Option<HashMap<u64, u64>>> = Mutex::new(None);
    static CHANGED: Condvar = Condvar::new();
    let mut arrived = ARRIVED.lock().unwrap_or_else(|e| e.into_inner());
    *arrived
        .get_or_insert_with(HashMap::new)
        .entry(round)
        .or_insert(0) += 1;
    CHANGED.notify_all();
    let limit = std::time::Duration::from_secs(10);
    let _ = CHANGED.wait_timeout_while(arrived, limit, |a| {
        a.as_ref().and_then(|m| m.get(&round)).copied().unwrap_or(0) < count
    });
}

/// The process's address space in use, in kB.
fn vm_size_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmSize:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
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
