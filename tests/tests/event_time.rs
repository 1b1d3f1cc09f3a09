//! Event time at the sources, through real pipeline files: times from a JSON field
//! (milliseconds, seconds, fractions, RFC 3339), from a CSV column, or ingestion time;
//! records without a usable time dead-lettered with their line. The times are read
//! back from an envelope sink, after a real plugin, so they are the events' own.

use serde_json::Value;
use weir_tests::{read_json_lines, run_pipeline};

/// A pipeline reading `input` (with `event_time` as its `[source.event_time]` body)
/// through the `json-filter` plugin (keeping `n >= 0`) into `out.jsonl` (envelopes)
/// and `dead.jsonl`.
fn pipeline(input: &str, event_time: &str) -> String {
    format!(
        r#"
[source]
type = "file"
path = "{input}"

[source.event_time]
{event_time}

[[operator]]
name = "keep"
plugin = "{{plugins}}/json_filter.wasm"
settings = {{ field = "n", op = "ge", value = 0 }}

[[sink]]
type = "file"
path = "out.jsonl"
format = "envelope"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#
    )
}

fn timestamps(envelopes: &[Value]) -> Vec<i64> {
    envelopes
        .iter()
        .map(|envelope| envelope["timestamp"].as_i64().expect("a timestamp"))
        .collect()
}

/// `(position, reason)` of each dead letter.
fn dead_letters(dir: &std::path::Path) -> Vec<(String, String)> {
    read_json_lines(&dir.join("dead.jsonl"))
        .into_iter()
        .map(|letter| {
            (
                letter["position"].as_str().unwrap_or_default().to_owned(),
                letter["reason"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn times_from_a_json_field_and_bad_ones_dead_lettered_by_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lines = [
        r#"{"n":1,"meta":{"ts":1700000000000}}"#,
        r#"{"n":2,"meta":{"ts":"2023-11-14T22:13:20.250Z"}}"#,
        r#"{"n":3,"meta":{"ts":"2023-11-15T00:13:21+02:00"}}"#,
        r#"{"n":4,"meta":{}}"#,
        r#"{"n":5,"meta":{"ts":1700000002000.9}}"#,
        r#"{"n":6,"meta":{"ts":null}}"#,
        r#"{"n":7,"meta":{"ts":"yesterday"}}"#,
        r#"{"n":8,"meta":{"ts":1699999999000}}"#,
    ];
    std::fs::write(dir.path().join("in.jsonl"), lines.join("\n")).expect("input");
    let report = run_pipeline(
        dir.path(),
        &pipeline("in.jsonl", "field = \"meta.ts\"\nwatermark_delay_ms = 5000"),
    )
    .await
    .expect("runs");
    let out = read_json_lines(&dir.path().join("out.jsonl"));
    assert_eq!(
        timestamps(&out),
        [
            1_700_000_000_000,
            1_700_000_000_250,
            1_700_000_001_000,
            1_700_000_002_000,
            1_699_999_999_000
        ]
    );
    let dead = dead_letters(dir.path());
    assert_eq!(dead.len(), 3, "{dead:?}");
    assert_eq!(
        dead[0],
        (
            "line 4".to_owned(),
            "event time: field `meta.ts` is missing".to_owned()
        )
    );
    assert_eq!(dead[1].0, "line 6");
    assert!(dead[1].1.contains("it is null"), "{}", dead[1].1);
    assert_eq!(dead[2].0, "line 7");
    assert!(
        dead[2]
            .1
            .contains("`yesterday` is not an RFC 3339 date-time"),
        "{}",
        dead[2].1
    );
    let stats = &report.stats;
    assert_eq!(
        stats
            .source_dead_lettered
            .load(std::sync::atomic::Ordering::Relaxed),
        3
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn times_from_a_csv_column_in_seconds() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("in.csv"),
        "n,at,what\n1,1700000000,a\n2,1700000000.5,b\n3,2023-11-14T22:13:21Z,c\n4,,d\n5,-,e\n",
    )
    .expect("input");
    run_pipeline(
        dir.path(),
        &pipeline("in.csv", "field = \"at\"\nunit = \"s\""),
    )
    .await
    .expect("runs");
    let out = read_json_lines(&dir.path().join("out.jsonl"));
    assert_eq!(
        timestamps(&out),
        [1_700_000_000_000, 1_700_000_000_500, 1_700_000_001_000]
    );
    let value: Value = serde_json::from_str(out[0]["value"].as_str().expect("text")).expect("JSON");
    assert_eq!(value["what"], "a", "the row is the value");
    let dead = dead_letters(dir.path());
    assert_eq!(
        dead[0],
        (
            "line 5".to_owned(),
            "event time: column `at`: it is empty".to_owned()
        )
    );
    assert_eq!(dead[1].0, "line 6");
    assert_eq!(dead.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_field_events_carry_ingestion_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("in.jsonl"), "{\"n\":1}\n{\"n\":2}\n").expect("input");
    let before = now_ms();
    run_pipeline(dir.path(), &pipeline("in.jsonl", "idle_timeout_ms = 1000"))
        .await
        .expect("runs");
    let after = now_ms();
    let times = timestamps(&read_json_lines(&dir.path().join("out.jsonl")));
    assert_eq!(times.len(), 2);
    assert!(
        times.iter().all(|&time| (before..=after).contains(&time)),
        "{times:?} within {before}..={after}"
    );
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64)
}
