//! Streamed responses (`docs/runtime-api.md` §5): chunked `/response` with the streaming mode
//! header, real trailers for mid-stream errors, `/error` for errors before the first byte,
//! and the HTTP-integration prelude.

use std::io::Write;

use coda_emulator::Invoke;
use coda_lambda::{Context, Diagnostic, Reply};
use serde_json::{Value, json};

use crate::support::{LIMIT, serve};

fn streaming(event: Value, _: &mut Context) -> Result<Reply, Diagnostic> {
    let how = event["how"].as_str().unwrap_or_default().to_owned();
    Ok(match how.as_str() {
        "http" => {
            let head = http::Response::builder()
                .status(201)
                .header("content-type", "text/plain")
                .header("set-cookie", "a=b")
                .header("x-custom", "1")
                .body(())
                .map_err(|e| Diagnostic::new("Function.Head", e.to_string()))?;
            Reply::stream_http(head, |out| out.write_all(b"hello from a stream"))
        }
        _ => Reply::stream(move |out| -> Result<(), Diagnostic> {
            if how == "fail-first" {
                return Err(Diagnostic::new(
                    "Function.NothingToSay",
                    "failed before writing",
                ));
            }
            for i in 0..3 {
                writeln!(out, "chunk {i}")?;
            }
            if how == "fail-mid" {
                return Err(Diagnostic::new(
                    "Function.StreamBroke",
                    "failed after three chunks",
                ));
            }
            Ok(())
        }),
    })
}

/// §5.1: chunks arrive as one body, with the streaming mode header and chunked framing.
#[test]
fn streamed_body_arrives_whole() {
    let served = serve(streaming);
    let answer = served
        .emulator
        .invoke(Invoke::json(&json!({"how": "ok"})))
        .answer(LIMIT)
        .unwrap();
    assert!(answer.streamed);
    assert_eq!(answer.payload, b"chunk 0\nchunk 1\nchunk 2\n");
    assert_eq!((answer.status, answer.is_error()), (202, false));
    assert_eq!(
        answer.header("lambda-runtime-function-response-mode"),
        Some("streaming")
    );
    assert_eq!(answer.header("transfer-encoding"), Some("chunked"));
    assert_eq!(served.report().error, None);
    served.shutdown();
}

/// §5.2: an error after streaming started is sent as real trailers (type, base64 body); the
/// caller sees the partial body and the error.
#[test]
fn mid_stream_errors_are_trailers() {
    let served = serve(streaming);
    let answer = served
        .emulator
        .invoke(Invoke::json(&json!({"how": "fail-mid"})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(answer.payload, b"chunk 0\nchunk 1\nchunk 2\n");
    assert_eq!(
        answer.function_error.as_deref(),
        Some("Function.StreamBroke")
    );
    let body = answer
        .trailers
        .iter()
        .find(|(n, _)| n == "lambda-runtime-function-error-body")
        .unwrap();
    let decoded: Value = serde_json::from_slice(&crate::support::base64_decode(&body.1)).unwrap();
    assert_eq!(decoded["errorMessage"], "failed after three chunks");
    assert_eq!(
        served.report().error.map(|e| e.error_type().to_owned()),
        Some("Function.StreamBroke".to_owned())
    );
    served.shutdown();
}

/// §5.2: an error before the first byte goes to `/error` like a buffered one.
#[test]
fn errors_before_streaming_go_to_error() {
    let served = serve(streaming);
    let answer = served
        .emulator
        .invoke(Invoke::json(&json!({"how": "fail-first"})))
        .answer(LIMIT)
        .unwrap();
    assert!(!answer.streamed);
    assert_eq!(
        answer.function_error.as_deref(),
        Some("Function.NothingToSay")
    );
    assert_eq!(
        answer.diagnostic().unwrap().message(),
        "failed before writing"
    );
    served.shutdown();
}

/// §5.3: HTTP-integration streams start with the JSON prelude and 8 NUL bytes; cookies
/// travel apart from headers.
#[test]
fn http_integration_prelude() {
    let served = serve(streaming);
    let answer = served
        .emulator
        .invoke(Invoke::json(&json!({"how": "http"})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(
        answer.content_type.as_deref(),
        Some("application/vnd.awslambda.http-integration-response")
    );
    let split = answer
        .payload
        .windows(8)
        .position(|w| w == [0u8; 8])
        .expect("8 NUL bytes");
    let prelude: Value = serde_json::from_slice(&answer.payload[..split]).unwrap();
    assert_eq!(prelude["statusCode"], 201);
    assert_eq!(prelude["headers"]["content-type"], "text/plain");
    assert_eq!(prelude["headers"]["x-custom"], "1");
    assert_eq!(prelude["cookies"], json!(["a=b"]));
    assert_eq!(&answer.payload[split + 8..], b"hello from a stream");
    served.shutdown();
}
