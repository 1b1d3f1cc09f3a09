//! The online learner (`plugins/online-learner`) through the real host: on
//! `examples/data/phishing.csv` in row order it must give, step by step, the
//! probabilities of the reference made from the written semantics
//! (`examples/online-learning/make_reference.py`, to 1e-9) and river's figures
//! (accuracy 0.8928, exact ROC AUC 0.95335 at learning rate 0.01).

use std::path::Path;

use weir_tests::{read_json_lines, repo_file, run_pipeline};

/// The probabilities of a reference file, by step.
fn reference(name: &str) -> Vec<f64> {
    let path = repo_file(&format!("examples/online-learning/reference/{name}"));
    std::fs::read_to_string(&path)
        .expect("reference file")
        .lines()
        .skip(1)
        .map(|line| {
            let (_, probability) = line.split_once(',').expect("step,probability");
            probability.parse().expect("a number")
        })
        .collect()
}

/// The phishing pipeline: one global model (`key_by = "$all"`), predictions and
/// metrics to files in `dir`.
fn phishing_pipeline(dir: &Path, learning_rate: f64, extra: &str) -> String {
    format!(
        r#"
name = "phishing"
[source]
type = "file"
path = "{data}"
[[operator]]
name = "learn"
plugin = "{{plugins}}/online_learner.wasm"
key_by = "$all"
settings = {{ features = ["empty_server_form_handler", "popup_window", "https", "request_from_other_domain", "anchor_from_other_domain", "is_popular", "long_url", "age_of_domain", "ip_in_url"], label = "label", learning_rate = {learning_rate}, metrics_every = 250 }}
[[sink]]
type = "file"
path = "{predictions}"
[[sink]]
type = "file"
path = "{metrics}"
from = "learn.metrics"
{extra}
"#,
        data = repo_file("examples/data/phishing.csv").display(),
        predictions = dir.join("predictions.jsonl").display(),
        metrics = dir.join("metrics.jsonl").display(),
    )
}

fn check_steps(predictions: &[serde_json::Value], expected: &[f64]) {
    assert_eq!(predictions.len(), expected.len());
    for (step, (line, expected)) in predictions.iter().zip(expected).enumerate() {
        assert_eq!(line["n"], step, "{line}");
        let probability = line["prediction"].as_f64().expect("prediction");
        assert!(
            (probability - expected).abs() <= 1e-9,
            "step {step}: {probability} vs the reference's {expected}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_learner_reproduces_the_phishing_figures_step_by_step() {
    for (rate, file, accuracy, auc) in [
        (0.01, "phishing-lr0.01.csv", 0.8928, 0.95335),
        (0.1, "phishing-lr0.1.csv", 0.8896, 0.95780),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        run_pipeline(dir.path(), &phishing_pipeline(dir.path(), rate, ""))
            .await
            .expect("the pipeline runs");
        let predictions = read_json_lines(&dir.path().join("predictions.jsonl"));
        check_steps(&predictions, &reference(file));
        let metrics = read_json_lines(&dir.path().join("metrics.jsonl"));
        let counts: Vec<u64> = metrics
            .iter()
            .map(|line| line["n"].as_u64().expect("n"))
            .collect();
        assert_eq!(counts, [250, 500, 750, 1000, 1250]);
        let last = metrics.last().expect("metrics");
        let rounded = |value: &serde_json::Value, places: i32| {
            let scale = 10_f64.powi(places);
            (value.as_f64().expect("a number") * scale).round() / scale
        };
        assert_eq!(rounded(&last["accuracy"], 4), accuracy, "{last}");
        assert_eq!(rounded(&last["roc_auc"], 5), auc, "{last}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_model_per_key_learns_each_key_apart() {
    // The phishing rows dealt to two keys in turn: each key's model sees every other
    // row, so its first prediction is 0.5 and its steps count that key's rows only.
    let dir = tempfile::tempdir().expect("temp dir");
    let text = std::fs::read_to_string(repo_file("examples/data/phishing.csv")).expect("data");
    let mut lines = text.lines();
    let header = lines.next().expect("header");
    let mut dealt = format!("{header},site\n");
    for (index, line) in lines.enumerate() {
        dealt.push_str(&format!("{line},{}\n", ["a", "b"][index % 2]));
    }
    std::fs::write(dir.path().join("dealt.csv"), dealt).expect("input");
    let pipeline = phishing_pipeline(dir.path(), 0.01, "")
        .replace(
            &repo_file("examples/data/phishing.csv")
                .display()
                .to_string(),
            &dir.path().join("dealt.csv").display().to_string(),
        )
        .replace("key_by = \"$all\"", "key_by = \"site\"");
    run_pipeline(dir.path(), &pipeline).await.expect("runs");
    let predictions = read_json_lines(&dir.path().join("predictions.jsonl"));
    assert_eq!(predictions.len(), 1250);
    let steps: Vec<u64> = predictions
        .iter()
        .map(|line| line["n"].as_u64().expect("n"))
        .collect();
    assert_eq!(&steps[..6], [0, 0, 1, 1, 2, 2]);
    assert_eq!(predictions[1]["prediction"], 0.5);
    let metrics = read_json_lines(&dir.path().join("metrics.jsonl"));
    assert_eq!(metrics.len(), 4, "two keys, 625 rows each: at 250 and 500");
}
