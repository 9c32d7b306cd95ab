//! "Max Memory Used": the memory of the function's whole process tree, read from `/proc`.
//!
//! Lambda's figure is the peak of the sandbox's memory cgroup: every process of the
//! function counts, so a runtime started through a wrapper script (`sh` running `python`)
//! reports what Python uses, not the shell's 2 MB. Without a cgroup of its own the emulator
//! approximates it from the processes it can see:
//!
//! - the **tree** is the function process and its descendants (`/proc/<pid>/task/<tid>/children`,
//!   followed recursively);
//! - at each sample it takes the larger of the tree's **current** resident memory (the sum of
//!   `VmRSS`) and the largest single **peak** (`VmHWM`, each process's own high-water mark,
//!   which catches a peak between samples);
//! - the emulator samples at the end of every invocation and keeps the maximum for the life
//!   of the process, as Lambda's figure is the peak since the environment started.
//!
//! The sum of the peaks would overstate (processes peak at different moments); the figure
//! above can understate a tree whose processes peak together between two samples. Page
//! cache, which a cgroup also charges, is not counted.

use std::fs;

/// One sample of the tree of `leader`, in kB: the larger of its current total resident
/// memory and its largest single peak; `None` when `/proc` has no such process.
pub(crate) fn sample_kb(leader: u32) -> Option<u64> {
    let mut rss_total = 0u64;
    let mut peak_max = 0u64;
    let mut seen = false;
    for pid in tree(leader) {
        let Ok(status) = fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        seen = true;
        rss_total += field_kb(&status, "VmRSS:").unwrap_or(0);
        peak_max = peak_max.max(field_kb(&status, "VmHWM:").unwrap_or(0));
    }
    seen.then_some(rss_total.max(peak_max))
}

/// `leader` and its descendants, as far as `/proc` shows them (at most 4096).
pub(crate) fn tree(leader: u32) -> Vec<u32> {
    let mut stack = vec![leader];
    let mut visited = Vec::new();
    while let Some(pid) = stack.pop() {
        if visited.contains(&pid) || visited.len() >= 4096 {
            continue;
        }
        visited.push(pid);
        stack.extend(children(pid));
    }
    visited
}

/// The children of every thread of `pid`.
fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for task in tasks.flatten() {
        if let Ok(list) = fs::read_to_string(task.path().join("children")) {
            found.extend(
                list.split_whitespace()
                    .filter_map(|p| p.parse::<u32>().ok()),
            );
        }
    }
    found
}

/// The kB value of a `/proc/<pid>/status` line such as `VmRSS:     1234 kB`.
fn field_kb(status: &str, name: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with(name))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::process::{Command, Stdio};

    /// A shell that starts a child counts the child's memory: the sample of the shell's tree
    /// is at least the child's own peak. (The child is a `sh` that copies its input, waiting
    /// on a pipe; the outer shell waits for it.)
    #[test]
    fn the_tree_counts_descendants() {
        let mut outer = Command::new("sh")
            .args(["-c", "cat; echo done"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = outer.id();
        // The outer shell has started `cat` once `cat` holds the pipe: write one byte and
        // read it back through `cat`.
        use std::io::Write;
        outer.stdin.as_mut().unwrap().write_all(b"x").unwrap();
        let mut byte = [0u8; 1];
        outer
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut byte)
            .unwrap();
        let kids = children(pid);
        assert_eq!(kids.len(), 1, "the shell's child: {kids:?}");
        let child_status = fs::read_to_string(format!("/proc/{}/status", kids[0])).unwrap();
        let child_peak = field_kb(&child_status, "VmHWM:").unwrap();
        let own_status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let own_rss = field_kb(&own_status, "VmRSS:").unwrap();
        let tree = sample_kb(pid).unwrap();
        assert!(
            tree >= child_peak && tree >= own_rss,
            "{tree} {child_peak} {own_rss}"
        );
        drop(outer.stdin.take());
        outer.wait().unwrap();
        assert_eq!(sample_kb(pid), None, "a reaped process has no sample");
    }

    /// Status lines parse to kB.
    #[test]
    fn status_fields() {
        let status = "Name:\tx\nVmHWM:\t  5000 kB\nVmRSS:\t  4000 kB\n";
        assert_eq!(field_kb(status, "VmHWM:"), Some(5000));
        assert_eq!(field_kb(status, "VmRSS:"), Some(4000));
        assert_eq!(field_kb(status, "VmSwap:"), None);
    }
}
