//! Durable window state: the heap [`WindowStore`] stays the working set, and
//! [`WindowOperator::persist`] brings the operator's [`StateBackend`] up to date with it
//! before a checkpoint snapshots the backend; [`WindowOperator::restore`] rebuilds the
//! store, its timers and the operator's scalars from a restored backend.
//!
//! What the checkpoint runtime calls, between two messages of the operator (the
//! runtime begins checkpoints that are written off the processing thread instead:
//! [`WindowOperator::begin_checkpoint`], in `snapshot_thread`):
//!
//! ```text
//! checkpoint:  op.persist()?;  op.backend_mut()?.snapshot_to(dir)?;   // = op.checkpoint_to(dir)
//! restore:     let backend = state::open_backend(kind, work_dir, Some(snapshot))?;
//!              let mut op = WindowOperator::…(…)?.with_max_key_groups(max)
//!                  .with_backend(backend)?;
//!              op.restore(key_groups)?;
//! ```
//!
//! The layout is in [`durable_codec`](super::durable_codec): one backend entry per
//! (key, namespace) of the store under key group first and tag `0x02`, the scalars
//! (watermark, arrival numbers, next early firing, counters) under the reserved
//! operator area `0xFF 0xFF 0x02`. Per-window state of process functions lives in the
//! same backend under tag `0x00` with the window as namespace (see `window_state`).
//!
//! # Laws
//!
//! 1. **Exact resumption.** Running to any point between two messages, `persist`,
//!    `snapshot_to`, opening the snapshot and `restore` into a fresh operator of the
//!    same spec and function, then going on, yields exactly the output of running
//!    straight through — for every window kind, trigger and lateness. (Early firings
//!    by processing time resume from the persisted next firing time; a restarted host
//!    feeds them its own clock, so after a real crash they come when it says.)
//! 2. **O(changed).** `persist` writes only the entries created or changed since the
//!    last `persist` and deletes only those removed since, in one atomic `WriteBatch`.
//! 3. **No resurrection.** A window purged before a `persist` is absent from the
//!    backend after it, and from the store after a restore.
//! 4. **Damage is an error.** An entry or scalar record that does not decode, or
//!    entries without the scalars, make `restore` fail; they never restore as empty.

use std::ops::Range;
use std::path::Path;

use super::WindowOperator;
use super::durable_codec::{
    Scalars, decode_entry, decode_entry_key, encode_entry, entry_key, scalars_key,
};
use crate::runtime::keyed_store::OperatorState;
use crate::state::encoding::window_group_prefix;
use crate::state::{
    DEFAULT_MAX_KEY_GROUPS, KeyGroup, MemoryBackend, ScanControl, StateBackend, StateError,
    WriteBatch, key_group_of,
};
use crate::window::Window;
use crate::window::spec::WindowKind;
use crate::window::store::{EntryId, WindowStore};

/// Why persisting or restoring a window operator's state failed.
#[derive(Debug, thiserror::Error)]
pub enum WindowStateError {
    /// The backend failed, or holds damaged window state.
    #[error("window operator `{operator}`: state: {source}")]
    State {
        operator: String,
        #[source]
        source: StateError,
    },
    /// The state is lent to a window function call that did not give it back.
    #[error("window operator `{operator}`: its state was not given back by a call")]
    Lent { operator: String },
    /// A call's writes were neither committed nor rolled back.
    #[error("window operator `{operator}`: a call's state writes are still pending")]
    Pending { operator: String },
}

/// What one [`WindowOperator::persist`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Persisted {
    /// Entries written (created or changed since the last persist).
    pub written: usize,
    /// Entries deleted (removed since the last persist).
    pub deleted: usize,
}

/// A window removed from the store since the last persist: its key and window.
pub(super) type Removed = (Option<Box<[u8]>>, Window);

/// The changes of one persist: the puts encoded, the deletes still as windows (their
/// keys are encoded with the batch, which a checkpoint does off the processing thread).
#[derive(Debug)]
pub(super) struct Changes {
    puts: Puts,
    removed: Vec<Removed>,
    max_key_groups: u16,
    scalars: Vec<u8>,
}

/// Encoded entries, back to back in one buffer (one allocation for all, not two per
/// entry): put `i` is key `bytes[ends[2i-1]..ends[2i]]`, value
/// `bytes[ends[2i]..ends[2i+1]]`.
#[derive(Debug, Default)]
pub(super) struct Puts {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Puts {
    fn len(&self) -> usize {
        self.ends.len() / 2
    }

