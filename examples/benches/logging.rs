//! The cost of one log line inside an invocation, for `bench/logging.sh` (see BENCHMARKS.md).
//!
//! Serves `INVOCATIONS` invocations in this process (Coda's loop on a thread, the embedded
//! emulator on loopback) with a handler that writes `LINES` log lines each, through the
//! logger `coda_lambda::start` installs, then prints one line of figures. Run it twice, with
//! `LINES` = 0 and `LINES` = N: the difference is N lines' worth of logging, whatever the
//! loop and the emulator cost. `bench/logging.sh` does that under callgrind (instructions)
//! and with a clock, with stderr sent to /dev/null, for the Text and JSON formats:
//!
//!     cargo bench -q -p coda-examples --bench logging -- 200 50 2>/dev/null
//!
//! Only `cargo bench` runs it (cargo passes `--bench`); under `cargo test --all-targets` it
//! prints a note and exits.

use std::time::{Duration, Instant};

use coda_emulator::{Emulator, Invoke};
use coda_lambda::{Context, Diagnostic, Runtime};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if !args.iter().any(|a| a == "--bench") {
        println!("logging bench: run it with `cargo bench --bench logging -- LINES INVOCATIONS`");
        return;
    }
    let numbers: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let (lines, invocations) = match numbers.as_slice() {
        [lines, invocations, ..] => (*lines, *invocations),
        _ => (100, 50),
    };
    coda_lambda::logging::init();
    let emulator = Emulator::start().expect("the emulator binds 127.0.0.1:0");
    let runtime = Runtime::new(emulator.config()).publish_trace_id(false);
    std::thread::spawn(move || {
        runtime.run(move |_: serde_json::Value, _ctx: &mut Context| {
            for i in 0..lines {
                log::info!("line {i} of this invocation: order {} accepted", 4242);
            }
            Ok::<_, Diagnostic>(0u8)
        })
    });
    let limit = Duration::from_secs(60);
    let started = Instant::now();
    for _ in 0..invocations {
        let pending = emulator.invoke(Invoke::new("{}"));
        pending.finished(limit).expect("the invocation ends");
    }
    let elapsed = started.elapsed();
    println!(
        "lines={lines} invocations={invocations} elapsed_ns={}",
        elapsed.as_nanos()
    );
}
