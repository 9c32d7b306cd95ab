//! [`MetricSet`]: metrics with their dimensions, properties and timestamp — the content of
//! one flush — checked as they are added, and written as Embedded Metric Format lines.

use std::time::SystemTime;

use serde_json::Value;

use super::error::MetricsError;
use super::rules::{self, MAX_DIMENSIONS};
use super::unit::{Resolution, Unit};

/// One metric: its definition and the values recorded for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub(crate) name: String,
    pub(crate) unit: Unit,
    pub(crate) resolution: Resolution,
    pub(crate) values: Vec<f64>,
}

/// Metrics, dimensions and properties to be written together, in the Embedded Metric Format:
/// one JSON object per line, split when there are more than 100 metrics or a metric has more
/// than 100 values. Every name is checked when it is added ([`MetricsError`]).
///
/// [`super::Metrics`] keeps one per invocation; a `MetricSet` can also be written by hand:
///
/// ```
/// use coda_handlers::metrics::{MetricSet, Resolution, Unit};
///
/// let mut set = MetricSet::new();
/// set.dimension("service", "orders")?
///     .metric("OrderValue", 12.5, Unit::Count, Resolution::Standard)?
///     .metric("OrderValue", 7.0, Unit::Count, Resolution::Standard)?
///     .property("orderId", "o-1")?;
/// let lines = set.to_emf("Shop")?;
/// let doc: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
/// assert_eq!(doc["OrderValue"], serde_json::json!([12.5, 7.0]));
/// assert_eq!(doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"], serde_json::json!([["service"]]));
/// # Ok::<(), coda_handlers::metrics::MetricsError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MetricSet {
    /// Every dimension's value (each is one member of the root object).
    pub(crate) dimensions: Vec<(String, String)>,
    /// The dimension sets, by name; the first is the one [`MetricSet::dimension`] adds to.
    pub(crate) sets: Vec<Vec<String>>,
    pub(crate) metrics: Vec<Entry>,
    pub(crate) properties: Vec<(String, Value)>,
    pub(crate) timestamp: Option<SystemTime>,
}

impl MetricSet {
    /// An empty set: no metrics, no dimensions.
    pub fn new() -> MetricSet {
        MetricSet::default()
    }

    /// Records `value` for metric `name` (a metric recorded again keeps every value, in
    /// order). Its unit and resolution must be those it was first recorded with.
    pub fn metric(
        &mut self,
        name: &str,
        value: f64,
        unit: Unit,
        resolution: Resolution,
    ) -> Result<&mut MetricSet, MetricsError> {
        rules::metric_name(name)?;
        rules::value(name, value)?;
        if let Some(entry) = self.metrics.iter_mut().find(|e| e.name == name) {
            if (entry.unit, entry.resolution) != (unit, resolution) {
                return Err(MetricsError::ConflictingMetric {
                    name: name.to_owned(),
                    had: (entry.unit, entry.resolution),
                    asked: (unit, resolution),
                });
            }
            entry.values.push(value);
            return Ok(self);
        }
        self.free(name, "a metric")?;
        self.metrics.push(Entry {
            name: name.to_owned(),
            unit,
            resolution,
            values: vec![value],
        });
        Ok(self)
    }

    /// Adds dimension `name` with `value` to the first dimension set (created if there is
    /// none): every metric of the set is published with it.
    pub fn dimension(&mut self, name: &str, value: &str) -> Result<&mut MetricSet, MetricsError> {
        self.dimension_value(name, value)?;
        if self.sets.is_empty() {
            self.sets.push(Vec::new());
        }
        let first = &mut self.sets[0];
        if !first.iter().any(|n| n == name) {
            if first.len() == MAX_DIMENSIONS {
                return Err(MetricsError::TooManyDimensions {
                    name: name.to_owned(),
                });
            }
            first.push(name.to_owned());
        }
        Ok(self)
    }

