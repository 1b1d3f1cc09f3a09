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
mod kafka_windows;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Child;
use std::time::Duration;

use broker::{Broker, BrokerKind, TestRecord};
use checkpoint_support::{crash_seed, host_log, spawn};
use kafka_windows::{
    PARTITIONS, T0, closing_records, event, expected_windows, missing, read_results,
};
use weir_host::batch::Batch;
use weir_host::connector::kafka::retention::RetentionCheck;

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

/// A running `weir` host, killed (SIGKILL) and reaped when dropped: a test that fails
/// leaves no host behind to load the machine for the tests after it.
struct Host(Child);

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(dir: &Path) -> Host {
    Host(spawn(dir, &["run", "-q", "p.toml"]))
}

fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

#[test]
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
        drop(child);
    }
    producer.join().expect("producer");
    let last = start(&crashed);
    let expected = expected_windows(EVENTS);
    let mut got = read_results(&client, "b", expected.len());
    let mut reference = read_results(&client, "clean", expected.len());
    drop(last);
    // The clean run serves its input until killed: an exit of its own was a failure.
    let mut clean_run = clean_run;
    let clean_exit = clean_run.0.try_wait().expect("the clean run's status");
    drop(clean_run);
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
        got,
        reference,
        "the same output as a run without kills (seed {seed}); the clean run {}; its log:\n{}",
        match clean_exit {
            Some(status) => format!("exited by itself ({status})"),
            None => "was still running".to_owned(),
        },
        host_log(&clean)
    );
    let got: BTreeMap<_, _> = got.into_iter().collect();
    assert_eq!(got, expected, "the results of the input (seed {seed})");
}

#[test]
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
        run.0.try_wait(),
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
    drop(run);
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

/// A sink reads its topic's time retention: a topic under the broker's default (7 days
/// on record timestamps) expires output over 2023's event time, and the sink says so;
/// a topic kept without a limit does not.
#[test]
fn a_sink_knows_when_its_topic_expires_old_records() {
    let broker = Broker::start(BrokerKind::Noida);
    let client = broker.client();
    client.create_topic_with("dated", 1, &[]);
    client.create_topic("kept", 1);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let read = |topic: &str| {
        runtime.block_on(RetentionCheck::read(
            &broker.bootstrap(),
            &BTreeMap::new(),
            topic,
            topic,
        ))
    };
    let mut dated = read("dated");
    assert_eq!(dated.retention_ms(), Some(7 * 24 * 3_600_000));
    let mut old = Batch::default();
    old.push(None, b"{}", T0);
    assert!(dated.check(&old), "2023's records are past 7 days");
    let mut kept = read("kept");
    assert_eq!(kept.retention_ms(), None);
    assert!(!kept.check(&old));
}
