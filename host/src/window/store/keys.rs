//! [`KeyTable`]: interned keys, each with its entries in namespace order.

use std::collections::VecDeque;
use std::hash::BuildHasher;

use hashbrown::HashTable;

use super::EntryId;
use crate::window::Window;
use crate::window::hash::FxBuildHasher;

/// A key interned by a [`super::WindowStore`]: a small number that stands for the key
/// bytes while the key holds state. Ids of keys that hold nothing are reused.
pub type KeyId = u32;

/// The id of the "no key" window set (events without a key).
pub const NO_KEY: KeyId = 0;

#[derive(Debug)]
pub(super) struct KeySlot {
    pub(super) key: Option<Box<[u8]>>,
    /// The key's entries: (namespace, id), sorted by namespace (`Window` order: start,
    /// then end), no duplicates.
    pub(super) entries: VecDeque<(Window, EntryId)>,
    /// The key's panes (namespaces of the store's pane length), kept apart from the
    /// windows so that a window finds its panes as one contiguous run; same order.
    pub(super) panes: VecDeque<(Window, EntryId)>,
    pub(super) live: bool,
    /// On the list of keys to forget at the next sweep.
    idle: bool,
}

impl KeySlot {
    /// Holds no entries (windows or panes).
    pub(super) fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.panes.is_empty()
    }
}

#[derive(Debug)]
pub(super) struct KeyTable {
    /// Every interned key as a [`Known`]: a lookup compares words held in the table
    /// itself, not bytes behind a pointer with a `memcmp` call (std's map), which cost
    /// about a third of an intern.
    ids: HashTable<Known>,
    pub(super) slots: Vec<KeySlot>,
    free: Vec<KeyId>,
    /// Keys released while empty, forgotten by the next sweep if still empty.
    idle: Vec<KeyId>,
}

impl Default for KeyTable {
    fn default() -> Self {
        KeyTable {
            ids: HashTable::new(),
            slots: vec![KeySlot {
                key: None,
                entries: VecDeque::new(),
                panes: VecDeque::new(),
                live: true,
                idle: false,
            }],
            free: Vec::new(),
            idle: Vec::new(),
        }
    }
}

impl KeyTable {
    pub(super) fn intern(&mut self, key: Option<&[u8]>) -> KeyId {
        let Some(key) = key else { return NO_KEY };
        let probe = Known::of(key, NO_KEY);
        let slots = &self.slots;
        let found = self.ids.find(probe.hash, |known| {
            known.same_text(&probe)
                && (key.len() <= Known::WHOLE
                    || slots[known.id as usize].key.as_deref() == Some(key))
        });
        if let Some(known) = found {
            return known.id;
        }
        let boxed: Box<[u8]> = key.into();
        let id = match self.free.pop() {
            Some(id) => {
                let slot = &mut self.slots[id as usize];
                slot.key = Some(boxed);
                slot.live = true;
                id
            }
            None => {
                let id = KeyId::try_from(self.slots.len()).unwrap_or(KeyId::MAX);
                self.slots.push(KeySlot {
                    key: Some(boxed),
                    entries: VecDeque::new(),
                    panes: VecDeque::new(),
                    live: true,
                    idle: false,
                });
                id
            }
        };
        let known = Known { id, ..probe };
        self.ids
            .insert_unique(known.hash, known, |known| known.hash);
        id
    }

    /// Marks `id` to be forgotten if it still holds no entries at the next sweep (never
    /// [`NO_KEY`]). Sweeps run when the idle keys are many, so a key whose windows come
    /// and go is not re-interned every time (forgetting costs as much as interning).
    pub(super) fn release(&mut self, id: KeyId) {
        if id == NO_KEY {
            return;
        }
        let Some(slot) = self.slots.get_mut(id as usize) else {
            return;
        };
        if !slot.live || slot.idle || !slot.is_empty() {
            return;
        }
        slot.idle = true;
        self.idle.push(id);
        if self.idle.len() > 1024 && self.idle.len() * 2 > self.ids.len() {
            self.sweep();
        }
    }

