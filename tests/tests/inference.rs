//! ONNX inference for plugins: the shipped models against onnxruntime's outputs (stored
//! in `examples/models/reference/`, made by `examples/models/make_models.py`), natively
//! and through the `model-score` plugin, one event at a time and batched; grants per
//! operator; models the host cannot run refused at load, naming the operation.

use std::path::Path;

use weir_host::batch::Batch;
use weir_host::model::{ModelError, ModelGrants, ModelLibrary, OnnxModel};
use weir_host::plugin::{PluginError, PluginLimits, PluginSpec};
use weir_tests::models::{f32s, model_path, run_native};
use weir_tests::{loader, plugin, read_json_lines, repo_file, run_pipeline};

const TOLERANCE: f64 = 1e-5;

/// A reference file: the input rows and, per output, onnxruntime's rows.
struct Reference {
    inputs: Vec<Vec<f32>>,
    outputs: Vec<(String, Vec<Vec<f64>>)>,
}

fn reference(model: &str) -> Reference {
    let path = repo_file(&format!("examples/models/reference/{model}.json"));
    let text = std::fs::read_to_string(&path).expect("reference file");
    let document: serde_json::Value = serde_json::from_str(&text).expect("reference JSON");
    let rows = |value: &serde_json::Value| -> Vec<Vec<f64>> {
        value
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                row.as_array()
                    .expect("row")
                    .iter()
                    .map(|cell| cell.as_f64().expect("number"))
                    .collect()
            })
            .collect()
    };
    Reference {
        inputs: rows(&document["inputs"])
            .into_iter()
            .map(|row| row.into_iter().map(|cell| cell as f32).collect())
            .collect(),
        outputs: document["outputs"]
            .as_object()
            .expect("outputs")
            .iter()
            .map(|(name, value)| (name.clone(), rows(value)))
            .collect(),
    }
}

fn assert_close(actual: &[f64], expected: &[f64], what: &str) {
    assert_eq!(actual.len(), expected.len(), "{what}: lengths");
    for (index, (a, e)) in actual.iter().zip(expected).enumerate() {
        assert!(
            (a - e).abs() <= TOLERANCE,
            "{what}: element {index}: {a} vs onnxruntime's {e}"
        );
    }
}

#[test]
fn each_shipped_model_matches_onnxruntime_natively_batched_and_one_row_at_a_time() {
    for name in ["logistic", "mlp"] {
        let model = OnnxModel::load(&model_path(name)).expect("the model loads");
        let reference = reference(name);
        let (output, expected) = &reference.outputs[0];
        assert_eq!(model.outputs()[0], *output);
        assert_eq!(model.inputs()[0].name, "features");
        let flat: Vec<f64> = expected.iter().flatten().copied().collect();
        assert_close(&run_native(&model, &reference.inputs), &flat, name);
        for (row, expected_row) in reference.inputs.iter().zip(expected) {
            assert_close(
                &run_native(&model, std::slice::from_ref(row)),
                expected_row,
                &format!("{name}, one row"),
            );
        }
    }
}

#[test]
fn a_model_with_an_operation_the_host_cannot_run_is_refused_naming_it() {
    let error = OnnxModel::load(&model_path("unsupported-scaler")).expect_err("refused");
    let ModelError::Unsupported { op, node, .. } = &error else {
        panic!("expected an unsupported operation, got {error}");
    };
    assert_eq!((op.as_str(), node.as_str()), ("Scaler", "scale"));
    let message = error.to_string();
    assert!(message.contains("`Scaler`"), "{message}");
    assert!(message.contains("StandardScaler"), "the advice: {message}");
    let garbage = OnnxModel::from_bytes(Path::new("garbage.onnx"), b"not a model");
    assert!(
        matches!(garbage, Err(ModelError::NotOnnx { .. })),
        "{garbage:?}"
    );
}

#[test]
fn a_file_granted_twice_is_loaded_once() {
    let library = ModelLibrary::new();
    let first = library.load(&model_path("logistic")).expect("loads");
    let second = library.load(&model_path("logistic")).expect("loads");
    assert!(std::sync::Arc::ptr_eq(&first, &second));
    assert_eq!(first.content_hash().len(), 64);
}

