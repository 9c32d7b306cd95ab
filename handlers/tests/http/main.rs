//! The HTTP adapter's tests: real events through Coda's real loop against the real emulator
//! (`coda_emulator::testing`), and the examples behind the emulator's Function URL front with
//! a real HTTP client. One test binary, one link step.

/// The examples, compiled in as modules so the tests drive their handlers.
#[allow(dead_code)]
#[path = "../../../examples/http-api.rs"]
mod http_api_example;
#[allow(dead_code)]
#[path = "../../../examples/http-echo.rs"]
mod http_echo_example;

/// Where `lambda_http` loses data and Coda must not: one test per case.
mod data_loss;
/// Every request fixture, field by field.
mod fixtures;
/// `http-echo` and streaming behind the emulator's Function URL front (as `coda run` serves it).
mod front;
/// `http-api`: routes, JSON in and out, a binary answer, deferred audit lines.
mod http_api;
/// Each source's response shape, against the response fixtures, through the loop.
mod responses;
/// The router: captures, precedence, 404, 405 with `Allow`, `HEAD`.
mod router;
/// Helpers: fixtures, capturing handlers, invoking through the loop.
mod support;
/// Events that are no HTTP events: one clear error.
mod unknown;