    /// Adds a dimension set of its own: every metric is published with these dimensions too
    /// (a metric per dimension set, billed as such).
    pub fn dimension_set(
        &mut self,
        dimensions: &[(&str, &str)],
    ) -> Result<&mut MetricSet, MetricsError> {
        let mut names: Vec<String> = Vec::new();
        for (name, value) in dimensions {
            self.dimension_value(name, value)?;
            if !names.iter().any(|n| n == name) {
                if names.len() == MAX_DIMENSIONS {
                    return Err(MetricsError::TooManyDimensions {
                        name: (*name).to_owned(),
                    });
                }
                names.push((*name).to_owned());
            }
        }
        if self.sets.is_empty() {
            self.sets.push(Vec::new());
        }
        if !self.sets.contains(&names) {
            self.sets.push(names);
        }
        Ok(self)
    }

    /// Adds a property: a member of each object written, searchable in the logs but not a
    /// metric or a dimension (Powertools' metadata). Setting a key again replaces its value.
    pub fn property(
        &mut self,
        key: &str,
        value: impl Into<Value>,
    ) -> Result<&mut MetricSet, MetricsError> {
        rules::property(key)?;
        let value = value.into();
        if let Some(entry) = self.properties.iter_mut().find(|(k, _)| k == key) {
            entry.1 = value;
            return Ok(self);
        }
        self.free(key, "a property")?;
        self.properties.push((key.to_owned(), value));
        Ok(self)
    }

    /// The time the metrics are published at (default: when they are written).
    pub fn timestamp(&mut self, at: SystemTime) -> &mut MetricSet {
        self.timestamp = Some(at);
        self
    }

    /// Whether no metric was recorded (a set without metrics writes nothing).
    pub fn is_empty(&self) -> bool {
        self.metrics.is_empty()
    }

    /// The metrics recorded, by name, with their values in order.
    pub fn metrics(&self) -> impl Iterator<Item = (&str, &[f64])> {
        self.metrics
            .iter()
            .map(|e| (e.name.as_str(), e.values.as_slice()))
    }

    /// Adds `other`'s dimensions, metrics and properties to this set (its dimension sets
    /// after this one's); the first error stops it.
    pub(crate) fn absorb(&mut self, other: &MetricSet) -> Result<(), MetricsError> {
        for (i, set) in other.sets.iter().enumerate() {
            let pairs: Vec<(&str, &str)> = set
                .iter()
                .map(|name| {
                    let value = other
                        .dimensions
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or_default();
                    (name.as_str(), value)
                })
                .collect();
            if i == 0 {
                for (name, value) in pairs {
                    self.dimension(name, value)?;
                }
            } else {
                self.dimension_set(&pairs)?;
            }
        }
        for entry in &other.metrics {
            for value in &entry.values {
                self.metric(&entry.name, *value, entry.unit, entry.resolution)?;
            }
        }
        for (key, value) in &other.properties {
            self.property(key, value.clone())?;
        }
        if other.timestamp.is_some() {
            self.timestamp = other.timestamp;
        }
        Ok(())
    }

    fn dimension_value(&mut self, name: &str, value: &str) -> Result<(), MetricsError> {
        rules::dimension(name, value)?;
        match self.dimensions.iter().find(|(n, _)| n == name) {
            Some((_, v)) if v == value => Ok(()),
            Some(_) => Err(MetricsError::ConflictingDimension {
                name: name.to_owned(),
            }),
            None => {
                self.free(name, "a dimension")?;
                self.dimensions.push((name.to_owned(), value.to_owned()));
                Ok(())
            }
        }
    }

    /// Whether `name` is free for a member of kind `wanted` (it is not a member of another
    /// kind already).
    fn free(&self, name: &str, wanted: &'static str) -> Result<(), MetricsError> {
        let taken_by = if self.metrics.iter().any(|e| e.name == name) {
            Some("a metric")
        } else if self.dimensions.iter().any(|(n, _)| n == name) {
            Some("a dimension")
        } else if self.properties.iter().any(|(k, _)| k == name) {
            Some("a property")
        } else {
            None
        };
        match taken_by {
            Some(taken_by) if taken_by != wanted => Err(MetricsError::NameInUse {
                name: name.to_owned(),
                taken_by,
            }),
            _ => Ok(()),
        }
    }
}
