//! Snapshots of a [`RocksDbBackend`] and restores from them (layout and checks:
//! [`listing`](super::listing)).
//!
//! A snapshot is RocksDB's checkpoint of the instance (memtables flushed, SST files
//! hard-linked) plus `WEIR-SNAPSHOT`, written last, so a directory without it is an
//! unfinished snapshot. A restore checks the listing, then hard-links the immutable
//! files and copies the others (RocksDB appends to a MANIFEST and rewrites CURRENT)
//! into a fresh working directory, and opens that with `create_if_missing(false)`:
//! the snapshot is never opened, so it stays valid for the next restore.

use std::fs;
use std::path::Path;

use ::rocksdb::checkpoint::Checkpoint;

use super::backend::prepare_working_dir;
use super::{RocksDbBackend, error, listing};
use crate::state::StateError;

impl RocksDbBackend {
    /// Writes a snapshot into `dir`, which must not exist (see the module docs).
    pub(super) fn checkpoint(&self, dir: &Path) -> Result<(), StateError> {
        if dir.exists() {
            return Err(StateError::snapshot(dir, "already exists"));
        }
        let checkpoint = Checkpoint::new(&self.db)
            .map_err(error::snapshot(dir, "cannot start a RocksDB checkpoint"))?;
        checkpoint
            .create_checkpoint(dir)
            .map_err(error::snapshot(dir, "RocksDB checkpoint failed"))?;
        listing::write(dir)?;
        if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
            crate::fsutil::sync_dir(parent)
                .map_err(error::snapshot(dir, "cannot sync its parent directory"))?;
        }
        Ok(())
    }

    /// The state the snapshot in `snapshot` holds, in a fresh working directory
    /// `working_dir` (emptied first). The snapshot is only read.
    ///
    /// # Errors
    /// [`StateError::Snapshot`] when the snapshot is missing, unfinished, damaged, of
    /// another format version, or RocksDB refuses it; never an empty state.
    pub fn restore(working_dir: &Path, snapshot: &Path) -> Result<Self, StateError> {
        if !snapshot.is_dir() {
            return Err(StateError::snapshot(snapshot, "no such snapshot directory"));
        }
        if same_dir(working_dir, snapshot) {
            return Err(StateError::snapshot(
                snapshot,
                "is the working directory itself: a restore must not write into its snapshot",
            ));
        }
        let files = listing::read_and_verify(snapshot)?;
        prepare_working_dir(working_dir)?;
        for file in &files {
            let (from, to) = (snapshot.join(&file.name), working_dir.join(&file.name));
            let linked = file.is_immutable() && fs::hard_link(&from, &to).is_ok();
            if !linked {
                fs::copy(&from, &to).map_err(error::snapshot(snapshot, "cannot copy a file"))?;
            }
        }
        RocksDbBackend::open_at(working_dir, false).map_err(error::snapshot(
            snapshot,
            "RocksDB cannot open the restored copy",
        ))
    }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (fs::canonicalize(a), fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
