//! The one clock every expiry check reads: Unix seconds, which tests freeze and
//! move by hand so that boundary checks (59/60 s, `expires_in`, 30 days) are exact.

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
