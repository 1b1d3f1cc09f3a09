//! [`WatermarkGenerator`]: the watermark of one partition, from the event times seen.
//!
//! Bounded out-of-orderness: the watermark is `max_seen - delay - 1` (with
//! `delay = 0`, monotonous timestamps), as Flink's. An event is late when its time is
//! `<=` the watermark. Laws (property-tested below):
//! - the watermark never goes backwards, and is reported only when it advances;
//! - an event at most `delay` behind the newest one seen is never late;
//! - with an idle timeout, a partition that has seen no event for that long (in
//!   processing time) is reported idle once, so that it stops holding the
//!   downstream minimum back; its next event makes it active again.

use weir_batch::Timestamp;

/// What a call to the generator has to tell downstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WatermarkUpdate {
    /// Nothing new.
    Unchanged,
    /// The watermark advanced to this time.
    Advanced(Timestamp),
    /// The partition has been silent for the idle timeout.
    Idle,
}

/// Watermarks of one partition: bounded out-of-orderness with an optional idle timeout.
#[derive(Debug, Clone)]
pub struct WatermarkGenerator {
    delay: i64,
    idle_timeout_ms: Option<u64>,
    max_seen: Option<Timestamp>,
    emitted: Option<Timestamp>,
    last_event_at_ms: u64,
    idle: bool,
}

impl WatermarkGenerator {
    /// A generator that allows events up to `delay_ms` behind the newest one.
    /// `idle_timeout_ms` of `None` means a silent partition holds the watermark back
    /// for ever (the safe default).
    ///
    /// # Errors
    /// When `delay_ms` is negative or the idle timeout is zero.
    pub fn new(delay_ms: i64, idle_timeout_ms: Option<u64>) -> Result<Self, String> {
        if delay_ms < 0 {
            return Err(format!(
                "the watermark delay must not be negative (got {delay_ms} ms)"
            ));
        }
        if idle_timeout_ms == Some(0) {
            return Err("the idle timeout must be at least 1 ms".into());
        }
        Ok(WatermarkGenerator {
            delay: delay_ms,
            idle_timeout_ms,
            max_seen: None,
            emitted: None,
            last_event_at_ms: 0,
            idle: false,
        })
    }

    /// Records an event with time `timestamp`, read at processing time `now_ms`.
    pub fn on_event(&mut self, timestamp: Timestamp, now_ms: u64) {
        self.max_seen = Some(self.max_seen.map_or(timestamp, |max| max.max(timestamp)));
        self.last_event_at_ms = now_ms;
        self.idle = false;
    }

    /// Called after each batch and periodically: the update to send downstream, if any.
    pub fn poll(&mut self, now_ms: u64) -> WatermarkUpdate {
        if let Some(max_seen) = self.max_seen {
            let candidate = max_seen.saturating_sub(self.delay).saturating_sub(1);
            if self.emitted.is_none_or(|emitted| candidate > emitted) {
                self.emitted = Some(candidate);
                return WatermarkUpdate::Advanced(candidate);
            }
        }
        match self.idle_timeout_ms {
            Some(timeout)
                if !self.idle && now_ms.saturating_sub(self.last_event_at_ms) >= timeout =>
            {
                self.idle = true;
                WatermarkUpdate::Idle
            }
            _ => WatermarkUpdate::Unchanged,
        }
    }

    /// The last watermark reported.
    pub fn current(&self) -> Option<Timestamp> {
        self.emitted
    }

    /// Whether the partition is idle.
    pub fn is_idle(&self) -> bool {
        self.idle
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn bounded_out_of_orderness() {
        let mut generator = WatermarkGenerator::new(100, None).expect("valid");
        assert_eq!(
            generator.poll(0),
            WatermarkUpdate::Unchanged,
            "nothing seen yet"
        );
        generator.on_event(1_000, 0);
        assert_eq!(generator.poll(0), WatermarkUpdate::Advanced(899));
        generator.on_event(950, 1);
        assert_eq!(
            generator.poll(1),
            WatermarkUpdate::Unchanged,
            "late-ish events do not move it"
        );
        generator.on_event(1_500, 2);
        assert_eq!(generator.poll(2), WatermarkUpdate::Advanced(1_399));
        assert!(WatermarkGenerator::new(-1, None).is_err());
    }

    #[test]
    fn silence_makes_a_partition_idle_once_until_the_next_event() {
        let mut generator = WatermarkGenerator::new(0, Some(50)).expect("valid");
        generator.on_event(10, 100);
        assert_eq!(generator.poll(100), WatermarkUpdate::Advanced(9));
        assert_eq!(generator.poll(149), WatermarkUpdate::Unchanged);
        assert_eq!(generator.poll(150), WatermarkUpdate::Idle);
        assert_eq!(
            generator.poll(500),
            WatermarkUpdate::Unchanged,
            "reported once"
        );
        generator.on_event(20, 600);
        assert!(!generator.is_idle());
        assert_eq!(generator.poll(600), WatermarkUpdate::Advanced(19));
    }

    proptest! {
        #[test]
        fn watermarks_are_monotone_and_never_make_bounded_events_late(
            delay in 0i64..1_000,
            timestamps in proptest::collection::vec(-1_000_000i64..1_000_000, 1..200),
        ) {
            let mut generator = WatermarkGenerator::new(delay, None).expect("valid");
            let mut max_seen = i64::MIN;
            let mut last = None;
            for (now, timestamp) in timestamps.into_iter().enumerate() {
                // An event at most `delay` behind the newest is never late.
                if timestamp >= max_seen.saturating_sub(delay) {
                    prop_assert!(
                        generator.current().is_none_or(|watermark| timestamp > watermark),
                        "{timestamp} is within the delay of {max_seen}, so not late"
                    );
                }
                generator.on_event(timestamp, now as u64);
                max_seen = max_seen.max(timestamp);
                if let WatermarkUpdate::Advanced(watermark) = generator.poll(now as u64) {
                    prop_assert!(last.is_none_or(|last| watermark > last), "only forwards");
                    last = Some(watermark);
                }
                prop_assert_eq!(generator.current(), Some(max_seen - delay - 1));
            }
        }
    }
}
