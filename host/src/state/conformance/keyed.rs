//! The keyed-state part of the conformance suite: value, list and map state, scope
//! isolation, limits and TTL, on top of the backend under test.

use super::scan_all;
use crate::state::encoding::{MAX_KEY_LEN, key_group_prefix};
use crate::state::{
    KeyedState, MAX_READ_LEN, MAX_VALUE_LEN, Scope, StateBackend, StateError, StateKind, StateSpec,
};

fn scope<'a>(key: &'a [u8], namespace: &'a [u8], time: i64) -> Scope<'a> {
    Scope {
        key_group: 5,
        key,
        namespace,
        time,
    }
}

fn bytes(items: &[&[u8]]) -> Vec<Vec<u8>> {
    items.iter().map(|item| item.to_vec()).collect()
}

pub(super) fn value_state(backend: &mut dyn StateBackend) {
    let mut state = KeyedState::new();
    let spec = StateSpec::new("v", StateKind::Value);
    let at = scope(b"k", b"", 0);
    assert_eq!(state.value_get(backend, &spec, &at).unwrap(), None);
    state.value_set(backend, &spec, &at, b"one").unwrap();
    assert_eq!(
        state.value_get(backend, &spec, &at).unwrap(),
        Some(b"one".to_vec())
    );
    state.value_set(backend, &spec, &at, b"").unwrap();
    assert_eq!(
        state.value_get(backend, &spec, &at).unwrap(),
        Some(Vec::new())
    );
    state.clear(backend, &spec, &at).unwrap();
    assert_eq!(state.value_get(backend, &spec, &at).unwrap(), None);
    assert!(scan_all(backend, b"").is_empty());
}

pub(super) fn list_state(backend: &mut dyn StateBackend) {
    let mut state = KeyedState::new();
    let spec = StateSpec::new("l", StateKind::List);
    let at = scope(b"k", b"w", 0);
    assert!(state.list_get(backend, &spec, &at).unwrap().is_empty());
    for element in [&b"c"[..], b"a", b"", b"b"] {
        state.list_add(backend, &spec, &at, element).unwrap();
    }
    assert_eq!(
        state.list_get(backend, &spec, &at).unwrap(),
        bytes(&[b"c", b"a", b"", b"b"])
    );
    // More than 256 elements: the order holds past one byte of sequence number.
    let many: Vec<Vec<u8>> = (0..300u32).map(|i| i.to_le_bytes().to_vec()).collect();
    state.list_replace(backend, &spec, &at, &many).unwrap();
    state.list_add(backend, &spec, &at, b"last").unwrap();
    let read = state.list_get(backend, &spec, &at).unwrap();
    assert_eq!(read.len(), 301);
    assert_eq!(read[..300], many[..]);
    assert_eq!(read[300], b"last");
    state
        .list_replace::<_, &[u8]>(backend, &spec, &at, &[])
        .unwrap();
    assert!(state.list_get(backend, &spec, &at).unwrap().is_empty());
    assert!(
        scan_all(backend, b"").is_empty(),
        "an empty list leaves no entry"
    );
    state.list_add(backend, &spec, &at, b"again").unwrap();
    state.clear(backend, &spec, &at).unwrap();
    assert!(scan_all(backend, b"").is_empty());
}

pub(super) fn map_state(backend: &mut dyn StateBackend) {
    let mut state = KeyedState::new();
    let spec = StateSpec::new("m", StateKind::Map);
    let at = scope(b"k", b"", 0);
    for (key, value) in [
        (&b"b"[..], &b"2"[..]),
        (b"", b"empty"),
        (b"a", b"1"),
        (b"ab", b"12"),
    ] {
        state.map_put(backend, &spec, &at, key, value).unwrap();
    }
    state.map_put(backend, &spec, &at, b"a", b"one").unwrap();
    assert_eq!(
        state.map_get(backend, &spec, &at, b"a").unwrap(),
        Some(b"one".to_vec())
    );
    assert_eq!(state.map_get(backend, &spec, &at, b"z").unwrap(), None);
    let entries = state.map_entries(backend, &spec, &at).unwrap();
    let expected = [
        (&b""[..], &b"empty"[..]),
        (b"a", b"one"),
        (b"ab", b"12"),
        (b"b", b"2"),
    ];
    assert_eq!(entries, expected.map(|(k, v)| (k.to_vec(), v.to_vec())));
    state.map_remove(backend, &spec, &at, b"a").unwrap();
    state.map_remove(backend, &spec, &at, b"never").unwrap();
    assert_eq!(state.map_entries(backend, &spec, &at).unwrap().len(), 3);
    state.clear(backend, &spec, &at).unwrap();
    assert!(state.map_entries(backend, &spec, &at).unwrap().is_empty());
}

