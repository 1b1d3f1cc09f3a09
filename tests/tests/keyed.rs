//! Keyed streams (`key_by`) through real pipelines: every event of a key reaches one
//! subtask, the one owning the key's key group, in the order of the input; events
//! without the key field are dead-lettered with the operator and the field named;
//! watermarks reach every subtask of a keyed operator in order. A native operator
//! records what each subtask sees; a second test runs a real plugin from a pipeline
//! file.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use weir_host::batch::{Batch, Timestamp};
use weir_host::config::Route;
use weir_host::connector::Source;
use weir_host::connector::file::{FileDeadLetterSink, FileSink, FileSource};
use weir_host::connector::format::{RecordFormat, SinkFormat};
use weir_host::connector::generator::{GeneratorSource, GeneratorSpec};
use weir_host::runtime::key_selector::KeyBy;
use weir_host::runtime::operator::{Emitted, Operator, OperatorError};
use weir_host::runtime::pipeline::{OperatorSpec, Pipeline, RunOptions, RunReport};
use weir_host::runtime::subtask::SubtaskInfo;
use weir_host::state::{key_group_of, subtask_of};
use weir_host::time::{TimestampSpec, WatermarkSpec};
use weir_tests::{read_json_lines, run_pipeline};

const MAX_KEY_GROUPS: u16 = 64;

/// Emits, per event, `{"subtask","key","seq","group_in_range"}`; records the
/// watermarks its subtask gets and the times of the events, to check lateness.
#[derive(Debug)]
struct Recorder {
    info: SubtaskInfo,
    seen: Arc<Mutex<Vec<(usize, Observed)>>>,
}

#[derive(Debug, Clone, PartialEq)]
enum Observed {
    Event(Timestamp),
    Watermark(Timestamp),
}

impl Operator for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }

    fn process(&mut self, batch: Batch, out: &mut Emitted) -> Result<(), OperatorError> {
        let mut seen = self.seen.lock().expect("lock");
        for event in batch.iter() {
            seen.push((self.info.index, Observed::Event(event.timestamp)));
            let key = event.key.expect("a keyed operator gets keys");
            let value: Value = serde_json::from_slice(event.value).unwrap_or(Value::Null);
            let group = key_group_of(key, self.info.max_key_groups);
            let record = json!({
                "subtask": self.info.index,
                "key": String::from_utf8_lossy(key),
                "seq": value["seq"],
                "id": value["id"],
                "group_in_range": self.info.key_groups.contains(&group),
            });
            out.main
                .push(Some(key), record.to_string().as_bytes(), event.timestamp);
        }
        Ok(())
    }

    fn on_watermark(&mut self, watermark: Timestamp, _: &mut Emitted) -> Result<(), OperatorError> {
        let mut seen = self.seen.lock().expect("lock");
        seen.push((self.info.index, Observed::Watermark(watermark)));
        Ok(())
    }
}

type Seen = Arc<Mutex<Vec<(usize, Observed)>>>;

/// Runs `source` into the recorder, keyed by `key_by` with `parallelism`, writing
/// `out.jsonl` and `dead.jsonl` in `dir`.
async fn run_keyed(
    dir: &Path,
    source: Box<dyn Source>,
    key_by: &str,
    parallelism: usize,
    watermarks: WatermarkSpec,
) -> (RunReport, Seen) {
    let seen: Seen = Arc::default();
    let factory_seen = seen.clone();
    let operator = OperatorSpec {
        name: "by-user".into(),
        plugin: "native".into(),
        parallelism,
        key_by: Some(KeyBy::parse(key_by).expect("valid key_by")),
        outputs: Vec::new(),
        factory: Box::new(move |info, _stats| {
            Ok(Box::new(Recorder {
                info,
                seen: factory_seen.clone(),
            }) as Box<dyn Operator>)
        }),
    };
    let pipeline = Pipeline {
        name: "keyed".into(),
        batch_size: 7,
        channel_capacity: 4,
        max_key_groups: MAX_KEY_GROUPS,
        source,
        watermarks,
        operators: vec![operator],
        sinks: vec![(
            Route::Main,
            Box::new(
                FileSink::create(&dir.join("out.jsonl"), SinkFormat::Value)
                    .await
                    .expect("sink"),
            ),
        )],
        dead_letters: Box::new(
            FileDeadLetterSink::create(&dir.join("dead.jsonl"))
                .await
                .expect("dead letters"),
        ),
    };
    let report = pipeline.run(RunOptions::default()).await.expect("runs");
    (report, seen)
}

/// 300 events of 17 users, their `seq` counting per user; every 50th lacks `user.id`.
fn write_events(path: &Path) -> Vec<Value> {
    let mut per_user = HashMap::new();
    let mut events = Vec::new();
    let mut text = String::new();
    for id in 0..300u64 {
        let event = if id % 50 == 49 {
            json!({"id": id, "user": {}})
        } else {
            let user = format!("u{}", id * 7 % 17);
            let seq = per_user.entry(user.clone()).or_insert(0u64);
            *seq += 1;
            json!({"id": id, "user": {"id": user}, "seq": *seq, "ts": 1_000 + id})
        };
        text.push_str(&format!("{event}\n"));
        events.push(event);
    }
    std::fs::write(path, text).expect("input");
    events
}

