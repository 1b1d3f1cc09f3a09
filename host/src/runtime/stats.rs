//! Live counters of a running pipeline, shared by its tasks, read by the progress line
//! and the closing summary.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
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
}

impl OperatorStats {
    pub fn new(name: &str, plugin: &str) -> Self {
        OperatorStats {
            name: name.to_owned(),
            plugin: plugin.to_owned(),
            ..OperatorStats::default()
        }
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
        let mut totals = self
            .plugin_counters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for (name, delta) in counters {
            *totals.entry(name).or_default() += delta;
        }
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
    /// Events written, per sink description.
    pub sinks: Vec<(String, AtomicU64)>,
    pub dead_letters_written: AtomicU64,
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
            let counters = operator
                .plugin_counters
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for (name, value) in counters.iter() {
                let _ = writeln!(text, "  plugin counter {name} = {value}");
            }
        }
        for (sink, written) in &self.sinks {
            let _ = writeln!(
                text,
                "sink {sink}: {} events written",
                written.load(Relaxed)
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
