//! `coda package`: reads a compiled binary, checks that Lambda's
//! `provided.al2023` runtime can run it (a 64-bit little-endian ELF
//! executable for x86_64 or aarch64, needing at most glibc 2.34 and no
//! shared library al2023 lacks, [`crate::libraries`]), and writes the
//! deployable zip holding it as `bootstrap`, mode 0755. It refuses to
//! overwrite an existing zip without `--force`, and warns about a debug
//! build.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::archive::{self, Entry};
use crate::cli::{LayerArgs, PackageArgs};
use crate::elf::{self, Elf, ElfError};
use crate::error::PackageError;
use crate::glibc::{AL2023_GLIBC, Check, Requirement, Version};
use crate::libraries;

/// The file name Lambda's `provided` runtimes execute.
const ENTRY_NAME: &str = "bootstrap";
/// The entry's Unix mode: executable by everyone.
const ENTRY_MODE: u32 = 0o755;
/// The output name used when the binary's path has no file name.
const FALLBACK_OUTPUT: &str = "bootstrap.zip";
/// The layer's zip unless `-o` says otherwise.
const LAYER_OUTPUT: &str = "coda-layer.zip";
/// Where the layer holds `coda` (Lambda puts a layer's `bin/` on `PATH` as `/opt/bin`).
const LAYER_CODA: &str = "bin/coda";
/// The layer's `AWS_LAMBDA_EXEC_WRAPPER` script: `/opt/entry.sh`, where aws-lambda-post-runner
/// installs its own.
const LAYER_SCRIPT: &str = "entry.sh";
/// The script's text (`bootstrap/layer/entry.sh`).
const LAYER_SCRIPT_TEXT: &str = include_str!("../layer/entry.sh");
/// A directory's file type and mode (`S_IFDIR | 0755`).
const DIRECTORY_MODE: u32 = 0o040_755;

/// The two instruction sets Lambda offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Architecture {
    /// x86_64 (AMD64); Lambda's `x86_64`.
    X86_64,
    /// aarch64; Lambda's `arm64`.
    Arm64,
}

impl Architecture {
    /// The name Rust targets and ELF tools use.
    pub fn elf_name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "aarch64",
        }
    }

    /// The name to choose in the Lambda function's configuration.
    pub fn lambda_name(self) -> &'static str {
        match self {
            Self::X86_64 => "x86_64",
            Self::Arm64 => "arm64",
        }
    }
}

/// How the binary is linked, as far as its glibc requirement goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    /// No program interpreter: the binary needs no shared C library.
    Static,
    /// Loaded by a program interpreter (e.g. `/lib64/ld-linux-x86-64.so.2`).
    Dynamic {
        /// The interpreter's path.
        interpreter: String,
    },
}

/// What the checks found about a binary that passed them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspection {
    /// The binary's architecture.
    pub architecture: Architecture,
    /// How it is linked.
    pub linkage: Linkage,
    /// Its glibc version needs (all met by provided.al2023).
    pub glibc: Check,
    /// The shared libraries it needs (`DT_NEEDED`), all there.
    pub libraries: Vec<String>,
}

