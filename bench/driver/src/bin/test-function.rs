//! A function for the driver's own tests (`tests/driver.rs`): `BENCH_DRIVER_TEST_ROLE` picks
//! an echo, a function that answers something else, or a process that exits before asking
//! for an event.

use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};

fn main() {
    match std::env::var("BENCH_DRIVER_TEST_ROLE").as_deref() {
        Ok("other") => coda_lambda::start(|| {
            Ok(|_event: Value, _ctx: &mut Context| Ok::<_, Diagnostic>(json!({"other": true})))
        }),
        Ok("exit") => std::process::exit(3),
        _ => {
            coda_lambda::start(|| Ok(|event: Value, _ctx: &mut Context| Ok::<_, Diagnostic>(event)))
        }
    }
}
