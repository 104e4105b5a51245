//! Wall-clock time for what depends on it (play timestamps, the trending
//! window), with an offset that tests move instead of sleeping.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use mongodb::bson::DateTime;

#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> DateTime {
        DateTime::from_millis(
            DateTime::now().timestamp_millis() + self.offset_ms.load(Ordering::Relaxed),
        )
    }

    /// Moves this clock forward (tests).
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as i64, Ordering::Relaxed);
    }
}