/// Checks that `data`, read from `path`, can run on provided.al2023; `allowed` are
/// libraries the user says the runtime has.
pub fn inspect(path: &Path, data: &[u8], allowed: &[String]) -> Result<Inspection, PackageError> {
    let path = || path.to_path_buf();
    let elf = Elf::parse(data).map_err(|error| match error {
        ElfError::NotElf => match script_interpreter(data) {
            Some(interpreter) => PackageError::Script {
                path: path(),
                interpreter,
            },
            None => PackageError::NotElf { path: path() },
        },
        ElfError::Not64Bit => PackageError::Not64Bit { path: path() },
        ElfError::BigEndian => PackageError::BigEndian { path: path() },
        detail => PackageError::Malformed {
            path: path(),
            detail,
        },
    })?;
    let malformed = |detail| PackageError::Malformed {
        path: path(),
        detail,
    };
    let interpreter = elf.interpreter().map_err(malformed)?;

    let not_executable = |kind: &str| PackageError::NotExecutable {
        path: path(),
        kind: kind.to_owned(),
    };
    match elf.file_type {
        elf::ET_EXEC => {}
        // A position-independent executable has an interpreter, or when
        // static-pie, the linker's PIE flag; a shared library has neither
        // (its entry point, often set, proves nothing).
        elf::ET_DYN if interpreter.is_some() => {}
        elf::ET_DYN if elf.entry != 0 && elf.is_flagged_pie().map_err(malformed)? => {}
        elf::ET_DYN => {
            return Err(not_executable(
                "a shared library (no program interpreter, not flagged as a position-independent executable)",
            ));
        }
        elf::ET_REL => return Err(not_executable("a relocatable object file (.o)")),
        elf::ET_CORE => return Err(not_executable("a core dump")),
        other => return Err(not_executable(&format!("an ELF file of type {other}"))),
    }

    let architecture = match elf.machine {
        elf::EM_X86_64 => Architecture::X86_64,
        elf::EM_AARCH64 => Architecture::Arm64,
        machine => {
            return Err(PackageError::UnsupportedArchitecture {
                path: path(),
                machine,
            });
        }
    };

    // A loader that al2023 does not have (a Nix store path, musl's) fails at exec, before
    // any code runs: Lambda reports only "Runtime.InvalidEntrypoint".
    if let Some(found) = &interpreter {
        let expected = match architecture {
            Architecture::X86_64 => "/lib64/ld-linux-x86-64.so.2",
            Architecture::Arm64 => "/lib/ld-linux-aarch64.so.1",
        };
        if found != expected {
            return Err(PackageError::ForeignInterpreter {
                path: path(),
                found: found.clone(),
                expected,
            });
        }
    }

    let needed = elf.needed_libraries().map_err(malformed)?;
    let missing = libraries::missing(&needed, allowed);
    if !missing.is_empty() {
        return Err(PackageError::MissingLibraries {
            path: path(),
            missing,
        });
    }
    let glibc = Check::al2023(&elf.version_needs().map_err(malformed)?);
    if !glibc.unmet.is_empty() {
        return Err(PackageError::GlibcTooNew {
            path: path(),
            unmet: glibc.unmet,
        });
    }
    let linkage = match interpreter {
        None => Linkage::Static,
        Some(interpreter) => Linkage::Dynamic { interpreter },
    };
    Ok(Inspection {
        architecture,
        linkage,
        glibc,
        libraries: needed,
    })
}

/// The interpreter named by a `#!` line at the start of `data`.
fn script_interpreter(data: &[u8]) -> Option<String> {
    let rest = data.strip_prefix(b"#!")?;
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    Some(String::from_utf8_lossy(line).trim().to_owned())
}

/// Why `binary` looks like an unoptimised build: it sits in a cargo `debug` profile
/// directory (`target/debug/…`, `target/<triple>/debug/…`, or their `deps/`).
fn debug_build(binary: &Path) -> bool {
    let mut dirs = binary
        .parent()
        .into_iter()
        .flat_map(Path::ancestors)
        .take(2);
    dirs.any(|dir| dir.file_name().is_some_and(|name| name == "debug"))
}

/// What `coda package` did, printed on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// The binary packaged.
    pub binary: PathBuf,
    /// The zip written.
    pub output: PathBuf,
    /// What the checks found.
    pub inspection: Inspection,
    /// The binary's size in bytes.
    pub binary_size: u64,
    /// The zip's size in bytes.
    pub zip_size: u64,
    /// What the user should know (a debug build), printed on stderr.
    pub warnings: Vec<String>,
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "packaged {} as {ENTRY_NAME} (mode 0755) in {}",
            self.binary.display(),
            self.output.display()
        )?;
        write_checks(f, &self.inspection, "the Lambda function")?;
        writeln!(
            f,
            "  binary size: {} bytes ({})",
            self.binary_size,
            human_size(self.binary_size)
        )?;
        writeln!(
            f,
            "  zip size: {} bytes ({})",
            self.zip_size,
            human_size(self.zip_size)
        )
    }
}

