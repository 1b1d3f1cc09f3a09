//! The Prometheus text (exposition format 0.0.4) of `GET /metrics`: the running
//! pipeline's counters per operator and plugin version (a swap starts the new
//! version's series; a version that comes back continues its own); per operator a
//! histogram of batch durations and the peak memory of its plugin instances; per
//! sink its watermark and the watermark's lag behind the wall clock; the
//! checkpoints' count, durations and last size; and the deploy counters.
//!
//! Names follow Prometheus conventions: `weir_` prefix, base units (`_seconds`,
//! `_bytes`), `_total` for counters.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use super::service::Deployer;
use crate::runtime::histogram::BUCKET_BOUNDS_SECONDS;
use crate::runtime::stats::{COUNTER_NAMES, Counters, OperatorStats, PipelineStats};

/// Escapes a label value (`\`, `"` and newlines).
fn label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
}

/// The metrics text of `deployer`'s pipeline.
pub fn render(deployer: &Deployer) -> String {
    let mut text = String::new();
    let versions: Vec<(String, String)> = deployer
        .status()
        .into_iter()
        .map(|status| (status.operator, status.identity))
        .collect();
    if let Some(stats) = deployer.board().stats() {
        header(
            &mut text,
            "weir_source_events_total",
            "counter",
            "Events read by the source.",
        );
        let _ = writeln!(
            text,
            "weir_source_events_total {}",
            stats.events_read.load(Relaxed)
        );
        render_counters(&mut text, &stats.operators);
        header(
            &mut text,
            "weir_operator_busy_seconds_total",
            "counter",
            "Time spent processing batches, all subtasks together.",
        );
        for operator in &stats.operators {
            let _ = writeln!(
                text,
                "weir_operator_busy_seconds_total{{operator=\"{}\"}} {}",
                label(&operator.name),
                operator.busy_nanos.load(Relaxed) as f64 / 1e9
            );
        }
        render_batch_latency(&mut text, &stats.operators);
        header(
            &mut text,
            "weir_operator_memory_peak_bytes",
            "gauge",
            "The largest linear memory a plugin instance of the operator has grown to.",
        );
        for operator in &stats.operators {
            let bytes = operator.memory_peak_bytes.load(Relaxed);
            if bytes > 0 {
                let _ = writeln!(
                    text,
                    "weir_operator_memory_peak_bytes{{operator=\"{}\"}} {bytes}",
                    label(&operator.name),
                );
            }
        }
        header(
            &mut text,
            "weir_sink_events_total",
            "counter",
            "Events written by each sink.",
        );
        for sink in &stats.sinks {
            let _ = writeln!(
                text,
                "weir_sink_events_total{{sink=\"{}\"}} {}",
                label(&sink.sink),
                sink.written.load(Relaxed)
            );
        }
        render_watermarks(&mut text, stats, crate::connector::file::now_ms());
        render_checkpoints(&mut text, stats);
    }
    header(
        &mut text,
        "weir_operator_plugin_info",
        "gauge",
        "The plugin version each operator runs (value 1).",
    );
    for (operator, identity) in &versions {
        let _ = writeln!(
            text,
            "weir_operator_plugin_info{{operator=\"{}\",plugin=\"{}\"}} 1",
            label(operator),
            label(identity)
        );
    }
    let counters = &deployer.counters;
    let deploys: [(&str, &str, &str, u64); 3] = [
        (
            "weir_plugin_swaps_total",
            "counter",
            "Operator plugin swaps done (including rollbacks).",
            counters.swaps.load(Relaxed),
        ),
        (
            "weir_plugin_rollbacks_total",
            "counter",
            "Automatic rollbacks of faulty versions.",
            counters.rollbacks.load(Relaxed),
        ),
        (
            "weir_plugin_rejected_total",
            "counter",
            "Plugin and model versions refused by validation.",
            counters.rejected.load(Relaxed),
        ),
    ];
    for (name, kind, help, value) in deploys {
        header(&mut text, name, kind, help);
        let _ = writeln!(text, "{name} {value}");
    }
    header(
        &mut text,
        "weir_plugin_last_swap_pause_seconds",
        "gauge",
        "How long the last swap stopped the stream.",
    );
    let _ = writeln!(
        text,
        "weir_plugin_last_swap_pause_seconds {}",
        counters.last_pause_us.load(Relaxed) as f64 / 1e6
    );
    text
}

