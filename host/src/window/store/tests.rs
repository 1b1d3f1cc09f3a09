//! Tests of the [`WindowStore`](super::WindowStore): entries, lanes, keys.

use super::*;

#[test]
fn entries_stay_sorted_ids_stay_put_and_keys_are_reused() {
    let mut store = WindowStore::default();
    let a = store.intern(Some(b"a"));
    assert_eq!(store.intern(Some(b"a")), a);
    assert_eq!(store.intern(None), NO_KEY);
    let mut ids = Vec::new();
    for start in [20, 0, 10, 30, 5] {
        let (id, created) = store.get_or_insert(a, Window::new(start, start + 10));
        assert!(created);
        store.entry_mut(id).acc.set(&[start as u8]);
        ids.push(id);
    }
    let starts: Vec<i64> = store.entries(a).map(|(ns, _)| ns.start).collect();
    assert_eq!(starts, [0, 5, 10, 20, 30]);
    let mid: Vec<i64> = store.range(a, 5..21).map(|(ns, _)| ns.start).collect();
    assert_eq!(mid, [5, 10, 20]);
    for (id, start) in ids.iter().zip([20, 0, 10, 30, 5]) {
        assert_eq!(&store.entry(*id).acc[..], [start as u8], "ids are stable");
    }
    assert_eq!(store.len(), 5);
    // Detached: kept, not found; attached again: found.
    let ten = Window::new(10, 20);
    let id = store.find(a, ten).expect("present");
    store.detach(id);
    assert_eq!(store.find(a, ten), None);
    assert_eq!(store.len(), 5);
    store.attach(id);
    assert_eq!(store.find(a, ten), Some(id));
    store.release(a); // holds entries: kept
    assert_eq!(store.key(a), Some(&b"a"[..]));
    let handle = store.handle(ids[0]);
    assert_eq!(store.current(handle), Some(ids[0]));
    for id in &ids {
        store.remove(*id);
    }
    assert_eq!(store.current(handle), None);
    store.release(a);
    assert_eq!(store.key(a), Some(&b"a"[..]), "forgotten at the next sweep");
    store.sweep_keys();
    assert_eq!(store.key(a), None);
    let b = store.intern(Some(b"b"));
    assert_eq!(b, a, "a free id is reused");
    let (reused, _) = store.get_or_insert(b, Window::new(0, 1));
    assert!(ids.contains(&reused));
    assert!(store.entry(reused).acc.is_empty());
    assert_eq!(
        store.current(handle),
        None,
        "a reused slot has a new generation"
    );
    assert_eq!(store.len(), 1);
}

#[test]
fn a_panes_neighbours_are_the_panes_next_to_it() {
    let mut store = WindowStore::with_panes(10);
    let a = store.intern(Some(b"a"));
    let pane = |start| Window::new(start, start + 10);
    assert_eq!(store.pane_neighbours(a, pane(0)), (None, None));
    for start in [20, 0, 40] {
        store.get_or_insert(a, pane(start));
    }
    store.get_or_insert(a, Window::new(0, 30)); // a window, not a pane
    assert_eq!(store.pane_neighbours(a, pane(40)), (Some(pane(20)), None));
    assert_eq!(
        store.pane_neighbours(a, pane(20)),
        (Some(pane(0)), Some(pane(40)))
    );
    assert_eq!(store.pane_neighbours(a, pane(0)), (None, Some(pane(20))));
    // Of a pane not held: the ones it would sit between.
    assert_eq!(
        store.pane_neighbours(a, pane(30)),
        (Some(pane(20)), Some(pane(40)))
    );
    assert_eq!(store.pane_neighbours(a, pane(50)), (Some(pane(40)), None));
    let starts = |store: &WindowStore, range| -> Vec<i64> {
        store.panes(a, range).map(|(ns, _)| ns.start).collect()
    };
    assert_eq!(starts(&store, 5..41), [20, 40]);
    assert_eq!(starts(&store, -5..20), [0]);
    store.remove_panes_before(a, 21);
    assert_eq!(starts(&store, i64::MIN..i64::MAX), [40]);
    assert_eq!(store.len(), 2, "the window stays");
}

#[test]
fn panes_live_in_their_own_lane_in_order() {
    let mut store = WindowStore::with_panes(10);
    let a = store.intern(Some(b"a"));
    // Panes of 10 and windows of 30, interleaved by arrival.
    for start in [20, 0, 10, 30] {
        store.get_or_insert(a, Window::new(start, start + 10));
        store.get_or_insert(a, Window::new(start, start + 30));
    }
    let panes: Vec<i64> = store.panes(a, 10..40).map(|(ns, _)| ns.start).collect();
    assert_eq!(panes, [10, 20, 30], "one contiguous run, windows left out");
    let windows: Vec<i64> = store.range(a, 0..40).map(|(ns, _)| ns.start).collect();
    assert_eq!(windows, [0, 10, 20, 30], "panes left out");
    assert_eq!(
        store.last(a, true).map(|(ns, _)| ns),
        Some(Window::new(30, 40))
    );
    assert_eq!(
        store.last(a, false).map(|(ns, _)| ns),
        Some(Window::new(30, 60))
    );
    assert_eq!(store.entries(a).count(), 8);
    let pane = store.find(a, Window::new(0, 10)).expect("present");
    let window = store.find(a, Window::new(0, 30)).expect("present");
    assert_ne!(pane, window);
    assert!(!store.get_or_insert(a, Window::new(30, 40)).1);
    store.remove(pane);
    store.remove(window);
    assert_eq!(store.find(a, Window::new(0, 10)), None);
    assert_eq!(store.panes(a, i64::MIN..i64::MAX).count(), 3);
    assert_eq!(store.len(), 6);
}
