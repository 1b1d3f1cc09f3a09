//! Per-window state of window process functions through the real engine: the
//! `window-firings` plugin (built from `plugins/`) counts each window's firings in a
//! `ValueState` scoped to (key, window), run by a `WindowOperator` — early, on-time and
//! late firings of one window see the count grow; a purged window's state is gone;
//! session windows get a clear error (the plugin returns it, so the window's events are
//! dead-lettered with it); and the state survives persist + snapshot + restore.

use std::sync::Arc;

use serde_json::Value;
use weir_host::batch::Batch;
use weir_host::plugin::{PluginLimits, PluginSpec};
use weir_host::runtime::operator::{Emitted, Operator};
use weir_host::runtime::stats::OperatorStats;
use weir_host::runtime::wasm_window::WasmWindowProcess;
use weir_host::state::{BackendKind, ScanControl, StateBackend, open_backend};
use weir_host::window::{AssignerSpec, MERGING_REFUSED, TriggerSpec, WindowOperator, WindowSpec};
use weir_tests::{loader, plugin};

/// A window operator over `window-firings` (its compile cache in `dir`).
fn operator(spec: WindowSpec, dir: &std::path::Path) -> WindowOperator {
    let plugin = loader(dir)
        .load(PluginSpec {
            operator: "firings".to_owned(),
            path: plugin("window-firings"),
            settings_json: "{}".to_owned(),
            limits: PluginLimits::default(),
        })
        .expect("the plugin loads");
    let stats = Arc::new(OperatorStats::new(
        "firings",
        &plugin.identity().to_string(),
    ));
    let identity = plugin.identity().to_string();
    let function = WasmWindowProcess::new(plugin, 0, stats).expect("the instance starts");
    WindowOperator::process("firings", spec, Box::new(function), identity).expect("valid spec")
}

fn tumbling(size_ms: i64, lateness: i64, count: Option<u64>) -> WindowSpec {
    WindowSpec {
        assigner: AssignerSpec::Tumbling {
            size_ms,
            offset_ms: 0,
        },
        trigger: count.map_or(TriggerSpec::EventTime, TriggerSpec::Count),
        early_firing_ms: None,
        allowed_lateness_ms: lateness,
    }
}

fn events(op: &mut WindowOperator, events: &[(&str, i64)], out: &mut Emitted) {
    let mut batch = Batch::default();
    for (key, ts) in events {
        batch.push(Some(key.as_bytes()), b"{}", *ts);
    }
    op.process(batch, out).expect("no fatal error");
}

/// (start, kind, firing, events) of every result, and clears the output.
fn results(out: &mut Emitted) -> Vec<(i64, String, u64, u64)> {
    std::mem::take(&mut out.main)
        .iter()
        .map(|event| {
            let v: Value = serde_json::from_slice(event.value).expect("JSON");
            (
                v["start"].as_i64().expect("start"),
                v["kind"].as_str().expect("kind").to_owned(),
                v["firing"].as_u64().expect("firing"),
                v["events"].as_u64().expect("events"),
            )
        })
        .collect()
}

/// Per-window state entries (tag 0x00 right after the key group) in `backend`.
fn window_state_entries(backend: &mut dyn StateBackend) -> usize {
    let mut n = 0;
    backend
        .scan_prefix(b"", &mut |key, _| {
            n += usize::from(key.len() > 2 && key[2] == 0x00 && key[..2] != [0xFF, 0xFF]);
            ScanControl::Continue
        })
        .expect("scan");
    n
}

fn early(n: u64) -> (String, u64) {
    ("early".to_owned(), n)
}

