//! [`StateBackend`]: the store under keyed state and timers — an ordered map from byte
//! keys to byte values, one per operator subtask, exactly what a RocksDB column family
//! offers. Everything typed (keyed state, TTL, lists, timers) is built above it by
//! [`encoding`](super::encoding), so a backend knows nothing about Weir.
//!
//! Laws every backend keeps (checked by the conformance suite, which the memory
//! backend, the transaction overlay and RocksDB all run):
//! - `get` returns the value of the last `put` of that key not followed by a `delete`
//!   of the key or a `delete_prefix` of one of its prefixes;
//! - `scan_prefix` visits exactly the keys that start with the prefix, once each, in
//!   ascending byte order, and stops as soon as the visitor says
//!   [`ScanControl::Stop`];
//! - `write` applies the operations of a [`WriteBatch`] in their order, and all of them
//!   or none: after an error nothing of the batch is visible.

use std::fmt::Debug;
use std::path::Path;

use super::StateError;

/// What a scan visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanControl {
    /// Visit the next entry.
    Continue,
    /// End the scan here.
    Stop,
}

/// An ordered byte key-value store for one operator subtask (see the module docs for
/// its laws).
///
/// Scans are visitor-based rather than iterator-based: a visitor borrows each key and
/// value straight from the store (a RocksDB iterator's slices, a `BTreeMap`'s
/// entries) with no allocation per entry, and the trait stays object-safe.
pub trait StateBackend: Send + Debug {
    /// The value stored under `key`, if any.
    ///
    /// # Errors
    /// When the backend fails.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;

    /// Stores `value` under `key`, replacing any previous value.
    ///
    /// # Errors
    /// When the backend fails.
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError>;

    /// Removes `key` (nothing happens if it is absent).
    ///
    /// # Errors
    /// When the backend fails.
    fn delete(&mut self, key: &[u8]) -> Result<(), StateError>;

    /// Calls `visit` with every entry whose key starts with `prefix`, in ascending key
    /// order, until it returns [`ScanControl::Stop`]. An empty prefix scans everything.
    ///
    /// # Errors
    /// When the backend fails; entries visited before the failure were visited.
    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
    ) -> Result<(), StateError>;

    /// Removes every entry whose key starts with `prefix`.
    ///
    /// # Errors
    /// When the backend fails.
    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError>;

    /// Applies the operations of `batch` in order, atomically.
    ///
    /// # Errors
    /// When the backend fails; then none of the batch is applied.
    fn write(&mut self, batch: WriteBatch) -> Result<(), StateError>;

    /// Writes a consistent, self-contained copy of the current state into `dir`, which
    /// this call creates (it must not exist), and returns once the copy is durable
    /// (files and directory synced). The copy is what a restore opens
    /// ([`super::open::open_backend`]); the backend itself keeps working. RocksDB: a
    /// native checkpoint (hard links to immutable SST files); memory: one file.
    ///
    /// # Errors
    /// When the copy cannot be written ([`StateError::Snapshot`]) or the backend fails.
    fn snapshot_to(&mut self, dir: &Path) -> Result<(), StateError>;
}

impl<B: StateBackend + ?Sized> StateBackend for Box<B> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        (**self).get(key)
    }
    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        (**self).put(key, value)
    }
    fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
        (**self).delete(key)
    }
    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
    ) -> Result<(), StateError> {
        (**self).scan_prefix(prefix, visit)
    }
    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError> {
        (**self).delete_prefix(prefix)
    }
    fn write(&mut self, batch: WriteBatch) -> Result<(), StateError> {
        (**self).write(batch)
    }
    fn snapshot_to(&mut self, dir: &Path) -> Result<(), StateError> {
        (**self).snapshot_to(dir)
    }
}

/// One operation of a [`WriteBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BatchOp {
    /// Store `value` under `key`.
    Put {
        /// The key.
        key: Vec<u8>,
        /// The value.
        value: Vec<u8>,
    },
    /// Remove `key`.
    Delete {
        /// The key.
        key: Vec<u8>,
    },
    /// Remove every key starting with `prefix`. A backend may apply it as a range
    /// deletion `[prefix, prefix_successor(prefix))` or key by key; the keys Weir
    /// encodes always have a successor (see [`prefix_successor`]).
    DeletePrefix {
        /// The prefix.
        prefix: Vec<u8>,
    },
}

/// Puts and deletes applied together by [`StateBackend::write`], in the order added.
///
/// ```
/// use weir_host::state::{MemoryBackend, StateBackend, WriteBatch};
///
/// let mut backend = MemoryBackend::new();
/// backend.put(b"a/1", b"old")?;
/// let mut batch = WriteBatch::new();
/// batch.delete_prefix(b"a/");
/// batch.put(b"a/2", b"new"); // after the prefix deletion: it stays
/// backend.write(batch)?;
/// assert_eq!(backend.get(b"a/1")?, None);
/// assert_eq!(backend.get(b"a/2")?, Some(b"new".to_vec()));
/// # Ok::<(), weir_host::state::StateError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteBatch {
    ops: Vec<BatchOp>,
}

impl WriteBatch {
    /// An empty batch.
    pub fn new() -> Self {
        WriteBatch::default()
    }

    /// An empty batch with room for `ops` operations.
    pub fn with_capacity(ops: usize) -> Self {
        WriteBatch {
            ops: Vec::with_capacity(ops),
        }
    }

    /// Adds a put.
    pub fn put(&mut self, key: impl Into<Vec<u8>>, value: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Put {
            key: key.into(),
            value: value.into(),
        });
    }

    /// Adds a delete.
    pub fn delete(&mut self, key: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::Delete { key: key.into() });
    }

    /// Adds a deletion of every key starting with `prefix`.
    pub fn delete_prefix(&mut self, prefix: impl Into<Vec<u8>>) {
        self.ops.push(BatchOp::DeletePrefix {
            prefix: prefix.into(),
        });
    }

    /// The operations, in order.
    pub fn ops(&self) -> &[BatchOp] {
        &self.ops
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.ops.len()
    }

    /// Whether the batch has no operation.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }
}

impl IntoIterator for WriteBatch {
    type Item = BatchOp;
    type IntoIter = std::vec::IntoIter<BatchOp>;

    fn into_iter(self) -> Self::IntoIter {
        self.ops.into_iter()
    }
}

/// The smallest key greater than every key starting with `prefix`, i.e. the exclusive
/// end of the prefix's range; `None` when there is none (the prefix is empty or all
/// `0xFF`). Encoded state keys begin with a key group below `0xFFFF`, so their prefixes
/// always have one.
///
/// ```
/// use weir_host::state::prefix_successor;
/// assert_eq!(prefix_successor(b"ab"), Some(b"ac".to_vec()));
/// assert_eq!(prefix_successor(&[1, 0xFF]), Some(vec![2]));
/// assert_eq!(prefix_successor(&[0xFF, 0xFF]), None);
/// ```
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let last = prefix.iter().rposition(|byte| *byte != 0xFF)?;
    let mut end = prefix[..=last].to_vec();
    end[last] += 1;
    Some(end)
}