/// The lines that say what the checks found: architecture, libraries, glibc; `what` is what
/// the architecture is chosen for.
fn write_checks(f: &mut fmt::Formatter<'_>, inspection: &Inspection, what: &str) -> fmt::Result {
    let arch = inspection.architecture;
    writeln!(
        f,
        "  architecture: {} (choose {} for {what})",
        arch.elf_name(),
        arch.lambda_name()
    )?;
    if inspection.libraries.is_empty() {
        writeln!(f, "  shared libraries: none")?;
    } else {
        writeln!(
            f,
            "  shared libraries: {} (all in provided.al2023)",
            inspection.libraries.join(", ")
        )?;
    }
    let glibc = &inspection.glibc;
    match (&inspection.linkage, glibc.newest()) {
        (Linkage::Static, None) => writeln!(f, "  glibc requirement: none (statically linked)"),
        (Linkage::Dynamic { interpreter }, None) => writeln!(
            f,
            "  glibc requirement: no versioned glibc symbols (interpreter {interpreter})"
        ),
        (_, Some(newest)) => writeln!(
            f,
            "  glibc requirement: {newest} (ok for provided.al2023, which has {AL2023_GLIBC}; checked {})",
            glibc.required.join(", ")
        ),
    }
}

/// What `coda package --layer` did, printed on success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerReport {
    /// The `coda` binary put in the layer.
    pub coda: PathBuf,
    /// The zip written.
    pub output: PathBuf,
    /// What the checks found about `coda`.
    pub inspection: Inspection,
    /// The zip's size in bytes.
    pub zip_size: u64,
    /// What the user should know (a debug build), printed on stderr.
    pub warnings: Vec<String>,
}

impl fmt::Display for LayerReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "packaged {} as {LAYER_CODA} and the wrapper script {LAYER_SCRIPT} (both mode 0755) in {}",
            self.coda.display(),
            self.output.display()
        )?;
        write_checks(f, &self.inspection, "the layer and the function")?;
        let al2_glibc = Requirement::Release(Version::new(2, 26, 0));
        let needs_newer_than_al2 = self
            .inspection
            .glibc
            .required
            .iter()
            .filter_map(|name| Requirement::from_name(name))
            .any(|need| !need.is_met_by(Version::new(2, 26, 0)) && need != al2_glibc);
        if needs_newer_than_al2 {
            writeln!(
                f,
                "  runtimes: those on Amazon Linux 2023 (provided.al2023, python3.12 and later, nodejs20.x and later, java21 and later…); for those on Amazon Linux 2 (glibc 2.26) build coda for a musl target"
            )?;
        }
        writeln!(
            f,
            "  zip size: {} bytes ({})",
            self.zip_size,
            human_size(self.zip_size)
        )?;
        writeln!(
            f,
            "  use: publish it as a layer, add it to the function, and set AWS_LAMBDA_EXEC_WRAPPER=/opt/{LAYER_SCRIPT} and AWS_LAMBDA_POST_RUNNER_COMMAND=<your command>"
        )
    }
}

/// Runs `coda package --layer`: check `coda` (this one unless another is given), write the
/// layer's zip with `bin/coda` and the wrapper script, report.
pub fn package_layer(args: &LayerArgs) -> Result<LayerReport, PackageError> {
    let coda = match &args.coda {
        Some(path) => path.clone(),
        None => std::env::current_exe().map_err(|source| PackageError::Read {
            path: PathBuf::from("/proc/self/exe"),
            source,
        })?,
    };
    let data = fs::read(&coda).map_err(|source| PackageError::Read {
        path: coda.clone(),
        source,
    })?;
    let inspection = inspect(&coda, &data, &args.allow_libraries)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| PathBuf::from(LAYER_OUTPUT));
    if same_file(&coda, &output) {
        return Err(PackageError::WouldOverwriteInput { path: output });
    }
    if !args.force && output.exists() {
        return Err(PackageError::OutputExists { path: output });
    }
    let mut warnings = Vec::new();
    if debug_build(&coda) {
        let size = human_size(u64::try_from(data.len()).unwrap_or(u64::MAX));
        warnings.push(format!(
            "{} is a debug build ({size}, unoptimised): a layer holds it on every cold start; package a release build (`cargo build --release -p coda-bootstrap`, or `cargo install coda-bootstrap`)",
            coda.display()
        ));
    }
    let zip = archive::zip(&[
        Entry {
            name: "bin/",
            mode: DIRECTORY_MODE,
            data: &[],
        },
        Entry {
            name: LAYER_CODA,
            mode: ENTRY_MODE,
            data: &data,
        },
        Entry {
            name: LAYER_SCRIPT,
            mode: ENTRY_MODE,
            data: LAYER_SCRIPT_TEXT.as_bytes(),
        },
    ])
    .map_err(|detail| PackageError::TooLarge {
        path: coda.clone(),
        detail,
    })?;
    write_output(&output, &zip)?;
    Ok(LayerReport {
        coda,
        output,
        inspection,
        zip_size: u64::try_from(zip.len()).unwrap_or(u64::MAX),
        warnings,
    })
}

