//! Scale-out through a consumer group on a real broker (tansu): two `weir` hosts run
//! the same windowed pipeline (`scale_out = true`) in one group over a 4-partition
//! topic, with one state directory; the second host joins mid-stream and later stops
//! (SIGTERM: its tasks take savepoints and it leaves the group) or dies (SIGKILL); the
//! first takes its partitions over with their state. The combined output must be the
//! single-host result, computed here from the input: each window exactly once after a
//! clean stop, each window with its one right value after a kill (an at-least-once
//! sink may repeat what followed the dead host's last checkpoint).

#[path = "../../tests/src/broker.rs"]
#[allow(dead_code)]
mod broker;
mod checkpoint_support;
#[allow(dead_code)]
mod kafka_windows;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use broker::{Broker, BrokerKind, Client, TestRecord};
use checkpoint_support::{HOST_LOG, host_log, spawn};
use kafka_windows::{PARTITIONS, T0, closing_records, event, expected_windows, read_results};

const EVENTS: u64 = 4_000;

/// How the pipeline finds its keys.
#[derive(Clone, Copy)]
enum Input {
    /// Each key in one partition of `a` (the record key).
    Keyed,
    /// Keys spread over the partitions of `a` (a `card` field): through the
    /// repartition topic `by-card` first.
    Spread,
}

fn pipeline(brokers: &str, state: &Path, input: Input) -> String {
    let (repartition, delay, key_by) = match input {
        Input::Keyed => ("", 0, "$key"),
        // The repartition topic interleaves the input partitions: a watermark delay
        // longer than the input's time span keeps every window open to the end.
        Input::Spread => ("repartition_topic = \"by-card\"\n", 60_000, "card"),
    };
    format!(
        r#"name = "scaled"
[source]
type = "kafka"
brokers = "{brokers}"
topics = ["a"]
scale_out = true
{repartition}properties = {{ "session.timeout.ms" = "6000", "heartbeat.interval.ms" = "500" }}
[source.event_time]
field = "ts"
watermark_delay_ms = {delay}

[[operator]]
name = "per-key"
key_by = "{key_by}"
aggregate = ["count", "sum(n) as n_sum"]
[operator.window]
type = "tumbling"
size_ms = 1000

[[sink]]
type = "kafka"
brokers = "{brokers}"
topic = "b"

[state]
dir = "{}"

[checkpoint]
interval_ms = 200
"#,
        state.display()
    )
}

/// All the hosts started in `dir` printed (what [`host_log`] shows is its end only).
fn full_log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join(HOST_LOG)).unwrap_or_default()
}

