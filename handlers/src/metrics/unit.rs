//! [`Unit`] and [`Resolution`]: what a metric's values measure, and how finely CloudWatch
//! stores them.

use std::fmt;

/// The unit of a metric's values: the units CloudWatch accepts (`MetricDatum.Unit`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[allow(missing_docs)] // each variant is the CloudWatch unit of the same name
pub enum Unit {
    Seconds,
    Microseconds,
    Milliseconds,
    Bytes,
    Kilobytes,
    Megabytes,
    Gigabytes,
    Terabytes,
    Bits,
    Kilobits,
    Megabits,
    Gigabits,
    Terabits,
    Percent,
    Count,
    BytesPerSecond,
    KilobytesPerSecond,
    MegabytesPerSecond,
    GigabytesPerSecond,
    TerabytesPerSecond,
    BitsPerSecond,
    KilobitsPerSecond,
    MegabitsPerSecond,
    GigabitsPerSecond,
    TerabitsPerSecond,
    CountPerSecond,
    /// No unit (`None`), what CloudWatch assumes when a metric has none.
    None,
}

impl Unit {
    /// Every unit, in CloudWatch's order.
    pub const ALL: [Unit; 27] = [
        Unit::Seconds,
        Unit::Microseconds,
        Unit::Milliseconds,
        Unit::Bytes,
        Unit::Kilobytes,
        Unit::Megabytes,
        Unit::Gigabytes,
        Unit::Terabytes,
        Unit::Bits,
        Unit::Kilobits,
        Unit::Megabits,
        Unit::Gigabits,
        Unit::Terabits,
        Unit::Percent,
        Unit::Count,
        Unit::BytesPerSecond,
        Unit::KilobytesPerSecond,
        Unit::MegabytesPerSecond,
        Unit::GigabytesPerSecond,
        Unit::TerabytesPerSecond,
        Unit::BitsPerSecond,
        Unit::KilobitsPerSecond,
        Unit::MegabitsPerSecond,
        Unit::GigabitsPerSecond,
        Unit::TerabitsPerSecond,
        Unit::CountPerSecond,
        Unit::None,
    ];

    /// The unit's name in the Embedded Metric Format: `Milliseconds`, `Bytes/Second`, `None`…
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Seconds => "Seconds",
            Unit::Microseconds => "Microseconds",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
            Unit::Kilobytes => "Kilobytes",
            Unit::Megabytes => "Megabytes",
            Unit::Gigabytes => "Gigabytes",
            Unit::Terabytes => "Terabytes",
            Unit::Bits => "Bits",
            Unit::Kilobits => "Kilobits",
            Unit::Megabits => "Megabits",
            Unit::Gigabits => "Gigabits",
            Unit::Terabits => "Terabits",
            Unit::Percent => "Percent",
            Unit::Count => "Count",
            Unit::BytesPerSecond => "Bytes/Second",
            Unit::KilobytesPerSecond => "Kilobytes/Second",
            Unit::MegabytesPerSecond => "Megabytes/Second",
            Unit::GigabytesPerSecond => "Gigabytes/Second",
            Unit::TerabytesPerSecond => "Terabytes/Second",
            Unit::BitsPerSecond => "Bits/Second",
            Unit::KilobitsPerSecond => "Kilobits/Second",
            Unit::MegabitsPerSecond => "Megabits/Second",
            Unit::GigabitsPerSecond => "Gigabits/Second",
            Unit::TerabitsPerSecond => "Terabits/Second",
            Unit::CountPerSecond => "Count/Second",
            Unit::None => "None",
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How finely CloudWatch stores a metric (`StorageResolution`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Resolution {
    /// One-minute resolution (`60`), the default.
    #[default]
    Standard,
    /// One-second resolution (`1`): a high-resolution metric.
    High,
}

impl Resolution {
    /// The `StorageResolution` value: 60 or 1.
    pub fn seconds(self) -> u8 {
        match self {
            Resolution::Standard => 60,
            Resolution::High => 1,
        }
    }
}
