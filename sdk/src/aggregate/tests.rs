//! The packed accumulator codec of [`Adapter`], natively.

use serde::{Deserialize, Serialize};
use weir_batch::Batch;

use super::*;
use crate::window::WindowInfo;
use crate::wit::types::PackedBytes;
use crate::{EventExt, Firing};

/// Sums numbers; rejects anything else.
struct Sum;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Acc {
    n: u32,
    sum: i64,
}

impl Aggregate for Sum {
    type Acc = Acc;

    fn new(_settings: Settings) -> Result<Self, Error> {
        Ok(Sum)
    }

    fn init(&self) -> Acc {
        Acc { n: 0, sum: 0 }
    }

    fn add(&self, acc: &mut Acc, event: &Event<'_>) -> Result<(), Error> {
        let value: i64 = event
            .text()?
            .parse()
            .map_err(|_| Error::invalid_input("not a number"))?;
        acc.n += 1;
        acc.sum += value;
        Ok(())
    }

    fn merge(&self, acc: &mut Acc, other: Acc) {
        acc.n += other.n;
        acc.sum += other.sum;
    }

    fn finish(&self, acc: Acc, window: &WindowInfo<'_>, out: &mut Vec<u8>) -> Result<(), Error> {
        let tag = if window.kind == Firing::Late {
            "late "
        } else {
            ""
        };
        out.extend_from_slice(format!("{tag}{}/{}", acc.sum, acc.n).as_bytes());
        Ok(())
    }
}

fn packed(accs: &[Option<Acc>]) -> PackedBytes {
    let mut out = PackedBytes {
        bytes: Vec::new(),
        ends: Vec::new(),
    };
    for acc in accs {
        if let Some(acc) = acc {
            out.bytes
                .extend(postcard::to_allocvec(acc).expect("encodes"));
        }
        out.ends.push(out.bytes.len() as u32);
    }
    out
}

fn unpacked(packed: &PackedBytes) -> Vec<Acc> {
    let mut start = 0;
    packed
        .ends
        .iter()
        .map(|&end| {
            let acc = postcard::from_bytes(&packed.bytes[start..end as usize]).expect("decodes");
            start = end as usize;
            acc
        })
        .collect()
}

fn numbers(values: &[&str]) -> Batch {
    let mut batch = Batch::default();
    for value in values {
        batch.push(Some(b"k"), value.as_bytes(), 0);
    }
    batch
}

fn firing(kind: Firing) -> WindowInfo<'static> {
    WindowInfo {
        key: Some(b"k"),
        start: 0,
        end: 10,
        kind,
        index: 0,
    }
}

#[test]
fn add_starts_empty_accumulators_fresh_and_routes_events_by_target() {
    let mut adapter = Adapter::new(Sum);
    let accs = packed(&[None, Some(Acc { n: 2, sum: 10 }), None]);
    let events = numbers(&["1", "2", "3", "4"]);
    let out = adapter.add(accs, &events, &[1, 0, 1, 0]).expect("adds");
    assert_eq!(
        unpacked(&out),
        [
            Acc { n: 2, sum: 6 },
            Acc { n: 4, sum: 14 },
            Acc { n: 0, sum: 0 },
        ],
        "untouched accumulators come back (as fresh ones)"
    );
}

#[test]
fn add_refuses_bad_events_targets_and_accumulators() {
    let mut adapter = Adapter::new(Sum);
    let error = adapter
        .add(packed(&[None]), &numbers(&["x"]), &[0])
        .expect_err("not a number");
    assert_eq!(error.message(), "not a number");
    let error = adapter
        .add(packed(&[None]), &numbers(&["1"]), &[1])
        .expect_err("target past the accumulators");
    assert!(error.message().contains("target 1"), "{error}");
    assert!(adapter.add(packed(&[None]), &numbers(&["1"]), &[]).is_err());
    let garbage = PackedBytes {
        bytes: vec![0xFF],
        ends: vec![1],
    };
    assert!(adapter.add(garbage, &numbers(&[]), &[]).is_err());
    let backwards = PackedBytes {
        bytes: vec![0, 0],
        ends: vec![2, 1],
    };
    assert!(adapter.add(backwards, &numbers(&[]), &[]).is_err());
}

#[test]
fn merge_combines_each_group() {
    let mut adapter = Adapter::new(Sum);
    let inputs = packed(&[
        Some(Acc { n: 1, sum: 1 }),
        None,
        Some(Acc { n: 2, sum: 5 }),
        Some(Acc { n: 3, sum: 7 }),
    ]);
    let out = adapter.merge(&inputs, &[3, 4]).expect("merges");
    assert_eq!(unpacked(&out), [Acc { n: 3, sum: 6 }, Acc { n: 3, sum: 7 }]);
    assert!(adapter.merge(&inputs, &[5]).is_err(), "past the inputs");
}

#[test]
fn finish_gives_one_value_per_firing() {
    let mut adapter = Adapter::new(Sum);
    let accs = packed(&[Some(Acc { n: 2, sum: 3 }), None]);
    let out = adapter
        .finish(&accs, &[firing(Firing::OnTime), firing(Firing::Late)])
        .expect("finishes");
    assert_eq!(out.ends, [3, 11]);
    assert_eq!(out.bytes, b"3/2late 0/0");
    assert!(adapter.finish(&accs, &[]).is_err(), "counts must agree");
}
