//! The conformance suite every [`StateBackend`] must pass: [`check_backend`] exercises
//! the backend's own laws (see [`backend`](super::backend)), then keyed state, TTL and
//! timers on top of it. The memory backend and the transaction overlay run it here; the
//! RocksDB backend runs the same function.
//!
//! [`model`] and [`timers_model`] check the overlay, keyed state and timers against
//! simple models under random operation sequences with commits and rollbacks;
//! [`backends`] runs all of it on every backend.

mod backends;
mod keyed;
mod model;
mod timers_model;

use super::{
    MemoryBackend, Overlay, ScanControl, StateBackend, StateError, TimeDomain, TimerService,
    WriteBatch,
};

/// A fresh, empty backend.
pub(crate) type MakeBackend<'a> = &'a dyn Fn() -> Box<dyn StateBackend>;

/// Runs the whole suite, each check on a fresh backend from `make`.
pub(crate) fn check_backend(make: MakeBackend<'_>) {
    point_operations(&mut *make());
    scans_are_ordered_and_stop(&mut *make());
    prefix_deletion(&mut *make());
    write_batches(&mut *make());
    keyed::value_state(&mut *make());
    keyed::list_state(&mut *make());
    keyed::map_state(&mut *make());
    keyed::scopes_are_isolated(&mut *make());
    keyed::limits_and_kinds(&mut *make());
    keyed::ttl(&mut *make());
    timers(&mut *make());
}

/// Every entry under `prefix`, by scanning.
pub(crate) fn scan_all(backend: &dyn StateBackend, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut out = Vec::new();
    backend
        .scan_prefix(prefix, &mut |key, value| {
            out.push((key.to_vec(), value.to_vec()));
            ScanControl::Continue
        })
        .unwrap();
    out
}

