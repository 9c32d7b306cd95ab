//! `MetricSet` written as EMF: parsed back and checked against the format's rules, the
//! 100-metric and 100-value splits, and every validation error.

use std::time::{Duration, UNIX_EPOCH};

use coda_handlers::metrics::{MetricSet, MetricsError, Resolution, Unit};
use serde_json::{Value, json};

use crate::support::{UNITS, check, names};

/// One object: the `_aws` block, the directive, and dimensions, values and properties as
/// root members; a metric recorded twice is an array, once a number; a timestamp set is
/// written in epoch milliseconds; high resolution is `StorageResolution: 1`.
#[test]
fn one_object_with_everything() {
    let mut set = MetricSet::new();
    let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
    set.dimension("service", "orders")
        .unwrap()
        .dimension("region", "eu-west-1")
        .unwrap()
        .dimension_set(&[("service", "orders"), ("tier", "gold")])
        .unwrap()
        .metric("Latency", 12.5, Unit::Milliseconds, Resolution::High)
        .unwrap()
        .metric("Latency", 7.0, Unit::Milliseconds, Resolution::High)
        .unwrap()
        .metric("Orders", 1.0, Unit::Count, Resolution::Standard)
        .unwrap()
        .property("orderId", "o-1")
        .unwrap()
        .property("tags", json!(["a", "b"]))
        .unwrap()
        .timestamp(at);
    let lines = set.to_emf("Shop").unwrap();
    assert_eq!(lines.len(), 1);
    let doc: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(
        doc,
        json!({
            "_aws": {
                "Timestamp": 1_700_000_000_123u64,
                "CloudWatchMetrics": [{
                    "Namespace": "Shop",
                    "Dimensions": [["service", "region"], ["service", "tier"]],
                    "Metrics": [
                        {"Name": "Latency", "Unit": "Milliseconds", "StorageResolution": 1},
                        {"Name": "Orders", "Unit": "Count"}
                    ]
                }]
            },
            "service": "orders",
            "region": "eu-west-1",
            "tier": "gold",
            "Latency": [12.5, 7.0],
            "Orders": 1.0,
            "orderId": "o-1",
            "tags": ["a", "b"]
        })
    );
    // The timestamp is too old for the checker's "now" rule; one written now passes it.
    set.timestamp(std::time::SystemTime::now());
    check(&set.to_emf("Shop").unwrap()[0]);
    assert!(lines[0].starts_with("{\"_aws\":"), "the metadata first");
}

/// No dimension at all is one empty dimension set; no metric writes nothing.
#[test]
fn empty_dimensions_and_empty_sets() {
    let mut set = MetricSet::new();
    assert!(set.to_emf("Shop").unwrap().is_empty());
    set.metric("Hits", 3.0, Unit::None, Resolution::Standard)
        .unwrap();
    let doc = check(&set.to_emf("Shop").unwrap()[0]);
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Dimensions"],
        json!([[]])
    );
    assert_eq!(
        doc["_aws"]["CloudWatchMetrics"][0]["Metrics"][0]["Unit"],
        "None"
    );
}

/// 250 metrics are three objects of 100, 100 and 50 definitions, each with every dimension
/// and property; every metric is in exactly one, with its value.
#[test]
fn more_than_100_metrics_are_split() {
    let mut set = MetricSet::new();
    set.dimension("service", "s")
        .unwrap()
        .property("p", 1)
        .unwrap();
    for i in 0..250 {
        set.metric(
            &format!("M{i}"),
            i as f64,
            Unit::Count,
            Resolution::Standard,
        )
        .unwrap();
    }
    let docs: Vec<Value> = set
        .to_emf("Shop")
        .unwrap()
        .iter()
        .map(|l| check(l))
        .collect();
    let sizes: Vec<usize> = docs.iter().map(|d| names(d).len()).collect();
    assert_eq!(sizes, [100, 100, 50]);
    let mut seen = Vec::new();
    for doc in &docs {
        assert_eq!(doc["service"], "s");
        assert_eq!(doc["p"], 1);
        for name in names(doc) {
            let i: usize = name[1..].parse().unwrap();
            assert_eq!(doc[&name], i as f64);
            seen.push(i);
        }
        // Metrics of other objects are not members of this one.
        let members = doc
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with('M'))
            .count();
        assert_eq!(members, names(doc).len());
    }
    assert_eq!(seen, (0..250).collect::<Vec<_>>());
}

