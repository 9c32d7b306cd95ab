//! `coda run` under a hostile load it cannot fully serve: at the open-files limit the accept
//! loop says so once (with the limit and `ulimit -n`), backs off instead of spinning, and
//! serves again once descriptors free up. The real `coda` binary (`CARGO_BIN_EXE_coda`) runs
//! the workspace's `echo` example under `sh -c 'ulimit -n 64; exec coda run …'`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// How long the whole scenario may take before the test fails (a guard, not a wait).
const GUARD: Duration = Duration::from_secs(60);

/// The `echo` example's executable, built by cargo.
fn echo_example() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "build",
            "-p",
            "coda-examples",
            "--bin",
            "echo",
            "--message-format=json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("cargo runs");
    assert!(output.status.success(), "building the echo example failed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .filter(|line| line.contains(r#""name":"echo""#))
        .find_map(|line| {
            let start = line.find(r#""executable":""#)? + 14;
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
        .expect("cargo reports the echo executable")
}

/// A child's output, collected as it is written; the condition variable is signalled at
/// each new line.
#[derive(Clone, Default)]
struct Collected(Arc<(Mutex<String>, Condvar)>);

impl Collected {
    /// Collects `stream` on a thread of its own.
    fn from(stream: impl Read + Send + 'static) -> Collected {
        let collected = Collected::default();
        let into = collected.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                let (text, grew) = &*into.0;
                let mut text = text.lock().unwrap_or_else(|e| e.into_inner());
                text.push_str(&line);
                text.push('\n');
                grew.notify_all();
            }
        });
        collected
    }

    /// The output so far.
    fn text(&self) -> String {
        self.0.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until the output contains `needle` (woken at each new line, with the guard as
    /// deadline).
    fn wait_for(&self, needle: &str, deadline: Instant) -> String {
        let (text, grew) = &*self.0;
        let mut text = text.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            if text.contains(needle) {
                return text.clone();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "no {needle:?} in:\n{text}");
            text = grew
                .wait_timeout(text, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// The invoke front's address, from the banner `coda run` prints on stderr once the
/// function is ready (`--url http://127.0.0.1:P`).
fn front_address(stderr: &Collected, deadline: Instant) -> String {
    let banner = stderr.wait_for("--url http://", deadline);
    banner
        .split("--url http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the front's address")
        .to_owned()
}

/// Kills the child when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A request the front answers without invoking the function (404 for an unknown name).
const UNKNOWN: &[u8] = b"POST /2015-03-31/functions/nope/invocations HTTP/1.1\r\nHost: x\r\n\
    Content-Length: 2\r\n\r\n{}";

/// Sends `UNKNOWN` on a new connection and waits for its answer until `stop` says to give
/// up: `Some(connection)` when answered, `None` when not.
fn answered_connection(front: &str, stop: &dyn Fn() -> bool) -> Option<TcpStream> {
    let mut stream = TcpStream::connect(front).expect("the kernel completes the connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .expect("read timeout");
    stream.write_all(UNKNOWN).expect("send");
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return None,
            Ok(n) => {
                got.extend_from_slice(&buf[..n]);
                if got.starts_with(b"HTTP/1.1 404") && got.ends_with(b"}") {
                    return Some(stream);
                }
            }
            Err(_) if stop() => return None,
            Err(_) => {}
        }
    }
}

/// Invokes the `echo` function behind the front at `addr` with `payload` (JSON) on a new
/// connection, and checks that the answer is 200 with the payload as its body.
fn assert_echoed(addr: &str, payload: &str) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream.set_read_timeout(Some(GUARD)).expect("read timeout");
    let request = format!(
        "POST /2015-03-31/functions/function/invocations HTTP/1.1\r\nHost: x\r\n\
         Connection: close\r\nContent-Length: {}\r\n\r\n{payload}",
        payload.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("the answer");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with(payload), "{answer}");
}

/// Row: at the file-descriptor limit the accept loop logs one clear line (the limit, what to
/// do), does not take the connection, and recovers when descriptors are freed: the held
/// connections close, and an invocation then succeeds.
#[test]
fn accept_loop_at_the_descriptor_limit_logs_once_and_recovers() {
    let echo = echo_example();
    let script = format!(
        "ulimit -n 64 && exec '{}' run --port 0 -- '{}'",
        env!("CARGO_BIN_EXE_coda"),
        echo.display()
    );
    let mut child = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sh starts");
    let _stdout = Collected::from(child.stdout.take().expect("stdout"));
    let stderr = Collected::from(child.stderr.take().expect("stderr"));
    let _running = Running(child);
    let deadline = Instant::now() + GUARD;

    let front = front_address(&stderr, deadline);

    // Connections, each answered, until the emulator runs out of descriptors and says so.
    const NEEDLE: &str = "cannot accept connections";
    let mut held = Vec::new();
    let at_limit = || stderr.text().contains(NEEDLE);
    while let Some(stream) =
        answered_connection(&front, &|| at_limit() || Instant::now() > deadline)
    {
        held.push(stream);
        assert!(held.len() < 64, "64 connections served under a limit of 64");
    }
    let text = stderr.wait_for(NEEDLE, deadline);
    let line = text
        .lines()
        .find(|l| l.contains(NEEDLE))
        .expect("the line")
        .to_owned();
    assert!(line.contains("the limit is 64"), "{line}");
    assert!(line.contains("ulimit -n"), "{line}");

    // Free the descriptors: a connection is then served again, and an invocation succeeds.
    drop(held);
    loop {
        if answered_connection(&front, &|| Instant::now() > deadline).is_some() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never served again:\n{}",
            stderr.text()
        );
    }
    assert_echoed(&front, r#"{"a":1}"#);

    let text = stderr.wait_for("accepts connections again", deadline);
    assert_eq!(
        text.matches(NEEDLE).count(),
        1,
        "one line per episode:\n{text}"
    );
}

/// Starts `coda run --port 0 [extra…] -- echo` and returns it with its stderr once the
/// banner is out, and the front's address from the banner.
fn started(extra: &[&str], deadline: Instant) -> (Running, Collected, String) {
    let echo = echo_example();
    let mut child = Command::new(env!("CARGO_BIN_EXE_coda"))
        .args(["run", "--port", "0"])
        .args(extra)
        .arg("--")
        .arg(&echo)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("coda starts");
    let stderr = Collected::from(child.stderr.take().expect("stderr"));
    let running = Running(child);
    let front = front_address(&stderr, deadline);
    (running, stderr, front)
}

/// Row: the emulator listens on loopback unless told otherwise, and warns loudly then.
/// `--listen 0.0.0.0` prints one warning per port (the Runtime API's and the front's), naming
/// the address and SECURITY.md, and still serves; without `--listen` there is no warning.
#[test]
fn listening_beyond_loopback_is_warned_about_and_loopback_is_not() {
    let deadline = Instant::now() + GUARD;
    const WARNING: &str = "beyond this machine";

    let (_running, stderr, front) = started(&["--listen", "0.0.0.0"], deadline);
    let text = stderr.text();
    let warnings: Vec<&str> = text.lines().filter(|l| l.contains(WARNING)).collect();
    assert_eq!(warnings.len(), 2, "one warning per port:\n{text}");
    for line in &warnings {
        assert!(line.contains("warning"), "{line}");
        assert!(line.contains("0.0.0.0:"), "{line}");
        assert!(line.contains("no authentication"), "{line}");
        assert!(line.contains("SECURITY.md"), "{line}");
    }
    let port = front.rsplit(':').next().expect("a port");
    assert!(
        warnings
            .iter()
            .any(|l| l.contains(&format!("0.0.0.0:{port}"))),
        "the front's address {front} is named:\n{text}"
    );
    // Bound on every address, so loopback reaches it too.
    assert_echoed(&format!("127.0.0.1:{port}"), r#"{"b":2}"#);

    let (_quiet, stderr, front) = started(&[], deadline);
    assert!(front.starts_with("127.0.0.1:"), "{front}");
    let text = stderr.text();
    assert!(
        !text.contains(WARNING),
        "a loopback emulator warns:\n{text}"
    );
}
