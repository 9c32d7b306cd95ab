//! Test support: builds small synthetic 64-bit little-endian ELF files, so
//! that the parser and the checks can be tested on exact, known contents
//! (and on deliberately damaged copies of them).
//!
//! A dynamic file is laid out as: ELF header, one `PT_INTERP` program
//! header, the interpreter path, `.dynstr`, `.dynsym`, `.gnu.version`,
//! `.gnu.version_r` (each `Elf64_Verneed` followed by its `Elf64_Vernaux`
//! entries), `.dynamic` (a `DT_NEEDED` per library), then the section header
//! table. A static file is an ELF header
//! and one `PT_LOAD` program header, without sections.

#![allow(clippy::arithmetic_side_effects, clippy::indexing_slicing)]

use crate::elf::{ET_DYN, ET_EXEC};

/// Size of the ELF64 file header.
const EHDR: usize = 64;
/// Size of one ELF64 program header.
const PHDR: usize = 56;
/// Size of one ELF64 section header.
const SHDR: usize = 64;

/// One library's version needs: its file name and `(version, index)` pairs.
#[derive(Debug, Clone)]
pub struct Need {
    /// The library, e.g. `libc.so.6`.
    library: String,
    /// The versions needed from it, with their `vna_other` indices.
    versions: Vec<(String, u16)>,
}

impl Need {
    /// A library's needs.
    pub fn new(library: &str, versions: &[(&str, u16)]) -> Self {
        Self {
            library: library.to_owned(),
            versions: versions
                .iter()
                .map(|&(name, index)| (name.to_owned(), index))
                .collect(),
        }
    }
}

/// Where the interesting parts of a built file are, for tests that patch it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Layout {
    /// Offset of the `PT_INTERP` program header.
    pub interp_phdr: usize,
    /// Offset of the `.gnu.version_r` contents.
    pub verneed_offset: usize,
    /// Offset of the section header table.
    pub shoff: usize,
    /// Section index of `.dynstr`.
    pub dynstr_index: usize,
    /// Section index of `.gnu.version`.
    pub versym_index: usize,
    /// Section index of `.gnu.version_r`.
    pub verneed_index: usize,
}

impl Layout {
    /// Offset of section header `index`.
    pub fn shdr(&self, index: usize) -> usize {
        self.shoff + index * SHDR
    }
}

/// A synthetic ELF file description.
#[derive(Debug, Clone)]
pub struct ElfBuilder {
    /// `e_machine`.
    machine: u16,
    /// `e_type`.
    file_type: u16,
    /// `e_entry`.
    entry: u64,
    /// Whether to emit an interpreter and version sections.
    dynamic: bool,
    /// Whether to emit a `PT_DYNAMIC` whose `DT_FLAGS_1` has `DF_1_PIE`.
    pie_flag: bool,
    /// The version needs.
    needs: Vec<Need>,
    /// Dynamic symbols: name, version index, undefined?
    symbols: Vec<(String, u16, bool)>,
    /// Libraries needed (`DT_NEEDED`) besides those of `needs`.
    extra_libraries: Vec<String>,
}

impl ElfBuilder {
    /// A dynamically linked position-independent executable.
    pub fn dynamic(machine: u16, needs: &[Need], symbols: &[(&str, u16, bool)]) -> Self {
        Self {
            machine,
            file_type: ET_DYN,
            entry: 0x1040,
            dynamic: true,
            pie_flag: false,
            needs: needs.to_vec(),
            symbols: symbols
                .iter()
                .map(|&(name, index, undefined)| (name.to_owned(), index, undefined))
                .collect(),
            extra_libraries: Vec::new(),
        }
    }

    /// Adds a needed library (`DT_NEEDED`) with no version needs.
    pub fn needs_library(mut self, library: &str) -> Self {
        self.extra_libraries.push(library.to_owned());
        self
    }

    /// A statically linked executable (no interpreter, no sections).
    pub fn static_exec(machine: u16) -> Self {
        Self {
            machine,
            file_type: ET_EXEC,
            entry: 0x40_0078,
            dynamic: false,
            pie_flag: false,
            needs: Vec::new(),
            symbols: Vec::new(),
            extra_libraries: Vec::new(),
        }
    }

    /// Sets `e_type`.
    pub fn file_type(mut self, file_type: u16) -> Self {
        self.file_type = file_type;
        self
    }

    /// Sets `e_entry`.
    pub fn entry(mut self, entry: u64) -> Self {
        self.entry = entry;
        self
    }

    /// Adds a dynamic section flagging the file as a PIE (`DF_1_PIE`).
    pub fn pie_flag(mut self) -> Self {
        self.pie_flag = true;
        self
    }

