//! Failures of the window function, and the number of calls a batch and a watermark
//! cost.

use proptest::prelude::*;

use super::oracle::{Oracle, Render};
use super::support::{IdsAgg, Out, Step, TimestampsFn, batch_of, collect, drive, drive_cut, ev};
use crate::runtime::operator::{Emitted, Operator};
use crate::window::WindowOperator;
use crate::window::spec::{AssignerSpec, WindowSpec};

fn operator_with(spec: WindowSpec, agg: IdsAgg) -> WindowOperator {
    WindowOperator::aggregate("w", spec, Box::new(agg), "ids@test").expect("valid")
}

/// `steps` without the events whose id is in `ids`.
fn without(steps: &[Step], ids: &[u64]) -> Vec<Step> {
    steps
        .iter()
        .map(|step| match step {
            Step::Events(events) => Step::Events(
                events
                    .iter()
                    .filter(|e| !ids.contains(&e.id))
                    .cloned()
                    .collect(),
            ),
            other => other.clone(),
        })
        .collect()
}

#[test]
fn an_event_add_rejects_is_dead_lettered_and_leaves_no_trace() {
    for assigner in [
        AssignerSpec::Tumbling {
            size_ms: 10,
            offset_ms: 0,
        },
        AssignerSpec::Sliding {
            size_ms: 10,
            slide_ms: 5,
            offset_ms: 0,
        },
        AssignerSpec::Session { gap_ms: 5 },
        AssignerSpec::Count { n: 2 },
    ] {
        let spec = WindowSpec::new(assigner);
        // Event 3 would bridge a's two sessions; event 7 would start b's second window.
        let steps = [
            Step::Events(vec![
                ev("a", 1, 1),
                ev("a", 9, 2),
                ev("a", 5, 3),
                ev("b", 30, 4),
            ]),
            Step::Events(vec![ev("b", 3, 5), ev("a", 2, 6), ev("b", 31, 7)]),
            Step::Watermark(20),
            Step::End,
        ];
        let agg = IdsAgg {
            poison: [3, 7].into(),
            ..IdsAgg::default()
        };
        let mut op = operator_with(spec, agg);
        let out = drive(&mut op, &steps).expect("runs");
        let dead: Vec<_> = out
            .dead
            .iter()
            .map(|(id, reason)| (*id, reason.as_str()))
            .collect();
        assert_eq!(dead, [(3, "poison 3"), (7, "poison 7")], "{assigner:?}");
        let mut expected = Oracle::run(spec, Render::Ids, &without(&steps, &[3, 7]));
        expected.dead = out.dead.clone();
        assert_eq!(out, expected, "{assigner:?}");
        assert_eq!(op.counters().dead_lettered, 2);
    }
}

#[test]
fn a_window_finish_rejects_is_dead_lettered_alone() {
    let spec = WindowSpec::new(AssignerSpec::Tumbling {
        size_ms: 10,
        offset_ms: 0,
    });
    let events = vec![ev("a", 1, 1), ev("b", 2, 2), ev("a", 12, 3), ev("c", 3, 4)];
    let agg = IdsAgg {
        unfinishable: Some(2),
        ..IdsAgg::default()
    };
    let mut op = operator_with(spec, agg);
    let mut emitted = Emitted::default();
    op.process(batch_of(&events), &mut emitted).expect("runs");
    op.on_watermark(20, &mut emitted).expect("runs");
    // b's window [0, 10): a dead letter with its key, last millisecond and headers.
    let letters = std::mem::take(&mut emitted.dead_letters);
    assert_eq!(letters.len(), 1);
    assert_eq!(letters[0].reason, "cannot finish 2");
    assert_eq!(
        (letters[0].key.as_deref(), letters[0].timestamp),
        (Some(&b"b"[..]), Some(9))
    );
    let header = |name: &str| {
        letters[0]
            .headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
    };
    assert_eq!(header("window_start").as_deref(), Some("0"));
    assert_eq!(header("firing").as_deref(), Some("on-time"));
    // The other windows of the watermark are there, in order.
    let mut out = Out::default();
    collect(&mut emitted, &mut out);
    let steps = [Step::Events(events), Step::Watermark(20)];
    let expected = Oracle::run(spec, Render::Ids, &without(&steps, &[2]));
    assert_eq!(out.results, expected.results);
    assert_eq!(op.counters().dead_lettered, 1);
}

