//! Property tests: the operator agrees with the reference model for random specs and
//! scripts however the events are cut into batches; every event lands in exactly the
//! windows of its timestamp; sessions do not depend on arrival order; watermark
//! firings come in (end, key, start) order whatever order keys arrived in.

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::oracle::{Oracle, Render, grid};
use super::support::{Ev, Step, drive, drive_cut, ids_operator, process_operator};
use crate::runtime::operator::{Emitted, Operator};
use crate::window::WindowOperator;
use crate::window::builtin::Builtins;
use crate::window::spec::{AssignerSpec, TriggerSpec, WindowSpec};

const KEYS: [Option<&str>; 4] = [Some("a"), Some("b"), Some("c"), None];

pub(super) fn assigner() -> impl Strategy<Value = AssignerSpec> {
    prop_oneof![
        (1..30i64, 0..30i64)
            .prop_map(|(size_ms, offset_ms)| AssignerSpec::Tumbling { size_ms, offset_ms }),
        (1..8i64, 1..5i64, 0..10i64).prop_map(|(panes, slide_ms, offset_ms)| {
            AssignerSpec::Sliding {
                size_ms: panes * slide_ms,
                slide_ms,
                offset_ms,
            }
        }),
        (1..25i64, 1..25i64).prop_map(|(size_ms, slide_ms)| AssignerSpec::Sliding {
            size_ms,
            slide_ms,
            offset_ms: 3
        }),
        (1..15i64).prop_map(|gap_ms| AssignerSpec::Session { gap_ms }),
        (1..5u64).prop_map(|n| AssignerSpec::Count { n }),
        Just(AssignerSpec::Global),
    ]
}

pub(super) fn spec() -> impl Strategy<Value = WindowSpec> {
    (
        assigner(),
        0..25i64,
        prop::option::of(1..4u64),
        prop::option::weighted(0.3, 1..20u64),
    )
        .prop_map(|(assigner, lateness, count, early)| {
            let never_late = matches!(assigner, AssignerSpec::Count { .. } | AssignerSpec::Global);
            WindowSpec {
                assigner,
                trigger: count.map_or(TriggerSpec::EventTime, TriggerSpec::Count),
                early_firing_ms: early,
                allowed_lateness_ms: if never_late { 0 } else { lateness },
            }
        })
}

/// Events roughly in time order with disorder, some very late, and watermarks
/// (`max seen - delay`) and processing-time ticks between them; ids in arrival order.
pub(super) fn script() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec((0..4usize, 0..4i64, -15..15i64, 0..6u8, 0..12i64), 1..70).prop_map(
        |raw| {
            let (mut steps, mut events, mut clock, mut max_seen) =
                (Vec::new(), Vec::new(), 0i64, i64::MIN);
            let mut wall = 1_000i64;
            for (i, (key, advance, jitter, watermark, delay)) in raw.into_iter().enumerate() {
                clock += advance;
                wall += 2 * advance;
                let ts = clock + jitter;
                max_seen = max_seen.max(ts);
                events.push(Ev {
                    key: KEYS[key].map(str::to_owned),
                    ts,
                    id: i as u64 + 1,
                    amount: i as f64,
                });
                if watermark == 0 {
                    steps.push(Step::Events(std::mem::take(&mut events)));
                    steps.push(Step::Watermark(max_seen - delay));
                } else if watermark == 1 {
                    steps.push(Step::Events(std::mem::take(&mut events)));
                    steps.push(Step::Clock(wall));
                }
            }
            steps.push(Step::Events(events));
            steps.push(Step::End);
            steps
        },
    )
}

