//! [`Route`]: which endpoint a request is for, from its method and path.

use coda_lambda::protocol::{self, unescape_path_segment};

/// The endpoints of the emulator's Runtime API port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// `GET /2018-06-01/runtime/invocation/next` (§2).
    Next,
    /// `POST /2018-06-01/runtime/invocation/{id}/response` (§3); the id percent-decoded.
    Response(String),
    /// `POST /2018-06-01/runtime/invocation/{id}/error` (§4.1).
    Error(String),
    /// `POST /2018-06-01/runtime/init/error` (§4.2).
    InitError,
    /// `POST /2020-01-01/extension/register` (§7.5).
    ExtensionRegister,
    /// `GET /2020-01-01/extension/event/next` (§7.5).
    ExtensionNext,
    /// `POST /2020-01-01/extension/init/error` (§7.5).
    ExtensionInitError,
    /// `POST /2020-01-01/extension/exit/error` (§7.5).
    ExtensionExitError,
    /// A known path with the wrong method; the allowed method.
    WrongMethod(&'static str),
    /// Anything else.
    Unknown,
}

impl Route {
    /// Routes `method` and `path` (without query) after removing `prefix` (may be empty).
    pub(crate) fn of(method: &str, path: &str, prefix: &str) -> Route {
        let Some(path) = path.strip_prefix(prefix) else {
            return Route::Unknown;
        };
        let expect = |wanted: &'static str, route: Route| {
            if method == wanted {
                route
            } else {
                Route::WrongMethod(wanted)
            }
        };
        if path == protocol::NEXT_PATH {
            return expect("GET", Route::Next);
        }
        if path == protocol::INIT_ERROR_PATH {
            return expect("POST", Route::InitError);
        }
        match path {
            "/2020-01-01/extension/register" => return expect("POST", Route::ExtensionRegister),
            "/2020-01-01/extension/event/next" => return expect("GET", Route::ExtensionNext),
            "/2020-01-01/extension/init/error" => return expect("POST", Route::ExtensionInitError),
            "/2020-01-01/extension/exit/error" => return expect("POST", Route::ExtensionExitError),
            _ => {}
        }
        if let Some(rest) = path.strip_prefix(protocol::INVOCATION_PREFIX) {
            if let Some(id) = rest.strip_suffix("/response") {
                return expect("POST", Route::Response(unescape_path_segment(id)));
            }
            if let Some(id) = rest.strip_suffix("/error") {
                return expect("POST", Route::Error(unescape_path_segment(id)));
            }
        }
        Route::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Paths route with and without a prefix; ids are decoded; methods are checked.
    #[test]
    fn routes() {
        assert_eq!(
            Route::of("GET", "/2018-06-01/runtime/invocation/next", ""),
            Route::Next
        );
        assert_eq!(
            Route::of("POST", "/2018-06-01/runtime/invocation/next", ""),
            Route::WrongMethod("GET")
        );
        assert_eq!(
            Route::of("POST", "/2018-06-01/runtime/invocation/a%20b/response", ""),
            Route::Response("a b".into())
        );
        assert_eq!(
            Route::of("POST", "/2018-06-01/runtime/invocation/x/y/error", ""),
            Route::Error("x/y".into())
        );
        assert_eq!(
            Route::of("POST", "/.rt/f/2018-06-01/runtime/init/error", "/.rt/f"),
            Route::InitError
        );
        assert_eq!(
            Route::of("GET", "/2018-06-01/runtime/invocation/next", "/.rt/f"),
            Route::Unknown
        );
        assert_eq!(Route::of("GET", "/", ""), Route::Unknown);
        assert_eq!(
            Route::of("POST", "/2020-01-01/extension/register", ""),
            Route::ExtensionRegister
        );
        assert_eq!(
            Route::of("GET", "/2020-01-01/extension/event/next", ""),
            Route::ExtensionNext
        );
        assert_eq!(
            Route::of("GET", "/2020-01-01/extension/register", ""),
            Route::WrongMethod("POST")
        );
    }
}
