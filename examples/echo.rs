//! echo: returns its event unchanged (a `serde_json::Value` round trip, compact JSON).
//!
//! The function the benchmarks measure (see BENCHMARKS.md). Run it under the benchmark's
//! driver (`bench/driver`, on coda-emulator), which serves 1,000 events, checks every answer
//! byte for byte and prints its figures:
//!
//! ```sh
//! cargo build -q --release -p coda-examples --bin echo && cargo run -q --release -p coda-bench-driver -- -n 1000 -- target/release/echo
//! ```

fn main() {
    coda_lambda::start(|| {
        Ok(
            |event: serde_json::Value, _ctx: &mut coda_lambda::Context| {
                Ok::<_, coda_lambda::Diagnostic>(event)
            },
        )
    })
}