#[test]
fn a_window_process_rejects_is_dead_lettered_alone() {
    let spec = WindowSpec::new(AssignerSpec::Session { gap_ms: 3 });
    let function = TimestampsFn {
        unprocessable: Some(2),
        ..Default::default()
    };
    let mut op = WindowOperator::process("w", spec, Box::new(function), "ts@test").expect("valid");
    let steps = [
        Step::Events(vec![
            ev("a", 1, 1),
            ev("b", 2, 2),
            ev("b", 4, 3),
            ev("a", 12, 4),
        ]),
        Step::End,
    ];
    let out = drive(&mut op, &steps).expect("runs");
    // b's session [2, 7) holds events 2 and 3: both dead-lettered with the reason.
    assert_eq!(
        out.dead,
        [
            (2, "cannot process 2".to_owned()),
            (3, "cannot process 2".to_owned())
        ]
    );
    let expected = Oracle::run(spec, Render::Timestamps, &without(&steps, &[2, 3]));
    assert_eq!(out.results, expected.results);
}

#[test]
fn a_fatal_error_stops_the_operator() {
    let agg = IdsAgg {
        fatal_on: Some(2),
        ..IdsAgg::default()
    };
    let mut op = operator_with(WindowSpec::new(AssignerSpec::Global), agg);
    let error =
        drive(&mut op, &[Step::Events(vec![ev("a", 1, 1), ev("a", 2, 2)])]).expect_err("fatal");
    assert_eq!(error.operator, "w");
    assert!(error.message.contains("fatal 2"), "{}", error.message);
}

#[test]
fn one_add_per_batch_one_merge_and_finish_per_watermark() {
    let spec = WindowSpec::new(AssignerSpec::Sliding {
        size_ms: 100,
        slide_ms: 10,
        offset_ms: 0,
    });
    let (agg, calls) = IdsAgg::new();
    let mut op = operator_with(spec, agg);
    let events: Vec<_> = (0..200u64)
        .map(|i| ev(["a", "b", "c"][i as usize % 3], i as i64, i + 1))
        .collect();
    let steps = [Step::Events(events), Step::Watermark(150), Step::End];
    let out = drive(&mut op, &steps).expect("runs");
    let calls = calls.lock().expect("calls");
    assert_eq!(calls.add, 1);
    // Each batch's add sees one accumulator per (key, pane) it touches: 3 keys x 20.
    assert_eq!(calls.add_sizes, [60]);
    // Watermark 150: windows ending at 10..=150 (15 per key); the end: the rest.
    // Windows start at -90..=190; 15 per key end by 150, 14 more at the end.
    assert_eq!(calls.finish_sizes, [45, 42]);
    assert_eq!(calls.merge, 2);
    assert_eq!(out.results.len(), 87);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// Poisoned events anywhere, any batching: the output is the model's for the
    /// stream without them, and each is dead-lettered once per placement that fails.
    #[test]
    fn poison_anywhere(
        stamps in prop::collection::vec((0..3usize, 0..60i64), 1..40),
        poison in prop::collection::btree_set(1..40u64, 0..5),
        gap in 1..10i64,
        cuts in prop::collection::vec(1..6usize, 1..4),
    ) {
        let events: Vec<_> = stamps.iter().enumerate().map(|(i, &(k, ts))| ev(["a", "b", "c"][k], ts, i as u64 + 1)).collect();
        let steps = vec![Step::Events(events), Step::Watermark(30), Step::End];
        let poisoned: Vec<u64> = poison.iter().copied().filter(|id| *id as usize <= stamps.len()).collect();
        let sliding = AssignerSpec::Sliding { size_ms: 2 * gap, slide_ms: gap, offset_ms: 0 };
        // Without lateness, sliding windows are derived from their panes.
        for (assigner, lateness) in [(AssignerSpec::Session { gap_ms: gap }, 5), (sliding, 5), (sliding, 0)] {
            let spec = WindowSpec { allowed_lateness_ms: lateness, ..WindowSpec::new(assigner) };
            let agg = IdsAgg { poison: poisoned.iter().copied().collect(), ..IdsAgg::default() };
            let mut op = operator_with(spec, agg);
            let out = drive_cut(&mut op, &steps, &cuts).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut expected = Oracle::run(spec, Render::Ids, &without(&steps, &poisoned));
            let mut dead: Vec<u64> = out.dead.iter().map(|d| d.0 as u64).collect();
            dead.sort_unstable();
            prop_assert_eq!(&dead, &poisoned);
            expected.dead = out.dead.clone();
            prop_assert_eq!(out, expected);
        }
    }
}