    /// Put `i`'s key and value.
    fn get(&self, i: usize) -> (&[u8], &[u8]) {
        let start = if i == 0 { 0 } else { self.ends[2 * i - 1] };
        let (key_end, value_end) = (self.ends[2 * i], self.ends[2 * i + 1]);
        (&self.bytes[start..key_end], &self.bytes[key_end..value_end])
    }
}

impl Changes {
    /// What the changes write.
    pub fn persisted(&self) -> Persisted {
        Persisted {
            written: self.puts.len(),
            deleted: self.removed.len(),
        }
    }

    /// One atomic batch: deletes, then puts, each in key order, then the scalars. A
    /// sorted batch inserts into RocksDB's memtable along one path (its skip list
    /// starts each insert from the previous one's position), about twice as fast as
    /// in the store's order. Deletes first: a window removed and created again since
    /// the last persist ends up written.
    ///
    /// # Errors
    /// A removed window whose key cannot be encoded (it was, when it was written).
    pub fn to_batch(&self) -> Result<(WriteBatch, Persisted), StateError> {
        let mut deletes = Vec::with_capacity(self.removed.len());
        for (key, ns) in &self.removed {
            let key = key.as_deref();
            let mut bytes = Vec::new();
            entry_key(
                &mut bytes,
                key_group_of(key.unwrap_or_default(), self.max_key_groups),
                key,
                *ns,
            )?;
            deletes.push(bytes);
        }
        deletes.sort_unstable();
        let mut puts: Vec<(&[u8], &[u8])> =
            (0..self.puts.len()).map(|i| self.puts.get(i)).collect();
        puts.sort_unstable_by(|a, b| a.0.cmp(b.0));
        let mut batch = WriteBatch::with_capacity(deletes.len() + puts.len() + 1);
        for key in deletes {
            batch.delete(key);
        }
        for (key, value) in puts {
            batch.put(key, value);
        }
        batch.put(scalars_key(), self.scalars.clone());
        Ok((batch, self.persisted()))
    }

    /// The removed windows, for [`WindowStore::requeue_changes`] when the changes
    /// could not be written.
    pub fn into_removed(self) -> Vec<Removed> {
        self.removed
    }
}

/// The backend side of a window operator.
#[derive(Debug)]
pub(super) struct Durable {
    /// `None` only while lent to a window function call.
    pub state: Option<Box<OperatorState>>,
    pub max_key_groups: u16,
    changed: Vec<EntryId>,
    removed: Vec<Removed>,
    /// A checkpoint being written on its own thread, which holds `state` meanwhile
    /// (see [`super::snapshot_thread`]).
    pub in_flight: Option<super::snapshot_thread::InFlight>,
}

impl Durable {
    pub fn new() -> Self {
        Durable {
            state: open_state(Box::new(MemoryBackend::new()))
                .ok()
                .map(Box::new),
            max_key_groups: DEFAULT_MAX_KEY_GROUPS,
            changed: Vec::new(),
            removed: Vec::new(),
            in_flight: None,
        }
    }

    /// The changes since the last persist, taken from `store` (see
    /// [`WindowOperator::persist`]); empty buffers to give back with
    /// [`Durable::return_buffers`].
    pub fn take_changes(&mut self, store: &mut WindowStore) -> (Vec<EntryId>, Vec<Removed>) {
        let mut changed = std::mem::take(&mut self.changed);
        let mut removed = std::mem::take(&mut self.removed);
        store.take_changes(&mut changed, &mut removed);
        (changed, removed)
    }

    /// Keeps the buffers of [`Durable::take_changes`] (cleared) for the next persist.
    pub fn return_buffers(&mut self, mut changed: Vec<EntryId>, mut removed: Vec<Removed>) {
        changed.clear();
        removed.clear();
        self.changed = changed;
        self.removed = removed;
    }

    pub fn key_group(&self, key: Option<&[u8]>) -> KeyGroup {
        key_group_of(key.unwrap_or_default(), self.max_key_groups)
    }
}

/// The window operator uses no keyed timers: an empty range, nothing to scan.
fn open_state(backend: Box<dyn StateBackend>) -> Result<OperatorState, StateError> {
    OperatorState::restore(backend, 0..0)
}

impl WindowOperator {
    /// Keeps the operator's state in `backend` (by default a fresh [`MemoryBackend`]);
    /// call [`WindowOperator::restore`] next if it comes from a snapshot.
    ///
    /// # Errors
    /// When the backend fails.
    pub fn with_backend(
        mut self,
        backend: Box<dyn StateBackend>,
    ) -> Result<Self, WindowStateError> {
        self.set_backend(backend)?;
        Ok(self)
    }

