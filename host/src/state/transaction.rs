//! [`Overlay`]: the writes of one plugin call, held in front of the backend until the
//! call is known to have succeeded.
//!
//! When a Wasm call fails, the host re-runs its batch event by event, so the failed
//! call's writes must vanish. The overlay is itself a [`StateBackend`]: keyed state and
//! timers work through it unchanged. Reads see the overlay first — point reads and
//! scans alike, scans merged in key order with the backend — then the backend.
//! [`Overlay::commit`] applies everything as one atomic [`WriteBatch`];
//! [`Overlay::rollback`] drops it.
//!
//! Inside, the overlay holds the written keys (value, or a deletion marker) and the
//! deleted prefixes. Deleting a prefix drops the overlay's own writes under it, so a
//! write in the overlay is always newer than any deleted prefix that covers it; and the
//! deleted prefixes are kept prefix-free (a prefix covered by another is dropped), so
//! "is this key deleted by a prefix" is one ordered lookup. On the hot path, a read with
//! nothing pending costs two lookups in empty maps before the backend's.
//!
//! Laws (property-tested against a model in the conformance suite): the overlay reads
//! exactly like a backend to which every write since the last commit had been applied;
//! after `commit` the backend holds that content; after `rollback` the overlay reads
//! like the backend as it was at the last commit.
//!
//! ```
//! use weir_host::state::{MemoryBackend, Overlay, StateBackend};
//!
//! let mut state = Overlay::new(MemoryBackend::new());
//! state.put(b"count", b"1")?;
//! state.commit()?;
//! state.put(b"count", b"2")?;
//! assert_eq!(state.get(b"count")?, Some(b"2".to_vec()));
//! state.rollback(); // the call failed
//! assert_eq!(state.get(b"count")?, Some(b"1".to_vec()));
//! assert_eq!(state.base().get(b"count")?, Some(b"1".to_vec()));
//! # Ok::<(), weir_host::state::StateError>(())
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use super::{BatchOp, ScanControl, StateBackend, StateError, WriteBatch};

/// Uncommitted writes in front of a backend (see the module docs).
#[derive(Debug, Default)]
pub struct Overlay<B> {
    base: B,
    /// Written keys: `Some(value)`, or `None` for a deletion.
    writes: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Deleted prefixes, prefix-free; older than every write under them.
    deleted_prefixes: BTreeSet<Vec<u8>>,
}

impl<B: StateBackend> Overlay<B> {
    /// An overlay with nothing pending in front of `base`.
    pub fn new(base: B) -> Self {
        Overlay {
            base,
            writes: BTreeMap::new(),
            deleted_prefixes: BTreeSet::new(),
        }
    }

    /// The backend, as of the last commit.
    pub fn base(&self) -> &B {
        &self.base
    }

    /// The backend, for writes that bypass the transaction (a window operator bringing
    /// its backend up to date at a checkpoint) and for snapshots, between calls only:
    /// `None` while writes are pending (they would shadow such writes, and a snapshot
    /// must hold committed state only).
    pub fn base_mut(&mut self) -> Option<&mut B> {
        if self.is_clean() {
            Some(&mut self.base)
        } else {
            None
        }
    }

    /// The backend; pending writes are dropped.
    pub fn into_base(self) -> B {
        self.base
    }

    /// Whether nothing is pending.
    pub fn is_clean(&self) -> bool {
        self.writes.is_empty() && self.deleted_prefixes.is_empty()
    }

    /// Applies everything pending to the backend as one [`WriteBatch`] (prefix
    /// deletions first, then the writes, which are all newer).
    ///
    /// # Errors
    /// When the backend fails. Its write is atomic, so it is unchanged, but the
    /// pending writes are gone: the task must fail and restore from a checkpoint.
    pub fn commit(&mut self) -> Result<(), StateError> {
        if self.is_clean() {
            return Ok(());
        }
        let mut batch = WriteBatch::with_capacity(self.deleted_prefixes.len() + self.writes.len());
        for prefix in std::mem::take(&mut self.deleted_prefixes) {
            batch.delete_prefix(prefix);
        }
        for (key, value) in std::mem::take(&mut self.writes) {
            match value {
                Some(value) => batch.put(key, value),
                None => batch.delete(key),
            }
        }
        self.base.write(batch)
    }

