//! The process-function path: events reach the function sorted by timestamp (ties in
//! arrival order), sliding panes and merged sessions concatenated, one call per
//! watermark.

use super::oracle::{Oracle, Render};
use super::support::{Step, drive, drive_cut, ev, process_operator};
use crate::window::spec::{AssignerSpec, WindowSpec};

#[test]
fn events_sorted_by_time_ties_in_arrival_order() {
    let spec = WindowSpec::new(AssignerSpec::Sliding {
        size_ms: 20,
        slide_ms: 10,
        offset_ms: 0,
    });
    let steps = [
        Step::Events(vec![
            ev("a", 15, 1),
            ev("a", 5, 2),
            ev("a", 15, 3),
            ev("a", 5, 4),
            ev("a", 12, 5),
        ]),
        Step::Events(vec![ev("a", 5, 6)]),
        Step::Watermark(30),
    ];
    let (mut op, calls) = process_operator(spec);
    let out = drive_cut(&mut op, &steps, &[2]).expect("runs");
    let values: Vec<_> = out
        .results
        .iter()
        .map(|r| (r.start, r.value.as_str()))
        .collect();
    assert_eq!(
        values,
        [
            (-10, "5:2,5:4,5:6"),
            (0, "5:2,5:4,5:6,12:5,15:1,15:3"),
            (10, "12:5,15:1,15:3"),
        ]
    );
    assert_eq!(out, Oracle::run(spec, Render::Timestamps, &steps));
    assert_eq!(
        calls.lock().expect("calls").process,
        1,
        "one call for the watermark"
    );
}

#[test]
fn merged_sessions_concatenate_their_events() {
    let spec = WindowSpec::new(AssignerSpec::Session { gap_ms: 4 });
    let steps = [
        Step::Events(vec![
            ev("k", 10, 1),
            ev("k", 1, 2),
            ev("k", 6, 3),
            ev("k", 3, 4),
            ev("k", 10, 5),
        ]),
        Step::End,
    ];
    let (mut op, _) = process_operator(spec);
    let out = drive(&mut op, &steps).expect("runs");
    let values: Vec<_> = out
        .results
        .iter()
        .map(|r| (r.start, r.end, r.value.as_str()))
        .collect();
    assert_eq!(values, [(1, 14, "1:2,3:4,6:3,10:1,10:5")]);
    assert_eq!(out, Oracle::run(spec, Render::Timestamps, &steps));
}

/// A lone firing whose call fails is retried alone and its events are dead-lettered
/// (they used to be moved into the failed call and lost).
#[test]
fn a_lone_failing_firing_dead_letters_its_events() {
    let function = super::support::TimestampsFn {
        unprocessable: Some(1),
        ..Default::default()
    };
    let spec = WindowSpec::new(AssignerSpec::Tumbling {
        size_ms: 10,
        offset_ms: 0,
    });
    let mut op = crate::window::WindowOperator::process("w", spec, Box::new(function), "ts@test")
        .expect("valid spec");
    let steps = [
        Step::Events(vec![ev("a", 1, 1), ev("a", 2, 2)]),
        Step::Watermark(20),
    ];
    let out = drive(&mut op, &steps).expect("no fatal error");
    assert!(out.results.is_empty());
    let ids: Vec<i64> = out.dead.iter().map(|(id, _)| *id).collect();
    assert_eq!(ids, [1, 2]);
}