    /// [`WindowOperator::with_backend`] in place.
    pub(super) fn set_backend(
        &mut self,
        backend: Box<dyn StateBackend>,
    ) -> Result<(), WindowStateError> {
        self.finish_snapshot()?;
        let state = open_state(backend).map_err(|source| self.state_error(source))?;
        self.durable.state = Some(Box::new(state));
        Ok(())
    }

    /// Closes the backend (a RocksDB instance releases its working directory); the
    /// operator has no state until [`WindowOperator::set_backend`].
    pub(super) fn release_backend(&mut self) {
        // A checkpoint still being written keeps the backend open until it is done.
        let _ = self.finish_snapshot();
        self.durable.state = None;
    }

    /// Places keys in `max_key_groups` key groups (the pipeline's; 128 by default).
    pub fn with_max_key_groups(mut self, max_key_groups: u16) -> Self {
        self.durable.max_key_groups = max_key_groups.max(1);
        self
    }

    /// The backend, as of the last [`WindowOperator::persist`] (plus per-window state
    /// of process functions, which is always current): what a checkpoint snapshots.
    ///
    /// # Errors
    /// [`WindowStateError::Lent`] if a failed call kept the state,
    /// [`WindowStateError::Pending`] if a call's writes were not settled.
    pub fn backend_mut(&mut self) -> Result<&mut dyn StateBackend, WindowStateError> {
        self.finish_snapshot()?;
        let operator = &self.name;
        let state = self
            .durable
            .state
            .as_mut()
            .ok_or_else(|| WindowStateError::Lent {
                operator: operator.clone(),
            })?;
        let backend = state
            .backend_mut()
            .ok_or_else(|| WindowStateError::Pending {
                operator: operator.clone(),
            })?;
        Ok(backend.as_mut())
    }

    /// A checkpoint of the operator's state into `dir` (which must not exist):
    /// [`WindowOperator::persist`], then the backend's `snapshot_to(dir)`.
    ///
    /// # Errors
    /// When persisting or the snapshot fails.
    pub fn checkpoint_to(&mut self, dir: &Path) -> Result<Persisted, WindowStateError> {
        let persisted = self.persist()?;
        let operator = self.name.clone();
        self.backend_mut()?
            .snapshot_to(dir)
            .map_err(|source| WindowStateError::State { operator, source })?;
        Ok(persisted)
    }

    /// Writes every entry changed since the last call, deletes every entry removed since,
    /// and writes the scalars — one atomic batch (see the module docs' laws).
    ///
    /// # Errors
    /// When the backend fails (nothing was written, and the next call writes it all
    /// again) or the state is lent.
    pub fn persist(&mut self) -> Result<Persisted, WindowStateError> {
        self.finish_snapshot()?;
        let (changes, changed) = self.take_encoded_changes()?;
        let result = changes
            .to_batch()
            .map_err(|e| self.state_error(e))
            .and_then(|(batch, done)| {
                let backend = self.backend_mut()?;
                backend.write(batch).map_err(|e| self.state_error(e))?;
                Ok(done)
            });
        let mut removed = changes.into_removed();
        if result.is_err() {
            self.store.requeue_changes(&changed, &mut removed);
        }
        self.durable.return_buffers(changed, removed);
        result
    }

    /// Takes the changes since the last persist from the store and encodes them (see
    /// [`WindowOperator::changes`]); on an error they stay queued for the next persist.
    /// With them, the changed ids: their buffer goes back (or is requeued) with
    /// [`Durable::return_buffers`].
    pub(super) fn take_encoded_changes(
        &mut self,
    ) -> Result<(Changes, Vec<EntryId>), WindowStateError> {
        let (changed, removed) = self.durable.take_changes(&mut self.store);
        match self.changes(&changed, removed) {
            Ok(changes) => Ok((changes, changed)),
            Err((error, mut removed)) => {
                self.store.requeue_changes(&changed, &mut removed);
                self.durable.return_buffers(changed, removed);
                Err(error)
            }
        }
    }

