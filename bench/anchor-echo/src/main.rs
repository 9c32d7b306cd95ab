//! anchor-echo: Coda's echo function (`examples/echo.rs`) on the official `lambda_runtime`
//! crate, written as its documentation shows a function: the event as a `serde_json::Value`,
//! returned unchanged (compact JSON, so an event with sorted keys comes back byte for byte).

use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

/// The handler: the payload back as it came.
async fn echo(event: LambdaEvent<Value>) -> Result<Value, Error> {
    Ok(event.payload)
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(echo)).await
}
