//! Built-in aggregates in the operator: results against sums computed here, and
//! events with a bad field dead-lettered with the reason.

use weir_batch::Batch;

use crate::runtime::dead_letter::Origin;
use crate::runtime::operator::{Emitted, Operator};
use crate::window::WindowOperator;
use crate::window::builtin::{BUILTIN_PLUGIN, Builtins};
use crate::window::spec::{AssignerSpec, WindowSpec};

fn operator(list: &str, assigner: AssignerSpec) -> WindowOperator {
    let builtins = Builtins::parse(list).expect("valid list");
    WindowOperator::builtin("totals", WindowSpec::new(assigner), builtins).expect("valid spec")
}

fn results(out: &Emitted) -> Vec<serde_json::Value> {
    out.main
        .iter()
        .map(|e| serde_json::from_slice(e.value).expect("JSON result"))
        .collect()
}

#[test]
fn count_sum_min_max_mean_with_bad_fields_dead_lettered() {
    let mut op = operator(
        "[count, sum(amount), min(amount), max(amount), mean(amount) as avg, sum(p.q)]",
        AssignerSpec::Tumbling {
            size_ms: 10,
            offset_ms: 0,
        },
    );
    let mut batch = Batch::default();
    let good = [
        ("a", 1, r#"{"amount": 2.5, "p": {"q": 1}}"#),
        (
            "a",
            3,
            r#"{"amount": -4, "p": {"q": 2}, "extra": [1, {"x": null}]}"#,
        ),
        ("b", 5, r#"{"p": {"q": 0}, "amount": 10}"#),
        ("a", 12, r#"{"amount": 1e3, "p": {"q": 0.5}}"#),
    ];
    let bad = [
        (
            "a",
            2,
            r#"{"amount": "12", "p": {"q": 1}}"#,
            "field `amount` is a string, not a number",
        ),
        ("a", 4, r#"{"p": {"q": 1}}"#, "field `amount` is missing"),
        (
            "b",
            6,
            r#"{"amount": 1, "p": {"q": null}}"#,
            "field `p.q` is null, not a number",
        ),
        ("b", 7, "amount=3", "the value is not JSON"),
    ];
    for (i, (key, ts, value)) in good.iter().enumerate() {
        batch.push(Some(key.as_bytes()), value.as_bytes(), *ts);
        if let Some((key, ts, value, _)) = bad.get(i) {
            batch.push(Some(key.as_bytes()), value.as_bytes(), *ts);
        }
    }
    let mut out = Emitted::default();
    op.process(batch, &mut out).expect("runs");
    assert_eq!(out.dead_letters.len(), bad.len());
    for (letter, (key, ts, value, reason)) in out.dead_letters.iter().zip(bad) {
        assert!(
            letter.reason.starts_with(reason),
            "{} vs {reason}",
            letter.reason
        );
        assert_eq!(letter.value, value.as_bytes());
        assert_eq!(
            (letter.key.as_deref(), letter.timestamp),
            (Some(key.as_bytes()), Some(ts))
        );
        assert_eq!(
            letter.origin,
            Origin::Operator {
                operator: "totals".into(),
                plugin: BUILTIN_PLUGIN.into()
            }
        );
    }
    out.dead_letters.clear();
    op.on_end(&mut out).expect("runs");
    let got = results(&out);
    let expected = [
        serde_json::json!({"key": "a", "window_start": 0, "window_end": 10, "firing": "on-time",
            "firing_index": 0, "count": 2, "sum_amount": -1.5, "min_amount": -4, "max_amount": 2.5,
            "avg": -0.75, "sum_p_q": 3}),
        serde_json::json!({"key": "b", "window_start": 0, "window_end": 10, "firing": "on-time",
            "firing_index": 0, "count": 1, "sum_amount": 10, "min_amount": 10, "max_amount": 10,
            "avg": 10, "sum_p_q": 0}),
        serde_json::json!({"key": "a", "window_start": 10, "window_end": 20, "firing": "on-time",
            "firing_index": 0, "count": 1, "sum_amount": 1000, "min_amount": 1000,
            "max_amount": 1000, "avg": 1000, "sum_p_q": 0.5}),
    ];
    assert_eq!(got, expected);
    // Field order is the list's.
    let text = String::from_utf8_lossy(out.main.event(0).value).into_owned();
    assert!(text.starts_with(r#"{"key":"a","window_start":0,"window_end":10,"firing":"on-time","firing_index":0,"count":2,"sum_amount":-1.5,"#), "{text}");
    assert_eq!(op.counters().dead_lettered, 4);
}

#[test]
fn sliding_panes_merge_and_keyless_windows() {
    let mut op = operator(
        "count, sum(v), max(v), min(v), mean(v)",
        AssignerSpec::Sliding {
            size_ms: 30,
            slide_ms: 10,
            offset_ms: 0,
        },
    );
    let mut batch = Batch::default();
    for ts in 0..60i64 {
        batch.push(None, format!("{{\"v\": {ts}}}").as_bytes(), ts);
    }
    let mut out = Emitted::default();
    op.process(batch, &mut out).expect("runs");
    op.on_end(&mut out).expect("runs");
    let got = results(&out);
    assert_eq!(got.len(), 8); // windows starting at -20, -10, ..., 50
    for result in got {
        let start = result["window_start"].as_i64().expect("start");
        let stamps: Vec<i64> = (start.max(0)..(start + 30).min(60)).collect();
        let sum: i64 = stamps.iter().sum();
        assert_eq!(result["key"], serde_json::Value::Null);
        assert_eq!(result["count"], stamps.len());
        assert_eq!(result["sum_v"], sum);
        assert_eq!(result["min_v"], stamps[0]);
        assert_eq!(result["max_v"], stamps[stamps.len() - 1]);
        assert_eq!(
            result["mean_v"].as_f64(),
            Some(sum as f64 / stamps.len() as f64)
        );
    }
}

#[test]
fn count_only_reads_no_field() {
    let mut op = operator("[count]", AssignerSpec::Global);
    let mut batch = Batch::default();
    batch.push(Some(b"k"), b"\xff not json", 1);
    batch.push(Some(b"k"), b"", 2);
    let mut out = Emitted::default();
    op.process(batch, &mut out).expect("runs");
    op.on_end(&mut out).expect("runs");
    assert!(out.dead_letters.is_empty());
    assert_eq!(results(&out)[0]["count"], 2);
}
