//! Keyed process functions through the real engine: the `state-ops` and
//! `heartbeat-monitor` plugins, built from `plugins/`, run by `KeyedWasmOperator` over
//! the memory state backend — every state type, time to live, both timer kinds, and the
//! rollback of a failed call's writes.

use std::sync::Arc;

use serde_json::{Value, json};
use weir_host::batch::Batch;
use weir_host::plugin::{PluginLimits, PluginSpec};
use weir_host::runtime::keyed_operator::KeyedWasmOperator;
use weir_host::runtime::keyed_store::OperatorState;
use weir_host::runtime::operator::{Emitted, Operator};
use weir_host::runtime::stats::OperatorStats;
use weir_host::state::{DEFAULT_MAX_KEY_GROUPS, MemoryBackend};
use weir_tests::{loader, plugin};

fn operator(name: &str, settings: Value) -> (KeyedWasmOperator, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let plugin = loader(dir.path())
        .load(PluginSpec {
            operator: name.to_owned(),
            path: plugin(name),
            settings_json: settings.to_string(),
            limits: PluginLimits::default(),
        })
        .expect("the plugin loads");
    let state = OperatorState::restore(Box::new(MemoryBackend::new()), 0..DEFAULT_MAX_KEY_GROUPS)
        .expect("empty state");
    let stats = Arc::new(OperatorStats::new(name, &plugin.identity().to_string()));
    let operator = KeyedWasmOperator::new(plugin, 0, DEFAULT_MAX_KEY_GROUPS, state, stats)
        .expect("the operator starts");
    (operator, dir)
}

fn batch(events: &[(&str, i64, Value)]) -> Batch {
    let mut batch = Batch::default();
    for (key, timestamp, value) in events {
        batch.push(
            Some(key.as_bytes()),
            value.to_string().as_bytes(),
            *timestamp,
        );
    }
    batch
}

fn values(batch: &Batch) -> Vec<Value> {
    batch
        .iter()
        .map(|event| serde_json::from_slice(event.value).expect("JSON output"))
        .collect()
}

/// Runs `events` as one batch and returns the main output's values.
fn run(operator: &mut KeyedWasmOperator, events: &[(&str, i64, Value)]) -> (Vec<Value>, Emitted) {
    let mut out = Emitted::default();
    operator
        .process(batch(events), &mut out)
        .expect("no fatal error");
    let main = values(&std::mem::take(&mut out.main));
    (main, out)
}

fn field<'a>(results: &'a [Value], index: usize, name: &str) -> &'a Value {
    &results[index][name]
}

#[test]
fn value_list_and_map_state_are_per_key() {
    let (mut op, _dir) = operator("state-ops", json!({}));
    let (results, _) = run(
        &mut op,
        &[
            ("a", 1, json!({"op": "value_set", "value": 1})),
            ("b", 1, json!({"op": "value_set", "value": 2})),
            ("a", 2, json!({"op": "list_add", "value": "x"})),
            ("a", 2, json!({"op": "list_add", "value": "y"})),
            ("a", 3, json!({"op": "map_put", "key": "k2", "value": 20})),
            ("a", 3, json!({"op": "map_put", "key": "k1", "value": 10})),
        ],
    );
    assert_eq!(results.len(), 6);
    // A later batch sees what the earlier one committed.
    let (results, _) = run(
        &mut op,
        &[
            ("a", 4, json!({"op": "value_get"})),
            ("b", 4, json!({"op": "value_get"})),
            ("c", 4, json!({"op": "value_get"})),
            ("a", 4, json!({"op": "list_get"})),
            ("b", 4, json!({"op": "list_get"})),
            ("a", 4, json!({"op": "map_get", "key": "k1"})),
            ("a", 4, json!({"op": "map_entries"})),
            ("a", 5, json!({"op": "map_remove", "key": "k1"})),
            ("a", 5, json!({"op": "map_entries"})),
            ("a", 6, json!({"op": "list_replace", "values": [7]})),
            ("a", 6, json!({"op": "list_get"})),
            ("a", 7, json!({"op": "clear", "state": "v"})),
            ("a", 7, json!({"op": "value_get"})),
        ],
    );
    assert_eq!(field(&results, 0, "value"), &json!(1));
    assert_eq!(field(&results, 1, "value"), &json!(2));
    assert_eq!(field(&results, 2, "value"), &Value::Null);
    assert_eq!(field(&results, 3, "values"), &json!(["x", "y"]));
    assert_eq!(field(&results, 4, "values"), &json!([]));
    assert_eq!(field(&results, 5, "value"), &json!(10));
    assert_eq!(
        field(&results, 6, "entries"),
        &json!([["k1", 10], ["k2", 20]])
    );
    assert_eq!(field(&results, 8, "entries"), &json!([["k2", 20]]));
    assert_eq!(field(&results, 10, "values"), &json!([7]));
    assert_eq!(field(&results, 12, "value"), &Value::Null);
}

