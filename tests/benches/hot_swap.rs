//! The hot-swap benchmark: what a plugin swap costs a running stream.
//!
//! A paced source sends 100 K events/s (batches of 100 every millisecond), each value
//! holding its sequence number and the wall time it was sent; one operator runs
//! `version-tag`; a sink measures each event's end-to-end latency and checks that
//! every sequence number arrives exactly once. After a warm-up, latency is measured
//! for 2 s without swaps, then during 100 swaps alternating between the two builds
//! (`version-tag` a and b, through the [`Deployer`]: registry, validation off the hot
//! path, swap at a barrier injected between batches). Printed: the pause each swap
//! causes (the time the operator's thread stops its stream to switch, p50 / p99 /
//! max over the swaps), the e2e latency (p50 / p99 / max) before and during swaps,
//! and events lost or repeated. The native baseline is the same pipeline with the tag
//! appended by native Rust and no swaps.
//!
//! Run: `cargo bench --workspace --bench hot_swap`
//! (`WEIR_BENCH_SWAPS=20` for a quicker run; default 100).

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use weir_host::batch::Batch;
use weir_host::config::Route;
use weir_host::connector::file::FileDeadLetterSink;
use weir_host::connector::{ConnectorError, Sink, Source};
use weir_host::deploy::{Deployer, PluginName, Registry, RollbackPolicy};
use weir_host::plugin::{Plugin, PluginLimits, PluginLoader, PluginSpec};
use weir_host::runtime::dead_letter::DeadLetter;
use weir_host::runtime::operator::{Emitted, Operator, OperatorError};
use weir_host::runtime::pipeline::{OperatorFactory, OperatorSpec, Pipeline, RunOptions};
use weir_host::runtime::wasm_operator::WasmOperator;

const RATE: u64 = 100_000;
const BATCH: u64 = 100;

/// Sends `RATE` events per second until `stop`, each value `(sequence, sent ns)`.
struct PacedSource {
    origin: Instant,
    next: u64,
    stop: Arc<AtomicBool>,
}

#[async_trait]
impl Source for PacedSource {
    fn describe(&self) -> String {
        "paced".into()
    }

    async fn next_batch(
        &mut self,
        _max_events: usize,
        _dead_letters: &mut Vec<DeadLetter>,
    ) -> Result<Option<Batch>, ConnectorError> {
        if self.stop.load(Relaxed) {
            return Ok(None);
        }
        let due = self.origin + Duration::from_nanos(self.next * 1_000_000_000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        let mut batch = Batch::with_capacity(BATCH as usize, BATCH as usize * 16);
        let sent = self.origin.elapsed().as_nanos() as u64;
        for _ in 0..BATCH {
            let mut value = [0u8; 16];
            value[..8].copy_from_slice(&self.next.to_le_bytes());
            value[8..].copy_from_slice(&sent.to_le_bytes());
            batch.push(None, &value, 0);
            self.next += 1;
        }
        Ok(Some(batch))
    }
}

/// Latencies per phase (0: warm-up, 1: before swaps, 2: during swaps) and arrivals.
#[derive(Default)]
struct Recorder {
    latencies: [Vec<u64>; 3],
    seen: Vec<u8>,
}

struct LatencySink {
    origin: Instant,
    phase: Arc<AtomicU8>,
    recorder: Arc<Mutex<Recorder>>,
}

#[async_trait]
impl Sink for LatencySink {
    fn describe(&self) -> String {
        "latency".into()
    }

    async fn write(&mut self, batch: &Batch) -> Result<(), ConnectorError> {
        let now = self.origin.elapsed().as_nanos() as u64;
        let phase = self.phase.load(Relaxed) as usize;
        let mut recorder = self.recorder.lock().unwrap_or_else(|e| e.into_inner());
        for event in batch.iter() {
            let sequence = u64::from_le_bytes(event.value[..8].try_into().unwrap_or_default());
            let sent = u64::from_le_bytes(event.value[8..16].try_into().unwrap_or_default());
            recorder.latencies[phase].push(now.saturating_sub(sent));
            let index = sequence as usize;
            if recorder.seen.len() <= index {
                recorder.seen.resize(index + 1, 0);
            }
            recorder.seen[index] = recorder.seen[index].saturating_add(1);
        }
        Ok(())
    }

