//! The models benchmark (issue 7, Speed), each figure beside its native-Rust baseline
//! measured in the same run:
//!
//! - **ONNX scoring**: the logistic regression of `examples/models/logistic.onnx` (9
//!   features) through the `model-score` plugin, batches of 1,024 binary events (nine
//!   `f32`s in, the score out as an `f32`), one `compute` per batch; against the same
//!   model called natively from Rust by the same column-wise path (the batch's value
//!   column as the input tensor, one tract run, the scores as the output's value
//!   column). Goal: ≥ 2 M events/s on one core, ≤ 1.5× native.
//! - **Online learner**: `online-learner` (standard scaler + logistic regression, 9
//!   features, predict then learn every event) run by the keyed operator with its model
//!   in the host's state (memory backend), one global model (`$all`), batches of
//!   1,024; against `weir_sdk::learn` called natively on the same rows with the model
//!   in a local variable. Goal: ≥ 2 M samples/s on one core.
//!
//! Run: `cargo bench --workspace --bench models` (`WEIR_BENCH_EVENTS=200000` for a
//! quicker run; default 2 M events per case; `WEIR_BENCH_CASE=onnx` or `learner` for one
//! case, e.g. under `perf` with `WEIR_WASM_PERF_MAP=1`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use weir_host::batch::Batch;
use weir_host::model::{ElementType, ModelLibrary, ModelTensor};
use weir_host::plugin::{PluginLimits, PluginSpec};
use weir_host::runtime::keyed_operator::KeyedWasmOperator;
use weir_host::runtime::keyed_store::OperatorState;
use weir_host::runtime::operator::{Emitted, Operator};
use weir_host::runtime::stats::OperatorStats;
use weir_host::state::{DEFAULT_MAX_KEY_GROUPS, MemoryBackend};
use weir_sdk::learn::{LogisticRegression, StandardScaler};
use weir_tests::{loader, plugin, repo_file};

const BATCH: usize = 1_024;
const FEATURES: usize = 9;

fn events() -> usize {
    std::env::var("WEIR_BENCH_EVENTS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(2_000_000)
}

/// Deterministic feature rows in [0, 1] with a label that depends on them.
fn rows(count: usize) -> Vec<([f64; FEATURES], f64)> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1_u64 << 53) as f64
    };
    (0..count)
        .map(|_| {
            let mut row = [0.0; FEATURES];
            for value in &mut row {
                *value = next();
            }
            let label = f64::from(row[0] + row[1] > 1.0 + 0.2 * (next() - 0.5));
            (row, label)
        })
        .collect()
}

/// Events per second of `run` over `batches`, the best of three passes.
fn rate(batches: usize, mut run: impl FnMut(usize)) -> f64 {
    let mut best = Duration::MAX;
    for _ in 0..3 {
        let started = Instant::now();
        for index in 0..batches {
            run(index);
        }
        best = best.min(started.elapsed());
    }
    (batches * BATCH) as f64 / best.as_secs_f64()
}

fn scoring_batches(count: usize) -> Vec<Batch> {
    rows(count)
        .chunks(BATCH)
        .map(|chunk| {
            let mut batch = Batch::with_capacity(BATCH, BATCH * FEATURES * 4);
            for (index, (row, _)) in chunk.iter().enumerate() {
                let value: Vec<u8> = row
                    .iter()
                    .flat_map(|value| (*value as f32).to_le_bytes())
                    .collect();
                batch.push(None, &value, index as i64);
            }
            batch
        })
        .collect()
}

/// ONNX scoring: (Wasm events/s, native events/s).
fn onnx_scoring(count: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let model_path = repo_file("examples/models/logistic.onnx");
    let library = ModelLibrary::new();
    let grants = library
        .grants([(&"model".to_owned(), &model_path)])
        .expect("the model loads");
    let model = Arc::clone(grants.get("model").expect("granted"));
    let spec = PluginSpec {
        operator: "score".into(),
        path: plugin("model-score"),
        settings_json: r#"{"columns":9}"#.into(),
        limits: PluginLimits::default(),
    };
    let mut instance = loader(dir.path())
        .load_with_models(spec, grants)
        .expect("loads")
        .instantiate(0)
        .expect("instance");
    let mut batches = scoring_batches(count);
    let wasm = rate(batches.len(), |index| {
        let batch = std::mem::take(&mut batches[index]);
        let (batch, result) = instance.process(batch);
        let outputs = result.expect("scored");
        assert_eq!(outputs.main.len(), batch.len());
        batches[index] = batch;
    });

    let mut session = model.session().expect("session");
    let mut features = Vec::with_capacity(BATCH * FEATURES * 4);
    let native = rate(batches.len(), |index| {
        let batch = &batches[index];
        // The same column-wise path as `model-score`: the value column is the tensor.
        features.clear();
        features.extend_from_slice(
            batch
                .fixed_width_values(FEATURES * 4)
                .expect("binary features"),
        );
        let tensor = ModelTensor {
            dims: vec![batch.len() as u32, FEATURES as u32],
            ty: ElementType::F32,
            data: std::mem::take(&mut features),
        };
        let input = tensor.to_tract().expect("tensor");
        features = tensor.data;
        let outputs = session.run(vec![input]).expect("runs");
        // The scores as little-endian f32 bytes, as the inference interface hands them.
        let scores = ModelTensor::from_tract(&outputs[0]).expect("f32 scores");
        let mut out = Batch::with_capacity(batch.len(), batch.len() * 4);
        out.extend_with_values(batch, &scores.data, 4);
        assert_eq!(out.len(), batch.len());
    });
    (wasm, native)
}

