//! [`WindowStore`]: the working set of a window operator — per (key, namespace) an
//! [`Entry`] (accumulator or buffered events, statistics, firing state) — and its two
//! time indexes: when windows fire and when their state is purged.
//!
//! The API is deliberately narrow — find / get / insert / remove on (key, namespace),
//! an ordered scan of one key's namespaces, and the timer indexes — so that the store
//! can later sit on the host's `StateBackend` (namespaces encoded big-endian so that
//! one key's entries are a contiguous, ordered range, as in RocksDB).
//!
//! Today everything is in memory. Entries live in a slab and are named by an
//! [`EntryId`] while they are in the store, so the operator reaches the entries a
//! batch touches, and the entries a timer names, without searching again. Each
//! interned key keeps its (namespace, id) pairs sorted in small deques: a handful for
//! tumbling windows; for sliding ones, a store made [`WindowStore::with_panes`] keeps
//! panes (namespaces of the pane length) in a lane of their own, so that a window's
//! panes are one contiguous run ([`WindowStore::panes`]) and neither lane is searched
//! past the other's entries.
//!
//! Laws:
//! - a key's entries are sorted by namespace and unique, in each lane (panes, and the
//!   rest);
//! - an id names one entry from [`WindowStore::get_or_insert`] (or
//!   [`WindowStore::insert`]) until [`WindowStore::remove`]; a [`Handle`] taken
//!   meanwhile stays current until then, and never again ([`WindowStore::current`]);
//! - a detached entry ([`WindowStore::detach`]) keeps its id and handle but is not found
//!   under its key until it is attached again;
//! - a key id stands for one key from [`WindowStore::intern`] until a sweep after
//!   [`WindowStore::release`] finds it without entries (its id may then be reused);
//!   the operator releases a key whenever it may have become empty.
//!
//! ```
//! use weir_host::window::{Window, store::WindowStore};
//!
//! let mut store = WindowStore::default();
//! let key = store.intern(Some(b"card-1"));
//! let (id, created) = store.get_or_insert(key, Window::new(0, 1000));
//! assert!(created);
//! store.entry_mut(id).acc.set(b"acc");
//! assert_eq!(store.get(key, Window::new(0, 1000)).map(|e| &e.acc[..]), Some(&b"acc"[..]));
//! let handle = store.handle(id);
//! store.remove(id);
//! assert_eq!(store.current(handle), None);
//! store.release(key);
//! store.sweep_keys();
//! assert_eq!(store.key(key), None);
//! ```

mod acc;
mod entry;
mod index;
mod keys;

use std::collections::VecDeque;
use std::ops::Range;

pub use acc::AccBytes;
pub use entry::{Entry, EventBuffer, SlotStats, WindowState};
pub use index::{Handle, Timer, TimerIndex};
pub use keys::{KeyId, NO_KEY};

use super::Window;
use keys::KeyTable;

/// The name of an entry while it is in a [`WindowStore`].
pub type EntryId = u32;

#[derive(Debug)]
struct Slot {
    entry: Entry,
    generation: u32,
    /// In the store (attached or detached), not free.
    used: bool,
    /// On the list of slots changed since the last [`WindowStore::take_changes`].
    changed: bool,
    /// The slot's current entry is in the operator's state backend (written by the
    /// last persist): removing it must delete it there too.
    persisted: bool,
}

/// See the module docs.
#[derive(Debug, Default)]
pub struct WindowStore {
    keys: KeyTable,
    slots: Vec<Slot>,
    free: Vec<EntryId>,
    fire: TimerIndex,
    purge: TimerIndex,
    /// Firing times of windows that have no entry of their own (sliding windows
    /// derived from their panes), by key.
    key_fire: TimerIndex<KeyId>,
    entries: usize,
    /// Slots whose entry changed (or was created) since the last `take_changes`; each
    /// slot at most once, so the list never outgrows the slab.
    changes: Vec<EntryId>,
    /// Persisted entries removed since the last `take_changes`: (key, namespace).
    removed: Vec<(Option<Box<[u8]>>, Window)>,
    /// Length of the namespaces kept in the pane lane (0: no pane lane).
    pane_len: i64,
}

