//! [`WindowStore`]: the working set of a window operator — per (key, namespace) an
//! [`Entry`] (accumulator or buffered events, statistics, firing state) — and its two
//! time indexes: when windows fire and when their state is purged.
//!
//! The API is deliberately narrow, get / put / remove on (key, namespace), an ordered
//! scan of one key's namespaces, and the indexes, so that the store can later sit on
//! the host's `StateBackend` (namespaces encoded big-endian so that one key's entries
//! are a contiguous, ordered range, as in RocksDB). Today everything is in memory: per
//! interned key, a deque of entries sorted by namespace, which keeps a key's live
//! windows (a handful for tumbling windows, panes and windows for sliding ones) in
//! one cache-friendly run.
//!
//! Laws:
//! - a key's entries are sorted by namespace and unique;
//! - a key id stands for one key while the key holds entries; [`WindowStore::release`]
//!   forgets a key that holds none (its id may then be reused);
//! - index entries are hints: a popped timer whose entry is gone, or no longer needs
//!   it, is ignored by the operator.
//!
//! ```
//! use weir_host::window::{Window, store::WindowStore};
//!
//! let mut store = WindowStore::default();
//! let key = store.intern(Some(b"card-1"));
//! let (entry, created) = store.get_or_insert(key, Window::new(0, 1000));
//! assert!(created);
//! entry.acc.extend_from_slice(b"acc");
//! assert_eq!(store.get(key, Window::new(0, 1000)).map(|e| &e.acc[..]), Some(&b"acc"[..]));
//! assert!(store.remove(key, Window::new(0, 1000)).is_some());
//! store.release(key);
//! assert_eq!(store.key(key), None);
//! ```

mod entry;
mod index;
mod keys;

use std::ops::Range;

pub use entry::{Entry, EventBuffer, SlotStats, WindowState};
pub use index::{Timer, TimerIndex};
pub use keys::{KeyId, NO_KEY};

use super::Window;
use keys::KeyTable;

/// See the module docs.
#[derive(Debug, Default)]
pub struct WindowStore {
    keys: KeyTable,
    fire: TimerIndex,
    purge: TimerIndex,
    /// Accumulator buffers of removed entries, reused by new ones.
    spare_accs: Vec<Vec<u8>>,
    entries: usize,
}

impl WindowStore {
    /// The id of `key` (`None`: the "no key" set, [`NO_KEY`]), interning it if new.
    pub fn intern(&mut self, key: Option<&[u8]>) -> KeyId {
        self.keys.intern(key)
    }

    /// The key bytes of `id`; `None` for [`NO_KEY`] and for ids not in use.
    pub fn key(&self, id: KeyId) -> Option<&[u8]> {
        self.keys
            .slots
            .get(id as usize)
            .and_then(|slot| slot.key.as_deref())
    }

    /// Forgets `key` if it holds no entries.
    pub fn release(&mut self, key: KeyId) {
        self.keys.release(key);
    }

    /// Keys in use, [`NO_KEY`] included.
    pub fn key_count(&self) -> usize {
        self.keys.live_len()
    }

