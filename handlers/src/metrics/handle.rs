//! [`Metrics`]: the handle a function records metrics through — per invocation, from the
//! handler and from deferred work alike — and its two flushes: a deferred closure
//! ([`Metrics::handler`]) and the runtime's invocation observer ([`Metrics::observe`]).
//! [`MetricsBuilder`] sets it up.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use coda_lambda::{Deferred, InvocationReport, Runtime};
use serde_json::Value;

use super::answer::{self, AtAnswer};
use super::error::MetricsError;
use super::output::Output;
use super::rules;
use super::set::MetricSet;
use super::store::Store;
use super::unit::{Resolution, Unit};

/// The environment variable naming the namespace (as Powertools reads it).
pub const NAMESPACE_VARIABLE: &str = "POWERTOOLS_METRICS_NAMESPACE";
/// The environment variable naming the service, the default `service` dimension.
pub const SERVICE_VARIABLE: &str = "POWERTOOLS_SERVICE_NAME";

/// Settings for [`Metrics`]: the namespace, the dimensions every metric gets, where the lines
/// go.
#[derive(Debug)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct MetricsBuilder {
    namespace: Option<String>,
    dimensions: Vec<(String, String)>,
    runtime_metrics: bool,
    output: Output,
}

impl MetricsBuilder {
    /// Settings from the environment, as Powertools reads it: the namespace from
    /// `POWERTOOLS_METRICS_NAMESPACE`, a `service` dimension from `POWERTOOLS_SERVICE_NAME`.
    pub fn from_env() -> MetricsBuilder {
        let var = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        let mut builder = MetricsBuilder {
            namespace: var(NAMESPACE_VARIABLE),
            dimensions: Vec::new(),
            runtime_metrics: true,
            output: Output::Stdout,
        };
        if let Some(service) = var(SERVICE_VARIABLE) {
            builder = builder.service(service);
        }
        builder
    }

    /// The CloudWatch namespace of every metric.
    pub fn namespace(mut self, namespace: impl Into<String>) -> MetricsBuilder {
        self.namespace = Some(namespace.into());
        self
    }

    /// The `service` dimension, on every metric.
    pub fn service(self, service: impl Into<String>) -> MetricsBuilder {
        self.dimension("service", service)
    }

    /// A dimension on every metric (in the first dimension set, before the invocation's own).
    pub fn dimension(
        mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> MetricsBuilder {
        let (name, value) = (name.into(), value.into());
        self.dimensions.retain(|(n, _)| *n != name);
        self.dimensions.push((name, value));
        self
    }

    /// Whether the answer-first metrics (`ColdStart`, `TimeToAnswer`, `Errors`, and with the
    /// observer `InvocationDuration`, `DeferredDuration`, `Deferred*` counts) are written
    /// (default: yes).
    pub fn runtime_metrics(mut self, on: bool) -> MetricsBuilder {
        self.runtime_metrics = on;
        self
    }

    /// Sends each EMF line (without its newline) to `sink` instead of stdout: for tests, or
    /// another transport.
    pub fn output(mut self, sink: impl FnMut(&str) + Send + 'static) -> MetricsBuilder {
        self.output = Output::Sink(Arc::new(Mutex::new(Box::new(sink))));
        self
    }

    /// The handle, once the namespace and dimensions are checked.
    pub fn build(self) -> Result<Metrics, MetricsError> {
        let namespace = self.namespace.ok_or(MetricsError::NoNamespace)?;
        rules::namespace(&namespace)?;
        let mut defaults = MetricSet::new();
        for (name, value) in &self.dimensions {
            defaults.dimension(name, value)?;
        }
        Ok(Metrics {
            inner: Arc::new(Inner {
                namespace,
                defaults,
                runtime_metrics: self.runtime_metrics,
                output: self.output,
                observed: AtomicBool::new(false),
                store: Mutex::new(Store::default()),
            }),
        })
    }
}

/// CloudWatch metrics in the Embedded Metric Format, recorded per invocation and written
/// after the answer. Cheap to clone: clones share the metrics (clone it into deferred
/// closures to record metrics there).
///
/// A metric recorded on a thread that serves an invocation — the handler's, its deferred or
/// spawned work's — belongs to that invocation; one recorded elsewhere (at init) goes out with
/// the next flush. See the [module docs](super) for which flush writes what.
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    namespace: String,
    /// The default dimensions, as a set to start each flush from.
    defaults: MetricSet,
    runtime_metrics: bool,
    output: Output,
    /// An observer was installed ([`Metrics::observe`]): the deferred flush leaves the
    /// invocation open for it.
    observed: AtomicBool,
    store: Mutex<Store>,
}

impl Metrics {
    /// Settings with `namespace`, no dimensions, answer-first metrics on, lines to stdout.
    pub fn builder(namespace: impl Into<String>) -> MetricsBuilder {
        MetricsBuilder {
            namespace: Some(namespace.into()),
            dimensions: Vec::new(),
            runtime_metrics: true,
            output: Output::Stdout,
        }
    }

    /// [`MetricsBuilder::from_env`], built.
    pub fn from_env() -> Result<Metrics, MetricsError> {
        MetricsBuilder::from_env().build()
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.inner.namespace
    }

    /// Records `value` for metric `name` in this invocation (standard resolution).
    pub fn add(&self, name: &str, value: f64, unit: Unit) -> Result<(), MetricsError> {
        self.add_metric(name, value, unit, Resolution::Standard)
    }

