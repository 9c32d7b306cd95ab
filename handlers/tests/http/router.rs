//! The router through the adapter and the real loop: captures from patterns and from API
//! Gateway's `{proxy+}`, precedence, 404, 405 with `Allow`, `HEAD` as `GET`, the fallback.

use coda_emulator::Invoke;
use coda_emulator::testing::{self, Outcome};
use coda_handlers::http::{Adapter, Request, RequestExt, Router, StatusCode};
use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};

use crate::support::{bytes, fixture, v2_event};

/// Answers naming the route that ran and what it captured.
fn named(route: &'static str) -> impl FnMut(Request, &mut Context) -> Result<String, Diagnostic> {
    move |req: Request, _: &mut Context| {
        let captured: Vec<String> = ["id", "rest", "proxy", "file"]
            .iter()
            .filter_map(|name| req.path_param(name).map(|v| format!("{name}={v}")))
            .collect();
        Ok(format!("{route} {}", captured.join(" "))
            .trim_end()
            .to_owned())
    }
}

fn router() -> Router {
    Router::new()
        .get("/users", named("list"))
        .post("/users", named("create"))
        .get("/users/me", named("me"))
        .get("/users/{id}", named("show"))
        .delete("/users/{id}", named("remove"))
        .get("/users/{id}/files/{file}", named("file"))
        .get("/static/{rest+}", named("static"))
        .any("/anything", named("any"))
}

/// Runs one `method path` request per entry through one loop.
fn run(router: Router, requests: &[(&str, &str)]) -> Vec<Outcome> {
    let invokes = requests
        .iter()
        .map(|(method, path)| Invoke::new(bytes(&v2_event(method, path, "", json!({})))))
        .collect();
    testing::run(Adapter::new(router), invokes)
}

fn status_and_body(outcome: &Outcome) -> (u64, String) {
    let json = outcome.json();
    (
        json["statusCode"].as_u64().unwrap(),
        json["body"].as_str().unwrap().to_owned(),
    )
}

/// Each request reaches the right route with its captures (percent-decoded); a literal
/// beats a parameter; `HEAD` runs the `GET` route without a body.
#[test]
fn routes_and_captures() {
    let outcomes = run(
        router(),
        &[
            ("GET", "/users"),
            ("POST", "/users"),
            ("GET", "/users/me"),
            ("GET", "/users/a%20b"),
            ("DELETE", "/users/7"),
            ("GET", "/users/7/files/x.txt"),
            ("GET", "/static/css/site.css"),
            ("PATCH", "/anything"),
            ("HEAD", "/users/7"),
        ],
    );
    let got: Vec<(u64, String)> = outcomes.iter().map(status_and_body).collect();
    let expected = [
        "list",
        "create",
        "me",
        "show id=a b",
        "remove id=7",
        "file id=7 file=x.txt",
        "static rest=css/site.css",
        "any",
        "",
    ];
    for ((status, body), expected) in got.iter().zip(expected) {
        assert_eq!((*status, body.as_str()), (200, expected));
    }
}

/// A path no route matches is 404; a path whose routes are all of other methods is 405 with
/// the methods allowed (`HEAD` with `GET`); both JSON `{"message"}`.
#[test]
fn not_found_and_method_not_allowed() {
    let outcomes = run(
        router(),
        &[
            ("GET", "/nope"),
            ("PUT", "/users"),
            ("POST", "/users/7"),
            ("GET", "/users/"),
        ],
    );
    let not_found = outcomes[0].json();
    assert_eq!(not_found["statusCode"], 404);
    assert_eq!(not_found["headers"]["content-type"], "application/json");
    let body: Value = serde_json::from_str(not_found["body"].as_str().unwrap()).unwrap();
    assert_eq!(body, json!({"message": "Not Found"}));
    let put = outcomes[1].json();
    assert_eq!(put["statusCode"], 405);
    assert_eq!(put["headers"]["allow"], "GET, HEAD, POST");
    let post = outcomes[2].json();
    assert_eq!(post["headers"]["allow"], "DELETE, GET, HEAD");
    assert_eq!(
        outcomes[3].json()["statusCode"],
        404,
        "trailing slashes count"
    );
}

/// API Gateway's `{proxy+}` path parameter is readable through `path_param` when the
/// router's pattern captured nothing of that name; a `{proxy+}` pattern captures it itself.
#[test]
fn proxy_parameters() {
    let router = Router::new()
        .post("/testStage/hello/world", named("exact"))
        .get("/{proxy+}", named("proxy"));
    let outcomes = testing::run(
        Adapter::new(router).stage_in_path(true),
        vec![
            Invoke::new(fixture("example-apigw-request.json")),
            Invoke::new(bytes(&v2_event("GET", "/a/b", "", json!({})))),
        ],
    );
    assert_eq!(
        status_and_body(&outcomes[0]),
        (200, "exact proxy=hello/world".into())
    );
    assert_eq!(
        status_and_body(&outcomes[1]),
        (200, "proxy proxy=a/b".into())
    );
}

/// The fallback answers what no route matches.
#[test]
fn fallback() {
    let router = Router::new().fallback(|req: Request, _: &mut Context| {
        Ok::<_, Diagnostic>((StatusCode::IM_A_TEAPOT, format!("no {}", req.uri().path())))
    });
    let outcome = &run(router, &[("GET", "/x")])[0];
    assert_eq!(status_and_body(outcome), (418, "no /x".into()));
}

/// An invalid pattern is refused when the router is built, naming the pattern.
#[test]
#[should_panic(expected = "invalid route pattern \"/{a}/{a}\"")]
fn invalid_patterns_panic_at_build_time() {
    let _ = Router::new().get("/{a}/{a}", named("x"));
}

/// Route sets `matchit` refuses as conflicts work here, the most specific match winning: a
/// parameter and a catch-all at the same depth, two parameter names at one position.
#[test]
fn overlapping_patterns() {
    let router = Router::new()
        .get("/files/{file}", named("one"))
        .get("/files/{rest+}", named("many"))
        .get("/users/{id}", named("user"))
        .get("/users/{proxy}/orders", named("orders"));
    let outcomes = run(
        router,
        &[
            ("GET", "/files/a.txt"),
            ("GET", "/files/a/b.txt"),
            ("GET", "/users/7"),
            ("GET", "/users/7/orders"),
        ],
    );
    let got: Vec<(u64, String)> = outcomes.iter().map(status_and_body).collect();
    assert_eq!(
        got,
        [
            (200, "one file=a.txt".into()),
            (200, "many rest=a/b.txt".into()),
            (200, "user id=7".into()),
            (200, "orders proxy=7".into()),
        ]
    );
}
