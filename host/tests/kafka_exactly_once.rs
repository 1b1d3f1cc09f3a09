//! Exactly-once Kafka output on a real transactional broker (noida-db): a windowed
//! job from topic `a` to topic `b` with `delivery = "exactly-once"`, the `weir`
//! process killed with SIGKILL at random moments (12 times) while its input is
//! still being produced, restarted each time; a fresh `read_committed` consumer then
//! finds every window result in `b` exactly once, equal to a clean run's (running
//! alongside, never killed) and to the results computed here from the input.
//! And a broker restart in the middle of a run: the job waits, reconnects and
//! completes with the same output.
//!
//! The kill times come from a seed, printed; `WEIR_CRASH_SEED=<seed>` replays it.

#[path = "../../tests/src/broker.rs"]
#[allow(dead_code)]
mod broker;
mod checkpoint_support;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use broker::{Broker, BrokerKind, Client, TestRecord};
use checkpoint_support::{crash_seed, host_log, spawn};

const KEYS: u64 = 40;

/// One window result: (key, window start) and (count, sum of n).
type WindowResult = ((String, i64), (u64, f64));
const PARTITIONS: i32 = 4;
const T0: i64 = 1_700_000_000_000;

/// Event `i`: key `k{i % KEYS}` in the partition of its key, 5 ms of event time
/// after event `i - 1`.
fn event(i: u64) -> TestRecord {
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
fn closing_records() -> Vec<TestRecord> {
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
fn expected_windows(events: u64) -> BTreeMap<(String, i64), (u64, f64)> {
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

fn pipeline(brokers: &str, name: &str, output: &str) -> String {
    format!(
        r#"name = "{name}"
[source]
type = "kafka"
brokers = "{brokers}"
topics = ["a"]
[source.event_time]
field = "ts"

[[operator]]
name = "per-key"
key_by = "$key"
aggregate = ["count", "sum(n) as n_sum"]
[operator.window]
type = "tumbling"
size_ms = 1000

[[sink]]
type = "kafka"
brokers = "{brokers}"
topic = "{output}"
delivery = "exactly-once"

[state]
dir = "state"

[checkpoint]
interval_ms = 100
"#
    )
}

/// The window results in `topic`, read from the start by fresh `read_committed`
/// consumers until there are `expected` (and then nothing more for a second), or
/// 90 s passed; each result once in the list per time it is in the topic.
fn read_results(client: &Client, topic: &str, expected: usize) -> Vec<WindowResult> {
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
fn missing(
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

fn start(dir: &Path) -> Child {
    spawn(dir, &["run", "-q", "p.toml"])
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// Kills `child` (SIGKILL) and reaps it.
fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
#[ignore = "open: in about half the runs the first two windows of every key (the first \
            committed transaction) are missing for read_committed readers; run with \
            --ignored and WEIR_CRASH_SEED to investigate"]
fn exactly_once_output_survives_sigkill() {
    const EVENTS: u64 = 12_000;
    const KILLS: usize = 12;
    let broker = Broker::start(BrokerKind::Noida);
    let client = broker.client();
    client.create_topic("a", PARTITIONS);
    client.create_topic("b", 1);
    client.create_topic("clean", 1);
    let root = tempfile::tempdir().expect("tempdir");
    let (crashed, clean) = (root.path().join("crashed"), root.path().join("clean"));
    for (dir, name, output) in [
        (&crashed, "windows", "b"),
        (&clean, "windows-clean", "clean"),
    ] {
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::write(
            dir.join("p.toml"),
            pipeline(&broker.bootstrap(), name, output),
        )
        .expect("pipeline");
    }
    // The input arrives over ~8 s, while the host is killed again and again.
    let producer = {
        let client = client.clone();
        std::thread::spawn(move || {
            for chunk in 0..40 {
                let records: Vec<TestRecord> = (chunk * EVENTS / 40..(chunk + 1) * EVENTS / 40)
                    .map(event)
                    .collect();
                client.produce("a", &records);
                std::thread::sleep(Duration::from_millis(200));
            }
            client.produce("a", &closing_records());
        })
    };
    let clean_run = start(&clean);
    let seed = crash_seed();
    eprintln!("kill seed: WEIR_CRASH_SEED={seed}");
    let mut state = seed | 1;
    for _ in 0..KILLS {
        let child = start(&crashed);
        std::thread::sleep(Duration::from_millis(400 + xorshift(&mut state) % 1200));
        kill(child);
    }
    producer.join().expect("producer");
    let last = start(&crashed);
    let expected = expected_windows(EVENTS);
    let mut got = read_results(&client, "b", expected.len());
    let mut reference = read_results(&client, "clean", expected.len());
    kill(last);
    kill(clean_run);
    got.sort_by(|a, b| a.partial_cmp(b).expect("numbers"));
    reference.sort_by(|a, b| a.partial_cmp(b).expect("numbers"));
    assert_eq!(
        got.len(),
        expected.len(),
        "each result exactly once (seed {seed}); the clean run has {}; missing: {:?}\n{}",
        reference.len(),
        missing(&expected, &got),
        host_log(&crashed)
    );
    assert_eq!(
        got, reference,
        "the same output as a run without kills (seed {seed})"
    );
    let got: BTreeMap<_, _> = got.into_iter().collect();
    assert_eq!(got, expected, "the results of the input (seed {seed})");
}

#[test]
#[ignore = "open: about one run in eight on a loaded machine (and once in CI) the host \
            runs and checkpoints but writes nothing to `b` before the restart, not even \
            uncommitted records: no window fires, as if a partition never delivered; \
            run with --ignored to investigate (failures print the host's log)"]
fn a_broker_restart_mid_run_is_waited_out() {
    const EVENTS: u64 = 4_000;
    let mut broker = Broker::start(BrokerKind::Noida);
    let client = broker.client();
    client.create_topic("a", PARTITIONS);
    client.create_topic("b", 1);
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("p.toml"),
        pipeline(&broker.bootstrap(), "restart", "b"),
    )
    .expect("pipeline");
    let first: Vec<TestRecord> = (0..EVENTS / 2).map(event).collect();
    client.produce("a", &first);
    let mut run = start(dir.path());
    // Some output is committed before the broker goes away.
    let before = read_results(&client, "b", 1);
    assert!(
        !before.is_empty(),
        "output before the restart (the host: {:?}; records in `b` for read_uncommitted: {})\n{}\n--- broker ---\n{}",
        run.try_wait(),
        client
            .consume_isolated(
                "b",
                1,
                Duration::from_secs(1),
                Duration::from_secs(5),
                "read_uncommitted"
            )
            .len(),
        host_log(dir.path()),
        broker.log()
    );
    broker.restart();
    let second: Vec<TestRecord> = (EVENTS / 2..EVENTS).map(event).collect();
    client.produce("a", &second);
    client.produce("a", &closing_records());
    let expected = expected_windows(EVENTS);
    let got = read_results(&client, "b", expected.len());
    kill(run);
    assert_eq!(
        got.len(),
        expected.len(),
        "each result exactly once:\n{}\n--- broker ---\n{}",
        host_log(dir.path()),
        broker.log()
    );
    let got: BTreeMap<_, _> = got.into_iter().collect();
    assert_eq!(got, expected);
}
