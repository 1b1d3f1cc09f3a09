//! Opening a subtask's [`StateBackend`]: fresh, or from a snapshot a checkpoint took.
//!
//! A restore never opens the snapshot itself for writing: the snapshot is copied (or
//! hard-linked) into the subtask's working directory, so the checkpoint stays intact
//! for the next restore. A missing or damaged snapshot is an error
//! ([`StateError::Snapshot`]), never an empty state.

use std::path::Path;

use super::{MemoryBackend, RocksDbBackend, StateBackend, StateError};

/// Which backend keeps an operator's state (the pipeline's `[state] backend`, spelled
/// in lower case: `"memory"` or `"rocksdb"`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// A `BTreeMap` in memory; snapshots are one file.
    #[default]
    Memory,
    /// A RocksDB instance per subtask in its working directory; snapshots are
    /// RocksDB checkpoints (hard links). For state larger than memory.
    RocksDb,
}

/// Opens the backend of one operator subtask. `working_dir` is the subtask's own
/// directory for live state, emptied here (unused by the memory backend); `restore_from`, the
/// subtask's directory in a checkpoint to start from (`None`: empty state).
///
/// # Errors
/// When the backend cannot be opened or the snapshot is missing or damaged.
pub fn open_backend(
    kind: BackendKind,
    working_dir: &Path,
    restore_from: Option<&Path>,
) -> Result<Box<dyn StateBackend>, StateError> {
    Ok(match (kind, restore_from) {
        (BackendKind::Memory, Some(snapshot)) => Box::new(MemoryBackend::restore_from(snapshot)?),
        (BackendKind::Memory, None) => Box::new(MemoryBackend::new()),
        (BackendKind::RocksDb, Some(snapshot)) => {
            Box::new(RocksDbBackend::restore(working_dir, snapshot)?)
        }
        (BackendKind::RocksDb, None) => Box::new(RocksDbBackend::open(working_dir)?),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_restores_what_was_written_and_a_missing_one_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut backend = open_backend(BackendKind::Memory, dir.path(), None).unwrap();
        backend.put(b"k", b"v").unwrap();
        let snapshot = dir.path().join("chk-1");
        backend.snapshot_to(&snapshot).unwrap();
        backend.put(b"k", b"after").unwrap();
        let restored = open_backend(BackendKind::Memory, dir.path(), Some(&snapshot)).unwrap();
        assert_eq!(restored.get(b"k").unwrap(), Some(b"v".to_vec()));
        let missing = open_backend(
            BackendKind::Memory,
            dir.path(),
            Some(&dir.path().join("nope")),
        );
        assert!(matches!(missing, Err(StateError::Snapshot { .. })));
    }
}
