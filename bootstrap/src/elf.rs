//! Reading the parts of a 64-bit little-endian ELF file that `coda package`
//! checks: the file header, the program headers (for the interpreter), the
//! section headers, and the GNU symbol-versioning tables (`.gnu.version_r`,
//! `.gnu.version`, `.dynsym` and their string table).
//!
//! Every offset, size and count read from the file is checked against the
//! file's length before it is used, and all arithmetic on them is checked: a
//! truncated or hostile file yields an [`ElfError`], never a panic.

#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]

use std::fmt;

/// `e_type` of a relocatable object file (`.o`).
pub const ET_REL: u16 = 1;
/// `e_type` of an executable linked at a fixed address.
pub const ET_EXEC: u16 = 2;
/// `e_type` of a position-independent executable or a shared library.
pub const ET_DYN: u16 = 3;
/// `e_type` of a core dump.
pub const ET_CORE: u16 = 4;
/// `e_machine` of x86_64 (AMD64).
pub const EM_X86_64: u16 = 62;
/// `e_machine` of aarch64 (ARM64).
pub const EM_AARCH64: u16 = 183;

/// Size of the ELF64 file header.
const EHDR_SIZE: u64 = 64;
/// Size of one ELF64 program header.
const PHDR_SIZE: u64 = 56;
/// Size of one ELF64 section header.
const SHDR_SIZE: u64 = 64;
/// Size of one ELF64 symbol (`Elf64_Sym`).
const SYM_SIZE: u64 = 24;
/// Size of one `Elf64_Verneed` record, and of one `Elf64_Vernaux` record.
const VERNEED_SIZE: u64 = 16;
/// Size of one `Elf64_Dyn` entry of the dynamic section.
const DYN_SIZE: u64 = 16;
/// Program header type of the dynamic section (`PT_DYNAMIC`).
const PT_DYNAMIC: u32 = 2;
/// Program header type of the interpreter path (`PT_INTERP`).
const PT_INTERP: u32 = 3;
/// Dynamic tag ending the dynamic section.
const DT_NULL: u64 = 0;
/// Dynamic tag of a needed shared library (`DT_NEEDED`), a string-table offset.
const DT_NEEDED: u64 = 1;
/// Dynamic tag of the dynamic string table's address (`DT_STRTAB`).
const DT_STRTAB: u64 = 5;
/// Dynamic tag of the dynamic string table's size (`DT_STRSZ`).
const DT_STRSZ: u64 = 10;
/// Program header type of a loadable segment (`PT_LOAD`).
const PT_LOAD: u32 = 1;
/// Section type of the dynamic section (`SHT_DYNAMIC`).
const SHT_DYNAMIC: u32 = 6;
/// Dynamic tag of the extra flags (`DT_FLAGS_1`).
const DT_FLAGS_1: u64 = 0x6fff_fffb;
/// `DT_FLAGS_1` bit the linker sets on position-independent executables.
const DF_1_PIE: u64 = 0x0800_0000;
/// Section type of the dynamic symbol table (`SHT_DYNSYM`).
const SHT_DYNSYM: u32 = 11;
/// Section type of a section that occupies no bytes in the file.
const SHT_NOBITS: u32 = 8;
/// Section type of the version needs (`.gnu.version_r`).
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;
/// Section type of the symbol version table (`.gnu.version`).
const SHT_GNU_VERSYM: u32 = 0x6fff_ffff;
/// `e_phnum` value meaning "the real count is in section 0's `sh_info`".
const PN_XNUM: u16 = 0xffff;
/// Section index of an undefined symbol.
const SHN_UNDEF: u16 = 0;
/// Bit of a `.gnu.version` entry that marks a hidden version.
const VERSYM_HIDDEN: u16 = 0x8000;

/// Why a file could not be read as a 64-bit little-endian ELF.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ElfError {
    /// The file does not start with the ELF magic bytes.
    NotElf,
    /// The file is a 32-bit (`ELFCLASS32`) ELF.
    Not64Bit,
    /// The file is a big-endian (`ELFDATA2MSB`) ELF.
    BigEndian,
    /// A structure the file refers to lies (partly) past its end.
    Truncated {
        /// What was being read, e.g. "section header table".
        what: &'static str,
        /// Where it starts in the file.
        offset: u64,
        /// How many bytes it needs.
        len: u64,
        /// The file's length.
        file_len: u64,
    },
    /// A value in the file is inconsistent or out of range.
    Malformed(String),
}

