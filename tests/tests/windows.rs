//! Window operators through the real engine, from pipeline files: built-in aggregates,
//! the `rolling-stats` Wasm aggregate and the `session-features` Wasm window process
//! function, at parallelism 1 and 2, on `examples/windows/` data. Expected results come
//! from an independent oracle in this file (sort by time, group, aggregate), not from
//! the program's own output.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::Value;
use weir_tests::{read_json_lines, run_pipeline};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/windows")
        .join(name)
}

/// The readings that parse: (sensor, ts, temp).
fn readings() -> Vec<(String, i64, f64)> {
    let text = std::fs::read_to_string(data("readings.jsonl")).expect("readings");
    text.lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .map(|row| {
            (
                row["sensor"].as_str().expect("sensor").to_owned(),
                row["ts"].as_i64().expect("ts"),
                row["temp"].as_f64().expect("temp"),
            )
        })
        .collect()
}

/// Runs `operator` (TOML of one `[[operator]]` with its window) over `input` at
/// parallelism 1 and 2 and returns both outputs, sorted by (key, window start, firing).
async fn run_both(input: &str, operator: &str) -> [Vec<Value>; 2] {
    let mut outputs = [Vec::new(), Vec::new()];
    for (slot, parallelism) in outputs.iter_mut().zip([1, 2]) {
        let dir = tempfile::tempdir().expect("temp dir");
        let pipeline = format!(
            r#"
[source]
type = "file"
path = "{input}"
[source.event_time]
field = "ts"

{operator}

[[sink]]
type = "file"
path = "out.jsonl"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#,
            input = data(input).display(),
            operator = operator.replace("{parallelism}", &parallelism.to_string()),
        );
        run_pipeline(dir.path(), &pipeline)
            .await
            .expect("the pipeline runs");
        let mut results = read_json_lines(&dir.path().join("out.jsonl"));
        results.sort_by_key(|result| {
            (
                result["key"].as_str().unwrap_or_default().to_owned(),
                result["window_start"].as_i64(),
                result["firing_index"].as_i64(),
            )
        });
        *slot = results;
    }
    outputs
}

#[tokio::test(flavor = "multi_thread")]
async fn tumbling_builtins_match_the_oracle_at_parallelism_1_and_2() {
    let [one, two] = run_both(
        "readings.jsonl",
        r#"
[[operator]]
name = "per-minute"
key_by = "sensor"
parallelism = {parallelism}
aggregate = ["count", "max(temp)"]
[operator.window]
type = "tumbling"
size_ms = 60000
"#,
    )
    .await;
    assert_eq!(one, two, "parallelism does not change the result");
    // The whole file is one batch, so nothing is late: every reading counts.
    let mut oracle: BTreeMap<(String, i64), (u64, f64)> = BTreeMap::new();
    for (sensor, ts, temp) in readings() {
        let start = ts.div_euclid(60_000) * 60_000;
        let entry = oracle.entry((sensor, start)).or_insert((0, f64::MIN));
        entry.0 += 1;
        entry.1 = entry.1.max(temp);
    }
    let got: BTreeMap<(String, i64), (u64, f64)> = one
        .iter()
        .map(|result| {
            assert_eq!(result["firing"], "on-time");
            assert_eq!(
                result["window_end"].as_i64().expect("end")
                    - result["window_start"].as_i64().expect("start"),
                60_000
            );
            (
                (
                    result["key"].as_str().expect("key").to_owned(),
                    result["window_start"].as_i64().expect("start"),
                ),
                (
                    result["count"].as_u64().expect("count"),
                    result["max_temp"].as_f64().expect("max"),
                ),
            )
        })
        .collect();
    assert_eq!(got, oracle);
}

