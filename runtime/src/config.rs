//! [`Config`]: what the Lambda environment tells the runtime (`docs/runtime-api.md` §1).
//!
//! Built through a lookup function (the process environment in production, a map in tests),
//! so nothing here reads global state behind the caller's back. Only
//! `AWS_LAMBDA_RUNTIME_API` is required; every other variable is optional and a missing or
//! unparsable value is a default, never a panic.

use std::fmt;
use std::sync::Arc;

/// Runtime settings read from the environment.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) endpoint: Endpoint,
    pub(crate) function: Arc<FunctionConfig>,
    pub(crate) max_concurrency: usize,
    /// What was wrong with the environment, for the runtime to log once it serves.
    pub(crate) warnings: Vec<String>,
}

/// The function's own settings, shared by every [`crate::Context`] (§1).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FunctionConfig {
    /// `AWS_LAMBDA_FUNCTION_NAME` (empty when unset).
    pub name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`, `$LATEST` or a number (empty when unset).
    pub version: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` in MB, when set and numeric.
    pub memory_mb: Option<u32>,
    /// `AWS_LAMBDA_LOG_GROUP_NAME` (empty when unset, as for extensions).
    pub log_group: String,
    /// `AWS_LAMBDA_LOG_STREAM_NAME` (empty when unset).
    pub log_stream: String,
    /// `_HANDLER`, the function's Handler setting, when set.
    pub handler: Option<String>,
    /// `AWS_REGION`, when set.
    pub region: Option<String>,
    /// `AWS_LAMBDA_INITIALIZATION_TYPE` (`on-demand`, `provisioned-concurrency`,
    /// `snap-start`, `lambda-managed-instances`), when set.
    pub initialization_type: Option<String>,
}

/// Where the Runtime API listens: `AWS_LAMBDA_RUNTIME_API` parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Endpoint {
    /// `host:port`.
    pub(crate) authority: String,
    /// A path prefix before `/2018-06-01` (cargo-lambda uses `/.rt/<name>`), no trailing `/`.
    pub(crate) prefix: String,
}

