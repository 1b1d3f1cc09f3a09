//! [`KeyTable`]: interned keys, each with its entries in namespace order.

use std::collections::VecDeque;

use super::EntryId;
use crate::window::Window;
use crate::window::hash::FxHashMap;

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
    ids: FxHashMap<Box<[u8]>, KeyId>,
    pub(super) slots: Vec<KeySlot>,
    free: Vec<KeyId>,
    /// Keys released while empty, forgotten by the next sweep if still empty.
    idle: Vec<KeyId>,
}

impl Default for KeyTable {
    fn default() -> Self {
        KeyTable {
            ids: FxHashMap::default(),
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
        if let Some(&id) = self.ids.get(key) {
            return id;
        }
        let boxed: Box<[u8]> = key.into();
        let id = match self.free.pop() {
            Some(id) => {
                let slot = &mut self.slots[id as usize];
                slot.key = Some(boxed.clone());
                slot.live = true;
                id
            }
            None => {
                let id = KeyId::try_from(self.slots.len()).unwrap_or(KeyId::MAX);
                self.slots.push(KeySlot {
                    key: Some(boxed.clone()),
                    entries: VecDeque::new(),
                    panes: VecDeque::new(),
                    live: true,
                    idle: false,
                });
                id
            }
        };
        self.ids.insert(boxed, id);
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
            if let Some(key) = slot.key.take() {
                self.ids.remove(&key);
            }
            self.free.push(id);
        }
    }

    pub(super) fn live_len(&self) -> usize {
        self.ids.len() + 1
    }
}
