//! echo: returns its event unchanged (a `serde_json::Value` round trip, compact JSON).
//!
//! The function the benchmarks measure (see BENCHMARKS.md). Run it against the measurement
//! kit's fake Runtime API, which serves 1,000 events, checks every answer byte for byte and
//! prints its figures (`bash bench/run.sh` builds the kit into /tmp/coda-bench/kit):
//!
//!     cargo build -q --release -p coda-examples --bin echo && /tmp/coda-bench/kit/release/fake-runtime-api -n 1000 -- target/release/echo

fn main() {
    coda_lambda::start(|| {
        Ok(
            |event: serde_json::Value, _ctx: &mut coda_lambda::Context| {
                Ok::<_, coda_lambda::Diagnostic>(event)
            },
        )
    })
}
