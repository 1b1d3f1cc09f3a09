//! Faults stay inside the plugin: a trap, a missed deadline and memory exhaustion each
//! fail only their batch; the batch is re-run event by event, the events at fault go
//! to the dead-letter output with the plugin's name, version and the error, and every
//! other event is delivered, in order. Each test would fail if the fault escaped: the
//! run would error, or events would be missing.

use std::path::Path;

use serde_json::Value;
use weir_tests::{read_json_lines, run_pipeline};

/// 40 events `{"n": i, "tag": ...}`; those with `i % 13 == 5` carry `marker`.
fn write_input(dir: &Path, marker: &str) -> Vec<u64> {
    let mut lines = String::new();
    let mut marked = Vec::new();
    for n in 0..40u64 {
        let tag = if n % 13 == 5 {
            marked.push(n);
            marker
        } else {
            "fine"
        };
        lines.push_str(&format!("{{\"n\":{n},\"tag\":\"{tag}\"}}\n"));
    }
    std::fs::write(dir.join("in.jsonl"), lines).expect("write input");
    marked
}

fn pipeline(fixture: &str, extra: &str) -> String {
    format!(
        r#"
[runtime]
batch_size = 16

[source]
type = "file"
path = "in.jsonl"

[[operator]]
name = "fixture"
plugin = "{{plugins}}/{fixture}.wasm"
{extra}

[[sink]]
type = "file"
path = "out.jsonl"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#
    )
}

/// Runs `fixture` on the input and checks containment; returns the dead letters.
async fn contained(fixture: &str, marker: &str, extra: &str) -> Vec<Value> {
    let dir = tempfile::tempdir().expect("temp dir");
    let marked = write_input(dir.path(), marker);
    let report = run_pipeline(dir.path(), &pipeline(fixture, extra))
        .await
        .expect("the host survives the plugin's fault");

    let delivered: Vec<u64> = read_json_lines(&dir.path().join("out.jsonl"))
        .iter()
        .map(|event| event["n"].as_u64().expect("n"))
        .collect();
    let expected: Vec<u64> = (0..40).filter(|n| !marked.contains(n)).collect();
    assert_eq!(
        delivered, expected,
        "every other event is delivered, in order"
    );

    let dead = read_json_lines(&dir.path().join("dead.jsonl"));
    let dead_numbers: Vec<u64> = dead
        .iter()
        .map(|letter| {
            let value: Value =
                serde_json::from_str(letter["value"].as_str().expect("value")).expect("JSON");
            value["n"].as_u64().expect("n")
        })
        .collect();
    assert_eq!(
        dead_numbers, marked,
        "exactly the marked events are dead-lettered"
    );
    for letter in &dead {
        assert_eq!(letter["operator"], "fixture");
        let plugin = letter["plugin"].as_str().expect("plugin");
        assert!(
            plugin.starts_with(&format!("{}@0.1.0+", fixture.replace('_', "-"))),
            "names the plugin and version: {plugin}"
        );
    }
    let stats = &report.stats.operators[0];
    assert_eq!(
        stats
            .dead_lettered
            .load(std::sync::atomic::Ordering::Relaxed),
        marked.len() as u64
    );
    dead
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_is_contained() {
    let dead = contained("trap_on_marker", "poison", "").await;
    let reason = dead[0]["reason"].as_str().expect("reason");
    assert!(reason.starts_with("trap:"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_infinite_loop_is_stopped_by_the_deadline() {
    let dead = contained("infinite_loop", "loop", "deadline_ms = 100").await;
    let reason = dead[0]["reason"].as_str().expect("reason");
    assert_eq!(reason, "deadline of 100 ms exceeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_memory_bomb_is_stopped_by_the_limit() {
    let dead = contained("memory_bomb", "bomb", "memory_limit_mib = 16").await;
    let reason = dead[0]["reason"].as_str().expect("reason");
    assert_eq!(reason, "memory limit of 16 MiB exceeded");
}

#[tokio::test(flavor = "multi_thread")]
async fn rejected_events_go_to_dead_letters_without_failing_the_batch() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("in.jsonl"),
        "{\"amount\": 5}\n{\"amount\": \"five\"}\n{\"price\": 1}\n{\"amount\": 50}\n",
    )
    .expect("write");
    let text = pipeline(
        "json_filter",
        "settings = { field = \"amount\", value = 10 }",
    );
    let report = run_pipeline(dir.path(), &text).await.expect("runs");
    let out = read_json_lines(&dir.path().join("out.jsonl"));
    assert_eq!(out, vec![serde_json::json!({"amount": 50})]);
    let dead = read_json_lines(&dir.path().join("dead.jsonl"));
    let reasons: Vec<&str> = dead
        .iter()
        .map(|letter| letter["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(
        reasons,
        ["field `amount` is not a number", "no field `amount`"]
    );
    let stats = &report.stats.operators[0];
    assert_eq!(
        stats
            .failed_batches
            .load(std::sync::atomic::Ordering::Relaxed),
        0,
        "rejections do not fail the batch"
    );
}
