//! The current sub-batch: events placed since the last `add`, the accumulators they
//! target, the undo log that restores the state if `add` fails, and the firings that
//! wait for the `add` to see their events.
//!
//! A sub-batch is a whole batch unless a window fires in the middle of the batch and
//! then receives more events (see the operator's law 2). Its life: events are placed
//! (state slots created or touched, sessions merged, pre-images logged), then
//! [`WindowOperator::flush_sub_batch`] merges the accumulators of merged sessions,
//! makes the one `add` call, stores the results and snapshots the pending firings. If
//! `add` fails for an input reason, the undo log puts the state back as it was before
//! the sub-batch and its events are placed again one at a time; an event that fails
//! alone is dead-lettered.

use weir_batch::{Batch, EventRef};

use super::add::Initial;
use super::{WindowFunction, WindowOperator};
use crate::runtime::dead_letter::DeadLetter;
use crate::runtime::operator::{Emitted, OperatorError};
use crate::window::Window;
use crate::window::function::{FiringKind, Packed};
use crate::window::hash::FxHashSet;
use crate::window::store::{EntryId, KeyId, SlotStats, WindowState, WindowStore};

/// How to put back one change of the sub-batch.
#[derive(Debug, Clone, Copy)]
pub(super) enum Undo {
    /// The entry was created: remove it.
    Created(EntryId),
    /// The entry (a session merged into another) was detached: attach it again. Its
    /// accumulator stays there until the merge is committed.
    Detached(EntryId),
    Stats(EntryId, SlotStats),
    Window(EntryId, Option<WindowState>),
}

/// A state slot the sub-batch's events go to. `parent != self` when the slot was a
/// session merged into a larger one (union-find; the root is the merged session).
#[derive(Debug, Clone, Copy)]
pub(super) struct Target {
    pub id: EntryId,
    pub parent: u32,
}

/// A firing decided while placing events, snapshotted once `add` has seen them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending {
    pub id: EntryId,
    pub kind: FiringKind,
}

#[derive(Debug)]
pub(super) struct SubBatch {
    /// Batch index of the sub-batch's first event.
    pub start: usize,
    /// The sub-batch's number; an entry is a target of this sub-batch iff
    /// `entry_epoch[id] == epoch`, and then `entry_target[id]` is its target.
    epoch: u32,
    entry_epoch: Vec<u32>,
    entry_target: Vec<u32>,
    pub targets: Vec<Target>,
    /// (target, detached session whose accumulator merges into it).
    pub sources: Vec<(u32, EntryId)>,
    /// Batch indices of the placed events, and the target of each.
    pub events: Vec<u32>,
    pub event_targets: Vec<u32>,
    pub undo: Vec<Undo>,
    pub pending: Vec<Pending>,
    pub pending_set: FxHashSet<(KeyId, Window)>,
    /// Batch indices of late events (the whole batch); `late_mark` of them are final.
    pub late: Vec<u32>,
    pub late_mark: usize,
    pub unassigned: u64,
    /// Windows of the event being placed (sliding: its live windows; sessions: the
    /// sessions its proto-window meets).
    pub windows: Vec<Window>,
    // Reused buffers of the `add` call.
    pub(super) roots: Vec<u32>,
    pub(super) add_targets: Vec<u32>,
    pub(super) initial: Vec<Initial>,
    pub(super) accs: Packed,
    pub(super) merge_inputs: Packed,
    pub(super) group_ends: Vec<u32>,
    pub(super) events_batch: Batch,
}

impl Default for SubBatch {
    fn default() -> Self {
        SubBatch {
            start: 0,
            epoch: 1,
            entry_epoch: Vec::new(),
            entry_target: Vec::new(),
            targets: Vec::new(),
            sources: Vec::new(),
            events: Vec::new(),
            event_targets: Vec::new(),
            undo: Vec::new(),
            pending: Vec::new(),
            pending_set: FxHashSet::default(),
            late: Vec::new(),
            late_mark: 0,
            unassigned: 0,
            windows: Vec::new(),
            roots: Vec::new(),
            add_targets: Vec::new(),
            initial: Vec::new(),
            accs: Packed::default(),
            merge_inputs: Packed::default(),
            group_ends: Vec::new(),
            events_batch: Batch::default(),
        }
    }
}

impl SubBatch {
    pub fn begin_batch(&mut self) {
        self.start = 0;
        self.late.clear();
        self.late_mark = 0;
    }

    /// The target of entry `id` in this sub-batch, if it is one.
    pub fn target_of(&self, id: EntryId) -> Option<u32> {
        let at = id as usize;
        (self.entry_epoch.get(at) == Some(&self.epoch)).then(|| self.entry_target[at])
    }