impl fmt::Display for ElfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotElf => f.write_str("the file does not start with the ELF magic bytes"),
            Self::Not64Bit => f.write_str("the file is a 32-bit ELF"),
            Self::BigEndian => f.write_str("the file is a big-endian ELF"),
            Self::Truncated {
                what,
                offset,
                len,
                file_len,
            } => write!(
                f,
                "the {what} ({len} bytes at offset {offset}) runs past the end of the file ({file_len} bytes)"
            ),
            Self::Malformed(detail) => f.write_str(detail),
        }
    }
}

impl std::error::Error for ElfError {}

/// A bounds-checked window on the file's bytes, with what it holds and where
/// it starts (for error messages).
#[derive(Debug, Clone, Copy)]
struct Record<'a> {
    /// The bytes of the record.
    bytes: &'a [u8],
    /// What the record is, e.g. "program header".
    what: &'static str,
    /// Offset of the record's first byte in the file.
    offset: u64,
    /// Length of the whole file.
    file_len: u64,
}

impl<'a> Record<'a> {
    /// Takes `len` bytes at `offset` of `data`, or says why it cannot.
    fn new(data: &'a [u8], what: &'static str, offset: u64, len: u64) -> Result<Self, ElfError> {
        let file_len = u64::try_from(data.len()).unwrap_or(u64::MAX);
        let truncated = ElfError::Truncated {
            what,
            offset,
            len,
            file_len,
        };
        let start = usize::try_from(offset).map_err(|_| truncated.clone())?;
        let size = usize::try_from(len).map_err(|_| truncated.clone())?;
        let end = start.checked_add(size).ok_or_else(|| truncated.clone())?;
        let bytes = data.get(start..end).ok_or(truncated)?;
        Ok(Self {
            bytes,
            what,
            offset,
            file_len,
        })
    }

    /// Takes `len` bytes at `at` within this record, naming them `what`.
    fn sub(&self, what: &'static str, at: u64, len: u64) -> Result<Record<'a>, ElfError> {
        let truncated = || ElfError::Truncated {
            what,
            offset: self.offset.saturating_add(at),
            len,
            file_len: self.file_len,
        };
        let start = usize::try_from(at).map_err(|_| truncated())?;
        let size = usize::try_from(len).map_err(|_| truncated())?;
        let end = start.checked_add(size).ok_or_else(truncated)?;
        let bytes = self.bytes.get(start..end).ok_or_else(truncated)?;
        Ok(Record {
            bytes,
            what,
            offset: self.offset.saturating_add(at),
            file_len: self.file_len,
        })
    }

    /// Reads `N` bytes at `at` within the record.
    fn array<const N: usize>(&self, at: usize) -> Result<[u8; N], ElfError> {
        at.checked_add(N)
            .and_then(|end| self.bytes.get(at..end))
            .and_then(|b| <[u8; N]>::try_from(b).ok())
            .ok_or_else(|| ElfError::Truncated {
                what: self.what,
                offset: self.offset,
                len: u64::try_from(at.saturating_add(N)).unwrap_or(u64::MAX),
                file_len: self.file_len,
            })
    }

    /// Reads a little-endian `u16` at `at` within the record.
    fn u16(&self, at: usize) -> Result<u16, ElfError> {
        self.array(at).map(u16::from_le_bytes)
    }

    /// Reads a little-endian `u32` at `at` within the record.
    fn u32(&self, at: usize) -> Result<u32, ElfError> {
        self.array(at).map(u32::from_le_bytes)
    }

    /// Reads a little-endian `u64` at `at` within the record.
    fn u64(&self, at: usize) -> Result<u64, ElfError> {
        self.array(at).map(u64::from_le_bytes)
    }

    /// Reads the NUL-terminated string at `at` within the record (a string
    /// table), replacing any invalid UTF-8.
    fn string(&self, at: u32) -> Result<String, ElfError> {
        let tail = usize::try_from(at)
            .ok()
            .and_then(|start| self.bytes.get(start..))
            .ok_or_else(|| {
                ElfError::Malformed(format!(
                    "a name points at offset {at}, past the end of its {} ({} bytes)",
                    self.what,
                    self.bytes.len()
                ))
            })?;
        let end = tail.iter().position(|&b| b == 0).ok_or_else(|| {
            ElfError::Malformed(format!(
                "the name at offset {at} of the {} is not NUL-terminated",
                self.what
            ))
        })?;
        let name = tail.get(..end).unwrap_or_default();
        Ok(String::from_utf8_lossy(name).into_owned())
    }
}

/// One program header, reduced to what the checks use.
#[derive(Debug, Clone, Copy)]
struct ProgramHeader {
    /// `p_type`.
    kind: u32,
    /// `p_offset`: where the segment's bytes start in the file.
    offset: u64,
    /// `p_vaddr`: where the segment is loaded.
    vaddr: u64,
    /// `p_filesz`: how many bytes of the segment are in the file.
    file_size: u64,
}

/// One section header, reduced to what the checks use.
#[derive(Debug, Clone, Copy)]
struct SectionHeader {
    /// `sh_type`.
    kind: u32,
    /// `sh_offset`: where the section's bytes start in the file.
    offset: u64,
    /// `sh_size`: how many bytes the section has.
    size: u64,
    /// `sh_link`: index of the associated section (e.g. a string table).
    link: u32,
    /// `sh_info`: extra information (for version needs: their count).
    info: u32,
}

/// One version that the binary requires from a shared library, with the
/// undefined dynamic symbols bound to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionNeed {
    /// The library the version is needed from, e.g. `libc.so.6`.
    pub library: String,
    /// The version name, e.g. `GLIBC_2.34`.
    pub version: String,
    /// The version index (`vna_other`) that `.gnu.version` entries use.
    pub index: u16,
    /// Names of the undefined dynamic symbols that need this version, in
    /// symbol-table order.
    pub symbols: Vec<String>,
}

