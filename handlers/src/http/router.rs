//! [`Router`]: a small synchronous router — method and path pattern to handler, path
//! parameters, 404 and 405 answers.
//!
//! Patterns are matched segment by segment against the request's URI path (so mind the
//! stage rule: with a REST API, leave the stage out of paths or put it in the patterns):
//!
//! - `/users` — a literal segment, compared with the path's percent-decoded segment;
//! - `/users/{id}` — `{name}` captures one non-empty segment, percent-decoded;
//! - `/files/{path+}` or `/files/{*path}` — a catch-all (API Gateway's `{proxy+}` syntax
//!   or the `matchit` one) captures the rest of the path, one segment or more; it must come
//!   last.
//!
//! Trailing slashes count (`/users/` is not `/users`). When several patterns match, the most
//! specific wins: segment by segment, a literal beats a parameter, which beats a catch-all;
//! among equals, the first registered. A `HEAD` request falls back to the `GET` route (the
//! body is dropped). A path that matches only routes of other methods is answered
//! `405 Method Not Allowed` with an `Allow` header; a path that matches nothing,
//! `404 Not Found` (or the [`Router::fallback`] handler). Both answers are JSON
//! `{"message": …}`, like API Gateway's own.
//!
//! Captures are read with [`super::RequestExt::path_param`], which falls back to API
//! Gateway's `pathParameters` (such as `proxy` of a `{proxy+}` resource).

use coda_lambda::{Context, Diagnostic};
use http::header::{ALLOW, HeaderValue};
use http::{Method, StatusCode};

use super::body::Body;
use super::ext::RouteParams;
use super::handler::HttpHandler;
use super::params::Params;
use super::request::Request;
use super::response::{IntoResponse, Response, message};
use super::uri::decode_segment;

type Boxed = Box<dyn FnMut(Request, &mut Context) -> Result<Response<Body>, Diagnostic> + Send>;

/// Routes requests by method and path pattern to handlers (see the module doc for the
/// pattern syntax and the matching rules).
///
/// ```
/// use coda_handlers::http::{Json, Request, RequestExt, Router, StatusCode};
/// use coda_lambda::{Context, Diagnostic};
///
/// let router = Router::new()
///     .get("/users/{id}", |req: Request, _: &mut Context| {
///         let id = req.path_param("id").unwrap_or_default().to_owned();
///         Ok::<_, Diagnostic>(Json(serde_json::json!({ "id": id })))
///     })
///     .post("/users", |_: Request, _: &mut Context| Ok::<_, Diagnostic>(StatusCode::CREATED));
/// # let _ = router;
/// ```
pub struct Router {
    routes: Vec<Route>,
    fallback: Option<Boxed>,
}

struct Route {
    /// `None`: any method.
    method: Option<Method>,
    pattern: Pattern,
    handler: Boxed,
}

impl Router {
    /// A router with no routes (everything is 404).
    pub fn new() -> Router {
        Router {
            routes: Vec::new(),
            fallback: None,
        }
    }

    /// Routes `method` requests whose path matches `pattern` to `handler`.
    ///
    /// # Panics
    /// When `pattern` is not a valid pattern (a programming error, found by the first run):
    /// it must start with `/`, parameters must be `{name}` with a name of letters, digits,
    /// `_` or `-` and appear once, and a catch-all must be the last segment.
    pub fn route<H>(mut self, method: Method, pattern: &str, handler: H) -> Router
    where
        H: HttpHandler + Send + 'static,
    {
        self.push(Some(method), pattern, handler);
        self
    }

