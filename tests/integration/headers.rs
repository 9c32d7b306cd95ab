//! Missing, empty and invalid `/next` headers (`docs/runtime-api.md` §2.2, §9 #6–#7): the loop
//! never panics on them; the context says "absent" and keeps the raw value where useful.

use std::time::Duration;

use coda_emulator::Invoke;
use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};

use crate::support::{LIMIT, serve};

fn describe(_: Value, ctx: &mut Context) -> Result<Value, Diagnostic> {
    Ok(json!({
        "deadline": ctx.deadline_ms(),
        "remaining_is_max": ctx.remaining() == Duration::MAX,
        "arn": ctx.invoked_function_arn(),
        "trace": ctx.trace_id(),
        "client_context": ctx.client_context().is_some(),
        "client_context_raw": ctx.client_context_raw(),
        "identity": ctx.identity().is_some(),
        "identity_raw": ctx.identity_raw(),
        "tenant": ctx.tenant_id(),
        "invocation_id": ctx.invocation_id(),
        "content_type": ctx.content_type(),
    }))
}

/// §9 #6: no deadline and no ARN (third-party emulators omit them): no deadline, empty ARN,
/// and the invocation is served.
#[test]
fn missing_deadline_and_arn() {
    let served = serve(describe);
    let out = served
        .emulator
        .invoke(
            Invoke::new("{}")
                .without_header("lambda-runtime-deadline-ms")
                .without_header("lambda-runtime-invoked-function-arn")
                .without_header("lambda-runtime-trace-id")
                .without_header("content-type"),
        )
        .answer(LIMIT)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(out["deadline"], Value::Null);
    assert_eq!(out["remaining_is_max"], true);
    assert_eq!(out["arn"], "");
    assert_eq!(
        (out["trace"].clone(), out["content_type"].clone()),
        (Value::Null, Value::Null)
    );
    served.shutdown();
}

/// §9 #6: an invalid deadline is "no deadline", not a crash and not zero.
#[test]
fn invalid_deadline() {
    let served = serve(describe);
    for bad in ["soon", "-5", "1.5e12", ""] {
        let out = served
            .emulator
            .invoke(Invoke::new("{}").header("lambda-runtime-deadline-ms", bad))
            .answer(LIMIT)
            .unwrap()
            .json()
            .unwrap();
        assert_eq!(out["deadline"], Value::Null, "{bad}");
        assert_eq!(out["remaining_is_max"], true, "{bad}");
    }
    served.shutdown();
}

/// §2.2 / §9 #7: empty optional headers (LMI RAPID sends them) are absent.
#[test]
fn empty_optional_headers_are_absent() {
    let served = serve(describe);
    let out = served
        .emulator
        .invoke(
            Invoke::new("{}")
                .trace_id("")
                .client_context("")
                .cognito_identity("")
                .tenant_id("")
                .invocation_id(""),
        )
        .answer(LIMIT)
        .unwrap();
    assert_eq!(
        out.header("lambda-runtime-invocation-id"),
        None,
        "nothing echoed for an empty id"
    );
    let out = out.json().unwrap();
    for key in [
        "trace",
        "client_context_raw",
        "identity_raw",
        "tenant",
        "invocation_id",
    ] {
        assert_eq!(out[key], Value::Null, "{key}");
    }
    served.shutdown();
}

/// §9 #7: invalid JSON in the client context or identity does not fail the invocation; the
/// parsed value is absent and the raw text is kept.
#[test]
fn invalid_json_in_identity_headers() {
    let served = serve(describe);
    let out = served
        .emulator
        .invoke(
            Invoke::new("{}")
                .client_context("{not json")
                .cognito_identity("[1,2"),
        )
        .answer(LIMIT)
        .unwrap();
    assert!(!out.is_error());
    let out = out.json().unwrap();
    assert_eq!(
        (
            out["client_context"].clone(),
            out["client_context_raw"].clone()
        ),
        (json!(false), json!("{not json"))
    );
    assert_eq!(
        (out["identity"].clone(), out["identity_raw"].clone()),
        (json!(false), json!("[1,2"))
    );
    served.shutdown();
}

/// §9 #7: non-string `custom` values and capitalised keys in the client context parse.
#[test]
fn lenient_client_context() {
    let served = serve(|_: Value, ctx: &mut Context| {
        let cc = ctx.client_context().cloned().unwrap_or_default();
        Ok::<_, Diagnostic>(json!([
            cc.client.installation_id,
            cc.custom.get("count"),
            cc.env.get("locale")
        ]))
    });
    let out = served
        .emulator
        .invoke(Invoke::new("{}").client_context(
            r#"{"Client":{"installation_id":"inst-1"},"custom":{"count":3},"env":{"locale":"en_GB"}}"#,
        ))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(out.json(), Some(json!(["inst-1", 3, "en_GB"])));
    served.shutdown();
}

/// cargo-lambda 1.x sends `Lambda-Runtime-Deadline-Ms: 600000` (its timeout, not an epoch
/// time): the runtime reads it as ten minutes from now, so deferred work still runs.
#[test]
fn cargo_lambda_relative_deadline() {
    let served = serve(|_: Value, ctx: &mut Context| {
        ctx.after(|job| assert!(!job.budget_spent()));
        Ok::<_, Diagnostic>(ctx.remaining().as_secs())
    });
    let pending = served.emulator.invoke(
        Invoke::new("{}")
            .header("lambda-runtime-deadline-ms", "600000")
            .header("lambda-runtime-invoked-function-arn", "function-arn")
            .without_header("content-type"),
    );
    let answer = pending.answer(LIMIT).unwrap();
    let seconds: u64 =
        serde_json::from_slice(&answer.payload).unwrap_or_else(|e| panic!("{e}: {answer:?}"));
    assert!((590..=600).contains(&seconds), "{seconds}");
    pending.finished(LIMIT).unwrap();
    assert_eq!(served.report().deferred.ran, 1);
    served.shutdown();
}