impl Endpoint {
    /// `http://host:port/prefix`, the base every Runtime API path is appended to.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}{}", self.authority, self.prefix)
    }

    /// Parses `host:port` (Lambda, the AWS emulator) or `http://host:port/prefix`
    /// (cargo-lambda's emulator hands functions `http://127.0.0.1:P/.rt/<name>`).
    pub(crate) fn parse(value: &str) -> Result<Endpoint, ConfigError> {
        let invalid = |reason: &'static str| ConfigError::InvalidRuntimeApi {
            value: value.to_owned(),
            reason,
        };
        let trimmed = value.trim();
        if trimmed.is_empty() {
            return Err(ConfigError::MissingRuntimeApi);
        }
        if trimmed.starts_with("https://") {
            return Err(invalid(
                "TLS is not supported: the Runtime API is plain HTTP on loopback",
            ));
        }
        let rest = trimmed.strip_prefix("http://").unwrap_or(trimmed);
        if rest.contains("://") {
            return Err(invalid("only http:// URLs or host:port are accepted"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let port = authority.rsplit_once(':');
        match port {
            Some((host, port))
                if !host.is_empty()
                    && !port.is_empty()
                    && port.bytes().all(|b| b.is_ascii_digit())
                    && port.parse::<u16>().is_ok() => {}
            _ => return Err(invalid("expected host:port, for example 127.0.0.1:9001")),
        }
        if authority
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '@' | '?' | '#'))
        {
            return Err(invalid("the host part has characters a host cannot have"));
        }
        if path.contains(['?', '#', ' ']) {
            return Err(invalid(
                "the path prefix may not carry a query, fragment or space",
            ));
        }
        Ok(Endpoint {
            authority: authority.to_owned(),
            prefix: path.trim_end_matches('/').to_owned(),
        })
    }
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|key| std::env::var(key).ok())
    }

    /// Reads settings through `lookup` (a variable name → its value).
    ///
    /// ```
    /// use std::collections::HashMap;
    /// let env = HashMap::from([
    ///     ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
    ///     ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"),
    /// ]);
    /// let config = coda_lambda::Config::from_lookup(|k| env.get(k).map(|v| v.to_string())).unwrap();
    /// assert_eq!(config.runtime_api(), "http://127.0.0.1:9001");
    /// assert_eq!(config.function().memory_mb, Some(128));
    /// assert_eq!(config.function().name, "");
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let api = lookup("AWS_LAMBDA_RUNTIME_API").ok_or(ConfigError::MissingRuntimeApi)?;
        let mut warnings = Vec::new();
        let (max_concurrency, warning) =
            parse_concurrency(lookup("AWS_LAMBDA_MAX_CONCURRENCY").as_deref());
        warnings.extend(warning);
        let endpoint = Endpoint::parse(&api)?;
        let text = |key: &str| lookup(key).unwrap_or_default();
        let non_empty = |key: &str| lookup(key).filter(|v| !v.is_empty());
        let function = FunctionConfig {
            name: text("AWS_LAMBDA_FUNCTION_NAME"),
            version: text("AWS_LAMBDA_FUNCTION_VERSION"),
            memory_mb: lookup("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
                .and_then(|v| v.trim().parse().ok()),
            log_group: text("AWS_LAMBDA_LOG_GROUP_NAME"),
            log_stream: text("AWS_LAMBDA_LOG_STREAM_NAME"),
            handler: non_empty("_HANDLER"),
            region: non_empty("AWS_REGION"),
            initialization_type: non_empty("AWS_LAMBDA_INITIALIZATION_TYPE"),
        };
        Ok(Config {
            endpoint,
            function: Arc::new(function),
            max_concurrency,
            warnings,
        })
    }

    /// A configuration for a Runtime API at `runtime_api` (`host:port` or an `http://` URL)
    /// with no function settings: what tests and local tools use.
    pub fn for_runtime_api(runtime_api: &str) -> Result<Config, ConfigError> {
        let api = runtime_api.to_owned();
        Config::from_lookup(move |k| (k == "AWS_LAMBDA_RUNTIME_API").then(|| api.clone()))
    }

    /// The base URL of the Runtime API, without the `/2018-06-01` version.
    pub fn runtime_api(&self) -> String {
        self.endpoint.base_url()
    }

    /// The function's settings.
    pub fn function(&self) -> &FunctionConfig {
        &self.function
    }

    /// Replaces the function's settings (for tests and local tools).
    pub fn with_function(mut self, function: FunctionConfig) -> Config {
        self.function = Arc::new(function);
        self
    }

    /// `AWS_LAMBDA_MAX_CONCURRENCY`: 1 when absent, zero, negative or not a number (§9 #20;
    /// the last two are logged as a warning when the runtime starts).
    pub fn max_concurrency(&self) -> usize {
        self.max_concurrency
    }
}

/// `AWS_LAMBDA_MAX_CONCURRENCY` as a number of workers, and what was wrong with it: absent
/// or 0 is 1 without a word; negative or not a number is 1 with a warning.
fn parse_concurrency(value: Option<&str>) -> (usize, Option<String>) {
    let Some(text) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return (1, None);
    };
    match text.parse::<i64>() {
        Ok(n) if n >= 1 => (usize::try_from(n).unwrap_or(usize::MAX), None),
        Ok(0) => (1, None),
        Ok(_) => (
            1,
            Some(format!(
                "AWS_LAMBDA_MAX_CONCURRENCY={text} is negative: serving one invocation at a time"
            )),
        ),
        Err(_) => (
            1,
            Some(format!(
                "AWS_LAMBDA_MAX_CONCURRENCY={text:?} is not a number: serving one invocation at a time"
            )),
        ),
    }
}

