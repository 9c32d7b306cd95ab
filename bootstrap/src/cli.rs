//! The command line: a small hand-written parser (no dependency) that turns
//! the arguments into a [`Command`].
//!
//! Flags may come before or after positional arguments; a flag's value is
//! given as `--flag VALUE`, `--flag=VALUE` or `-f VALUE`; `--` ends the flags
//! (everything after it is positional, which `coda run -- <command...>` will
//! rely on).

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;

/// The help text, printed by `coda --help` and `coda help`.
pub const USAGE: &str = "\
coda: the Coda command for AWS Lambda functions written with the coda runtime

usage:
  coda package <binary> [-o|--output <file.zip>]
      Check that <binary> can run on Lambda's provided.al2023 runtime (a
      64-bit x86_64 or arm64 Linux executable needing at most glibc 2.34)
      and write the deployable zip: one entry, `bootstrap`, mode 0755.
      The zip goes to ./<binary name>.zip unless -o says otherwise.
  coda help | --help | -h
      Print this help.
";

/// What the user asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Print the help text.
    Help,
    /// Check a binary and write its deployable zip.
    Package(PackageArgs),
}

/// The arguments of `coda package`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageArgs {
    /// The compiled binary to package.
    pub binary: PathBuf,
    /// Where to write the zip; `None` for `./<binary stem>.zip`.
    pub output: Option<PathBuf>,
}

/// A mistake on the command line; the process exits with status 2.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError {
    /// What is wrong, e.g. "unknown command `pakage`".
    message: String,
}

impl UsageError {
    /// An error with the given message.
    fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (run `coda --help` for usage)", self.message)
    }
}

impl std::error::Error for UsageError {}

/// One command-line argument, classified.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Arg {
    /// A flag such as `-o` or `--output`, with the value given after `=`.
    Flag(String, Option<OsString>),
    /// Anything else (including everything after `--`, and `-` alone).
    Positional(OsString),
}

/// The arguments not yet consumed, and whether `--` has been seen.
#[derive(Debug)]
struct Args {
    /// The remaining raw arguments.
    rest: std::vec::IntoIter<OsString>,
    /// Set once `--` has been seen: no more flags.
    only_positional: bool,
}

impl Args {
    /// Wraps the raw arguments (without the program name).
    fn new(args: impl IntoIterator<Item = OsString>) -> Self {
        Self {
            rest: args.into_iter().collect::<Vec<_>>().into_iter(),
            only_positional: false,
        }
    }

    /// The next argument, classified as a flag or a positional argument.
    fn next(&mut self) -> Option<Arg> {
        let raw = self.rest.next()?;
        if self.only_positional {
            return Some(Arg::Positional(raw));
        }
        if raw == "--" {
            self.only_positional = true;
            return self.next();
        }
        let text = raw.to_string_lossy();
        if !text.starts_with('-') || text == "-" {
            return Some(Arg::Positional(raw));
        }
        if text.starts_with("--")
            && let Some((name, value)) = text.split_once('=')
        {
            // Lossy for non-UTF-8 values; `--flag VALUE` keeps raw bytes.
            return Some(Arg::Flag(name.to_owned(), Some(value.into())));
        }
        Some(Arg::Flag(text.into_owned(), None))
    }

    /// The value of `flag`: the part after `=` if there was one, else the
    /// next argument.
    fn value(&mut self, flag: &str, inline: Option<OsString>) -> Result<OsString, UsageError> {
        if let Some(value) = inline {
            return Ok(value);
        }
        match self.rest.next() {
            Some(value) if !self.only_positional && value == "--" => {
                Err(UsageError::new(format!("`{flag}` needs a value")))
            }
            Some(value) => Ok(value),
            None => Err(UsageError::new(format!("`{flag}` needs a value"))),
        }
    }
}

/// Rejects a value given to a flag that takes none (`--help=x`).
fn no_value(flag: &str, inline: Option<OsString>) -> Result<(), UsageError> {
    match inline {
        None => Ok(()),
        Some(_) => Err(UsageError::new(format!("`{flag}` takes no value"))),
    }
}

