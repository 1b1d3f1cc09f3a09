//! Window state through a checkpoint: `persist` + `snapshot_to` + `open_backend` +
//! `restore` in the middle of a run changes nothing in the output (every window kind,
//! trigger and lateness, aggregate and process functions); purged windows do not come
//! back; damaged state is an error.
#![allow(clippy::unwrap_used)] // tests may unwrap

use proptest::prelude::*;

use super::props::{assigner, cuts, script, spec};
use super::support::{Out, Step, drive_cut, ev, ids_operator, process_operator};
use crate::runtime::operator::Operator;
use crate::state::snapshot_file::FILE_NAME;
use crate::state::{BackendKind, StateBackend, open_backend};
use crate::window::WindowOperator;
use crate::window::spec::{AssignerSpec, WindowSpec};

/// A fresh operator of the same kind (aggregate or process) and spec.
fn fresh(process: bool, spec: WindowSpec) -> WindowOperator {
    match process {
        true => process_operator(spec).0,
        false => ids_operator(spec).0,
    }
}

fn join(mut a: Out, b: Out) -> Out {
    a.results.extend(b.results);
    a.late.extend(b.late);
    a.dead.extend(b.dead);
    a.per_step.extend(b.per_step);
    a
}

/// Runs `steps` on `backend` with a checkpoint after `first` steps (persisted once
/// before, after `early` steps, so the second persist writes only changes) and a
/// restore into a fresh operator from the snapshot; the operators' specs are
/// `specs.0` before the restore and `specs.1` after it.
fn run_with_restore(
    backend: BackendKind,
    process: bool,
    specs: (WindowSpec, WindowSpec),
    steps: &[Step],
    cuts: &[usize],
    early: usize,
    first: usize,
) -> Result<Out, TestCaseError> {
    let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
    let dir = tempfile::tempdir().map_err(|e| fail(&e))?;
    let working = open_backend(backend, &dir.path().join("before"), None).map_err(|e| fail(&e))?;
    let mut before = fresh(process, specs.0)
        .with_backend(working)
        .map_err(|e| fail(&e))?;
    let head = drive_cut(&mut before, &steps[..early], cuts).map_err(|e| fail(&e))?;
    before.persist().map_err(|e| fail(&e))?;
    let middle = drive_cut(&mut before, &steps[early..first], cuts).map_err(|e| fail(&e))?;
    before.persist().map_err(|e| fail(&e))?;
    let snapshot = dir.path().join("chk-1");
    before
        .backend_mut()
        .map_err(|e| fail(&e))?
        .snapshot_to(&snapshot)
        .map_err(|e| fail(&e))?;
    drop(before);
    let restored =
        open_backend(backend, &dir.path().join("after"), Some(&snapshot)).map_err(|e| fail(&e))?;
    let mut after = fresh(process, specs.1)
        .with_backend(restored)
        .map_err(|e| fail(&e))?;
    after.restore(0..128).map_err(|e| fail(&e))?;
    let tail = drive_cut(&mut after, &steps[first..], cuts).map_err(|e| fail(&e))?;
    Ok(join(join(head, middle), tail))
}

