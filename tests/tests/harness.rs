//! The plugin test harness (`weir-harness`) on real plugins from `plugins/`: maps with
//! dead letters and named outputs, a trap contained to its event, keyed state and
//! event-time timers (read and preset), processing time under the harness's clock,
//! window aggregates with a `late` output, and the restore law: a snapshot, a restore
//! into a fresh harness and the rest of the input give exactly the output of an
//! uninterrupted run — for keyed state, window aggregates and window process
//! functions, on both state backends.

use serde_json::{Value, json};
use weir_harness::{
    BackendKind, Harness, HarnessConfig, InputEvent, Output, PendingTimer, TimeDomain,
    assert_output, diff_output, window_from_toml,
};
use weir_host::harness::diff::render_diff;
use weir_tests::plugin;

fn config(name: &str, settings: Value) -> HarnessConfig {
    let mut config = HarnessConfig::new(plugin(name));
    config.settings_json = settings.to_string();
    config.cache_dir = Some(std::env::temp_dir().join("weir-harness-test-cache"));
    config
}

fn event(value: Value, time: i64) -> InputEvent {
    InputEvent::new(value.to_string(), time)
}

fn values(outputs: &[&Output]) -> Vec<Value> {
    outputs
        .iter()
        .map(|output| output.json().unwrap_or(Value::Null))
        .collect()
}

#[test]
fn a_filter_keeps_and_dead_letters_with_the_reason() -> anyhow::Result<()> {
    let mut harness = Harness::new(config(
        "json-filter",
        json!({ "field": "amount", "value": 100.0 }),
    ))?;
    harness.process(&[
        event(json!({ "amount": 150 }), 1),
        event(json!({ "amount": 20 }), 2),
        event(json!({ "amount": "lots" }), 3),
        InputEvent::new("not json", 4),
    ])?;
    assert_output(&harness, "main", &[json!({ "amount": 150 })]);
    let dead: Vec<(Option<i64>, Option<String>)> = harness
        .outputs_of("dead-letter")
        .iter()
        .map(|letter| (letter.timestamp, letter.reason.clone()))
        .collect();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(dead[0].0, Some(3));
    assert_eq!(
        dead[0].1.as_deref(),
        Some("field `amount` is not a number"),
        "{dead:?}"
    );
    assert_eq!(dead[1].0, Some(4));
    Ok(())
}

#[test]
fn a_named_output_is_recorded_under_its_name() -> anyhow::Result<()> {
    let mut harness = Harness::new(config(
        "enrich",
        json!({ "add": { "seen": true }, "alert_field": "amount", "alert_above": 450.0 }),
    ))?;
    harness.process(&[
        event(json!({ "amount": 500 }), 1),
        event(json!({ "amount": 5 }), 2),
    ])?;
    assert_output(
        &harness,
        "main",
        &[
            json!({ "amount": 500, "seen": true }),
            json!({ "amount": 5, "seen": true }),
        ],
    );
    assert_output(
        &harness,
        "alerts",
        &[json!({ "amount": 500, "seen": true })],
    );
    Ok(())
}

#[test]
fn a_trap_dead_letters_its_event_and_the_rest_flows_on() -> anyhow::Result<()> {
    let mut harness = Harness::new(config("trap-on-marker", json!({})))?;
    harness.process(&[
        InputEvent::new("a", 1),
        InputEvent::new("poison", 2),
        InputEvent::new("b", 3),
    ])?;
    let main: Vec<&[u8]> = harness
        .outputs_of("main")
        .iter()
        .map(|output| output.value.as_slice())
        .collect();
    assert_eq!(main, [b"a".as_slice(), b"b".as_slice()]);
    let dead = harness.outputs_of("dead-letter");
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].value, b"poison");
    assert!(
        dead[0]
            .reason
            .as_deref()
            .is_some_and(|reason| reason.contains("trap")),
        "{:?}",
        dead[0].reason
    );
    // The batch trapped, then the poison event alone, as in a pipeline.
    assert_eq!(
        harness
            .stats()
            .traps
            .load(std::sync::atomic::Ordering::Relaxed),
        2
    );
    Ok(())
}

fn heartbeat_monitor() -> HarnessConfig {
    let mut config = config("heartbeat-monitor", json!({ "timeout_ms": 1000 }));
    config.key_by = Some("device".into());
    config
}

