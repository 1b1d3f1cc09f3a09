//! [`RocksDbBackend`]: the [`StateBackend`] laws on one RocksDB instance.

use std::fmt;
use std::path::{Path, PathBuf};

use ::rocksdb::{DB, ReadOptions, WriteOptions};

use super::{error, options};
use crate::state::{
    BatchOp, ScanControl, StateBackend, StateError, StateOp, WriteBatch, prefix_successor,
};

/// Keyed state of one operator subtask in a RocksDB instance in its working directory
/// (see the [module docs](super) for the layout).
///
/// ```
/// use weir_host::state::{RocksDbBackend, StateBackend};
///
/// let dir = tempfile::tempdir()?;
/// let mut backend = RocksDbBackend::open(&dir.path().join("op-1"))?;
/// backend.put(b"k", b"v")?;
/// backend.snapshot_to(&dir.path().join("chk-1"))?;
/// backend.put(b"k", b"later")?;
/// let restored = RocksDbBackend::restore(&dir.path().join("op-1b"), &dir.path().join("chk-1"))?;
/// assert_eq!(restored.get(b"k")?, Some(b"v".to_vec()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct RocksDbBackend {
    pub(super) db: DB,
    pub(super) path: PathBuf,
    write_options: WriteOptions,
}

impl fmt::Debug for RocksDbBackend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RocksDbBackend")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RocksDbBackend {
    /// An empty backend in `working_dir`. Whatever the directory held is deleted
    /// first: it is the subtask's scratch space, never a source of state (that is what
    /// [`RocksDbBackend::restore`] is for).
    ///
    /// # Errors
    /// [`StateError::Backend`] when the directory cannot be prepared or RocksDB cannot
    /// open there.
    pub fn open(working_dir: &Path) -> Result<Self, StateError> {
        prepare_working_dir(working_dir)?;
        Self::open_at(working_dir, true).map_err(error::backend(StateOp::Open))
    }

    /// Opens the database in `path`; `create`: whether it may be created.
    pub(super) fn open_at(path: &Path, create: bool) -> Result<Self, ::rocksdb::Error> {
        let db = DB::open(&options::db_options(create), path)?;
        Ok(RocksDbBackend {
            db,
            path: path.to_path_buf(),
            write_options: options::write_options(),
        })
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The last key in the database, if any.
    fn last_key(&self) -> Result<Option<Vec<u8>>, StateError> {
        let mut iter = self.db.raw_iterator();
        iter.seek_to_last();
        let last = iter.key().map(<[u8]>::to_vec);
        iter.status()
            .map_err(error::backend(StateOp::DeletePrefix))?;
        Ok(last)
    }

    /// Adds to `batch` the deletion of every key under `prefix`, given the greatest key
    /// put earlier in the same batch.
    fn add_delete_prefix(
        &self,
        batch: &mut ::rocksdb::WriteBatch,
        prefix: &[u8],
        greatest_put: Option<&[u8]>,
    ) -> Result<(), StateError> {
        if let Some(end) = prefix_successor(prefix) {
            batch.delete_range(prefix, end.as_slice());
            return Ok(());
        }
        // An empty or all-0xFF prefix has no successor, but every key >= it starts
        // with it: delete up to just past the greatest key there is.
        let last = self.last_key()?;
        let greatest = match (last.as_deref(), greatest_put) {
            (Some(a), Some(b)) => a.max(b),
            (Some(key), None) | (None, Some(key)) => key,
            (None, None) => return Ok(()),
        };
        if greatest >= prefix {
            let mut end = greatest.to_vec();
            end.push(0);
            batch.delete_range(prefix, end.as_slice());
        }
        Ok(())
    }
}

/// Empties `dir` (creating it if needed).
pub(super) fn prepare_working_dir(dir: &Path) -> Result<(), StateError> {
    let failed = |error: std::io::Error| StateError::Backend {
        op: StateOp::Open,
        message: format!(
            "cannot prepare the working directory {}: {error}",
            dir.display()
        ),
    };
    match std::fs::remove_dir_all(dir) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(failed(error)),
    }
    std::fs::create_dir_all(dir).map_err(failed)
}

impl StateBackend for RocksDbBackend {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.db
            .get_pinned(key)
            .map(|value| value.map(|value| value.to_vec()))
            .map_err(error::backend(StateOp::Get))
    }

    fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), StateError> {
        self.db
            .put_opt(key, value, &self.write_options)
            .map_err(error::backend(StateOp::Put))
    }

    fn delete(&mut self, key: &[u8]) -> Result<(), StateError> {
        self.db
            .delete_opt(key, &self.write_options)
            .map_err(error::backend(StateOp::Delete))
    }

    fn scan_prefix(
        &self,
        prefix: &[u8],
        visit: &mut dyn FnMut(&[u8], &[u8]) -> ScanControl,
    ) -> Result<(), StateError> {
        let mut read_options = ReadOptions::default();
        if let Some(end) = prefix_successor(prefix) {
            read_options.set_iterate_upper_bound(end);
        }
        let mut iter = self.db.raw_iterator_opt(read_options);
        iter.seek(prefix);
        while let Some((key, value)) = iter.item() {
            // Past an all-0xFF prefix there is no upper bound: stop at the first key
            // that does not start with the prefix.
            if !key.starts_with(prefix) || visit(key, value) == ScanControl::Stop {
                break;
            }
            iter.next();
        }
        iter.status().map_err(error::backend(StateOp::Scan))
    }

    fn delete_prefix(&mut self, prefix: &[u8]) -> Result<(), StateError> {
        let mut batch = ::rocksdb::WriteBatch::default();
        self.add_delete_prefix(&mut batch, prefix, None)?;
        self.db
            .write_opt(batch, &self.write_options)
            .map_err(error::backend(StateOp::DeletePrefix))
    }

    fn write(&mut self, batch: WriteBatch) -> Result<(), StateError> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut rocks = ::rocksdb::WriteBatch::default();
        let mut greatest_put: Option<Vec<u8>> = None;
        for op in batch {
            match op {
                BatchOp::Put { key, value } => {
                    rocks.put(&key, &value);
                    if greatest_put.as_ref().is_none_or(|greatest| key > *greatest) {
                        greatest_put = Some(key);
                    }
                }
                BatchOp::Delete { key } => rocks.delete(&key),
                BatchOp::DeletePrefix { prefix } => {
                    self.add_delete_prefix(&mut rocks, &prefix, greatest_put.as_deref())?;
                }
            }
        }
        self.db
            .write_opt(rocks, &self.write_options)
            .map_err(error::backend(StateOp::Write))
    }

    fn snapshot_to(&mut self, dir: &Path) -> Result<(), StateError> {
        self.checkpoint(dir)
    }
}