/// A metric with 250 values is split over three objects (100, 100, 50 values, in order); the
/// metrics with fewer values are in the first only.
#[test]
fn more_than_100_values_are_split() {
    let mut set = MetricSet::new();
    for v in 0..250 {
        set.metric("Many", v as f64, Unit::Count, Resolution::Standard)
            .unwrap();
    }
    set.metric("One", 1.0, Unit::Count, Resolution::Standard)
        .unwrap();
    let docs: Vec<Value> = set
        .to_emf("Shop")
        .unwrap()
        .iter()
        .map(|l| check(l))
        .collect();
    assert_eq!(docs.len(), 3);
    assert_eq!(names(&docs[0]), ["Many", "One"]);
    assert_eq!(names(&docs[1]), ["Many"]);
    assert_eq!(names(&docs[2]), ["Many"]);
    let all: Vec<f64> = docs
        .iter()
        .flat_map(|d| {
            d["Many"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(all, (0..250).map(f64::from).collect::<Vec<_>>());
    assert_eq!(docs[1]["Many"].as_array().unwrap().len(), 100);
    assert!(docs[1].get("One").is_none());
}

/// Every unit is written under the name the schema accepts.
#[test]
fn units() {
    let names: Vec<&str> = Unit::ALL.iter().map(|u| u.as_str()).collect();
    assert_eq!(names, UNITS);
    let mut set = MetricSet::new();
    for (i, unit) in Unit::ALL.iter().enumerate() {
        set.metric(&format!("U{i}"), 1.0, *unit, Resolution::Standard)
            .unwrap();
    }
    check(&set.to_emf("Shop").unwrap()[0]);
}

/// A dimension set holds 30 dimensions; the 31st is refused, in either kind of set.
#[test]
fn thirty_dimensions_at_most() {
    let mut set = MetricSet::new();
    for i in 0..30 {
        set.dimension(&format!("d{i}"), "v").unwrap();
    }
    let error = set.dimension("d30", "v").unwrap_err();
    assert!(matches!(error, MetricsError::TooManyDimensions { ref name } if name == "d30"));
    assert_eq!(
        error.to_string(),
        "dimension \"d30\" would be the 31st of its dimension set: a set holds at most 30 \
         dimensions, so drop one or put it in a set of its own"
    );
    let names: Vec<String> = (0..31).map(|i| format!("e{i}")).collect();
    let pairs: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "v")).collect();
    assert!(matches!(
        MetricSet::new().dimension_set(&pairs),
        Err(MetricsError::TooManyDimensions { .. })
    ));
    assert!(MetricSet::new().dimension_set(&pairs[..30]).is_ok());
    set.metric("M", 1.0, Unit::Count, Resolution::Standard)
        .unwrap();
    check(&set.to_emf("Shop").unwrap()[0]);
}

/// Each rule has its error, with a message that names the subject and the fix.
#[test]
fn validation_errors() {
    let std = Resolution::Standard;
    let metric = |name: &str, value: f64| {
        MetricSet::new()
            .metric(name, value, Unit::Count, std)
            .map(drop)
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        metric("", 1.0),
        "metric name \"\" is not valid: a metric name has 1 to 255 characters"
    );
    assert!(metric(&"x".repeat(256), 1.0).contains("1 to 255 characters"));
    assert!(
        MetricSet::new()
            .metric(&"é".repeat(255), 1.0, Unit::Count, std)
            .is_ok()
    );
    assert!(metric("a\nb", 1.0).contains("no control characters"));
    assert!(metric("   ", 1.0).contains("not whitespace"));
    assert!(metric("_aws", 1.0).contains("Embedded Metric Format's own member"));
    assert_eq!(
        metric("Latency", f64::NAN),
        "metric \"Latency\" cannot take the value NaN: CloudWatch accepts finite numbers from -2^360 to 2^360"
    );
    assert!(metric("Latency", f64::INFINITY).contains("cannot take the value inf"));
    assert!(metric("Latency", 2f64.powi(361)).contains("cannot take the value"));

    let mut set = MetricSet::new();
    set.metric("Latency", 1.0, Unit::Milliseconds, std).unwrap();
    assert_eq!(
        set.metric("Latency", 1.0, Unit::Seconds, std)
            .unwrap_err()
            .to_string(),
        "metric \"Latency\" was recorded in Milliseconds at resolution 60 s and now in Seconds at \
         60 s: give each unit and resolution its own metric name"
    );
    assert!(matches!(
        set.metric("Latency", 1.0, Unit::Milliseconds, Resolution::High),
        Err(MetricsError::ConflictingMetric { .. })
    ));

    let dimension = |name: &str, value: &str| {
        MetricSet::new()
            .dimension(name, value)
            .map(drop)
            .unwrap_err()
            .to_string()
    };
    assert!(dimension("", "v").contains("a dimension name has 1 to 255 characters"));
    assert!(dimension("région", "v").contains("ASCII"));
    assert!(dimension(":x", "v").contains("cannot start with a colon"));
    assert!(dimension("x", "").contains("a dimension value has 1 to 1024 characters"));
    assert!(dimension("x", &"v".repeat(1025)).contains("1 to 1024"));
    assert!(dimension("x", "ünï").contains("a dimension value is ASCII"));
    assert!(dimension("x", "  ").contains("not whitespace"));
    assert!(MetricSet::new().dimension("x", &"v".repeat(1024)).is_ok());

    let mut set = MetricSet::new();
    set.dimension("service", "a").unwrap();
    assert!(
        set.dimension("service", "a").is_ok(),
        "the same value again is fine"
    );
    assert_eq!(
        set.dimension("service", "b").unwrap_err().to_string(),
        "dimension \"service\" was given two values: a dimension has one value per invocation \
         (flush between them, or name them apart)"
    );
    assert_eq!(
        set.metric("service", 1.0, Unit::Count, std)
            .unwrap_err()
            .to_string(),
        "\"service\" is a dimension already: metrics, dimensions and properties share one JSON \
         object, so each needs a name of its own"
    );
    assert!(matches!(
        set.property("service", 1),
        Err(MetricsError::NameInUse {
            taken_by: "a dimension",
            ..
        })
    ));
    set.property("note", "x").unwrap();
    assert!(matches!(
        set.dimension("note", "x"),
        Err(MetricsError::NameInUse {
            taken_by: "a property",
            ..
        })
    ));
    assert!(matches!(
        MetricSet::new().property("_aws", 1),
        Err(MetricsError::InvalidProperty { .. })
    ));

    let mut set = MetricSet::new();
    set.metric("M", 1.0, Unit::Count, std).unwrap();
    for (namespace, rule) in [
        ("", "1 to 255 characters"),
        ("AWS/Lambda", "AWS's own"),
        (":x", "cannot start with a colon"),
        ("Shöp", "ASCII"),
        ("  ", "not whitespace"),
    ] {
        let error = set.to_emf(namespace).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with(&format!("metric namespace {namespace:?} is not valid"))
        );
        assert!(error.to_string().contains(rule), "{error}");
    }
    assert!(set.to_emf(&"N".repeat(255)).is_ok());
}
