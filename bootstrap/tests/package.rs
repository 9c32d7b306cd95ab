//! End-to-end tests of `coda package`: they run the built `coda` binary on
//! real and doctored ELF files and check its exit status, its messages, and
//! the zip it writes, which an independent reader (Python's `zipfile`, which
//! verifies CRCs) must accept with the right entry, mode and contents.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `coda` binary under test; also a real glibc ELF to package.
const CODA: &str = env!("CARGO_BIN_EXE_coda");

/// Checks a zip with Python's `zipfile`: one entry `bootstrap`, regular
/// file mode 0755 made on Unix, deflated, fixed 1980-01-01 timestamp, no
/// extra fields, CRCs good, contents equal to the binary.
const PYTHON_CHECK: &str = r#"
import sys, zipfile
zip_path, binary_path = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(zip_path) as z:
    infos = z.infolist()
    assert [i.filename for i in infos] == ["bootstrap"], [i.filename for i in infos]
    info = infos[0]
    assert info.external_attr >> 16 == 0o100755, oct(info.external_attr >> 16)
    assert info.create_system == 3, info.create_system
    assert info.compress_type == zipfile.ZIP_DEFLATED, info.compress_type
    assert info.date_time == (1980, 1, 1, 0, 0, 0), info.date_time
    assert info.extra == b"", info.extra
    assert z.testzip() is None, "bad CRC"
    with open(binary_path, "rb") as f:
        assert z.read("bootstrap") == f.read(), "contents differ"
print("ok")
"#;

/// A fresh, empty directory for one test, under Cargo's test scratch area.
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("coda-package-tests")
        .join(test);
    if dir.exists() {
        fs::remove_dir_all(&dir).unwrap();
    }
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `coda` with `args` in directory `cwd`.
fn coda_in(cwd: &Path, args: &[&Path]) -> Output {
    Command::new(CODA)
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run coda")
}

/// Runs `coda package <binary> -o <output>`.
fn package(binary: &Path, output: &Path) -> Output {
    let dir = binary.parent().unwrap();
    coda_in(
        dir,
        &[Path::new("package"), binary, Path::new("-o"), output],
    )
}

/// Standard output as text.
fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Standard error as text.
fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Asserts that `coda` failed with status `code` and one message line that
/// contains every one of `expected`; returns that line.
fn assert_refused(output: &Output, code: i32, expected: &[&str]) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(!err.contains("panicked"), "coda panicked: {err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let line = err.lines().next().unwrap_or_default().to_owned();
    assert!(line.starts_with("coda: "), "{err}");
    for part in expected {
        assert!(line.contains(part), "expected {part:?} in: {line}");
    }
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
    line
}

/// Verifies `zip` with Python's `zipfile` against `binary`'s bytes.
fn python_verifies(zip: &Path, binary: &Path) {
    let output = Command::new("python3")
        .args(["-c", PYTHON_CHECK])
        .arg(zip)
        .arg(binary)
        .output()
        .expect("these tests need python3 to verify zips independently");
    assert!(
        output.status.success() && stdout(&output).trim() == "ok",
        "python zipfile rejected {}: {}{}",
        zip.display(),
        stdout(&output),
        stderr(&output)
    );
}

/// Writes `bytes` as an executable-looking file `name` in `dir`.
fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).unwrap();
    path
}

/// The host architecture as `coda` reports it, and its Lambda name.
fn host_arch() -> (&'static str, &'static str) {
    match std::env::consts::ARCH {
        "aarch64" => ("aarch64", "arm64"),
        _ => ("x86_64", "x86_64"),
    }
}

/// Replaces every occurrence of `from` with `to` (same length) in `bytes`;
/// returns how many were replaced.
fn replace_all(bytes: &mut [u8], from: &[u8], to: &[u8]) -> usize {
    assert_eq!(from.len(), to.len());
    let mut count = 0;
    let mut i = 0;
    while i + from.len() <= bytes.len() {
        if &bytes[i..i + from.len()] == from {
            bytes[i..i + from.len()].copy_from_slice(to);
            count += 1;
            i += from.len();
        } else {
            i += 1;
        }
    }
    count
}