/// A parsed 64-bit little-endian ELF file, borrowing its bytes.
#[derive(Debug)]
pub struct Elf<'a> {
    /// The whole file.
    data: &'a [u8],
    /// `e_type`: relocatable, executable, shared object, core.
    pub file_type: u16,
    /// `e_machine`: the target architecture.
    pub machine: u16,
    /// `e_entry`: the entry point address, 0 when there is none.
    pub entry: u64,
    /// The program headers.
    program_headers: Vec<ProgramHeader>,
    /// The section headers (empty when the file has none).
    sections: Vec<SectionHeader>,
}

impl<'a> Elf<'a> {
    /// Parses the file header, program headers and section headers of `data`.
    pub fn parse(data: &'a [u8]) -> Result<Self, ElfError> {
        if !data.starts_with(b"\x7fELF") {
            return Err(ElfError::NotElf);
        }
        let ident = Record::new(data, "ELF identification", 0, 16)?;
        match ident.array::<1>(4)? {
            [2] => {}
            [1] => return Err(ElfError::Not64Bit),
            [class] => {
                return Err(ElfError::Malformed(format!(
                    "unknown ELF class {class} (expected 1 for 32-bit or 2 for 64-bit)"
                )));
            }
        }
        match ident.array::<1>(5)? {
            [1] => {}
            [2] => return Err(ElfError::BigEndian),
            [encoding] => {
                return Err(ElfError::Malformed(format!(
                    "unknown ELF data encoding {encoding} (expected 1 for little-endian or 2 for big-endian)"
                )));
            }
        }
        let header = Record::new(data, "ELF header", 0, EHDR_SIZE)?;
        let file_type = header.u16(16)?;
        let machine = header.u16(18)?;
        let entry = header.u64(24)?;
        let phoff = header.u64(32)?;
        let shoff = header.u64(40)?;
        let phentsize = header.u16(54)?;
        let phnum = header.u16(56)?;
        let shentsize = header.u16(58)?;
        let shnum = header.u16(60)?;

        let sections = parse_sections(data, shoff, shentsize, shnum)?;
        let phnum = if phnum == PN_XNUM {
            // Extended numbering: the real count is in section 0's sh_info.
            u64::from(sections.first().map_or(0, |s| s.info))
        } else {
            u64::from(phnum)
        };
        let program_headers = parse_program_headers(data, phoff, phentsize, phnum)?;
        Ok(Self {
            data,
            file_type,
            machine,
            entry,
            program_headers,
            sections,
        })
    }

