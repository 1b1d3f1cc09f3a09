//! Live counters of a running pipeline, shared by its tasks, read by the progress line
//! and the closing summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use super::histogram::LatencyHistogram;

/// Counters of one operator, summed over its subtasks.
#[derive(Debug, Default)]
pub struct OperatorStats {
    pub name: String,
    /// The plugin running it (`name@version+hash`), or `native`.
    pub plugin: String,
    pub events_in: AtomicU64,
    pub events_out: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub batches: AtomicU64,
    /// Batches that failed as a whole and were re-run event by event.
    pub failed_batches: AtomicU64,
    pub traps: AtomicU64,
    pub deadline_hits: AtomicU64,
    pub out_of_memory: AtomicU64,
    /// Nanoseconds spent inside `process`, all subtasks together.
    pub busy_nanos: AtomicU64,
    /// How long each `process` call took.
    pub batch_latency: LatencyHistogram,
    /// The largest linear memory any of its plugin instances has grown to (Wasm
    /// memory does not shrink; a replaced instance starts small again).
    pub memory_peak_bytes: AtomicU64,
    /// Counters the plugin itself reported.
    pub plugin_counters: Mutex<BTreeMap<String, u64>>,
    /// The versions swapped in since the start, each with the counters when it took
    /// over (see [`OperatorStats::counters_by_version`]).
    swapped_in: Mutex<Vec<(String, Counters)>>,
}

/// The counters of [`OperatorStats`] that are kept apart per plugin version, in the
/// order of [`COUNTER_NAMES`].
pub type Counters = [u64; COUNTER_NAMES.len()];

/// The counters kept per plugin version: events in, events out, dead letters,
/// batches, failed batches, traps, deadline hits, out-of-memory faults.
pub const COUNTER_NAMES: [&str; 8] = [
    "events_in",
    "events_out",
    "dead_letters",
    "batches",
    "failed_batches",
    "traps",
    "deadline_hits",
    "out_of_memory",
];

impl OperatorStats {
    pub fn new(name: &str, plugin: &str) -> Self {
        OperatorStats {
            name: name.to_owned(),
            plugin: plugin.to_owned(),
            ..OperatorStats::default()
        }
    }

    /// The counters now, in the order of [`COUNTER_NAMES`].
    pub fn counters(&self) -> Counters {
        [
            &self.events_in,
            &self.events_out,
            &self.dead_lettered,
            &self.batches,
            &self.failed_batches,
            &self.traps,
            &self.deadline_hits,
            &self.out_of_memory,
        ]
        .map(|counter| counter.load(Relaxed))
    }

    /// Version `identity` runs from now on: what the counters gain from here is its.
    pub fn begin_version(&self, identity: &str) {
        let now = self.counters();
        lock(&self.swapped_in).push((identity.to_owned(), now));
    }

    /// The counters per plugin version, in the order the versions first ran: each
    /// version's share is what the counters gained while it ran (summed over its
    /// turns, so every series only grows). Before any swap, one entry: the plugin the
    /// operator started with.
    pub fn counters_by_version(&self) -> Vec<(String, Counters)> {
        let swapped_in = lock(&self.swapped_in).clone();
        let now = self.counters();
        let mut periods = vec![(self.plugin.clone(), [0; COUNTER_NAMES.len()])];
        periods.extend(swapped_in);
        let mut shares: Vec<(String, Counters)> = Vec::new();
        for (index, (identity, start)) in periods.iter().enumerate() {
            let end = periods.get(index + 1).map_or(&now, |(_, next)| next);
            let slot = match shares.iter().position(|(known, _)| known == identity) {
                Some(slot) => slot,
                None => {
                    shares.push((identity.clone(), [0; COUNTER_NAMES.len()]));
                    shares.len() - 1
                }
            };
            for ((total, end), start) in shares[slot].1.iter_mut().zip(end).zip(start) {
                *total += end.saturating_sub(*start);
            }
        }
        shares
    }

