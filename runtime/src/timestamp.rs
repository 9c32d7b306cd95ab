//! RFC 3339 UTC timestamps with millisecond precision, for log lines
//! (`docs/runtime-api.md` §7.9).

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// `time` displayed as `YYYY-MM-DDTHH:MM:SS.mmmZ`. Times before 1970 display as the epoch:
/// the wall clock of a Lambda sandbox never goes there.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rfc3339(pub(crate) SystemTime);

/// The length of an RFC 3339 time with milliseconds: `2023-11-14T22:13:20.123Z`.
pub(crate) const RFC3339_LEN: usize = 24;

impl Rfc3339 {
    /// The text, written digit by digit: once per log line, so no formatting machinery.
    pub(crate) fn to_bytes(self) -> [u8; RFC3339_LEN] {
        let since = self.0.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = since.as_secs();
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        let mut out = *b"0000-00-00T00:00:00.000Z";
        let mut put = |at: usize, width: usize, mut value: u64| {
            for i in (at..at + width).rev() {
                out[i] = b'0' + (value % 10) as u8;
                value /= 10;
            }
        };
        put(0, 4, year.clamp(0, 9999) as u64);
        put(5, 2, u64::from(month));
        put(8, 2, u64::from(day));
        put(11, 2, rem / 3600);
        put(14, 2, rem / 60 % 60);
        put(17, 2, rem % 60);
        put(20, 3, u64::from(since.subsec_millis()));
        out
    }
}

impl fmt::Display for Rfc3339 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bytes = self.to_bytes();
        // Only ASCII digits and separators were written.
        f.write_str(std::str::from_utf8(&bytes).unwrap_or_default())
    }
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(ms: u64) -> String {
        Rfc3339(UNIX_EPOCH + Duration::from_millis(ms)).to_string()
    }

    /// Known instants, including a leap day and the end of a century.
    #[test]
    fn formats_known_instants() {
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(at(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(at(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(at(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }
}
