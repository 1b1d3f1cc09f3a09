//! The processing-time clock plugins read through `timers.processing-time`: the host's
//! wall clock, or — on a thread that set one — a manual clock.
//!
//! The manual clock is the test harness's ([`crate::harness`]): it drives processing
//! time by hand (Flink's `setProcessingTime`), so a plugin that registers a
//! processing-time timer at "now + 500" behaves the same in every test run. Plugin
//! calls run synchronously on the thread that makes them, so a thread-local clock is
//! seen by exactly the calls that thread makes; pipelines never set it.

use std::cell::Cell;

use weir_batch::Timestamp;

thread_local! {
    static MANUAL_NOW: Cell<Option<Timestamp>> = const { Cell::new(None) };
}

/// The processing time a plugin called on this thread sees, in ms since the Unix epoch:
/// the manual clock if this thread set one, otherwise the wall clock.
pub fn processing_time_ms() -> Timestamp {
    MANUAL_NOW.with(Cell::get).unwrap_or_else(wall_clock_ms)
}

/// The host's wall clock in ms since the Unix epoch.
pub fn wall_clock_ms() -> Timestamp {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as Timestamp)
}

/// Makes plugin calls on this thread see `now` as processing time (`None`: the wall
/// clock again), until the next call of this function.
pub fn set_manual_processing_time(now: Option<Timestamp>) {
    MANUAL_NOW.with(|cell| cell.set(now));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_is_seen_on_its_thread_only() {
        set_manual_processing_time(Some(42));
        assert_eq!(processing_time_ms(), 42);
        let other = std::thread::spawn(processing_time_ms).join().ok();
        assert!(other.is_some_and(|now| now > 1_000_000_000_000));
        set_manual_processing_time(None);
        assert!(processing_time_ms() > 1_000_000_000_000);
    }
}
