//! [`MetricsError`]: a metric, dimension, property or namespace CloudWatch would refuse, or a
//! flush that could not be written.

use std::error::Error as StdError;
use std::fmt;

use super::unit::{Resolution, Unit};

/// Why a metric could not be recorded or written. Each message says which name broke which
/// rule of the Embedded Metric Format (or of CloudWatch), and what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum MetricsError {
    /// No namespace was given (`POWERTOOLS_METRICS_NAMESPACE` is unset and none was set).
    NoNamespace,
    /// The namespace breaks CloudWatch's rules.
    InvalidNamespace {
        /// The namespace.
        namespace: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A metric name breaks the rules.
    InvalidMetricName {
        /// The name.
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A metric value CloudWatch refuses: not finite, or beyond ±2^360.
    InvalidValue {
        /// The metric.
        name: String,
        /// The value.
        value: f64,
    },
    /// A metric was recorded before with another unit or resolution.
    ConflictingMetric {
        /// The metric.
        name: String,
        /// The unit and resolution it has.
        had: (Unit, Resolution),
        /// The unit and resolution asked for now.
        asked: (Unit, Resolution),
    },
    /// A dimension name or value breaks CloudWatch's rules.
    InvalidDimension {
        /// The dimension's name.
        name: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A dimension set would have more than 30 dimensions.
    TooManyDimensions {
        /// The dimension that would be one too many.
        name: String,
    },
    /// A dimension was given two values (every dimension is one member of the root object).
    ConflictingDimension {
        /// The dimension.
        name: String,
    },
    /// A property key breaks the rules.
    InvalidProperty {
        /// The key.
        key: String,
        /// The rule it breaks.
        rule: &'static str,
    },
    /// A name is used already by a member of another kind (metric, dimension, property): every
    /// one is a member of the same root object.
    NameInUse {
        /// The name.
        name: String,
        /// What it is already: `a metric`, `a dimension`, `a property`.
        taken_by: &'static str,
    },
    /// The metrics could not be written (stdout is closed, or the output failed).
    Write {
        /// The writer's error.
        source: std::io::Error,
    },
}

impl fmt::Display for MetricsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricsError::NoNamespace => f.write_str(
                "metrics have no namespace: set POWERTOOLS_METRICS_NAMESPACE or give one to \
                 Metrics::builder",
            ),
            MetricsError::InvalidNamespace { namespace, rule } => {
                write!(f, "metric namespace {namespace:?} is not valid: {rule}")
            }
            MetricsError::InvalidMetricName { name, rule } => {
                write!(f, "metric name {name:?} is not valid: {rule}")
            }
            MetricsError::InvalidValue { name, value } => write!(
                f,
                "metric {name:?} cannot take the value {value}: CloudWatch accepts finite \
                 numbers from -2^360 to 2^360"
            ),
            MetricsError::ConflictingMetric { name, had, asked } => write!(
                f,
                "metric {name:?} was recorded in {} at resolution {} s and now in {} at {} s: \
                 give each unit and resolution its own metric name",
                had.0,
                had.1.seconds(),
                asked.0,
                asked.1.seconds()
            ),
            MetricsError::InvalidDimension { name, rule } => {
                write!(f, "dimension {name:?} is not valid: {rule}")
            }
            MetricsError::TooManyDimensions { name } => write!(
                f,
                "dimension {name:?} would be the 31st of its dimension set: a set holds at most \
                 30 dimensions, so drop one or put it in a set of its own"
            ),
            MetricsError::ConflictingDimension { name } => write!(
                f,
                "dimension {name:?} was given two values: a dimension has one value per \
                 invocation (flush between them, or name them apart)"
            ),
            MetricsError::InvalidProperty { key, rule } => {
                write!(f, "metric property {key:?} is not valid: {rule}")
            }
            MetricsError::NameInUse { name, taken_by } => write!(
                f,
                "{name:?} is {taken_by} already: metrics, dimensions and properties share one \
                 JSON object, so each needs a name of its own"
            ),
            MetricsError::Write { .. } => f.write_str("could not write the metrics to stdout"),
        }
    }
}

impl StdError for MetricsError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match self {
            MetricsError::Write { source } => Some(source),
            _ => None,
        }
    }
}
