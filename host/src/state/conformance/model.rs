//! Property tests against models: the transaction overlay against a `BTreeMap` (the
//! content as of the last commit, and as of now), and keyed state with TTL through
//! [`SubtaskState`] against plain maps, under random operations, commits and rollbacks.

use std::collections::BTreeMap;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;

use super::{MakeBackend, scan_all};
use crate::state::{
    Overlay, ScanControl, Scope, StateBackend, StateKind, StateSpec, SubtaskState, WriteBatch,
};

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

#[derive(Debug, Clone)]
enum Write {
    Put(Vec<u8>, Vec<u8>),
    Delete(Vec<u8>),
    DeletePrefix(Vec<u8>),
}

#[derive(Debug, Clone)]
enum Op {
    Write(Write),
    Batch(Vec<Write>),
    Get(Vec<u8>),
    Scan(Vec<u8>, usize),
    Commit,
    Rollback,
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    // Three byte values and short keys: prefixes, collisions and 0xFF edges abound.
    proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(0xFF)], 0..4)
}

fn write() -> impl Strategy<Value = Write> {
    prop_oneof![
        4 => (key(), proptest::collection::vec(any::<u8>(), 0..3)).prop_map(|(k, v)| Write::Put(k, v)),
        2 => key().prop_map(Write::Delete),
        1 => key().prop_map(Write::DeletePrefix),
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => write().prop_map(Op::Write),
        1 => proptest::collection::vec(write(), 0..5).prop_map(Op::Batch),
        2 => key().prop_map(Op::Get),
        2 => (key(), 1usize..5).prop_map(|(k, n)| Op::Scan(k, n)),
        1 => Just(Op::Commit),
        1 => Just(Op::Rollback),
    ]
}

fn apply_model(model: &mut Model, write: &Write) {
    match write {
        Write::Put(k, v) => {
            model.insert(k.clone(), v.clone());
        }
        Write::Delete(k) => {
            model.remove(k);
        }
        Write::DeletePrefix(p) => model.retain(|k, _| !k.starts_with(p)),
    }
}

fn apply_backend(backend: &mut dyn StateBackend, write: &Write) {
    match write {
        Write::Put(k, v) => backend.put(k, v),
        Write::Delete(k) => backend.delete(k),
        Write::DeletePrefix(p) => backend.delete_prefix(p),
    }
    .unwrap();
}

