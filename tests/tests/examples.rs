//! The use-case examples of `examples/` run from their own pipeline files, on the data
//! they ship, with their plugins and models; their outputs are checked against what the
//! scripts that made the data expect (not against the program's own output).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use weir_host::config;
use weir_host::runtime::assemble::assemble;
use weir_host::runtime::pipeline::RunOptions;
use weir_tests::{loader, read_json_lines, repo_file};

/// Runs `examples/<example>/<file>` as it is, but with the plugins built for the tests
/// and its `out/` in `out`.
async fn run_example(example: &str, file: &str, out: &Path) {
    let path = repo_file(&format!("examples/{example}/{file}"));
    let text = std::fs::read_to_string(&path)
        .expect("pipeline file")
        .replace(
            "\"../plugins/",
            &format!("\"{}/", env!("WEIR_TEST_PLUGINS")),
        )
        .replace("\"out/", &format!("\"{}/", out.display()));
    let config = config::load_str(&path, &text).expect("the pipeline file is valid");
    let pipeline = assemble(&config, &loader(&out.join("cache")))
        .await
        .expect("the pipeline starts");
    pipeline
        .run(RunOptions::default())
        .await
        .expect("the pipeline runs");
}

fn lines(path: &Path) -> Vec<Value> {
    if path.exists() {
        read_json_lines(path)
    } else {
        Vec::new()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fraud_scoring_raises_exactly_the_expected_alerts() {
    let out = tempfile::tempdir().expect("temp dir");
    run_example("fraud", "pipeline.toml", out.path()).await;
    let expected: BTreeMap<(String, i64), f64> =
        read_json_lines(&repo_file("examples/fraud/expected-alerts.jsonl"))
            .into_iter()
            .map(|alert| {
                (
                    (
                        alert["card"].as_str().expect("card").to_owned(),
                        alert["window_start"].as_i64().expect("start"),
                    ),
                    alert["score"].as_f64().expect("score"),
                )
            })
            .collect();
    let alerts = read_json_lines(&out.path().join("alerts.jsonl"));
    let actual: BTreeMap<(String, i64), f64> = alerts
        .iter()
        .map(|alert| {
            (
                (
                    alert["key"].as_str().expect("key").to_owned(),
                    alert["window_start"].as_i64().expect("start"),
                ),
                alert["fraud_probability"].as_f64().expect("score"),
            )
        })
        .collect();
    assert_eq!(
        actual.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>()
    );
    for (window, score) in &actual {
        assert!(
            (score - expected[window]).abs() <= 1e-5,
            "{window:?}: {score}"
        );
    }
    let scored = read_json_lines(&out.path().join("scored.jsonl"));
    assert_eq!(scored.len(), 4174, "every window is scored");
    assert!(
        scored
            .iter()
            .all(|window| window["fraud_probability"].is_f64())
    );
    assert!(lines(&out.path().join("dead.jsonl")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn iot_warns_about_the_overheating_device_and_reports_the_silent_one() {
    let out = tempfile::tempdir().expect("temp dir");
    run_example("iot", "pipeline.toml", out.path()).await;
    let text = std::fs::read_to_string(repo_file("examples/iot/expected.json")).expect("file");
    let expected: Value = serde_json::from_str(&text).expect("JSON");

    let windows = read_json_lines(&out.path().join("windows.jsonl"));
    assert_eq!(
        windows.len() as u64,
        expected["windows"].as_u64().expect("count")
    );

    let wanted: BTreeMap<(String, i64), f64> = expected["warnings"]
        .as_array()
        .expect("warnings")
        .iter()
        .map(|warning| {
            (
                (
                    warning["device"].as_str().expect("device").to_owned(),
                    warning["window_start"].as_i64().expect("start"),
                ),
                warning["z"].as_f64().expect("z"),
            )
        })
        .collect();
    let warnings: BTreeMap<(String, i64), f64> =
        read_json_lines(&out.path().join("warnings.jsonl"))
            .iter()
            .map(|warning| {
                (
                    (
                        warning["device"].as_str().expect("device").to_owned(),
                        warning["window_start"].as_i64().expect("start"),
                    ),
                    warning["z"].as_f64().expect("z"),
                )
            })
            .collect();
    assert_eq!(
        warnings.keys().collect::<Vec<_>>(),
        wanted.keys().collect::<Vec<_>>()
    );
    for (window, z) in &warnings {
        assert!((z - wanted[window]).abs() <= 1e-6, "{window:?}: z {z}");
    }

    let silent = read_json_lines(&out.path().join("silent.jsonl"));
    let end_of_data = expected["end_of_data"].as_i64().expect("end");
    let (early, at_end): (Vec<&Value>, Vec<&Value>) = silent
        .iter()
        .partition(|alert| alert["silent_since"].as_i64().expect("time") <= end_of_data);
    assert_eq!(early.len(), 1, "{early:?}");
    assert_eq!(early[0]["device"], expected["silent"]["device"]);
    assert_eq!(early[0]["last_seen"], expected["silent"]["last_seen"]);
    assert_eq!(early[0]["silent_since"], expected["silent"]["silent_since"]);
    // The end of the file is a watermark of +∞: the others' timers fire then.
    assert_eq!(at_end.len(), 11);
    assert!(lines(&out.path().join("dead.jsonl")).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_behaviour_scores_every_session_and_the_model_learns() {
    let out = tempfile::tempdir().expect("temp dir");
    run_example("user-behaviour", "pipeline.toml", out.path()).await;
    let session_of = |line: &Value| {
        (
            line["key"].as_str().expect("key").to_owned(),
            line["window_start"].as_i64().expect("start"),
        )
    };
    let expected: BTreeMap<(String, i64), Value> =
        read_json_lines(&repo_file("examples/user-behaviour/sessions.jsonl"))
            .into_iter()
            .map(|session| (session_of(&session), session))
            .collect();
    let scores = read_json_lines(&out.path().join("scores.jsonl"));
    assert_eq!(scores.len(), expected.len(), "every session scored once");
    let mut seen = std::collections::BTreeSet::new();
    for (step, score) in scores.iter().enumerate() {
        let session = session_of(score);
        let wanted = &expected[&session];
        for field in ["views", "carts", "products"] {
            assert_eq!(score[field], wanted[field], "{session:?} {field}");
        }
        for field in ["minutes", "mean_price"] {
            let (a, b) = (score[field].as_f64(), wanted[field].as_f64());
            assert!(
                (a.expect("number") - b.expect("number")).abs() < 1e-9,
                "{session:?} {field}"
            );
        }
        assert_eq!(
            score["target"].as_f64(),
            wanted["bought"].as_f64(),
            "{session:?}"
        );
        assert_eq!(score["n"], step, "one global model, learning in order");
        let probability = score["prediction"].as_f64().expect("prediction");
        assert!((0.0..=1.0).contains(&probability));
        assert!(seen.insert(session), "scored twice");
    }
    let metrics = read_json_lines(&out.path().join("metrics.jsonl"));
    assert_eq!(metrics.len(), expected.len() / 200);
    let last = metrics.last().expect("metrics");
    assert!(last["roc_auc"].as_f64().expect("auc") > 0.75, "{last}");
    assert!(last["accuracy"].as_f64().expect("accuracy") > 0.7, "{last}");
}
