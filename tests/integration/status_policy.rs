//! The status policy (`docs/runtime-api.md` §2.4, §3.3, §4.1, §9 #2–#5, #12–#15): 4xx on an answer
//! is logged and the loop goes on; 5xx or a transport failure stops it; a non-200 `/next`
//! stops it with the status and body in the message; an event without a request id stops it
//! without polling again.

use std::time::Duration;

use coda_emulator::{Invoke, NextReply};
use coda_lambda::{ApiError, Context, Delivery, Diagnostic, Error, Reply, Runtime};
use serde_json::{Value, json};

use crate::support::{LIMIT, Served, serve};

fn echo_or_fail(event: Value, _: &mut Context) -> Result<Value, Diagnostic> {
    if event["fail"] == true {
        Err(Diagnostic::new("Function.Asked", "asked to fail"))
    } else {
        Ok(event)
    }
}

/// The loop still serves: one more invocation answers.
fn still_serving(served: &Served) {
    let answer = served
        .emulator
        .invoke(Invoke::json(&json!({"still": "serving"})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!(answer.json(), Some(json!({"still": "serving"})));
}

/// §3.3 / §9 #13–#14: 400, 403 and 410 on `/response` and on `/error` are logged; the loop
/// goes on and reports the refusal.
#[test]
fn client_errors_on_answers_are_survived() {
    let served = serve(echo_or_fail);
    for status in [400, 403, 410] {
        for fail in [false, true] {
            let pending = served
                .emulator
                .invoke(Invoke::json(&json!({"fail": fail})).answer_status(status));
            assert_eq!(pending.answer(LIMIT).unwrap().status, status);
            let report = served.report();
            assert!(
                matches!(&report.delivery, Delivery::Rejected { status: s, .. } if *s == status),
                "{status}: {:?}",
                report.delivery
            );
        }
    }
    still_serving(&served);
    served.shutdown();
}

/// §3.2 / §9 #12: a buffered response one byte over 6,291,556 gets 413 from the emulator;
/// the runtime does not post `/error` and goes on. Exactly the limit is accepted.
#[test]
fn oversized_responses_get_413_and_no_error_post() {
    let served = serve(|event: Value, _: &mut Context| {
        let size = event["size"].as_u64().unwrap() as usize;
        Ok::<_, Diagnostic>(Reply::bytes(vec![b'x'; size]))
    });
    let limit = coda_lambda::protocol::MAX_BUFFERED_RESPONSE;
    let posts_before = served.emulator.answer_posts();
    let over = served
        .emulator
        .invoke(Invoke::json(&json!({"size": limit + 1})));
    let answer = over.answer(LIMIT).unwrap();
    assert_eq!(
        (answer.status, answer.function_error.as_deref()),
        (413, Some("Function.ResponseSizeTooLarge"))
    );
    over.finished(LIMIT).unwrap();
    assert_eq!(
        served.emulator.answer_posts(),
        posts_before + 1,
        "no /error after a 413"
    );
    assert!(matches!(
        served.report().delivery,
        Delivery::Rejected { status: 413, .. }
    ));
    let exact = served
        .emulator
        .invoke(Invoke::json(&json!({"size": limit})))
        .answer(LIMIT)
        .unwrap();
    assert_eq!((exact.status, exact.payload.len()), (202, limit));
    served.shutdown();
}

/// §3.3 / §9 #15: a 500 on `/response` stops the loop, naming the call and the status.
#[test]
fn server_error_on_response_stops_the_loop() {
    let mut served = serve(echo_or_fail);
    served
        .emulator
        .invoke(Invoke::json(&json!({})).answer_status(500));
    let error = served.stopped();
    assert!(
        matches!(&error, Error::Api(ApiError::Status { status: 500, .. })),
        "{error:?}"
    );
    let text = crate::support::chain(&error);
    assert!(text.contains("/response") && text.contains("500"), "{text}");
}

/// §4.1 / §9 #15: a 500 on `/error` stops the loop too.
#[test]
fn server_error_on_error_stops_the_loop() {
    let mut served = serve(echo_or_fail);
    served
        .emulator
        .invoke(Invoke::json(&json!({"fail": true})).answer_status(500));
    let error = served.stopped();
    let text = crate::support::chain(&error);
    assert!(text.contains("/error: status 500"), "{text}");
}

/// §9 #3: a connection dropped instead of an answer to `/response` looks like a kept
/// connection the server closed: the runtime sends the answer once more on a new connection.
/// Here the first had got through, so the Runtime API refuses the second (403, already
/// answered), which tells the runtime its first post was accepted (§11 #6): delivered, and
/// the loop goes on.
#[test]
fn a_dropped_answer_is_sent_once_more() {
    let served = serve(echo_or_fail);
    let pending = served
        .emulator
        .invoke(Invoke::json(&json!({"n": 1})).drop_answer());
    assert_eq!(pending.answer(LIMIT).unwrap().json(), Some(json!({"n": 1})));
    pending.finished(LIMIT).unwrap();
    let report = served.report();
    assert_eq!(report.delivery, Delivery::Accepted);
    assert!(report.error.is_none(), "{:?}", report.error);
    assert_eq!(served.emulator.answer_posts(), 2, "sent twice");
    still_serving(&served);
    served.shutdown();
}

/// An answer to `/next` whose head is larger than any Lambda event's headers stops the loop
/// with an error that says so (it used to read as a disconnection).
#[test]
fn an_oversized_next_head_is_named() {
    let mut served = serve(echo_or_fail);
    served.emulator.invoke(
        Invoke::json(&json!({}))
            .header("x-padding", "p".repeat(20 * 1024))
            .allow_large_head(),
    );
    let error = served.stopped();
    assert!(
        matches!(&error, Error::Api(ApiError::HeadTooLarge { .. })),
        "{error:?}"
    );
    let text = crate::support::chain(&error);
    assert!(text.contains("head is over 16383 bytes"), "{text}");
}

/// §2.4 / §9 #4: a non-200 `/next` stops the loop with the status and body in the message.
#[test]
fn non_200_next_stops_with_status_and_body() {
    for status in [403, 500, 502] {
        let mut served = serve(echo_or_fail);
        served.emulator.script_next(NextReply::Status {
            status,
            body: br#"{"errorType":"InvalidStateTransition","errorMessage":"no"}"#.to_vec(),
        });
        let error = served.stopped();
        let text = crate::support::chain(&error);
        assert!(
            text.contains(&format!("status {status}")) && text.contains("InvalidStateTransition"),
            "{text}"
        );
        assert_eq!(served.emulator.next_calls(), 1);
    }
}

/// §9 #5: a `/next` without a request id stops the loop, which does not poll again.
#[test]
fn next_without_request_id_stops_without_polling_again() {
    let mut served = serve(echo_or_fail);
    served
        .emulator
        .script_next(NextReply::WithoutRequestId(b"{}".to_vec()));
    let error = served.stopped();
    assert!(
        matches!(&error, Error::Api(ApiError::MissingRequestId)),
        "{error:?}"
    );
    assert!(crate::support::chain(&error).contains("Lambda-Runtime-Aws-Request-Id"));
    assert_eq!(served.emulator.next_calls(), 1, "no second /next");
    assert_eq!(served.emulator.answer_posts(), 0, "nothing posted");
}

/// §9 #3: a `/next` whose connection closes without an answer stops the loop.
#[test]
fn closed_next_stops_the_loop() {
    let mut served = serve(echo_or_fail);
    served.emulator.script_next(NextReply::Close);
    let error = served.stopped();
    assert!(
        matches!(&error, Error::Api(ApiError::Transport { .. })),
        "{error:?}"
    );
}

/// §9 #2: nothing listening at the first `/next`: a short bounded retry, then the loop stops
/// with a transport error naming `/next`.
#[test]
fn refused_first_connection_stops_after_retrying() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let config = coda_lambda::Config::for_runtime_api(&format!("127.0.0.1:{port}")).unwrap();
    let started = std::time::Instant::now();
    let error = Runtime::new(config).run(echo_or_fail);
    assert!(
        matches!(&error, Error::Api(ApiError::Transport { .. })),
        "{error:?}"
    );
    let text = crate::support::chain(&error);
    assert!(text.contains("/next"), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the retry is bounded"
    );
}
