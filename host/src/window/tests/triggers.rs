//! Triggers: count trigger, processing-time early firing, end of input.

use super::oracle::{Oracle, Render};
use super::support::{Step, drive, drive_cut, ev, ids_operator};
use crate::window::spec::{AssignerSpec, TriggerSpec, WindowSpec};

fn tumbling(size_ms: i64) -> AssignerSpec {
    AssignerSpec::Tumbling {
        size_ms,
        offset_ms: 0,
    }
}

fn summary(out: &super::support::Out) -> Vec<(String, i64, &str, u32, &str)> {
    out.results
        .iter()
        .map(|r| {
            (
                r.key.clone().unwrap_or_default(),
                r.start,
                r.kind.as_str(),
                r.index,
                r.value.as_str(),
            )
        })
        .collect()
}

#[test]
fn count_trigger_fires_early_every_n_events_then_on_time() {
    let spec = WindowSpec {
        trigger: TriggerSpec::Count(2),
        ..WindowSpec::new(tumbling(10))
    };
    let steps = [
        Step::Events(vec![
            ev("a", 1, 1),
            ev("a", 2, 2),
            ev("a", 3, 3),
            ev("b", 4, 4),
            ev("a", 5, 5),
        ]),
        Step::Watermark(9),
    ];
    // One batch, or one event per batch: the same firings, each with exactly the
    // events before it (the batch is cut after a firing whose window gets more).
    for cuts in [&[][..], &[1]] {
        let (mut op, calls) = ids_operator(spec);
        let out = drive_cut(&mut op, &steps, cuts).expect("runs");
        assert_eq!(
            summary(&out),
            [
                ("a".into(), 0, "early", 0, "1,2"),
                ("a".into(), 0, "early", 1, "1,2,3,5"),
                ("a".into(), 0, "on-time", 2, "1,2,3,5"),
                ("b".into(), 0, "on-time", 0, "4"),
            ]
        );
        assert_eq!(out, Oracle::run(spec, Render::Ids, &steps));
        let calls = calls.lock().expect("calls");
        if cuts.is_empty() {
            // Cut once: after event 2 fired [0, 10) and event 3 was for it too.
            assert_eq!(calls.add, 2);
            // The two early firings of the batch in one finish, the watermark's in one.
            assert_eq!(calls.finish_sizes, [2, 2]);
        }
    }
}

#[test]
fn early_firing_by_processing_time() {
    let spec = WindowSpec {
        early_firing_ms: Some(100),
        ..WindowSpec::new(tumbling(10))
    };
    let steps = [
        Step::Clock(1_000), // starts the clock
        Step::Events(vec![ev("a", 1, 1), ev("b", 2, 2), ev("a", 12, 3)]),
        Step::Clock(1_050), // not yet
        Step::Clock(1_100),
        Step::Clock(1_200), // nothing changed since
        Step::Events(vec![ev("a", 4, 4)]),
        Step::Clock(1_300),
        Step::Watermark(9),
        Step::Clock(1_400), // [0, 10) completed; [10, 20) unchanged
        Step::End,
    ];
    let (mut op, _) = ids_operator(spec);
    let out = drive(&mut op, &steps).expect("runs");
    assert_eq!(out.per_step, [0, 0, 0, 3, 0, 0, 1, 2, 0, 1]);
    assert_eq!(
        summary(&out),
        [
            ("a".into(), 0, "early", 0, "1"),
            ("b".into(), 0, "early", 0, "2"),
            ("a".into(), 10, "early", 0, "3"),
            ("a".into(), 0, "early", 1, "1,4"),
            ("a".into(), 0, "on-time", 2, "1,4"),
            ("b".into(), 0, "on-time", 1, "2"),
            ("a".into(), 10, "on-time", 1, "3"),
        ]
    );
    assert_eq!(out, Oracle::run(spec, Render::Ids, &steps));
}

#[test]
fn early_firing_of_sliding_and_count_windows() {
    for assigner in [
        AssignerSpec::Sliding {
            size_ms: 10,
            slide_ms: 5,
            offset_ms: 0,
        },
        AssignerSpec::Count { n: 3 },
        AssignerSpec::Session { gap_ms: 4 },
        AssignerSpec::Global,
    ] {
        let spec = WindowSpec {
            early_firing_ms: Some(10),
            ..WindowSpec::new(assigner)
        };
        let steps = [
            Step::Clock(0),
            Step::Events(vec![ev("a", 1, 1), ev("b", 7, 2), ev("a", 6, 3)]),
            Step::Clock(10),
            Step::Events(vec![ev("a", 3, 4), ev("a", 20, 5)]),
            Step::Clock(25),
            Step::Watermark(12),
            Step::Clock(40),
            Step::End,
        ];
        let (mut op, _) = ids_operator(spec);
        let out = drive(&mut op, &steps).expect("runs");
        assert!(
            out.results.iter().any(|r| r.kind == "early"),
            "{assigner:?}"
        );
        assert_eq!(out, Oracle::run(spec, Render::Ids, &steps), "{assigner:?}");
    }
}

#[test]
fn end_of_input_fires_every_window_holding_data() {
    for assigner in [
        tumbling(10),
        AssignerSpec::Session { gap_ms: 5 },
        AssignerSpec::Count { n: 10 },
        AssignerSpec::Global,
    ] {
        let spec = WindowSpec::new(assigner);
        // No watermark at all before the end.
        let steps = [
            Step::Events(vec![ev("a", 1, 1), ev("b", 30, 2), ev("a", 25, 3)]),
            Step::End,
        ];
        let (mut op, _) = ids_operator(spec);
        let out = drive(&mut op, &steps).expect("runs");
        let fired: u32 = out
            .results
            .iter()
            .map(|r| r.value.split(',').count() as u32)
            .sum();
        assert_eq!(fired, 3, "{assigner:?}: every event in a final result");
        assert!(out.results.iter().all(|r| r.kind == "on-time"));
        assert_eq!(out.per_step, [0, out.results.len()]);
        assert_eq!(out, Oracle::run(spec, Render::Ids, &steps), "{assigner:?}");
        assert!(op.store().is_empty(), "{assigner:?}");
    }
}
