//! url: a Function URL handler. The HTTP request arrives as a payload-2.0 event; the answer
//! `{statusCode, headers, cookies, body}` becomes the HTTP response.
//!
//! ```sh
//! cargo build -p coda-bootstrap -p coda-examples
//! target/debug/coda run -- target/debug/url
//! curl -i 'http://127.0.0.1:9000/hello?name=World'
//! ```

use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};

fn main() {
    coda_lambda::start(|| {
        Ok(|request: Value, ctx: &mut Context| {
            let name = request["queryStringParameters"]["name"]
                .as_str()
                .unwrap_or("stranger");
            let path = request["rawPath"].as_str().unwrap_or("/");
            let method = request["requestContext"]["http"]["method"]
                .as_str()
                .unwrap_or("GET");
            Ok::<_, Diagnostic>(json!({
                "statusCode": 200,
                "headers": {"content-type": "text/plain; charset=utf-8"},
                "cookies": [format!("last-visit={}", ctx.request_id())],
                "body": format!("Hello, {name}! You sent {method} {path}.\n"),
            }))
        })
    })
}
