//! What the Kafka window tests share: keyed input events in the partition of their
//! key, records that close every window, the results computed from the input, and
//! reading results back from a topic.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::broker::{Client, TestRecord};

pub const KEYS: u64 = 40;

/// One window result: (key, window start) and (count, sum of n).
pub type WindowResult = ((String, i64), (u64, f64));
pub const PARTITIONS: i32 = 4;
pub const T0: i64 = 1_700_000_000_000;

/// Event `i`: key `k{i % KEYS}` in the partition of its key, 5 ms of event time
/// after event `i - 1`.
pub fn event(i: u64) -> TestRecord {
    let key = i % KEYS;
    TestRecord {
        partition: i32::try_from(key).expect("small") % PARTITIONS,
        key: Some(format!("k{key}").into_bytes()),
        value: format!(
            r#"{{"n":{i},"ts":{}}}"#,
            T0 + i64::try_from(i).expect("small") * 5
        )
        .into_bytes(),
        ..TestRecord::default()
    }
}

/// One record per partition far ahead in event time: every window closes.
pub fn closing_records() -> Vec<TestRecord> {
    (0..PARTITIONS)
        .map(|partition| TestRecord {
            partition,
            key: Some(b"end".to_vec()),
            value: format!(r#"{{"n":0,"ts":{}}}"#, T0 + 10_000_000).into_bytes(),
            ..TestRecord::default()
        })
        .collect()
}

/// Window results of events `0..events`: (key, window start) → (count, sum of n).
pub fn expected_windows(events: u64) -> BTreeMap<(String, i64), (u64, f64)> {
    let mut windows: BTreeMap<(String, i64), (u64, f64)> = BTreeMap::new();
    for i in 0..events {
        let start = (T0 + i64::try_from(i).expect("small") * 5).div_euclid(1000) * 1000;
        let entry = windows
            .entry((format!("k{}", i % KEYS), start))
            .or_default();
        entry.0 += 1;
        entry.1 += i as f64;
    }
    windows
}

/// The window results in `topic`, read from the start by fresh `read_committed`
/// consumers until there are `expected` (and then nothing more for a second), or
/// 90 s passed; each result once in the list per time it is in the topic.
pub fn read_results(client: &Client, topic: &str, expected: usize) -> Vec<WindowResult> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        // A fresh consumer each round: noida-db can stall a read_committed consumer
        // that waits at the end of a topic after an abort.
        let records = client.consume(
            topic,
            expected,
            Duration::from_secs(1),
            Duration::from_secs(5),
        );
        if records.len() >= expected || Instant::now() > deadline {
            return records
                .iter()
                .map(|record| {
                    let result: serde_json::Value =
                        serde_json::from_slice(&record.value).expect("JSON result");
                    (
                        (
                            result["key"].as_str().expect("key").to_owned(),
                            result["window_start"].as_i64().expect("start"),
                        ),
                        (
                            result["count"].as_u64().expect("count"),
                            result["n_sum"].as_f64().expect("sum"),
                        ),
                    )
                })
                .collect();
        }
    }
}

/// The windows of `expected` that are not in `got` (the first 10).
pub fn missing(
    expected: &BTreeMap<(String, i64), (u64, f64)>,
    got: &[WindowResult],
) -> Vec<(String, i64)> {
    let got: BTreeMap<_, _> = got.iter().cloned().collect();
    expected
        .keys()
        .filter(|window| !got.contains_key(*window))
        .take(10)
        .cloned()
        .collect()
}
