// The API Gateway v2 echo on the official lambda_http 1.3.2 (tokio multi-thread, as its docs
// show): answers 200, `content-type: text/plain`, with the request's body.
use lambda_http::{run, service_fn, Body, Error, Request, Response};

async fn echo(request: Request) -> Result<Response<Body>, Error> {
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(request.into_body())?)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(echo)).await
}
