//! [`LatencyHistogram`]: how long batches take, in fixed buckets shared lock-free by an
//! operator's subtasks, for the Prometheus histogram of `GET /metrics`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The buckets' upper bounds in seconds, from 50 µs (a small batch of a cheap plugin)
/// to 1 s (the default call deadline); slower batches count only in `+Inf`.
pub const BUCKET_BOUNDS_SECONDS: [f64; 14] = [
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0,
];

/// Durations counted per bucket (each in the first bucket whose bound it does not
/// exceed), with their sum and count.
#[derive(Debug, Default)]
pub struct LatencyHistogram {
    /// One per bound, then one for slower than the last.
    buckets: [AtomicU64; BUCKET_BOUNDS_SECONDS.len() + 1],
    sum_nanos: AtomicU64,
    count: AtomicU64,
}

/// A reading of a [`LatencyHistogram`] in Prometheus's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramReading {
    /// Cumulative counts: durations at or below each bound of
    /// [`BUCKET_BOUNDS_SECONDS`] (the `le` buckets; `+Inf` is `count`).
    pub cumulative: Vec<u64>,
    pub sum_seconds: f64,
    pub count: u64,
}

impl LatencyHistogram {
    pub fn observe(&self, duration: Duration) {
        let seconds = duration.as_secs_f64();
        let bucket = BUCKET_BOUNDS_SECONDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(BUCKET_BOUNDS_SECONDS.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.sum_nanos.fetch_add(
            u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
            Relaxed,
        );
        self.count.fetch_add(1, Relaxed);
    }

    /// The counts so far. Read while others observe, the buckets and the count may
    /// disagree by the observations in flight, as Prometheus clients allow.
    pub fn read(&self) -> HistogramReading {
        let mut total = 0;
        let cumulative = self.buckets[..BUCKET_BOUNDS_SECONDS.len()]
            .iter()
            .map(|bucket| {
                total += bucket.load(Relaxed);
                total
            })
            .collect();
        HistogramReading {
            cumulative,
            sum_seconds: self.sum_nanos.load(Relaxed) as f64 / 1e9,
            count: self.count.load(Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_duration_counts_in_every_bucket_at_or_above_it() {
        let histogram = LatencyHistogram::default();
        for micros in [10, 50, 51, 700, 3_000, 2_000_000] {
            histogram.observe(Duration::from_micros(micros));
        }
        let reading = histogram.read();
        assert_eq!(reading.count, 6);
        // <= 50 µs: 10 and 50; <= 100 µs adds 51; <= 1 ms adds 700; <= 5 ms adds 3 ms;
        // 2 s only in +Inf.
        assert_eq!(
            reading.cumulative,
            [2, 3, 3, 3, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5]
        );
        assert!((reading.sum_seconds - 2.003_811).abs() < 1e-9);
    }
}
