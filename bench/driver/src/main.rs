//! bench-driver: the Runtime API side of `bench/run.sh`, built on `coda-emulator`.
//!
//! Starts a function binary with the Lambda environment against an emulator of its own,
//! serves it N invocations of one event, checks that every answer is the event byte for
//! byte, ends the function and prints one JSON line of figures on stdout (the function's own
//! output goes to stderr):
//!
//!     bench-driver -n 5000 --quiet -- target/release/echo
//!     {"child_exit":"exit status: 1","child_vmhwm_kb":2896,"echo_mismatches":0,...}
//!
//! The figures: `spawn_to_first_next_ms` (from just before the process starts to its first
//! `GET /next`), `invocations_per_s` (answers between the first `/next` and the end of the
//! last answer), `child_vmhwm_kb` (peak RSS, read once the function asked for the event after
//! its last, while it is alive), `responses`, `errors`, `echo_mismatches`, `child_exit` and
//! `killed` (how it ended), `connections` (always `null`: the emulator does not count them).
//! The flags are those of the external kit's `fake-runtime-api` that the script uses
//! (`--help`); exit status 0 when every invocation was answered, 1 when not, 2 when the run
//! could not take place.
//!
//! Modules: `options` (the command line), `function` (the function process), `run` (one
//! run against the emulator), `figures` (what was measured, as JSON and as a report).

#![forbid(unsafe_code)]

mod figures;
mod function;
mod options;
mod run;

use std::error::Error;
use std::process::ExitCode;

use options::{Options, USAGE};

fn main() -> ExitCode {
    let options = match Options::parse(std::env::args_os().skip(1)) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            print_error(&e);
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run::run(&options) {
        Ok(figures) => {
            if !options.quiet {
                eprintln!("{}", figures.report());
            }
            println!("{}", figures.json_line());
            if figures.answered() == figures.invocations {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            print_error(&e);
            ExitCode::from(2)
        }
    }
}

/// Prints `error` and its causes, each once: `bench-driver: a: b: c`.
fn print_error(error: &dyn Error) {
    let mut line = format!("bench-driver: {error}");
    let mut cause = error.source();
    while let Some(e) = cause {
        line.push_str(&format!(": {e}"));
        cause = e.source();
    }
    eprintln!("{line}");
}
