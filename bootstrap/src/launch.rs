//! `coda __launch <pid> -- <program> <args…>`: how `coda run` starts the function so that it
//! dies with `coda`. This process asks the kernel to kill it (`SIGKILL`) when the `coda run`
//! thread that started it ends — also when `coda` itself is killed with `SIGKILL`, which no
//! handler can catch — checks that `coda` (`<pid>`) is still its parent, unblocks the
//! termination signals `coda run` blocks for itself (a child inherits the mask), and then
//! becomes the function (`exec`): the setting survives `exec`, and the function keeps this
//! process's id, process group and environment. Not for people to type; `coda --help` leaves
//! it out.

use std::ffi::OsString;
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

use coda_emulator::os;

/// The hidden command's name.
pub const COMMAND: &str = "__launch";

/// The exit status when the function cannot be started (a shell's "command not found").
const CANNOT_START: u8 = 127;

/// Runs the launcher with the arguments after [`COMMAND`]; returns only if the function
/// could not be started.
pub fn launch(args: &[OsString]) -> ExitCode {
    let (parent, program, program_args) = match args {
        [parent, separator, program, rest @ ..] if separator == "--" => {
            match parent.to_str().and_then(|p| p.parse::<u32>().ok()) {
                Some(parent) => (parent, program, rest),
                None => return fail(format_args!("`{COMMAND}` needs the parent's process id")),
            }
        }
        _ => {
            return fail(format_args!(
                "usage: coda {COMMAND} <pid> -- <program> [args…]"
            ));
        }
    };
    if let Err(e) = os::die_with_parent(parent) {
        return fail(format_args!(
            "cannot tie the function to `coda run` (process {parent}): {e}"
        ));
    }
    // `coda run` blocks the termination signals for its own signal thread, and a child
    // inherits the mask: the function must receive them.
    if let Err(e) = os::unblock_termination_signals() {
        return fail(format_args!(
            "cannot unblock the termination signals for the function: {e}"
        ));
    }
    let error = Command::new(program).args(program_args).exec();
    fail(format_args!(
        "cannot start {}: {error}",
        program.to_string_lossy()
    ))
}

/// Prints `coda: <message>` and gives the exit status for a function that did not start.
fn fail(message: std::fmt::Arguments<'_>) -> ExitCode {
    let _ = writeln!(std::io::stderr().lock(), "coda: {message}");
    ExitCode::from(CANNOT_START)
}