fn keys(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<&[u8]> {
    entries.iter().map(|(key, _)| key.as_slice()).collect()
}

fn point_operations(backend: &mut dyn StateBackend) {
    assert_eq!(backend.get(b"a").unwrap(), None);
    backend.put(b"a", b"1").unwrap();
    backend.put(b"", b"empty key").unwrap();
    backend.put(b"e", b"").unwrap();
    assert_eq!(backend.get(b"a").unwrap(), Some(b"1".to_vec()));
    assert_eq!(backend.get(b"").unwrap(), Some(b"empty key".to_vec()));
    assert_eq!(
        backend.get(b"e").unwrap(),
        Some(Vec::new()),
        "empty value is not absent"
    );
    backend.put(b"a", b"22").unwrap();
    assert_eq!(backend.get(b"a").unwrap(), Some(b"22".to_vec()));
    backend.delete(b"a").unwrap();
    backend.delete(b"never").unwrap();
    assert_eq!(backend.get(b"a").unwrap(), None);
    assert_eq!(backend.get(b"a\0").unwrap(), None);
}

fn scans_are_ordered_and_stop(backend: &mut dyn StateBackend) {
    let mut expected: Vec<Vec<u8>> = vec![
        b"b".to_vec(),
        b"a".to_vec(),
        b"ab".to_vec(),
        b"a\xFF".to_vec(),
        b"a\xFF\xFF".to_vec(),
        b"\xFF".to_vec(),
        b"\0".to_vec(),
        b"a\0".to_vec(),
        b"ba".to_vec(),
    ];
    for (i, key) in expected.iter().enumerate() {
        backend.put(key, &[i as u8]).unwrap();
    }
    expected.sort();
    assert_eq!(keys(&scan_all(backend, b"")), expected);
    let under_a: Vec<&[u8]> = expected
        .iter()
        .filter(|k| k.starts_with(b"a"))
        .map(|k| k.as_slice())
        .collect();
    assert_eq!(keys(&scan_all(backend, b"a")), under_a);
    assert_eq!(
        keys(&scan_all(backend, b"a\xFF")),
        [&b"a\xFF"[..], b"a\xFF\xFF"]
    );
    assert_eq!(keys(&scan_all(backend, b"\xFF")), [&b"\xFF"[..]]);
    assert!(scan_all(backend, b"c").is_empty());
    assert!(scan_all(backend, b"abc").is_empty());

    let mut seen = 0;
    backend
        .scan_prefix(b"", &mut |_, _| {
            seen += 1;
            if seen == 3 {
                ScanControl::Stop
            } else {
                ScanControl::Continue
            }
        })
        .unwrap();
    assert_eq!(seen, 3, "the scan stops when told");
}

fn prefix_deletion(backend: &mut dyn StateBackend) {
    for key in [
        &b"a"[..],
        b"ab",
        b"abc",
        b"ac",
        b"b",
        b"\xFF",
        b"\xFF\xFF",
        b"\xFF\xFF\x01",
    ] {
        backend.put(key, b"v").unwrap();
    }
    backend.delete_prefix(b"ab").unwrap();
    assert_eq!(keys(&scan_all(backend, b"a")), [&b"a"[..], b"ac"]);
    backend.delete_prefix(b"\xFF\xFF").unwrap();
    assert_eq!(keys(&scan_all(backend, b"\xFF")), [&b"\xFF"[..]]);
    backend.delete_prefix(b"zz").unwrap();
    backend.delete_prefix(b"").unwrap();
    assert!(
        scan_all(backend, b"").is_empty(),
        "the empty prefix deletes everything"
    );
}

fn write_batches(backend: &mut dyn StateBackend) {
    backend.put(b"p/1", b"old").unwrap();
    backend.put(b"p/2", b"old").unwrap();
    backend.put(b"q", b"old").unwrap();
    let mut batch = WriteBatch::new();
    batch.put(b"x", b"1");
    batch.delete(b"x"); // later operations win
    batch.put(b"y", b"1");
    batch.put(b"y", b"2");
    batch.delete_prefix(b"p/");
    batch.put(b"p/3", b"new"); // after the prefix deletion: stays
    batch.delete(b"q");
    batch.put(b"q", b"new");
    backend.write(batch).unwrap();
    assert_eq!(
        scan_all(backend, b""),
        [
            (b"p/3".to_vec(), b"new".to_vec()),
            (b"q".to_vec(), b"new".to_vec()),
            (b"y".to_vec(), b"2".to_vec()),
        ]
    );
    backend.write(WriteBatch::new()).unwrap();
    assert_eq!(scan_all(backend, b"").len(), 3);
}

fn timers(backend: &mut dyn StateBackend) {
    let (event, processing) = (TimeDomain::EventTime, TimeDomain::ProcessingTime);
    let mut timers = TimerService::new();
    assert!(timers.register(backend, event, 30, 1, b"k", b"w").unwrap());
    assert!(
        !timers.register(backend, event, 30, 1, b"k", b"w").unwrap(),
        "idempotent"
    );
    timers.register(backend, event, -5, 2, b"k", b"").unwrap();
    timers.register(backend, event, 30, 0, b"k", b"w").unwrap();
    timers.register(backend, event, 30, 1, b"j", b"w").unwrap();
    timers.register(backend, event, 100, 0, b"k", b"").unwrap();
    timers
        .register(backend, processing, 10, 0, b"k", b"")
        .unwrap();
    assert!(timers.delete(backend, event, 100, 0, b"k", b"").unwrap());
    assert!(!timers.delete(backend, event, 100, 0, b"k", b"").unwrap());
    timers.commit();
    assert_eq!(timers.next_due(event), Some(-5));
    assert_eq!(timers.next_due(processing), Some(10));

    let restored = TimerService::restore(&*backend, 0..3).unwrap();
    for domain in [event, processing] {
        assert!(
            restored.iter(domain).eq(timers.iter(domain)),
            "restore rebuilds the index"
        );
    }
    let only_group_1 = TimerService::restore(&*backend, 1..2).unwrap();
    assert_eq!(only_group_1.len(event), 2);

    let mut due = Vec::new();
    timers.pop_due(backend, event, 29, &mut due).unwrap();
    assert_eq!(due.iter().map(|t| t.at).collect::<Vec<_>>(), [-5]);
    timers.pop_due(backend, event, 30, &mut due).unwrap();
    let order: Vec<_> = due
        .iter()
        .map(|t| (t.at, t.key_group, t.key.as_slice()))
        .collect();
    assert_eq!(
        order,
        [
            (-5, 2, &b"k"[..]),
            (30, 0, b"k"),
            (30, 1, b"j"),
            (30, 1, b"k")
        ]
    );
    timers.commit();
    assert_eq!(timers.next_due(event), None);
    let restored = TimerService::restore(&*backend, 0..3).unwrap();
    assert_eq!(
        (restored.len(event), restored.len(processing)),
        (0, 1),
        "popped timers are deleted"
    );
}

#[test]
fn the_overlay_conforms() {
    // Nothing committed: every answer comes from merging the overlay with its base.
    check_backend(&|| Box::new(Overlay::new(MemoryBackend::new())));
}

/// An overlay that commits after each write: exercises commit's batches.
#[derive(Debug)]
pub(crate) struct Committing(pub(crate) Overlay<Box<dyn StateBackend>>);

impl Committing {
    fn commit(&mut self, done: Result<(), StateError>) -> Result<(), StateError> {
        done?;
        self.0.commit()?;
        assert!(self.0.is_clean());
        Ok(())
    }
}

impl StateBackend for Committing {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0.get(key)
    }
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        let done = self.0.put(key, value);
        self.commit(done)
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
        let done = self.0.delete(key);
        self.commit(done)
    }
    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
    ) -> Result<(), StateError> {
        self.0.scan_prefix(prefix, visit)
    }
    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError> {
        let done = self.0.delete_prefix(prefix);
        self.commit(done)
    }
    fn write(&mut self, batch: WriteBatch) -> Result<(), StateError> {
        let done = self.0.write(batch);
        self.commit(done)
    }
    fn snapshot_to(&mut self, dir: &std::path::Path) -> Result<(), StateError> {
        self.0.snapshot_to(dir)
    }
}