    /// The program interpreter (`PT_INTERP`), e.g. `/lib64/ld-linux-x86-64.so.2`,
    /// or `None` for a statically linked file.
    pub fn interpreter(&self) -> Result<Option<String>, ElfError> {
        let Some(interp) = self.program_headers.iter().find(|p| p.kind == PT_INTERP) else {
            return Ok(None);
        };
        let bytes = Record::new(
            self.data,
            "interpreter path",
            interp.offset,
            interp.file_size,
        )?;
        let path = bytes.bytes.split(|&b| b == 0).next().unwrap_or_default();
        Ok(Some(String::from_utf8_lossy(path).into_owned()))
    }

    /// Whether the dynamic section marks the file as a position-independent
    /// executable (`DF_1_PIE` in `DT_FLAGS_1`), which tells a static-pie
    /// program apart from a shared library: both are `ET_DYN` without an
    /// interpreter.
    pub fn is_flagged_pie(&self) -> Result<bool, ElfError> {
        let Some(dynamic) = self.program_headers.iter().find(|p| p.kind == PT_DYNAMIC) else {
            return Ok(false);
        };
        let table = Record::new(
            self.data,
            "dynamic section",
            dynamic.offset,
            dynamic.file_size,
        )?;
        for i in 0..dynamic.file_size / DYN_SIZE {
            let entry = table.sub("dynamic entry", i.saturating_mul(DYN_SIZE), DYN_SIZE)?;
            match entry.u64(0)? {
                DT_NULL => break,
                DT_FLAGS_1 => return Ok(entry.u64(8)? & DF_1_PIE != 0),
                _ => {}
            }
        }
        Ok(false)
    }

    /// The shared libraries the file needs (`DT_NEEDED`), in order: read from the dynamic
    /// section (`SHT_DYNAMIC`) and its string table, or, in a file without section headers,
    /// from the `PT_DYNAMIC` segment and the string table `DT_STRTAB` points at. Empty for a
    /// file without a dynamic section (a static binary).
    pub fn needed_libraries(&self) -> Result<Vec<String>, ElfError> {
        if let Some(dynamic) = self.sections.iter().find(|s| s.kind == SHT_DYNAMIC) {
            let table = self.section_data(dynamic, "dynamic section")?;
            let strings = self.linked_strings(dynamic, "dynamic string table")?;
            let entries = dynamic_entries(&table, dynamic.size)?;
            return entries
                .iter()
                .filter(|(tag, _)| *tag == DT_NEEDED)
                .map(|(_, at)| strings.string(u32::try_from(*at).map_err(|_| overflow())?))
                .collect();
        }
        let Some(segment) = self.program_headers.iter().find(|p| p.kind == PT_DYNAMIC) else {
            return Ok(Vec::new());
        };
        let table = Record::new(
            self.data,
            "dynamic section",
            segment.offset,
            segment.file_size,
        )?;
        let entries = dynamic_entries(&table, segment.file_size)?;
        let value = |wanted: u64| entries.iter().find(|(t, _)| *t == wanted).map(|(_, v)| *v);
        let (Some(address), Some(size)) = (value(DT_STRTAB), value(DT_STRSZ)) else {
            return Ok(Vec::new());
        };
        let offset = self.file_offset(address).ok_or_else(|| {
            ElfError::Malformed(format!(
                "the dynamic string table's address {address:#x} is in no loaded segment"
            ))
        })?;
        let strings = Record::new(self.data, "dynamic string table", offset, size)?;
        entries
            .iter()
            .filter(|(tag, _)| *tag == DT_NEEDED)
            .map(|(_, at)| strings.string(u32::try_from(*at).map_err(|_| overflow())?))
            .collect()
    }

    /// The file offset of virtual address `address`, through the `PT_LOAD` segment that
    /// holds it.
    fn file_offset(&self, address: u64) -> Option<u64> {
        self.program_headers
            .iter()
            .filter(|p| p.kind == PT_LOAD)
            .find_map(|p| {
                let within = address.checked_sub(p.vaddr)?;
                (within < p.file_size).then(|| p.offset.checked_add(within))?
            })
    }