#[test]
fn entries_with_a_time_to_live_expire_in_event_time() {
    let (mut op, _dir) = operator("state-ops", json!({"ttl_ms": 1000}));
    run(
        &mut op,
        &[(
            "a",
            5_000,
            json!({"op": "value_set", "state": "v_ttl", "value": "fresh"}),
        )],
    );
    let mut out = Emitted::default();
    op.on_watermark(5_999 - 1, &mut out).expect("watermark");
    let (results, _) = run(
        &mut op,
        &[("a", 6_000, json!({"op": "value_get", "state": "v_ttl"}))],
    );
    assert_eq!(
        field(&results, 0, "value"),
        &json!("fresh"),
        "before expiry"
    );
    op.on_watermark(6_000, &mut out).expect("watermark");
    let (results, _) = run(
        &mut op,
        &[("a", 6_001, json!({"op": "value_get", "state": "v_ttl"}))],
    );
    assert_eq!(
        field(&results, 0, "value"),
        &Value::Null,
        "expired at 5000 + 1000"
    );
}

#[test]
fn event_time_timers_fire_in_order_once_and_deleted_ones_never() {
    let (mut op, _dir) = operator("state-ops", json!({}));
    run(
        &mut op,
        &[
            ("b", 1, json!({"op": "timer_event", "at": 300})),
            ("a", 1, json!({"op": "timer_event", "at": 100})),
            ("a", 1, json!({"op": "timer_event", "at": 100})),
            ("c", 1, json!({"op": "timer_event", "at": 200})),
            ("c", 1, json!({"op": "timer_event", "at": 250})),
            ("c", 2, json!({"op": "timer_delete", "at": 250})),
        ],
    );
    let mut out = Emitted::default();
    op.on_watermark(99, &mut out).expect("watermark");
    assert!(out.main.is_empty(), "nothing is due before 100");
    op.on_watermark(1_000, &mut out).expect("watermark");
    let fired: Vec<(Value, Value)> = values(&out.main)
        .into_iter()
        .map(|timer| (timer["timer"].clone(), timer["key"].clone()))
        .collect();
    assert_eq!(
        fired,
        [
            (json!(100), json!("a")),
            (json!(200), json!("c")),
            (json!(300), json!("b"))
        ]
    );
    let mut again = Emitted::default();
    op.on_watermark(2_000, &mut again).expect("watermark");
    assert!(again.main.is_empty(), "a timer fires once");
}

#[test]
fn processing_time_timers_fire_on_the_clock() {
    let (mut op, _dir) = operator("state-ops", json!({}));
    run(
        &mut op,
        &[("a", 1, json!({"op": "timer_processing", "at": 50_000}))],
    );
    let mut out = Emitted::default();
    op.on_processing_time(49_999, &mut out).expect("tick");
    assert!(out.main.is_empty());
    op.on_processing_time(50_000, &mut out).expect("tick");
    let fired = values(&out.main);
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0]["domain"], json!("processing-time"));
}

