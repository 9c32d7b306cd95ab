//! glibc symbol versions: parsing names such as `GLIBC_2.34`, ordering them,
//! and checking a binary's version needs against the glibc of Lambda's
//! `provided.al2023` runtime (glibc 2.34).
//!
//! A binary linked against a newer glibc records the newer versions of the
//! symbols it uses (e.g. `pidfd_getpid@GLIBC_2.39`); the dynamic loader then
//! refuses to start it on an older glibc. Checking before upload turns that
//! runtime failure into a packaging error that names the culprits.

use std::fmt;

use crate::elf::VersionNeed;

/// The glibc release of Lambda's `provided.al2023` runtime.
pub const AL2023_GLIBC: Version = Version::new(2, 34, 0);

/// Prefix of the version names glibc defines.
const PREFIX: &str = "GLIBC_";

/// At most this many symbol names are listed per unmet version.
const MAX_SYMBOLS_SHOWN: usize = 10;

/// Version-name features that are not releases, with the glibc release
/// that introduced them.
const FEATURES: &[(&str, Version)] = &[
    // Needed by binaries linked with `-z pack-relative-relocs`.
    ("GLIBC_ABI_DT_RELR", Version::new(2, 36, 0)),
];

/// A glibc release number such as 2.34 or 2.2.5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The major number (2 for every glibc since 1997).
    major: u32,
    /// The minor number.
    minor: u32,
    /// The patch number, 0 when absent.
    patch: u32,
}

impl Version {
    /// A version from its numbers.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        Self {
            major,
            minor,
            patch,
        }
    }

    /// Parses `2.34` or `2.2.5` (two or three decimal numbers).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.split('.');
        let number = |part: Option<&str>| -> Option<u32> {
            let part = part?;
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            part.parse().ok()
        };
        let major = number(parts.next())?;
        let minor = number(parts.next())?;
        let patch = match parts.next() {
            None => 0,
            some => number(some)?,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Self::new(major, minor, patch))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)?;
        if self.patch != 0 {
            write!(f, ".{}", self.patch)?;
        }
        Ok(())
    }
}

/// What one `GLIBC_*` version name asks of the C library.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Requirement {
    /// `GLIBC_x.y[.z]`: a symbol as of that glibc release.
    Release(Version),
    /// `GLIBC_PRIVATE`: glibc's internal interface, present in every release.
    Private,
    /// Any other `GLIBC_*` name, e.g. `GLIBC_ABI_DT_RELR`.
    Feature(String),
}

impl Requirement {
    /// The requirement a version name states, or `None` if the name is not
    /// one of glibc's (e.g. `GCC_3.0` from libgcc_s).
    pub fn from_name(name: &str) -> Option<Self> {
        let rest = name.strip_prefix(PREFIX)?;
        Some(match Version::parse(rest) {
            Some(version) => Self::Release(version),
            None if rest == "PRIVATE" => Self::Private,
            None => Self::Feature(name.to_owned()),
        })
    }

    /// The release that introduced a feature name, if known.
    fn feature_release(name: &str) -> Option<Version> {
        FEATURES
            .iter()
            .find(|(feature, _)| *feature == name)
            .map(|&(_, release)| release)
    }

    /// Whether a glibc of release `glibc` provides this.
    pub fn is_met_by(&self, glibc: Version) -> bool {
        match self {
            Self::Release(version) => *version <= glibc,
            Self::Private => true,
            Self::Feature(name) => Self::feature_release(name).is_some_and(|r| r <= glibc),
        }
    }
}

/// A glibc version name that al2023's glibc does not provide, with the
/// symbols that need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmet {
    /// The version name, e.g. `GLIBC_2.39`.
    pub name: String,
    /// What the name requires.
    pub requirement: Requirement,
    /// The undefined symbols bound to it, sorted and without duplicates.
    pub symbols: Vec<String>,
}

