//! The basic path: typed and raw handlers, context fields, ids, cold start.

use coda_emulator::Invoke;
use coda_lambda::{Bytes, Context, Diagnostic, Handler, Reply};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::support::{LIMIT, serve};

#[derive(Deserialize)]
struct Order {
    id: String,
    cents: u64,
}

#[derive(Serialize)]
struct Receipt {
    id: String,
    accepted: bool,
}

/// §2–§3: a typed handler decodes the event, its `Serialize` output is posted as JSON with
/// `application/json`, and the emulator answers 202.
#[test]
fn typed_handler_round_trip() {
    let served = serve(|order: Order, _: &mut Context| {
        Ok::<_, Diagnostic>(Receipt {
            id: order.id,
            accepted: order.cents < 10_000,
        })
    });
    let pending = served
        .emulator
        .invoke(Invoke::json(&json!({"id": "o-1", "cents": 500})));
    let answer = pending.answer(LIMIT).unwrap();
    assert_eq!(answer.json(), Some(json!({"id": "o-1", "accepted": true})));
    assert_eq!(answer.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        (answer.status, answer.function_error.as_deref()),
        (202, None)
    );
    assert!(
        answer
            .header("user-agent")
            .unwrap()
            .starts_with("coda-lambda/")
    );
    served.shutdown();
}

/// §2.2, §9 #10–#11: a raw handler gets the payload byte for byte (binary, empty, not JSON)
/// and answers raw bytes with the content type it chose.
#[test]
fn raw_handler_round_trip() {
    let served = serve(|event: Bytes, ctx: &mut Context| {
        let kind = ctx.content_type().unwrap_or("none").to_owned();
        let mut body = event.into_vec();
        body.reverse();
        Ok::<_, Diagnostic>(
            Reply::bytes(body).content_type(format!("application/x-reversed; from={kind}")),
        )
    });
    for payload in [
        vec![0u8, 159, 146, 150, 255],
        vec![],
        b"not json at all".to_vec(),
    ] {
        let pending = served
            .emulator
            .invoke(Invoke::new(payload.clone()).content_type("application/octet-stream"));
        let answer = pending.answer(LIMIT).unwrap();
        let mut expected = payload;
        expected.reverse();
        assert_eq!(answer.payload, expected);
        assert_eq!(
            answer.content_type.as_deref(),
            Some("application/x-reversed; from=application/octet-stream")
        );
    }
    served.shutdown();
}