/// Law 1 of `operator::durable` for one case on `backend`: a checkpoint and restore
/// anywhere is invisible in the output.
fn check_restore_anywhere(
    backend: BackendKind,
    spec: WindowSpec,
    steps: &[Step],
    cuts: &[usize],
    process: bool,
    at: (prop::sample::Index, prop::sample::Index),
) -> Result<(), TestCaseError> {
    let (a, b) = (at.0.index(steps.len() + 1), at.1.index(steps.len() + 1));
    let (early, first) = (a.min(b), a.max(b));
    let straight = drive_cut(&mut fresh(process, spec), steps, cuts)
        .map_err(|e| TestCaseError::fail(e.to_string()))?;
    let restored = run_with_restore(backend, process, (spec, spec), steps, cuts, early, first)?;
    prop_assert_eq!(restored, straight);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn a_restore_anywhere_gives_the_straight_output(
        spec in spec(), steps in script(), cuts in cuts(), process in any::<bool>(),
        at in any::<(prop::sample::Index, prop::sample::Index)>(),
    ) {
        check_restore_anywhere(BackendKind::Memory, spec, &steps, &cuts, process, at)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    /// Sliding windows derived from their panes have no timers in the state: the
    /// restore schedules them again from the panes.
    #[test]
    fn a_restore_anywhere_of_derived_sliding_windows_gives_the_straight_output(
        assigner in assigner().prop_filter("sliding", |a| matches!(a, AssignerSpec::Sliding { .. })),
        steps in script(), cuts in cuts(), process in any::<bool>(),
        at in any::<(prop::sample::Index, prop::sample::Index)>(),
    ) {
        let spec = WindowSpec::new(assigner);
        check_restore_anywhere(BackendKind::Memory, spec, &steps, &cuts, process, at)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 100, ..ProptestConfig::default() })]

    /// State of sliding windows written with allowed lateness (each window an entry)
    /// restored without it (windows derived from their panes), and the other way: with
    /// no late event, the output is the straight run's.
    #[test]
    fn sliding_windows_restore_across_a_change_of_lateness(
        assigner in assigner().prop_filter("sliding", |a| matches!(a, AssignerSpec::Sliding { .. })),
        events in prop::collection::vec((0..3usize, 0..60i64), 1..40),
        process in any::<bool>(),
        at in any::<prop::sample::Index>(),
        lateness_first in any::<bool>(),
    ) {
        // Time order and watermarks behind every event: nothing is late either way.
        let mut sorted = events;
        sorted.sort_by_key(|(_, ts)| *ts);
        let mut steps = Vec::new();
        for (i, (key, ts)) in sorted.into_iter().enumerate() {
            steps.push(Step::Events(vec![ev(["a", "b", "c"][key], ts, i as u64 + 1)]));
            steps.push(Step::Watermark(ts - 1));
        }
        steps.push(Step::End);
        let derived = WindowSpec::new(assigner);
        let with_entries = WindowSpec { allowed_lateness_ms: 7, ..derived };
        let specs = match lateness_first {
            true => (with_entries, derived),
            false => (derived, with_entries),
        };
        let straight = drive_cut(&mut fresh(process, derived), &steps, &[1])
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let first = at.index(steps.len() + 1);
        let restored = run_with_restore(BackendKind::Memory, process, specs, &steps, &[1], first, first)?;
        prop_assert_eq!(restored, straight);
    }
}

proptest! {
    // Each case opens two RocksDB instances: fewer cases, the same law.
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn a_restore_anywhere_gives_the_straight_output_on_rocksdb(
        spec in spec(), steps in script(), cuts in cuts(), process in any::<bool>(),
        at in any::<(prop::sample::Index, prop::sample::Index)>(),
    ) {
        check_restore_anywhere(BackendKind::RocksDb, spec, &steps, &cuts, process, at)?;
    }
}

fn tumbling(size_ms: i64, lateness: i64) -> WindowSpec {
    let mut spec = WindowSpec::new(AssignerSpec::Tumbling {
        size_ms,
        offset_ms: 0,
    });
    spec.allowed_lateness_ms = lateness;
    spec
}

/// Keys of `backend` whose first bytes are not the operator area.
fn keyed_entries(backend: &mut dyn StateBackend) -> usize {
    let mut n = 0;
    backend
        .scan_prefix(b"", &mut |key, _| {
            n += usize::from(!key.starts_with(&[0xFF, 0xFF]));
            crate::state::ScanControl::Continue
        })
        .unwrap();
    n
}

