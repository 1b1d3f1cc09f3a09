//! Kafka end to end on a real broker (tansu, started per test on a free port):
//! Kafka source → Wasm operator → Kafka sink with keys, headers and timestamps kept;
//! per-partition watermarks with an idle partition; malformed records to a
//! dead-letter topic with their partition and offset.
//!
//! The pipelines run in this process (an unbounded source: each test reads the
//! output topic until it holds what it expects, then stops the pipeline).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use weir_host::config;
use weir_host::runtime::assemble::assemble;
use weir_host::runtime::pipeline::RunOptions;
use weir_tests::broker::{Broker, BrokerKind, TestRecord};

/// Consumer settings for tansu: its group joins take half the session timeout.
const FAST_GROUPS: &str = r#"properties = { "session.timeout.ms" = "6000" }"#;

/// Runs `pipeline` (TOML; `{plugins}` and `{brokers}` replaced) in the background
/// until `read` returns, then stops it; returns what `read` returned.
async fn while_running<T: Send + 'static>(
    dir: &Path,
    broker: &Broker,
    pipeline: &str,
    read: impl FnOnce() -> T + Send + 'static,
) -> T {
    let text = pipeline
        .replace("{plugins}", env!("WEIR_TEST_PLUGINS"))
        .replace("{brokers}", &broker.bootstrap());
    let path = dir.join("pipeline.toml");
    std::fs::write(&path, text).expect("write pipeline");
    let config = config::load_file(&path).expect("pipeline loads");
    let loader = weir_tests::loader(&dir.join("cache"));
    let pipeline = assemble(&config, &loader)
        .await
        .expect("pipeline assembles");
    let reader = tokio::task::spawn_blocking(read);
    // The pipeline (its future is not `Send`) runs here until the reader is done.
    tokio::select! {
        stopped = pipeline.run(RunOptions::default()) => panic!("the pipeline stopped early: {stopped:?}"),
        result = reader => result.expect("reader"),
    }
}

