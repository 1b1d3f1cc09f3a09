//! The typed handles against the in-memory host: declaration, codecs, scopes.

use std::time::Duration;

use super::memory::MemoryState;
use super::*;
use crate::wit::state::StateKind;

/// A scope of the memory host, as a context would give it.
struct TestScope<'a>(&'a MemoryState, u32);

impl sealed::Sealed for TestScope<'_> {}

impl StateScope for TestScope<'_> {
    fn scope(&self) -> ScopeRef<'_> {
        ScopeRef {
            host: self.0,
            index: self.1,
        }
    }
}

#[test]
fn declarations_carry_kind_and_ttl_and_repeat_to_the_same_id() {
    let host = MemoryState::with_scopes(1);
    let mut states = StateRegistry::new(&host);
    let value: ValueState<u64> = states
        .value("v")
        .ttl(Duration::from_micros(10))
        .declare()
        .expect("declares");
    let map: MapState<String, i32> = states.map("m").declare().expect("declares");
    let again: ValueState<u64> = states
        .value("v")
        .ttl(Duration::from_micros(10))
        .declare()
        .expect("declares again");
    assert_eq!((value.id, map.id, again.id), (0, 1, 0));
    let specs = host.specs.borrow();
    assert_eq!(specs[0].ttl_ms, Some(1), "sub-millisecond TTLs round up");
    assert_eq!(specs[1].kind, StateKind::Map);
    assert_eq!(specs[1].ttl_ms, None);
    assert_eq!(specs[0].kind, StateKind::Value);
    drop(specs);
    let conflict: Result<ListState<u64>, _> = states.list("v").declare();
    let error = conflict.expect_err("another kind under the same name");
    assert!(error.message().contains("state `v`"), "{error}");
}

#[test]
fn value_state_round_trips_per_scope() {
    let host = MemoryState::with_scopes(2);
    let seen: ValueState<(i64, String)> = StateRegistry::new(&host)
        .value("seen")
        .declare()
        .expect("declares");
    let (mut a, mut b) = (TestScope(&host, 0), TestScope(&host, 1));
    assert_eq!(seen.get(&a).expect("reads"), None);
    seen.set(&mut a, &(5, "x".into())).expect("writes");
    assert_eq!(seen.get(&a).expect("reads"), Some((5, "x".into())));
    assert_eq!(seen.get(&b).expect("reads"), None, "scopes are separate");
    seen.set_bytes(&mut b, &[7, 0]).expect("writes raw");
    assert_eq!(seen.get(&b).expect("reads"), Some((-4, String::new())));
    seen.clear(&mut a).expect("clears");
    assert_eq!(seen.get_bytes(&a).expect("reads"), None);
}

#[test]
fn undecodable_bytes_and_missing_scopes_are_errors_naming_the_state() {
    let host = MemoryState::with_scopes(1);
    let seen: ValueState<String> = StateRegistry::new(&host)
        .value("name")
        .declare()
        .expect("declares");
    let mut scope = TestScope(&host, 0);
    seen.set_bytes(&mut scope, &[5, b'a']).expect("writes raw");
    let error = seen.get(&scope).expect_err("5 bytes announced, 1 there");
    assert!(
        error.message().starts_with("state `name`: stored bytes"),
        "{error}"
    );
    let error = seen.get(&TestScope(&host, 9)).expect_err("no scope 9");
    assert!(error.message().contains("scope 9"), "{error}");
}

#[test]
fn list_state_adds_replaces_and_reads_in_order() {
    let host = MemoryState::with_scopes(1);
    let list: ListState<u32> = StateRegistry::new(&host)
        .list("l")
        .declare()
        .expect("declares");
    let mut scope = TestScope(&host, 0);
    assert!(list.get(&scope).expect("reads").is_empty());
    for n in [3, 1, 2] {
        list.add(&mut scope, &n).expect("adds");
    }
    assert_eq!(list.get(&scope).expect("reads"), [3, 1, 2]);
    list.replace(&mut scope, &[9]).expect("replaces");
    assert_eq!(list.get(&scope).expect("reads"), [9]);
    assert_eq!(list.get_bytes(&scope).expect("reads"), [vec![9]]);
}

#[test]
fn map_state_puts_gets_removes_and_lists_entries() {
    let host = MemoryState::with_scopes(1);
    let map: MapState<String, u64> = StateRegistry::new(&host)
        .map("m")
        .declare()
        .expect("declares");
    let mut scope = TestScope(&host, 0);
    map.put(&mut scope, &"b".into(), &2).expect("puts");
    map.put(&mut scope, &"a".into(), &1).expect("puts");
    assert_eq!(map.get(&scope, &"a".into()).expect("gets"), Some(1));
    assert_eq!(map.get(&scope, &"z".into()).expect("gets"), None);
    let mut entries = map.entries(&scope).expect("lists");
    entries.sort();
    assert_eq!(entries, [("a".into(), 1), ("b".into(), 2)]);
    map.remove(&mut scope, &"a".into()).expect("removes");
    assert_eq!(map.entries(&scope).expect("lists"), [("b".into(), 2)]);
}

#[test]
fn raw_states_store_bytes_as_they_are() {
    let host = MemoryState::with_scopes(1);
    let mut states = StateRegistry::new(&host);
    let value = states.raw_value("v").declare().expect("declares");
    let map = states.raw_map("m").declare().expect("declares");
    let mut scope = TestScope(&host, 0);
    value.set(&mut scope, &b"\x00raw".to_vec()).expect("writes");
    assert_eq!(
        value.get_bytes(&scope).expect("reads"),
        Some(b"\x00raw".to_vec())
    );
    map.put(&mut scope, &b"k".to_vec(), &b"v".to_vec())
        .expect("puts");
    assert_eq!(
        map.entries_bytes(&scope).expect("lists"),
        [(b"k".to_vec(), b"v".to_vec())]
    );
}