    /// The versions the file requires from shared libraries (from every
    /// `.gnu.version_r` section), each with the undefined dynamic symbols
    /// bound to it (from `.dynsym` and `.gnu.version`). Empty for a file
    /// without version needs, such as a static binary.
    pub fn version_needs(&self) -> Result<Vec<VersionNeed>, ElfError> {
        let mut needs = Vec::new();
        for section in self.sections.iter().filter(|s| s.kind == SHT_GNU_VERNEED) {
            self.read_version_needs(section, &mut needs)?;
        }
        if needs.is_empty() {
            return Ok(needs);
        }
        let Some(dynsym) = self.sections.iter().find(|s| s.kind == SHT_DYNSYM) else {
            return Ok(needs);
        };
        let Some(versym) = self.sections.iter().find(|s| s.kind == SHT_GNU_VERSYM) else {
            return Ok(needs);
        };
        let symbols = self.section_data(dynsym, "dynamic symbol table")?;
        let strings = self.linked_strings(dynsym, "dynamic string table")?;
        let versions = self.section_data(versym, "symbol version table")?;
        let count = dynsym.size / SYM_SIZE;
        if versym.size / 2 < count {
            return Err(ElfError::Malformed(format!(
                "the symbol version table has {} entries but the dynamic symbol table has {count}",
                versym.size / 2
            )));
        }
        // Symbol 0 is the reserved null symbol.
        for i in 1..count {
            let symbol = symbols.sub("dynamic symbol", i.saturating_mul(SYM_SIZE), SYM_SIZE)?;
            if symbol.u16(6)? != SHN_UNDEF {
                continue;
            }
            let index = versions
                .sub("symbol version", i.saturating_mul(2), 2)?
                .u16(0)?
                & !VERSYM_HIDDEN;
            if index < 2 {
                // 0: local, 1: global (unversioned).
                continue;
            }
            if let Some(need) = needs.iter_mut().find(|n| n.index == index) {
                need.symbols.push(strings.string(symbol.u32(0)?)?);
            }
        }
        Ok(needs)
    }

    /// Walks one `.gnu.version_r` section, appending each needed version.
    fn read_version_needs(
        &self,
        section: &SectionHeader,
        needs: &mut Vec<VersionNeed>,
    ) -> Result<(), ElfError> {
        let table = self.section_data(section, "version needs section")?;
        let strings = self.linked_strings(section, "version needs string table")?;
        // In a well-formed table every record is distinct, so there are at
        // most size / 16 of them; more means the offsets loop or overlap.
        let max_records = section.size / VERNEED_SIZE;
        let mut records: u64 = 0;
        let mut count_record = || {
            records = records.saturating_add(1);
            if records > max_records {
                Err(ElfError::Malformed(
                    "the version needs entries overlap or loop".to_owned(),
                ))
            } else {
                Ok(())
            }
        };
        let mut at: u64 = 0;
        for _ in 0..section.info {
            count_record()?;
            let need = table.sub("version need", at, VERNEED_SIZE)?;
            let aux_count = need.u16(2)?;
            let library = strings.string(need.u32(4)?)?;
            let mut aux_at = at
                .checked_add(u64::from(need.u32(8)?))
                .ok_or_else(overflow)?;
            for _ in 0..aux_count {
                count_record()?;
                let aux = table.sub("version need auxiliary entry", aux_at, VERNEED_SIZE)?;
                needs.push(VersionNeed {
                    library: library.clone(),
                    version: strings.string(aux.u32(8)?)?,
                    index: aux.u16(6)? & !VERSYM_HIDDEN,
                    symbols: Vec::new(),
                });
                match aux.u32(12)? {
                    0 => break,
                    next => aux_at = aux_at.checked_add(u64::from(next)).ok_or_else(overflow)?,
                }
            }
            match need.u32(12)? {
                0 => break,
                next => at = at.checked_add(u64::from(next)).ok_or_else(overflow)?,
            }
        }
        Ok(())
    }

    /// The bytes of a section (empty for a `SHT_NOBITS` section).
    fn section_data(
        &self,
        section: &SectionHeader,
        what: &'static str,
    ) -> Result<Record<'a>, ElfError> {
        let size = if section.kind == SHT_NOBITS {
            0
        } else {
            section.size
        };
        Record::new(self.data, what, section.offset, size)
    }

    /// The bytes of the string table that `section`'s `sh_link` names.
    fn linked_strings(
        &self,
        section: &SectionHeader,
        what: &'static str,
    ) -> Result<Record<'a>, ElfError> {
        let linked = usize::try_from(section.link)
            .ok()
            .and_then(|i| self.sections.get(i))
            .ok_or_else(|| {
                ElfError::Malformed(format!(
                    "a section links to section {}, but the file has {} sections",
                    section.link,
                    self.sections.len()
                ))
            })?;
        self.section_data(linked, what)
    }
}