    /// Forgets the released keys that still hold no entries.
    pub(super) fn sweep(&mut self) {
        for id in std::mem::take(&mut self.idle) {
            let slot = &mut self.slots[id as usize];
            slot.idle = false;
            if !slot.live || !slot.is_empty() {
                continue;
            }
            slot.live = false;
            if let Some(key) = slot.key.take()
                && let Ok(entry) = self.ids.find_entry(hash_of(&key), |known| known.id == id)
            {
                entry.remove();
            }
            self.free.push(id);
        }
    }

    pub(super) fn live_len(&self) -> usize {
        self.ids.len() + 1
    }
}

fn hash_of(key: &[u8]) -> u64 {
    FxBuildHasher::default().hash_one(key)
}

/// An interned key as the key table holds it: its hash, its length and two words of
/// its bytes (the first and the last eight, overlapping when shorter), which are the
/// whole key up to [`Known::WHOLE`] bytes; longer keys are compared with the bytes
/// their slot keeps.
#[derive(Debug, Clone, Copy)]
struct Known {
    hash: u64,
    words: (u64, u64),
    len: usize,
    id: KeyId,
}

impl Known {
    /// Keys up to this length are all in `words`.
    const WHOLE: usize = 16;

    fn of(key: &[u8], id: KeyId) -> Known {
        let len = key.len();
        let word = |at: usize| <[u8; 8]>::try_from(&key[at..at + 8]).map_or(0, u64::from_le_bytes);
        let half = |at: usize| {
            <[u8; 4]>::try_from(&key[at..at + 4]).map_or(0, |b| u64::from(u32::from_le_bytes(b)))
        };
        let words = match len {
            8.. => (word(0), word(len - 8)),
            4..8 => (half(0), half(len - 4)),
            _ => (key.iter().fold(0, |w, b| w << 8 | u64::from(*b)), 0),
        };
        Known {
            hash: hash_of(key),
            words,
            len,
            id,
        }
    }

    /// Same hash, length and words: the same key, if it is at most [`Known::WHOLE`]
    /// bytes long.
    fn same_text(&self, other: &Known) -> bool {
        self.hash == other.hash && self.len == other.len && self.words == other.words
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_every_length_intern_apart() {
        // Keys that differ in one byte, at the start, the middle or the end, for every
        // length around the word sizes: each must get an id of its own.
        let mut keys: Vec<Vec<u8>> = Vec::new();
        for len in 0..40usize {
            let base: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            keys.push(base.clone());
            for at in [0, len / 2, len.saturating_sub(1)] {
                if at < len {
                    let mut other = base.clone();
                    other[at] = b'#';
                    keys.push(other);
                }
            }
        }
        keys.sort();
        keys.dedup();
        let mut table = KeyTable::default();
        let ids: Vec<KeyId> = keys.iter().map(|key| table.intern(Some(key))).collect();
        let distinct: std::collections::HashSet<KeyId> = ids.iter().copied().collect();
        assert_eq!(distinct.len(), keys.len(), "one id per distinct key");
        for (key, id) in keys.iter().zip(&ids) {
            assert_eq!(table.intern(Some(key)), *id, "{key:?} is found again");
        }
    }

    #[test]
    fn interned_keys_are_found_forgotten_and_reused() {
        let mut table = KeyTable::default();
        let ids: Vec<KeyId> = (0..3000)
            .map(|i| table.intern(Some(format!("card-{i:04}").as_bytes())))
            .collect();
        for (i, id) in ids.iter().enumerate() {
            assert_eq!(table.intern(Some(format!("card-{i:04}").as_bytes())), *id);
        }
        assert_eq!(table.live_len(), 3001);
        for id in &ids[..2000] {
            table.release(*id);
        }
        table.sweep();
        assert_eq!(table.live_len(), 1001, "released empty keys are forgotten");
        let again = table.intern(Some(b"card-0000"));
        assert!(
            ids[..2000].contains(&again),
            "a forgotten key's id is reused"
        );
        assert_eq!(
            table.intern(Some(b"card-2999")),
            ids[2999],
            "kept keys stay"
        );
    }
}
