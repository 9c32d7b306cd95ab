//! The errors of the `coda` command: [`PackageError`] for `coda package`,
//! and [`Error`], the top-level error that `main` prints and turns into the
//! exit status (2 for a usage mistake, 1 for anything else).
//!
//! Each message is one line that names the file or the operation, says what
//! is wrong and what to do about it, and says only that: the cause (an I/O
//! error, the ELF parser's finding, the emulator's error) is the `source()`,
//! never part of the message too. [`report_line`] is the one printer: it
//! walks the chain once, so each layer appears exactly once.

use std::error::Error as StdError;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::UsageError;
use crate::glibc::{AL2023_GLIBC, Unmet};

/// The advice given whenever the binary is not a Lambda-compatible ELF.
const BUILD_HINT: &str =
    "build with --target x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu";

/// Why `coda package` refused or failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PackageError {
    /// The binary could not be read: missing, unreadable, or a directory.
    Read {
        /// The binary's path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file is not an ELF file at all (a script, a Mach-O or PE binary…).
    NotElf {
        /// The binary's path.
        path: PathBuf,
    },
    /// The file is a 32-bit ELF.
    Not64Bit {
        /// The binary's path.
        path: PathBuf,
    },
    /// The file is a big-endian ELF.
    BigEndian {
        /// The binary's path.
        path: PathBuf,
    },
    /// The file is an ELF but not a runnable program.
    NotExecutable {
        /// The binary's path.
        path: PathBuf,
        /// What it is instead, e.g. "a relocatable object file (.o)".
        kind: String,
    },
    /// The file is built for an architecture Lambda does not offer.
    UnsupportedArchitecture {
        /// The binary's path.
        path: PathBuf,
        /// Its `e_machine` value.
        machine: u16,
    },
    /// The ELF structure is truncated or inconsistent.
    Malformed {
        /// The binary's path.
        path: PathBuf,
        /// What the parser found wrong (the source).
        detail: crate::elf::ElfError,
    },
    /// The binary asks for a program interpreter (dynamic loader) that provided.al2023
    /// does not have, e.g. one in a Nix store or musl's.
    ForeignInterpreter {
        /// The binary's path.
        path: PathBuf,
        /// The interpreter it names.
        found: String,
        /// The loader al2023 has for its architecture.
        expected: &'static str,
    },
    /// The binary needs glibc versions that provided.al2023 lacks.
    GlibcTooNew {
        /// The binary's path.
        path: PathBuf,
        /// The missing versions with the symbols that need them.
        unmet: Vec<Unmet>,
    },
    /// The file is a script (`#!`): `coda package` packages one compiled binary, and a
    /// script bootstrap needs the files it runs too.
    Script {
        /// The script's path.
        path: PathBuf,
        /// Its `#!` line, without the `#!`.
        interpreter: String,
    },
    /// The binary needs shared libraries that provided.al2023 does not have.
    MissingLibraries {
        /// The binary's path.
        path: PathBuf,
        /// The sonames it needs that are not there.
        missing: Vec<String>,
    },
    /// The output exists and `--force` was not given.
    OutputExists {
        /// The output path.
        path: PathBuf,
    },
    /// The output path is the binary itself.
    WouldOverwriteInput {
        /// The binary's (and output's) path.
        path: PathBuf,
    },
    /// The binary is too large for a zip without zip64.
    TooLarge {
        /// The binary's path.
        path: PathBuf,
        /// Which limit it exceeds (the source).
        detail: crate::archive::TooLarge,
    },
    /// The output's directory does not exist.
    OutputDirMissing {
        /// The output path.
        path: PathBuf,
        /// Its missing parent directory.
        dir: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The zip could not be written.
    Write {
        /// The output path.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
}

impl fmt::Display for PackageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Read { path, .. } => write!(
                f,
                "cannot read {} (give the path of the compiled binary, e.g. target/x86_64-unknown-linux-gnu/release/<name>)",
                path.display()
            ),
            Self::NotElf { path } => write!(
                f,
                "not an ELF executable: {} (`coda package` packages a compiled Linux binary; {BUILD_HINT})",
                path.display()
            ),
            Self::Script { path, interpreter } => write!(
                f,
                "{} is a script (#!{interpreter}): provided.al2023 can run a script bootstrap, but `coda package` packages one compiled binary, and a zip of the script alone would lack the files it runs; zip the script as `bootstrap` with what it needs yourself (`zip function.zip bootstrap …`, mode 0755), or package the compiled binary it starts",
                path.display()
            ),
            Self::MissingLibraries { path, missing } => write!(
                f,
                "{} needs shared libraries that provided.al2023 does not have: {} (it has glibc's libraries and libgcc_s.so.1), so it would fail at cold start with \"error while loading shared libraries\": link them statically (a `static` or `vendored` feature of the crate that needs them, rustls instead of OpenSSL, or a musl target), ship them in a layer (Lambda adds /opt/lib to LD_LIBRARY_PATH), or, if the runtime has them, say so with --allow-library <name>",
                path.display(),
                missing.join(", ")
            ),
            Self::OutputExists { path } => write!(
                f,
                "refusing to overwrite {}, which exists: pass --force to replace it, or choose another output with -o",
                path.display()
            ),
            Self::Not64Bit { path } => write!(
                f,
                "{} is a 32-bit ELF; provided.al2023 runs 64-bit binaries: {BUILD_HINT}",
                path.display()
            ),
            Self::BigEndian { path } => write!(
                f,
                "{} is a big-endian ELF; provided.al2023 runs little-endian x86_64 and arm64 binaries: {BUILD_HINT}",
                path.display()
            ),
            Self::NotExecutable { path, kind } => write!(
                f,
                "{} is not an executable but {kind}; package the linked program, e.g. target/x86_64-unknown-linux-gnu/release/<name>",
                path.display()
            ),
            Self::UnsupportedArchitecture { path, machine } => write!(
                f,
                "{} is built for {} (ELF machine {machine}); Lambda runs x86_64 and arm64 (aarch64) only: {BUILD_HINT}",
                path.display(),
                machine_name(*machine)
            ),
            Self::Malformed { path, .. } => write!(
                f,
                "{} is a damaged or truncated ELF file (rebuild it, or check that it was copied whole)",
                path.display()
            ),
            Self::ForeignInterpreter {
                path,
                found,
                expected,
            } => write!(
                f,
                "{} is loaded by {found}, which provided.al2023 does not have (it has {expected}): \
                 build on a glibc system or link statically (e.g. --target x86_64-unknown-linux-musl)",
                path.display()
            ),
            Self::GlibcTooNew { path, unmet } => {
                write!(
                    f,
                    "{} needs a newer glibc than provided.al2023's {AL2023_GLIBC}: ",
                    path.display()
                )?;
                for (i, need) in unmet.iter().enumerate() {
                    if i > 0 {
                        f.write_str("; ")?;
                    }
                    write!(f, "{need}")?;
                }
                write!(
                    f,
                    "; link against glibc {AL2023_GLIBC} or older (build on Amazon Linux 2023, or with `cargo zigbuild --target <triple>.{AL2023_GLIBC}`), or build a static binary for a musl target"
                )
            }
            Self::WouldOverwriteInput { path } => write!(
                f,
                "refusing to write the zip over the binary itself ({}); choose another output with -o",
                path.display()
            ),
            Self::TooLarge { path, .. } => write!(
                f,
                "cannot package {} (Lambda accepts at most 250 MB unzipped anyway)",
                path.display()
            ),
            Self::OutputDirMissing { path, dir, .. } => write!(
                f,
                "cannot write {} (directory {} does not exist: create it or choose another output with -o)",
                path.display(),
                dir.display()
            ),
            Self::Write { path, .. } => write!(
                f,
                "cannot write {} (check that the path names a file in a writable directory)",
                path.display()
            ),
        }
    }
}