impl fmt::Display for Unmet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "needs {} ", self.name)?;
        match &self.requirement {
            Requirement::Feature(name) => match Requirement::feature_release(name) {
                Some(release) => write!(f, "(glibc {release}; al2023 has {AL2023_GLIBC})")?,
                None => write!(f, "(not in al2023's glibc {AL2023_GLIBC})")?,
            },
            _ => write!(f, "(al2023 has {AL2023_GLIBC})")?,
        }
        let mut symbols = self.symbols.iter();
        for (i, symbol) in symbols.by_ref().take(MAX_SYMBOLS_SHOWN).enumerate() {
            f.write_str(if i == 0 { ": " } else { ", " })?;
            f.write_str(symbol)?;
        }
        let more = symbols.len();
        if more > 0 {
            write!(f, " and {more} more")?;
        }
        Ok(())
    }
}

/// The outcome of checking a binary's version needs against al2023.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Check {
    /// Every `GLIBC_*` version name the binary needs, oldest first, once each.
    pub required: Vec<String>,
    /// The names al2023's glibc lacks, oldest first, once each.
    pub unmet: Vec<Unmet>,
}

impl Check {
    /// Checks `needs` against the glibc of `provided.al2023`.
    pub fn al2023(needs: &[VersionNeed]) -> Self {
        let mut found: Vec<(Requirement, &VersionNeed)> = needs
            .iter()
            .filter_map(|need| Some((Requirement::from_name(&need.version)?, need)))
            .collect();
        // Releases by number, then GLIBC_PRIVATE, then features by name.
        found.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.version.cmp(&b.1.version)));

        let mut check = Self::default();
        for (requirement, need) in found {
            if check.required.last() != Some(&need.version) {
                check.required.push(need.version.clone());
            }
            if requirement.is_met_by(AL2023_GLIBC) {
                continue;
            }
            // The same name may be needed from several libraries (libc,
            // libm, ld.so): merge them into one entry.
            if check.unmet.last().is_none_or(|u| u.name != need.version) {
                check.unmet.push(Unmet {
                    name: need.version.clone(),
                    requirement,
                    symbols: Vec::new(),
                });
            }
            if let Some(unmet) = check.unmet.last_mut() {
                unmet.symbols.extend(need.symbols.iter().cloned());
            }
        }
        for unmet in &mut check.unmet {
            unmet.symbols.sort();
            unmet.symbols.dedup();
        }
        check
    }

    /// The newest release-numbered name required, e.g. `GLIBC_2.34`.
    pub fn newest(&self) -> Option<&str> {
        self.required
            .iter()
            .rev()
            .find(|name| matches!(Requirement::from_name(name), Some(Requirement::Release(_))))
            .map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a need from library, version name and symbols.
    fn need(library: &str, version: &str, symbols: &[&str]) -> VersionNeed {
        VersionNeed {
            library: library.to_owned(),
            version: version.to_owned(),
            index: 2,
            symbols: symbols.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    /// Two- and three-part versions parse; anything else does not.
    #[test]
    fn parses_versions() {
        assert_eq!(Version::parse("2.34"), Some(Version::new(2, 34, 0)));
        assert_eq!(Version::parse("2.2.5"), Some(Version::new(2, 2, 5)));
        for bad in [
            "",
            "2",
            "2.",
            ".3",
            "2.x",
            "2.3.4.5",
            "2.+3",
            "2. 3",
            "99999999999.1",
        ] {
            assert_eq!(Version::parse(bad), None, "{bad:?}");
        }
        assert_eq!(Version::new(2, 2, 5).to_string(), "2.2.5");
        assert_eq!(Version::new(2, 34, 0).to_string(), "2.34");
    }

    /// Versions compare numerically, not as strings (2.4 < 2.34).
    #[test]
    fn compares_numerically() {
        let v = |s| Version::parse(s).unwrap();
        assert!(v("2.4") < v("2.34"));
        assert!(v("2.2.5") < v("2.3"));
        assert!(v("2.3") < v("2.3.4"));
        assert!(v("2.34") < v("2.35"));
        assert!(v("2.34") == v("2.34.0"));
    }

    /// Names map to requirements; non-glibc names are ignored.
    #[test]
    fn classifies_names() {
        assert_eq!(
            Requirement::from_name("GLIBC_2.34"),
            Some(Requirement::Release(Version::new(2, 34, 0)))
        );
        assert_eq!(
            Requirement::from_name("GLIBC_PRIVATE"),
            Some(Requirement::Private)
        );
        assert_eq!(
            Requirement::from_name("GLIBC_ABI_DT_RELR"),
            Some(Requirement::Feature("GLIBC_ABI_DT_RELR".to_owned()))
        );
        assert_eq!(Requirement::from_name("GCC_3.0"), None);
        assert_eq!(Requirement::from_name("glibc_2.3"), None);
    }

    /// 2.34 and older pass, 2.35 and newer fail, as do unknown features.
    #[test]
    fn al2023_boundary() {
        let met = |name| {
            Requirement::from_name(name)
                .unwrap()
                .is_met_by(AL2023_GLIBC)
        };
        assert!(met("GLIBC_2.2.5"));
        assert!(met("GLIBC_2.34"));
        assert!(met("GLIBC_PRIVATE"));
        assert!(!met("GLIBC_2.35"));
        assert!(!met("GLIBC_2.34.1"));
        assert!(!met("GLIBC_3.0"));
        assert!(!met("GLIBC_ABI_DT_RELR"));
        assert!(!met("GLIBC_ABI_SOMETHING_NEW"));
    }

    /// The check lists all glibc names in version order, and gathers the
    /// unmet ones with their symbols, merged across libraries.
    #[test]
    fn check_lists_and_merges() {
        let needs = [
            need("libgcc_s.so.1", "GCC_3.0", &["_Unwind_Resume"]),
            need("libc.so.6", "GLIBC_2.39", &["pidfd_getpid"]),
            need("libc.so.6", "GLIBC_2.34", &["__libc_start_main"]),
            need("libc.so.6", "GLIBC_2.2.5", &["memcpy"]),
            need("libm.so.6", "GLIBC_2.39", &["fake_math", "pidfd_getpid"]),
            need("libc.so.6", "GLIBC_ABI_DT_RELR", &[]),
            need("libc.so.6", "GLIBC_2.35", &["b", "a"]),
        ];
        let check = Check::al2023(&needs);
        assert_eq!(
            check.required,
            [
                "GLIBC_2.2.5",
                "GLIBC_2.34",
                "GLIBC_2.35",
                "GLIBC_2.39",
                "GLIBC_ABI_DT_RELR"
            ]
        );
        assert_eq!(check.newest(), Some("GLIBC_2.39"));
        let shown: Vec<String> = check.unmet.iter().map(ToString::to_string).collect();
        assert_eq!(
            shown,
            [
                "needs GLIBC_2.35 (al2023 has 2.34): a, b",
                "needs GLIBC_2.39 (al2023 has 2.34): fake_math, pidfd_getpid",
                "needs GLIBC_ABI_DT_RELR (glibc 2.36; al2023 has 2.34)",
            ]
        );
    }

    /// A binary needing only old versions has nothing unmet.
    #[test]
    fn old_versions_pass() {
        let check = Check::al2023(&[
            need("libc.so.6", "GLIBC_2.2.5", &["memcpy"]),
            need("libc.so.6", "GLIBC_2.34", &["__libc_start_main"]),
        ]);
        assert!(check.unmet.is_empty());
        assert_eq!(check.newest(), Some("GLIBC_2.34"));
        assert_eq!(Check::al2023(&[]), Check::default());
    }

    /// Long symbol lists are cut after ten names.
    #[test]
    fn long_symbol_lists_are_cut() {
        let names: Vec<String> = (0..13).map(|i| format!("s{i:02}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let check = Check::al2023(&[need("libc.so.6", "GLIBC_2.99", &refs)]);
        assert_eq!(
            check.unmet[0].to_string(),
            "needs GLIBC_2.99 (al2023 has 2.34): s00, s01, s02, s03, s04, s05, s06, s07, s08, s09 and 3 more"
        );
    }
}