#[test]
fn timers_fire_when_the_watermark_passes_them_and_state_is_readable() -> anyhow::Result<()> {
    let mut harness = Harness::new(heartbeat_monitor())?;
    harness.process(&[
        event(json!({ "device": "a" }), 100),
        event(json!({ "device": "b" }), 200),
        event(json!({ "device": "a" }), 900),
    ])?;
    assert_eq!(
        harness.pending_timers()?,
        [
            PendingTimer {
                domain: TimeDomain::EventTime,
                key: b"b".to_vec(),
                at: 1200
            },
            PendingTimer {
                domain: TimeDomain::EventTime,
                key: b"a".to_vec(),
                at: 1900
            },
        ]
    );
    harness.advance_watermark(1199)?;
    assert_output(&harness, "alerts", &[]);
    harness.advance_watermark(1500)?;
    assert_output(
        &harness,
        "alerts",
        &[json!({ "device": "b", "last_seen": 200, "silent_since": 1200, "heartbeats": 1 })],
    );
    // The Rust SDK stores a `u64` in postcard: one byte below 128.
    assert_eq!(harness.value_state("heartbeats", b"a")?, Some(vec![2]));
    assert_eq!(harness.value_state("heartbeats", b"nobody")?, None);
    let unknown = harness.value_state("no-such-state", b"a").map(|_| ());
    assert!(unknown.is_err_and(|error| {
        error
            .to_string()
            .contains("declares no state `no-such-state`")
    }));
    Ok(())
}

#[test]
fn preset_state_and_timers_are_what_the_plugin_sees() -> anyhow::Result<()> {
    let mut harness = Harness::new(heartbeat_monitor())?;
    harness.advance_watermark(0)?;
    harness.write_state(|state| {
        state.set_value("heartbeats", b"x", &[41])?;
        // `last_seen` and `deadline` are i64 in postcard: zig-zag varints (500 -> 1000).
        state.set_value("last_seen", b"x", &[0xe8, 0x07])?;
        state.set_value("deadline", b"x", &[0xd0, 0x0f])?;
        state.register_timer(TimeDomain::EventTime, b"x", 1000)
    })?;
    harness.advance_watermark(1000)?;
    assert_output(
        &harness,
        "alerts",
        &[json!({ "device": "x", "last_seen": 500, "silent_since": 1000, "heartbeats": 41 })],
    );
    harness.process(&[event(json!({ "device": "x" }), 1100)])?;
    assert_eq!(harness.value_state("heartbeats", b"x")?, Some(vec![42]));
    Ok(())
}

#[test]
fn plugins_see_the_harness_clock_and_processing_timers_follow_it() -> anyhow::Result<()> {
    let mut config = config("state-ops", json!({}));
    config.key_by = Some("$key".into());
    let mut harness = Harness::new(config)?;
    harness.set_processing_time(10_000)?;
    let command = |op: Value| InputEvent::new(op.to_string(), 5).with_key("k");
    harness.process(&[
        command(json!({ "op": "processing_time" })),
        command(json!({ "op": "timer_processing", "at": 10_500 })),
    ])?;
    harness.advance_processing_time(499)?;
    harness.advance_processing_time(1)?;
    let main = values(&harness.outputs_of("main"));
    assert_eq!(main[0]["processing_time"], json!(10_000), "{main:?}");
    assert_eq!(
        main.last(),
        Some(&json!({ "timer": 10_500, "domain": "processing-time", "key": "k" })),
        "{main:?}"
    );
    assert_eq!(main.len(), 3, "the timer fired once, at 10 500: {main:?}");
    Ok(())
}

#[test]
fn a_failed_comparison_shows_a_diff_of_the_lines() -> anyhow::Result<()> {
    let mut harness = Harness::new(config("json-filter", json!({ "field": "n", "value": 0.0 })))?;
    harness.process(&[event(json!({ "n": 1 }), 1), event(json!({ "n": 2 }), 2)])?;
    let diff = diff_output(&harness, "main", &[json!({ "n": 1 }), json!({ "n": 3 })]);
    assert_eq!(
        diff.as_deref(),
        Some("    1   1 | {\"n\":1}\n-   2     | {\"n\":3}\n+       2 | {\"n\":2}\n")
    );
    Ok(())
}

fn rolling_stats(window: &str) -> anyhow::Result<HarnessConfig> {
    let mut config = config("rolling-stats", json!({ "field": "amount" }));
    config.key_by = Some("card".into());
    config.window = Some(window_from_toml(window).map_err(anyhow::Error::msg)?);
    Ok(config)
}

#[test]
fn windows_fire_at_the_watermark_and_late_events_go_to_late() -> anyhow::Result<()> {
    let mut harness = Harness::new(rolling_stats("type = \"tumbling\"\nsize_ms = 1000")?)?;
    harness.process(&[
        event(json!({ "card": "c", "amount": 2 }), 10),
        event(json!({ "card": "c", "amount": 4 }), 990),
    ])?;
    harness.advance_watermark(998)?;
    assert_output(&harness, "main", &[]);
    harness.advance_watermark(999)?;
    let main = harness.outputs_of("main");
    assert_eq!(main.len(), 1);
    assert_eq!(main[0].timestamp, Some(999));
    assert_eq!(
        main[0].json().map(|value| value["sum"].clone()),
        Some(json!(6))
    );
    harness.process(&[event(json!({ "card": "c", "amount": 1 }), 500)])?;
    assert_output(&harness, "late", &[json!({ "card": "c", "amount": 1 })]);
    Ok(())
}