impl StdError for PackageError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Read { source, .. }
            | Self::OutputDirMissing { source, .. }
            | Self::Write { source, .. } => Some(source),
            Self::Malformed { detail, .. } => Some(detail),
            Self::TooLarge { detail, .. } => Some(detail),
            Self::NotElf { .. }
            | Self::Not64Bit { .. }
            | Self::BigEndian { .. }
            | Self::NotExecutable { .. }
            | Self::UnsupportedArchitecture { .. }
            | Self::ForeignInterpreter { .. }
            | Self::GlibcTooNew { .. }
            | Self::Script { .. }
            | Self::MissingLibraries { .. }
            | Self::OutputExists { .. }
            | Self::WouldOverwriteInput { .. } => None,
        }
    }
}

/// A readable name for an ELF `e_machine` value.
pub fn machine_name(machine: u16) -> &'static str {
    match machine {
        2 => "SPARC",
        3 => "x86 (32-bit)",
        8 => "MIPS",
        20 => "PowerPC",
        21 => "PowerPC64",
        22 => "IBM S/390",
        40 => "ARM (32-bit)",
        43 => "SPARC V9",
        50 => "IA-64",
        62 => "x86_64",
        183 => "aarch64",
        243 => "RISC-V",
        258 => "LoongArch",
        _ => "an unknown architecture",
    }
}

