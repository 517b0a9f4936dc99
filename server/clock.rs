//! The one clock every expiry check reads: Unix seconds, which tests freeze and
//! move by hand so that boundary checks (59/60 s, `expires_in`, 30 days) are exact;
//! and Unix seconds as UTC text.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// Wall-clock time (or a frozen instant) plus an offset.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_secs: Arc<AtomicI64>,
    /// 0: follow the wall clock; otherwise the frozen instant.
    frozen_at: Arc<AtomicI64>,
}

impl Clock {
    /// Current time in Unix seconds.
    pub fn now(&self) -> i64 {
        let base = match self.frozen_at.load(Ordering::Relaxed) {
            0 => wall_clock(),
            frozen => frozen,
        };
        base + self.offset_secs.load(Ordering::Relaxed)
    }

    /// Stops the clock at the current instant; only `advance` moves it after.
    pub fn freeze(&self) {
        self.frozen_at.store(wall_clock(), Ordering::Relaxed);
    }

    /// Moves the clock by `secs` (negative steps back).
    pub fn advance(&self, secs: i64) {
        self.offset_secs.fetch_add(secs, Ordering::Relaxed);
    }
}

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_secs() as i64)
        .unwrap_or(0)
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SSZ` (UTC); `-` for 0.
pub fn format_time(unix: i64) -> String {
    if unix == 0 {
        return "-".into();
    }
    let days = unix.div_euclid(86_400);
    let secs = unix.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// RFC 3339 in UTC: `2026-12-01T14:03:00Z`.
pub fn rfc3339(unix: i64) -> String {
    format_time(unix).replacen(' ', "T", 1)
}

/// Howard Hinnant's days-to-civil algorithm.
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

    #[test]
    fn formats_utc_times() {
        assert_eq!(format_time(0), "-");
        assert_eq!(format_time(1_795_000_000), "2026-11-18 11:06:40Z");
        assert_eq!(format_time(951_782_400), "2000-02-29 00:00:00Z");
    }
}
