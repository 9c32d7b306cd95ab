//! Publishing the X-Ray trace id as `_X_AMZN_TRACE_ID` with flat memory
//! (`docs/runtime-api.md` §2.3, §9 #21).
//!
//! Lambda asks OS-only runtimes to put each invocation's `Lambda-Runtime-Trace-Id` in the
//! `_X_AMZN_TRACE_ID` environment variable, where AWS SDKs look for it. The obvious way,
//! `std::env::set_var`, calls glibc's `setenv`, which keeps a private copy of every distinct
//! value it was ever given (so that old `getenv` pointers stay valid): with a new trace id per
//! invocation the process grows by about 265 bytes per invocation, forever.
//!
//! Instead, this module owns two buffers holding `_X_AMZN_TRACE_ID=<value>\0` and hands them
//! to `putenv`, which stores the pointer itself and copies nothing. Each invocation writes the
//! buffer that is *not* in the environment, then swaps it in with one `putenv`; the buffer a
//! reader may have just received from `getenv` is left untouched until the invocation after.
//! Memory stays flat: two buffers, grown only when a longer value arrives.
//!
//! This is the only module of the crate with `unsafe` code (`putenv` is a C function). It is
//! used only when the runtime serves one invocation at a time; with
//! `AWS_LAMBDA_MAX_CONCURRENCY` > 1 the environment is never touched (§2.3).

#![allow(unsafe_code)]

const NAME: &str = "_X_AMZN_TRACE_ID";

/// The `_X_AMZN_TRACE_ID` publisher. Lives on the loop thread.
#[derive(Debug)]
pub(crate) struct TraceEnv {
    buffers: [Buffer; 2],
    /// Which buffer is in the environment, if any.
    active: Option<usize>,
    /// Whether the variable may hold a value this publisher did not set (inherited).
    foreign: bool,
}

/// A leaked, never-freed byte buffer: the environment may point into it at any time.
#[derive(Debug)]
struct Buffer {
    ptr: *mut u8,
    capacity: usize,
    len: usize,
}

impl Buffer {
    const EMPTY: Buffer = Buffer {
        ptr: std::ptr::null_mut(),
        capacity: 0,
        len: 0,
    };

    fn contents(&self) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: `ptr` came from a leaked `Box<[u8]>` of `capacity` bytes, `len <= capacity`,
        // and the bytes are only written through `write` while this buffer is not active.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }

    /// Writes `NAME=value\0`, growing (and abandoning the old allocation) when needed.
    fn write(&mut self, value: &str) {
        let needed = NAME.len() + 1 + value.len() + 1;
        if needed > self.capacity {
            // The old allocation is abandoned, not freed: a reader of the environment could in
            // theory still hold a pointer into it. Growth happens only for longer values than
            // any before, so the total abandoned is bounded by the largest header.
            let capacity = needed.next_power_of_two().max(256);
            let leaked: &'static mut [u8] = Box::leak(vec![0u8; capacity].into_boxed_slice());
            self.ptr = leaked.as_mut_ptr();
            self.capacity = capacity;
        }
        let mut bytes = Vec::with_capacity(needed);
        bytes.extend_from_slice(NAME.as_bytes());
        bytes.push(b'=');
        bytes.extend_from_slice(value.as_bytes());
        bytes.push(0);
        // SAFETY: `ptr` points to `capacity >= needed` writable bytes that nothing else
        // writes, and this buffer is not in the environment while it is rewritten.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.ptr, needed) };
        self.len = needed - 1;
    }
}

impl TraceEnv {
    pub(crate) fn new() -> TraceEnv {
        TraceEnv {
            buffers: [Buffer::EMPTY, Buffer::EMPTY],
            active: None,
            foreign: std::env::var_os(NAME).is_some(),
        }
    }

    /// Sets `_X_AMZN_TRACE_ID` to `value`, or removes it when `None` (so a previous trace id
    /// does not leak into an invocation that has none, §9 #21). A value with a NUL byte cannot
    /// be an environment value and is treated as absent.
    pub(crate) fn publish(&mut self, value: Option<&str>) {
        let value = value.filter(|v| !v.contains('\0'));
        let Some(value) = value else {
            if self.active.is_some() || self.foreign {
                // SAFETY: called on the loop thread between invocations, when the runtime's
                // own threads are done; same contract as any `remove_var` (see module docs).
                unsafe { std::env::remove_var(NAME) };
                self.active = None;
                self.foreign = false;
            }
            return;
        };
        if let Some(active) = self.active
            && &self.buffers[active].contents()[NAME.len() + 1..] == value.as_bytes()
        {
            return;
        }
        let next = self.active.map_or(0, |a| 1 - a);
        self.buffers[next].write(value);
        put(self.buffers[next].ptr);
        self.active = Some(next);
        self.foreign = false;
    }
}

#[cfg(unix)]
fn put(entry: *mut u8) {
    unsafe extern "C" {
        fn putenv(string: *mut std::ffi::c_char) -> std::ffi::c_int;
    }
    // SAFETY: `entry` is a NUL-terminated `NAME=value` string in a leaked buffer that stays
    // valid for the life of the process and is not written while it is in the environment.
    // `putenv` replaces the variable's pointer under the C library's own lock. Other threads
    // calling `getenv` at this instant see either the old or the new pointer, both valid.
    unsafe {
        putenv(entry.cast());
    }
}

#[cfg(not(unix))]
fn put(entry: *mut u8) {
    // No `putenv` with pointer semantics outside Unix; Lambda runs Linux, this keeps local
    // builds working. SAFETY: as for `remove_var` above.
    let text = {
        // SAFETY: `entry` is NUL-terminated (see `Buffer::write`).
        let c = unsafe { std::ffi::CStr::from_ptr(entry.cast()) };
        c.to_string_lossy().into_owned()
    };
    if let Some((_, value)) = text.split_once('=') {
        unsafe { std::env::set_var(NAME, value) };
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn getenv_ptr() -> usize {
        unsafe extern "C" {
            fn getenv(name: *const std::ffi::c_char) -> *mut std::ffi::c_char;
        }
        // SAFETY: the name is a NUL-terminated literal; only the pointer value is used.
        unsafe { getenv(c"_X_AMZN_TRACE_ID".as_ptr()) as usize }
    }

    /// Values read back through `std::env`, absence removes the variable (§9 #21), and
    /// thousands of distinct values reuse the same two buffers: memory stays flat where
    /// `setenv` would keep a copy of each.
    #[test]
    fn publishes_with_two_buffers() {
        let mut env = TraceEnv::new();
        env.publish(Some("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"));
        assert_eq!(
            std::env::var(NAME).unwrap(),
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
        );
        env.publish(None);
        assert!(std::env::var_os(NAME).is_none());
        let long = format!("Root=1-{};Lineage={}", "a".repeat(24), "b".repeat(600));
        env.publish(Some(&long));
        assert_eq!(std::env::var(NAME).unwrap(), long);

        let mut pointers = HashSet::new();
        for i in 0..5_000 {
            let id = format!(
                "Root=1-{i:08x}-{:024x};Parent={:016x};Sampled=1",
                i * 7,
                i * 13
            );
            env.publish(Some(&id));
            pointers.insert(getenv_ptr());
            assert_eq!(std::env::var(NAME).unwrap(), id);
        }
        assert_eq!(
            pointers.len(),
            2,
            "every value must live in one of the two buffers"
        );

        env.publish(Some("with\0nul"));
        assert!(std::env::var_os(NAME).is_none());
        env.publish(None);
    }
}