    /// Routes requests of any method matching `pattern` (see [`Router::route`]).
    pub fn any<H: HttpHandler + Send + 'static>(mut self, pattern: &str, handler: H) -> Router {
        self.push(None, pattern, handler);
        self
    }

    /// Routes `GET` (and `HEAD`) requests (see [`Router::route`]).
    pub fn get<H: HttpHandler + Send + 'static>(self, pattern: &str, handler: H) -> Router {
        self.route(Method::GET, pattern, handler)
    }

    /// Routes `POST` requests (see [`Router::route`]).
    pub fn post<H: HttpHandler + Send + 'static>(self, pattern: &str, handler: H) -> Router {
        self.route(Method::POST, pattern, handler)
    }

    /// Routes `PUT` requests (see [`Router::route`]).
    pub fn put<H: HttpHandler + Send + 'static>(self, pattern: &str, handler: H) -> Router {
        self.route(Method::PUT, pattern, handler)
    }

    /// Routes `PATCH` requests (see [`Router::route`]).
    pub fn patch<H: HttpHandler + Send + 'static>(self, pattern: &str, handler: H) -> Router {
        self.route(Method::PATCH, pattern, handler)
    }

    /// Routes `DELETE` requests (see [`Router::route`]).
    pub fn delete<H: HttpHandler + Send + 'static>(self, pattern: &str, handler: H) -> Router {
        self.route(Method::DELETE, pattern, handler)
    }

    /// Answers requests no route matches (instead of the 404).
    pub fn fallback<H: HttpHandler + Send + 'static>(mut self, handler: H) -> Router {
        self.fallback = Some(boxed(handler));
        self
    }

    fn push<H: HttpHandler + Send + 'static>(
        &mut self,
        method: Option<Method>,
        pattern: &str,
        handler: H,
    ) {
        let pattern = match Pattern::parse(pattern) {
            Ok(pattern) => pattern,
            Err(why) => panic!("Router: invalid route pattern {pattern:?}: {why}"),
        };
        self.routes.push(Route {
            method,
            pattern,
            handler: boxed(handler),
        });
    }
}

impl Default for Router {
    fn default() -> Router {
        Router::new()
    }
}

impl std::fmt::Debug for Router {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes: Vec<String> = self
            .routes
            .iter()
            .map(|r| {
                let method = r.method.as_ref().map_or("*", Method::as_str);
                format!("{method} {}", r.pattern.text)
            })
            .collect();
        f.debug_struct("Router")
            .field("routes", &routes)
            .field("fallback", &self.fallback.is_some())
            .finish()
    }
}

fn boxed<H: HttpHandler + Send + 'static>(mut handler: H) -> Boxed {
    Box::new(move |request, ctx| {
        handler
            .call(request, ctx)
            .map(IntoResponse::into_response)
            .map_err(Into::into)
    })
}

impl HttpHandler for Router {
    type Output = Response<Body>;
    type Error = Diagnostic;

    fn call(
        &mut self,
        mut request: Request,
        ctx: &mut Context,
    ) -> Result<Response<Body>, Diagnostic> {
        let method = request.method().clone();
        let mut best: Option<(usize, Params, bool)> = None;
        let mut allowed: Vec<Method> = Vec::new();
        for (index, route) in self.routes.iter().enumerate() {
            let Some(params) = route.pattern.matches(request.uri().path()) else {
                continue;
            };
            let head_as_get = method == Method::HEAD && route.method == Some(Method::GET);
            let fits = route.method.as_ref().is_none_or(|m| *m == method) || head_as_get;
            if !fits {
                allowed.extend(route.method.clone());
                continue;
            }
            let better = match &best {
                None => true,
                Some((current, _, current_fallback)) => {
                    // An exact method beats HEAD-as-GET, then the more specific pattern.
                    let current = &self.routes[*current];
                    (*current_fallback && !head_as_get)
                        || (*current_fallback == head_as_get
                            && route.pattern.rank < current.pattern.rank)
                }
            };
            if better {
                best = Some((index, params, head_as_get));
            }
        }
        if let Some((index, params, head_as_get)) = best {
            request.extensions_mut().insert(RouteParams(params));
            let response = (self.routes[index].handler)(request, ctx)?;
            return Ok(if head_as_get {
                response.map(|_| Body::empty())
            } else {
                response
            });
        }
        if !allowed.is_empty() {
            return Ok(not_allowed(allowed));
        }
        match &mut self.fallback {
            Some(fallback) => fallback(request, ctx),
            None => Ok(message(StatusCode::NOT_FOUND, "Not Found")),
        }
    }
}