    /// Where the parts of the built file are.
    pub fn layout(&self) -> Layout {
        self.assemble().1
    }

    /// The file's bytes.
    pub fn build(&self) -> Vec<u8> {
        self.assemble().0
    }

    /// Lays the file out and returns its bytes and layout.
    fn assemble(&self) -> (Vec<u8>, Layout) {
        let phnum = 1 + usize::from(self.pie_flag);
        let mut out = vec![0u8; EHDR + PHDR * phnum];
        let mut layout = Layout::default();
        if self.pie_flag {
            // PT_DYNAMIC: DT_FLAGS_1 = DF_1_PIE, then DT_NULL.
            let at = out.len();
            for value in [0x6fff_fffb_u64, 0x0800_0000, 0, 0] {
                out.extend_from_slice(&value.to_le_bytes());
            }
            put32(&mut out, EHDR + PHDR, 2);
            put64(&mut out, EHDR + PHDR + 8, at as u64);
            put64(&mut out, EHDR + PHDR + 32, 32);
        }
        if !self.dynamic {
            // One PT_LOAD covering the headers.
            put32(&mut out, EHDR, 1);
            put32(&mut out, EHDR + 4, 5);
            put64(&mut out, EHDR + 16, 0x40_0000);
            let len = out.len() as u64;
            put64(&mut out, EHDR + 32, len);
            put64(&mut out, EHDR + 40, len);
            self.header(&mut out, phnum as u16, 0, 0);
            return (out, layout);
        }

        layout.interp_phdr = EHDR;
        // The loader al2023 has for the machine (the package check compares it).
        let interp: &[u8] = if self.machine == crate::elf::EM_AARCH64 {
            b"/lib/ld-linux-aarch64.so.1\0"
        } else {
            b"/lib64/ld-linux-x86-64.so.2\0"
        };
        let interp_at = out.len();
        out.extend_from_slice(interp);
        put32(&mut out, EHDR, 3);
        put64(&mut out, EHDR + 8, interp_at as u64);
        put64(&mut out, EHDR + 32, interp.len() as u64);

        // .dynstr
        let mut strings = vec![0u8];
        let mut intern = |s: &str| {
            let at = strings.len() as u32;
            strings.extend_from_slice(s.as_bytes());
            strings.push(0);
            at
        };
        let lib_names: Vec<u32> = self.needs.iter().map(|n| intern(&n.library)).collect();
        let ver_names: Vec<Vec<u32>> = self
            .needs
            .iter()
            .map(|n| n.versions.iter().map(|(v, _)| intern(v)).collect())
            .collect();
        let sym_names: Vec<u32> = self.symbols.iter().map(|(s, _, _)| intern(s)).collect();
        let extra_names: Vec<u32> = self.extra_libraries.iter().map(|l| intern(l)).collect();
        let dynstr = (out.len(), strings.len());
        out.extend_from_slice(&strings);
        align(&mut out, 8);

        // .dynsym: the null symbol, then ours.
        let dynsym_at = out.len();
        out.extend_from_slice(&[0u8; 24]);
        for (i, (_, _, undefined)) in self.symbols.iter().enumerate() {
            let mut sym = [0u8; 24];
            sym[0..4].copy_from_slice(&sym_names[i].to_le_bytes());
            sym[4] = 0x12; // STB_GLOBAL, STT_FUNC
            let shndx: u16 = if *undefined { 0 } else { 1 };
            sym[6..8].copy_from_slice(&shndx.to_le_bytes());
            out.extend_from_slice(&sym);
        }
        let dynsym = (dynsym_at, out.len() - dynsym_at);

        // .gnu.version: index 0 for the null symbol.
        let versym_at = out.len();
        out.extend_from_slice(&[0, 0]);
        for (_, index, _) in &self.symbols {
            out.extend_from_slice(&index.to_le_bytes());
        }
        let versym = (versym_at, out.len() - versym_at);
        align(&mut out, 8);

        // .gnu.version_r: each verneed followed by its auxes.
        let verneed_at = out.len();
        layout.verneed_offset = verneed_at;
        for (i, need) in self.needs.iter().enumerate() {
            let count = need.versions.len();
            let last = i + 1 == self.needs.len();
            let mut rec = [0u8; 16];
            rec[0..2].copy_from_slice(&1u16.to_le_bytes());
            rec[2..4].copy_from_slice(&(count as u16).to_le_bytes());
            rec[4..8].copy_from_slice(&lib_names[i].to_le_bytes());
            rec[8..12].copy_from_slice(&16u32.to_le_bytes());
            let next = if last { 0 } else { 16 * (1 + count as u32) };
            rec[12..16].copy_from_slice(&next.to_le_bytes());
            out.extend_from_slice(&rec);
            for (j, (_, index)) in need.versions.iter().enumerate() {
                let mut aux = [0u8; 16];
                aux[6..8].copy_from_slice(&index.to_le_bytes());
                aux[8..12].copy_from_slice(&ver_names[i][j].to_le_bytes());
                let next: u32 = if j + 1 == count { 0 } else { 16 };
                aux[12..16].copy_from_slice(&next.to_le_bytes());
                out.extend_from_slice(&aux);
            }
        }
        let verneed = (verneed_at, out.len() - verneed_at);
        align(&mut out, 8);

        // .dynamic: DT_NEEDED for every library, then DT_NULL.
        let dynamic_at = out.len();
        for name in lib_names.iter().chain(&extra_names) {
            out.extend_from_slice(&1u64.to_le_bytes());
            out.extend_from_slice(&u64::from(*name).to_le_bytes());
        }
        out.extend_from_slice(&[0u8; 16]);
        let dynamic = (dynamic_at, out.len() - dynamic_at);

        // Section headers: null, .dynstr, .dynsym, .gnu.version, .gnu.version_r, .dynamic.
        let shoff = out.len();
        layout.shoff = shoff;
        layout.dynstr_index = 1;
        layout.versym_index = 3;
        layout.verneed_index = 4;
        // (type, (offset, size), link, info, entsize)
        let sections: [SectionSpec; 6] = [
            (0, (0, 0), 0, 0, 0),
            (3, dynstr, 0, 0, 0),
            (11, dynsym, 1, 1, 24),
            (0x6fff_ffff, versym, 2, 0, 2),
            (0x6fff_fffe, verneed, 1, self.needs.len() as u32, 0),
            (6, dynamic, 1, 0, 16),
        ];
        for (kind, (offset, size), link, info, entsize) in sections {
            let mut sh = [0u8; SHDR];
            sh[4..8].copy_from_slice(&kind.to_le_bytes());
            sh[24..32].copy_from_slice(&(offset as u64).to_le_bytes());
            sh[32..40].copy_from_slice(&(size as u64).to_le_bytes());
            sh[40..44].copy_from_slice(&link.to_le_bytes());
            sh[44..48].copy_from_slice(&info.to_le_bytes());
            sh[56..64].copy_from_slice(&entsize.to_le_bytes());
            out.extend_from_slice(&sh);
        }
        self.header(&mut out, phnum as u16, shoff as u64, sections.len() as u16);
        (out, layout)
    }