    /// Counts one `process` call that took `elapsed`.
    pub fn record_batch(&self, elapsed: Duration) {
        self.busy_nanos.fetch_add(
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX),
            Relaxed,
        );
        self.batch_latency.observe(elapsed);
    }

    /// Notes the linear memory of an instance after a call.
    pub fn record_memory(&self, bytes: usize) {
        self.memory_peak_bytes
            .fetch_max(u64::try_from(bytes).unwrap_or(u64::MAX), Relaxed);
    }

    /// Adds a plugin's counters.
    pub fn add_plugin_counters(&self, counters: BTreeMap<String, u64>) {
        if counters.is_empty() {
            return;
        }
        let mut totals = lock(&self.plugin_counters);
        for (name, delta) in counters {
            *totals.entry(name).or_default() += delta;
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// What a sink has received.
#[derive(Debug)]
pub struct SinkStats {
    /// The sink's description.
    pub sink: String,
    /// Events written.
    pub written: AtomicU64,
    /// The watermark of the sink's input (the minimum over its live, non-idle
    /// inputs), in ms; [`i64::MIN`] until one arrives, [`i64::MAX`] once the input has
    /// ended.
    pub watermark_ms: AtomicI64,
}

impl SinkStats {
    pub fn new(sink: String) -> Self {
        SinkStats {
            sink,
            written: AtomicU64::new(0),
            watermark_ms: AtomicI64::new(i64::MIN),
        }
    }

    /// The input's watermark, if one has arrived and the input has not ended.
    pub fn watermark(&self) -> Option<i64> {
        let watermark = self.watermark_ms.load(Relaxed);
        (watermark != i64::MIN && watermark != i64::MAX).then_some(watermark)
    }
}

/// The checkpoints of a run.
#[derive(Debug, Default)]
pub struct CheckpointStats {
    /// Checkpoints completed (metadata written).
    pub completed: AtomicU64,
    /// From the barrier's injection to the metadata on disk.
    pub duration: LatencyHistogram,
    /// The last completed checkpoint's duration, in ns.
    pub last_duration_nanos: AtomicU64,
    /// The bytes of the last completed checkpoint's directory (the state backend's
    /// files that it hard-links count in full).
    pub last_size_bytes: AtomicU64,
}

impl CheckpointStats {
    /// Counts a completed checkpoint.
    pub fn record(&self, duration: Duration, size_bytes: u64) {
        self.completed.fetch_add(1, Relaxed);
        self.duration.observe(duration);
        self.last_duration_nanos.store(
            u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX),
            Relaxed,
        );
        self.last_size_bytes.store(size_bytes, Relaxed);
    }
}

/// Counters of a whole pipeline.
#[derive(Debug, Default)]
pub struct PipelineStats {
    pub source: String,
    pub events_read: AtomicU64,
    /// Records the source could not decode.
    pub source_dead_lettered: AtomicU64,
    pub operators: Vec<std::sync::Arc<OperatorStats>>,
    /// Per sink, in the pipeline's order.
    pub sinks: Vec<SinkStats>,
    pub dead_letters_written: AtomicU64,
    /// Checkpoints, in a checkpointed run.
    pub checkpoints: std::sync::Arc<CheckpointStats>,
}

impl PipelineStats {
    /// The closing summary: events in, out and dead-lettered, per operator, and rates.
    pub fn summary(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64().max(1e-9);
        let read = self.events_read.load(Relaxed);
        let mut text = String::new();
        let _ = writeln!(
            text,
            "source {}: {read} events read, {} dead-lettered ({:.0} events/s)",
            self.source,
            self.source_dead_lettered.load(Relaxed),
            read as f64 / seconds
        );
        for operator in &self.operators {
            let events_in = operator.events_in.load(Relaxed);
            let _ = writeln!(
                text,
                "operator {} [{}]: {events_in} in, {} out, {} dead-lettered; {} batches ({} failed: {} traps, {} deadlines, {} out of memory); {:.0} ns/event in the plugin",
                operator.name,
                operator.plugin,
                operator.events_out.load(Relaxed),
                operator.dead_lettered.load(Relaxed),
                operator.batches.load(Relaxed),
                operator.failed_batches.load(Relaxed),
                operator.traps.load(Relaxed),
                operator.deadline_hits.load(Relaxed),
                operator.out_of_memory.load(Relaxed),
                operator.busy_nanos.load(Relaxed) as f64 / events_in.max(1) as f64,
            );
            let counters = lock(&operator.plugin_counters);
            for (name, value) in counters.iter() {
                let _ = writeln!(text, "  plugin counter {name} = {value}");
            }
        }
        for sink in &self.sinks {
            let _ = writeln!(
                text,
                "sink {}: {} events written",
                sink.sink,
                sink.written.load(Relaxed)
            );
        }
        let _ = write!(
            text,
            "dead letters: {} written; {read} events in {:.3} s = {:.0} events/s",
            self.dead_letters_written.load(Relaxed),
            seconds,
            read as f64 / seconds
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_are_shared_out_to_the_versions_that_earned_them() {
        let stats = OperatorStats::new("op", "p@1+a");
        let events = |n: u64| {
            stats.events_in.fetch_add(n, Relaxed);
            stats.batches.fetch_add(1, Relaxed);
        };
        events(10);
        assert_eq!(stats.counters_by_version()[0].0, "p@1+a");
        stats.begin_version("p@2+b");
        events(5);
        stats.traps.fetch_add(1, Relaxed);
        stats.begin_version("p@1+a");
        events(2);
        let shares = stats.counters_by_version();
        let names: Vec<&str> = shares.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["p@1+a", "p@2+b"]);
        assert_eq!(shares[0].1, [12, 0, 0, 2, 0, 0, 0, 0]);
        assert_eq!(shares[1].1, [5, 0, 0, 1, 0, 1, 0, 0]);
        assert_eq!(stats.counters(), [17, 0, 0, 3, 0, 1, 0, 0]);
    }

    #[test]
    fn a_sink_has_a_watermark_between_the_first_and_the_end() {
        let sink = SinkStats::new("file:out".into());
        assert_eq!(sink.watermark(), None);
        sink.watermark_ms.store(1_000, Relaxed);
        assert_eq!(sink.watermark(), Some(1_000));
        sink.watermark_ms.store(i64::MAX, Relaxed);
        assert_eq!(sink.watermark(), None);
    }
}
