//! [`SourceWatermarks`]: the watermark of a source, from one [`WatermarkGenerator`]
//! per split (a file or stdin has one split; a Kafka topic has one per partition),
//! combined by [`InputWatermarks`] as a task combines its inputs.
//!
//! Laws (on top of those of the generator and of [`InputWatermarks`]):
//! - what the source emits never goes backwards;
//! - it is the minimum over the splits that are not idle;
//! - the source is idle when every split is: it sends `Idle` once, and its next batch
//!   or advancing watermark makes it active again.

use weir_batch::Timestamp;

use super::generator::{WatermarkGenerator, WatermarkUpdate};
use crate::runtime::watermarks::{Combined, InputWatermarks};

/// How a source generates watermarks (`[source.event_time]` in the pipeline file).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WatermarkSpec {
    /// Bounded out-of-orderness: events up to this far behind the newest one seen are
    /// not late.
    pub delay_ms: i64,
    /// A split that has read nothing for this long (processing time) is idle.
    pub idle_timeout_ms: Option<u64>,
}

/// What a source sends after a poll: a watermark, then possibly `Idle`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SourceProgress {
    /// The source's watermark advanced to this time.
    pub watermark: Option<Timestamp>,
    /// Every split is now idle (sent after the watermark, if both).
    pub idle: bool,
}

/// Watermarks of one source; see the module docs.
#[derive(Debug, Clone)]
pub struct SourceWatermarks {
    splits: Vec<WatermarkGenerator>,
    combined: InputWatermarks,
    /// What a batch changed, reported by the next poll.
    pending: SourceProgress,
}

impl SourceWatermarks {
    /// Watermarks of a source with `splits` splits (at least 1).
    ///
    /// # Errors
    /// When `spec` is invalid (a negative delay, a zero idle timeout).
    pub fn new(splits: usize, spec: WatermarkSpec) -> Result<Self, String> {
        let splits = splits.max(1);
        let generator = WatermarkGenerator::new(spec.delay_ms, spec.idle_timeout_ms)?;
        Ok(SourceWatermarks {
            splits: vec![generator; splits],
            combined: InputWatermarks::new(splits),
            pending: SourceProgress::default(),
        })
    }

    /// Records the times of a batch read from `split` at processing time `now_ms`.
    /// An unknown split is ignored.
    pub fn on_batch(&mut self, split: usize, timestamps: &[Timestamp], now_ms: u64) {
        let (Some(generator), Some(&newest)) =
            (self.splits.get_mut(split), timestamps.iter().max())
        else {
            return;
        };
        generator.on_event(newest, now_ms);
        if let Some(Combined::Advanced(watermark)) = self.combined.active(split) {
            self.pending.watermark = Some(watermark);
        }
    }

    /// Called after each batch and periodically: what the source must send now.
    pub fn poll(&mut self, now_ms: u64) -> SourceProgress {
        let mut progress = std::mem::take(&mut self.pending);
        for (split, generator) in self.splits.iter_mut().enumerate() {
            let combined = match generator.poll(now_ms) {
                WatermarkUpdate::Unchanged => None,
                WatermarkUpdate::Advanced(watermark) => self.combined.update(split, watermark),
                WatermarkUpdate::Idle => self.combined.idle(split),
            };
            match combined {
                Some(Combined::Advanced(watermark)) => progress.watermark = Some(watermark),
                Some(Combined::Idle) => progress.idle = true,
                None => {}
            }
        }
        progress.idle &= self.combined.is_idle();
        progress
    }

    /// The source's watermark so far.
    pub fn current(&self) -> Option<Timestamp> {
        self.combined.current()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn spec(delay_ms: i64, idle_timeout_ms: Option<u64>) -> WatermarkSpec {
        WatermarkSpec {
            delay_ms,
            idle_timeout_ms,
        }
    }

    #[test]
    fn one_split_follows_its_generator_and_goes_idle() {
        let mut source = SourceWatermarks::new(1, spec(10, Some(100))).expect("valid");
        assert_eq!(source.poll(0), SourceProgress::default());
        source.on_batch(0, &[50, 40, 45], 0);
        assert_eq!(source.poll(0).watermark, Some(39));
        assert_eq!(source.poll(99), SourceProgress::default());
        assert_eq!(
            source.poll(100),
            SourceProgress {
                watermark: None,
                idle: true
            }
        );
        assert_eq!(source.poll(500), SourceProgress::default(), "idle once");
        source.on_batch(0, &[20], 600);
        assert_eq!(source.poll(600), SourceProgress::default(), "no regression");
        source.on_batch(0, &[80], 601);
        assert_eq!(source.poll(601).watermark, Some(69));
        assert!(SourceWatermarks::new(1, spec(-1, None)).is_err());
    }

    #[test]
    fn an_idle_split_stops_holding_the_others_back() {
        let mut source = SourceWatermarks::new(2, spec(0, Some(100))).expect("valid");
        source.on_batch(0, &[10], 0);
        source.on_batch(1, &[1_000], 0);
        assert_eq!(source.poll(0).watermark, Some(9), "the minimum");
        source.on_batch(1, &[2_000], 150);
        assert_eq!(source.poll(150).watermark, Some(1_999), "split 0 is idle");
        let last = source.poll(300);
        assert_eq!(
            last,
            SourceProgress {
                watermark: None,
                idle: true
            },
            "both idle"
        );
    }

    proptest! {
        #[test]
        fn emitted_watermarks_only_advance(
            splits in 1usize..4,
            reads in proptest::collection::vec((0usize..4, -1_000i64..1_000, 0u64..50), 0..100),
        ) {
            let mut source = SourceWatermarks::new(splits, spec(5, Some(60))).expect("valid");
            let mut now = 0;
            let mut last = None;
            for (split, timestamp, wait) in reads {
                now += wait;
                source.on_batch(split, &[timestamp], now);
                let progress = source.poll(now);
                if let Some(watermark) = progress.watermark {
                    prop_assert!(last.is_none_or(|last| watermark > last));
                    last = Some(watermark);
                }
                prop_assert_eq!(source.current(), last);
            }
        }
    }
}