#[tokio::test(flavor = "multi_thread")]
async fn every_key_goes_to_one_subtask_in_order() {
    for parallelism in [2, 3] {
        let dir = tempfile::tempdir().expect("temp dir");
        let input = dir.path().join("in.jsonl");
        let events = write_events(&input);
        let source = FileSource::open(&input, RecordFormat::JsonLines, &TimestampSpec::Ingestion)
            .await
            .expect("source");
        let (report, _) = run_keyed(
            dir.path(),
            Box::new(source),
            "user.id",
            parallelism,
            WatermarkSpec::default(),
        )
        .await;

        let out = read_json_lines(&dir.path().join("out.jsonl"));
        assert_eq!(out.len(), 294, "all but the 6 without a user id");
        let mut subtask_of_key: HashMap<String, u64> = HashMap::new();
        let mut last_seq: HashMap<String, u64> = HashMap::new();
        let mut used = std::collections::BTreeSet::new();
        for record in &out {
            let key = record["key"].as_str().expect("key").to_owned();
            let subtask = record["subtask"].as_u64().expect("subtask");
            let expected = subtask_of(
                key_group_of(key.as_bytes(), MAX_KEY_GROUPS),
                MAX_KEY_GROUPS,
                parallelism,
            );
            assert_eq!(
                subtask, expected as u64,
                "{key} goes to its key group's owner"
            );
            assert_eq!(
                *subtask_of_key.entry(key.clone()).or_insert(subtask),
                subtask
            );
            assert_eq!(
                record["group_in_range"], true,
                "SubtaskInfo names its key groups"
            );
            let seq = record["seq"].as_u64().expect("seq");
            let last = last_seq.insert(key.clone(), seq).unwrap_or(0);
            assert_eq!(seq, last + 1, "{key}: per-key order is kept");
            used.insert(subtask);
        }
        assert_eq!(used.len(), parallelism, "every subtask has keys");
        assert_eq!(subtask_of_key.len(), 17);

        let dead = read_json_lines(&dir.path().join("dead.jsonl"));
        assert_eq!(dead.len(), 6);
        assert_eq!(dead[0]["stage"], "operator");
        assert_eq!(dead[0]["operator"], "by-user");
        assert_eq!(
            dead[0]["reason"],
            "operator `by-user` is keyed by field `user.id`, which this event lacks"
        );
        assert_eq!(
            serde_json::from_str::<Value>(dead[0]["value"].as_str().expect("text")).expect("JSON"),
            events[49]
        );
        assert_eq!(report.stats.operators[0].dead_lettered.load(Relaxed), 6);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn watermarks_reach_every_keyed_subtask_in_order_and_nothing_is_late() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = GeneratorSource::new(GeneratorSpec {
        count: Some(3_000),
        keys: 50,
        step_ms: 3,
        disorder_ms: 30,
        ..GeneratorSpec::default()
    });
    let (_, seen) = run_keyed(
        dir.path(),
        Box::new(source),
        "$key",
        3,
        WatermarkSpec {
            delay_ms: 30,
            idle_timeout_ms: None,
        },
    )
    .await;
    let seen = seen.lock().expect("lock");
    for subtask in 0..3 {
        let mut watermark = Timestamp::MIN;
        let mut watermarks = 0;
        for (_, observed) in seen.iter().filter(|(index, _)| *index == subtask) {
            match observed {
                Observed::Watermark(next) => {
                    assert!(
                        *next > watermark,
                        "subtask {subtask}: {next} after {watermark}"
                    );
                    watermark = *next;
                    watermarks += 1;
                }
                Observed::Event(time) => {
                    assert!(
                        *time > watermark,
                        "subtask {subtask}: {time} late for {watermark}"
                    );
                }
            }
        }
        assert_eq!(watermark, Timestamp::MAX, "subtask {subtask} ends at +inf");
        assert!(
            watermarks > 10,
            "subtask {subtask}: {watermarks} watermarks"
        );
    }
    let out = read_json_lines(&dir.path().join("out.jsonl"));
    assert_eq!(out.len(), 3_000, "every generated event has a key");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_plugin_keyed_from_a_pipeline_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut text = String::new();
    for id in 0..200 {
        let line = match id {
            17 => json!({"id": id, "amount": 5}),
            _ => {
                let country = ["DE", "FR", "US", "JP"][id % 4];
                json!({"id": id, "amount": id % 10, "country": country})
            }
        };
        text.push_str(&format!("{line}\n"));
    }
    std::fs::write(dir.path().join("tx.jsonl"), text).expect("input");
    let pipeline = r#"
[runtime]
batch_size = 16
max_key_groups = 32

[source]
type = "file"
path = "tx.jsonl"

[[operator]]
name = "by-country"
plugin = "{plugins}/json_filter.wasm"
parallelism = 3
key_by = "country"
settings = { field = "amount", op = "ge", value = 5 }

[[sink]]
type = "file"
path = "out.jsonl"
format = "envelope"

[dead_letter]
type = "file"
path = "dead.jsonl"
"#;
    run_pipeline(dir.path(), pipeline).await.expect("runs");
    let out = read_json_lines(&dir.path().join("out.jsonl"));
    assert_eq!(
        out.len(),
        99,
        "amount >= 5: half of 200, minus the one without country"
    );
    for envelope in &out {
        let value: Value =
            serde_json::from_str(envelope["value"].as_str().expect("text")).expect("JSON");
        assert_eq!(envelope["key"], value["country"], "the key is the country");
    }
    let dead = read_json_lines(&dir.path().join("dead.jsonl"));
    assert_eq!(dead.len(), 1);
    assert_eq!(
        dead[0]["reason"],
        "operator `by-country` is keyed by field `country`, which this event lacks"
    );
    assert_eq!(
        dead[0]["plugin"]
            .as_str()
            .map(|p| p.starts_with("json-filter@")),
        Some(true)
    );
}