/// A plain `Serialize` value, `()` and text all answer without a `Reply`.
#[test]
fn plain_values_answer() {
    let served = serve(
        |event: Value, _: &mut Context| -> Result<Reply, Diagnostic> {
            Ok(match event["kind"].as_str() {
                Some("unit") => Reply::new(()),
                Some("text") => Reply::text("hi ünïcode"),
                _ => Reply::new(vec![1, 2, 3]),
            })
        },
    );
    let answer = |kind: &str| {
        served
            .emulator
            .invoke(Invoke::json(&json!({"kind": kind})))
            .answer(LIMIT)
            .unwrap()
    };
    assert_eq!(answer("unit").payload, b"null");
    let text = answer("text");
    assert_eq!(text.payload, "hi ünïcode".as_bytes());
    assert_eq!(
        text.content_type.as_deref(),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(answer("list").payload, b"[1,2,3]");
    served.shutdown();
}

/// §2.2: every header reaches the context; the function settings come from the environment;
/// the first invocation is a cold start and later ones are not.
#[test]
fn context_carries_every_header() {
    let served = serve(|_: Value, ctx: &mut Context| {
        Ok::<_, Diagnostic>(json!({
            "request_id": ctx.request_id(),
            "deadline_ms": ctx.deadline_ms(),
            "remaining_ms": ctx.remaining().as_millis() as u64,
            "arn": ctx.invoked_function_arn(),
            "trace": ctx.trace_id(),
            "client_app": ctx.client_context().map(|c| c.client.app_title.clone()),
            "custom": ctx.client_context().map(|c| c.custom.get("n").cloned()),
            "identity": ctx.identity().map(|i| i.identity_id.clone()),
            "tenant": ctx.tenant_id(),
            "invocation_id": ctx.invocation_id(),
            "function": ctx.function().name,
            "memory": ctx.function().memory_mb,
            "cold": ctx.is_cold_start(),
        }))
    });
    let deadline = crate::support::now_ms() + 60_000;
    let first = served
        .emulator
        .invoke(
            Invoke::new("{}")
                .request_id("req-ctx-1")
                .deadline_ms(deadline)
                .trace_id(
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                )
                .client_context(r#"{"client":{"app_title":"shop"},"custom":{"n":7}}"#)
                .cognito_identity(
                    r#"{"cognitoIdentityId":"us-east-1:abc","cognitoIdentityPoolId":"pool"}"#,
                )
                .tenant_id("tenant-9")
                .invocation_id("inv-1"),
        )
        .answer(LIMIT)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(first["request_id"], "req-ctx-1");
    assert_eq!(first["deadline_ms"], deadline);
    let remaining = first["remaining_ms"].as_u64().unwrap();
    assert!(remaining > 50_000 && remaining <= 60_000, "{remaining}");
    assert_eq!(
        first["arn"],
        "arn:aws:lambda:us-east-1:123456789012:function:function"
    );
    assert!(
        first["trace"]
            .as_str()
            .unwrap()
            .starts_with("Root=1-5759e988")
    );
    assert_eq!(
        (first["client_app"].clone(), first["custom"].clone()),
        (json!("shop"), json!(7))
    );
    assert_eq!(first["identity"], "us-east-1:abc");
    assert_eq!(
        (first["tenant"].clone(), first["invocation_id"].clone()),
        (json!("tenant-9"), json!("inv-1"))
    );
    assert_eq!(
        (first["function"].clone(), first["memory"].clone()),
        (json!("function"), json!(128))
    );
    assert_eq!(first["cold"], true);
    let second = served
        .emulator
        .invoke(Invoke::new("{}"))
        .answer(LIMIT)
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(second["cold"], false);
    assert_eq!(second["tenant"], Value::Null);
    served.shutdown();
}

/// §2.2, §9 #9: the invocation id is echoed on `/response` and on `/error`, and nothing is
/// sent when there was none.
#[test]
fn invocation_id_is_echoed() {
    let served = serve(|event: Value, _: &mut Context| {
        if event["fail"] == true {
            Err(Diagnostic::new("Function.Failed", "asked to"))
        } else {
            Ok(event)
        }
    });
    let ok = served
        .emulator
        .invoke(Invoke::json(&json!({})).invocation_id("inv-ok"))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(ok.header("lambda-runtime-invocation-id"), Some("inv-ok"));
    let failed = served
        .emulator
        .invoke(Invoke::json(&json!({"fail": true})).invocation_id("inv-err"))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(
        failed.header("lambda-runtime-invocation-id"),
        Some("inv-err")
    );
    assert!(failed.is_error());
    let none = served
        .emulator
        .invoke(Invoke::json(&json!({})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(none.header("lambda-runtime-invocation-id"), None);
    served.shutdown();
}

/// §9 #8: request ids with characters that need escaping reach the right invocation;
/// §9 #9: a repeated request id is told apart by its invocation id.
#[test]
fn odd_and_repeated_request_ids() {
    let served = serve(|event: Value, ctx: &mut Context| {
        Ok::<_, Diagnostic>(json!([event, ctx.request_id()]))
    });
    for id in [
        "id with spaces",
        "100%?#",
        "ünïcödé-id",
        "a:b@c!$&'()*+,;=~",
    ] {
        let answer = served
            .emulator
            .invoke(Invoke::json(&json!(1)).request_id(id))
            .answer(LIMIT)
            .unwrap();
        assert_eq!(answer.json(), Some(json!([1, id])), "{id}");
        assert_eq!(answer.status, 202, "{id}");
    }
    let first = served.emulator.invoke(
        Invoke::json(&json!("a"))
            .request_id("dup")
            .invocation_id("attempt-1"),
    );
    let second = served.emulator.invoke(
        Invoke::json(&json!("b"))
            .request_id("dup")
            .invocation_id("attempt-2"),
    );
    assert_eq!(
        first.answer(LIMIT).unwrap().json(),
        Some(json!(["a", "dup"]))
    );
    assert_eq!(
        second.answer(LIMIT).unwrap().json(),
        Some(json!(["b", "dup"]))
    );
    served.shutdown();
}

/// A handler written as a struct keeps state across invocations and may use its own error type.
#[test]
fn struct_handlers_keep_state() {
    struct Counter(u64);
    impl Handler for Counter {
        type Event = Value;
        type Output = u64;
        type Error = std::io::Error;
        fn call(&mut self, event: Value, _: &mut Context) -> Result<u64, std::io::Error> {
            if event == "boom" {
                return Err(std::io::Error::other("counter refused"));
            }
            self.0 += 1;
            Ok(self.0)
        }
    }
    let served = serve(Counter(0));
    let invoke = |v: Value| {
        served
            .emulator
            .invoke(Invoke::json(&v))
            .answer(LIMIT)
            .unwrap()
    };
    assert_eq!(invoke(json!(null)).payload, b"1");
    let failed = invoke(json!("boom"));
    assert_eq!(failed.diagnostic().unwrap().error_type(), "io::Error");
    assert_eq!(invoke(json!(null)).payload, b"2");
    served.shutdown();
}

/// The URL form of `AWS_LAMBDA_RUNTIME_API` (cargo-lambda's `http://host:port/.rt/<name>`)
/// works against a server that serves the Runtime API under that prefix.
#[test]
fn runtime_api_url_with_path_prefix() {
    let served = crate::support::serve_with(
        coda_emulator::Emulator::builder().path_prefix("/.rt/hello"),
        |r| r,
        |event: Value, _: &mut Context| Ok::<_, Diagnostic>(event),
    );
    assert!(served.emulator.runtime_api().ends_with("/.rt/hello"));
    let answer = served
        .emulator
        .invoke(Invoke::json(&json!({"via": "prefix"})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(answer.json(), Some(json!({"via": "prefix"})));
    served.shutdown();
}

/// §9 #19: an event at the edge of 6 MB is read whole before the handler runs, and a response
/// of exactly the 6,291,556-byte limit is accepted.
#[test]
fn events_at_the_size_limit() {
    let served = serve(|event: Bytes, _: &mut Context| Ok::<_, Diagnostic>(Reply::bytes(event)));
    let size = coda_lambda::protocol::MAX_BUFFERED_RESPONSE;
    let payload: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
    let answer = served
        .emulator
        .invoke(Invoke::new(payload.clone()))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(answer.status, 202);
    assert!(
        answer.payload == payload,
        "the 6 MB event came back changed"
    );
    served.shutdown();
}
