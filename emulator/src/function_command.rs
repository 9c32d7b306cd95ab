//! [`FunctionCommand`]: the command that runs the function process, the host variables it
//! passes through, and the environment it gets on top of Lambda's.

use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};

/// The command that runs the function, and what its environment holds besides Lambda's.
///
/// The function process does not inherit the environment it is started from: it gets
/// Lambda's variables ([`crate::Emulator::function_env`]), then the host variables named
/// with [`FunctionCommand::pass_env`], then the host's `_HANDLER` when the emulator sets no
/// handler, then the variables set with [`FunctionCommand::env`].
#[derive(Clone, Debug)]
pub struct FunctionCommand {
    /// The program to run.
    pub(crate) program: OsString,
    /// Its arguments.
    pub(crate) args: Vec<OsString>,
    /// Variables set on top of the Lambda environment.
    pub(crate) env: Vec<(OsString, OsString)>,
    /// Host variables passed through: names, or prefixes ending in `*`.
    pub(crate) pass: Vec<OsString>,
}

impl FunctionCommand {
    /// Runs `program` with no arguments. A program without a `/` is looked up on the
    /// host's `PATH` (the function's own `PATH` is Lambda's).
    pub fn new(program: impl Into<OsString>) -> FunctionCommand {
        FunctionCommand {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            pass: Vec::new(),
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

    /// Passes the host's variable `name` through, when it is set; `AWS_*`-style patterns
    /// (a prefix and `*`) pass every variable with that prefix. Variables that describe a
    /// Lambda environment (`AWS_LAMBDA_*`, `_X_AMZN_TRACE_ID`) never pass.
    pub fn pass_env(mut self, name: impl Into<OsString>) -> FunctionCommand {
        self.pass.push(name.into());
        self
    }

    /// The program.
    pub fn program(&self) -> &OsString {
        &self.program
    }

    /// The program's path: as given when it has a `/`, else the first executable file of
    /// that name on the host's `PATH`.
    ///
    /// # Errors
    /// The operating system's error for a path that cannot be read (`NotFound`), or
    /// `PermissionDenied` for a file nobody may execute; `NotFound` for a name that is on no
    /// directory of `PATH`.
    pub fn resolve(&self) -> io::Result<PathBuf> {
        use std::os::unix::fs::PermissionsExt;
        let program = Path::new(&self.program);
        if self.program.as_encoded_bytes().contains(&b'/') {
            let metadata = std::fs::metadata(program)?;
            if metadata.is_dir() || metadata.permissions().mode() & 0o111 == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::PermissionDenied,
                    "not an executable file",
                ));
            }
            return Ok(program.to_path_buf());
        }
        let path = std::env::var_os("PATH").unwrap_or_default();
        std::env::split_paths(&path)
            .map(|dir| dir.join(program))
            .find(|candidate| is_executable(candidate))
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::NotFound,
                    "no executable of that name on PATH",
                )
            })
    }
}

/// Whether `path` is a file someone may execute.
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths are kept; bare names are found on PATH; unknown names are `NotFound`.
    #[test]
    fn resolves_programs() {
        assert_eq!(
            FunctionCommand::new("/bin/sh").resolve().unwrap(),
            PathBuf::from("/bin/sh")
        );
        let gone = FunctionCommand::new("/nonexistent/fn")
            .resolve()
            .unwrap_err();
        assert_eq!(gone.kind(), io::ErrorKind::NotFound);
        let plain = std::env::temp_dir().join(format!("coda-plain-{}", std::process::id()));
        std::fs::write(&plain, "not a program").unwrap();
        let not_executable = FunctionCommand::new(&plain).resolve().unwrap_err();
        std::fs::remove_file(&plain).unwrap();
        assert_eq!(not_executable.kind(), io::ErrorKind::PermissionDenied);
        let sh = FunctionCommand::new("sh").resolve().unwrap();
        assert!(sh.is_absolute() && sh.ends_with("sh"), "{sh:?}");
        let missing = FunctionCommand::new("coda-no-such-program-here")
            .resolve()
            .unwrap_err();
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    }
}