    /// Drops everything pending.
    pub fn rollback(&mut self) {
        self.writes.clear();
        self.deleted_prefixes.clear();
    }

    /// Whether a deleted prefix covers `key`. The set is prefix-free, so the only
    /// candidate is the greatest deleted prefix `<= key`.
    fn deleted_by_prefix(&self, key: &[u8]) -> bool {
        !self.deleted_prefixes.is_empty()
            && self
                .deleted_prefixes
                .range::<[u8], _>((Bound::Unbounded, Bound::Included(key)))
                .next_back()
                .is_some_and(|prefix| key.starts_with(prefix))
    }

    fn apply(&mut self, op: BatchOp) {
        match op {
            BatchOp::Put { key, value } => {
                self.writes.insert(key, Some(value));
            }
            BatchOp::Delete { key } => self.delete_key(key),
            BatchOp::DeletePrefix { prefix } => self.delete_under(prefix),
        }
    }

    fn delete_key(&mut self, key: Vec<u8>) {
        if self.deleted_by_prefix(&key) {
            // The backend's value is already hidden; only our own write can remain.
            self.writes.remove(&key);
        } else {
            self.writes.insert(key, None);
        }
    }

    fn delete_under(&mut self, prefix: Vec<u8>) {
        let end = super::prefix_successor(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        let range = (Bound::Included(prefix.clone()), end);
        self.writes
            .extract_if(range.clone(), |_, _| true)
            .for_each(drop);
        if self.deleted_by_prefix(&prefix) {
            return;
        }
        // Keep the set prefix-free: drop the deleted prefixes this one covers.
        self.deleted_prefixes
            .extract_if(range, |_| true)
            .for_each(drop);
        self.deleted_prefixes.insert(prefix);
    }
}

impl<B: StateBackend> StateBackend for Overlay<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(written) = self.writes.get(key) {
            return Ok(written.clone());
        }
        if self.deleted_by_prefix(key) {
            return Ok(None);
        }
        self.base.get(key)
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        match self.writes.get_mut(key) {
            Some(Some(old)) => {
                old.clear();
                old.extend_from_slice(value);
            }
            Some(slot) => *slot = Some(value.to_vec()),
            None => {
                self.writes.insert(key.to_vec(), Some(value.to_vec()));
            }
        }
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
        match self.writes.get_mut(key) {
            Some(slot) if self.deleted_prefixes.is_empty() => *slot = None,
            _ => self.delete_key(key.to_vec()),
        }
        Ok(())
    }

    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
    ) -> Result<(), StateError> {
        let mut writes = self
            .writes
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(key, _)| key.starts_with(prefix))
            .peekable();
        let mut stopped = false;
        if !self.deleted_by_prefix(prefix) {
            self.base.scan_prefix(prefix, &mut |key, value| {
                // Our writes that sort before this backend entry come first.
                while let Some((written, slot)) =
                    writes.next_if(|(written, _)| written.as_slice() < key)
                {
                    if let Some(new) = slot
                        && visit(written, new) == ScanControl::Stop
                    {
                        stopped = true;
                        return ScanControl::Stop;
                    }
                }
                let shown = match writes.next_if(|(written, _)| written.as_slice() == key) {
                    Some((_, slot)) => slot.as_deref(),
                    None if self.deleted_by_prefix(key) => None,
                    None => Some(value),
                };
                if let Some(shown) = shown
                    && visit(key, shown) == ScanControl::Stop
                {
                    stopped = true;
                    return ScanControl::Stop;
                }
                ScanControl::Continue
            })?;
        }
        if stopped {
            return Ok(());
        }
        for (key, slot) in writes {
            if let Some(value) = slot
                && visit(key, value) == ScanControl::Stop
            {
                break;
            }
        }
        Ok(())
    }

    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError> {
        self.delete_under(prefix.to_vec());
        Ok(())
    }

    fn write(&mut self, batch: WriteBatch) -> Result<(), StateError> {
        for op in batch {
            self.apply(op);
        }
        Ok(())
    }

    /// Snapshots the committed state: only between calls, when nothing is pending.
    fn snapshot_to(&mut self, dir: &std::path::Path) -> Result<(), StateError> {
        if !self.is_clean() {
            return Err(StateError::snapshot(
                dir,
                "a transaction is open (snapshots are taken between calls only)",
            ));
        }
        self.base.snapshot_to(dir)
    }
}