/// The counters of every operator, one series per plugin version it has run (see
/// [`OperatorStats::counters_by_version`]).
fn render_counters(text: &mut String, operators: &[Arc<OperatorStats>]) {
    // In the order of `COUNTER_NAMES`.
    const COUNTERS: [(&str, &str); COUNTER_NAMES.len()] = [
        ("weir_operator_events_in_total", "Events into the operator."),
        (
            "weir_operator_events_out_total",
            "Events out of the operator's main output.",
        ),
        (
            "weir_operator_dead_letters_total",
            "Events the operator dead-lettered.",
        ),
        (
            "weir_operator_batches_total",
            "Batches (plugin calls) the operator ran.",
        ),
        (
            "weir_operator_failed_batches_total",
            "Batches that failed as a whole and were re-run event by event.",
        ),
        ("weir_operator_traps_total", "Plugin traps."),
        (
            "weir_operator_deadline_hits_total",
            "Plugin calls interrupted at their deadline.",
        ),
        (
            "weir_operator_out_of_memory_total",
            "Plugin calls that hit the memory limit.",
        ),
    ];
    let by_version: Vec<(String, Vec<(String, Counters)>)> = operators
        .iter()
        .map(|operator| (label(&operator.name), operator.counters_by_version()))
        .collect();
    for (index, (name, help)) in COUNTERS.iter().enumerate() {
        header(text, name, "counter", help);
        for (operator, versions) in &by_version {
            for (plugin, counters) in versions {
                let _ = writeln!(
                    text,
                    "{name}{{operator=\"{operator}\",plugin=\"{}\"}} {}",
                    label(plugin),
                    counters[index]
                );
            }
        }
    }
}

/// Per sink, the watermark of its input and its lag behind the wall clock `now_ms`:
/// how far event time trails real time at the end of the pipeline. A sink without a
/// watermark yet, or whose input has ended, has no series.
fn render_watermarks(text: &mut String, stats: &PipelineStats, now_ms: i64) {
    let watermarks: Vec<(String, i64)> = stats
        .sinks
        .iter()
        .filter_map(|sink| Some((label(&sink.sink), sink.watermark()?)))
        .collect();
    header(
        text,
        "weir_sink_watermark_seconds",
        "gauge",
        "The event-time watermark of the sink's input, in seconds since the Unix epoch.",
    );
    for (sink, watermark) in &watermarks {
        let _ = writeln!(
            text,
            "weir_sink_watermark_seconds{{sink=\"{sink}\"}} {}",
            *watermark as f64 / 1e3
        );
    }
    header(
        text,
        "weir_watermark_lag_seconds",
        "gauge",
        "How far the sink's watermark trails the wall clock.",
    );
    for (sink, watermark) in &watermarks {
        let _ = writeln!(
            text,
            "weir_watermark_lag_seconds{{sink=\"{sink}\"}} {}",
            now_ms.saturating_sub(*watermark) as f64 / 1e3
        );
    }
}

/// The checkpoints completed, a histogram of their durations (barrier injected to
/// metadata on disk) and the last one's duration and size.
fn render_checkpoints(text: &mut String, stats: &PipelineStats) {
    const NAME: &str = "weir_checkpoint_duration_seconds";
    let checkpoints = &stats.checkpoints;
    header(
        text,
        "weir_checkpoints_completed_total",
        "counter",
        "Checkpoints completed.",
    );
    let _ = writeln!(
        text,
        "weir_checkpoints_completed_total {}",
        checkpoints.completed.load(Relaxed)
    );
    header(
        text,
        NAME,
        "histogram",
        "How long checkpoints took, from the barrier's injection to the metadata on disk.",
    );
    let reading = checkpoints.duration.read();
    for (bound, count) in BUCKET_BOUNDS_SECONDS.iter().zip(&reading.cumulative) {
        let _ = writeln!(text, "{NAME}_bucket{{le=\"{bound}\"}} {count}");
    }
    let _ = writeln!(text, "{NAME}_bucket{{le=\"+Inf\"}} {}", reading.count);
    let _ = writeln!(text, "{NAME}_sum {}", reading.sum_seconds);
    let _ = writeln!(text, "{NAME}_count {}", reading.count);
    header(
        text,
        "weir_checkpoint_last_duration_seconds",
        "gauge",
        "How long the last completed checkpoint took.",
    );
    let _ = writeln!(
        text,
        "weir_checkpoint_last_duration_seconds {}",
        checkpoints.last_duration_nanos.load(Relaxed) as f64 / 1e9
    );
    header(
        text,
        "weir_checkpoint_last_size_bytes",
        "gauge",
        "The bytes of the last completed checkpoint on disk (the state files it hard-links count in full).",
    );
    let _ = writeln!(
        text,
        "weir_checkpoint_last_size_bytes {}",
        checkpoints.last_size_bytes.load(Relaxed)
    );
}

