//! The Prometheus text (exposition format 0.0.4) of `GET /metrics`: the running
//! pipeline's counters per operator, labelled with the operator and the plugin
//! version it runs now; per operator a histogram of batch durations and the peak
//! memory of its plugin instances; and the deploy counters.
//!
//! Names follow Prometheus conventions: `weir_` prefix, base units (`_seconds`,
//! `_bytes`), `_total` for counters.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;

use super::service::Deployer;
use crate::runtime::histogram::BUCKET_BOUNDS_SECONDS;
use crate::runtime::stats::OperatorStats;

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
        type Field = fn(&OperatorStats) -> u64;
        let counters: [(&str, &str, Field); 8] = [
            (
                "weir_operator_events_in_total",
                "Events into the operator.",
                |s| s.events_in.load(Relaxed),
            ),
            (
                "weir_operator_events_out_total",
                "Events out of the operator's main output.",
                |s| s.events_out.load(Relaxed),
            ),
            (
                "weir_operator_dead_letters_total",
                "Events the operator dead-lettered.",
                |s| s.dead_lettered.load(Relaxed),
            ),
            (
                "weir_operator_batches_total",
                "Batches (plugin calls) the operator ran.",
                |s| s.batches.load(Relaxed),
            ),
            (
                "weir_operator_failed_batches_total",
                "Batches that failed as a whole and were re-run event by event.",
                |s| s.failed_batches.load(Relaxed),
            ),
            ("weir_operator_traps_total", "Plugin traps.", |s| {
                s.traps.load(Relaxed)
            }),
            (
                "weir_operator_deadline_hits_total",
                "Plugin calls interrupted at their deadline.",
                |s| s.deadline_hits.load(Relaxed),
            ),
            (
                "weir_operator_out_of_memory_total",
                "Plugin calls that hit the memory limit.",
                |s| s.out_of_memory.load(Relaxed),
            ),
        ];
        for (name, help, field) in counters {
            header(&mut text, name, "counter", help);
            for operator in &stats.operators {
                let plugin = versions
                    .iter()
                    .find(|(name, _)| *name == operator.name)
                    .map_or(operator.plugin.as_str(), |(_, identity)| identity.as_str());
                let _ = writeln!(
                    text,
                    "{name}{{operator=\"{}\",plugin=\"{}\"}} {}",
                    label(&operator.name),
                    label(plugin),
                    field(operator)
                );
            }
        }
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
        for (sink, written) in &stats.sinks {
            let _ = writeln!(
                text,
                "weir_sink_events_total{{sink=\"{}\"}} {}",
                label(sink),
                written.load(Relaxed)
            );
        }
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
            "Plugin versions refused by validation.",
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