/// Everything that can make the `coda` command fail.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The command line is wrong (exit status 2).
    Usage(UsageError),
    /// `coda package` refused or failed.
    Package(PackageError),
    /// Standard output could not be written (e.g. a closed pipe).
    Stdout(io::Error),
    /// `coda run` failed.
    Run(RunError),
    /// `coda invoke` failed.
    Invoke(InvokeError),
    /// `coda wrap` could not run the runtime.
    Wrap(crate::wrap::WrapError),
    /// The function reported an error (`coda run --invoke`, `coda invoke`): exit status 1,
    /// nothing more to print.
    FunctionFailed,
}

/// Why `coda run` stopped.
#[derive(Debug)]
#[non_exhaustive]
pub enum RunError {
    /// The emulator could not listen (the invoke port is busy, most often).
    Listen {
        /// The invoke port asked for, if any.
        port: Option<u16>,
        /// The error.
        source: io::Error,
    },
    /// The supervisor thread could not start.
    Supervise(io::Error),
    /// No command was given (the parser prevents this).
    NoCommand,
    /// The function could not start, or exited before it was ready (the emulator's error is
    /// the source).
    Function(coda_emulator::ReadyError),
    /// The emulator stopped while an invocation was pending (the source says how).
    Wait(coda_emulator::WaitError),
    /// The termination signals could not be set up.
    Signals(io::Error),
    /// The `--invoke` event is not JSON (the Invoke API refuses it too).
    EventNotJson {
        /// The parser's error.
        source: serde_json::Error,
    },
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Listen {
                port: Some(port),
                source,
            } if source.kind() == io::ErrorKind::AddrInUse => write!(
                f,
                "the emulator cannot use port {port} (pick another with --port; another `coda run`, cargo lambda or the AWS emulator may hold it)"
            ),
            Self::Listen { port, .. } => match port {
                Some(port) => write!(f, "the emulator cannot start on port {port}"),
                None => f.write_str("the emulator cannot start"),
            },
            Self::Supervise(_) => f.write_str("cannot start the thread that runs the function"),
            Self::NoCommand => f.write_str("no command to run the function"),
            Self::Function(_) => f.write_str(
                "the function did not get ready (check the command after `--`, and the function's output above)",
            ),
            Self::Wait(_) => f.write_str("the invocation did not complete"),
            Self::Signals(_) => f.write_str(
                "cannot set up the signal handling that stops the function with `coda`",
            ),
            Self::EventNotJson { .. } => f.write_str(
                "the `--invoke` event is not JSON, and Lambda's Invoke API takes only JSON (to test raw bytes, use coda_emulator::Invoke in a test)",
            ),
        }
    }
}

impl StdError for RunError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::Listen { source, .. } | Self::Supervise(source) | Self::Signals(source) => {
                Some(source)
            }
            Self::EventNotJson { source } => Some(source),
            Self::Function(error) => Some(error),
            Self::Wait(error) => Some(error),
            Self::NoCommand => None,
        }
    }
}

/// Why `coda invoke` failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum InvokeError {
    /// The event file could not be read.
    DataFile {
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Nothing answered at the URL (is `coda run` running?).
    Connect {
        /// The URL.
        url: String,
        /// The error: the I/O error when the HTTP client had one, else the client's own.
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The answer's body could not be read.
    Body {
        /// The URL.
        url: String,
        /// The error: the I/O error when the HTTP client had one, else the client's own.
        source: Box<dyn StdError + Send + Sync>,
    },
    /// The invoke API answered with an error status.
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: u16,
        /// The body.
        body: String,
    },
}

impl fmt::Display for InvokeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::DataFile { path, .. } => {
                write!(f, "cannot read the event file {}", path.display())
            }
            Self::Connect { url, .. } => {
                write!(f, "no answer from {url} (is `coda run` running there?)")
            }
            Self::Body { url, .. } => {
                write!(
                    f,
                    "cannot read the answer from {url} (did `coda run` stop?)"
                )
            }
            Self::Status { url, status, body } => {
                write!(f, "{url} answered {status}: {}", body.trim())
            }
        }
    }
}