    /// Makes entry `id` a new target.
    pub fn target(&mut self, id: EntryId) -> u32 {
        let target = self.targets.len() as u32;
        self.targets.push(Target { id, parent: target });
        let at = id as usize;
        if at >= self.entry_epoch.len() {
            self.entry_epoch.resize(at + 1, 0);
            self.entry_target.resize(at + 1, 0);
        }
        self.entry_epoch[at] = self.epoch;
        self.entry_target[at] = target;
        target
    }

    /// Detaches a target from its entry (the entry merged into another).
    pub fn forget_target(&mut self, id: EntryId) {
        if let Some(epoch) = self.entry_epoch.get_mut(id as usize) {
            *epoch = 0;
        }
    }

    pub(super) fn find(&mut self, target: u32) -> u32 {
        let mut root = target;
        while let Some(next) = self.targets.get(root as usize).map(|t| t.parent) {
            if next == root {
                break;
            }
            root = next;
        }
        let mut at = target;
        while at != root {
            let next = self.targets[at as usize].parent;
            self.targets[at as usize].parent = root;
            at = next;
        }
        root
    }

    pub fn push_pending(&mut self, id: EntryId, key: KeyId, ns: Window, kind: FiringKind) {
        if self.pending_set.insert((key, ns)) {
            self.pending.push(Pending { id, kind });
        }
    }

    fn clear(&mut self) {
        self.epoch = self.epoch.wrapping_add(1);
        if self.epoch == 0 {
            self.entry_epoch.fill(0);
            self.epoch = 1;
        }
        self.targets.clear();
        self.sources.clear();
        self.events.clear();
        self.event_targets.clear();
        self.pending.clear();
        self.pending_set.clear();
        self.unassigned = 0;
    }

    /// Makes the sub-batch final: merged sessions leave the store.
    fn commit(&mut self, store: &mut WindowStore) {
        for undo in self.undo.drain(..) {
            if let Undo::Detached(id) = undo {
                store.remove(id);
            }
        }
        self.clear();
        self.late_mark = self.late.len();
    }

    /// Puts the state back as it was before the sub-batch.
    fn rollback(&mut self, store: &mut WindowStore) {
        let mut keys = Vec::new();
        while let Some(undo) = self.undo.pop() {
            match undo {
                Undo::Created(id) => {
                    keys.push(store.entry(id).key);
                    store.remove(id);
                }
                Undo::Detached(id) => store.attach(id),
                Undo::Stats(id, stats) => store.entry_mut(id).stats = stats,
                Undo::Window(id, state) => store.entry_mut(id).window = state,
            }
        }
        for key in keys {
            store.release(key);
        }
        self.clear();
        self.late.truncate(self.late_mark);
    }
}

impl WindowOperator {
    /// Ends the sub-batch of `batch[self.sub.start..end]` (see the module docs).
    pub(super) fn flush_sub_batch(
        &mut self,
        batch: &Batch,
        end: usize,
        base_seq: u64,
        out: &mut Emitted,
    ) -> Result<(), OperatorError> {
        let start = self.sub.start;
        let result = match &mut self.function {
            WindowFunction::Aggregate(function) => super::add::add_sub_batch(
                &mut self.sub,
                &mut self.store,
                function.as_mut(),
                batch,
                &mut self.counters.calls,
            ),
            WindowFunction::Process(_) => Ok(()),
        };
        match result {
            Ok(()) => {
                let pending = std::mem::take(&mut self.sub.pending);
                for firing in &pending {
                    self.snapshot(firing.id, firing.kind);
                }
                self.sub.pending = pending;
                self.counters.unassigned += self.sub.unassigned;
                self.sub.commit(&mut self.store);
                self.sub.start = end;
                Ok(())
            }
            Err(error) if error.fatal => Err(self.error(format!("window function: {error}"))),
            Err(error) => {
                self.sub.rollback(&mut self.store);
                if end - start <= 1 {
                    if start < batch.len() {
                        self.dead_letter(&batch.event(start), &error.message, out);
                    }
                    self.sub.start = end;
                    return Ok(());
                }
                tracing::warn!(
                    operator = %self.name,
                    events = end - start,
                    error = %error,
                    "window add failed; re-running the events one by one"
                );
                for (offset, event) in batch.iter().skip(start).take(end - start).enumerate() {
                    let index = start + offset;
                    self.sub.start = index;
                    self.place(batch, index, &event, base_seq, out)?;
                    self.flush_sub_batch(batch, index + 1, base_seq, out)?;
                }
                Ok(())
            }
        }
    }

    pub(super) fn dead_letter(&mut self, event: &EventRef<'_>, reason: &str, out: &mut Emitted) {
        self.counters.dead_lettered += 1;
        out.dead_letters
            .push(DeadLetter::for_event(self.origin.clone(), reason, event));
    }
}