#[test]
fn persist_costs_the_changes_and_purged_windows_do_not_come_back() {
    let (mut op, _) = ids_operator(tumbling(10, 5));
    let steps = [Step::Events(vec![
        ev("a", 1, 1),
        ev("b", 2, 2),
        ev("a", 15, 3),
    ])];
    drive_cut(&mut op, &steps, &[]).unwrap();
    let first = op.persist().unwrap();
    assert_eq!((first.written, first.deleted), (3, 0));
    assert_eq!(
        op.persist().unwrap().written,
        0,
        "nothing changed, nothing written"
    );
    assert_eq!(keyed_entries(op.backend_mut().unwrap()), 3);
    // One more event in one window: one entry written.
    drive_cut(&mut op, &[Step::Events(vec![ev("b", 3, 4)])], &[]).unwrap();
    assert_eq!(op.persist().unwrap().written, 1);
    // [0, 10) fires at 9 and is purged at 14; [10, 20) lives on.
    drive_cut(&mut op, &[Step::Watermark(14)], &[]).unwrap();
    let purged = op.persist().unwrap();
    assert_eq!(purged.deleted, 2, "both keys' [0, 10) are deleted");
    assert_eq!(keyed_entries(op.backend_mut().unwrap()), 1);
    // Restored: only [10, 20) of `a` is there; its on-time firing comes once.
    let dir = tempfile::tempdir().unwrap();
    op.backend_mut()
        .unwrap()
        .snapshot_to(&dir.path().join("c"))
        .unwrap();
    let backend =
        open_backend(BackendKind::Memory, dir.path(), Some(&dir.path().join("c"))).unwrap();
    let (fresh, _) = ids_operator(tumbling(10, 5));
    let mut back = fresh.with_backend(backend).unwrap();
    back.restore(0..128).unwrap();
    assert_eq!(back.store().len(), 1);
    assert_eq!(back.watermark(), 14);
    let out = drive_cut(&mut back, &[Step::End], &[]).unwrap();
    let windows: Vec<_> = out
        .results
        .iter()
        .map(|r| (r.key.clone(), r.start))
        .collect();
    assert_eq!(windows, [(Some("a".to_owned()), 10)]);
}

#[test]
fn damaged_state_is_an_error_not_an_empty_operator() {
    let (mut op, _) = process_operator(tumbling(10, 0));
    drive_cut(&mut op, &[Step::Events(vec![ev("a", 1, 1)])], &[]).unwrap();
    op.persist().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("c");
    op.backend_mut().unwrap().snapshot_to(&snapshot).unwrap();
    // A damaged snapshot file does not open.
    let file = snapshot.join(FILE_NAME);
    let mut bytes = std::fs::read(&file).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x55;
    std::fs::write(&file, &bytes).unwrap();
    assert!(open_backend(BackendKind::Memory, dir.path(), Some(&snapshot)).is_err());
    // A backend whose window entry is damaged does not restore.
    let backend = op.backend_mut().unwrap();
    let mut key = None;
    backend
        .scan_prefix(b"", &mut |k, _| {
            key = Some(k.to_vec());
            crate::state::ScanControl::Stop
        })
        .unwrap();
    backend.put(&key.unwrap(), b"\x01short").unwrap();
    assert!(op.restore(0..128).is_err());
    // Entries without the scalars: an error too.
    let backend = op.backend_mut().unwrap();
    backend
        .delete(&[0xFF, 0xFF, 0x02, b's', b'c', b'a', b'l', b'a', b'r', b's'])
        .unwrap();
    let error = op.restore(0..128).unwrap_err().to_string();
    assert!(
        error.contains("scalars") || error.contains("corrupt"),
        "{error}"
    );
}

#[test]
fn restore_takes_only_the_given_key_groups() {
    let (mut op, _) = ids_operator(tumbling(10, 0));
    let events: Vec<_> = (0..40).map(|i| ev(&format!("k{i}"), 1, i)).collect();
    drive_cut(&mut op, &[Step::Events(events)], &[]).unwrap();
    op.persist().unwrap();
    let mut half = |range| {
        let mut backend = crate::state::MemoryBackend::new();
        op_copy(&mut op, &mut backend);
        let (fresh, _) = ids_operator(tumbling(10, 0));
        let mut back = fresh.with_backend(Box::new(backend)).unwrap();
        back.restore(range).unwrap();
        back.store().len()
    };
    let (low, high) = (half(0..64), half(64..128));
    assert_eq!(low + high, 40);
    assert!(low > 0 && high > 0, "40 keys spread over both halves");
}

