//! The shared libraries a binary may need on `provided.al2023`, and the check of a binary's
//! `DT_NEEDED` list against them.
//!
//! `provided.al2023` is built from the AL2023 *minimal* container image (AWS, "Using AL2023
//! in AWS Lambda": docs.aws.amazon.com/linux/al2023/ug/lambda.html), which has glibc 2.34
//! (docs.aws.amazon.com/linux/al2023/ug/core-glibc.html) and few other libraries. The list
//! below is what can be counted on there, conservatively:
//!
//! - **glibc 2.34's own shared libraries**: `libc.so.6`, `libm.so.6`, `libmvec.so.1`,
//!   `libpthread.so.0`, `libdl.so.2`, `librt.so.1`, `libutil.so.1`, `libresolv.so.2`,
//!   `libanl.so.1`, `libBrokenLocale.so.1`, `libc_malloc_debug.so.0`, `libthread_db.so.1`,
//!   the `libnss_*.so.2` modules (`files`, `dns`, `compat`, `hesiod`), and the loaders
//!   `ld-linux-x86-64.so.2` and `ld-linux-aarch64.so.1` (since glibc 2.34 most of these are
//!   stubs whose functions live in `libc.so.6`, but the files remain for old binaries);
//! - **`libgcc_s.so.1`** (the `libgcc` package, in every AL2023 image: every Rust binary
//!   that unwinds needs it, and Rust functions run on `provided.al2023` with it).
//!
//! Anything else (`libssl.so.3`, `libcrypto.so.3`, `libz.so.1`, `libstdc++.so.6`,
//! `libpq.so.5`…) may or may not be in a given runtime version, so `coda package` reports
//! it: the fix is to link it statically, to ship it in a layer (Lambda puts `/opt/lib` on
//! `LD_LIBRARY_PATH`), or, when the user knows the runtime provides it, to say so with
//! `--allow-library`.

/// The sonames `provided.al2023` has (see the module docs for the source).
pub const PROVIDED: &[&str] = &[
    "libc.so.6",
    "libm.so.6",
    "libmvec.so.1",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "libutil.so.1",
    "libresolv.so.2",
    "libanl.so.1",
    "libBrokenLocale.so.1",
    "libc_malloc_debug.so.0",
    "libthread_db.so.1",
    "libnss_files.so.2",
    "libnss_dns.so.2",
    "libnss_compat.so.2",
    "libnss_hesiod.so.2",
    "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1",
    "libgcc_s.so.1",
];

/// The libraries of `needed` that neither `provided.al2023` nor `allowed` has, in order.
pub fn missing(needed: &[String], allowed: &[String]) -> Vec<String> {
    needed
        .iter()
        .filter(|lib| !PROVIDED.contains(&lib.as_str()) && !allowed.contains(lib))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc's and libgcc's libraries pass; anything else is missing unless allowed.
    #[test]
    fn missing_libraries() {
        let needed: Vec<String> = ["libgcc_s.so.1", "libc.so.6", "libpq.so.5", "libssl.so.3"]
            .map(String::from)
            .to_vec();
        assert_eq!(missing(&needed, &[]), ["libpq.so.5", "libssl.so.3"]);
        assert_eq!(missing(&needed, &["libssl.so.3".into()]), ["libpq.so.5"]);
        assert!(missing(&[], &[]).is_empty());
    }
}
