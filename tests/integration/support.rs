//! Test helpers. No sleeps: every wait is on a condition (emulator condvar, channel, child
//! exit) with a generous limit that only guards against a hung test.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread::JoinHandle;
use std::time::Duration;

use coda_emulator::{Emulator, EmulatorBuilder};
use coda_lambda::{Handler, InvocationReport, Runtime};

/// An error and its causes, `: `-joined, as `coda_lambda::start` prints them (each layer's
/// `Display` says only its own part).
pub fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Standard base64 of `bytes`.
pub fn base64_encode(bytes: impl AsRef<[u8]>) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bytes)
}

/// Decodes standard base64; panics (a test failure) when it is not.
pub fn base64_decode(text: &str) -> Vec<u8> {
    base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).expect("valid base64")
}

/// The limit for any wait in a test; reaching it means the test failed.
pub const LIMIT: Duration = Duration::from_secs(20);

/// A loop serving a handler on a background thread against an in-process emulator.
pub struct Served {
    pub emulator: Emulator,
    pub reports: Receiver<InvocationReport>,
    thread: Option<JoinHandle<coda_lambda::Error>>,
}

/// Serves `handler` with default settings.
pub fn serve<H, M>(handler: H) -> Served
where
    H: Handler<M> + Send + 'static,
    M: 'static,
{
    serve_with(Emulator::builder(), |r| r, handler)
}

/// Serves `handler` with emulator and runtime settings.
pub fn serve_with<H, M>(
    emulator: EmulatorBuilder,
    runtime: impl FnOnce(Runtime) -> Runtime,
    handler: H,
) -> Served
where
    H: Handler<M> + Send + 'static,
    M: 'static,
{
    coda_emulator::testing::init_logger();
    let emulator = emulator.start().expect("emulator binds 127.0.0.1:0");
    let (tx, reports) = mpsc::channel();
    let runtime = runtime(
        Runtime::new(emulator.config())
            .publish_trace_id(false)
            .on_invocation(move |report| {
                let _ = tx.send(report.clone());
            }),
    );
    let thread = std::thread::spawn(move || runtime.run(handler));
    Served {
        emulator,
        reports,
        thread: Some(thread),
    }
}

/// Serves `handler` with Managed Instances workers (`Runtime::run_concurrent`), as many as
/// the emulator's concurrency.
pub fn serve_concurrent<H, M>(emulator: EmulatorBuilder, handler: H) -> Served
where
    H: Handler<M> + Clone + Send + 'static,
    M: 'static,
{
    coda_emulator::testing::init_logger();
    let emulator = emulator.start().expect("emulator binds 127.0.0.1:0");
    let (tx, reports) = mpsc::channel();
    let runtime = Runtime::new(emulator.config())
        .publish_trace_id(false)
        .on_invocation(move |report| {
            let _ = tx.send(report.clone());
        });
    let thread = std::thread::spawn(move || runtime.run_concurrent(handler));
    Served {
        emulator,
        reports,
        thread: Some(thread),
    }
}

impl Served {
    /// The next invocation report.
    pub fn report(&self) -> InvocationReport {
        self.reports
            .recv_timeout(LIMIT)
            .expect("an invocation report")
    }

    /// Waits for the loop to stop on its own (after a fatal Runtime API answer) and returns why.
    pub fn stopped(&mut self) -> coda_lambda::Error {
        let thread = self.thread.take().expect("loop still owned");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(thread.join());
        });
        match rx.recv_timeout(LIMIT) {
            Ok(Ok(error)) => error,
            Ok(Err(_)) => panic!("the loop thread panicked"),
            Err(_) => panic!("the loop did not stop within {LIMIT:?}"),
        }
    }

    /// Shuts the emulator down and returns why the loop stopped.
    pub fn shutdown(mut self) -> coda_lambda::Error {
        self.emulator
            .wait_parked(LIMIT)
            .expect("the runtime parks on /next");
        self.emulator.shutdown();
        self.stopped()
    }
}

/// The fixture binary (`tests/src/bin/fixture.rs`).
pub fn fixture() -> Command {
    Command::new(env!("CARGO_BIN_EXE_coda-fixture"))
}

/// Spawns `command` with only the emulator's Lambda environment plus `env`, capturing
/// stdout and stderr.
pub fn spawn_function(mut command: Command, emulator: &Emulator, env: &[(&str, &str)]) -> Child {
    command
        .env_clear()
        .envs(emulator.function_env())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command.spawn().expect("the function binary starts")
}

/// What a finished child process left.
pub struct Exited {
    pub status: ExitStatus,
    #[allow(dead_code)]
    pub stdout: String,
    pub stderr: String,
}

/// Waits (bounded) for `child` to exit and collects its output.
pub fn wait_exit(mut child: Child) -> Exited {
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let (tx, rx) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let status = child.wait();
        let _ = tx.send(());
        (child, status)
    });
    if rx.recv_timeout(LIMIT).is_err() {
        panic!("the function process did not exit within {LIMIT:?}");
    }
    let (_, status) = waiter.join().expect("waiter thread");
    Exited {
        status: status.expect("wait on child"),
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    }
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}