#[test]
fn early_on_time_and_late_firings_of_one_window_share_its_state_until_it_is_purged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut op = operator(tumbling(10, 100, Some(2)), dir.path());
    let mut out = Emitted::default();
    // Two events: the count trigger fires [0, 10) early; `b` has its own window state.
    events(&mut op, &[("a", 1), ("a", 2), ("b", 3)], &mut out);
    assert_eq!(results(&mut out), [(0, early(1).0, 1, 2)]);
    op.on_watermark(9, &mut out).expect("watermark");
    let on_time = results(&mut out);
    assert!(
        on_time.contains(&(0, "on-time".to_owned(), 2, 2)),
        "{on_time:?}"
    );
    assert!(
        on_time.contains(&(0, "on-time".to_owned(), 1, 1)),
        "b: {on_time:?}"
    );
    events(&mut op, &[("a", 5)], &mut out);
    assert_eq!(results(&mut out), [(0, "late".to_owned(), 3, 3)]);
    assert_eq!(window_state_entries(op.backend_mut().expect("backend")), 2);
    // The watermark passes the end of the allowed lateness: the windows and their
    // state go.
    op.on_watermark(200, &mut out).expect("watermark");
    assert_eq!(window_state_entries(op.backend_mut().expect("backend")), 0);
    // A new window of `a` counts from 1 again.
    events(&mut op, &[("a", 205), ("a", 206)], &mut out);
    assert_eq!(results(&mut out), [(200, early(1).0, 1, 2)]);
}

#[test]
fn a_count_window_state_is_gone_after_its_on_time_firing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = WindowSpec {
        trigger: TriggerSpec::Count(1),
        ..WindowSpec::new(AssignerSpec::Count { n: 2 })
    };
    let mut op = operator(spec, dir.path());
    let mut out = Emitted::default();
    events(&mut op, &[("a", 1), ("a", 2), ("a", 3)], &mut out);
    let got: Vec<(String, u64)> = results(&mut out)
        .into_iter()
        .map(|(_, kind, firing, _)| (kind, firing))
        .collect();
    // Window 1: early (1), on-time (2); window 2 starts again: early (1).
    assert_eq!(got, [early(1), ("on-time".to_owned(), 2), early(1)]);
    assert_eq!(window_state_entries(op.backend_mut().expect("backend")), 1);
}

#[test]
fn session_windows_get_a_clear_error_and_their_events_are_dead_lettered() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut op = operator(
        WindowSpec::new(AssignerSpec::Session { gap_ms: 5 }),
        dir.path(),
    );
    let mut out = Emitted::default();
    events(&mut op, &[("a", 1), ("a", 3)], &mut out);
    op.on_watermark(100, &mut out)
        .expect("a guest error is not fatal");
    assert!(out.main.is_empty());
    assert_eq!(out.dead_letters.len(), 2, "both events of the session");
    for letter in &out.dead_letters {
        assert!(letter.reason.contains(MERGING_REFUSED), "{}", letter.reason);
    }
}

#[test]
fn window_state_survives_persist_snapshot_and_restore() {
    let dir = tempfile::tempdir().expect("temp dir");
    let spec = tumbling(10, 100, None);
    let mut op = operator(spec, dir.path());
    let mut out = Emitted::default();
    events(&mut op, &[("a", 1), ("a", 2)], &mut out);
    op.on_watermark(9, &mut out).expect("watermark");
    assert_eq!(results(&mut out), [(0, "on-time".to_owned(), 1, 2)]);
    let snapshot = dir.path().join("chk-1");
    let persisted = op.checkpoint_to(&snapshot).expect("checkpoint");
    assert_eq!(persisted.written, 1, "one window entry");
    // After the snapshot: changes that the restore must not see.
    events(&mut op, &[("a", 3)], &mut out);
    assert_eq!(results(&mut out), [(0, "late".to_owned(), 2, 3)]);
    drop(op);

    let backend = open_backend(BackendKind::Memory, dir.path(), Some(&snapshot)).expect("open");
    let mut op = operator(spec, dir.path())
        .with_backend(backend)
        .expect("backend");
    op.restore(0..128).expect("restore");
    events(&mut op, &[("a", 4)], &mut out);
    assert_eq!(
        results(&mut out),
        [(0, "late".to_owned(), 2, 3)],
        "the restored window and its count, as of the snapshot"
    );
}