fn entries(model: &Model, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    model
        .iter()
        .filter(|(k, _)| k.starts_with(prefix))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The overlay over a backend from `make` against its model, in `cases` random runs.
pub(crate) fn the_overlay_behaves_like_its_model(make: MakeBackend<'_>, cases: u32) {
    let strategy = (
        proptest::collection::vec(write(), 0..8),
        proptest::collection::vec(op(), 0..40),
    );
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let result = runner.run(&strategy, |(committed_first, ops)| {
        let mut base = make();
        let mut committed = Model::new();
        for write in &committed_first {
            apply_backend(&mut base, write);
            apply_model(&mut committed, write);
        }
        let mut overlay = Overlay::new(base);
        let mut current = committed.clone();
        for op in &ops {
            match op {
                Op::Write(write) => {
                    apply_backend(&mut overlay, write);
                    apply_model(&mut current, write);
                }
                Op::Batch(writes) => {
                    let mut batch = WriteBatch::new();
                    for write in writes {
                        match write {
                            Write::Put(k, v) => batch.put(k.as_slice(), v.as_slice()),
                            Write::Delete(k) => batch.delete(k.as_slice()),
                            Write::DeletePrefix(p) => batch.delete_prefix(p.as_slice()),
                        }
                        apply_model(&mut current, write);
                    }
                    overlay.write(batch).unwrap();
                }
                Op::Get(k) => prop_assert_eq!(overlay.get(k).unwrap(), current.get(k).cloned()),
                Op::Scan(prefix, limit) => {
                    let mut seen = Vec::new();
                    overlay
                        .scan_prefix(prefix, &mut |k, v| {
                            seen.push((k.to_vec(), v.to_vec()));
                            if seen.len() == *limit {
                                ScanControl::Stop
                            } else {
                                ScanControl::Continue
                            }
                        })
                        .unwrap();
                    let mut expected = entries(&current, prefix);
                    expected.truncate(*limit);
                    prop_assert_eq!(seen, expected);
                }
                Op::Commit => {
                    overlay.commit().unwrap();
                    prop_assert!(overlay.is_clean());
                    committed = current.clone();
                    prop_assert_eq!(scan_all(overlay.base(), b""), entries(&committed, b""));
                }
                Op::Rollback => {
                    overlay.rollback();
                    current = committed.clone();
                }
            }
            prop_assert_eq!(scan_all(&overlay, b""), entries(&current, b""));
            prop_assert_eq!(
                scan_all(overlay.base(), b""),
                entries(&committed, b""),
                "nothing reaches the base before commit"
            );
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// A value with its expiry.
type Expiring = (Vec<u8>, Option<i64>);

/// The keyed-state model: per scope (an index into `SCOPES`), what each state holds.
#[derive(Debug, Clone, Default)]
struct KeyedModel {
    values: BTreeMap<usize, Expiring>,
    lists: BTreeMap<usize, Vec<Expiring>>,
    maps: BTreeMap<usize, BTreeMap<Vec<u8>, Expiring>>,
}

#[derive(Debug, Clone)]
enum KeyedOp {
    Set(usize, i64, Vec<u8>),
    Get(usize),
    ListAdd(usize, i64, Vec<u8>),
    ListReplace(usize, i64, Vec<Vec<u8>>),
    ListGet(usize),
    MapPut(usize, i64, Vec<u8>, Vec<u8>),
    MapRemove(usize, Vec<u8>),
    MapGet(usize, Vec<u8>),
    MapEntries(usize),
    Clear(usize, StateKind),
    ClearNamespace(usize),
    Advance(i64),
    Commit,
    Rollback,
}

/// Scopes: keys `a` and `ab`, namespaces empty and `w`.
const SCOPES: [(&[u8], &[u8]); 4] = [(b"a", b""), (b"ab", b""), (b"a", b"w"), (b"ab", b"w")];

fn keyed_op() -> impl Strategy<Value = KeyedOp> {
    let s = 0..SCOPES.len();
    let t = 0i64..40;
    let v = || proptest::collection::vec(any::<u8>(), 0..3);
    let uk = || proptest::collection::vec(prop_oneof![Just(0u8), Just(b'x')], 0..3);
    let kind = prop_oneof![
        Just(StateKind::Value),
        Just(StateKind::List),
        Just(StateKind::Map)
    ];
    prop_oneof![
        (s.clone(), t.clone(), v()).prop_map(|(s, t, v)| KeyedOp::Set(s, t, v)),
        s.clone().prop_map(KeyedOp::Get),
        (s.clone(), t.clone(), v()).prop_map(|(s, t, v)| KeyedOp::ListAdd(s, t, v)),
        (s.clone(), t.clone(), proptest::collection::vec(v(), 0..3))
            .prop_map(|(s, t, vs)| KeyedOp::ListReplace(s, t, vs)),
        s.clone().prop_map(KeyedOp::ListGet),
        (s.clone(), t.clone(), uk(), v()).prop_map(|(s, t, k, v)| KeyedOp::MapPut(s, t, k, v)),
        (s.clone(), uk()).prop_map(|(s, k)| KeyedOp::MapRemove(s, k)),
        (s.clone(), uk()).prop_map(|(s, k)| KeyedOp::MapGet(s, k)),
        s.clone().prop_map(KeyedOp::MapEntries),
        (s.clone(), kind).prop_map(|(s, kind)| KeyedOp::Clear(s, kind)),
        s.clone().prop_map(KeyedOp::ClearNamespace),
        (0i64..8).prop_map(KeyedOp::Advance),
        Just(KeyedOp::Commit),
        Just(KeyedOp::Rollback),
    ]
}

fn live<T: Clone>(watermark: Option<i64>, (item, expiry): &(T, Option<i64>)) -> Option<T> {
    let expired = matches!((watermark, expiry), (Some(w), Some(e)) if w >= *e);
    (!expired).then(|| item.clone())
}

/// Keyed state with TTL through [`SubtaskState`] on a backend from `make` against its
/// model, in `cases` random runs.
pub(crate) fn keyed_state_behaves_like_its_model(make: MakeBackend<'_>, cases: u32) {
    let strategy = (
        prop_oneof![Just(None), Just(Some(0u64)), Just(Some(10))],
        proptest::collection::vec(keyed_op(), 0..50),
    );
    let mut runner = TestRunner::new(ProptestConfig::with_cases(cases));
    let result = runner.run(&strategy, |(ttl, ops)| {
        let spec = |name: &str, kind| StateSpec {
            name: name.into(),
            kind,
            ttl_ms: ttl,
        };
        let (value, list, map) = (
            spec("v", StateKind::Value),
            spec("l", StateKind::List),
            spec("m", StateKind::Map),
        );
        let mut state = SubtaskState::restore(make(), 0..1).unwrap();
        let (mut committed, mut now) = (KeyedModel::default(), KeyedModel::default());
        let mut watermark: Option<i64> = None;
        let expiry = |w: Option<i64>, t: i64| ttl.map(|ttl| w.map_or(t, |w| w.max(t)) + ttl as i64);
        let scope = |s: usize, time: i64| Scope {
            key_group: 0,
            key: SCOPES[s].0,
            namespace: SCOPES[s].1,
            time,
        };
        for op in &ops {
            let (keyed, backend) = (&mut state.keyed, &mut state.backend);
            match op.clone() {
                KeyedOp::Set(s, t, v) => {
                    keyed.value_set(backend, &value, &scope(s, t), &v).unwrap();
                    now.values.insert(s, (v, expiry(watermark, t)));
                }
                KeyedOp::Get(s) => {
                    let expected = now.values.get(&s).and_then(|e| live(watermark, e));
                    prop_assert_eq!(
                        keyed.value_get(backend, &value, &scope(s, 0)).unwrap(),
                        expected
                    );
                }
                KeyedOp::ListAdd(s, t, v) => {
                    keyed.list_add(backend, &list, &scope(s, t), &v).unwrap();
                    now.lists
                        .entry(s)
                        .or_default()
                        .push((v, expiry(watermark, t)));
                }
                KeyedOp::ListReplace(s, t, vs) => {
                    keyed
                        .list_replace(backend, &list, &scope(s, t), &vs)
                        .unwrap();
                    let e = expiry(watermark, t);
                    now.lists
                        .insert(s, vs.into_iter().map(|v| (v, e)).collect());
                }
                KeyedOp::ListGet(s) => {
                    let expected: Vec<Vec<u8>> = now
                        .lists
                        .get(&s)
                        .into_iter()
                        .flatten()
                        .filter_map(|e| live(watermark, e))
                        .collect();
                    prop_assert_eq!(
                        keyed.list_get(backend, &list, &scope(s, 0)).unwrap(),
                        expected
                    );
                }
                KeyedOp::MapPut(s, t, k, v) => {
                    keyed.map_put(backend, &map, &scope(s, t), &k, &v).unwrap();
                    now.maps
                        .entry(s)
                        .or_default()
                        .insert(k, (v, expiry(watermark, t)));
                }
                KeyedOp::MapRemove(s, k) => {
                    keyed.map_remove(backend, &map, &scope(s, 0), &k).unwrap();
                    now.maps.entry(s).or_default().remove(&k);
                }
                KeyedOp::MapGet(s, k) => {
                    let expected = now
                        .maps
                        .get(&s)
                        .and_then(|m| m.get(&k))
                        .and_then(|e| live(watermark, e));
                    prop_assert_eq!(
                        keyed.map_get(backend, &map, &scope(s, 0), &k).unwrap(),
                        expected
                    );
                }
                KeyedOp::MapEntries(s) => {
                    let expected: Vec<(Vec<u8>, Vec<u8>)> = now
                        .maps
                        .get(&s)
                        .into_iter()
                        .flatten()
                        .filter_map(|(k, e)| live(watermark, e).map(|v| (k.clone(), v)))
                        .collect();
                    prop_assert_eq!(
                        keyed.map_entries(backend, &map, &scope(s, 0)).unwrap(),
                        expected
                    );
                }
                KeyedOp::Clear(s, kind) => {
                    let spec = match kind {
                        StateKind::Value => &value,
                        StateKind::List => &list,
                        StateKind::Map => &map,
                    };
                    keyed.clear(backend, spec, &scope(s, 0)).unwrap();
                    match kind {
                        StateKind::Value => {
                            now.values.remove(&s);
                        }
                        StateKind::List => {
                            now.lists.remove(&s);
                        }
                        StateKind::Map => {
                            now.maps.remove(&s);
                        }
                    }
                }
                KeyedOp::ClearNamespace(s) => {
                    keyed
                        .clear_namespace(backend, 0, SCOPES[s].0, SCOPES[s].1)
                        .unwrap();
                    now.values.remove(&s);
                    now.lists.remove(&s);
                    now.maps.remove(&s);
                }
                KeyedOp::Advance(by) => {
                    watermark = Some(watermark.map_or(0, |w| w + by));
                    state.set_watermark(watermark);
                }
                KeyedOp::Commit => {
                    state.commit().unwrap();
                    committed = now.clone();
                }
                KeyedOp::Rollback => {
                    state.rollback();
                    now = committed.clone();
                }
            }
        }
        // Once everything has expired, nothing is left behind after reading it all.
        if ttl.is_some() {
            state.set_watermark(Some(i64::MAX));
            for s in 0..SCOPES.len() {
                let (keyed, backend) = (&mut state.keyed, &mut state.backend);
                prop_assert_eq!(
                    keyed.value_get(backend, &value, &scope(s, 0)).unwrap(),
                    None
                );
                prop_assert!(
                    keyed
                        .list_get(backend, &list, &scope(s, 0))
                        .unwrap()
                        .is_empty()
                );
                prop_assert!(
                    keyed
                        .map_entries(backend, &map, &scope(s, 0))
                        .unwrap()
                        .is_empty()
                );
            }
            state.commit().unwrap();
            let left = scan_all(state.base(), b"");
            prop_assert!(left.is_empty(), "left: {:?}", left);
        }
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}