impl StdError for InvokeError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            Self::DataFile { source, .. } => Some(source),
            Self::Connect { source, .. } | Self::Body { source, .. } => Some(source.as_ref()),
            Self::Status { .. } => None,
        }
    }
}

impl Error {
    /// The process exit status for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Self::Usage(_) => ExitCode::from(2),
            _ => ExitCode::FAILURE,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(error) => error.fmt(f),
            Self::Package(error) => error.fmt(f),
            Self::Stdout(_) => f.write_str("cannot write to standard output"),
            Self::Run(error) => error.fmt(f),
            Self::Invoke(error) => error.fmt(f),
            Self::Wrap(error) => error.fmt(f),
            Self::FunctionFailed => f.write_str("the function reported an error"),
        }
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        // The wrapping variants are transparent: they show the inner error's
        // Display, so their source is the inner error's source, not the inner
        // error itself (which would print its message twice).
        match self {
            Self::Usage(error) => error.source(),
            Self::Package(error) => error.source(),
            Self::Stdout(error) => Some(error),
            Self::Run(error) => error.source(),
            Self::Invoke(error) => error.source(),
            Self::Wrap(error) => error.source(),
            Self::FunctionFailed => None,
        }
    }
}

/// The one line `main` prints for a failed command: `coda: `, the error, then
/// each cause down the `source()` chain, joined by `: `. Each layer's message
/// says only its own part, so each appears exactly once.
pub fn report_line(error: &dyn StdError) -> String {
    let mut line = format!("coda: {error}");
    let mut cause = error.source();
    while let Some(next) = cause {
        line.push_str(": ");
        line.push_str(&next.to_string());
        cause = next.source();
    }
    line
}

impl From<UsageError> for Error {
    fn from(error: UsageError) -> Self {
        Self::Usage(error)
    }
}

impl From<PackageError> for Error {
    fn from(error: PackageError) -> Self {
        Self::Package(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::ElfError;

    /// How many times `part` occurs in `line`.
    fn count(line: &str, part: &str) -> usize {
        line.matches(part).count()
    }

    /// A bootstrap error wrapping a bootstrap error wrapping an I/O error: `coda package`'s
    /// output-write failure under a layer of its own (the shape any future wrapper takes).
    #[derive(Debug)]
    struct Layer(PackageError);

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot package target/app")
        }
    }

    impl StdError for Layer {
        fn source(&self) -> Option<&(dyn StdError + 'static)> {
            Some(&self.0)
        }
    }

    /// Three layers, three distinct messages: the printer shows each exactly once, outermost
    /// first, joined by `: `, on one line.
    #[test]
    fn report_line_prints_three_levels_once() {
        let error = Layer(PackageError::Write {
            path: "app.zip".into(),
            source: io::Error::new(io::ErrorKind::PermissionDenied, "permission denied"),
        });
        let line = report_line(&error);
        assert_eq!(
            line,
            "coda: cannot package target/app: cannot write app.zip (check that the path names a \
             file in a writable directory): permission denied"
        );
        for part in [
            "cannot package target/app",
            "cannot write app.zip",
            "permission denied",
        ] {
            assert_eq!(count(&line, part), 1, "{part:?} once in {line}");
        }
        assert!(!line.contains('\n'));
    }

