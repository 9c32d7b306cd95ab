//! The environment a function process gets: Lambda's variables for the emulator's settings
//! (`docs/runtime-api.md` §1), and from the host only what is asked for.
//!
//! On Lambda the runtime process sees the platform's variables and the function's own, and
//! nothing of the machine that deployed it. A local run that inherits the shell's `HOME`,
//! `PATH`, `RUST_BACKTRACE` or AWS credentials behaves differently from the deployed
//! function (a host `RUST_BACKTRACE=1` alone multiplies a panicking invocation's memory),
//! so the supervisor starts from an empty environment and adds, in order: these variables,
//! the host variables the command names ([`crate::FunctionCommand::pass_env`]), the host's
//! `_HANDLER` when no handler was set, and the command's own variables.

use std::ffi::OsString;
use std::path::Path;
use std::time::SystemTime;

use crate::calendar;
use crate::ids;
use crate::settings::Settings;

/// Lambda's `PATH` for OS-only runtimes.
pub(crate) const LAMBDA_PATH: &str = "/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin";
/// Lambda's `LD_LIBRARY_PATH` for OS-only runtimes (`/opt/lib` is where layers put
/// libraries).
pub(crate) const LAMBDA_LD_LIBRARY_PATH: &str = "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task:/var/task/lib:/opt/lib";

/// The variables of Lambda's environment for a function with `settings`, whose Runtime API
/// is `runtime_api` and whose code is in `task_root` (Lambda's `/var/task`: locally, the
/// directory the emulator runs in). Each call names a new execution environment's log
/// stream.
pub(crate) fn lambda_env(
    settings: &Settings,
    runtime_api: String,
    task_root: &Path,
) -> Vec<(String, String)> {
    let task_root = task_root.to_string_lossy().into_owned();
    let initialization = if settings.concurrency > 1 {
        "lambda-managed-instances"
    } else {
        "on-demand"
    };
    let mut env: Vec<(&str, String)> = vec![
        ("AWS_LAMBDA_RUNTIME_API", runtime_api),
        ("AWS_LAMBDA_FUNCTION_NAME", settings.function_name.clone()),
        ("AWS_LAMBDA_FUNCTION_VERSION", settings.version.clone()),
        (
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
            settings.memory_mb.to_string(),
        ),
        (
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{}", settings.function_name),
        ),
        ("AWS_LAMBDA_LOG_STREAM_NAME", log_stream_name(settings)),
        ("AWS_LAMBDA_INITIALIZATION_TYPE", initialization.to_owned()),
        ("AWS_REGION", settings.region.clone()),
        ("AWS_DEFAULT_REGION", settings.region.clone()),
        ("LAMBDA_TASK_ROOT", task_root.clone()),
        ("LAMBDA_RUNTIME_DIR", task_root),
        ("TZ", ":UTC".to_owned()),
        ("LANG", "en_US.UTF-8".to_owned()),
        ("PATH", LAMBDA_PATH.to_owned()),
        ("LD_LIBRARY_PATH", LAMBDA_LD_LIBRARY_PATH.to_owned()),
    ];
    if let Some(handler) = &settings.handler {
        env.push(("_HANDLER", handler.clone()));
    }
    if settings.log_format == coda_lambda::logging::LogFormat::Json {
        env.push(("AWS_LAMBDA_LOG_FORMAT", "JSON".to_owned()));
    }
    if settings.concurrency > 1 {
        env.push((
            "AWS_LAMBDA_MAX_CONCURRENCY",
            settings.concurrency.to_string(),
        ));
    }
    env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A new execution environment's log stream name, as Lambda makes them:
/// `2026/12/02/[$LATEST]` and 32 hex digits.
fn log_stream_name(settings: &Settings) -> String {
    format!(
        "{}/[{}]{:016x}{:016x}",
        calendar::slashed_date(SystemTime::now()),
        settings.version,
        ids::random_u64(),
        ids::random_u64()
    )
}

/// Whether a host variable describes another Lambda environment (the one `coda run` itself
/// runs in, say), so that passing it through would mislead the function.
pub(crate) fn is_reserved(name: &str) -> bool {
    name.starts_with("AWS_LAMBDA_") || name == "_X_AMZN_TRACE_ID"
}

/// Whether host variable `name` matches `pattern`: the name itself, or a prefix ending in
/// `*` (`AWS_*`).
pub(crate) fn matches(pattern: &OsString, name: &OsString) -> bool {
    let (pattern, name) = (pattern.as_encoded_bytes(), name.as_encoded_bytes());
    match pattern.strip_suffix(b"*") {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variables Lambda sets for OS-only runtimes, with the settings' values; a handler
    /// and the JSON log format only when set; the log stream name new each time.
    #[test]
    fn lambda_variables() {
        let mut settings = Settings::default();
        let env = lambda_env(&settings, "127.0.0.1:1".into(), Path::new("/work/fn"));
        let get = |env: &[(String, String)], k: &str| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        };
        assert_eq!(get(&env, "LAMBDA_TASK_ROOT").as_deref(), Some("/work/fn"));
        assert_eq!(get(&env, "TZ").as_deref(), Some(":UTC"));
        assert_eq!(get(&env, "PATH").as_deref(), Some(LAMBDA_PATH));
        assert_eq!(get(&env, "_HANDLER"), None);
        assert_eq!(get(&env, "AWS_LAMBDA_LOG_FORMAT"), None);
        let stream = get(&env, "AWS_LAMBDA_LOG_STREAM_NAME").unwrap();
        let (date, id) = stream.split_once("/[$LATEST]").unwrap();
        assert_eq!(date.len(), 10, "{stream}");
        assert!(
            id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
            "{stream}"
        );
        let again = lambda_env(&settings, "127.0.0.1:1".into(), Path::new("/"));
        assert_ne!(get(&again, "AWS_LAMBDA_LOG_STREAM_NAME").unwrap(), stream);

        settings.handler = Some("index.handler".into());
        settings.log_format = coda_lambda::logging::LogFormat::Json;
        let env = lambda_env(&settings, "127.0.0.1:1".into(), Path::new("/"));
        assert_eq!(get(&env, "_HANDLER").as_deref(), Some("index.handler"));
        assert_eq!(get(&env, "AWS_LAMBDA_LOG_FORMAT").as_deref(), Some("JSON"));
    }

    /// Patterns name a variable exactly, or a prefix with `*`.
    #[test]
    fn patterns() {
        let m = |p: &str, n: &str| matches(&p.into(), &n.into());
        assert!(m("HOME", "HOME"));
        assert!(!m("HOME", "HOMEDIR"));
        assert!(m("AWS_*", "AWS_PROFILE"));
        assert!(!m("AWS_*", "XAWS_PROFILE"));
        assert!(m("*", "ANY"));
        assert!(is_reserved("AWS_LAMBDA_RUNTIME_API") && !is_reserved("AWS_PROFILE"));
    }
}
