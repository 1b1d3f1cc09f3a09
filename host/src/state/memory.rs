//! [`MemoryBackend`]: the in-memory [`StateBackend`], a `BTreeMap` of byte keys.
//!
//! For tests, the harness and pipelines whose state fits in memory. It never fails;
//! a snapshot of it is one file ([`super::snapshot_file`]).

use std::collections::BTreeMap;
use std::ops::Bound;

use super::{BatchOp, ScanControl, StateBackend, StateError, WriteBatch, prefix_successor};

/// The in-memory state backend.
///
/// ```
/// use weir_host::state::{MemoryBackend, ScanControl, StateBackend};
///
/// let mut backend = MemoryBackend::new();
/// backend.put(b"b", b"2")?;
/// backend.put(b"a", b"1")?;
/// backend.put(b"c", b"3")?;
/// let mut keys = Vec::new();
/// backend.scan_prefix(b"", &mut |key, _value| {
///     keys.push(key.to_vec());
///     if keys.len() == 2 { ScanControl::Stop } else { ScanControl::Continue }
/// })?;
/// assert_eq!(keys, [b"a".to_vec(), b"b".to_vec()]);
/// # Ok::<(), weir_host::state::StateError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemoryBackend {
    entries: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl MemoryBackend {
    /// An empty backend.
    pub fn new() -> Self {
        MemoryBackend::default()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there is no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The backend saved by [`StateBackend::snapshot_to`] into `dir`.
    ///
    /// # Errors
    /// [`StateError::Snapshot`] when the snapshot is missing, damaged or of another
    /// format version.
    pub fn restore_from(dir: &std::path::Path) -> Result<Self, StateError> {
        Ok(MemoryBackend {
            entries: super::snapshot_file::read(dir)?,
        })
    }

    /// All entries, in key order.
    pub fn entries(&self) -> &BTreeMap<Vec<u8>, Vec<u8>> {
        &self.entries
    }

    fn apply(&mut self, op: BatchOp) {
        match op {
            BatchOp::Put { key, value } => {
                self.entries.insert(key, value);
            }
            BatchOp::Delete { key } => {
                self.entries.remove(&key);
            }
            BatchOp::DeletePrefix { prefix } => self.remove_prefix(&prefix),
        }
    }

    fn remove_prefix(&mut self, prefix: &[u8]) {
        let end = match prefix_successor(prefix) {
            Some(end) => Bound::Excluded(end),
            None if prefix.is_empty() => return self.entries.clear(),
            None => Bound::Unbounded,
        };
        let range = (Bound::Included(prefix.to_vec()), end);
        self.entries.extract_if(range, |_, _| true).for_each(drop);
    }
}

impl StateBackend for MemoryBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.entries.get(key).cloned())
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        match self.entries.get_mut(key) {
            // Reuse the allocation of the value being replaced.
            Some(old) => {
                old.clear();
                old.extend_from_slice(value);
            }
            None => {
                self.entries.insert(key.to_vec(), value.to_vec());
            }
        }
        Ok(())
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
        self.entries.remove(key);
        Ok(())
    }

    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
    ) -> Result<(), StateError> {
        let range = self
            .entries
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded));
        for (key, value) in range {
            if !key.starts_with(prefix) || visit(key, value) == ScanControl::Stop {
                break;
            }
        }
        Ok(())
    }

    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError> {
        self.remove_prefix(prefix);
        Ok(())
    }

    fn write(&mut self, batch: WriteBatch) -> Result<(), StateError> {
        for op in batch {
            self.apply(op);
        }
        Ok(())
    }

    fn snapshot_to(&mut self, dir: &std::path::Path) -> Result<(), StateError> {
        super::snapshot_file::write(dir, &self.entries)
    }
}