#[test]
fn a_failed_batch_leaves_no_state_behind_and_each_good_event_counts_once() {
    let (mut op, _dir) = operator("state-ops", json!({}));
    let (results, out) = run(
        &mut op,
        &[
            ("a", 1, json!({"op": "list_add", "value": 1})),
            ("a", 2, json!({"op": "fail", "message": "boom"})),
            ("a", 3, json!({"op": "list_add", "value": 3})),
        ],
    );
    assert_eq!(results.len(), 2, "the two good events flow on");
    assert_eq!(out.dead_letters.len(), 1);
    assert!(
        out.dead_letters[0].reason.contains("boom"),
        "{}",
        out.dead_letters[0].reason
    );
    let (results, _) = run(&mut op, &[("a", 4, json!({"op": "list_get"}))]);
    assert_eq!(
        field(&results, 0, "values"),
        &json!([1, 3]),
        "the failed call's writes were rolled back, then each event ran once"
    );
}

#[test]
fn heartbeat_monitor_alerts_once_for_a_silent_device() {
    let (mut op, _dir) = operator("heartbeat-monitor", json!({"timeout_ms": 1000}));
    let beat = json!({"beat": true});
    run(
        &mut op,
        &[
            ("d1", 0, beat.clone()),
            ("d2", 0, beat.clone()),
            ("d1", 800, beat.clone()),
            ("d2", 500, beat.clone()),
        ],
    );
    let mut out = Emitted::default();
    op.on_watermark(1_600, &mut out).expect("watermark");
    let alerts = |out: &Emitted| -> Vec<Value> {
        out.named
            .iter()
            .filter(|(name, _)| name == "alerts")
            .flat_map(|(_, batch)| values(batch))
            .collect()
    };
    let first = alerts(&out);
    assert_eq!(first.len(), 1, "{first:?}");
    assert_eq!(first[0]["device"], json!("d2"));
    assert_eq!(first[0]["silent_since"], json!(1_500));
    let mut later = Emitted::default();
    op.on_watermark(i64::MAX, &mut later).expect("watermark");
    let second = alerts(&later);
    assert_eq!(
        second.len(),
        1,
        "d1 goes silent too; d2 is not reported twice: {second:?}"
    );
    assert_eq!(second[0]["device"], json!("d1"));
    assert_eq!(second[0]["last_seen"], json!(800));
}

/// The heartbeat example's input through a whole pipeline: file source with event
/// time, `key_by`, the plugin at parallelism 1 and 2, alerts routed to their own sink.
#[tokio::test(flavor = "multi_thread")]
async fn a_keyed_pipeline_gives_the_same_alerts_at_any_parallelism() {
    let input = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/windows/heartbeats.jsonl");
    let mut outputs = Vec::new();
    for parallelism in [1, 2] {
        let dir = tempfile::tempdir().expect("temp dir");
        let pipeline = format!(
            r#"
[source]
type = "file"
path = "{input}"
[source.event_time]
field = "ts"
watermark_delay_ms = 1000

[[operator]]
name = "silent"
plugin = "{{plugins}}/heartbeat_monitor.wasm"
key_by = "device"
parallelism = {parallelism}
settings = {{ timeout_ms = 30000 }}

[[sink]]
type = "discard"

[[sink]]
type = "file"
path = "alerts.jsonl"
from = "silent.alerts"
"#,
            input = input.display()
        );
        let report = weir_tests::run_pipeline(dir.path(), &pipeline)
            .await
            .expect("the pipeline runs");
        assert_eq!(
            report
                .stats
                .events_read
                .load(std::sync::atomic::Ordering::Relaxed),
            73
        );
        let mut alerts = weir_tests::read_json_lines(&dir.path().join("alerts.jsonl"));
        alerts.sort_by_key(|alert| alert["device"].to_string());
        outputs.push(alerts);
    }
    // pump-2 stops after 2 minutes; at the end of the file every device's last timer
    // fires (the end of input is a watermark of +inf).
    let devices: Vec<&str> = outputs[0]
        .iter()
        .map(|alert| alert["device"].as_str().expect("device"))
        .collect();
    assert_eq!(devices, ["fan-1", "pump-1", "pump-2"]);
    let pump2 = &outputs[0][2];
    assert_eq!(
        pump2["silent_since"].as_i64().expect("time") - pump2["last_seen"].as_i64().expect("time"),
        30_000
    );
    assert_eq!(
        outputs[0], outputs[1],
        "parallelism does not change the result"
    );
}
