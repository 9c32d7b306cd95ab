//! apigw-echo: the API Gateway v2 echo of the HTTP benchmark (`bench/http.sh`): answers 200,
//! `content-type: text/plain`, with the request's body — the same function as
//! `bench/anchor-http` on `lambda_http`, built with only the `apigw_v2` source:
//!
//!     cargo build --release -p coda-handlers --example apigw-echo --no-default-features --features apigw_v2

use coda_handlers::http::{Request, Response};
use coda_lambda::{Context, Diagnostic};

fn main() {
    coda_handlers::http::start(|| {
        Ok(|request: Request, _: &mut Context| {
            let response = Response::builder()
                .status(200)
                .header("content-type", "text/plain")
                .body(request.into_body())?;
            Ok::<_, Diagnostic>(response)
        })
    })
}
