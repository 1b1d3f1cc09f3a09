//! Swaps that carry state over, under load: a window aggregate (`rolling-stats`) whose
//! accumulators stay in the host, and an ONNX model swapped at a barrier in the
//! operators granted it.

use std::path::Path;

use weir_host::deploy::{DeployError, PluginName, RollbackPolicy, VersionStatus};
use weir_host::model::OnnxModel;
use weir_tests::models::{model_path, run_native};
use weir_tests::{plugin, read_json_lines};

use super::{generated_pipeline, start};

/// `component` with a custom section appended: another content hash, the same code,
/// so the same accumulators and results (a "second build" for a stateful swap).
fn with_custom_section(component: &[u8], note: &str) -> Vec<u8> {
    fn leb128(mut value: usize, out: &mut Vec<u8>) {
        loop {
            let byte = (value & 0x7f) as u8;
            value >>= 7;
            if value == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    let mut payload = Vec::new();
    leb128("weir-test".len(), &mut payload);
    payload.extend_from_slice(b"weir-test");
    payload.extend_from_slice(note.as_bytes());
    let mut bytes = component.to_vec();
    bytes.push(0); // custom section
    leb128(payload.len(), &mut bytes);
    bytes.extend_from_slice(&payload);
    bytes
}

/// Generated events through a tumbling window of `rolling-stats` keyed by card.
fn window_pipeline_text(count: u64, rate: u64) -> String {
    let operator = format!(
        r#"[[operator]]
name = "stats"
plugin = "{}"
key_by = "card"
parallelism = 2
settings = {{ field = "amount" }}
[operator.window]
type = "tumbling"
size_ms = 200"#,
        plugin("rolling-stats").display()
    );
    let event_time =
        "keys = 40\nstep_ms = 1\ndisorder_ms = 30\n[source.event_time]\nwatermark_delay_ms = 50";
    generated_pipeline("window-swap", count, rate, event_time, &operator)
}

/// The lines of `dir/out.jsonl`, sorted (two subtasks interleave their results).
fn sorted_output(dir: &Path) -> anyhow::Result<Vec<String>> {
    let mut lines: Vec<String> = std::fs::read_to_string(dir.join("out.jsonl"))?
        .lines()
        .map(str::to_owned)
        .collect();
    lines.sort_unstable();
    Ok(lines)
}

/// A window aggregate swapped 20 times under load keeps its accumulators: the window
/// results are exactly those of a run without swaps (an event lost or counted twice
/// would change a count or a sum), and the operator ends on the version last deployed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn window_aggregates_swap_with_their_accumulators_kept() -> anyhow::Result<()> {
    let (count, rate) = (60_000, 20_000);
    let text = window_pipeline_text(count, rate);
    let unswapped = tempfile::tempdir()?;
    start(unswapped.path(), &text, RollbackPolicy::default())
        .await?
        .finish()
        .await?;
    let expected = sorted_output(unswapped.path())?;
    assert!(expected.len() > 1000, "{} window results", expected.len());

    let dir = tempfile::tempdir()?;
    let running = start(dir.path(), &text, RollbackPolicy::default()).await?;
    let name = PluginName::parse("rolling-stats").map_err(anyhow::Error::msg)?;
    let original = std::fs::read(plugin("rolling-stats"))?;
    let builds = [with_custom_section(&original, "b"), original];
    let (mut last_barrier, mut last_events_before) = (0, 0);
    for round in 0..20 {
        let bytes = builds[round % 2].clone();
        let hash = weir_host::plugin::cache::content_hash(&bytes);
        let report = running.deployer.deploy(&name, bytes, "api").await?;
        assert_eq!(report.outcome, "swapped", "round {round}: {report:?}");
        assert_eq!(report.hash, hash);
        assert_eq!(report.operators.len(), 1, "{report:?}");
        let barrier = report.operators[0].barrier;
        assert!(barrier > last_barrier, "round {round}: barrier {barrier}");
        last_barrier = barrier;
        last_events_before = report.operators[0].events_before;
        assert_eq!(running.deployer.status()[0].hash, hash);
    }
    let deployer = running.deployer.clone();
    let report = running.finish().await?;
    assert_eq!(
        report
            .stats
            .events_read
            .load(std::sync::atomic::Ordering::Relaxed),
        count
    );
    // Events in, one series per build, adding up to every event.
    let metrics = weir_host::deploy::metrics::render(&deployer);
    let series: Vec<u64> = metrics
        .lines()
        .filter(|line| line.starts_with("weir_operator_events_in_total{operator=\"stats\""))
        .map(|line| {
            line.rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("a count")
        })
        .collect();
    assert_eq!(series.len(), 2, "{metrics}");
    assert_eq!(series.iter().sum::<u64>(), count, "{metrics}");
    assert!(
        last_events_before < count,
        "the last swap came after the input ({last_events_before} events)"
    );
    assert_eq!(sorted_output(dir.path())?, expected);
    assert_eq!(std::fs::read_to_string(dir.path().join("dead.jsonl"))?, "");
    Ok(())
}

/// Generated events scored by `model-score` with model `fraud` (at first
/// `logistic.onnx`) on nine copies of their amount.
fn model_pipeline_text(count: u64, rate: u64) -> String {
    let operator = format!(
        r#"[[operator]]
name = "score"
plugin = "{}"
models = {{ fraud = "{}" }}
settings = {{ model = "fraud", features = {features:?} }}"#,
        plugin("model-score").display(),
        model_path("logistic").display(),
        features = ["amount"; 9],
    );
    generated_pipeline("model-swap", count, rate, "", &operator)
}

/// The score of each row by `model` natively: the last column of its first output.
fn native_scores(model: &str, rows: &[Vec<f32>]) -> Vec<f64> {
    let model = OnnxModel::load(&model_path(model)).expect("a shipped model");
    let output = run_native(&model, rows);
    let columns = output.len() / rows.len();
    output.chunks(columns).map(|row| row[columns - 1]).collect()
}

/// A new model for a granted name, deployed under load, takes over at a barrier:
/// every event is scored once, by the old model before the barrier and by the new
/// one after it. A model the host cannot run, and a name nobody is granted, are
/// refused and the running model keeps scoring.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_model_swaps_at_a_barrier_and_scores_every_event_once() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let count = 40_000;
    let running = start(
        dir.path(),
        &model_pipeline_text(count, 20_000),
        RollbackPolicy::default(),
    )
    .await?;
    let fraud = PluginName::parse("fraud").map_err(anyhow::Error::msg)?;
    let refused = running
        .deployer
        .deploy_model(
            &fraud,
            std::fs::read(model_path("unsupported-scaler"))?,
            "api",
        )
        .await
        .expect_err("a model with an ONNX-ML Scaler");
    assert!(
        matches!(&refused, DeployError::ModelRejected { message, .. } if message.contains("Scaler")),
        "{refused}"
    );
    let mlp = std::fs::read(model_path("mlp"))?;
    let nobody = running
        .deployer
        .deploy_model(
            &PluginName::parse("nobody").map_err(anyhow::Error::msg)?,
            mlp.clone(),
            "api",
        )
        .await
        .expect_err("no operator is granted `nobody`");
    assert!(matches!(nobody, DeployError::NotGranted(_)), "{nobody}");

    let mlp_hash = weir_host::plugin::cache::content_hash(&mlp);
    let report = running.deployer.deploy_model(&fraud, mlp, "api").await?;
    assert_eq!(report.outcome, "swapped", "{report:?}");
    let events_before = report.operators[0].events_before;
    assert!(events_before < count, "swapped while the stream ran");
    let status = running.deployer.status();
    assert_eq!(status[0].models, [("fraud".to_owned(), mlp_hash.clone())]);
    let index = running.deployer.model_registry().index(&fraud)?;
    assert_eq!(index.active.as_deref(), Some(mlp_hash.as_str()));
    assert_eq!(
        index.versions.iter().map(|v| v.status).collect::<Vec<_>>(),
        [VersionStatus::Rejected, VersionStatus::Accepted]
    );
    running.finish().await?;

    let mut scored: Vec<(u64, f32, f64)> = read_json_lines(&dir.path().join("out.jsonl"))
        .iter()
        .map(|event| {
            let id = event["id"].as_u64().expect("an id");
            let amount = event["amount"].as_f64().expect("an amount") as f32;
            (id, amount, event["score"].as_f64().expect("a score"))
        })
        .collect();
    scored.sort_by_key(|(id, ..)| *id);
    let ids: Vec<u64> = scored.iter().map(|(id, ..)| *id).collect();
    assert_eq!(
        ids,
        (0..count).collect::<Vec<_>>(),
        "every event exactly once"
    );
    let rows: Vec<Vec<f32>> = scored
        .iter()
        .map(|(_, amount, _)| vec![*amount; 9])
        .collect();
    let (old, new) = (
        native_scores("logistic", &rows),
        native_scores("mlp", &rows),
    );
    let mut told_apart = 0;
    for (index, (id, _, score)) in scored.iter().enumerate() {
        let (expected, other) = if *id < events_before {
            (old[index], new[index])
        } else {
            (new[index], old[index])
        };
        assert!(
            (score - expected).abs() <= 1e-5,
            "event {id} (swap after {events_before}): {score} vs {expected}"
        );
        told_apart += usize::from((expected - other).abs() > 1e-3);
    }
    assert!(
        told_apart > scored.len() * 9 / 10,
        "the two models score differently ({told_apart} of {})",
        scored.len()
    );
    assert_eq!(std::fs::read_to_string(dir.path().join("dead.jsonl"))?, "");
    Ok(())
}