impl WindowStore {
    /// An empty store that keeps namespaces `pane_len` long (panes of sliding windows)
    /// in a lane of their own (see [`WindowStore::panes`]); `0`: one lane.
    pub fn with_panes(pane_len: i64) -> Self {
        WindowStore {
            pane_len: pane_len.max(0),
            ..WindowStore::default()
        }
    }

    /// The length of the namespaces kept in the pane lane (0: none).
    pub fn pane_len(&self) -> i64 {
        self.pane_len
    }

    /// The lane of `key` that holds (or would hold) namespace `ns`.
    fn lane(&self, key: KeyId, ns: Window) -> Option<&VecDeque<(Window, EntryId)>> {
        let slot = self.keys.slots.get(key as usize)?;
        Some(match self.is_pane(ns) {
            true => &slot.panes,
            false => &slot.entries,
        })
    }

    fn lane_mut(&mut self, key: KeyId, ns: Window) -> Option<&mut VecDeque<(Window, EntryId)>> {
        let pane = self.is_pane(ns);
        let slot = self.keys.slots.get_mut(key as usize)?;
        Some(match pane {
            true => &mut slot.panes,
            false => &mut slot.entries,
        })
    }

    fn is_pane(&self, ns: Window) -> bool {
        self.pane_len > 0 && ns.end.saturating_sub(ns.start) == self.pane_len
    }

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

    /// Marks `key`, if it holds no entries, to be forgotten at a later sweep (sweeps
    /// run by themselves when many keys are idle).
    pub fn release(&mut self, key: KeyId) {
        self.keys.release(key);
    }

    /// Forgets now every released key that holds no entries.
    pub fn sweep_keys(&mut self) {
        self.keys.sweep();
    }

    /// Keys in use, [`NO_KEY`] included.
    pub fn key_count(&self) -> usize {
        self.keys.live_len()
    }