    /// Entries held, over all keys.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    pub fn get(&self, key: KeyId, ns: Window) -> Option<&Entry> {
        let entries = &self.keys.slots.get(key as usize)?.entries;
        let at = entries.binary_search_by(|e| e.ns.cmp(&ns)).ok()?;
        entries.get(at)
    }

    pub fn get_mut(&mut self, key: KeyId, ns: Window) -> Option<&mut Entry> {
        let entries = &mut self.keys.slots.get_mut(key as usize)?.entries;
        let at = entries.binary_search_by(|e| e.ns.cmp(&ns)).ok()?;
        entries.get_mut(at)
    }

    /// The entry of (key, ns), created empty if missing; `true` when created.
    ///
    /// # Panics
    /// If `key` was not returned by [`WindowStore::intern`].
    pub fn get_or_insert(&mut self, key: KeyId, ns: Window) -> (&mut Entry, bool) {
        let entries = &mut self.keys.slots[key as usize].entries;
        // Fast path: new windows mostly come after a key's last one.
        let at = match entries.back() {
            Some(last) if last.ns < ns => Err(entries.len()),
            None => Err(0),
            _ => entries.binary_search_by(|e| e.ns.cmp(&ns)),
        };
        match at {
            Ok(at) => (&mut entries[at], false),
            Err(at) => {
                let mut entry = Entry::new(ns);
                if let Some(acc) = self.spare_accs.pop() {
                    entry.acc = acc;
                }
                entries.insert(at, entry);
                self.entries += 1;
                (&mut entries[at], true)
            }
        }
    }

    /// Puts `entry` under (key, entry.ns), replacing and returning what was there.
    ///
    /// # Panics
    /// If `key` was not returned by [`WindowStore::intern`].
    pub fn insert(&mut self, key: KeyId, entry: Entry) -> Option<Entry> {
        let entries = &mut self.keys.slots[key as usize].entries;
        match entries.binary_search_by(|e| e.ns.cmp(&entry.ns)) {
            Ok(at) => Some(std::mem::replace(&mut entries[at], entry)),
            Err(at) => {
                entries.insert(at, entry);
                self.entries += 1;
                None
            }
        }
    }

    pub fn remove(&mut self, key: KeyId, ns: Window) -> Option<Entry> {
        let entries = &mut self.keys.slots.get_mut(key as usize)?.entries;
        let at = entries.binary_search_by(|e| e.ns.cmp(&ns)).ok()?;
        let entry = entries.remove(at)?;
        self.entries -= 1;
        Some(entry)
    }

    /// Keeps the buffers of a removed entry for reuse.
    pub fn recycle(&mut self, entry: Entry) {
        let mut acc = entry.acc;
        if acc.capacity() > 0 && acc.capacity() <= 4096 && self.spare_accs.len() < 4096 {
            acc.clear();
            self.spare_accs.push(acc);
        }
    }

    /// The entries of `key` whose namespace starts in `starts`, in namespace order.
    pub fn range(
        &self,
        key: KeyId,
        starts: Range<i64>,
    ) -> impl DoubleEndedIterator<Item = &Entry> + '_ {
        let entries = self.keys.slots.get(key as usize).map(|slot| &slot.entries);
        let (from, to) = entries.map_or((0, 0), |entries| {
            (
                entries.partition_point(|e| e.ns.start < starts.start),
                entries.partition_point(|e| e.ns.start < starts.end),
            )
        });
        entries.into_iter().flat_map(move |e| e.range(from..to))
    }

    /// Every entry of `key`, in namespace order.
    pub fn entries(&self, key: KeyId) -> impl Iterator<Item = &Entry> + '_ {
        self.keys
            .slots
            .get(key as usize)
            .into_iter()
            .flat_map(|slot| slot.entries.iter())
    }

    /// The last entry of `key` in namespace order.
    pub fn last(&self, key: KeyId) -> Option<&Entry> {
        self.keys.slots.get(key as usize)?.entries.back()
    }

    /// The ids of the keys that hold entries.
    pub fn keys_with_entries(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !slot.entries.is_empty())
            .map(|(id, _)| id as KeyId)
    }

    /// Asks for (key, ns) to be fired once the watermark reaches `at`.
    pub fn schedule_fire(&mut self, at: i64, key: KeyId, ns: Window) {
        self.fire.schedule(at, key, ns);
    }

    /// Appends the firing timers due at `watermark` to `out`, in time order.
    pub fn pop_fire(&mut self, watermark: i64, out: &mut Vec<Timer>) {
        self.fire.pop_due(watermark, out);
    }

    /// Asks for (key, ns) to be purged once the watermark reaches `at`.
    pub fn schedule_purge(&mut self, at: i64, key: KeyId, ns: Window) {
        self.purge.schedule(at, key, ns);
    }

    /// Appends the purge timers due at `watermark` to `out`, in time order.
    pub fn pop_purge(&mut self, watermark: i64, out: &mut Vec<Timer>) {
        self.purge.pop_due(watermark, out);
    }

    /// Timers scheduled and not yet popped: (firing, purge).
    pub fn timer_counts(&self) -> (usize, usize) {
        (self.fire.len(), self.purge.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_sorted_and_keys_are_reused() {
        let mut store = WindowStore::default();
        let a = store.intern(Some(b"a"));
        assert_eq!(store.intern(Some(b"a")), a);
        assert_eq!(store.intern(None), NO_KEY);
        for start in [20, 0, 10, 30, 5] {
            store.get_or_insert(a, Window::new(start, start + 10));
        }
        let starts: Vec<i64> = store.entries(a).map(|e| e.ns.start).collect();
        assert_eq!(starts, [0, 5, 10, 20, 30]);
        let mid: Vec<i64> = store.range(a, 5..21).map(|e| e.ns.start).collect();
        assert_eq!(mid, [5, 10, 20]);
        assert_eq!(store.len(), 5);
        store.release(a); // holds entries: kept
        assert_eq!(store.key(a), Some(&b"a"[..]));
        for start in [20, 0, 10, 30, 5] {
            let entry = store.remove(a, Window::new(start, start + 10));
            store.recycle(entry.expect("present"));
        }
        store.release(a);
        assert_eq!(store.key(a), None);
        let b = store.intern(Some(b"b"));
        assert_eq!(b, a, "a free id is reused");
        assert_eq!(store.key(b), Some(&b"b"[..]));
        assert!(store.is_empty());
    }
}
