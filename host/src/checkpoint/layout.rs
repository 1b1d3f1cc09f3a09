//! [`Layout`]: where a pipeline's durable data lives on disk.
//!
//! ```text
//! <dir>/<pipeline name>/
//!   weir.pid                       the running host's process id (`weir savepoint`)
//!   work/<operator>/<subtask>/     live working directories of state backends
//!   checkpoints/chk-000042/        one checkpoint
//!     <operator>/<subtask>/        one stateful operator subtask's snapshot
//!     _metadata                    JSON; written last, atomically
//! ```
//!
//! Law: a checkpoint exists only once its `_metadata` exists; a `chk-*` directory
//! without one is a partial (abandoned) checkpoint, deleted at start and after each
//! completed checkpoint.

use std::io;
use std::path::{Path, PathBuf};

/// The name of a checkpoint's metadata file.
pub const METADATA_FILE: &str = "_metadata";

/// The directories of one pipeline's data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    /// The layout under `data_dir` (the `[state] dir`) for pipeline `name`.
    pub fn new(data_dir: &Path, name: &str) -> Self {
        Layout {
            root: data_dir.join(name),
        }
    }

    /// `<dir>/<pipeline name>`.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The live working directory of an operator subtask's state backend.
    pub fn work_dir(&self, operator: &str, subtask: usize) -> PathBuf {
        self.root
            .join("work")
            .join(operator)
            .join(subtask.to_string())
    }

    /// Where checkpoints are kept.
    pub fn checkpoints_dir(&self) -> PathBuf {
        self.root.join("checkpoints")
    }

    /// The directory of checkpoint `id`.
    pub fn checkpoint_dir(&self, id: u64) -> PathBuf {
        self.checkpoints_dir().join(format!("chk-{id:06}"))
    }

    /// The pid file of the running host.
    pub fn pid_file(&self) -> PathBuf {
        self.root.join("weir.pid")
    }

    /// The checkpoints on disk, by id: `(id, complete)`, ascending.
    ///
    /// # Errors
    /// When the checkpoints directory exists but cannot be read.
    pub fn list(&self) -> io::Result<Vec<(u64, bool)>> {
        let dir = self.checkpoints_dir();
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut found = Vec::new();
        for entry in entries {
            let entry = entry?;
            let name = entry.file_name();
            if let Some(id) = checkpoint_id(&name.to_string_lossy()) {
                found.push((id, entry.path().join(METADATA_FILE).exists()));
            }
        }
        found.sort_unstable();
        Ok(found)
    }

    /// Keeps the `retain` newest complete checkpoints up to `newest`; deletes older
    /// complete ones and every partial one other than those after `newest` (which may
    /// be in progress).
    ///
    /// # Errors
    /// When a directory cannot be listed or removed.
    pub fn prune(&self, newest: u64, retain: usize) -> io::Result<()> {
        let listed = self.list()?;
        let complete: Vec<u64> = listed
            .iter()
            .filter(|(id, complete)| *complete && *id <= newest)
            .map(|(id, _)| *id)
            .collect();
        let keep_from = complete
            .len()
            .checked_sub(retain)
            .map_or(0, |skip| complete[skip]);
        for (id, complete) in listed {
            let old = complete && id < keep_from;
            let abandoned = !complete && id <= newest;
            if old || abandoned {
                remove_dir_if_present(&self.checkpoint_dir(id))?;
            }
        }
        Ok(())
    }
}

/// `chk-000042` → 42.
fn checkpoint_id(name: &str) -> Option<u64> {
    name.strip_prefix("chk-")?.parse().ok()
}

/// Removes a directory tree; one that is already gone is fine.
///
/// # Errors
/// Any other I/O failure.
pub fn remove_dir_if_present(dir: &Path) -> io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn prune_keeps_the_newest_complete_and_drops_partial_ones() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path(), "p");
        for id in 1..=6 {
            std::fs::create_dir_all(layout.checkpoint_dir(id)).unwrap();
            if id != 4 && id != 6 {
                std::fs::write(layout.checkpoint_dir(id).join(METADATA_FILE), b"{}").unwrap();
            }
        }
        assert_eq!(layout.checkpoint_dir(7).file_name().unwrap(), "chk-000007");
        layout.prune(5, 2).unwrap();
        assert_eq!(
            layout.list().unwrap(),
            [(3, true), (5, true), (6, false)],
            "1 and 2 are old, 4 abandoned, 6 may be in progress"
        );
    }
}