/// The 405 answer, with the methods the path allows.
fn not_allowed(mut methods: Vec<Method>) -> Response<Body> {
    if methods.contains(&Method::GET) {
        methods.push(Method::HEAD);
    }
    let mut names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut response = message(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed");
    if let Ok(value) = HeaderValue::from_str(&names.join(", ")) {
        response.headers_mut().insert(ALLOW, value);
    }
    response
}

/// A parsed route pattern.
struct Pattern {
    text: String,
    segments: Vec<Segment>,
    /// Per segment: 0 literal, 1 parameter, 2 catch-all (smaller is more specific).
    rank: Vec<u8>,
}

enum Segment {
    Literal(String),
    Param(String),
    CatchAll(String),
}

impl Pattern {
    fn parse(text: &str) -> Result<Pattern, &'static str> {
        let rest = text.strip_prefix('/').ok_or("it must start with '/'")?;
        let pieces: Vec<&str> = rest.split('/').collect();
        let mut segments = Vec::with_capacity(pieces.len());
        let mut names: Vec<&str> = Vec::new();
        for (i, piece) in pieces.iter().enumerate() {
            let segment = match piece.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(inner) => {
                    let (name, catch_all) = match (inner.strip_prefix('*'), inner.strip_suffix('+'))
                    {
                        (Some(name), _) | (None, Some(name)) => (name, true),
                        (None, None) => (inner, false),
                    };
                    let valid = !name.is_empty()
                        && name
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                    if !valid {
                        return Err("a parameter name is letters, digits, '_' or '-'");
                    }
                    if names.contains(&name) {
                        return Err("a parameter name appears twice");
                    }
                    names.push(name);
                    if catch_all {
                        if i + 1 != pieces.len() {
                            return Err("a catch-all must be the last segment");
                        }
                        Segment::CatchAll(name.to_owned())
                    } else {
                        Segment::Param(name.to_owned())
                    }
                }
                None if piece.contains(['{', '}']) => {
                    return Err("a parameter must be a whole segment, as in /{name}");
                }
                None => Segment::Literal((*piece).to_owned()),
            };
            segments.push(segment);
        }
        let rank = segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 0,
                Segment::Param(_) => 1,
                Segment::CatchAll(_) => 2,
            })
            .collect();
        Ok(Pattern {
            text: text.to_owned(),
            segments,
            rank,
        })
    }

    /// The captures when `path` matches.
    fn matches(&self, path: &str) -> Option<Params> {
        let mut rest = path.strip_prefix('/')?;
        let mut params = Params::new();
        for (i, segment) in self.segments.iter().enumerate() {
            let last = i + 1 == self.segments.len();
            if let Segment::CatchAll(name) = segment {
                if rest.is_empty() {
                    return None;
                }
                params.push(name.as_str(), decode_segment(rest));
                return Some(params);
            }
            let (piece, tail) = match rest.split_once('/') {
                Some((piece, tail)) => (piece, Some(tail)),
                None => (rest, None),
            };
            match segment {
                Segment::Literal(literal) => {
                    if decode_segment(piece) != literal.as_str() {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    if piece.is_empty() {
                        return None;
                    }
                    params.push(name.as_str(), decode_segment(piece));
                }
                Segment::CatchAll(_) => {}
            }
            match (tail, last) {
                (Some(tail), false) => rest = tail,
                (None, true) => return Some(params),
                _ => return None,
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn captures(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
        Pattern::parse(pattern).unwrap().matches(path).map(|p| {
            p.iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
    }

    /// Literals, parameters (decoded), catch-alls of both syntaxes, trailing slashes.
    #[test]
    fn patterns_match_segment_by_segment() {
        let pair = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        assert_eq!(captures("/", "/"), Some(vec![]));
        assert_eq!(captures("/users", "/users"), Some(vec![]));
        assert_eq!(captures("/users", "/users/"), None);
        assert_eq!(captures("/users/", "/users/"), Some(vec![]));
        assert_eq!(
            captures("/users/{id}", "/users/a%20b"),
            Some(pair("id", "a b"))
        );
        assert_eq!(captures("/users/{id}", "/users/"), None);
        assert_eq!(captures("/users/{id}", "/users/1/x"), None);
        assert_eq!(
            captures("/files/{path+}", "/files/a/b.txt"),
            Some(pair("path", "a/b.txt"))
        );
        assert_eq!(
            captures("/files/{*path}", "/files/x"),
            Some(pair("path", "x"))
        );
        assert_eq!(captures("/files/{*path}", "/files/"), None);
        assert_eq!(
            captures("/{proxy+}", "/hello/world"),
            Some(pair("proxy", "hello/world"))
        );
        assert_eq!(captures("/caf%C3%A9", "/caf%C3%A9"), None);
        assert_eq!(captures("/café", "/caf%C3%A9"), Some(vec![]));
        assert_eq!(captures("/a", "a"), None);
    }

    /// Invalid patterns are refused with a reason.
    #[test]
    fn invalid_patterns() {
        for bad in ["users", "/{}", "/{a}/{a}", "/{rest+}/x", "/a{b}", "/{a b}"] {
            assert!(Pattern::parse(bad).is_err(), "{bad}");
        }
    }
}