    /// Entries held (attached or detached), over all keys.
    pub fn len(&self) -> usize {
        self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// One more than the largest id in use so far: ids are below it.
    pub fn id_bound(&self) -> usize {
        self.slots.len()
    }

    /// The id of (key, ns), if attached.
    pub fn find(&self, key: KeyId, ns: Window) -> Option<EntryId> {
        let entries = self.lane(key, ns)?;
        let at = entries.binary_search_by(|(n, _)| n.cmp(&ns)).ok()?;
        entries.get(at).map(|(_, id)| *id)
    }

    pub fn get(&self, key: KeyId, ns: Window) -> Option<&Entry> {
        self.find(key, ns).map(|id| self.entry(id))
    }

    pub fn get_mut(&mut self, key: KeyId, ns: Window) -> Option<&mut Entry> {
        self.find(key, ns).map(|id| self.entry_mut(id))
    }

    /// The entry `id` names.
    ///
    /// # Panics
    /// If `id` never named an entry.
    pub fn entry(&self, id: EntryId) -> &Entry {
        &self.slots[id as usize].entry
    }

    /// The entry `id` names.
    ///
    /// # Panics
    /// If `id` never named an entry.
    pub fn entry_mut(&mut self, id: EntryId) -> &mut Entry {
        let slot = &mut self.slots[id as usize];
        if !slot.changed {
            slot.changed = true;
            self.changes.push(id);
        }
        &mut slot.entry
    }

    /// A handle on entry `id`, current until the entry is removed.
    pub fn handle(&self, id: EntryId) -> Handle {
        Handle {
            id,
            generation: self
                .slots
                .get(id as usize)
                .map_or(0, |slot| slot.generation),
        }
    }

    /// The entry `handle` was taken on, if it is still in the store.
    pub fn current(&self, handle: Handle) -> Option<EntryId> {
        let slot = self.slots.get(handle.id as usize)?;
        (slot.used && slot.generation == handle.generation).then_some(handle.id)
    }

    /// The id of (key, ns), created empty if missing; `true` when created.
    ///
    /// # Panics
    /// If `key` was not returned by [`WindowStore::intern`].
    pub fn get_or_insert(&mut self, key: KeyId, ns: Window) -> (EntryId, bool) {
        let Some(entries) = self.lane(key, ns) else {
            panic!("key {key} was not interned");
        };
        // Fast path: new windows mostly come after a key's last one.
        let at = match entries.back() {
            Some((last, _)) if *last < ns => Err(entries.len()),
            Some((last, id)) if *last == ns => return (*id, false),
            None => Err(0),
            _ => entries.binary_search_by(|(n, _)| n.cmp(&ns)),
        };
        match at {
            Ok(at) => (entries[at].1, false),
            Err(at) => {
                let id = self.allocate(key, ns);
                if let Some(entries) = self.lane_mut(key, ns) {
                    entries.insert(at, (ns, id));
                }
                (id, true)
            }
        }
    }

    /// Puts `entry` under (entry.key, entry.ns), which must be free.
    ///
    /// # Panics
    /// If `entry.key` was not returned by [`WindowStore::intern`].
    pub fn insert(&mut self, entry: Entry) -> EntryId {
        let id = self.allocate(entry.key, entry.ns);
        self.slots[id as usize].entry = entry;
        self.attach(id);
        id
    }

    /// Takes (key, ns) out of its key's entries, keeping the entry under its id.
    pub fn detach(&mut self, id: EntryId) {
        let Some(slot) = self.slots.get(id as usize) else {
            return;
        };
        let (key, ns) = (slot.entry.key, slot.entry.ns);
        let Some(entries) = self.lane_mut(key, ns) else {
            return;
        };
        // Fast path: purges mostly take a key's first entry.
        if entries.front() == Some(&(ns, id)) {
            entries.pop_front();
        } else if let Ok(at) = entries.binary_search_by(|(n, _)| n.cmp(&ns))
            && entries[at].1 == id
        {
            entries.remove(at);
        }
    }

    /// Puts a detached entry back among its key's entries.
    pub fn attach(&mut self, id: EntryId) {
        let Some(slot) = self.slots.get(id as usize) else {
            return;
        };
        let (key, ns) = (slot.entry.key, slot.entry.ns);
        if let Some(entries) = self.lane_mut(key, ns)
            && let Err(at) = entries.binary_search_by(|(n, _)| n.cmp(&ns))
        {
            entries.insert(at, (ns, id));
        }
    }

    /// Removes entry `id` from the store (attached or detached); its handles go stale.
    /// The slot, with its accumulator buffer, is reused by a later entry.
    pub fn remove(&mut self, id: EntryId) {
        self.detach(id);
        if let Some(slot) = self.slots.get_mut(id as usize)
            && slot.used
        {
            if slot.persisted {
                slot.persisted = false;
                let key = self.keys.slots.get(slot.entry.key as usize);
                let key = key.and_then(|k| k.key.as_deref()).map(Box::from);
                self.removed.push((key, slot.entry.ns));
            }
            slot.used = false;
            slot.generation = slot.generation.wrapping_add(1);
            slot.entry.events = None;
            slot.entry.acc.clear();
            self.entries -= 1;
            self.free.push(id);
        }
    }

    /// The entries of `key` outside the pane lane whose namespace starts in `starts`,
    /// in namespace order.
    pub fn range(
        &self,
        key: KeyId,
        starts: Range<i64>,
    ) -> impl DoubleEndedIterator<Item = (Window, EntryId)> + '_ {
        let entries = self.keys.slots.get(key as usize).map(|slot| &slot.entries);
        lane_range(entries, starts)
    }

