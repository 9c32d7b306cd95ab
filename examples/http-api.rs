//! http-api: a small JSON API on the HTTP adapter's router — path parameters, JSON in and
//! out, one binary response, and an audit line per request written after the answer.
//!
//! ```sh
//! cargo build -p coda-bootstrap -p coda-examples
//! target/debug/coda run -- target/debug/http-api
//! curl -i -X POST http://127.0.0.1:9000/users -d '{"name":"Ada"}'
//! curl -i http://127.0.0.1:9000/users/1
//! curl -s http://127.0.0.1:9000/users/1/avatar.png | od -An -tx1 | head -1
//! curl -i -X DELETE http://127.0.0.1:9000/users/1
//! ```
//!
//! Routes: `GET /users`, `POST /users` (`{"name": …}` → 201 with the user), `GET
//! /users/{id}`, `DELETE /users/{id}` (204), `GET /users/{id}/avatar.png` (an `image/png`).
//! Unknown paths answer 404, known paths with another method 405 with `Allow`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use coda_handlers::http::{
    Body, HttpHandler, IntoResponse, Json, Request, RequestExt, Response, Router, StatusCode,
};
use coda_lambda::{Context, Diagnostic};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone, Serialize)]
struct User {
    id: u64,
    name: String,
}

#[derive(Deserialize)]
struct NewUser {
    name: String,
}

/// The users, kept for the life of the process (a real function would use a database).
#[derive(Default)]
struct Store {
    next_id: u64,
    users: BTreeMap<u64, User>,
}

type Shared = Arc<Mutex<Store>>;

fn main() {
    coda_handlers::http::start(|| Ok(app()))
}

/// The function: the router, and an audit line per request once it is answered.
/// (`pub(crate)`: the crate's tests compile this file as a module and drive this handler.)
pub(crate) fn app() -> impl FnMut(Request, &mut Context) -> Result<Response<Body>, Diagnostic> {
    let mut router = router(Shared::default());
    move |request: Request, ctx: &mut Context| {
        let (method, path) = (request.method().clone(), request.uri().path().to_owned());
        let response = router.call(request, ctx)?;
        let status = response.status().as_u16();
        // Deferred: the caller has the answer before this line is written.
        ctx.after(move |d| log::info!("audit {method} {path} -> {status} ({})", d.request_id()));
        Ok(response)
    }
}

/// The API's routes over `store`.
fn router(store: Shared) -> Router {
    let (list, create, show, remove) = (store.clone(), store.clone(), store.clone(), store.clone());
    Router::new()
        .get("/users", move |_: Request, _: &mut Context| {
            let users: Vec<User> = lock(&list).users.values().cloned().collect();
            Ok::<_, Diagnostic>(Json(users))
        })
        .post("/users", move |request: Request, _: &mut Context| {
            let new: NewUser = match request.body().json() {
                Ok(new) => new,
                Err(e) => return Ok(bad_request(&format!("expected {{\"name\": …}}: {e}"))),
            };
            let mut store = lock(&create);
            store.next_id += 1;
            let user = User {
                id: store.next_id,
                name: new.name,
            };
            store.users.insert(user.id, user.clone());
            Ok::<_, Diagnostic>((StatusCode::CREATED, Json(user)).into_response())
        })
        .get("/users/{id}", move |request: Request, _: &mut Context| {
            Ok::<_, Diagnostic>(match user(&show, &request) {
                Some(user) => Json(user).into_response(),
                None => not_found(),
            })
        })
        .delete("/users/{id}", move |request: Request, _: &mut Context| {
            let id = id(&request);
            let removed = id.and_then(|id| lock(&remove).users.remove(&id));
            Ok::<_, Diagnostic>(match removed {
                Some(_) => StatusCode::NO_CONTENT.into_response(),
                None => not_found(),
            })
        })
        .get(
            "/users/{id}/avatar.png",
            move |request: Request, _: &mut Context| {
                Ok::<_, Diagnostic>(match user(&store, &request) {
                    Some(_) => Response::builder()
                        .header("content-type", "image/png")
                        .header("cache-control", "max-age=86400")
                        .body(Body::from(AVATAR.to_vec()))?,
                    None => not_found(),
                })
            },
        )
}

fn lock(store: &Shared) -> std::sync::MutexGuard<'_, Store> {
    store
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn id(request: &Request) -> Option<u64> {
    request.path_param("id")?.parse().ok()
}

fn user(store: &Shared, request: &Request) -> Option<User> {
    lock(store).users.get(&id(request)?).cloned()
}

fn not_found() -> Response<Body> {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "no such user"})),
    )
        .into_response()
}

fn bad_request(message: &str) -> Response<Body> {
    (StatusCode::BAD_REQUEST, Json(json!({ "message": message }))).into_response()
}

/// A 1×1 PNG: signature, IHDR, IDAT, IEND.
const AVATAR: [u8; 67] = [
    0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4,
    0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
    0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE,
    0x42, 0x60, 0x82,
];