    /// The changes that bring the backend up to date with `changed` and `removed`
    /// entries and the scalars: the changed entries encoded (not yet ordered: see
    /// [`Changes::to_batch`]). On an error, `removed` comes back with it.
    pub(super) fn changes(
        &self,
        changed: &[EntryId],
        removed: Vec<Removed>,
    ) -> Result<Changes, (WindowStateError, Vec<Removed>)> {
        let mut puts = Puts::default();
        for id in changed.iter().filter(|id| self.store.is_live(**id)) {
            let entry = self.store.entry(*id);
            let key = self.store.key(entry.key);
            if let Err(error) =
                entry_key(&mut puts.bytes, self.durable.key_group(key), key, entry.ns)
            {
                return Err((self.state_error(error), removed));
            }
            puts.ends.push(puts.bytes.len());
            encode_entry(&mut puts.bytes, entry);
            puts.ends.push(puts.bytes.len());
        }
        Ok(Changes {
            puts,
            removed,
            max_key_groups: self.durable.max_key_groups,
            scalars: self.scalars().encode(),
        })
    }

    /// Replaces the operator's working set, timers and scalars by what the backend
    /// holds for `key_groups` (the subtask's). An empty backend gives a fresh operator.
    ///
    /// # Errors
    /// When the backend fails or holds damaged window state.
    pub fn restore(&mut self, key_groups: Range<KeyGroup>) -> Result<(), WindowStateError> {
        self.store = WindowStore::with_panes(self.store.pane_len());
        self.dirty.clear();
        let operator = self.name.clone();
        let error = |source| WindowStateError::State {
            operator: operator.clone(),
            source,
        };
        let backend = self.backend_mut()?;
        let scalars = backend.get(&scalars_key()).map_err(error)?;
        let mut entries = Vec::new();
        let mut prefix = Vec::new();
        let mut damaged = None;
        for key_group in key_groups {
            prefix.clear();
            window_group_prefix(&mut prefix, key_group);
            let mut visit = |key: &[u8], value: &[u8]| match decode_entry_key(key) {
                Ok((key, ns)) => {
                    entries.push((key.map(<[u8]>::to_vec), ns, value.to_vec()));
                    ScanControl::Continue
                }
                Err(corrupt) => {
                    damaged = Some(corrupt);
                    ScanControl::Stop
                }
            };
            backend.scan_prefix(&prefix, &mut visit).map_err(error)?;
            if let Some(corrupt) = damaged.take() {
                return Err(error(corrupt));
            }
        }
        let scalars = match scalars {
            Some(bytes) => Scalars::decode(&bytes).map_err(error)?,
            None if entries.is_empty() => self.scalars(),
            None => {
                return Err(error(StateError::Corrupt {
                    reason: "window entries without the operator's scalars",
                }));
            }
        };
        self.watermark = scalars.watermark;
        self.next_seq = scalars.next_seq;
        self.last_seq = scalars.last_seq;
        self.next_early = scalars.next_early;
        self.counters = scalars.counters;
        for (key, ns, value) in entries {
            let key = self.store.intern(key.as_deref());
            let entry = decode_entry(key, ns, &value).map_err(|e| self.state_error(e))?;
            let id = self.store.insert_restored(entry);
            self.restore_timers(id);
        }
        self.adopt_restored_sliding_windows();
        Ok(())
    }

    /// The timers and early-firing listing entry `id` had: a time window that has not
    /// completed waits for its firing time, one that has for its purge time; count
    /// windows have no timers.
    fn restore_timers(&mut self, id: EntryId) {
        let entry = self.store.entry(id);
        let (ns, window, listed) = (entry.ns, entry.window, entry.stats.dirty_listed);
        if listed {
            let handle = self.store.handle(id);
            self.dirty.push(handle);
        }
        let Some(state) = window else {
            return;
        };
        if matches!(self.kind, WindowKind::Count(_)) {
            return;
        }
        match state.complete {
            true => self.store.schedule_purge(self.cleanup_time(ns), id),
            false => self.store.schedule_fire(ns.max_timestamp(), id),
        }
    }

    fn scalars(&self) -> Scalars {
        Scalars {
            watermark: self.watermark,
            next_seq: self.next_seq,
            last_seq: self.last_seq,
            next_early: self.next_early,
            counters: self.counters,
        }
    }

    pub(super) fn state_error(&self, source: StateError) -> WindowStateError {
        WindowStateError::State {
            operator: self.name.clone(),
            source,
        }
    }
}