    /// The panes of `key` (entries of the pane lane) that start in `starts`, in
    /// namespace order; none for a store without a pane lane.
    pub fn panes(
        &self,
        key: KeyId,
        starts: Range<i64>,
    ) -> impl DoubleEndedIterator<Item = (Window, EntryId)> + '_ {
        let panes = self.keys.slots.get(key as usize).map(|slot| &slot.panes);
        lane_range(panes, starts)
    }

    /// Removes the panes of `key` that start before `end`: the key's oldest.
    pub fn remove_panes_before(&mut self, key: KeyId, end: i64) {
        let front = |store: &Self| {
            let slot = store.keys.slots.get(key as usize)?;
            slot.panes.front().copied()
        };
        while let Some((pane, id)) = front(self)
            && pane.start < end
        {
            self.remove(id);
            if front(self) == Some((pane, id)) {
                // Not taken off its lane, which the store's laws rule out: stop
                // rather than loop.
                break;
            }
        }
    }

    /// The panes of `key` just before and just after pane `ns` (whether or not `ns`
    /// itself is held): one search, none when `ns` is the key's newest pane.
    pub fn pane_neighbours(&self, key: KeyId, ns: Window) -> (Option<Window>, Option<Window>) {
        let Some(panes) = self.keys.slots.get(key as usize).map(|slot| &slot.panes) else {
            return (None, None);
        };
        let (before, after) = match panes.back() {
            Some((last, _)) if *last == ns => (panes.len().checked_sub(2), None),
            _ => match panes.binary_search_by(|(n, _)| n.cmp(&ns)) {
                Ok(at) => (at.checked_sub(1), Some(at + 1)),
                Err(at) => (at.checked_sub(1), Some(at)),
            },
        };
        let start = |at: Option<usize>| at.and_then(|at| panes.get(at)).map(|(n, _)| *n);
        (start(before), start(after))
    }

    /// The newest (last) entry of `key` in the pane lane (`pane`) or in the other one.
    pub fn last(&self, key: KeyId, pane: bool) -> Option<(Window, EntryId)> {
        let slot = self.keys.slots.get(key as usize)?;
        match pane {
            true => slot.panes.back().copied(),
            false => slot.entries.back().copied(),
        }
    }

    /// Every entry of `key`: the lane of other entries, then the pane lane, each in
    /// namespace order.
    pub fn entries(&self, key: KeyId) -> impl DoubleEndedIterator<Item = (Window, EntryId)> + '_ {
        self.keys
            .slots
            .get(key as usize)
            .into_iter()
            .flat_map(|slot| slot.entries.iter().chain(slot.panes.iter()))
            .copied()
    }

    /// The ids of the keys that hold entries.
    pub fn keys_with_entries(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.keys
            .slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| !slot.is_empty())
            .map(|(id, _)| id as KeyId)
    }

    /// Asks for entry `id` to be fired once the watermark reaches `at`.
    pub fn schedule_fire(&mut self, at: i64, id: EntryId) {
        let handle = self.handle(id);
        self.fire.schedule(at, handle);
    }

    /// Appends the firing timers due at `watermark` to `out`, in time order.
    pub fn pop_fire(&mut self, watermark: i64, out: &mut Vec<Timer>) {
        self.fire.pop_due(watermark, out);
    }

    /// Asks for entry `id` to be purged once the watermark reaches `at`.
    pub fn schedule_purge(&mut self, at: i64, id: EntryId) {
        let handle = self.handle(id);
        self.purge.schedule(at, handle);
    }

    /// Appends the purge timers due at `watermark` to `out`, in time order.
    pub fn pop_purge(&mut self, watermark: i64, out: &mut Vec<Timer>) {
        self.purge.pop_due(watermark, out);
    }

    /// Asks for the window of `key` whose last timestamp is `at` to be fired once the
    /// watermark reaches `at`: a window without an entry of its own (sliding windows
    /// derived from their panes). A key that holds such a timer holds panes.
    pub fn schedule_key_fire(&mut self, at: i64, key: KeyId) {
        self.key_fire.schedule(at, key);
    }

    /// Appends the key firing timers due at `watermark` to `out` as (time, key), in
    /// time order.
    pub fn pop_key_fire(&mut self, watermark: i64, out: &mut Vec<(i64, KeyId)>) {
        self.key_fire
            .pop_due_each(watermark, |at, key| out.push((at, key)));
    }

    /// Timers scheduled and not yet popped: (firing, purge); firing includes the key
    /// firing timers.
    pub fn timer_counts(&self) -> (usize, usize) {
        (self.fire.len() + self.key_fire.len(), self.purge.len())
    }

    /// Hands over what changed since the last call — the ids of the entries changed or
    /// created (`changed`; an id may name an entry removed since: check
    /// [`WindowStore::is_live`]) and the (key, namespace) of persisted entries removed
    /// (`removed`) — and marks every live entry named in `changed` as persisted. Both
    /// vectors are cleared first. The cost is proportional to the changes.
    pub fn take_changes(
        &mut self,
        changed: &mut Vec<EntryId>,
        removed: &mut Vec<(Option<Box<[u8]>>, Window)>,
    ) {
        changed.clear();
        removed.clear();
        std::mem::swap(changed, &mut self.changes);
        std::mem::swap(removed, &mut self.removed);
        // In slab order: the passes over the changed entries (here and the encoding)
        // then read memory forwards, not at random (a million keys: most of the time).
        changed.sort_unstable();
        for id in changed.iter() {
            let slot = &mut self.slots[*id as usize];
            slot.changed = false;
            slot.persisted = slot.used;
        }
    }

    /// Gives back changes that [`WindowStore::take_changes`] handed over and that could
    /// not be written: they are handed over again next time.
    pub fn requeue_changes(
        &mut self,
        changed: &[EntryId],
        removed: &mut Vec<(Option<Box<[u8]>>, Window)>,
    ) {
        for id in changed {
            if let Some(slot) = self.slots.get_mut(*id as usize)
                && !slot.changed
            {
                slot.changed = true;
                self.changes.push(*id);
            }
        }
        self.removed.append(removed);
    }

    /// Whether `id` names an entry in the store (attached or detached).
    pub fn is_live(&self, id: EntryId) -> bool {
        self.slots.get(id as usize).is_some_and(|slot| slot.used)
    }

    /// Puts `entry`, read back from the state backend, under (entry.key, entry.ns): it
    /// counts as persisted and unchanged.
    pub fn insert_restored(&mut self, entry: Entry) -> EntryId {
        let id = self.insert(entry);
        let slot = &mut self.slots[id as usize];
        slot.persisted = true;
        id
    }

    /// A slot for a new entry (key, ns), not yet attached.
    fn allocate(&mut self, key: KeyId, ns: Window) -> EntryId {
        self.entries += 1;
        let id = if let Some(id) = self.free.pop() {
            let slot = &mut self.slots[id as usize];
            slot.used = true;
            slot.entry.reset(key, ns);
            id
        } else {
            let id = EntryId::try_from(self.slots.len()).unwrap_or(EntryId::MAX);
            self.slots.push(Slot {
                entry: Entry::new(key, ns),
                generation: 0,
                used: true,
                changed: false,
                persisted: false,
            });
            id
        };
        let slot = &mut self.slots[id as usize];
        if !slot.changed {
            slot.changed = true;
            self.changes.push(id);
        }
        id
    }
}

/// The entries of `lane` whose namespace starts in `starts`, in namespace order.
fn lane_range(
    lane: Option<&VecDeque<(Window, EntryId)>>,
    starts: Range<i64>,
) -> impl DoubleEndedIterator<Item = (Window, EntryId)> + '_ {
    let (from, to) = lane.map_or((0, 0), |entries| {
        // Fast path: a range from before the first entry.
        let from = match entries.front() {
            Some((first, _)) if first.start >= starts.start => 0,
            _ => entries.partition_point(|(n, _)| n.start < starts.start),
        };
        (from, entries.partition_point(|(n, _)| n.start < starts.end))
    });
    lane.into_iter()
        .flat_map(move |e| e.range(from..to))
        .copied()
}

#[cfg(test)]
mod tests;