/// Runs `coda package`: check the binary, write the zip, report.
pub fn package(args: &PackageArgs) -> Result<Report, PackageError> {
    let binary = &args.binary;
    let data = fs::read(binary).map_err(|source| PackageError::Read {
        path: binary.clone(),
        source,
    })?;
    let inspection = inspect(binary, &data, &args.allow_libraries)?;

    let output = args
        .output
        .clone()
        .unwrap_or_else(|| default_output(binary));
    if same_file(binary, &output) {
        return Err(PackageError::WouldOverwriteInput {
            path: output.clone(),
        });
    }
    if !args.force && output.exists() {
        return Err(PackageError::OutputExists { path: output });
    }
    let mut warnings = Vec::new();
    if debug_build(binary) {
        let size = human_size(u64::try_from(data.len()).unwrap_or(u64::MAX));
        warnings.push(format!(
            "{} is a debug build ({size}, unoptimised): it is many times larger and slower to start than a release build; package `cargo build --release` (or the size profile, `--profile size`) for Lambda",
            binary.display()
        ));
    }
    let zip = archive::zip(&[Entry {
        name: ENTRY_NAME,
        mode: ENTRY_MODE,
        data: &data,
    }])
    .map_err(|detail| PackageError::TooLarge {
        path: binary.clone(),
        detail,
    })?;
    write_output(&output, &zip)?;
    Ok(Report {
        binary: binary.clone(),
        output,
        inspection,
        binary_size: u64::try_from(data.len()).unwrap_or(u64::MAX),
        zip_size: u64::try_from(zip.len()).unwrap_or(u64::MAX),
        warnings,
    })
}

/// `./<binary stem>.zip`, in the current directory.
fn default_output(binary: &Path) -> PathBuf {
    match binary.file_stem() {
        Some(stem) => {
            let mut name = stem.to_os_string();
            name.push(".zip");
            PathBuf::from(name)
        }
        None => PathBuf::from(FALLBACK_OUTPUT),
    }
}

/// Whether both paths name the same existing file (through links too).
fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// Writes the zip, telling a missing directory apart from other failures.
fn write_output(path: &Path, bytes: &[u8]) -> Result<(), PackageError> {
    fs::write(path, bytes).map_err(|source| {
        let missing_dir = path
            .parent()
            .filter(|dir| !dir.as_os_str().is_empty() && !dir.exists());
        match missing_dir {
            Some(dir) if source.kind() == io::ErrorKind::NotFound => {
                PackageError::OutputDirMissing {
                    path: path.to_path_buf(),
                    dir: dir.to_path_buf(),
                    source,
                }
            }
            _ => PackageError::Write {
                path: path.to_path_buf(),
                source,
            },
        }
    })
}