/// The `(tag, value)` entries of a dynamic section of `size` bytes, up to `DT_NULL`.
fn dynamic_entries(table: &Record<'_>, size: u64) -> Result<Vec<(u64, u64)>, ElfError> {
    let mut entries = Vec::new();
    for i in 0..size / DYN_SIZE {
        let entry = table.sub("dynamic entry", i.saturating_mul(DYN_SIZE), DYN_SIZE)?;
        let tag = entry.u64(0)?;
        if tag == DT_NULL {
            break;
        }
        entries.push((tag, entry.u64(8)?));
    }
    Ok(entries)
}

/// The error for an offset computation that overflows 64 bits.
fn overflow() -> ElfError {
    ElfError::Malformed("an offset in the file overflows 64 bits".to_owned())
}

/// Reads the section header table (`e_shoff`, `e_shentsize`, `e_shnum`).
fn parse_sections(
    data: &[u8],
    shoff: u64,
    entsize: u16,
    shnum: u16,
) -> Result<Vec<SectionHeader>, ElfError> {
    if shoff == 0 {
        return Ok(Vec::new());
    }
    if u64::from(entsize) < SHDR_SIZE {
        return Err(ElfError::Malformed(format!(
            "section headers are {entsize} bytes each; ELF64 needs {SHDR_SIZE}"
        )));
    }
    let entsize = u64::from(entsize);
    let read = |index: u64| -> Result<SectionHeader, ElfError> {
        let offset = index
            .checked_mul(entsize)
            .and_then(|o| o.checked_add(shoff))
            .ok_or_else(overflow)?;
        let header = Record::new(data, "section header", offset, SHDR_SIZE)?;
        Ok(SectionHeader {
            kind: header.u32(4)?,
            offset: header.u64(24)?,
            size: header.u64(32)?,
            link: header.u32(40)?,
            info: header.u32(44)?,
        })
    };
    let count = if shnum == 0 {
        // Extended numbering: the real count is in section 0's sh_size.
        read(0)?.size
    } else {
        u64::from(shnum)
    };
    // Check the whole table first, so that a huge count in a small file fails
    // before anything is allocated for it.
    let table_len = count.checked_mul(entsize).ok_or_else(overflow)?;
    Record::new(data, "section header table", shoff, table_len)?;
    (0..count).map(read).collect()
}

/// Reads the program header table (`e_phoff`, `e_phentsize`, `e_phnum`).
fn parse_program_headers(
    data: &[u8],
    phoff: u64,
    entsize: u16,
    count: u64,
) -> Result<Vec<ProgramHeader>, ElfError> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if u64::from(entsize) < PHDR_SIZE {
        return Err(ElfError::Malformed(format!(
            "program headers are {entsize} bytes each; ELF64 needs {PHDR_SIZE}"
        )));
    }
    let entsize = u64::from(entsize);
    let table_len = count.checked_mul(entsize).ok_or_else(overflow)?;
    Record::new(data, "program header table", phoff, table_len)?;
    (0..count)
        .map(|index| {
            let offset = index
                .checked_mul(entsize)
                .and_then(|o| o.checked_add(phoff))
                .ok_or_else(overflow)?;
            let header = Record::new(data, "program header", offset, PHDR_SIZE)?;
            Ok(ProgramHeader {
                kind: header.u32(0)?,
                offset: header.u64(8)?,
                vaddr: header.u64(16)?,
                file_size: header.u64(32)?,
            })
        })
        .collect()
}

#[cfg(test)]
#[allow(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used
)]
mod tests {
    use super::*;
    use crate::testelf::{ElfBuilder, Need};

