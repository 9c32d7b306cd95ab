//! `coda invoke`: one invocation through the Invoke API of `coda run` (the same request the
//! AWS CLI and SDKs send with an endpoint override).

use std::io::Write;

use crate::cli::InvokeArgs;
use crate::error::InvokeError;

/// Runs `coda invoke`. Returns `Ok(true)` when the function reported an error (exit 1).
pub fn invoke(args: &InvokeArgs) -> Result<bool, InvokeError> {
    let payload = match (&args.data, &args.data_file) {
        (Some(data), _) => data.clone().into_bytes(),
        (None, Some(path)) => std::fs::read(path).map_err(|source| InvokeError::DataFile {
            path: path.clone(),
            source,
        })?,
        (None, None) => b"{}".to_vec(),
    };
    let mut url = format!(
        "{}/2015-03-31/functions/{}/invocations",
        args.url, args.name
    );
    if let Some(qualifier) = &args.qualifier {
        // `$LATEST` is the one qualifier with a character to escape in a query.
        url.push_str(&format!("?Qualifier={}", qualifier.replace('$', "%24")));
    }
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .proxy(None)
        .build()
        .new_agent();
    let mut request = agent.post(&url).header("content-type", "application/json");
    if args.tail {
        request = request.header("x-amz-log-type", "Tail");
    }
    let mut response = request
        .send(&payload[..])
        .map_err(|e| InvokeError::Connect {
            url: url.clone(),
            source: cause(e),
        })?;
    let status = response.status().as_u16();
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let function_error = header("x-amz-function-error");
    let log_result = header("x-amz-log-result");
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .map_err(|e| InvokeError::Body {
            url: url.clone(),
            source: cause(e),
        })?;
    if !(200..300).contains(&status) {
        return Err(InvokeError::Status {
            url,
            status,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(&body);
    let _ = out.write_all(b"\n");
    if let Some(error) = &function_error {
        eprintln!("coda: function error: {error}");
    }
    if let Some(tail) = log_result.as_deref().and_then(|text| {
        base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text.trim()).ok()
    }) {
        eprintln!("coda: log tail:");
        let _ = std::io::stderr().write_all(&tail);
    }
    Ok(function_error.is_some())
}

/// The cause to keep from an HTTP client error: the I/O error itself when there is one
/// (the client's own message for it only repeats the I/O error's, prefixed with `io: `).
fn cause(error: ureq::Error) -> Box<dyn std::error::Error + Send + Sync> {
    match error {
        ureq::Error::Io(io) => Box::new(io),
        other => Box::new(other),
    }
}