fn transaction(id: u64) -> String {
    format!(
        r#"{{"id":{id},"card":"c{}","amount":{}.5,"merchant":"m{}","country":"FR","channel":"web"}}"#,
        id % 7,
        id * 13 % 900,
        id % 3
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kafka_to_wasm_map_to_kafka_keeps_keys_headers_and_timestamps() {
    let broker = Broker::start(BrokerKind::Tansu);
    broker.client().create_topic("payments", 4);
    broker.client().create_topic("converted", 4);
    let input: Vec<TestRecord> = (0..400u64)
        .map(|id| TestRecord {
            partition: i32::try_from(id % 4).expect("small"),
            key: Some(format!("c{}", id % 7).into_bytes()),
            value: transaction(id).into_bytes(),
            timestamp: Some(1_700_000_000_000 + i64::try_from(id).expect("small") * 10),
            headers: vec![("trace".into(), format!("t{id}").into_bytes())],
            offset: 0,
        })
        .collect();
    broker.client().produce("payments", &input);
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = broker.client();
    let output = while_running(
        dir.path(),
        &broker,
        &format!(
            r#"name = "convert"
[source]
type = "kafka"
brokers = "{{brokers}}"
topics = ["payments"]
{FAST_GROUPS}

[[operator]]
name = "map"
plugin = "{{plugins}}/bench_map.wasm"
settings = {{ shape = "json" }}

[[sink]]
type = "kafka"
brokers = "{{brokers}}"
topic = "converted"
"#
        ),
        move || {
            reader.consume(
                "converted",
                400,
                Duration::from_millis(500),
                Duration::from_secs(60),
            )
        },
    )
    .await;
    assert_eq!(output.len(), input.len(), "every event once");
    let by_trace: BTreeMap<Vec<u8>, &TestRecord> = input
        .iter()
        .map(|record| (record.headers[0].1.clone(), record))
        .collect();
    for record in &output {
        let original = by_trace[&record.headers[0].1];
        assert_eq!(record.key, original.key);
        assert_eq!(record.timestamp, original.timestamp);
        assert_eq!(record.headers, original.headers);
        let mut expected = Vec::new();
        bench_logic::json_rewrite(&original.value, &mut expected).expect("a transaction");
        assert_eq!(record.text(), String::from_utf8(expected).expect("JSON"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn windows_fire_on_per_partition_watermarks_with_an_idle_partition() {
    let broker = Broker::start(BrokerKind::Tansu);
    broker.client().create_topic("readings", 4);
    broker.client().create_topic("counts", 1);
    const T0: i64 = 1_700_000_000_000;
    // Partitions 0..3 hold readings at different paces (partition 2 ten times
    // slower in event time than partition 0); partition 3 stays silent.
    let mut input = Vec::new();
    for partition in 0..3i32 {
        for n in 0..200i64 {
            input.push(TestRecord {
                partition,
                key: Some(format!("s{}", n % 5).into_bytes()),
                value: format!(r#"{{"n":{n}}}"#).into_bytes(),
                timestamp: Some(T0 + n * 10 * i64::from(partition + 1)),
                ..TestRecord::default()
            });
        }
        // Moves this partition's watermark past every window above.
        input.push(TestRecord {
            partition,
            key: Some(b"end".to_vec()),
            value: b"{}".to_vec(),
            timestamp: Some(T0 + 60_000),
            ..TestRecord::default()
        });
    }
    broker.client().produce("readings", &input);
    let mut expected: BTreeMap<(String, i64), u64> = BTreeMap::new();
    for record in input
        .iter()
        .filter(|record| record.key.as_deref() != Some(b"end"))
    {
        let key = String::from_utf8(record.key.clone().expect("key")).expect("text");
        let start = record.timestamp.expect("time").div_euclid(1000) * 1000;
        *expected.entry((key, start)).or_default() += 1;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = broker.client();
    let windows = expected.len();
    let output = while_running(
        dir.path(),
        &broker,
        &format!(
            r#"name = "per-second"
[source]
type = "kafka"
brokers = "{{brokers}}"
topics = ["readings"]
{FAST_GROUPS}
[source.event_time]
idle_timeout_ms = 2000

[[operator]]
name = "count"
key_by = "$key"
aggregate = ["count"]
[operator.window]
type = "tumbling"
size_ms = 1000

[[sink]]
type = "kafka"
brokers = "{{brokers}}"
topic = "counts"
"#
        ),
        move || {
            reader.consume(
                "counts",
                windows,
                Duration::from_millis(500),
                Duration::from_secs(60),
            )
        },
    )
    .await;
    let got: BTreeMap<(String, i64), u64> = output
        .iter()
        .map(|record| {
            let result: serde_json::Value = serde_json::from_slice(&record.value).expect("JSON");
            assert_eq!(result["firing"], "on-time", "{result}");
            (
                (
                    result["key"].as_str().expect("key").to_owned(),
                    result["window_start"].as_i64().expect("start"),
                ),
                result["count"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(got.len(), output.len(), "each window once");
    assert_eq!(got, expected, "no reading late, every window fired");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn malformed_records_go_to_a_dead_letter_topic_with_partition_and_offset() {
    let broker = Broker::start(BrokerKind::Tansu);
    broker.client().create_topic("raw", 2);
    broker.client().create_topic("clean", 1);
    broker.client().create_topic("dead", 1);
    let input: Vec<TestRecord> = (0..40i64)
        .map(|n| TestRecord {
            partition: i32::try_from(n % 2).expect("small"),
            key: Some(format!("k{n}").into_bytes()),
            value: if n % 10 == 3 {
                format!("not json {n}").into_bytes()
            } else {
                format!(r#"{{"n":{n},"ts":{}}}"#, 1_000 + n).into_bytes()
            },
            ..TestRecord::default()
        })
        .collect();
    broker.client().produce("raw", &input);
    let dir = tempfile::tempdir().expect("tempdir");
    let reader = broker.client();
    let (clean, dead) = while_running(
        dir.path(),
        &broker,
        &format!(
            r#"name = "validate"
[source]
type = "kafka"
brokers = "{{brokers}}"
topics = ["raw"]
{FAST_GROUPS}
[source.event_time]
field = "ts"

[[sink]]
type = "kafka"
brokers = "{{brokers}}"
topic = "clean"

[dead_letter]
type = "kafka"
brokers = "{{brokers}}"
topic = "dead"
"#
        ),
        move || {
            let dead = reader.consume(
                "dead",
                4,
                Duration::from_millis(300),
                Duration::from_secs(60),
            );
            let clean = reader.consume(
                "clean",
                36,
                Duration::from_millis(300),
                Duration::from_secs(60),
            );
            (clean, dead)
        },
    )
    .await;
    assert_eq!(clean.len(), 36);
    assert!(clean.iter().all(|record| {
        record
            .timestamp
            .is_some_and(|ts| (1_000..1_040).contains(&ts))
    }));
    let mut letters: Vec<(String, String, String)> = dead
        .iter()
        .map(|record| {
            let letter: serde_json::Value = serde_json::from_slice(&record.value).expect("JSON");
            assert_eq!(letter["source"], "kafka:raw");
            assert!(
                letter["reason"]
                    .as_str()
                    .expect("reason")
                    .contains("invalid JSON"),
                "{letter}"
            );
            (
                letter["position"].as_str().expect("position").to_owned(),
                letter["value"].as_str().expect("value").to_owned(),
                letter["key"].as_str().expect("key").to_owned(),
            )
        })
        .collect();
    letters.sort();
    // Records 3, 13, 23, 33: odd, so partition 1, offsets 1, 6, 11, 16.
    let expected: Vec<(String, String, String)> = [3, 13, 23, 33]
        .into_iter()
        .map(|n| {
            (
                format!("topic raw partition 1 offset {}", n / 2),
                format!("not json {n}"),
                format!("k{n}"),
            )
        })
        .collect();
    let mut expected = expected;
    expected.sort();
    assert_eq!(letters, expected);
}