/// A deterministic input: events of a few keys, slightly out of order, with
/// watermarks every few events.
fn script(key_field: &str, steps: usize) -> Vec<Step> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut out = Vec::new();
    let mut time = 0_i64;
    for index in 0..steps {
        time += (next() % 400) as i64;
        let key = ["a", "b", "c"][(next() % 3) as usize];
        let jitter = (next() % 300) as i64;
        let page = ["home", "cart", "pay"][index % 3];
        let mut value = json!({ "amount": next() % 100, "page": page });
        value[key_field] = json!(key);
        out.push(Step::Event(event(value, (time - jitter).max(0))));
        if index % 4 == 3 {
            out.push(Step::Watermark(time - 300));
        }
    }
    out.push(Step::End);
    out
}

#[derive(Debug, Clone)]
enum Step {
    Event(InputEvent),
    Watermark(i64),
    End,
}

fn run(harness: &mut Harness, steps: &[Step]) -> anyhow::Result<()> {
    for step in steps {
        match step {
            Step::Event(event) => harness.process(std::slice::from_ref(event))?,
            Step::Watermark(watermark) => {
                let watermark = (*watermark).max(harness.watermark().unwrap_or(i64::MIN));
                harness.advance_watermark(watermark)?;
            }
            Step::End => harness.end_of_input()?,
        }
    }
    Ok(())
}

fn as_strs(lines: &[String]) -> Vec<&str> {
    lines.iter().map(String::as_str).collect()
}

/// Snapshot at `cut`, restore into a fresh harness, go on: the same output.
fn restore_law(config: &HarnessConfig, steps: &[Step]) -> anyhow::Result<()> {
    let mut straight = Harness::new(config.clone())?;
    run(&mut straight, steps)?;
    let expected = straight.take_outputs();
    assert!(
        expected.iter().any(|output| output.output == "main"),
        "the case produces output"
    );
    for cut in [1, steps.len() / 3, steps.len() / 2, steps.len() - 2] {
        let mut first = Harness::new(config.clone())?;
        run(&mut first, &steps[..cut])?;
        let snapshot = first.snapshot()?;
        let mut outputs = first.take_outputs();
        drop(first);
        let mut second = Harness::new(config.clone())?;
        second.restore(&snapshot)?;
        run(&mut second, &steps[cut..])?;
        outputs.extend(second.take_outputs());
        if outputs != expected {
            let lines = |records: &[Output]| -> Vec<String> {
                records
                    .iter()
                    .map(|record| record.to_json().to_string())
                    .collect()
            };
            let (expected, actual) = (lines(&expected), lines(&outputs));
            panic!(
                "{} (cut after step {cut}, {:?}): the restored run differs:\n{}",
                config.component.display(),
                config.backend,
                render_diff(&as_strs(&expected), &as_strs(&actual))
            );
        }
    }
    Ok(())
}

#[test]
fn snapshot_restore_continue_equals_an_uninterrupted_run() -> anyhow::Result<()> {
    for backend in [BackendKind::Memory, BackendKind::RocksDb] {
        let mut keyed = heartbeat_monitor();
        keyed.backend = backend;
        restore_law(&keyed, &script("device", 40))?;

        let mut tumbling =
            rolling_stats("type = \"tumbling\"\nsize_ms = 1000\nallowed_lateness_ms = 200")?;
        tumbling.backend = backend;
        restore_law(&tumbling, &script("card", 40))?;

        let mut sliding = rolling_stats("type = \"sliding\"\nsize_ms = 1000\nslide_ms = 250")?;
        sliding.backend = backend;
        restore_law(&sliding, &script("card", 40))?;

        let mut sessions = config("session-features", json!({ "field": "page" }));
        sessions.key_by = Some("user".into());
        sessions.window =
            Some(window_from_toml("type = \"session\"\ngap_ms = 500").map_err(anyhow::Error::msg)?);
        sessions.backend = backend;
        restore_law(&sessions, &script("user", 40))?;

        let mut firings = config("window-firings", json!({}));
        firings.key_by = Some("user".into());
        firings.window = Some(
            window_from_toml("type = \"tumbling\"\nsize_ms = 1000\nallowed_lateness_ms = 500")
                .map_err(anyhow::Error::msg)?,
        );
        firings.backend = backend;
        restore_law(&firings, &script("user", 40))?;
    }
    Ok(())
}
