//! Which checkpoint a run starts from ([`StartFrom`]), read and checked before any
//! task runs: the latest complete checkpoint of the pipeline by default, a given
//! directory with `--from`, nothing with `--fresh` (or after a finished bounded run).

use std::path::PathBuf;

use super::layout::remove_dir_if_present;
use super::{CheckpointError, Fingerprint, Layout, Metadata};

/// Where a run starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartFrom {
    /// The latest complete checkpoint, if any (and not of a finished run).
    Latest,
    /// Nothing: old checkpoints and working state are removed.
    Fresh,
    /// The checkpoint or savepoint in this directory.
    Path(PathBuf),
}

/// The checkpoint a run restores.
#[derive(Debug, Clone)]
pub struct Restored {
    pub id: u64,
    /// Its directory (holding `_metadata` and the snapshots).
    pub dir: PathBuf,
    pub metadata: Metadata,
}

fn io(path: PathBuf, what: &'static str) -> impl FnOnce(std::io::Error) -> CheckpointError {
    move |error| CheckpointError::Io { path, what, error }
}

/// Finds and reads the checkpoint to start from; changes nothing on disk.
///
/// # Errors
/// When the checkpoint is damaged ([`Metadata::read`]) or the checkpoints cannot be
/// listed.
pub fn find(layout: &Layout, start: &StartFrom) -> Result<Option<Restored>, CheckpointError> {
    let checkpoints = layout.checkpoints_dir();
    Ok(match start {
        StartFrom::Fresh => None,
        StartFrom::Path(dir) => {
            let metadata = Metadata::read(dir)?;
            Some(Restored {
                id: metadata.checkpoint,
                dir: dir.clone(),
                metadata,
            })
        }
        StartFrom::Latest => {
            let listed = layout
                .list()
                .map_err(io(checkpoints, "listing checkpoints"))?;
            match listed.iter().rev().find(|(_, complete)| *complete) {
                None => None,
                Some(&(id, _)) => {
                    let dir = layout.checkpoint_dir(id);
                    let metadata = Metadata::read(&dir)?;
                    if metadata.finished {
                        tracing::info!(
                            target: "weir::checkpoint",
                            "checkpoint {id} is the end of a finished run: starting fresh"
                        );
                        None
                    } else {
                        Some(Restored { id, dir, metadata })
                    }
                }
            }
        }
    })
}

/// Clears what a run from `restored` must not see: old working directories, and
/// either every checkpoint (a fresh run) or the partial ones and those newer than it.
///
/// # Errors
/// When a directory cannot be listed or removed.
pub fn prepare(layout: &Layout, restored: Option<&Restored>) -> Result<(), CheckpointError> {
    let checkpoints = layout.checkpoints_dir();
    let work = layout.root().join("work");
    remove_dir_if_present(&work).map_err(io(work, "clearing old working state"))?;
    let Some(restored) = restored else {
        return remove_dir_if_present(&checkpoints)
            .map_err(io(checkpoints, "removing old checkpoints"));
    };
    let listed = layout
        .list()
        .map_err(io(checkpoints, "listing checkpoints"))?;
    for (id, complete) in listed {
        let dir = layout.checkpoint_dir(id);
        if (id > restored.id || !complete) && dir != restored.dir {
            remove_dir_if_present(&dir).map_err(io(dir, "removing a newer checkpoint"))?;
        }
    }
    Ok(())
}

impl Restored {
    /// Refuses a checkpoint of another pipeline shape, saying what differs.
    ///
    /// # Errors
    /// [`CheckpointError::Incompatible`].
    pub fn check_compatible(&self, now: &Fingerprint) -> Result<(), CheckpointError> {
        let differences = now.incompatibilities(&self.metadata.fingerprint);
        if differences.is_empty() {
            Ok(())
        } else {
            Err(CheckpointError::Incompatible {
                checkpoint: self.dir.clone(),
                differences,
            })
        }
    }
}