/// Why the environment could not be turned into a [`Config`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// `AWS_LAMBDA_RUNTIME_API` is not set (or empty): the process is not running inside
    /// Lambda or an emulator (§9 #1).
    MissingRuntimeApi,
    /// `AWS_LAMBDA_RUNTIME_API` is set but is not `host:port` or an `http://` URL.
    InvalidRuntimeApi {
        /// The value found.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingRuntimeApi => f.write_str(
                "AWS_LAMBDA_RUNTIME_API is not set: this program is a Lambda function; \
                 run it on Lambda or locally with `coda run -- <program>`",
            ),
            ConfigError::InvalidRuntimeApi { value, reason } => {
                write!(
                    f,
                    "AWS_LAMBDA_RUNTIME_API={value:?} is not usable: {reason}"
                )
            }
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    /// §0 / §1: both the Lambda form and cargo-lambda's URL form are accepted.
    #[test]
    fn endpoint_forms() {
        let e = Endpoint::parse("127.0.0.1:9001").unwrap();
        assert_eq!(
            (e.authority.as_str(), e.prefix.as_str()),
            ("127.0.0.1:9001", "")
        );
        let e = Endpoint::parse("http://127.0.0.1:9000/.rt/hello/").unwrap();
        assert_eq!(e.base_url(), "http://127.0.0.1:9000/.rt/hello");
        let e = Endpoint::parse("[::1]:9001").unwrap();
        assert_eq!(e.base_url(), "http://[::1]:9001");
        // What cargo-lambda 1.9 hands functions: the unspecified address, with a prefix.
        let e = Endpoint::parse("http://[::]:9000/.rt/hello").unwrap();
        assert_eq!(
            (e.authority.as_str(), e.prefix.as_str()),
            ("[::]:9000", "/.rt/hello")
        );
        let e = Endpoint::parse("169.254.100.1:9001").unwrap();
        assert_eq!(e.base_url(), "http://169.254.100.1:9001");
    }

    /// Bad values are named with a reason instead of failing later in the HTTP client.
    #[test]
    fn endpoint_errors() {
        for bad in [
            "127.0.0.1",
            "https://x:1",
            "ftp://x:1",
            ":9001",
            "x:",
            "x:99999",
            "x:1?q",
            "a b:1",
        ] {
            let err = Endpoint::parse(bad).unwrap_err();
            assert!(
                matches!(err, ConfigError::InvalidRuntimeApi { .. }),
                "{bad}: {err:?}"
            );
            assert!(err.to_string().contains(bad), "{err}");
        }
        assert_eq!(Endpoint::parse("  "), Err(ConfigError::MissingRuntimeApi));
    }

    /// §9 #1: a missing Runtime API is its own error, with a message that says what to do.
    #[test]
    fn missing_runtime_api() {
        let err = config(&[]).unwrap_err();
        assert_eq!(err, ConfigError::MissingRuntimeApi);
        assert!(err.to_string().contains("coda run"));
    }

    /// §1: optional variables default; garbage never panics.
    #[test]
    fn function_settings() {
        let c = config(&[
            ("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001"),
            ("AWS_LAMBDA_FUNCTION_NAME", "orders"),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "lots"),
            ("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/orders"),
            ("_HANDLER", ""),
        ])
        .unwrap();
        let f = c.function();
        assert_eq!((f.name.as_str(), f.version.as_str()), ("orders", "$LATEST"));
        assert_eq!(f.memory_mb, None);
        assert_eq!(f.log_group, "/aws/lambda/orders");
        assert_eq!(f.log_stream, "");
        assert_eq!(f.handler, None);
    }

    /// §9 #20: concurrency 0, negative or garbage behaves as 1.
    #[test]
    fn concurrency_values() {
        for (value, expected) in [
            ("4", 4),
            ("1", 1),
            ("0", 1),
            ("-3", 1),
            ("many", 1),
            (" 2 ", 2),
        ] {
            let c = config(&[
                ("AWS_LAMBDA_RUNTIME_API", "h:1"),
                ("AWS_LAMBDA_MAX_CONCURRENCY", value),
            ])
            .unwrap();
            assert_eq!(c.max_concurrency(), expected, "{value}");
            let warned = matches!(value, "-3" | "many");
            assert_eq!(
                c.warnings.len(),
                usize::from(warned),
                "{value}: {:?}",
                c.warnings
            );
        }
    }
}