pub(super) fn cuts() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1..8usize, 1..6)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    /// The aggregate path matches the model, in one batch per step and in random cuts.
    #[test]
    fn aggregates_match_the_model_in_any_batching(spec in spec(), steps in script(), cuts in cuts()) {
        let expected = Oracle::run(spec, Render::Ids, &steps);
        let (mut whole, _) = ids_operator(spec);
        prop_assert_eq!(&drive(&mut whole, &steps).map_err(|e| TestCaseError::fail(e.to_string()))?, &expected);
        let (mut cut, _) = ids_operator(spec);
        prop_assert_eq!(&drive_cut(&mut cut, &steps, &cuts).map_err(|e| TestCaseError::fail(e.to_string()))?, &expected);
        prop_assert_eq!(cut.store().len(), 0);
        prop_assert_eq!(cut.store().key_count(), 1, "keys released once their state is purged");
    }

    /// Sliding windows derived from their panes (no lateness, the event-time trigger)
    /// match the model on both paths, and leave nothing behind.
    #[test]
    fn derived_sliding_windows_match_the_model(
        assigner in assigner().prop_filter("sliding", |a| matches!(a, AssignerSpec::Sliding { .. })),
        steps in script(),
        cuts in cuts(),
    ) {
        let spec = WindowSpec::new(assigner);
        let expected = Oracle::run(spec, Render::Ids, &steps);
        let (mut cut, _) = ids_operator(spec);
        prop_assert_eq!(&drive_cut(&mut cut, &steps, &cuts).map_err(|e| TestCaseError::fail(e.to_string()))?, &expected);
        prop_assert_eq!(cut.store().len(), 0);
        prop_assert_eq!(cut.store().key_count(), 1, "keys released once their state is purged");
        let expected = Oracle::run(spec, Render::Timestamps, &steps);
        let (mut op, _) = process_operator(spec);
        prop_assert_eq!(&drive_cut(&mut op, &steps, &cuts).map_err(|e| TestCaseError::fail(e.to_string()))?, &expected);
    }

    /// The process path matches the model (events sorted by time, ties in arrival order).
    #[test]
    fn process_functions_match_the_model(spec in spec(), steps in script(), cuts in cuts()) {
        let expected = Oracle::run(spec, Render::Timestamps, &steps);
        let (mut op, _) = process_operator(spec);
        prop_assert_eq!(&drive_cut(&mut op, &steps, &cuts).map_err(|e| TestCaseError::fail(e.to_string()))?, &expected);
    }

    /// Counting with the built-in `count` (no watermark before the end: nothing is late)
    /// gives, for every key and window, the number of events whose timestamp it holds.
    #[test]
    fn every_event_lands_in_exactly_its_windows(
        assigner in assigner().prop_filter("grid windows", |a| matches!(a, AssignerSpec::Tumbling { .. } | AssignerSpec::Sliding { .. })),
        events in prop::collection::vec((0..4usize, -200..200i64), 1..150),
    ) {
        let spec = WindowSpec::new(assigner);
        let builtins = Builtins::parse("[count]").map_err(TestCaseError::fail)?;
        let mut op = WindowOperator::builtin("w", spec, builtins).map_err(TestCaseError::fail)?;
        let mut batch = weir_batch::Batch::default();
        let mut expected: BTreeMap<(Option<String>, i64, i64), u64> = BTreeMap::new();
        for &(key, ts) in &events {
            batch.push(KEYS[key].map(str::as_bytes), b"{}", ts);
            let (size, period, offset) = match assigner {
                AssignerSpec::Tumbling { size_ms, offset_ms } => (size_ms, size_ms, offset_ms),
                AssignerSpec::Sliding { size_ms, slide_ms, offset_ms } => (size_ms, slide_ms, offset_ms),
                _ => unreachable!("filtered"),
            };
            for w in grid(ts, size, period, offset) {
                *expected.entry((KEYS[key].map(str::to_owned), w.start, w.end)).or_default() += 1;
            }
        }
        let mut out = Emitted::default();
        op.process(batch, &mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        op.on_end(&mut out).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut got = BTreeMap::new();
        for event in out.main.iter() {
            let result: serde_json::Value = serde_json::from_slice(event.value).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let key = result["key"].as_str().map(str::to_owned);
            let window = (result["window_start"].as_i64().unwrap_or(0), result["window_end"].as_i64().unwrap_or(0));
            prop_assert!(got.insert((key, window.0, window.1), result["count"].as_u64().unwrap_or(0)).is_none(), "one result per window");
        }
        prop_assert_eq!(got, expected);
    }

    /// With every event before the watermark passes it, sessions are the events'
    /// timestamps sorted and split at gaps, whatever order the events arrive in.
    #[test]
    fn sessions_do_not_depend_on_arrival_order(
        (events, shuffled) in prop::collection::vec((0..3usize, -100..100i64), 1..60)
            .prop_flat_map(|v| (Just(v.clone()), Just(v).prop_shuffle())),
        gap in 1..20i64,
    ) {
        let spec = WindowSpec::new(AssignerSpec::Session { gap_ms: gap });
        let run = |events: &[(usize, i64)]| {
            let mut op = WindowOperator::builtin("w", spec, Builtins::parse("[count]").expect("valid")).expect("valid");
            let mut batch = weir_batch::Batch::default();
            for &(key, ts) in events {
                batch.push(KEYS[key].map(str::as_bytes), b"{}", ts);
            }
            let mut out = Emitted::default();
            op.process(batch, &mut out).expect("runs");
            op.on_end(&mut out).expect("runs");
            out.main.iter().map(|e| String::from_utf8_lossy(e.value).into_owned()).collect::<Vec<_>>()
        };
        let in_order = run(&events);
        prop_assert_eq!(&in_order, &run(&shuffled));
        // The model: per key, sorted timestamps split where they are more than `gap` apart.
        let mut expected = Vec::new();
        for (key, name) in KEYS.iter().enumerate().take(3) {
            let mut stamps: Vec<i64> = events.iter().filter(|e| e.0 == key).map(|e| e.1).collect();
            stamps.sort_unstable();
            let mut runs: Vec<(i64, i64, u64)> = Vec::new();
            for ts in stamps {
                match runs.last_mut() {
                    Some(run) if ts - run.1 <= gap => { run.1 = ts; run.2 += 1; }
                    _ => runs.push((ts, ts, 1)),
                }
            }
            expected.extend(runs.into_iter().map(|(first, last, count)| (last + gap, *name, first, count)));
        }
        expected.sort();
        let expected: Vec<String> = expected.into_iter().map(|(end, key, start, count)| format!(
            "{{\"key\":{},\"window_start\":{start},\"window_end\":{end},\"firing\":\"on-time\",\"firing_index\":0,\"count\":{count}}}",
            key.map_or("null".to_owned(), |k| format!("\"{k}\"")),
        )).collect();
        prop_assert_eq!(in_order, expected);
    }

    /// The results of every watermark come in (end, key, start) order, whatever order
    /// the keys first arrived in (keys are interned in arrival order).
    #[test]
    fn watermark_firings_are_ordered(spec in spec(), steps in script(), rotate in 0..3usize) {
        let renamed: Vec<Step> = steps.iter().map(|step| match step {
            Step::Events(events) => Step::Events(events.iter().map(|e| Ev {
                key: e.key.as_ref().map(|k| {
                    let letter = k.bytes().next().map_or(0, |b| usize::from(b - b'a'));
                    ["c", "a", "b"][(letter + rotate) % 3].to_owned()
                }),
                ..e.clone()
            }).collect()),
            other => other.clone(),
        }).collect();
        let (mut op, _) = ids_operator(spec);
        let out = drive(&mut op, &renamed).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut at = 0;
        for (step, count) in renamed.iter().zip(&out.per_step) {
            let results = &out.results[at..at + count];
            if matches!(step, Step::Watermark(_) | Step::End) {
                prop_assert!(results.iter().all(|r| r.kind == "on-time"));
                let order: Vec<_> = results.iter().map(|r| (r.end, r.key.clone(), r.start)).collect();
                let mut sorted = order.clone();
                sorted.sort();
                prop_assert_eq!(order, sorted);
            }
            at += count;
        }
        // And a second run gives the same output.
        let (mut again, _) = ids_operator(spec);
        prop_assert_eq!(out, drive(&mut again, &renamed).map_err(|e| TestCaseError::fail(e.to_string()))?);
    }
}

