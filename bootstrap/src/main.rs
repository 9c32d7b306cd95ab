//! `coda`: the command-line companion of the Coda Lambda runtime.
//!
//! `coda run` runs a function under the emulator, `coda invoke` invokes it,
//! `coda package` checks a compiled binary against Lambda's `provided.al2023`
//! runtime and writes the zip to deploy (`--layer`: the zip of a layer that
//! runs any runtime under `coda wrap`), `coda wrap` runs any runtime behind a
//! Runtime API proxy that runs a command after each answer, `coda --version`
//! prints the version.
//! `main` stays thin: parse the arguments, run the command, and on failure
//! print the error once, on one line with its causes
//! ([`error::report_line`]), and exit with 2 (usage) or 1 (anything else).

#![forbid(unsafe_code)]
#![warn(clippy::missing_docs_in_private_items)]
// File data must never cause a panic: no unchecked indexing or unwrapping
// outside tests (`elf.rs` also forbids unchecked arithmetic).
#![cfg_attr(
    not(test),
    deny(clippy::indexing_slicing, clippy::unwrap_used, clippy::expect_used)
)]

mod archive;
mod cli;
mod elf;
mod error;
mod glibc;
mod invoke;
mod launch;
mod libraries;
mod package;
mod run;
#[cfg(test)]
mod testelf;
mod wrap;

use std::io::Write as _;
use std::process::ExitCode;

use cli::Command;
use error::Error;

/// Runs the command and turns its outcome into the exit status.
fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if let Some((first, rest)) = args.split_first()
        && first == launch::COMMAND
    {
        return launch::launch(rest);
    }
    match run(args) {
        Ok(code) => code,
        Err(Error::FunctionFailed) => ExitCode::FAILURE,
        Err(error) => {
            // If stderr itself is gone there is nowhere left to report to.
            let _ = writeln!(std::io::stderr().lock(), "{}", error::report_line(&error));
            error.exit_code()
        }
    }
}

/// Parses the command line and runs the command it names; returns the exit status.
fn run(args: Vec<std::ffi::OsString>) -> Result<ExitCode, Error> {
    let command = cli::parse(args)?;
    let mut stdout = std::io::stdout().lock();
    match command {
        Command::Help => stdout.write_all(cli::USAGE.as_bytes()),
        Command::Version => writeln!(stdout, "coda {}", env!("CARGO_PKG_VERSION")),
        Command::Package(args) => {
            let report = package::package(&args)?;
            for warning in &report.warnings {
                let _ = writeln!(std::io::stderr().lock(), "coda: warning: {warning}");
            }
            write!(stdout, "{report}")
        }
        Command::PackageLayer(args) => {
            let report = package::package_layer(&args)?;
            for warning in &report.warnings {
                let _ = writeln!(std::io::stderr().lock(), "coda: warning: {warning}");
            }
            write!(stdout, "{report}")
        }
        Command::Wrap(args) => {
            drop(stdout);
            return wrap::run(&args).map(ExitCode::from).map_err(Error::Wrap);
        }
        Command::Run(args) => {
            drop(stdout);
            return match run::run(&args) {
                Ok(false) => Ok(ExitCode::SUCCESS),
                Ok(true) => Err(Error::FunctionFailed),
                Err(e) => Err(Error::Run(e)),
            };
        }
        Command::Invoke(args) => {
            drop(stdout);
            return match invoke::invoke(&args) {
                Ok(false) => Ok(ExitCode::SUCCESS),
                Ok(true) => Err(Error::FunctionFailed),
                Err(e) => Err(Error::Invoke(e)),
            };
        }
    }
    .and_then(|()| stdout.flush())
    .map(|()| ExitCode::SUCCESS)
    .map_err(Error::Stdout)
}