    async fn finish(&mut self) -> Result<(), ConnectorError> {
        Ok(())
    }
}

/// The tag appended natively: the baseline's operator.
struct NativeTag;

impl Operator for NativeTag {
    fn name(&self) -> &str {
        "tag"
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        let mut value = Vec::new();
        for event in batch.iter() {
            value.clear();
            value.extend_from_slice(event.value);
            value.extend_from_slice(b"|a");
            out.main.push_event_with_value(&event, &value);
        }
        Ok(())
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[rank] as f64 / 1e6
}

fn summary(values: &mut [u64]) -> String {
    values.sort_unstable();
    format!(
        "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} samples)",
        percentile(values, 0.5),
        percentile(values, 0.99),
        percentile(values, 1.0),
        values.len()
    )
}

struct Case {
    recorder: Arc<Mutex<Recorder>>,
    pauses: Vec<u64>,
}

fn run_case(
    runtime: &tokio::runtime::Runtime,
    loader: &PluginLoader,
    wasm: bool,
    swaps: usize,
) -> Case {
    let dir = tempfile::tempdir().expect("temporary directory");
    let origin = Instant::now();
    let stop = Arc::new(AtomicBool::new(false));
    let phase = Arc::new(AtomicU8::new(0));
    let recorder = Arc::new(Mutex::new(Recorder::default()));
    let spec = |path| PluginSpec {
        operator: "tag".into(),
        path,
        settings_json: "{}".into(),
        limits: PluginLimits::default(),
    };
    let plugin: Option<Plugin> = wasm.then(|| {
        loader
            .load(spec(weir_tests::plugin("version-tag")))
            .expect("version-tag loads")
    });
    let factory: OperatorFactory = match plugin.clone() {
        Some(plugin) => Box::new(move |subtask, stats| {
            Ok(
                Box::new(WasmOperator::new(plugin.clone(), subtask.index, stats)?)
                    as Box<dyn Operator>,
            )
        }),
        None => Box::new(|_, _| Ok(Box::new(NativeTag) as Box<dyn Operator>)),
    };
    let pipeline = Pipeline {
        name: "hot-swap".into(),
        batch_size: BATCH as usize,
        channel_capacity: 16,
        max_key_groups: weir_host::state::DEFAULT_MAX_KEY_GROUPS,
        source: Box::new(PacedSource {
            origin,
            next: 0,
            stop: stop.clone(),
        }),
        watermarks: weir_host::time::WatermarkSpec::default(),
        operators: vec![OperatorSpec {
            name: "tag".into(),
            plugin: "version-tag".into(),
            parallelism: 1,
            key_by: None,
            outputs: Vec::new(),
            factory,
        }],
        sinks: vec![(
            Route::Main,
            Box::new(LatencySink {
                origin,
                phase: phase.clone(),
                recorder: recorder.clone(),
            }),
        )],
        dead_letters: Box::new(
            runtime
                .block_on(FileDeadLetterSink::create(&dir.path().join("dead.jsonl")))
                .expect("dead-letter file"),
        ),
    };
    let deployer = Deployer::for_pipeline(
        &pipeline,
        &[plugin],
        Registry::new(dir.path().join("registry")),
        loader.clone(),
        RollbackPolicy::default(),
    );
    let board = deployer.board().clone();
    // The pipeline's future is not `Send`: it runs on a thread and runtime of its own.
    let run = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime");
        runtime.block_on(pipeline.run_swappable(RunOptions::default(), None, board))
    });
    let pauses = runtime.block_on(async move {
        tokio::time::sleep(Duration::from_secs(1)).await;
        phase.store(1, Relaxed);
        tokio::time::sleep(Duration::from_secs(2)).await;
        phase.store(2, Relaxed);
        let mut pauses = Vec::new();
        let name = PluginName::parse("version-tag").expect("a name");
        let builds = [
            std::fs::read(weir_tests::plugin("version-tag-b")).expect("build b"),
            std::fs::read(weir_tests::plugin("version-tag")).expect("build a"),
        ];
        for round in 0..swaps {
            let report = deployer
                .deploy(&name, builds[round % 2].clone(), "bench")
                .await
                .expect("the swap succeeds");
            pauses.push(report.operators[0].pause_us * 1000);
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        if swaps == 0 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        stop.store(true, Relaxed);
        pauses
    });
    run.join().expect("joined").expect("the pipeline runs");
    Case { recorder, pauses }
}

fn main() {
    let swaps: usize = std::env::var("WEIR_BENCH_SWAPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let cache = tempfile::tempdir().expect("cache directory");
    let loader = weir_tests::loader(cache.path());
    println!(
        "hot swap under {} K events/s, batches of {BATCH}, {swaps} swaps",
        RATE / 1000
    );
    for (label, wasm, swaps) in [("native, no swaps", false, 0), ("wasm, swaps", true, swaps)] {
        let mut case = run_case(&runtime, &loader, wasm, swaps);
        let mut recorder = case.recorder.lock().unwrap_or_else(|e| e.into_inner());
        let lost = recorder.seen.iter().filter(|count| **count == 0).count();
        let repeated = recorder.seen.iter().filter(|count| **count > 1).count();
        println!(
            "{label}: {} events, {lost} lost, {repeated} repeated",
            recorder.seen.len()
        );
        println!(
            "  e2e latency before swaps: {}",
            summary(&mut recorder.latencies[1])
        );
        if wasm {
            println!(
                "  e2e latency during swaps: {}",
                summary(&mut recorder.latencies[2])
            );
            println!(
                "  swap pause ({} swaps): {}",
                case.pauses.len(),
                summary(&mut case.pauses)
            );
        }
        assert_eq!((lost, repeated), (0, 0), "every event exactly once");
    }
    println!("peak RSS {:.0} MiB", weir_tests::peak_rss_mib());
}