/// A size in bytes as a short human-readable figure, e.g. `4.2 MiB`.
fn human_size(bytes: u64) -> String {
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Precision loss is irrelevant for a one-decimal display.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64 / 1024.0;
    let mut unit = "KiB";
    for next in ["MiB", "GiB", "TiB"] {
        if value < 1024.0 {
            break;
        }
        value /= 1024.0;
        unit = next;
    }
    format!("{value:.1} {unit}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::elf::{EM_AARCH64, EM_X86_64, ET_CORE, ET_DYN, ET_REL};
    use crate::testelf::{ElfBuilder, Need};

    /// Inspects bytes under a fixed test path.
    fn check(bytes: &[u8]) -> Result<Inspection, PackageError> {
        inspect(Path::new("app"), bytes, &[])
    }

    /// A dynamic executable needing the usual old versions.
    fn glibc_binary(machine: u16, newest: &str, symbol: &str) -> Vec<u8> {
        ElfBuilder::dynamic(
            machine,
            &[
                Need::new("libc.so.6", &[("GLIBC_2.2.5", 2), (newest, 3)]),
                Need::new("libgcc_s.so.1", &[("GCC_3.0", 4)]),
            ],
            &[
                ("memcpy", 2, true),
                (symbol, 3, true),
                ("_Unwind_Resume", 4, true),
            ],
        )
        .build()
    }

    /// A glibc binary needing at most 2.34 passes, on both architectures.
    #[test]
    fn accepts_al2023_compatible_binaries() {
        let x86 = check(&glibc_binary(EM_X86_64, "GLIBC_2.34", "__libc_start_main")).unwrap();
        assert_eq!(x86.architecture, Architecture::X86_64);
        assert_eq!(x86.glibc.required, ["GLIBC_2.2.5", "GLIBC_2.34"]);
        assert!(matches!(x86.linkage, Linkage::Dynamic { .. }));
        let arm = check(&glibc_binary(EM_AARCH64, "GLIBC_2.17", "memmove")).unwrap();
        assert_eq!(arm.architecture.lambda_name(), "arm64");
    }

    /// A static binary passes with no glibc requirement.
    #[test]
    fn accepts_static_binaries() {
        let found = check(&ElfBuilder::static_exec(EM_X86_64).build()).unwrap();
        assert_eq!(found.linkage, Linkage::Static);
        assert!(found.glibc.required.is_empty());
        // static-pie: ET_DYN without interpreter, flagged as PIE.
        let pie = ElfBuilder::static_exec(EM_X86_64)
            .file_type(ET_DYN)
            .pie_flag()
            .build();
        assert_eq!(check(&pie).unwrap().linkage, Linkage::Static);
    }

    /// A binary needing glibc 2.39 is refused, naming version and symbol.
    #[test]
    fn refuses_newer_glibc() {
        let err = check(&glibc_binary(EM_X86_64, "GLIBC_2.39", "pidfd_getpid")).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains("needs GLIBC_2.39 (al2023 has 2.34): pidfd_getpid"),
            "{message}"
        );
        assert!(!message.contains("memcpy"), "{message}");
        assert!(matches!(err, PackageError::GlibcTooNew { ref unmet, .. } if unmet.len() == 1));
    }

    /// A binary needing a library al2023 lacks is refused, naming it; `--allow-library`
    /// accepts it; glibc's and libgcc's libraries always pass.
    #[test]
    fn refuses_missing_shared_libraries() {
        let bytes = ElfBuilder::dynamic(
            EM_X86_64,
            &[Need::new("libc.so.6", &[("GLIBC_2.2.5", 2)])],
            &[("memcpy", 2, true)],
        )
        .needs_library("libpq.so.5")
        .needs_library("libgcc_s.so.1")
        .build();
        let err = check(&bytes).unwrap_err();
        assert!(
            matches!(&err, PackageError::MissingLibraries { missing, .. } if missing == &["libpq.so.5"]),
            "{err}"
        );
        let message = err.to_string();
        assert!(
            message
                .contains("needs shared libraries that provided.al2023 does not have: libpq.so.5"),
            "{message}"
        );
        assert!(message.contains("--allow-library"), "{message}");
        let allowed = inspect(Path::new("app"), &bytes, &["libpq.so.5".into()]).unwrap();
        assert_eq!(
            allowed.libraries,
            ["libc.so.6", "libpq.so.5", "libgcc_s.so.1"]
        );
    }

    /// A `#!` script is refused for what it is, not as "not an ELF".
    #[test]
    fn refuses_scripts_for_the_true_reason() {
        let err = check(b"#!/bin/sh\nexec ./fn\n").unwrap_err();
        assert!(
            matches!(&err, PackageError::Script { interpreter, .. } if interpreter == "/bin/sh"),
            "{err}"
        );
        assert!(
            err.to_string()
                .contains("provided.al2023 can run a script bootstrap")
        );
    }

    /// Binaries in a cargo `debug` directory are debug builds; release ones are not.
    #[test]
    fn debug_builds() {
        assert!(debug_build(Path::new("target/debug/hello")));
        assert!(debug_build(Path::new("target/debug/deps/hello-1234")));
        assert!(debug_build(Path::new(
            "/w/target/x86_64-unknown-linux-gnu/debug/hello"
        )));
        assert!(!debug_build(Path::new("target/release/hello")));
        assert!(!debug_build(Path::new("target/size/hello")));
        assert!(!debug_build(Path::new("hello")));
    }

    /// Object files, shared libraries and core dumps are not executables.
    #[test]
    fn refuses_non_executables() {
        let cases = [
            (
                ElfBuilder::static_exec(EM_X86_64).file_type(ET_REL),
                "relocatable object",
            ),
            (
                ElfBuilder::static_exec(EM_X86_64).file_type(ET_DYN),
                "a shared library (no program interpreter",
            ),
            (
                ElfBuilder::static_exec(EM_X86_64)
                    .file_type(ET_DYN)
                    .pie_flag()
                    .entry(0),
                "a shared library",
            ),
            (
                ElfBuilder::static_exec(EM_X86_64).file_type(ET_CORE),
                "core dump",
            ),
            (ElfBuilder::static_exec(EM_X86_64).file_type(0), "type 0"),
        ];
        for (builder, expected) in cases {
            let err = check(&builder.build()).unwrap_err();
            assert!(matches!(err, PackageError::NotExecutable { .. }), "{err}");
            assert!(err.to_string().contains(expected), "{err}");
        }
    }

    /// Other architectures are refused, naming the machine found.
    #[test]
    fn refuses_other_architectures() {
        let err = check(&ElfBuilder::static_exec(40).build()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("app is built for ARM (32-bit) (ELF machine 40)")
        );
    }

    /// Non-ELF, 32-bit, big-endian and truncated files map to their errors.
    #[test]
    fn maps_parse_errors() {
        assert!(matches!(check(b"hello"), Err(PackageError::NotElf { .. })));
        let mut bytes = ElfBuilder::static_exec(EM_X86_64).build();
        bytes[4] = 1;
        assert!(matches!(check(&bytes), Err(PackageError::Not64Bit { .. })));
        bytes[4] = 2;
        bytes[5] = 2;
        assert!(matches!(check(&bytes), Err(PackageError::BigEndian { .. })));
        let err = check(&bytes[..30]).unwrap_err();
        assert!(matches!(
            err,
            PackageError::Not64Bit { .. } | PackageError::BigEndian { .. }
        ));
        let whole = glibc_binary(EM_X86_64, "GLIBC_2.34", "x");
        let err = check(&whole[..whole.len() - 100]).unwrap_err();
        assert!(matches!(err, PackageError::Malformed { .. }), "{err}");
    }

    /// The default output is the binary's stem plus `.zip`, in the current
    /// directory.
    #[test]
    fn default_output_path() {
        assert_eq!(
            default_output(Path::new("target/x86_64-unknown-linux-gnu/release/my-fn")),
            PathBuf::from("my-fn.zip")
        );
        assert_eq!(
            default_output(Path::new("dir/app.bin")),
            PathBuf::from("app.zip")
        );
        assert_eq!(
            default_output(Path::new("/")),
            PathBuf::from(FALLBACK_OUTPUT)
        );
    }

    /// Sizes print in the largest unit that keeps them at 1024 or more bytes.
    #[test]
    fn human_sizes() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1024), "1.0 KiB");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(5 * 1024 * 1024 + 200 * 1024), "5.2 MiB");
        assert_eq!(human_size(3 << 30), "3.0 GiB");
        assert_eq!(human_size(u64::MAX), "16777216.0 TiB");
    }

    /// The report gives the architecture, glibc line and both sizes.
    #[test]
    fn report_lines() {
        let report = Report {
            binary: "target/app".into(),
            output: "app.zip".into(),
            inspection: check(&glibc_binary(EM_AARCH64, "GLIBC_2.34", "x")).unwrap(),
            binary_size: 2_000_000,
            zip_size: 700_000,
            warnings: Vec::new(),
        };
        assert_eq!(
            report.to_string(),
            "packaged target/app as bootstrap (mode 0755) in app.zip\n\
             \x20 architecture: aarch64 (choose arm64 for the Lambda function)\n\
             \x20 shared libraries: libc.so.6, libgcc_s.so.1 (all in provided.al2023)\n\
             \x20 glibc requirement: GLIBC_2.34 (ok for provided.al2023, which has 2.34; checked GLIBC_2.2.5, GLIBC_2.34)\n\
             \x20 binary size: 2000000 bytes (1.9 MiB)\n\
             \x20 zip size: 700000 bytes (683.6 KiB)\n"
        );
    }
}