/// The online learner: (Wasm samples/s with state in the host, native samples/s).
fn online_learner(count: usize) -> (f64, f64) {
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = r#"{"columns":9,"learning_rate":0.01,"auc":false,"metrics_every":0}"#;
    let loaded = loader(dir.path())
        .load(PluginSpec {
            operator: "learn".into(),
            path: plugin("online-learner"),
            settings_json: settings.into(),
            limits: PluginLimits::default(),
        })
        .expect("loads");
    let state = OperatorState::restore(Box::new(MemoryBackend::new()), 0..DEFAULT_MAX_KEY_GROUPS)
        .expect("empty state");
    let stats = Arc::new(OperatorStats::new("learn", &loaded.identity().to_string()));
    let mut operator = KeyedWasmOperator::new(loaded, 0, DEFAULT_MAX_KEY_GROUPS, state, stats)
        .expect("the operator starts");
    let data = rows(count);
    let mut batches: Vec<Batch> = data
        .chunks(BATCH)
        .map(|chunk| {
            let mut batch = Batch::with_capacity(BATCH, BATCH * (FEATURES + 1) * 8);
            for (index, (row, label)) in chunk.iter().enumerate() {
                let mut value = Vec::with_capacity((FEATURES + 1) * 8);
                for feature in row.iter().chain(std::iter::once(label)) {
                    value.extend_from_slice(&feature.to_le_bytes());
                }
                batch.push(Some(b"all"), &value, index as i64);
            }
            batch
        })
        .collect();
    let mut out = Emitted::default();
    let wasm = rate(batches.len(), |index| {
        let batch = batches[index].clone();
        operator.process(batch, &mut out).expect("processed");
        assert_eq!(out.main.len(), BATCH);
        out = Emitted::default();
    });
    batches.clear();

    let mut scaler = StandardScaler::new(FEATURES);
    let mut model = LogisticRegression::new(FEATURES, 0.01);
    let native = rate(data.len() / BATCH, |index| {
        let mut scaled = [0.0; FEATURES];
        let mut predictions = Vec::with_capacity(BATCH);
        for (row, label) in &data[index * BATCH..(index + 1) * BATCH] {
            scaler.transform(row, &mut scaled);
            predictions.push(model.predict_proba(&scaled));
            scaler.learn(row);
            scaler.transform(row, &mut scaled);
            model.learn(&scaled, *label > 0.5);
        }
        std::hint::black_box(predictions);
    });
    (wasm, native)
}

fn main() {
    let count = events() / BATCH * BATCH;
    println!("models benchmark: {count} events per case, batches of {BATCH}, one core");
    let case = std::env::var("WEIR_BENCH_CASE").unwrap_or_default();
    let runs = |name: &str| case.is_empty() || case == name;
    if runs("onnx") {
        let (wasm, native) = onnx_scoring(count);
        println!(
            "onnx logistic regression  wasm {:>7.2} M events/s   native {:>7.2} M events/s   wasm/native time {:.2}x   (goal >= 2 M/s, <= 1.5x)",
            wasm / 1e6,
            native / 1e6,
            native / wasm
        );
    }
    if runs("learner") {
        let (wasm, native) = online_learner(count);
        println!(
            "online learner (9 feat.)  wasm {:>7.2} M samples/s  native {:>7.2} M samples/s  wasm/native time {:.2}x   (goal >= 2 M/s)",
            wasm / 1e6,
            native / 1e6,
            native / wasm
        );
    }
    println!("peak RSS {:.0} MiB", weir_tests::peak_rss_mib());
}