    /// A synthetic dynamic executable with two libraries and a symbol per
    /// version parses into the right needs, symbols mapped through versym.
    #[test]
    fn maps_undefined_symbols_to_their_versions() {
        let bytes = ElfBuilder::dynamic(
            EM_X86_64,
            &[
                Need::new("libc.so.6", &[("GLIBC_2.2.5", 2), ("GLIBC_2.39", 3)]),
                Need::new("libgcc_s.so.1", &[("GCC_3.0", 4)]),
            ],
            &[
                ("memcpy", 2, true),
                ("pidfd_getpid", 3, true),
                ("_Unwind_Resume", 4, true),
                ("defined_here", 3, false),
                ("unversioned", 1, true),
            ],
        )
        .build();
        let elf = Elf::parse(&bytes).unwrap();
        assert_eq!(elf.machine, EM_X86_64);
        assert_eq!(elf.file_type, ET_DYN);
        assert_eq!(
            elf.interpreter().unwrap().as_deref(),
            Some("/lib64/ld-linux-x86-64.so.2")
        );
        let needs = elf.version_needs().unwrap();
        let summary: Vec<(&str, &str, Vec<&str>)> = needs
            .iter()
            .map(|n| {
                (
                    n.library.as_str(),
                    n.version.as_str(),
                    n.symbols.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("libc.so.6", "GLIBC_2.2.5", vec!["memcpy"]),
                ("libc.so.6", "GLIBC_2.39", vec!["pidfd_getpid"]),
                ("libgcc_s.so.1", "GCC_3.0", vec!["_Unwind_Resume"]),
            ]
        );
    }

    /// A static file (no interpreter, no version sections) has no needs.
    #[test]
    fn static_file_has_no_needs() {
        let bytes = ElfBuilder::static_exec(EM_AARCH64).build();
        let elf = Elf::parse(&bytes).unwrap();
        assert_eq!(elf.interpreter().unwrap(), None);
        assert_eq!(elf.version_needs().unwrap(), Vec::new());
        assert_eq!(elf.file_type, ET_EXEC);
        assert_eq!(elf.machine, EM_AARCH64);
    }

    /// The test binary itself (a real ELF linked on this machine) parses,
    /// matches the host architecture, and needs GLIBC versions with symbols.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn parses_the_running_test_binary() {
        let bytes = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let elf = Elf::parse(&bytes).unwrap();
        let expected = match std::env::consts::ARCH {
            "x86_64" => EM_X86_64,
            "aarch64" => EM_AARCH64,
            _ => return,
        };
        assert_eq!(elf.machine, expected);
        assert!(elf.interpreter().unwrap().is_some());
        let needs = elf.version_needs().unwrap();
        let glibc: Vec<_> = needs
            .iter()
            .filter(|n| n.version.starts_with("GLIBC_2."))
            .collect();
        assert!(!glibc.is_empty(), "no GLIBC needs in {needs:?}");
        assert!(glibc.iter().any(|n| !n.symbols.is_empty()));
        assert!(needs.iter().any(|n| n.library == "libc.so.6"));
    }

    /// Files that are not ELF, or are 32-bit or big-endian, are told apart.
    #[test]
    fn identifies_class_and_encoding() {
        assert_eq!(Elf::parse(b"").unwrap_err(), ElfError::NotElf);
        assert_eq!(Elf::parse(b"#!/bin/sh\n").unwrap_err(), ElfError::NotElf);
        let mut bytes = ElfBuilder::static_exec(EM_X86_64).build();
        bytes[4] = 1;
        assert_eq!(Elf::parse(&bytes).unwrap_err(), ElfError::Not64Bit);
        bytes[4] = 2;
        bytes[5] = 2;
        assert_eq!(Elf::parse(&bytes).unwrap_err(), ElfError::BigEndian);
        bytes[5] = 7;
        assert!(matches!(
            Elf::parse(&bytes).unwrap_err(),
            ElfError::Malformed(_)
        ));
        bytes[5] = 1;
        bytes[4] = 9;
        assert!(matches!(
            Elf::parse(&bytes).unwrap_err(),
            ElfError::Malformed(_)
        ));
    }

    /// Every prefix of a valid dynamic file fails cleanly (no panic), and
    /// the header-only prefixes report a truncation.
    #[test]
    fn every_truncation_is_an_error() {
        let bytes = ElfBuilder::dynamic(
            EM_X86_64,
            &[Need::new("libc.so.6", &[("GLIBC_2.34", 2)])],
            &[("__libc_start_main", 2, true)],
        )
        .build();
        for len in 4..bytes.len() {
            let prefix = &bytes[..len];
            let result = Elf::parse(prefix).and_then(|elf| {
                elf.interpreter()?;
                elf.version_needs()
            });
            assert!(result.is_err(), "prefix of {len} bytes parsed");
        }
        assert!(matches!(
            Elf::parse(&bytes[..40]).unwrap_err(),
            ElfError::Truncated {
                what: "ELF header",
                ..
            }
        ));
    }

