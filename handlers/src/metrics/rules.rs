//! The rules names and values follow: the Embedded Metric Format's (names of 1 to 255
//! characters, dimension values that are strings, `_aws` reserved) and CloudWatch's
//! (namespace, metric and dimension names, values from -2^360 to 2^360).

use super::error::MetricsError;

/// The most dimensions one dimension set holds.
pub const MAX_DIMENSIONS: usize = 30;
/// The most metric definitions one EMF object holds; more are split across objects.
pub const MAX_METRICS: usize = 100;
/// The most values one metric holds in one EMF object; more are split across objects.
pub const MAX_VALUES: usize = 100;

/// The EMF metadata member: no metric, dimension or property may take its name.
const RESERVED: &str = "_aws";

/// Checks a namespace: 1 to 255 ASCII characters, no control characters, not only
/// whitespace, not starting with `:` or with `AWS/` (AWS's own namespaces).
pub(crate) fn namespace(namespace: &str) -> Result<(), MetricsError> {
    let rule = if namespace.is_empty() || namespace.len() > 255 {
        Some("a namespace has 1 to 255 characters")
    } else if !namespace.is_ascii() || namespace.chars().any(|c| c.is_ascii_control()) {
        Some("a namespace is ASCII without control characters")
    } else if namespace.trim().is_empty() {
        Some("a namespace has a character that is not whitespace")
    } else if namespace.starts_with(':') {
        Some("a namespace cannot start with a colon")
    } else if namespace.starts_with("AWS/") {
        Some("namespaces starting with AWS/ are AWS's own: choose another")
    } else {
        None
    };
    match rule {
        Some(rule) => Err(MetricsError::InvalidNamespace {
            namespace: namespace.to_owned(),
            rule,
        }),
        None => Ok(()),
    }
}

/// Checks a metric name: 1 to 255 characters, no control characters, not only whitespace,
/// not `_aws`.
pub(crate) fn metric_name(name: &str) -> Result<(), MetricsError> {
    let rule = if name.is_empty() || name.chars().count() > 255 {
        Some("a metric name has 1 to 255 characters")
    } else if name.chars().any(char::is_control) {
        Some("a metric name has no control characters")
    } else if name.trim().is_empty() {
        Some("a metric name has a character that is not whitespace")
    } else if name == RESERVED {
        Some("`_aws` is the Embedded Metric Format's own member")
    } else {
        None
    };
    match rule {
        Some(rule) => Err(MetricsError::InvalidMetricName {
            name: name.to_owned(),
            rule,
        }),
        None => Ok(()),
    }
}

/// Checks a value: finite, from -2^360 to 2^360.
pub(crate) fn value(name: &str, value: f64) -> Result<(), MetricsError> {
    if value.is_finite() && value.abs() <= 2f64.powi(360) {
        Ok(())
    } else {
        Err(MetricsError::InvalidValue {
            name: name.to_owned(),
            value,
        })
    }
}

/// Checks a dimension: a name of 1 to 255 and a value of 1 to 1024 ASCII characters, each
/// with a character that is not whitespace and no control characters; the name not starting
/// with `:` and not `_aws`.
pub(crate) fn dimension(name: &str, value: &str) -> Result<(), MetricsError> {
    let ascii = |s: &str| s.is_ascii() && !s.chars().any(|c| c.is_ascii_control());
    let rule = if name.is_empty() || name.len() > 255 {
        Some("a dimension name has 1 to 255 characters")
    } else if !ascii(name) {
        Some("a dimension name is ASCII without control characters")
    } else if name.trim().is_empty() {
        Some("a dimension name has a character that is not whitespace")
    } else if name.starts_with(':') {
        Some("a dimension name cannot start with a colon")
    } else if name == RESERVED {
        Some("`_aws` is the Embedded Metric Format's own member")
    } else if value.is_empty() || value.len() > 1024 {
        Some("a dimension value has 1 to 1024 characters")
    } else if !ascii(value) {
        Some("a dimension value is ASCII without control characters")
    } else if value.trim().is_empty() {
        Some("a dimension value has a character that is not whitespace")
    } else {
        None
    };
    match rule {
        Some(rule) => Err(MetricsError::InvalidDimension {
            name: name.to_owned(),
            rule,
        }),
        None => Ok(()),
    }
}

/// Checks a property key: not empty, not `_aws`.
pub(crate) fn property(key: &str) -> Result<(), MetricsError> {
    let rule = if key.is_empty() {
        Some("a property key is not empty")
    } else if key == RESERVED {
        Some("`_aws` is the Embedded Metric Format's own member")
    } else {
        None
    };
    match rule {
        Some(rule) => Err(MetricsError::InvalidProperty {
            key: key.to_owned(),
            rule,
        }),
        None => Ok(()),
    }
}
