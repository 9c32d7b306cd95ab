//! The stage rule: whether an API Gateway stage name is part of the request's URI path.
//!
//! | source | event path | stage kept (default) | stage left out |
//! | --- | --- | --- | --- |
//! | REST API (1.0) | `path`, without the stage | `/{stage}` + `path`, unless `path` is `/{stage}` or starts with `/{stage}/` | `path` |
//! | HTTP API (2.0) | `rawPath`, with the stage of a named stage | `rawPath` | `rawPath` without its leading `/{stage}` (`/{stage}` alone becomes `/`) |
//! | ALB, Function URL | `path` / `rawPath` | as sent | as sent |
//!
//! A stage that is absent, empty or `$default` is never in a path. "Kept" gives the path the
//! client requested on the API's own `execute-api` domain; "left out" gives the resource path
//! a router usually matches, whatever the stage. The stage is never added twice: a REST path
//! that already starts with it, and an HTTP API path that is exactly `/{stage}`, stay as they
//! are (`lambda_http` doubles the latter into `/{stage}/{stage}`).
//!
//! The default is "kept"; `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` set to anything but `false`
//! or `0` (the variable `lambda_http` users know) selects "left out", and
//! [`super::Adapter::stage_in_path`] chooses in code, over the variable.

#[cfg(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url"))]
use std::borrow::Cow;

#[cfg(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url"))]
use super::origin::Origin;

/// The environment variable that leaves the stage out of paths.
pub const IGNORE_STAGE_VARIABLE: &str = "AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH";

/// Whether the stage stays in paths, as the environment says (read once per adapter).
pub(crate) fn stage_in_path_from_env() -> bool {
    stage_in_path_from(std::env::var_os(IGNORE_STAGE_VARIABLE).as_deref())
}

/// Whether the stage stays in paths for a value of the variable (`None`: not set).
fn stage_in_path_from(value: Option<&std::ffi::OsStr>) -> bool {
    match value {
        None => true,
        Some(value) => matches!(value.to_str().map(str::trim), Some("false" | "0")),
    }
}

/// The URI path for an event path of `origin`, by the rule of this module.
#[cfg(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url"))]
pub(crate) fn uri_path<'a>(
    origin: Origin,
    path: &'a str,
    stage: Option<&str>,
    stage_in_path: bool,
) -> Cow<'a, str> {
    let Some(stage) = stage.filter(|s| !s.is_empty() && *s != "$default") else {
        return Cow::Borrowed(path);
    };
    let prefixed = starts_with_stage(path, stage);
    match origin {
        Origin::ApiGatewayV1 if stage_in_path && !prefixed => {
            let mut out = String::with_capacity(stage.len() + 1 + path.len());
            out.push('/');
            out.push_str(stage);
            if !path.starts_with('/') {
                out.push('/');
            }
            out.push_str(path);
            Cow::Owned(out)
        }
        Origin::ApiGatewayV2 if !stage_in_path && prefixed => {
            let rest = &path[stage.len() + 1..];
            Cow::Borrowed(if rest.is_empty() { "/" } else { rest })
        }
        _ => Cow::Borrowed(path),
    }
}

/// Whether `path` is `/{stage}` or starts with `/{stage}/`.
#[cfg(any(feature = "apigw_v1", feature = "apigw_v2", feature = "function_url"))]
fn starts_with_stage(path: &str, stage: &str) -> bool {
    path.strip_prefix('/')
        .and_then(|p| p.strip_prefix(stage))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The variable leaves the stage out when set to anything but `false` or `0`.
    #[test]
    fn the_variable() {
        use std::ffi::OsStr;
        assert!(stage_in_path_from(None));
        for off in ["true", "1", "", "yes"] {
            assert!(!stage_in_path_from(Some(OsStr::new(off))), "{off:?}");
        }
        for on in ["false", "0", " false "] {
            assert!(stage_in_path_from(Some(OsStr::new(on))), "{on:?}");
        }
    }

    /// Every row of the table in the module doc.
    #[cfg(all(feature = "apigw_v1", feature = "apigw_v2"))]
    #[test]
    fn the_stage_rule() {
        use Origin::*;
        let cases = [
            // (origin, path, stage, kept, left out)
            (ApiGatewayV1, "/pets", Some("prod"), "/prod/pets", "/pets"),
            (ApiGatewayV1, "/", Some("prod"), "/prod/", "/"),
            (ApiGatewayV1, "/prod", Some("prod"), "/prod", "/prod"),
            (
                ApiGatewayV1,
                "/prod/pets",
                Some("prod"),
                "/prod/pets",
                "/prod/pets",
            ),
            (
                ApiGatewayV1,
                "/production",
                Some("prod"),
                "/prod/production",
                "/production",
            ),
            (ApiGatewayV1, "/pets", Some("$default"), "/pets", "/pets"),
            (ApiGatewayV1, "/pets", None, "/pets", "/pets"),
            (
                ApiGatewayV2,
                "/prod/pets",
                Some("prod"),
                "/prod/pets",
                "/pets",
            ),
            (ApiGatewayV2, "/prod", Some("prod"), "/prod", "/"),
            (ApiGatewayV2, "/pets", Some("prod"), "/pets", "/pets"),
            (
                ApiGatewayV2,
                "/my/path",
                Some("$default"),
                "/my/path",
                "/my/path",
            ),
            (FunctionUrl, "/prod/x", Some("prod"), "/prod/x", "/prod/x"),
            (Alb, "/x", None, "/x", "/x"),
        ];
        for (origin, path, stage, kept, left_out) in cases {
            assert_eq!(
                uri_path(origin, path, stage, true),
                kept,
                "{origin:?} {path} kept"
            );
            assert_eq!(
                uri_path(origin, path, stage, false),
                left_out,
                "{origin:?} {path} left out"
            );
        }
    }
}