/// A minimal static aarch64 executable: ELF header, one `PT_LOAD` program
/// header, and `exit(0)` (`mov x8, #93; mov x0, #0; svc #0`).
fn tiny_static_aarch64() -> Vec<u8> {
    let code: [u32; 3] = [0xd280_0ba8, 0xd280_0000, 0xd400_0001];
    let base: u64 = 0x40_0000;
    let mut elf = vec![0u8; 64 + 56];
    elf[0..4].copy_from_slice(b"\x7fELF");
    elf[4] = 2; // 64-bit
    elf[5] = 1; // little-endian
    elf[6] = 1; // version
    elf[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    elf[18..20].copy_from_slice(&183u16.to_le_bytes()); // EM_AARCH64
    elf[20..24].copy_from_slice(&1u32.to_le_bytes());
    elf[24..32].copy_from_slice(&(base + 120).to_le_bytes()); // entry
    elf[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    elf[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
    elf[54..56].copy_from_slice(&56u16.to_le_bytes()); // phentsize
    elf[56..58].copy_from_slice(&1u16.to_le_bytes()); // phnum
    elf[58..60].copy_from_slice(&64u16.to_le_bytes()); // shentsize
    for word in code {
        elf.extend_from_slice(&word.to_le_bytes());
    }
    let size = elf.len() as u64;
    let ph = 64;
    elf[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    elf[ph + 4..ph + 8].copy_from_slice(&5u32.to_le_bytes()); // R+X
    elf[ph + 16..ph + 24].copy_from_slice(&base.to_le_bytes()); // vaddr
    elf[ph + 24..ph + 32].copy_from_slice(&base.to_le_bytes()); // paddr
    elf[ph + 32..ph + 40].copy_from_slice(&size.to_le_bytes()); // filesz
    elf[ph + 40..ph + 48].copy_from_slice(&size.to_le_bytes()); // memsz
    elf[ph + 48..ph + 56].copy_from_slice(&0x1000u64.to_le_bytes()); // align
    elf
}

/// The `coda` binary itself, a real glibc executable built on this
/// machine, packages: it needs no glibc newer than 2.34, the report names
/// the architecture and sizes, and Python's zipfile accepts the zip with
/// entry `bootstrap`, mode 0755 and the exact bytes.
#[test]
fn packages_itself_into_a_valid_zip() {
    let dir = scratch("itself");
    let zip = dir.join("coda.zip");
    let output = package(Path::new(CODA), &zip);
    let out = stdout(&output);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    let (elf_name, lambda_name) = host_arch();
    assert!(
        out.contains(&format!(
            "architecture: {elf_name} (choose {lambda_name} for the Lambda function)"
        )),
        "{out}"
    );
    assert!(out.contains("glibc requirement: GLIBC_2."), "{out}");
    assert!(out.contains("ok for provided.al2023"), "{out}");
    let binary_len = fs::metadata(CODA).unwrap().len();
    let zip_len = fs::metadata(&zip).unwrap().len();
    assert!(
        out.contains(&format!("binary size: {binary_len} bytes (")),
        "{out}"
    );
    assert!(
        out.contains(&format!("zip size: {zip_len} bytes (")),
        "{out}"
    );
    assert!(zip_len < binary_len, "deflate should shrink a binary");
    python_verifies(&zip, Path::new(CODA));
}

/// Packaging is deterministic: the same binary gives byte-identical zips,
/// whatever the files' timestamps.
#[test]
fn same_input_gives_identical_zips() {
    let dir = scratch("deterministic");
    let first = dir.join("first.zip");
    let second = dir.join("second.zip");
    assert!(package(Path::new(CODA), &first).status.success());
    let copy = write_file(&dir, "copy", &fs::read(CODA).unwrap());
    assert!(package(&copy, &second).status.success());
    assert_eq!(fs::read(&first).unwrap(), fs::read(&second).unwrap());
}

/// Without `-o`, the zip is `./<binary stem>.zip` in the current directory,
/// not next to the binary.
#[test]
fn default_output_is_stem_zip_in_current_directory() {
    let dir = scratch("default-output");
    let bin_dir = dir.join("bin");
    let work = dir.join("work");
    fs::create_dir_all(&bin_dir).unwrap();
    fs::create_dir_all(&work).unwrap();
    let binary = write_file(&bin_dir, "my-fn", &fs::read(CODA).unwrap());
    let output = coda_in(&work, &[Path::new("package"), &binary]);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(
        stdout(&output).contains(" in my-fn.zip\n"),
        "{}",
        stdout(&output)
    );
    python_verifies(&work.join("my-fn.zip"), &binary);
    assert!(!bin_dir.join("my-fn.zip").exists());
}

/// A static binary (no interpreter, no version needs) passes, and the
/// report says so; an aarch64 one is reported as Lambda's arm64.
#[test]
fn packages_a_static_binary() {
    let dir = scratch("static");
    let binary = write_file(&dir, "tiny", &tiny_static_aarch64());
    let zip = dir.join("tiny.zip");
    let output = package(&binary, &zip);
    let out = stdout(&output);
    assert!(output.status.success(), "stderr: {}", stderr(&output));
    assert!(
        out.contains("architecture: aarch64 (choose arm64 for the Lambda function)"),
        "{out}"
    );
    assert!(
        out.contains("glibc requirement: none (statically linked)"),
        "{out}"
    );
    python_verifies(&zip, &binary);
}

/// A text file is refused as "not an ELF executable", naming the file and
/// the targets to build for, with exit status 1 and no zip written.
#[test]
fn refuses_a_text_file() {
    let dir = scratch("text");
    let file = write_file(&dir, "notes.txt", b"hello\n");
    let zip = dir.join("out.zip");
    let line = assert_refused(&package(&file, &zip), 1, &[]);
    assert_eq!(
        line,
        format!(
            "coda: not an ELF executable: {} (`coda package` packages a compiled Linux binary; \
             build with --target x86_64-unknown-linux-gnu or aarch64-unknown-linux-gnu)",
            file.display()
        )
    );
    assert!(!zip.exists());
}

/// Issue 15 row 12: a shell-script bootstrap is refused with the true reason (provided.al2023
/// runs scripts; a zip of the script alone lacks what it runs) and what to do instead.
#[test]
fn refuses_a_script_for_the_true_reason() {
    let dir = scratch("script");
    let file = write_file(&dir, "bootstrap", b"#!/bin/sh\nexec ./my-fn\n");
    let zip = dir.join("out.zip");
    let line = assert_refused(
        &package(&file, &zip),
        1,
        &[
            "is a script (#!/bin/sh)",
            "provided.al2023 can run a script bootstrap",
            "`coda package` packages one compiled binary",
            "zip function.zip bootstrap",
        ],
    );
    assert!(!line.contains("runs Linux ELF binaries"), "{line}");
    assert!(!zip.exists());
}

/// Issue 15 row 12: a real binary whose `DT_NEEDED` names a library provided.al2023 lacks
/// (the coda binary with `libgcc_s.so.1` rewritten in place to `libnope.so.99`, a library
/// that exists nowhere) is refused, naming it and the fixes, instead of "ok for
/// provided.al2023" (`--allow-library` is unit-tested in `package.rs`); and the same check
/// works on a binary without section headers (read through `PT_DYNAMIC` and `DT_STRTAB`).
#[test]
fn refuses_a_binary_needing_a_missing_shared_library() {
    let dir = scratch("missing-library");
    let mut bytes = fs::read(CODA).unwrap();
    let replaced = replace_all(&mut bytes, b"\0libgcc_s.so.1\0", b"\0libnope.so.99\0");
    assert!(replaced > 0, "the coda binary needs libgcc_s.so.1");
    let file = write_file(&dir, "needs-nope", &bytes);
    let zip = dir.join("out.zip");
    assert_refused(
        &package(&file, &zip),
        1,
        &[
            &file.display().to_string(),
            "needs shared libraries that provided.al2023 does not have: libnope.so.99",
            "error while loading shared libraries",
            "link them statically",
            "a layer (Lambda adds /opt/lib to LD_LIBRARY_PATH)",
            "--allow-library",
        ],
    );
    assert!(!zip.exists());

    // No section headers: e_shoff, e_shnum and e_shstrndx zeroed.
    let mut no_sections = bytes.clone();
    no_sections[40..48].copy_from_slice(&0u64.to_le_bytes());
    no_sections[60..64].copy_from_slice(&[0, 0, 0, 0]);
    let bare = write_file(&dir, "needs-nope-bare", &no_sections);
    assert_refused(
        &package(&bare, &dir.join("bare.zip")),
        1,
        &["does not have: libnope.so.99"],
    );
}

/// Issue 15 row 12: an existing zip is not overwritten without `--force` (one line naming it
/// and the way out; the file keeps its bytes); with `--force` it is replaced.
#[test]
fn refuses_to_overwrite_a_zip_without_force() {
    let dir = scratch("overwrite");
    let binary = write_file(&dir, "tiny", &tiny_static_aarch64());
    let zip = dir.join("fn.zip");
    fs::write(&zip, b"precious").unwrap();
    assert_refused(
        &package(&binary, &zip),
        1,
        &[
            &format!("refusing to overwrite {}, which exists", zip.display()),
            "--force",
        ],
    );
    assert_eq!(fs::read(&zip).unwrap(), b"precious");
    let forced = coda_in(
        &dir,
        &[
            Path::new("package"),
            &binary,
            Path::new("-o"),
            &zip,
            Path::new("--force"),
        ],
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    python_verifies(&zip, &binary);
}

/// Issue 15 row 12: a binary in a cargo `debug` directory is packaged with one warning on
/// stderr that names it, its size and `--release`; the same bytes elsewhere get none.
#[test]
fn warns_about_a_debug_build() {
    let dir = scratch("debug-warning");
    let debug_dir = dir.join("target").join("debug");
    fs::create_dir_all(&debug_dir).unwrap();
    let binary = write_file(&debug_dir, "tiny", &tiny_static_aarch64());
    let output = package(&binary, &dir.join("tiny.zip"));
    assert!(output.status.success(), "{}", stderr(&output));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with(&format!(
            "coda: warning: {} is a debug build (",
            binary.display()
        )),
        "{err}"
    );
    assert!(err.contains("B, unoptimised)"), "{err}");
    assert!(err.contains("cargo build --release"), "{err}");
    let copy = write_file(&dir, "tiny", &tiny_static_aarch64());
    let quiet = package(&copy, &dir.join("copy.zip"));
    assert!(quiet.status.success(), "{}", stderr(&quiet));
    assert_eq!(stderr(&quiet), "", "no warning outside a debug directory");
}

/// A missing file is refused with its path and what to give instead, and the
/// OS error follows once as the cause, on the same line.
#[test]
fn refuses_a_missing_file() {
    let dir = scratch("missing");
    let missing = dir.join("no-such-binary");
    let output = package(&missing, &dir.join("out.zip"));
    let line = assert_refused(&output, 1, &[]);
    assert_eq!(
        line,
        format!(
            "coda: cannot read {} (give the path of the compiled binary, e.g. \
             target/x86_64-unknown-linux-gnu/release/<name>): No such file or directory (os error 2)",
            missing.display()
        )
    );
}

/// Truncated copies of a real ELF are refused as damaged, naming the file,
/// without a panic, whatever the cut.
#[test]
fn refuses_truncated_elf_files() {
    let dir = scratch("truncated");
    let bytes = fs::read(CODA).unwrap();
    for len in [5, 40, 64, 300, 4096, bytes.len() / 2, bytes.len() - 1] {
        let file = write_file(&dir, &format!("cut-{len}"), &bytes[..len]);
        let line = assert_refused(
            &package(&file, &dir.join("out.zip")),
            1,
            &[&format!(
                "coda: {} is a damaged or truncated ELF file (rebuild it, or check that it was \
                 copied whole): ",
                file.display()
            )],
        );
        // The parser's finding follows once, as the cause: what runs past the end.
        assert!(
            line.ends_with(&format!("runs past the end of the file ({len} bytes)")),
            "{line}"
        );
        assert_eq!(line.matches("past the end").count(), 1, "{line}");
    }
}

/// A real binary doctored to need `GLIBC_9.34` instead of `GLIBC_2.34`
/// (the version string rewritten in place in the dynamic string table) is
/// refused, naming the version and the symbols bound to it: glibc 2.34
/// moved `__libc_start_main` to that version, so every program linked
/// against glibc 2.34 or later needs it.
#[test]
fn refuses_a_binary_needing_a_newer_glibc() {
    let dir = scratch("newer-glibc");
    let mut bytes = fs::read(CODA).unwrap();
    let replaced = replace_all(&mut bytes, b"\0GLIBC_2.34\0", b"\0GLIBC_9.34\0");
    assert!(
        replaced > 0,
        "this test expects the coda binary to be linked against glibc 2.34 or later"
    );
    let file = write_file(&dir, "needs-glibc-9", &bytes);
    let line = assert_refused(
        &package(&file, &dir.join("out.zip")),
        1,
        &[
            &file.display().to_string(),
            "needs a newer glibc than provided.al2023's 2.34",
            "needs GLIBC_9.34 (al2023 has 2.34): ",
            "__libc_start_main",
        ],
    );
    assert!(
        !line.contains("GLIBC_2.2.5"),
        "old versions are not culprits: {line}"
    );
}

/// ELF files for other architectures are refused, naming the machine found.
#[test]
fn refuses_other_architectures() {
    let dir = scratch("architecture");
    let original = fs::read(CODA).unwrap();
    for (machine, name) in [
        (243u16, "RISC-V"),
        (40, "ARM (32-bit)"),
        (9999, "an unknown architecture"),
    ] {
        let mut bytes = original.clone();
        bytes[18..20].copy_from_slice(&machine.to_le_bytes());
        let file = write_file(&dir, &format!("machine-{machine}"), &bytes);
        assert_refused(
            &package(&file, &dir.join("out.zip")),
            1,
            &[
                &file.display().to_string(),
                &format!("is built for {name} (ELF machine {machine})"),
                "Lambda runs x86_64 and arm64",
            ],
        );
    }
}

/// 32-bit, big-endian and relocatable (`.o`) ELF files are refused, each
/// with its own reason.
#[test]
fn refuses_32_bit_big_endian_and_object_files() {
    let dir = scratch("kinds");
    let original = fs::read(CODA).unwrap();
    let cases: [(&str, usize, &[u8], &str); 3] = [
        ("elf32", 4, &[1], "is a 32-bit ELF"),
        ("big-endian", 5, &[2], "is a big-endian ELF"),
        ("object", 16, &[1, 0], "relocatable object file (.o)"),
    ];
    for (name, at, patch, reason) in cases {
        let mut bytes = original.clone();
        bytes[at..at + patch.len()].copy_from_slice(patch);
        let file = write_file(&dir, name, &bytes);
        assert_refused(
            &package(&file, &dir.join("out.zip")),
            1,
            &[&file.display().to_string(), reason],
        );
    }
}

/// An output path in a directory that does not exist is refused, naming
/// the directory.
#[test]
fn refuses_an_output_directory_that_does_not_exist() {
    let dir = scratch("no-output-dir");
    let missing = dir.join("no").join("such");
    let zip = missing.join("out.zip");
    assert_refused(
        &package(Path::new(CODA), &zip),
        1,
        &[&format!(
            "coda: cannot write {} (directory {} does not exist: create it or choose another \
             output with -o): No such file or directory (os error 2)",
            zip.display(),
            missing.display()
        )],
    );
}

/// `-o` naming the binary itself is refused and the binary is left intact.
#[test]
fn refuses_to_overwrite_the_binary() {
    let dir = scratch("overwrite");
    let original = fs::read(CODA).unwrap();
    let binary = write_file(&dir, "app", &original);
    let output = coda_in(
        &dir,
        &[
            Path::new("package"),
            Path::new("app"),
            Path::new("-o"),
            Path::new("./app"),
        ],
    );
    assert_refused(
        &output,
        1,
        &["refusing to write the zip over the binary itself"],
    );
    assert_eq!(fs::read(&binary).unwrap(), original);
}

/// Command-line mistakes exit with 2 and one line with a usage hint.
#[test]
fn usage_errors_exit_with_2() {
    let dir = scratch("usage");
    for (args, message) in [
        (&["pakage", "x"][..], "unknown command `pakage`"),
        (&["--frobnicate"], "unknown option `--frobnicate`"),
        (
            &["package", "x", "--zip"],
            "unknown option `--zip` for `coda package`",
        ),
        (&["package"], "needs the path of the binary"),
        (&["package", "x", "-o"], "`-o` needs a value"),
        (&[], "missing command"),
    ] {
        let args: Vec<&Path> = args.iter().map(Path::new).collect();
        let output = coda_in(&dir, &args);
        let line = assert_refused(&output, 2, &[message, "(run `coda --help` for usage)"]);
        assert_eq!(stderr(&output), format!("{line}\n"), "one line only");
    }
}

/// `--help` prints the usage on standard output and exits with 0.
#[test]
fn help_exits_with_0() {
    let dir = scratch("help");
    for flag in ["--help", "-h", "help"] {
        let output = coda_in(&dir, &[Path::new(flag)]);
        assert!(output.status.success());
        assert!(stdout(&output).contains("coda package <binary> [-o|--output <file.zip>]"));
        assert!(output.stderr.is_empty());
    }
}

/// A binary whose program interpreter al2023 does not have (here a Nix-store loader, doctored
/// in place into a real binary) is refused, naming both loaders: on Lambda it would fail at
/// exec with nothing but `Runtime.InvalidEntrypoint`.
#[test]
fn refuses_a_foreign_interpreter() {
    let dir = scratch("interpreter");
    let mut bytes = fs::read(CODA).unwrap();
    let mut replaced = 0;
    for loader in ["/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1"] {
        // Same length, so every offset in the file stays right.
        let foreign: String = format!("/nix/store{loader}")
            .chars()
            .take(loader.len())
            .collect();
        assert_eq!(foreign.len(), loader.len());
        replaced += replace_all(&mut bytes, loader.as_bytes(), foreign.as_bytes());
    }
    assert!(replaced > 0, "the coda binary names a glibc loader");
    let file = write_file(&dir, "nix-built", &bytes);
    assert_refused(
        &package(&file, &dir.join("out.zip")),
        1,
        &[
            &file.display().to_string(),
            "/nix/store/",
            "which provided.al2023 does not have",
        ],
    );
}
