//! The boundary benchmark: generator → filter → map → discarding sink, with the filter
//! and map as Wasm plugins (`bench-filter`, `bench-map`) and as native Rust over the
//! same code (`plugins/bench-logic`), in the same run, for batch sizes 1, 64 and 1024,
//! on two workloads: 16-byte compact records (the pure boundary tax) and ~100-byte
//! JSON transactions (parse, and parse + re-serialise).
//!
//! Run: `cargo bench --workspace --bench boundary`
//! (`WEIR_BENCH_EVENTS=1000000` for a quicker run; default 10 M events per case,
//! a tenth of that with batches of 1; `WEIR_BENCH_ONLY=compact-1024,json-64` for
//! some cases only).
//!
//! Printed per case: pipeline throughput (events read per second, end to end), the
//! time spent inside the two operators per event (the chain's thread only, all copies
//! across the boundary included), and the Wasm/native ratios of both. The operators
//! of a chain run on one thread, so "ns/event in operators" is one core's work.

use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use weir_host::config::Route;
use weir_host::connector::discard::DiscardSink;
use weir_host::connector::file::FileDeadLetterSink;
use weir_host::connector::generator::{GeneratorSource, GeneratorSpec, ValueShape};
use weir_host::plugin::{PluginLimits, PluginLoader, PluginSpec};
use weir_host::runtime::operator::Operator;
use weir_host::runtime::pipeline::{OperatorSpec, Pipeline, RunOptions};
use weir_host::runtime::wasm_operator::WasmOperator;
use weir_tests::native::{NativeFilter, NativeMap, Shape};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Implementation {
    Wasm,
    Native,
}

struct Measured {
    events_per_second: f64,
    operator_nanos_per_event: f64,
}

fn operators(
    implementation: Implementation,
    shape: Shape,
    loader: &PluginLoader,
) -> Vec<OperatorSpec> {
    let shape_name = match shape {
        Shape::Compact => "compact",
        Shape::Json => "json",
    };
    ["filter", "map"]
        .into_iter()
        .map(|role| {
            let name = role.to_owned();
            let factory: weir_host::runtime::pipeline::OperatorFactory = match implementation {
                Implementation::Wasm => {
                    let plugin = loader
                        .load(PluginSpec {
                            operator: name.clone(),
                            path: weir_tests::plugin(&format!("bench-{role}")),
                            settings_json: format!(r#"{{"shape":"{shape_name}"}}"#),
                            limits: PluginLimits::default(),
                        })
                        .expect("the benchmark plugins load");
                    Box::new(move |subtask, stats| {
                        WasmOperator::new(plugin.clone(), subtask.index, stats)
                            .map(|operator| Box::new(operator) as Box<dyn Operator>)
                    })
                }
                Implementation::Native if role == "filter" => Box::new(move |_, stats| {
                    Ok(Box::new(NativeFilter { shape, stats }) as Box<dyn Operator>)
                }),
                Implementation::Native => Box::new(move |_, stats| {
                    Ok(Box::new(NativeMap {
                        shape,
                        stats,
                        scratch: Vec::new(),
                    }) as Box<dyn Operator>)
                }),
            };
            OperatorSpec {
                name,
                plugin: format!("{implementation:?}"),
                parallelism: 1,
                key_by: None,
                outputs: Vec::new(),
                factory,
            }
        })
        .collect()
}

fn run_case(
    runtime: &tokio::runtime::Runtime,
    loader: &PluginLoader,
    implementation: Implementation,
    shape: Shape,
    batch_size: usize,
    events: u64,
    dead_letters: &std::path::Path,
) -> Measured {
    let source = GeneratorSource::new(GeneratorSpec {
        count: Some(events),
        shape: match shape {
            Shape::Compact => ValueShape::Compact,
            Shape::Json => ValueShape::Json,
        },
        ..GeneratorSpec::default()
    });
    let pipeline = Pipeline {
        name: "boundary".into(),
        batch_size,
        channel_capacity: 64,
        max_key_groups: weir_host::state::DEFAULT_MAX_KEY_GROUPS,
        source: Box::new(source),
        watermarks: weir_host::time::WatermarkSpec::default(),
        operators: operators(implementation, shape, loader),
        sinks: vec![(Route::Main, Box::new(DiscardSink::new()))],
        dead_letters: Box::new(
            runtime
                .block_on(FileDeadLetterSink::create(dead_letters))
                .expect("dead-letter file"),
        ),
    };
    let report = runtime
        .block_on(pipeline.run(RunOptions::default()))
        .expect("the benchmark pipeline runs");
    let stats = &report.stats;
    assert_eq!(stats.events_read.load(Relaxed), events);
    assert_eq!(
        stats.dead_letters_written.load(Relaxed),
        0,
        "no event fails in the benchmark"
    );
    let busy: u64 = stats
        .operators
        .iter()
        .map(|operator| operator.busy_nanos.load(Relaxed))
        .sum();
    Measured {
        events_per_second: events as f64 / report.elapsed.as_secs_f64(),
        operator_nanos_per_event: busy as f64 / events as f64,
    }
}

fn main() {
    let full: u64 = std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(10_000_000);
    // The source and the sink share one thread; the operator chain has its own.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let loader = weir_tests::loader(&dir.path().join("cache"));
    let dead_letters = dir.path().join("dead.jsonl");

    println!("boundary benchmark: generator -> filter -> map -> discard, one chain thread");
    println!(
        "{:<8} {:>6} {:>11} | {:>12} {:>12} {:>6} | {:>11} {:>11} {:>6}",
        "workload",
        "batch",
        "events",
        "wasm ev/s",
        "native ev/s",
        "ratio",
        "wasm ns/ev",
        "native ns/ev",
        "ratio"
    );
    let only = std::env::var("WEIR_BENCH_ONLY").unwrap_or_default();
    for shape in [Shape::Compact, Shape::Json] {
        for batch_size in [1usize, 64, 1024] {
            let case = format!("{}-{batch_size}", format!("{shape:?}").to_lowercase());
            if !only.is_empty() && !only.split(',').any(|wanted| wanted == case) {
                continue;
            }
            let events = if batch_size == 1 { full / 10 } else { full };
            // Warm up (and fill the compile cache) on a small run of each.
            for implementation in [Implementation::Wasm, Implementation::Native] {
                run_case(
                    &runtime,
                    &loader,
                    implementation,
                    shape,
                    batch_size,
                    events.min(100_000) / 10,
                    &dead_letters,
                );
            }
            let wasm = run_case(
                &runtime,
                &loader,
                Implementation::Wasm,
                shape,
                batch_size,
                events,
                &dead_letters,
            );
            let native = run_case(
                &runtime,
                &loader,
                Implementation::Native,
                shape,
                batch_size,
                events,
                &dead_letters,
            );
            println!(
                "{:<8} {:>6} {:>11} | {:>12.0} {:>12.0} {:>6.2} | {:>11.1} {:>11.1} {:>6.2}",
                format!("{shape:?}").to_lowercase(),
                batch_size,
                events,
                wasm.events_per_second,
                native.events_per_second,
                native.events_per_second / wasm.events_per_second,
                wasm.operator_nanos_per_event,
                native.operator_nanos_per_event,
                wasm.operator_nanos_per_event / native.operator_nanos_per_event,
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    println!("ratios: native/wasm for throughput, wasm/native for time (higher = Wasm slower)");
}