    /// Records `value` for metric `name` with a resolution.
    pub fn add_metric(
        &self,
        name: &str,
        value: f64,
        unit: Unit,
        resolution: Resolution,
    ) -> Result<(), MetricsError> {
        self.with_current(|set| set.metric(name, value, unit, resolution).map(drop))
    }

    /// Adds a dimension to this invocation's metrics (after the default ones).
    pub fn add_dimension(&self, name: &str, value: &str) -> Result<(), MetricsError> {
        self.with_current(|set| set.dimension(name, value).map(drop))
    }

    /// Adds a property to this invocation's metric lines (searchable in the logs, not a
    /// metric: Powertools' metadata).
    pub fn add_property(&self, key: &str, value: impl Into<Value>) -> Result<(), MetricsError> {
        let value = value.into();
        self.with_current(|set| set.property(key, value).map(drop))
    }

    /// The time this invocation's metrics are published at (default: when they are written).
    pub fn set_timestamp(&self, at: SystemTime) {
        let _ = self.with_current(|set| {
            set.timestamp(at);
            Ok(())
        });
    }

    /// Installs the flush that runs after each invocation's deferred work
    /// ([`Runtime::on_invocation`]): it writes how that work ended, and the metrics recorded
    /// after the deferred flush (or all of them without [`Metrics::handler`]). It takes the
    /// runtime's one observer slot; to keep your own, call [`Metrics::flush_report`] from it.
    pub fn observe(&self, runtime: Runtime) -> Runtime {
        let metrics = self.clone();
        self.inner.observed.store(true, Ordering::SeqCst);
        runtime.on_invocation(move |report| {
            if let Err(e) = metrics.flush_report(report) {
                log::error!(
                    "metrics of {} not written: {}",
                    report.request_id,
                    chain(&e)
                );
            }
        })
    }

    /// The observer's flush, for an observer of your own: writes what is left of the
    /// invocation's metrics and the deferred-work metrics of `report`.
    pub fn flush_report(&self, report: &InvocationReport) -> Result<(), MetricsError> {
        self.inner.observed.store(true, Ordering::SeqCst);
        let cold_start = report.cold_start;
        let (pending, loose) = {
            let mut store = self.store();
            (store.take(&report.request_id, false), store.take_loose())
        };
        let mut lines = Vec::new();
        self.business(&loose, None, &mut lines)?;
        self.business(&pending.set, Some(&report.request_id), &mut lines)?;
        if self.inner.runtime_metrics {
            let mut set = self.inner.defaults.clone();
            if !pending.answer_written {
                answer::at_answer(
                    &mut set,
                    AtAnswer {
                        cold_start,
                        answered_after: Some(report.answered_after),
                        failed: report.error.is_some(),
                    },
                )?;
            }
            answer::at_end(&mut set, report)?;
            set.property("requestId", report.request_id.as_str())?;
            lines.extend(set.to_emf(&self.inner.namespace)?);
        }
        self.write(&lines)
    }

    /// Writes now the metrics recorded on this thread's invocation so far (or, outside an
    /// invocation, those recorded outside one), without the answer-first metrics.
    pub fn flush(&self) -> Result<(), MetricsError> {
        let id = coda_lambda::logging::request_id();
        let set = {
            let mut store = self.store();
            std::mem::take(store.current(id.clone()))
        };
        let mut lines = Vec::new();
        self.business(&set, id.as_deref(), &mut lines)?;
        self.write(&lines)
    }

    /// The deferred flush of one invocation, as the handler wrapper registers it.
    pub(crate) fn flush_at_answer(
        &self,
        d: &Deferred,
        cold_start: bool,
    ) -> Result<(), MetricsError> {
        let keep_open = self.inner.observed.load(Ordering::SeqCst);
        let (pending, loose) = {
            let mut store = self.store();
            (store.take(d.request_id(), keep_open), store.take_loose())
        };
        let mut lines = Vec::new();
        self.business(&loose, None, &mut lines)?;
        self.business(&pending.set, Some(d.request_id()), &mut lines)?;
        if self.inner.runtime_metrics {
            let mut set = self.inner.defaults.clone();
            answer::at_answer(
                &mut set,
                AtAnswer {
                    cold_start,
                    answered_after: d.answered_after(),
                    failed: d.error().is_some(),
                },
            )?;
            set.property("requestId", d.request_id())?;
            lines.extend(set.to_emf(&self.inner.namespace)?);
        }
        self.write(&lines)
    }

    /// The lines of `set` under the default dimensions, tagged with `request_id`.
    fn business(
        &self,
        set: &MetricSet,
        request_id: Option<&str>,
        lines: &mut Vec<String>,
    ) -> Result<(), MetricsError> {
        if set.is_empty() {
            return Ok(());
        }
        let mut out = self.inner.defaults.clone();
        out.absorb(set)?;
        if let Some(id) = request_id
            && !out.properties.iter().any(|(k, _)| k == "requestId")
        {
            out.property("requestId", id)?;
        }
        lines.extend(out.to_emf(&self.inner.namespace)?);
        Ok(())
    }

    fn write(&self, lines: &[String]) -> Result<(), MetricsError> {
        let mut first_error = None;
        for line in lines {
            if let Err(source) = self.inner.output.write(line) {
                first_error.get_or_insert(MetricsError::Write { source });
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn with_current(
        &self,
        f: impl FnOnce(&mut MetricSet) -> Result<(), MetricsError>,
    ) -> Result<(), MetricsError> {
        let id = coda_lambda::logging::request_id();
        f(self.store().current(id))
    }

    fn store(&self) -> std::sync::MutexGuard<'_, Store> {
        self.inner.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An error and its causes, `: `-separated.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
