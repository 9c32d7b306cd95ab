//! metrics: a JSON function that records a business metric and Coda's answer-first metrics
//! in CloudWatch's Embedded Metric Format, written on stdout after the answer — the caller
//! never waits for them.
//!
//!     cargo build -p coda-bootstrap -p coda-examples
//!     target/debug/coda run --invoke '{"item": "book", "cents": 1250}' -- target/debug/metrics
//!
//! The event is an order `{"item": …, "cents": …}` (`"fail": true` makes it fail); the answer
//! `{"accepted": true, "item": …}`. Per invocation, after the answer:
//!
//! - the deferred flush (the invocation's last deferred closure) writes `OrderValue`,
//!   `OrdersPlaced` and `ReceiptsSent` — the last one recorded by deferred work — with an
//!   `item` dimension and `orderId` property, then `ColdStart`, `TimeToAnswer` and `Errors`;
//! - the observer, after all deferred work, writes `InvocationDuration`, `DeferredDuration`
//!   and the `Deferred*` counts.
//!
//! The namespace is `POWERTOOLS_METRICS_NAMESPACE` (default `CodaExamples`), the `service`
//! dimension `POWERTOOLS_SERVICE_NAME` (default `metrics-example`). `METRICS_FLUSH=0` turns
//! both flushes off (the baseline of `bench/metrics-latency.sh`). JSON log lines
//! (`AWS_LAMBDA_LOG_FORMAT=JSON`) carry a persistent `service` key and the order's `item`.

use coda_handlers::metrics::{
    Metrics, MetricsBuilder, MetricsError, Unit, append_key, persist_key,
};
use coda_lambda::{Context, Diagnostic};
use serde::Deserialize;
use serde_json::{Value, json};

/// The event.
#[derive(Deserialize)]
pub(crate) struct Order {
    item: String,
    cents: u64,
    #[serde(default)]
    fail: bool,
}

pub(crate) fn main() {
    let flush = std::env::var("METRICS_FLUSH").map_or(true, |v| v.trim() != "0");
    let metrics = match settings().build() {
        Ok(metrics) => metrics,
        Err(e) => {
            eprintln!("metrics: {e}");
            std::process::exit(2)
        }
    };
    persist_key("service", service());
    if flush {
        let observer = metrics.clone();
        coda_lambda::start_with(
            move |runtime| observer.observe(runtime),
            move || Ok(metrics.handler(app(metrics.clone()))),
        )
    } else {
        // The baseline: metrics recorded, never written.
        coda_lambda::start(move || Ok(app(metrics)))
    }
}

/// The settings from the environment, with the example's defaults.
pub(crate) fn settings() -> MetricsBuilder {
    let mut builder = MetricsBuilder::from_env();
    if std::env::var_os(coda_handlers::metrics::NAMESPACE_VARIABLE).is_none() {
        builder = builder.namespace("CodaExamples");
    }
    if std::env::var_os(coda_handlers::metrics::SERVICE_VARIABLE).is_none() {
        builder = builder.service(service());
    }
    builder
}

fn service() -> String {
    std::env::var(coda_handlers::metrics::SERVICE_VARIABLE)
        .unwrap_or_else(|_| "metrics-example".to_owned())
}

/// The handler: records the order's metrics, and one more after the answer. (`pub(crate)`:
/// coda-handlers' tests compile this file as a module and drive this handler.)
pub(crate) fn app(
    metrics: Metrics,
) -> impl FnMut(Order, &mut Context) -> Result<Value, Diagnostic> {
    move |order: Order, ctx: &mut Context| {
        append_key("item", order.item.as_str());
        metrics.add_dimension("item", &order.item)?;
        metrics.add_property("orderId", ctx.request_id())?;
        metrics.add("OrdersPlaced", 1.0, Unit::Count)?;
        metrics.add("OrderValue", order.cents as f64, Unit::Count)?;
        if order.fail {
            return Err(Diagnostic::new(
                "Function.OrderRefused",
                format!("order of {} refused", order.item),
            ));
        }
        // Deferred work records a metric too: it is in the deferred flush, which runs last.
        let later = metrics.clone();
        let item = order.item.clone();
        ctx.after(move |_| -> Result<(), MetricsError> {
            log::info!("receipt for {item} sent");
            later.add("ReceiptsSent", 1.0, Unit::Count)
        });
        Ok(json!({"accepted": true, "item": order.item}))
    }
}