#[tokio::test(flavor = "multi_thread")]
async fn sliding_wasm_aggregate_matches_the_oracle_at_parallelism_1_and_2() {
    let [one, two] = run_both(
        "readings.jsonl",
        r#"
[[operator]]
name = "rolling"
plugin = "{plugins}/rolling_stats.wasm"
key_by = "sensor"
parallelism = {parallelism}
settings = { field = "temp" }
[operator.window]
type = "sliding"
size_ms = 60000
slide_ms = 10000
"#,
    )
    .await;
    assert_eq!(one, two, "parallelism does not change the result");
    let mut oracle: BTreeMap<(String, i64), (u64, f64)> = BTreeMap::new();
    for (sensor, ts, temp) in readings() {
        let last = ts.div_euclid(10_000) * 10_000;
        for start in (0..6).map(|back| last - back * 10_000) {
            let entry = oracle
                .entry((sensor.clone(), start))
                .or_insert((0, f64::MAX));
            entry.0 += 1;
            entry.1 = entry.1.min(temp);
        }
    }
    let got: BTreeMap<(String, i64), (u64, f64)> = one
        .iter()
        .map(|result| {
            (
                (
                    result["key"].as_str().expect("key").to_owned(),
                    result["window_start"].as_i64().expect("start"),
                ),
                (
                    result["count"].as_u64().expect("count"),
                    result["min"].as_f64().expect("min"),
                ),
            )
        })
        .collect();
    assert_eq!(got, oracle, "each reading is in exactly its six windows");
}

#[tokio::test(flavor = "multi_thread")]
async fn sessions_of_the_window_process_plugin_match_the_oracle() {
    let [one, two] = run_both(
        "clicks.jsonl",
        r#"
[[operator]]
name = "sessions"
plugin = "{plugins}/session_features.wasm"
key_by = "user"
parallelism = {parallelism}
settings = { field = "page" }
[operator.window]
type = "session"
gap_ms = 60000
"#,
    )
    .await;
    assert_eq!(one, two, "parallelism does not change the result");
    let text = std::fs::read_to_string(data("clicks.jsonl")).expect("clicks");
    let mut by_user: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for row in text
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON"))
    {
        by_user
            .entry(row["user"].as_str().expect("user").to_owned())
            .or_default()
            .push(row["ts"].as_i64().expect("ts"));
    }
    // Oracle: sort each user's times; a new session starts after a gap of 60 s or more.
    let mut oracle = Vec::new();
    for (user, mut times) in by_user {
        times.sort_unstable();
        let mut session = vec![times[0]];
        for ts in times.into_iter().skip(1) {
            if ts - session[session.len() - 1] >= 60_000 {
                oracle.push((
                    user.clone(),
                    session[0],
                    session.len() as u64,
                    *session.last().expect("ts") + 60_000,
                ));
                session.clear();
            }
            session.push(ts);
        }
        oracle.push((
            user.clone(),
            session[0],
            session.len() as u64,
            *session.last().expect("ts") + 60_000,
        ));
    }
    let got: Vec<(String, i64, u64, i64)> = one
        .iter()
        .map(|result| {
            (
                result["key"].as_str().expect("key").to_owned(),
                result["window_start"].as_i64().expect("start"),
                result["events"].as_u64().expect("events"),
                result["window_end"].as_i64().expect("end"),
            )
        })
        .collect();
    assert_eq!(got, oracle);
}

#[tokio::test(flavor = "multi_thread")]
async fn late_readings_beyond_the_allowed_lateness_reach_the_late_sink() {
    let dir = tempfile::tempdir().expect("temp dir");
    let example = std::fs::read_to_string(data("tumbling.toml")).expect("example");
    let pipeline = example.replace(
        "path = \"readings.jsonl\"",
        &format!("path = \"{}\"", data("readings.jsonl").display()),
    );
    run_pipeline(dir.path(), &pipeline)
        .await
        .expect("the example runs");
    let late = read_json_lines(&dir.path().join("out/late.jsonl"));
    let late_times: Vec<i64> = late
        .iter()
        .map(|event| event["timestamp"].as_i64().expect("ts"))
        .collect();
    assert_eq!(
        late_times,
        [1_700_000_012_000, 1_700_000_410_000],
        "the two readings minutes late"
    );
    let results = read_json_lines(&dir.path().join("out/tumbling.jsonl"));
    let refired: Vec<&Value> = results
        .iter()
        .filter(|result| result["firing"] == "late")
        .collect();
    assert!(
        !refired.is_empty(),
        "readings late by less than 10 s re-fire their window"
    );
    assert!(
        refired
            .iter()
            .all(|result| result["firing_index"].as_u64() >= Some(1))
    );
    let dead = read_json_lines(&dir.path().join("out/dead.jsonl"));
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0]["position"], "line 40");
}
