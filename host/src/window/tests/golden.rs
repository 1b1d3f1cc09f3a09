//! Golden scripts, one per window kind, with out-of-order events, late events within
//! the allowed lateness (re-firings) and beyond it (`late` output). The expected output
//! is the reference model's ([`super::oracle`]); a few facts of each script are also
//! spelled out by hand so that the model itself is checked.

use super::oracle::{Oracle, Render};
use super::support::{Res, Step, drive, ev, ids_operator, process_operator};
use crate::window::spec::{AssignerSpec, TriggerSpec, WindowSpec};

fn res(key: &str, start: i64, end: i64, kind: &str, index: u32, value: &str) -> Res {
    Res {
        key: Some(key.into()),
        start,
        end,
        kind: kind.into(),
        index,
        value: value.into(),
    }
}

/// Runs `steps` through the aggregate and the process operator and checks both
/// against the model; returns the aggregate output.
fn check(spec: WindowSpec, steps: &[Step]) -> super::support::Out {
    let (mut op, _) = ids_operator(spec);
    let out = drive(&mut op, steps).expect("runs");
    assert_eq!(
        out,
        Oracle::run(spec, Render::Ids, steps),
        "aggregate vs model"
    );
    let (mut op, _) = process_operator(spec);
    let processed = drive(&mut op, steps).expect("runs");
    assert_eq!(
        processed,
        Oracle::run(spec, Render::Timestamps, steps),
        "process vs model"
    );
    assert_eq!(op.store().len(), 0, "everything purged at the end");
    out
}

fn with_lateness(assigner: AssignerSpec, lateness: i64) -> WindowSpec {
    WindowSpec {
        allowed_lateness_ms: lateness,
        ..WindowSpec::new(assigner)
    }
}

#[test]
fn tumbling() {
    let spec = with_lateness(
        AssignerSpec::Tumbling {
            size_ms: 10,
            offset_ms: 0,
        },
        5,
    );
    let steps = [
        Step::Events(vec![
            ev("a", 1, 1),
            ev("b", 3, 2),
            ev("a", 12, 3),
            ev("a", 7, 4),
            ev("b", 15, 5),
        ]),
        Step::Watermark(9),
        // Within lateness: [0, 10) fired at 9 and is kept until 9 + 5.
        Step::Events(vec![ev("a", 8, 6), ev("b", 2, 7), ev("a", -3, 10)]),
        Step::Watermark(14),
        // Beyond lateness: [0, 10) is gone.
        Step::Events(vec![ev("a", 5, 8), ev("a", 18, 9)]),
        Step::Watermark(25),
        Step::End,
    ];
    let out = check(spec, &steps);
    assert_eq!(out.results, expected_tumbling());
    assert_eq!(out.late, [10, 8]);
}

/// The tumbling script's output, by hand. Event 10 (at -3) arrives after watermark 9:
/// its window [-10, 0) was purged at -1 + 5 = 4, so it goes to `late`, as event 8 does
/// after watermark 14.
fn expected_tumbling() -> Vec<Res> {
    vec![
        res("a", 0, 10, "on-time", 0, "1,4"),
        res("b", 0, 10, "on-time", 0, "2"),
        res("a", 0, 10, "late", 1, "1,4,6"),
        res("b", 0, 10, "late", 1, "2,7"),
        res("a", 10, 20, "on-time", 0, "3,9"),
        res("b", 10, 20, "on-time", 0, "5"),
    ]
}