    /// The command's own chains through the transparent top-level [`Error`]: the wrapped
    /// error's message once, then its cause once.
    #[test]
    fn report_line_through_the_top_level_error() {
        let cases = [
            (
                Error::Run(RunError::Listen {
                    port: Some(9000),
                    source: io::Error::new(io::ErrorKind::AddrInUse, "address in use"),
                }),
                "coda: the emulator cannot use port 9000 (pick another with --port; another \
                 `coda run`, cargo lambda or the AWS emulator may hold it): address in use",
            ),
            (
                Error::from(PackageError::Read {
                    path: "target/app".into(),
                    source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
                }),
                "coda: cannot read target/app (give the path of the compiled binary, e.g. \
                 target/x86_64-unknown-linux-gnu/release/<name>): no such file",
            ),
            (
                Error::from(PackageError::Malformed {
                    path: "app".into(),
                    detail: ElfError::Malformed("the string table is empty".into()),
                }),
                "coda: app is a damaged or truncated ELF file (rebuild it, or check that it was \
                 copied whole): the string table is empty",
            ),
            (
                Error::Invoke(InvokeError::DataFile {
                    path: "event.json".into(),
                    source: io::Error::new(io::ErrorKind::NotFound, "no such file"),
                }),
                "coda: cannot read the event file event.json: no such file",
            ),
            (
                Error::Run(RunError::Wait(coda_emulator::WaitError::Shutdown)),
                "coda: the invocation did not complete: the emulator was shut down",
            ),
            (
                Error::Stdout(io::Error::new(io::ErrorKind::BrokenPipe, "broken pipe")),
                "coda: cannot write to standard output: broken pipe",
            ),
        ];
        for (error, expected) in cases {
            let line = report_line(&error);
            assert_eq!(line, expected);
            let mut level: Option<&dyn StdError> = Some(&error);
            while let Some(this) = level {
                let text = this.to_string();
                assert_eq!(count(&line, &text), 1, "{text:?} once in {line}");
                level = this.source();
            }
        }
    }

    /// Every variant that has a cause returns it as its source, and its message does not
    /// contain the cause's text.
    #[test]
    fn causes_are_sources_not_message_text() {
        let io_error = || io::Error::other("the-cause-text");
        let package = [
            PackageError::Read {
                path: "a".into(),
                source: io_error(),
            },
            PackageError::OutputDirMissing {
                path: "d/a.zip".into(),
                dir: "d".into(),
                source: io_error(),
            },
            PackageError::Write {
                path: "a.zip".into(),
                source: io_error(),
            },
            PackageError::Malformed {
                path: "a".into(),
                detail: ElfError::Malformed("the-cause-text".into()),
            },
            PackageError::TooLarge {
                path: "a".into(),
                detail: crate::archive::TooLarge {
                    what: "the-cause-text",
                    value: 2,
                    limit: 1,
                },
            },
        ];
        let run = [
            RunError::Listen {
                port: Some(1),
                source: io_error(),
            },
            RunError::Listen {
                port: None,
                source: io_error(),
            },
            RunError::Supervise(io_error()),
        ];
        let invoke = [
            InvokeError::DataFile {
                path: "e.json".into(),
                source: io_error(),
            },
            InvokeError::Connect {
                url: "http://h".into(),
                source: Box::new(io_error()),
            },
            InvokeError::Body {
                url: "http://h".into(),
                source: Box::new(io_error()),
            },
        ];
        let errors = package
            .into_iter()
            .map(Error::Package)
            .chain(run.into_iter().map(Error::Run))
            .chain(invoke.into_iter().map(Error::Invoke))
            .chain([Error::Stdout(io_error())]);
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains("the-cause-text"), "{message}");
            let line = report_line(&error);
            assert_eq!(count(&line, "the-cause-text"), 1, "{line}");
        }
    }

    /// Messages are single lowercase-led lines.
    #[test]
    fn messages_are_one_lowercase_line() {
        let errors = [
            PackageError::NotElf { path: "a".into() },
            PackageError::Not64Bit { path: "a".into() },
            PackageError::BigEndian { path: "a".into() },
            PackageError::UnsupportedArchitecture {
                path: "a".into(),
                machine: 40,
            },
            PackageError::WouldOverwriteInput { path: "a".into() },
        ];
        for error in errors {
            let message = error.to_string();
            assert!(!message.contains('\n'), "{message}");
            assert!(!message.starts_with(char::is_uppercase), "{message}");
            assert!(error.source().is_none());
        }
    }

    /// The architecture message names the machine found and the fix.
    #[test]
    fn architecture_message() {
        let error = PackageError::UnsupportedArchitecture {
            path: "app".into(),
            machine: 243,
        };
        assert_eq!(
            error.to_string(),
            "app is built for RISC-V (ELF machine 243); Lambda runs x86_64 and arm64 (aarch64) only: build with --target x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu"
        );
    }

    /// Usage errors exit with 2, everything else with 1.
    #[test]
    fn exit_codes() {
        let usage = Error::Usage(crate::cli::parse(Vec::new()).unwrap_err());
        assert_eq!(usage.exit_code(), ExitCode::from(2));
        let package = Error::from(PackageError::NotElf { path: "x".into() });
        assert_eq!(package.exit_code(), ExitCode::FAILURE);
    }
}