/// `weir_operator_batch_duration_seconds`: a histogram per operator of its `process`
/// calls.
fn render_batch_latency(text: &mut String, operators: &[Arc<OperatorStats>]) {
    const NAME: &str = "weir_operator_batch_duration_seconds";
    header(
        text,
        NAME,
        "histogram",
        "How long the operator took per batch (one plugin call).",
    );
    for operator in operators {
        let reading = operator.batch_latency.read();
        let name = label(&operator.name);
        for (bound, count) in BUCKET_BOUNDS_SECONDS.iter().zip(&reading.cumulative) {
            let _ = writeln!(
                text,
                "{NAME}_bucket{{operator=\"{name}\",le=\"{bound}\"}} {count}"
            );
        }
        let _ = writeln!(
            text,
            "{NAME}_bucket{{operator=\"{name}\",le=\"+Inf\"}} {}",
            reading.count
        );
        let _ = writeln!(
            text,
            "{NAME}_sum{{operator=\"{name}\"}} {}",
            reading.sum_seconds
        );
        let _ = writeln!(
            text,
            "{NAME}_count{{operator=\"{name}\"}} {}",
            reading.count
        );
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering::Relaxed;
    use std::time::Duration;

    use super::*;
    use crate::runtime::stats::SinkStats;

    #[test]
    fn watermark_lag_is_the_wall_clock_minus_the_sinks_watermark() {
        let stats = PipelineStats {
            sinks: vec![
                SinkStats::new("file:a".into()),
                SinkStats::new("file:b".into()),
                SinkStats::new("file:c".into()),
            ],
            ..PipelineStats::default()
        };
        stats.sinks[0].watermark_ms.store(1_000, Relaxed);
        stats.sinks[2].watermark_ms.store(i64::MAX, Relaxed);
        let mut text = String::new();
        render_watermarks(&mut text, &stats, 3_500);
        assert!(
            text.contains("weir_sink_watermark_seconds{sink=\"file:a\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("weir_watermark_lag_seconds{sink=\"file:a\"} 2.5\n"),
            "{text}"
        );
        assert!(
            !text.contains("file:b") && !text.contains("file:c"),
            "no watermark yet, and ended: no series\n{text}"
        );
    }

    #[test]
    fn checkpoints_render_as_a_counter_a_histogram_and_the_last_ones_figures() {
        let stats = PipelineStats::default();
        stats.checkpoints.record(Duration::from_millis(30), 4096);
        stats.checkpoints.record(Duration::from_millis(2), 1024);
        let mut text = String::new();
        render_checkpoints(&mut text, &stats);
        for line in [
            "weir_checkpoints_completed_total 2\n",
            "weir_checkpoint_duration_seconds_bucket{le=\"0.0025\"} 1\n",
            "weir_checkpoint_duration_seconds_bucket{le=\"0.05\"} 2\n",
            "weir_checkpoint_duration_seconds_count 2\n",
            "weir_checkpoint_last_duration_seconds 0.002\n",
            "weir_checkpoint_last_size_bytes 1024\n",
        ] {
            assert!(text.contains(line), "{line}{text}");
        }
    }

    #[test]
    fn each_version_has_its_own_counter_series() {
        let operator = Arc::new(OperatorStats::new("tag", "p@1+a"));
        operator.events_in.fetch_add(7, Relaxed);
        operator.begin_version("p@2+b");
        operator.events_in.fetch_add(3, Relaxed);
        let mut text = String::new();
        render_counters(&mut text, &[operator]);
        assert!(
            text.contains("weir_operator_events_in_total{operator=\"tag\",plugin=\"p@1+a\"} 7\n"),
            "{text}"
        );
        assert!(
            text.contains("weir_operator_events_in_total{operator=\"tag\",plugin=\"p@2+b\"} 3\n"),
            "{text}"
        );
    }
}