#[test]
fn sliding() {
    let spec = with_lateness(
        AssignerSpec::Sliding {
            size_ms: 10,
            slide_ms: 5,
            offset_ms: 0,
        },
        5,
    );
    let steps = [
        Step::Events(vec![
            ev("a", 1, 1),
            ev("a", 6, 2),
            ev("b", 7, 3),
            ev("a", 4, 4),
            ev("a", 11, 5),
        ]),
        Step::Watermark(9),
        // 8 is in [0, 10) (due, within lateness: re-fires) and [5, 15) (open).
        Step::Events(vec![ev("a", 8, 6)]),
        Step::Watermark(16),
        // 3 is in [-5, 5) (gone) and [0, 10) (gone at 9 + 5 = 14 <= 16): late.
        Step::Events(vec![ev("a", 3, 7), ev("b", 13, 8)]),
        Step::End,
    ];
    let out = check(spec, &steps);
    let a = out.results.iter().filter(|r| r.key.as_deref() == Some("a"));
    let got: Vec<_> = a
        .map(|r| (r.start, r.kind.as_str(), r.index, r.value.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (-5, "on-time", 0, "1,4"),
            (0, "on-time", 0, "1,2,4"),
            (0, "late", 1, "1,2,4,6"),
            (5, "on-time", 0, "2,5,6"),
            (10, "on-time", 0, "5"),
        ]
    );
    assert_eq!(out.late, [7]);
}

#[test]
fn session() {
    let spec = with_lateness(AssignerSpec::Session { gap_ms: 5 }, 10);
    let steps = [
        // a: 1, 4 (one session), 20; 12 arrives later and bridges nothing (12 - 4 > 5).
        Step::Events(vec![
            ev("a", 1, 1),
            ev("a", 20, 2),
            ev("a", 4, 3),
            ev("b", 2, 4),
        ]),
        Step::Watermark(9),
        Step::Events(vec![ev("a", 12, 5), ev("a", 16, 6)]),
        // a's 12..16 session and 20 merge (16 + 5 >= 20) into [12, 25).
        Step::Watermark(30),
        // Within lateness of [12, 25) (24 + 10 > 30): extends it and re-fires as late.
        Step::Events(vec![ev("a", 25, 7)]),
        // [1, 9) is gone (8 + 10 <= 30): alone in [6, 11), already expired: late.
        Step::Events(vec![ev("a", 6, 8)]),
        Step::Watermark(100),
        Step::End,
    ];
    let out = check(spec, &steps);
    assert_eq!(
        out.results,
        [
            res("b", 2, 7, "on-time", 0, "4"),
            res("a", 1, 9, "on-time", 0, "1,3"),
            res("a", 12, 25, "on-time", 0, "2,5,6"),
            res("a", 12, 30, "late", 1, "2,5,6,7"),
        ]
    );
    assert_eq!(out.late, [8]);
}

#[test]
fn count() {
    let spec = WindowSpec::new(AssignerSpec::Count { n: 3 });
    let steps = [
        Step::Events(vec![
            ev("a", 5, 1),
            ev("b", 1, 2),
            ev("a", 3, 3),
            ev("a", 9, 4),
            ev("a", 2, 5),
        ]),
        // Count windows ignore watermarks and are never late.
        Step::Watermark(100),
        Step::Events(vec![ev("b", 0, 6), ev("a", 1, 7)]),
        Step::End,
    ];
    let out = check(spec, &steps);
    assert_eq!(
        out.results,
        [
            res("a", 3, 10, "on-time", 0, "1,3,4"),
            res("b", 0, 2, "on-time", 0, "2,6"),
            res("a", 1, 3, "on-time", 0, "5,7"),
        ]
    );
    assert!(out.late.is_empty());
}

#[test]
fn global_with_count_trigger() {
    let spec = WindowSpec {
        trigger: TriggerSpec::Count(2),
        ..WindowSpec::new(AssignerSpec::Global)
    };
    let steps = [
        Step::Events(vec![
            ev("a", 5, 1),
            ev("b", 1, 2),
            ev("a", 3, 3),
            ev("a", 9, 4),
        ]),
        Step::Watermark(1_000),
        Step::Events(vec![ev("b", -4, 5), ev("a", 0, 6)]),
        Step::End,
    ];
    let out = check(spec, &steps);
    assert_eq!(
        out.results,
        [
            res("a", 3, 6, "early", 0, "1,3"),
            res("b", -4, 2, "early", 0, "2,5"),
            res("a", 0, 10, "early", 1, "1,3,4,6"),
            res("b", -4, 2, "on-time", 1, "2,5"),
            res("a", 0, 10, "on-time", 2, "1,3,4,6"),
        ]
    );
}
