//! The two flushes through Coda's real loop against the real emulator: what the deferred
//! flush and the observer write, for successes, errors and panics, with metrics recorded by
//! the handler, by deferred work and at init.

use coda_emulator::Invoke;
use coda_emulator::testing::{self, Harness};
use coda_handlers::metrics::{Metrics, MetricsError, Unit};
use coda_lambda::{Context, Diagnostic};
use serde_json::{Value, json};

use crate::metrics_example::app;
use crate::support::{Lines, names};

fn order(item: &str, cents: u64) -> Invoke {
    Invoke::json(&json!({"item": item, "cents": cents}))
}

/// The deferred flush (the handler wrapper) writes, per invocation and after its answer, the
/// business metrics — the handler's and those its deferred work recorded — with the
/// invocation's dimension and property, then `ColdStart`, `TimeToAnswer` and `Errors` under
/// the default dimensions only.
#[test]
fn deferred_flush() {
    let lines = Lines::default();
    let metrics = lines.metrics(Metrics::builder("Shop").service("orders"));
    let handler = metrics.handler(app(metrics.clone()));
    let outcomes = testing::run(handler, vec![order("book", 1250), order("pen", 300)]);
    let docs = lines.docs();
    assert_eq!(docs.len(), 4, "{docs:#?}");
    for (i, (outcome, item, cents)) in
        [(&outcomes[0], "book", 1250.0), (&outcomes[1], "pen", 300.0)]
            .into_iter()
            .enumerate()
    {
        assert_eq!(outcome.json(), json!({"accepted": true, "item": item}));
        let id = outcome.report().unwrap().request_id.clone();
        let business = &docs[2 * i];
        assert_eq!(
            names(business),
            ["OrdersPlaced", "OrderValue", "ReceiptsSent"]
        );
        assert_eq!(
            business["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "Shop"
        );
        assert_eq!(
            business["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["service", "item"]])
        );
        assert_eq!(
            (business["service"].as_str(), business["item"].as_str()),
            (Some("orders"), Some(item))
        );
        assert_eq!(business["OrderValue"], cents);
        assert_eq!(
            business["ReceiptsSent"], 1.0,
            "recorded by deferred work, flushed after it"
        );
        assert_eq!(business["orderId"], id.as_str());
        assert_eq!(business["requestId"], id.as_str());

        let answer = &docs[2 * i + 1];
        assert_eq!(names(answer), ["ColdStart", "TimeToAnswer", "Errors"]);
        assert_eq!(
            answer["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
            json!([["service"]])
        );
        assert!(answer.get("item").is_none());
        assert_eq!(answer["ColdStart"], if i == 0 { 1.0 } else { 0.0 });
        assert_eq!(answer["Errors"], 0.0);
        let waited = answer["TimeToAnswer"].as_f64().unwrap();
        let runtime_said = outcome.report().unwrap().answered_after.as_secs_f64() * 1000.0;
        assert!(
            waited > 0.0 && (waited - runtime_said).abs() < 0.001,
            "{waited} vs {runtime_said}"
        );
        assert_eq!(answer["requestId"], id.as_str());
        // The receipt closure and the flush itself.
        assert_eq!(outcome.deferred().ran, 2);
    }
}

/// A failed invocation's metrics are flushed too, after the error answer, with `Errors: 1`;
/// so are a panicking one's.
#[test]
fn failed_and_panicking_invocations_are_flushed() {
    let lines = Lines::default();
    let metrics = lines.metrics(Metrics::builder("Shop"));
    let m = metrics.clone();
    let handler = metrics.handler(
        move |event: Value, _: &mut Context| -> Result<Value, Diagnostic> {
            m.add("Attempts", 1.0, Unit::Count)?;
            match event["do"].as_str() {
                Some("fail") => Err(Diagnostic::new("Function.Refused", "refused")),
                Some("panic") => panic!("handler exploded"),
                _ => Ok(event),
            }
        },
    );
    let outcomes = testing::run(
        handler,
        vec![
            Invoke::json(&json!({"do": "fail"})),
            Invoke::json(&json!({"do": "panic"})),
            Invoke::json(&json!({"do": "ok"})),
        ],
    );
    assert_eq!(
        outcomes[0].error().unwrap().error_type(),
        "Function.Refused"
    );
    assert_eq!(
        outcomes[1].error().unwrap().error_type(),
        "Runtime.HandlerPanic"
    );
    assert!(
        outcomes[1]
            .error()
            .unwrap()
            .message()
            .contains("handler exploded")
    );
    let docs = lines.docs();
    assert_eq!(docs.len(), 6);
    let errors: Vec<f64> = docs
        .iter()
        .skip(1)
        .step_by(2)
        .map(|d| d["Errors"].as_f64().unwrap())
        .collect();
    assert_eq!(errors, [1.0, 1.0, 0.0]);
    for business in docs.iter().step_by(2) {
        assert_eq!(business["Attempts"], 1.0);
    }
    // The example's failing order too.
    let lines = Lines::default();
    let metrics = lines.metrics(Metrics::builder("Shop"));
    let out = testing::invoke(
        metrics.handler(app(metrics.clone())),
        json!({"item": "x", "cents": 1, "fail": true}),
    );
    assert_eq!(out.error().unwrap().error_type(), "Function.OrderRefused");
    let docs = lines.docs();
    assert_eq!(names(&docs[0]), ["OrdersPlaced", "OrderValue"]);
    assert_eq!(docs[1]["Errors"], 1.0);
}

/// With the observer as well, a third object per invocation, written after all deferred work:
/// how it ended (a success, an error, a panic, and the flush itself) and how long it took.
#[test]
fn observer_after_the_deferred_flush() {
    let lines = Lines::default();
    let metrics = lines.metrics(Metrics::builder("Shop").service("orders"));
    let m = metrics.clone();
    let handler = metrics.handler(
        move |_: Value, ctx: &mut Context| -> Result<&str, Diagnostic> {
            m.add("Handled", 1.0, Unit::Count)?;
            ctx.after(|_| Ok::<_, String>(()));
            ctx.after(|_| Err::<(), _>("the cache refused"));
            ctx.after(|_| -> () { panic!("deferred work exploded") });
            Ok("ok")
        },
    );
    let observer = metrics.clone();
    let outcomes = Harness::new()
        .runtime(move |runtime| observer.observe(runtime))
        .run(handler, vec![Invoke::new("{}"), Invoke::new("{}")]);
    assert_eq!(outcomes[1].json(), "ok");
    let docs = lines.docs();
    assert_eq!(docs.len(), 6, "{docs:#?}");
    for (i, chunk) in docs.chunks(3).enumerate() {
        assert_eq!(names(&chunk[0]), ["Handled"]);
        assert_eq!(names(&chunk[1]), ["ColdStart", "TimeToAnswer", "Errors"]);
        assert_eq!(chunk[1]["ColdStart"], if i == 0 { 1.0 } else { 0.0 });
        let end = &chunk[2];
        assert_eq!(
            names(end),
            [
                "InvocationDuration",
                "DeferredDuration",
                "DeferredRan",
                "DeferredFailed",
                "DeferredPanicked",
                "DeferredSkipped",
                "DeferredOverran"
            ]
        );
        assert_eq!(
            [
                &end["DeferredRan"],
                &end["DeferredFailed"],
                &end["DeferredPanicked"],
                &end["DeferredSkipped"],
                &end["DeferredOverran"]
            ],
            [
                &json!(2.0),
                &json!(1.0),
                &json!(1.0),
                &json!(0.0),
                &json!(0.0)
            ]
        );
        let total = end["InvocationDuration"].as_f64().unwrap();
        let answered = chunk[1]["TimeToAnswer"].as_f64().unwrap();
        let deferred = end["DeferredDuration"].as_f64().unwrap();
        assert!(
            total >= answered && total >= deferred && deferred > 0.0,
            "{end}"
        );
        assert_eq!(end["requestId"], chunk[0]["requestId"]);
    }
}

/// With the observer alone, one business object and one with every answer-first metric per
/// invocation; metrics recorded at init go out with the first flush, in an object of their
/// own without a request id.
#[test]
fn observer_alone_and_init_metrics() {
    let lines = Lines::default();
    let metrics = lines.metrics(Metrics::builder("Shop"));
    metrics.add("InitDone", 1.0, Unit::Count).unwrap();
    let m = metrics.clone();
    let handler = move |event: Value, ctx: &mut Context| -> Result<Value, Diagnostic> {
        m.add("Handled", 1.0, Unit::Count)?;
        let later = m.clone();
        ctx.after(move |_| later.add("AfterAnswer", 2.0, Unit::Count));
        if event["fail"] == true {
            return Err("refused".into());
        }
        Ok(event)
    };
    let observer = metrics.clone();
    Harness::new()
        .runtime(move |runtime| observer.observe(runtime))
        .run(
            handler,
            vec![Invoke::new("{}"), Invoke::new(r#"{"fail": true}"#)],
        );
    let docs = lines.docs();
    assert_eq!(docs.len(), 5, "{docs:#?}");
    assert_eq!(names(&docs[0]), ["InitDone"]);
    assert!(docs[0].get("requestId").is_none());
    assert_eq!(names(&docs[1]), ["Handled", "AfterAnswer"]);
    let everything = [
        "ColdStart",
        "TimeToAnswer",
        "Errors",
        "InvocationDuration",
        "DeferredDuration",
        "DeferredRan",
        "DeferredFailed",
        "DeferredPanicked",
        "DeferredSkipped",
        "DeferredOverran",
    ];
    assert_eq!(names(&docs[2]), everything);
    assert_eq!(
        (docs[2]["ColdStart"].as_f64(), docs[2]["Errors"].as_f64()),
        (Some(1.0), Some(0.0))
    );
    assert_eq!(docs[2]["DeferredRan"], 1.0);
    assert_eq!(names(&docs[3]), ["Handled", "AfterAnswer"]);
    assert_eq!(names(&docs[4]), everything);
    assert_eq!(
        (docs[4]["ColdStart"].as_f64(), docs[4]["Errors"].as_f64()),
        (Some(0.0), Some(1.0))
    );
    assert_ne!(docs[1]["requestId"], docs[3]["requestId"]);
}

/// A metric CloudWatch would refuse is an error where it is recorded (the handler's `?` turns
/// it into the invocation's error), never a bad line.
#[test]
fn invalid_metric_fails_where_recorded() {
    let lines = Lines::default();
    let metrics = lines.metrics(Metrics::builder("Shop"));
    let m = metrics.clone();
    let handler = metrics.handler(move |_: Value, _: &mut Context| -> Result<(), Diagnostic> {
        m.add("Ratio", f64::NAN, Unit::Percent)?;
        Ok(())
    });
    let out = testing::invoke(handler, json!({}));
    let error = out.error().unwrap();
    assert_eq!(error.error_type(), "MetricsError");
    assert!(
        error.message().contains("cannot take the value NaN"),
        "{error}"
    );
    let docs = lines.docs();
    assert_eq!(
        names(&docs[0]),
        ["ColdStart", "TimeToAnswer", "Errors"],
        "only the answer metrics"
    );
    assert!(matches!(
        Metrics::builder("AWS/Lambda").build(),
        Err(MetricsError::InvalidNamespace { .. })
    ));
}