/// Waits until the host log in `dir` has a line with `text`.
fn wait_for_log(dir: &Path, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !full_log(dir).contains(text) {
        assert!(
            Instant::now() < deadline,
            "no `{text}` in the host's log within 60 s:\n{}",
            host_log(dir)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn produce(client: &Client, events: std::ops::Range<u64>) {
    let records: Vec<TestRecord> = events.map(event).collect();
    client.produce("a", &records);
}

/// Sends SIGTERM to `child` and waits (up to a minute) for it to stop.
fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "SIGTERM sent");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "the host stopped within a minute"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The two hosts' directories (each its own log), sharing `state`.
struct Hosts {
    _root: tempfile::TempDir,
    first: std::path::PathBuf,
    second: std::path::PathBuf,
}

fn hosts(broker: &Broker, input: Input) -> Hosts {
    let root = tempfile::tempdir().expect("tempdir");
    let state = root.path().join("shared-state");
    let (first, second) = (root.path().join("host-1"), root.path().join("host-2"));
    for dir in [&first, &second] {
        std::fs::create_dir_all(dir).expect("dir");
        std::fs::write(
            dir.join("p.toml"),
            pipeline(&broker.bootstrap(), &state, input),
        )
        .expect("pipeline");
    }
    Hosts {
        _root: root,
        first,
        second,
    }
}

/// The first host alone, then both (the second has partitions and the first has
/// handed them over from savepoints), with the first 3,000 events processed up to
/// their closed windows. Returns both running hosts.
fn run_two_hosts(client: &Client, hosts: &Hosts) -> (Child, Child) {
    produce(client, 0..EVENTS / 4);
    let first = spawn(&hosts.first, &["run", "-q", "p.toml"]);
    wait_for_log(&hosts.first, "assigned a-");
    assert!(
        !read_results(client, "b", 1).is_empty(),
        "the first host's output"
    );
    let second = spawn(&hosts.second, &["run", "-q", "p.toml"]);
    wait_for_log(&hosts.second, "assigned a-");
    produce(client, EVENTS / 4..EVENTS * 3 / 4);
    // Windows up to event 2,500 are closed by the events after them, in each partition.
    let closed = expected_windows(EVENTS * 5 / 8).len();
    let seen = read_results(client, "b", closed).len();
    assert!(
        seen >= closed,
        "{seen} of {closed} results while both hosts run\n--- host 1 ---\n{}\n--- host 2 ---\n{}",
        host_log(&hosts.first),
        host_log(&hosts.second)
    );
    (first, second)
}

/// All results, read back once the first host runs alone with the rest of the input
/// (and the records that close every window); then the first host stopped.
fn finish_on_the_first_host(
    client: &Client,
    hosts: &Hosts,
    mut first: Child,
) -> Vec<kafka_windows::WindowResult> {
    let expected = expected_windows(EVENTS).len();
    // After a kill, results may repeat: read until every window is there.
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut wanted = expected;
    let got = loop {
        let got = read_results(client, "b", wanted);
        let distinct = got
            .iter()
            .map(|(window, _)| window)
            .collect::<std::collections::BTreeSet<_>>()
            .len();
        if distinct >= expected || Instant::now() > deadline {
            break got;
        }
        wanted = got.len() + expected - distinct;
    };
    let status = terminate(&mut first);
    assert!(
        status.success(),
        "the first host stops cleanly on SIGTERM ({status})\n{}",
        host_log(&hosts.first)
    );
    got
}

/// A broker with the input topic `a` and the output topic `b`.
fn broker_with_topics() -> (Broker, Client) {
    let broker = Broker::start(BrokerKind::Tansu);
    let client = broker.client();
    client.create_topic("a", PARTITIONS);
    client.create_topic("b", 1);
    (broker, client)
}

#[test]
fn a_host_that_leaves_hands_its_partitions_and_state_over_exactly_once() {
    let (broker, client) = broker_with_topics();
    let hosts = hosts(&broker, Input::Keyed);
    let (first, mut second) = run_two_hosts(&client, &hosts);
    let status = terminate(&mut second);
    assert!(
        status.success(),
        "the second host stops cleanly on SIGTERM ({status})\n{}",
        host_log(&hosts.second)
    );
    produce(&client, EVENTS * 3 / 4..EVENTS);
    client.produce("a", &closing_records());
    let got = finish_on_the_first_host(&client, &hosts, first);
    let log = host_log(&hosts.first);
    assert!(
        full_log(&hosts.first).contains("restored checkpoint"),
        "the first host restored the tasks the second had:\n{log}"
    );
    let expected = expected_windows(EVENTS);
    assert_eq!(
        got.len(),
        expected.len(),
        "each window exactly once\n--- host 1 ---\n{log}\n--- host 2 ---\n{}",
        host_log(&hosts.second)
    );
    let got: BTreeMap<_, _> = got.into_iter().collect();
    assert_eq!(got, expected, "the single-host results");
}

#[test]
fn a_host_that_dies_is_replaced_from_its_tasks_checkpoints() {
    let (broker, client) = broker_with_topics();
    let hosts = hosts(&broker, Input::Keyed);
    let (first, mut second) = run_two_hosts(&client, &hosts);
    second.kill().expect("SIGKILL");
    second.wait().expect("reaped");
    produce(&client, EVENTS * 3 / 4..EVENTS);
    client.produce("a", &closing_records());
    let got = finish_on_the_first_host(&client, &hosts, first);
    let expected = expected_windows(EVENTS);
    let mut values: BTreeMap<(String, i64), Vec<(u64, f64)>> = BTreeMap::new();
    for (window, value) in got {
        values.entry(window).or_default().push(value);
    }
    let log = host_log(&hosts.first);
    assert_eq!(
        values.len(),
        expected.len(),
        "every window\n--- host 1 ---\n{log}\n--- host 2 ---\n{}",
        host_log(&hosts.second)
    );
    for (window, repeated) in &values {
        // A window fired again after the takeover has the same value: the state came
        // from the dead host's checkpoint and the events after it were read again.
        assert!(
            repeated
                .iter()
                .all(|value| Some(value) == expected.get(window)),
            "window {window:?}: {repeated:?}, expected {:?}",
            expected.get(window)
        );
    }
}

/// Event `i` of [`event`] with its key in a `card` field instead, in partition `i % 4`:
/// every key is in every partition.
fn spread_event(i: u64) -> TestRecord {
    let keyed = event(i);
    let value: serde_json::Value = serde_json::from_slice(&keyed.value).expect("JSON");
    let card = String::from_utf8(keyed.key.expect("key")).expect("text");
    TestRecord {
        partition: i32::try_from(i % 4).expect("small"),
        key: None,
        value: serde_json::json!({"card": card, "n": value["n"], "ts": value["ts"]})
            .to_string()
            .into_bytes(),
        ..TestRecord::default()
    }
}

fn produce_spread(client: &Client, events: std::ops::Range<u64>) {
    let records: Vec<TestRecord> = events.map(spread_event).collect();
    client.produce("a", &records);
}

#[test]
fn input_not_keyed_by_partition_goes_through_a_repartition_topic() {
    const REPARTITIONED: usize = EVENTS as usize * 3 / 4;
    let (broker, client) = broker_with_topics();
    client.create_topic("by-card", PARTITIONS);
    let hosts = hosts(&broker, Input::Spread);
    produce_spread(&client, 0..EVENTS / 4);
    let first = spawn(&hosts.first, &["run", "-q", "p.toml"]);
    wait_for_log(&hosts.first, "assigned a-");
    let mut second = spawn(&hosts.second, &["run", "-q", "p.toml"]);
    wait_for_log(&hosts.second, "assigned a-");
    produce_spread(&client, EVENTS / 4..EVENTS * 3 / 4);
    // Both hosts' input tasks have keyed what there is so far.
    let keyed = client.consume(
        "by-card",
        REPARTITIONED,
        Duration::from_secs(1),
        Duration::from_secs(60),
    );
    // The message (a second, fresh read) is only built on failure.
    assert_eq!(
        keyed.len(),
        REPARTITIONED,
        "each event once in the repartition topic\n{}\n--- host 1 ---\n{}\n--- host 2 ---\n{}",
        client.explain_short_read("by-card", &keyed, REPARTITIONED),
        host_log(&hosts.first),
        host_log(&hosts.second)
    );
    let status = terminate(&mut second);
    assert!(status.success(), "the second host stops cleanly ({status})");
    produce_spread(&client, EVENTS * 3 / 4..EVENTS);
    // Every event is in the repartition topic before the records that close the
    // windows: they would make the stragglers late.
    let keyed = client.consume(
        "by-card",
        EVENTS as usize,
        Duration::from_secs(1),
        Duration::from_secs(60),
    );
    assert_eq!(
        keyed.len(),
        EVENTS as usize,
        "each event once in the repartition topic\n{}\n--- host 1 ---\n{}",
        client.explain_short_read("by-card", &keyed, EVENTS as usize),
        host_log(&hosts.first)
    );
    // Cards `end-*` far ahead in time: spread over the repartition topic's partitions,
    // they close every window there.
    let closing: Vec<TestRecord> = (0..64)
        .map(|n| TestRecord {
            partition: n % PARTITIONS,
            key: None,
            value: format!(r#"{{"card":"end-{n}","n":0,"ts":{}}}"#, T0 + 10_000_000).into_bytes(),
            ..TestRecord::default()
        })
        .collect();
    client.produce("a", &closing);
    let got = finish_on_the_first_host(&client, &hosts, first);
    let log = host_log(&hosts.first);
    let full = full_log(&hosts.first);
    assert!(
        full.contains("task scaled.by-card-") && full.contains("restored checkpoint"),
        "the first host runs the repartition topic's tasks, from checkpoints:\n{log}"
    );
    let expected = expected_windows(EVENTS);
    assert_eq!(
        got.len(),
        expected.len(),
        "each window exactly once\n--- host 1 ---\n{log}"
    );
    let got: BTreeMap<_, _> = got.into_iter().collect();
    assert_eq!(got, expected, "the single-host results");
}