/// Copies everything `op`'s backend holds into `to`.
fn op_copy(op: &mut WindowOperator, to: &mut crate::state::MemoryBackend) {
    let mut all = Vec::new();
    op.backend_mut()
        .unwrap()
        .scan_prefix(b"", &mut |k, v| {
            all.push((k.to_vec(), v.to_vec()));
            crate::state::ScanControl::Continue
        })
        .unwrap();
    for (k, v) in all {
        to.put(&k, &v).unwrap();
    }
}

#[test]
fn the_end_of_input_after_a_restore_fires_what_is_left() {
    let (mut op, _) = process_operator(WindowSpec::new(AssignerSpec::Count { n: 3 }));
    drive_cut(
        &mut op,
        &[Step::Events(vec![ev("a", 5, 1), ev("a", 7, 2)])],
        &[],
    )
    .unwrap();
    op.persist().unwrap();
    let mut backend = crate::state::MemoryBackend::new();
    op_copy(&mut op, &mut backend);
    let (fresh, _) = process_operator(WindowSpec::new(AssignerSpec::Count { n: 3 }));
    let mut back = fresh.with_backend(Box::new(backend)).unwrap();
    back.restore(0..128).unwrap();
    let mut emitted = crate::runtime::operator::Emitted::default();
    back.on_end(&mut emitted).unwrap();
    assert_eq!(emitted.main.len(), 1);
    assert_eq!(emitted.main.event(0).value, b"5:1,7:2");
}

/// Law "the snapshot is the barrier's" of `operator::snapshot_thread`: a checkpoint
/// begun after `first` steps, while the operator goes on with the rest before the
/// snapshot is waited for, restores to the state at `first`; and going on changes
/// nothing in the operator's own output.
fn check_checkpoint_off_thread(
    backend: BackendKind,
    spec: WindowSpec,
    steps: &[Step],
    cuts: &[usize],
    process: bool,
    at: prop::sample::Index,
) -> Result<(), TestCaseError> {
    let fail = |e: &dyn std::fmt::Display| TestCaseError::fail(e.to_string());
    let first = at.index(steps.len() + 1);
    let straight = drive_cut(&mut fresh(process, spec), steps, cuts).map_err(|e| fail(&e))?;
    let dir = tempfile::tempdir().map_err(|e| fail(&e))?;
    let working = open_backend(backend, &dir.path().join("before"), None).map_err(|e| fail(&e))?;
    let mut before = fresh(process, spec)
        .with_backend(working)
        .map_err(|e| fail(&e))?;
    let head = drive_cut(&mut before, &steps[..first], cuts).map_err(|e| fail(&e))?;
    let snapshot = dir.path().join("chk-1");
    let (_, wait) = before.begin_checkpoint(&snapshot).map_err(|e| fail(&e))?;
    let went_on = drive_cut(&mut before, &steps[first..], cuts).map_err(|e| fail(&e))?;
    wait.wait().map_err(|e| fail(&e))?;
    drop(before);
    let restored =
        open_backend(backend, &dir.path().join("after"), Some(&snapshot)).map_err(|e| fail(&e))?;
    let mut after = fresh(process, spec)
        .with_backend(restored)
        .map_err(|e| fail(&e))?;
    after.restore(0..128).map_err(|e| fail(&e))?;
    let tail = drive_cut(&mut after, &steps[first..], cuts).map_err(|e| fail(&e))?;
    prop_assert_eq!(join(head.clone(), tail), straight.clone());
    prop_assert_eq!(join(head, went_on), straight);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn a_checkpoint_written_off_thread_is_the_barriers_state(
        spec in spec(), steps in script(), cuts in cuts(), process in any::<bool>(),
        at in any::<prop::sample::Index>(),
    ) {
        check_checkpoint_off_thread(BackendKind::Memory, spec, &steps, &cuts, process, at)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 30, ..ProptestConfig::default() })]

    #[test]
    fn a_checkpoint_written_off_thread_is_the_barriers_state_on_rocksdb(
        spec in spec(), steps in script(), cuts in cuts(), process in any::<bool>(),
        at in any::<prop::sample::Index>(),
    ) {
        check_checkpoint_off_thread(BackendKind::RocksDb, spec, &steps, &cuts, process, at)?;
    }
}