/// The `model-score` plugin on binary events (nine `f32`s each), granted `name`.
fn scoring_instance(model: &str) -> weir_host::plugin::PluginInstance {
    scoring_instance_with(model, r#"{"model":"scoring","columns":9}"#)
}

/// As [`scoring_instance`], with settings `settings_json`.
fn scoring_instance_with(model: &str, settings_json: &str) -> weir_host::plugin::PluginInstance {
    let dir = tempfile::tempdir().expect("temp dir");
    let library = ModelLibrary::new();
    let path = model_path(model);
    let grants = library
        .grants([(&"scoring".to_owned(), &path)])
        .expect("the model loads");
    let spec = PluginSpec {
        operator: "score".into(),
        path: plugin("model-score"),
        settings_json: settings_json.into(),
        limits: PluginLimits::default(),
    };
    loader(dir.path())
        .load_with_models(spec, grants)
        .expect("the plugin loads")
        .instantiate(0)
        .expect("an instance")
}

fn binary_batch(rows: &[Vec<f32>]) -> Batch {
    let mut batch = Batch::default();
    for (index, row) in rows.iter().enumerate() {
        let value: Vec<u8> = row.iter().flat_map(|value| value.to_le_bytes()).collect();
        batch.push(None, &value, index as i64);
    }
    batch
}

fn scores(outputs: &Batch) -> Vec<f64> {
    outputs.iter().flat_map(|event| f32s(event.value)).collect()
}

#[test]
fn the_scoring_plugin_matches_onnxruntime_batched_and_one_event_per_call() {
    for name in ["logistic", "mlp"] {
        let reference = reference(name);
        let last_column: Vec<f64> = reference.outputs[0]
            .1
            .iter()
            .map(|row| *row.last().expect("a column"))
            .collect();
        let mut instance = scoring_instance(name);
        let (_, result) = instance.process(binary_batch(&reference.inputs));
        let outputs = result.expect("the batch is scored");
        assert_close(
            &scores(&outputs.main),
            &last_column,
            &format!("{name} batched"),
        );
        let mut one_by_one = Vec::new();
        for row in &reference.inputs {
            let (_, result) = instance.process(binary_batch(std::slice::from_ref(row)));
            one_by_one.extend(scores(&result.expect("scored").main));
        }
        assert_close(&one_by_one, &last_column, &format!("{name} one by one"));
    }
}

/// A batch whose values all hold nine features is scored column-wise, one with a
/// malformed event event by event: both keep keys and times and raise the same alerts.
#[test]
fn whole_batch_and_event_by_event_scoring_agree_alerts_included() {
    let reference = reference("logistic");
    let mut instance = scoring_instance_with(
        "logistic",
        r#"{"model":"scoring","columns":9,"threshold":0.5}"#,
    );
    let mut whole = Batch::default();
    for (index, row) in reference.inputs.iter().enumerate() {
        let value: Vec<u8> = row.iter().flat_map(|value| value.to_le_bytes()).collect();
        let key = format!("k{index}");
        let key = (index % 3 != 0).then_some(key.as_bytes());
        whole.push(key, &value, 100 + index as i64);
        if index % 5 == 0 {
            whole.push_header("trace", b"t");
        }
    }
    let mut mixed = whole.clone();
    mixed.push(Some(b"bad"), b"short", 999);
    let (_, column_wise) = instance.process(whole);
    let column_wise = column_wise.expect("scored");
    let (_, event_wise) = instance.process(mixed);
    let event_wise = event_wise.expect("scored");
    assert_eq!(event_wise.rejected.len(), 1);
    assert_eq!(column_wise.main, event_wise.main);
    assert_eq!(column_wise.named, event_wise.named);
    let alerts = &column_wise.named[0].1;
    let expected = reference.outputs[0]
        .1
        .iter()
        .filter(|row| row[0] >= 0.5)
        .count();
    assert!(
        expected > 0 && expected < reference.inputs.len(),
        "{expected} alerts"
    );
    assert_eq!(alerts.len(), expected);
    assert_eq!(column_wise.main.len(), reference.inputs.len());
    let first = column_wise.main.event(1);
    assert_eq!((first.key, first.timestamp), (Some(&b"k1"[..]), 101));
}

#[test]
fn a_malformed_event_is_rejected_and_the_rest_of_its_batch_scored() {
    let reference = reference("logistic");
    let mut instance = scoring_instance("logistic");
    let mut batch = binary_batch(&reference.inputs[..2]);
    batch.push(None, b"short", 2);
    let (_, result) = instance.process(batch);
    let outputs = result.expect("the batch is scored");
    assert_eq!(outputs.main.len(), 2);
    assert_eq!(outputs.rejected.len(), 1);
    assert_eq!(outputs.rejected[0].0, 2);
    assert!(
        outputs.rejected[0].1.contains("expected 9"),
        "{:?}",
        outputs.rejected
    );
}

#[test]
fn a_plugin_cannot_load_a_model_that_was_not_granted_to_its_operator() {
    let dir = tempfile::tempdir().expect("temp dir");
    let logistic = model_path("logistic");
    let library = ModelLibrary::new();
    // Granted to nobody.
    let spec = PluginSpec {
        operator: "other".into(),
        path: plugin("model-score"),
        settings_json: r#"{"model":"fraud","columns":9}"#.into(),
        limits: PluginLimits::default(),
    };
    let error = loader(dir.path())
        .load_with_models(spec.clone(), ModelGrants::none())
        .expect_err("refused");
    let message = error.to_string();
    assert!(matches!(error, PluginError::Init { .. }), "{message}");
    assert!(
        message.contains("no model `fraud` is granted to operator `other`"),
        "{message}"
    );
    // Granted under another name: still not `fraud`.
    let grants = library
        .grants([(&"scoring".to_owned(), &logistic)])
        .expect("loads");
    let message = loader(dir.path())
        .load_with_models(spec, grants)
        .expect_err("refused")
        .to_string();
    assert!(message.contains("(granted: scoring)"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_grants_a_model_to_one_operator_and_not_to_the_next() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pipeline = |second_grants: &str| {
        format!(
            r#"
[source]
type = "file"
path = "{input}"
[[operator]]
name = "first"
plugin = "{{plugins}}/model_score.wasm"
models = {{ fraud = "{model}" }}
settings = {{ model = "fraud", features = ["a", "b", "c", "d", "e", "f", "g", "h", "i"] }}
[[operator]]
name = "second"
plugin = "{{plugins}}/model_score.wasm"
{second_grants}
settings = {{ model = "fraud", features = ["a", "b", "c", "d", "e", "f", "g", "h", "i"], field = "again" }}
[[sink]]
type = "file"
path = "{out}"
"#,
            input = dir.path().join("in.jsonl").display(),
            model = model_path("logistic").display(),
            out = dir.path().join("out.jsonl").display(),
        )
    };
    let reference = reference("logistic");
    let mut input = String::new();
    for row in &reference.inputs {
        let fields: Vec<String> = row
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h", "i"])
            .map(|(value, name)| format!("\"{name}\":{value}"))
            .collect();
        input.push_str(&format!("{{{}}}\n", fields.join(",")));
    }
    std::fs::write(dir.path().join("in.jsonl"), input).expect("input");

    let error = run_pipeline(dir.path(), &pipeline(""))
        .await
        .expect_err("the second operator was granted nothing");
    let message = format!("{error:#}");
    assert!(
        message.contains("no model `fraud` is granted to operator `second` (granted: none)"),
        "{message}"
    );

    let granted = format!(
        "models = {{ fraud = \"{}\" }}",
        model_path("logistic").display()
    );
    run_pipeline(dir.path(), &pipeline(&granted))
        .await
        .expect("runs");
    let scored = read_json_lines(&dir.path().join("out.jsonl"));
    assert_eq!(scored.len(), reference.inputs.len());
    for (line, expected) in scored.iter().zip(&reference.outputs[0].1) {
        let score = line["score"].as_f64().expect("score");
        assert!(
            (score - expected[0]).abs() <= TOLERANCE,
            "{line} vs {expected:?}"
        );
        assert_eq!(line["score"], line["again"], "one model, granted to both");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pipeline_with_an_unsupported_model_does_not_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("in.jsonl"), "{}\n").expect("input");
    let pipeline = format!(
        r#"
[source]
type = "file"
path = "{input}"
[[operator]]
name = "score"
plugin = "{{plugins}}/model_score.wasm"
models = {{ scaled = "{model}" }}
settings = {{ model = "scaled", features = ["a"] }}
[[sink]]
type = "discard"
"#,
        input = dir.path().join("in.jsonl").display(),
        model = model_path("unsupported-scaler").display(),
    );
    let message = format!(
        "{:#}",
        run_pipeline(dir.path(), &pipeline)
            .await
            .expect_err("refused")
    );
    assert!(
        message.contains("operator `score`: model `scaled`"),
        "{message}"
    );
    assert!(message.contains("`Scaler` (node `scale`)"), "{message}");
}