pub(super) fn scopes_are_isolated(backend: &mut dyn StateBackend) {
    let mut state = KeyedState::new();
    let value = StateSpec::new("s", StateKind::Value);
    let value2 = StateSpec::new("s2", StateKind::Value);
    let map = StateSpec::new("m", StateKind::Map);
    let scopes = [
        scope(b"a", b"", 0),
        scope(b"ab", b"", 0),
        scope(b"a", b"w", 0),
        scope(b"a", b"w1", 0),
    ];
    for (i, at) in scopes.iter().enumerate() {
        let tag = [i as u8];
        state.value_set(backend, &value, at, &tag).unwrap();
        state.value_set(backend, &value2, at, &tag).unwrap();
        state.map_put(backend, &map, at, b"x", &tag).unwrap();
    }
    let other_group = Scope {
        key_group: 6,
        ..scopes[0]
    };
    state
        .value_set(backend, &value, &other_group, b"g6")
        .unwrap();

    state.clear(backend, &map, &scopes[0]).unwrap();
    state.clear_namespace(backend, 5, b"a", b"w").unwrap();
    for (i, at) in scopes.iter().enumerate() {
        let tag = Some(vec![i as u8]);
        let expect = |cleared: bool| if cleared { None } else { tag.clone() };
        assert_eq!(
            state.value_get(backend, &value, at).unwrap(),
            expect(i == 2),
            "scope {i}"
        );
        assert_eq!(
            state.value_get(backend, &value2, at).unwrap(),
            expect(i == 2),
            "scope {i}"
        );
        assert_eq!(
            state.map_get(backend, &map, at, b"x").unwrap(),
            expect(i == 0 || i == 2),
            "scope {i}"
        );
    }
    assert_eq!(
        state.value_get(backend, &value, &other_group).unwrap(),
        Some(b"g6".to_vec())
    );
    let mut group6 = Vec::new();
    key_group_prefix(&mut group6, 6);
    assert_eq!(
        scan_all(backend, &group6).len(),
        1,
        "key group 6 is one range"
    );
}

pub(super) fn limits_and_kinds(backend: &mut dyn StateBackend) {
    let mut state = KeyedState::new();
    let value = StateSpec::new("v", StateKind::Value);
    let list = StateSpec::new("l", StateKind::List);
    let map = StateSpec::new("m", StateKind::Map);
    let at = scope(b"k", b"", 0);
    let big = vec![0; MAX_VALUE_LEN + 1];
    let too_large =
        |result: Result<(), StateError>| matches!(result, Err(StateError::TooLarge { .. }));
    assert!(too_large(state.value_set(backend, &value, &at, &big)));
    assert!(too_large(state.list_add(backend, &list, &at, &big)));
    assert!(too_large(state.list_replace(
        backend,
        &list,
        &at,
        &[&b"ok"[..], &big]
    )));
    assert!(too_large(state.map_put(backend, &map, &at, b"k", &big)));
    assert!(too_large(state.map_put(
        backend,
        &map,
        &at,
        &vec![0; MAX_KEY_LEN + 1],
        b"v"
    )));
    let long_key = vec![0; MAX_KEY_LEN + 1];
    assert!(too_large(state.value_set(
        backend,
        &value,
        &scope(&long_key, b"", 0),
        b"v"
    )));
    assert!(
        scan_all(backend, b"").is_empty(),
        "nothing is written when a size is refused"
    );
    // The largest allowed sizes pass.
    state
        .value_set(backend, &value, &at, &big[..MAX_VALUE_LEN])
        .unwrap();
    // An answer is clamped too: 4 × 16 MiB plus the per-element overhead is too much.
    for _ in 0..4 {
        state
            .list_add(backend, &list, &at, &big[..MAX_VALUE_LEN])
            .unwrap();
    }
    let answer = state.list_get(backend, &list, &at);
    assert!(matches!(
        answer,
        Err(StateError::TooLarge {
            limit: MAX_READ_LEN,
            ..
        })
    ));
    state.clear(backend, &list, &at).unwrap();
    state.clear(backend, &value, &at).unwrap();

    let wrong = state.list_add(backend, &value, &at, b"x");
    assert!(matches!(
        wrong,
        Err(StateError::WrongKind {
            used_as: StateKind::List,
            ..
        })
    ));
    assert!(state.map_get(backend, &list, &at, b"x").is_err());
    assert!(state.value_get(backend, &map, &at).is_err());
}

