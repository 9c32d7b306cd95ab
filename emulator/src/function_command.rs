//! [`FunctionCommand`]: the command that runs the function process, and the environment it
//! gets on top of Lambda's.

use std::ffi::OsString;

/// The command that runs the function, and the environment it gets on top of Lambda's.
#[derive(Clone, Debug)]
pub struct FunctionCommand {
    /// The program to run.
    pub(crate) program: OsString,
    /// Its arguments.
    pub(crate) args: Vec<OsString>,
    /// Variables set on top of the Lambda environment.
    pub(crate) env: Vec<(OsString, OsString)>,
}

impl FunctionCommand {
    /// Runs `program` with no arguments.
    pub fn new(program: impl Into<OsString>) -> FunctionCommand {
        FunctionCommand {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl Into<OsString>) -> FunctionCommand {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<OsString>>) -> FunctionCommand {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the function (after the Lambda variables, so it can
    /// override them).
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> FunctionCommand {
        self.env.push((key.into(), value.into()));
        self
    }

    /// The program.
    pub fn program(&self) -> &OsString {
        &self.program
    }
}