    /// Writes the ELF header, with `phnum` program headers at offset 64.
    fn header(&self, out: &mut [u8], phnum: u16, shoff: u64, shnum: u16) {
        out[0..4].copy_from_slice(b"\x7fELF");
        out[4] = 2; // ELFCLASS64
        out[5] = 1; // ELFDATA2LSB
        out[6] = 1; // EV_CURRENT
        out[16..18].copy_from_slice(&self.file_type.to_le_bytes());
        out[18..20].copy_from_slice(&self.machine.to_le_bytes());
        out[20..24].copy_from_slice(&1u32.to_le_bytes());
        put64(out, 24, self.entry);
        put64(out, 32, EHDR as u64);
        put64(out, 40, shoff);
        out[52..54].copy_from_slice(&(EHDR as u16).to_le_bytes());
        out[54..56].copy_from_slice(&(PHDR as u16).to_le_bytes());
        out[56..58].copy_from_slice(&phnum.to_le_bytes());
        out[58..60].copy_from_slice(&(SHDR as u16).to_le_bytes());
        out[60..62].copy_from_slice(&shnum.to_le_bytes());
        // e_shstrndx stays 0: the parser finds sections by type, not name.
    }
}

/// A section header to write: type, (offset, size), link, info, entsize.
type SectionSpec = (u32, (usize, usize), u32, u32, u64);

/// Writes a little-endian `u32` at `at`.
fn put32(out: &mut [u8], at: usize, value: u32) {
    out[at..at + 4].copy_from_slice(&value.to_le_bytes());
}

/// Writes a little-endian `u64` at `at`.
fn put64(out: &mut [u8], at: usize, value: u64) {
    out[at..at + 8].copy_from_slice(&value.to_le_bytes());
}

/// Pads `out` with zeros to a multiple of `to`.
fn align(out: &mut Vec<u8>, to: usize) {
    while !out.len().is_multiple_of(to) {
        out.push(0);
    }
}