#[test]
fn events_in_sliding_gaps_belong_to_no_window() {
    // Events in a gap between windows (size < slide) are dropped and counted.
    let spec = WindowSpec::new(AssignerSpec::Sliding {
        size_ms: 2,
        slide_ms: 5,
        offset_ms: 0,
    });
    let (mut op, _) = ids_operator(spec);
    let events = vec![super::support::ev("a", 1, 1), super::support::ev("a", 3, 2)];
    let out = drive(&mut op, &[Step::Events(events), Step::End]).expect("runs");
    assert_eq!(out.results.len(), 1);
    assert_eq!((out.results[0].start, out.results[0].end), (0, 2));
    assert_eq!(op.counters().unassigned, 1);
}

#[test]
fn sliding_windows_without_lateness_keep_only_their_panes() {
    let sliding = AssignerSpec::Sliding {
        size_ms: 10,
        slide_ms: 2,
        offset_ms: 0,
    };
    let events = || {
        let ev = super::support::ev;
        vec![ev("a", 1, 1), ev("a", 4, 2), ev("b", 4, 3), ev("a", 9, 4)]
    };
    // Panes of 2 ms: a has [0, 2), [4, 6), [8, 10); b has [4, 6).
    let (mut derived, _) = ids_operator(WindowSpec::new(sliding));
    drive(&mut derived, &[Step::Events(events())]).expect("runs");
    assert_eq!(derived.store().len(), 4, "panes only");
    // With lateness each window keeps its firing state in an entry of its own.
    let spec = WindowSpec {
        allowed_lateness_ms: 5,
        ..WindowSpec::new(sliding)
    };
    let (mut entries, _) = ids_operator(spec);
    drive(&mut entries, &[Step::Events(events())]).expect("runs");
    assert!(entries.store().len() > 4, "panes and windows");
    // Both fire the same windows.
    let steps = [Step::Events(events()), Step::Watermark(11), Step::End];
    let (mut derived, _) = ids_operator(WindowSpec::new(sliding));
    let (mut entries, _) = ids_operator(spec);
    assert_eq!(
        drive(&mut derived, &steps).expect("runs"),
        drive(&mut entries, &steps).expect("runs")
    );
}