/// Parses the arguments that follow the program name.
pub fn parse(args: impl IntoIterator<Item = OsString>) -> Result<Command, UsageError> {
    let mut args = Args::new(args);
    match args.next() {
        None => Err(UsageError::new("missing command")),
        Some(Arg::Flag(flag, inline)) if flag == "-h" || flag == "--help" => {
            no_value(&flag, inline)?;
            Ok(Command::Help)
        }
        Some(Arg::Flag(flag, _)) => Err(UsageError::new(format!("unknown option `{flag}`"))),
        Some(Arg::Positional(command)) => match command.to_str() {
            // Any topic after `help` gets the same text.
            Some("help") => Ok(Command::Help),
            Some("package") => parse_package(&mut args),
            _ => Err(UsageError::new(format!(
                "unknown command `{}`",
                command.to_string_lossy()
            ))),
        },
    }
}

/// Parses the arguments of `coda package`.
fn parse_package(args: &mut Args) -> Result<Command, UsageError> {
    let mut binary = None;
    let mut output = None;
    while let Some(arg) = args.next() {
        match arg {
            Arg::Flag(flag, inline) if flag == "-h" || flag == "--help" => {
                no_value(&flag, inline)?;
                return Ok(Command::Help);
            }
            Arg::Flag(flag, inline) if flag == "-o" || flag == "--output" => {
                if output.is_some() {
                    return Err(UsageError::new(format!("`{flag}` given twice")));
                }
                output = Some(PathBuf::from(args.value(&flag, inline)?));
            }
            Arg::Flag(flag, _) => {
                return Err(UsageError::new(format!(
                    "unknown option `{flag}` for `coda package`"
                )));
            }
            Arg::Positional(path) if binary.is_none() => binary = Some(PathBuf::from(path)),
            Arg::Positional(extra) => {
                return Err(UsageError::new(format!(
                    "unexpected argument `{}`: `coda package` takes one binary",
                    extra.to_string_lossy()
                )));
            }
        }
    }
    let binary = binary
        .ok_or_else(|| UsageError::new("`coda package` needs the path of the binary to package"))?;
    Ok(Command::Package(PackageArgs { binary, output }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Parses a command line given as string slices.
    fn parse_strs(args: &[&str]) -> Result<Command, UsageError> {
        parse(args.iter().map(OsString::from))
    }

    /// Builds the expected `package` command.
    fn package(binary: &str, output: Option<&str>) -> Command {
        Command::Package(PackageArgs {
            binary: binary.into(),
            output: output.map(PathBuf::from),
        })
    }

    /// Every spelling of the output flag, before or after the binary.
    #[test]
    fn package_forms() {
        assert_eq!(parse_strs(&["package", "app"]), Ok(package("app", None)));
        for args in [
            &["package", "app", "-o", "x.zip"][..],
            &["package", "-o", "x.zip", "app"],
            &["package", "app", "--output", "x.zip"],
            &["package", "--output=x.zip", "app"],
        ] {
            assert_eq!(
                parse_strs(args),
                Ok(package("app", Some("x.zip"))),
                "{args:?}"
            );
        }
        assert_eq!(
            parse_strs(&["package", "--", "-weird-name"]),
            Ok(package("-weird-name", None))
        );
        assert_eq!(
            parse_strs(&["package", "-o", "-", "app"]),
            Ok(package("app", Some("-")))
        );
    }

    /// Help is reachable in every usual way.
    #[test]
    fn help_forms() {
        for args in [
            &["--help"][..],
            &["-h"],
            &["help"],
            &["help", "package"],
            &["package", "--help"],
            &["package", "app", "-h"],
        ] {
            assert_eq!(parse_strs(args), Ok(Command::Help), "{args:?}");
        }
    }

    /// Mistakes give one line naming the problem, with the usage hint.
    #[test]
    fn usage_errors() {
        let cases: [(&[&str], &str); 9] = [
            (&[], "missing command"),
            (&["pakage", "app"], "unknown command `pakage`"),
            (&["--verbose"], "unknown option `--verbose`"),
            (
                &["package"],
                "`coda package` needs the path of the binary to package",
            ),
            (&["package", "app", "-o"], "`-o` needs a value"),
            (
                &["package", "app", "--output", "--"],
                "`--output` needs a value",
            ),
            (
                &["package", "app", "--zip"],
                "unknown option `--zip` for `coda package`",
            ),
            (
                &["package", "a", "b"],
                "unexpected argument `b`: `coda package` takes one binary",
            ),
            (&["package", "a", "-o", "x", "-o", "y"], "`-o` given twice"),
        ];
        for (args, message) in cases {
            let err = parse_strs(args).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("{message} (run `coda --help` for usage)"),
                "{args:?}"
            );
            assert!(!err.to_string().contains('\n'));
        }
        assert_eq!(
            parse_strs(&["--help=yes"]).unwrap_err().message,
            "`--help` takes no value"
        );
    }
}