pub(super) fn ttl(backend: &mut dyn StateBackend) {
    let mut state = KeyedState::new();
    let value = StateSpec::new("v", StateKind::Value).with_ttl(10);
    let list = StateSpec::new("l", StateKind::List).with_ttl(10);
    let map = StateSpec::new("m", StateKind::Map).with_ttl(10);

    // Written at event time 5 before any watermark: expires at 15.
    state
        .value_set(backend, &value, &scope(b"k", b"", 5), b"v")
        .unwrap();
    state
        .list_add(backend, &list, &scope(b"k", b"", 5), b"first")
        .unwrap();
    state
        .map_put(backend, &map, &scope(b"k", b"", 5), b"early", b"1")
        .unwrap();
    // A late event (time 5) while the watermark is 14: expires at max(5, 14) + 10.
    state.set_watermark(Some(14));
    state
        .list_add(backend, &list, &scope(b"k", b"", 5), b"second")
        .unwrap();
    state
        .map_put(backend, &map, &scope(b"k", b"", 5), b"late", b"2")
        .unwrap();
    let at = scope(b"k", b"", 0);
    assert_eq!(
        state.value_get(backend, &value, &at).unwrap(),
        Some(b"v".to_vec())
    );
    assert_eq!(
        state.list_get(backend, &list, &at).unwrap(),
        bytes(&[b"first", b"second"])
    );

    state.set_watermark(Some(15)); // watermark >= expiry: gone
    assert_eq!(state.value_get(backend, &value, &at).unwrap(), None);
    assert_eq!(
        state.list_get(backend, &list, &at).unwrap(),
        bytes(&[b"second"])
    );
    assert_eq!(state.map_get(backend, &map, &at, b"early").unwrap(), None);
    assert_eq!(
        state.map_entries(backend, &map, &at).unwrap(),
        [(b"late".to_vec(), b"2".to_vec())]
    );
    // Expired entries were deleted when read; left: the list (meta entry and one
    // element) and one map entry.
    assert_eq!(scan_all(backend, b"").len(), 2 + 1);

    state.set_watermark(Some(23));
    assert_eq!(
        state.list_get(backend, &list, &at).unwrap(),
        bytes(&[b"second"])
    );
    state.set_watermark(Some(24));
    assert!(state.list_get(backend, &list, &at).unwrap().is_empty());
    assert!(state.map_entries(backend, &map, &at).unwrap().is_empty());
    assert!(
        scan_all(backend, b"").is_empty(),
        "everything expired is deleted"
    );

    // Adding to an expired list starts it afresh; overwriting renews the expiry.
    state
        .list_add(backend, &list, &scope(b"k", b"", 35), b"old")
        .unwrap();
    state.set_watermark(Some(45));
    state
        .list_add(backend, &list, &scope(b"k", b"", 50), b"new")
        .unwrap();
    assert_eq!(
        state.list_get(backend, &list, &at).unwrap(),
        bytes(&[b"new"])
    );
    state
        .value_set(backend, &value, &scope(b"k", b"", 50), b"a")
        .unwrap();
    state.set_watermark(Some(59));
    state
        .value_set(backend, &value, &scope(b"k", b"", 50), b"b")
        .unwrap();
    state.set_watermark(Some(65));
    assert_eq!(
        state.value_get(backend, &value, &at).unwrap(),
        Some(b"b".to_vec())
    );

    // Without a TTL nothing expires, whatever the watermark.
    let forever = StateSpec::new("forever", StateKind::Value);
    state.value_set(backend, &forever, &at, b"x").unwrap();
    state.set_watermark(Some(i64::MAX));
    assert_eq!(
        state.value_get(backend, &forever, &at).unwrap(),
        Some(b"x".to_vec())
    );
}