    /// Offsets and counts that point outside the file are errors, not panics.
    #[test]
    fn hostile_offsets_are_errors() {
        let good = ElfBuilder::dynamic(
            EM_X86_64,
            &[Need::new("libc.so.6", &[("GLIBC_2.34", 2)])],
            &[("__libc_start_main", 2, true)],
        );
        let layout = good.layout();
        let bytes = good.build();
        let check = |patch: &dyn Fn(&mut Vec<u8>)| {
            let mut b = bytes.clone();
            patch(&mut b);
            Elf::parse(&b).and_then(|elf| {
                elf.interpreter()?;
                elf.version_needs()
            })
        };
        let put32 =
            |b: &mut Vec<u8>, at: usize, v: u32| b[at..at + 4].copy_from_slice(&v.to_le_bytes());
        let put64 =
            |b: &mut Vec<u8>, at: usize, v: u64| b[at..at + 8].copy_from_slice(&v.to_le_bytes());
        let put16 =
            |b: &mut Vec<u8>, at: usize, v: u16| b[at..at + 2].copy_from_slice(&v.to_le_bytes());

        // e_shoff and e_phoff near u64::MAX.
        assert!(check(&|b| put64(b, 40, u64::MAX - 8)).is_err());
        assert!(check(&|b| put64(b, 32, u64::MAX)).is_err());
        // A huge section count in a small file.
        assert!(check(&|b| put16(b, 60, 0xfffe)).is_err());
        // Entry sizes too small for ELF64.
        assert!(check(&|b| put16(b, 58, 10)).is_err());
        assert!(check(&|b| put16(b, 54, 10)).is_err());
        // The verneed section's offset and size point past the end.
        let vr = layout.shdr(layout.verneed_index);
        assert!(check(&|b| put64(b, vr + 24, u64::MAX)).is_err());
        assert!(check(&|b| put64(b, vr + 32, 1 << 40)).is_err());
        // The verneed links to a section that does not exist.
        assert!(check(&|b| put32(b, vr + 40, 999)).is_err());
        // More verneed entries claimed than fit: the chain loops on itself.
        assert!(
            check(&|b| {
                put32(b, vr + 44, 1000);
                put32(b, layout.verneed_offset + 12, 16);
            })
            .is_err()
        );
        // vn_aux far past the section.
        assert!(check(&|b| put32(b, layout.verneed_offset + 8, u32::MAX)).is_err());
        // A name offset past the string table.
        assert!(check(&|b| put32(b, layout.verneed_offset + 16 + 8, 1 << 20)).is_err());
        // The interpreter segment points past the end.
        assert!(check(&|b| put64(b, layout.interp_phdr + 8, 1 << 40)).is_err());
        // The versym table is shorter than the symbol table.
        let vs = layout.shdr(layout.versym_index);
        assert!(check(&|b| put64(b, vs + 32, 2)).is_err());
        // The string table is not NUL-terminated at its end.
        let ds = layout.shdr(layout.dynstr_index);
        let err = check(&|b| {
            let size = u64::from_le_bytes(b[ds + 32..ds + 40].try_into().unwrap());
            put64(b, ds + 32, size - 1);
        });
        assert!(err.is_err());
    }

    /// A version-needs chain that loops back on itself is reported as such.
    #[test]
    fn looping_version_chain_is_malformed() {
        let builder = ElfBuilder::dynamic(
            EM_X86_64,
            &[Need::new(
                "libc.so.6",
                &[("GLIBC_2.34", 2), ("GLIBC_2.2.5", 3)],
            )],
            &[],
        );
        let layout = builder.layout();
        let mut bytes = builder.build();
        // Claim 60000 aux entries, and make the second one's vna_next step a
        // single byte: the records now overlap, which the cap detects before
        // the walk runs off the section.
        let aux_count = layout.verneed_offset + 2;
        bytes[aux_count..aux_count + 2].copy_from_slice(&60000u16.to_le_bytes());
        let second_aux_next = layout.verneed_offset + 16 + 16 + 12;
        bytes[second_aux_next..second_aux_next + 4].copy_from_slice(&1u32.to_le_bytes());
        let err = Elf::parse(&bytes).unwrap().version_needs().unwrap_err();
        assert_eq!(
            err,
            ElfError::Malformed("the version needs entries overlap or loop".to_owned())
        );
    }

    /// Error messages say what was being read, where, and how big the file is.
    #[test]
    fn truncation_message_names_the_structure() {
        let err = ElfError::Truncated {
            what: "section header table",
            offset: 1000,
            len: 640,
            file_len: 1200,
        };
        assert_eq!(
            err.to_string(),
            "the section header table (640 bytes at offset 1000) runs past the end of the file (1200 bytes)"
        );
    }
}
